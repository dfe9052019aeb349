/* SPDX-License-Identifier: MIT */
/*
 * libvmmc - protected user-level communication on a vmmc NIC.
 *
 * An endpoint (struct vmmc_ep) is one open /dev/vmmcN: the NIC context of
 * this process, with its send queue (SQ) in NIC SRAM and its completion
 * and notification queues (CQ, NQ) in memory the NIC writes. Posting and
 * reaping are inline and make no system call; vmmc_send() makes none when
 * its source is in the user-level translation cache (UTLB). The kernel is
 * entered only by vmmc_ep_open()/vmmc_ep_close(), export/import, a UTLB
 * miss (pin, and unpin to evict) and the blocking waits.
 *
 * Completions of vmmc_send() must be reaped through vmmc_peek_cqe() (or
 * the waits built on it, vmmc_wait_cqe()): that is where the library
 * learns that the NIC is done with the source and gives the SEND's own
 * user_data back in the CQE. See vmmc(7) and vmmc_send(3).
 *
 * Threads: an endpoint is NOT thread-safe. One thread posts and reaps on
 * it at a time (use one endpoint per thread, or your own lock).
 *
 * Errors: functions return 0 or a negative errno; they never set errno.
 */
#ifndef VMMC_H
#define VMMC_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/*
 * The ABI header and the barriers shared with the NIC: installed as
 * <vmmc/uapi/vmmc.h> and <vmmc/uapi/vmmc_barrier.h> beside this one (found
 * next to it); in the source tree the build puts the top directory on the
 * include path (-I$(top)), where uapi/ lives.
 */
#include "uapi/vmmc.h"
#include "uapi/vmmc_barrier.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmmc_utlb;

/*
 * How a wait call (vmmc_wait_cqe(), vmmc_wait_nqe(), vmmc_ep_wait())
 * waits for an entry that is not there yet. See vmmc_set_wait_policy(3).
 */
enum vmmc_wait_policy {
	VMMC_WAIT_COMPETITIVE	= 0,	/* spin for a random time of at most
					 * the spin limit, then arm the
					 * interrupt and block (default)
					 */
	VMMC_WAIT_POLL		= 1,	/* spin until the deadline, never
					 * enter the kernel
					 */
	VMMC_WAIT_BLOCK		= 2,	/* arm the interrupt and block at once */
	VMMC_WAIT_COMPETITIVE_FIXED = 3, /* spin for the whole spin limit,
					  * then arm and block
					  */
	VMMC_WAIT_NR,
};

/* Where the competitive spin limit came from. */
enum vmmc_spin_source {
	VMMC_SPIN_DRIVER	= 0,	/* vmmc_info.spin_ns: measured by the
					 * driver, or set by the administrator
					 */
	VMMC_SPIN_OVERRIDE	= 1,	/* vmmc_set_wait_policy()'s spin_ns */
	VMMC_SPIN_FALLBACK	= 2,	/* the driver reported 0 (unknown):
					 * VMMC_SPIN_FALLBACK_NS
					 */
	VMMC_SPIN_OBSERVED	= 3,	/* the driver's, then moved by this
					 * endpoint's blocks: the cost of
					 * blocking they measured (wait.c)
					 */
};

/*
 * The spin limit used when the driver does not know the cost of blocking
 * (vmmc_info.spin_ns == 0) and the caller gave none: about the cost of
 * blocking and being woken by the NIC's interrupt measured in a 1-vCPU
 * QEMU TCG guest (tools/bench/vmmc_notify); far too long on hardware.
 */
#define VMMC_SPIN_FALLBACK_NS	80000

/**
 * struct vmmc_wait_stats - one endpoint's wait counters (library side)
 * @waits: wait calls
 * @spin_hits: ... satisfied by looking at or spinning on the mapped
 *	ring(s), without entering the kernel
 * @blocks: VMMC_IOC_WAIT calls that could sleep (the kernel arms the
 *	interrupt, re-checks, then sleeps: it counts the real sleeps,
 *	interrupts and spurious wake-ups itself, see vmmc_ctl show)
 * @block_wakeups_with_event: blocks after which the awaited ring had an
 *	entry
 * @block_timeouts: blocks that ended with -ETIMEDOUT
 * @block_wakeups_other: blocks that returned because of the other ring
 *	(or an error); the call then goes on waiting
 * @spin_ns: the competitive spin limit in use, ns
 * @spin_source: where it came from (enum vmmc_spin_source)
 * @policy: enum vmmc_wait_policy
 * @poll_ps: calibrated cost of one poll of one ring, picoseconds
 *	(0: not calibrated yet)
 */
struct vmmc_wait_stats {
	uint64_t waits;
	uint64_t spin_hits;
	uint64_t blocks;
	uint64_t block_wakeups_with_event;
	uint64_t block_timeouts;
	uint64_t block_wakeups_other;
	uint32_t spin_ns;
	uint32_t spin_source;
	uint32_t policy;
	uint32_t poll_ps;
};

struct vmmc_ep {
	int fd;
	struct vmmc_info info;

	/* SQ: we produce, the NIC consumes */
	struct vmmc_ring_hdr *ksq;	/* header in SRAM */
	struct vmmc_sqe *sqes;
	uint32_t sq_mask;
	uint32_t sq_entries;
	uint32_t sq_prod;		/* private copy, published on submit */
	uint32_t sq_pending;		/* prepared, not yet published */

	/* CQ and NQ: the NIC produces, we consume */
	struct vmmc_ring_hdr *kcq;
	struct vmmc_cqe *cqes;
	uint32_t cq_mask;
	uint32_t cq_cons;		/* private copy */
	uint32_t cq_cooked;		/* last index vmmc_peek_cqe() fixed up */
	struct vmmc_ring_hdr *knq;
	struct vmmc_nqe *nqes;
	uint32_t nq_mask;
	uint32_t nq_cons;

	/* words the kernel tells us (utlb_gen); writer: kmod */
	const struct vmmc_ep_shared *kshared;
	/* the UTLB and the SENDs in flight (ulib/core/utlb.c, ulib/core/send.c) */
	struct vmmc_utlb *utlb;
	uint32_t send_cookie;		/* tags our SENDs' user_data */
	int32_t opener_pid;		/* getpid() at open: the owner
					 * (fills a hole on LP64: no layout
					 * change there)
					 */

	const struct vmmc_nic_status *status;	/* read-only */
	volatile uint32_t *doorbell;		/* the BAR0 register; open fails without it */

	void *sq_map, *evq_map, *status_map, *db_map;

	/* waiting (ulib/core/wait.c); private, read through vmmc_wait_stats() */
	uint32_t wait_policy;		/* enum vmmc_wait_policy */
	uint32_t spin_override_ns;	/* 0: none */
	uint32_t poll_ps[4];		/* one poll, by ring mask; 0: unknown */
	struct vmmc_wait_stats wstats;
};

/* Open /dev/vmmcN (NULL: /dev/vmmc0) and map the endpoint. */
int vmmc_ep_open(struct vmmc_ep *ep, const char *path);
/*
 * In the opener: VMMC_IOC_SHUTDOWN (the endpoint's exports are revoked,
 * imports and pins dropped, even if a child still holds the fd), unmap,
 * close. Elsewhere (a forked or vfork child): close only.
 */
void vmmc_ep_close(struct vmmc_ep *ep);
/*
 * Wait until the CQ or NQ has an entry (consumes nothing), by the
 * endpoint's wait policy: 0, -ETIMEDOUT, -EINTR.
 */
int vmmc_ep_wait(struct vmmc_ep *ep, uint32_t timeout_ms);
/* Reap one completion, blocking up to timeout_ms (0: poll only). */
int vmmc_wait_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out,
		  uint32_t timeout_ms);
/* Block until the NQ has an entry, copy it out and consume it. */
int vmmc_wait_nqe(struct vmmc_ep *ep, struct vmmc_nqe *out,
		  uint32_t timeout_ms);
/*
 * Choose how this endpoint's waits wait; spin_ns overrides the competitive
 * spin limit (0: the driver's vmmc_info.spin_ns, re-read now, or
 * VMMC_SPIN_FALLBACK_NS if that is 0). 0 or -EINVAL.
 */
int vmmc_set_wait_policy(struct vmmc_ep *ep, enum vmmc_wait_policy policy,
			 uint32_t spin_ns);
/* Copy the endpoint's wait counters and its spin limit. */
void vmmc_wait_stats(struct vmmc_ep *ep, struct vmmc_wait_stats *out);
/* A name for a completion status. */
const char *vmmc_status_str(uint32_t status);

/* ---- export and import (ulib/core/register.c): system calls ---- */

/* Offer [buf, buf + len) to the nodes in perm_nodes under @name. */
int vmmc_export(struct vmmc_ep *ep, void *buf, size_t len, uint32_t name,
		uint64_t perm_nodes, uint32_t *export_id);
int vmmc_unexport(struct vmmc_ep *ep, uint32_t export_id);
/* Import (node, name); *len (may be NULL) gets the export's length. */
int vmmc_import(struct vmmc_ep *ep, uint32_t node, uint32_t name,
		uint32_t *import_id, uint64_t *len);
int vmmc_unimport(struct vmmc_ep *ep, uint32_t import_id);
/*
 * The same with a key: an export made with a non-zero @key can be
 * imported only by presenting it (else ENOENT, as for a missing name).
 */
int vmmc_export_key(struct vmmc_ep *ep, void *buf, size_t len,
		    uint32_t name, uint64_t perm_nodes, uint64_t key,
		    uint32_t *export_id);
int vmmc_import_key(struct vmmc_ep *ep, uint32_t node, uint32_t name,
		    uint64_t key, uint32_t *import_id, uint64_t *len);

/* ---- deliberate update (ulib/core/send.c) and its translation cache ---- */

/*
 * Post one SEND of [src, src + len) to (import_id, dst_offset) and ring
 * the NIC; no system call when the source is in the UTLB. Asynchronous:
 * the CQE (op VMMC_OP_SEND, the given user_data) says when the data is in
 * the receiver's memory. flags: 0 or VMMC_SQF_NOTIFY.
 */
int vmmc_send(struct vmmc_ep *ep, const void *src, size_t len,
	      uint32_t import_id, uint64_t dst_offset, uint32_t flags,
	      uint64_t user_data);
/* Pin [addr, addr + len) into the UTLB ahead of time (a warm miss). */
int vmmc_pin(struct vmmc_ep *ep, const void *addr, size_t len);
/* The same for a redirect destination (pinned for write). */
int vmmc_pin_write(struct vmmc_ep *ep, void *addr, size_t len);
/* Empty the UTLB: unpin every range no SEND in flight uses. */
int vmmc_utlb_flush(struct vmmc_ep *ep);

struct vmmc_utlb_stats {
	uint64_t lookups;	/* vmmc_send(), vmmc_redirect(), vmmc_pin*() */
	uint64_t hits;		/* ... served without a system call */
	uint64_t pins;		/* VMMC_IOC_PIN calls that succeeded */
	uint64_t pin_errors;	/* ... that failed */
	uint64_t unpins;	/* VMMC_IOC_UNPIN calls */
	uint64_t evictions;	/* ranges unpinned to make room */
	uint64_t flushes;	/* cache emptied (utlb_gen changed, or asked) */
	uint32_t ranges;	/* ranges cached now */
	uint32_t pinned_pages;	/* pages those ranges pin */
	uint32_t inflight;	/* SENDs and REDIRECTs posted, not reaped */
	uint32_t zombies;	/* ranges out of the cache, still in flight */
};

void vmmc_utlb_stats(struct vmmc_ep *ep, struct vmmc_utlb_stats *out);

/* ---- transfer redirection (ulib/core/redirect.c) ---- */

/*
 * Data that arrives for [offset, offset + len) of our export @export_id
 * from now on goes to @dst instead (no copy at the receiver), until all
 * of it has, or vmmc_redirect_cancel(). @slot (< VMMC_REDIR_SLOTS) names
 * the redirect; it is busy until the REDIRECT's completion (op
 * VMMC_OP_REDIRECT, imm = bytes redirected, @user_data given back) is
 * reaped. No system call unless @dst misses in the UTLB. 0 or -errno:
 * EINVAL, E2BIG, EAGAIN (SQ full), EFAULT (dst not writable memory).
 */
int vmmc_redirect(struct vmmc_ep *ep, unsigned int slot, uint32_t export_id,
		  uint64_t offset, void *dst, size_t len, uint64_t user_data);
/* End redirect @slot now; its own CQE says OK or VMMC_ST_IDLE. */
int vmmc_redirect_cancel(struct vmmc_ep *ep, unsigned int slot,
			 uint64_t user_data);
/* A consistent copy of redirect @slot's record (final after its CQE). */
int vmmc_redirect_result(struct vmmc_ep *ep, unsigned int slot,
			 struct vmmc_redir_res *out);
/* Did export byte @off go to the destination? */
bool vmmc_redir_covers(const struct vmmc_redir_res *r, uint64_t off);
/* Copy the bytes of [from, from + len) that stayed in the export to dst. */
size_t vmmc_redirect_copy_rest(const struct vmmc_redir_res *r,
			       const void *export_buf, void *dst,
			       uint64_t from, uint64_t len);

/* Internal: the fast path calls it for our SENDs' completions. */
void __vmmc_send_done(struct vmmc_ep *ep, struct vmmc_cqe *cqe);

/* ---- inline fast path: no system call below this line ---- */

/* A free SQ entry, zeroed, or NULL when the SQ is full. */
static inline struct vmmc_sqe *vmmc_get_sqe(struct vmmc_ep *ep)
{
	/* pairs with the NIC's release of cons after it read the entry */
	uint32_t cons = vmmc_load_acquire(&ep->ksq->cons);
	uint32_t next = ep->sq_prod + ep->sq_pending;
	struct vmmc_sqe *sqe;

	if (next - cons >= ep->sq_entries)
		return NULL;
	sqe = &ep->sqes[next & ep->sq_mask];
	*sqe = (struct vmmc_sqe){ 0 };
	ep->sq_pending++;
	return sqe;
}

static inline void vmmc_prep_nop(struct vmmc_sqe *sqe, uint64_t user_data,
				 uint32_t delay_us)
{
	sqe->op = VMMC_OP_NOP;
	sqe->user_data = user_data;
	if (delay_us) {
		sqe->flags = VMMC_SQF_DELAY;
		sqe->imm = delay_us;
	}
}

static inline void vmmc_prep_ping(struct vmmc_sqe *sqe, uint32_t dst_node,
				  uint64_t imm, uint64_t user_data)
{
	sqe->op = VMMC_OP_PING;
	sqe->dst_node = dst_node;
	sqe->imm = imm;
	sqe->user_data = user_data;
}

/*
 * A SEND of [src_off, src_off + len) of the memory translated from UTLB
 * slot @src_slot on, to (@import_id, @dst_offset): for a source the caller
 * pinned itself (VMMC_IOC_PIN). Not tracked by the library, unlike
 * vmmc_send(), which does all of this for any memory. flags: 0 or
 * VMMC_SQF_NOTIFY.
 */
static inline void vmmc_prep_send(struct vmmc_sqe *sqe, uint32_t src_slot,
				  uint32_t src_off, uint32_t len,
				  uint32_t import_id, uint64_t dst_offset,
				  uint32_t flags, uint64_t user_data)
{
	sqe->op = VMMC_OP_SEND;
	sqe->flags = (uint8_t)flags;
	sqe->len = len;
	sqe->user_data = user_data;
	sqe->import = import_id;
	sqe->dst_offset = dst_offset;
	sqe->src_slot = src_slot;
	sqe->src_off = src_off;
}

/*
 * A REDIRECT @slot of [offset, offset + len) of our export @export_id onto
 * the memory translated (for write) from UTLB slot @dst_slot, byte
 * @dst_off on: for a destination the caller pinned itself. Not tracked,
 * unlike vmmc_redirect().
 */
static inline void vmmc_prep_redirect(struct vmmc_sqe *sqe, unsigned int slot,
				      uint32_t export_id, uint64_t offset,
				      uint32_t dst_slot, uint32_t dst_off,
				      uint32_t len, uint64_t user_data)
{
	sqe->op = VMMC_OP_REDIRECT;
	sqe->len = len;
	sqe->user_data = user_data;
	sqe->import = export_id;
	sqe->imm = slot;
	sqe->dst_offset = offset;
	sqe->src_slot = dst_slot;
	sqe->src_off = dst_off;
}

/* End redirect @slot now (as vmmc_redirect_cancel()). */
static inline void vmmc_prep_redirect_cancel(struct vmmc_sqe *sqe,
					     unsigned int slot,
					     uint64_t user_data)
{
	sqe->op = VMMC_OP_REDIRECT_CANCEL;
	sqe->user_data = user_data;
	sqe->imm = slot;
}

/* Publish prepared entries; ring the doorbell only if the NIC sleeps. */
static inline int vmmc_submit(struct vmmc_ep *ep)
{
	int n = (int)ep->sq_pending;

	if (!n)
		return 0;
	ep->sq_prod += ep->sq_pending;
	ep->sq_pending = 0;
	/* pairs with the NIC's acquire of prod: entries are visible first */
	vmmc_store_release(&ep->ksq->prod, ep->sq_prod);
	/* pairs with the NIC's fence between setting SLEEPING and its
	 * last look at the SQs: either it sees prod or we see the flag
	 */
	vmmc_smp_mb();
	if (vmmc_read_once(&ep->status->flags) & VMMC_NIC_F_SLEEPING)
		*ep->doorbell = (VMMC_NIC_PEER << 16) | VMMC_DB_SQ;
	return n;
}

/*
 * The next completion or NULL; call vmmc_cqe_seen() when done with it.
 * For a vmmc_send() completion it first releases the SEND's hold on its
 * UTLB range and puts the caller's user_data back into the entry (once).
 */
static inline struct vmmc_cqe *vmmc_peek_cqe(struct vmmc_ep *ep)
{
	/* pairs with the NIC's release of prod after writing the entry */
	uint32_t prod = vmmc_load_acquire(&ep->kcq->prod);
	struct vmmc_cqe *cqe;

	if (prod == ep->cq_cons)
		return NULL;
	cqe = &ep->cqes[ep->cq_cons & ep->cq_mask];
	if (ep->cq_cooked != ep->cq_cons) {
		ep->cq_cooked = ep->cq_cons;
		if ((cqe->op == VMMC_OP_SEND || cqe->op == VMMC_OP_REDIRECT) &&
		    (uint32_t)(cqe->user_data >> 32) == ep->send_cookie)
			__vmmc_send_done(ep, cqe);
	}
	return cqe;
}

static inline void vmmc_cqe_seen(struct vmmc_ep *ep)
{
	ep->cq_cons++;
	/* pairs with the NIC's acquire of cons: we are done with the entry */
	vmmc_store_release(&ep->kcq->cons, ep->cq_cons);
}

/* The next notification or NULL; call vmmc_nqe_seen() when done. */
static inline struct vmmc_nqe *vmmc_peek_nqe(struct vmmc_ep *ep)
{
	/* pairs with the NIC's release of prod after writing the entry */
	uint32_t prod = vmmc_load_acquire(&ep->knq->prod);

	if (prod == ep->nq_cons)
		return NULL;
	return &ep->nqes[ep->nq_cons & ep->nq_mask];
}

static inline void vmmc_nqe_seen(struct vmmc_ep *ep)
{
	ep->nq_cons++;
	/* pairs with the NIC's acquire of cons: the slot may be reused */
	vmmc_store_release(&ep->knq->cons, ep->nq_cons);
}

/*
 * Notifications the NIC dropped because this endpoint's NQ was full,
 * since the endpoint opened: a sender is never held up by a receiver
 * that does not reap (its SEND completes with imm VMMC_SEND_NQ_DROPPED),
 * so a consumer that falls more than VMMC_NQ_ENTRIES behind loses
 * notifications, and learns here that it did (as io_uring's CQ
 * overflow count); the data itself landed.
 */
static inline uint32_t vmmc_nq_dropped(const struct vmmc_ep *ep)
{
	/* pairs with the NIC's release of the count */
	return vmmc_load_acquire(&ep->knq->dropped);
}

/* The kernel's translation generation: a change means flush the UTLB. */
static inline uint64_t vmmc_utlb_gen(const struct vmmc_ep *ep)
{
	return vmmc_read_once(&ep->kshared->utlb_gen);
}

#ifdef __cplusplus
}
#endif

#endif /* VMMC_H */

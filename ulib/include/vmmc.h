/* SPDX-License-Identifier: MIT */
/*
 * libvmmc - protected user-level communication on a vmmc NIC.
 *
 * An endpoint (struct vmmc_ep) is one open /dev/vmmcN: the NIC context of
 * this process, with its send queue (SQ) in NIC SRAM and its completion
 * and notification queues (CQ, NQ) in memory the NIC writes. Posting and
 * reaping are inline and make no system call; only vmmc_ep_open(),
 * vmmc_ep_close() and a blocking vmmc_wait_cqe() enter the kernel.
 *
 * Threads: an endpoint is NOT thread-safe. One thread posts and reaps on
 * it at a time (use one endpoint per thread, or your own lock).
 *
 * Errors: functions return 0 or a negative errno; they never set errno.
 */
#ifndef VMMC_H
#define VMMC_H

#include <stdint.h>
#include <stddef.h>

#include "vmmc_barrier.h"
#include "../../uapi/vmmc.h"

#ifdef __cplusplus
extern "C" {
#endif

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
	struct vmmc_ring_hdr *knq;
	struct vmmc_nqe *nqes;
	uint32_t nq_mask;
	uint32_t nq_cons;

	const struct vmmc_nic_status *status;	/* read-only */
	volatile uint32_t *doorbell;		/* NULL: doorbell by ioctl */

	void *sq_map, *evq_map, *status_map, *db_map;
};

/* Open /dev/vmmcN (NULL: /dev/vmmc0) and map the endpoint. */
int vmmc_ep_open(struct vmmc_ep *ep, const char *path);
/* Unmap and close; the kernel fences the NIC before it frees anything. */
void vmmc_ep_close(struct vmmc_ep *ep);
/* Block until the CQ or NQ has an entry: 0, -ETIMEDOUT, -EINTR. */
int vmmc_ep_wait(struct vmmc_ep *ep, uint32_t timeout_ms);
/* Reap one completion, blocking up to timeout_ms (0: poll only). */
int vmmc_wait_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out,
		  uint32_t timeout_ms);
/* A name for a completion status. */
const char *vmmc_status_str(uint32_t status);

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

/* The next completion or NULL; call vmmc_cqe_seen() when done with it. */
static inline struct vmmc_cqe *vmmc_peek_cqe(struct vmmc_ep *ep)
{
	/* pairs with the NIC's release of prod after writing the entry */
	uint32_t prod = vmmc_load_acquire(&ep->kcq->prod);

	if (prod == ep->cq_cons)
		return NULL;
	return &ep->cqes[ep->cq_cons & ep->cq_mask];
}

static inline void vmmc_cqe_seen(struct vmmc_ep *ep)
{
	ep->cq_cons++;
	/* pairs with the NIC's acquire of cons: we are done with the entry */
	vmmc_store_release(&ep->kcq->cons, ep->cq_cons);
}

#ifdef __cplusplus
}
#endif

#endif /* VMMC_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_nic.c - the NIC processor: SRAM set-up, endpoint fences, SQ
 * processing, descriptor checks, and the sleep/wake protocol
 *
 * Contract, per node (see uapi/vmmc.h for the layout):
 * - SRAM is a sealed memfd of VMMC_SRAM_SIZE; the status page is filled
 *   and magic is stored last, with release.
 * - Endpoint fences: whenever ep_ctx.gen differs from the gen the NIC last
 *   acted on, the NIC ends the old incarnation (frees its in-flight ops:
 *   delayed NOPs and PINGs, whose late completions are then discarded),
 *   adopts the new one if state == ACTIVE (taking SQ cons from SRAM, as
 *   kmod reset it), stores ack_gen = gen (release) and raises
 *   VMMC_IRQ_CTRL once per pass. Any gen change is a new incarnation,
 *   ACTIVE -> ACTIVE included. drv_state DOWN fences every endpoint: after
 *   UP again, only endpoints activated afresh (a new gen) are served.
 * - Each pass, for every node whose driver is UP, also: export and
 *   translation-sync acks and the mailbox (fabric_ctrl.c). All acks of a
 *   pass share one VMMC_IRQ_CTRL.
 * - SQs are processed only for adopted endpoints whose state still reads
 *   ACTIVE while drv_state is UP and a guest is connected; at most
 *   FABRIC_EP_BUDGET descriptors per endpoint per pass. An endpoint with
 *   a SEND in progress fetches nothing: that pass moves the next
 *   FABRIC_SEND_BUDGET bytes of the SEND instead (fabric_tx.c), so a
 *   NOP or PING behind a long SEND waits for it.
 * - A broken SQ (prod - cons > VMMC_SQ_ENTRIES) completes nothing and
 *   is ignored until its prod changes; it is counted (ring_errors) and
 *   logged with -v. A bad evq_addr is handled the same way until evq_addr
 *   or gen changes. A full CQ (counting the slots reserved by in-flight
 *   ops) stops the SQ, without consuming, until the user frees a slot; such
 *   an endpoint is re-polled every FABRIC_STALL_POLL_MS while the NIC
 *   sleeps, since nothing rings a doorbell when a CQ slot frees.
 * - Descriptors are copied out of SRAM once, then checked in this order:
 *   op (BAD_OP); then SEND goes to fabric_send_start(); for NOP and PING:
 *   flags valid for the op (DELAY: NOP only; NOTIFY: SEND only) and the
 *   SEND-only fields (import, dst_offset, src_slot, src_off) and
 *   reserved fields zero (BAD_FLAGS), len zero (BAD_LEN), then NOP delay
 *   <= 1 s (BAD_ARG) or PING dst_node (BAD_NODE) and its state
 *   (NODE_DOWN). dst_node of a NOP and imm of an undelayed NOP are
 *   ignored, as in NIC version 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fabric.h"

static const char *const ep_state_name[] = {
	[VMMC_EP_FREE] = "FREE",
	[VMMC_EP_ACTIVE] = "ACTIVE",
	[VMMC_EP_FENCED] = "FENCED",
};

static const char *state_name(__u32 state)
{
	return state <= VMMC_EP_FENCED ? ep_state_name[state] : "?";
}

static void ep_reset(struct fabric_ep *ep)
{
	fabric_ep_drop_ops(ep);
	ep->live = false;
	ep->gen = 0;
	ep->sq_cons = 0;
	ep->evq_valid = false;
	ep->evq_addr = 0;
	ep->cq_prod = 0;
	ep->nq_prod = 0;
	ep->cq_dropped = 0;
	ep->nq_dropped = 0;
	ep->sync_ack = 0;
	ep->sq_broken = ep->evq_bad = ep->cq_stalled = false;
}

int fabric_nic_init(struct fabric_node *n)
{
	struct vmmc_nic_status *s;
	unsigned int e;
	char name[32];
	void *p;

	snprintf(name, sizeof(name), "vmmc-sram-node%u", n->id);
	n->sram_fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (n->sram_fd < 0 || ftruncate(n->sram_fd, VMMC_SRAM_SIZE) ||
	    fcntl(n->sram_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		node_log(n, LOG_ERR, "SRAM memfd: %s", strerror(errno));
		return -1;
	}
	p = mmap(NULL, VMMC_SRAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 n->sram_fd, 0);
	if (p == MAP_FAILED) {
		node_log(n, LOG_ERR, "SRAM mmap: %s", strerror(errno));
		return -1;
	}
	n->sram = p;
	n->kstatus = (struct vmmc_nic_status *)(n->sram + VMMC_SRAM_STATUS);
	n->kctrl = (struct vmmc_nic_ctrl *)(n->sram + VMMC_SRAM_CTRL);
	for (e = 0; e < VMMC_MAX_EPS; e++) {
		struct fabric_ep *ep = &n->eps[e];
		__u8 *sq = n->sram + VMMC_SRAM_SQ + e * VMMC_SQ_SIZE;

		ep->node = n;
		ep->id = e;
		ep->kctx = (struct vmmc_ep_ctx *)(n->sram + VMMC_SRAM_EPCTX) + e;
		ep->ksq = (struct vmmc_ring_hdr *)sq;
		ep->ksqes = (struct vmmc_sqe *)(sq + VMMC_SQ_ENTRIES_OFF);
		flist_init(&ep->ops);
	}
	/* A new memfd reads as zeros; clear the used part anyway. */
	memset(n->sram, 0, VMMC_SRAM_END);
	s = n->kstatus;
	s->version = VMMC_NIC_VERSION;
	s->node_id = n->id;
	s->nr_nodes = n->f->nr_nodes;
	s->sram_size = VMMC_SRAM_SIZE;
	s->max_eps = VMMC_MAX_EPS;
	s->epctx_off = VMMC_SRAM_EPCTX;
	s->sq_off = VMMC_SRAM_SQ;
	s->sq_size = VMMC_SQ_SIZE;
	s->sq_entries = VMMC_SQ_ENTRIES;
	s->ram_low_pages = (__u32)(n->ram_low / VMMC_PAGE_SIZE);
	s->ram_high_pages = (__u32)((n->ram_bytes - n->ram_low) /
				    VMMC_PAGE_SIZE);
	s->flags = VMMC_NIC_F_RUNNING;
	/* Partner: kmod's acquire load of magic before it reads the rest. */
	vmmc_store_release(&s->magic, (__u32)VMMC_NIC_MAGIC);
	return 0;
}

/*
 * The guest went away: forget its endpoints, leave a clean NIC. Only the
 * export gens survive (acknowledged, state FREE): other nodes may still
 * hold imports of this node's exports, and the next guest's exports must
 * not come back to their gens (uapi/vmmc.h: gens never repeat).
 */
void fabric_nic_reset(struct fabric_node *n)
{
	struct vmmc_export *x = (struct vmmc_export *)(n->sram +
						       VMMC_SRAM_EXPORTS);
	unsigned int e;

	for (e = 0; e < VMMC_MAX_EPS; e++)
		ep_reset(&n->eps[e]);
	n->drv_up = false;
	fabric_ctrl_reset(n);
	memset(n->sram + VMMC_SRAM_CTRL, 0, VMMC_SRAM_EXPORTS - VMMC_SRAM_CTRL);
	for (e = 0; e < VMMC_MAX_EXPORTS; e++) {
		__u64 gen = vmmc_read_once(&x[e].gen);

		memset(&x[e], 0, sizeof(x[e]));
		x[e].gen = gen;
		x[e].ack_gen = gen;
		n->exp_ack[e] = gen;
	}
	n->exp_seq = 1ULL << 32;	/* look at the next pass */
	memset(n->sram + VMMC_SRAM_IMPORTS, 0, VMMC_SRAM_END - VMMC_SRAM_IMPORTS);
}

void fabric_ep_drop_ops(struct fabric_ep *ep)
{
	while (!flist_empty(&ep->ops)) {
		struct fabric_op *op = flist_entry(ep->ops.next,
						   struct fabric_op, ep_link);

		ep->node->dropped_ops++;
		fabric_op_free(op);
	}
}

static bool drv_is_up(struct fabric_node *n)
{
	/* Partner: kmod's dma_wmb() before it writes drv_state. */
	return vmmc_load_acquire(&n->kctrl->drv_state) == VMMC_DRV_UP;
}

/*
 * Is @n's guest up? A node of another fabric counts as up: this NIC
 * cannot see its guest, so the remote NIC answers for it (PONG, DATA
 * and IMPORT answers say NODE_DOWN) and the link layer for the path.
 */
bool fabric_node_is_up(struct fabric_node *n)
{
	if (n->remote)
		return true;
	return n->state == NODE_UP && n->drv_up && drv_is_up(n);
}

/* May the NIC still complete work of incarnation @gen of @ep? */
bool fabric_ep_usable(struct fabric_ep *ep, __u32 gen)
{
	struct fabric_node *n = ep->node;

	return ep->live && ep->gen == gen && n->state == NODE_UP &&
	       n->drv_up && drv_is_up(n) &&
	       vmmc_read_once(&ep->kctx->state) == VMMC_EP_ACTIVE;
}

/* Act on a context change of @ep; 1 if there was one to acknowledge. */
static int ep_sync(struct fabric_ep *ep)
{
	struct fabric_node *n = ep->node;
	__u32 gen, state;

	/*
	 * Partner: kmod writes the addresses, resets the SQ window, dma_wmb(),
	 * writes state, then bumps gen: a new gen shows a state at least as
	 * new.
	 */
	gen = vmmc_load_acquire(&ep->kctx->gen);
	if (gen == ep->gen)
		return 0;
	state = vmmc_read_once(&ep->kctx->state);
	fabric_ep_drop_ops(ep);
	ep->gen = gen;
	ep->sq_broken = ep->evq_bad = ep->cq_stalled = false;
	ep->evq_valid = false;
	ep->live = state == VMMC_EP_ACTIVE;
	if (ep->live)
		ep->sq_cons = vmmc_read_once(&ep->ksq->cons);
	node_log(n, LOG_V, "ep%u: gen %u state %s: %s", ep->id, gen,
		 state_name(state), ep->live ? "serving" : "fenced");
	/*
	 * Nothing of the old incarnation is left in flight: publish the ack.
	 * Partner: kmod's acquire load of ack_gen after VMMC_IRQ_CTRL.
	 */
	vmmc_store_release(&ep->kctx->ack_gen, gen);
	ctr_add(n->kstatus->counters.ctrl_acks, 1);
	return 1;
}

static unsigned int node_sync(struct fabric_node *n)
{
	unsigned int e, acks = 0, progress = 0;
	bool up = drv_is_up(n);

	if (up != n->drv_up) {
		node_log(n, LOG_V, "driver %s", up ? "up" : "down");
		if (!up)
			for (e = 0; e < VMMC_MAX_EPS; e++) {
				fabric_ep_drop_ops(&n->eps[e]);
				n->eps[e].live = false;
			}
		n->drv_up = up;
		progress++;
	}
	for (e = 0; e < VMMC_MAX_EPS; e++)
		acks += ep_sync(&n->eps[e]);
	if (up)
		acks += fabric_ctrl_acks(n);
	if (acks)
		fabric_node_irq(n, VMMC_IRQ_CTRL);
	progress += fabric_kcmd_poll(n);
	return progress + acks;
}

/* NOP and PING (SEND: fabric_send_start()). */
static __u32 sqe_check(struct fabric *f, const struct vmmc_sqe *sqe)
{
	unsigned int allowed;

	allowed = sqe->op == VMMC_OP_NOP ? VMMC_SQF_DELAY : 0;
	if ((sqe->flags & ~allowed) || sqe->reserved0 || sqe->import ||
	    sqe->dst_offset || sqe->src_slot || sqe->src_off ||
	    sqe->reserved2[0] || sqe->reserved2[1])
		return VMMC_ST_BAD_FLAGS;
	if (sqe->len)
		return VMMC_ST_BAD_LEN;
	if (sqe->op == VMMC_OP_NOP && (sqe->flags & VMMC_SQF_DELAY) &&
	    sqe->imm > VMMC_NOP_MAX_DELAY_US)
		return VMMC_ST_BAD_ARG;
	if (sqe->op == VMMC_OP_PING) {
		if (sqe->dst_node >= f->nr_nodes)
			return VMMC_ST_BAD_NODE;
		if (!fabric_node_is_up(&f->nodes[sqe->dst_node]))
			return VMMC_ST_NODE_DOWN;
	}
	return VMMC_ST_OK;
}

/* Execute one descriptor; 1 if it completed at once (a CQE was posted). */
static int do_sqe(struct fabric_ep *ep, __u8 *evq, const struct vmmc_sqe *sqe)
{
	struct fabric_node *n = ep->node;
	__u64 t_fetch = fabric_now_ns(), imm = 0;
	struct fabric_op *op;
	__u32 status;

	ctr_add(n->kstatus->counters.descs, 1);
	ctr_add(ep->kctx->descs, 1);
	if (sqe->op >= VMMC_OP_NR) {
		status = VMMC_ST_BAD_OP;
	} else if (sqe->op == VMMC_OP_SEND) {
		status = fabric_send_start(ep, sqe, t_fetch);
		node_log(n, LOG_VV,
			 "ep%u: SEND flags 0x%x len %u import %u dst_offset %llu slot %u off %u user_data 0x%llx: status %u",
			 ep->id, sqe->flags, sqe->len, sqe->import,
			 (unsigned long long)sqe->dst_offset, sqe->src_slot,
			 sqe->src_off, (unsigned long long)sqe->user_data,
			 status);
		if (status == VMMC_ST_OK)
			return 0;
		goto complete;
	} else if (sqe->op == VMMC_OP_REDIRECT) {
		status = fabric_redir_post(ep, evq, sqe, t_fetch);
		node_log(n, LOG_VV,
			 "ep%u: REDIRECT slot %llu export %u [%llu, +%u) -> slot %u off %u: status %u",
			 ep->id, (unsigned long long)sqe->imm, sqe->import,
			 (unsigned long long)sqe->dst_offset, sqe->len,
			 sqe->src_slot, sqe->src_off, status);
		if (status == VMMC_ST_OK)
			return 0;
		goto complete;
	} else if (sqe->op == VMMC_OP_REDIRECT_CANCEL) {
		status = fabric_redir_cancel(ep, sqe, &imm);
		goto complete;
	} else {
		status = sqe_check(n->f, sqe);
	}
	node_log(n, LOG_VV,
		 "ep%u: op %u flags 0x%x len %u dst %u imm %llu user_data 0x%llx: status %u",
		 ep->id, sqe->op, sqe->flags, sqe->len, sqe->dst_node,
		 (unsigned long long)sqe->imm,
		 (unsigned long long)sqe->user_data, status);
	if (status != VMMC_ST_OK)
		goto complete;
	if (sqe->op == VMMC_OP_NOP && !(sqe->flags & VMMC_SQF_DELAY))
		goto complete;

	op = fabric_op_new(ep, sqe->op == VMMC_OP_NOP ? FOP_NOP_DELAY :
			   FOP_PING, ep->gen, sqe, t_fetch);
	if (!op) {
		node_log(n, LOG_ERR, "ep%u: out of memory", ep->id);
		status = VMMC_ST_BAD_ARG;
		goto complete;
	}
	if (sqe->op == VMMC_OP_NOP) {
		fabric_timer_add(n->f, op, t_fetch + sqe->imm * 1000);
		return 0;
	}
	if (fabric_ping_send(op, sqe->dst_node, sqe->imm) == 0)
		return 0;
	fabric_op_free(op);
	status = VMMC_ST_BAD_ARG;
complete:
	fabric_cq_post(ep, evq, sqe->user_data, sqe->op, status, imm, t_fetch);
	return 1;
}

/* Consume up to FABRIC_EP_BUDGET descriptors; returns how many. */
static unsigned int ep_process(struct fabric_ep *ep)
{
	struct fabric_node *n = ep->node;
	unsigned int done = 0, posted = 0;
	struct vmmc_sqe sqe;
	__u32 prod, pending;
	__u8 *evq;

	if (!ep->live || vmmc_read_once(&ep->kctx->state) != VMMC_EP_ACTIVE)
		return 0;
	if (ep->send)
		return fabric_send_push(ep);
	/* Partner: ulib's store-release of SQ prod after writing the SQE. */
	prod = vmmc_load_acquire(&ep->ksq->prod);
	pending = prod - ep->sq_cons;
	if (!pending) {
		ep->sq_broken = ep->cq_stalled = false;
		return 0;
	}
	if (pending > VMMC_SQ_ENTRIES) {
		if (!ep->sq_broken || prod != ep->broken_prod) {
			ep->sq_broken = true;
			ep->broken_prod = prod;
			n->ring_errors++;
			node_log(n, LOG_V,
				 "ep%u: SQ prod %u cons %u: more than %u entries; ignored until prod changes",
				 ep->id, prod, ep->sq_cons, VMMC_SQ_ENTRIES);
		}
		return 0;
	}
	ep->sq_broken = false;
	evq = fabric_ep_evq(ep);
	if (!evq)
		return 0;
	while (ep->sq_cons != prod && done < FABRIC_EP_BUDGET && !ep->send) {
		if (!fabric_cq_has_room(ep, evq)) {
			ep->cq_stalled = true;
			break;
		}
		ep->cq_stalled = false;
		memcpy(&sqe, &ep->ksqes[ep->sq_cons & (VMMC_SQ_ENTRIES - 1)],
		       sizeof(sqe));
		ep->sq_cons++;
		done++;
		posted += do_sqe(ep, evq, &sqe);
	}
	if (done)
		/*
		 * The SQEs were copied out: the slots are free.
		 * Partner: ulib's load-acquire of SQ cons before reusing them.
		 */
		vmmc_store_release(&ep->ksq->cons, ep->sq_cons);
	if (posted)
		fabric_ep_notify(ep);
	if (ep->send)
		done += fabric_send_push(ep);
	return done;
}

unsigned int fabric_nic_poll(struct fabric *f)
{
	unsigned int i, e, progress = 0;

	for (i = 0; i < f->nr_nodes; i++)
		if (f->nodes[i].state == NODE_UP)
			progress += node_sync(&f->nodes[i]);
	for (i = 0; i < f->nr_nodes; i++) {
		struct fabric_node *n = &f->nodes[i];

		if (n->state != NODE_UP || !n->drv_up)
			continue;
		for (e = 0; e < VMMC_MAX_EPS; e++)
			progress += ep_process(&n->eps[e]);
	}
	progress += fabric_link_deliver(f);
	progress += fabric_link_timers(f, fabric_now_ns());
	progress += fabric_timer_run(f, fabric_now_ns());
	return progress;
}

/* Would a poll pass make progress on @ep? Sets *stalled for a full CQ. */
static bool ep_has_work(struct fabric_ep *ep, bool *stalled)
{
	struct fabric_node *n = ep->node;
	__u32 prod;

	if (!ep->live || vmmc_read_once(&ep->kctx->state) != VMMC_EP_ACTIVE)
		return false;
	if (ep->send)	/* bytes to move (room on the link), or an answer */
		return ep->send->sent < ep->send->len &&
		       fabric_link_room(n->f, n->id, ep->send->dst_node);
	/* Partner: ulib's smp_mb() between SQ prod and status.flags. */
	prod = vmmc_load_acquire(&ep->ksq->prod);
	if (prod == ep->sq_cons)
		return false;
	if (ep->sq_broken && prod == ep->broken_prod)
		return false;
	if (prod - ep->sq_cons > VMMC_SQ_ENTRIES)
		return true;	/* newly broken: let the poll log it */
	if (ep->evq_bad &&
	    vmmc_read_once(&ep->kctx->evq_addr) == ep->bad_evq)
		return false;
	if (ep->cq_stalled && ep->evq_valid &&
	    vmmc_read_once(&ep->kctx->evq_addr) == ep->evq_addr &&
	    !fabric_cq_has_room(ep, ep->evq)) {
		*stalled = true;
		return false;
	}
	return true;
}

bool fabric_nic_has_work(struct fabric *f, bool *stalled)
{
	unsigned int i, e;

	*stalled = false;
	if (fabric_link_has_work(f, stalled) ||
	    fabric_timer_due_before(f, fabric_now_ns()))
		return true;
	for (i = 0; i < f->nr_nodes; i++) {
		struct fabric_node *n = &f->nodes[i];
		bool up;

		if (n->state != NODE_UP)
			continue;
		up = drv_is_up(n);
		if (up != n->drv_up)
			return true;
		if (up && fabric_ctrl_has_work(n))
			return true;
		for (e = 0; e < VMMC_MAX_EPS; e++) {
			struct fabric_ep *ep = &n->eps[e];

			if (vmmc_load_acquire(&ep->kctx->gen) != ep->gen)
				return true;
			if (up && ep_has_work(ep, stalled))
				return true;
		}
	}
	return false;
}

/* Entries in @ep's CQ or NQ that its owner has not taken. */
static bool ep_has_events(struct fabric_ep *ep)
{
	const struct vmmc_ring_hdr *cq, *nq;

	if (!ep->evq_valid)
		return false;
	cq = (const struct vmmc_ring_hdr *)(ep->evq + VMMC_CQ_HDR_OFF);
	nq = (const struct vmmc_ring_hdr *)(ep->evq + VMMC_NQ_HDR_OFF);
	return vmmc_read_once(&cq->cons) != ep->cq_prod ||
	       vmmc_read_once(&nq->cons) != ep->nq_prod;
}

/*
 * Waiters that armed the interrupt but got none while entries wait for
 * them get it now (late_irqs). run() looks every --recheck-ms, busy or
 * not: passes raise an endpoint's interrupt only for entries they post.
 */
void fabric_nic_irq_look(struct fabric *f)
{
	unsigned int i, e;

	for (i = 0; i < f->nr_nodes; i++) {
		struct fabric_node *n = &f->nodes[i];

		if (n->remote || n->state != NODE_UP || !n->drv_up)
			continue;
		for (e = 0; e < VMMC_MAX_EPS; e++) {
			struct fabric_ep *ep = &n->eps[e];

			if (!ep->live ||
			    !vmmc_read_once(&ep->kctx->irq_armed) ||
			    !ep_has_events(ep))
				continue;
			n->late_irqs++;
			node_log(n, LOG_V, "ep%u: armed, entries waiting, no interrupt: raised now",
				 ep->id);
			fabric_ep_notify(ep);
		}
	}
}

/*
 * The second look that ends a bounded sleep (run()): work that no
 * doorbell announced (late_doorbells; one that raced the time-out counts
 * too), then fabric_nic_irq_look(). True if there was work.
 *
 * Both handshakes are "store, full barrier, load" on each side, and a
 * guest whose full barrier does not order its store before its load on
 * the host loses a wake-up now and then: QEMU before 8.1 under TCG with
 * one vCPU emits no host fence for the guest's (tcg_gen_mb() is elided
 * without CF_PARALLEL). Its store reaches the host's memory within
 * microseconds, so a look --recheck-ms after going to sleep finds it.
 */
bool fabric_nic_recheck(struct fabric *f)
{
	bool stalled = false, work = false;
	unsigned int i, e;

	for (i = 0; i < f->nr_nodes; i++) {
		struct fabric_node *n = &f->nodes[i];
		bool up, late = false;

		if (n->remote || n->state != NODE_UP)
			continue;
		up = drv_is_up(n);
		if (up != n->drv_up || (up && fabric_ctrl_has_work(n)))
			late = true;
		for (e = 0; e < VMMC_MAX_EPS && !late; e++) {
			struct fabric_ep *ep = &n->eps[e];

			if (vmmc_load_acquire(&ep->kctx->gen) != ep->gen ||
			    (up && ep_has_work(ep, &stalled)))
				late = true;
		}
		if (late) {
			n->late_doorbells++;
			node_log(n, LOG_V, "work found %d ms after sleeping without a doorbell",
				 f->recheck_ms);
			work = true;
		}
	}
	fabric_nic_irq_look(f);
	return work;
}

void fabric_nic_set_sleeping(struct fabric *f, bool sleeping)
{
	unsigned int i;

	for (i = 0; i < f->nr_nodes; i++) {
		__u32 *flags, v;

		if (f->nodes[i].remote)
			continue;
		flags = &f->nodes[i].kstatus->flags;
		v = vmmc_read_once(flags);

		v = sleeping ? v | VMMC_NIC_F_SLEEPING : v & ~VMMC_NIC_F_SLEEPING;
		vmmc_write_once(flags, v);
	}
	if (sleeping)
		/*
		 * SLEEPING before the re-check of every SQ prod and ctx gen.
		 * Partner: the sender's smp_mb() between publishing SQ prod
		 * (kmod: gen) and reading status.flags: either it sees
		 * SLEEPING and rings the doorbell, or the re-check sees its
		 * work.
		 */
		vmmc_smp_mb();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_cq.c - completions and notifications: the "DMA" of CQEs and
 * NQEs into guest RAM, and the endpoint interrupt
 *
 * Contract:
 * - An endpoint's event region (CQ + NQ) is at the guest-physical
 *   address ep_ctx.evq_addr, placed in the node's RAM file by
 *   fabric_gpa() (fabric.h). It is used only if page aligned and the
 *   whole VMMC_EVQ_SIZE bytes lie in guest RAM; it is re-read and
 *   re-validated whenever it may have changed, and a rejected value is
 *   logged once (-v) and counted (ring_errors).
 * - CQ prod is NIC-owned: the NIC keeps a private copy, taken from guest
 *   RAM when it first uses an event region, and only ever publishes it.
 *   CQ cons is user-written and untrusted: the CQ has room when
 *   prod + inflight - cons < VMMC_CQ_ENTRIES in u32 arithmetic, so a
 *   cons that runs ahead of prod reads as "full" and nothing is
 *   overwritten. inflight counts the ops that already hold a slot.
 * - NQ prod likewise: a private copy taken with the CQ's; the NQ has room
 *   when prod - cons < VMMC_NQ_ENTRIES. When it has none, the caller
 *   (fabric_rx.c) drops the notification: nothing is overwritten, nobody
 *   waits for the consumer, and the NQ header's dropped says so.
 * - dropped (CQ and NQ headers) is NIC-owned like prod: a private copy,
 *   taken with prod, bumped and published (release) for every entry the
 *   NIC could not write: an NQE that found no room, a completion that
 *   found none (only a user that moved CQ cons can cause that).
 * - Each CQE is written whole, then CQ prod is store-released. After the
 *   CQEs of a batch, a full barrier, then irq_armed is exchanged with 0;
 *   if it was non-zero (kmod writes 1), the guest's VMMC_IRQ_EVENT
 *   eventfd is written.
 */
#include <string.h>

#include "fabric.h"

__u8 *fabric_ep_evq(struct fabric_ep *ep)
{
	struct fabric_node *n = ep->node;
	struct vmmc_ring_hdr *cq;
	__u8 *evq;
	__u64 addr;

	addr = vmmc_read_once(&ep->kctx->evq_addr);
	if (ep->evq_valid && addr == ep->evq_addr)
		return ep->evq;
	if (ep->evq_bad && addr == ep->bad_evq)
		return NULL;
	evq = fabric_gpa(n, addr, VMMC_EVQ_SIZE);
	if ((addr & (VMMC_PAGE_SIZE - 1)) || !evq) {
		ep->evq_bad = true;
		ep->bad_evq = addr;
		ep->evq_valid = false;
		n->ring_errors++;
		node_log(n, LOG_V,
			 "ep%u: evq_addr 0x%llx is not a page-aligned region inside the guest's RAM: endpoint stalled",
			 ep->id, (unsigned long long)addr);
		return NULL;
	}
	ep->evq_bad = false;
	ep->evq_valid = true;
	ep->evq_addr = addr;
	ep->evq = evq;
	cq = (struct vmmc_ring_hdr *)(evq + VMMC_CQ_HDR_OFF);
	ep->cq_prod = vmmc_read_once(&cq->prod);
	ep->cq_dropped = vmmc_read_once(&cq->dropped);
	cq = (struct vmmc_ring_hdr *)(evq + VMMC_NQ_HDR_OFF);
	ep->nq_prod = vmmc_read_once(&cq->prod);
	ep->nq_dropped = vmmc_read_once(&cq->dropped);
	return evq;
}

bool fabric_cq_has_room(struct fabric_ep *ep, __u8 *evq)
{
	struct vmmc_ring_hdr *cq = (struct vmmc_ring_hdr *)(evq +
							    VMMC_CQ_HDR_OFF);
	__u32 cons;

	/* Partner: ulib's store-release of CQ cons after reading CQEs. */
	cons = vmmc_load_acquire(&cq->cons);
	return ep->cq_prod + ep->inflight - cons < VMMC_CQ_ENTRIES;
}

/* Write one CQE and publish it. The caller checked for room. */
void fabric_cq_post(struct fabric_ep *ep, __u8 *evq, __u64 user_data,
		    __u8 op, __u32 status, __u64 imm, __u64 t_fetch)
{
	struct vmmc_ring_hdr *cq = (struct vmmc_ring_hdr *)(evq +
							    VMMC_CQ_HDR_OFF);
	struct vmmc_cqe *cqes = (struct vmmc_cqe *)(evq + VMMC_CQ_ENTRIES_OFF);
	struct vmmc_nic_counters *c = &ep->node->kstatus->counters;
	struct vmmc_cqe cqe;

	memset(&cqe, 0, sizeof(cqe));
	cqe.user_data = user_data;
	cqe.status = status;
	cqe.op = op;
	cqe.imm = imm;
	cqe.nic_ns = fabric_now_ns() - t_fetch;
	memcpy(&cqes[ep->cq_prod & (VMMC_CQ_ENTRIES - 1)], &cqe, sizeof(cqe));
	ep->cq_prod++;
	/* Partner: ulib's load-acquire of CQ prod before it reads the CQE. */
	vmmc_store_release(&cq->prod, ep->cq_prod);
	ctr_add(c->cqes, 1);
	ctr_add(ep->kctx->cqes, 1);
	if (status != VMMC_ST_OK) {
		ctr_add(c->desc_errors, 1);
		ctr_add(ep->kctx->desc_errors, 1);
	}
}

bool fabric_nq_has_room(struct fabric_ep *ep, __u8 *evq)
{
	struct vmmc_ring_hdr *nq = (struct vmmc_ring_hdr *)(evq +
							    VMMC_NQ_HDR_OFF);

	/* Partner: ulib's store-release of NQ cons after reading NQEs. */
	return ep->nq_prod - vmmc_load_acquire(&nq->cons) < VMMC_NQ_ENTRIES;
}

/* Write one NQE and publish it. The caller checked for room. */
void fabric_nq_post(struct fabric_ep *ep, __u8 *evq,
		    const struct vmmc_nqe *nqe)
{
	struct vmmc_ring_hdr *nq = (struct vmmc_ring_hdr *)(evq +
							    VMMC_NQ_HDR_OFF);
	struct vmmc_nqe *nqes = (struct vmmc_nqe *)(evq + VMMC_NQ_ENTRIES_OFF);

	memcpy(&nqes[ep->nq_prod & (VMMC_NQ_ENTRIES - 1)], nqe, sizeof(*nqe));
	ep->nq_prod++;
	/* Partner: ulib's load-acquire of NQ prod before it reads the NQE. */
	vmmc_store_release(&nq->prod, ep->nq_prod);
	ctr_add(ep->node->kstatus->counters.nqes, 1);
	ctr_add(ep->kctx->nqes, 1);
}

/* An NQE found no room: count it where the consumer can see it. */
void fabric_nq_drop(struct fabric_ep *ep, __u8 *evq)
{
	struct vmmc_ring_hdr *nq = (struct vmmc_ring_hdr *)(evq +
							    VMMC_NQ_HDR_OFF);

	ep->nq_dropped++;
	ep->node->nq_drops++;
	/* Partner: ulib's load-acquire in vmmc_nq_dropped(). */
	vmmc_store_release(&nq->dropped, ep->nq_dropped);
}

/* After CQEs (or NQEs) of @ep were published: interrupt if armed. */
void fabric_ep_notify(struct fabric_ep *ep)
{
	/*
	 * Order the CQ (NQ) prod store before the irq_armed load. Partner: kmod
	 * sets irq_armed = 1, smp_mb(), re-checks CQ and NQ, then sleeps:
	 * either kmod sees our entry, or we see (and consume) its arm.
	 */
	vmmc_smp_mb();
	if (vmmc_xchg(&ep->kctx->irq_armed, 0u) == 0)
		return;
	if (fabric_node_irq(ep->node, VMMC_IRQ_EVENT) == 0)
		ctr_add(ep->kctx->irqs, 1);
}

/* Complete an in-flight op (and free it), if its incarnation lives. */
void fabric_op_complete(struct fabric_op *op, __u32 status, __u64 imm)
{
	struct fabric_ep *ep = op->ep;
	struct fabric_node *n = ep->node;
	__u64 user_data = op->user_data, t_fetch = op->t_fetch;
	bool usable = fabric_ep_usable(ep, op->gen);
	__u8 opcode = op->op;
	__u8 *evq;

	fabric_op_free(op);	/* releases its CQ slot */
	if (!usable) {
		n->dropped_ops++;
		return;
	}
	evq = fabric_ep_evq(ep);
	if (!evq || !fabric_cq_has_room(ep, evq)) {
		/* Only a user that moved CQ cons backwards gets here. */
		n->lost_cqes++;
		node_log(n, LOG_V, "ep%u: no CQ slot for a completion: lost",
			 ep->id);
		if (evq) {
			struct vmmc_ring_hdr *cq = (struct vmmc_ring_hdr *)
				(evq + VMMC_CQ_HDR_OFF);

			ep->cq_dropped++;
			vmmc_store_release(&cq->dropped, ep->cq_dropped);
		}
		return;
	}
	fabric_cq_post(ep, evq, user_data, opcode, status, imm, t_fetch);
	fabric_ep_notify(ep);
}

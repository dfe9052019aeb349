// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_tx.c - SEND at the sending NIC: descriptor checks, translation
 * through the endpoint's UTLB, cutting the SEND into DATA packets, and
 * completion when the receiving NIC answers
 *
 * Contract:
 * - A SEND is checked at fetch, in this order (first failure wins):
 *   flags other than NOTIFY, or a non-zero field SEND does not use
 *   (dst_node, imm, reserved0, reserved2[]) -> BAD_FLAGS; len outside
 *   1..VMMC_SEND_MAX_LEN -> BAD_LEN; src_off >= 4096 -> BAD_ARG; import
 *   >= VMMC_MAX_IMPORTS -> BAD_IMPORT; that entry's state DEAD (the
 *   link layer gave its node up) -> NODE_DOWN, else not ACTIVE ->
 *   BAD_IMPORT;
 *   dst_offset + len > import.len -> RANGE; slots src_slot .. src_slot +
 *   ceil((src_off + len) / 4096) - 1 not all below min(ctx.utlb_slots,
 *   VMMC_UTLB_SLOTS) -> BAD_SLOT; import.node >= nr_nodes -> BAD_NODE;
 *   that node's guest or driver not up -> NODE_DOWN. The import entry is
 *   copied once, at fetch (node, export_id, export_gen).
 * - An accepted SEND becomes the endpoint's one SEND in progress: it holds
 *   a CQ slot and blocks the endpoint's later descriptors (NOPs and PINGs
 *   included) until it completes, so one endpoint's SENDs complete in SQ
 *   order. Each pass moves at most FABRIC_SEND_BUDGET bytes of it, in
 *   packets of at most FABRIC_MTU bytes (fewer on a link to another
 *   fabric: fabric_link_payload()), so a big SEND does not starve
 *   other endpoints or nodes.
 * - Per packet, the payload is copied into the packet (fabric.h says
 *   why), in the pass that re-read the UTLB entries it reads from guest
 *   RAM and checked (table inside RAM and 8-byte aligned, entry = page
 *   address | VMMC_UTLB_VALID, optionally | VMMC_UTLB_WRITE, no other low
 *   bit, page inside guest RAM as fabric_gpa() places it: below the PCI
 *   hole or from 4 GiB up, never in the hole or past the file); a failure
 *   completes the SEND with BAD_SLOT, and no more of its packets are
 *   made; those still in the link's window become VOID (fabric_link.c),
 *   so bytes of earlier packets the receiver already took stay, and no
 *   other lands (but for copies already sent to another fabric,
 *   fabric_rx.c).
 * - The receiving NIC answers a refused packet (the first refusal
 *   completes the SEND with its status) and the last packet once its data
 *   (and, with NOTIFY, its NQE) are written: OK, imm 0; or OK, imm
 *   VMMC_SEND_NQ_DROPPED if the receiver's NQ had no room (fabric_rx.c):
 *   never later, whatever the receiving process does. Answers that
 *   match no SEND in flight are discarded (stale_pkts). A fence frees the
 *   SEND (no completion); its packets become VOID as above.
 * - Counters: sends (completed OK), send_errors (completed otherwise,
 *   at fetch included), data_tx (payload bytes handed to the link).
 */
#include <string.h>

#include "fabric.h"

static const struct vmmc_import *kimport(struct fabric_ep *ep, __u32 idx)
{
	return (const struct vmmc_import *)(ep->node->sram +
					    VMMC_SRAM_IMPORTS) +
	       ep->id * VMMC_MAX_IMPORTS + idx;
}

__u32 fabric_utlb_limit(struct fabric_ep *ep)
{
	__u32 slots = vmmc_read_once(&ep->kctx->utlb_slots);

	return slots < VMMC_UTLB_SLOTS ? slots : VMMC_UTLB_SLOTS;
}

static __u32 send_check(struct fabric_ep *ep, const struct vmmc_sqe *sqe,
			struct vmmc_import *imp)
{
	struct fabric *f = ep->node->f;
	__u32 npages, limit;

	if ((sqe->flags & ~VMMC_SQF_NOTIFY) || sqe->reserved0 ||
	    sqe->dst_node || sqe->imm || sqe->reserved2[0] ||
	    sqe->reserved2[1])
		return VMMC_ST_BAD_FLAGS;
	if (!sqe->len || sqe->len > VMMC_SEND_MAX_LEN)
		return VMMC_ST_BAD_LEN;
	if (sqe->src_off >= VMMC_PAGE_SIZE)
		return VMMC_ST_BAD_ARG;
	if (sqe->import >= VMMC_MAX_IMPORTS)
		return VMMC_ST_BAD_IMPORT;
	memcpy(imp, kimport(ep, sqe->import), sizeof(*imp));
	if (imp->state == VMMC_IMPORT_DEAD)
		return VMMC_ST_NODE_DOWN;
	if (imp->state != VMMC_IMPORT_ACTIVE)
		return VMMC_ST_BAD_IMPORT;
	if (sqe->dst_offset > imp->len || sqe->len > imp->len - sqe->dst_offset)
		return VMMC_ST_RANGE;
	npages = (sqe->src_off + sqe->len + VMMC_PAGE_SIZE - 1) /
		 VMMC_PAGE_SIZE;
	limit = fabric_utlb_limit(ep);
	if (sqe->src_slot >= limit || npages > limit - sqe->src_slot)
		return VMMC_ST_BAD_SLOT;
	if (imp->node >= f->nr_nodes)
		return VMMC_ST_BAD_NODE;
	if (!fabric_node_is_up(&f->nodes[imp->node]))
		return VMMC_ST_NODE_DOWN;
	return VMMC_ST_OK;
}

/* Check a SEND and make it the endpoint's SEND in progress. */
__u32 fabric_send_start(struct fabric_ep *ep, const struct vmmc_sqe *sqe,
			__u64 t_fetch)
{
	struct vmmc_nic_counters *c = &ep->node->kstatus->counters;
	struct vmmc_import imp;
	struct fabric_op *op;
	__u32 status;

	status = send_check(ep, sqe, &imp);
	if (status == VMMC_ST_OK) {
		op = fabric_op_new(ep, FOP_SEND, ep->gen, sqe, t_fetch);
		if (!op) {
			node_log(ep->node, LOG_ERR, "ep%u: out of memory",
				 ep->id);
			status = VMMC_ST_BAD_ARG;
		}
	}
	if (status != VMMC_ST_OK) {
		ctr_add(c->send_errors, 1);
		return status;
	}
	op->cookie = ++ep->node->f->next_cookie;
	op->dst_node = imp.node;
	op->export_id = imp.export_id;
	op->export_gen = imp.export_gen;
	op->len = sqe->len;
	op->dst_offset = sqe->dst_offset;
	op->src_slot = sqe->src_slot;
	op->src_off = sqe->src_off;
	op->notify = sqe->flags & VMMC_SQF_NOTIFY;
	op->sent = 0;
	ep->send = op;
	return VMMC_ST_OK;
}

/*
 * The page in UTLB slot @slot of @ep, re-read and checked; 0 if valid (and
 * pinned for write, if @write).
 */
int fabric_utlb_page(struct fabric_ep *ep, __u32 slot, bool write,
		     __u64 *page)
{
	struct fabric_node *n = ep->node;
	__u64 addr = vmmc_read_once(&ep->kctx->utlb_addr);
	__u32 limit = fabric_utlb_limit(ep);
	const __u64 *table;
	__u64 ent;

	table = (const __u64 *)fabric_gpa(n, addr, (__u64)limit * 8);
	if (slot >= limit || (addr & 7) || !table)
		return -1;
	/* Partner: kmod's WRITE_ONCE of an entry, then sync_seq. */
	ent = vmmc_read_once(&table[slot]);
	if ((ent & (VMMC_PAGE_SIZE - 1) & ~VMMC_UTLB_WRITE) != VMMC_UTLB_VALID ||
	    (write && !(ent & VMMC_UTLB_WRITE)))
		return -1;
	ent &= ~(__u64)(VMMC_PAGE_SIZE - 1);
	if (!fabric_gpa(n, ent, VMMC_PAGE_SIZE))
		return -1;
	*page = ent;
	return 0;
}

/* Hand up to FABRIC_SEND_BUDGET bytes of the SEND in progress to the link. */
unsigned int fabric_send_push(struct fabric_ep *ep)
{
	struct fabric_op *op = ep->send;
	struct fabric_node *n = ep->node;
	unsigned int pkts = 0, moved = 0, i, np;
	struct fabric_pkt *p;
	struct vmmc_pkt *pkt;

	while (op->sent < op->len && moved < FABRIC_SEND_BUDGET &&
	       fabric_link_room(n->f, n->id, op->dst_node)) {
		__u32 pos = op->src_off + op->sent;
		__u32 len = op->len - op->sent, soff, done;
		__u32 mtu = fabric_link_payload(n->f, op->dst_node);

		if (len > mtu)
			len = mtu;
		p = fabric_pkt_alloc(len);
		if (!p)
			break;		/* out of memory: retry next pass */
		pkt = &p->pkt;
		soff = pos % VMMC_PAGE_SIZE;
		np = (soff + len + VMMC_PAGE_SIZE - 1) / VMMC_PAGE_SIZE;
		for (i = 0, done = 0; i < np; i++) {
			__u32 c = VMMC_PAGE_SIZE - soff;
			__u64 page;

			if (c > len - done)
				c = len - done;
			const __u8 *src = NULL;

			if (fabric_utlb_page(ep, op->src_slot +
					     pos / VMMC_PAGE_SIZE + i, false,
					     &page) == 0)
				src = fabric_gpa(n, page + soff, c);
			if (src) {
				/* The one read of the source page (fabric.h). */
				memcpy(p->payload + done, src, c);
				done += c;
				soff = 0;
				continue;
			}
			fabric_pkt_put(p);
			n->bad_tables++;
			node_log(n, LOG_V, "ep%u: SEND 0x%llx: UTLB slot %u not translated: BAD_SLOT after %u bytes",
				 ep->id, (unsigned long long)op->user_data,
				 op->src_slot + pos / VMMC_PAGE_SIZE + i,
				 op->sent);
			fabric_send_complete(op, VMMC_ST_BAD_SLOT, 0);
			return pkts + 1;
		}
		pkt->src_node = n->id;
		pkt->dst_node = op->dst_node;
		pkt->type = VMMC_PKT_DATA;
		pkt->src_ep = ep->id;
		pkt->src_gen = op->gen;
		pkt->cookie = op->cookie;
		pkt->len = len;
		pkt->flags = (op->sent ? 0 : VMMC_PKT_F_FIRST) |
			     (op->sent + len == op->len ? VMMC_PKT_F_LAST : 0) |
			     (op->notify ? VMMC_PKT_F_NOTIFY : 0);
		pkt->export_id = op->export_id;
		pkt->export_gen = op->export_gen;
		pkt->dst_offset = op->dst_offset + op->sent;
		pkt->msg_offset = op->dst_offset;
		pkt->msg_len = op->len;
		fabric_link_queue(n->f, p);
		op->sent += len;
		moved += len;
		pkts++;
		ctr_add(n->kstatus->counters.data_tx, len);
	}
	return pkts;
}

/* The SEND in flight that (@ep of @n, @gen, @cookie) names, or NULL. */
static struct fabric_op *send_find(struct fabric_node *n, __u32 ep,
				   __u32 gen, __u64 cookie)
{
	struct fabric_ep *e;

	if (ep >= VMMC_MAX_EPS)
		return NULL;
	e = &n->eps[ep];
	if (!e->live || e->gen != gen || !e->send || e->send->cookie != cookie)
		return NULL;
	return e->send;
}

void fabric_send_complete(struct fabric_op *op, __u32 status, __u64 imm)
{
	struct vmmc_nic_counters *c = &op->ep->node->kstatus->counters;

	ctr_add(*(status == VMMC_ST_OK ? &c->sends : &c->send_errors), 1);
	fabric_op_complete(op, status, imm);
}

/* At the sending NIC: the receiver's answer to a DATA packet. */
void fabric_rx_data_resp(struct fabric_node *n, const struct vmmc_pkt *pkt)
{
	struct fabric_op *op = send_find(n, pkt->src_ep, pkt->src_gen,
					 pkt->cookie);

	if (!op || (pkt->status == VMMC_ST_OK &&
		    (!(pkt->flags & VMMC_PKT_F_LAST) || op->sent != op->len))) {
		n->stale_pkts++;
		node_log(n, LOG_VV, "ep%u: SEND answer %u from node%u for no SEND in flight: discarded",
			 pkt->src_ep, pkt->status, pkt->src_node);
		return;
	}
	/* imm: VMMC_SEND_NQ_DROPPED, only with OK (fabric_rx.c) */
	fabric_send_complete(op, pkt->status,
			     pkt->status == VMMC_ST_OK ?
			     pkt->imm & VMMC_SEND_NQ_DROPPED : 0);
}

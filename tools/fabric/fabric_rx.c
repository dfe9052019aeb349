// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_rx.c - SEND at the receiving NIC: export checks, the copy into
 * the export's pages, notifications, and answers to the sending NIC
 *
 * Contract, per DATA packet (the link delivers each exactly once, in
 * order, with its CRC checked and its payload copied in):
 * - The receiver knows a SEND only by what its packets say (src_node,
 *   src_ep, src_gen, cookie): it never looks at the sending NIC's state,
 *   which may be another fabric on another host. Once it refused a
 *   packet of a SEND (the first refusal completes the SEND at the
 *   sender), the later packets of that SEND are dropped unanswered: no
 *   byte moves (stale_pkts). When the sender fences the endpoint or
 *   fails the SEND itself (BAD_SLOT mid-way), it turns the SEND's packets
 *   still in its window into VOID ones (fabric_link_void()), which this
 *   NIC ignores; a copy that left for another fabric before that is taken
 *   like any other, checked against the export as it arrives; its answer
 *   finds no SEND at the sender and is discarded there (fabric_tx.c).
 * - Refusals, answered to the sender with the status (rx_rejects + 1):
 *   this node's guest or driver not up -> NODE_DOWN; export_id >=
 *   VMMC_MAX_EXPORTS, its state not ACTIVE, its gen not the packet's,
 *   or that gen not yet acknowledged by this NIC (fabric_ctrl.c) ->
 *   REVOKED; the source node's perm_nodes bit clear -> REVOKED;
 *   dst_offset + len > export.len -> RANGE; a page table that does not
 *   fit (pages_addr 8-byte aligned, nr_pages * 8 bytes of guest RAM there
 *   as fabric_gpa() places them,
 *   first_off < 4096, first_off + len <= nr_pages * 4096) or a page
 *   address that is not page aligned inside RAM -> REVOKED, logged
 *   (bad_tables). Every export word is re-read for every packet: once
 *   the NIC has acknowledged a revocation, no byte lands.
 * - Accepted: the packet's payload is copied into the export's pages at
 *   first_off + dst_offset (one memcpy per page piece); data_rx += len.
 *   The parts of it that fall inside an active redirect of the export's
 *   owner go to the redirect's destination instead (fabric_redir.c).
 * - The last packet of a SEND is answered OK once its data is written
 *   and, with NOTIFY, once its NQE {VMMC_NQE_DATA, export_id, src_node,
 *   src_ep, offset = the SEND's dst_offset, len = the SEND's len} is in
 *   the NQ of the export's owner_ep (then VMMC_IRQ_EVENT if that
 *   endpoint is armed). An owner that is not an ACTIVE endpoint with a
 *   valid event region -> REVOKED.
 * - A receiver cannot stall a sender: if the owner's NQ has no room (it
 *   never reaps, or its cons lies), the NQE is dropped at once, counted
 *   in the owner's NQ header (dropped, fabric_cq.c), and the SEND is
 *   answered OK with imm VMMC_SEND_NQ_DROPPED: its data did land. Nothing
 *   is held and nothing is retried, so the answer never waits for the
 *   receiving process, and neither does the sender's SQ behind it.
 */
#include <string.h>

#include "fabric.h"

/* A snapshot of export @id; true if it is ACTIVE and acked at @gen. */
static bool export_get(struct fabric_node *n, __u32 id, __u64 gen,
		       struct vmmc_export *e)
{
	const struct vmmc_export *ke;

	if (id >= VMMC_MAX_EXPORTS)
		return false;
	ke = (const struct vmmc_export *)(n->sram + VMMC_SRAM_EXPORTS) + id;
	/* Partner: kmod writes the entry and state, then bumps gen. */
	e->gen = vmmc_load_acquire(&ke->gen);
	e->state = vmmc_read_once(&ke->state);
	e->owner_ep = vmmc_read_once(&ke->owner_ep);
	e->first_off = vmmc_read_once(&ke->first_off);
	e->len = vmmc_read_once(&ke->len);
	e->perm_nodes = vmmc_read_once(&ke->perm_nodes);
	e->pages_addr = vmmc_read_once(&ke->pages_addr);
	e->nr_pages = vmmc_read_once(&ke->nr_pages);
	return e->state == VMMC_EXPORT_ACTIVE && e->gen == gen &&
	       n->exp_ack[id] == gen;
}

static __u32 export_allows(struct fabric_node *n, const struct vmmc_pkt *pkt,
			   struct vmmc_export *e)
{
	e->state = 0;
	e->gen = 0;
	if (!export_get(n, pkt->export_id, pkt->export_gen, e)) {
		node_log(n, LOG_V, "export %u: SEND from node%u ep%u refused: state %u gen %llu ack %llu, the packet's gen %llu",
			 pkt->export_id, pkt->src_node, pkt->src_ep, e->state,
			 (unsigned long long)e->gen,
			 pkt->export_id < VMMC_MAX_EXPORTS ?
			 (unsigned long long)n->exp_ack[pkt->export_id] : 0ULL,
			 (unsigned long long)pkt->export_gen);
		return VMMC_ST_REVOKED;
	}
	if (pkt->src_node >= VMMC_MAX_NODES ||
	    !((e->perm_nodes >> pkt->src_node) & 1)) {
		node_log(n, LOG_V, "export %u: SEND from node%u refused: not in perm_nodes 0x%llx",
			 pkt->export_id, pkt->src_node,
			 (unsigned long long)e->perm_nodes);
		return VMMC_ST_REVOKED;
	}
	return VMMC_ST_OK;
}

static void bad_table(struct fabric_node *n, const struct vmmc_pkt *pkt,
		      const char *what)
{
	n->bad_tables++;
	node_log(n, LOG_ERR, "export %u: %s: packet from node%u refused",
		 pkt->export_id, what, pkt->src_node);
}

/*
 * Check the packet against its export; fill the destination pages and
 * the export's owner.
 */
static __u32 data_check(struct fabric_node *n, const struct vmmc_pkt *pkt,
			__u64 *dpages, __u32 *dpos, __u32 *owner)
{
	__u64 pos, first, last, i;
	const __u64 *table;
	struct vmmc_export e;
	__u32 status;

	status = export_allows(n, pkt, &e);
	if (status != VMMC_ST_OK)
		return status;
	if (pkt->dst_offset > e.len || pkt->len > e.len - pkt->dst_offset)
		return VMMC_ST_RANGE;
	table = (const __u64 *)fabric_gpa(n, e.pages_addr,
					  (__u64)e.nr_pages * 8);
	if (e.first_off >= VMMC_PAGE_SIZE || (e.pages_addr & 7) || !table ||
	    e.first_off + e.len > (__u64)e.nr_pages * VMMC_PAGE_SIZE) {
		bad_table(n, pkt, "page table does not fit the guest's RAM");
		return VMMC_ST_REVOKED;
	}
	pos = e.first_off + pkt->dst_offset;
	first = pos / VMMC_PAGE_SIZE;
	last = (pos + pkt->len - 1) / VMMC_PAGE_SIZE;
	for (i = first; i <= last; i++) {
		/* Partner: kmod writes the table before it bumps gen. */
		__u64 a = vmmc_read_once(&table[i]);

		if ((a & (VMMC_PAGE_SIZE - 1)) ||
		    !fabric_gpa(n, a, VMMC_PAGE_SIZE)) {
			bad_table(n, pkt, "page address not page aligned in RAM");
			return VMMC_ST_REVOKED;
		}
		dpages[i - first] = a;
	}
	*dpos = pos % VMMC_PAGE_SIZE;
	*owner = e.owner_ep;
	return VMMC_ST_OK;
}

/*
 * The DMA: bytes [poff, poff + len) of @pkt's payload (carried in the
 * packet, fabric.h) to the destination pages @dpages (guest-physical, in
 * this node's RAM), starting @doff into dpages[0]; page piece-wise.
 */
void fabric_pkt_copy(struct fabric_node *n, const struct vmmc_pkt *pkt,
		     __u32 poff, __u32 len, const __u64 *dpages, __u32 doff)
{
	const __u8 *src = fabric_pkt_payload(pkt) + poff;
	__u32 di = 0;

	while (len) {
		__u32 c = VMMC_PAGE_SIZE - doff;
		__u8 *dst;

		if (c > len)
			c = len;
		/* The pages were checked; this only bounds the piece. */
		dst = fabric_gpa(n, dpages[di] + doff, c);
		if (dst)
			memcpy(dst, src, c);
		else
			n->bad_tables++;
		len -= c;
		src += c;
		doff += c;
		if (doff == VMMC_PAGE_SIZE) {
			di++;
			doff = 0;
		}
	}
}

static void answer(struct fabric_node *n, const struct vmmc_pkt *pkt,
		   __u32 status, __u64 imm)
{
	struct vmmc_pkt ans;

	if (status != VMMC_ST_OK) {
		ctr_add(n->kstatus->counters.rx_rejects, 1);
		if (pkt->src_ep < VMMC_MAX_EPS) {
			struct fabric_refused *r =
				&n->refused[pkt->src_node][pkt->src_ep];

			r->cookie = pkt->cookie;
			r->gen = pkt->src_gen;
			r->valid = true;
		}
	}
	fabric_pkt_answer(pkt, &ans, VMMC_PKT_DATA_RESP, status);
	ans.flags = pkt->flags;
	ans.imm = imm;
	fabric_link_send(n->f, &ans);
}

/* Write the NQE of @pkt; 1 written, 0 dropped (NQ full), -1 no owner. */
static int notify(struct fabric_node *n, const struct vmmc_pkt *pkt,
		  __u32 owner)
{
	struct fabric_ep *ep;
	struct vmmc_nqe nqe;
	__u8 *evq;

	if (owner >= VMMC_MAX_EPS)
		return -1;
	ep = &n->eps[owner];
	if (!fabric_ep_usable(ep, ep->gen))
		return -1;
	evq = fabric_ep_evq(ep);
	if (!evq)
		return -1;
	if (!fabric_nq_has_room(ep, evq)) {
		fabric_nq_drop(ep, evq);
		node_log(n, LOG_VV, "ep%u: NQ full: NQE of a SEND from node%u ep%u dropped",
			 owner, pkt->src_node, pkt->src_ep);
		return 0;
	}
	memset(&nqe, 0, sizeof(nqe));
	nqe.type = VMMC_NQE_DATA;
	nqe.export_id = pkt->export_id;
	nqe.src_node = pkt->src_node;
	nqe.src_ep = pkt->src_ep;
	nqe.offset = pkt->msg_offset;
	nqe.len = pkt->msg_len;
	fabric_nq_post(ep, evq, &nqe);
	fabric_ep_notify(ep);
	return 1;
}

void fabric_rx_data(struct fabric_node *n, const struct vmmc_pkt *pkt)
{
	__u64 dpages[FABRIC_PKT_PAGES];
	const struct fabric_refused *ref;
	__u32 status, dpos, owner;
	int r;

	ref = pkt->src_ep < VMMC_MAX_EPS ?
	      &n->refused[pkt->src_node][pkt->src_ep] : NULL;
	if (ref && ref->valid && ref->gen == pkt->src_gen &&
	    ref->cookie == pkt->cookie) {
		n->stale_pkts++;	/* a SEND this NIC refused already */
		return;
	}
	if (!fabric_node_is_up(n)) {
		answer(n, pkt, VMMC_ST_NODE_DOWN, 0);
		return;
	}
	status = data_check(n, pkt, dpages, &dpos, &owner);
	if (status != VMMC_ST_OK) {
		node_log(n, LOG_V, "DATA from node%u ep%u for export %u gen %llu: status %u",
			 pkt->src_node, pkt->src_ep, pkt->export_id,
			 (unsigned long long)pkt->export_gen, status);
		answer(n, pkt, status, 0);
		return;
	}
	if (owner < VMMC_MAX_EPS && n->eps[owner].nr_redir)
		fabric_redir_deliver(n, pkt, owner, dpages, dpos);
	else
		fabric_pkt_copy(n, pkt, 0, pkt->len, dpages, dpos);
	ctr_add(n->kstatus->counters.data_rx, pkt->len);
	if (!(pkt->flags & VMMC_PKT_F_LAST))
		return;
	if (!(pkt->flags & VMMC_PKT_F_NOTIFY)) {
		answer(n, pkt, VMMC_ST_OK, 0);
		return;
	}
	/* data_check() just read the export: its owner is current. */
	r = notify(n, pkt, owner);
	if (r < 0) {
		node_log(n, LOG_V, "export %u: SEND from node%u ep%u: owner ep%u cannot take its notification (live %d state %u evq %d)",
			 pkt->export_id, pkt->src_node, pkt->src_ep, owner,
			 owner < VMMC_MAX_EPS ? n->eps[owner].live : -1,
			 owner < VMMC_MAX_EPS ?
			 vmmc_read_once(&n->eps[owner].kctx->state) : 0,
			 owner < VMMC_MAX_EPS ? n->eps[owner].evq_valid : -1);
		answer(n, pkt, VMMC_ST_REVOKED, 0);
	}
	else
		answer(n, pkt, VMMC_ST_OK, r ? 0 : VMMC_SEND_NQ_DROPPED);
}

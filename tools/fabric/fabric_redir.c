// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_redir.c - transfer redirection at the receiving NIC
 *
 * A receiver re-points a range of one of its own exports at other memory
 * of its own (the buffer of a pending receive), so that data arriving for
 * that range lands there with no copy (docs/nic.md, "Transfer
 * redirection").
 *
 * Contract (uapi/vmmc.h: VMMC_OP_REDIRECT, struct vmmc_redir_res):
 * - REDIRECT is checked at fetch, in this order (first failure wins, and a
 *   refused REDIRECT changes nothing): flags, reserved0, dst_node or
 *   reserved2[] non-zero -> BAD_FLAGS; len outside 1..VMMC_SEND_MAX_LEN ->
 *   BAD_LEN; imm (the slot) >= VMMC_REDIR_SLOTS or src_off >= 4096 ->
 *   BAD_ARG; the slot holds an active redirect -> BUSY; export (the
 *   descriptor's import field) >= VMMC_MAX_EXPORTS, not ACTIVE, not yet
 *   acknowledged by this NIC, or owned by another endpoint -> PERM;
 *   dst_offset + len > export.len -> RANGE; destination slots beyond the
 *   UTLB or not translated -> BAD_SLOT; a destination page not pinned for
 *   write (VMMC_UTLB_WRITE) -> PERM; the range overlaps another active
 *   redirect of the same export -> BUSY.
 * - An accepted REDIRECT is an in-flight op of its endpoint (it holds a CQ
 *   slot, so its completion always has room; it does not block the SQ).
 *   From now on, every packet that lands in the export is split at the
 *   redirect's boundaries (fabric_redir_deliver(), called by the data path
 *   for an export whose owner has active redirects): pieces inside the
 *   range go to the destination, translated through the owner's UTLB
 *   when the packet is delivered (re-read by this NIC's one thread, so a
 *   translation sync it acknowledged earlier is always honoured; the
 *   payload itself travels in the packet); the rest goes to the export.
 * - Exactness: the redirect keeps the union of what it received as at
 *   most VMMC_REDIR_EXTENTS disjoint extents. A piece that touches no
 *   extent when all are in use is not redirected (it goes to the export,
 *   and spilled counts it). The record in the event region is rewritten
 *   (seqlock) after every piece and at the end.
 * - End: when one extent covers the whole range -> OK; REDIRECT_CANCEL of
 *   the slot -> CANCELLED (the cancel's own completion: OK, imm = bytes);
 *   the export revoked or replaced (its ack) -> REVOKED; a destination
 *   page found untranslated, by a packet or at a translation sync ->
 *   BAD_SLOT (that packet's piece goes to the export). The record says
 *   DONE with the status, then the CQE is written, imm = bytes
 *   redirected. A fence of the endpoint drops its redirects silently (as
 *   every op of it).
 * - Counters: redirects (accepted), redir_bytes (landed at destinations;
 *   data_rx counts them too).
 */
#include <string.h>

#include "fabric.h"

/* The NIC's copy of export @id; true if ACTIVE and acknowledged. */
static bool export_read(struct fabric_node *n, __u32 id, struct vmmc_export *e)
{
	const struct vmmc_export *ke =
		(const struct vmmc_export *)(n->sram + VMMC_SRAM_EXPORTS) + id;

	/* Partner: kmod writes the entry and state, then bumps gen. */
	e->gen = vmmc_load_acquire(&ke->gen);
	e->state = vmmc_read_once(&ke->state);
	e->owner_ep = vmmc_read_once(&ke->owner_ep);
	e->len = vmmc_read_once(&ke->len);
	return e->state == VMMC_EXPORT_ACTIVE && n->exp_ack[id] == e->gen;
}

/* Publish the NIC's copy of @op's redirect to the user's record. */
static void res_write(struct fabric_op *op, __u32 state, __u32 status)
{
	struct fabric_redir *r = &op->redir;
	struct vmmc_redir_res *k;
	__u8 *evq = fabric_ep_evq(op->ep);
	unsigned int i;
	__u32 seq;

	if (!evq)
		return;
	k = (struct vmmc_redir_res *)(evq + VMMC_REDIR_OFF) + r->slot;
	/*
	 * A seqlock, from the NIC's own count (the user may scribble on the
	 * record). Partner: ulib's vmmc_redirect_result(): acquire of seq,
	 * reads, acquire fence, seq again.
	 */
	seq = op->ep->redir_seq[r->slot];
	vmmc_write_once(&k->seq, seq + 1);
	vmmc_smp_wmb();
	vmmc_write_once(&k->state, state);
	vmmc_write_once(&k->user_data, op->user_data);
	vmmc_write_once(&k->offset, r->offset);
	vmmc_write_once(&k->len, r->len);
	vmmc_write_once(&k->export_id, r->export_id);
	vmmc_write_once(&k->bytes, r->bytes);
	vmmc_write_once(&k->status, status);
	vmmc_write_once(&k->nr_ext, r->nr_ext);
	vmmc_write_once(&k->spilled, r->spilled);
	for (i = 0; i < VMMC_REDIR_EXTENTS; i++) {
		vmmc_write_once(&k->ext[i].offset,
				i < r->nr_ext ? r->ext[i].offset : 0);
		vmmc_write_once(&k->ext[i].len, i < r->nr_ext ? r->ext[i].len : 0);
	}
	vmmc_store_release(&k->seq, seq + 2);
	op->ep->redir_seq[r->slot] = seq + 2;
}

/* End @op's redirect with @status: final record, then its CQE. */
static void redir_end(struct fabric_op *op, __u32 status)
{
	node_log(op->ep->node, LOG_VV,
		 "ep%u: redirect %u: %llu of %u bytes, status %u",
		 op->ep->id, op->redir.slot,
		 (unsigned long long)op->redir.bytes, op->redir.len, status);
	if (fabric_ep_usable(op->ep, op->gen))
		res_write(op, VMMC_REDIR_DONE, status);
	fabric_op_complete(op, status, op->redir.bytes);
}

void fabric_redir_unlink(struct fabric_op *op)
{
	struct fabric_ep *ep = op->ep;

	if (op->redir.slot < VMMC_REDIR_SLOTS &&
	    ep->redir[op->redir.slot] == op) {
		ep->redir[op->redir.slot] = NULL;
		ep->nr_redir--;
	}
}

/* Are the @len destination bytes of @sqe translated and writable? */
static __u32 dest_check(struct fabric_ep *ep, __u32 slot, __u32 off,
			__u32 len)
{
	__u32 npages = (off + len + VMMC_PAGE_SIZE - 1) / VMMC_PAGE_SIZE;
	__u32 limit = fabric_utlb_limit(ep), i;
	__u64 page;

	if (slot >= limit || npages > limit - slot)
		return VMMC_ST_BAD_SLOT;
	for (i = 0; i < npages; i++)
		if (fabric_utlb_page(ep, slot + i, false, &page))
			return VMMC_ST_BAD_SLOT;
	for (i = 0; i < npages; i++)
		if (fabric_utlb_page(ep, slot + i, true, &page))
			return VMMC_ST_PERM;
	return VMMC_ST_OK;
}

static __u32 post_check(struct fabric_ep *ep, const struct vmmc_sqe *sqe,
			struct vmmc_export *e)
{
	struct fabric_node *n = ep->node;
	unsigned int i;

	if (sqe->flags || sqe->reserved0 || sqe->dst_node ||
	    sqe->reserved2[0] || sqe->reserved2[1])
		return VMMC_ST_BAD_FLAGS;
	if (!sqe->len || sqe->len > VMMC_SEND_MAX_LEN)
		return VMMC_ST_BAD_LEN;
	if (sqe->imm >= VMMC_REDIR_SLOTS || sqe->src_off >= VMMC_PAGE_SIZE)
		return VMMC_ST_BAD_ARG;
	if (ep->redir[sqe->imm])
		return VMMC_ST_BUSY;
	if (sqe->import >= VMMC_MAX_EXPORTS ||
	    !export_read(n, sqe->import, e) || e->owner_ep != ep->id)
		return VMMC_ST_PERM;
	if (sqe->dst_offset > e->len || sqe->len > e->len - sqe->dst_offset)
		return VMMC_ST_RANGE;
	i = dest_check(ep, sqe->src_slot, sqe->src_off, sqe->len);
	if (i != VMMC_ST_OK)
		return i;
	for (i = 0; i < VMMC_REDIR_SLOTS; i++) {
		const struct fabric_redir *o;

		if (!ep->redir[i])
			continue;
		o = &ep->redir[i]->redir;
		if (o->export_id == sqe->import && o->export_gen == e->gen &&
		    o->offset < sqe->dst_offset + sqe->len &&
		    sqe->dst_offset < o->offset + o->len)
			return VMMC_ST_BUSY;
	}
	return VMMC_ST_OK;
}

/* REDIRECT: OK if it is now active (its CQE comes when it ends). */
__u32 fabric_redir_post(struct fabric_ep *ep, __u8 *evq,
			const struct vmmc_sqe *sqe, __u64 t_fetch)
{
	struct fabric_node *n = ep->node;
	struct fabric_redir *r;
	struct vmmc_export e;
	struct fabric_op *op;
	__u32 status;

	(void)evq;
	status = post_check(ep, sqe, &e);
	if (status != VMMC_ST_OK)
		return status;
	op = fabric_op_new(ep, FOP_REDIRECT, ep->gen, sqe, t_fetch);
	if (!op) {
		node_log(n, LOG_ERR, "ep%u: out of memory", ep->id);
		return VMMC_ST_BAD_ARG;
	}
	r = &op->redir;
	r->slot = (__u32)sqe->imm;
	r->export_id = sqe->import;
	r->export_gen = e.gen;
	r->len = sqe->len;
	r->offset = sqe->dst_offset;
	r->dst_slot = sqe->src_slot;
	r->dst_off = sqe->src_off;
	ep->redir[r->slot] = op;
	ep->nr_redir++;
	res_write(op, VMMC_REDIR_ACTIVE, VMMC_ST_OK);
	ctr_add(n->kstatus->counters.redirects, 1);
	return VMMC_ST_OK;
}

/* REDIRECT_CANCEL: its status; *imm the bytes the redirect moved. */
__u32 fabric_redir_cancel(struct fabric_ep *ep, const struct vmmc_sqe *sqe,
			  __u64 *imm)
{
	struct fabric_op *op;

	if (sqe->flags || sqe->reserved0 || sqe->len || sqe->dst_node ||
	    sqe->import || sqe->dst_offset || sqe->src_slot || sqe->src_off ||
	    sqe->reserved2[0] || sqe->reserved2[1])
		return VMMC_ST_BAD_FLAGS;
	if (sqe->imm >= VMMC_REDIR_SLOTS)
		return VMMC_ST_BAD_ARG;
	op = ep->redir[sqe->imm];
	if (!op)
		return VMMC_ST_IDLE;
	*imm = op->redir.bytes;
	redir_end(op, VMMC_ST_CANCELLED);
	return VMMC_ST_OK;
}

/* Add [a, b) to the extents; false if that needs a fifth one. */
static bool ext_add(struct fabric_redir *r, __u64 a, __u64 b)
{
	unsigned int i = 0;

	while (i < r->nr_ext) {
		struct vmmc_redir_ext *x = &r->ext[i];

		if (x->offset > b || a > x->offset + x->len) {
			i++;
			continue;
		}
		/* touches or overlaps: absorb it */
		if (x->offset < a)
			a = x->offset;
		if (x->offset + x->len > b)
			b = x->offset + x->len;
		r->bytes -= x->len;
		r->ext[i] = r->ext[--r->nr_ext];
	}
	if (r->nr_ext == VMMC_REDIR_EXTENTS)
		return false;
	r->ext[r->nr_ext].offset = a;
	r->ext[r->nr_ext].len = b - a;
	r->nr_ext++;
	r->bytes += b - a;
	return true;
}

/* Would [a, b) fit in the extents? */
static bool ext_fits(const struct fabric_redir *r, __u64 a, __u64 b)
{
	unsigned int i;

	if (r->nr_ext < VMMC_REDIR_EXTENTS)
		return true;
	for (i = 0; i < r->nr_ext; i++)
		if (r->ext[i].offset <= b && a <= r->ext[i].offset + r->ext[i].len)
			return true;
	return false;
}

/*
 * Move packet bytes for export range [a, b) (inside @op's range) to its
 * destination. False if they must go to the export instead; @op may
 * have ended (freed) on return either way, as *ended says.
 */
static bool redir_piece(struct fabric_node *n, struct fabric_op *op,
			const struct vmmc_pkt *pkt, __u64 a, __u64 b,
			bool *ended)
{
	struct fabric_redir *r = &op->redir;
	__u64 pages[FABRIC_PKT_PAGES];
	__u64 d = r->dst_off + (a - r->offset);
	__u32 len = (__u32)(b - a), i, np;

	*ended = false;
	if (!ext_fits(r, a, b)) {
		r->spilled += len;
		res_write(op, VMMC_REDIR_ACTIVE, VMMC_ST_OK);
		return false;
	}
	np = (__u32)((d % VMMC_PAGE_SIZE + len + VMMC_PAGE_SIZE - 1) /
		     VMMC_PAGE_SIZE);
	for (i = 0; i < np; i++)
		if (fabric_utlb_page(op->ep, r->dst_slot +
				     (__u32)(d / VMMC_PAGE_SIZE) + i, true,
				     &pages[i])) {
			n->bad_tables++;
			*ended = true;
			redir_end(op, VMMC_ST_BAD_SLOT);
			return false;
		}
	fabric_pkt_copy(n, pkt, (__u32)(a - pkt->dst_offset), len, pages,
			(__u32)(d % VMMC_PAGE_SIZE));
	ctr_add(n->kstatus->counters.redir_bytes, len);
	ext_add(r, a, b);
	if (r->nr_ext == 1 && r->ext[0].offset == r->offset &&
	    r->ext[0].len == r->len) {
		*ended = true;
		redir_end(op, VMMC_ST_OK);
	} else {
		res_write(op, VMMC_REDIR_ACTIVE, VMMC_ST_OK);
	}
	return true;
}

static void copy_export(struct fabric_node *n, const struct vmmc_pkt *pkt,
			const __u64 *dpages, __u32 dpos, __u64 a, __u64 b)
{
	__u32 poff = (__u32)(a - pkt->dst_offset);

	fabric_pkt_copy(n, pkt, poff, (__u32)(b - a),
			dpages + (dpos + poff) / VMMC_PAGE_SIZE,
			(dpos + poff) % VMMC_PAGE_SIZE);
}

/*
 * The data path for a packet that passed the export checks, the export
 * being owned by endpoint @owner, which has active redirects; @dpages and
 * @dpos are the export's pages for the packet (see fabric_rx.c).
 */
void fabric_redir_deliver(struct fabric_node *n, const struct vmmc_pkt *pkt,
			  __u32 owner, const __u64 *dpages, __u32 dpos)
{
	struct fabric_ep *ep = &n->eps[owner];
	struct fabric_op *act[VMMC_REDIR_SLOTS];
	__u64 p = pkt->dst_offset, end = p + pkt->len, cur = p;
	unsigned int na = 0, i, j;
	bool ended;

	for (i = 0; i < VMMC_REDIR_SLOTS; i++) {
		struct fabric_op *op = ep->redir[i];
		const struct fabric_redir *r;

		if (!op || !fabric_ep_usable(ep, op->gen))
			continue;
		r = &op->redir;
		if (r->export_id != pkt->export_id ||
		    r->export_gen != pkt->export_gen ||
		    r->offset >= end || r->offset + r->len <= p)
			continue;
		/* insertion sort by offset: ranges are disjoint */
		for (j = na++; j && act[j - 1]->redir.offset > r->offset; j--)
			act[j] = act[j - 1];
		act[j] = op;
	}
	for (i = 0; i < na; i++) {
		const struct fabric_redir *r = &act[i]->redir;
		__u64 a = r->offset > cur ? r->offset : cur;
		__u64 b = r->offset + r->len < end ? r->offset + r->len : end;

		if (a > cur)
			copy_export(n, pkt, dpages, dpos, cur, a);
		if (!redir_piece(n, act[i], pkt, a, b, &ended))
			copy_export(n, pkt, dpages, dpos, a, b);
		cur = b;
	}
	if (cur < end)
		copy_export(n, pkt, dpages, dpos, cur, end);
}

/* The NIC acknowledged a change of export @export_id: end stale redirects. */
void fabric_redir_export_gone(struct fabric_node *n, __u32 export_id)
{
	struct vmmc_export e;
	unsigned int i, s;
	bool live = export_read(n, export_id, &e);

	for (i = 0; i < VMMC_MAX_EPS; i++) {
		struct fabric_ep *ep = &n->eps[i];

		if (!ep->nr_redir)
			continue;
		for (s = 0; s < VMMC_REDIR_SLOTS; s++) {
			struct fabric_op *op = ep->redir[s];

			if (op && op->redir.export_id == export_id &&
			    (!live || op->redir.export_gen != e.gen))
				redir_end(op, VMMC_ST_REVOKED);
		}
	}
}

/* Before a translation sync of @ep is acknowledged: end broken redirects. */
void fabric_redir_sync(struct fabric_ep *ep)
{
	unsigned int s;

	if (!ep->nr_redir)
		return;
	for (s = 0; s < VMMC_REDIR_SLOTS; s++) {
		struct fabric_op *op = ep->redir[s];

		if (op && dest_check(ep, op->redir.dst_slot, op->redir.dst_off,
				     op->redir.len) != VMMC_ST_OK)
			redir_end(op, VMMC_ST_BAD_SLOT);
	}
}

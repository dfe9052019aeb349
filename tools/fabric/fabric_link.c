// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_link.c - node-to-node packets: the reliable link layer, and
 * PING/PONG
 *
 * Contract:
 * - Each ordered pair of nodes (src, dst) has one link; src == dst is
 *   the loopback. Its wire (fabric_fault.c) may drop, duplicate, delay,
 *   reorder or corrupt packet copies, or be down; the protocol below makes
 *   the link deliver every packet but ACK exactly once, in the order it
 *   was sent, to the receiving NIC's handlers (fabric_rx_data() and
 *   friends), or declares the peer dead.
 * - Sender: every packet but ACK gets the link's epoch and next seq and a
 *   CRC32C (header with crc = 0, then payload), stays in the link's
 *   window until cumulatively acknowledged, and is retransmitted (the
 *   same bytes) when unacknowledged and not selectively acknowledged for
 *   the link's time-out (RTO). The RTO follows the round trips measured
 *   as RFC 6298 does (SRTT + 4 RTTVAR, from packets acknowledged after
 *   one transmission only, one sample per ACK), within FABRIC_RTO_MIN_NS
 *   and FABRIC_RTO_MAX_NS: a loaded host or a slow path stretches it
 *   instead of drawing spurious retransmissions; it doubles at every
 *   expiry (up to the maximum) and is taken from the estimates again when
 *   the cumulative ack moves. An expiry sends the oldest packet the
 *   receiver lacks, and the others due only when that one had been sent
 *   again already; packets with FABRIC_DUP_THRESH selectively acked ones
 *   after them go again at once, once per round trip (fabric_retrans.c).
 *   A SEND puts at most
 *   FABRIC_WINDOW DATA packets in a window (fabric_link_room()); answers
 *   and requests are never refused.
 * - Peer death: when a link's window has made no progress (an ACK that
 *   moves the cumulative ack or selectively acks a packet for the first
 *   time) for dead_ns (--dead-ms) of this process's running time (a gap
 *   of FABRIC_PAUSE_NS or more between two passes is not counted), the
 *   sending NIC declares the peer dead: the window is
 *   emptied, the link's next epoch is prepared, every SEND and PING of
 *   the node to that peer completes with VMMC_ST_NODE_DOWN, a pending
 *   mailbox IMPORT to it is answered NODE_DOWN, and every ACTIVE import
 *   row of the node naming the peer is marked VMMC_IMPORT_DEAD (an atomic
 *   compare-and-exchange from ACTIVE: a concurrent kmod write wins).
 *   Answers for a dead peer are dropped (its requests were failed); a
 *   new request (IMPORT, PING, SEND through a fresh import), or any valid
 *   packet from the peer, starts the next epoch.
 * - Receiver: a copy whose CRC fails, whose len exceeds what was
 *   allocated, or that did not come in on its own link is dropped
 *   (bad_pkts, link_crc_errors). A packet of a newer epoch resets the
 *   receiver (seq 0 expected next); an older epoch's is dropped as a
 *   duplicate. seq below the next expected: duplicate, dropped
 *   (link_dups). Above it (within FABRIC_RXWIN): held in the reorder
 *   buffer (link_ooo) until the gap fills. Every pass in which a link
 *   received something, its receiver sends one ACK (cumulative ack, a
 *   selective bitmap of the FABRIC_WINDOW seqs after it) on the reverse wire; ACKs are not
 *   numbered and not retransmitted.
 * - Nodes of another fabric (cluster, WIRE.md): a link to one keeps its
 *   sending half here; the copies its wire lets through leave as UDP
 *   datagrams (fabric_udp.c) when due; the receiving half of the link
 *   from one is fed by fabric_link_input(). When that fabric falls silent
 *   or restarts, fabric_link_peer_gone() declares its nodes dead as a
 *   stalled window would (a restart also resets the receiving halves).
 * - PING at the destination NIC: answered with a PONG carrying the same
 *   imm and status OK if the destination's guest is connected and its
 *   driver is up, else VMMC_ST_NODE_DOWN. PONG at the source NIC: the op
 *   is found by (endpoint, gen, cookie); if the endpoint was fenced
 *   since, the PONG is discarded (stale_pkts) and nothing is written.
 * - Counters: pkts/bytes tx at the sender (first transmissions), rx at
 *   the receiver (packets delivered in order; bytes are header +
 *   payload), pings_tx per PING sent, pings_rx per PING answered OK;
 *   link_retrans per retransmitted packet, link_peer_deaths,
 *   link_imports_revoked at the sender.
 */
#include <stdlib.h>
#include <string.h>

#include "fabric_span.h"

static bool seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

struct fabric_pkt *fabric_pkt_alloc(__u32 len)
{
	struct fabric_pkt *p = malloc(sizeof(*p) + len);

	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	flist_init(&p->link);
	p->refs = 1;
	p->cap = len;
	return p;
}

void fabric_pkt_put(struct fabric_pkt *p)
{
	if (--p->refs == 0)
		free(p);
}

/* CRC32C of the header (crc taken as 0) and the payload (pkt->len). */
__u32 fabric_pkt_crc(const struct vmmc_pkt *pkt)
{
	struct vmmc_pkt h = *pkt;
	__u32 crc;

	h.crc = 0;
	crc = fabric_crc32c(0, &h, sizeof(h));
	if (pkt->len)
		crc = fabric_crc32c(crc, fabric_pkt_payload(pkt), pkt->len);
	return crc;
}

/* Fill @ans as the answer to @req: reversed route, same ep/gen/cookie. */
void fabric_pkt_answer(const struct vmmc_pkt *req, struct vmmc_pkt *ans,
		       __u16 type, __u16 status)
{
	memset(ans, 0, sizeof(*ans));
	ans->src_node = req->dst_node;
	ans->dst_node = req->src_node;
	ans->type = type;
	ans->status = status;
	ans->src_ep = req->src_ep;
	ans->src_gen = req->src_gen;
	ans->cookie = req->cookie;
}

void fabric_link_init(struct fabric *f)
{
	unsigned int s, d;

	fabric_crc_init(f);
	for (s = 0; s < FABRIC_MAX_NODES; s++)
		for (d = 0; d < FABRIC_MAX_NODES; d++) {
			struct fabric_link *l = &f->links[s][d];

			flist_init(&l->wire);
			flist_init(&l->window);
			l->tx_epoch = 1;
			l->rto_ns = FABRIC_RTO_MIN_NS;
			l->fault.delay_us = 2000;
		}
}

static void window_clear(struct fabric *f, struct fabric_link *l)
{
	while (!flist_empty(&l->window)) {
		struct fabric_pkt *p = flist_entry(l->window.next,
						   struct fabric_pkt, link);

		flist_del(&p->link);
		l->in_window--;
		f->pkts_unacked--;
		fabric_pkt_put(p);
	}
}

static void ooo_clear(struct fabric_link *l)
{
	unsigned int i;

	for (i = 0; i < FABRIC_RXWIN; i++)
		if (l->ooo[i]) {
			fabric_pkt_put(l->ooo[i]);
			l->ooo[i] = NULL;
		}
}

void fabric_link_free(struct fabric *f)
{
	unsigned int s, d;

	for (s = 0; s < FABRIC_MAX_NODES; s++)
		for (d = 0; d < FABRIC_MAX_NODES; d++) {
			struct fabric_link *l = &f->links[s][d];

			while (!flist_empty(&l->wire)) {
				struct fabric_wire *w;

				w = flist_entry(l->wire.next,
						struct fabric_wire, link);
				flist_del(&w->link);
				fabric_pkt_put(w->p);
				free(w);
			}
			window_clear(f, l);
			ooo_clear(l);
		}
	f->pkts_queued = 0;
}

bool fabric_link_room(struct fabric *f, __u32 src, __u32 dst)
{
	return f->links[src][dst].in_window < FABRIC_WINDOW;
}

bool fabric_link_is_dead(struct fabric *f, __u32 src, __u32 dst)
{
	return f->links[src][dst].dead;
}

static bool is_answer(__u16 type)
{
	return type == VMMC_PKT_PONG || type == VMMC_PKT_DATA_RESP ||
	       type == VMMC_PKT_IMPORT_RESP;
}

/* A new epoch begins on a link whose peer was declared dead. */
static void link_revive(struct fabric *f, struct fabric_link *l,
			unsigned int src, unsigned int dst)
{
	l->dead = false;
	l->rto_ns = fabric_link_rto(l);
	l->progress_ns = fabric_now_ns();
	node_log(&f->nodes[src], LOG_INFO,
		 "link to node%u: epoch %u begins", dst, l->tx_epoch);
}

void fabric_link_transmit(struct fabric *f, struct fabric_link *l,
			  struct fabric_pkt *p, __u64 now)
{
	p->sent_ns = now;
	p->tries++;
	fabric_wire_send(f, l, p);
}

/*
 * Number @p (header filled, payload copied, len set) and put it on its
 * link; takes the caller's reference.
 */
void fabric_link_queue(struct fabric *f, struct fabric_pkt *p)
{
	struct vmmc_pkt *pkt = &p->pkt;
	struct fabric_link *l = &f->links[pkt->src_node][pkt->dst_node];
	struct vmmc_nic_counters *c = &f->nodes[pkt->src_node].kstatus->counters;
	__u64 now = fabric_now_ns();

	if (l->dead) {
		if (is_answer(pkt->type)) {
			fabric_pkt_put(p);	/* its request was failed */
			return;
		}
		link_revive(f, l, pkt->src_node, pkt->dst_node);
	}
	pkt->epoch = l->tx_epoch;
	pkt->seq = l->tx_seq++;
	pkt->crc = fabric_pkt_crc(pkt);
	if (flist_empty(&l->window))
		l->progress_ns = now;
	flist_add_tail(&l->window, &p->link);
	l->in_window++;
	f->pkts_unacked++;
	l->st.sent++;
	ctr_add(c->pkts_tx, 1);
	ctr_add(c->bytes_tx, sizeof(*pkt) + pkt->len);
	fabric_link_transmit(f, l, p, now);
}

/* Queue a copy of header-only @pkt on its link. -1: out of memory. */
int fabric_link_send(struct fabric *f, const struct vmmc_pkt *pkt)
{
	struct fabric_pkt *p = fabric_pkt_alloc(0);

	if (!p) {
		fab_log(f, LOG_ERR, "out of memory: packet dropped");
		return -1;
	}
	p->pkt = *pkt;
	p->pkt.len = 0;
	fabric_link_queue(f, p);
	return 0;
}

int fabric_ping_send(struct fabric_op *op, __u32 dst_node, __u64 imm)
{
	struct fabric_node *n = op->ep->node;
	struct fabric *f = n->f;
	struct vmmc_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	op->cookie = ++f->next_cookie;
	op->peer = dst_node;
	pkt.src_node = n->id;
	pkt.dst_node = dst_node;
	pkt.type = VMMC_PKT_PING;
	pkt.src_ep = op->ep->id;
	pkt.src_gen = op->gen;
	pkt.cookie = op->cookie;
	pkt.imm = imm;
	if (fabric_link_send(f, &pkt))
		return -1;
	ctr_add(n->kstatus->counters.pings_tx, 1);
	return 0;
}

static void rx_ping(struct fabric *f, struct fabric_node *n,
		    const struct vmmc_pkt *pkt)
{
	struct vmmc_pkt pong;
	bool up = fabric_node_is_up(n);

	fabric_pkt_answer(pkt, &pong, VMMC_PKT_PONG,
			  up ? VMMC_ST_OK : VMMC_ST_NODE_DOWN);
	pong.imm = up ? pkt->imm : 0;
	if (up)
		ctr_add(n->kstatus->counters.pings_rx, 1);
	fabric_link_send(f, &pong);
}

static void rx_pong(struct fabric_node *n, const struct vmmc_pkt *pkt)
{
	struct fabric_ep *ep;
	struct flist *l;

	if (pkt->src_ep >= VMMC_MAX_EPS)
		goto stale;
	ep = &n->eps[pkt->src_ep];
	if (!ep->live || ep->gen != pkt->src_gen)
		goto stale;
	for (l = ep->ops.next; l != &ep->ops; l = l->next) {
		struct fabric_op *op = flist_entry(l, struct fabric_op,
						   ep_link);

		if (op->kind == FOP_PING && op->cookie == pkt->cookie) {
			fabric_op_complete(op, pkt->status, pkt->imm);
			return;
		}
	}
stale:
	n->stale_pkts++;
	node_log(n, LOG_V, "ep%u: PONG from node%u for a fenced endpoint: discarded",
		 pkt->src_ep, pkt->src_node);
}

/*
 * The SEND @op ends (completed, failed or fenced): its DATA packets still
 * in the window become VOID, header only, so that no copy of them not yet
 * handed to the receiving NIC moves a byte. Inside one fabric that is
 * every copy (the wires and the receiver's reorder buffer hold the same
 * packets); a copy already sent to another fabric is out of reach, and
 * its retransmissions are VOID.
 */
void fabric_link_void(struct fabric *f, const struct fabric_op *op)
{
	struct fabric_link *l = &f->links[op->ep->node->id][op->dst_node];
	struct flist *pos;

	for (pos = l->window.next; pos != &l->window; pos = pos->next) {
		struct vmmc_pkt *pkt = &flist_entry(pos, struct fabric_pkt,
						    link)->pkt;

		if (pkt->type != VMMC_PKT_DATA || pkt->src_ep != op->ep->id ||
		    pkt->src_gen != op->gen || pkt->cookie != op->cookie)
			continue;
		pkt->type = VMMC_PKT_VOID;
		pkt->len = 0;
		pkt->crc = fabric_pkt_crc(pkt);
	}
}

/* Hand one in-order packet to its handler at NIC @n. */
static void dispatch(struct fabric *f, struct fabric_node *n,
		     const struct vmmc_pkt *pkt)
{
	ctr_add(n->kstatus->counters.pkts_rx, 1);
	ctr_add(n->kstatus->counters.bytes_rx, sizeof(*pkt) + pkt->len);
	switch (pkt->type) {
	case VMMC_PKT_PING:
		rx_ping(f, n, pkt);
		break;
	case VMMC_PKT_PONG:
		rx_pong(n, pkt);
		break;
	case VMMC_PKT_DATA:
		fabric_rx_data(n, pkt);
		break;
	case VMMC_PKT_DATA_RESP:
		fabric_rx_data_resp(n, pkt);
		break;
	case VMMC_PKT_IMPORT_REQ:
		fabric_rx_import_req(n, pkt);
		break;
	case VMMC_PKT_IMPORT_RESP:
		fabric_rx_import_resp(n, pkt);
		break;
	case VMMC_PKT_VOID:
		n->stale_pkts++;	/* its SEND ended at the sender */
		break;
	default:
		n->bad_pkts++;
		node_log(n, LOG_ERR, "link from node%u: packet type %u: dropped",
			 pkt->src_node, pkt->type);
	}
}

/* At the sender of link @l (NIC src): an ACK came back. */
static void rx_ack(struct fabric *f, struct fabric_link *l, unsigned int src,
		   const struct vmmc_pkt *ack)
{
	__u64 now = fabric_now_ns(), sent = 0;
	bool moved = false;
	struct flist *pos;

	if (ack->epoch != l->tx_epoch || l->dead ||
	    seq_before(l->tx_seq, ack->ack))
		return;		/* an old epoch's, or nonsense */
	while (!flist_empty(&l->window)) {
		struct fabric_pkt *p = flist_entry(l->window.next,
						   struct fabric_pkt, link);

		if (!seq_before(p->pkt.seq, ack->ack))
			break;
		/* Karn: a retransmitted packet's ack times no one send */
		sent = p->tries == 1 ? p->sent_ns : 0;
		flist_del(&p->link);
		l->in_window--;
		f->pkts_unacked--;
		fabric_pkt_put(p);
		moved = true;
	}
	if (moved) {
		if (sent && now >= sent)	/* the newest packet acked */
			fabric_link_rtt(l, now - sent);
		l->rto_ns = fabric_link_rto(l);
		l->progress_ns = now;
	}
	for (pos = l->window.next; pos != &l->window; pos = pos->next) {
		struct fabric_pkt *p = flist_entry(pos, struct fabric_pkt,
						   link);
		__u32 i = p->pkt.seq - ack->ack - 1;

		if (p->pkt.seq == ack->ack)
			continue;	/* the gap itself */
		if (i >= FABRIC_SACK_WORDS * 64)
			break;
		if (!p->sacked && (ack->sack[i / 64] >> (i % 64)) & 1) {
			p->sacked = true;
			/* the peer takes packets: alive, the gap is bad luck */
			l->progress_ns = now;
		}
	}
	fabric_link_fast_retransmit(f, l, src, now);
}

static void send_ack(struct fabric *f, struct fabric_link *l,
		     unsigned int src, unsigned int dst)
{
	struct fabric_pkt *p = fabric_pkt_alloc(0);
	unsigned int i;

	l->ack_due = false;
	if (!p)
		return;		/* the sender will retransmit */
	p->pkt.src_node = dst;
	p->pkt.dst_node = src;
	p->pkt.type = VMMC_PKT_ACK;
	p->pkt.epoch = l->rx_epoch;
	p->pkt.ack = l->rx_seq;
	for (i = 0; i < FABRIC_SACK_WORDS * 64; i++)
		if (l->ooo[(l->rx_seq + 1 + i) % FABRIC_RXWIN])
			p->pkt.sack[i / 64] |= 1ull << (i % 64);
	p->pkt.crc = fabric_pkt_crc(&p->pkt);
	f->nodes[dst].acks_tx++;
	f->links[dst][src].st.acks++;
	fabric_wire_send(f, &f->links[dst][src], p);
	fabric_pkt_put(p);
}

static unsigned int deliver_round(struct fabric *f);

/* At the receiver of link @l (NIC dst): one copy off the wire. */
static unsigned int rx(struct fabric *f, struct fabric_link *l,
		       unsigned int src, unsigned int dst,
		       struct fabric_pkt *p)
{
	struct fabric_node *n = &f->nodes[dst];
	struct vmmc_nic_counters *c = &n->kstatus->counters;
	const struct vmmc_pkt *pkt = &p->pkt;
	unsigned int done = 0;
	__u32 off;

	if (pkt->len > p->cap || fabric_pkt_crc(pkt) != pkt->crc ||
	    pkt->src_node != src || pkt->dst_node != dst ||
	    (pkt->type == VMMC_PKT_DATA ?
	     !pkt->len || pkt->len > FABRIC_MTU : pkt->len != 0)) {
		n->bad_pkts++;
		l->st.rx_bad++;
		ctr_add(c->link_crc_errors, 1);
		node_log(n, LOG_V, "link from node%u: bad CRC or malformed: dropped",
			 src);
		return 0;
	}
	/* The peer's NIC is alive: our link to it may carry answers again. */
	if (f->links[dst][src].dead && pkt->type != VMMC_PKT_ACK)
		link_revive(f, &f->links[dst][src], dst, src);
	if (pkt->type == VMMC_PKT_ACK) {
		rx_ack(f, &f->links[dst][src], dst, pkt);
		return 1;
	}
	l->ack_due = true;
	if (pkt->epoch != l->rx_epoch) {
		if (l->rx_epoch && seq_before(pkt->epoch, l->rx_epoch)) {
			l->st.rx_dups++;
			ctr_add(c->link_dups, 1);
			return 0;
		}
		ooo_clear(l);
		l->rx_epoch = pkt->epoch;
		l->rx_seq = 0;
	}
	off = pkt->seq - l->rx_seq;
	if ((__s32)off < 0 || (off && off < FABRIC_RXWIN &&
			       l->ooo[pkt->seq % FABRIC_RXWIN])) {
		l->st.rx_dups++;
		ctr_add(c->link_dups, 1);
		return 0;
	}
	if (off >= FABRIC_RXWIN)
		return 0;	/* beyond the buffer: will come again */
	if (off) {
		p->refs++;
		l->ooo[pkt->seq % FABRIC_RXWIN] = p;
		l->st.rx_ooo++;
		ctr_add(c->link_ooo, 1);
		return 0;
	}
	dispatch(f, n, pkt);
	l->rx_seq++;
	done++;
	while ((p = l->ooo[l->rx_seq % FABRIC_RXWIN])) {
		l->ooo[l->rx_seq % FABRIC_RXWIN] = NULL;
		dispatch(f, n, &p->pkt);
		fabric_pkt_put(p);
		l->rx_seq++;
		done++;
	}
	return done;
}

/*
 * Deliver the wire copies that are due, then ack what came in; a second
 * round takes the answers and acks the first one sent (a SEND completes
 * in the pass that sent it, as without the link layer).
 */
unsigned int fabric_link_deliver(struct fabric *f)
{
	unsigned int done = 0, round, n;

	for (round = 0; round < 2; round++) {
		n = deliver_round(f);
		done += n;
		if (!n)
			break;
	}
	return done;
}

static unsigned int deliver_round(struct fabric *f)
{
	unsigned int s, d, done = 0;
	__u64 now = fabric_now_ns(), wseq = f->wire_seq;

	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_link *l = &f->links[s][d];

			while (!flist_empty(&l->wire)) {
				struct fabric_wire *w;

				w = flist_entry(l->wire.next,
						struct fabric_wire, link);
				/* Not what this pass sends: no loops. */
				if (w->due > now || w->wseq >= wseq)
					break;
				flist_del(&w->link);
				f->pkts_queued--;
				if (f->nodes[d].remote)	/* to another fabric */
					fabric_udp_send(f, w->p, d);
				else
					done += rx(f, l, s, d, w->p);
				done++;
				fabric_pkt_put(w->p);
				free(w);
			}
		}
	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++)
			if (f->links[s][d].ack_due)
				send_ack(f, &f->links[s][d], s, d);
	if (f->cl)
		fabric_udp_flush(f);	/* this round's datagrams, at once */
	return done;
}

/* Mark every ACTIVE import row of @n that names @peer dead. */
static void revoke_imports(struct fabric_node *n, __u32 peer)
{
	struct vmmc_import *row = (struct vmmc_import *)(n->sram +
							 VMMC_SRAM_IMPORTS);
	unsigned int i, nr = 0;

	for (i = 0; i < VMMC_MAX_EPS * VMMC_MAX_IMPORTS; i++, row++) {
		__u32 want = VMMC_IMPORT_ACTIVE;

		if (vmmc_read_once(&row->state) != VMMC_IMPORT_ACTIVE ||
		    vmmc_read_once(&row->node) != peer)
			continue;
		/* Partner: kmod's WRITE_ONCE of state (import, unimport). */
		if (vmmc_cmpxchg(&row->state, &want, VMMC_IMPORT_DEAD))
			nr++;
	}
	if (nr)
		ctr_add(n->kstatus->counters.link_imports_revoked, nr);
	node_log(n, LOG_INFO, "node%u unreachable: %u import(s) revoked",
		 peer, nr);
}

/* Fail every operation of @n that waits for @peer. */
static void fail_ops(struct fabric_node *n, __u32 peer)
{
	unsigned int e;

	for (e = 0; e < VMMC_MAX_EPS; e++) {
		struct fabric_ep *ep = &n->eps[e];
		struct flist *pos, *next;

		for (pos = ep->ops.next; pos != &ep->ops; pos = next) {
			struct fabric_op *op = flist_entry(pos,
							   struct fabric_op,
							   ep_link);

			next = pos->next;
			if (op->kind == FOP_SEND && op->dst_node == peer)
				fabric_send_complete(op, VMMC_ST_NODE_DOWN, 0);
			else if (op->kind == FOP_PING && op->peer == peer)
				fabric_op_complete(op, VMMC_ST_NODE_DOWN, 0);
		}
	}
	fabric_kcmd_peer_dead(n, peer);
}

static void peer_dead(struct fabric *f, struct fabric_link *l,
		      unsigned int src, unsigned int dst)
{
	struct fabric_node *n = &f->nodes[src];

	l->dead = true;
	l->st.deaths++;
	ctr_add(n->kstatus->counters.link_peer_deaths, 1);
	if (n->sram) {
		/* Imports first: whoever sees NODE_DOWN sees them DEAD. */
		revoke_imports(n, dst);
		/* before the window goes: the failed SENDs' packets go VOID */
		fail_ops(n, dst);
	}
	window_clear(f, l);
	l->tx_epoch++;
	l->tx_seq = 0;
}

/*
 * Node @node's fabric went silent or restarted (fabric_udp.c): every
 * local node's link to it is declared dead now, as a stalled window
 * would be; with @forget_rx (a new incarnation) the receiving halves of
 * its links to us forget their epoch and reorder buffer too, so that the
 * new incarnation's first epoch is taken from seq 0.
 */
void fabric_link_peer_gone(struct fabric *f, __u32 node, bool forget_rx)
{
	unsigned int s;

	for (s = 0; s < f->nr_nodes; s++) {
		struct fabric_link *l = &f->links[s][node];
		struct fabric_link *r = &f->links[node][s];

		if (f->nodes[s].remote)
			continue;
		/* nothing ever sent on it: no request, no import to fail */
		if (!l->dead && (l->tx_seq || l->tx_epoch > 1)) {
			node_log(&f->nodes[s], LOG_INFO, "link to node%u: its fabric %s: peer dead",
				 node, forget_rx ? "restarted" : "is silent");
			peer_dead(f, l, s, node);
		}
		if (forget_rx) {
			/* its cookies and gens begin anew */
			memset(f->nodes[s].refused[node], 0,
			       sizeof(f->nodes[s].refused[node]));
			ooo_clear(r);
			r->rx_epoch = 0;
			r->rx_seq = 0;
			r->ack_due = false;
		}
	}
}

/* A link packet from another fabric (fabric_udp.c); the caller keeps @p. */
void fabric_link_input(struct fabric *f, struct fabric_pkt *p)
{
	__u32 s = p->pkt.src_node, d = p->pkt.dst_node;

	rx(f, &f->links[s][d], s, d, p);
}

/*
 * While packets wait for acks the NIC passes every FABRIC_STALL_POLL_MS
 * at most; a longer gap since the last pass is time this process did not
 * run (a loaded host, a stop): the peers could not be heard in it, so it
 * does not count toward their death.
 */
static void fabric_link_pause(struct fabric *f, __u64 now)
{
	__u64 gap = now - f->timers_ns;
	unsigned int s, d;

	f->timers_ns = now;
	if (gap < FABRIC_PAUSE_NS)
		return;
	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_link *l = &f->links[s][d];

			if (l->in_window)
				l->progress_ns = l->progress_ns + gap > now ?
						 now : l->progress_ns + gap;
		}
}

/* Retransmissions and peer deaths that are due; returns the work done. */
unsigned int fabric_link_timers(struct fabric *f, __u64 now)
{
	unsigned int s, d, done = 0;

	fabric_fault_tick(f, now);
	if (!f->pkts_unacked) {
		f->timers_ns = now;
		return 0;
	}
	fabric_link_pause(f, now);
	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_link *l = &f->links[s][d];
			unsigned int re;

			if (!l->in_window)
				continue;
			if (now - l->progress_ns >= f->dead_ns) {
				node_log(&f->nodes[s], LOG_INFO,
					 "link to node%u: no progress for %llu ms: peer dead",
					 d, (unsigned long long)(f->dead_ns / 1000000));
				peer_dead(f, l, s, d);
				done++;
				continue;
			}
			re = fabric_link_rto_expire(f, l, now);
			if (!re)
				continue;
			fabric_link_count_retrans(f, l, s, re);
			l->rto_ns *= 2;
			if (l->rto_ns > FABRIC_RTO_MAX_NS)
				l->rto_ns = FABRIC_RTO_MAX_NS;
			done += re;
		}
	return done;
}

/*
 * Would a pass deliver something now? *stalled: packets wait on a wire
 * or for an ack, so the NIC must not sleep for good.
 */
bool fabric_link_has_work(struct fabric *f, bool *stalled)
{
	__u64 now = fabric_now_ns();
	unsigned int s, d;

	if (f->pkts_unacked)
		*stalled = true;
	if (!f->pkts_queued)
		return false;
	*stalled = true;
	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_link *l = &f->links[s][d];

			if (!flist_empty(&l->wire) &&
			    flist_entry(l->wire.next, struct fabric_wire,
					link)->due <= now)
				return true;
		}
	return false;
}

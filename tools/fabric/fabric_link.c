// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_link.c - node-to-node packets: the switch, and PING/PONG
 *
 * Contract:
 * - Each ordered pair of nodes (src, dst) has one link: a FIFO of
 *   struct vmmc_pkt inside the fabric; src == dst is the loopback. A
 *   packet gets the link's next sequence number and a CRC32C (over the
 *   header with crc = 0, then a DATA packet's payload, read from the
 *   source guest's RAM) when sent. The receiver first checks that the
 *   packet came in on its own link and that a DATA packet's payload pages
 *   lie in the source guest's RAM, then the CRC: a failure drops the
 *   packet (bad_pkts; logged). An unexpected seq is logged (-v) and
 *   accepted. Acks and retransmission come with the reliable link layer;
 *   until then a dropped packet leaves its operation in flight until its
 *   endpoint is fenced (only a user writing its own SEND source while
 *   the SEND runs can make a DATA packet's CRC fail today).
 * - Packets are delivered by the poll pass, in FIFO order per link. A
 *   pass delivers every DATA packet sent in it (they are sent only by
 *   fabric_nic_poll's SQ stage, which runs before delivery).
 * - PING at the destination NIC: answered with a PONG carrying the same
 *   imm and status OK if the destination's guest is connected and its
 *   driver is up, else VMMC_ST_NODE_DOWN. PONG at the source NIC: the op
 *   is found by (endpoint, gen, cookie); if the endpoint was fenced
 *   since, the PONG is discarded (stale_pkts) and nothing is written.
 * - Counters: pkts/bytes tx at the sender, rx at the receiver (bytes are
 *   packet header + payload), pings_tx per PING sent, pings_rx per PING
 *   answered OK.
 */
#include <stdlib.h>
#include <string.h>

#include "fabric.h"

/* Is the payload a DATA packet names inside the source guest's RAM? */
static bool data_ref_sane(struct fabric *f, const struct vmmc_pkt *pkt)
{
	__u64 ram = f->nodes[pkt->src_node].ram_bytes;
	unsigned int i, np;

	if (!pkt->len || pkt->len > FABRIC_MTU ||
	    pkt->src_off >= VMMC_PAGE_SIZE)
		return false;
	np = (pkt->src_off + pkt->len + VMMC_PAGE_SIZE - 1) / VMMC_PAGE_SIZE;
	if (np > FABRIC_PKT_PAGES)
		return false;
	for (i = 0; i < np; i++)
		if ((pkt->src_pages[i] & (VMMC_PAGE_SIZE - 1)) ||
		    pkt->src_pages[i] > ram - VMMC_PAGE_SIZE)
			return false;
	return true;
}

/*
 * CRC32C of the header (crc = 0) and, for DATA, the payload read from the
 * source guest's RAM. The caller checked the payload reference.
 */
__u32 fabric_pkt_crc(struct fabric *f, struct vmmc_pkt *pkt)
{
	__u32 saved = pkt->crc, crc, off, left, i;
	const __u8 *ram;

	pkt->crc = 0;
	crc = fabric_crc32c(0, pkt, sizeof(*pkt));
	pkt->crc = saved;
	if (pkt->type != VMMC_PKT_DATA)
		return crc;
	ram = f->nodes[pkt->src_node].ram;
	off = pkt->src_off;
	left = pkt->len;
	for (i = 0; left; i++) {
		__u32 n = VMMC_PAGE_SIZE - off < left ? VMMC_PAGE_SIZE - off :
							left;

		crc = fabric_crc32c(crc, ram + pkt->src_pages[i] + off, n);
		left -= n;
		off = 0;
	}
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
		for (d = 0; d < FABRIC_MAX_NODES; d++)
			flist_init(&f->links[s][d].queue);
}

void fabric_link_free(struct fabric *f)
{
	unsigned int s, d;

	for (s = 0; s < FABRIC_MAX_NODES; s++)
		for (d = 0; d < FABRIC_MAX_NODES; d++) {
			struct flist *q = &f->links[s][d].queue;

			while (!flist_empty(q)) {
				struct flist *l = q->next;

				flist_del(l);
				free(flist_entry(l, struct fabric_pkt, link));
			}
		}
	f->pkts_queued = 0;
}

/* Queue @pkt on its link; fills seq and crc. -1: out of memory. */
int fabric_link_send(struct fabric *f, struct vmmc_pkt *pkt)
{
	struct fabric_link *l = &f->links[pkt->src_node][pkt->dst_node];
	struct vmmc_nic_counters *c = &f->nodes[pkt->src_node].kstatus->counters;
	struct fabric_pkt *p = malloc(sizeof(*p));

	if (!p) {
		fab_log(f, LOG_ERR, "out of memory: packet dropped");
		return -1;
	}
	pkt->seq = l->tx_seq++;
	pkt->crc = fabric_pkt_crc(f, pkt);
	p->pkt = *pkt;
	flist_add_tail(&l->queue, &p->link);
	f->pkts_queued++;
	ctr_add(c->pkts_tx, 1);
	ctr_add(c->bytes_tx, sizeof(*pkt) + pkt->len);
	return 0;
}

int fabric_ping_send(struct fabric_op *op, __u32 dst_node, __u64 imm)
{
	struct fabric_node *n = op->ep->node;
	struct fabric *f = n->f;
	struct vmmc_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	op->cookie = ++f->next_cookie;
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

static void rx(struct fabric *f, struct fabric_link *l, unsigned int src,
	       unsigned int dst, struct vmmc_pkt *pkt)
{
	struct fabric_node *n = &f->nodes[dst];

	if (pkt->src_node != src || pkt->dst_node != dst ||
	    (pkt->type == VMMC_PKT_DATA ? !data_ref_sane(f, pkt) :
	     pkt->len != 0)) {
		n->bad_pkts++;
		node_log(n, LOG_ERR, "link from node%u: malformed packet: dropped",
			 src);
		return;
	}
	if (fabric_pkt_crc(f, pkt) != pkt->crc) {
		n->bad_pkts++;
		node_log(n, LOG_ERR, "link from node%u: bad CRC: dropped", src);
		return;
	}
	if (pkt->seq != l->rx_seq)
		node_log(n, LOG_V, "link from node%u: seq %u, expected %u",
			 src, pkt->seq, l->rx_seq);
	l->rx_seq = pkt->seq + 1;
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
	default:
		n->bad_pkts++;
		node_log(n, LOG_ERR, "link from node%u: packet type %u: dropped",
			 src, pkt->type);
	}
}

/* Deliver what was queued on each link when its turn came. */
unsigned int fabric_link_deliver(struct fabric *f)
{
	unsigned int s, d, done = 0;
	struct flist batch;

	if (!f->pkts_queued)
		return 0;
	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_link *l = &f->links[s][d];

			if (flist_empty(&l->queue))
				continue;
			/* Take the queue: answers go to other links. */
			batch = l->queue;
			batch.next->prev = &batch;
			batch.prev->next = &batch;
			flist_init(&l->queue);
			while (!flist_empty(&batch)) {
				struct fabric_pkt *p;

				p = flist_entry(batch.next, struct fabric_pkt,
						link);
				flist_del(&p->link);
				f->pkts_queued--;
				rx(f, l, s, d, &p->pkt);
				free(p);
				done++;
			}
		}
	return done;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_link.c - node-to-node packets: the switch, and PING/PONG
 *
 * Contract:
 * - Each ordered pair of nodes (src, dst) has one link: a FIFO of
 *   struct vmmc_pkt inside the fabric; src == dst is the loopback. A
 *   packet gets the link's next sequence number and a CRC32C (over the
 *   packet with crc = 0) when sent. The receiver checks both: a bad CRC
 *   drops the packet, an unexpected seq is logged (-v) and accepted. The
 *   reliable link layer (acks, retransmission) comes with data transfers.
 * - Packets are delivered by the poll pass, in FIFO order per link.
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

#define CRC32C_POLY	0x82f63b78u	/* Castagnoli, reflected */

static __u32 crc32c_table[256];

static void crc32c_init(void)
{
	unsigned int i, b;

	for (i = 0; i < 256; i++) {
		__u32 c = i;

		for (b = 0; b < 8; b++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		crc32c_table[i] = c;
	}
}

/* CRC32C, chainable: fabric_crc32c(0, "123456789", 9) == 0xe3069283. */
__u32 fabric_crc32c(__u32 crc, const void *buf, size_t len)
{
	const __u8 *p = buf;

	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static __u32 pkt_crc(struct vmmc_pkt *pkt)
{
	__u32 saved = pkt->crc, crc;

	pkt->crc = 0;
	crc = fabric_crc32c(0, pkt, sizeof(*pkt));
	pkt->crc = saved;
	return crc;
}

void fabric_link_init(struct fabric *f)
{
	unsigned int s, d;

	crc32c_init();
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
static int link_send(struct fabric *f, struct vmmc_pkt *pkt)
{
	struct fabric_link *l = &f->links[pkt->src_node][pkt->dst_node];
	struct vmmc_nic_counters *c = &f->nodes[pkt->src_node].kstatus->counters;
	struct fabric_pkt *p = malloc(sizeof(*p));

	if (!p) {
		fab_log(f, LOG_ERR, "out of memory: packet dropped");
		return -1;
	}
	pkt->seq = l->tx_seq++;
	pkt->crc = 0;
	pkt->crc = pkt_crc(pkt);
	p->pkt = *pkt;
	flist_add_tail(&l->queue, &p->link);
	f->pkts_queued++;
	ctr_add(c->pkts_tx, 1);
	ctr_add(c->bytes_tx, sizeof(*pkt) + pkt->len);
	return 0;
}

void fabric_link_send(struct fabric *f, struct vmmc_pkt *pkt)
{
	link_send(f, pkt);
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
	if (link_send(f, &pkt))
		return -1;
	ctr_add(n->kstatus->counters.pings_tx, 1);
	return 0;
}

static void rx_ping(struct fabric *f, struct fabric_node *n,
		    const struct vmmc_pkt *pkt)
{
	struct vmmc_pkt pong;
	bool up = fabric_node_is_up(n);

	memset(&pong, 0, sizeof(pong));
	pong.src_node = n->id;
	pong.dst_node = pkt->src_node;
	pong.type = VMMC_PKT_PONG;
	pong.status = up ? VMMC_ST_OK : VMMC_ST_NODE_DOWN;
	pong.src_ep = pkt->src_ep;
	pong.src_gen = pkt->src_gen;
	pong.cookie = pkt->cookie;
	pong.imm = up ? pkt->imm : 0;
	if (up)
		ctr_add(n->kstatus->counters.pings_rx, 1);
	link_send(f, &pong);
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

static void rx(struct fabric *f, struct fabric_link *l, struct vmmc_pkt *pkt)
{
	struct fabric_node *n = &f->nodes[pkt->dst_node];

	if (pkt_crc(pkt) != pkt->crc) {
		node_log(n, LOG_ERR, "link from node%u: bad CRC: dropped",
			 pkt->src_node);
		return;
	}
	if (pkt->seq != l->rx_seq)
		node_log(n, LOG_V, "link from node%u: seq %u, expected %u",
			 pkt->src_node, pkt->seq, l->rx_seq);
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
	default:
		node_log(n, LOG_ERR, "link from node%u: packet type %u: dropped",
			 pkt->src_node, pkt->type);
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
				rx(f, l, &p->pkt);
				free(p);
				done++;
			}
		}
	return done;
}

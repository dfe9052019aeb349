// SPDX-License-Identifier: GPL-2.0
/*
 * Description: two nodes: loopback and cross-node PING, NODE_DOWN for a
 * node without a guest or driver, a refused second connection, garbage
 * SRAM on one node, a guest that breaks the protocol, and reconnection
 * to a reset NIC.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_guest.h"

#define EVQ(i)	FG_EVQ(i)

static __u64 rnd_state = 0x9e3779b97f4a7c15ull;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void ping(struct fg_ep *ep, __u32 dst, __u64 imm, __u32 status,
		 const char *what)
{
	struct vmmc_sqe s;

	fg_sqe_ping(ep, &s, imm ^ 0x5555, dst, imm);
	fg_submit(ep, &s);
	fg_expect(ep, imm ^ 0x5555, VMMC_OP_PING, status,
		  status == VMMC_ST_OK ? imm : 0, what);
}

static void many_pings(struct fg_ep *ep, __u32 dst)
{
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	unsigned int i, good = 0;
	__u64 seen = 0;

	for (i = 0; i < 40; i++) {
		fg_sqe_ping(ep, &s, 1000 + i, dst, 0xabc00000ull + i);
		fg_submit(ep, &s);
	}
	for (i = 0; i < 40; i++) {
		if (!fg_wait_cqe(ep, &c, 3000))
			break;
		if (c.status == VMMC_ST_OK && c.user_data >= 1000 &&
		    c.user_data < 1040 &&
		    c.imm == 0xabc00000ull + c.user_data - 1000 &&
		    !(seen & (1ull << (c.user_data - 1000)))) {
			seen |= 1ull << (c.user_data - 1000);
			good++;
		}
	}
	t_check(good == 40, "40 pings in flight to node%u: each echoes its imm once", dst);
}

static void fuzz(struct fg *g, struct fg *other, struct fg_ep *probe)
{
	__u8 *p = g->sram + VMMC_SRAM_CTRL;
	size_t len = VMMC_SRAM_END - VMMC_SRAM_CTRL;
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	unsigned int round, i, done = 0;

	for (round = 0; round < 40; round++) {
		for (i = 0; i < len / 8; i += 1 + rnd() % 3)
			((__u64 *)p)[i] = rnd() & (round & 1 ? ~0ull :
						   0x0000000300000003ull);
		g->ctrl->drv_state = round % 4 ? VMMC_DRV_UP : (__u32)rnd();
		for (i = 0; i < VMMC_NR_VECTORS; i++)
			fg_ring(g, i);
		fg_sqe_ping(probe, &s, round, other->node == g->node ?
			    0 : g->node, round);
		fg_submit(probe, &s);
		if (fg_wait_cqe(probe, &c, 3000) && c.user_data == round)
			done++;
	}
	t_check(done == 40, "garbage SRAM on node%u: the fabric survives, node%u's pings complete",
		g->node, other->node);
}

void test_link(struct fg_env *env, struct fg *g0, struct fg *g1)
{
	struct fg_ep e0, e1;
	__s64 v;
	int s, fd, r, i;
	char byte = 'x';
	__u64 tx, rx;
	bool zero = true;

	t_check(fg_ep_open(&e0, g0, 2, EVQ(2)), "node0 ep2 activated");
	ping(&e0, 0, 0xfeedface, VMMC_ST_OK, "loopback PING to own node echoes imm");
	ping(&e0, 1, 7, VMMC_ST_NODE_DOWN, "PING to a node without a guest -> NODE_DOWN");
	if (!fg_connect(g1, env->sock[1], env->ram[1], env->ram_bytes, 1))
		return;
	ping(&e0, 1, 8, VMMC_ST_NODE_DOWN, "PING to a node whose driver is down -> NODE_DOWN");
	fg_drv(g1, VMMC_DRV_UP);
	fg_sleep_ms(20);	/* kmod: the driver is up long before a PING */
	tx = g0->st->counters.pings_tx;
	rx = g1->st->counters.pings_rx;
	ping(&e0, 1, 0x1122334455667788ull, VMMC_ST_OK, "PING node0 -> node1 echoes imm");
	t_check(g0->st->counters.pings_tx == tx + 1 &&
		g1->st->counters.pings_rx == rx + 1 &&
		g0->st->counters.pkts_tx >= 2 && g1->st->counters.pkts_rx >= 1 &&
		g1->st->counters.bytes_rx > 0,
		"ping and packet counters");
	t_check(fg_ep_open(&e1, g1, 0, EVQ(0)), "node1 ep0 activated");
	ping(&e1, 0, 99, VMMC_ST_OK, "PING node1 -> node0 echoes imm");
	many_pings(&e0, 1);
	many_pings(&e1, 1);

	s = fg_connect_sock(env->sock[1]);
	r = s >= 0 ? fg_recv_msg(s, &v, &fd, 2000) : -1;
	t_check(r == 0, "second connection to node1 refused (closed, no messages)");
	if (s >= 0)
		close(s);
	ping(&e1, 0, 100, VMMC_ST_OK, "node1's guest undisturbed by the refused one");

	fuzz(g1, g0, &e0);

	t_check(send(g1->sock, &byte, 1, MSG_NOSIGNAL) == 1, "node1 guest sends a byte");
	r = fg_recv_msg(g1->sock, &v, &fd, 2000);
	t_check(r == 0, "fabric disconnects a guest that sends data");
	ping(&e0, 1, 9, VMMC_ST_NODE_DOWN, "PING to a disconnected node -> NODE_DOWN");
	fg_close(g1);
	if (!fg_connect(g1, env->sock[1], env->ram[1], env->ram_bytes, 1))
		return;
	for (i = VMMC_SRAM_CTRL; i < (int)VMMC_SRAM_END; i++) {
		int x = i - VMMC_SRAM_EXPORTS;
		struct vmmc_export *e = fg_kexport(g1, x / 64);

		/* export gens survive a reboot (fabric_nic_reset()) */
		if (x >= 0 && x < (int)(VMMC_MAX_EXPORTS * sizeof(*e)) &&
		    x % 64 >= 16 && x % 64 < 32) {
			if (e->ack_gen != e->gen)
				zero = false;
			continue;
		}
		if (g1->sram[i])
			zero = false;
	}
	t_check(zero && g1->st->counters.pings_rx > 0,
		"reconnected guest finds a reset NIC (counters and export gens kept)");
	fg_drv(g1, VMMC_DRV_UP);
	fg_sleep_ms(20);
	ping(&e0, 1, 0x77, VMMC_ST_OK, "PING to the reconnected node");
	ping(&e0, 0, 0x78, VMMC_ST_OK, "loopback still works");
}

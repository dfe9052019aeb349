// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the NIC's control plane (version 2): the kernel -> NIC
 * mailbox (NOP, IMPORT on the own and on a remote node, keyed exports,
 * and each error: NO_EXPORT, PERM, BAD_NODE, NODE_DOWN, BAD_OP, BAD_ARG), commands
 * written while the driver is down, export acks and translation sync.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fake_guest.h"

static __u32 import_key(struct fg *g, __u32 node, __u32 name, __u32 ep,
			__u64 key, struct vmmc_kresp *r)
{
	struct vmmc_kcmd c;

	memset(&c, 0, sizeof(c));
	c.op = VMMC_KCMD_IMPORT;
	c.node = node;
	c.name = name;
	c.ep = ep;
	c.key = key;
	memset(r, 0xee, sizeof(*r));
	if (!fg_kcmd(g, &c, r, 2000))
		return ~0u;
	return r->status;
}

static __u32 import(struct fg *g, __u32 node, __u32 name, __u32 ep,
		    struct vmmc_kresp *r)
{
	return import_key(g, node, name, ep, 0, r);
}

/* An export with a key: only an IMPORT that presents it finds it. */
static void keys(struct fg *g0, struct fg *g1)
{
	struct vmmc_export *e = fg_kexport(g1, 3);
	__u64 key = 0x8badf00ddeadbeefull;
	struct vmmc_kresp r;

	e->key = key;
	t_check(import(g0, 1, 0x1234, 10, &r) == VMMC_ST_NO_EXPORT &&
		r.export_id == 0 && r.len == 0,
		"IMPORT of a keyed export without the key -> NO_EXPORT");
	t_check(import_key(g0, 1, 0x1234, 10, key ^ 1, &r) ==
		VMMC_ST_NO_EXPORT,
		"... with a key one bit off -> NO_EXPORT");
	t_check(import_key(g0, 1, 0x1234, 10, key, &r) == VMMC_ST_OK &&
		r.export_id == 3 && r.len == 10000,
		"... with the key -> OK");
	t_check(import_key(g0, 1, 0x999, 10, key, &r) == VMMC_ST_NO_EXPORT,
		"a key that is not an unkeyed export's -> NO_EXPORT");
	e->key = 0;
}

static void mailbox_errors(struct fg *g0, struct fg *g1)
{
	struct vmmc_kresp r;
	struct vmmc_kcmd c;
	__u32 seq;

	memset(&c, 0, sizeof(c));
	c.op = 7;
	t_check(fg_kcmd(g0, &c, &r, 2000) && r.status == VMMC_ST_BAD_OP,
		"mailbox: unknown op -> BAD_OP");
	c.op = VMMC_KCMD_NOP;
	c.reserved[1] = 1;
	t_check(fg_kcmd(g0, &c, &r, 2000) && r.status == VMMC_ST_BAD_ARG,
		"mailbox: non-zero reserved -> BAD_ARG");
	t_check(import(g0, 2, 0x1234, 10, &r) == VMMC_ST_BAD_NODE,
		"IMPORT from node 2 of 2 -> BAD_NODE");
	t_check(import(g0, 1, 0x1234, VMMC_MAX_EPS, &r) == VMMC_ST_BAD_ARG,
		"IMPORT for ep 64 -> BAD_ARG");
	t_check(import(g0, 1, 0x4321, 10, &r) == VMMC_ST_NO_EXPORT &&
		r.export_id == 0 && r.export_gen == 0 && r.len == 0,
		"IMPORT of an unknown name -> NO_EXPORT, zero fields");
	t_check(import(g0, 1, 0x999, 10, &r) == VMMC_ST_PERM,
		"IMPORT without the node's perm bit -> PERM");
	t_check(import(g1, 1, 0x999, 3, &r) == VMMC_ST_OK && r.export_id == 4,
		"... but the exporter's own node may import it");
	t_check(fg_export_state(g1, 4, VMMC_EXPORT_REVOKED) &&
		import(g1, 1, 0x999, 3, &r) == VMMC_ST_NO_EXPORT,
		"IMPORT of a revoked export -> NO_EXPORT");

	fg_drv(g1, VMMC_DRV_DOWN);
	fg_sleep_ms(20);
	t_check(import(g0, 1, 0x1234, 10, &r) == VMMC_ST_NODE_DOWN,
		"IMPORT from a node whose driver is down -> NODE_DOWN");
	seq = g1->ctrl->cmd_seq + 1;
	memset(&c, 0, sizeof(c));
	memcpy(&g1->ctrl->cmd, &c, sizeof(c));
	vmmc_store_release(&g1->ctrl->cmd_seq, seq);
	fg_ring(g1, VMMC_DB_CTRL);
	fg_sleep_ms(50);
	t_check(g1->ctrl->resp_seq != seq, "mailbox written while the driver is down: no answer");
	fg_drv(g1, VMMC_DRV_UP);
	fg_sleep_ms(50);
	t_check(g1->ctrl->resp_seq != seq, "... not even after the driver comes up");
	t_check(fg_kcmd(g1, &c, &r, 2000) && r.status == VMMC_ST_OK,
		"the next command is answered");
}

void test_ctrl(struct fg *g0, struct fg *g1)
{
	struct vmmc_kresp r;
	struct vmmc_kcmd c;
	struct fg_buf b;
	struct fg_ep ep;
	__u64 k = g0->st->counters.kcmds;
	__u32 seq;

	fg_irq_count(g0, VMMC_IRQ_CTRL);
	memset(&c, 0, sizeof(c));
	t_check(fg_kcmd(g0, &c, &r, 2000) && r.status == VMMC_ST_OK &&
		g0->st->counters.kcmds == k + 1,
		"mailbox NOP -> OK; kcmds counted");
	fg_sleep_ms(10);
	t_check(fg_irq_count(g0, VMMC_IRQ_CTRL) == 1, "the answer raised VMMC_IRQ_CTRL once");
	seq = g0->ctrl->resp_seq;
	fg_ring(g0, VMMC_DB_CTRL);
	fg_sleep_ms(20);
	t_check(g0->ctrl->resp_seq == seq && g0->st->counters.kcmds == k + 1,
		"a spurious CTRL doorbell answers nothing twice");

	fg_buf_init(&b, g1, FG_DATA, 4, 100, true);
	t_check(fg_export(g1, 3, 0x1234, 0, &b, 10000, 3) &&
		fg_export(g1, 4, 0x999, 0, &b, 5000, 2) &&
		fg_kexport(g1, 3)->ack_gen == fg_kexport(g1, 3)->gen,
		"node1: two exports acked (ack_gen == gen)");
	t_check(import(g0, 1, 0x1234, 10, &r) == VMMC_ST_OK &&
		r.export_id == 3 && r.export_gen == fg_kexport(g1, 3)->gen &&
		r.len == 10000 && !r.reserved,
		"IMPORT from node1 -> OK, export_id 3, its gen, len 10000");
	keys(g0, g1);
	fg_buf_init(&b, g0, FG_DATA, 1, 0, false);
	t_check(fg_export(g0, 0, 0x55, 1, &b, 4096, 1) &&
		import(g0, 0, 0x55, 1, &r) == VMMC_ST_OK && r.export_id == 0 &&
		r.len == 4096,
		"IMPORT from the own node -> OK");
	mailbox_errors(g0, g1);

	t_check(fg_ep_open(&ep, g0, 12, FG_EVQ(12)), "node0 ep12 activated");
	fg_irq_count(g0, VMMC_IRQ_CTRL);
	vmmc_store_release(&ep.ctx->sync_seq, 5u);
	fg_ring(g0, VMMC_DB_CTRL);
	fg_sleep_ms(20);
	t_check(vmmc_load_acquire(&ep.ctx->sync_ack) == 5 &&
		fg_irq_count(g0, VMMC_IRQ_CTRL) >= 1,
		"translation sync: sync_ack = sync_seq, VMMC_IRQ_CTRL");
	fg_ep_set_state(&ep, VMMC_EP_FREE);
}

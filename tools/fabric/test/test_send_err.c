// SPDX-License-Identifier: GPL-2.0
/*
 * Description: SEND errors, each with its exact status (BAD_FLAGS,
 * BAD_LEN, BAD_ARG, BAD_IMPORT, RANGE, BAD_SLOT incl. an entry that goes
 * invalid, BAD_NODE, NODE_DOWN, REVOKED after a revoke or a gen change or
 * a withdrawn permission), the v2 zero-field rule for NOP/PING, and
 * garbage tables that must not hurt.
 */
#define _GNU_SOURCE
#include <string.h>

#include "test_send.h"

bool ts_import(struct ts *t, unsigned int which)
{
	struct vmmc_import *imp = fg_kimport(&t->s0, which);
	struct vmmc_kresp r;
	struct vmmc_kcmd c;

	memset(&c, 0, sizeof(c));
	c.op = VMMC_KCMD_IMPORT;
	c.node = which;
	c.name = 0x5000 + which;
	c.ep = t->s0.id;
	if (!fg_kcmd(t->g0, &c, &r, 2000) || r.status != VMMC_ST_OK)
		return false;
	imp->node = which;
	imp->export_id = r.export_id;
	imp->export_gen = r.export_gen;
	imp->len = r.len;
	vmmc_store_release(&imp->state, 1u);
	return true;
}

bool ts_setup(struct ts *t, struct fg *g0, struct fg *g1)
{
	unsigned int i;
	bool ok;

	t->g0 = g0;
	t->g1 = g1;
	ok = fg_ep_open(&t->s0, g0, 10, FG_EVQ(10)) &&
	     fg_ep_open(&t->o0, g0, 11, FG_EVQ(11)) &&
	     fg_ep_open(&t->o1, g1, 10, FG_EVQ(10));
	fg_buf_init(&t->src, g0, FG_DATA, TS_SRC_PAGES, 0, true);
	fg_pin(&t->s0, TS_SLOT, &t->src);
	for (i = 0; i < 2; i++) {
		struct ts_dst *d = &t->dst[i];
		struct fg *g = i ? g1 : g0;

		d->owner = i ? &t->o1 : &t->o0;
		d->export_id = 1;
		fg_buf_init(&d->buf, g, TS_DST_BASE, TS_DST_PAGES, 123, true);
		ok = ok && fg_export(g, 1, 0x5000 + i, d->owner->id, &d->buf,
				     TS_ELEN, 3) && ts_import(t, i);
	}
	return t_check(ok, "SEND set-up: endpoints, pinned source, exports, imports via the mailbox");
}

static void expect(struct ts *t, struct vmmc_sqe *s, __u32 st, const char *what)
{
	fg_submit(&t->s0, s);
	fg_expect(&t->s0, s->user_data, s->op, st, 0, what);
}

static void bad_fields(struct ts *t)
{
	struct vmmc_sqe s;

	fg_sqe_send(&s, 1, 1, 0, TS_SLOT, 0, 100, false);
	s.flags = VMMC_SQF_DELAY;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "SEND with DELAY -> BAD_FLAGS");
	s.flags = 0x80;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "SEND with an unknown flag -> BAD_FLAGS");
	fg_sqe_send(&s, 2, 1, 0, TS_SLOT, 0, 100, true);
	s.dst_node = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "SEND with dst_node -> BAD_FLAGS");
	fg_sqe_send(&s, 3, 1, 0, TS_SLOT, 0, 0, false);
	s.imm = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "SEND with imm (and len 0) -> BAD_FLAGS first");
	fg_sqe_send(&s, 4, 1, 0, TS_SLOT, 0, 100, false);
	s.reserved0 = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "SEND with reserved0 -> BAD_FLAGS");
	fg_sqe_send(&s, 5, 1, 0, TS_SLOT, 0, 100, false);
	s.reserved2[1] = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "SEND with reserved2[1] -> BAD_FLAGS");
	fg_sqe_send(&s, 6, 1, 0, TS_SLOT, 4096, 0, false);
	expect(t, &s, VMMC_ST_BAD_LEN, "SEND len 0 (and src_off 4096) -> BAD_LEN first");
	fg_sqe_send(&s, 7, 1, 0, TS_SLOT, 0, VMMC_SEND_MAX_LEN + 1, false);
	expect(t, &s, VMMC_ST_BAD_LEN, "SEND len 16 MiB + 1 -> BAD_LEN");
	fg_sqe_send(&s, 8, 99, 0, TS_SLOT, 4096, 1, false);
	expect(t, &s, VMMC_ST_BAD_ARG, "SEND src_off 4096 (and import 99) -> BAD_ARG first");
	fg_sqe_send(&s, 9, VMMC_MAX_IMPORTS, 0, TS_SLOT, 0, 1, false);
	expect(t, &s, VMMC_ST_BAD_IMPORT, "SEND import 64 -> BAD_IMPORT");
	fg_sqe_send(&s, 10, 5, 0, TS_SLOT, 0, 1, false);
	expect(t, &s, VMMC_ST_BAD_IMPORT, "SEND through an unused import -> BAD_IMPORT");
	*fg_kimport(&t->s0, 2) = *fg_kimport(&t->s0, 1);
	fg_kimport(&t->s0, 2)->state = 3;
	fg_sqe_send(&s, 11, 2, 0, TS_SLOT, 0, 1, false);
	expect(t, &s, VMMC_ST_BAD_IMPORT, "SEND through an import with state 3 -> BAD_IMPORT");
	fg_kimport(&t->s0, 2)->state = VMMC_IMPORT_DEAD;
	fg_sqe_send(&s, 11, 2, 0, TS_SLOT, 0, 1, false);
	expect(t, &s, VMMC_ST_NODE_DOWN, "SEND through a DEAD import -> NODE_DOWN");
	fg_sqe_send(&s, 12, 1, TS_ELEN - 99, TS_SLOT, 0, 100, false);
	expect(t, &s, VMMC_ST_RANGE, "SEND one byte past the import -> RANGE");
	fg_sqe_send(&s, 13, 1, ~0ull, TS_SLOT, 0, 100, false);
	expect(t, &s, VMMC_ST_RANGE, "SEND dst_offset ~0 -> RANGE (no overflow)");
	fg_sqe_send(&s, 14, 1, TS_ELEN - 100, TS_SLOT, 0, 100, false);
	expect(t, &s, VMMC_ST_OK, "SEND up to the import's last byte -> OK");
	fg_sqe_send(&s, 15, 1, 0, VMMC_UTLB_SLOTS, 0, 1, false);
	expect(t, &s, VMMC_ST_BAD_SLOT, "SEND src_slot 8192 -> BAD_SLOT");
	fg_sqe_send(&s, 16, 1, 0, VMMC_UTLB_SLOTS - 1, 4000, 200, false);
	expect(t, &s, VMMC_ST_BAD_SLOT, "SEND from slot 8191 into a second page -> BAD_SLOT");
	t->s0.ctx->utlb_slots = TS_SLOT + 1;
	fg_sqe_send(&s, 17, 1, 0, TS_SLOT, 0, 5000, false);
	expect(t, &s, VMMC_ST_BAD_SLOT, "SEND past ctx.utlb_slots -> BAD_SLOT");
	t->s0.ctx->utlb_slots = VMMC_UTLB_SLOTS;
	*fg_kimport(&t->s0, 3) = *fg_kimport(&t->s0, 1);
	fg_kimport(&t->s0, 3)->node = 2;
	fg_sqe_send(&s, 18, 3, 0, TS_SLOT, 0, 1, false);
	expect(t, &s, VMMC_ST_BAD_NODE, "SEND through an import of node 2 -> BAD_NODE");

	fg_sqe_nop(&s, 19);
	s.import = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "NOP with import -> BAD_FLAGS");
	fg_sqe_nop(&s, 20);
	s.flags = VMMC_SQF_NOTIFY;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "NOP with NOTIFY -> BAD_FLAGS");
	fg_sqe_ping(&t->s0, &s, 21, 1, 5);
	s.src_off = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "PING with src_off -> BAD_FLAGS");
	fg_sqe_ping(&t->s0, &s, 22, 1, 5);
	s.dst_offset = 1;
	expect(t, &s, VMMC_ST_BAD_FLAGS, "PING with dst_offset -> BAD_FLAGS");
}

static void bad_slots(struct ts *t)
{
	struct fg_buf *d = &t->dst[1].buf;
	__u64 *ent = &t->s0.utlb[TS_SLOT + 5], keep = *ent;
	__u64 utlb = t->s0.ctx->utlb_addr;
	struct vmmc_sqe s;
	__u8 seed = 0x3c;

	ts_fill_dst(d, seed);
	vmmc_write_once(ent, keep & ~VMMC_UTLB_VALID);
	fg_sqe_send(&s, 30, 1, 0, TS_SLOT, 0, 65536, false);
	expect(t, &s, VMMC_ST_BAD_SLOT, "SEND over an invalid UTLB entry -> BAD_SLOT");
	t_check(ts_check_dst(d, seed, &t->src, 0, 0, 0) ||
		ts_check_dst(d, seed, &t->src, 0, 0, 16384),
		"... nothing from the failing packet on was written");
	vmmc_write_once(ent, keep | 4);	/* neither VALID nor WRITE */
	expect(t, &s, VMMC_ST_BAD_SLOT, "UTLB entry with a stray low bit -> BAD_SLOT");
	vmmc_write_once(ent, (t->g0->ram_bytes) | VMMC_UTLB_VALID);
	expect(t, &s, VMMC_ST_BAD_SLOT, "UTLB entry beyond RAM -> BAD_SLOT");
	vmmc_write_once(ent, keep);
	t->s0.ctx->utlb_addr = t->g0->ram_bytes - 4096;
	expect(t, &s, VMMC_ST_BAD_SLOT, "UTLB table beyond RAM -> BAD_SLOT");
	t->s0.ctx->utlb_addr = utlb;
	expect(t, &s, VMMC_ST_OK, "entries restored -> OK");
}

static void revoked(struct ts *t)
{
	struct vmmc_export *e = fg_kexport(t->g1, 1);
	__u64 rej = t->g1->st->counters.rx_rejects;
	struct vmmc_sqe s;

	fg_sqe_send(&s, 40, 1, 0, TS_SLOT, 0, 100, true);
	t_check(fg_export_state(t->g1, 1, VMMC_EXPORT_REVOKED), "node1 revokes its export (acked)");
	expect(t, &s, VMMC_ST_REVOKED, "SEND to a revoked export -> REVOKED");
	t_check(fg_export(t->g1, 1, 0x5001, t->o1.id, &t->dst[1].buf, TS_ELEN, 3),
		"node1 exports again (new gen)");
	expect(t, &s, VMMC_ST_REVOKED, "SEND through the old import (old gen) -> REVOKED");
	t_check(ts_import(t, 1), "re-import");
	expect(t, &s, VMMC_ST_OK, "SEND through the new import -> OK");
	vmmc_write_once(&e->perm_nodes, 2ull);
	expect(t, &s, VMMC_ST_REVOKED, "SEND after node0's perm bit was withdrawn -> REVOKED");
	vmmc_write_once(&e->perm_nodes, 3ull);
	t_check(fg_export(t->g1, 1, 0x5001, 33, &t->dst[1].buf, TS_ELEN, 3) &&
		ts_import(t, 1), "node1 exports with an inactive owner endpoint");
	expect(t, &s, VMMC_ST_REVOKED, "NOTIFY SEND whose owner endpoint is not ACTIVE -> REVOKED");
	s.flags = 0;
	expect(t, &s, VMMC_ST_OK, "... the same SEND without NOTIFY -> OK");
	t_check(fg_export(t->g1, 1, 0x5001, t->o1.id, &t->dst[1].buf, TS_ELEN, 3) &&
		ts_import(t, 1), "owner restored");
	t_check(t->g1->st->counters.rx_rejects == rej + 4,
		"rx_rejects counted at the receiver (%llu)",
		(unsigned long long)(t->g1->st->counters.rx_rejects - rej));

	fg_drv(t->g1, VMMC_DRV_DOWN);
	fg_sleep_ms(20);
	expect(t, &s, VMMC_ST_NODE_DOWN, "SEND to a node whose driver is down -> NODE_DOWN");
	fg_drv(t->g1, VMMC_DRV_UP);
	t_check(fg_ep_open(&t->o1, t->g1, 10, FG_EVQ(10)), "node1 driver up again, owner re-activated");
	expect(t, &s, VMMC_ST_OK, "SEND -> OK again");
}

void test_send_errors(struct ts *t)
{
	__u64 se = t->g0->st->counters.send_errors;

	bad_fields(t);
	t_check(t->g0->st->counters.send_errors == se + 19,
		"send_errors counted (%llu)",
		(unsigned long long)(t->g0->st->counters.send_errors - se));
	bad_slots(t);
	revoked(t);
}

/* Random tables and descriptors: statuses only; the fabric must live. */
void test_send_garbage(struct ts *t)
{
	struct vmmc_export *ke = fg_kexport(t->g1, 0);
	unsigned int round, i, done = 0, sent = 0;
	struct vmmc_cqe c;
	struct vmmc_nqe q;
	struct vmmc_sqe s;
	__u64 *p;

	for (round = 0; round < 20; round++) {
		for (i = 0; i < VMMC_UTLB_SLOTS; i++)
			t->s0.utlb[i] = ts_rnd() % (t->g0->ram_bytes + (1 << 20)) |
					(ts_rnd() & 1);
		p = (__u64 *)fg_kimport(&t->s0, 0);
		for (i = 0; i < VMMC_MAX_IMPORTS * 4; i++)
			p[i] = ts_rnd() & 0x000001ff000000ffull;
		for (i = 0; i < VMMC_MAX_IMPORTS; i++)
			fg_kimport(&t->s0, i)->state = ts_rnd() % 3;
		p = (__u64 *)ke;
		for (i = 0; i < VMMC_MAX_EXPORTS * 8; i++)
			p[i] = ts_rnd() & (round & 1 ? ~0ull :
					   0x00000fff00000003ull);
		fg_ring(t->g1, VMMC_DB_CTRL);
		for (i = 0; i < 16; i++) {
			fg_sqe_send(&s, i, ts_rnd() % 66, ts_rnd() % (1 << 22),
				    ts_rnd() % 8300, ts_rnd() % 4200,
				    ts_rnd() % 70000, ts_rnd() & 1);
			fg_submit(&t->s0, &s);
			sent++;
		}
		for (i = 0; i < 16; i++) {
			while (fg_nq_prod(&t->o1) != t->o1.nq_cons)
				fg_wait_nqe(&t->o1, &q, 0);
			if (fg_wait_cqe(&t->s0, &c, 200))
				done++;
		}
	}
	t_diag("garbage: %u of %u random SENDs completed", done, sent);
	for (i = 0; i < VMMC_MAX_EXPORTS; i++)
		fg_export_state(t->g1, i, VMMC_EXPORT_FREE);
	t_check(ts_setup(t, t->g0, t->g1), "garbage tables: the fabric lives, set-up again");
	ts_fill_src(&t->src, 7, 70000);
	ts_fill_dst(&t->dst[1].buf, 9);
	fg_sqe_send(&s, 0xc0de, 1, 12345, TS_SLOT, 7, 70000, false);
	fg_submit(&t->s0, &s);
	fg_expect(&t->s0, 0xc0de, VMMC_OP_SEND, VMMC_ST_OK, 0, "a good SEND after the garbage");
	t_check(ts_check_dst(&t->dst[1].buf, 9, &t->src, 7, 12345, 70000),
		"... byte-exact");
}

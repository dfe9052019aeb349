// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a receiver cannot stall a sender (issue 13, point 2). The
 * owner of node1's export (ep10) fills its NQ and never reaps it, then
 * lies in its NQ cons (past prod, far behind) and scribbles over the
 * NQ's dropped count; through all of it, node0 ep10's notifying SENDs to
 * it complete OK at once with imm VMMC_SEND_NQ_DROPPED, their data in
 * place, while its SENDs to another endpoint (node0 ep11) go on; the
 * NIC overwrites no NQE and counts every drop in its own copy. Once the
 * owner reaps, its 256 NQEs are there in order and the next one is
 * written again.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fake_guest.h"
#include "test_send.h"

static bool nqe_at(const struct vmmc_nqe *q, const struct ts_dst *d,
		   unsigned int ep, __u64 off, __u32 len)
{
	return q->type == VMMC_NQE_DATA && q->export_id == d->export_id &&
	       q->src_node == 0 && q->src_ep == ep && q->offset == off &&
	       q->len == len && !q->reserved;
}

/*
 * One notifying SEND of @len bytes to the rogue (dst[1]), then one plain
 * SEND to dst[0]: both complete with the status and imm expected, in
 * order, and the rogue's bytes landed.
 */
static bool pair(struct ts *t, __u64 tag, __u64 doff, __u32 len, __u64 imm)
{
	struct ts_dst *d = &t->dst[1];
	__u8 seed = (__u8)tag;
	struct vmmc_sqe s;
	bool ok;

	ts_fill_dst(&d->buf, seed);
	ts_fill_src(&t->src, 7, len);
	fg_sqe_send(&s, tag, 1, doff, TS_SLOT, 7, len, true);
	fg_submit(&t->s0, &s);
	fg_sqe_send(&s, tag + 1, 0, doff, TS_SLOT, 7, len, false);
	fg_submit(&t->s0, &s);
	ok = fg_expect(&t->s0, tag, VMMC_OP_SEND, VMMC_ST_OK, imm,
		       "SEND with NOTIFY to the rogue completes OK");
	ok &= fg_expect(&t->s0, tag + 1, VMMC_OP_SEND, VMMC_ST_OK, 0,
			"the SEND behind it, to another endpoint, too");
	return ok && ts_check_dst(&d->buf, seed, &t->src, 7, doff, len);
}

void test_rogue_nq(struct ts *t)
{
	static struct vmmc_nqe snap[VMMC_NQ_ENTRIES];
	struct ts_dst *d = &t->dst[1];
	struct fg_ep *o = d->owner;
	__u32 prod, base = o->nq_cons, i, good = 0;
	__u64 drops = 0, t0;
	struct vmmc_nqe q;

	t_check(ts_fill_nq(t) == VMMC_NQ_ENTRIES &&
		fg_nq_prod(o) - o->nq_cons == VMMC_NQ_ENTRIES &&
		!o->nq->dropped,
		"rogue: 256 notifying SENDs fill the owner's NQ, nothing dropped");
	prod = fg_nq_prod(o);
	memcpy(snap, o->nqes, sizeof(snap));
	t0 = fg_now_ms();
	for (i = 0; i < 50; i++)
		good += pair(t, 0x1000 + 2 * i, 1000 + 17 * i, 1 + 97 * i,
			     VMMC_SEND_NQ_DROPPED);
	drops += 50;
	t_check(good == 50, "never reaped: 50 notifying SENDs complete OK, NQE dropped (imm %llu), bytes landed; 50 SENDs behind them to another endpoint flow (%llu ms)",
		(unsigned long long)VMMC_SEND_NQ_DROPPED,
		(unsigned long long)(fg_now_ms() - t0));
	t_check(fg_nq_prod(o) == prod && !memcmp(snap, o->nqes, sizeof(snap)) &&
		vmmc_load_acquire(&o->nq->dropped) == drops,
		"... no NQE overwritten, prod unchanged, dropped == %llu",
		(unsigned long long)drops);

	vmmc_store_release(&o->nq->cons, prod + 5);
	good = pair(t, 0x2000, 3, 5000, VMMC_SEND_NQ_DROPPED);
	vmmc_store_release(&o->nq->cons, prod - 1000);
	good += pair(t, 0x2002, 9000, 70000, VMMC_SEND_NQ_DROPPED);
	drops += 2;
	t_check(good == 2 && fg_nq_prod(o) == prod &&
		!memcmp(snap, o->nqes, sizeof(snap)),
		"NQ cons past prod, then 1000 behind: SENDs complete OK, dropped, nothing overwritten");
	vmmc_write_once(&o->nq->dropped, 0u);
	good = pair(t, 0x2004, 0, 1, VMMC_SEND_NQ_DROPPED);
	drops++;
	t_check(good == 1 && vmmc_load_acquire(&o->nq->dropped) == drops,
		"owner zeroes its dropped count: the NIC goes on from its own (%u)",
		vmmc_load_acquire(&o->nq->dropped));

	/* The owner comes back: its 256 NQEs in order, then a new one. */
	vmmc_store_release(&o->nq->cons, base);
	o->nq_cons = base;
	for (i = 0; i < VMMC_NQ_ENTRIES; i++)
		if (!fg_wait_nqe(o, &q, 100) || !nqe_at(&q, d, t->s0.id, i, 1))
			break;
	t_check(i == VMMC_NQ_ENTRIES && fg_nq_prod(o) == o->nq_cons,
		"owner reaps: its 256 NQEs, in order, none doubled");
	good = pair(t, 0x3000, 999, 300, 0);
	t_check(good == 1 && fg_wait_nqe(o, &q, 1000) &&
		nqe_at(&q, d, t->s0.id, 999, 300) &&
		vmmc_load_acquire(&o->nq->dropped) == drops,
		"room again: the next NQE is written (imm 0), dropped stays %llu",
		(unsigned long long)drops);
}

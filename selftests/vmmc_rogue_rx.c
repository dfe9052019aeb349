// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a receiver cannot stall a sender (issue 13, point 2), from
 * the attacker's side, on one node through the NIC loopback. A forked
 * child opens its own endpoint, exports a buffer and then misbehaves:
 * never reaps its NQ, or writes its NQ cons past prod, or 1000 behind
 * it. The parent streams notifying SENDs to it and, interleaved, to an
 * honest export of its own second endpoint. Every SEND completes OK
 * within a bound (the ones whose NQE found no room with imm
 * VMMC_SEND_NQ_DROPPED), every byte lands on both sides, the honest
 * receiver gets every NQE, and the rogue's vmmc_nq_dropped() counts
 * exactly what it lost. The NIC's tables are clean afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define MSGS		600
#define MSG		4096
#define BUF		(MSGS * MSG)
#define BOUND_MS	5000	/* generous: TCG on a shared host */

enum rogue_kind { NEVER_REAPS, CONS_PAST_PROD, CONS_BEHIND };

/* The child's report, after the parent asked for it. */
struct report {
	uint32_t dropped, pending;
	long bad;		/* first byte off the pattern, or -1 */
};

FIXTURE(rogue) {
	struct vmmc_ep tx, honest;
	uint8_t *src, *hbuf;
	uint32_t hexp, himp, rimp;
	int to_child[2], from_child[2];
	pid_t child;
};

FIXTURE_VARIANT(rogue) {
	enum rogue_kind kind;
	uint32_t want_dropped;	/* of MSGS */
};

FIXTURE_VARIANT_ADD(rogue, never_reaps) {
	.kind = NEVER_REAPS, .want_dropped = MSGS - VMMC_NQ_ENTRIES,
};

FIXTURE_VARIANT_ADD(rogue, cons_past_prod) {
	.kind = CONS_PAST_PROD, .want_dropped = MSGS,
};

FIXTURE_VARIANT_ADD(rogue, cons_behind) {
	.kind = CONS_BEHIND, .want_dropped = MSGS,
};

/* The rogue: export, say ready, misbehave, then answer one question. */
static void rogue(int in, int out, enum rogue_kind kind, uint32_t name)
{
	struct report r = { 0 };
	struct vmmc_ep ep;
	uint32_t exp, prod;
	uint8_t *buf, go;
	int err;

	buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || vmmc_ep_open(&ep, VMMC_DEV))
		_exit(2);
	err = vmmc_export(&ep, buf, BUF, name, ~0ULL, &exp);
	if (err)
		_exit(3);
	prod = vmmc_load_acquire(&ep.knq->prod);
	if (kind == CONS_PAST_PROD)
		vmmc_store_release(&ep.knq->cons, prod + 7);
	else if (kind == CONS_BEHIND)
		vmmc_store_release(&ep.knq->cons, prod - 1000);
	if (write(out, &go, 1) != 1)
		_exit(4);
	/* never reaps: blocks in read(), nowhere near its NQ */
	if (read(in, &go, 1) != 1)
		_exit(5);
	r.dropped = vmmc_nq_dropped(&ep);
	r.pending = vmmc_load_acquire(&ep.knq->prod) - prod;
	r.bad = vmmc_check_pattern(buf, BUF, 13, 0, 0);
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(6);
	vmmc_ep_close(&ep);
	_exit(0);
}

FIXTURE_SETUP(rogue)
{
	uint32_t rname = vmmc_test_name(1), hname = vmmc_test_name(2);
	uint8_t go;

	ASSERT_EQ(0, pipe(self->to_child));
	ASSERT_EQ(0, pipe(self->from_child));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		close(self->to_child[1]);
		close(self->from_child[0]);
		rogue(self->to_child[0], self->from_child[1], variant->kind,
		      rname);
	}
	close(self->to_child[0]);
	close(self->from_child[1]);
	ASSERT_EQ(1, read(self->from_child[0], &go, 1)) TH_LOG("rogue did not start");
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->honest, VMMC_DEV));
	self->src = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->hbuf = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->hbuf);
	vmmc_fill_pattern(self->src, BUF, 13, 0, 0);
	ASSERT_EQ(0, vmmc_export(&self->honest, self->hbuf, BUF, hname, ~0ULL,
				 &self->hexp));
	ASSERT_EQ(0, vmmc_import(&self->tx, self->tx.info.node_id, hname,
				 &self->himp, NULL));
	ASSERT_EQ(0, vmmc_import(&self->tx, self->tx.info.node_id, rname,
				 &self->rimp, NULL));
}

FIXTURE_TEARDOWN(rogue)
{
	int st;

	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->honest);
	munmap(self->src, BUF);
	munmap(self->hbuf, BUF);
	close(self->to_child[1]);
	close(self->from_child[0]);
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &st, 0);
	}
}

/* One SEND, waited for: its CQE's imm, or -1 (status, none in time). */
static long send_one(struct __test_metadata *_metadata, struct vmmc_ep *ep,
		     const void *src, uint32_t imp, uint64_t off, uint64_t ud)
{
	struct vmmc_cqe cqe;
	int err;

	err = vmmc_send(ep, src, MSG, imp, off, VMMC_SQF_NOTIFY, ud);
	if (err) {
		TH_LOG("SEND %llu: %s", (unsigned long long)ud, strerror(-err));
		return -1;
	}
	err = vmmc_wait_cqe(ep, &cqe, BOUND_MS);
	if (err) {
		TH_LOG("SEND %llu: no completion in %d ms (%s)",
		       (unsigned long long)ud, BOUND_MS, strerror(-err));
		return -1;
	}
	if (cqe.user_data != ud || cqe.status != VMMC_ST_OK) {
		TH_LOG("SEND %llu: user_data %llu status %s",
		       (unsigned long long)ud,
		       (unsigned long long)cqe.user_data,
		       vmmc_status_str(cqe.status));
		return -1;
	}
	return (long)cqe.imm;
}

TEST_F_TIMEOUT(rogue, sender_and_its_other_traffic_flow, 300)
{
	uint32_t i, rogue_ok = 0, rdropped = 0, honest_ok = 0, hnqes = 0;
	struct vmmc_nqe q;
	struct report r;
	uint8_t go = 1;
	long imm;

	for (i = 0; i < MSGS; i++) {
		imm = send_one(_metadata, &self->tx, self->src + i * MSG,
			       self->rimp, (uint64_t)i * MSG, 2 * i);
		if (imm < 0)
			break;
		rogue_ok++;
		rdropped += imm == (long)VMMC_SEND_NQ_DROPPED;
		imm = send_one(_metadata, &self->tx, self->src + i * MSG,
			       self->himp, (uint64_t)i * MSG, 2 * i + 1);
		if (imm != 0)
			break;
		honest_ok++;
		while (!vmmc_wait_nqe(&self->honest, &q, 0))
			hnqes += q.export_id == self->hexp &&
				 q.offset == (uint64_t)i * MSG && q.len == MSG;
	}
	EXPECT_EQ(MSGS, rogue_ok) TH_LOG("a SEND to the rogue stalled its sender");
	EXPECT_EQ(MSGS, honest_ok) TH_LOG("the sender's other traffic stalled behind it");
	EXPECT_EQ(variant->want_dropped, rdropped);
	EXPECT_EQ(MSGS, hnqes);
	EXPECT_EQ(-1, vmmc_check_pattern(self->hbuf, BUF, 13, 0, 0));
	EXPECT_EQ(0, vmmc_nq_dropped(&self->honest));

	ASSERT_EQ(1, write(self->to_child[1], &go, 1));
	ASSERT_EQ(sizeof(r), read(self->from_child[0], &r, sizeof(r)));
	EXPECT_EQ(variant->want_dropped, r.dropped);
	EXPECT_EQ(MSGS - variant->want_dropped, r.pending);
	EXPECT_EQ(-1, r.bad) TH_LOG("a byte the rogue was sent did not land");
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: deliberate update on one node through the NIC loopback.
 * One endpoint exports, another imports and sends with vmmc_send():
 * seeded random sizes from 1 B to 4 MiB at unaligned source and
 * destination offsets land byte-exactly and touch nothing outside the
 * target range; 64 imports at once each reach their own export; NOTIFY
 * gives exactly one NQ entry with the right export, offset, length and
 * source; past a full NQ notifying SENDs complete at once and their NQEs
 * are dropped and counted, the rest drain without a loss or a repeat;
 * vmmc_send() checks its arguments.
 */
#include <errno.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define MiB		(1UL << 20)
#define EXP_LEN		(4 * MiB + 4099)	/* odd on purpose */
#define GUARD		8192			/* mapped, not exported */
#define FILL		0xa5

FIXTURE(xfer) {
	struct vmmc_ep rx, tx;
	uint8_t *map, *dst, *src;	/* dst = map + GUARD + 123 */
	size_t map_len;
	uint32_t name, export_id, import_id;
};

FIXTURE_SETUP(xfer)
{
	uint64_t len = 0;
	int err;

	ASSERT_EQ(0, vmmc_ep_open(&self->rx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	self->map_len = EXP_LEN + 2 * GUARD + 4096;
	self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->src = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_NE(MAP_FAILED, self->src);
	memset(self->map, FILL, self->map_len);
	self->dst = self->map + GUARD + 123;
	self->name = vmmc_test_name(1);
	err = vmmc_export(&self->rx, self->dst, EXP_LEN, self->name,
			  1ULL << self->rx.info.node_id, &self->export_id);
	ASSERT_EQ(0, err) TH_LOG("export: %s", strerror(-err));
	err = vmmc_import(&self->tx, self->rx.info.node_id, self->name,
			  &self->import_id, &len);
	ASSERT_EQ(0, err) TH_LOG("import: %s", strerror(-err));
	ASSERT_EQ(EXP_LEN, len);
}

FIXTURE_TEARDOWN(xfer)
{
	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->rx);
	munmap(self->map, self->map_len);
	munmap(self->src, 8 * MiB);
}

/* Send and wait for the completion; returns its status (or 100 + err). */
static uint32_t send_wait(struct vmmc_ep *ep, const void *src, size_t len,
			  uint32_t imp, uint64_t off, uint32_t flags)
{
	static uint64_t ud = 1;
	struct vmmc_cqe cqe;
	int err;

	err = vmmc_send(ep, src, len, imp, off, flags, ++ud);
	if (err)
		return 100 - err;
	err = vmmc_wait_cqe(ep, &cqe, 20000);
	if (err)
		return 100 - err;
	if (cqe.user_data != ud || cqe.op != VMMC_OP_SEND)
		return 99;
	return cqe.status;
}

TEST_F_TIMEOUT(xfer, random_sizes_every_byte, 300)
{
	uint64_t seed = vmmc_test_seed("random_sizes"), s = seed;
	int i;

	for (i = 0; i < 120; i++) {
		size_t len = vmmc_rand_size(&s, 4 * MiB);
		size_t soff = (size_t)vmmc_rand_range(&s, 0, 8 * MiB - len);
		uint64_t doff = vmmc_rand_range(&s, 0, EXP_LEN - len);
		uint8_t *from = self->src + soff;
		uint32_t st;
		long bad;

		vmmc_fill_pattern(from, len, seed, i, doff);
		st = send_wait(&self->tx, from, len, self->import_id, doff, 0);
		ASSERT_EQ(VMMC_ST_OK, st)
			TH_LOG("msg %d len %zu: %s (%u)", i, len,
			       vmmc_status_str(st), st);
		bad = vmmc_check_pattern(self->dst + doff, len, seed, i, doff);
		ASSERT_EQ(-1, bad) TH_LOG("msg %d len %zu src+%zu dst+%llu: byte %ld",
					 i, len, soff, (unsigned long long)doff, bad);
		/* nothing outside [doff, doff + len), guards included */
		bad = vmmc_find_not(self->map, GUARD + 123 + doff, FILL);
		ASSERT_EQ(-1, bad) TH_LOG("msg %d: byte %ld before the range", i, bad);
		bad = vmmc_find_not(self->dst + doff + len,
				    self->map_len - (GUARD + 123 + doff + len), FILL);
		ASSERT_EQ(-1, bad) TH_LOG("msg %d: byte %ld after the range", i, bad);
		memset(self->dst + doff, FILL, len);
	}
}

/*
 * 16 exports, each imported four times: 64 imports at once, each writing
 * its own part; the rest of the table filled with more imports of the
 * first export, one more refused, the extra ones dropped again.
 */
TEST_F_TIMEOUT(xfer, many_imports, 120)
{
	enum { NEXP = 16, PER = 4, SZ = 5000 };
	uint32_t exp_id[NEXP], imp[NEXP * PER], extra, i, j, nfill;
	uint32_t *fill;
	uint8_t *bufs = self->src;
	uint8_t *msg = self->src + 4 * MiB;
	uint64_t len;

	ASSERT_GE(self->tx.info.max_imports, NEXP * PER);
	/* the fixture's import is one of the table's rows: drop it */
	ASSERT_EQ(0, vmmc_unimport(&self->tx, self->import_id));
	memset(bufs, 0, NEXP * SZ);
	for (i = 0; i < NEXP; i++)
		ASSERT_EQ(0, vmmc_export(&self->rx, bufs + i * SZ, SZ,
					 vmmc_test_name(0x10 + i),
					 1ULL << self->rx.info.node_id, &exp_id[i]));
	for (i = 0; i < NEXP * PER; i++) {
		ASSERT_EQ(0, vmmc_import(&self->tx, self->rx.info.node_id,
					 vmmc_test_name(0x10 + i % NEXP),
					 &imp[i], &len));
		ASSERT_EQ(SZ, len);
	}
	nfill = self->tx.info.max_imports - NEXP * PER;
	fill = calloc(nfill ? nfill : 1, sizeof(*fill));
	ASSERT_NE(NULL, fill);
	for (i = 0; i < nfill; i++)
		ASSERT_EQ(0, vmmc_import(&self->tx, self->rx.info.node_id,
					 vmmc_test_name(0x10), &fill[i], NULL))
			TH_LOG("import %u of %u", NEXP * PER + i,
			       self->tx.info.max_imports);
	EXPECT_EQ(-ENOSPC, vmmc_import(&self->tx, self->rx.info.node_id,
				       vmmc_test_name(0x10), &extra, NULL));
	for (i = 0; i < nfill; i++)
		ASSERT_EQ(0, vmmc_unimport(&self->tx, fill[i]));
	free(fill);
	/* import i writes its own quarter of export i % NEXP */
	for (i = 0; i < NEXP * PER; i++) {
		vmmc_fill_pattern(msg + i * SZ, SZ / PER, 77, i, 0);
		ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, msg + i * SZ, SZ / PER,
						imp[i], (i / NEXP) * (SZ / PER), 0));
	}
	for (i = 0; i < NEXP * PER; i++) {
		uint8_t *at = bufs + (i % NEXP) * SZ + (i / NEXP) * (SZ / PER);

		EXPECT_EQ(-1, vmmc_check_pattern(at, SZ / PER, 77, i, 0))
			TH_LOG("import %u", i);
	}
	for (i = 0; i < NEXP * PER; i++)
		EXPECT_EQ(0, vmmc_unimport(&self->tx, imp[i]));
	for (j = 0; j < NEXP; j++)
		EXPECT_EQ(0, vmmc_unexport(&self->rx, exp_id[j]));
}

TEST_F(xfer, notify_gives_one_nqe)
{
	struct vmmc_nqe *nqe;
	int i;

	for (i = 0; i < 20; i++) {
		uint64_t off = 1000 + i * 4097;
		uint32_t len = 1 + i * 333;

		memset(self->src, i, len);
		ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, self->src + i, len,
						self->import_id, off,
						i & 1 ? VMMC_SQF_NOTIFY : 0));
		nqe = vmmc_peek_nqe(&self->rx);
		if (!(i & 1)) {
			EXPECT_EQ(NULL, nqe) TH_LOG("an NQE without NOTIFY");
			continue;
		}
		/* completion means the NQE is already written */
		ASSERT_NE(NULL, nqe);
		EXPECT_EQ(VMMC_NQE_DATA, nqe->type);
		EXPECT_EQ(self->export_id, nqe->export_id);
		EXPECT_EQ(off, nqe->offset);
		EXPECT_EQ(len, nqe->len);
		EXPECT_EQ(self->tx.info.node_id, nqe->src_node);
		EXPECT_EQ(self->tx.info.ep_id, nqe->src_ep);
		vmmc_nqe_seen(&self->rx);
		EXPECT_EQ(NULL, vmmc_peek_nqe(&self->rx)) TH_LOG("a second NQE");
		EXPECT_EQ(0, memcmp(self->dst + off, self->src + i, len));
	}
}

/* Post up to @n notifying SENDs of 8 bytes at offset 8 * k; reap CQEs. */
static int pump(struct vmmc_ep *tx, uint32_t imp, uint8_t *src, uint32_t *posted,
		uint32_t n, uint32_t *done, uint32_t *dropped)
{
	struct vmmc_cqe *cqe;

	while (*posted < n &&
	       !vmmc_send(tx, src + *posted * 8, 8, imp, *posted * 8ULL,
			  VMMC_SQF_NOTIFY, *posted))
		++*posted;
	while ((cqe = vmmc_peek_cqe(tx))) {
		if (cqe->status != VMMC_ST_OK || cqe->user_data != *done ||
		    (cqe->imm && cqe->imm != VMMC_SEND_NQ_DROPPED))
			return -1;
		*dropped += cqe->imm == VMMC_SEND_NQ_DROPPED;
		++*done;
		vmmc_cqe_seen(tx);
	}
	return 0;
}

/*
 * A receiver that does not reap holds no sender up: past a full NQ every
 * notifying SEND still completes OK, its data lands, and the NQE is
 * dropped (imm VMMC_SEND_NQ_DROPPED, vmmc_nq_dropped() counts it); the
 * 256 that fit drain in order, none doubled.
 */
TEST_F_TIMEOUT(xfer, nq_fills_and_drops, 120)
{
	const uint32_t total = VMMC_NQ_ENTRIES + 100;
	uint32_t posted = 0, done = 0, seen = 0, dropped = 0, k;
	struct vmmc_nqe *nqe;
	int spins;

	for (k = 0; k < total * 8; k++)
		self->src[k] = (uint8_t)(k * 7 + 1);
	ASSERT_EQ(0, vmmc_nq_dropped(&self->rx));
	for (spins = 0; done < total && spins < 20000000; spins++)
		ASSERT_EQ(0, pump(&self->tx, self->import_id, self->src, &posted,
				  total, &done, &dropped));
	ASSERT_EQ(total, done) TH_LOG("a SEND did not complete with the NQ full");
	EXPECT_EQ(100, dropped);
	EXPECT_EQ(100, vmmc_nq_dropped(&self->rx));
	EXPECT_EQ(0, memcmp(self->dst, self->src, total * 8));
	/* drain: the first 256 NQEs once, in order */
	while ((nqe = vmmc_peek_nqe(&self->rx))) {
		ASSERT_EQ(seen * 8ULL, nqe->offset) TH_LOG("NQE %u", seen);
		ASSERT_EQ(8, nqe->len);
		vmmc_nqe_seen(&self->rx);
		seen++;
	}
	EXPECT_EQ(VMMC_NQ_ENTRIES, seen);
	/* room again: the next one is written */
	posted = done = dropped = 0;
	for (spins = 0; done < 1 && spins < 20000000; spins++)
		ASSERT_EQ(0, pump(&self->tx, self->import_id, self->src, &posted,
				  1, &done, &dropped));
	EXPECT_EQ(1, done);
	EXPECT_EQ(0, dropped);
	nqe = vmmc_peek_nqe(&self->rx);
	ASSERT_NE(NULL, nqe);
	EXPECT_EQ(0, nqe->offset);
	vmmc_nqe_seen(&self->rx);
	EXPECT_EQ(100, vmmc_nq_dropped(&self->rx));
}

TEST_F(xfer, send_checks_arguments)
{
	struct vmmc_utlb_stats st;
	struct vmmc_cqe cqe;
	uint32_t imp = self->import_id, n = 0;
	uint8_t *s = self->src;
	unsigned long k;
	int err;

	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, s, 0, imp, 0, 0, 0));
	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, NULL, 1, imp, 0, 0, 0));
	EXPECT_EQ(-E2BIG, vmmc_send(&self->tx, s, VMMC_SEND_MAX_LEN + 1, imp, 0, 0, 0));
	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, s, 1, imp, 0, VMMC_SQF_DELAY, 0));
	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, s, 1, imp, 0, 0x80, 0));
	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, s, 1, self->tx.info.max_imports, 0, 0, 0));
	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, s, 2, imp, UINT64_MAX, 0, 0));
	EXPECT_EQ(-EINVAL, vmmc_send(&self->tx, (void *)(UINTPTR_MAX - 1), 4, imp, 0, 0, 0));
	EXPECT_EQ(-EFAULT, vmmc_send(&self->tx, (void *)4096, 4, imp, 0, 0, 0));
	/* no more in flight than the CQ holds: -EAGAIN, never an overflow */
	for (k = 0; n < VMMC_CQ_ENTRIES && k < 100000000; k++) {
		err = vmmc_send(&self->tx, s, 16, imp, 0, 0, n);
		if (!err)
			n++;
		else
			ASSERT_EQ(-EAGAIN, err);	/* SQ full for a moment */
	}
	ASSERT_EQ(VMMC_CQ_ENTRIES, n);
	usleep(100000);		/* the NIC took all: only the cap is left */
	EXPECT_EQ(-EAGAIN, vmmc_send(&self->tx, s, 16, imp, 0, 0, 0));
	vmmc_utlb_stats(&self->tx, &st);
	EXPECT_EQ(n, st.inflight);
	while (n--)
		ASSERT_EQ(0, vmmc_wait_cqe(&self->tx, &cqe, 10000));
	vmmc_utlb_stats(&self->tx, &st);
	EXPECT_EQ(0, st.inflight);
}

TEST_HARNESS_MAIN

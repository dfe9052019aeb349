// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a guest with RAM above 4 GiB (vmrun --mem 6144). QEMU's pc
 * machine maps the RAM past the PCI hole from guest-physical 4 GiB up,
 * while the NIC's DMA engine sees one RAM file; the NIC must place such
 * pages exactly. As root, the test finds pages whose frame lies at or
 * above 4 GiB (/proc/self/pagemap), keeps allocating until it has them,
 * and checks byte for byte: a SEND from them, a SEND into an export of
 * them, and a REDIRECT onto them; the pages stay where they were (the
 * pins do not move them), nothing beside the target range changes, and
 * a canary process that filled 1 GiB of its own memory before the
 * transfers finds every byte of it unchanged after them. Without RAM
 * above 4 GiB, or not as root (no frame numbers), it says SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define PG		4096UL
#define HIGH_PFN	((1ULL << 32) / PG)	/* first frame at 4 GiB */
#define CHUNK		(64UL << 20)		/* allocated at a time */
#define MAX_CHUNKS	48			/* 3 GiB at most */
#define RUN_PAGES	34UL			/* 136 KiB: several packets */
#define XLEN		(RUN_PAGES * PG - 2 * 777)
#define CANARY		(1UL << 30)
#define FILL		0x3c
#define BIG_KB		((4LL << 20) + (512 << 10))	/* 4.5 GiB */

/* The frame of the page at @va; 0 if not present or not visible. */
static uint64_t pfn_of(const void *va)
{
	static int fd = -1;
	uint64_t e = 0;

	if (fd < 0)
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)va / PG) * 8) != 8)
		return 0;
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

/* MemTotal in kB (0 if unknown). */
static long long kb_total(void)
{
	long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) &&
	       sscanf(line, "MemTotal: %lld kB", &kb) != 1)
		;
	fclose(f);
	return kb;
}

/* How many of the @n pages at @p lie at or above 4 GiB. */
static size_t high_pages(const uint8_t *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += pfn_of(p + i * PG) >= HIGH_PFN;
	return k;
}

FIXTURE(big) {
	struct vmmc_ep rx, tx;
	void *chunk[MAX_CHUNKS];
	unsigned int nr_chunks;
	uint8_t *run[3];	/* RUN_PAGES pages each, every frame high */
	pid_t canary;
	int to_canary, from_canary;
	uint32_t name, export_id, import_id;
};

/* Allocate until there are @want runs of RUN_PAGES high pages. */
static int find_runs(FIXTURE_DATA(big) *self, unsigned int want)
{
	unsigned int got = 0;

	while (got < want && self->nr_chunks < MAX_CHUNKS) {
		uint8_t *c = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				  -1, 0);
		size_t i, seen = 0;

		if (c == MAP_FAILED)
			return -errno;
		madvise(c, CHUNK, MADV_NOHUGEPAGE);
		self->chunk[self->nr_chunks++] = c;
		for (i = 0; i < CHUNK / PG && got < want; i++) {
			seen = pfn_of(c + i * PG) >= HIGH_PFN ? seen + 1 : 0;
			if (seen == RUN_PAGES) {
				self->run[got++] = c + (i + 1 - RUN_PAGES) * PG;
				seen = 0;
			}
		}
	}
	return got == want ? 0 : -ENOMEM;
}

/*
 * The canary: another process fills CANARY bytes, says so, and on the
 * parent's word counts the bytes that changed and writes the count back.
 */
static void canary_main(int in, int out)
{
	uint8_t *c = mmap(NULL, CANARY, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint64_t bad = ~0ULL, high;
	char b;

	if (c != MAP_FAILED) {
		vmmc_fill_pattern(c, CANARY, 77, 1, 0);
		high = high_pages(c, CANARY / PG);
		if (write(out, &high, 8) != 8 || read(in, &b, 1) != 1)
			_exit(1);
		bad = 0;
		for (size_t off = 0; off < CANARY; off += PG)
			if (vmmc_check_pattern(c + off, PG, 77, 1, off) >= 0)
				bad++;
	}
	if (write(out, &bad, 8) != 8)
		_exit(1);
	_exit(0);
}

FIXTURE_SETUP(big)
{
	int p1[2], p2[2], err;
	uint64_t high = 0;
	long long kb;

	self->canary = -1;
	/* check.sh boots a 6 GiB guest for this test: no vacuous pass there */
	if (getenv("VMMC_BIGMEM_REQUIRED"))
		ASSERT_TRUE(getuid() == 0 && kb_total() >= BIG_KB)
			TH_LOG("VMMC_BIGMEM_REQUIRED: needs root and RAM above 4 GiB");
	if (getuid() != 0)
		SKIP(return, "needs root to read frame numbers");
	kb = kb_total();
	if (kb < BIG_KB)
		SKIP(return, "MemTotal %lld kB: no RAM above 4 GiB (vmrun --mem 6144)",
		     kb);
	ASSERT_EQ(0, pipe(p1));
	ASSERT_EQ(0, pipe(p2));
	self->canary = fork();
	ASSERT_LE(0, self->canary);
	if (!self->canary) {
		close(p1[1]);
		close(p2[0]);
		canary_main(p1[0], p2[1]);
	}
	close(p1[0]);
	close(p2[1]);
	self->to_canary = p1[1];
	self->from_canary = p2[0];
	ASSERT_EQ(8, read(self->from_canary, &high, 8));
	TH_LOG("canary: %llu of its %lu pages above 4 GiB",
	       (unsigned long long)high, CANARY / PG);

	err = find_runs(self, 3);
	ASSERT_EQ(0, err) TH_LOG("no %u runs of %lu high pages in %u MiB",
				 3, RUN_PAGES, self->nr_chunks * 64);
	TH_LOG("runs of high pages after %u MiB: pfn 0x%llx 0x%llx 0x%llx",
	       self->nr_chunks * 64,
	       (unsigned long long)pfn_of(self->run[0]),
	       (unsigned long long)pfn_of(self->run[1]),
	       (unsigned long long)pfn_of(self->run[2]));
	ASSERT_EQ(0, vmmc_ep_open(&self->rx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	self->name = vmmc_test_name(1);
}

FIXTURE_TEARDOWN(big)
{
	unsigned int i;

	if (self->canary > 0) {
		kill(self->canary, SIGKILL);
		waitpid(self->canary, NULL, 0);
		close(self->to_canary);
		close(self->from_canary);
	}
	if (self->rx.fd > 0 || self->tx.fd > 0) {
		vmmc_ep_close(&self->tx);
		vmmc_ep_close(&self->rx);
	}
	for (i = 0; i < self->nr_chunks; i++)
		munmap(self->chunk[i], CHUNK);
}

/* Export @buf (@len bytes) on rx and import it on tx. */
static int export_import(FIXTURE_DATA(big) *self, uint8_t *buf, size_t len)
{
	uint64_t got = 0;
	int err;

	err = vmmc_export(&self->rx, buf, len, self->name,
			  1ULL << self->rx.info.node_id, &self->export_id);
	if (!err)
		err = vmmc_import(&self->tx, self->rx.info.node_id, self->name,
				  &self->import_id, &got);
	return err ? err : got == len ? 0 : -EPROTO;
}

/* One SEND of @len bytes from @src at export offset @off: its status. */
static uint32_t send_wait(struct vmmc_ep *ep, const void *src, size_t len,
			  uint32_t imp, uint64_t off)
{
	struct vmmc_cqe cqe;
	int err;

	err = vmmc_send(ep, src, len, imp, off, 0, 42);
	if (!err)
		err = vmmc_wait_cqe(ep, &cqe, 20000);
	if (err)
		return 100 - err;
	return cqe.user_data == 42 && cqe.op == VMMC_OP_SEND ? cqe.status : 99;
}

/* The canary's count of changed pages (~0: it failed). */
static uint64_t canary_check(FIXTURE_DATA(big) *self)
{
	uint64_t bad = ~0ULL;

	if (write(self->to_canary, "x", 1) != 1 ||
	    read(self->from_canary, &bad, 8) != 8)
		return ~0ULL;
	return bad;
}

/*
 * The run of pages at @buf holds XLEN bytes of the pattern of (@seed,
 * @msg, from offset @off) at @at and FILL everywhere else.
 */
static void expect_only_pattern(struct __test_metadata *_metadata,
				const uint8_t *buf, size_t at, uint64_t seed,
				uint64_t msg, uint64_t off)
{
	long bad = vmmc_check_pattern(buf + at, XLEN, seed, msg, off);

	EXPECT_EQ(-1, bad) TH_LOG("byte %ld of %lu differs", bad, XLEN);
	EXPECT_EQ(-1, vmmc_find_not(buf, at, FILL));
	EXPECT_EQ(-1, vmmc_find_not(buf + at + XLEN,
				    RUN_PAGES * PG - at - XLEN, FILL));
}

/* SEND from pages above 4 GiB into an export of any pages. */
TEST_F_TIMEOUT(big, send_from_high_pages, 300)
{
	uint8_t *src = self->run[0] + 777, *dst = self->run[1];

	memset(dst, FILL, RUN_PAGES * PG);
	ASSERT_EQ(0, export_import(self, dst, RUN_PAGES * PG));
	vmmc_fill_pattern(src, XLEN, 5, 1, 100);
	ASSERT_EQ(0, vmmc_pin(&self->tx, src, XLEN));
	ASSERT_EQ(RUN_PAGES, high_pages(self->run[0], RUN_PAGES))
		TH_LOG("the pin moved source pages below 4 GiB");
	ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, src, XLEN, self->import_id,
					100));
	expect_only_pattern(_metadata, dst, 100, 5, 1, 100);
	EXPECT_EQ(0, canary_check(self));
}

/* SEND into an export whose every page lies above 4 GiB. */
TEST_F_TIMEOUT(big, send_into_high_pages, 300)
{
	uint8_t *src = self->run[1] + 5, *dst = self->run[0];

	memset(dst, FILL, RUN_PAGES * PG);
	ASSERT_EQ(0, export_import(self, dst, RUN_PAGES * PG));
	ASSERT_EQ(RUN_PAGES, high_pages(dst, RUN_PAGES))
		TH_LOG("the export's pin moved pages below 4 GiB");
	vmmc_fill_pattern(src, XLEN, 6, 2, 777);
	ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, src, XLEN, self->import_id,
					777));
	expect_only_pattern(_metadata, dst, 777, 6, 2, 777);
	EXPECT_EQ(0, canary_check(self));
}

/* A REDIRECT whose destination pages lie above 4 GiB. */
TEST_F_TIMEOUT(big, redirect_onto_high_pages, 300)
{
	uint8_t *exp = self->run[0], *dst = self->run[2], *src = self->run[1];
	struct vmmc_redir_res r;
	struct vmmc_cqe cqe;
	long spins;
	int i;

	memset(exp, FILL, RUN_PAGES * PG);
	memset(dst, FILL, RUN_PAGES * PG);
	ASSERT_EQ(0, export_import(self, exp, RUN_PAGES * PG));
	ASSERT_EQ(0, vmmc_redirect(&self->rx, 0, self->export_id, 300,
				   dst + 11, XLEN, 7));
	/* wait until the NIC has taken it: the SEND must find it active */
	for (spins = 0; spins < 200000000; spins++)
		if (!vmmc_redirect_result(&self->rx, 0, &r) &&
		    r.state != VMMC_REDIR_FREE)
			break;
	ASSERT_EQ(VMMC_REDIR_ACTIVE, r.state);
	ASSERT_EQ(RUN_PAGES, high_pages(dst, RUN_PAGES));
	vmmc_fill_pattern(src, XLEN, 7, 3, 300);
	ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, src, XLEN, self->import_id,
					300));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, vmmc_wait_cqe(&self->rx, &cqe, 20000));
		if (cqe.user_data == 7)
			break;
	}
	ASSERT_EQ(VMMC_OP_REDIRECT, cqe.op);
	EXPECT_EQ(VMMC_ST_OK, cqe.status) TH_LOG("%s", vmmc_status_str(cqe.status));
	EXPECT_EQ(XLEN, cqe.imm);
	expect_only_pattern(_metadata, dst, 11, 7, 3, 300);
	EXPECT_EQ(-1, vmmc_find_not(exp, RUN_PAGES * PG, FILL))
		TH_LOG("redirected bytes reached the export");
	EXPECT_EQ(0, canary_check(self));
}

TEST_HARNESS_MAIN

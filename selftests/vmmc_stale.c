// SPDX-License-Identifier: GPL-2.0
/*
 * Description: no stale handle ever reaches a new object. An import names
 * (node, export slot, export gen); an export slot is reused by the next
 * export, so a gen that wraps would let an import made for the old
 * export write into the new one. The test forces the wrap: as root it
 * sets the module's export_gen_skip so that each new export advances its
 * slot's gen by 2^32 - 2, which with the unexport's bump makes the next
 * export's gen equal to the old one modulo 2^32. Export, import, send
 * (lands), unexport, export new memory in the same slot: the stale
 * import's SEND completes REVOKED and the new export's bytes stay as they
 * were; the same without the knob; and a fresh import of the new export
 * works. Not root, or no knob (another module): SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define KNOB	"/sys/module/vmmc/parameters/export_gen_skip"
#define LEN	(3 * 4096 + 123)
#define FILL	0x6e

FIXTURE(stale) {
	struct vmmc_ep rx, tx;
	uint8_t *old_buf, *new_buf, *src;
	bool knob;
};

static int set_skip(unsigned long long v)
{
	char s[32];
	int fd = open(KNOB, O_WRONLY | O_CLOEXEC), n, ok;

	if (fd < 0)
		return -errno;
	n = snprintf(s, sizeof(s), "%llu\n", v);
	ok = write(fd, s, n) == n;
	close(fd);
	return ok ? 0 : -EIO;
}

FIXTURE_SETUP(stale)
{
	if (getuid() != 0)
		SKIP(return, "needs root for the module's export_gen_skip");
	if (access(KNOB, W_OK))
		SKIP(return, "%s: %s", KNOB, strerror(errno));
	self->knob = true;
	self->old_buf = mmap(NULL, 3 * 16384, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->old_buf);
	self->new_buf = self->old_buf + 16384;
	self->src = self->old_buf + 2 * 16384;
	ASSERT_EQ(0, vmmc_ep_open(&self->rx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
}

FIXTURE_TEARDOWN(stale)
{
	if (!self->knob)
		return;
	set_skip(0);
	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->rx);
	munmap(self->old_buf, 3 * 16384);
}

static uint32_t send_wait(struct vmmc_ep *ep, const void *src, size_t len,
			  uint32_t imp)
{
	struct vmmc_cqe cqe;
	int err;

	err = vmmc_send(ep, src, len, imp, 0, 0, 9);
	if (!err)
		err = vmmc_wait_cqe(ep, &cqe, 20000);
	if (err)
		return 100 - err;
	return cqe.user_data == 9 && cqe.op == VMMC_OP_SEND ? cqe.status : 99;
}

/* The stale import's SEND after the slot was reused with @skip. */
static void reuse(struct __test_metadata *_metadata,
		  FIXTURE_DATA(stale) *self, unsigned long long skip)
{
	uint32_t node = self->rx.info.node_id, old_id, new_id, imp, imp2, st;
	uint32_t n1 = vmmc_test_name(1), n2 = vmmc_test_name(2);
	uint64_t len;

	ASSERT_EQ(0, set_skip(skip));
	memset(self->old_buf, FILL, LEN);
	memset(self->new_buf, FILL, LEN);
	ASSERT_EQ(0, vmmc_export(&self->rx, self->old_buf, LEN, n1,
				 1ULL << node, &old_id));
	ASSERT_EQ(0, vmmc_import(&self->tx, node, n1, &imp, &len));
	vmmc_fill_pattern(self->src, LEN, 1, 1, 0);
	ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, self->src, LEN, imp));
	ASSERT_EQ(-1, vmmc_check_pattern(self->old_buf, LEN, 1, 1, 0));

	ASSERT_EQ(0, vmmc_unexport(&self->rx, old_id));
	ASSERT_EQ(0, vmmc_export(&self->rx, self->new_buf, LEN, n2,
				 1ULL << node, &new_id));
	if (new_id != old_id)
		SKIP(return, "export slot %u not reused (got %u): another export took it",
		     old_id, new_id);
	vmmc_fill_pattern(self->src, LEN, 2, 2, 0);
	st = send_wait(&self->tx, self->src, LEN, imp);
	EXPECT_EQ(VMMC_ST_REVOKED, st) TH_LOG("stale import: %s (%u)",
					       vmmc_status_str(st), st);
	EXPECT_EQ(-1, vmmc_find_not(self->new_buf, LEN, FILL))
		TH_LOG("the stale import wrote into the new export");

	/* the new export itself works through a new import */
	ASSERT_EQ(0, vmmc_import(&self->tx, node, n2, &imp2, &len));
	EXPECT_EQ(VMMC_ST_OK, send_wait(&self->tx, self->src, LEN, imp2));
	EXPECT_EQ(-1, vmmc_check_pattern(self->new_buf, LEN, 2, 2, 0));
	EXPECT_EQ(0, vmmc_unimport(&self->tx, imp2));
	EXPECT_EQ(0, vmmc_unimport(&self->tx, imp));
	EXPECT_EQ(0, vmmc_unexport(&self->rx, new_id));
}

/* Each new export advances its slot's gen by 2^32 - 2: a u32 gen wraps. */
TEST_F_TIMEOUT(stale, gen_wrap_refused, 120)
{
	reuse(_metadata, self, (1ULL << 32) - 2);
}

/* The same reuse without the knob. */
TEST_F_TIMEOUT(stale, slot_reuse_refused, 120)
{
	reuse(_metadata, self, 0);
}

/* 256 wraps of a 32-bit gen at each export, plus 2^32 - 2. */
TEST_F_TIMEOUT(stale, gen_many_wraps_refused, 120)
{
	reuse(_metadata, self, (1ULL << 40) + (1ULL << 32) - 2);
}

TEST_HARNESS_MAIN

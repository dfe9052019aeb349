// SPDX-License-Identifier: GPL-2.0
/*
 * Description: protection of deliberate update, from the attacker's side.
 * A second endpoint, in the same process or a forked one, that uses the
 * first endpoint's import handle or translation slots gets BAD_IMPORT or
 * BAD_SLOT and moves no byte; a SEND outside the import is RANGE; a SEND
 * naming slots past what was pinned is BAD_SLOT; importing a missing name
 * is ENOENT and a name not permitted to this node EACCES; after unexport
 * the importer's SENDs are REVOKED and the old buffer is never written;
 * likewise when the owner unmaps the buffer and reuses the address.
 * Every check looks at the destination: it must be intact.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define EXP_LEN		(64 << 10)
#define FILL		0x5a

FIXTURE(prot) {
	struct vmmc_ep rx, tx, atk;
	uint8_t *dst, *src;
	uint32_t name, export_id, import_id;
	uint32_t slot;		/* not on the harness's stack (setjmp) */
};

FIXTURE_SETUP(prot)
{
	ASSERT_EQ(0, vmmc_ep_open(&self->rx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->atk, VMMC_DEV));
	self->dst = mmap(NULL, EXP_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->src = mmap(NULL, 2 * EXP_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->dst);
	ASSERT_NE(MAP_FAILED, self->src);
	memset(self->dst, FILL, EXP_LEN);
	memset(self->src, 0x33, 2 * EXP_LEN);
	self->name = vmmc_test_name(2);
	ASSERT_EQ(0, vmmc_export(&self->rx, self->dst, EXP_LEN, self->name,
				 1ULL << self->rx.info.node_id, &self->export_id));
	ASSERT_EQ(0, vmmc_import(&self->tx, self->rx.info.node_id, self->name,
				 &self->import_id, NULL));
}

FIXTURE_TEARDOWN(prot)
{
	vmmc_ep_close(&self->atk);
	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->rx);
	munmap(self->dst, EXP_LEN);
	munmap(self->src, 2 * EXP_LEN);
}

static uint32_t send_wait(struct vmmc_ep *ep, const void *src, size_t len,
			  uint32_t imp, uint64_t off)
{
	struct vmmc_cqe cqe;
	int err = vmmc_send(ep, src, len, imp, off, 0, 42);

	if (err)
		return 2000 - err;
	if (vmmc_wait_cqe(ep, &cqe, 10000))
		return 1001;
	return cqe.status;
}

/*
 * A SEND written by hand of [off, off + len) from UTLB slot @slot on to
 * (@imp, 0): its status (1000+: no CQE).
 */
static uint32_t send_raw(struct vmmc_ep *ep, uint32_t slot, uint32_t off,
			 uint32_t len, uint32_t imp)
{
	struct vmmc_sqe sqe = { 0 };

	vmmc_prep_send(&sqe, slot, off, len, imp, 0, 0, 0);
	return vmmc_post_raw(ep, &sqe);
}

/* Pin by hand (not through the UTLB) to learn a slot. */
static int pin_raw(struct vmmc_ep *ep, void *addr, size_t len, uint32_t *slot)
{
	struct vmmc_pin_req req = { .addr = (uintptr_t)addr, .len = len };

	if (ioctl(ep->fd, VMMC_IOC_PIN, &req))
		return -errno;
	*slot = req.slot;
	return (int)req.nr_slots;
}

/*
 * The attacks of a second endpoint on the victim's import handle and
 * source slots (numbers that mean something only in the victim's tables);
 * 0 if each failed as it must.
 */
/*
 * Make the victim's source slots high (32 and up) so that they are not
 * among the few an attacker's own pins take.
 */
static void pin_filler(struct vmmc_ep *victim, uint8_t *a, uint8_t *b)
{
	uint32_t s;

	pin_raw(victim, a, EXP_LEN, &s);
	pin_raw(victim, b, EXP_LEN, &s);
}

static int attack(struct vmmc_ep *atk, uint32_t node, uint32_t name,
		  uint32_t victim_import, uint32_t victim_slot, uint8_t *src)
{
	uint32_t slot = 0, st, imp = 0;

	/* 1. the victim's import handle: we have imported nothing */
	if (pin_raw(atk, src, 4096, &slot) != 1)
		return 1;
	if (slot == victim_slot)
		return 2;	/* the test needs a slot we do not have */
	st = send_raw(atk, slot, 0, 64, victim_import);
	if (st != VMMC_ST_BAD_IMPORT)
		return 10 + (int)st;
	st = send_wait(atk, src, 64, victim_import, 0);
	if (st != VMMC_ST_BAD_IMPORT)
		return 100 + (int)st;
	/* 2. a legitimate import of ours, but the victim's source slot */
	if (vmmc_import(atk, node, name, &imp, NULL))
		return 3;
	st = send_raw(atk, victim_slot, 0, 64, imp);
	if (st != VMMC_ST_BAD_SLOT)
		return 200 + (int)st;
	return 0;
}

TEST_F(prot, second_endpoint_same_process)
{

	/* the victim's own pinned source, eight pages from some slot */
	pin_filler(&self->tx, self->dst, self->src + EXP_LEN);
	ASSERT_EQ(8, pin_raw(&self->tx, self->src + 8192, 8 * 4096, &self->slot));
	ASSERT_LE(32, self->slot);
	ASSERT_EQ(VMMC_ST_OK, send_raw(&self->tx, self->slot, 0, 16,
				       self->import_id));
	ASSERT_EQ(0x33, self->dst[0]);
	memset(self->dst, FILL, 16);
	EXPECT_EQ(0, attack(&self->atk, self->rx.info.node_id, self->name,
			    self->import_id, self->slot + 5, self->src + 4096 * 12));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, EXP_LEN, FILL));
}

TEST_F(prot, second_endpoint_forked_process)
{
	int status;
	pid_t pid;

	pin_filler(&self->tx, self->dst, self->src + EXP_LEN);
	ASSERT_EQ(8, pin_raw(&self->tx, self->src, 8 * 4096, &self->slot));
	ASSERT_LE(32, self->slot);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vmmc_ep ep;
		int rc;

		if (vmmc_ep_open(&ep, VMMC_DEV))
			_exit(99);
		rc = attack(&ep, self->rx.info.node_id, self->name,
			    self->import_id, self->slot + 5, self->src + 4096 * 12);
		/* the inherited fd is not the child's to pin with */
		if (!rc && pin_raw(&self->tx, self->src, 4096, &self->slot) != -EPERM)
			rc = 98;
		_exit(rc);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, EXP_LEN, FILL));
}

TEST_F(prot, outside_the_import_is_range)
{
	static const struct { uint64_t off; uint32_t len; } c[] = {
		{ EXP_LEN - 10, 11 }, { EXP_LEN, 1 }, { EXP_LEN + 4096, 100 },
		{ 1ULL << 40, 1 }, { 1ULL << 63, 8 }, { 0, EXP_LEN + 1 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		EXPECT_EQ(VMMC_ST_RANGE, send_wait(&self->tx, self->src, c[i].len,
						   self->import_id, c[i].off))
			TH_LOG("case %u", i);
	EXPECT_EQ(-1, vmmc_find_not(self->dst, EXP_LEN, FILL));
	/* the last byte is fine */
	EXPECT_EQ(VMMC_ST_OK, send_wait(&self->tx, self->src, 1, self->import_id,
					EXP_LEN - 1));
	EXPECT_EQ(0x33, self->dst[EXP_LEN - 1]);
}

TEST_F(prot, beyond_pinned_is_bad_slot)
{
	struct vmmc_ep ep;
	uint32_t imp, s;

	/* a fresh endpoint: nothing pinned after our two pages */
	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	ASSERT_EQ(0, vmmc_import(&ep, self->rx.info.node_id, self->name,
				 &imp, NULL));
	ASSERT_EQ(2, pin_raw(&ep, self->src, 8192, &self->slot));
	s = self->slot;
	/* one byte into a third page */
	EXPECT_EQ(VMMC_ST_BAD_SLOT, send_raw(&ep, s, 0, 8192 + 1, imp));
	EXPECT_EQ(VMMC_ST_BAD_SLOT, send_raw(&ep, s, 100, 8192, imp));
	EXPECT_EQ(VMMC_ST_BAD_SLOT, send_raw(&ep, s + 2, 0, 1, imp));
	EXPECT_EQ(VMMC_ST_BAD_SLOT, send_raw(&ep, ep.info.utlb_slots, 0, 1,
					     imp));
	EXPECT_EQ(VMMC_ST_BAD_SLOT, send_raw(&ep, 0xffffffff, 0, 1, imp));
	/* the page offset must be < 4096 */
	EXPECT_NE(VMMC_ST_OK, send_raw(&ep, s, 4096, 1, imp));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, EXP_LEN, FILL));
	/* exactly the pinned pages work */
	EXPECT_EQ(VMMC_ST_OK, send_raw(&ep, s, 0, 8192, imp));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, 8192, 0x33));
	vmmc_ep_close(&ep);
}

TEST_F(prot, import_missing_or_not_permitted)
{
	uint32_t me = self->rx.info.node_id, id, imp;

	EXPECT_EQ(-ENOENT, vmmc_import(&self->tx, me, vmmc_test_name(0x77),
				       &imp, NULL));
	/* exported to every node but this one */
	ASSERT_EQ(0, vmmc_export(&self->rx, self->dst, 4096, vmmc_test_name(3),
				 ~(1ULL << me), &id));
	EXPECT_EQ(-EACCES, vmmc_import(&self->tx, me, vmmc_test_name(3), &imp,
				       NULL));
	ASSERT_EQ(0, vmmc_unexport(&self->rx, id));
	ASSERT_EQ(0, vmmc_export(&self->rx, self->dst, 4096, vmmc_test_name(4),
				 0, &id));
	EXPECT_EQ(-EACCES, vmmc_import(&self->tx, me, vmmc_test_name(4), &imp,
				       NULL));
	/* a name is unique among live exports */
	EXPECT_EQ(-EEXIST, vmmc_export(&self->rx, self->dst, 4096,
				       vmmc_test_name(4), 1ULL << me, &imp));
	ASSERT_EQ(0, vmmc_unexport(&self->rx, id));
	/* unexported: gone */
	EXPECT_EQ(-ENOENT, vmmc_import(&self->tx, me, vmmc_test_name(4), &imp,
				       NULL));
}

TEST_F(prot, unexport_revokes)
{
	int i;

	ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, self->src, 100,
					self->import_id, 0));
	memset(self->dst, FILL, EXP_LEN);
	ASSERT_EQ(0, vmmc_unexport(&self->rx, self->export_id));
	EXPECT_EQ(-EINVAL, vmmc_unexport(&self->rx, self->export_id));
	for (i = 0; i < 50; i++)
		ASSERT_EQ(VMMC_ST_REVOKED, send_wait(&self->tx, self->src + i,
						     1000, self->import_id, i * 7));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, EXP_LEN, FILL));
	/* the same name again is a new export: the old import stays dead */
	ASSERT_EQ(0, vmmc_export(&self->rx, self->dst, EXP_LEN, self->name,
				 1ULL << self->rx.info.node_id, &self->export_id));
	EXPECT_EQ(VMMC_ST_REVOKED, send_wait(&self->tx, self->src, 10,
					     self->import_id, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, EXP_LEN, FILL));
	EXPECT_EQ(0, vmmc_unimport(&self->tx, self->import_id));
	EXPECT_EQ(-EINVAL, vmmc_unimport(&self->tx, self->import_id));
}

/*
 * The program frees its exported buffer and gets other memory at the same
 * address: the kernel revokes the export by itself, remote sends fail
 * with REVOKED, and the new memory is never written.
 */
TEST_F(prot, munmap_revokes_export)
{
	uint8_t *again;
	int i;

	ASSERT_EQ(VMMC_ST_OK, send_wait(&self->tx, self->src, 100,
					self->import_id, 0));
	ASSERT_EQ(0, munmap(self->dst, EXP_LEN));
	again = mmap(self->dst, EXP_LEN, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(self->dst, again);
	memset(again, FILL, EXP_LEN);
	for (i = 0; i < 20; i++)
		ASSERT_EQ(VMMC_ST_REVOKED, send_wait(&self->tx, self->src + i,
						     4096, self->import_id,
						     i * 1000));
	EXPECT_EQ(-1, vmmc_find_not(again, EXP_LEN, FILL));
	/* a new import of the name finds nothing live */
	EXPECT_EQ(-ENOENT, vmmc_import(&self->tx, self->rx.info.node_id,
				       self->name, &self->slot, NULL));
	/* the revoked export is still the owner's to take back, once */
	EXPECT_EQ(0, vmmc_unexport(&self->rx, self->export_id));
	EXPECT_EQ(-EINVAL, vmmc_unexport(&self->rx, self->export_id));
}

TEST_HARNESS_MAIN

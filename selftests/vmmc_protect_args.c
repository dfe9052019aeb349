// SPDX-License-Identifier: GPL-2.0
/*
 * Description: every deliberate-update ioctl with bad arguments fails
 * with its exact errno and changes nothing: zero length, addr + len
 * overflowing or too long, unmapped memory (EFAULT), read-only memory for
 * an export, bad or foreign ids, non-zero flags, reserved and output
 * fields (EINVAL), a bad argument pointer (EFAULT). Afterwards the
 * endpoint still exports, imports, pins and unpins, and the driver's
 * pinned-page, export and import counters are back where they started.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"

FIXTURE(args) {
	struct vmmc_ep ep;
	uint8_t *buf, *ro, *hole;	/* rw 64 KiB, ro page, unmapped page */
	long long pinned0, exports0, imports0;
};

FIXTURE_SETUP(args)
{
	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	self->buf = mmap(NULL, 65536 + 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 1, 65536 + 8192);
	self->ro = self->buf + 65536;
	self->hole = self->ro + 4096;
	ASSERT_EQ(0, mprotect(self->ro, 4096, PROT_READ));
	ASSERT_EQ(0, munmap(self->hole, 4096));
	self->pinned0 = vmmc_ctl_stat(CTL, "pinned_pages");
	self->exports0 = vmmc_ctl_stat(CTL, "exports");
	self->imports0 = vmmc_ctl_stat(CTL, "imports");
}

FIXTURE_TEARDOWN(args)
{
	vmmc_ep_close(&self->ep);
	munmap(self->buf, 65536 + 4096);
}

static int ioc(struct vmmc_ep *ep, unsigned long cmd, void *arg)
{
	return ioctl(ep->fd, cmd, arg) ? -errno : 0;
}

TEST_F(args, export)
{
	uint64_t b = (uintptr_t)self->buf, me = 1ULL << self->ep.info.node_id;
	struct vmmc_export_req ok = { .addr = b, .len = 100, .perm_nodes = me,
				      .name = vmmc_test_name(1) };
	struct {
		struct vmmc_export_req r;
		int err;
	} c[] = {
		{ { .addr = b, .len = 0 }, -EINVAL },
		{ { .addr = UINT64_MAX - 100, .len = 4096 }, -EINVAL },
		{ { .addr = b, .len = VMMC_EXPORT_MAX_LEN + 1ULL }, -EINVAL },
		{ { .addr = b, .len = UINT64_MAX }, -EINVAL },
		{ { .addr = 1ULL << 62, .len = 4096 }, -EINVAL },	/* > TASK_SIZE */
		{ { .addr = (uintptr_t)self->hole, .len = 10 }, -EFAULT },
		{ { .addr = (uintptr_t)self->ro + 4000, .len = 200 }, -EFAULT },
		{ { .addr = (uintptr_t)self->ro, .len = 10 }, -EFAULT },
		{ { .addr = 4096, .len = 10 }, -EFAULT },
		{ { .addr = b, .len = 10, .flags = 1 }, -EINVAL },
		{ { .addr = b, .len = 10, .export_id = 3 }, -EINVAL },
		{ { .addr = b, .len = 10, .reserved0 = 1 }, -EINVAL },
	};
	uint32_t id, bad = 0xdead;
	struct vmmc_ep other;
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		c[i].r.name = vmmc_test_name(0x40 + i);
		c[i].r.perm_nodes = me;
		EXPECT_EQ(c[i].err, ioc(&self->ep, VMMC_IOC_EXPORT, &c[i].r))
			TH_LOG("case %u", i);
	}
	EXPECT_EQ(-EFAULT, ioc(&self->ep, VMMC_IOC_EXPORT, NULL));
	ASSERT_EQ(0, ioc(&self->ep, VMMC_IOC_EXPORT, &ok));
	id = ok.export_id;
	ok.export_id = 0;
	EXPECT_EQ(-EEXIST, ioc(&self->ep, VMMC_IOC_EXPORT, &ok));
	/* unexport: ids out of range, unused, or another endpoint's */
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNEXPORT, &bad));
	bad = VMMC_MAX_EXPORTS;
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNEXPORT, &bad));
	bad = UINT32_MAX;
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNEXPORT, &bad));
	EXPECT_EQ(-EFAULT, ioc(&self->ep, VMMC_IOC_UNEXPORT, NULL));
	ASSERT_EQ(0, vmmc_ep_open(&other, VMMC_DEV));
	EXPECT_EQ(-EINVAL, vmmc_unexport(&other, id));
	vmmc_ep_close(&other);
	EXPECT_EQ(0, vmmc_unexport(&self->ep, id));
	EXPECT_EQ(-EINVAL, vmmc_unexport(&self->ep, id));
	EXPECT_EQ(self->pinned0, vmmc_ctl_stat(CTL, "pinned_pages"));
	EXPECT_EQ(self->exports0, vmmc_ctl_stat(CTL, "exports"));
}

TEST_F(args, import)
{
	uint32_t me = self->ep.info.node_id, name = vmmc_test_name(2), id, bad;
	struct {
		struct vmmc_import_req r;
		int err;
	} c[] = {
		{ { .node = self->ep.info.nr_nodes }, -EINVAL },
		{ { .node = UINT32_MAX }, -EINVAL },
		{ { .node = me, .flags = 1 }, -EINVAL },
		{ { .node = me, .import_id = 1 }, -EINVAL },
		{ { .node = me, .len = 1 }, -EINVAL },
		{ { .node = me, .reserved = { 0, 1 } }, -EINVAL },
		{ { .node = me, .name = name + 1 }, -ENOENT },
		{ { .node = me, .key = 1 }, -ENOENT },	/* it has no key */
	};
	unsigned int i;

	ASSERT_EQ(0, vmmc_export(&self->ep, self->buf, 4096, name, 1ULL << me,
				 &id));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!c[i].r.name)
			c[i].r.name = name;
		EXPECT_EQ(c[i].err, ioc(&self->ep, VMMC_IOC_IMPORT, &c[i].r))
			TH_LOG("case %u", i);
	}
	EXPECT_EQ(-EFAULT, ioc(&self->ep, VMMC_IOC_IMPORT, NULL));
	for (bad = 0; bad < 3; bad++)	/* none imported yet */
		EXPECT_EQ(-EINVAL, vmmc_unimport(&self->ep, bad));
	EXPECT_EQ(-EINVAL, vmmc_unimport(&self->ep, VMMC_MAX_IMPORTS));
	EXPECT_EQ(-EINVAL, vmmc_unimport(&self->ep, UINT32_MAX));
	EXPECT_EQ(-EFAULT, ioc(&self->ep, VMMC_IOC_UNIMPORT, NULL));
	ASSERT_EQ(0, vmmc_import(&self->ep, me, name, &bad, NULL));
	EXPECT_EQ(self->imports0 + 1, vmmc_ctl_stat(CTL, "imports"));
	EXPECT_EQ(0, vmmc_unimport(&self->ep, bad));
	EXPECT_EQ(0, vmmc_unexport(&self->ep, id));
	EXPECT_EQ(self->imports0, vmmc_ctl_stat(CTL, "imports"));
	EXPECT_EQ(self->pinned0, vmmc_ctl_stat(CTL, "pinned_pages"));
}

TEST_F(args, pin_unpin)
{
	uint64_t b = (uintptr_t)self->buf;
	struct {
		struct vmmc_pin_req r;
		int err;
	} c[] = {
		{ { .addr = b, .len = 0 }, -EINVAL },
		{ { .addr = UINT64_MAX - 10, .len = 100 }, -EINVAL },
		{ { .addr = b, .len = (uint64_t)VMMC_UTLB_SLOTS * 4096 + 1 }, -EINVAL },
		{ { .addr = 1ULL << 62, .len = 4096 }, -EINVAL },
		{ { .addr = (uintptr_t)self->hole, .len = 1 }, -EFAULT },
		{ { .addr = (uintptr_t)self->ro, .len = 8192 }, -EFAULT },
		{ { .addr = 0, .len = 4096 }, -EFAULT },
		{ { .addr = b, .len = 1, .flags = 2 }, -EINVAL },
		{ { .addr = b, .len = 1, .flags = ~VMMC_PIN_F_WRITE }, -EINVAL },
		/* the NIC may write it: read-only memory is refused */
		{ { .addr = (uintptr_t)self->ro, .len = 1,
		    .flags = VMMC_PIN_F_WRITE }, -EFAULT },
		{ { .addr = b, .len = 1, .slot = 1 }, -EINVAL },
		{ { .addr = b, .len = 1, .nr_slots = 1 }, -EINVAL },
		{ { .addr = b, .len = 1, .reserved = { 0, 1 } }, -EINVAL },
	};
	struct vmmc_pin_req ok = { .addr = b + 10, .len = 3 * 4096 };
	struct vmmc_pin_req ro = { .addr = (uintptr_t)self->ro, .len = 4096 };
	struct vmmc_unpin_req u = { 0 };
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		EXPECT_EQ(c[i].err, ioc(&self->ep, VMMC_IOC_PIN, &c[i].r))
			TH_LOG("case %u", i);
	EXPECT_EQ(-EFAULT, ioc(&self->ep, VMMC_IOC_PIN, NULL));
	/* a send source may be read-only */
	EXPECT_EQ(0, ioc(&self->ep, VMMC_IOC_PIN, &ro));
	ASSERT_EQ(0, ioc(&self->ep, VMMC_IOC_PIN, &ok));
	EXPECT_EQ(4, ok.nr_slots);	/* 10 + 12288 bytes span four pages */
	u.slot = ok.slot + 1;		/* inside, not the start */
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNPIN, &u));
	u.slot = VMMC_UTLB_SLOTS;
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNPIN, &u));
	u.slot = ok.slot;
	u.reserved[2] = 1;
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNPIN, &u));
	u.reserved[2] = 0;
	EXPECT_EQ(-EFAULT, ioc(&self->ep, VMMC_IOC_UNPIN, NULL));
	EXPECT_EQ(self->pinned0 + 5, vmmc_ctl_stat(CTL, "pinned_pages"));
	EXPECT_EQ(0, ioc(&self->ep, VMMC_IOC_UNPIN, &u));
	EXPECT_EQ(-EINVAL, ioc(&self->ep, VMMC_IOC_UNPIN, &u));
	u.slot = ro.slot;
	EXPECT_EQ(0, ioc(&self->ep, VMMC_IOC_UNPIN, &u));
	EXPECT_EQ(self->pinned0, vmmc_ctl_stat(CTL, "pinned_pages"));
}

TEST_HARNESS_MAIN

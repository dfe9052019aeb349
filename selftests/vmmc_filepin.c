// SPDX-License-Identifier: GPL-2.0
/*
 * Description: long-term pins of file-backed shared mappings. The NIC
 * may write (PIN with VMMC_PIN_F_WRITE, EXPORT) no page of a MAP_SHARED
 * mapping of a file whose filesystem tracks dirty pages (ext2 on a RAM
 * disk, the 9p project share, ramfs): EOPNOTSUPP, nothing left pinned,
 * even when only part of the range is such a mapping. It may read them
 * (a SEND source), and reads what the program wrote after the pin. A
 * MAP_PRIVATE mapping of the same file, and shared tmpfs, are fine: the
 * NIC's bytes land in the process's memory, never in the file on disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define FLEN	(4 * 4096)

FIXTURE(fp) {
	struct vmmc_ep ep;
	char dir[256], path[300];
	int fd;
	bool mounted;
	uint8_t *anon;
	uint32_t name, export_id, import_id;
	uint32_t slot, id, imp;	/* not on the harness's stack (setjmp) */
};

/* @setup (a shell command) makes @dir; @refused: the NIC may not write */
FIXTURE_VARIANT(fp) {
	const char *dir, *setup, *teardown, *fstype;
	bool refused;
};

/* The type of the filesystem mounted where @dir is, from /proc/mounts. */
static void fs_type(const char *dir, char *type, size_t n)
{
	char mnt[256], t[64], line[1024];
	size_t best = 0, l;
	FILE *f = fopen("/proc/mounts", "r");

	snprintf(type, n, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %255s %63s", mnt, t) != 2)
			continue;
		l = strlen(mnt);
		if (strncmp(dir, mnt, l) || (dir[l] && dir[l] != '/' && l > 1) ||
		    l < best)
			continue;
		best = l;
		snprintf(type, n, "%s", t);
	}
	fclose(f);
}

/* A test whose set-up skipped does nothing (the harness runs it anyway). */
#define NEED_FILE()		\
	do {			\
		if (self->fd < 0)	\
			return;		\
	} while (0)

FIXTURE_VARIANT_ADD(fp, ext2_ramdisk) {
	.dir = "/run/vmmc_fp_ext2",
	.setup = "modprobe brd rd_nr=1 rd_size=8192 && mkfs.ext2 -q /dev/ram0"
		 " && mkdir -p /run/vmmc_fp_ext2 && mount -t ext2 /dev/ram0"
		 " /run/vmmc_fp_ext2",
	.teardown = "umount /run/vmmc_fp_ext2; rmmod brd",
	.fstype = "ext2", .refused = true,
};

FIXTURE_VARIANT_ADD(fp, share_9p) {
	.dir = NULL,		/* beside this program, on the project share */
	.fstype = "9p", .refused = true,
};

FIXTURE_VARIANT_ADD(fp, ramfs) {
	.dir = "/run/vmmc_fp_ramfs",
	.setup = "mkdir -p /run/vmmc_fp_ramfs && mount -t ramfs none"
		 " /run/vmmc_fp_ramfs",
	.teardown = "umount /run/vmmc_fp_ramfs",
	.fstype = "ramfs", .refused = true,
};

FIXTURE_VARIANT_ADD(fp, tmpfs) {
	.dir = "/tmp",
	.fstype = "tmpfs", .refused = false,
};

FIXTURE_SETUP(fp)
{
	char exe[256] = "", type[64];

	self->fd = -1;
	if (variant->setup) {
		if (system(variant->setup))
			SKIP(return, "cannot make the filesystem: %s",
			     variant->setup);
		self->mounted = true;
	}
	if (variant->dir) {
		snprintf(self->dir, sizeof(self->dir), "%s", variant->dir);
	} else {
		ASSERT_LT(0, readlink("/proc/self/exe", exe, sizeof(exe) - 1));
		snprintf(self->dir, sizeof(self->dir), "%s", dirname(exe));
	}
	fs_type(self->dir, type, sizeof(type));
	if (strcmp(type, variant->fstype))
		SKIP(return, "%s is on %s, not %s", self->dir, type,
		     variant->fstype);
	TH_LOG("file on %s (%s)", self->dir, type);
	snprintf(self->path, sizeof(self->path), "%s/vmmc_filepin.%d",
		 self->dir, getpid());
	self->fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, FLEN));
	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	self->anon = mmap(NULL, FLEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->anon);
	memset(self->anon, 0x11, FLEN);
	self->name = vmmc_test_name(1);
	ASSERT_EQ(0, vmmc_export(&self->ep, self->anon, FLEN, self->name,
				 1ULL << self->ep.info.node_id,
				 &self->export_id));
	ASSERT_EQ(0, vmmc_import(&self->ep, self->ep.info.node_id, self->name,
				 &self->import_id, NULL));
}

FIXTURE_TEARDOWN(fp)
{
	if (self->fd >= 0) {
		vmmc_ep_close(&self->ep);
		munmap(self->anon, FLEN);
		close(self->fd);
		unlink(self->path);
	}
	if (self->mounted && variant->teardown && system(variant->teardown))
		TH_LOG("teardown failed: %s", variant->teardown);
}

static int pin(struct vmmc_ep *ep, void *addr, size_t len, uint32_t flags,
	       uint32_t *slot)
{
	struct vmmc_pin_req req = { .addr = (uintptr_t)addr, .len = len,
				    .flags = flags };

	if (ioctl(ep->fd, VMMC_IOC_PIN, &req))
		return -errno;
	*slot = req.slot;
	return 0;
}

static int unpin(struct vmmc_ep *ep, uint32_t slot)
{
	struct vmmc_unpin_req req = { .slot = slot };

	return ioctl(ep->fd, VMMC_IOC_UNPIN, &req) ? -errno : 0;
}

static uint8_t *map_file(FIXTURE_DATA(fp) *self, int flags)
{
	uint8_t *p = mmap(NULL, FLEN, PROT_READ | PROT_WRITE, flags, self->fd,
			  0);

	return p == MAP_FAILED ? NULL : p;
}

TEST_F(fp, shared_mapping_nic_write)
{
	uint8_t *m = map_file(self, MAP_SHARED);
	long pin0 = vmmc_vm_pin_kb();
	int want = variant->refused ? -EOPNOTSUPP : 0;

	NEED_FILE();

	ASSERT_NE(NULL, m);
	memset(m, 0x22, FLEN);
	EXPECT_EQ(want, pin(&self->ep, m, FLEN, VMMC_PIN_F_WRITE, &self->slot));
	if (!want)
		EXPECT_EQ(0, unpin(&self->ep, self->slot));
	EXPECT_EQ(want, vmmc_export(&self->ep, m + 100, 5000,
				    vmmc_test_name(2), ~0ULL, &self->id));
	if (!want)
		EXPECT_EQ(0, vmmc_unexport(&self->ep, self->id));
	EXPECT_EQ(pin0, vmmc_vm_pin_kb());
	/* the library's cache keeps a pin that worked */
	EXPECT_EQ(want, vmmc_pin_write(&self->ep, m, 4096));
	if (want)
		EXPECT_EQ(pin0, vmmc_vm_pin_kb());
	munmap(m, FLEN);
}

/* Only the last page is the file's: the whole range is refused. */
TEST_F(fp, partly_file_backed_range)
{
	uint8_t *m = mmap(NULL, 2 * FLEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long pin0 = vmmc_vm_pin_kb();
	int rc;

	NEED_FILE();

	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0x33, FLEN);
	ASSERT_EQ(m + FLEN, mmap(m + FLEN, FLEN, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, self->fd, 0));
	rc = pin(&self->ep, m, FLEN + 4096, VMMC_PIN_F_WRITE, &self->slot);
	EXPECT_EQ(variant->refused ? -EOPNOTSUPP : 0, rc);
	if (!rc)
		EXPECT_EQ(0, unpin(&self->ep, self->slot));
	EXPECT_EQ(pin0, vmmc_vm_pin_kb());
	munmap(m, 2 * FLEN);
}

/* A SEND source: pinned, and the NIC reads what the program writes later. */
TEST_F(fp, shared_mapping_send_source)
{
	uint8_t *m = map_file(self, MAP_SHARED);
	struct vmmc_cqe cqe;
	struct vmmc_sqe *sqe;

	NEED_FILE();

	ASSERT_NE(NULL, m);
	memset(m, 0x44, FLEN);
	ASSERT_EQ(0, pin(&self->ep, m, FLEN, 0, &self->slot));
	memset(m, 0x55, FLEN);			/* after the pin */
	ASSERT_EQ(0, msync(m, FLEN, MS_SYNC));	/* cleaned, written back */
	memset(m + 4096, 0x66, 4096);		/* and written again */
	sqe = vmmc_get_sqe(&self->ep);
	ASSERT_NE(NULL, sqe);
	vmmc_prep_send(sqe, self->slot, 0, FLEN, self->import_id, 0, 0, 0);
	vmmc_submit(&self->ep);
	ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 10000));
	EXPECT_EQ(VMMC_ST_OK, cqe.status);
	EXPECT_EQ(-1, vmmc_find_not(self->anon, 4096, 0x55));
	EXPECT_EQ(-1, vmmc_find_not(self->anon + 4096, 4096, 0x66));
	EXPECT_EQ(-1, vmmc_find_not(self->anon + 8192, FLEN - 8192, 0x55));
	EXPECT_EQ(0, unpin(&self->ep, self->slot));
	munmap(m, FLEN);
}

/* MAP_PRIVATE: the NIC writes the process's copy, never the file. */
TEST_F(fp, private_mapping_nic_write)
{
	uint8_t *m = map_file(self, MAP_PRIVATE), *src, disk[64];
	struct vmmc_cqe cqe;

	NEED_FILE();

	ASSERT_NE(NULL, m);
	ASSERT_EQ(64, pwrite(self->fd, memset(disk, 0x77, 64), 64, 0));
	ASSERT_EQ(0, vmmc_export(&self->ep, m, FLEN, vmmc_test_name(3),
				 1ULL << self->ep.info.node_id, &self->id));
	ASSERT_EQ(0, vmmc_import(&self->ep, self->ep.info.node_id,
				 vmmc_test_name(3), &self->imp, NULL));
	src = self->anon;
	ASSERT_EQ(0, vmmc_send(&self->ep, src, 64, self->imp, 0, 0, 2));
	ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 10000));
	EXPECT_EQ(VMMC_ST_OK, cqe.status);
	EXPECT_EQ(-1, vmmc_find_not(m, 64, 0x11));
	ASSERT_EQ(64, pread(self->fd, disk, 64, 0));
	EXPECT_EQ(-1, vmmc_find_not(disk, 64, 0x77));
	EXPECT_EQ(0, vmmc_unimport(&self->ep, self->imp));
	EXPECT_EQ(0, vmmc_unexport(&self->ep, self->id));
	munmap(m, FLEN);
}

TEST_HARNESS_MAIN

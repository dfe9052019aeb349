// SPDX-License-Identifier: GPL-2.0
/*
 * Description: /dev/vmmcN as a process sees it: probe and bind (and a
 * foreign ivshmem device left alone), VMMC_IOC_INFO, the mmap rules
 * (exact offsets and sizes, shared only, status read-only, no exec),
 * bad ioctl numbers and arguments, endpoint exhaustion and reuse.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

FIXTURE(dev) {
	int fd;
	struct vmmc_info info;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(VMMC_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", VMMC_DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(self->fd, VMMC_IOC_INFO, &self->info));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

static int read_sysfs(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* Every ivshmem device with the magic is bound to vmmc; others are not. */
TEST(bind_only_vmmc_nics)
{
	const char *base = "/sys/bus/pci/devices";
	int ivshmem = 0, bound = 0, foreign_unbound = 0;
	struct dirent *d;
	DIR *dir = opendir(base);

	ASSERT_NE(NULL, dir);
	while ((d = readdir(dir))) {
		char path[512], buf[64], link[512];
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", base, d->d_name);
		if (read_sysfs(path, buf, sizeof(buf)) || strtol(buf, 0, 16) != 0x1af4)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", base, d->d_name);
		if (read_sysfs(path, buf, sizeof(buf)) || strtol(buf, 0, 16) != 0x1110)
			continue;
		ivshmem++;
		snprintf(path, sizeof(path), "%s/%s/driver", base, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			EXPECT_NE(NULL, strstr(link, "/vmmc"));
			bound++;
		} else {
			foreign_unbound++;
		}
	}
	closedir(dir);
	EXPECT_EQ(1, bound);
	if (getenv("VMMC_FOREIGN_IVSHMEM"))
		EXPECT_EQ(1, foreign_unbound);
	EXPECT_EQ(ivshmem, bound + foreign_unbound);
}

TEST_F(dev, info)
{
	struct vmmc_info *i = &self->info;
	unsigned int r;

	EXPECT_EQ(VMMC_ABI_VERSION, i->abi_version);
	EXPECT_EQ(VMMC_NIC_VERSION, i->nic_version);
	EXPECT_EQ(VMMC_MAX_EPS, i->max_eps);
	EXPECT_GT(i->nr_nodes, i->node_id);
	if (getenv("VMMC_NODE"))
		EXPECT_EQ(atoi(getenv("VMMC_NODE")), (int)i->node_id);
	if (getenv("VMMC_NODES"))
		EXPECT_EQ(atoi(getenv("VMMC_NODES")), (int)i->nr_nodes);
	EXPECT_GT(VMMC_MAX_EPS, i->ep_id);
	EXPECT_EQ(VMMC_SQ_ENTRIES, i->sq_entries);
	EXPECT_EQ(VMMC_SQ_SIZE, i->sq_size);
	EXPECT_EQ(VMMC_CQ_ENTRIES, i->cq_entries);
	EXPECT_EQ(VMMC_NQ_ENTRIES, i->nq_entries);
	EXPECT_EQ(VMMC_EVQ_SIZE, i->evq_size);
	EXPECT_EQ(VMMC_REG_DOORBELL, i->doorbell_reg);
	/* the driver measured the cost of blocking when it bound the NIC */
	EXPECT_GT(i->spin_ns, 0);
	EXPECT_LT(i->spin_ns, 1000000000);
	for (r = 0; r < sizeof(i->reserved) / sizeof(i->reserved[0]); r++)
		EXPECT_EQ(0, i->reserved[r]);
}

TEST_F(dev, mmap_regions)
{
	const struct vmmc_nic_status *st;
	void *p;

	p = mmap(NULL, VMMC_SQ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, VMMC_OFF_SQ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, ((struct vmmc_ring_hdr *)p)->prod);
	EXPECT_EQ(0, ((struct vmmc_ring_hdr *)p)->cons);
	munmap(p, VMMC_SQ_SIZE);

	p = mmap(NULL, VMMC_EVQ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, VMMC_OFF_EVQ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, ((struct vmmc_ring_hdr *)p)->prod);
	munmap(p, VMMC_EVQ_SIZE);

	st = mmap(NULL, VMMC_PAGE_SIZE, PROT_READ, MAP_SHARED, self->fd,
		  VMMC_OFF_STATUS);
	ASSERT_NE(MAP_FAILED, st);
	EXPECT_EQ(VMMC_NIC_MAGIC, st->magic);
	EXPECT_EQ(VMMC_NIC_VERSION, st->version);
	EXPECT_EQ(self->info.node_id, st->node_id);
	EXPECT_EQ(VMMC_SRAM_SQ, st->sq_off);
	EXPECT_TRUE(st->flags & VMMC_NIC_F_RUNNING);
	/* read-only for good: mprotect cannot add write */
	EXPECT_EQ(-1, mprotect((void *)st, VMMC_PAGE_SIZE,
			       PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap((void *)st, VMMC_PAGE_SIZE);

	p = mmap(NULL, VMMC_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, VMMC_OFF_DOORBELL);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("doorbell: %s", strerror(errno));
	munmap(p, VMMC_PAGE_SIZE);
}

static void expect_mmap_fails(struct __test_metadata *_metadata, int fd,
			      size_t len, int prot, int flags, off_t off,
			      int err)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	EXPECT_EQ(MAP_FAILED, p) {
		munmap(p, len);
		TH_LOG("mmap len %zu prot %#x flags %#x off %#llx succeeded",
		       len, prot, flags, (unsigned long long)off);
	}
	if (p == MAP_FAILED)
		EXPECT_EQ(err, errno) TH_LOG("off %#llx len %zu: %s",
					     (unsigned long long)off, len,
					     strerror(errno));
}

TEST_F(dev, mmap_bad)
{
	const int rw = PROT_READ | PROT_WRITE;
	const off_t offs[] = { VMMC_OFF_SQ, VMMC_OFF_EVQ, VMMC_OFF_STATUS,
			       VMMC_OFF_DOORBELL };
	const size_t sizes[] = { VMMC_SQ_SIZE, VMMC_EVQ_SIZE, VMMC_PAGE_SIZE,
				 VMMC_PAGE_SIZE };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		/* too small, too large, shifted by a page, private */
		expect_mmap_fails(_metadata, self->fd, sizes[i] - 4096 ?
				  sizes[i] - 4096 : 2 * sizes[i], PROT_READ,
				  MAP_SHARED, offs[i], EINVAL);
		expect_mmap_fails(_metadata, self->fd, sizes[i] + 4096,
				  PROT_READ, MAP_SHARED, offs[i], EINVAL);
		expect_mmap_fails(_metadata, self->fd, sizes[i], PROT_READ,
				  MAP_SHARED, offs[i] + 4096, EINVAL);
		expect_mmap_fails(_metadata, self->fd, sizes[i], PROT_READ,
				  MAP_PRIVATE, offs[i], EINVAL);
		expect_mmap_fails(_metadata, self->fd, sizes[i],
				  PROT_READ | PROT_EXEC, MAP_SHARED, offs[i],
				  EPERM);
	}
	/* the status page is read-only */
	expect_mmap_fails(_metadata, self->fd, VMMC_PAGE_SIZE, rw, MAP_SHARED,
			  VMMC_OFF_STATUS, EPERM);
	/* nothing else exists: control page, contexts, other SQs */
	expect_mmap_fails(_metadata, self->fd, VMMC_PAGE_SIZE, PROT_READ,
			  MAP_SHARED, 0x400000, EINVAL);
	expect_mmap_fails(_metadata, self->fd, VMMC_SQ_SIZE, rw, MAP_SHARED,
			  VMMC_OFF_SQ + VMMC_SQ_SIZE, EINVAL);
	expect_mmap_fails(_metadata, self->fd, VMMC_PAGE_SIZE, rw, MAP_SHARED,
			  0x7ffffffff000LL, EINVAL);
}

TEST_F(dev, bad_ioctls)
{
	struct vmmc_wait w = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, _IO('V', 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('X', 0x00, struct vmmc_info), 0));
	EXPECT_EQ(ENOTTY, errno);
	/* right number, wrong size encoded */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('V', 0x00, int), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VMMC_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VMMC_IOC_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VMMC_IOC_WAIT, NULL));
	EXPECT_EQ(EFAULT, errno);
	w.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VMMC_IOC_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	w.flags = 0;
	w.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VMMC_IOC_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	w.reserved[1] = 0;
	/* nothing pending: a zero timeout does not block */
	EXPECT_EQ(-1, ioctl(self->fd, VMMC_IOC_WAIT, &w));
	EXPECT_EQ(ETIMEDOUT, errno);
}

/* All slots taken gives EBUSY; closing gives every slot back. */
TEST_F(dev, endpoint_exhaustion)
{
	int fds[VMMC_MAX_EPS + 1], n, i, fd;

	for (n = 0; n < VMMC_MAX_EPS + 1; n++) {
		fds[n] = open(VMMC_DEV, O_RDWR);
		if (fds[n] < 0)
			break;
	}
	/* the fixture holds one endpoint; other tests may hold none */
	EXPECT_EQ(VMMC_MAX_EPS - 1, n);
	EXPECT_EQ(EBUSY, errno);
	for (i = 0; i < n; i++)
		close(fds[i]);
	for (i = 0; i < 3; i++) {
		fd = open(VMMC_DEV, O_RDWR);
		EXPECT_LE(0, fd);
		close(fd);
	}
}

/* A mapping outlives close(): the slot stays taken until munmap. */
TEST_F(dev, mapping_keeps_slot)
{
	struct vmmc_info info;
	int fd = open(VMMC_DEV, O_RDWR), fd2;
	void *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VMMC_IOC_INFO, &info));
	p = mmap(NULL, VMMC_SQ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 VMMC_OFF_SQ);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	/* the old SQ window is still ours and still writable */
	((struct vmmc_ring_hdr *)p)->flags = 0x5a5a;
	fd2 = open(VMMC_DEV, O_RDWR);
	ASSERT_LE(0, fd2);
	struct vmmc_info info2;

	ASSERT_EQ(0, ioctl(fd2, VMMC_IOC_INFO, &info2));
	EXPECT_NE(info.ep_id, info2.ep_id);
	close(fd2);
	munmap(p, VMMC_SQ_SIZE);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the user-level translation cache against the real kernel.
 * A source sent from again is a hit: no pin, and no system call at all
 * (SECCOMP_MODE_STRICT). munmap of a pinned send buffer bumps utlb_gen and
 * the library recovers: a new buffer at the same address sends its NEW
 * bytes. Past RLIMIT_MEMLOCK (as an unprivileged user) exports and pins
 * fail with ENOMEM, sends evict least recently used ranges to fit, fail
 * with ENOMEM while every range is in flight, and nothing is leaked.
 * The limit holds to the page for pins and exports together, a page too
 * many fails with ENOMEM and charges nothing (VmPin), and UNPIN,
 * UNEXPORT, munmap under a pin and close each give the charge back. A
 * page-table clear (MADV_DONTNEED) drops a pin at once: bytes written
 * right after it are the ones sent.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"
#define KiB	1024UL

FIXTURE(utlb) {
	struct vmmc_ep rx, tx;
	uint8_t *dst;
	uint32_t export_id, import_id;
};

FIXTURE_SETUP(utlb)
{
	uint32_t name = vmmc_test_name(5);

	ASSERT_EQ(0, vmmc_ep_open(&self->rx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	self->dst = mmap(NULL, 1024 * KiB, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->dst);
	ASSERT_EQ(0, vmmc_export(&self->rx, self->dst, 1024 * KiB, name,
				 1ULL << self->rx.info.node_id, &self->export_id));
	ASSERT_EQ(0, vmmc_import(&self->tx, self->rx.info.node_id, name,
				 &self->import_id, NULL));
}

FIXTURE_TEARDOWN(utlb)
{
	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->rx);
	munmap(self->dst, 1024 * KiB);
}

static int send_wait(struct vmmc_ep *ep, const void *src, size_t len,
		     uint32_t imp, uint64_t off)
{
	struct vmmc_cqe cqe;
	int err = vmmc_send(ep, src, len, imp, off, 0, 7);

	if (err)
		return err;
	err = vmmc_wait_cqe(ep, &cqe, 10000);
	if (err)
		return err;
	return cqe.status == VMMC_ST_OK && cqe.user_data == 7 ? 0 : -EIO;
}

TEST_F(utlb, hit_is_free)
{
	struct vmmc_utlb_stats st;
	static uint8_t buf[32 * 1024] __attribute__((aligned(65536)));
	volatile uint32_t *prog;
	struct vmmc_cqe cqe;
	int status, i;
	uint32_t name;
	pid_t pid;

	/*
	 * One miss covers all: buf is at the end of .bss, so the granule may
	 * reach unmapped memory and the library pins just buf's pages.
	 */
	ASSERT_EQ(0, send_wait(&self->tx, buf, 10000, self->import_id, 0));
	for (i = 1; i < 500; i++)
		ASSERT_EQ(0, send_wait(&self->tx, buf + i * 7, 1 + i * 13,
				       self->import_id, i));
	vmmc_utlb_stats(&self->tx, &st);
	EXPECT_EQ(500, st.lookups);
	EXPECT_EQ(499, st.hits) TH_LOG("pins %llu errors %llu flushes %llu",
				       (unsigned long long)st.pins,
				       (unsigned long long)st.pin_errors,
				       (unsigned long long)st.flushes);
	EXPECT_EQ(1, st.pins);
	/*
	 * and a hit makes no system call: any would kill the child (which
	 * takes its one miss on an endpoint of its own: the parent's is not
	 * the child's to use)
	 */
	name = vmmc_test_name(5);
	/* the child's progress, for the parent to tell if it never ends */
	prog = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, prog);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vmmc_ep own;
		uint32_t imp;

		if (vmmc_ep_open(&own, VMMC_DEV) ||
		    vmmc_import(&own, self->rx.info.node_id, name, &imp, NULL) ||
		    send_wait(&own, buf, 10000, imp, 0))
			syscall(SYS_exit, 6);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			syscall(SYS_exit, 3);
		for (i = 0; i < 2000; i++) {
			if (vmmc_send(&own, buf + i % 1000, 5000, imp, i, 0, i))
				syscall(SYS_exit, 4);
			prog[0] = (uint32_t)i + 1;	/* posted */
			prog[1] = own.sq_prod;
			prog[2] = vmmc_read_once(&own.status->flags);
			while (!vmmc_peek_cqe(&own))
				;
			prog[3] = (uint32_t)i + 1;	/* completed */
			cqe = *vmmc_peek_cqe(&own);
			vmmc_cqe_seen(&own);
			if (cqe.status || cqe.user_data != (uint64_t)i)
				syscall(SYS_exit, 5);
		}
		syscall(SYS_exit, 0);
	}
	/* the harness gives the test 30 s: tell what the child waits for */
	for (i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 200) {
		TH_LOG("the child is stuck: SENDs posted %u (SQ prod %u, NIC flags %#x when posted), completed %u",
		       prog[0], prog[1], prog[2], prog[3]);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		munmap((void *)prog, 4096);
		ASSERT_TRUE(false);
	}
	munmap((void *)prog, 4096);
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("killed by %d: a system call on a hit",
					     WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(utlb, munmap_bumps_gen_and_library_recovers)
{
	struct vmmc_utlb_stats st;
	uint32_t gen0 = vmmc_utlb_gen(&self->tx);
	size_t len = 256 * KiB;
	uint8_t *a, *b;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	memset(a, 'A', len);
	ASSERT_EQ(0, send_wait(&self->tx, a + 100, len - 200, self->import_id, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, len - 200, 'A'));
	ASSERT_EQ(0, munmap(a, len));
	EXPECT_NE(gen0, vmmc_utlb_gen(&self->tx)) TH_LOG("utlb_gen did not move");
	b = mmap(a, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ(a, b);
	memset(b, 'B', len);
	ASSERT_EQ(0, send_wait(&self->tx, b + 100, len - 200, self->import_id, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, len - 200, 'B'))
		TH_LOG("the old pages were sent");
	vmmc_utlb_stats(&self->tx, &st);
	EXPECT_LE(1, st.flushes);
	/* a hole punched next to the buffer, inside its granule, too */
	gen0 = vmmc_utlb_gen(&self->tx);
	ASSERT_EQ(0, munmap(b + len - 4096, 4096));
	memset(b, 'C', 8192);
	ASSERT_EQ(0, send_wait(&self->tx, b + 10, 8000, self->import_id, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, 8000, 'C'));
	EXPECT_NE(gen0, vmmc_utlb_gen(&self->tx));
	munmap(b, len - 4096);
}

/*
 * A page-table clear drops a UTLB pin at once, whatever its cause: the
 * kernel cannot tell MADV_DONTNEED (the pages go) from MADV_FREE or a
 * reclaim scan (they stay) before the clear is done, and a program may
 * write the fresh pages and send them the moment madvise returns; a pin
 * checked later would send the old pages. So: DONTNEED, write, send at
 * once: the NEW bytes arrive. MADV_FREE also moves utlb_gen (the price:
 * one re-pin), and the pages stay the process's.
 */
TEST_F(utlb, clear_drops_pin_at_once)
{
	struct vmmc_utlb_stats st0, st;
	size_t len = 256 * KiB;
	uint32_t gen0;
	int round;
	uint8_t *a;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	for (round = 0; round < 8; round++) {
		memset(a, 'F' + round, len);
		ASSERT_EQ(0, send_wait(&self->tx, a, len, self->import_id, 0));
		EXPECT_EQ(-1, vmmc_find_not(self->dst, len, 'F' + round));
		gen0 = vmmc_utlb_gen(&self->tx);
		ASSERT_EQ(0, madvise(a, len, MADV_DONTNEED));
		EXPECT_NE(gen0, vmmc_utlb_gen(&self->tx))
			TH_LOG("round %d: DONTNEED left the pin in place", round);
		memset(a, 'f' + round, len);
		ASSERT_EQ(0, send_wait(&self->tx, a, len, self->import_id, 0));
		ASSERT_EQ(-1, vmmc_find_not(self->dst, len, 'f' + round))
			TH_LOG("round %d: the old pages were sent", round);
	}
	vmmc_utlb_stats(&self->tx, &st0);
	gen0 = vmmc_utlb_gen(&self->tx);
	ASSERT_EQ(0, madvise(a, len, MADV_FREE));
	EXPECT_NE(gen0, vmmc_utlb_gen(&self->tx));
	ASSERT_EQ(0, send_wait(&self->tx, a + 1, len - 2, self->import_id, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->dst, len - 2, 'f' + round - 1));
	vmmc_utlb_stats(&self->tx, &st);
	EXPECT_EQ(st0.pins + 1, st.pins);
	munmap(a, len);
}

/* As nobody with RLIMIT_MEMLOCK = 128 KiB (32 pages); exit code = step. */
static int memlock_child(uint32_t node, uint32_t name, uint32_t peer)
{
	struct rlimit rl = { 128 * KiB, 128 * KiB };
	struct vmmc_utlb_stats st;
	struct vmmc_cqe cqe;
	struct vmmc_ep ep;
	uint32_t id, imp;
	uint8_t *m;
	int i;

	m = mmap(NULL, 2112 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || vmmc_ep_open(&ep, VMMC_DEV))
		return 1;
	/* granule-aligned, so that each 64 KiB below is one whole pin */
	m = (uint8_t *)(((uintptr_t)m + 64 * KiB - 1) & ~(64 * KiB - 1));
	memset(m, 9, 2048 * KiB);
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgid(65534) || setuid(65534))
		return 2;
	if (vmmc_export(&ep, m, 1024 * KiB, name, 1ULL << node, &id) != -ENOMEM)
		return 3;
	if (vmmc_pin(&ep, m, 1024 * KiB) != -ENOMEM)
		return 4;
	if (vmmc_import(&ep, node, peer, &imp, NULL))
		return 5;
	if (vmmc_send(&ep, m, 1024 * KiB, imp, 0, 0, 1) != -ENOMEM)
		return 6;
	/* four 64 KiB granules, one at a time: LRU eviction makes room */
	for (i = 0; i < 8; i++)
		if (send_wait(&ep, m + (i % 4) * 64 * KiB, 100, imp, 0))
			return 7;
	vmmc_utlb_stats(&ep, &st);
	if (!st.evictions || st.pinned_pages > 32)
		return 8;
	/* two in flight (not reaped) fill the limit: the third fails */
	if (vmmc_send(&ep, m + 1024 * KiB, 100, imp, 0, 0, 1) ||
	    vmmc_send(&ep, m + 1088 * KiB, 100, imp, 0, 0, 2))
		return 9;
	if (vmmc_send(&ep, m + 1152 * KiB, 100, imp, 0, 0, 3) != -ENOMEM)
		return 10;
	if (vmmc_wait_cqe(&ep, &cqe, 5000) || vmmc_wait_cqe(&ep, &cqe, 5000))
		return 11;
	if (send_wait(&ep, m + 1152 * KiB, 100, imp, 0))
		return 12;
	return 0;
}

/*
 * Child @pid (forked by the test) must end with status 0 (else the step
 * it failed at), leaving the driver's pinned pages and exports as they
 * were before it (@pinned0, @exports0).
 */
static void expect_clean_exit(struct __test_metadata *_metadata, pid_t pid,
			      long long pinned0, long long exports0)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("failed at step %d",
						 WEXITSTATUS(status));
	usleep(100000);
	EXPECT_EQ(pinned0, vmmc_ctl_stat(CTL, "pinned_pages"));
	EXPECT_EQ(exports0, vmmc_ctl_stat(CTL, "exports"));
}

TEST_F(utlb, memlock_enomem_nothing_leaked)
{
	long long pinned0 = vmmc_ctl_stat(CTL, "pinned_pages");
	long long exports0 = vmmc_ctl_stat(CTL, "exports");
	uint32_t name, peer;
	pid_t pid;

	ASSERT_LE(0, pinned0);
	name = vmmc_test_name(6);
	peer = vmmc_test_name(5);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(memlock_child(self->rx.info.node_id, name, peer));
	expect_clean_exit(_metadata, pid, pinned0, exports0);
}

static int pin_raw(int fd, void *addr, uint64_t len, uint32_t *slot)
{
	struct vmmc_pin_req req = { .addr = (uintptr_t)addr, .len = len };

	if (ioctl(fd, VMMC_IOC_PIN, &req))
		return -errno;
	*slot = req.slot;
	return 0;
}

static int unpin_raw(int fd, uint32_t slot)
{
	struct vmmc_unpin_req req = { .slot = slot };

	return ioctl(fd, VMMC_IOC_UNPIN, &req) ? -errno : 0;
}

/*
 * As nobody with RLIMIT_MEMLOCK = 128 KiB: pins and exports share the
 * limit to the page, a page more fails with exactly ENOMEM and charges
 * nothing (VmPin), and every way of letting go gives the charge back:
 * UNPIN, UNEXPORT, munmap under a pin, close. Exit code = step.
 */
static int boundary_child(void)
{
	struct rlimit rl = { 128 * KiB, 128 * KiB };
	uint32_t s1, s2, id;
	struct vmmc_ep ep;
	uint8_t *m;

	m = mmap(NULL, 256 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || vmmc_ep_open(&ep, VMMC_DEV))
		return 1;
	memset(m, 3, 256 * KiB);
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgid(65534) || setuid(65534))
		return 2;
	if (vmmc_vm_pin_kb() != 0)
		return 3;
	/* exactly the limit: 32 pages, then one byte (one page) more */
	if (pin_raw(ep.fd, m, 128 * KiB, &s1) || vmmc_vm_pin_kb() != 128)
		return 4;
	if (pin_raw(ep.fd, m + 200 * KiB, 1, &s2) != -ENOMEM ||
	    vmmc_vm_pin_kb() != 128)
		return 5;
	/* a range straddling a page boundary is two pages, both counted */
	if (unpin_raw(ep.fd, s1) || vmmc_vm_pin_kb() != 0)
		return 6;
	if (pin_raw(ep.fd, m + 4095, 2, &s1) || vmmc_vm_pin_kb() != 8)
		return 7;
	/* pins and exports share it: 30 pages exported fit, 31 do not */
	if (vmmc_export(&ep, m + 128 * KiB, 31 * 4096, vmmc_test_name(9),
			1ULL << ep.info.node_id, &id) != -ENOMEM ||
	    vmmc_vm_pin_kb() != 8)
		return 8;
	if (vmmc_export(&ep, m + 128 * KiB, 30 * 4096, vmmc_test_name(9),
			1ULL << ep.info.node_id, &id) || vmmc_vm_pin_kb() != 128)
		return 9;
	if (pin_raw(ep.fd, m + 64 * KiB, 1, &s2) != -ENOMEM)
		return 10;
	if (vmmc_unexport(&ep, id) || vmmc_vm_pin_kb() != 8)
		return 11;
	/* munmap under a pin: the kernel drops it and the charge with it */
	if (munmap(m, 8192))
		return 12;
	usleep(100000);	/* the reaper unpins */
	if (vmmc_vm_pin_kb() != 0 || unpin_raw(ep.fd, s1) != -EINVAL)
		return 13;
	/* close gives back what is pinned at the time */
	if (pin_raw(ep.fd, m + 8192, 120 * KiB, &s1) || vmmc_vm_pin_kb() != 120)
		return 14;
	vmmc_ep_close(&ep);
	if (vmmc_vm_pin_kb() != 0)
		return 15;
	/* RLIMIT_MEMLOCK 0: not a page */
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || vmmc_ep_open(&ep, VMMC_DEV))
		return 16;
	if (pin_raw(ep.fd, m + 8192, 1, &s1) != -ENOMEM || vmmc_vm_pin_kb() != 0)
		return 17;
	vmmc_ep_close(&ep);
	return 0;
}

TEST(memlock_exact_boundary)
{
	long long pinned0 = vmmc_ctl_stat(CTL, "pinned_pages");
	long long exports0 = vmmc_ctl_stat(CTL, "exports");
	pid_t pid;

	ASSERT_LE(0, pinned0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(boundary_child());
	expect_clean_exit(_metadata, pid, pinned0, exports0);
}

TEST_HARNESS_MAIN

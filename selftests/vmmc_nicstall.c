// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a stalled NIC never wedges the driver. The fabric (the NIC,
 * a host process) is stopped with a real SIGSTOP from the host (vmrun
 * --fabric-signals) for longer than any of the driver's time-outs, while
 * this process unpins, unexports, munmaps an exported buffer, a child
 * closes an endpoint holding pins and exports by exiting, and another is
 * killed in a blocking wait. Each returns within a bound; what needs the
 * NIC fails with ETIMEDOUT at once; nothing is unpinned while the NIC is
 * stopped (the pinned_pages gauge does not move, grave_pages and
 * zombie_eps say what is kept, nic_stalled is 1, the log says so). After
 * SIGCONT every page comes back, exports and the data path work again,
 * and the module unloads. An IMPORT waiting for the stopped NIC is
 * killable; SHUTDOWN on it says EIO and keeps the pages. A NIC that never comes back: an unbind gives
 * up on what it kept (pinned for good) and lets the module go. The host
 * helper sends the signals only to the fabric; without it the tests SKIP.
 */
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"
#define PAGES	16
#define STALL_S	7.0	/* > the driver's 2 s ack and 5 s mailbox time-outs */

static long long st(const char *key)
{
	return vmmc_ctl_stat(CTL, key);
}

/* Wait up to @secs for a driver gauge to reach @want: its last value. */
static long long st_becomes(const char *key, long long want, double secs)
{
	double end = vmmc_now_s() + secs;
	long long v;

	while ((v = st(key)) != want && vmmc_now_s() < end)
		usleep(100000);
	return v;
}

static void *pages(size_t n)
{
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, n * 4096);
	return p;
}

/* raw ioctls: the library's caches would hide what the driver does */
static int pin(int fd, void *addr, size_t len, uint32_t *slot)
{
	struct vmmc_pin_req r = { .addr = (uintptr_t)addr, .len = len };

	if (ioctl(fd, VMMC_IOC_PIN, &r))
		return -errno;
	*slot = r.slot;
	return 0;
}

static int unpin(int fd, uint32_t slot)
{
	struct vmmc_unpin_req r = { .slot = slot };

	return ioctl(fd, VMMC_IOC_UNPIN, &r) ? -errno : 0;
}

static int export(int fd, void *addr, size_t len, uint32_t name, uint32_t *id)
{
	struct vmmc_export_req r = {
		.addr = (uintptr_t)addr, .len = len, .perm_nodes = ~0ULL,
		.name = name,
	};

	if (ioctl(fd, VMMC_IOC_EXPORT, &r))
		return -errno;
	*id = r.export_id;
	return 0;
}

static int unexport(int fd, uint32_t id)
{
	return ioctl(fd, VMMC_IOC_UNEXPORT, &id) ? -errno : 0;
}

static int import(int fd, uint32_t node, uint32_t name)
{
	struct vmmc_import_req r = { .node = node, .name = name };

	return ioctl(fd, VMMC_IOC_IMPORT, &r) ? -errno : 0;
}

/*
 * A child that opens an endpoint, pins and exports PAGES pages each (or
 * blocks in VMMC_IOC_WAIT if @waiter), says "r" on @up and exits when
 * @down closes. @fds: the parent's descriptors it must not keep (the
 * parent's endpoint, the pipes' other ends). Its pid, or -1.
 */
static pid_t child(int up, int down, const int *fds, uint32_t name,
		   int waiter)
{
	struct vmmc_wait w = { .timeout_ms = 120000 };
	struct vmmc_ep ep;
	uint32_t slot = 0, id = 0;
	pid_t pid = fork();
	char c;

	if (pid)
		return pid;
	while (*fds >= 0)
		close(*fds++);
	if (vmmc_ep_open(&ep, VMMC_DEV))
		_exit(2);
	if (!waiter && (pin(ep.fd, pages(PAGES), PAGES * 4096, &slot) ||
			export(ep.fd, pages(PAGES), PAGES * 4096, name, &id)))
		_exit(3);
	if (write(up, "r", 1) != 1)
		_exit(4);
	if (waiter)
		ioctl(ep.fd, VMMC_IOC_WAIT, &w);
	else
		(void)!read(down, &c, 1);
	_exit(0);
}

/* Reap @pid within @secs: its wait status, or -1 if it is still there. */
static int reap_within(pid_t pid, double secs)
{
	double end = vmmc_now_s() + secs;
	int status;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(20000);
	} while (vmmc_now_s() < end);
	return -1;
}

FIXTURE(ns) {
	int unused;
};

FIXTURE_SETUP(ns)
{
}

/* never leave the NIC stopped for the tests after us */
FIXTURE_TEARDOWN(ns)
{
	if (vmmc_sig_dir())
		vmmc_host_req(vmmc_sig_dir(), "CONT");
}

TEST_F_TIMEOUT(ns, stall_then_recover, 120)
{
	uint32_t name = vmmc_test_name(0x5a11), slot = 0, idb = 0, idc = 0, id = 0;
	int up[2], down[2], fds[4], status, r;
	long long base, held;
	struct vmmc_cqe cqe;
	pid_t c1, c2;
	struct vmmc_ep ep;
	void *a, *b, *c, *d;
	double t0, t;
	char ch;

	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	base = st("pinned_pages");
	a = pages(PAGES);
	b = pages(PAGES);
	c = pages(PAGES);
	d = pages(PAGES);
	ASSERT_TRUE(a && b && c && d);
	ASSERT_EQ(0, pin(ep.fd, a, PAGES * 4096, &slot));
	ASSERT_EQ(0, export(ep.fd, b, PAGES * 4096, name, &idb));
	ASSERT_EQ(0, export(ep.fd, c, PAGES * 4096, name + 1, &idc));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	fds[0] = ep.fd;
	fds[1] = up[0];
	fds[2] = down[1];
	fds[3] = -1;
	c1 = child(up[1], down[0], fds, name + 2, 0);
	c2 = child(up[1], down[0], fds, 0, 1);
	ASSERT_TRUE(c1 > 0 && c2 > 0);
	ASSERT_EQ(1, read(up[0], &ch, 1));
	ASSERT_EQ(1, read(up[0], &ch, 1));
	usleep(200000);		/* the waiter is asleep in the driver */
	held = st("pinned_pages");
	EXPECT_EQ(base + 5 * PAGES, held);

	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "STOP"));
	t0 = vmmc_now_s();
	/*
	 * The first ack missed (here in the MMU notifier, under mmap_lock)
	 * takes the driver's 2 s; no later one waits.
	 */
	EXPECT_EQ(0, munmap(c, PAGES * 4096));
	EXPECT_EQ(0, unpin(ep.fd, slot));
	EXPECT_EQ(0, unexport(ep.fd, idb));
	t = vmmc_now_s() - t0;
	EXPECT_LT(t, 6.0) TH_LOG("munmap, unpin, unexport took %.1f s", t);
	t0 = vmmc_now_s();
	EXPECT_EQ(-ETIMEDOUT, export(ep.fd, d, PAGES * 4096, name + 3, &id));
	EXPECT_EQ(-ETIMEDOUT, import(ep.fd, ep.info.node_id, name + 2));
	t = vmmc_now_s() - t0;
	EXPECT_LT(t, 1.0) TH_LOG("a stalled NIC's EXPORT/IMPORT took %.1f s", t);
	/* a closing endpoint (pins, exports) and a killed waiter exit */
	close(down[1]);
	kill(c2, SIGKILL);
	status = reap_within(c1, 6.0);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("closing child: status %#x", status);
	status = reap_within(c2, 6.0);
	EXPECT_TRUE(WIFSIGNALED(status)) TH_LOG("killed waiter: %#x", status);
	/* nothing handed back while the NIC may still use it */
	EXPECT_EQ(held, st("pinned_pages"));
	EXPECT_EQ(1, st("nic_stalled"));
	EXPECT_LE(1, st("fence_timeouts"));
	EXPECT_LE(4 * PAGES, st("grave_pages"));
	EXPECT_LE(1, st("zombie_eps"));
	EXPECT_EQ(0, system("dmesg | grep -q 'NIC stalled'"));
	t = STALL_S - (vmmc_now_s() - t0);
	if (t > 0)
		usleep(t * 1e6);
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "CONT"));

	/* everything comes back */
	EXPECT_EQ(0, st_becomes("nic_stalled", 0, 10));
	EXPECT_EQ(0, st_becomes("grave_pages", 0, 10));
	EXPECT_EQ(0, st_becomes("zombie_eps", 0, 10));
	EXPECT_EQ(base, st_becomes("pinned_pages", base, 10));
	EXPECT_EQ(0, export(ep.fd, d, PAGES * 4096, name + 3, &id));
	EXPECT_EQ(0, import(ep.fd, ep.info.node_id, name + 3));
	EXPECT_EQ(0, unexport(ep.fd, id));
	vmmc_prep_nop(vmmc_get_sqe(&ep), 77, 0);
	vmmc_submit(&ep);
	r = vmmc_wait_cqe(&ep, &cqe, 5000);
	EXPECT_EQ(0, r);
	EXPECT_EQ(77, cqe.user_data);
	vmmc_ep_close(&ep);
	EXPECT_EQ(0, st_becomes("live_eps", 0, 5));
	EXPECT_EQ(0, st("pinned_pages"));
	EXPECT_EQ(0, st("exports"));
}

/*
 * An IMPORT asleep in the mailbox (the NIC stopped before it answered, no
 * stall declared yet) dies at once with its process: the wait is
 * killable. Its exit then meets the stopped NIC (one fence time-out, 2 s)
 * and leaves the endpoint as a zombie until SIGCONT. The late answer to
 * the killed IMPORT is ignored: the next IMPORT gets its own.
 */
TEST_F_TIMEOUT(ns, import_killed_while_nic_stopped, 60)
{
	uint32_t name = vmmc_test_name(0x5a13), id = 0;
	int go[2], up[2], status;
	struct vmmc_ep ep;
	double t0, t;
	pid_t pid;
	char ch;

	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(up));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vmmc_ep cep;

		if (vmmc_ep_open(&cep, VMMC_DEV))
			_exit(2);
		if (write(up[1], "r", 1) != 1 || read(go[0], &ch, 1) != 1)
			_exit(3);
		import(cep.fd, cep.info.node_id, name);
		_exit(4);	/* answered: the NIC was not stopped */
	}
	ASSERT_EQ(1, read(up[0], &ch, 1));
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "STOP"));
	ASSERT_EQ(1, write(go[1], "g", 1));
	usleep(500000);		/* the IMPORT is asleep in the mailbox */
	EXPECT_EQ(0, st("nic_stalled"));
	t0 = vmmc_now_s();
	kill(pid, SIGKILL);
	status = reap_within(pid, 4.0);
	t = vmmc_now_s() - t0;
	EXPECT_TRUE(status != -1 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL)
		TH_LOG("the importer: status %#x after %.1f s", status, t);
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "CONT"));
	if (status == -1)
		waitpid(pid, &status, 0);
	EXPECT_EQ(0, st_becomes("nic_stalled", 0, 10));
	EXPECT_EQ(0, st_becomes("zombie_eps", 0, 10));
	ASSERT_EQ(0, export(ep.fd, pages(PAGES), PAGES * 4096, name, &id));
	EXPECT_EQ(0, import(ep.fd, ep.info.node_id, name));
	EXPECT_EQ(0, unexport(ep.fd, id));
	vmmc_ep_close(&ep);
	EXPECT_EQ(0, st_becomes("live_eps", 0, 5));
}

/*
 * SHUTDOWN while the NIC is stopped: EIO after the fence time-out, and
 * nothing the NIC may still use is unpinned; the shell says ESHUTDOWN
 * from then on. After SIGCONT the pages come back.
 */
TEST_F_TIMEOUT(ns, shutdown_on_stopped_nic_eio, 60)
{
	uint32_t name = vmmc_test_name(0x5a14), slot = 0, id = 0;
	long long base, held;
	struct vmmc_ep ep;
	double t0, t;
	int r;

	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	base = st("pinned_pages");
	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	ASSERT_EQ(0, pin(ep.fd, pages(PAGES), PAGES * 4096, &slot));
	ASSERT_EQ(0, export(ep.fd, pages(PAGES), PAGES * 4096, name, &id));
	held = st("pinned_pages");
	EXPECT_EQ(base + 2 * PAGES, held);
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "STOP"));
	t0 = vmmc_now_s();
	r = ioctl(ep.fd, VMMC_IOC_SHUTDOWN, 0) ? -errno : 0;
	t = vmmc_now_s() - t0;
	EXPECT_EQ(-EIO, r);
	EXPECT_LT(t, 6.0) TH_LOG("SHUTDOWN on a stopped NIC took %.1f s", t);
	EXPECT_EQ(-ESHUTDOWN, ioctl(ep.fd, VMMC_IOC_SHUTDOWN, 0) ? -errno : 0);
	EXPECT_EQ(-ESHUTDOWN, unpin(ep.fd, slot));
	EXPECT_EQ(held, st("pinned_pages"));
	EXPECT_LE(2 * PAGES, st("grave_pages"));
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "CONT"));
	EXPECT_EQ(0, st_becomes("nic_stalled", 0, 10));
	EXPECT_EQ(0, st_becomes("grave_pages", 0, 10));
	EXPECT_EQ(base, st_becomes("pinned_pages", base, 10));
	vmmc_ep_close(&ep);	/* the shell goes with its mappings */
	EXPECT_EQ(0, st_becomes("live_eps", 0, 5));
}

/* ... and after all that, the module unloads (and loads again) */
TEST_F_TIMEOUT(ns, module_unloads, 60)
{
	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	EXPECT_EQ(0, st_becomes("zombie_eps", 0, 10));
	EXPECT_EQ(0, st("live_eps"));
	ASSERT_EQ(0, system("rmmod vmmc"));
	ASSERT_EQ(0, system("insmod build/vmmc.ko"));
	EXPECT_EQ(0, st("fence_timeouts"));
}

/*
 * A NIC that never comes back: an unbind gives up on what it kept. The
 * pages stay pinned for good, but the module can go (and come back).
 */
TEST_F_TIMEOUT(ns, unbind_gives_up_module_goes, 90)
{
	char dev[256] = "", cmd[512];
	int up[2], down[2], fds[4];
	ssize_t n;
	pid_t c1;
	char ch;

	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	n = readlink("/sys/class/vmmc/vmmc0/device", dev, sizeof(dev) - 1);
	ASSERT_LT(0, n);
	dev[n] = 0;
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	fds[0] = up[0];
	fds[1] = down[1];
	fds[2] = -1;
	c1 = child(up[1], down[0], fds, vmmc_test_name(0x5a12), 0);
	ASSERT_LT(0, c1);
	ASSERT_EQ(1, read(up[0], &ch, 1));

	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "STOP"));
	close(down[1]);
	EXPECT_EQ(0, reap_within(c1, 8.0));
	EXPECT_EQ(1, st_becomes("zombie_eps", 1, 5));
	EXPECT_EQ(2 * PAGES, st("grave_pages"));
	snprintf(cmd, sizeof(cmd),
		 "echo %s > /sys/bus/pci/drivers/vmmc/unbind", strrchr(dev, '/') + 1);
	EXPECT_EQ(0, system(cmd));
	EXPECT_EQ(0, system("rmmod vmmc"));
	EXPECT_EQ(0, system("dmesg | grep -q 'stay pinned for good'"));
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "CONT"));
	ASSERT_EQ(0, system("grep -q '^vmmc ' /proc/modules || insmod build/vmmc.ko"));
	EXPECT_EQ(0, st_becomes("live_eps", 0, 5));
	EXPECT_EQ(0, st("zombie_eps"));
}

TEST_HARNESS_MAIN

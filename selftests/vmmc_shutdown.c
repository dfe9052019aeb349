// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_shutdown.c - the owner's teardown while another process holds the
 * fd (VMMC_IOC_SHUTDOWN, which vmmc_ep_close() issues), the shell it
 * leaves, who may issue it, and the owner's AIO poll.
 *
 * owner_close_with_child_holding_fd: the owner exports a buffer, another
 *	process imports it and SENDs, a forked child keeps the fd; the
 *	owner's vmmc_ep_close() revokes the export at once: the importer's
 *	next SEND gets REVOKED and the buffer (reused by the owner) keeps
 *	its bytes; pins and exports are gone while the child still holds
 *	the fd, the endpoint when it exits.
 * shutdown_leaves_shell: after SHUTDOWN every ioctl and mmap fails with
 *	ESHUTDOWN, poll reports POLLERR | POLLHUP, a WAIT asleep wakes with
 *	ESHUTDOWN, unknown numbers still get ENOTTY.
 * shutdown_drops_spin_claim: SHUTDOWN gives up the endpoint's spin
 *	measurement claim (another endpoint's CLAIM then succeeds).
 * child_cannot_shut_down: a forked child gets EPERM for SHUTDOWN, ENOTTY
 *	for unknown numbers (isatty() is false with ENOTTY), and its
 *	vmmc_ep_close() leaves the parent's endpoint working.
 * close_under_ioctl_filter: a seccomp filter that answers every ioctl
 *	with EPERM does not make the opener's vmmc_ep_close() leave its
 *	mappings behind.
 * aio_poll_by_owner: an IOCB_CMD_POLL by the owner, completed by a
 *	kworker after a SEND with NOTIFY, reports POLLIN, not POLLERR.
 */
#define _GNU_SOURCE
#include <linux/aio_abi.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"
#include "vmmc_fork.h"

#define LEN	(16 << 10)
#define FILL	0x5a
#define EVIL	0xee	/* what the importer sends */
#define REUSE	0x3c	/* the owner's new use of its buffer */
#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"
#define BAD_CMD	_IO(VMMC_IOC_MAGIC, 0x7f)

FIXTURE(sd) {
	struct vmmc_ep own, tx;
	uint8_t *buf, *src;
	uint32_t name, export_id, import_id, slot;
};

static int pin_src(struct vmmc_ep *ep, void *addr, uint32_t *slot)
{
	struct vmmc_pin_req req = { .addr = (uintptr_t)addr, .len = 4096 };

	if (ioctl(ep->fd, VMMC_IOC_PIN, &req))
		return -errno;
	*slot = req.slot;
	return 0;
}

/* One SEND of a page from @slot to @import; its status (1000+: no CQE). */
static uint32_t send_page(struct vmmc_ep *ep, uint32_t import, uint32_t slot,
			  uint8_t flags)
{
	struct vmmc_sqe *sqe = vmmc_get_sqe(ep);
	struct vmmc_cqe cqe;

	if (!sqe)
		return 1000;
	vmmc_prep_send(sqe, slot, 0, 4096, import, 0, flags, 0);
	vmmc_submit(ep);
	if (vmmc_wait_cqe(ep, &cqe, 10000))
		return 1001;
	return cqe.status;
}

FIXTURE_SETUP(sd)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, vmmc_ep_open(&self->own, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	self->buf = vmmc_page_map(LEN, FILL);
	self->src = vmmc_page_map(4096, EVIL);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_NE(MAP_FAILED, self->src);
	self->name = vmmc_test_name(1);
	ASSERT_EQ(0, vmmc_export(&self->own, self->buf, LEN, self->name, ~0ULL,
				 &self->export_id));
	ASSERT_EQ(0, vmmc_import(&self->tx, self->own.info.node_id,
				 self->name, &self->import_id, NULL));
	ASSERT_EQ(0, pin_src(&self->tx, self->src, &self->slot));
}

FIXTURE_TEARDOWN(sd)
{
	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->own);
	munmap(self->buf, LEN);
	munmap(self->src, 4096);
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static long long gauge(const char *key)
{
	return vmmc_ctl_stat(CTL, key);
}

/* Poll a gauge for up to 15 s until it reads @want; what it read last. */
static long long gauge_until(const char *key, long long want)
{
	long long v = gauge(key);
	int i;

	for (i = 0; i < 150 && v != want; i++) {
		usleep(100000);
		v = gauge(key);
	}
	return v;
}

static size_t not_count(const uint8_t *p, size_t len, uint8_t c)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += p[i] != c;
	return n;
}

/* What the importer saw; in shared memory. */
struct imp_rep {
	uint32_t st1, st2;	/* SEND before and after the owner's close */
	int32_t reimport;	/* IMPORT of the name after it */
};

/* The importer: another process, its own endpoint, on the same node. */
static int importer(uint32_t node, uint32_t name, int ready, int go,
		    struct imp_rep *rep)
{
	struct vmmc_ep ep;
	uint32_t imp = 0, slot = 0, imp2 = 0;
	uint8_t *src = vmmc_page_map(4096, EVIL);
	char b = 0;

	if (src == MAP_FAILED || vmmc_ep_open(&ep, VMMC_DEV))
		return 1;
	if (vmmc_import(&ep, node, name, &imp, NULL) || pin_src(&ep, src, &slot))
		return 2;
	rep->st1 = send_page(&ep, imp, slot, 0);
	if (write(ready, &b, 1) != 1 || read(go, &b, 1) != 1)
		return 3;
	rep->st2 = send_page(&ep, imp, slot, 0);
	rep->reimport = vmmc_import(&ep, node, name, &imp2, NULL);
	vmmc_ep_close(&ep);
	return 0;
}

TEST_F_TIMEOUT(sd, owner_close_with_child_holding_fd, 180)
{
	long long pins0 = gauge("pinned_pages"), exp0 = gauge("exports");
	long long eps0 = gauge("live_eps"), imps0 = gauge("imports");
	uint32_t name = vmmc_test_name(2), id;
	int ready[2], go[2], held[2];
	struct vmmc_ep p;
	struct imp_rep *rep;
	uint8_t *pbuf;
	pid_t imp, holder;
	char b;

	ASSERT_LE(0, pins0);
	ASSERT_LE(0, exp0);
	ASSERT_LE(0, imps0);
	rep = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pbuf = vmmc_page_map(LEN, FILL);
	ASSERT_NE(MAP_FAILED, rep);
	ASSERT_NE(MAP_FAILED, pbuf);
	rep->st1 = rep->st2 = 999;
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(held));
	ASSERT_EQ(0, vmmc_ep_open(&p, VMMC_DEV));
	ASSERT_EQ(0, vmmc_export(&p, pbuf, LEN, name, ~0ULL, &id));

	imp = fork();
	ASSERT_LE(0, imp);
	if (imp == 0) {
		vmmc_ep_close(&p);	/* a child: closes its fd only */
		_exit(importer(p.info.node_id, name, ready[1], go[0], rep));
	}
	ASSERT_EQ(1, read(ready[0], &b, 1));
	ASSERT_EQ(VMMC_ST_OK, rep->st1);
	EXPECT_EQ(-1, vmmc_find_not(pbuf, 4096, EVIL));	/* it landed */

	holder = fork();	/* keeps p.fd, and does nothing with it */
	ASSERT_LE(0, holder);
	if (holder == 0) {
		close(held[1]);
		_exit(read(held[0], &b, 1) == 0 ? 0 : 1);
	}
	close(held[0]);

	vmmc_ep_close(&p);
	memset(pbuf, REUSE, LEN);	/* the owner's memory, its new use */
	ASSERT_EQ(1, write(go[1], &b, 1));
	ASSERT_EQ(0, wait_child(imp));
	EXPECT_EQ(VMMC_ST_REVOKED, rep->st2);
	EXPECT_EQ(-ENOENT, rep->reimport);
	EXPECT_EQ(-1, vmmc_find_not(pbuf, LEN, REUSE)) {
		TH_LOG("the importer wrote %zu bytes into the closed owner's buffer",
		       not_count(pbuf, LEN, REUSE));
	}
	/* the child still holds the fd: only the endpoint's shell is left */
	EXPECT_EQ(pins0, gauge_until("pinned_pages", pins0));
	EXPECT_EQ(exp0, gauge_until("exports", exp0));
	EXPECT_EQ(imps0, gauge_until("imports", imps0));
	EXPECT_EQ(eps0 + 1, gauge("live_eps"));

	close(held[1]);
	EXPECT_EQ(0, wait_child(holder));
	EXPECT_EQ(eps0, gauge_until("live_eps", eps0));
	EXPECT_EQ(pins0, gauge("pinned_pages"));
	/* the fixture's export still works */
	EXPECT_EQ(VMMC_ST_OK, send_page(&self->tx, self->import_id,
					self->slot, 0));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	munmap(pbuf, LEN);
	munmap(rep, 4096);
}

static void *waiter(void *arg)
{
	struct vmmc_ep *ep = arg;
	struct vmmc_wait w = { .timeout_ms = 30000 };

	return (void *)(intptr_t)(ioctl(ep->fd, VMMC_IOC_WAIT, &w) ? errno : 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F_TIMEOUT(sd, shutdown_leaves_shell, 120)
{
	struct vmmc_ep *o = &self->own;
	struct vmmc_pin_req pin = { .addr = (uintptr_t)self->buf, .len = 4096 };
	struct vmmc_wait w = { 0 };
	struct pollfd pfd = { .fd = o->fd, .events = POLLIN };
	struct vmmc_info info;
	struct termios tio;
	long long blocks0 = gauge("wait_blocks");
	pthread_t th;
	void *res;
	double t0;

	EXPECT_EQ(EINVAL, fk_ioctl(o->fd, VMMC_IOC_SHUTDOWN, (void *)1));
	ASSERT_EQ(0, pthread_create(&th, NULL, waiter, o));
	/* let it block, if the host lets it run (else it still must fail) */
	for (int i = 0; i < 50 && gauge("wait_blocks") == blocks0; i++)
		usleep(100000);
	t0 = now_s();
	ASSERT_EQ(0, fk_ioctl(o->fd, VMMC_IOC_SHUTDOWN, NULL));
	ASSERT_EQ(0, pthread_join(th, &res));
	EXPECT_EQ(ESHUTDOWN, (int)(intptr_t)res);
	EXPECT_GT(20.0, now_s() - t0);	/* woken, not timed out */

	EXPECT_EQ(ESHUTDOWN, fk_ioctl(o->fd, VMMC_IOC_INFO, &info));
	EXPECT_EQ(ESHUTDOWN, fk_ioctl(o->fd, VMMC_IOC_WAIT, &w));
	EXPECT_EQ(ESHUTDOWN, fk_ioctl(o->fd, VMMC_IOC_PIN, &pin));
	EXPECT_EQ(ESHUTDOWN, fk_ioctl(o->fd, VMMC_IOC_UNEXPORT,
				      &self->export_id));
	EXPECT_EQ(ESHUTDOWN, fk_ioctl(o->fd, VMMC_IOC_SHUTDOWN, NULL));
	EXPECT_EQ(ENOTTY, fk_ioctl(o->fd, BAD_CMD, NULL));
	EXPECT_EQ(ENOTTY, fk_ioctl(o->fd, TCGETS, &tio));
	EXPECT_EQ(ESHUTDOWN, fk_mmap(o->fd, VMMC_OFF_STATUS, 4096, PROT_READ));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLERR | POLLHUP, pfd.revents);
	/* the export is revoked, its pages are the owner's alone again */
	memset(self->buf, REUSE, LEN);
	EXPECT_EQ(VMMC_ST_REVOKED, send_page(&self->tx, self->import_id,
					     self->slot, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->buf, LEN, REUSE));
	/* the owner's mappings stay until vmmc_ep_close() unmaps them */
	EXPECT_EQ(0, msync(o->status_map, 4096, MS_ASYNC));
}

static int spin_req(struct vmmc_ep *ep, uint32_t ns, uint32_t flags)
{
	struct vmmc_spin_req r = { .spin_ns = ns, .flags = flags };

	return fk_ioctl(ep->fd, VMMC_IOC_SET_SPIN, &r);
}

/*
 * A SHUTDOWN gives up the endpoint's spin measurement claim, as a close
 * does: else nobody measures until the last holder of the file closes it.
 */
TEST_F(sd, shutdown_drops_spin_claim)
{
	/* forget any measurement: the limit is open for a claim */
	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 0"));
	ASSERT_EQ(0, spin_req(&self->own, 0, VMMC_SPIN_CLAIM));
	EXPECT_EQ(EBUSY, spin_req(&self->tx, 0, VMMC_SPIN_CLAIM));
	ASSERT_EQ(0, fk_ioctl(self->own.fd, VMMC_IOC_SHUTDOWN, NULL));
	EXPECT_EQ(0, spin_req(&self->tx, 0, VMMC_SPIN_CLAIM))
		TH_LOG("another endpoint's CLAIM after the claimant's SHUTDOWN");
	EXPECT_EQ(0, spin_req(&self->tx, 0, VMMC_SPIN_UNCLAIM));
	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 0"));
}

TEST_F(sd, child_cannot_shut_down)
{
	struct termios tio;
	int st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = 0;

		bad |= fk_ioctl(self->own.fd, VMMC_IOC_SHUTDOWN, NULL) != EPERM;
		bad |= (fk_ioctl(self->own.fd, BAD_CMD, NULL) != ENOTTY) << 1;
		bad |= (fk_ioctl(self->own.fd, TCGETS, &tio) != ENOTTY) << 2;
		errno = 0;
		bad |= (isatty(self->own.fd) || errno != ENOTTY) << 3;
		vmmc_ep_close(&self->own);	/* must not shut it down */
		bad |= (self->own.sq_map || self->own.ksq ||
			self->own.doorbell) << 4;
		_exit(bad);
	}
	st = wait_child(pid);
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ(VMMC_ST_OK, send_page(&self->tx, self->import_id,
					self->slot, 0));
	EXPECT_EQ(-1, vmmc_find_not(self->buf, 4096, EVIL));
}

/* In a child that opened its own endpoint: ioctl answers EPERM. */
static int close_filtered(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	struct vmmc_ep ep;
	void *sq;

	if (vmmc_ep_open(&ep, VMMC_DEV))
		return 1;
	sq = ep.sq_map;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return 2;
	if (ioctl(ep.fd, VMMC_IOC_INFO, &ep.info) != -1 || errno != EPERM)
		return 3;
	vmmc_ep_close(&ep);
	/* unmapped: msync of it fails with ENOMEM */
	if (msync(sq, 4096, MS_ASYNC) == 0 || errno != ENOMEM)
		return 4;
	return 0;
}

TEST(close_under_ioctl_filter)
{
	int st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(close_filtered());
	st = wait_child(pid);
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) {
		if (WEXITSTATUS(st) == 4)
			TH_LOG("the opener's close left its SQ mapped");
	}
}

static long sys_io_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

TEST_F_TIMEOUT(sd, aio_poll_by_owner, 60)
{
	struct iocb cb = {
		.aio_data = 7,
		.aio_lio_opcode = IOCB_CMD_POLL,
		.aio_fildes = (uint32_t)self->own.fd,
		.aio_buf = POLLIN,
	};
	struct iocb *cbs[1] = { &cb };
	struct timespec zero = { 0, 0 }, ten = { 10, 0 };
	struct io_event ev = { 0 };
	aio_context_t ctx = 0;
	struct vmmc_nqe nqe;

	ASSERT_EQ(0, sys_io_setup(1, &ctx));
	ASSERT_EQ(1, syscall(SYS_io_submit, ctx, 1, cbs));
	/* nothing pending: the poll waits */
	EXPECT_EQ(0, syscall(SYS_io_getevents, ctx, 0, 1, &ev, &zero));
	ASSERT_EQ(VMMC_ST_OK, send_page(&self->tx, self->import_id, self->slot,
					VMMC_SQF_NOTIFY));
	ASSERT_EQ(1, syscall(SYS_io_getevents, ctx, 1, 1, &ev, &ten));
	EXPECT_EQ(7, ev.data);
	EXPECT_EQ(POLLIN, ev.res & (POLLIN | POLLERR | POLLHUP)) {
		TH_LOG("the owner's AIO poll completed with 0x%llx",
		       (unsigned long long)ev.res);
	}
	EXPECT_EQ(0, vmmc_wait_nqe(&self->own, &nqe, 1000));
	syscall(SYS_io_destroy, ctx);
}

TEST_HARNESS_MAIN

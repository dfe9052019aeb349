// SPDX-License-Identifier: GPL-2.0
/*
 * Description: an endpoint belongs to the process (the mm) that opened
 * it, from the side of one that did not. A forked child, a child of
 * clone() without CLONE_VM (sharing the fd table), a program exec'd after
 * vfork() and one that got the fd over SCM_RIGHTS: every ioctl and mmap
 * on the foreign fd fails with EPERM, poll and epoll say EPOLLERR. A
 * child finds none of the parent's mappings (SIGSEGV), so it can neither
 * post a SEND naming the parent's slots into an import of its own nor a
 * REDIRECT onto the parent's write pins, not even in SECCOMP_MODE_STRICT.
 * Bytes the parent (or the NIC for it) writes after the fork never reach
 * the child; the parent's endpoint works as before once the child is done.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"
#include "vmmc_fork.h"

#define LEN	(64 << 10)
#define FILL	0x5a
#define OLD	0x33	/* the parent's source before the fork */
#define SECRET	0xa5	/* ... and after */
#define WFILL	0x77	/* the parent's write pin (a redirect target) */
#define EVIL	0xee	/* what a child sends */

/* Shared with the children: what they saw. */
struct rep {
	int32_t import_rc;	/* IMPORT through the inherited fd */
	int32_t segv;		/* touching an inherited mapping faulted */
	int32_t posted;		/* a descriptor went through one */
	int32_t leaked;		/* SECRET bytes that reached the child */
	int32_t old_src;	/* the child's copies hold what they held */
	int32_t old_dst;
	int32_t touched[4];	/* 0 readable, -1 faulted: sq, evq, status, db */
	struct fk_probe probe;
};

FIXTURE(fk) {
	struct vmmc_ep rx, tx;
	uint8_t *dst, *src, *wbuf;
	struct fk_target t;
	uint32_t wslot;
	struct rep *rep;
	int go[2];
};

static int pin_raw(struct vmmc_ep *ep, void *addr, size_t len, uint32_t flags,
		   uint32_t *slot)
{
	struct vmmc_pin_req req = { .addr = (uintptr_t)addr, .len = len,
				    .flags = flags };

	if (ioctl(ep->fd, VMMC_IOC_PIN, &req))
		return -errno;
	*slot = req.slot;
	return (int)req.nr_slots;
}

FIXTURE_SETUP(fk)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, vmmc_ep_open(&self->rx, VMMC_DEV));
	ASSERT_EQ(0, vmmc_ep_open(&self->tx, VMMC_DEV));
	self->dst = vmmc_page_map(LEN, FILL);
	self->src = vmmc_page_map(LEN, OLD);
	self->wbuf = vmmc_page_map(LEN, WFILL);
	self->rep = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->dst);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->wbuf);
	ASSERT_NE(MAP_FAILED, self->rep);
	self->t.node = self->rx.info.node_id;
	self->t.name = vmmc_test_name(1);
	ASSERT_EQ(0, vmmc_export(&self->rx, self->dst, LEN, self->t.name,
				 1ULL << self->t.node, &self->t.export_id));
	ASSERT_EQ(0, vmmc_import(&self->tx, self->t.node, self->t.name,
				 &self->t.import_id, NULL));
	ASSERT_EQ(1, pin_raw(&self->tx, self->src, 4096, 0, &self->t.slot));
	ASSERT_EQ(1, pin_raw(&self->rx, self->wbuf, 4096, VMMC_PIN_F_WRITE,
			     &self->wslot));
	ASSERT_EQ(0, pipe(self->go));
}

FIXTURE_TEARDOWN(fk)
{
	close(self->go[0]);
	close(self->go[1]);
	vmmc_ep_close(&self->tx);
	vmmc_ep_close(&self->rx);
	munmap(self->dst, LEN);
	munmap(self->src, LEN);
	munmap(self->wbuf, LEN);
	munmap(self->rep, 4096);
}

/* A SEND of the page at UTLB slot @slot to (@import, 0), not yet posted. */
static struct vmmc_sqe page_send(uint32_t import, uint32_t slot)
{
	struct vmmc_sqe sqe = { 0 };

	vmmc_prep_send(&sqe, slot, 0, 4096, import, 0, 0, 0);
	return sqe;
}

/* A REDIRECT (slot 0) of page 0 of @export onto UTLB slot @slot. */
static struct vmmc_sqe page_redirect(uint32_t export, uint32_t slot)
{
	struct vmmc_sqe sqe = { 0 };

	vmmc_prep_redirect(&sqe, 0, export, 0, slot, 0, 4096, 0);
	return sqe;
}

/* The parent's endpoint, pins, import and export work as before. */
static int parent_works(FIXTURE_DATA(fk) *self)
{
	struct pollfd pfd = { .fd = self->tx.fd, .events = POLLIN };
	struct vmmc_sqe sqe = page_send(self->t.import_id, self->t.slot);
	uint32_t st;

	memset(self->src, 0x42, 4096);
	memset(self->dst, FILL, LEN);
	st = vmmc_post_raw(&self->tx, &sqe);
	if (st != VMMC_ST_OK)
		return 100 + (int)st;
	if (vmmc_find_not(self->dst, 4096, 0x42) != -1)
		return 2;
	if (poll(&pfd, 1, 0) != 0)
		return 3;	/* nothing pending, and no error */
	if (vmmc_find_not(self->wbuf, LEN, WFILL) != -1)
		return 4;
	return 0;
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* ---- the foreign caller's system calls ---- */

TEST_F(fk, forked_child_gets_eperm)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		fk_probe(self->tx.fd, &self->t, vmmc_page_map(4096, 1),
			 &self->rep->probe);
		close(self->tx.fd);	/* allowed: it is only a reference */
		close(self->rx.fd);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(0, fk_check(&self->rep->probe, "forked child"));
	EXPECT_EQ(0, parent_works(self));
}

/* clone() without CLONE_VM but with CLONE_FILES: the same fd table. */
TEST_F(fk, clone_files_without_vm_gets_eperm)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);

	ASSERT_LE(0, pid);
	if (pid == 0) {
		fk_probe(self->rx.fd, &self->t, vmmc_page_map(4096, 1),
			 &self->rep->probe);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(0, fk_check(&self->rep->probe, "clone(CLONE_FILES)"));
	EXPECT_EQ(0, parent_works(self));
}

/* ---- a program exec'd with the fd (selftests/vmmc_fork.c itself) ---- */

/*
 * VMMC_FORK_PROBE="FD SOCK CLOFD OUT node name export import slot": probe
 * FD (or the fd received on SOCK when FD is -1), check that CLOFD (an
 * O_CLOEXEC endpoint fd of the parent) is closed, write the result to OUT.
 */
__attribute__((constructor)) static void fk_exec_probe(void)
{
	const char *e = getenv("VMMC_FORK_PROBE");
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct fk_probe p = { .gone = 0 };
	int fd, sock, clofd, out;
	struct fk_target t;

	if (!e)
		return;
	if (sscanf(e, "%d %d %d %d %u %u %u %u %u", &fd, &sock, &clofd, &out,
		   &t.node, &t.name, &t.export_id, &t.import_id, &t.slot) != 9)
		_exit(90);
	if (fd < 0) {
		if (recvmsg(sock, &msg, 0) != 1 || !CMSG_FIRSTHDR(&msg))
			_exit(91);
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(fd));
	}
	p.gone = fcntl(clofd, F_GETFD) < 0 && errno == EBADF;
	fk_probe(fd, &t, vmmc_page_map(4096, 1), &p);
	_exit(write(out, &p, sizeof(p)) == sizeof(p) ? 0 : 92);
}

static void probe_env(FIXTURE_DATA(fk) *self, char *env, size_t n, int fd,
		      int sock, int out)
{
	snprintf(env, n, "VMMC_FORK_PROBE=%d %d %d %d %u %u %u %u %u", fd,
		 sock, self->tx.fd, out, self->t.node, self->t.name,
		 self->t.export_id, self->t.import_id, self->t.slot);
}

static int read_probe(int fd, struct fk_probe *p)
{
	return read(fd, p, sizeof(*p)) == sizeof(*p) ? 0 : -1;
}

/*
 * vfork + exec (posix_spawn's way): the new image holds a dup of the fd.
 * Until it execs, a vfork child is the owner (it runs in our mm).
 */
TEST_F(fk, vfork_exec_gets_eperm)
{
	char env[256], *argv[] = { "vmmc_fork", NULL }, *envp[] = { env, NULL };
	static struct vmmc_info vinfo;
	struct fk_probe p;
	int out[2], fd;
	pid_t pid;

	/* before its exec a vfork child runs in our address space: owner */
	pid = vfork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(ioctl(self->tx.fd, VMMC_IOC_INFO, &vinfo) ? errno : 0);
	ASSERT_EQ(0, wait_child(pid));
	ASSERT_EQ(0, pipe(out));
	fd = dup(self->tx.fd);			/* without FD_CLOEXEC */
	ASSERT_LE(0, fd);
	probe_env(self, env, sizeof(env), fd, -1, out[1]);
	pid = vfork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(out[1]);
	ASSERT_EQ(0, read_probe(out[0], &p));
	close(out[0]);
	close(fd);
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(1, p.gone);	/* libvmmc's own fd is O_CLOEXEC */
	EXPECT_EQ(0, fk_check(&p, "vfork+exec"));
	EXPECT_EQ(0, parent_works(self));
}

/* Another process, handed the fd over SCM_RIGHTS. */
TEST_F(fk, scm_rights_receiver_gets_eperm)
{
	char env[256], *argv[] = { "vmmc_fork", NULL }, *envp[] = { env, NULL };
	char cbuf[CMSG_SPACE(sizeof(int))], b = 'x';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct fk_probe p;
	int out[2], sv[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(out));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	probe_env(self, env, sizeof(env), -1, sv[1], out[1]);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(out[1]);
	close(sv[1]);
	CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &self->rx.fd, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &msg, 0));
	ASSERT_EQ(0, read_probe(out[0], &p));
	close(out[0]);
	close(sv[0]);
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(1, p.gone);
	EXPECT_EQ(0, fk_check(&p, "SCM_RIGHTS receiver"));
	EXPECT_EQ(0, parent_works(self));
}

/*
 * The owner exits while a child of it still holds its endpoint's fd: the
 * owner's address space is gone, and with it every pin of the endpoint
 * (its export is revoked: a new import finds nothing), though the child
 * keeps the file, and so the endpoint and its export slot, open; the
 * child's exit then releases the endpoint itself.
 */
#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"

static long long gauge(const char *key)
{
	return vmmc_ctl_stat(CTL, key);
}

TEST_F_TIMEOUT(fk, child_outlives_owner, 180)
{
	long long pins0 = gauge("pinned_pages"), exp0 = gauge("exports");
	long long eps0 = gauge("live_eps"), pins = -1;
	uint32_t name = vmmc_test_name(7), imp;
	int held[2], i;
	pid_t owner;
	char b;

	ASSERT_LE(0, pins0);
	ASSERT_EQ(0, pipe(held));
	owner = fork();
	ASSERT_LE(0, owner);
	if (owner == 0) {
		struct vmmc_ep ep;
		uint8_t *m = vmmc_page_map(2 * 4096, 1);
		uint32_t id, slot;

		if (vmmc_ep_open(&ep, VMMC_DEV) ||
		    pin_raw(&ep, m, 4096, 0, &slot) != 1 ||
		    vmmc_export(&ep, m + 4096, 4096, name, ~0ULL, &id))
			_exit(1);
		if (fork() == 0) {		/* holds ep.fd, O_CLOEXEC or not */
			close(held[1]);
			_exit(read(held[0], &b, 1) == 0 ? 0 : 1);
		}
		_exit(0);			/* without closing anything */
	}
	close(held[0]);
	ASSERT_EQ(0, wait_child(owner));
	for (i = 0; i < 150 && pins != pins0; i++) {
		if (i)
			usleep(100000);
		pins = gauge("pinned_pages");
	}
	EXPECT_EQ(pins0, pins);
	EXPECT_EQ(-ENOENT, vmmc_import(&self->tx, self->t.node, name, &imp,
				       NULL));
	EXPECT_EQ(eps0 + 1, gauge("live_eps"));	/* the child's reference */
	EXPECT_EQ(exp0 + 1, gauge("exports"));	/* revoked, not yet freed */
	close(held[1]);				/* the grandchild exits */
	for (i = 0; i < 150 && gauge("live_eps") != eps0; i++)
		usleep(100000);
	EXPECT_EQ(eps0, gauge("live_eps"));
	EXPECT_EQ(exp0, gauge("exports"));
	EXPECT_EQ(pins0, gauge("pinned_pages"));
	EXPECT_EQ(0, parent_works(self));
}

/* ---- the child and the parent's mappings ---- */

static sigjmp_buf fk_jmp;

static void fk_on_segv(int sig)
{
	siglongjmp(fk_jmp, 1);
}

/* 0 if the word reads, -1 if it faults (the mapping is not there). */
static int touch(const volatile uint32_t *p)
{
	if (sigsetjmp(fk_jmp, 1))
		return -1;
	(void)*p;
	return 0;
}

/* Count @c in [p, p + len). */
static int count(const uint8_t *p, size_t len, uint8_t c)
{
	int n = 0;

	while (len--)
		n += *p++ == c;
	return n;
}

/*
 * After the fork the parent writes SECRET into its pinned source and
 * sends it into its own export (the NIC writes the parent's page), then
 * says "go". The child checks its copies, then tries to make the NIC copy
 * the parent's source into an export of the child's own, through the
 * inherited SQ mapping of the parent's endpoint.
 */
static void go_parent(FIXTURE_DATA(fk) *self)
{
	struct vmmc_sqe sqe = page_send(self->t.import_id, self->t.slot);

	memset(self->src, SECRET, 4096);
	if (vmmc_post_raw(&self->tx, &sqe) != VMMC_ST_OK)
		memset(self->dst, 0, 1);	/* the child's check says so */
	if (write(self->go[1], "g", 1) != 1)
		return;
}

static void go_child(FIXTURE_DATA(fk) *self)
{
	char c;

	if (read(self->go[0], &c, 1) != 1)
		_exit(80);
	self->rep->old_src = count(self->src, 4096, OLD);
	self->rep->old_dst = count(self->dst, 4096, FILL);
}

/*
 * Where the parent's mappings of @ep were, keep the child's own new ones
 * out (else its own endpoint's SQ may land at the same address): a
 * PROT_NONE guard if the address is free, nothing if it is still mapped.
 */
static void hold_addresses(struct vmmc_ep *ep)
{
	void *const at[] = { ep->sq_map, ep->evq_map, ep->status_map,
			     ep->db_map };
	const size_t len[] = { VMMC_SQ_SIZE, VMMC_EVQ_SIZE, 4096, 4096 };
	unsigned int i;

	for (i = 0; i < 4; i++)
		mmap(at[i], len[i], PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		     MAP_FIXED_NOREPLACE, -1, 0);
}

/* The child's own endpoint and export, and an import of it (or not). */
static uint32_t child_target(FIXTURE_DATA(fk) *self, struct vmmc_ep *c,
			     uint8_t **cbuf)
{
	struct vmmc_import_req im = { .node = self->t.node };
	uint32_t id;

	hold_addresses(&self->tx);
	*cbuf = vmmc_page_map(4096, 0);
	im.name = vmmc_test_name(9);
	if (vmmc_ep_open(c, VMMC_DEV) ||
	    vmmc_export(c, *cbuf, 4096, im.name, ~0ULL, &id))
		_exit(81);
	self->rep->import_rc = fk_ioctl(self->tx.fd, VMMC_IOC_IMPORT, &im);
	/* refused: the parent's own handle, into the parent's export */
	return self->rep->import_rc ? self->t.import_id : im.import_id;
}

static void post_inherited(struct vmmc_ep *ep, struct vmmc_sqe in)
{
	struct vmmc_sqe *sqe;

	/* as an attacker would: the parent posted since the fork */
	ep->sq_prod = vmmc_read_once(&ep->ksq->prod);
	ep->sq_pending = 0;
	sqe = vmmc_get_sqe(ep);
	if (!sqe)
		return;
	*sqe = in;
	vmmc_submit(ep);
}

TEST_F(fk, inherited_mappings_are_gone)
{
	pid_t pid;

	/* and a program cannot ask for them back */
	EXPECT_EQ(-1, madvise(self->tx.sq_map, VMMC_SQ_SIZE, MADV_DOFORK));
	EXPECT_EQ(-1, madvise(self->tx.evq_map, VMMC_EVQ_SIZE, MADV_DOFORK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGSEGV, fk_on_segv);
		self->rep->touched[0] = touch(&self->tx.ksq->prod);
		self->rep->touched[1] = touch(&self->tx.kcq->prod);
		self->rep->touched[2] = touch(&self->tx.status->flags);
		self->rep->touched[3] = touch(self->tx.doorbell);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(-1, self->rep->touched[0]);
	EXPECT_EQ(-1, self->rep->touched[1]);
	EXPECT_EQ(-1, self->rep->touched[2]);
	EXPECT_EQ(-1, self->rep->touched[3]);
	EXPECT_EQ(0, parent_works(self));
}

TEST_F(fk, send_of_parent_slot_through_inherited_sq)
{
	struct vmmc_ep c;
	uint8_t *cbuf;
	uint32_t h;
	pid_t pid = fork();
	int i;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		h = child_target(self, &c, &cbuf);
		go_child(self);
		signal(SIGSEGV, fk_on_segv);
		if (sigsetjmp(fk_jmp, 1)) {
			self->rep->segv = 1;
		} else {
			post_inherited(&self->tx, page_send(h, self->t.slot));
			self->rep->posted = 1;
		}
		for (i = 0; self->rep->posted && i < 300 &&
			    !count(cbuf, 4096, SECRET); i++)
			usleep(10000);
		self->rep->leaked = count(cbuf, 4096, SECRET);
		_exit(0);
	}
	go_parent(self);
	ASSERT_EQ(0, wait_child(pid));
	TH_LOG("child: IMPORT %d, SQ fault %d, posted %d, %d bytes leaked",
	       self->rep->import_rc, self->rep->segv, self->rep->posted,
	       self->rep->leaked);
	EXPECT_EQ(EPERM, self->rep->import_rc);
	EXPECT_EQ(1, self->rep->segv);
	EXPECT_EQ(0, self->rep->posted);
	EXPECT_EQ(0, self->rep->leaked);
	EXPECT_EQ(4096, self->rep->old_src);
	EXPECT_EQ(4096, self->rep->old_dst);
	EXPECT_EQ(0, parent_works(self));
}

/* The child redirects the parent's export onto the parent's write pin. */
TEST_F(fk, redirect_onto_parent_write_pin)
{
	struct vmmc_ep c;
	struct vmmc_cqe cqe;
	uint8_t *cbuf;
	uint32_t h;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		hold_addresses(&self->rx);
		cbuf = vmmc_page_map(4096, EVIL);
		if (vmmc_ep_open(&c, VMMC_DEV) ||
		    vmmc_import(&c, self->t.node, self->t.name, &h, NULL))
			_exit(81);
		signal(SIGSEGV, fk_on_segv);
		if (sigsetjmp(fk_jmp, 1)) {
			self->rep->segv = 1;
		} else {
			post_inherited(&self->rx, page_redirect(self->t.export_id,
								self->wslot));
			self->rep->posted = 1;
			usleep(200000);
		}
		/* into the parent's export: allowed, it permits this node */
		if (vmmc_send(&c, cbuf, 4096, h, 0, 0, 1) ||
		    vmmc_wait_cqe(&c, &cqe, 10000) || cqe.status)
			_exit(82);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(1, self->rep->segv);
	EXPECT_EQ(0, self->rep->posted);
	TH_LOG("%d bytes of the child's reached the parent's write pin",
	       count(self->wbuf, 4096, EVIL));
	EXPECT_EQ(-1, vmmc_find_not(self->wbuf, LEN, WFILL));
	EXPECT_EQ(0, parent_works(self));
}

/*
 * SECCOMP_MODE_STRICT: read, write, exit. The child has only the
 * inherited mappings to act through; it is killed by the fault.
 */
TEST_F(fk, strict_child_with_inherited_mappings)
{
	struct vmmc_ep c;
	uint8_t *cbuf;
	uint32_t h;
	pid_t pid = fork();
	int status, i;
	char b;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		h = child_target(self, &c, &cbuf);
		go_child(self);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			_exit(83);
		post_inherited(&self->tx, page_send(h, self->t.slot));
		self->rep->posted = 1;
		if (read(self->go[0], &b, 1) != 1)	/* after 2 s */
			syscall(SYS_exit, 84);
		self->rep->leaked = count(cbuf, 4096, SECRET);
		syscall(SYS_exit, 0);
	}
	go_parent(self);
	for (i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 200) {
		EXPECT_EQ(1, write(self->go[1], "g", 1));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	}
	TH_LOG("strict child: status 0x%x, posted %d, %d bytes leaked", status,
	       self->rep->posted, self->rep->leaked);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));
	EXPECT_EQ(0, self->rep->posted);
	EXPECT_EQ(0, self->rep->leaked);
	EXPECT_EQ(0, parent_works(self));
}

TEST_HARNESS_MAIN

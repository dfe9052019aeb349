// SPDX-License-Identifier: GPL-2.0
/*
 * Description: one user cannot take the NIC from another. Each attack runs
 * in a forked child that became user nobody (65534; /dev/vmmc0 is mode
 * 0666): it cannot store the NIC-wide spin limit (EPERM), cannot open more
 * than max_eps_per_user endpoints nor make more than max_exports_per_user
 * exports (EDQUOT) while root and another user still open and export,
 * cannot take an export name that stands for a port below 1024 (EACCES),
 * as a socket bind() cannot, not even as root of its own user and network
 * namespaces (export names are the whole NIC's), and cannot import a stream connection's
 * region even knowing its name (ENOENT: the importer must present the
 * region's 64-bit key); netlink lets it read the NIC, not set it; and the
 * library works for it, with the driver's spin estimate. Every errno is
 * checked exactly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define CTL		"build/tools/vmmc_ctl/vmmc_ctl"
#define NOBODY		65534
#define OTHER		65533
#define MAX_OPEN	(VMMC_MAX_EPS + 1)

/* What a child reports: a page shared with the parent. */
struct report {
	int n;			/* how many succeeded */
	int err;		/* the errno that stopped it; 0: none */
	int err2;
	uint32_t names[32];	/* names for the child to import */
	int nr_names;
};

static struct report *rep;

/* Become @uid (and its group, no supplementary ones): 0 or -1. */
static int become(uid_t uid)
{
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		return -1;
	return getuid() == uid && geteuid() == uid ? 0 : -1;
}

/*
 * Run @fn in a child as @uid; @hold: the child then waits for a byte on
 * the returned pipe (the caller writes it) before it exits. Returns the
 * child's pid; *wfd the pipe to release it (or -1).
 */
static pid_t as_user(uid_t uid, int (*fn)(void *), void *arg, int *wfd)
{
	int go[2], ready[2];
	pid_t pid;
	char c;

	if (pipe(go) || pipe(ready))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int rc = 90;

		close(go[1]);
		close(ready[0]);
		if (!become(uid))
			rc = fn(arg);
		if (write(ready[1], "r", 1) != 1)
			_exit(91);
		if (wfd && read(go[0], &c, 1) < 0)
			_exit(92);
		_exit(rc);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		c = 0;
	close(ready[0]);
	if (wfd) {
		*wfd = go[1];
	} else {
		close(go[1]);
	}
	return pid;
}

static int reap(pid_t pid, int wfd)
{
	int status;

	if (wfd >= 0) {
		if (write(wfd, "g", 1) != 1)
			return -1;
		close(wfd);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int run_as(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = as_user(uid, fn, arg, NULL);

	return pid < 0 ? -1 : reap(pid, -1);
}

FIXTURE(lim) {
	int unused;
};

FIXTURE_SETUP(lim)
{
	rep = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rep);
	memset(rep, 0, sizeof(*rep));
	ASSERT_EQ(0, getuid());	/* the guest runs the tests as root */
}

FIXTURE_TEARDOWN(lim)
{
	munmap(rep, 4096);
}

/* --------------------------------------------------------- spin limit */

static int spin_attack(void *arg)
{
	struct vmmc_spin_req r = { .flags = VMMC_SPIN_CLAIM };
	int fd = open(VMMC_DEV, O_RDWR);

	if (fd < 0)
		return 1;
	rep->err = ioctl(fd, VMMC_IOC_SET_SPIN, &r) ? errno : 0;
	r.flags = 0;
	r.spin_ns = VMMC_SPIN_MAX_NS;
	rep->err2 = ioctl(fd, VMMC_IOC_SET_SPIN, &r) ? errno : 0;
	r.flags = VMMC_SPIN_UNCLAIM;
	r.spin_ns = 0;
	rep->n = ioctl(fd, VMMC_IOC_SET_SPIN, &r) ? errno : 0;
	close(fd);
	return 0;
}

static int spin_info(uint32_t *src)
{
	struct vmmc_info info;
	int fd = open(VMMC_DEV, O_RDWR);

	if (fd < 0 || ioctl(fd, VMMC_IOC_INFO, &info))
		return -1;
	close(fd);
	*src = info.spin_src;
	return (int)info.spin_ns;
}

/*
 * The spin limit holds for every endpoint: an unprivileged process may
 * neither claim its measurement nor store one, even when the limit is
 * the probe's estimate (just after an administrator's reset).
 */
TEST_F(lim, spin_store_needs_net_admin)
{
	uint32_t src0, src1;
	int ns0, ns1;

	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 0"));
	ns0 = spin_info(&src0);
	ASSERT_LE(0, ns0);
	ASSERT_GE(VMMC_SPIN_SRC_PROBE, src0);	/* open to a measurement */
	ASSERT_EQ(0, run_as(NOBODY, spin_attack, NULL));
	ns1 = spin_info(&src1);
	TH_LOG("nobody: CLAIM %s, store %s, UNCLAIM %s; spin_ns %d -> %d",
	       strerror(rep->err), strerror(rep->err2), strerror(rep->n),
	       ns0, ns1);
	EXPECT_EQ(EPERM, rep->err);
	EXPECT_EQ(EPERM, rep->err2);
	EXPECT_EQ(0, rep->n);		/* giving up nothing is harmless */
	EXPECT_EQ(ns0, ns1);
	EXPECT_EQ(src0, src1);
}

static int netlink_attack(void *arg)
{
	/* the family's dev-set and the dumps need CAP_NET_ADMIN */
	rep->err = WEXITSTATUS(system(CTL " dev set vmmc0 spin_ns 12345 2>/dev/null"));
	rep->err2 = WEXITSTATUS(system(CTL " ep show >/dev/null 2>&1"));
	rep->n = WEXITSTATUS(system(CTL " show >/dev/null 2>&1"));
	return 0;
}

/* Through netlink: nobody may read the NIC, not set it or list others. */
TEST_F(lim, netlink_set_needs_net_admin)
{
	uint32_t src0, src1;
	int ns0 = spin_info(&src0);

	ASSERT_EQ(0, run_as(NOBODY, netlink_attack, NULL));
	TH_LOG("nobody: dev set exit %d, ep show exit %d, show exit %d",
	       rep->err, rep->err2, rep->n);
	EXPECT_NE(0, rep->err);
	EXPECT_NE(0, rep->err2);
	EXPECT_EQ(0, rep->n);
	EXPECT_EQ(ns0, spin_info(&src1));
	EXPECT_EQ(src0, src1);
}

static int library_works(void *arg)
{
	struct vmmc_ep rx, tx;
	uint8_t *src, *dst;
	uint32_t exp, imp, name = vmmc_test_name(0x41);
	struct vmmc_cqe cqe;
	int err;

	src = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return 1;
	dst = src + 4096;
	memset(dst, 0, 4096);
	vmmc_fill_pattern(src, 4096, 5, 1, 0);
	err = vmmc_ep_open(&rx, VMMC_DEV) ?: vmmc_ep_open(&tx, VMMC_DEV);
	if (err)
		return 2;
	rep->n = (int)tx.info.spin_src;
	err = vmmc_export(&rx, dst, 4096, name, ~0ULL, &exp) ?:
	      vmmc_import(&tx, rx.info.node_id, name, &imp, NULL) ?:
	      vmmc_send(&tx, src, 4096, imp, 0, 0, 9) ?:
	      vmmc_wait_cqe(&tx, &cqe, 10000);
	if (err)
		return 3;
	if (cqe.status != VMMC_ST_OK || cqe.user_data != 9 ||
	    vmmc_check_pattern(dst, 4096, 5, 1, 0) != -1)
		return 4;
	vmmc_ep_close(&tx);
	vmmc_ep_close(&rx);
	return 0;
}

/*
 * libvmmc works unprivileged: its open does not measure the spin limit
 * (the claim fails EPERM, quietly) and uses the driver's estimate.
 */
TEST_F(lim, unprivileged_library_works)
{
	uint32_t src0, src1;

	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 0"));
	spin_info(&src0);
	ASSERT_GE(VMMC_SPIN_SRC_PROBE, src0);
	EXPECT_EQ(0, run_as(NOBODY, library_works, NULL));
	spin_info(&src1);
	EXPECT_EQ(src0, src1);		/* nobody measured nothing */
	EXPECT_EQ(src0, rep->n);
}

/* ---------------------------------------------------------- endpoints */

static int open_all(void *arg)
{
	static int fds[MAX_OPEN];
	int i;

	for (i = 0; i < MAX_OPEN; i++) {
		fds[i] = open(VMMC_DEV, O_RDWR);
		if (fds[i] < 0) {
			rep->err = errno;
			break;
		}
	}
	rep->n = i;
	return 0;	/* the fds stay open until the parent lets us go */
}

/* How many endpoints vmmc_ctl ep show lists for @uid. */
static int eps_of_uid(uid_t uid)
{
	char cmd[256], out[32] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 CTL " -j ep show | python3 -c \"import json,sys; print(len([e for e in json.load(sys.stdin) if e['uid'] == %u]))\"",
		 (unsigned int)uid);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (!fgets(out, sizeof(out), f))
		out[0] = 0;
	pclose(f);
	return out[0] ? atoi(out) : -1;
}

static int open_one(void *arg)
{
	int fd = open(VMMC_DEV, O_RDWR);

	rep->err2 = fd < 0 ? errno : 0;
	return 0;
}

/*
 * nobody opens endpoints until refused: it gets exactly max_eps_per_user
 * (EDQUOT after), and meanwhile root and another user still open theirs.
 */
TEST_F(lim, endpoints_per_user)
{
	long long max = vmmc_ctl_stat(CTL, "max_eps_per_user");
	int wfd, fd, rc;
	pid_t pid;

	pid = as_user(NOBODY, open_all, NULL, &wfd);
	ASSERT_LT(0, pid);
	TH_LOG("nobody opened %d endpoints (limit %lld), then %s", rep->n,
	       max, strerror(rep->err));
	EXPECT_EQ(max, rep->n);
	EXPECT_EQ(EDQUOT, rep->err);
	EXPECT_EQ(rep->n, vmmc_ctl_stat(CTL, "live_eps"));
	EXPECT_EQ(rep->n, eps_of_uid(NOBODY));	/* vmmc_ctl ep show */
	fd = open(VMMC_DEV, O_RDWR);
	EXPECT_LE(0, fd) TH_LOG("root's open: %s", strerror(errno));
	EXPECT_EQ(0, run_as(OTHER, open_one, NULL));
	EXPECT_EQ(0, rep->err2) TH_LOG("another user's open: %s",
				       strerror(rep->err2));
	rc = reap(pid, wfd);
	EXPECT_EQ(0, rc);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "live_eps"));
}

static int set_param(const char *name, long v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/vmmc/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", v);
	return fclose(f);
}

/*
 * The limit is the module parameter's value at each open, shown by
 * vmmc_ctl; 0 is no limit (nobody then takes every free slot: EBUSY).
 */
TEST_F(lim, endpoint_limit_is_a_module_parameter)
{
	long long max = vmmc_ctl_stat(CTL, "max_eps_per_user");
	pid_t pid;
	int wfd;

	ASSERT_EQ(0, set_param("max_eps_per_user", 3));
	EXPECT_EQ(3, vmmc_ctl_stat(CTL, "max_eps_per_user"));
	pid = as_user(NOBODY, open_all, NULL, &wfd);
	ASSERT_LT(0, pid);
	EXPECT_EQ(3, rep->n);
	EXPECT_EQ(EDQUOT, rep->err);
	EXPECT_EQ(0, reap(pid, wfd));
	ASSERT_EQ(0, set_param("max_eps_per_user", 0));
	pid = as_user(NOBODY, open_all, NULL, &wfd);
	ASSERT_LT(0, pid);
	TH_LOG("no limit: nobody opened %d, then %s", rep->n,
	       strerror(rep->err));
	EXPECT_EQ(VMMC_MAX_EPS, rep->n);
	EXPECT_EQ(EBUSY, rep->err);
	EXPECT_EQ(0, reap(pid, wfd));
	ASSERT_EQ(0, set_param("max_eps_per_user", max));
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "live_eps"));
}

/* root (CAP_SYS_RESOURCE) is not limited */
TEST_F(lim, root_exempt_from_endpoint_limit)
{
	long long max = vmmc_ctl_stat(CTL, "max_eps_per_user");
	int fds[VMMC_MAX_EPS], i, n;

	ASSERT_LT(0, max);
	ASSERT_GT(VMMC_MAX_EPS, max);
	for (n = 0; n <= max; n++) {
		fds[n] = open(VMMC_DEV, O_RDWR);
		if (fds[n] < 0)
			break;
	}
	EXPECT_EQ(max + 1, n) TH_LOG("root stopped at %d: %s", n,
				     strerror(errno));
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* ------------------------------------------------------------ exports */

/* nobody takes names 0 .. its limit; root and the other user beyond */
#define EXP_NAME(i)	(vmmc_test_name(0x40) + 0x1000 + (uint32_t)(i))

static int export_all(void *arg)
{
	struct vmmc_ep ep[2];
	uint8_t *buf;
	uint32_t id;
	int i, err = 0;

	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || vmmc_ep_open(&ep[0], VMMC_DEV) ||
	    vmmc_ep_open(&ep[1], VMMC_DEV))
		return 1;
	memset(buf, 1, 4096);
	/* both endpoints of the user count together */
	for (i = 0; i < VMMC_MAX_EXPORTS + 1; i++) {
		err = vmmc_export(&ep[i & 1], buf, 4096, EXP_NAME(i), ~0ULL,
				  &id);
		if (err)
			break;
	}
	rep->n = i;
	rep->err = -err;
	return 0;
}

/*
 * Export a fresh page under @name from an endpoint of our own, closed
 * again at once (and the export with it): the export's errno in *@err; 1
 * if there was no page or endpoint to try with, else 0.
 */
static int export_page(uint32_t name, int *err)
{
	struct vmmc_ep ep;
	uint8_t *buf;
	uint32_t id;

	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || vmmc_ep_open(&ep, VMMC_DEV))
		return 1;
	*err = -vmmc_export(&ep, buf, 4096, name, ~0ULL, &id);
	vmmc_ep_close(&ep);
	return 0;
}

static int export_one(void *arg)
{
	return export_page(EXP_NAME(VMMC_MAX_EXPORTS + 1000), &rep->err2);
}

/*
 * nobody exports until refused: exactly max_exports_per_user, over two
 * endpoints (EDQUOT after); root and another user still export.
 */
TEST_F(lim, exports_per_user)
{
	long long max = vmmc_ctl_stat(CTL, "max_exports_per_user");
	struct rlimit ml;
	uint8_t *buf;
	struct vmmc_ep ep;
	uint32_t id;
	int wfd, err;
	pid_t pid;

	/*
	 * The limit, not RLIMIT_MEMLOCK, must stop nobody: its pages are
	 * allowed (set as root, inherited across the fork), ours back after.
	 */
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &ml));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){
		RLIM_INFINITY, RLIM_INFINITY }));
	pid = as_user(NOBODY, export_all, NULL, &wfd);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &ml));
	ASSERT_LT(0, pid);
	TH_LOG("nobody made %d exports (limit %lld), then %s", rep->n, max,
	       strerror(rep->err));
	EXPECT_EQ(max, rep->n);
	EXPECT_EQ(EDQUOT, rep->err);
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	/* names past every one nobody may have taken */
	err = vmmc_export(&ep, buf, 4096, EXP_NAME(VMMC_MAX_EXPORTS + 2000),
			  ~0ULL, &id);
	EXPECT_EQ(0, err) TH_LOG("root's export: %s", strerror(-err));
	EXPECT_EQ(0, run_as(OTHER, export_one, NULL));
	EXPECT_EQ(0, rep->err2) TH_LOG("another user's export: %s",
				       strerror(rep->err2));
	vmmc_ep_close(&ep);
	EXPECT_EQ(0, reap(pid, wfd));
	munmap(buf, 4096);
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "exports"));
}

/* --------------------------------------------------------------- ports */

#define PORT_NAME(p)	(0x4c000000u | (p))	/* VMMC_NAME_PORT(p) */

static int export_port(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int fd;

	if (export_page(PORT_NAME(port), &rep->err))
		return 1;
	/* the socket library's bind() of the same port */
	fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (fd < 0)
		return 2;
	rep->err2 = -vmmc_sock_bind(fd, VS_SA(a));
	vmmc_sock_close(fd);
	return 0;
}

/* A port below 1024 needs CAP_NET_BIND_SERVICE, as TCP's does. */
TEST_F(lim, low_port_needs_bind_service)
{
	uint16_t high = vs_test_port(3);

	ASSERT_EQ(0, run_as(NOBODY, export_port, (void *)(uintptr_t)80));
	TH_LOG("nobody: export of port 80's name %s, bind() to 80 %s",
	       strerror(rep->err), strerror(rep->err2));
	EXPECT_EQ(EACCES, rep->err);
	EXPECT_EQ(EACCES, rep->err2);
	ASSERT_EQ(0, run_as(NOBODY, export_port, (void *)(uintptr_t)high));
	EXPECT_EQ(0, rep->err);
	EXPECT_EQ(0, rep->err2);
	/* root may */
	ASSERT_EQ(0, run_as(0, export_port, (void *)(uintptr_t)80));
	EXPECT_EQ(0, rep->err);
	EXPECT_EQ(0, rep->err2);
}

/* Write @s to the file @path: 0 or -errno. */
static int put_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		err = -errno;
	close(fd);
	return err;
}

/*
 * The guest runs the tests in a chroot, where unshare(CLONE_NEWUSER) is
 * refused (EPERM): root leaves it (chroot into a subdirectory, walk up
 * from the cwd outside it) and returns *@top, an fd of the chroot's top,
 * to go back to; an attacker outside a chroot needs no such step. 0 or -1.
 */
static int leave_chroot(int *top)
{
	const char *sub = "/tmp/vmmc_limits_unchroot";
	int i;

	*top = open("/", O_RDONLY | O_DIRECTORY);
	if (*top < 0 || (mkdir(sub, 0700) && errno != EEXIST) || chroot(sub))
		return -1;
	rmdir(sub);
	for (i = 0; i < 64; i++)
		if (chdir(".."))
			return -1;
	return chroot(".");
}

/*
 * nobody makes itself root of a new user namespace and of a network
 * namespace of its own, where it has CAP_NET_BIND_SERVICE and lowers
 * ip_unprivileged_port_start to 0; then it exports port 80's name.
 * Starts as root (leave_chroot()). 3: no unprivileged user namespaces
 * (rep->err2 says why).
 */
static int export_port_userns(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	int top;

	/* dumpable again after the setuid: /proc/self stays its own */
	if (leave_chroot(&top) || become(NOBODY) ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return 5;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		rep->err2 = errno;
		return 3;
	}
	/* root of its user namespace: it may chroot back */
	if (fchdir(top) || chroot(".") || chdir("/"))
		return 6;
	rep->err2 = -put_file("/proc/self/setgroups", "deny") ?:
		    -put_file("/proc/self/uid_map", "0 65534 1") ?:
		    -put_file("/proc/self/gid_map", "0 65534 1");
	if (rep->err2)
		return 4;
	/* 1: it could lower its own netns's port floor */
	rep->n = !put_file("/proc/sys/net/ipv4/ip_unprivileged_port_start",
			   "0");
	return export_page(PORT_NAME(port), &rep->err);
}

/*
 * Export names are the NIC's, not a network namespace's: the capability
 * counts in the initial user namespace, against the initial netns's
 * ip_unprivileged_port_start.
 */
TEST_F(lim, low_port_not_from_own_netns)
{
	int rc = run_as(0, export_port_userns, (void *)(uintptr_t)80);

	if (rc == 3)
		SKIP(return, "no unprivileged user namespaces here: unshare: %s",
		     strerror(rep->err2));
	ASSERT_EQ(0, rc) TH_LOG("child: %d (%s)", rc, strerror(rep->err2));
	TH_LOG("nobody, root of its own user and net namespaces (port floor lowered to 0: %s): export of port 80's name %s",
	       rep->n ? "yes" : "no", strerror(rep->err));
	EXPECT_EQ(1, rep->n);
	EXPECT_EQ(EACCES, rep->err);
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "exports"));
}

/* ------------------------------------------------- connection regions */

static int import_names(void *arg)
{
	struct vmmc_ep ep;
	uint32_t imp;
	int i, err;

	if (vmmc_ep_open(&ep, VMMC_DEV))
		return 1;
	for (i = 0; i < rep->nr_names; i++) {
		err = vmmc_import(&ep, ep.info.node_id, rep->names[i], &imp,
				  NULL);
		if (!err)
			rep->n++;
		else
			rep->err = -err;
	}
	vmmc_ep_close(&ep);
	return 0;
}

/* The names of this node's live connection regions, from netlink. */
static int conn_names(uint32_t *names, int max)
{
	FILE *f = popen(CTL " -j export show", "r");
	char buf[65536], *p;
	size_t len;
	int n = 0;

	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	pclose(f);
	buf[len] = 0;
	for (p = buf; n < max && (p = strstr(p, "\"name\":")); p++) {
		unsigned long v = strtoul(p + 7, NULL, 0);

		if ((v & 0xff000000u) == 0x43000000u)
			names[n++] = (uint32_t)v;
	}
	return n;
}

/*
 * A stream connection's receive region cannot be imported by a third
 * party even with its name in hand: the name is not the secret.
 */
TEST_F(lim, conn_region_needs_key)
{
	int lfd = -1, cfd = -1, afd = -1, n;
	uint8_t b = 7;

	ASSERT_EQ(0, vs_pair(vs_test_port(5), &lfd, &cfd, &afd));
	n = conn_names(rep->names, 32);
	ASSERT_EQ(2, n);	/* one region per direction */
	rep->nr_names = n;
	ASSERT_EQ(0, run_as(NOBODY, import_names, NULL));
	TH_LOG("nobody imported %d of %d connection regions by name (%s)",
	       rep->n, n, strerror(rep->err));
	EXPECT_EQ(0, rep->n);
	EXPECT_EQ(ENOENT, rep->err);
	/* and the connection still works */
	EXPECT_EQ(1, vmmc_sock_send(cfd, &b, 1, 0));
	b = 0;
	EXPECT_EQ(1, vmmc_sock_recv(afd, &b, 1, 0));
	EXPECT_EQ(7, b);
	vmmc_sock_close(afd);
	vmmc_sock_close(cfd);
	vmmc_sock_close(lfd);
	VS_EXPECT_ALL_CLOSED();
}

TEST_HARNESS_MAIN

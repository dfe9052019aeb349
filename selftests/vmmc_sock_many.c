// SPDX-License-Identifier: GPL-2.0
/*
 * Description: thousands of stream connections between two nodes; run on
 * both (node 1 serves, node 0 connects; each reports its own half; skips
 * on one node). many: one process on node 0 opens $VMMC_MANY (default
 * 4096) connections to one server process on node 1 and holds them all
 * at once; then each side sends on every connection a message that names
 * it (its index, then a seeded pattern of a length of its own) and the
 * other side checks it byte for byte; the client closes, the server reads
 * EOF on each and closes. Both processes run in a child: after it exited,
 * the node's driver holds no endpoint, export or pinned page. The client
 * and the server report their memory per connection while all are held:
 * resident set, pages pinned (the driver's gauge) and the NIC table bytes
 * (one export row, one import row, the export's page list).
 * $VMMC_MANY_RING: SO_RCVBUF and SO_SNDBUF of every socket (default
 * 4096, the smallest ring; 0: not set, the library sizes the rings within
 * its memory budget). $VMMC_MANY_TRACE set: both print their progress
 * every 256 connections.
 * Cost: 38-83 s of a two-node run on a loaded 2-core TCG host (16-40 s to
 * connect 4096, 8 at a time; the rest for the messages and closes).
 */
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define CTL		"build/tools/vmmc_ctl/vmmc_ctl"
#define PORT_MANY	5100
#define MANY_DEF	4096
#define RING		4096		/* SO_RCVBUF: the smallest ring */
#define MSG_MAX		2048		/* < RING: no send ever waits */
#define WINDOW		8		/* connects in flight at once */

FIXTURE(many) {
	uint32_t node, nodes;
	uint64_t seed;
	int n;
};

FIXTURE_SETUP(many)
{
	struct vmmc_ep ep;
	const char *e = getenv("VMMC_SEED"), *m = getenv("VMMC_MANY");

	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	self->node = ep.info.node_id;
	self->nodes = ep.info.nr_nodes;
	vmmc_ep_close(&ep);
	self->seed = e ? strtoull(e, NULL, 0) : 0x5eed3a7;
	self->n = m ? atoi(m) : MANY_DEF;
	if (self->n < 1 || self->n > 65536)
		self->n = MANY_DEF;
}

FIXTURE_TEARDOWN(many)
{
}

/* The message of connection @idx in direction @dir (0: to node 1). */
static size_t msg_len(uint32_t idx, int dir)
{
	return 4 + (idx * (dir ? 53u : 37u) + 11) % (MSG_MAX - 4);
}

static uint64_t msg_id(uint32_t idx, int dir)
{
	return (uint64_t)dir << 32 | idx;
}

static int send_msg(int fd, uint64_t seed, uint32_t idx, int dir)
{
	uint8_t buf[MSG_MAX];
	size_t len = msg_len(idx, dir);

	memcpy(buf, &idx, 4);
	vmmc_fill_pattern(buf + 4, len - 4, seed, msg_id(idx, dir), 0);
	return vmmc_sock_send(fd, buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/*
 * Take one whole message of direction @dir from @fd: its index, or -1 if
 * it is short, names another index than @want (if >= 0) or a wrong byte.
 */
static long recv_msg(int fd, uint64_t seed, long want, int dir)
{
	uint8_t buf[MSG_MAX];
	uint32_t idx;
	size_t len;
	ssize_t r;

	if (vmmc_sock_recv(fd, buf, 4, MSG_WAITALL) != 4)
		return -1;
	memcpy(&idx, buf, 4);
	if ((want >= 0 && idx != want) || idx > 65536)
		return -1;
	len = msg_len(idx, dir);
	r = vmmc_sock_recv(fd, buf + 4, len - 4, MSG_WAITALL);
	if (r != (ssize_t)(len - 4) ||
	    vmmc_check_pattern(buf + 4, len - 4, seed, msg_id(idx, dir), 0) >= 0)
		return -1;
	return idx;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	long pages = -1, res = -1;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = -1;
		fclose(f);
	}
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Room for @n sockets' fds (root may raise the hard limit). */
static int fd_room(int n)
{
	struct rlimit r = { (rlim_t)n + 256, (rlim_t)n + 256 };

	return setrlimit(RLIMIT_NOFILE, &r) ||
	       setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY,
							  RLIM_INFINITY });
}

/* The rings' size: SO_RCVBUF and SO_SNDBUF (0: the library's choice). */
static int ring_size(void)
{
	const char *e = getenv("VMMC_MANY_RING");

	return e ? atoi(e) : RING;
}

static void set_ring(int fd)
{
	int ring = ring_size();

	if (ring) {
		vmmc_sock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &ring,
				     sizeof(ring));
		vmmc_sock_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &ring,
				     sizeof(ring));
	}
}

/* What one process of @n connections @fds costs, from two samples. */
static void report(const char *who, const int *fds, int n, long rss0,
		   long long pin0, long long exp0, double t0)
{
	double dt = now_s() - t0, pages;
	long rss = rss_kb();
	long long pin = vmmc_ctl_stat(CTL, "pinned_pages");
	long long exp = vmmc_ctl_stat(CTL, "exports");
	long long ring = 0;
	socklen_t len = sizeof(int);
	int i, v;

	for (i = 0; i < n; i++) {
		v = 0;
		vmmc_sock_getsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &v, &len);
		ring += v;
	}
	ring /= n;
	pages = (double)(pin - pin0) / n;
	/* a connection's export is its region: a header page and the ring */
	printf("# %s: %d connections in %.1f s; per connection %.1f KiB resident, %.1f pinned pages (%.1f KiB; mean ring %lld B), NIC tables %lld bytes (%.2f exports: row %zu B, page list %lld B; one import row %zu B)\n",
	       who, n, dt, (double)(rss - rss0) / n, pages, pages * 4, ring,
	       (long long)(sizeof(struct vmmc_export) +
			   sizeof(struct vmmc_import)) + (1 + ring / 4096) * 8,
	       (double)(exp - exp0) / n, sizeof(struct vmmc_export),
	       (1 + ring / 4096) * 8, sizeof(struct vmmc_import));
	fflush(stdout);
}

/* Node 1: accept @n, answer each message, wait for each EOF. 0: good. */
static int serve(int n, uint64_t seed)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, PORT_MANY);
	long long pin0 = vmmc_ctl_stat(CTL, "pinned_pages");
	long long exp0 = vmmc_ctl_stat(CTL, "exports");
	int l, i, *fds = calloc((size_t)n, sizeof(int));
	uint8_t *seen = calloc((size_t)n, 1);
	long rss0 = rss_kb();
	double t0 = now_s();
	char c;

	if (!fds || !seen || fd_room(n))
		return 10;
	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0)
		return 11;
	set_ring(l);
	if (vmmc_sock_bind(l, VS_SA(a)) ||
	    vmmc_sock_listen(l, VMMC_SOCK_BACKLOG_MAX))
		return 11;
	for (i = 0; i < n; i++) {
		fds[i] = vmmc_sock_accept(l, NULL, NULL);
		if (fds[i] < 0) {
			printf("# accept %d: %s\n", i, strerror(-fds[i]));
			return 12;
		}
		if (getenv("VMMC_MANY_TRACE") && i % 256 == 255)
			printf("# server: %d accepted (%.1f s)\n", i + 1,
			       now_s() - t0);
	}
	vmmc_sock_close(l);
	report("server", fds, n, rss0, pin0, exp0, t0);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		long idx = recv_msg(fds[i], seed, -1, 0);

		if (idx < 0 || idx >= n || seen[idx]) {
			printf("# connection %d: bad message (index %ld)\n",
			       i, idx);
			return 13;
		}
		seen[idx] = 1;
		if (send_msg(fds[i], seed, (uint32_t)idx, 1))
			return 14;
	}
	for (i = 0; i < n; i++) {
		if (vmmc_sock_recv(fds[i], &c, 1, 0) != 0)
			return 15;
		vmmc_sock_close(fds[i]);
	}
	printf("# server: messages both ways and closes in %.1f s\n",
	       now_s() - t0);
	free(fds);
	free(seen);
	return 0;
}

/* A new socket of the test's rings, connecting to node 1. */
static int open_one(const struct sockaddr_vmmc *a, bool nonblock)
{
	int fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0), err;

	if (fd < 0)
		return fd;
	set_ring(fd);
	if (nonblock)
		vmmc_sock_set_nonblock(fd, 1);
	err = vmmc_sock_connect(fd, VS_SA(*a));
	if (err && !(nonblock && err == -EINPROGRESS)) {
		vmmc_sock_close(fd);
		return err;
	}
	return fd;
}

/*
 * Wait until the oldest of the @np connects in flight, @pend[0], is
 * established; 0, or its error (which is printed).
 */
static int settle_oldest(int *pend, int np)
{
	struct pollfd p = { .fd = pend[0], .events = POLLOUT };
	int err = 0, r;
	socklen_t len = sizeof(err);

	r = vmmc_sock_poll(&p, 1, 60000);
	if (r != 1 ||
	    vmmc_sock_getsockopt(pend[0], SOL_SOCKET, SO_ERROR, &err, &len) ||
	    err || vmmc_sock_set_nonblock(pend[0], 0)) {
		printf("# connect: poll %d, error %s\n", r, strerror(err));
		return err ? -err : -ETIMEDOUT;
	}
	memmove(pend, pend + 1, (size_t)(np - 1) * sizeof(*pend));
	return 0;
}

/*
 * Node 0: hold @n connections, send on each, check each answer. The
 * connects are non-blocking, WINDOW in flight at once, so that the two
 * nodes set up connections side by side (a server of many clients sees
 * that); each connection still takes its own request and hello.
 */
static int client(int n, uint64_t seed)
{
	struct sockaddr_vmmc a = vs_sa(1, PORT_MANY);
	long long pin0 = vmmc_ctl_stat(CTL, "pinned_pages");
	long long exp0 = vmmc_ctl_stat(CTL, "exports");
	int i, t, np = 0, pend[WINDOW], *fds = calloc((size_t)n, sizeof(int));
	long rss0 = rss_kb();
	double t0 = now_s();

	if (!fds || fd_room(n))
		return 20;
	/* the first, blocking, waits for the server to listen */
	for (t = 0; t < 3000; t++) {
		fds[0] = open_one(&a, false);
		if (fds[0] != -ECONNREFUSED)
			break;
		usleep(100000);
	}
	for (i = 0; i < n; i++) {
		if (i) {
			if (np == WINDOW && settle_oldest(pend, np--))
				return 22;
			fds[i] = open_one(&a, true);
			pend[np++] = fds[i];
		}
		if (fds[i] < 0) {
			printf("# connect %d: %s\n", i, strerror(-fds[i]));
			return 21;
		}
		if (getenv("VMMC_MANY_TRACE") && i % 256 == 255)
			printf("# client: %d connecting (%.1f s)\n", i + 1,
			       now_s() - t0);
	}
	while (np)
		if (settle_oldest(pend, np--))
			return 22;
	report("client", fds, n, rss0, pin0, exp0, t0);
	for (i = 0; i < n; i++)
		if (send_msg(fds[i], seed, (uint32_t)i, 0))
			return 23;
	for (i = 0; i < n; i++) {
		if (recv_msg(fds[i], seed, i, 1) != i) {
			printf("# connection %d: bad answer\n", i);
			return 24;
		}
		vmmc_sock_close(fds[i]);
	}
	free(fds);
	return 0;
}

TEST_F_TIMEOUT(many, many, 600)
{
	struct vmmc_sock_stats st;
	int status, rc;
	pid_t pid;

	if (self->nodes < 2)
		SKIP(return, "one node: nothing to talk to");
	ASSERT_EQ(0, vmmc_ctl_stat(CTL, "exports"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);	/* lines survive _exit */
		rc = self->node == 1 ? serve(self->n, self->seed) :
		     self->node == 0 ? client(self->n, self->seed) : 0;
		vmmc_sock_stats(&st);
		if (!rc && st.sockets + st.conns + st.listeners + st.inflight)
			rc = 30;
		_exit(rc);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the process is gone: nothing of it stays in the driver */
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "exports"));
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "imports"));
	EXPECT_EQ(0, vmmc_ctl_stat(CTL, "pinned_pages"));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the options that end a connection whose peer went silent
 * (vmmc_sock(7)): SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT and
 * TCP_USER_TIMEOUT. A silent peer is made by stopping the fabric (the
 * NIC) with a real SIGSTOP from the host (vmrun --fabric-signals), as a
 * cut link or a node that froze: our SENDs never complete. The socket
 * with the option then sees POLLERR and ETIMEDOUT within its limit, as
 * the kernel's TCP; one without options keeps waiting, as the kernel's.
 * A live idle peer is never declared dead, however short the limits.
 * Without the host helper the stopped-fabric tests SKIP. A client whose
 * request waits in an acceptor that exits goes to another acceptor of
 * the group.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

static int set_int(int fd, int level, int name, int v)
{
	return vmmc_sock_setsockopt(fd, level, name, &v, sizeof(v));
}

/* Keepalive on @fd with these limits: 0, or a negative errno. */
static int keepalive(int fd, int idle, int intvl, int cnt)
{
	return set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1) ?:
	       set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle) ?:
	       set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, intvl) ?:
	       set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, cnt);
}

/* poll @fd for POLLIN up to @ms: its revents (0: none), *@t seconds */
static short wait_err(int fd, int ms, double *t)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double t0 = vmmc_now_s();
	int r = vmmc_sock_poll(&p, 1, ms);

	*t = vmmc_now_s() - t0;
	return r == 1 ? p.revents : 0;
}

FIXTURE(dead) {
	int l, c, a;
};

FIXTURE_SETUP(dead)
{
	ASSERT_EQ(0, vs_pair(vs_test_port(3), &self->l, &self->c, &self->a));
}

/* never leave the NIC stopped for the tests after us */
FIXTURE_TEARDOWN(dead)
{
	if (vmmc_sig_dir())
		vmmc_host_req(vmmc_sig_dir(), "CONT");
	vmmc_sock_close(self->c);
	vmmc_sock_close(self->a);
	vmmc_sock_close(self->l);
}

/* both ends idle 3 s with limits of 1-2 s: nothing happens, data flows */
TEST_F(dead, live_idle_peer_stays)
{
	char b = 0;
	double t;

	ASSERT_EQ(0, keepalive(self->c, 1, 1, 1));
	ASSERT_EQ(0, set_int(self->a, IPPROTO_TCP, TCP_USER_TIMEOUT, 500));
	ASSERT_EQ(0, keepalive(self->a, 1, 1, 1));
	EXPECT_EQ(0, wait_err(self->c, 3000, &t));
	EXPECT_EQ(0, wait_err(self->a, 10, &t));
	ASSERT_EQ(1, vmmc_sock_send(self->a, "k", 1, 0));
	ASSERT_EQ(1, vmmc_sock_recv(self->c, &b, 1, 0));
	EXPECT_EQ('k', b);
	ASSERT_EQ(1, vmmc_sock_send(self->c, "l", 1, 0));
	ASSERT_EQ(1, vmmc_sock_recv(self->a, &b, 1, 0));
	EXPECT_EQ('l', b);
}

/*
 * An idle connection whose peer went silent: keepalive 1 + 1 * 2 s gives
 * POLLERR, then ETIMEDOUT, after about 3 s; the other end, without the
 * option, waits on (its probes stuck too).
 */
TEST_F_TIMEOUT(dead, keepalive_silent_peer, 60)
{
	char b;
	double t;
	short ev;

	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	ASSERT_EQ(0, keepalive(self->c, 1, 1, 2));
	usleep(300000);		/* a probe or two answered */
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "STOP"));
	ev = wait_err(self->c, 8000, &t);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents %#x after %.1f s", ev, t);
	EXPECT_GT(t, 2.4);
	EXPECT_LT(t, 6.0);
	EXPECT_EQ(-ETIMEDOUT, vmmc_sock_recv(self->c, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(0, wait_err(self->a, 10, &t));
	EXPECT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "CONT"));
}

/*
 * Data the NIC never took for TCP_USER_TIMEOUT's 1.5 s: POLLERR, then
 * ETIMEDOUT; a socket without the option sending into the same silence
 * waits on.
 */
TEST_F_TIMEOUT(dead, user_timeout_unacked_data, 60)
{
	int l2 = -1, c2 = -1, a2 = -1;
	char buf[1000];
	double t;
	short ev;

	if (!vmmc_sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	ASSERT_EQ(0, vs_pair(vs_test_port(4), &l2, &c2, &a2));
	memset(buf, 'u', sizeof(buf));
	ASSERT_EQ(0, set_int(self->c, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500));
	ASSERT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "STOP"));
	ASSERT_EQ((ssize_t)sizeof(buf), vmmc_sock_send(self->c, buf,
						       sizeof(buf), 0));
	ASSERT_EQ((ssize_t)sizeof(buf), vmmc_sock_send(c2, buf, sizeof(buf), 0));
	ev = wait_err(self->c, 8000, &t);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents %#x after %.1f s", ev, t);
	EXPECT_GT(t, 1.2);
	EXPECT_LT(t, 5.0);
	EXPECT_EQ(-ETIMEDOUT, vmmc_sock_send(self->c, buf, 1, MSG_DONTWAIT));
	EXPECT_EQ(0, wait_err(c2, 10, &t));
	EXPECT_EQ(0, vmmc_host_req(vmmc_sig_dir(), "CONT"));
	/* the NIC back: the other stream's bytes arrive, whole */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ((ssize_t)sizeof(buf), vmmc_sock_recv(a2, buf, sizeof(buf),
						       MSG_WAITALL));
	EXPECT_EQ('u', buf[0]);
	EXPECT_EQ('u', buf[sizeof(buf) - 1]);
	vmmc_sock_close(c2);
	vmmc_sock_close(a2);
	vmmc_sock_close(l2);
}

#define NACC	12

/* A kernel TCP socket listening on @port (an acceptor's grant). */
static int tcp_listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, k = socket(AF_INET, SOCK_STREAM, 0);

	if (k < 0 || setsockopt(k, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(k, (struct sockaddr *)&a, sizeof(a)) || listen(k, 4))
		return -1;
	return k;
}

/* An acceptor listening on @port: its fd or a negative errno. */
static int acceptor_on(uint16_t port)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int one = 1, fd = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return fd;
	return vmmc_sock_setsockopt(fd, SOL_VMMC, VMMC_SO_ACCEPTOR, &one,
				    sizeof(one)) ?: vmmc_sock_bind(fd, VS_SA(a)) ?:
	       vmmc_sock_listen(fd, NACC) ?: fd;
}

/*
 * Two acceptors of a port, this process's (the group's directory) and a
 * child's that never takes its requests; 12 connects, about half of
 * them land with the child, which is killed: each of those goes to this
 * process's acceptor instead of failing with ECONNREFUSED.
 */
TEST(acceptor_gone_request_moves)
{
	uint16_t port = vs_test_port(5);
	int k, x, c[NACC], i, pending = 0, ok = 0, n, got = 0, st, e;
	int go[2], rdy[2];
	struct pollfd p;
	socklen_t len;
	char ch = 0;
	pid_t pid;

	k = tcp_listen_on(port);
	ASSERT_LE(0, k);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(rdy));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {	/* the acceptor that goes: binds second, never accepts */
		if (read(go[0], &ch, 1) != 1 || acceptor_on(port) < 0)
			_exit(1);
		if (write(rdy[1], "r", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	x = acceptor_on(port);
	ASSERT_LE(0, x);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(rdy[0], &ch, 1));
	for (i = 0; i < NACC; i++) {
		struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);

		c[i] = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(-EINPROGRESS, vmmc_sock_connect(c[i], VS_SA(a)));
	}
	usleep(500000);
	for (i = 0; i < NACC; i++) {
		p = (struct pollfd){ .fd = c[i], .events = POLLOUT };
		vmmc_sock_poll(&p, 1, 200);
		pending += !p.revents;
	}
	TH_LOG("%d of %d connects waiting on the child's acceptor", pending, NACC);
	ASSERT_LT(0, pending);	/* none: p = 2^-12 */
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	for (i = 0; i < NACC; i++) {
		p = (struct pollfd){ .fd = c[i], .events = POLLOUT };
		EXPECT_EQ(1, vmmc_sock_poll(&p, 1, 5000));
		e = -1;
		len = sizeof(e);
		EXPECT_EQ(0, vmmc_sock_getsockopt(c[i], SOL_SOCKET, SO_ERROR, &e, &len));
		EXPECT_EQ(0, e) TH_LOG("connect %d: error %d", i, e);
		ok += !e;
	}
	EXPECT_EQ(NACC, ok);
	while ((n = vmmc_sock_accept(x, NULL, NULL)) >= 0) {
		EXPECT_EQ(1, vmmc_sock_send(n, "a", 1, 0));
		got++;
		vmmc_sock_close(n);
	}
	EXPECT_EQ(NACC, got);
	for (i = 0; i < NACC; i++) {
		if (!ok)
			break;
		EXPECT_EQ(1, vmmc_sock_recv(c[i], &ch, 1, MSG_WAITALL));
		EXPECT_EQ('a', ch);
	}
	for (i = 0; i < NACC; i++)
		vmmc_sock_close(c[i]);
	vmmc_sock_close(x);
	close(k);
}

TEST_HARNESS_MAIN

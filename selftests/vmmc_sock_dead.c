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
 * Without the host helper the stopped-fabric tests SKIP.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

static const char *sig_dir(void)
{
	return getenv("VMMC_FABRIC_SIG_DIR");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

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
	double t0 = now_s();
	int r = vmmc_sock_poll(&p, 1, ms);

	*t = now_s() - t0;
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
	if (sig_dir())
		vmmc_host_req(sig_dir(), "CONT");
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

	if (!sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	ASSERT_EQ(0, keepalive(self->c, 1, 1, 2));
	usleep(300000);		/* a probe or two answered */
	ASSERT_EQ(0, vmmc_host_req(sig_dir(), "STOP"));
	ev = wait_err(self->c, 8000, &t);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents %#x after %.1f s", ev, t);
	EXPECT_GT(t, 2.4);
	EXPECT_LT(t, 6.0);
	EXPECT_EQ(-ETIMEDOUT, vmmc_sock_recv(self->c, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(0, wait_err(self->a, 10, &t));
	EXPECT_EQ(0, vmmc_host_req(sig_dir(), "CONT"));
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

	if (!sig_dir())
		SKIP(return, "no host helper to stop the fabric (vmrun --fabric-signals)");
	ASSERT_EQ(0, vs_pair(vs_test_port(4), &l2, &c2, &a2));
	memset(buf, 'u', sizeof(buf));
	ASSERT_EQ(0, set_int(self->c, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500));
	ASSERT_EQ(0, vmmc_host_req(sig_dir(), "STOP"));
	ASSERT_EQ((ssize_t)sizeof(buf), vmmc_sock_send(self->c, buf,
						       sizeof(buf), 0));
	ASSERT_EQ((ssize_t)sizeof(buf), vmmc_sock_send(c2, buf, sizeof(buf), 0));
	ev = wait_err(self->c, 8000, &t);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents %#x after %.1f s", ev, t);
	EXPECT_GT(t, 1.2);
	EXPECT_LT(t, 5.0);
	EXPECT_EQ(-ETIMEDOUT, vmmc_sock_send(self->c, buf, 1, MSG_DONTWAIT));
	EXPECT_EQ(0, wait_err(c2, 10, &t));
	EXPECT_EQ(0, vmmc_host_req(sig_dir(), "CONT"));
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

TEST_HARNESS_MAIN

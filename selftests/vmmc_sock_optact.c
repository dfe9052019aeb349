// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the socket options that change what a VMMC socket does
 * (vmmc_sock(7)), each run side by side on a kernel TCP socket on
 * loopback and a VMMC socket with the same calls, the kernel being the
 * oracle: TCP_DEFER_ACCEPT holds a connection back from accept (and the
 * listener's readability) until its data came or the time passed;
 * MSG_MORE holds a send's bytes until the next send without it (or
 * 200 ms), as TCP_CORK for one call; IPPROTO_IPV6 options take and
 * answer as on an AF_INET6 socket.
 */
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A call's result as the library gives it: -errno or >= 0. */
static int kret(int r)
{
	return r < 0 ? -errno : r;
}

/* One side: a kernel socket on loopback (!@v) or a VMMC one (@v). */
struct side {
	bool v;
	uint16_t port;		/* the listener's */
};

static int x_socket(const struct side *s)
{
	return s->v ? vmmc_socket(AF_VMMC, SOCK_STREAM, 0) :
		      kret(socket(AF_INET, SOCK_STREAM, 0));
}

static int x_setint(const struct side *s, int fd, int level, int name,
		    int val)
{
	return s->v ? vmmc_sock_setsockopt(fd, level, name, &val, sizeof(val)) :
		      kret(setsockopt(fd, level, name, &val, sizeof(val)));
}

/* Bind @fd to the side's port (0: a kernel's free one, learnt) and listen. */
static int x_listen(struct side *s, int fd)
{
	struct sockaddr_vmmc va = vs_sa(VMMC_NODE_ANY, s->port);
	struct sockaddr_in ka = { .sin_family = AF_INET };
	socklen_t len = sizeof(ka);

	if (s->v)
		return vmmc_sock_bind(fd, VS_SA(va)) ?: vmmc_sock_listen(fd, 8);
	ka.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ka.sin_port = htons(s->port);
	if (bind(fd, (struct sockaddr *)&ka, len) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&ka, &len))
		return -errno;
	s->port = ntohs(ka.sin_port);
	return 0;
}

/* A connected socket to the side's listener, or a negative errno. */
static int x_connect(const struct side *s)
{
	struct sockaddr_vmmc va = vs_sa(VMMC_NODE_ANY, s->port);
	struct sockaddr_in ka = { .sin_family = AF_INET };
	int fd = x_socket(s), err;

	if (fd < 0)
		return fd;
	ka.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ka.sin_port = htons(s->port);
	err = s->v ? vmmc_sock_connect(fd, VS_SA(va)) :
		     kret(connect(fd, (struct sockaddr *)&ka, sizeof(ka)));
	return err ? err : fd;
}

static int x_close(const struct side *s, int fd)
{
	return s->v ? vmmc_sock_close(fd) : kret(close(fd));
}

static int x_nonblock(const struct side *s, int fd)
{
	return s->v ? vmmc_sock_set_nonblock(fd, 1) :
		      kret(fcntl(fd, F_SETFL, O_NONBLOCK));
}

static int x_accept(const struct side *s, int fd)
{
	return s->v ? vmmc_sock_accept(fd, NULL, NULL) : kret(accept(fd, NULL, NULL));
}

static ssize_t x_send(const struct side *s, int fd, const void *b, size_t n,
		      int flags)
{
	return s->v ? vmmc_sock_send(fd, b, n, flags) : kret((int)send(fd, b, n, flags));
}

static ssize_t x_recv(const struct side *s, int fd, void *b, size_t n,
		      int flags)
{
	return s->v ? vmmc_sock_recv(fd, b, n, flags) : kret((int)recv(fd, b, n, flags));
}

/* poll @fd for @ev up to @ms: its revents (0: none) */
static short x_poll(const struct side *s, int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r = s->v ? vmmc_sock_poll(&p, 1, ms) : poll(&p, 1, ms);

	return r == 1 ? p.revents : 0;
}

/*
 * TCP_DEFER_ACCEPT 1 s: a connection without data is not accepted (the
 * listener not readable) for 0.4 s; one that sends is at once, ahead of
 * it; the first is accepted after about the second, with nothing to read.
 */
static void defer_accept(struct __test_metadata *_metadata, struct side *s)
{
	int l, c1, c2, a;
	double t0, t;
	char b = 0;

	l = x_socket(s);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, x_setint(s, l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 1));
	ASSERT_EQ(0, x_listen(s, l));
	ASSERT_EQ(0, x_nonblock(s, l));
	c1 = x_connect(s);
	ASSERT_LE(0, c1);
	t0 = now_s();	/* the connection is there (a VMMC connect may be slow) */
	EXPECT_EQ(0, x_poll(s, l, POLLIN, 400)) TH_LOG("%s", s->v ? "vmmc" : "kernel");
	EXPECT_EQ(-EAGAIN, x_accept(s, l));
	c2 = x_connect(s);
	ASSERT_LE(0, c2);
	EXPECT_EQ(1, x_send(s, c2, "d", 1, 0));
	t = now_s();
	EXPECT_EQ(POLLIN, x_poll(s, l, POLLIN, 3000));
	EXPECT_GT(0.5, now_s() - t) TH_LOG("%s: data took %.2f s to be acceptable",
					  s->v ? "vmmc" : "kernel", now_s() - t);
	a = x_accept(s, l);
	ASSERT_LE(0, a);
	EXPECT_EQ(1, x_recv(s, a, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ('d', b);
	EXPECT_EQ(0, x_close(s, a));
	/* the silent one, after its time */
	EXPECT_EQ(POLLIN, x_poll(s, l, POLLIN, 8000));
	t = now_s() - t0;
	TH_LOG("%s: a silent connection became acceptable after %.2f s",
	       s->v ? "vmmc" : "kernel", t);
	EXPECT_LT(0.8, t);
	EXPECT_GT(6.0, t);
	a = x_accept(s, l);
	ASSERT_LE(0, a);
	EXPECT_EQ(-EAGAIN, x_recv(s, a, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(1, x_send(s, c1, "e", 1, 0));
	EXPECT_EQ(1, x_recv(s, a, &b, 1, 0));
	EXPECT_EQ('e', b);
	EXPECT_EQ(-EAGAIN, x_accept(s, l));
	x_close(s, a);
	x_close(s, c1);
	x_close(s, c2);
	x_close(s, l);
}

TEST(defer_accept_kernel)
{
	struct side s = { .v = false };

	defer_accept(_metadata, &s);
}

TEST(defer_accept_vmmc)
{
	struct side s = { .v = true, .port = vs_test_port(5) };

	defer_accept(_metadata, &s);
}

/* Bytes not yet handed to the NIC (or to the kernel's IP layer). */
static int x_unsent(const struct side *s, int fd)
{
	int n = -1;

	if (s->v)
		return vmmc_sock_ioctl(fd, SIOCOUTQNSD, &n) ? -1 : n;
	return ioctl(fd, SIOCOUTQNSD, &n) ? -1 : n;
}

/* A connected pair on the side's listener @l: 0 or a negative errno. */
static int x_pair(struct side *s, int *l, int *c, int *a)
{
	*l = x_socket(s);
	if (*l < 0 || x_listen(s, *l))
		return -1;
	*c = x_connect(s);
	*a = *c < 0 ? -1 : x_accept(s, *l);
	return *a < 0 ? -1 : 0;
}

/*
 * MSG_MORE: 30 bytes held, the next 20 without it send all 50; 10 held
 * alone go after the 200 ms ceiling (VMMC) or the kernel's own time;
 * TCP_NODELAY after a MSG_MORE send pushes it and leaves no cork behind.
 */
static void msg_more(struct __test_metadata *_metadata, struct side *s)
{
	struct timeval tmo = { .tv_sec = 5 };
	char out[64], in[64];
	int l, c, a, i, one = 1;
	double t0, t;

	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (char)(i * 13 + 1);
	ASSERT_EQ(0, x_pair(s, &l, &c, &a));
	ASSERT_EQ(0, s->v ? vmmc_sock_setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) :
			    setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)));
	EXPECT_EQ(30, x_send(s, c, out, 30, MSG_MORE));
	EXPECT_EQ(30, x_unsent(s, c));
	usleep(50000);
	EXPECT_EQ(-EAGAIN, x_recv(s, a, in, sizeof(in), MSG_DONTWAIT));
	EXPECT_EQ(20, x_send(s, c, out + 30, 20, 0));
	EXPECT_EQ(0, x_unsent(s, c));
	EXPECT_EQ(50, x_recv(s, a, in, 50, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out, in, 50));
	/* held alone: goes by itself */
	t0 = now_s();
	EXPECT_EQ(10, x_send(s, c, out + 50, 10, MSG_MORE));
	EXPECT_EQ(10, x_recv(s, a, in, 10, MSG_WAITALL));
	t = now_s() - t0;
	TH_LOG("%s: a MSG_MORE tail went after %.3f s", s->v ? "vmmc" : "kernel", t);
	EXPECT_EQ(0, memcmp(out + 50, in, 10));
	if (s->v) {
		EXPECT_LE(0.19, t);
		EXPECT_GT(4.0, t);
	}
	/* TCP_NODELAY pushes a MSG_MORE send; the next small send goes at once */
	EXPECT_EQ(4, x_send(s, c, out, 4, MSG_MORE));
	EXPECT_EQ(0, s->v ? vmmc_sock_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) :
			    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	EXPECT_EQ(0, x_unsent(s, c));
	EXPECT_EQ(4, x_send(s, c, out + 4, 4, 0));
	EXPECT_EQ(0, x_unsent(s, c));
	EXPECT_EQ(8, x_recv(s, a, in, 8, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out, in, 8));
	x_close(s, a);
	x_close(s, c);
	x_close(s, l);
}

TEST(msg_more_kernel)
{
	struct side s = { .v = false };

	msg_more(_metadata, &s);
}

TEST(msg_more_vmmc)
{
	struct side s = { .v = true, .port = vs_test_port(6) };

	msg_more(_metadata, &s);
}

/* IPPROTO_IPV6 on an AF_INET6 socket: value, length; get answers after */
static const struct {
	int name, val;
	socklen_t len;
} v6rows[] = {
	{ IPV6_TCLASS, 0x2d, 4 }, { IPV6_TCLASS, -1, 4 }, { IPV6_TCLASS, 256, 4 },
	{ IPV6_TCLASS, -2, 4 }, { IPV6_TCLASS, 7, 2 }, { IPV6_TCLASS, 0xfe, 4 },
	{ IPV6_UNICAST_HOPS, 10, 4 }, { IPV6_UNICAST_HOPS, 256, 4 },
	{ IPV6_UNICAST_HOPS, -1, 4 }, { IPV6_UNICAST_HOPS, 0, 4 },
	{ IPV6_UNICAST_HOPS, -2, 4 }, { IPV6_MTU_DISCOVER, 2, 4 },
	{ IPV6_MTU_DISCOVER, 6, 4 }, { IPV6_MTU_DISCOVER, -1, 4 },
	{ IPV6_RECVTCLASS, 5, 4 }, { IPV6_RECVTCLASS, 1, 1 },
	{ IPV6_RECVPKTINFO, 1, 4 }, { IPV6_FREEBIND, 1, 4 }, { 9999, 1, 4 },
};

/* get @name with @len bytes on both: the same result, length and value */
static void v6_get_same(struct __test_metadata *_metadata, int k, int v,
			int name, socklen_t len)
{
	int kv = 0x5a5a5a5a, vv = 0x5a5a5a5a, kr, vr;
	socklen_t kl = len, vl = len;

	kr = kret(getsockopt(k, IPPROTO_IPV6, name, &kv, &kl));
	vr = vmmc_sock_getsockopt(v, IPPROTO_IPV6, name, &vv, &vl);
	EXPECT_EQ(kr, vr) TH_LOG("get %d len %d", name, (int)len);
	EXPECT_EQ(kl, vl) TH_LOG("get %d len %d", name, (int)len);
	EXPECT_EQ(kv, vv) TH_LOG("get %d len %d: kernel %#x, vmmc %#x", name,
				 (int)len, kv, vv);
}

/*
 * IPPROTO_IPV6 options: a kernel AF_INET6 TCP socket and a VMMC socket
 * get the same calls and give the same results (defaults, roundings,
 * EINVAL for a bad value or length, ENOPROTOOPT for an unknown name).
 */
TEST(ipv6_options_as_kernel)
{
	int k = socket(AF_INET6, SOCK_STREAM, 0), v, i, kr, vr;

	v = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	ASSERT_LE(0, k);
	ASSERT_LE(0, v);
	for (i = 0; i < (int)(sizeof(v6rows) / sizeof(v6rows[0])); i++)
		v6_get_same(_metadata, k, v, v6rows[i].name, 4);
	for (i = 0; i < (int)(sizeof(v6rows) / sizeof(v6rows[0])); i++) {
		kr = kret(setsockopt(k, IPPROTO_IPV6, v6rows[i].name,
				     &v6rows[i].val, v6rows[i].len));
		vr = vmmc_sock_setsockopt(v, IPPROTO_IPV6, v6rows[i].name,
					  &v6rows[i].val, v6rows[i].len);
		EXPECT_EQ(kr, vr) TH_LOG("set %d to %d len %d", v6rows[i].name,
					 v6rows[i].val, (int)v6rows[i].len);
		v6_get_same(_metadata, k, v, v6rows[i].name, 4);
		v6_get_same(_metadata, k, v, v6rows[i].name, 1);
	}
	close(k);
	vmmc_sock_close(v);
}

TEST_HARNESS_MAIN

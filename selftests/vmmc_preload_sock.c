// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_sock.c - vmmc_preload_test on socket calls: ioctl (FIONBIO,
 * FIONREAD, SIOCOUTQ, SIOCOUTQNSD), sendmmsg and recvmmsg, socket options.
 */
#include "vmmc_preload_test.h"

/* ---- ioctl ---- */

/* ioctl @req of @fd: the int it stored, or -errno */
static int ioctl_int(int fd, unsigned long req)
{
	int v = -12345;

	return ioctl(fd, req, &v) ? -errno : v;
}

/* wait (at most 3 s) until ioctl @req of @fd says @want; the last value */
static int ioctl_until(int fd, unsigned long req, int want)
{
	long t0 = now_ms();
	int v;

	while ((v = ioctl_int(fd, req)) != want && v >= 0 &&
	       now_ms() - t0 < 3000)
		usleep(1000);
	return v;
}

void test_ioctl(int l)
{
	uint8_t a[60000], b[60000];
	int c, s, v, v2, nd, on = 1, e;
	ssize_t r;

	if (pair(l, &c, &s)) {
		ok(false, "ioctl: pair");
		return;
	}
	v = ioctl_int(s, FIONREAD);
	ok(v == 0, "FIONREAD of an idle VMMC socket: 0 (%d)", v);
	fill(a, 1234, 31);
	write_all(c, a, 1234);
	v = ioctl_until(s, FIONREAD, 1234);
	v2 = ioctl_int(s, SIOCINQ);
	ok(v == 1234 && v2 == 1234, "FIONREAD and SIOCINQ after 1234 bytes came: 1234 (%d, %d)",
	   v, v2);
	r = read(s, b, 1000);
	v = ioctl_int(s, FIONREAD);
	ok(r == 1000 && v == 234 && !memcmp(a, b, 1000),
	   "... after reading 1000 of them: 234 (%d)", v);
	read_all(s, b, 234);
	fill(a, sizeof(a), 32);
	write_all(c, a, sizeof(a));
	v = ioctl_int(c, SIOCOUTQ);
	nd = ioctl_int(c, SIOCOUTQNSD);
	ok(v >= 0 && v <= (int)sizeof(a) && nd >= 0 && nd <= v,
	   "SIOCOUTQ (%d) and SIOCOUTQNSD (%d) right after a 60000-byte send: 0..60000, NSD <= OUTQ",
	   v, nd);
	v = ioctl_until(c, SIOCOUTQ, 0);
	nd = ioctl_int(c, SIOCOUTQNSD);
	ok(v == 0 && nd == 0 && !read_all(s, b, sizeof(b)) && !memcmp(a, b, sizeof(a)),
	   "SIOCOUTQ and SIOCOUTQNSD once the bytes are in the peer's ring: 0 (%d, %d), bytes checked",
	   v, nd);
	v = ioctl_int(l, FIONREAD);
	v2 = ioctl_int(l, SIOCOUTQ);
	ok(v == -EINVAL && v2 == -EINVAL, "FIONREAD and SIOCOUTQ of a listener: EINVAL (%s, %s)",
	   strerror(-v), strerror(-v2));
	errno = 0;
	r = ioctl(c, FIONREAD, NULL);
	e = errno;
	ok(r == -1 && e == EFAULT, "FIONREAD with a NULL argument: EFAULT (%s)", strerror(e));
	ok(!ioctl(s, FIONBIO, &on) && (fcntl(s, F_GETFL) & O_NONBLOCK),
	   "FIONBIO 1: O_NONBLOCK shows in F_GETFL");
	errno = 0;
	r = recv(s, b, 1, 0);
	e = errno;
	on = 0;
	ok(r == -1 && e == EAGAIN && !ioctl(s, FIONBIO, &on) &&
	   !(fcntl(s, F_GETFL) & O_NONBLOCK),
	   "... recv on the idle socket EAGAIN (%s); FIONBIO 0 clears it", strerror(e));
	close(c);
	close(s);
}

/* ---- sendmmsg, recvmmsg ---- */

void test_mmsg(int l)
{
	uint8_t a[3000], b[4][1000], x[3000];
	struct mmsghdr m[4];
	struct iovec iv[4];
	struct timespec ts;
	int c, s, r, e, i;
	bool good;

	if (pair(l, &c, &s)) {
		ok(false, "mmsg: pair");
		return;
	}
	fill(a, sizeof(a), 41);
	memset(m, 0, sizeof(m));
	/* three messages: 100 bytes; 2000; 50 + 850 in two pieces */
	iv[0] = (struct iovec){ a, 100 };
	iv[1] = (struct iovec){ a + 100, 2000 };
	iv[2] = (struct iovec){ a + 2100, 50 };
	iv[3] = (struct iovec){ a + 2150, 850 };
	m[0].msg_hdr.msg_iov = &iv[0];
	m[0].msg_hdr.msg_iovlen = 1;
	m[1].msg_hdr.msg_iov = &iv[1];
	m[1].msg_hdr.msg_iovlen = 1;
	m[2].msg_hdr.msg_iov = &iv[2];
	m[2].msg_hdr.msg_iovlen = 2;
	r = sendmmsg(c, m, 3, 0);
	ok(r == 3 && m[0].msg_len == 100 && m[1].msg_len == 2000 &&
	   m[2].msg_len == 900 && !read_all(s, x, 3000) && !memcmp(a, x, 3000),
	   "sendmmsg of 3 messages: 3, msg_len 100/2000/900, 3000 bytes in order (%d)",
	   r);

	/* recvmmsg, MSG_WAITFORONE: what is there, then EAGAIN ends it */
	fill(a, sizeof(a), 42);
	write_all(c, a, 2500);
	ioctl_until(s, FIONREAD, 2500);
	memset(m, 0, sizeof(m));
	for (i = 0; i < 4; i++) {
		iv[i] = (struct iovec){ b[i], sizeof(b[i]) };
		m[i].msg_hdr.msg_iov = &iv[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	r = recvmmsg(s, m, 4, MSG_WAITFORONE, NULL);
	good = r == 3 && m[0].msg_len == 1000 && m[1].msg_len == 1000 &&
	       m[2].msg_len == 500 && !memcmp(b[0], a, 1000) &&
	       !memcmp(b[1], a + 1000, 1000) && !memcmp(b[2], a + 2000, 500);
	ok(good, "recvmmsg MSG_WAITFORONE with 2500 bytes there: 3 messages of 1000/1000/500, byte for byte (%d)",
	   r);

	/* the timeout is checked after each message: 1 ns ends it after one */
	write_all(c, a, 700);
	ts = (struct timespec){ 0, 1 };
	r = recvmmsg(s, m, 4, 0, &ts);
	ok(r == 1 && m[0].msg_len == 700 && !memcmp(b[0], a, 700) &&
	   ts.tv_sec == 0 && ts.tv_nsec == 0,
	   "recvmmsg with a 1 ns timeout, 700 bytes there: 1 message of 700, the timeout left 0 (%d, %ld)",
	   r, (long)ts.tv_nsec);
	errno = 0;
	r = recvmmsg(s, m, 4, MSG_DONTWAIT, NULL);
	e = errno;
	ok(r == -1 && e == EAGAIN, "recvmmsg MSG_DONTWAIT on an idle socket: EAGAIN (%d, %s)",
	   r, strerror(e));
	ts = (struct timespec){ 0, 1000000000L };
	errno = 0;
	r = recvmmsg(s, m, 4, MSG_DONTWAIT, &ts);
	e = errno;
	ok(r == -1 && e == EINVAL, "recvmmsg with tv_nsec 1e9: EINVAL (%d, %s)", r,
	   strerror(e));
	r = sendmmsg(c, m, 0, 0);
	ok(r == 0, "sendmmsg of 0 messages: 0 (%d)", r);
	/* at EOF every message is an empty one, as a TCP socket's */
	shutdown(c, SHUT_WR);
	r = recvmmsg(s, m, 2, 0, NULL);
	ok(r == 2 && m[0].msg_len == 0 && m[1].msg_len == 0,
	   "recvmmsg at EOF: 2 messages of 0 bytes (%d)", r);
	close(c);
	close(s);
}

/* ---- socket options ---- */

/* SO_DOMAIN, SO_TYPE, SO_PROTOCOL of @fd in @v; 0, or -1 */
static int ids_of(int fd, int v[3])
{
	static const int names[3] = { SO_DOMAIN, SO_TYPE, SO_PROTOCOL };
	socklen_t len;
	int i;

	for (i = 0; i < 3; i++) {
		v[i] = -1;
		len = sizeof(v[i]);
		if (getsockopt(fd, SOL_SOCKET, names[i], &v[i], &len) ||
		    len != sizeof(v[i]))
			return -1;
	}
	return 0;
}

/*
 * VMMC socket @fd, created as @family, answers SO_DOMAIN, SO_TYPE and
 * SO_PROTOCOL as a kernel TCP socket of that family does.
 */
static void same_ids(int fd, int family, const char *what)
{
	int k = socket(family, SOCK_STREAM, 0), kv[3], v[3];
	bool e = k < 0 || ids_of(k, kv) || ids_of(fd, v);

	ok(!e && domain_of(fd) == AF_VMMC && domain_of(k) == family &&
	   kv[0] == family && kv[1] == SOCK_STREAM && kv[2] == IPPROTO_TCP &&
	   !memcmp(v, kv, sizeof(v)),
	   "%s: SO_DOMAIN/TYPE/PROTOCOL %d %d %d, the kernel's %d %d %d",
	   what, v[0], v[1], v[2], kv[0], kv[1], kv[2]);
	if (k >= 0)
		close(k);
}

/* an AF_INET6 socket to ::ffff:127.0.0.1 through @l goes VMMC, as v6 */
static void ids_v6(int l)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(PORT) };
	int c = socket(AF_INET6, SOCK_STREAM, 0), s = -1;

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
	if (c < 0 || connect(c, (struct sockaddr *)&a6, sizeof(a6)) ||
	    (s = accept(l, NULL, NULL)) < 0) {
		ok(false, "ids: AF_INET6 connect to ::ffff:127.0.0.1: %s",
		   strerror(errno));
	} else {
		same_ids(c, AF_INET6, "ids: AF_INET6 client");
		same_ids(s, AF_INET, "ids: its server, from an AF_INET listener");
	}
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
}

/*
 * Options set on the kernel socket before connect turns it VMMC come
 * with it; TCP_CORK holds and uncork flushes through the shim; the
 * answers are the kernel's (TCP_INFO's state).
 */
void test_opts(int l)
{
	struct sockaddr_in a = addr_of(PORT);
	struct linger lg = { 1, 3 }, lg2 = { 0, 0 };
	uint8_t x[100], y[100];
	struct tcp_info ti;
	char cc[16] = "";
	int c, s, v = 30, on = 1, off = 0, idle = 0, cork = 0, e;
	socklen_t len = sizeof(int), llen = sizeof(lg2), clen = sizeof(cc);
	socklen_t tlen = sizeof(ti);

	c = socket(AF_INET, SOCK_STREAM, 0);
	ok(c >= 0 && !setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)) &&
	   !setsockopt(c, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) &&
	   !setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) &&
	   !setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4),
	   "opts: TCP_KEEPIDLE, TCP_CORK, SO_LINGER, TCP_CONGESTION on the kernel socket");
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a))) {
		ok(false, "opts: connect");
		return;
	}
	s = accept(l, NULL, NULL);
	e = s < 0 || getsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len) ||
	    getsockopt(c, IPPROTO_TCP, TCP_CORK, &cork, &len) ||
	    getsockopt(c, SOL_SOCKET, SO_LINGER, &lg2, &llen) ||
	    getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &clen);
	ok(!e && idle == 30 && cork == 1 && lg2.l_onoff == 1 && lg2.l_linger == 3 &&
	   !strcmp(cc, "reno"),
	   "... the VMMC socket has them: %d %d {%d, %d} %s", idle, cork,
	   lg2.l_onoff, lg2.l_linger, cc);
	ti.tcpi_state = 0;
	e = getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tlen);
	ok(!e && ti.tcpi_state == TCP_ESTABLISHED,
	   "TCP_INFO ESTABLISHED (%d)", ti.tcpi_state);
	same_ids(c, AF_INET, "ids: AF_INET client");
	same_ids(s, AF_INET, "ids: its server");
	fill(x, sizeof(x), 41);
	write_all(c, x, sizeof(x));
	v = ioctl_int(c, SIOCOUTQNSD);
	ok(v == (int)sizeof(x), "corked: the 100 bytes wait (unsent %d)", v);
	ok(!setsockopt(c, IPPROTO_TCP, TCP_CORK, &off, sizeof(off)) &&
	   !read_all(s, y, sizeof(y)) && !memcmp(x, y, sizeof(x)),
	   "uncorked: they come, byte for byte");
	errno = 0;
	v = setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &off, sizeof(off));
	e = errno;
	ok(v == -1 && e == EINVAL, "TCP_KEEPCNT 0: EINVAL, as the kernel's (%s)",
	   strerror(e));
	close(c);
	close(s);
	ids_v6(l);
}

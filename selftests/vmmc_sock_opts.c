// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a VMMC socket takes and answers the options of a kernel
 * TCP socket as the kernel does: option by option, a kernel TCP socket
 * and a VMMC socket in the same state get the same setsockopt and
 * getsockopt calls and must give the same results (return, errno, length
 * and value; the kernel is the oracle), with bad lengths, bad values,
 * unknown names and levels. TCP_CORK holds bytes until uncork or a
 * segment's worth and flushes them on uncork, TCP_NODELAY, close and
 * after 200 ms, as the kernel's, byte for byte.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

/* One call: set (when @set) @val with @len, then get with 4 and 1 bytes. */
struct opt_row {
	int level, name, val;
	socklen_t len;
	bool set, cmp_val;	/* cmp_val: compare the got values too */
};

#define SET(l, n, v)		{ l, n, v, sizeof(int), true, true }
#define SETLEN(l, n, v, len)	{ l, n, v, len, true, true }
#define GET(l, n)		{ l, n, 0, 0, false, true }
#define GETERR(l, n)		{ l, n, 0, 0, false, false }

static const struct opt_row rows[] = {
	/* the defaults */
	GET(IPPROTO_TCP, TCP_NODELAY), GET(IPPROTO_TCP, TCP_MAXSEG),
	GET(IPPROTO_TCP, TCP_CORK), GET(IPPROTO_TCP, TCP_KEEPIDLE),
	GET(IPPROTO_TCP, TCP_KEEPINTVL), GET(IPPROTO_TCP, TCP_KEEPCNT),
	GET(IPPROTO_TCP, TCP_SYNCNT), GET(IPPROTO_TCP, TCP_LINGER2),
	GET(IPPROTO_TCP, TCP_DEFER_ACCEPT), GET(IPPROTO_TCP, TCP_QUICKACK),
	GET(IPPROTO_TCP, TCP_USER_TIMEOUT), GET(IPPROTO_TCP, TCP_FASTOPEN),
	GET(IPPROTO_TCP, TCP_FASTOPEN_CONNECT),
	GET(IPPROTO_TCP, TCP_NOTSENT_LOWAT),
	GET(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS),
	GET(SOL_SOCKET, SO_REUSEADDR), GET(SOL_SOCKET, SO_REUSEPORT),
	GET(SOL_SOCKET, SO_KEEPALIVE), GET(SOL_SOCKET, SO_BROADCAST),
	GET(SOL_SOCKET, SO_OOBINLINE), GET(SOL_SOCKET, SO_DONTROUTE),
	GET(SOL_SOCKET, SO_PRIORITY), GET(SOL_SOCKET, SO_RCVLOWAT),
	GET(SOL_SOCKET, SO_SNDLOWAT), GET(SOL_SOCKET, SO_TYPE),
	GET(SOL_SOCKET, SO_ERROR), GET(SOL_SOCKET, SO_ACCEPTCONN),
	GET(SOL_SOCKET, SO_PROTOCOL), GET(IPPROTO_IP, IP_TOS),
	GET(IPPROTO_IP, IP_TTL), GET(IPPROTO_IP, IP_MTU_DISCOVER),
	GETERR(IPPROTO_TCP, 9999), GETERR(SOL_SOCKET, 9999),
	GETERR(IPPROTO_IP, 9999), GETERR(12345, 1),
	/* values in range, out of range, odd lengths */
	SET(IPPROTO_TCP, TCP_NODELAY, 5), SETLEN(IPPROTO_TCP, TCP_NODELAY, 1, 2),
	SETLEN(IPPROTO_TCP, TCP_NODELAY, 1, 0),
	SET(IPPROTO_TCP, TCP_MAXSEG, 1000), SET(IPPROTO_TCP, TCP_MAXSEG, 50),
	SET(IPPROTO_TCP, TCP_MAXSEG, 40000),
	SET(IPPROTO_TCP, TCP_CORK, 1), SET(IPPROTO_TCP, TCP_CORK, 0),
	SET(IPPROTO_TCP, TCP_KEEPIDLE, 30), SET(IPPROTO_TCP, TCP_KEEPIDLE, 0),
	SET(IPPROTO_TCP, TCP_KEEPIDLE, 40000),
	SET(IPPROTO_TCP, TCP_KEEPINTVL, 5), SET(IPPROTO_TCP, TCP_KEEPINTVL, 0),
	SET(IPPROTO_TCP, TCP_KEEPCNT, 3), SET(IPPROTO_TCP, TCP_KEEPCNT, 200),
	SET(IPPROTO_TCP, TCP_SYNCNT, 3), SET(IPPROTO_TCP, TCP_SYNCNT, 0),
	SET(IPPROTO_TCP, TCP_SYNCNT, 128),
	SET(IPPROTO_TCP, TCP_LINGER2, 30), SET(IPPROTO_TCP, TCP_LINGER2, -5),
	SET(IPPROTO_TCP, TCP_LINGER2, 500), SET(IPPROTO_TCP, TCP_LINGER2, 0),
	SET(IPPROTO_TCP, TCP_DEFER_ACCEPT, 5),
	SET(IPPROTO_TCP, TCP_DEFER_ACCEPT, 100),
	SET(IPPROTO_TCP, TCP_DEFER_ACCEPT, -3),
	SET(IPPROTO_TCP, TCP_QUICKACK, 0), SET(IPPROTO_TCP, TCP_QUICKACK, 1),
	SET(IPPROTO_TCP, TCP_USER_TIMEOUT, 10000),
	SET(IPPROTO_TCP, TCP_USER_TIMEOUT, -1),
	SET(IPPROTO_TCP, TCP_FASTOPEN, 5), SET(IPPROTO_TCP, TCP_FASTOPEN, -1),
	SET(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1),
	SET(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 2),
	SET(IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384),
	SET(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1),
	SET(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 2),
	SET(IPPROTO_TCP, 9999, 1), SETLEN(IPPROTO_TCP, 9999, 1, 2),
	SET(IPPROTO_TCP, TCP_INFO, 1),
	SET(SOL_SOCKET, SO_REUSEADDR, 1), SET(SOL_SOCKET, SO_REUSEPORT, 1),
	SET(SOL_SOCKET, SO_KEEPALIVE, 7), SET(SOL_SOCKET, SO_BROADCAST, 1),
	SET(SOL_SOCKET, SO_OOBINLINE, 1), SET(SOL_SOCKET, SO_DONTROUTE, 1),
	SET(SOL_SOCKET, SO_PRIORITY, 3), SET(SOL_SOCKET, SO_RCVLOWAT, 100),
	SET(SOL_SOCKET, SO_RCVLOWAT, 0), SET(SOL_SOCKET, SO_SNDLOWAT, 5),
	SETLEN(SOL_SOCKET, SO_REUSEADDR, 1, 2), SET(SOL_SOCKET, 9999, 1),
	SETLEN(SOL_SOCKET, 9999, 1, 2),
	SET(IPPROTO_IP, IP_TOS, 0x13), SETLEN(IPPROTO_IP, IP_TOS, 0x20, 1),
	SETLEN(IPPROTO_IP, IP_TOS, 0x20, 0),
	SET(IPPROTO_IP, IP_TTL, 10), SET(IPPROTO_IP, IP_TTL, 0),
	SET(IPPROTO_IP, IP_TTL, 256), SET(IPPROTO_IP, IP_TTL, -1),
	SETLEN(IPPROTO_IP, IP_TTL, 30, 1), SETLEN(IPPROTO_IP, IP_TTL, 30, 0),
	SET(IPPROTO_IP, IP_MTU_DISCOVER, 2), SET(IPPROTO_IP, IP_MTU_DISCOVER, 6),
	SET(IPPROTO_IP, 9999, 1), SET(12345, 1, 1),
	GET(IPPROTO_TCP, TCP_INQ), SET(IPPROTO_TCP, TCP_INQ, 1),
	SET(IPPROTO_TCP, TCP_INQ, 2), GET(SOL_SOCKET, SO_BUSY_POLL),
	SET(SOL_SOCKET, SO_BUSY_POLL, 50), SET(SOL_SOCKET, SO_BUSY_POLL, -1),
	GET(IPPROTO_IP, IP_FREEBIND), SET(IPPROTO_IP, IP_FREEBIND, 3),
	SETLEN(IPPROTO_IP, IP_FREEBIND, 1, 1), SETLEN(IPPROTO_IP, IP_FREEBIND, 1, 0),
	GET(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT),
	SET(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1),
	SETLEN(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0, 0),
	GET(IPPROTO_IP, IP_RECVTOS), SET(IPPROTO_IP, IP_RECVTOS, 1),
	SETLEN(IPPROTO_IP, IP_RECVTOS, 0, 0),
};

/* A kernel call's result as the library gives it: -errno or >= 0. */
static int kret(int r)
{
	return r < 0 ? -errno : r;
}

/*
 * @row on kernel socket @k and VMMC socket @v: same results. A value
 * below 256 set with fewer than 4 bytes goes as its first byte.
 */
static void compare_row(struct __test_metadata *_metadata,
			const struct opt_row *row, int k, int v)
{
	unsigned char in[4] = { 0 }, kv[256], vv[256];
	socklen_t klen, vlen, glen[] = { sizeof(int), 1, 0, (socklen_t)-1 };
	int rk, rv;
	size_t i;

	if (row->set) {
		if (row->len >= sizeof(int))
			memcpy(in, &row->val, sizeof(int));
		else
			in[0] = (unsigned char)row->val;
		rk = kret(setsockopt(k, row->level, row->name, in, row->len));
		rv = vmmc_sock_setsockopt(v, row->level, row->name, in, row->len);
		EXPECT_EQ(rk, rv) TH_LOG("set level %d name %d val %d len %u",
					 row->level, row->name, row->val,
					 row->len);
	}
	for (i = 0; i < sizeof(glen) / sizeof(glen[0]); i++) {
		klen = vlen = glen[i];
		memset(kv, 0xa5, sizeof(kv));
		memset(vv, 0xa5, sizeof(vv));
		rk = kret(getsockopt(k, row->level, row->name, kv, &klen));
		rv = vmmc_sock_getsockopt(v, row->level, row->name, vv, &vlen);
		EXPECT_EQ(rk, rv) TH_LOG("get level %d name %d len %d",
					 row->level, row->name, (int)glen[i]);
		if (rk || rv)
			continue;
		EXPECT_EQ(klen, vlen) TH_LOG("get level %d name %d len %d",
					     row->level, row->name,
					     (int)glen[i]);
		if (row->cmp_val)
			EXPECT_EQ(0, memcmp(kv, vv, sizeof(kv)))
				TH_LOG("get level %d name %d len %d: kernel %#x, vmmc %#x",
				       row->level, row->name, (int)glen[i],
				       *(int *)kv, *(int *)vv);
	}
}

/* A kernel TCP pair on loopback: listener @l, client @c, accepted @a. */
static int kernel_pair(int *l, int *c, int *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*l = socket(AF_INET, SOCK_STREAM, 0);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*l < 0 || *c < 0 || bind(*l, (struct sockaddr *)&sin, len) ||
	    listen(*l, 4) || getsockname(*l, (struct sockaddr *)&sin, &len) ||
	    connect(*c, (struct sockaddr *)&sin, len))
		return -1;
	*a = accept(*l, NULL, NULL);
	return *a < 0 ? -1 : 0;
}

FIXTURE(opts) {
	int kl, kc, ka, vl, vc, va, kf, vf;
};

FIXTURE_SETUP(opts)
{
	ASSERT_EQ(0, kernel_pair(&self->kl, &self->kc, &self->ka));
	ASSERT_EQ(0, vs_pair(vs_test_port(7), &self->vl, &self->vc, &self->va));
	self->kf = socket(AF_INET, SOCK_STREAM, 0);
	self->vf = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	ASSERT_LE(0, self->kf);
	ASSERT_LE(0, self->vf);
}

FIXTURE_TEARDOWN(opts)
{
	struct vmmc_sock_stats st;

	close(self->kl);
	close(self->kc);
	close(self->ka);
	close(self->kf);
	vmmc_sock_close(self->vf);
	vmmc_sock_close(self->va);
	vmmc_sock_close(self->vc);
	vmmc_sock_close(self->vl);
	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
}

/* Every row on a fresh socket, then on a connected one. */
TEST_F(opts, table_fresh_and_connected)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		compare_row(_metadata, &rows[i], self->kf, self->vf);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* a connected socket's MSS is the path's */
		if (rows[i].name == TCP_MAXSEG && rows[i].level == IPPROTO_TCP)
			continue;
		compare_row(_metadata, &rows[i], self->kc, self->vc);
	}
}

/* The options of a listener, and what the accepted socket inherits. */
TEST_F(opts, listener_and_structs)
{
	struct linger lk = { 1, 5 }, lv = { -1, -1 }, lg = { 0, 0 };
	char ck[32] = "reno", cv[32];
	socklen_t klen, vlen;
	struct opt_row r = SET(IPPROTO_TCP, TCP_FASTOPEN, 8);

	compare_row(_metadata, &r, self->kl, self->vl);
	r = (struct opt_row)SET(IPPROTO_TCP, TCP_DEFER_ACCEPT, 3);
	compare_row(_metadata, &r, self->kl, self->vl);
	/* SO_LINGER: a struct; too short is EINVAL; the time kept when off */
	EXPECT_EQ(-EINVAL, vmmc_sock_setsockopt(self->vc, SOL_SOCKET, SO_LINGER, &lk, 4));
	EXPECT_EQ(-1, setsockopt(self->kc, SOL_SOCKET, SO_LINGER, &lk, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, setsockopt(self->kc, SOL_SOCKET, SO_LINGER, &lk, sizeof(lk)));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, SOL_SOCKET, SO_LINGER, &lk, sizeof(lk)));
	EXPECT_EQ(0, setsockopt(self->kc, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	klen = vlen = sizeof(lk);
	memset(&lk, 0x5a, sizeof(lk));
	EXPECT_EQ(0, getsockopt(self->kc, SOL_SOCKET, SO_LINGER, &lk, &klen));
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->vc, SOL_SOCKET, SO_LINGER, &lv, &vlen));
	EXPECT_EQ(klen, vlen);
	EXPECT_EQ(0, memcmp(&lk, &lv, sizeof(lk)));
	EXPECT_EQ(0, lk.l_onoff);
	EXPECT_EQ(5, lk.l_linger);
	/* TCP_CONGESTION: a name; an unknown one is ENOENT */
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CONGESTION, ck, 4));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CONGESTION, ck, 4));
	EXPECT_EQ(-1, setsockopt(self->kc, IPPROTO_TCP, TCP_CONGESTION, "nosuch", 6));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CONGESTION, "nosuch", 6));
	klen = vlen = sizeof(ck);
	memset(ck, 1, sizeof(ck));
	memset(cv, 1, sizeof(cv));
	EXPECT_EQ(0, getsockopt(self->kc, IPPROTO_TCP, TCP_CONGESTION, ck, &klen));
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->vc, IPPROTO_TCP, TCP_CONGESTION, cv, &vlen));
	EXPECT_EQ(klen, vlen);
	EXPECT_EQ(0, memcmp(ck, cv, sizeof(ck)));
	EXPECT_STREQ("reno", cv);
}

/* SO_LINGER { 1, 0 }: close resets the connection; the peer sees it */
TEST_F(opts, linger_zero_resets)
{
	struct linger lg = { 1, 0 };
	char b[4];

	EXPECT_EQ(0, setsockopt(self->kc, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	EXPECT_EQ(0, close(self->kc));
	EXPECT_EQ(0, vmmc_sock_close(self->vc));
	self->kc = self->vc = -1;
	EXPECT_EQ(-1, recv(self->ka, b, sizeof(b), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(-ECONNRESET, vmmc_sock_recv(self->va, b, sizeof(b), 0));
	EXPECT_EQ(-EPIPE, vmmc_sock_send(self->va, b, 1, MSG_NOSIGNAL));
	EXPECT_EQ(-1, send(self->ka, b, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
}

/* TCP_INFO: the state, and the bytes that went, as the kernel's. */
TEST_F(opts, tcp_info)
{
	struct tcp_info tk, tv;
	socklen_t klen = sizeof(tk), vlen = sizeof(tv);
	char b[3000];

	memset(b, 'i', sizeof(b));
	EXPECT_EQ(0, getsockopt(self->kl, IPPROTO_TCP, TCP_INFO, &tk, &klen));
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->vl, IPPROTO_TCP, TCP_INFO, &tv, &vlen));
	EXPECT_EQ(tk.tcpi_state, tv.tcpi_state);
	EXPECT_EQ(TCP_LISTEN, tv.tcpi_state);
	EXPECT_EQ(sizeof(b), send(self->kc, b, sizeof(b), 0));
	EXPECT_EQ(sizeof(b), vmmc_sock_send(self->vc, b, sizeof(b), 0));
	EXPECT_EQ(sizeof(b), recv(self->ka, b, sizeof(b), MSG_WAITALL));
	EXPECT_EQ(sizeof(b), vmmc_sock_recv(self->va, b, sizeof(b), MSG_WAITALL));
	klen = vlen = sizeof(tk);
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->vc, IPPROTO_TCP, TCP_INFO, &tv, &vlen));
	EXPECT_EQ(0, getsockopt(self->kc, IPPROTO_TCP, TCP_INFO, &tk, &klen));
	EXPECT_EQ(klen, vlen);
	EXPECT_EQ(TCP_ESTABLISHED, tv.tcpi_state);
	EXPECT_EQ(tk.tcpi_state, tv.tcpi_state);
	EXPECT_LT(0, tv.tcpi_snd_mss);
	EXPECT_EQ(VMMC_SOCK_RCVBUF_DEF, tv.tcpi_rcv_space);
	/* the peer's end: CLOSE_WAIT on both */
	EXPECT_EQ(0, shutdown(self->ka, SHUT_WR));
	EXPECT_EQ(0, vmmc_sock_shutdown(self->va, SHUT_WR));
	EXPECT_EQ(0, recv(self->kc, b, 1, 0));
	EXPECT_EQ(0, vmmc_sock_recv(self->vc, b, 1, 0));
	klen = vlen = sizeof(tk);
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->vc, IPPROTO_TCP, TCP_INFO, &tv, &vlen));
	EXPECT_EQ(0, getsockopt(self->kc, IPPROTO_TCP, TCP_INFO, &tk, &klen));
	EXPECT_EQ(TCP_CLOSE_WAIT, tv.tcpi_state);
	EXPECT_EQ(tk.tcpi_state, tv.tcpi_state);
	klen = vlen = 1;
	EXPECT_EQ(0, getsockopt(self->kc, IPPROTO_TCP, TCP_INFO, &tk, &klen));
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->vc, IPPROTO_TCP, TCP_INFO, &tv, &vlen));
	EXPECT_EQ(klen, vlen);
	EXPECT_EQ(-EFAULT, vmmc_sock_getsockopt(self->vc, IPPROTO_TCP, TCP_INFO, NULL, &vlen));
}

/* Bytes not yet handed to the NIC (or to the kernel's IP layer). */
static int unsent(int fd, bool vmmc)
{
	int n = -1;

	if (vmmc)
		return vmmc_sock_ioctl(fd, SIOCOUTQNSD, &n) ? -1 : n;
	return ioctl(fd, SIOCOUTQNSD, &n) ? -1 : n;
}

/*
 * TCP_CORK: a small send is held, a segment's worth goes, uncork sends
 * the rest, and close sends what a corked socket holds; the receiver
 * gets every byte in order.
 */
TEST_F(opts, cork_holds_and_flushes)
{
	static char out[70100], in[sizeof(out)];
	int one = 1, zero = 0, held;
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + i / 251);
	ASSERT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	EXPECT_EQ(100, vmmc_sock_send(self->vc, out, 100, 0));
	EXPECT_EQ(100, unsent(self->vc, true));
	usleep(50000);
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(self->va, in, sizeof(in), MSG_DONTWAIT));
	/* a segment's worth and more: the whole segments go, the tail waits */
	EXPECT_EQ(sizeof(out) - 100, vmmc_sock_send(self->vc, out + 100, sizeof(out) - 100, 0));
	held = unsent(self->vc, true);
	EXPECT_LT(0, held);
	EXPECT_GT(65536, held);
	/* (a wait longer than 200 ms here lets the tail go: see below) */
	EXPECT_EQ(sizeof(out) - held, vmmc_sock_recv(self->va, in, sizeof(out) - held, MSG_WAITALL));
	/* uncork: the rest goes */
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	EXPECT_EQ(0, unsent(self->vc, true));
	EXPECT_EQ(held, vmmc_sock_recv(self->va, in + sizeof(out) - held, held, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
	/* TCP_NODELAY on a corked socket pushes what it holds, as the kernel's */
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	EXPECT_EQ(20, vmmc_sock_send(self->vc, out + 300, 20, 0));
	EXPECT_EQ(20, send(self->kc, out + 300, 20, 0));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	EXPECT_EQ(0, unsent(self->vc, true));
	EXPECT_EQ(0, unsent(self->kc, false));
	EXPECT_EQ(20, vmmc_sock_recv(self->va, in, 20, MSG_WAITALL));
	EXPECT_EQ(20, recv(self->ka, in + 20, 20, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out + 300, in, 20));
	EXPECT_EQ(0, memcmp(out + 300, in + 20, 20));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_NODELAY, &zero, sizeof(zero)));
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_NODELAY, &zero, sizeof(zero)));
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	/* a corked tail goes after 200 ms (the kernel's ceiling) */
	struct timeval tmo = { .tv_sec = 5 };
	struct timespec t0, t1;
	long ms[2];

	ASSERT_EQ(0, setsockopt(self->ka, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)));
	ASSERT_EQ(0, vmmc_sock_setsockopt(self->va, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)));
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	for (i = 0; i < 2; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (i) {
			EXPECT_EQ(30, send(self->kc, out + 700, 30, 0));
			EXPECT_EQ(30, recv(self->ka, in, 30, MSG_WAITALL));
		} else {
			EXPECT_EQ(30, vmmc_sock_send(self->vc, out + 700, 30, 0));
			EXPECT_EQ(30, vmmc_sock_recv(self->va, in, 30, MSG_WAITALL));
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		EXPECT_EQ(0, memcmp(out + 700, in, 30));
	}
	TH_LOG("a corked tail went after %ld ms (the kernel's: %ld ms)", ms[0], ms[1]);
	EXPECT_LE(190, ms[0]);
	EXPECT_GT(4000, ms[0]);
	EXPECT_LE(190, ms[1]);
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	/* corked again: close sends what is held, then the end */
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->vc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	EXPECT_EQ(10, vmmc_sock_send(self->vc, out + 500, 10, 0));
	EXPECT_EQ(10, unsent(self->vc, true));
	EXPECT_EQ(0, vmmc_sock_close(self->vc));
	self->vc = -1;
	memset(in, 0, 10);
	EXPECT_EQ(10, vmmc_sock_recv(self->va, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out + 500, in, 10));
	EXPECT_EQ(0, vmmc_sock_recv(self->va, in, sizeof(in), 0));
	/* the kernel: uncork flushes the same bytes, close the corked rest */
	ASSERT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	EXPECT_EQ(100, send(self->kc, out, 100, 0));
	EXPECT_EQ(0, setsockopt(self->kc, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	memset(in, 0, 100);
	EXPECT_EQ(100, recv(self->ka, in, 100, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(out, in, 100));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: VMMC stream sockets on one node (NIC loopback), between
 * two processes or inside one. Byte streams of seeded random sizes both
 * ways arrive byte-exactly; shutdown gives EOF in one direction only;
 * MSG_PEEK, MSG_WAITALL and MSG_DONTWAIT behave as on TCP; a peer killed
 * with SIGKILL gives ECONNRESET, then EPIPE and SIGPIPE; nobody listening
 * gives ECONNREFUSED, a node not on the fabric ENETUNREACH; a ping-pong
 * of small messages costs one SEND per message (the SENDs counted, every
 * byte checked). After each
 * test every socket counter is back to zero and the endpoint is closed.
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define MiB	(1UL << 20)
#define TOTAL	(3 * MiB + 12345)

static void expect_idle(struct __test_metadata *_metadata)
{
	struct vmmc_sock_stats st;

	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets);
	EXPECT_EQ(0, st.conns);
	EXPECT_EQ(0, st.listeners);
	EXPECT_EQ(0, st.inflight);
	EXPECT_EQ(-1, vmmc_sock_ep_fd());
}

/* child: accept one connection, check a stream, send one, echo, end */
static int stream_server(uint16_t port, uint64_t seed, uint8_t *buf)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int l, c, i, err;
	ssize_t n;

	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0 || vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 4))
		return 2;
	write(1, "", 0);
	c = vmmc_sock_accept(l, NULL, NULL);
	if (c < 0)
		return 3;
	err = vs_recv_stream(c, seed, 1, TOTAL, 200000, buf);
	if (err)
		return 4;
	err = vs_send_stream(c, seed, 2, TOTAL, 200000, buf);
	if (err)
		return 5;
	for (i = 0; i < 300; i++) {		/* echo until EOF */
		n = vmmc_sock_recv(c, buf, 70000, 0);
		if (n <= 0)
			break;
		if (vmmc_sock_send(c, buf, (size_t)n, 0) != n)
			return 6;
	}
	if (n != 0 || vmmc_sock_recv(c, buf, 1, 0) != 0)
		return 7;
	vmmc_sock_close(c);
	vmmc_sock_close(l);
	return 0;
}


FIXTURE(sock) {
	int unused;
};

FIXTURE_SETUP(sock)
{
}

FIXTURE_TEARDOWN(sock)
{
}

/* A client connects to @port, retrying while the server gets there. */
static int connect_retry(uint32_t node, uint16_t port)
{
	return vs_connect_retry(node, port, 300, 20000);
}

TEST_F_TIMEOUT(sock, stream_both_ways_two_processes, 300)
{
	static uint8_t buf[256 << 10], buf2[70000];
	uint64_t seed = vmmc_test_seed("sock stream"), s = seed;
	uint16_t port = vs_test_port(1);
	int fd, st, i;
	size_t n;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(stream_server(port, seed, buf));
	fd = connect_retry(VMMC_NODE_ANY, port);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, vs_send_stream(fd, seed, 1, TOTAL, 200000, buf));
	EXPECT_EQ(0, vs_recv_stream(fd, seed, 2, TOTAL, 200000, buf));
	/* ping-pong of random sizes: each answer is the same bytes */
	for (i = 0; i < 200; i++) {
		n = vmmc_rand_size(&s, sizeof(buf2));
		vmmc_fill_pattern(buf, n, seed, 3, (uint64_t)i);
		ASSERT_EQ((ssize_t)n, vmmc_sock_send(fd, buf, n, 0));
		ASSERT_EQ((ssize_t)n, vmmc_sock_recv(fd, buf2, n, MSG_WAITALL));
		ASSERT_EQ(-1, vmmc_check_pattern(buf2, n, seed, 3, (uint64_t)i));
	}
	EXPECT_EQ(0, vmmc_sock_shutdown(fd, SHUT_WR));
	EXPECT_EQ(0, vmmc_sock_recv(fd, buf, 1, 0));	/* server's EOF */
	EXPECT_EQ(0, vmmc_sock_close(fd));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	expect_idle(_metadata);
}

TEST_F(sock, shutdown_eof_and_flags)
{
	char b[64] = "";
	int l = -1, c = -1, a = -1;

	ASSERT_EQ(0, vs_pair(vs_test_port(2), &l, &c, &a));
	/* nothing there: DONTWAIT says so, and so does a non-blocking fd */
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(a, b, sizeof(b), MSG_DONTWAIT));
	EXPECT_EQ(0, vmmc_sock_set_nonblock(a, 1));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(a, b, sizeof(b), 0));
	EXPECT_EQ(5, vmmc_sock_send(c, "hello", 5, 0));
	EXPECT_EQ(3, vmmc_sock_send(c, "abc", 3, 0));
	/* PEEK leaves the bytes; a later recv gets them again */
	EXPECT_EQ(0, vmmc_sock_set_nonblock(a, 0));
	EXPECT_EQ(8, vmmc_sock_recv(a, b, 8, MSG_PEEK | MSG_WAITALL));
	EXPECT_EQ(0, memcmp(b, "helloabc", 8));
	EXPECT_EQ(4, vmmc_sock_recv(a, b, 4, 0));
	EXPECT_EQ(0, memcmp(b, "hell", 4));
	/* shutdown(WR): the rest, then EOF; the other way still works */
	EXPECT_EQ(0, vmmc_sock_shutdown(c, SHUT_WR));
	EXPECT_EQ(-EPIPE, vmmc_sock_send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(4, vmmc_sock_recv(a, b, sizeof(b), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(b, "oabc", 4));
	EXPECT_EQ(0, vmmc_sock_recv(a, b, sizeof(b), 0));
	EXPECT_EQ(0, vmmc_sock_recv(a, b, sizeof(b), 0));
	EXPECT_EQ(6, vmmc_sock_send(a, "answer", 6, 0));
	EXPECT_EQ(6, vmmc_sock_recv(c, b, 6, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(b, "answer", 6));
	/* close: the other side reads EOF */
	EXPECT_EQ(0, vmmc_sock_close(a));
	EXPECT_EQ(0, vmmc_sock_recv(c, b, sizeof(b), 0));
	EXPECT_EQ(0, vmmc_sock_close(c));
	EXPECT_EQ(0, vmmc_sock_close(l));
	expect_idle(_metadata);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

TEST_F_TIMEOUT(sock, peer_killed_gives_reset_then_epipe, 120)
{
	struct sockaddr_vmmc sa;
	uint16_t port = vs_test_port(3);
	int fd, st, p[2];
	char b[16];
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0), c;

		sa = vs_sa(VMMC_NODE_ANY, port);
		if (vmmc_sock_bind(l, VS_SA(sa)) || vmmc_sock_listen(l, 1))
			_exit(2);
		c = vmmc_sock_accept(l, NULL, NULL);
		if (c < 0 || vmmc_sock_recv(c, b, 1, 0) != 1)
			_exit(3);
		write(p[1], "k", 1);
		pause();	/* killed here */
		_exit(4);
	}
	fd = connect_retry(VMMC_NODE_ANY, port);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, vmmc_sock_send(fd, "x", 1, 0));
	ASSERT_EQ(1, read(p[0], b, 1));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	/* a blocked recv learns it: the probe finds the export revoked */
	EXPECT_EQ(-ECONNRESET, vmmc_sock_recv(fd, b, sizeof(b), 0));
	EXPECT_EQ(0, vmmc_sock_recv(fd, b, sizeof(b), 0));
	EXPECT_EQ(-EPIPE, vmmc_sock_send(fd, "y", 1, MSG_NOSIGNAL));
	EXPECT_EQ(0, sigpipes);
	signal(SIGPIPE, on_sigpipe);
	EXPECT_EQ(-EPIPE, vmmc_sock_send(fd, "y", 1, 0));
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(0, vmmc_sock_close(fd));
	close(p[0]);
	close(p[1]);
	expect_idle(_metadata);
}

/*
 * A sender that sends many small messages in a burst and then sleeps
 * outside the library (here: in nanosleep; a program would block in
 * read() on a pipe) must not leave its last bytes unannounced: each
 * message's state word says how far the stream goes, and the one for the
 * last message must go out even when all of the socket's state slots were
 * in flight at that moment. The receiver (a child) must see every byte
 * while the sender sleeps.
 */
static int burst_receiver(uint16_t port, int msgs)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	struct timeval tv = { .tv_sec = 5 };
	uint8_t buf[256];
	size_t got = 0;
	int l, fd, i;
	ssize_t n;

	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0 || vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 1))
		return 2;
	fd = vmmc_sock_accept(l, NULL, NULL);
	if (fd < 0 || vmmc_sock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					   sizeof(tv)))
		return 3;
	while (got < (size_t)msgs) {
		n = vmmc_sock_recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			if (buf[i] != (uint8_t)(got + i))
				return 4;
		got += (size_t)n;
	}
	if (got != (size_t)msgs) {
		fprintf(stderr, "# receiver: %zu of %d bytes, then nothing for 5 s\n",
			got, msgs);
		return 5;
	}
	return 0;
}

TEST_F_TIMEOUT(sock, burst_then_sleep_announces_all, 120)
{
	enum { MSGS = 3000 };
	uint16_t port = vs_test_port(9);
	int fd, st = 0, i, t;
	uint8_t c;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(burst_receiver(port, MSGS));
	fd = connect_retry(VMMC_NODE_ANY, port);
	ASSERT_LE(0, fd);
	for (i = 0; i < MSGS; i++) {
		c = (uint8_t)i;
		ASSERT_EQ(1, vmmc_sock_send(fd, &c, 1, 0));
	}
	/* no library call from here until the receiver is done */
	for (t = 0; t < 200; t++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(50000);
	}
	if (t == 200) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	vmmc_sock_close(fd);
	expect_idle(_metadata);
}

/* child: echo @n messages of @len bytes, read with a small buffer */
static int echo_server(uint16_t port, int n, size_t len)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	uint8_t b[64];
	int l, fd, i;

	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0 || vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 1))
		return 2;
	fd = vmmc_sock_accept(l, NULL, NULL);
	if (fd < 0)
		return 3;
	for (i = 0; i < n; i++) {
		if (vmmc_sock_recv(fd, b, len, MSG_WAITALL) != (ssize_t)len)
			return 4;
		if (vmmc_sock_send(fd, b, len, 0) != (ssize_t)len)
			return 5;
	}
	vmmc_sock_close(fd);
	vmmc_sock_close(l);
	return 0;
}

/*
 * One SEND per small message: once both sides have received (each then
 * lets the other put its count in a trailer behind the data), a 64-byte
 * ping costs its sender one data SEND and nothing else; the echo comes
 * back byte-exactly.
 */
TEST_F_TIMEOUT(sock, small_message_one_send, 120)
{
	enum { WARM = 20, PINGS = 300, LEN = 64 };
	struct vmmc_sock_stats s0, s1;
	uint16_t port = vs_test_port(11);
	uint8_t out[LEN], in[LEN];
	uint64_t seed = 5;
	int fd, st = 0, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(echo_server(port, WARM + PINGS, LEN));
	fd = connect_retry(VMMC_NODE_ANY, port);
	ASSERT_LE(0, fd);
	for (i = 0; i < WARM + PINGS; i++) {
		if (i == WARM)
			vmmc_sock_stats(&s0);
		vmmc_fill_pattern(out, LEN, seed, 1, (uint64_t)i * LEN);
		ASSERT_EQ(LEN, vmmc_sock_send(fd, out, LEN, 0));
		ASSERT_EQ(LEN, vmmc_sock_recv(fd, in, LEN, MSG_WAITALL));
		ASSERT_EQ(0, memcmp(in, out, LEN));
	}
	vmmc_sock_stats(&s1);
	TH_LOG("%d pings: %lu data SENDs, %lu state SENDs", PINGS,
	       (unsigned long)(s1.data_sends - s0.data_sends),
	       (unsigned long)(s1.state_sends - s0.state_sends));
	EXPECT_EQ(PINGS, s1.data_sends - s0.data_sends);
	EXPECT_EQ(0, s1.state_sends - s0.state_sends);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	vmmc_sock_close(fd);
	expect_idle(_metadata);
}

TEST_F(sock, refused_and_unreachable)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, vs_test_port(4));
	struct sockaddr_vmmc far = vs_sa(60, 80);
	int fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0), b;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ECONNREFUSED, vmmc_sock_connect(fd, VS_SA(a)));
	/* bound, not listening: refused too (the listener says so) */
	b = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, vmmc_sock_bind(b, VS_SA(a)));
	EXPECT_EQ(-ECONNREFUSED, vmmc_sock_connect(fd, VS_SA(a)));
	EXPECT_EQ(-ENETUNREACH, vmmc_sock_connect(fd, VS_SA(far)));
	/* and after all that, the same socket still connects */
	ASSERT_EQ(0, vmmc_sock_listen(b, 1));
	EXPECT_EQ(0, vmmc_sock_connect(fd, VS_SA(a)));
	EXPECT_EQ(0, vmmc_sock_close(fd));
	EXPECT_EQ(0, vmmc_sock_close(b));
	expect_idle(_metadata);
}

TEST_HARNESS_MAIN

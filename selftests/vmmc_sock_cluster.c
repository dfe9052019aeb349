// SPDX-License-Identifier: GPL-2.0
/*
 * Description: VMMC stream sockets between two nodes; run on both (node
 * 1 listens, node 0 connects; each reports its own half). Skips on a
 * single node. stream: 2 MiB each way in seeded random pieces, checked
 * byte by byte, then a ping-pong of random sizes and an orderly end
 * (EOF both ways); node 0's echoes of 16 KiB or more come by zero-copy
 * receive (redirection across nodes). peer_killed: node 1's server process is killed with
 * SIGKILL while node 0 waits in recv: node 0 gets ECONNRESET, then EPIPE.
 * The seed is fixed (or $VMMC_SEED, the same on both nodes).
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define MiB		(1UL << 20)
#define TOTAL		(2 * MiB + 777)
#define PORT_STREAM	5000
#define PORT_KILL	5001
#define PINGS		100

FIXTURE(cl) {
	uint32_t node, nodes;
	uint64_t seed;
};

FIXTURE_SETUP(cl)
{
	struct vmmc_ep ep;
	const char *e = getenv("VMMC_SEED");

	ASSERT_EQ(0, vmmc_ep_open(&ep, VMMC_DEV));
	self->node = ep.info.node_id;
	self->nodes = ep.info.nr_nodes;
	vmmc_ep_close(&ep);
	self->seed = e ? strtoull(e, NULL, 0) : 0x5eed50c;
}

FIXTURE_TEARDOWN(cl)
{
	struct vmmc_sock_stats st;

	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
}

/* node 0: connect to node 1, retrying while it gets there */
static int connect_node1(uint16_t port)
{
	return vs_connect_retry(1, port, 1500, 200000);
}

static int listen_on(uint16_t port)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);

	if (l < 0 || vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 1))
		return -1;
	return l;
}

TEST_F_TIMEOUT(cl, stream, 600)
{
	static uint8_t buf[256 << 10], buf2[100000];
	struct vmmc_sock_stats st;
	uint64_t s = self->seed;
	int fd, l = -1, i;
	ssize_t n;
	size_t len;

	if (self->nodes < 2)
		SKIP(return, "one node: nothing to talk to");
	if (self->node == 1) {
		l = listen_on(PORT_STREAM);
		ASSERT_LE(0, l);
		fd = vmmc_sock_accept(l, NULL, NULL);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, vs_recv_stream(fd, self->seed, 1, TOTAL, 200000, buf));
		EXPECT_EQ(0, vs_send_stream(fd, self->seed, 2, TOTAL, 200000, buf));
		for (i = 0; i < PINGS + 1; i++) {	/* echo until EOF */
			n = vmmc_sock_recv(fd, buf, sizeof(buf2), 0);
			if (n <= 0)
				break;
			ASSERT_EQ(n, vmmc_sock_send(fd, buf, (size_t)n, 0));
		}
		EXPECT_EQ(0, n);
	} else if (self->node == 0) {
		fd = connect_node1(PORT_STREAM);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, vs_send_stream(fd, self->seed, 1, TOTAL, 200000, buf));
		EXPECT_EQ(0, vs_recv_stream(fd, self->seed, 2, TOTAL, 200000, buf));
		for (i = 0; i < PINGS; i++) {
			len = vmmc_rand_size(&s, sizeof(buf2));
			vmmc_fill_pattern(buf, len, self->seed, 3, (uint64_t)i);
			ASSERT_EQ((ssize_t)len, vmmc_sock_send(fd, buf, len, 0));
			ASSERT_EQ((ssize_t)len, vmmc_sock_recv(fd, buf2, len, MSG_WAITALL));
			ASSERT_EQ(-1, vmmc_check_pattern(buf2, len, self->seed, 3, (uint64_t)i));
		}
		/* echoes of >= 16 KiB came by zero-copy receive */
		vmmc_sock_stats(&st);
		TH_LOG("zero-copy receive: %llu redirects, %llu bytes, "
		       "%llu copied", (unsigned long long)st.zc_posts,
		       (unsigned long long)st.zc_bytes,
		       (unsigned long long)st.zc_copied);
		EXPECT_LT(0, st.zc_posts);
		EXPECT_LT(0, st.zc_bytes);
		EXPECT_EQ(0, st.zc_active);
		EXPECT_EQ(0, vmmc_sock_shutdown(fd, SHUT_WR));
	} else {
		SKIP(return, "node %u has no part", self->node);
	}
	EXPECT_EQ(0, vmmc_sock_recv(fd, buf, 1, 0));	/* the peer's EOF */
	EXPECT_EQ(0, vmmc_sock_close(fd));
	if (l >= 0)
		EXPECT_EQ(0, vmmc_sock_close(l));
}

TEST_F_TIMEOUT(cl, peer_killed, 300)
{
	int fd, st, p[2];
	char b[8];
	pid_t pid;

	if (self->nodes < 2)
		SKIP(return, "one node: nothing to talk to");
	if (self->node == 1) {
		ASSERT_EQ(0, pipe(p));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			int l = listen_on(PORT_KILL), c;

			c = vmmc_sock_accept(l, NULL, NULL);
			if (c < 0 || vmmc_sock_recv(c, b, 1, 0) != 1)
				_exit(3);
			write(p[1], "k", 1);
			pause();
			_exit(4);
		}
		ASSERT_EQ(1, read(p[0], b, 1));
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_TRUE(WIFSIGNALED(st));
		close(p[0]);
		close(p[1]);
	} else if (self->node == 0) {
		fd = connect_node1(PORT_KILL);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, vmmc_sock_send(fd, "x", 1, 0));
		EXPECT_EQ(-ECONNRESET, vmmc_sock_recv(fd, b, sizeof(b), 0));
		EXPECT_EQ(-EPIPE, vmmc_sock_send(fd, "y", 1, MSG_NOSIGNAL));
		EXPECT_EQ(0, vmmc_sock_close(fd));
	} else {
		SKIP(return, "node %u has no part", self->node);
	}
}

TEST_HARNESS_MAIN

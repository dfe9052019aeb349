// SPDX-License-Identifier: GPL-2.0
/*
 * Description: readiness of VMMC sockets in the same poll and epoll
 * calls as kernel fds: a VMMC socket, a pipe and a kernel TCP socket
 * (over the guest's loopback) in one event loop. poll reports each kind
 * as it becomes ready and blocks until another process's data arrives
 * through the NIC; epoll level-triggered reports a readable VMMC socket
 * until it is drained, edge-triggered once per arrival, one-shot once;
 * a non-blocking connect gives EINPROGRESS, then POLLOUT and SO_ERROR 0;
 * the peer's close gives EPOLLRDHUP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

FIXTURE(mix) {
	int l, c, a, p[2], tl, t1, t2;
	uint16_t port;
};

/* a kernel TCP connection over 127.0.0.1 */
static int tcp_pair(int *l, int *x, int *y)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*l = socket(AF_INET, SOCK_STREAM, 0);
	if (*l < 0 || bind(*l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(*l, 1) || getsockname(*l, (struct sockaddr *)&sa, &len))
		return -1;
	*x = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*x, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	*y = accept(*l, NULL, NULL);
	return *y < 0 ? -1 : 0;
}

FIXTURE_SETUP(mix)
{
	if (system("ip link set lo up 2>/dev/null"))
		TH_LOG("could not bring lo up");
	self->port = vs_test_port(6);
	ASSERT_EQ(0, vs_pair(self->port, &self->l, &self->c, &self->a));
	ASSERT_EQ(0, pipe(self->p));
	ASSERT_EQ(0, tcp_pair(&self->tl, &self->t1, &self->t2));
}

FIXTURE_TEARDOWN(mix)
{
	struct vmmc_sock_stats st;

	vmmc_sock_close(self->a);
	vmmc_sock_close(self->c);
	vmmc_sock_close(self->l);
	close(self->p[0]);
	close(self->p[1]);
	close(self->tl);
	close(self->t1);
	close(self->t2);
	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

TEST_F_TIMEOUT(mix, poll_three_kinds, 120)
{
	struct pollfd f[3] = {
		{ .fd = self->a, .events = POLLIN },
		{ .fd = self->p[0], .events = POLLIN },
		{ .fd = self->t2, .events = POLLIN },
	};
	uint64_t t0;
	char b[16];
	int st, i;
	pid_t pid;

	EXPECT_EQ(0, vmmc_sock_poll(f, 3, 0));
	t0 = ms_now();
	EXPECT_EQ(0, vmmc_sock_poll(f, 3, 200));
	EXPECT_LE(190, ms_now() - t0);
	ASSERT_EQ(1, write(self->p[1], "p", 1));
	EXPECT_EQ(1, vmmc_sock_poll(f, 3, 1000));
	EXPECT_EQ(0, f[0].revents);
	EXPECT_EQ(POLLIN, f[1].revents);
	ASSERT_EQ(3, vmmc_sock_send(self->c, "vmm", 3, 0));
	ASSERT_EQ(1, send(self->t1, "t", 1, 0));
	for (i = 0; i < 100 && vmmc_sock_poll(f, 3, 1000) != 3; i++)
		usleep(20000);	/* until all three have arrived */
	EXPECT_EQ(3, vmmc_sock_poll(f, 3, 1000));
	EXPECT_EQ(POLLIN, f[0].revents);
	EXPECT_EQ(POLLIN, f[2].revents);
	EXPECT_EQ(3, vmmc_sock_recv(self->a, b, sizeof(b), 0));
	EXPECT_EQ(1, read(self->p[0], b, 1));
	EXPECT_EQ(1, recv(self->t2, b, 1, 0));
	EXPECT_EQ(0, vmmc_sock_poll(f, 3, 0));

	/* block until another process's bytes come through the NIC */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct sockaddr_vmmc sa = vs_sa(VMMC_NODE_ANY, self->port);
		int fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);

		if (vmmc_sock_connect(fd, VS_SA(sa)))
			_exit(2);
		usleep(300000);
		_exit(vmmc_sock_send(fd, "late", 4, 0) == 4 &&
		      vmmc_sock_close(fd) == 0 ? 0 : 3);
	}
	f[0].fd = vmmc_sock_accept(self->l, NULL, NULL);
	ASSERT_LE(0, f[0].fd);
	f[0].events = POLLIN | POLLRDHUP;
	t0 = ms_now();
	EXPECT_EQ(1, vmmc_sock_poll(f, 3, -1));
	EXPECT_LE(200, ms_now() - t0);
	EXPECT_TRUE(f[0].revents & POLLIN);
	EXPECT_EQ(4, vmmc_sock_recv(f[0].fd, b, 4, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(b, "late", 4));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ(1, vmmc_sock_poll(f, 1, 1000));
	EXPECT_TRUE(f[0].revents & POLLRDHUP);
	EXPECT_EQ(0, vmmc_sock_recv(f[0].fd, b, 4, 0));
	EXPECT_EQ(0, vmmc_sock_close(f[0].fd));
}

TEST_F(mix, epoll_level_edge_oneshot)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[8];
	int ep = vmmc_sock_epoll_create1(EPOLL_CLOEXEC), i, got;
	char b[16];

	ASSERT_LE(0, ep);
	ev.data.u64 = 1;
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_ADD, self->a, &ev));
	EXPECT_EQ(-EEXIST, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_ADD, self->a, &ev));
	EXPECT_EQ(-ENOENT, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_MOD, self->c, &ev));
	EXPECT_EQ(-EBADF, vmmc_sock_epoll_ctl(999, EPOLL_CTL_ADD, self->c, &ev));
	ev.data.u64 = 2;
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_ADD, self->p[0], &ev));
	ev.data.u64 = 3;
	ev.events = EPOLLIN | EPOLLET;
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_ADD, self->t2, &ev));
	EXPECT_EQ(0, vmmc_sock_epoll_wait(ep, out, 8, 0));

	/* level: reported while anything is left */
	ASSERT_EQ(10, vmmc_sock_send(self->c, "0123456789", 10, 0));
	ASSERT_EQ(1, send(self->t1, "t", 1, 0));
	ASSERT_EQ(1, write(self->p[1], "p", 1));
	usleep(100000);
	got = 0;
	for (i = 0; i < 3; i++) {
		int n = vmmc_sock_epoll_wait(ep, out, 8, 1000), j;

		for (j = 0; j < n; j++)
			got |= 1 << out[j].data.u64;
		/* all three at once, then TCP (edge) no more */
		EXPECT_EQ(i ? 2 : 3, n);
	}
	EXPECT_EQ(0xe, got);
	EXPECT_EQ(5, vmmc_sock_recv(self->a, b, 5, 0));
	EXPECT_EQ(1, read(self->p[0], b, 1));
	EXPECT_EQ(1, vmmc_sock_epoll_wait(ep, out, 8, 0));
	EXPECT_EQ(1, out[0].data.u64);
	EXPECT_EQ(5, vmmc_sock_recv(self->a, b, 5, 0));
	EXPECT_EQ(0, vmmc_sock_epoll_wait(ep, out, 8, 0));

	/* edge: once per arrival, even with bytes left */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 1;
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_MOD, self->a, &ev));
	ASSERT_EQ(2, vmmc_sock_send(self->c, "ab", 2, 0));
	EXPECT_EQ(1, vmmc_sock_epoll_wait(ep, out, 8, 1000));
	EXPECT_EQ(0, vmmc_sock_epoll_wait(ep, out, 8, 50));
	ASSERT_EQ(2, vmmc_sock_send(self->c, "cd", 2, 0));
	EXPECT_EQ(1, vmmc_sock_epoll_wait(ep, out, 8, 1000));
	EXPECT_EQ(EPOLLIN, out[0].events);
	EXPECT_EQ(4, vmmc_sock_recv(self->a, b, 4, MSG_WAITALL));

	/* one-shot: once, then nothing until MOD */
	ev.events = EPOLLIN | EPOLLONESHOT;
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_MOD, self->a, &ev));
	ASSERT_EQ(1, vmmc_sock_send(self->c, "x", 1, 0));
	EXPECT_EQ(1, vmmc_sock_epoll_wait(ep, out, 8, 1000));
	EXPECT_EQ(0, vmmc_sock_epoll_wait(ep, out, 8, 0));
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_MOD, self->a, &ev));
	EXPECT_EQ(1, vmmc_sock_epoll_wait(ep, out, 8, 0));
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_DEL, self->a, NULL));
	EXPECT_EQ(0, vmmc_sock_epoll_wait(ep, out, 8, 0));

	/* the peer closes: RDHUP (and IN: EOF) */
	ev.events = EPOLLIN | EPOLLRDHUP;
	ASSERT_EQ(0, vmmc_sock_epoll_ctl(ep, EPOLL_CTL_ADD, self->a, &ev));
	EXPECT_EQ(1, vmmc_sock_recv(self->a, b, 1, 0));
	EXPECT_EQ(0, vmmc_sock_close(self->c));
	self->c = -1;
	EXPECT_EQ(1, vmmc_sock_epoll_wait(ep, out, 8, 1000));
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, out[0].events);
	EXPECT_EQ(0, vmmc_sock_epoll_close(ep));
	close(ep);
}

TEST_F(mix, nonblocking_connect)
{
	struct sockaddr_vmmc sa = vs_sa(VMMC_NODE_ANY, self->port);
	struct pollfd f = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int v = -1, a, cl;
	char b[4];

	cl = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK, 0);
	f.fd = cl;
	ASSERT_LE(0, f.fd);
	EXPECT_EQ(-EINPROGRESS, vmmc_sock_connect(f.fd, VS_SA(sa)));
	EXPECT_EQ(-EALREADY, vmmc_sock_connect(f.fd, VS_SA(sa)));
	EXPECT_EQ(1, vmmc_sock_poll(&f, 1, 5000));
	EXPECT_EQ(POLLOUT, f.revents);
	EXPECT_EQ(0, vmmc_sock_getsockopt(f.fd, SOL_SOCKET, SO_ERROR, &v, &len));
	EXPECT_EQ(0, v);
	EXPECT_EQ(-EISCONN, vmmc_sock_connect(f.fd, VS_SA(sa)));
	a = vmmc_sock_accept4(self->l, NULL, NULL, SOCK_NONBLOCK);
	ASSERT_LE(0, a);
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(a, b, 1, 0));
	EXPECT_EQ(2, vmmc_sock_send(f.fd, "nb", 2, 0));
	f.fd = a;
	f.events = POLLIN;
	EXPECT_EQ(1, vmmc_sock_poll(&f, 1, 5000));
	EXPECT_EQ(2, vmmc_sock_recv(a, b, 2, 0));
	EXPECT_EQ(0, vmmc_sock_close(a));
	EXPECT_EQ(0, vmmc_sock_close(cl));
}

TEST_HARNESS_MAIN

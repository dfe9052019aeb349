// SPDX-License-Identifier: GPL-2.0
/*
 * Description: every VMMC socket call checks its arguments and its
 * socket's state and answers with the errno a kernel TCP socket gives:
 * EBADF (not open), ENOTSOCK (open, not ours: a pipe), EAFNOSUPPORT,
 * ESOCKTNOSUPPORT, EPROTONOSUPPORT, EINVAL, EFAULT, EADDRINUSE,
 * EADDRNOTAVAIL, EISCONN, ENOTCONN, EOPNOTSUPP, ENOPROTOOPT, EDOM,
 * EAGAIN; a failed call changes nothing, and the sockets still work.
 * svm_via: a listener bound for IPv6 refuses an IPv4 request.
 * VMMC_SO_ACCEPTOR: acceptor groups, granted by the kernel to the holders
 * of the port's TCP listening socket only.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <grp.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

FIXTURE(args) {
	int l, c, a, fresh, pipe[2];
	uint16_t port;
};

FIXTURE_SETUP(args)
{
	self->port = vs_test_port(5);
	ASSERT_EQ(0, vs_pair(self->port, &self->l, &self->c, &self->a));
	self->fresh = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	ASSERT_LE(0, self->fresh);
	ASSERT_EQ(0, pipe(self->pipe));
}

FIXTURE_TEARDOWN(args)
{
	struct vmmc_sock_stats st;

	EXPECT_EQ(0, vmmc_sock_close(self->a));
	EXPECT_EQ(0, vmmc_sock_close(self->c));
	EXPECT_EQ(0, vmmc_sock_close(self->l));
	EXPECT_EQ(0, vmmc_sock_close(self->fresh));
	close(self->pipe[0]);
	close(self->pipe[1]);
	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
	EXPECT_EQ(-1, vmmc_sock_ep_fd());
}

TEST_F(args, bad_descriptors)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, 1);
	int p = self->pipe[0];
	char b[4];

	EXPECT_EQ(-EBADF, vmmc_sock_send(-1, "x", 1, 0));
	EXPECT_EQ(-EBADF, vmmc_sock_recv(999, b, 1, 0));
	EXPECT_EQ(-EBADF, vmmc_sock_close(-5));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_send(p, "x", 1, 0));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_recv(p, b, 1, 0));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_bind(p, VS_SA(a)));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_listen(p, 1));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_accept(p, NULL, NULL));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_connect(p, VS_SA(a)));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_shutdown(p, SHUT_RDWR));
	EXPECT_EQ(-ENOTSOCK, vmmc_sock_close(p));
	EXPECT_EQ(0, vmmc_sock_is_sock(p));
	EXPECT_EQ(1, vmmc_sock_is_sock(self->c));
	/* a closed socket's number is EBADF */
	int fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, vmmc_sock_close(fd));
	EXPECT_EQ(-EBADF, vmmc_sock_close(fd));
	EXPECT_EQ(-EBADF, vmmc_sock_send(fd, "x", 1, 0));
}

TEST_F(args, socket_and_bind)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, self->port);
	struct sockaddr_vmmc other = vs_sa(VMMC_NODE_ANY, self->port + 1);
	struct sockaddr_vmmc bad_node = vs_sa(40, self->port + 1);
	struct sockaddr_vmmc fam = a, via = other;
	int f = self->fresh;

	fam.svm_family = AF_INET;
	via.svm_via = 5;	/* none of VMMC_VIA_* */
	EXPECT_EQ(-EAFNOSUPPORT, vmmc_socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_EQ(-ESOCKTNOSUPPORT, vmmc_socket(AF_VMMC, SOCK_DGRAM, 0));
	EXPECT_EQ(-EPROTONOSUPPORT, vmmc_socket(AF_VMMC, SOCK_STREAM, IPPROTO_UDP));
	EXPECT_EQ(-EINVAL, vmmc_socket(AF_VMMC, SOCK_STREAM | 0x40000000, 0));
	EXPECT_EQ(-EFAULT, vmmc_sock_bind(f, NULL, sizeof(a)));
	EXPECT_EQ(-EINVAL, vmmc_sock_bind(f, (struct sockaddr *)&a, 4));
	EXPECT_EQ(-EAFNOSUPPORT, vmmc_sock_bind(f, VS_SA(fam)));
	EXPECT_EQ(-EADDRINUSE, vmmc_sock_bind(f, VS_SA(a)));
	EXPECT_EQ(-EADDRNOTAVAIL, vmmc_sock_bind(f, VS_SA(bad_node)));
	EXPECT_EQ(-EINVAL, vmmc_sock_bind(f, VS_SA(via)));
	EXPECT_EQ(-EINVAL, vmmc_sock_connect(f, VS_SA(via)));
	EXPECT_EQ(0, vmmc_sock_bind(f, VS_SA(other)));
	EXPECT_EQ(-EINVAL, vmmc_sock_bind(f, VS_SA(other)));	/* twice */
	EXPECT_EQ(-EINVAL, vmmc_sock_bind(self->c, VS_SA(a)));
}

/* @fd connects with svm_via @via to @port: its answer */
static int via_connect(uint16_t port, uint8_t via, int *fd)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);

	a.svm_via = via;
	*fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	return *fd < 0 ? *fd : vmmc_sock_connect(*fd, VS_SA(a));
}

/*
 * svm_via: a listener bound for IPv6 refuses requests sent for IPv4
 * (ECONNREFUSED) and takes IPv6 and unspecified ones; accept and the
 * names give each connection's family.
 */
TEST_F(args, via)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, self->port + 2), p;
	static const uint8_t vias[] = { VMMC_VIA_INET6, VMMC_VIA_ANY };
	socklen_t len;
	int l, c, s;
	unsigned int i;

	a.svm_via = VMMC_VIA_INET6;
	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, vmmc_sock_bind(l, VS_SA(a)));
	ASSERT_EQ(0, vmmc_sock_listen(l, 4));
	EXPECT_EQ(-ECONNREFUSED, via_connect(self->port + 2, VMMC_VIA_INET, &c));
	EXPECT_EQ(0, vmmc_sock_close(c));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, via_connect(self->port + 2, vias[i], &c));
		len = sizeof(p);
		s = vmmc_sock_accept(l, (struct sockaddr *)&p, &len);
		ASSERT_LE(0, s);
		EXPECT_EQ(VMMC_VIA_INET6, p.svm_via);	/* the listener's if 0 */
		len = sizeof(p);
		EXPECT_EQ(0, vmmc_sock_getsockname(s, (struct sockaddr *)&p, &len));
		EXPECT_EQ(VMMC_VIA_INET6, p.svm_via);
		len = sizeof(p);
		EXPECT_EQ(0, vmmc_sock_getpeername(c, (struct sockaddr *)&p, &len));
		EXPECT_EQ(vias[i], p.svm_via);
		EXPECT_EQ(0, vmmc_sock_close(s));
		EXPECT_EQ(0, vmmc_sock_close(c));
	}
	EXPECT_EQ(0, vmmc_sock_close(l));
}

TEST_F(args, state_errors)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, self->port), peer;
	socklen_t len = sizeof(peer);
	int f = self->fresh;
	char b[4];

	/* not connected */
	EXPECT_EQ(-ENOTCONN, vmmc_sock_send(f, "x", 1, 0));
	EXPECT_EQ(-ENOTCONN, vmmc_sock_recv(f, b, 1, 0));
	EXPECT_EQ(-ENOTCONN, vmmc_sock_recv(self->l, b, 1, 0));
	EXPECT_EQ(-ENOTCONN, vmmc_sock_shutdown(f, SHUT_WR));
	EXPECT_EQ(-ENOTCONN, vmmc_sock_getpeername(f, (struct sockaddr *)&peer, &len));
	EXPECT_EQ(-EINVAL, vmmc_sock_accept(f, NULL, NULL));	/* not listening */
	EXPECT_EQ(-EINVAL, vmmc_sock_accept(self->c, NULL, NULL));
	EXPECT_EQ(-EINVAL, vmmc_sock_listen(self->c, 1));	/* connected */
	/* connected already */
	EXPECT_EQ(-EISCONN, vmmc_sock_connect(self->c, VS_SA(a)));
	EXPECT_EQ(-EISCONN, vmmc_sock_connect(self->l, VS_SA(a)));
	EXPECT_EQ(-EINVAL, vmmc_sock_shutdown(self->c, 7));
	EXPECT_EQ(-EFAULT, vmmc_sock_connect(f, NULL, sizeof(a)));
	EXPECT_EQ(-EINVAL, vmmc_sock_accept4(self->l, NULL, NULL, 0x1234));
	EXPECT_EQ(-EFAULT, vmmc_sock_accept(self->l, (struct sockaddr *)&peer, NULL));
	EXPECT_EQ(0, vmmc_sock_set_nonblock(self->l, 1));
	EXPECT_EQ(-EAGAIN, vmmc_sock_accept(self->l, NULL, NULL));
	/* data calls */
	EXPECT_EQ(-EFAULT, vmmc_sock_send(self->c, NULL, 1, 0));
	EXPECT_EQ(-EFAULT, vmmc_sock_recv(self->c, NULL, 1, 0));
	EXPECT_EQ(-EOPNOTSUPP, vmmc_sock_send(self->c, "x", 1, MSG_OOB));
	EXPECT_EQ(-EINVAL, vmmc_sock_recv(self->c, b, 1, MSG_OOB));
	EXPECT_EQ(-EINVAL, vmmc_sock_readv(self->c, NULL, -1));
	EXPECT_EQ(-EFAULT, vmmc_sock_sendmsg(self->c, NULL, 0));
	EXPECT_EQ(0, vmmc_sock_send(self->c, b, 0, 0));
	/* names: connected pair, both ways */
	EXPECT_EQ(0, vmmc_sock_getpeername(self->a, (struct sockaddr *)&peer, &len));
	EXPECT_EQ(sizeof(peer), len);
	EXPECT_EQ(AF_VMMC, peer.svm_family);
	struct sockaddr_vmmc me;

	EXPECT_EQ(0, vmmc_sock_getsockname(self->c, (struct sockaddr *)&me, &len));
	EXPECT_EQ(me.svm_port, peer.svm_port);
	EXPECT_EQ(me.svm_node, peer.svm_node);
	EXPECT_EQ(0, vmmc_sock_getpeername(self->c, (struct sockaddr *)&peer, &len));
	EXPECT_EQ(self->port, peer.svm_port);
	EXPECT_EQ(-EFAULT, vmmc_sock_getsockname(self->c, NULL, &len));
	/* and still working */
	EXPECT_EQ(2, vmmc_sock_send(self->c, "ok", 2, 0));
	EXPECT_EQ(2, vmmc_sock_recv(self->a, b, 2, MSG_WAITALL));
}

TEST_F(args, socket_options)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	socklen_t len = sizeof(int);
	int one = 1, v = 0, c = self->c;
	char b[4];

	EXPECT_EQ(0, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	EXPECT_EQ(0, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	EXPECT_EQ(0, vmmc_sock_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	EXPECT_EQ(0, vmmc_sock_getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, vmmc_sock_getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &len));
	EXPECT_EQ(1, v);
	/* the receive ring of a fresh socket: a power of two */
	v = 100000;
	EXPECT_EQ(0, vmmc_sock_setsockopt(self->fresh, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->fresh, SOL_SOCKET, SO_RCVBUF, &v, &len));
	EXPECT_EQ(131072, v);
	EXPECT_EQ(0, vmmc_sock_getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &len));
	EXPECT_EQ(VMMC_SOCK_RCVBUF_DEF, v);
	EXPECT_EQ(0, vmmc_sock_getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &len));
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, vmmc_sock_getsockopt(self->l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	EXPECT_EQ(1, v);
	/* kernel TCP's options, one by one: vmmc_sock_opts.c */
	EXPECT_EQ(-ENOPROTOOPT, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_SNDLOWAT, &one, sizeof(one)));
	EXPECT_EQ(-ENOPROTOOPT, vmmc_sock_setsockopt(c, IPPROTO_TCP, 9999, &one, sizeof(one)));
	EXPECT_EQ(-ENOPROTOOPT, vmmc_sock_setsockopt(c, 12345, 1, &one, sizeof(one)));
	EXPECT_EQ(-EINVAL, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, 2));
	EXPECT_EQ(-EFAULT, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_REUSEADDR, NULL, 4));
	EXPECT_EQ(-EFAULT, vmmc_sock_getsockopt(c, SOL_SOCKET, SO_REUSEADDR, &v, NULL));
	/* a receive time-out: EAGAIN after about that long */
	tv.tv_usec = 2000000;
	EXPECT_EQ(-EDOM, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	tv.tv_usec = 200000;
	EXPECT_EQ(0, vmmc_sock_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(c, b, 1, 0));
}

/* A kernel TCP socket bound to 0.0.0.0:@port, listening if @listening. */
static int tcp_on(uint16_t port, bool listening)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, k = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (k < 0 || setsockopt(k, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(k, (struct sockaddr *)&in, sizeof(in)) ||
	    (listening && listen(k, 4))) {
		if (k >= 0)
			close(k);
		return -1;
	}
	return k;
}

/* A VMMC socket, an acceptor if @acc, bound to @port: the bind's answer. */
static int bind_as(uint16_t port, bool acc, int *fd)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int one = 1, r;

	*fd = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return *fd;
	r = acc ? vmmc_sock_setsockopt(*fd, SOL_VMMC, VMMC_SO_ACCEPTOR, &one,
				       sizeof(one)) : 0;
	return r ? r : vmmc_sock_bind(*fd, VS_SA(a));
}

#define NCLI	20

/*
 * VMMC_SO_ACCEPTOR: the kernel grants an acceptor name only to a process
 * holding a TCP socket listening on the port (not bound only); two
 * acceptors of one port share its clients (20 clients all to one of the
 * two: p = 2^-19); a plain bind finds the port taken (the group's
 * directory); the option is EINVAL once bound.
 */
TEST_F(args, acceptor)
{
	uint16_t port = vs_test_port(0);
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int one = 1, v = 0, k, x[2], p, c[NCLI], i, j, n, got[2] = { 0, 0 };
	socklen_t len = sizeof(v);

	EXPECT_EQ(-EACCES, bind_as(port, true, &x[0]));
	EXPECT_EQ(0, vmmc_sock_getsockopt(x[0], SOL_VMMC, VMMC_SO_ACCEPTOR, &v, &len));
	EXPECT_EQ(1, v);
	k = tcp_on(port, false);
	ASSERT_LE(0, k);
	EXPECT_EQ(-EACCES, vmmc_sock_bind(x[0], VS_SA(a)));	/* not listening */
	ASSERT_EQ(0, listen(k, 4));
	ASSERT_EQ(0, vmmc_sock_bind(x[0], VS_SA(a)));
	ASSERT_EQ(0, bind_as(port, true, &x[1]));
	EXPECT_EQ(-EINVAL, vmmc_sock_setsockopt(x[1], SOL_VMMC, VMMC_SO_ACCEPTOR,
						&one, sizeof(one)));
	EXPECT_EQ(-EADDRINUSE, bind_as(port, false, &p));
	EXPECT_EQ(0, vmmc_sock_close(p));
	ASSERT_EQ(0, vmmc_sock_listen(x[0], NCLI));
	ASSERT_EQ(0, vmmc_sock_listen(x[1], NCLI));
	for (i = 0; i < NCLI; i++) {
		c[i] = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, vmmc_sock_connect(c[i], VS_SA(a)));
	}
	for (j = 0; j < 2; j++)
		while ((n = vmmc_sock_accept(x[j], NULL, NULL)) >= 0) {
			got[j]++;
			EXPECT_EQ(0, vmmc_sock_close(n));
		}
	TH_LOG("20 clients: %d to one acceptor, %d to the other", got[0], got[1]);
	EXPECT_EQ(NCLI, got[0] + got[1]);
	EXPECT_LT(0, got[0]);
	EXPECT_LT(0, got[1]);
	for (i = 0; i < NCLI; i++)
		EXPECT_EQ(0, vmmc_sock_close(c[i]));
	close(k);
	EXPECT_EQ(-EACCES, bind_as(port, true, &p));	/* the socket went */
	EXPECT_EQ(0, vmmc_sock_close(p));
	EXPECT_EQ(0, vmmc_sock_close(x[0]));
	EXPECT_EQ(0, vmmc_sock_close(x[1]));
}

/*
 * A port below 1024 in a process that dropped its privileges after it
 * listened there (a pre-fork server's worker): its port name and its
 * acceptor names are granted while it holds the listening socket, and
 * refused (EACCES) once it closed it and on a port it never held.
 */
TEST(acceptor_unprivileged)
{
	int k, st = -1, f, g, r;
	pid_t pid;

	if (getuid())
		SKIP(return, "needs root to drop");
	k = tcp_on(907, true);
	ASSERT_LE(0, k);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		r = bind_as(907, false, &f);
		if (r)
			_exit(11);
		r = bind_as(907, true, &g);
		if (r)
			_exit(12);
		vmmc_sock_close(f);
		vmmc_sock_close(g);
		close(k);
		r = bind_as(907, false, &f) == -EACCES &&
		    bind_as(907, true, &g) == -EACCES &&
		    bind_as(908, false, &f) == -EACCES;
		_exit(r ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	close(k);
}

TEST_HARNESS_MAIN

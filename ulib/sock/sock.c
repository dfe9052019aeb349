// SPDX-License-Identifier: MIT
/*
 * sock.c - the BSD-like calls of the stream sockets that give a socket
 * its fds and end it: socket, bind, listen, accept, connect, shutdown,
 * close and its linger, dup (vmmc_sock(7)). Options and queries are in
 * sock_opt.c, data moves in sock_io.c, readiness in sock_poll.c; the
 * layers below are in sock_loc.h.
 *
 * Every call checks its arguments in the order a kernel TCP socket does
 * and returns its errno, negated: a descriptor that is not open is
 * EBADF, an open one that is not a VMMC socket of this process ENOTSOCK.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sock_loc.h"

/*
 * The socket @fd names, into *@s: 0, or the error every call gives first
 * (-EBADF: no open fd, -ENOTSOCK: not a VMMC socket of this process).
 */
int vs_lookup(int fd, struct vs_sock **s)
{
	*s = fd >= 0 && fd < vs.nbyfd ? vs.byfd[fd] : NULL;
	if (*s && (*s)->nregs)
		vs_epoll_note(*s);	/* the call may change its readiness */
	if (*s)
		return 0;
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0 ? -ENOTSOCK : -EBADF;
}

int vmmc_sock_is_sock(int fd)
{
	return fd >= 0 && fd < vs.nbyfd && vs.byfd[fd];
}

/* Make vs.byfd[] hold index @fd: 0 or -ENOMEM. */
static int vs_byfd_room(int fd)
{
	struct vs_sock **t;
	int n;

	if (fd < vs.nbyfd)
		return 0;
	n = vs.nbyfd ? vs.nbyfd : 64;
	while (n <= fd)
		n *= 2;
	t = vs_grow(vs.byfd, (size_t)vs.nbyfd, (size_t)n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	vs.byfd = t;
	vs.nbyfd = n;
	return 0;
}

/* Give @s a user-visible fd: an eventfd the library owns. */
static int vs_attach_fd(struct vs_sock *s, int cloexec)
{
	int fd;

	fd = eventfd(0, EFD_NONBLOCK | (cloexec ? EFD_CLOEXEC : 0));
	if (fd < 0)
		return -errno;
	if (vs_byfd_room(fd)) {
		close(fd);
		return -ENOMEM;
	}
	vs.byfd[fd] = s;
	s->fd = fd;
	s->nfds = 1;
	vs.st.sockets++;
	return fd;
}

int vmmc_socket(int domain, int type, int protocol)
{
	struct vs_sock *s;
	int fd;

	if (domain != AF_VMMC)
		return -EAFNOSUPPORT;
	if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf))
		return -EINVAL;
	if ((type & 0xf) != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	s = vs_sock_new();
	if (!s)
		return vs.open ? -ENOMEM : vs_stack_get();
	fd = vs_attach_fd(s, type & SOCK_CLOEXEC);
	if (fd < 0) {
		vs_sock_free(s);
		return fd;
	}
	s->nonblock = type & SOCK_NONBLOCK;
	return fd;
}

/* bind and connect: the socket @fd names, and the address checked. */
static int vs_addr(int fd, const struct sockaddr *addr, socklen_t len,
		   struct vs_sock **s, const struct sockaddr_vmmc **out)
{
	int err = vs_lookup(fd, s);

	if (err)
		return err;
	if (!addr)
		return -EFAULT;
	if (len < sizeof(struct sockaddr_vmmc))
		return -EINVAL;
	if (addr->sa_family != AF_VMMC)
		return -EAFNOSUPPORT;
	*out = (const struct sockaddr_vmmc *)addr;
	if ((*out)->svm_via != VMMC_VIA_ANY && (*out)->svm_via != VMMC_VIA_INET &&
	    (*out)->svm_via != VMMC_VIA_INET6)
		return -EINVAL;
	return 0;
}

/* Reserve @port (0: an ephemeral one) by exporting its listen buffer. */
static int vs_bind_port(struct vs_sock *s, uint32_t port)
{
	int err, tries;

	if (port && s->acceptor)
		return vs_export_acceptor(s, port);
	if (port)
		return vs_export_listen(s, port);
	for (tries = 0; tries < 64; tries++) {
		port = vs.next_port++;
		if (vs.next_port > VMMC_PORT_EPHEMERAL_MAX)
			vs.next_port = VMMC_PORT_EPHEMERAL_MIN;
		err = vs_export_listen(s, port);
		if (err != -EADDRINUSE)
			return err;
	}
	return -EADDRINUSE;
}

int vmmc_sock_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_vmmc *a;
	struct vs_sock *s;
	int err = vs_addr(fd, addr, len, &s, &a);

	if (err)
		return err;
	if (s->bound || s->state != VS_FRESH)
		return -EINVAL;
	if (a->svm_node != VMMC_NODE_ANY && a->svm_node != s->node)
		return -EADDRNOTAVAIL;
	err = vs_bind_port(s, a->svm_port);
	if (!err)
		s->via = a->svm_via;
	return err;
}

int vmmc_sock_listen(int fd, int backlog)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (s->state != VS_FRESH && s->state != VS_LISTEN)
		return -EINVAL;
	if (!s->bound) {
		err = vs_bind_port(s, 0);
		if (err)
			return err;
	}
	if (backlog < 1)
		backlog = 1;
	if (backlog > VMMC_SOCK_BACKLOG_MAX)
		backlog = VMMC_SOCK_BACKLOG_MAX;
	s->backlog_max = backlog;
	s->state = VS_LISTEN;
	return 0;
}

void vs_fill_addr(struct sockaddr *addr, socklen_t *len, uint32_t node,
		  uint32_t port, uint32_t via)
{
	struct sockaddr_vmmc a = {
		.svm_family = AF_VMMC,
		.svm_port = (uint16_t)port,
		.svm_node = node,
		.svm_via = (uint8_t)via,
	};

	memcpy(addr, &a, *len < sizeof(a) ? *len : sizeof(a));
	*len = sizeof(a);
}

int vmmc_sock_accept4(int fd, struct sockaddr *addr, socklen_t *len,
		      int flags)
{
	struct vs_sock *s, *c;
	uint64_t deadline = 0;
	int i, nfd, err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (s->state != VS_LISTEN)
		return -EINVAL;
	if (addr && !len)
		return -EFAULT;
	vs_acceptor_tick(s);
	for (;;) {
		vs_progress();
		i = vs_backlog_ready(s);	/* TCP_DEFER_ACCEPT may wait */
		if (i >= 0)
			break;
		if (s->nobufs) {	/* refused for memory (vs_take_req()) */
			s->nobufs--;
			return -ENOBUFS;
		}
		if (s->nonblock)
			return -EAGAIN;
		err = vs_block(NULL, &deadline, s->rcvtimeo_ms);
		if (err)
			return err == -ETIMEDOUT ? -EAGAIN : err;
	}
	c = s->backlog[i];
	nfd = vs_attach_fd(c, flags & SOCK_CLOEXEC);
	if (nfd < 0)
		return nfd;
	memmove(s->backlog + i, s->backlog + i + 1,
		(size_t)(--s->nbacklog - i) * sizeof(s->backlog[0]));
	c->parent = NULL;
	c->nonblock = flags & SOCK_NONBLOCK;
	if (addr)
		vs_fill_addr(addr, len, c->peer_node, c->peer_port, c->via);
	vs.st.accepts++;
	return nfd;
}

int vmmc_sock_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return vmmc_sock_accept4(fd, addr, len, 0);
}

/* A failed connect's memory goes; the socket may connect again. */
static void vs_unconnect(struct vs_sock *s)
{
	uint64_t deadline = vs_now_ns() + VS_LINGER_MS * 1000000ULL;

	while (s->inflight && vs_now_ns() < deadline) {
		vs_progress();
		if (s->inflight)
			vs_block(NULL, &deadline, 0);
	}
	if (s->inflight)
		return;		/* the NIC holds on: keep it all */
	vs_teardown_conn(s);
	s->hello_done = false;
	s->state_busy = 0;
}

int vmmc_sock_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_vmmc *a;
	uint64_t deadline = 0;
	struct vs_sock *s;
	uint32_t node;
	int err = vs_addr(fd, addr, len, &s, &a);

	if (err)
		return err;
	switch (s->state) {
	case VS_ESTAB:
	case VS_LISTEN:
		return -EISCONN;
	case VS_SYN_SENT:
		if (s->nonblock)
			return -EALREADY;
		goto wait;
	case VS_CLOSED:
		if (s->reset || s->tx_ring)
			return -EISCONN;
		vs_unconnect(s);
		if (s->inflight)
			return -EAGAIN;
		s->state = VS_FRESH;
		break;
	default:
		break;
	}
	if (!a->svm_port)
		return -ECONNREFUSED;
	node = a->svm_node == VMMC_NODE_ANY ? s->node : a->svm_node;
	s->via = a->svm_via;
	if (!s->bound) {
		s->port = vs.next_port++;
		if (vs.next_port > VMMC_PORT_EPHEMERAL_MAX)
			vs.next_port = VMMC_PORT_EPHEMERAL_MIN;
	}
	err = vs_connect_start(s, node, a->svm_port);
	if (err) {
		s->state = VS_CLOSED;
		vs_unconnect(s);
		s->state = VS_FRESH;
		return err;
	}
	if (s->nonblock)
		return -EINPROGRESS;
wait:
	for (;;) {
		vs_poke(s);
		if (s->state == VS_ESTAB)
			return 0;
		if (s->state == VS_CLOSED) {
			err = s->err;
			s->err = 0;
			return -err;
		}
		err = vs_block(NULL, &deadline, s->sndtimeo_ms);
		if (err)
			return err == -ETIMEDOUT ? -EINPROGRESS : err;
	}
}

int vmmc_sock_shutdown(int fd, int how)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->state != VS_ESTAB)
		return -ENOTCONN;
	if (how != SHUT_WR && !s->shut_rd) {
		s->shut_rd = true;
		s->rx_gen++;
	}
	if (how != SHUT_RD && !s->shut_wr) {
		s->shut_wr = true;
		s->tx_gen++;
		vs_flush_tx(s);	/* the FIN goes with the last byte */
		vs_state_out(s, !s->nonblock);
	}
	return 0;
}

static void vs_close_sock(struct vs_sock *s);

/*
 * VMMC_SOCK_LINGER_MIN_MS (read once): every close lingers at least that
 * long, data and FIN out or not: a test knob that makes the linger long
 * enough to be seen (the LD_PRELOAD shim's test checks that other
 * threads run meanwhile). 0 (the default): off.
 */
static uint64_t vs_linger_min_ns(void)
{
	static long ms = -1;
	const char *e;

	if (ms < 0) {
		e = getenv("VMMC_SOCK_LINGER_MIN_MS");
		ms = e ? strtol(e, NULL, 0) : 0;
		if (ms < 0 || ms > VS_LINGER_MS)
			ms = ms < 0 ? 0 : VS_LINGER_MS;
	}
	return ms ? vs_now_ns() + (uint64_t)ms * 1000000ULL : 0;
}

/*
 * The start of a close: the backlog goes (each of its sockets with its
 * own linger), the FIN is queued behind the data.
 */
static void vs_close_begin(struct vs_sock *s)
{
	int i;

	vs_zc_abort(s);		/* a split-phase receive under way ends */
	for (i = 0; i < s->nbacklog; i++) {
		s->backlog[i]->parent = NULL;
		vs_close_sock(s->backlog[i]);
	}
	s->nbacklog = 0;
	s->linger_min_ns = vs_linger_min_ns();
	/* SO_LINGER on with 0 s: an abortive close, the peer sees a reset */
	if (s->state == VS_ESTAB && s->linger_on && !s->linger_s) {
		s->reset = true;
		vs_post_state(s);	/* VS_F_RST */
		s->state = VS_CLOSED;
		return;
	}
	if (s->state == VS_ESTAB && !s->shut_wr) {
		s->shut_wr = true;
		vs_flush_tx(s);
	}
}

/*
 * Let the data and the FIN reach the peer (at most VS_LINGER_MS), then
 * end the close (vs_close_end).
 */
static void vs_close_sock(struct vs_sock *s)
{
	uint64_t deadline = 0;

	vs_close_begin(s);
	for (;;) {
		vs_poke(s);
		if (vs_close_done(s))
			break;
		if (vs_block(NULL, &deadline, VS_LINGER_MS) == -ETIMEDOUT)
			break;
	}
	vs_close_end(s);
}

/* Another fd of @s, after @gone stopped naming it; -1 if none. */
static int vs_other_fd(struct vs_sock *s, int gone)
{
	int i;

	for (i = 0; i < vs.nbyfd; i++)
		if (i != gone && vs.byfd[i] == s)
			return i;
	return -1;
}

/*
 * @fd no longer names its socket (the kernel fd is closed or replaced by
 * the caller): the socket if that was its last fd (then nameless, to be
 * closed), else NULL.
 */
static struct vs_sock *vs_unname(int fd)
{
	struct vs_sock *s = vs.byfd[fd];

	vs.byfd[fd] = NULL;
	vs.st.sockets--;
	if (--s->nfds > 0) {
		if (s->fd == fd)
			s->fd = vs_other_fd(s, fd);
		return NULL;
	}
	s->fd = -1;
	s->nregs = 0;
	return s;
}

/* vs_unname(), and the socket closes (with its linger) if it was the last */
static void vs_drop_fd(int fd)
{
	struct vs_sock *s = vs_unname(fd);

	if (s)
		vs_close_sock(s);
}

/* close (@kernel_too: the fd as well) and forget. */
static int vs_close_fd(int fd, bool kernel_too)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	vs_prof_dump();
	if (kernel_too)
		close(fd);
	vs_drop_fd(fd);
	return 0;
}

int vmmc_sock_close(int fd)
{
	return vs_close_fd(fd, true);
}

int vmmc_sock_forget(int fd)
{
	return vs_close_fd(fd, false);
}

/* The last linger handle's sequence number (1..0x7fff), for all sockets. */
static uint16_t linger_gen;

/*
 * vmmc_sock_forget() that does not wait: when @fd was the socket's last
 * fd, its close starts (FIN behind the data) and, if the data and the
 * FIN are not out yet, the socket lingers in the background: the
 * returned handle (> 0) is for vmmc_sock_linger(). 0 when nothing
 * lingers, or -errno.
 */
int vmmc_sock_release(int fd)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	s = vs_unname(fd);
	if (!s)
		return 0;
	vs_close_begin(s);
	vs_poke(s);
	if (vs_close_done(s)) {
		vs_close_end(s);
		return 0;
	}
	s->lingering = true;
	/* from a counter that outlives the socket: ids are reused at once */
	linger_gen = (uint16_t)(linger_gen + 1) & 0x7fff;
	if (!linger_gen)
		linger_gen = 1;
	s->linger_seq = linger_gen;
	s->linger_ns = vs_now_ns() + VS_LINGER_MS * 1000000ULL;
	vs_timer_at(s, 0);	/* looked at from the next run on */
	return (s->linger_seq << 16) | (s->id + 1);
}

/*
 * One look at the close of vmmc_sock_release()'s @handle: the NIC's news
 * taken, 1 while it still lingers (wait for vmmc_sock_ep_fd() and call
 * again), 0 once the socket is gone (data and FIN out, or VS_LINGER_MS
 * passed). No waiting.
 */
int vmmc_sock_linger(int handle)
{
	int id = (handle & 0xffff) - 1;
	struct vs_sock *s;

	if (handle <= 0 || id < 0 || id >= vs.ntab)
		return 0;
	s = vs.tab[id];
	if (!s || !s->lingering || s->linger_seq != (handle >> 16))
		return 0;
	vs_poke(s);
	if (vs_close_done(s) || vs_now_ns() >= s->linger_ns) {
		vs_close_end(s);
		return 0;
	}
	vs_timers();
	return 1;
}

/* @nfd (a new kernel fd, a copy of @s's eventfd) names @s too. */
static int vs_alias(struct vs_sock *s, int nfd)
{
	if (vs_byfd_room(nfd)) {
		close(nfd);
		return -ENOMEM;
	}
	vs.byfd[nfd] = s;
	s->nfds++;
	vs.st.sockets++;
	return nfd;
}

int vmmc_sock_dup(int fd, int minfd, int flags)
{
	struct vs_sock *s;
	int nfd, err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (minfd < 0)
		return -EINVAL;
	nfd = fcntl(fd, flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, minfd);
	if (nfd < 0)
		return -errno;
	return vs_alias(s, nfd);
}

int vmmc_sock_dup3(int fd, int newfd, int flags)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if ((flags & ~O_CLOEXEC) || fd == newfd)
		return -EINVAL;
	if (newfd < 0)
		return -EBADF;
	if (newfd < vs.nbyfd && vs.byfd[newfd] == s) {
		/* already an alias: only the close-on-exec flag changes */
		if (dup3(fd, newfd, flags) < 0)
			return -errno;
		return newfd;
	}
	if (vs_byfd_room(newfd))
		return -ENOMEM;
	if (dup3(fd, newfd, flags) < 0)
		return -errno;
	if (vs.byfd[newfd])	/* the socket that was there loses an fd */
		vs_drop_fd(newfd);
	vs.byfd[newfd] = s;
	s->nfds++;
	vs.st.sockets++;
	return newfd;
}

int vmmc_sock_id(int fd)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	return err ? err : s->id;
}

int vmmc_sock_move(int fd, int newfd)
{
	struct vs_sock *s;
	int flags, err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (newfd < 0 || newfd == fd || s->nregs)
		return -EINVAL;
	if (newfd < vs.nbyfd && vs.byfd[newfd])
		return -EBUSY;
	if (vs_byfd_room(newfd))
		return -ENOMEM;
	flags = fcntl(fd, F_GETFD);
	if (flags < 0 ||
	    dup3(fd, newfd, (flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		return -errno;
	close(fd);
	vs.byfd[fd] = NULL;
	vs.byfd[newfd] = s;
	if (s->fd == fd)
		s->fd = newfd;
	return newfd;
}

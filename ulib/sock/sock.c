// SPDX-License-Identifier: MIT
/*
 * sock.c - the BSD-like calls of the stream sockets that set up, name,
 * tune and end a socket (vmmc_sock(7)); data moves in sock_io.c, the
 * protocol is in sock_proto.c and sock_conn.c, readiness in sock_poll.c.
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

struct vs_sock *vs_lookup(int fd, int *err)
{
	if (fd >= 0 && fd < vs.nbyfd && vs.byfd[fd])
		return vs.byfd[fd];
	*err = fd >= 0 && fcntl(fd, F_GETFD) >= 0 ? -ENOTSOCK : -EBADF;
	return NULL;
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
	t = realloc(vs.byfd, (size_t)n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + vs.nbyfd, 0, (size_t)(n - vs.nbyfd) * sizeof(*t));
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

static int vs_addr(const struct sockaddr *addr, socklen_t len,
		   const struct sockaddr_vmmc **out)
{
	if (!addr)
		return -EFAULT;
	if (len < sizeof(struct sockaddr_vmmc))
		return -EINVAL;
	if (addr->sa_family != AF_VMMC)
		return -EAFNOSUPPORT;
	*out = (const struct sockaddr_vmmc *)addr;
	return 0;
}

/* Reserve @port (0: an ephemeral one) by exporting its listen buffer. */
static int vs_bind_port(struct vs_sock *s, uint32_t port)
{
	int err, tries;

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
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	err = vs_addr(addr, len, &a);
	if (err)
		return err;
	if (s->bound || s->state != VS_FRESH)
		return -EINVAL;
	if (a->svm_node != VMMC_NODE_ANY && a->svm_node != s->node)
		return -EADDRNOTAVAIL;
	return vs_bind_port(s, a->svm_port);
}

int vmmc_sock_listen(int fd, int backlog)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
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

static void vs_fill_addr(struct sockaddr *addr, socklen_t *len,
			 uint32_t node, uint32_t port)
{
	struct sockaddr_vmmc a = {
		.svm_family = AF_VMMC,
		.svm_port = (uint16_t)port,
		.svm_node = node,
	};

	memcpy(addr, &a, *len < sizeof(a) ? *len : sizeof(a));
	*len = sizeof(a);
}

static uint64_t vs_deadline(uint64_t timeo_ms)
{
	return timeo_ms ? vs_now_ns() + timeo_ms * 1000000ULL : 0;
}

int vmmc_sock_accept4(int fd, struct sockaddr *addr, socklen_t *len,
		      int flags)
{
	struct vs_sock *s, *c;
	uint64_t deadline = 0;
	int err, nfd;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (s->state != VS_LISTEN)
		return -EINVAL;
	if (addr && !len)
		return -EFAULT;
	for (;;) {
		vs_progress();
		if (s->nbacklog)
			break;
		if (s->nonblock)
			return -EAGAIN;
		if (!deadline)
			deadline = vs_deadline(s->rcvtimeo_ms);
		err = vs_wait(deadline);
		if (err)
			return err == -ETIMEDOUT ? -EAGAIN : err;
		vs_timers();
	}
	c = s->backlog[0];
	nfd = vs_attach_fd(c, flags & SOCK_CLOEXEC);
	if (nfd < 0)
		return nfd;
	memmove(s->backlog, s->backlog + 1,
		(size_t)--s->nbacklog * sizeof(s->backlog[0]));
	c->parent = NULL;
	c->nonblock = flags & SOCK_NONBLOCK;
	if (addr)
		vs_fill_addr(addr, len, c->peer_node, c->peer_port);
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
			vs_wait(deadline);
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
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	err = vs_addr(addr, len, &a);
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
		vs_progress();
		if (s->state == VS_ESTAB)
			return 0;
		if (s->state == VS_CLOSED) {
			err = s->err;
			s->err = 0;
			return -err;
		}
		if (!deadline)
			deadline = vs_deadline(s->sndtimeo_ms);
		err = vs_wait(deadline);
		if (err)
			return err == -ETIMEDOUT ? -EINPROGRESS : err;
		vs_timers();
	}
}

int vmmc_sock_shutdown(int fd, int how)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
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
	if (s->state == VS_ESTAB && !s->shut_wr) {
		s->shut_wr = true;
		vs_flush_tx(s);
	}
}

/* The data and the FIN reached the peer (or never will). */
bool vs_close_done(const struct vs_sock *s)
{
	if (s->linger_min_ns && vs_now_ns() < s->linger_min_ns)
		return false;
	return !s->inflight && (s->state != VS_ESTAB || s->peer_dead ||
				(s->fin_told && !s->state_dirty));
}

/*
 * The end of a close: give everything back; with SENDs still in flight
 * the socket stays as a zombie that vs_progress() frees when they
 * complete.
 */
void vs_close_end(struct vs_sock *s)
{
	s->state = VS_CLOSED;
	s->state_dirty = false;
	s->lingering = false;
	if (s->inflight) {
		s->zombie = true;
		return;
	}
	vs_teardown(s);
	vs_sock_free(s);
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
		vs_progress();
		if (vs_close_done(s))
			break;
		if (!deadline)
			deadline = vs_now_ns() + VS_LINGER_MS * 1000000ULL;
		if (vs_wait(deadline) == -ETIMEDOUT)
			break;
		vs_timers();
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

int vmmc_sock_close(int fd)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	close(fd);
	vs_drop_fd(fd);
	return 0;
}

int vmmc_sock_forget(int fd)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	vs_drop_fd(fd);
	return 0;
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
	int err;

	if (!vs_lookup(fd, &err))
		return err;
	s = vs_unname(fd);
	if (!s)
		return 0;
	vs_close_begin(s);
	vs_progress();
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
	vs_progress();
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
	int err, nfd;

	s = vs_lookup(fd, &err);
	if (!s)
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
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
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
	int err;

	s = vs_lookup(fd, &err);
	return s ? s->id : err;
}

/*
 * ioctl(2)'s socket queries, as a kernel TCP socket answers them: bytes
 * readable (FIONREAD, SIOCINQ), bytes queued but not yet in the peer's
 * ring (SIOCOUTQ: not completed; SIOCOUTQNSD: not handed to the NIC);
 * 0 before a connection is set up, EINVAL on a listener. FIONBIO sets
 * the blocking mode from *@val.
 */
int vmmc_sock_ioctl(int fd, unsigned long req, int *val)
{
	struct vs_sock *s;
	uint64_t n = 0;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (req != FIONREAD && req != SIOCOUTQ && req != SIOCOUTQNSD &&
	    req != FIONBIO)
		return -ENOTTY;
	if (!val)
		return -EFAULT;
	if (req == FIONBIO) {
		s->nonblock = !!*val;
		return 0;
	}
	if (s->state == VS_LISTEN)
		return -EINVAL;
	vs_progress();
	if (s->state == VS_ESTAB || s->state == VS_CLOSED) {
		if (req == FIONREAD)
			n = s->rx ? vs_rx_avail(s) : 0;
		else if (req == SIOCOUTQ)
			n = s->tx_queued - s->tx_done;
		else
			n = s->tx_queued - s->tx_posted;
	}
	*val = n > INT_MAX ? INT_MAX : (int)n;
	return 0;
}

int vmmc_sock_move(int fd, int newfd)
{
	struct vs_sock *s;
	int err, flags;

	s = vs_lookup(fd, &err);
	if (!s)
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

int vmmc_sock_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (!addr || !len)
		return -EFAULT;
	vs_fill_addr(addr, len, s->node, s->bound || s->state != VS_FRESH ?
		     s->port : 0);
	return 0;
}

int vmmc_sock_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (!addr || !len)
		return -EFAULT;
	if (s->state != VS_ESTAB && !(s->state == VS_CLOSED && s->tx_ring))
		return -ENOTCONN;
	vs_fill_addr(addr, len, s->peer_node, s->peer_port);
	return 0;
}

/* A ring size from SO_RCVBUF: a power of two within the limits. */
static uint32_t vs_ring_size(int v)
{
	uint32_t r = VMMC_SOCK_RCVBUF_MIN;

	while (r < (uint32_t)v && r < VMMC_SOCK_RCVBUF_MAX)
		r <<= 1;
	return r;
}

static int vs_get_timeo(uint64_t *ms, const void *val, socklen_t len)
{
	struct timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0)
		*ms = 0;
	else
		*ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)(tv.tv_usec + 999) / 1000;
	return 0;
}

int vmmc_sock_setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len)
{
	struct vs_sock *s;
	int err, v;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (!val)
		return -EFAULT;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		return vs_get_timeo(name == SO_RCVTIMEO ? &s->rcvtimeo_ms :
				    &s->sndtimeo_ms, val, len);
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	if (level == SOL_VMMC)
		return vs_setopt_vmmc(s, name, v);
	if (level == IPPROTO_TCP) {
		if (name != TCP_NODELAY)
			return -ENOPROTOOPT;
		s->nodelay = !!v;	/* no Nagle here: every send goes */
		return 0;
	}
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case SO_REUSEADDR:
		s->reuseaddr = !!v;	/* ports are free at close anyway */
		return 0;
	case SO_KEEPALIVE:
		s->keepalive = !!v;	/* waits always probe the peer */
		return 0;
	case SO_RCVBUF:
		s->rcvbuf = vs_ring_size(v);	/* for rings made later */
		return 0;
	case SO_SNDBUF:
		s->sndbuf = vs_ring_size(v);	/* the peer's ring rules */
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int vmmc_sock_getsockopt(int fd, int level, int name, void *val,
			 socklen_t *len)
{
	struct vs_sock *s;
	struct timeval tv;
	uint64_t ms;
	int err, v;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (!val || !len)
		return -EFAULT;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		ms = name == SO_RCVTIMEO ? s->rcvtimeo_ms : s->sndtimeo_ms;
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
		memcpy(val, &tv, *len < sizeof(tv) ? *len : sizeof(tv));
		*len = *len < sizeof(tv) ? *len : sizeof(tv);
		return 0;
	}
	if (level == SOL_VMMC) {
		err = vs_getopt_vmmc(s, name, &v);
		if (err)
			return err;
	} else if (level == IPPROTO_TCP) {
		if (name != TCP_NODELAY)
			return -ENOPROTOOPT;
		v = s->nodelay;
	} else if (level != SOL_SOCKET) {
		return -ENOPROTOOPT;
	} else {
		switch (name) {
		case SO_REUSEADDR:
			v = s->reuseaddr;
			break;
		case SO_KEEPALIVE:
			v = s->keepalive;
			break;
		case SO_RCVBUF:
			v = (int)(s->rx_ring ? s->rx_ring : s->rcvbuf);
			break;
		case SO_SNDBUF:
			v = (int)(s->tx_ring ? s->tx_ring : s->sndbuf);
			break;
		case SO_ERROR:
			vs_progress();
			v = s->err;
			s->err = 0;
			break;
		case SO_TYPE:
			v = SOCK_STREAM;
			break;
		case SO_ACCEPTCONN:
			v = s->state == VS_LISTEN;
			break;
		case SO_DOMAIN:
			v = AF_VMMC;
			break;
		case SO_PROTOCOL:
			v = IPPROTO_TCP;
			break;
		default:
			return -ENOPROTOOPT;
		}
	}
	memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
	*len = *len < sizeof(v) ? *len : sizeof(v);
	return 0;
}

int vmmc_sock_set_nonblock(int fd, int on)
{
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	s->nonblock = !!on;
	return 0;
}

void vmmc_sock_progress(void)
{
	vs_progress();
}

int vmmc_sock_ep_fd(void)
{
	return vs.open ? vs.ep.fd : -1;
}

uint32_t vmmc_sock_spin_ns(void)
{
	struct vmmc_wait_stats w;

	if (!vs.open || vs.ep.wait_policy == VMMC_WAIT_BLOCK)
		return 0;
	vmmc_wait_stats(&vs.ep, &w);
	return w.spin_ns;
}

/*
 * struct vmmc_sock_stats only grows at its end. vmmc_sock_stats@@VMMC_0.7
 * fills the whole of today's struct; programs linked before it (against
 * vmmc_sock_stats@VMMC_0.5) get the struct as VMMC_0.5 had it, up to
 * zc_posts, so a larger struct never overruns their smaller one.
 */
void vmmc_sock_stats_v07(struct vmmc_sock_stats *out);
void vmmc_sock_stats_v05(struct vmmc_sock_stats *out);
__asm__(".symver vmmc_sock_stats_v07, vmmc_sock_stats@@VMMC_0.7");
__asm__(".symver vmmc_sock_stats_v05, vmmc_sock_stats@VMMC_0.5");

void vmmc_sock_stats_v07(struct vmmc_sock_stats *out)
{
	*out = vs.st;
	out->zc_pin_ranges = vs.open ? vs.ep.utlb->zc : 0;
	out->zc_pin_pages = vs.open ? vs.ep.utlb->zc_pages : 0;
}

void vmmc_sock_stats_v05(struct vmmc_sock_stats *out)
{
	memcpy(out, &vs.st, offsetof(struct vmmc_sock_stats, zc_bytes));
}

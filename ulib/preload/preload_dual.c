// SPDX-License-Identifier: MIT
/*
 * preload_dual.c - listeners on both transports. A stream socket that
 * the program binds to the wildcard (0.0.0.0, ::) or to a node's
 * address of the map, and that the kernel lets bind there, stays the
 * kernel's listening socket: clients without the shim and hosts outside
 * the cluster reach it over kernel TCP. Beside it the shim makes a VMMC
 * listener of this process on the same port (struct vp_dual), so shimmed
 * clients on the nodes reach it over VMMC. accept() takes from either;
 * poll, select and epoll report the fd readable when either has a
 * connection (the VMMC listener's fd joins the kernel fd in each wait
 * and in each epoll interest the program gives the fd).
 *
 * Processes: a VMMC listener is its process's (its endpoint is); the
 * VMMC listeners of the processes that share the kernel listener are
 * one acceptor group (VMMC_SO_ACCEPTOR, ulib/sock/sock_accept.c), among
 * which clients pick at random, so a pre-fork server's workers share the
 * VMMC connections as the kernel's. A process that forks before it ever
 * accepted or waited on the listener (a pre-fork server's master, a
 * daemon's first parent) gives its VMMC listener up at the fork, so that
 * no client is sent to it; one that did (a fork-per-connection server)
 * keeps it. A process without one makes its own at its first accept,
 * poll or epoll_ctl on the fd; with every acceptor name taken it tries
 * again every VP_DUAL_RETRY_MS, serving kernel TCP meanwhile. A client
 * that finds no VMMC listener on the port connects over kernel TCP
 * (connect() in preload_sock.c).
 *
 * The kernel fd is kept O_NONBLOCK (so that accept() can look at both
 * sides without blocking in one); the program's O_NONBLOCK is
 * vp_dual.nonblock, put back on the kernel fd across exec.
 */

#include <dirent.h>

#include "preload_loc.h"

#define VP_DUAL_RETRY_MS	1000

struct vp_dual vp_duals[VP_DUAL_MAX];

/*
 * Bind VMMC listener @v to @d's port as one of the port's acceptors (the
 * processes with the kernel listener share its VMMC connections), or, if
 * the kernel will not make it one (EACCES: the port's listening socket
 * is in another network namespace), as the port's only listener.
 */
static int vp_dual_bind(int v, struct vp_dual *d)
{
	int one = 1, zero = 0, r;

	vmmc_sock_setsockopt(v, SOL_VMMC, VMMC_SO_ACCEPTOR, &one, sizeof(one));
	r = vmmc_sock_bind(v, (struct sockaddr *)&d->at, sizeof(d->at));
	if (r != -EACCES)
		return r;
	vmmc_sock_setsockopt(v, SOL_VMMC, VMMC_SO_ACCEPTOR, &zero,
			     sizeof(zero));
	return vmmc_sock_bind(v, (struct sockaddr *)&d->at, sizeof(d->at));
}

/*
 * Make @fd's VMMC listener if it has none and its time came: bind and
 * listen on the port, with the kernel listener's options; it joins the
 * epoll sets the program put @fd in.
 */
static void vp_dual_want(int fd, struct vp_dual *d)
{
	struct epoll_event ev;
	long now;
	int v, r, i;

	if (d->vfd >= 0 || d->retry_ms < 0)
		return;
	now = vp_now_ms();
	if (now < d->retry_ms)
		return;
	r = v = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
	if (v >= 0) {
		vp_atfork();
		vp_copy_opts(fd, v);
		r = vp_dual_bind(v, d);
		if (!r)
			r = vmmc_sock_listen(v, d->backlog);
		if (r)
			vmmc_sock_close(v);
	}
	if (r < 0) {
		if (r != d->last_err)
			vp_log("vmmc-preload: fd %d: kernel TCP only for now (VMMC port %u: %s%s)\n",
			       fd, d->at.svm_port, strerror(-r),
			       r == -EADDRINUSE ? ", tried again every second" : "");
		d->last_err = r;
		/* taken by another process of this port: it may go */
		d->retry_ms = r == -EADDRINUSE ? now + VP_DUAL_RETRY_MS : -1;
		return;
	}
	d->vfd = v;
	d->last_err = 0;
	for (i = 0; i < d->nregs; i++) {
		ev = d->regs[i].ev;
		vmmc_sock_epoll_ctl(d->regs[i].epfd, EPOLL_CTL_ADD, v, &ev);
	}
	vp_log("vmmc-preload: fd %d listens on kernel TCP and on VMMC port %u\n",
	       fd, d->at.svm_port);
}

/* A dual listener of fd @fd with @backlog, its O_NONBLOCK @nb: 0 or -errno */
static int vp_dual_make(int fd, const struct sockaddr_vmmc *at, int backlog,
			bool nb)
{
	struct vp_fd *f = vp_get(fd);
	struct vp_dual *d;
	int i, fl;

	for (i = 0; i < VP_DUAL_MAX && vp_duals[i].refs; i++)
		;
	if (i == VP_DUAL_MAX || !f)
		return -ENOSPC;
	fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0 || REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	d = &vp_duals[i];
	memset(d, 0, sizeof(*d));
	d->refs = 1;
	d->vfd = -1;
	d->fd = fd;
	d->backlog = backlog;
	d->nonblock = nb;
	d->at = *at;
	d->retry_ms = 0;
	f->dual = (int16_t)i;
	vp_set_kind(fd, VP_DUAL);
	return 0;
}

/* listen() made kernel socket @fd (bound to f->dual_at) a listener. */
int vp_dual_listen(int fd, int backlog)
{
	struct vp_dual *d = vp_dual_of(fd);
	struct vp_fd *f = vp_get(fd);
	int r;

	if (d) {		/* listen() again: a new backlog */
		d->backlog = backlog;
		if (d->vfd >= 0)
			vmmc_sock_listen(d->vfd, backlog);
		return 0;
	}
	r = vp_dual_make(fd, &f->dual_at, backlog, f->nonblock);
	if (r) {
		vp_log("vmmc-preload: fd %d: kernel TCP only (%s)\n", fd,
		       strerror(-r));
		return 0;
	}
	vp_dual_want(fd, &vp_duals[f->dual]);
	return 0;
}

/* Every dual listener this process uses whose retry time came tries again. */
void vp_dual_tick(void)
{
	int i;

	for (i = 0; i < VP_DUAL_MAX; i++)
		if (vp_duals[i].refs && vp_duals[i].used &&
		    vp_duals[i].vfd < 0 && vp_duals[i].retry_ms >= 0)
			vp_dual_want(vp_duals[i].fd, &vp_duals[i]);
}

/*
 * One non-blocking accept on dual listener @fd: from the VMMC side and
 * the kernel's in turn (so that neither starves the other); -EAGAIN if
 * neither has a connection.
 */
long vp_dual_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct vp_dual *d = vp_dual_of(fd);
	struct sockaddr_vmmc v;
	socklen_t vlen = sizeof(v);
	long r = -EAGAIN;
	int side;

	if (!d)
		return -EBADF;
	d->used = true;
	vp_dual_want(fd, d);
	d->flip = !d->flip;
	for (side = 0; side < 2; side++) {
		if ((side == 0) == d->flip) {
			if (d->vfd < 0)
				continue;
			r = vmmc_sock_accept4(d->vfd, (struct sockaddr *)&v,
					      &vlen, (flags & SOCK_CLOEXEC) |
					      SOCK_NONBLOCK);
			r = vp_accepted(r, flags, vp_get(fd));
			if (r >= 0) {
				if (addr)
					vp_to_inet(vp_get((int)r), &v, addr, len);
				vp_log("vmmc-preload: fd %d accepted fd %ld over VMMC\n",
				       fd, r);
				return r;
			}
		} else {
			/* a child's exec may have made the shared file blocking */
			r = REAL(fcntl)(fd, F_GETFL);
			if (r >= 0 && !(r & O_NONBLOCK))
				REAL(fcntl)(fd, F_SETFL, r | O_NONBLOCK);
			r = REAL(accept4)(fd, addr, len, flags);
			if (r >= 0) {
				if (vp_kind((int)r) != VP_NONE)
					vp_set_kind((int)r, VP_NONE);
				vp_log("vmmc-preload: fd %d accepted fd %ld over kernel TCP\n",
				       fd, r);
				return r;
			}
			r = -errno;
		}
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
	}
	return -EAGAIN;
}

/* @fd (dual) stops naming its listener; the last fd closes the VMMC one. */
int vp_dual_close(int fd)
{
	struct vp_dual *d = vp_dual_of(fd);
	int i;

	if (!d)
		return 0;
	vp_set_kind(fd, VP_NONE);
	if (--d->refs > 0) {
		if (d->fd == fd)
			for (i = 0; i <= vp_hi; i++)
				if (vp_dual_of(i) == d)
					d->fd = i;
		return 0;
	}
	d->retry_ms = -1;
	if (d->vfd >= 0)
		vmmc_sock_close(d->vfd);
	d->vfd = -1;
	return 0;
}

/* @nfd is a new name (a dup) of dual listener @fd. */
void vp_dual_dup(int fd, int nfd)
{
	struct vp_fd *f = vp_get(nfd);

	if (!f || !vp_dual_of(fd))
		return;
	*f = *vp_get(fd);
	vp_duals[f->dual].refs++;
	vp_set_kind(nfd, VP_DUAL);
}

/*
 * epoll_ctl of dual listener @fd: the kernel fd in @epfd as asked, the
 * interest recorded, and the VMMC listener in @epfd with the same events
 * and data (now, or when it appears).
 */
int vp_dual_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct vp_dual *d = vp_dual_of(fd);
	int r, i;

	if (!d)
		return -EBADF;
	d->used = true;
	r = vmmc_sock_epoll_ctl(epfd, op, fd, ev);
	if (r)
		return r;
	for (i = 0; i < d->nregs && d->regs[i].epfd != epfd; i++)
		;
	if (op == EPOLL_CTL_DEL) {
		if (i < d->nregs)
			d->regs[i] = d->regs[--d->nregs];
	} else if (i < d->nregs) {
		d->regs[i].ev = *ev;
	} else if (d->nregs < VP_DUAL_REGS) {
		d->regs[d->nregs].epfd = epfd;
		d->regs[d->nregs++].ev = *ev;
	} else {
		vp_log("vmmc-preload: fd %d: in too many epoll sets: kernel TCP only in epoll %d\n",
		       fd, epfd);
		return 0;
	}
	vp_set_kind(epfd, VP_EPOLL);
	if (d->vfd >= 0)
		vmmc_sock_epoll_ctl(epfd, op, d->vfd, ev);
	else
		vp_dual_want(fd, d);
	return 0;
}

/* epoll fd @epfd is closed: no dual listener joins it any more. */
void vp_dual_epoll_gone(int epfd)
{
	struct vp_dual *d;
	int i, j;

	for (i = 0; i < VP_DUAL_MAX; i++) {
		d = &vp_duals[i];
		for (j = 0; d->refs && j < d->nregs; j++)
			if (d->regs[j].epfd == epfd)
				d->regs[j--] = d->regs[--d->nregs];
	}
}

/* An option set on dual listener @fd's kernel socket goes to its VMMC one. */
void vp_dual_setsockopt(int fd, int level, int name, const void *val,
			socklen_t len)
{
	struct vp_dual *d = vp_dual_of(fd);

	if (d && d->vfd >= 0)
		vmmc_sock_setsockopt(d->vfd, level, name, val, len);
}

/*
 * fork(), lock held: the VMMC listener of a process that never accepted
 * or waited on it goes, so that whichever process does first takes the
 * port (vp_dual_want); the others stay this process's.
 */
void vp_dual_fork_prepare(void)
{
	struct vp_dual *d;
	int i;

	for (i = 0; i < VP_DUAL_MAX; i++) {
		d = &vp_duals[i];
		if (!d->refs || d->vfd < 0 || d->used)
			continue;
		vmmc_sock_close(d->vfd);
		d->vfd = -1;
		d->retry_ms = 0;
		vp_log("vmmc-preload: fd %d: VMMC port %u given up at fork\n",
		       d->fd, d->at.svm_port);
	}
}

/* The child: its library forgot the parent's VMMC listeners. */
void vp_dual_fork_child(void)
{
	struct vp_dual *d;
	int i;

	for (i = 0; i < VP_DUAL_MAX; i++) {
		d = &vp_duals[i];
		d->nregs = 0;	/* the epoll sets are the parent's */
		if (!d->refs)
			continue;
		d->vfd = -1;
		d->used = false;
		d->retry_ms = 0;
	}
}

/* Inherited kernel listener @fd (exec, LISTEN_FDS): a dual one if mapped. */
static void vp_dual_adopt_fd(int fd)
{
	struct vp_fd *f = vp_get(fd), tmp = { .kind = VP_INET };
	struct sockaddr_storage a;
	struct sockaddr_vmmc v;
	socklen_t len = sizeof(int);
	int val = 0, fl;

	if (!f || f->kind != VP_NONE ||
	    REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) || !val)
		return;
	len = sizeof(int);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &val, &len) ||
	    val != SOCK_STREAM)
		return;
	len = sizeof(int);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_PROTOCOL, &val, &len) ||
	    val != IPPROTO_TCP)
		return;
	len = sizeof(a);
	if (REAL(getsockname)(fd, (struct sockaddr *)&a, &len))
		return;
	tmp.v6 = a.ss_family == AF_INET6;
	len = sizeof(int);
	if (tmp.v6 && !REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, &val,
					&len))
		tmp.v6only = !!val;
	if (!vp_to_vmmc(&tmp, (struct sockaddr *)&a, sizeof(a), true, &v))
		return;
	fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0)
		return;
	*f = tmp;
	if (!vp_dual_make(fd, &v, SOMAXCONN, fl & O_NONBLOCK))
		vp_log("vmmc-preload: fd %d: inherited listener, VMMC port %u at its first use\n",
		       fd, v.svm_port);
	else
		memset(f, 0, sizeof(*f));
}

/*
 * At start-up: the listening sockets this image inherited (a worker
 * exec'd with its parent's listener, systemd's LISTEN_FDS) become dual
 * listeners whose VMMC side is made at their first use.
 */
void vp_dual_adopt(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int fd, self;

	if (!dir)
		return;
	self = dirfd(dir);
	while ((e = readdir(dir))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		fd = atoi(e->d_name);
		if (fd != self)
			vp_dual_adopt_fd(fd);
	}
	closedir(dir);
}

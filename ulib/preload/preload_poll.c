// SPDX-License-Identifier: MIT
/*
 * preload_poll.c - readiness for the shim: poll, ppoll, select, pselect
 * and epoll. A call that involves a VMMC socket goes to the library's
 * vmmc_sock_poll / vmmc_sock_epoll_*, and waits without the lock a
 * slice at a time; a call that involves none goes to the kernel.
 */

#include "preload_loc.h"

static inline __attribute__((always_inline)) bool
vp_any_vmmc(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	int k;

	for (i = 0; i < n; i++) {
		k = vp_kind(fds[i].fd);
		if (k == VP_VMMC || k == VP_DUAL)
			return true;
	}
	return false;
}

/* The next wait of a call with @timeout ms that ends at @end. */
static int vp_slice(int timeout, long end)
{
	long left;

	if (timeout == 0)
		return 0;
	if (timeout < 0)
		return vp_slice_ms;
	left = end - vp_now_ms();
	return left <= 0 ? 0 : left < vp_slice_ms ? (int)left : vp_slice_ms;
}

/*
 * Wait, without the lock, at most @slice ms, for a kernel fd of @fds or
 * the endpoint (vp_lock held at entry, released here; the caller looks
 * again under the lock). As vp_wait_unlocked(): a spin first, an epoch
 * that moved ends the wait at once, and every 5th slice the library's own
 * wait runs its timers. 0 (look again), what the spin found (> 0: @fds
 * has it), or -errno (-EINTR: a signal handler ran).
 */
static int vp_poll_unlocked(struct vp_wait *w, struct pollfd *fds, nfds_t n,
			    int slice)
{
	unsigned int epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
	struct vp_pollset l = { .fds = fds, .n = n };
	uint32_t spin = vp_spin_ns();
	struct pollfd small[66], *k = small;
	nfds_t i, nk = 0;
	int r;

	vp_wait_mask(w);
	if (!w->spun && spin) {
		w->spun = true;
		vp_unlock();
		return (int)vp_spin(vp_look_poll, &l, spin);
	}
	w->spun = false;
	if (n >= 64)	/* and the endpoint's fd, vp_block_ep()'s eventfd */
		k = malloc((n + 2) * sizeof(*k));
	if (w->round++ % 5 == 4 || !k) {	/* (no memory: wait under the lock) */
		r = vmmc_sock_poll(fds, n, k ? 1 : slice);
		vp_leave();
		if (k != small)
			free(k);
		return r ? r : vp_block(w, NULL, 0, 0);
	}
	for (i = 0; i < n; i++)
		if (fds[i].fd >= 0 && !vmmc_sock_is_sock(fds[i].fd))
			k[nk++] = fds[i];
	k[nk].fd = vmmc_sock_ep_fd();
	k[nk].events = POLLIN;
	k[nk].revents = 0;
	if (k[nk].fd >= 0)
		nk++;
	vp_unlock();
	r = vp_block_ep(w, k, nk, slice, epoch);
	if (k != small)
		free(k);
	return r;
}

/*
 * vmmc_sock_poll: look under the lock, wait without it; @mask: the
 * caller's signal mask for the waits (ppoll, pselect), or NULL.
 */
static int vp_poll_one(struct pollfd *fds, nfds_t n, int timeout,
		       const sigset_t *mask)
{
	long end = timeout > 0 ? vp_now_ms() + timeout : 0;
	struct vp_wait w;
	int r, slice;

	vp_wait_begin(&w, mask);
	for (;;) {
		vp_enter();
		r = vmmc_sock_poll(fds, n, 0);
		slice = vp_slice(timeout, end);
		if (r != 0 || slice == 0) {
			vp_leave();
			break;
		}
		r = vp_poll_unlocked(&w, fds, n, slice);
		if (r)
			break;
	}
	vp_wait_end(&w);
	return vp_ret(r);
}

/*
 * vp_poll_one, with each dual listener of @fds watched on both sides: its
 * VMMC listener is polled as one more entry, whose readiness is the
 * dual fd's.
 */
static int vp_poll(struct pollfd *fds, nfds_t n, int timeout,
		   const sigset_t *mask)
{
	struct pollfd *x;
	struct vp_dual *d;
	nfds_t i, m = 0, j, *at;
	int r;

	vp_enter();
	for (i = 0; i < n; i++) {
		d = vp_dual_of(fds[i].fd);
		if (d)
			d->used = true;
	}
	vp_dual_tick();
	for (i = 0; i < n; i++) {
		d = vp_dual_of(fds[i].fd);
		m += d && d->vfd >= 0;
	}
	if (!m) {
		vp_leave();
		return vp_poll_one(fds, n, timeout, mask);
	}
	x = malloc((n + m) * (sizeof(*x) + sizeof(nfds_t)));
	if (!x) {
		vp_leave();
		return vp_ret(-ENOMEM);
	}
	at = (nfds_t *)(x + n + m);
	memcpy(x, fds, n * sizeof(*x));
	for (i = 0, j = n; i < n; i++) {
		d = vp_dual_of(fds[i].fd);
		if (!d || d->vfd < 0)
			continue;
		at[j] = i;
		x[j].fd = d->vfd;
		x[j].events = fds[i].events;
		x[j++].revents = 0;
	}
	vp_leave();
	r = vp_poll_one(x, n + m, timeout, mask);
	if (r >= 0) {
		for (i = 0; i < n; i++)
			fds[i].revents = x[i].revents;
		for (j = n; j < n + m; j++)
			fds[at[j]].revents |= x[j].revents & ~POLLNVAL;
		for (i = 0, r = 0; i < n; i++)
			r += !!fds[i].revents;
	}
	free(x);
	return r;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (vp_inside || !vp_any_vmmc(fds, n))
		return REAL(poll)(fds, n, timeout);
	return vp_poll(fds, n, timeout, NULL);
}

/* A timeout of ppoll, pselect or epoll_pwait2 in ms (-1: none). */
static int vp_ts_ms(const struct timespec *ts)
{
	long long ms;

	if (!ts)
		return -1;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -2;
	ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > INT_MAX ? -1 : (int)ms;
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
	  const sigset_t *mask)
{
	int ms;

	if (vp_inside || !vp_any_vmmc(fds, n))
		return REAL(ppoll)(fds, n, ts, mask);
	ms = vp_ts_ms(ts);
	if (ms == -2)
		return vp_ret(-EINVAL);
	return vp_poll(fds, n, ms, mask);
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		const sigset_t *mask, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

static int vp_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int ms,
		     const sigset_t *mask)
{
	struct pollfd *p;
	int fd, n = 0, r, i, cnt = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return vp_ret(-EINVAL);
	p = calloc((size_t)nfds ? (size_t)nfds : 1, sizeof(*p));
	if (!p)
		return vp_ret(-ENOMEM);
	for (fd = 0; fd < nfds; fd++) {
		short ev = (rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
			   (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
			   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0);

		if (!ev)
			continue;
		p[n].fd = fd;
		p[n++].events = ev;
	}
	r = vp_poll(p, (nfds_t)n, ms, mask);
	if (r < 0) {
		free(p);
		return r;
	}
	for (i = 0; i < n; i++) {
		short re = p[i].revents;

		if (re & POLLNVAL) {
			free(p);
			return vp_ret(-EBADF);
		}
	}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	for (i = 0; i < n; i++) {
		short re = p[i].revents;

		if (rd && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, rd);
			cnt++;
		}
		if (wr && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, wr);
			cnt++;
		}
		if (ex && (p[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(p[i].fd, ex);
			cnt++;
		}
	}
	free(p);
	return cnt;
}

static bool vp_sets_vmmc(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
	int fd;

	for (fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) ||
		     (ex && FD_ISSET(fd, ex))) &&
		    (vp_kind(fd) == VP_VMMC || vp_kind(fd) == VP_DUAL))
			return true;
	return false;
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	int ms;

	if (vp_inside || !vp_sets_vmmc(nfds, rd, wr, ex))
		return REAL(select)(nfds, rd, wr, ex, tv);
	ms = tv ? (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000) : -1;
	return vp_select(nfds, rd, wr, ex, ms, NULL);
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
	    const struct timespec *ts, const sigset_t *mask)
{
	int ms;

	if (vp_inside || !vp_sets_vmmc(nfds, rd, wr, ex))
		return REAL(pselect)(nfds, rd, wr, ex, ts, mask);
	ms = vp_ts_ms(ts);
	if (ms == -2)
		return vp_ret(-EINVAL);
	return vp_select(nfds, rd, wr, ex, ms, mask);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	long r;

	if (!vp_inside && vp_kind(fd) == VP_DUAL) {
		vp_enter();
		r = vp_dual_epoll_ctl(epfd, op, fd, ev);
		vp_leave();
		return vp_ret(r);
	}
	if (vp_inside || (vp_kind(fd) != VP_VMMC && vp_kind(epfd) != VP_EPOLL))
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	vp_enter();
	r = vmmc_sock_epoll_ctl(epfd, op, fd, ev);
	if (r >= 0)
		vp_set_kind(epfd, VP_EPOLL);
	vp_leave();
	return vp_ret(r);
}

struct vp_epset {
	int epfd, max;
	struct epoll_event *evs;
};

static long vp_look_epoll(void *arg)
{
	struct vp_epset *e = arg;

	return vmmc_sock_epoll_wait(e->epfd, e->evs, e->max, 0);
}

/*
 * Look under the lock, wait without it: the epoll fd holds the kernel
 * fds and the endpoint's fd (the library adds it), and polling the epoll
 * fd itself says "something there" without taking its events. A spin
 * first, as vp_wait_unlocked(); @mask as vp_poll()'s.
 */
static int vp_epoll_wait(int epfd, struct epoll_event *evs, int max,
			 int timeout, const sigset_t *mask)
{
	long end = timeout > 0 ? vp_now_ms() + timeout : 0;
	struct pollfd p[2] = { { .fd = epfd, .events = POLLIN } };
	struct vp_epset e = { .epfd = epfd, .max = max, .evs = evs };
	unsigned int epoch;
	struct vp_wait w;
	uint32_t spin;
	int r, slice;

	vp_wait_begin(&w, mask);
	for (;;) {
		vp_enter();
		vp_dual_tick();
		slice = vp_slice(timeout, end);
		r = vmmc_sock_epoll_wait(epfd, evs, max,
					 w.round % 5 == 4 && slice ? 1 : 0);
		if (r != 0 || slice == 0) {
			vp_leave();
			break;
		}
		epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
		spin = vp_spin_ns();
		vp_wait_mask(&w);
		vp_unlock();
		if (!w.spun && spin) {
			w.spun = true;
			r = (int)vp_spin(vp_look_epoll, &e, spin);
			if (r)
				break;
			continue;
		}
		w.spun = false;
		if (w.round++ % 5 == 4)
			r = vp_block(&w, NULL, 0, 0);
		else
			r = vp_block_ep(&w, p, 1, slice, epoch);
		if (r)
			break;
	}
	vp_wait_end(&w);
	return vp_ret(r);
}

int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	if (vp_inside || vp_kind(epfd) != VP_EPOLL)
		return REAL(epoll_wait)(epfd, evs, max, timeout);
	return vp_epoll_wait(epfd, evs, max, timeout, NULL);
}

int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
		const sigset_t *mask)
{
	if (vp_inside || vp_kind(epfd) != VP_EPOLL)
		return REAL(epoll_pwait)(epfd, evs, max, timeout, mask);
	return vp_epoll_wait(epfd, evs, max, timeout, mask);
}

int epoll_pwait2(int epfd, struct epoll_event *evs, int max,
		 const struct timespec *ts, const sigset_t *mask)
{
	int ms;

	if (vp_inside || vp_kind(epfd) != VP_EPOLL) {
		if (!REAL(epoll_pwait2))
			return vp_ret(-ENOSYS);
		return REAL(epoll_pwait2)(epfd, evs, max, ts, mask);
	}
	ms = vp_ts_ms(ts);
	if (ms == -2)
		return vp_ret(-EINVAL);
	return vp_epoll_wait(epfd, evs, max, ms, mask);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

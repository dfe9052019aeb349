// SPDX-License-Identifier: MIT
/*
 * preload_close.c - close and dup for the shim: close, close_range and
 * closefrom (with the linger of a socket's last close, without the
 * lock), dup, dup2, dup3 and fcntl (F_DUPFD, O_NONBLOCK).
 */

#include "preload_loc.h"

/*
 * The linger of a socket's last close (vmmc_sock_release() gave @h > 0):
 * look under the lock, wait for the NIC's news without it, a slice at a
 * time, until the data and the FIN are out or the linger's time passed
 * (2 s at most), so other threads' calls run meanwhile.
 */
static void vp_linger(int h)
{
	struct pollfd p = { .events = POLLIN };
	unsigned int epoch;

	while (h > 0) {
		vp_enter();
		if (!vmmc_sock_linger(h)) {
			vp_leave();
			return;
		}
		p.fd = vmmc_sock_ep_fd();
		epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
		vp_unlock();
		if (p.fd >= 0 && __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE) ==
		    epoch)
			REAL(poll)(&p, 1, vp_slice_ms);
	}
}

/*
 * close(): the shim's entry and the library's fd-table entry go first,
 * the kernel fd last, so that the number is never free in the kernel
 * while the shim or the library still take it for a VMMC socket (another
 * thread's open() could get it). When this was the socket's last fd, its
 * linger (up to 2 s) runs after that, without the lock (vp_linger).
 */
int close(int fd)
{
	int k = vp_kind(fd);
	long r;

	if (k == VP_VMMC) {
		vp_enter();
		vp_set_kind(fd, VP_NONE);
		r = vmmc_sock_release(fd);
		vp_leave();
		if (r == -EBADF)	/* not the library's: the kernel's */
			return REAL(close)(fd);
		REAL(close)(fd);
		vp_linger((int)r);
		return vp_ret(r > 0 ? 0 : r);
	}
	if (k == VP_EPOLL || k == VP_DUAL) {
		vp_enter();
		if (k == VP_DUAL) {
			vp_dual_close(fd);
		} else {
			vmmc_sock_epoll_close(fd);
			vp_dual_epoll_gone(fd);
		}
		vp_set_kind(fd, VP_NONE);
		vp_leave();
	} else if (k != VP_NONE) {
		if (k == VP_RELAY)
			vp_relay_closed(fd);
		vp_set_kind(fd, VP_NONE);
	}
	return REAL(close)(fd);
}

/*
 * close_range(2) and closefrom(3) (glibc's closefrom calls close_range
 * inside libc, out of the shim's reach): the shim and the library forget
 * the fds of the range first (a VMMC socket closes with its last fd),
 * then the kernel closes them. CLOSE_RANGE_CLOEXEC closes nothing.
 */
#define VP_LINGER_MAX	64

struct vp_lingers {
	int n, h[VP_LINGER_MAX];
};

/* @h from vmmc_sock_release(): one more close to linger (vp_lock held) */
static void vp_linger_add(struct vp_lingers *l, long h)
{
	if (h <= 0)
		return;
	if (l->n < VP_LINGER_MAX)
		l->h[l->n++] = (int)h;
	/* else: it lingers in the background (the library's timers end it) */
}

static void vp_linger_all(struct vp_lingers *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		vp_linger(l->h[i]);
	l->n = 0;
}

static void vp_forget_range(unsigned int first, unsigned int last,
			    struct vp_lingers *l)
{
	int hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED), fd;

	vp_enter();
	for (fd = (int)first; fd <= hi && (unsigned int)fd <= last && fd >= 0;
	     fd++) {
		switch (__atomic_load_n(&vp_fds[fd].kind, __ATOMIC_ACQUIRE)) {
		case VP_NONE:
			continue;
		case VP_VMMC:
			vp_set_kind(fd, VP_NONE);
			vp_linger_add(l, vmmc_sock_release(fd));
			break;
		case VP_EPOLL:
			vp_set_kind(fd, VP_NONE);
			vmmc_sock_epoll_close(fd);
			vp_dual_epoll_gone(fd);
			break;
		case VP_DUAL:
			vp_dual_close(fd);
			break;
		default:
			vp_set_kind(fd, VP_NONE);
			break;
		}
	}
	vp_leave();
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	struct vp_lingers l = { .n = 0 };
	int r;

	if (!REAL(close_range))
		return vp_ret(-ENOSYS);
	if (!vp_inside && first <= last &&
	    !(flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	    !(flags & CLOSE_RANGE_CLOEXEC))
		vp_forget_range(first, last, &l);
	r = REAL(close_range)(first, last, flags);
	vp_linger_all(&l);
	return r;
}

void closefrom(int lowfd)
{
	struct vp_lingers l = { .n = 0 };

	if (!vp_inside && lowfd >= 0)
		vp_forget_range((unsigned int)lowfd, ~0U, &l);
	if (REAL(closefrom))
		REAL(closefrom)(lowfd);
	vp_linger_all(&l);
}

/* fd @nfd is a new name of VMMC socket or stand-in @fd's (a dup). */
static void vp_dup_kind(int fd, int nfd)
{
	struct vp_fd *f = vp_get(nfd);

	if (!f)
		return;
	if (vp_fds[fd].kind == VP_DUAL) {
		vp_enter();
		vp_dual_dup(fd, nfd);
		vp_leave();
		return;
	}
	*f = *vp_get(fd);
	vp_set_kind(nfd, f->kind);
}

/* dup(), F_DUPFD, F_DUPFD_CLOEXEC of a VMMC socket. */
static int vp_dup(int fd, int minfd, bool cloexec)
{
	long r;

	vp_enter();
	r = vmmc_sock_dup(fd, minfd, cloexec ? O_CLOEXEC : 0);
	if (r >= 0 && !vp_get((int)r)) {
		vmmc_sock_close((int)r);
		r = -EMFILE;
	}
	if (r >= 0)
		vp_dup_kind(fd, (int)r);
	vp_leave();
	return vp_ret(r);
}

/*
 * fcntl and fcntl64 (programs built with _FILE_OFFSET_BITS=64, redis
 * among them, call the latter). O_NONBLOCK of a VMMC socket is the
 * shim's (the library's eventfd always stays non-blocking); FD_CLOEXEC
 * is the kernel's, on the eventfd.
 */
static int vp_fcntl(int (*real)(int, int, ...), int fd, int cmd, long arg)
{
	struct vp_fd *f = vp_get(fd);
	int k = vp_kind(fd), r;

	if (k == VP_DUAL && (cmd == F_GETFL || cmd == F_SETFL)) {
		r = real(fd, F_GETFL);
		if (r < 0 || cmd == F_SETFL)
			r = r < 0 ? r : real(fd, F_SETFL, arg | O_NONBLOCK);
		if (r < 0)
			return r;
		vp_enter();
		if (vp_dual_of(fd) && cmd == F_SETFL)
			vp_dual_of(fd)->nonblock = !!(arg & O_NONBLOCK);
		else if (vp_dual_of(fd))
			r = (r & ~O_NONBLOCK) |
			    (vp_dual_of(fd)->nonblock ? O_NONBLOCK : 0);
		vp_leave();
		return r;
	}
	if ((k == VP_DEAD || k == VP_DUAL) &&
	    (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
		r = real(fd, cmd, arg);
		if (r >= 0)
			vp_dup_kind(fd, r);
		return r;
	}
	if (k != VP_VMMC) {
		r = real(fd, cmd, arg);
		if (r >= 0 && k == VP_INET && cmd == F_SETFL)
			f->nonblock = !!(arg & O_NONBLOCK);
		return r;
	}
	switch (cmd) {
	case F_GETFL:
		r = real(fd, F_GETFL);
		if (r < 0)
			return r;
		vp_enter();
		r = (r & ~O_NONBLOCK) | (vp_nonblock(fd) ? O_NONBLOCK : 0);
		vp_leave();
		return r;
	case F_SETFL:
		/* the eventfd stays non-blocking: the library needs it so */
		r = real(fd, F_SETFL, arg | O_NONBLOCK);
		if (r < 0)
			return r;
		vp_enter();
		vp_set_nonblock(fd, arg & O_NONBLOCK);
		vp_leave();
		return r;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg < 0 || arg >= INT_MAX)
			return vp_ret(-EINVAL);
		return vp_dup(fd, (int)arg, cmd == F_DUPFD_CLOEXEC);
	default:
		return real(fd, cmd, arg);
	}
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return vp_fcntl(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return vp_fcntl(REAL(fcntl64), fd, cmd, arg);
}

/* ---- dup ---- */

int dup(int fd)
{
	int k = vp_kind(fd), r;

	if (k == VP_VMMC)
		return vp_dup(fd, 0, false);
	r = REAL(dup)(fd);
	if (r >= 0 && (k == VP_DEAD || k == VP_DUAL))
		vp_dup_kind(fd, r);
	return r;
}

/*
 * dup2/dup3 of kernel fd (or stand-in) @fd onto @newfd, which the shim
 * knows (a VMMC socket or an epoll fd), under the lock: the kernel's dup3
 * first, which replaces @newfd atomically (no other thread can get the
 * number in between), then the library forgets @newfd without closing it
 * (the socket closes if that was its last fd).
 */
static int vp_replace(int fd, int newfd, int flags, int k)
{
	bool sock;
	int r;

	long h = 0;

	vp_enter();
	sock = vmmc_sock_is_sock(newfd);
	r = REAL(dup3)(fd, newfd, flags);
	if (r >= 0) {
		vp_set_kind(newfd, VP_NONE);
		if (sock)
			h = vmmc_sock_release(newfd);
		if (k == VP_EPOLL)
			vmmc_sock_epoll_close(newfd);
	}
	vp_leave();
	vp_linger((int)h);
	return r;
}

/* dup2/dup3 of VMMC socket @fd onto @newfd (not @fd). */
static int vp_dup3(int fd, int newfd, int flags)
{
	int kn = vp_kind(newfd);
	long r;

	if (!vp_get(newfd))
		return vp_ret(newfd < 0 ? -EBADF : -EMFILE);
	long h = 0;

	vp_enter();
	if (kn == VP_EPOLL)
		vmmc_sock_epoll_close(newfd);
	/*
	 * @newfd names another socket: the library forgets it first (the
	 * kernel fd stays until dup3 replaces it), and that socket's linger,
	 * if it was its last fd, runs after, without the lock.
	 */
	if (kn == VP_VMMC && !(flags & ~O_CLOEXEC) &&
	    vmmc_sock_id(newfd) != vmmc_sock_id(fd))
		h = vmmc_sock_release(newfd);
	r = vmmc_sock_dup3(fd, newfd, flags);
	if (r >= 0)
		vp_dup_kind(fd, newfd);
	else if (kn == VP_VMMC && h >= 0 && !vmmc_sock_is_sock(newfd))
		vp_set_kind(newfd, VP_NONE);	/* released; a plain fd now */
	vp_leave();
	vp_linger((int)h);
	return vp_ret(r);
}

/* @newfd, replaced by a dup, no longer names a dual listener */
static void vp_forget_dual(int newfd)
{
	if (vp_kind(newfd) != VP_DUAL)
		return;
	vp_enter();
	vp_dual_close(newfd);
	vp_leave();
}

int dup2(int fd, int newfd)
{
	int k = vp_kind(fd), r;

	if (k == VP_VMMC) {
		if (fd == newfd)
			return newfd;
		return vp_dup3(fd, newfd, 0);
	}
	if (fd != newfd && !vp_inside) {
		int kn = vp_kind(newfd);

		if (kn == VP_VMMC || kn == VP_EPOLL) {
			r = vp_replace(fd, newfd, 0, kn);
			if (r >= 0 && (k == VP_DEAD || k == VP_DUAL))
				vp_dup_kind(fd, newfd);
			return r;
		}
	}
	r = REAL(dup2)(fd, newfd);
	if (r >= 0 && fd != newfd && !vp_inside) {
		vp_forget_dual(newfd);
		if (k == VP_DEAD || k == VP_DUAL)
			vp_dup_kind(fd, newfd);
		else
			vp_set_kind(newfd, VP_NONE);
	}
	return r;
}

int dup3(int fd, int newfd, int flags)
{
	int k = vp_kind(fd), r;

	if (k == VP_VMMC)
		return fd == newfd ? vp_ret(-EINVAL) : vp_dup3(fd, newfd, flags);
	if (fd != newfd && !vp_inside) {
		int kn = vp_kind(newfd);

		if (kn == VP_VMMC || kn == VP_EPOLL) {
			r = vp_replace(fd, newfd, flags, kn);
			if (r >= 0 && (k == VP_DEAD || k == VP_DUAL))
				vp_dup_kind(fd, newfd);
			return r;
		}
	}
	r = REAL(dup3)(fd, newfd, flags);
	if (r >= 0 && !vp_inside) {
		vp_forget_dual(newfd);
		if (k == VP_DEAD || k == VP_DUAL)
			vp_dup_kind(fd, newfd);
		else
			vp_set_kind(newfd, VP_NONE);
	}
	return r;
}

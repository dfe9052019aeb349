// SPDX-License-Identifier: MIT
/*
 * preload_rw.c - the data calls of the shim: send and recv and their
 * msg, mmsg and to/from forms, read, write, readv and writev, and the
 * _FORTIFY_SOURCE entry points of the reads. A blocking call waits
 * without the lock (VP_CALL).
 */

#include "preload_loc.h"

/* vp_nonblock() under the lock, for calls that loop outside it. */
static bool vp_nonblock_locked(int fd)
{
	bool nb;

	vp_enter();
	nb = vp_nonblock(fd);
	vp_leave();
	return nb;
}

/*
 * As a kernel socket: a blocking send returns when every byte is queued
 * (or with what was queued before an error); a non-blocking one takes
 * what fits.
 */
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	int k = vp_kind(fd);
	size_t done = 0;
	long r;

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(send)(fd, buf, len, flags);
	for (;;) {
		r = VP_CALL(fd, POLLOUT, flags & MSG_DONTWAIT,
			    vmmc_sock_send(fd, (const char *)buf + done,
					   len - done, flags | MSG_DONTWAIT));
		if (r < 0)
			return done ? (ssize_t)done : vp_sret(r);
		done += (size_t)r;
		if (done == len || (flags & MSG_DONTWAIT) ||
		    vp_nonblock_locked(fd))
			return (ssize_t)done;
	}
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(sendto)(fd, buf, len, flags, addr, alen);
	/* as Linux TCP: the address of a stream sendto() is ignored */
	(void)addr;
	(void)alen;
	return send(fd, buf, len, flags);
}

/*
 * A split-phase receive into @p began on socket @id, and the descriptor
 * it began on now names something else (vp_held()): end it through
 * another descriptor of that socket, if it has one left (closing the
 * last one ended it already), and give its bytes (0 if none). The
 * library checks that the receive under way is into @p, so a socket that
 * took the number @id since cannot lose its own. vp_lock held.
 */
static ssize_t vp_recv_orphan(int id, char *p, size_t n, int flags)
{
	int fd, hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);
	ssize_t r;

	for (fd = 0; fd <= hi; fd++) {
		if (vp_fds[fd].kind != VP_VMMC || vmmc_sock_id(fd) != id)
			continue;
		r = vmmc_sock_recv_end(fd, p, n, flags, 1);
		return r > 0 ? r : 0;
	}
	return 0;
}

/*
 * A blocking recv (and read) on VMMC socket @fd: the library's split-phase
 * receive (vmmc_sock_recv_begin(3)) posts the buffer for zero-copy when
 * the ring is empty; the wait runs without the lock as VP_CALL's does,
 * other threads using the stack meanwhile, and vmmc_sock_recv_end()
 * takes what came. MSG_WAITALL waits for all of it, as the kernel's. A
 * signal handler that runs ends it: the bytes that came, else EINTR.
 */
static ssize_t vp_recv_zc(int fd, void *buf, size_t len, int flags)
{
	bool pending = false, stop = false, first = true;
	bool all = (flags & MSG_WAITALL) && !(flags & MSG_PEEK);
	struct vp_wait w;
	struct vp_hold h;
	size_t got = 0;
	ssize_t r;

	vp_wait_begin(&w, NULL);
	for (;;) {
		char *p = (char *)buf + got;

		vp_enter();
		if (first) {
			vp_hold(&h, fd);
			first = false;
		} else if (!vp_held(&h, fd)) {
			/* @fd names another socket now: end ours, EBADF */
			r = pending ? vp_recv_orphan(h.id, p, len - got, flags) : 0;
			vp_leave();
			if (r > 0)
				got += (size_t)r;
			r = -EBADF;
			break;
		}
		if (pending)
			r = vmmc_sock_recv_end(fd, p, len - got, flags, stop);
		else if (vp_nonblock(fd))
			r = vmmc_sock_recv(fd, p, len - got, flags | MSG_DONTWAIT);
		else
			r = vmmc_sock_recv_begin(fd, p, len - got, flags);
		pending = r == -EINPROGRESS;
		if (r > 0)
			got += (size_t)r;
		if (r > 0 && all && got < len && !stop) {
			vp_leave();
			continue;
		}
		if (stop || (!pending && (r != -EAGAIN || vp_nonblock(fd)))) {
			vp_leave();
			break;
		}
		r = vp_wait_unlocked(&w, fd, POLLIN);
		if (r && !pending)
			break;
		stop = r != 0;
	}
	vp_wait_end(&w);
	if (got)
		return (ssize_t)got;
	return stop && r == -EAGAIN ? -EINTR : r;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	int k = vp_kind(fd);

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(recv)(fd, buf, len, flags);
	if (!(flags & MSG_DONTWAIT))
		return vp_sret(vp_recv_zc(fd, buf, len, flags));
	return vp_sret(VP_CALL(fd, POLLIN, flags & MSG_DONTWAIT,
			       vmmc_sock_recv(fd, buf, len,
					      flags | MSG_DONTWAIT)));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 struct sockaddr *addr, socklen_t *alen)
{
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	if (addr && alen)
		*alen = 0;	/* a connected stream: no source address */
	return recv(fd, buf, len, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int k = vp_kind(fd);

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(sendmsg)(fd, msg, flags);
	return vp_sret(VP_CALL(fd, POLLOUT, flags & MSG_DONTWAIT,
			       vmmc_sock_sendmsg(fd, msg,
						 flags | MSG_DONTWAIT)));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	int k = vp_kind(fd);

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(recvmsg)(fd, msg, flags);
	return vp_sret(VP_CALL(fd, POLLIN, flags & MSG_DONTWAIT,
			       vmmc_sock_recvmsg(fd, msg,
						 flags | MSG_DONTWAIT)));
}

/*
 * sendmmsg/recvmmsg on a VMMC socket: sendmsg/recvmsg per message, as
 * the kernel loops (vlen capped at UIO_MAXIOV): an error on the first
 * message is the call's, a later one ends it with the count so far.
 * recvmmsg: MSG_WAITFORONE makes every message after the first
 * MSG_DONTWAIT; @timeout is checked after each message (it does not
 * bound a wait, as the kernel's) and left holding the time remaining.
 */
int sendmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags)
{
	int k = vp_kind(fd);
	unsigned int i;
	ssize_t r;

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(sendmmsg)(fd, v, vlen, flags);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen; i++) {
		r = sendmsg(fd, &v[i].msg_hdr, flags);
		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags,
	     struct timespec *timeout)
{
	int k = vp_kind(fd);
	long end = 0, left;
	unsigned int i;
	ssize_t r;

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(recvmmsg)(fd, v, vlen, flags, timeout);
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= 1000000000L)
			return vp_ret(-EINVAL);
		end = vp_now_ns() + timeout->tv_sec * 1000000000L +
		      timeout->tv_nsec;
	}
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen;) {
		r = recvmsg(fd, &v[i].msg_hdr, flags & ~MSG_WAITFORONE);
		if (r < 0)
			return i ? (int)i : -1;
		v[i++].msg_len = (unsigned int)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timeout) {
			left = end - vp_now_ns();
			if (left < 0)
				left = 0;
			timeout->tv_sec = left / 1000000000L;
			timeout->tv_nsec = left % 1000000000L;
			if (!left)
				break;
		}
	}
	return (int)i;
}

ssize_t read(int fd, void *buf, size_t len)
{
	int k = vp_kind(fd);

	if (k == VP_VMMC || k == VP_DEAD)
		return recv(fd, buf, len, 0);
	return REAL(read)(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	int k = vp_kind(fd);

	if (k == VP_VMMC || k == VP_DEAD)
		return send(fd, buf, len, 0);
	return REAL(write)(fd, buf, len);
}

/* readv (@out false) or writev: a recvmsg or sendmsg of the vector */
static ssize_t vp_rwv(int fd, const struct iovec *iov, int cnt, bool out)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov,
			    .msg_iovlen = cnt > 0 ? (size_t)cnt : 0 };
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return out ? REAL(writev)(fd, iov, cnt) :
			     REAL(readv)(fd, iov, cnt);
	if (cnt < 0 || cnt > IOV_MAX)
		return vp_sret(-EINVAL);
	return out ? sendmsg(fd, &m, 0) : recvmsg(fd, &m, 0);
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	return vp_rwv(fd, iov, cnt, false);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	return vp_rwv(fd, iov, cnt, true);
}

/* ---- _FORTIFY_SOURCE entry points of the calls above ---- */

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

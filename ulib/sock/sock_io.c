// SPDX-License-Identifier: MIT
/*
 * sock_io.c - moving bytes: send, recv and their msg/iovec forms.
 *
 * send copies the caller's bytes into the connection's pinned staging
 * ring at the stream position, posts them to the same position of the
 * peer's receive ring (deliberate update) and posts the new count into
 * the peer's state word. recv copies out of our receive ring and, once
 * a quarter of the ring was taken or the ring is empty, posts its count
 * back (the sender's credit). Neither makes a system call unless it has
 * to wait (vs_block(), sock_proto.c) or to report EPIPE with SIGPIPE. A
 * large blocking recv that finds the ring empty receives with no copy instead
 * (sock_zc.c).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "sock_loc.h"

/*
 * Skip @skip bytes of the iovec, then copy @n bytes between it and the
 * ring at stream position @pos; to_ring says which way.
 */
static void vs_iov_ring(const struct iovec *iov, int iovcnt, size_t skip,
			uint8_t *ring, uint32_t ring_sz, uint64_t pos, size_t n,
			bool to_ring)
{
	size_t off, chunk, k;
	uint32_t r;
	int i;

	for (i = 0; i < iovcnt && n; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		off = skip;
		skip = 0;
		chunk = iov[i].iov_len - off;
		if (chunk > n)
			chunk = n;
		n -= chunk;
		while (chunk) {
			r = (uint32_t)(pos & (ring_sz - 1));
			k = ring_sz - r < chunk ? ring_sz - r : chunk;
			if (to_ring)
				memcpy(ring + r, (uint8_t *)iov[i].iov_base + off, k);
			else
				memcpy((uint8_t *)iov[i].iov_base + off, ring + r, k);
			pos += k;
			off += k;
			chunk -= k;
		}
	}
}

/* Sum of the lengths, or -EINVAL (like readv(2)); NULL base: -EFAULT. */
static ssize_t vs_iov_len(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	int i;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	if (iovcnt && !iov)
		return -EFAULT;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total)
			return -EINVAL;
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EFAULT;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static ssize_t vs_epipe(int flags)
{
	if (!(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return -EPIPE;
}

static ssize_t vs_sendv1(struct vs_sock *s, const struct iovec *iov,
			 int iovcnt, size_t total, int flags)
{
	bool dontwait = s->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = 0, space;
	size_t done = 0, n;
	int err;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	for (;;) {
		vs_poke(s);
		if (s->err && (s->reset || s->state == VS_CLOSED) && !done) {
			err = s->err;
			s->err = 0;
			return -err;
		}
		if (s->state == VS_SYN_SENT) {
			if (dontwait)
				return -EAGAIN;
		} else if (s->state != VS_ESTAB && !s->reset &&
			   s->state != VS_CLOSED) {
			return -ENOTCONN;
		} else if (s->shut_wr || s->reset || s->state != VS_ESTAB) {
			return done ? (ssize_t)done : vs_epipe(flags);
		} else {
			space = vs_tx_space(s);
			/* its staging ring pinned, or nothing accepted */
			err = space && done < total ? vs_tx_pinned(s) : 0;
			if (err) {
				if (done) {
					vs_state_out(s, false);
					return (ssize_t)done;
				}
				return err == -ENOMEM ? -ENOMEM : -ENOBUFS;
			}
			if (space && done < total) {
				n = total - done < space ? total - done :
							   (size_t)space;
				VS_PROF_BEGIN(t0);
				vs_iov_ring(iov, iovcnt, done, s->stg + VS_HDR,
					    s->tx_ring, s->tx_queued, n, true);
				VS_PROF_END(VS_P_COPYIN, t0);
				s->tx_queued += n;
				done += n;
				VS_PROF_BEGIN(t1);
				vs_flush_tx(s);
				VS_PROF_END(VS_P_FLUSH, t1);
			}
			if (done == total) {
				s->want_credit = false;
				VS_PROF_BEGIN(t2);
				vs_state_out(s, !dontwait);
				VS_PROF_END(VS_P_SOUT, t2);
				return (ssize_t)done;
			}
			/* out of credit: ask the receiver for it, once */
			if (!vs_tx_space(s) && !s->want_credit) {
				s->want_credit = true;
				vs_post_state(s);
				continue;	/* it may have come meanwhile */
			}
		}
		if (dontwait) {
			if (done)
				vs_state_out(s, false);
			return done ? (ssize_t)done : -EAGAIN;
		}
		VS_PROF_BEGIN(t3);
		err = vs_block(s, &deadline, s->sndtimeo_ms);
		VS_PROF_END(VS_P_SWAIT, t3);
		if (err) {
			if (done) {
				vs_state_out(s, true);
				return (ssize_t)done;
			}
			return err == -ETIMEDOUT ? -EAGAIN : err;
		}
	}
}

/*
 * MSG_MORE corks the socket for this send (as TCP_CORK, 200 ms ceiling
 * included) unless TCP_CORK already does; the next send without it
 * sends what is held with its own bytes.
 */
static ssize_t vs_sendv(struct vs_sock *s, const struct iovec *iov,
			int iovcnt, size_t total, int flags)
{
	if ((flags & MSG_MORE) && !s->cork) {
		s->cork = true;
		s->more = true;
		vs_timer_at(s, 0);	/* the ceiling, from the next run */
	} else if (!(flags & MSG_MORE) && s->more) {
		s->cork = false;
		s->more = false;
	}
	VS_PROF_BEGIN(t);
	ssize_t r = vs_sendv1(s, iov, iovcnt, total, flags);

	VS_PROF_END(VS_P_SEND, t);
	return r;
}

/* @split: for vmmc_sock_recv_begin/_end (MSG_DONTWAIT theirs, not the caller's) */
static ssize_t vs_recvv1(struct vs_sock *s, const struct iovec *iov,
			 int iovcnt, size_t total, int flags, bool split)
{
	bool dontwait = s->nonblock || (flags & MSG_DONTWAIT);
	bool peek = flags & MSG_PEEK;
	bool waitall = flags & MSG_WAITALL;
	bool zc_off = peek || (flags & MSG_TRUNC) || dontwait, efault = false;
	/* a receive that can never redirect */
	bool small = (zc_off && !split) || !s->zc_min || total < s->zc_min;
	uint64_t deadline = 0, avail;
	size_t got = 0, n, dlen;
	uint8_t *dst;
	ssize_t r;
	int err;

	if (flags & MSG_OOB)
		return -EINVAL;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;
	if (s->state == VS_FRESH || s->state == VS_LISTEN)
		return -ENOTCONN;
	if (!total)
		return 0;
	/* the next bytes go to a split-phase receive's buffer (another thread's) */
	if (vs_zc_pending(s))
		return -EAGAIN;
	for (;;) {
		vs_poke(s);
		avail = s->state == VS_ESTAB && !s->shut_rd ?
			vs_rx_avail(s) : 0;
		/* PEEK with WAITALL waits for all of it, as TCP does */
		if (peek && waitall && avail < total && !s->rx_fin)
			avail = 0;
		if (avail && got < total) {
			n = total - got < avail ? total - got : (size_t)avail;
			/* as a kernel socket: the data stays for a later call */
			if (efault)
				return got ? (ssize_t)got : -EFAULT;
			VS_PROF_BEGIN(t0);
			if (!(flags & MSG_TRUNC))
				vs_iov_ring(iov, iovcnt, got, s->rx + VS_HDR,
					    s->rx_ring, s->rx_cons, n, false);
			VS_PROF_END(VS_P_COPYOUT, t0);
			got += n;
			if (peek)
				return (ssize_t)got;
			/* one that could not redirect: the peer may trail */
			if (small)
				vs_trail_grant(s);
			s->rx_cons += n;
			vs.st.rx_bytes += n;
			/*
			 * The sender's credit: not for every byte; a state
			 * we post anyway (data) carries it too. A sender out
			 * of credit says so (VS_F_WANT) and gets it at once.
			 */
			if (s->rx_cons - s->rx_told >= s->rx_ring / 4 ||
			    s->peer_wants) {
				VS_PROF_BEGIN(t1);
				vs_post_state(s);
				VS_PROF_END(VS_P_CREDIT, t1);
			}
			if (got == total || !waitall)
				return (ssize_t)got;
			continue;
		}
		if (got && !waitall)
			return (ssize_t)got;
		if (s->err && s->state == VS_CLOSED) {
			if (got)
				return (ssize_t)got;
			err = s->err;
			s->err = 0;
			return -err;
		}
		if (s->reset || s->shut_rd || vs_rx_eof(s) ||
		    s->state == VS_CLOSED)
			return (ssize_t)got;
		if (dontwait)
			return got ? (ssize_t)got : -EAGAIN;
		/* a large buffer and an empty ring: receive with no copy */
		dst = zc_off || !s->zc_min ? NULL :
		      vs_iov_at(iov, iovcnt, got, &dlen);
		if (dst && dlen >= s->zc_min && s->zc_skip) {
			/* the stream kept racing its redirects: copy */
			s->zc_skip--;
			vs.st.zc_fallbacks++;
			zc_off = true;
		} else if (dst && dlen >= s->zc_min) {
			VS_PROF_BEGIN(t2);
			r = vs_zc_recv(s, dst, dlen, waitall, &deadline);
			VS_PROF_END(VS_P_ZCRECV, t2);
			if (r > 0) {
				got += (size_t)r;
				if (got == total || !waitall)
					return (ssize_t)got;
				continue;
			}
			if (r == -ETIMEDOUT || r == -EINTR) {
				if (got)
					return (ssize_t)got;
				return r == -ETIMEDOUT ? -EAGAIN : r;
			}
			/*
			 * copy from now on; 0 or -EIO (the stream was just
			 * reset): look again at once
			 */
			zc_off = true;
			efault = r == -EFAULT;
			if (!r || r == -EIO)
				continue;
		}
		VS_PROF_BEGIN(t3);
		err = vs_block(s, &deadline, s->rcvtimeo_ms);
		VS_PROF_END(VS_P_RWAIT, t3);
		if (err) {
			if (got)
				return (ssize_t)got;
			return err == -ETIMEDOUT ? -EAGAIN : err;
		}
	}
}

static ssize_t vs_recvv(struct vs_sock *s, const struct iovec *iov,
			int iovcnt, size_t total, int flags, bool split)
{
	VS_PROF_BEGIN(t);
	ssize_t r = vs_recvv1(s, iov, iovcnt, total, flags, split);

	VS_PROF_END(VS_P_RECV, t);
	return r;
}

ssize_t vmmc_sock_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (len && !buf)
		return -EFAULT;
	if (len > SSIZE_MAX)
		return -EINVAL;
	return vs_sendv(s, &v, 1, len, flags);
}

/* The socket of a recv(fd, buf, len, flags) into *@s: 0 or -errno. */
static int vs_recv_args(int fd, const void *buf, size_t len, int flags,
			struct vs_sock **s)
{
	int err = vs_lookup(fd, s);

	if (err)
		return err;
	if (len && !buf && !(flags & MSG_TRUNC))
		return -EFAULT;
	return len > SSIZE_MAX ? -EINVAL : 0;
}

ssize_t vmmc_sock_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	struct vs_sock *s;
	int err;

	err = vs_recv_args(fd, buf, len, flags, &s);
	if (err)
		return err;
	return vs_recvv(s, &v, 1, len, flags, false);
}

/*
 * Split-phase receive, for a caller that waits on its own (the LD_PRELOAD
 * shim: it waits without its lock while other threads use the stack).
 * begin: what vmmc_sock_recv(MSG_DONTWAIT) gives, except that where that
 * is -EAGAIN and a blocking receive would receive with no copy, the
 * buffer is posted and the answer is -EINPROGRESS: wait (the socket's fd
 * or the endpoint's), then call end.
 */
ssize_t vmmc_sock_recv_begin(int fd, void *buf, size_t len, int flags)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	struct vs_sock *s;
	ssize_t r;
	int err;

	err = vs_recv_args(fd, buf, len, flags, &s);
	if (err)
		return err;
	r = vs_recvv(s, &v, 1, len, flags | MSG_DONTWAIT, true);
	/* the caller waits on its own: the socket's O_NONBLOCK is its own */
	if (r != -EAGAIN || vs_zc_pending(s) ||
	    (flags & (MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC)) ||
	    s->state != VS_ESTAB || !s->zc_min || len < s->zc_min)
		return r;
	if (s->zc_skip) {
		/* the stream kept racing its redirects: copy */
		s->zc_skip--;
		vs.st.zc_fallbacks++;
		return r;
	}
	err = vs_zc_begin(s, buf, len, flags & MSG_WAITALL);
	if (err > 0)
		return -EINPROGRESS;
	/* not writable: say so now (a copy into it would fault) */
	return err == -EFAULT ? -EFAULT : r;
}

/*
 * end, with begin's buffer, length and flags: -EINPROGRESS while the
 * receive stays under way (wait again), else its result: the bytes (all
 * of them with MSG_WAITALL, some without), or, when none came into the
 * buffer, what vmmc_sock_recv(MSG_DONTWAIT) gives then (0 at EOF, an
 * error, -EAGAIN). @stop ends it now (a signal, a time-out). -EINVAL
 * when no receive into @buf is under way on the socket (so a caller that
 * lost track of its socket cannot end another caller's receive).
 */
ssize_t vmmc_sock_recv_end(int fd, void *buf, size_t len, int flags, int stop)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	struct vs_sock *s;
	ssize_t r, r2;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (!vs_zc_pending_into(s, buf))
		return -EINVAL;
	r = vs_zc_poll(s, stop);
	if (r > 0 || r == -EINPROGRESS)
		return r;
	r2 = vs_recvv(s, &v, 1, len, flags | MSG_DONTWAIT, true);
	return r2 == -EAGAIN && r < 0 ? r : r2;
}

/* sendmsg/recvmsg: the socket and the byte count of @msg, or -errno. */
static ssize_t vs_msg_check(int fd, const struct msghdr *msg,
			    struct vs_sock **s)
{
	int err = vs_lookup(fd, s);

	if (err)
		return err;
	if (!msg)
		return -EFAULT;
	if (msg->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	return vs_iov_len(msg->msg_iov, (int)msg->msg_iovlen);
}

ssize_t vmmc_sock_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct vs_sock *s;
	ssize_t total;

	total = vs_msg_check(fd, msg, &s);
	if (total < 0)
		return total;
	/* a stream socket ignores msg_name when connected (as TCP does) */
	if (msg->msg_name && s->state != VS_ESTAB)
		return -EOPNOTSUPP;
	return vs_sendv(s, msg->msg_iov, (int)msg->msg_iovlen, (size_t)total,
			flags);
}

ssize_t vmmc_sock_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct vs_sock *s;
	ssize_t total;

	total = vs_msg_check(fd, msg, &s);
	if (total < 0)
		return total;
	msg->msg_namelen = 0;
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	return vs_recvv(s, msg->msg_iov, (int)msg->msg_iovlen, (size_t)total,
			flags, false);
}

/* readv/writev: the socket and the byte count of @iov, then the move. */
static ssize_t vs_iov_call(int fd, const struct iovec *iov, int iovcnt,
			   bool send)
{
	struct vs_sock *s;
	ssize_t total;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	total = vs_iov_len(iov, iovcnt);
	if (total < 0)
		return total;
	return send ? vs_sendv(s, iov, iovcnt, (size_t)total, 0) :
		      vs_recvv(s, iov, iovcnt, (size_t)total, 0, false);
}

ssize_t vmmc_sock_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return vs_iov_call(fd, iov, iovcnt, true);
}

ssize_t vmmc_sock_readv(int fd, const struct iovec *iov, int iovcnt)
{
	return vs_iov_call(fd, iov, iovcnt, false);
}

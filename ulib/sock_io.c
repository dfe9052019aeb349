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
 * to wait (vs_wait(), vs_timers()) or to report EPIPE with SIGPIPE.
 *
 * Zero-copy receive (vs_zc_recv()): a blocking recv whose next piece of
 * buffer is contiguous and at least zc_min bytes, and which finds the
 * ring empty, posts a transfer redirection of the ring range the next
 * bytes will land in (two when it wraps) onto that buffer, waits, ends
 * the redirect and reads the NIC's record of it: bytes that went to the
 * buffer need no copy, bytes that landed in the ring before the post are
 * copied. Only then does rx_cons move and the credit go out, exactly as
 * for a copy. Credit rule: the range redirected is inside
 * [rx_cons, rx_cons + ring), the bytes the sender may write; rx_cons
 * stays put while a redirect is active, so the sender cannot lap the
 * range (its next bytes for the same ring offsets would go to the
 * buffer); bytes redirected past what the receive returns (a SEND the
 * cancel cut in two) are copied back into the ring, so the ring again
 * holds every unconsumed byte.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sock.h"

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

/* The connection's own news, without a look at the other sockets. */
static void vs_poke(struct vs_sock *s)
{
	vs_progress();
	(void)s;
}

static int vs_block(struct vs_sock *s, uint64_t *deadline, uint64_t timeo_ms);

static ssize_t vs_epipe(int flags)
{
	if (!(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return -EPIPE;
}

static ssize_t vs_sendv(struct vs_sock *s, const struct iovec *iov,
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
			if (space && done < total) {
				n = total - done < space ? total - done :
							   (size_t)space;
				vs_iov_ring(iov, iovcnt, done, s->stg + VS_HDR,
					    s->tx_ring, s->tx_queued, n, true);
				s->tx_queued += n;
				done += n;
				vs_flush_tx(s);
			}
			if (done == total) {
				s->want_credit = false;
				return (ssize_t)done;
			}
			/* out of credit: ask the receiver for it, once */
			if (!vs_tx_space(s) && !s->want_credit) {
				s->want_credit = true;
				vs_post_state(s);
				continue;	/* it may have come meanwhile */
			}
		}
		if (dontwait)
			return done ? (ssize_t)done : -EAGAIN;
		err = vs_block(s, &deadline, s->sndtimeo_ms);
		if (err) {
			if (done)
				return (ssize_t)done;
			return err == -ETIMEDOUT ? -EAGAIN : err;
		}
	}
}

/* ---- options and zero-copy receive ---- */

void vs_opts_init(struct vs_sock *s)
{
	const char *e = getenv("VMMC_SOCK_ZC_MIN");
	unsigned long v;
	char *end;

	s->zc_min = VMMC_SOCK_ZC_MIN_DEF;
	if (e && *e) {
		v = strtoul(e, &end, 0);
		if (!*end && v <= UINT32_MAX)
			s->zc_min = (uint32_t)v;
	}
	e = getenv("VMMC_SOCK_BUSY_POLL");
	s->busy_poll = e && *e && strcmp(e, "0");
}

int vs_setopt_vmmc(struct vs_sock *s, int name, int v)
{
	switch (name) {
	case VMMC_SO_ZEROCOPY_MIN:
		if (v < 0)
			return -EINVAL;
		s->zc_min = (uint32_t)v;
		return 0;
	case VMMC_SO_BUSY_POLL:
		s->busy_poll = !!v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int vs_getopt_vmmc(struct vs_sock *s, int name, int *v)
{
	switch (name) {
	case VMMC_SO_ZEROCOPY_MIN:
		*v = s->zc_min > INT_MAX ? INT_MAX : (int)s->zc_min;
		return 0;
	case VMMC_SO_BUSY_POLL:
		*v = s->busy_poll;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* vs_reap() saw a REDIRECT's completion: the record is final. */
void vs_zc_reaped(uint64_t ud, uint32_t status)
{
	uint32_t slot = (uint32_t)ud & (VMMC_REDIR_SLOTS - 1);

	if (((ud >> 40) & 0xff) != VS_K_REDIR || !(vs.zc_busy & 1u << slot))
		return;
	vs.zc_done |= 1u << slot;
	vs.zc_status[slot] = status;
}

/*
 * Wait for news: the endpoint's blocking wait, then the timers; or, with
 * VMMC_SO_BUSY_POLL, nothing at all (the caller's loop polls again): no
 * system call, no clock, so no time-out and no probe either.
 */
static int vs_block(struct vs_sock *s, uint64_t *deadline, uint64_t timeo_ms)
{
	int err;

	if (s->busy_poll)
		return 0;
	if (!*deadline)
		*deadline = timeo_ms ? vs_now_ns() + timeo_ms * 1000000ULL : 0;
	err = vs_wait(*deadline);
	if (!err)
		vs_timers();
	return err;
}

/* Buffers known to be writable but not pinnable (file-backed, ...). */
static bool vs_nopin_has(uintptr_t a, size_t len)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (a >= vs.zc_nopin[i][0] && a + len <= vs.zc_nopin[i][1])
			return true;
	return false;
}

/*
 * Is [a, a + len) mapped writable? Read from /proc/self/maps: only after
 * a pin for write failed, never on the steady path. If the file cannot
 * be read, say yes (the copy then behaves as memcpy() does).
 */
static bool vs_writable(uintptr_t a, size_t len)
{
	uintptr_t end = a + len;
	unsigned long lo, hi;
	char perm[8], line[256];
	bool bol = true, ok;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return true;
	while (a < end && fgets(line, sizeof(line), f)) {
		/* the tail of a long line (a path) is no record */
		bool rec = bol;

		bol = strchr(line, '\n') != NULL;
		if (!rec || sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3)
			continue;
		if (hi <= a)
			continue;
		if (lo > a || perm[1] != 'w')
			break;
		a = hi;
	}
	ok = a >= end;
	fclose(f);
	return ok;
}

/* Polls for the state word after a redirect completed (no clock read). */
#define VS_ZC_SPIN	4096

/* One receive's redirects: the ring's contiguous range, or two (wrap). */
struct vs_zc {
	int n;
	unsigned int slot[2];
	uint32_t off[2];	/* export offsets */
	uint32_t len[2];
	uint32_t seq0[2];	/* the record's seq before the post */
	uint8_t *dst[2];
};

/*
 * Post the redirects of stream bytes [rx_cons, + len) onto @dst, the ring
 * being empty: 1 (posted), 0 (not: copy instead) or -EFAULT (@dst is
 * not writable memory). Pins @dst for write first (a UTLB hit on a
 * reused buffer: no system call).
 */
static int vs_zc_post(struct vs_sock *s, uint8_t *dst, size_t len,
		      struct vs_zc *z)
{
	uint32_t r = (uint32_t)(s->rx_cons & (s->rx_ring - 1)), part;
	uint32_t avail = ~vs.zc_busy & ((1u << VMMC_REDIR_SLOTS) - 1);
	struct vmmc_redir_res rec;
	unsigned int slot;
	int i, err;

	z->n = 0;
	if (len > s->rx_ring)
		len = s->rx_ring;
	if (__builtin_popcount(avail) < (r + len > s->rx_ring ? 2 : 1) ||
	    vs_nopin_has((uintptr_t)dst, len)) {
		vs.st.zc_fallbacks++;
		return 0;
	}
	err = vmmc_pin_write(&vs.ep, dst, len);
	if (err) {
		vs.st.zc_fallbacks++;
		if (err != -EFAULT)
			return 0;
		if (!vs_writable((uintptr_t)dst, len))
			return -EFAULT;
		vs.zc_nopin[vs.zc_nopin_next][0] = (uintptr_t)dst;
		vs.zc_nopin[vs.zc_nopin_next][1] = (uintptr_t)dst + len;
		vs.zc_nopin_next = (vs.zc_nopin_next + 1) % 4;
		return 0;
	}
	for (i = 0; i < 2 && len; i++) {
		part = i ? (uint32_t)len : (uint32_t)(len < s->rx_ring - r ?
						       len : s->rx_ring - r);
		slot = (unsigned int)__builtin_ctz(avail);
		if (vmmc_redirect_result(&vs.ep, slot, &rec))
			break;
		z->seq0[i] = rec.seq;
		z->off[i] = VS_HDR + (i ? 0 : r);
		err = vmmc_redirect(&vs.ep, slot, s->rx_exp, z->off[i], dst,
				    part, VS_UD(s->id, VS_K_REDIR, slot));
		if (err)
			break;	/* SQ full: copy what the rest gets */
		avail &= ~(1u << slot);
		vs.zc_busy |= 1u << slot;
		vs.zc_done &= ~(1u << slot);
		vs.st.zc_active++;
		vs.st.zc_posts++;
		z->slot[i] = slot;
		z->len[i] = part;
		z->dst[i] = dst;
		z->n++;
		dst += part;
		len -= part;
	}
	if (!z->n)
		vs.st.zc_fallbacks++;
	return z->n ? 1 : 0;
}

static uint32_t vs_zc_mask(const struct vs_zc *z)
{
	uint32_t m = 0;
	int i;

	for (i = 0; i < z->n; i++)
		m |= 1u << z->slot[i];
	return m;
}

/* End the redirects of @z (cancel those still active) and wait for it. */
static void vs_zc_end(struct vs_sock *s, struct vs_zc *z)
{
	uint32_t mask = vs_zc_mask(z), cancelled = 0;
	int i;

	for (;;) {
		vs_progress();
		if ((vs.zc_done & mask) == mask)
			return;
		for (i = 0; i < z->n; i++) {
			if ((vs.zc_done | cancelled) & 1u << z->slot[i])
				continue;
			if (vmmc_redirect_cancel(&vs.ep, z->slot[i], 0))
				continue;	/* SQ full: next round */
			if (!cancelled)
				vs.st.zc_cancels++;	/* per receive */
			cancelled |= 1u << z->slot[i];
		}
		/* the NIC answers a cancel at once: no time-out here */
		if (!s->busy_poll && (vs.zc_done & mask) != mask)
			(void)vs_wait(0);
	}
}

/*
 * Read the final record of redirect @i of @z; one the NIC refused (it
 * never wrote it) or that does not describe the post reads as empty.
 */
static void vs_zc_record(const struct vs_sock *s, const struct vs_zc *z,
			 int i, struct vmmc_redir_res *rec)
{
	if (vmmc_redirect_result(&vs.ep, z->slot[i], rec) ||
	    rec->seq == z->seq0[i] || rec->offset != z->off[i] ||
	    rec->len != z->len[i] || rec->export_id != s->rx_exp)
		rec->nr_ext = 0;
	rec->offset = z->off[i];
	rec->len = z->len[i];
}

/* Copy the redirected bytes at export offsets >= @from back to the ring. */
static void vs_zc_restore(struct vs_sock *s, const struct vmmc_redir_res *rec,
			  uint8_t *dst, uint64_t from)
{
	uint64_t a, b, end = rec->offset + rec->len;
	uint32_t i;

	for (i = 0; i < rec->nr_ext && i < VMMC_REDIR_EXTENTS; i++) {
		a = rec->ext[i].offset;
		b = a + rec->ext[i].len;
		if (a < from)
			a = from;
		if (b > end)
			b = end;
		if (a < b)
			memcpy(s->rx + a, dst + (a - rec->offset), b - a);
	}
}

/*
 * A zero-copy receive of the next bytes of the stream (the ring is empty)
 * into @dst, @len bytes of contiguous memory: the bytes received (> 0,
 * consumed and credited as a copy would), 0 (nothing came: EOF, reset, a
 * refused redirect; the caller looks again without redirecting),
 * -ENOTSUP (nothing posted: copy instead), -EFAULT (not writable), or the
 * wait's -ETIMEDOUT / -EINTR (nothing came).
 */
static ssize_t vs_zc_recv(struct vs_sock *s, uint8_t *dst, size_t len,
			  bool waitall, uint64_t *deadline)
{
	struct vmmc_redir_res rec;
	uint64_t pos = s->rx_cons, k, ps, kk, copied;
	unsigned int spins = 0;
	struct vs_zc z;
	int i, err = 0;

	/* the whole range is the sender's to fill: all credit out first */
	if (s->rx_told != s->rx_cons)
		vs_post_state(s);
	i = vs_zc_post(s, dst, len, &z);
	if (i <= 0)
		return i ? i : -ENOTSUP;
	len = z.len[0] + (z.n > 1 ? z.len[1] : 0);
	for (;;) {
		vs_poke(s);
		if (s->state != VS_ESTAB || s->reset || s->shut_rd ||
		    s->rx_fin)
			break;	/* a FIN's state says the last byte came */
		k = s->rx_sent - pos;
		if (k >= len || (k && !waitall))
			break;
		/* ended by itself (OK: all came; else: will move no more) */
		if ((vs.zc_done & vs_zc_mask(&z)) == vs_zc_mask(&z)) {
			for (i = 0; i < z.n; i++)
				if (vs.zc_status[z.slot[i]] != VMMC_ST_OK)
					break;
			if (i < z.n)
				break;
			/*
			 * All of it landed; the state word that says so is
			 * the sender's next SEND, right behind: look for it
			 * a while rather than sleep and be woken again.
			 */
			if (spins++ < VS_ZC_SPIN)
				continue;
		}
		err = vs_block(s, deadline, s->rcvtimeo_ms);
		if (err)
			break;
	}
	vs_zc_end(s, &z);
	vs_poke(s);	/* the state word of what landed meanwhile */
	k = 0;
	if (s->state == VS_ESTAB && !s->reset) {
		k = s->rx_sent - pos;
		if (k > len)
			k = len;
	}
	for (i = 0; i < z.n; i++) {
		vs_zc_record(s, &z, i, &rec);
		ps = i ? z.len[0] : 0;
		kk = k > ps ? k - ps : 0;
		if (kk > z.len[i])
			kk = z.len[i];
		copied = vmmc_redirect_copy_rest(&rec, s->rx, z.dst[i],
						 z.off[i], kk);
		vs.st.zc_copied += copied;
		vs.st.zc_bytes += kk - copied;
		if (s->state == VS_ESTAB && !s->reset)
			vs_zc_restore(s, &rec, z.dst[i], z.off[i] + kk);
	}
	vs.zc_busy &= ~vs_zc_mask(&z);
	vs.zc_done &= ~vs_zc_mask(&z);
	vs.st.zc_active -= (uint32_t)z.n;
	if (!k)
		return err;
	s->rx_cons += k;
	vs.st.rx_bytes += k;
	if (s->rx_cons - s->rx_told >= s->rx_ring / 4 || s->peer_wants)
		vs_post_state(s);
	return (ssize_t)k;
}

/* The contiguous piece of the iovec after @skip bytes (its length). */
static uint8_t *vs_iov_at(const struct iovec *iov, int iovcnt, size_t skip,
			  size_t *len)
{
	int i;

	for (i = 0; i < iovcnt; i++) {
		if (skip < iov[i].iov_len) {
			*len = iov[i].iov_len - skip;
			return (uint8_t *)iov[i].iov_base + skip;
		}
		skip -= iov[i].iov_len;
	}
	*len = 0;
	return NULL;
}

static ssize_t vs_recvv(struct vs_sock *s, const struct iovec *iov,
			int iovcnt, size_t total, int flags)
{
	bool dontwait = s->nonblock || (flags & MSG_DONTWAIT);
	bool peek = flags & MSG_PEEK;
	bool waitall = flags & MSG_WAITALL;
	bool zc_off = peek || (flags & MSG_TRUNC) || dontwait, efault = false;
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
			if (!(flags & MSG_TRUNC))
				vs_iov_ring(iov, iovcnt, got, s->rx + VS_HDR,
					    s->rx_ring, s->rx_cons, n, false);
			got += n;
			if (peek)
				return (ssize_t)got;
			s->rx_cons += n;
			vs.st.rx_bytes += n;
			/*
			 * The sender's credit: not for every byte; a state
			 * we post anyway (data) carries it too. A sender out
			 * of credit says so (VS_F_WANT) and gets it at once.
			 */
			if (s->rx_cons - s->rx_told >= s->rx_ring / 4 ||
			    s->peer_wants)
				vs_post_state(s);
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
		if (dst && dlen >= s->zc_min) {
			r = vs_zc_recv(s, dst, dlen, waitall, &deadline);
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
			/* copy from now on; 0: look again at once */
			zc_off = true;
			efault = r == -EFAULT;
			if (!r)
				continue;
		}
		err = vs_block(s, &deadline, s->rcvtimeo_ms);
		if (err) {
			if (got)
				return (ssize_t)got;
			return err == -ETIMEDOUT ? -EAGAIN : err;
		}
	}
}

ssize_t vmmc_sock_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (len && !buf)
		return -EFAULT;
	if (len > SSIZE_MAX)
		return -EINVAL;
	return vs_sendv(s, &v, 1, len, flags);
}

ssize_t vmmc_sock_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	struct vs_sock *s;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	if (len && !buf && !(flags & MSG_TRUNC))
		return -EFAULT;
	if (len > SSIZE_MAX)
		return -EINVAL;
	return vs_recvv(s, &v, 1, len, flags);
}

/* sendmsg/recvmsg: the socket and the byte count of @msg, or -errno. */
static ssize_t vs_msg_check(int fd, const struct msghdr *msg,
			    struct vs_sock **s)
{
	int err;

	*s = vs_lookup(fd, &err);
	if (!*s)
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
			flags);
}

ssize_t vmmc_sock_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct vs_sock *s;
	ssize_t total;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	total = vs_iov_len(iov, iovcnt);
	if (total < 0)
		return total;
	return vs_sendv(s, iov, iovcnt, (size_t)total, 0);
}

ssize_t vmmc_sock_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct vs_sock *s;
	ssize_t total;
	int err;

	s = vs_lookup(fd, &err);
	if (!s)
		return err;
	total = vs_iov_len(iov, iovcnt);
	if (total < 0)
		return total;
	return vs_recvv(s, iov, iovcnt, (size_t)total, 0);
}

// SPDX-License-Identifier: MIT
/*
 * sock_zc.c - zero-copy receive of the stream sockets, and the options
 * of level SOL_VMMC that steer it (vmmc_sock(7), "Zero-copy receive").
 *
 * vs_zc_recv(): a blocking recv whose next piece of buffer is contiguous
 * and at least zc_min bytes, and which finds the ring empty, posts a transfer redirection of the ring range the next
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
 *
 * No system call on the steady path: the buffer's pin for write is a UTLB
 * hit once it was used (a ZC range, within the pin budget: utlb.h); posting, reading the record and crediting touch
 * mapped memory only. /proc/self/maps is read only after a pin failed.
 * One thread at a time, as the rest of the stack.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sock.h"

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
	/* within the zero-copy pin budget, never at the library's pins */
	err = __vmmc_pin_zc(&vs.ep, dst, len);
	if (err) {
		vs.st.zc_fallbacks++;
		if (err == -ENOBUFS || err == -EBUSY)
			vs.st.zc_nopin++;
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

/*
 * End the redirects of @z (cancel those still active) and wait for it: 0,
 * or the wait's error when the endpoint itself failed (the NIC stopped or
 * the device went: nothing will complete, and nothing will write either).
 * A signal does not end the wait: the NIC may still write the buffer.
 */
static int vs_zc_end(struct vs_sock *s, struct vs_zc *z)
{
	uint32_t mask = vs_zc_mask(z), cancelled = 0;
	int i, err;

	for (;;) {
		vs_progress();
		if ((vs.zc_done & mask) == mask)
			return 0;
		for (i = 0; i < z->n; i++) {
			if ((vs.zc_done | cancelled) & 1u << z->slot[i])
				continue;
			if (vmmc_redirect_cancel(&vs.ep, z->slot[i], 0))
				continue;	/* SQ full: next round */
			cancelled |= 1u << z->slot[i];
		}
		/*
		 * The NIC answers a cancel once it fetches it: behind any
		 * SEND of this endpoint still being pushed (a slow link can
		 * hold it until the peer is declared dead). No time-out.
		 */
		if (!s->busy_poll && (vs.zc_done & mask) != mask) {
			err = vs_wait(0);
			if (err && err != -EINTR)
				return err;
		}
	}
}

/*
 * Read the final record of redirect @i of @z: 0, or -EIO when it cannot
 * be trusted. A redirect the NIC refused at fetch never wrote its record
 * (seq unchanged, the CQE an error): it moved nothing and reads as empty.
 * Every redirect the NIC accepted wrote it, and the record must then be
 * final (DONE) and describe our post. Anything else (unreadable, torn,
 * scribbled on, another range) leaves us not knowing which bytes went to
 * the buffer: copying stale ring bytes over them, or leaving them out of
 * the ring, would corrupt the stream silently, so the caller resets it.
 */
static int vs_zc_record(const struct vs_sock *s, const struct vs_zc *z,
			int i, struct vmmc_redir_res *rec)
{
	uint32_t st = vs.zc_status[z->slot[i]];

	if (vmmc_redirect_result(&vs.ep, z->slot[i], rec))
		return -EIO;
	if (rec->seq == z->seq0[i]) {
		if (st == VMMC_ST_OK || st == VMMC_ST_CANCELLED)
			return -EIO;	/* done, yet never written */
		rec->nr_ext = 0;
	} else if (rec->state != VMMC_REDIR_DONE ||
		   rec->offset != z->off[i] || rec->len != z->len[i] ||
		   rec->export_id != s->rx_exp) {
		return -EIO;
	}
	rec->offset = z->off[i];
	rec->len = z->len[i];
	return 0;
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
ssize_t vs_zc_recv(struct vs_sock *s, uint8_t *dst, size_t len, bool waitall,
		   uint64_t *deadline)
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
		vs_progress();
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
	k = 0;
	if (vs_zc_end(s, &z)) {
		vs_reset(s, EIO, false);
		err = -EIO;
		goto out;
	}
	/* a cancel that found its redirect complete cut nothing */
	for (i = 0; i < z.n; i++)
		if (vs.zc_status[z.slot[i]] == VMMC_ST_CANCELLED) {
			vs.st.zc_cancels++;	/* per receive */
			break;
		}
	vs_progress();	/* the state word of what landed meanwhile */
	if (s->state == VS_ESTAB && !s->reset) {
		k = s->rx_sent - pos;
		if (k > len)
			k = len;
	}
	for (i = 0; i < z.n; i++) {
		if (vs_zc_record(s, &z, i, &rec)) {
			vs_reset(s, EIO, false);
			k = 0;
			err = -EIO;
			break;
		}
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
out:
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
uint8_t *vs_iov_at(const struct iovec *iov, int iovcnt, size_t skip,
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

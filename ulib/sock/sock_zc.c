// SPDX-License-Identifier: MIT
/*
 * sock_zc.c - zero-copy receive of the stream sockets, and the options
 * of level SOL_VMMC that steer it (vmmc_sock(7), "Zero-copy receive").
 *
 * vs_zc_recv(): a blocking recv whose next piece of buffer is contiguous
 * and at least zc_min bytes, and which finds the ring empty, redirects
 * the stream bytes it wants (up to VS_ZC_WINDOW) onto that buffer in
 * pieces: a piece is at most a quarter of the ring, never crosses the
 * ring's end, and is one transfer redirection of the ring range its
 * bytes will land in. Pieces are posted in stream order and taken in
 * stream order: once the state word covers all the bytes of the oldest
 * piece, its redirect has ended by itself (every byte went to the
 * buffer: no copy) or is cancelled (some landed in the ring before the
 * NIC fetched the post: copied from there, as the record says); then
 * rx_cons moves past it, the next piece is posted, and only then does
 * the credit go out (every quarter ring, as for a copy). So the sender
 * streams on while the receive is under way, and one receive can take
 * more than a ring. A receive that ends early (no MSG_WAITALL, EOF,
 * reset, time-out, signal) cancels the pieces still active and keeps
 * only the bytes the state word covers; redirected bytes past them (a
 * SEND the cancel cut in two) are copied back into the ring.
 *
 * Credit rule, and why the sender can never lap a redirected range. The
 * sender may write stream byte q only when q < told + ring, told being
 * the rx_cons we last wrote to it (told <= rx_cons always). Invariant,
 * whenever a piece is active: rx_cons <= the first byte of the oldest
 * active piece, and every active piece lies in [rx_cons, rx_cons + ring).
 * It holds at the post (pieces start at rx_cons and are cut at
 * rx_cons + ring) and after every step: rx_cons moves only past a piece
 * that has ended (its CQE reaped, so the NIC will put no more bytes of
 * that range in the buffer) and only up to the next active one; a new
 * piece is cut at the new rx_cons + ring. A lap of an active piece's
 * ring offsets would be a write of q + ring for some q in the piece; as
 * q >= rx_cons >= told, q + ring >= told + ring: the sender has no such
 * credit. Credit that uncovers a new piece's range is posted after that
 * piece's REDIRECT in the same send queue, which the NIC fetches in
 * order, so the redirect is active before the sender can learn of the
 * credit and none of those bytes lands in the ring. Pieces never
 * overlap (the NIC refuses overlapping redirects: BUSY), since they lie
 * in one ring's worth of stream. The only race is the first ring's
 * worth of a receive (credit for it is out before the posts), and a
 * piece posted late because the SQ or the slots were short: their bytes
 * that beat the post are copied after a cancel, as above. A piece,
 * wherever its bytes went, is never taken before the state word covers
 * it, so rx_cons never passes rx_sent.
 *
 * No system call on the steady path: the buffer's pin for write is a UTLB
 * hit once it was used (the zc class, within the pin budget: core/svc.h);
 * posting, reading the record and crediting touch mapped memory only.
 * /proc/self/maps is read only after a pin failed. One thread at a
 * time, as the rest of the stack.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sock_loc.h"

int vs_setopt_vmmc(struct vs_sock *s, int name, int v)
{
	switch (name) {
	case VMMC_SO_ZEROCOPY_MIN:
		if (v < 0)
			return -EINVAL;
		s->zc_min = (uint32_t)v;
		s->zc_skip = s->zc_backoff = 0;	/* afresh */
		return 0;
	case VMMC_SO_BUSY_POLL:
		s->busy_poll = !!v;
		return 0;
	case VMMC_SO_ACCEPTOR:
		if (s->bound || s->state != VS_FRESH)
			return -EINVAL;
		s->acceptor = !!v;
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
	case VMMC_SO_ACCEPTOR:
		*v = s->acceptor;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
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

/* A piece is a quarter of the ring: credit goes out as often as a copy's. */
#define VS_ZC_PIECE_SHIFT	2

/* Pieces one receive keeps active: a ring's worth (+1: a piece split at
 * the ring's end).
 */
#define VS_ZC_PIECES	((1u << VS_ZC_PIECE_SHIFT) + 2)

/* Zero-copy receives a stream that races its redirects skips, at most. */
#define VS_ZC_BACKOFF_MAX	64

/* Bytes of buffer one zero-copy receive redirects onto, at most. */
#define VS_ZC_WINDOW	(1u << 20)

/* One redirect: stream bytes [pos, pos + len), inside one lap of the ring. */
struct vs_zc_piece {
	unsigned int slot;
	uint32_t len;
	uint64_t pos;
	uint32_t seq0;		/* the record's seq before the post */
};

/*
 * One receive: the buffer @dst takes stream bytes [pos0, end); pieces
 * [pos0, next) were posted, the active ones (oldest first) in a FIFO.
 */
struct vs_zc {
	uint8_t *dst;
	uint64_t pos0, end, next;
	bool waitall;		/* MSG_WAITALL: all of [pos0, end) */
	bool active;		/* split phase (s->zc_pend): under way */
	bool stop;		/* post no more (a piece was refused) */
	bool cancelled;		/* a cancel cut a piece: counted in zc_cancels */
	uint64_t copied;	/* bytes taken from the ring, not redirected */
	unsigned int head, n;
	struct vs_zc_piece p[VS_ZC_PIECES];
};

static struct vs_zc_piece *vs_zc_at(struct vs_zc *z, unsigned int i)
{
	return &z->p[(z->head + i) % VS_ZC_PIECES];
}

/* The export offset of stream position @pos. */
static uint32_t vs_zc_off(const struct vs_sock *s, uint64_t pos)
{
	return VS_HDR + (uint32_t)(pos & (s->rx_ring - 1));
}

/*
 * Post the next pieces of the receive, while the window allows: every
 * active piece inside [rx_cons, rx_cons + ring), none crossing the ring's
 * end. Stops quietly when slots or the SQ are short (the caller tries
 * again after the next piece ends, or copies).
 */
static void vs_zc_fill(struct vs_sock *s, struct vs_zc *z)
{
	uint32_t piece = s->rx_ring >> VS_ZC_PIECE_SHIFT, r;
	uint64_t lim = s->rx_cons + s->rx_ring, part;
	struct vmmc_redir_res rec;
	struct vs_zc_piece *p;
	uint32_t avail;
	unsigned int slot;
	int err;

	while (!z->stop && z->n < VS_ZC_PIECES && z->next < z->end) {
		r = (uint32_t)(z->next & (s->rx_ring - 1));
		part = z->end - z->next;
		if (part > piece)
			part = piece;
		if (part > s->rx_ring - r)
			part = s->rx_ring - r;
		/*
		 * Up to the window's edge, exactly: the sender has credit
		 * for all of it, and what it writes there before a piece
		 * covers it lands in the ring (copied, after a cancel).
		 */
		if (z->next >= lim)
			break;
		if (part > lim - z->next)
			part = lim - z->next;
		avail = ~vs.zc_busy & ((1u << VMMC_REDIR_SLOTS) - 1);
		if (!avail)
			break;
		slot = (unsigned int)__builtin_ctz(avail);
		if (vmmc_redirect_result(&vs.ep, slot, &rec)) {
			z->stop = true;
			break;
		}
		err = vmmc_redirect(&vs.ep, slot, s->rx_exp, vs_zc_off(s, z->next),
				    z->dst + (z->next - z->pos0), (size_t)part,
				    VS_UD(s->id, VS_K_REDIR, slot));
		if (err) {
			z->stop = err != -EAGAIN;	/* -EAGAIN: SQ full */
			break;
		}
		vs.zc_busy |= 1u << slot;
		vs.zc_done &= ~(1u << slot);
		vs.st.zc_active++;
		vs.st.zc_posts++;

		p = vs_zc_at(z, z->n++);
		p->slot = slot;
		p->pos = z->next;
		p->len = (uint32_t)part;
		p->seq0 = rec.seq;
		z->next += part;
	}
}

/*
 * Start a zero-copy receive of stream bytes [rx_cons, + len) into @dst,
 * the ring being empty: 1 (posted), 0 (not: copy instead) or -EFAULT
 * (@dst is not writable memory). Pins @dst for write first (a UTLB hit
 * on a reused buffer: no system call).
 */
static int vs_zc_post(struct vs_sock *s, uint8_t *dst, size_t len,
		      struct vs_zc *z)
{
	size_t win = s->rx_ring > VS_ZC_WINDOW ? s->rx_ring : VS_ZC_WINDOW;
	int err;

	memset(z, 0, sizeof(*z));
	if (len > win)
		len = win;
	if (!(~vs.zc_busy & ((1u << VMMC_REDIR_SLOTS) - 1)) ||
	    vs_nopin_has((uintptr_t)dst, len)) {
		vs.st.zc_fallbacks++;
		return 0;
	}
	/* within the zero-copy pin budget, never at the library's pins */
	err = vmmc_svc_pin_zc(&vs.ep, dst, len);
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
	z->dst = dst;
	z->pos0 = z->next = s->rx_cons;
	z->end = s->rx_cons + len;
	vs_zc_fill(s, z);
	if (!z->n)
		vs.st.zc_fallbacks++;
	return z->n ? 1 : 0;
}

/* The slots of the active pieces. */
static uint32_t vs_zc_mask(struct vs_zc *z)
{
	uint32_t m = 0;
	unsigned int i;

	for (i = 0; i < z->n; i++)
		m |= 1u << vs_zc_at(z, i)->slot;
	return m;
}

/*
 * End the redirects of @mask (cancel those still active) and wait for it:
 * 0, or the wait's error when the endpoint itself failed (the NIC stopped
 * or the device went: nothing will complete, and nothing will write
 * either). A signal does not end the wait: the NIC may still write the
 * buffer.
 */
static int vs_zc_end(struct vs_sock *s, uint32_t mask)
{
	uint32_t cancelled = 0, b;
	uint64_t deadline;
	unsigned int i;
	int err;

	for (;;) {
		vs_poke(s);
		if ((vs.zc_done & mask) == mask)
			return 0;
		for (i = 0; i < VMMC_REDIR_SLOTS; i++) {
			b = 1u << i;
			if (!(mask & b) || ((vs.zc_done | cancelled) & b))
				continue;
			if (vmmc_redirect_cancel(&vs.ep, i, 0))
				continue;	/* SQ full: next round */
			cancelled |= b;
		}
		/*
		 * The NIC answers a cancel once it fetches it: behind any
		 * SEND of this endpoint still being pushed (a slow link can
		 * hold it until the peer is declared dead). No time-out.
		 */
		if (!s->busy_poll && (vs.zc_done & mask) != mask) {
			deadline = 0;
			err = vs_block(s, &deadline, 0);
			if (err && err != -EINTR)
				return err;
		}
	}
}

/*
 * Read the final record of piece @p: 0, or -EIO when it cannot be
 * trusted. A redirect the NIC refused at fetch never wrote its record
 * (seq unchanged, the CQE an error): it moved nothing and reads as empty.
 * Every redirect the NIC accepted wrote it, and the record must then be
 * final (DONE) and describe our post. Anything else (unreadable, torn,
 * scribbled on, another range) leaves us not knowing which bytes went to
 * the buffer: copying stale ring bytes over them, or leaving them out of
 * the ring, would corrupt the stream silently, so the caller resets it.
 */
static int vs_zc_record(const struct vs_sock *s, const struct vs_zc_piece *p,
			struct vmmc_redir_res *rec)
{
	uint32_t st = vs.zc_status[p->slot], off = vs_zc_off(s, p->pos);

	if (vmmc_redirect_result(&vs.ep, p->slot, rec))
		return -EIO;
	if (rec->seq == p->seq0) {
		if (st == VMMC_ST_OK || st == VMMC_ST_CANCELLED)
			return -EIO;	/* done, yet never written */
		rec->nr_ext = 0;
	} else if (rec->state != VMMC_REDIR_DONE ||
		   rec->offset != off || rec->len != p->len ||
		   rec->export_id != s->rx_exp) {
		return -EIO;
	}
	rec->offset = off;
	rec->len = p->len;
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
 * The oldest piece has ended (its slot in zc_done): take its first @k
 * bytes (all came: the state word covers them) into the buffer, put the
 * redirected bytes past them back into the ring (if @restore), free its
 * slot. -EIO: its record cannot be trusted (the caller resets).
 */
static int vs_zc_take(struct vs_sock *s, struct vs_zc *z, uint64_t k,
		      bool restore)
{
	struct vs_zc_piece *p = vs_zc_at(z, 0);
	uint8_t *d = z->dst + (p->pos - z->pos0);
	struct vmmc_redir_res rec;
	uint32_t off = vs_zc_off(s, p->pos), st = vs.zc_status[p->slot];
	uint64_t copied;
	int err;

	err = vs_zc_record(s, p, &rec);
	if (!err) {
		copied = vmmc_redirect_copy_rest(&rec, s->rx, d, off, k);
		vs.st.zc_copied += copied;
		z->copied += copied;
		vs.st.zc_bytes += k - copied;
		if (restore)
			vs_zc_restore(s, &rec, d, off + k);
	}
	/* a cancel that found its redirect complete cut nothing */
	if (st == VMMC_ST_CANCELLED && !z->cancelled) {
		vs.st.zc_cancels++;	/* per receive */
		z->cancelled = true;
	}
	if (st != VMMC_ST_OK && st != VMMC_ST_CANCELLED)
		z->stop = true;		/* refused or ended by the NIC */
	vs.zc_busy &= ~(1u << p->slot);
	vs.zc_done &= ~(1u << p->slot);
	vs.st.zc_active--;
	z->head = (z->head + 1) % VS_ZC_PIECES;
	z->n--;
	return err;
}

/*
 * Take every piece, oldest first, whose bytes all came (the state word
 * covers them): ended by itself when every byte was redirected, else
 * (some landed in the ring before the post was fetched) cancelled now.
 * Then rx_cons moves past it, the next piece is posted and only then
 * the credit goes out. 0, or -EIO (reset the stream).
 */
static int vs_zc_settle(struct vs_sock *s, struct vs_zc *z)
{
	struct vs_zc_piece *p;
	uint32_t bit, len;
	int err;

	while (z->n) {
		p = vs_zc_at(z, 0);
		bit = 1u << p->slot;
		len = p->len;
		if (s->rx_sent - p->pos < len)
			return 0;
		if (!(vs.zc_done & bit)) {
			/* its CQE is written before the state word lands */
			vs_poke(s);
			if (s->state != VS_ESTAB || s->reset)
				return 0;
			if (!(vs.zc_done & bit)) {
				err = vs_zc_end(s, bit);
				if (err)
					return -EIO;
			}
		}
		if (vs_zc_take(s, z, len, false))
			return -EIO;
		s->rx_cons += len;
		vs.st.rx_bytes += len;
		vs_zc_fill(s, z);	/* posted before the credit is */
		if (s->rx_cons - s->rx_told >= s->rx_ring / 4 ||
		    s->peer_wants)
			vs_post_state(s);
	}
	return 0;
}

/*
 * Start a zero-copy receive into @z: 1 (posted), 0 (not: copy instead)
 * or -EFAULT. All the credit goes out first: the whole window is the
 * sender's to fill.
 */
static int vs_zc_start(struct vs_sock *s, uint8_t *dst, size_t len,
		       bool waitall, struct vs_zc *z)
{
	int err;

	if (s->rx_told != s->rx_cons)
		vs_post_state(s);
	err = vs_zc_post(s, dst, len, z);
	z->waitall = waitall;
	return err;
}

/*
 * One look at a receive under way: 1 when it is to end (the bytes it
 * needs came, EOF, reset, or nothing is posted any more: copy the rest),
 * 0 to wait on, -EIO (a record that cannot be trusted).
 */
static int vs_zc_step(struct vs_sock *s, struct vs_zc *z)
{
	vs_poke(s);
	if (s->state != VS_ESTAB || s->reset || s->shut_rd || s->rx_fin)
		return 1;	/* a FIN's state says the last byte came */
	if (vs_zc_settle(s, z))
		return -EIO;
	if (s->state != VS_ESTAB || s->reset || !z->n ||
	    (!z->waitall && s->rx_sent != z->pos0))
		return 1;	/* all came, some came, or copy the rest */
	return 0;
}

/*
 * End a receive under way (@err: 0, or why it ends: -EIO, or the wait's
 * -ETIMEDOUT / -EINTR): cancel the pieces still active, wait for their
 * records, take the bytes the state word covers, put redirected bytes
 * past them back into the ring. The bytes received, or @err.
 */
static ssize_t vs_zc_finish(struct vs_sock *s, struct vs_zc *z, int err)
{
	struct vs_zc_piece *p;
	uint64_t k, kk, got;
	uint32_t mask;

	/* every piece still active ends before any slot is freed */
	mask = vs_zc_mask(z);
	if (mask && vs_zc_end(s, mask))
		err = -EIO;

	if (err == -EIO)
		vs_reset(s, EIO, false);
	vs_poke(s);	/* the state word of what landed meanwhile */
	k = 0;
	if (s->state == VS_ESTAB && !s->reset && err != -EIO) {
		k = s->rx_sent - s->rx_cons;
		if (k > z->next - s->rx_cons)
			k = z->next - s->rx_cons;
	}
	while (z->n) {
		p = vs_zc_at(z, 0);
		kk = s->rx_cons + k > p->pos ? s->rx_cons + k - p->pos : 0;
		if (kk > p->len)
			kk = p->len;
		if (vs_zc_take(s, z, err == -EIO ? 0 : kk, err != -EIO &&
			       s->state == VS_ESTAB && !s->reset) &&
		    err != -EIO) {
			vs_reset(s, EIO, false);
			err = -EIO;
		}
	}
	if (err == -EIO)
		k = 0;
	s->rx_cons += k;
	vs.st.rx_bytes += k;
	got = s->rx_cons - z->pos0;
	/*
	 * Mostly copied, and more data in the ring already: the ring was
	 * empty only for a moment, the sender's bytes beat the posts (a
	 * stream with data in flight). Copying is then free of waiting, and
	 * cheaper than posting and cancelling: skip the next zero-copy
	 * receives, twice as many each time. (A request-response peer
	 * leaves the ring empty after its answer: never skipped.)
	 */
	if (got && z->copied * 2 > got && vs_rx_avail(s)) {
		s->zc_backoff = s->zc_backoff ? 2 * s->zc_backoff : 1;
		if (s->zc_backoff > VS_ZC_BACKOFF_MAX)
			s->zc_backoff = VS_ZC_BACKOFF_MAX;
		s->zc_skip = s->zc_backoff;
	} else if (got) {
		s->zc_backoff = 0;
	}
	if (k && (s->rx_cons - s->rx_told >= s->rx_ring / 4 || s->peer_wants))
		vs_post_state(s);
	return got ? (ssize_t)got : err;
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
	struct vs_zc z;
	int err;

	/*
	 * Not while the peer may trail (sock_loc.h): take that back, and
	 * wait until it saw so, or for data, whichever comes first (then
	 * copy).
	 */
	while (!vs_trail_revoke(s)) {
		if (vs_rx_avail(s) || s->state != VS_ESTAB || s->reset ||
		    s->rx_fin || s->peer_dead)
			return 0;	/* copy: look again */
		err = vs_block(s, deadline, s->rcvtimeo_ms);
		if (err)
			return err;
		vs_poke(s);
	}
	err = vs_zc_start(s, dst, len, waitall, &z);
	if (err <= 0)
		return err ? err : -ENOTSUP;
	for (;;) {
		err = vs_zc_step(s, &z);
		if (err) {
			err = err > 0 ? 0 : err;
			break;
		}
		/*
		 * No spin of our own for the state word behind a piece's
		 * CQE: the endpoint's competitive wait spins as long as a
		 * sleep would cost, then sleeps until the state's NOTIFY.
		 */
		err = vs_block(s, deadline, s->rcvtimeo_ms);
		if (err)
			break;
	}
	return vs_zc_finish(s, &z, err);
}

/*
 * Split phase (vmmc_sock_recv_begin(3)): start a zero-copy receive that
 * stays under way in s->zc_pend while the caller waits on its own, the
 * stack meanwhile serving other calls (of other threads, under the
 * caller's lock). 1 (posted), 0 (not: copy instead), -EFAULT.
 */
int vs_zc_begin(struct vs_sock *s, uint8_t *dst, size_t len, bool waitall)
{
	int err;

	if (!vs_trail_revoke(s))
		return 0;	/* copy until the peer trails no more */
	if (!s->zc_pend) {
		s->zc_pend = malloc(sizeof(*s->zc_pend));
		if (!s->zc_pend)
			return 0;
	}
	err = vs_zc_start(s, dst, len, waitall, s->zc_pend);
	s->zc_pend->active = err > 0;
	return err;
}

/* Is a split-phase receive under way on @s? */
bool vs_zc_pending(const struct vs_sock *s)
{
	return s->zc_pend && s->zc_pend->active;
}

/* Is it under way into @buf (the buffer its begin was given)? */
bool vs_zc_pending_into(const struct vs_sock *s, const void *buf)
{
	return vs_zc_pending(s) && s->zc_pend->dst == buf;
}

/*
 * The split-phase receive under way: one look (and, if @stop, its end).
 * -EINPROGRESS while it stays under way; else, as it ended, the bytes
 * received, or 0 (none: the caller looks at the ring, EOF or error) or
 * -EIO.
 */
ssize_t vs_zc_poll(struct vs_sock *s, bool stop)
{
	struct vs_zc *z = s->zc_pend;
	ssize_t r;
	int err;

	err = vs_zc_step(s, z);
	if (!err && !stop)
		return -EINPROGRESS;
	r = vs_zc_finish(s, z, err < 0 ? err : 0);
	z->active = false;
	return r;
}

/* The socket closes: end a split-phase receive under way, keep nothing. */
void vs_zc_abort(struct vs_sock *s)
{
	if (vs_zc_pending(s))
		vs_zc_poll(s, true);
	free(s->zc_pend);
	s->zc_pend = NULL;
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

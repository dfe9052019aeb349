// SPDX-License-Identifier: MIT
/*
 * sock_proto.c - the stream sockets' protocol engine (wire formats and
 * layers in sock_loc.h): posting data and state, taking completions and
 * notifications, checking what the peer wrote (set-up itself is in
 * sock_conn.c, memory in sock_stack.c, timers in sock_timer.c), the end
 * of a close and the one blocking wait, vs_block().
 *
 * Progress follows the NIC's news to the sockets it names: a completion
 * carries its socket's id (VS_UD), a notification the export it landed
 * in (vs.byexp[]), and either marks that socket ready (vs_mark()); so do
 * a state owed to the peer and bytes the send queue could not take yet.
 * vs_progress() then looks at the marked sockets only. A notification
 * the NIC dropped (the NQ was full) names nobody: every socket is
 * marked, once per drop. The timers (sock_timer.c) run after a wait
 * and look at the sockets that are due only.
 *
 * No system call on the steady path: vs_progress(), vs_update(),
 * vs_flush_tx() and vs_post_state() only touch mapped rings and memory
 * (vmmc_send() hits the UTLB: every source is pinned at set-up). The
 * clock is read only by vs_timers() and vs_block(), which the callers
 * use only when they are about to block anyway.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sock_loc.h"
#include "sock_shim.h"

#define MASK40		((1ULL << 40) - 1)
#define NS_PER_MS	1000000ULL
/* ---- posting ---- */

static void vs_reap(void);

int vs_post(struct vs_sock *s, const void *src, size_t len,
		   uint32_t imp, uint64_t off, uint32_t flags, uint64_t ud)
{
	int err = vmmc_send(&vs.ep, src, len, imp, off, flags, ud);

	if (err == -EAGAIN) {
		vs_reap();
		err = vmmc_send(&vs.ep, src, len, imp, off, flags, ud);
	}
	if (!err) {
		s->inflight++;
		vs.st.inflight++;
	}
	return err;
}

/*
 * A SEND from the connection's own pinned memory failed for good (not
 * -EAGAIN: the SQ, the tag table or a pin still in flight, which free up
 * by themselves): its staging ring could not be pinned again after the
 * kernel dropped translations (ENOMEM: RLIMIT_MEMLOCK; ENOSPC: no UTLB
 * room). The bytes accepted cannot go out, so the connection is reset
 * with that error (ENOSPC reads ENOBUFS), which the next call returns:
 * never a silent retry. The peer sees a reset when we close.
 */
static void vs_post_failed(struct vs_sock *s, int err)
{
	if (err == -EAGAIN)
		vs_mark(s);	/* progress posts it when the queue has room */
	if (err == -EAGAIN || s->reset)
		return;
	vs.st.pin_resets++;
	s->peer_dead = true;	/* nothing more can be posted from it */
	vs_reset(s, err == -ENOMEM ? ENOMEM : ENOBUFS, false);
}

/*
 * Before send accepts bytes: is the staging ring pinned (a UTLB hit,
 * no system call)? If the kernel dropped it, pin it again now: 0
 * (or -EAGAIN: its old pin is in flight, it follows), or the error
 * send returns with nothing accepted.
 */
int vs_tx_pinned(struct vs_sock *s)
{
	int err = vmmc_pin(&vs.ep, s->stg, VS_HDR + s->tx_ring);

	return err == -EAGAIN ? 0 : err;
}

/* Our counts and flags in @st, checked. */
static void vs_fill_state(struct vs_sock *s, struct vs_state *st)
{
	memset(st, 0, sizeof(*st));
	st->sent = s->tx_posted;
	st->consumed = s->rx_cons;
	if (s->shut_wr && s->tx_posted == s->tx_queued)
		st->fin = 1 + s->tx_posted;
	if (s->reset)
		st->flags = VS_F_RST;
	if (s->want_credit)
		st->flags |= VS_F_WANT;
	if (s->trail_grant)
		st->flags |= VS_F_TRAIL_OK;
	st->revoke = s->revoke;
	st->revoke_seen = s->peer_revoke;
	st->nonce = s->nonce;
	st->check = vs_check(st, s->nonce);
}

/* A state (word or trailer) is on its way: what it told the peer. */
static void vs_state_posted(struct vs_sock *s, const struct vs_state *st)
{
	s->state_dirty = false;
	s->rx_told = s->rx_cons;
	if (st->fin)
		s->fin_told = true;
	s->posts++;
}

/* Write our counts (and FIN, RST) into the peer's state word. */
void vs_post_state(struct vs_sock *s)
{
	struct vs_state *st;
	int slot, err;

	if (!s->have_peer_imp || s->peer_dead || !s->stg)
		return;
	for (slot = 0; slot < VS_STATE_SLOTS; slot++)
		if (!(s->state_busy & 1u << slot))
			break;
	if (slot == VS_STATE_SLOTS) {
		vs_dirty(s);	/* posted when a slot comes back */
		return;
	}
	st = (struct vs_state *)(s->stg + slot * VS_SLOT);
	vs_fill_state(s, st);
	err = vs_post(s, st, sizeof(*st), s->peer_imp, VS_OFF_STATE,
		      VMMC_SQF_NOTIFY, VS_UD(s->id, VS_K_STATE, slot));
	if (err) {
		vs_dirty(s);
		vs_post_failed(s, err);
		return;
	}
	s->state_busy |= 1u << slot;
	vs_state_posted(s, st);
	vs.st.state_sends++;
}

/*
 * Owed to the peer: a state, or bytes a full SQ did not take (a trailer
 * would announce them). Bytes TCP_CORK holds are not owed.
 */
static bool vs_owed(const struct vs_sock *s)
{
	return s->state_dirty ||
	       (!s->cork && s->tx_posted < s->tx_queued &&
		s->state == VS_ESTAB && !s->reset && !s->peer_dead);
}

static void vs_owe(struct vs_sock *s)
{
	if (!s->cork && s->tx_posted < s->tx_queued)
		vs_flush_tx(s);
	if (s->state_dirty)
		vs_post_state(s);
}

/*
 * The state word that announces what a call queued must leave before the
 * call returns: the program may not call the library again for a long
 * time (it sleeps elsewhere, in read() on a pipe, say), and nothing else
 * would post it. With all of the socket's state slots in flight (a burst
 * of small sends), take completions until one comes back: by polling the
 * CQ (no system call, no clock), then, if @may_block and the socket does
 * not busy-poll, by the endpoint's wait, for at most VS_STATE_WAIT_MS. A
 * state still not out then (the peer's link stalled) goes with the next
 * call into the library, or from the wait paths. A non-blocking caller
 * sleeps, if at all, in the library's poll or epoll, which the state
 * SEND's completion wakes.
 */
void vs_state_out(struct vs_sock *s, bool may_block)
{
	uint64_t deadline = 0;
	unsigned int i;

	for (i = 0; vs_owed(s) && i < VS_STATE_POLLS; i++) {
		vs_reap();
		vs_owe(s);
	}
	if (!may_block || s->busy_poll)
		return;
	while (vs_owed(s) && s->state == VS_ESTAB && !s->reset &&
	       !s->peer_dead && s->have_peer_imp && s->stg) {
		if (vs_block(NULL, &deadline, VS_STATE_WAIT_MS))
			return;		/* the time is up, or a signal */
		vs_reap();
		vs_owe(s);
	}
}

/*
 * May the data SEND of the @n staged bytes at @pos, the last of a flush
 * up to tx_queued, carry a trailer (sock_loc.h)? Only a small one whose
 * trailer neither wraps nor lands on ring bytes the peer has not taken
 * (credit), and whose staging bytes after it hold nothing queued.
 */
static bool vs_trailer_fits(const struct vs_sock *s, uint64_t pos, size_t n)
{
	uint32_t off = (uint32_t)(pos & (s->tx_ring - 1));
	uint64_t low = s->tx_done < s->tx_acked ? s->tx_done : s->tx_acked;

	return s->peer_grant && !s->state_dirty && n <= VS_TRAIL_MAX &&
	       pos + n == s->tx_queued &&
	       off + n + sizeof(struct vs_state) <= s->tx_ring &&
	       pos + n + sizeof(struct vs_state) - low <= s->tx_ring;
}

/*
 * Hand the staged bytes to the NIC, then say how far they go: a small
 * last SEND carries its trailer, else the state word follows. A corked
 * socket (TCP_CORK) hands over whole segments only (VS_CORK_SEG, or half
 * the ring if that is less, so that a full ring always has one) and
 * holds the rest until uncorked or shut for writing (close, shutdown).
 */
void vs_flush_tx(struct vs_sock *s)
{
	uint64_t pos, end = s->tx_queued;
	bool any = false, trail = false;
	struct vs_state *st = NULL;
	uint32_t off, seg;
	size_t n, len;
	int err;

	if (s->state != VS_ESTAB || s->reset)
		return;
	if (s->cork && !s->shut_wr) {
		seg = s->tx_ring / 2 < VS_CORK_SEG ? s->tx_ring / 2 : VS_CORK_SEG;
		end -= (end - s->tx_posted) % seg;
	}
	while (s->tx_posted < end) {
		pos = s->tx_posted;
		off = (uint32_t)(pos & (s->tx_ring - 1));
		n = end - pos;
		if (n > s->tx_ring - off)
			n = s->tx_ring - off;
		len = n;
		trail = vs_trailer_fits(s, pos, n);
		if (trail) {
			/* its counts say sent = pos + n (tx_posted, after) */
			s->tx_posted += n;
			st = (struct vs_state *)(s->stg + VS_HDR + off + n);
			vs_fill_state(s, st);
			s->tx_posted -= n;
			len += sizeof(*st);
		}
		err = vs_post(s, s->stg + VS_HDR + off, len, s->peer_imp,
			      VS_HDR + off, trail ? VMMC_SQF_NOTIFY : 0,
			      VS_UD(s->id, VS_K_DATA, pos + n));
		if (err) {
			/* SQ full: progress posts the rest; else reset */
			vs_post_failed(s, err);
			if (s->reset)
				return;
			trail = false;
			break;
		}
		s->tx_posted += n;
		vs.st.data_sends++;
		vs.st.tx_bytes += n;
		any = true;
	}
	if (trail) {
		vs_state_posted(s, st);
		s->trail_end = s->tx_posted;
		return;
	}
	if (any || (s->shut_wr && !s->fin_told &&
		    s->tx_posted == s->tx_queued)) {
		vs_post_state(s);
	} else if (s->trail_end && s->tx_queued > s->trail_end &&
		   s->tx_done < s->trail_end) {
		/*
		 * Bytes held (cork) were copied over the source of a trailer
		 * still in flight, which may have gone torn: the state word
		 * announces what it did.
		 */
		s->trail_end = 0;
		vs_post_state(s);
	}
}

/* ---- what the peer wrote ---- */

void vs_reset(struct vs_sock *s, int err, bool garbage)
{
	if (s->reset)
		return;
	s->reset = true;
	s->err = err;
	s->state = VS_CLOSED;
	s->rx_gen++;
	s->tx_gen++;
	vs.st.resets++;
	if (garbage) {
		vs.st.garbage++;
		vs_dirty(s);	/* tell the peer: RST */
	}
}

/*
 * Take a state of the peer's (read once into @st): its state word, or
 * (@trailer) a trailer at ring offset @trail_off after its data. One
 * that does not check is ignored (not written yet, being written,
 * overwritten); so is one whose counts are behind ours (stale: we
 * learnt more since).
 * Counts that break the protocol reset this connection. True if it
 * checked.
 */
static bool vs_take_state(struct vs_sock *s, const struct vs_state *st,
			  bool trailer, uint32_t trail_off)
{
	int32_t d;

	if (st->check != vs_check(st, s->nonce) || st->nonce != s->nonce)
		return false;
	/*
	 * Older than what we hold: the state word and the trailers reach
	 * us in no set order (a trailer's NQE is read after the state word
	 * written behind it, or the other way round).
	 */
	if (st->sent < s->rx_sent || st->consumed < s->tx_acked ||
	    (s->rx_fin && !st->fin))
		return true;
	/* a trailer sits where the bytes it announces end */
	if (trailer && (st->sent & (s->rx_ring - 1)) != trail_off)
		return false;
	/* pairs with the order of the peer's SENDs: data before state */
	vmmc_smp_mb();
	if (st->flags & VS_F_RST) {
		vs_reset(s, ECONNRESET, false);
		return true;
	}
	if (st->sent < s->rx_sent || st->sent - s->rx_cons > s->rx_ring ||
	    st->consumed < s->tx_acked || st->consumed > s->tx_posted ||
	    (s->rx_fin && st->fin != s->rx_fin) ||
	    (st->fin && st->fin - 1 != st->sent)) {
		vs_reset(s, ECONNRESET, true);
		return true;
	}
	if (st->sent != s->rx_sent) {
		s->rx_sent = st->sent;
		s->rx_gen++;
	}
	if (st->fin && !s->rx_fin) {
		s->rx_fin = st->fin;
		s->rx_gen++;
	}
	if (st->consumed != s->tx_acked) {
		s->tx_acked = st->consumed;
		s->tx_gen++;
	}
	/* the peer waits for credit we have not written yet: write it */
	s->peer_wants = st->flags & VS_F_WANT;
	if (s->peer_wants && s->rx_told != s->rx_cons)
		vs_dirty(s);
	/*
	 * Trail while the peer lets us; when it takes that back, say we saw
	 * it in a state word (which lands after our last trailer).
	 */
	d = (int32_t)(st->revoke - s->peer_revoke);
	if (d > 0) {
		s->peer_revoke = st->revoke;
		vs_dirty(s);
	}
	/* a grant older than the last revoke we saw (d < 0) is void */
	s->peer_grant = d >= 0 && (st->flags & VS_F_TRAIL_OK);
	if ((int32_t)((uint32_t)st->revoke_seen - s->revoke_echo) > 0)
		s->revoke_echo = (uint32_t)st->revoke_seen;
	return true;
}

/* Read the peer's state word and take what is new; no system call. */
void vs_update(struct vs_sock *s)
{
	struct vs_state st;

	/* the hello, and the state word that may have come behind it */
	if (s->state == VS_SYN_SENT && !s->hello_done)
		vs_take_hello(s);
	if (s->state != VS_ESTAB)
		return;
	memcpy(&st, s->rx + VS_OFF_STATE, sizeof(st));
	vs_take_state(s, &st, false, 0);
}

/*
 * A notifying SEND of the peer's landed in [@off, @off + @len) of our
 * region (the NIC says so: these numbers are not the peer's): if in the
 * ring, its last 64 bytes may be a trailer (sock_loc.h).
 */
static void vs_take_trailer(struct vs_sock *s, uint64_t off, uint32_t len)
{
	struct vs_state st;

	if (s->state == VS_SYN_SENT && !s->hello_done)
		vs_take_hello(s);	/* the data came behind it */
	if (s->state != VS_ESTAB || s->reset || off < VS_HDR ||
	    len < sizeof(st) || off + len > VS_HDR + (uint64_t)s->rx_ring)
		return;
	off += len - sizeof(st);
	memcpy(&st, s->rx + off, sizeof(st));
	vs_take_state(s, &st, true, (uint32_t)(off - VS_HDR));
}

/* Trailers in ring offsets [@a, @b), found by their nonce, in order. */
static void vs_scan_range(struct vs_sock *s, uint32_t a, uint32_t b)
{
	const size_t at = offsetof(struct vs_state, nonce);
	uint8_t *ring = s->rx + VS_HDR, *p;
	struct vs_state st;

	while (a + sizeof(st) <= b && s->state == VS_ESTAB) {
		p = memmem(ring + a + at, b - a - at, &s->nonce,
			   sizeof(s->nonce));
		if (!p)
			return;
		a = (uint32_t)(p - at - ring);
		if (a + sizeof(st) > b)
			return;
		memcpy(&st, ring + a, sizeof(st));
		vs_take_state(s, &st, true, a);
		a++;
	}
}

/*
 * Notifications were dropped: trailers among them were not read, and
 * the sender, asleep outside the library, may never write the state
 * word that would say what they did. Look for them in the ring where
 * the peer may have written since: from our sent to our credit's end.
 * A memory scan, run only after a drop.
 */
static void vs_scan_trailers(struct vs_sock *s)
{
	uint32_t mask = s->rx_ring - 1, a, b;
	uint64_t end = s->rx_cons + s->rx_ring;

	if (s->state != VS_ESTAB || s->reset || end == s->rx_sent)
		return;
	a = (uint32_t)(s->rx_sent & mask);
	b = (uint32_t)(end & mask);
	if (a < b) {
		vs_scan_range(s, a, b);
	} else {
		vs_scan_range(s, a, s->rx_ring);
		vs_scan_range(s, 0, b);
	}
}

/* ---- completions ---- */

static void vs_send_failed(struct vs_sock *s, uint32_t kind, uint32_t status)
{
	int err = status == VMMC_ST_NODE_DOWN ? ETIMEDOUT : ECONNRESET;

	if (kind == VS_K_REQ) {
		/* its acceptor gone: another of the group may take it */
		if (status != VMMC_ST_NODE_DOWN && vs_req_elsewhere(s))
			return;
		if (s->state == VS_SYN_SENT) {
			s->err = status == VMMC_ST_NODE_DOWN ? ETIMEDOUT :
							       ECONNREFUSED;
			s->state = VS_CLOSED;
			s->rx_gen++;
			s->tx_gen++;
		}
		return;
	}
	/*
	 * The peer's region is gone: it closed, or its process died. A
	 * credit or probe that finds it gone after the peer's FIN is no
	 * reset: the stream ended cleanly (as TCP's ACK of a FIN); data
	 * that finds it gone is (EPIPE, as TCP's RST).
	 */
	vs_update(s);	/* its FIN may be in our memory, not yet read */
	s->peer_dead = true;
	s->dead_status = kind << 8 | status;
	if (kind == VS_K_STATE && s->rx_fin)
		return;
	if (s->state == VS_ESTAB)
		vs_reset(s, err, false);
}

/* A REDIRECT's completion (sock_zc.c's receive): its record is final. */
static void vs_zc_reaped(uint64_t ud, uint32_t status)
{
	uint32_t slot = (uint32_t)ud & (VMMC_REDIR_SLOTS - 1);

	if (((ud >> 40) & 0xff) != VS_K_REDIR || !(vs.zc_busy & 1u << slot))
		return;
	vs.zc_done |= 1u << slot;
	vs.zc_status[slot] = status;
}

static void vs_reap(void)
{
	struct vmmc_cqe *c;
	struct vs_sock *s;
	uint64_t ud, end, imm;
	uint32_t status, kind, id;
	uint8_t op;

	while ((c = vmmc_peek_cqe(&vs.ep))) {
		ud = c->user_data;
		status = c->status;
		imm = c->imm;
		op = c->op;
		vmmc_cqe_seen(&vs.ep);
		vs.news++;
		if (op == VMMC_OP_REDIRECT)
			vs_zc_reaped(ud, status);
		if (op != VMMC_OP_SEND)
			continue;
		id = (uint32_t)(ud >> 48);
		kind = (uint32_t)(ud >> 40) & 0xff;
		s = id < (uint32_t)vs.ntab ? vs.tab[id] : NULL;
		if (!s || !s->inflight)
			continue;
		vs_mark(s);
		s->inflight--;
		vs.st.inflight--;
		if (kind == VS_K_STATE)
			s->state_busy &= ~(1u << (ud & 31));
		if (status != VMMC_ST_OK) {
			vs_send_failed(s, kind, status);
			continue;
		}
		s->acks++;	/* the peer's memory took it */
		/* a trailer's NQE was dropped: the state word says it */
		if (kind == VS_K_DATA && (imm & VMMC_SEND_NQ_DROPPED))
			vs_dirty(s);
		if (kind == VS_K_DATA) {
			end = s->tx_done + (((ud & MASK40) - s->tx_done) & MASK40);
			if (end > s->tx_done && end <= s->tx_posted) {
				s->tx_done = end;
				s->tx_gen++;
			}
		}
	}
}

/* ---- progress, timers, waiting ---- */

/* Every socket is to be looked at (news that names none was lost). */
static void vs_mark_all(void)
{
	int i;

	for (i = 0; i < vs.ntab; i++) {
		if (!vs.tab[i])
			continue;
		vs_scan_trailers(vs.tab[i]);
		vs_mark(vs.tab[i]);
	}
}

/*
 * Take the notifications: a request in a listener's slot is taken now;
 * a write into a connection's region (its state word, or the hello)
 * marks that socket. With notifications dropped, every socket.
 */
static void vs_notes(void)
{
	struct vmmc_nqe *n, e;
	struct vs_sock *s;
	uint32_t dropped;

	while ((n = vmmc_peek_nqe(&vs.ep))) {
		e = *n;
		vmmc_nqe_seen(&vs.ep);
		vs.news++;
		if (e.type != VMMC_NQE_DATA || e.export_id >= VMMC_MAX_EXPORTS)
			continue;
		s = vs.byexp[e.export_id];
		if (!s)
			continue;
		if (s->lbuf && e.export_id == s->lexp) {
			vs_take_req(s, e.offset, e.src_node);
			if (s->nregs)
				vs_epoll_note(s);
			continue;
		}
		vs_take_trailer(s, e.offset, e.len);
		vs_mark(s);
	}
	dropped = vmmc_nq_dropped(&vs.ep);
	if (dropped != vs.nq_dropped) {
		vs.nq_dropped = dropped;
		vs_mark_all();
	}
}

/* A receive that could not redirect: the peer may trail (sock_loc.h). */
void vs_trail_grant(struct vs_sock *s)
{
	s->trail_grant = true;	/* goes with our next state */
}

/*
 * Before a redirect: no trailer may land on it. True when none can (the
 * peer said it saw our latest revoke); else take the grant back now.
 */
bool vs_trail_revoke(struct vs_sock *s)
{
	if (s->trail_grant) {
		s->trail_grant = false;
		s->revoke++;
		vs_post_state(s);
	}
	return s->revoke_echo == s->revoke;
}

/* One ready socket: its peer's words, what it owes, its end. */
static void vs_step(struct vs_sock *s)
{
	vs.steps++;
	vs_update(s);

	if (s->state == VS_ESTAB && s->tx_posted < s->tx_queued)
		vs_flush_tx(s);
	if (s->state_dirty)
		vs_post_state(s);
	vs_defer_check(s, 0);	/* data for a deferred accept */
	if (!s->tm_pos && vs_timer_need(s))
		vs_timer_at(s, 0);	/* established, say: probes from now */
	if (s->nregs)
		vs_epoll_note(s);	/* its readiness may have changed */
	if (s->inflight)
		return;		/* its completions mark it again */
	if (s->hello_done && s->have_l_imp) {	/* the request's SEND is done */
		vmmc_unimport(&vs.ep, s->l_imp);
		s->have_l_imp = false;
	}
	if (s->state == VS_REFUSING || (s->zombie && !s->state_dirty)) {
		vs_teardown(s);
		vs_sock_free(s);
	}
}

void vs_progress(void)
{
	int i, words, id;
	uint64_t w;

	if (!vs.open)
		return;
	VS_PROF_BEGIN(t);
	vs_reap();
	vs_notes();
	words = VS_READY_WORDS(vs.ntab);
	for (i = 0; i < words && vs.open; i++) {
		/* marks made meanwhile in this word wait for the next call */
		w = vs.ready[i];
		vs.ready[i] = 0;
		while (w) {
			id = i * 64 + __builtin_ctzll(w);
			w &= w - 1;
			if (id < vs.ntab && vs.tab[id])
				vs_step(vs.tab[id]);
		}
	}
	VS_PROF_END(VS_P_PROG, t);
}

uint64_t vs_news(void)
{
	return vs.news;
}

/* The NIC's news, and @s's own: its peer's words read in any case. */
void vs_poke(struct vs_sock *s)
{
	vs_update(s);
	vs_progress();
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
 * How the stack's waits wait, from VMMC_SOCK_WAIT, read at each open of
 * the endpoint: "block" blocks at once, "poll" never blocks, a number N
 * (1 .. 100000) spins N us before it blocks (competitive with that fixed
 * limit); unset or anything else, the endpoint's default (competitive,
 * the limit following what blocking costs). A stream's waits are for
 * its peer, whose guest and NIC may share the host's CPUs with ours: a
 * spin then holds a CPU the awaited event needs, a cost the competitive
 * rule does not count (docs/performance.md, "Waiting for the peer").
 */
void vs_wait_policy(void)
{
	const char *e = getenv("VMMC_SOCK_WAIT");
	unsigned long us;
	char *end;

	if (!e || !*e)
		return;
	if (!strcmp(e, "block")) {
		vmmc_set_wait_policy(&vs.ep, VMMC_WAIT_BLOCK, 0);
	} else if (!strcmp(e, "poll")) {
		vmmc_set_wait_policy(&vs.ep, VMMC_WAIT_POLL, 0);
	} else {
		us = strtoul(e, &end, 10);
		if (!*end && us >= 1 && us <= 100000)
			vmmc_set_wait_policy(&vs.ep, VMMC_WAIT_COMPETITIVE,
					     (uint32_t)us * 1000);
	}
}

/*
 * Block until the NIC has news for us, at most until @deadline_ns (0:
 * none) and at most one probe interval: 0 (look again), -ETIMEDOUT (the
 * deadline passed) or -EINTR.
 */
static int vs_wait(uint64_t deadline_ns)
{
	uint64_t now = vs_now_ns(), ms = VMMC_SOCK_PROBE_MS;
	int err;

	if (deadline_ns) {
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		if ((deadline_ns - now) / NS_PER_MS + 1 < ms)
			ms = (deadline_ns - now) / NS_PER_MS + 1;
	}
	if (!vs.open) {
		usleep((useconds_t)(ms * 1000));
		return 0;
	}
	vs.st.waits++;
	VS_PROF_BEGIN(t);
	err = vmmc_ep_wait(&vs.ep, (uint32_t)ms);
	VS_PROF_END(VS_P_KWAIT, t);
	return err == -ETIMEDOUT ? 0 : err;
}

/*
 * VMMC_SO_BUSY_POLL: the caller's loop polls again at once, with no
 * system call. Every VS_BUSY_TICK polls, a liveness probe as the timers
 * send one (a state word, if nothing was posted since the last tick: a
 * dead peer's revoked export or down node then fails it and resets the
 * connection); no clock for that. A time-out (SO_RCVTIMEO/SO_SNDTIMEO)
 * reads the clock (vDSO) at the start and at each tick, so it is kept
 * to within a tick. A signal does not end the spin (no system call sees
 * it).
 */
#define VS_BUSY_TICK	(1u << 16)

static int vs_busy_block(struct vs_sock *s, uint64_t *deadline,
			 uint64_t timeo_ms)
{
	if (timeo_ms && !*deadline)
		*deadline = vs_now_ns() + timeo_ms * NS_PER_MS;
	if (++s->busy_polls < VS_BUSY_TICK)
		return 0;
	s->busy_polls = 0;
	if (s->state == VS_ESTAB && !s->reset && !s->peer_dead) {
		if (s->posts == s->probe_mark) {
			vs_post_state(s);
			vs.st.probes++;
		}
		s->probe_mark = s->posts;
	}
	if (*deadline && vs_now_ns() >= *deadline)
		return -ETIMEDOUT;
	return 0;
}

/*
 * The stack's one wait for the NIC: block in the endpoint's wait until
 * news comes, at most until *@deadline (set from @timeo_ms, 0: none, at
 * the first call of a loop) and one probe interval, then run the timers;
 * or, for a socket @s with VMMC_SO_BUSY_POLL, one poll (vs_busy_block()).
 * 0 (look again), -ETIMEDOUT or -EINTR. Only vmmc_sock_poll() and
 * vmmc_sock_epoll_wait() wait elsewhere: in poll(2) or epoll_wait(2),
 * which also watch the caller's kernel fds (and the endpoint's fd).
 */
int vs_block(struct vs_sock *s, uint64_t *deadline, uint64_t timeo_ms)
{
	int err;

	if (s && s->busy_poll)
		return vs_busy_block(s, deadline, timeo_ms);
	if (!*deadline)
		*deadline = timeo_ms ? vs_now_ns() + timeo_ms * NS_PER_MS : 0;
	err = vs_wait(*deadline);
	if (!err)
		vs_timers();
	return err;
}

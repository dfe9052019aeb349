// SPDX-License-Identifier: MIT
/*
 * sock_timer.c - the sockets' timers: connect retries and time-outs,
 * liveness probes of idle connections, TCP_CORK's ceiling, lingering
 * closes (part of the engine: sock_loc.h).
 *
 * Each socket with a timer sits once in a binary min-heap by the time it
 * is next to be looked at (tm_ns). vs_timers() runs after a wait only
 * (vs_block(), poll, epoll), at most once per VS_TIMER_MS, and takes the
 * sockets that are due, nothing else: its cost follows the timers that
 * fire, not the number of sockets (an idle connection is looked at once
 * per probe interval). An entry may come early (its deadline moved
 * later since it went in: the socket finds nothing due and goes back),
 * never late: whatever makes a timer due sooner calls vs_timer_at()
 * (connect, release, TCP_CORK), and vs_step() puts back any socket that
 * needs a timer and has none (vs_timer_need()).
 */
#include <errno.h>

#include "sock_loc.h"

#define NS_PER_MS	1000000ULL

/* heap[i - 1] holds the socket whose tm_pos is i (0: not in the heap) */
static void vs_heap_put(uint32_t i, struct vs_sock *s)
{
	vs.heap[i - 1] = s;
	s->tm_pos = i;
}

static void vs_heap_up(uint32_t i)
{
	struct vs_sock *s = vs.heap[i - 1];

	while (i > 1 && vs.heap[i / 2 - 1]->tm_ns > s->tm_ns) {
		vs_heap_put(i, vs.heap[i / 2 - 1]);
		i /= 2;
	}
	vs_heap_put(i, s);
}

static void vs_heap_down(uint32_t i)
{
	struct vs_sock *s = vs.heap[i - 1];
	uint32_t c;

	for (;;) {
		c = 2 * i;
		if (c > vs.nheap)
			break;
		if (c < vs.nheap && vs.heap[c]->tm_ns < vs.heap[c - 1]->tm_ns)
			c++;
		if (vs.heap[c - 1]->tm_ns >= s->tm_ns)
			break;
		vs_heap_put(i, vs.heap[c - 1]);
		i = c;
	}
	vs_heap_put(i, s);
}

/*
 * @s is to be looked at by vs_timers() at @when (ns, vs_now_ns(); 0: at
 * the next run) at the latest. The heap has a place for every socket
 * (vs_tab_grow()).
 */
void vs_timer_at(struct vs_sock *s, uint64_t when)
{
	if (!s->tm_pos) {
		s->tm_ns = when;
		vs.heap[vs.nheap] = s;
		s->tm_pos = ++vs.nheap;
		vs_heap_up(s->tm_pos);
	} else if (when < s->tm_ns) {
		s->tm_ns = when;
		vs_heap_up(s->tm_pos);
	}
}

/* Out of the heap (the socket is freed, or has no timer any more). */
void vs_timer_del(struct vs_sock *s)
{
	uint32_t i = s->tm_pos;
	struct vs_sock *last;

	if (!i)
		return;
	s->tm_pos = 0;
	last = vs.heap[--vs.nheap];
	if (last == s)
		return;
	vs_heap_put(i, last);
	vs_heap_up(i);
	vs_heap_down(last->tm_pos);
}

/* Does @s need a timer (a connect, a linger, an established stream)? */
bool vs_timer_need(const struct vs_sock *s)
{
	return s->lingering || s->state == VS_ESTAB ||
	       (s->state == VS_SYN_SENT && !s->hello_done);
}

/*
 * TCP_CORK's ceiling: a tail held (vs_flush_tx()) at one look goes at
 * the first look VS_CORK_MS later, as the kernel's corked tail does.
 */
static void vs_cork_timer(struct vs_sock *s, uint64_t now)
{
	if (!s->cork || s->tx_posted == s->tx_queued || s->reset) {
		s->cork_ns = 0;
	} else if (!s->cork_ns) {
		s->cork_ns = now + VS_CORK_MS * NS_PER_MS;
	} else if (now >= s->cork_ns) {
		s->cork = false;
		vs_flush_tx(s);
		s->cork = !s->more;	/* a MSG_MORE send's ends here */
		s->more = false;
		s->cork_ns = 0;
	}
}

/*
 * TCP_DEFER_ACCEPT: backlog entry @c of a deferring listener becomes
 * acceptable once its peer sent data or closed, or (@now, 0: not known)
 * the listener's seconds passed since the timers first saw it; the
 * listener is then readable (its epoll interest noted).
 */
void vs_defer_check(struct vs_sock *c, uint64_t now)
{
	struct vs_sock *l = c->parent;

	if (!l || c->defer_done)
		return;
	if (!l->kn.defer_s) {	/* its arrival made the listener readable */
		c->defer_done = true;
		return;
	}
	if (now && !c->born_ns)
		c->born_ns = now;
	if (c->state == VS_ESTAB && !vs_rx_avail(c) &&
	    !vs_rx_eof(c) && (!now || now - c->born_ns <
			      (uint64_t)l->kn.defer_s * 1000 * NS_PER_MS))
		return;
	c->defer_done = true;
	l->rx_gen++;
	vs_epoll_note(l);
}

/* The first backlog entry of @l that accept may take, or -1. */
int vs_backlog_ready(struct vs_sock *l)
{
	int i;

	for (i = 0; i < l->nbacklog; i++) {
		vs_defer_check(l->backlog[i], 0);
		if (l->backlog[i]->defer_done)
			return i;
	}
	return -1;
}

/*
 * Keepalive and TCP_USER_TIMEOUT: is the peer still there? A look finds
 * it there when nothing of ours is in flight, or since the last look a
 * SEND of ours completed (the peer's memory took it: its NIC, not its
 * process, answers, as a kernel's TCP acks for a stopped process) or
 * the peer wrote to us. An idle connection's probes (below) keep a SEND
 * in flight now and then; so a peer whose node or link went silent
 * (its NIC stopped, the fabric between cut) shows as SENDs that never
 * complete, while a peer process that died or closed is told by its
 * NIC at once (the probe fails: ECONNRESET, vs_send_failed()). Silent
 * for TCP_USER_TIMEOUT when set (data or probes unanswered), else, with
 * SO_KEEPALIVE, for TCP_KEEPIDLE + TCP_KEEPINTVL * TCP_KEEPCNT: the
 * connection ends with ETIMEDOUT, as the kernel's. Without either, a
 * silent peer is waited for (the fabric declares a node gone after its
 * dead-peer time: ETIMEDOUT then).
 */
static void vs_live(struct vs_sock *s, uint64_t now)
{
	uint64_t lim;

	if (!s->inflight || s->acks != s->live_acks ||
	    s->rx_sent != s->live_rx || !s->live_ns) {
		s->live_acks = s->acks;
		s->live_rx = s->rx_sent;
		s->live_ns = now;
		return;
	}
	if (s->kn.user_to_ms)
		lim = s->kn.user_to_ms * NS_PER_MS;
	else if (s->kn.ka_on)
		lim = (s->kn.ka_idle_s + (uint64_t)s->kn.ka_intvl_s *
		       s->kn.ka_cnt) * 1000 * NS_PER_MS;
	else
		return;
	if (now - s->live_ns < lim || s->reset)
		return;
	vs_reset(s, ETIMEDOUT, false);
	vs_epoll_note(s);
}

/*
 * One look at a socket whose time came: true when it was freed (a
 * linger that ended).
 */
static bool vs_timer_fire(struct vs_sock *s, uint64_t now)
{
	if (s->lingering) {	/* its releaser may never look again */
		if (now >= s->linger_ns || vs_close_done(s)) {
			bool gone = !s->inflight;	/* else a zombie */

			vs_close_end(s);
			return gone;
		}
		return false;
	}
	if (s->state == VS_SYN_SENT && !s->hello_done) {
		if (now >= s->deadline_ns) {
			s->err = ETIMEDOUT;
			s->state = VS_CLOSED;
			s->rx_gen++;
			s->tx_gen++;
			vs_epoll_note(s);
		} else if (now >= s->retry_ns && !s->inflight) {
			vs_post_req(s);
			s->retry_ns = now + VS_RETRY_MS * NS_PER_MS;
		}
		return false;
	}
	if (s->state != VS_ESTAB)
		return false;
	vs_defer_check(s, now);
	vs_cork_timer(s, now);
	vs_live(s, now);
	if (s->state != VS_ESTAB || now < s->probe_ns)
		return false;
	/* nothing posted for a while: is the peer still there? */
	if (s->posts == s->probe_mark) {
		vs_post_state(s);
		vs.st.probes++;
	}
	s->probe_mark = s->posts;
	s->probe_ns = now + vs_probe_ns();
	return false;
}

/* When @s is next to be looked at, or 0: it has no timer. */
static uint64_t vs_timer_next(const struct vs_sock *s, uint64_t now)
{
	uint64_t soon = now + VS_TIMER_MS * NS_PER_MS, t;

	/* a linger ends when its data is out too: look at every run */
	if (s->lingering)
		return s->linger_ns < soon ? s->linger_ns : soon;
	if (s->state == VS_SYN_SENT && !s->hello_done) {
		t = s->retry_ns > now ? s->retry_ns : soon;
		return s->deadline_ns < t ? s->deadline_ns : t;
	}
	if (s->state != VS_ESTAB)
		return 0;
	/* a corked socket (few are) is looked at every run, as it sends */
	return s->cork && s->probe_ns > soon ? soon : s->probe_ns;
}

void vs_timers(void)
{
	uint64_t now, next;
	struct vs_sock *s;

	if (!vs.open)
		return;
	now = vs_now_ns();
	if (now - vs.timers_ns < VS_TIMER_MS * NS_PER_MS)
		return;
	vs.timers_ns = now;
	while (vs.nheap && vs.heap[0]->tm_ns <= now) {
		s = vs.heap[0];
		vs_timer_del(s);
		vs.timer_visits++;
		if (vs_timer_fire(s, now))
			continue;	/* freed */
		next = vs_timer_next(s, now);
		if (next)
			vs_timer_at(s, next > now ? next : now + 1);
	}
}

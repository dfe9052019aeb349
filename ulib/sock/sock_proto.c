// SPDX-License-Identifier: MIT
/*
 * sock_proto.c - the stream sockets' protocol (wire formats in sock_loc.h):
 * the per-process stack and its endpoint, the memory of a connection,
 * posting data and state, taking completions and notifications,
 * checking what the peer wrote (set-up itself is in sock_conn.c), the
 * timers of the wait paths (connect retries and time-outs, liveness
 * probes) and the blocking wait.
 *
 * No system call on the steady path: vs_progress(), vs_update(),
 * vs_flush_tx() and vs_post_state() only touch mapped rings and memory
 * (vmmc_send() hits the UTLB: every source is pinned at set-up). The
 * clock is read only by vs_timers() and vs_wait(), which the callers
 * use only when they are about to block anyway.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sock_loc.h"
#include "../core/utlb.h"

struct vs_stack vs;

#define MASK40		((1ULL << 40) - 1)
#define NS_PER_MS	1000000ULL

uint64_t vs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t vs_rand(void)
{
	uint64_t x = vs.rnd;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	vs.rnd = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A check word over the first 56 bytes of a 64-byte record. */
uint64_t vs_check(const void *p, uint64_t nonce)
{
	const uint8_t *b = p;
	uint64_t h = nonce ^ 0x736f636b766d6d63ULL, w;
	int i;

	for (i = 0; i < 7; i++) {
		memcpy(&w, b + 8 * i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h | 1;	/* never 0: zeroed memory never checks */
}

/*
 * A socket's memory (rings, control and state pages, a listener's slots)
 * takes whole UTLB granules of its own: @len rounded up to
 * VMMC_UTLB_GRANULE, at an address aligned to it. The UTLB pins SEND
 * sources rounded out to that granule, and the kernel drops a whole pin
 * when any page of it is unmapped: with a neighbour sharing a granule,
 * the teardown of one socket (munmap) untranslated the pin another
 * socket's SEND was in flight on (BAD_SLOT: its peer taken for dead, the
 * last bytes never announced; the LD_PRELOAD shim's thread test hung on
 * it about once in 50 runs under load). vs_unmap() gives it all back.
 */
static size_t vs_map_len(size_t len)
{
	return (len + VMMC_UTLB_GRANULE - 1) & ~(size_t)(VMMC_UTLB_GRANULE - 1);
}

static void *vs_map(size_t len)
{
	size_t full = vs_map_len(len), g = VMMC_UTLB_GRANULE;
	uintptr_t p, a;
	void *m;

	m = mmap(NULL, full + g, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	p = (uintptr_t)m;
	a = (p + g - 1) & ~(uintptr_t)(g - 1);
	if (a > p)
		munmap(m, a - p);
	if (p + full + g > a + full)
		munmap((void *)(a + full), p + full + g - (a + full));
	return (void *)a;
}

static void vs_unmap(void *p, size_t len)
{
	munmap(p, vs_map_len(len));
}

/* ---- the stack ---- */

static int vs_live;	/* sockets in the table, zombies included */
static bool vs_atfork_done;

/*
 * A child of fork() must not post on its parent's endpoint: it forgets
 * the inherited sockets (closing its copies of their fds and memory) and
 * opens its own endpoint when it makes a socket. Sockets are not shared
 * across fork (the LD_PRELOAD shim will say what it does about that).
 */
static void vs_atfork_child(void)
{
	struct vs_sock *s;
	int i;

	if (!vs.open)
		return;
	for (i = 0; i < vs.ntab; i++) {
		s = vs.tab[i];
		if (!s)
			continue;
		if (s->fd >= 0)
			close(s->fd);
		if (s->rx)
			vs_unmap(s->rx, s->rx_map);
		if (s->tx)
			vs_unmap(s->tx, VS_HDR);
		if (s->stg)
			vs_unmap(s->stg, VS_HDR + s->tx_ring);
		if (s->lbuf)
			vs_unmap(s->lbuf, VS_LISTEN_SLOTS * VS_SLOT);
		free(s->zc_pend);
		free(s);
	}
	free(vs.tab);
	free(vs.byfd);
	vmmc_ep_close(&vs.ep);
	vs_live = 0;
	vs.tab = NULL;
	vs.byfd = NULL;
	vs.ntab = vs.nbyfd = 0;
	vs.open = false;
	memset(vs.byexp, 0, sizeof(vs.byexp));
	memset(&vs.st, 0, sizeof(vs.st));
	vs.zc_busy = vs.zc_done = 0;
	vs.zc_nopin_next = 0;
	memset(vs.zc_nopin, 0, sizeof(vs.zc_nopin));
	vs_epoll_forget_all();
}

/*
 * The zero-copy pin budget (vmmc_sock(7)): receive buffers pinned for
 * zero-copy receive stay pinned (a UTLB hit the next time), at most
 * VMMC_UTLB_ZC_RANGES of them and VMMC_SOCK_ZC_PIN_MAX bytes (default
 * the smaller of a quarter of the UTLB, 8 MiB, and, unless the process
 * may lock memory beyond it (CAP_IPC_LOCK), a quarter of RLIMIT_MEMLOCK:
 * the rest is for the connections' rings). 0: no zero-copy receive.
 */
static bool vs_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_IPC_LOCK / 32].effective & 1u << (CAP_IPC_LOCK % 32);
}

static void vs_zc_budget(void)
{
	const char *e = getenv("VMMC_SOCK_ZC_PIN_MAX");
	uint64_t pages = VMMC_UTLB_ZC_PAGES, v;
	struct rlimit rl;
	char *end;

	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 / VMMC_PAGE_SIZE < pages && !vs_cap_ipc_lock())
		pages = rl.rlim_cur / 4 / VMMC_PAGE_SIZE;
	if (e && *e) {
		v = strtoull(e, &end, 0);
		if (!*end)
			pages = v / VMMC_PAGE_SIZE < VMMC_UTLB_SLOTS ?
				v / VMMC_PAGE_SIZE : VMMC_UTLB_SLOTS;
	}
	vmmc_utlb_set_zc_budget(vs.ep.utlb, pages ? VMMC_UTLB_ZC_RANGES : 0,
				(uint32_t)pages);
}

int vs_stack_get(void)
{
	uint64_t seed = 0;
	int err;

	if (vs.open)
		return 0;
	if (!vs_atfork_done) {
		err = pthread_atfork(NULL, NULL, vs_atfork_child);
		if (err)
			return -err;
		vs_atfork_done = true;
	}
	err = vmmc_ep_open(&vs.ep, getenv("VMMC_SOCK_DEV"));
	if (err)
		return err;
	vs.open = true;
	vs.ep_gen++;
	vs_zc_budget();
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = vs_now_ns() ^ (uint64_t)getpid() << 32;
	vs.rnd = seed | 1;
	if (!vs.next_port)
		vs.next_port = VMMC_PORT_EPHEMERAL_MIN + (uint32_t)(vs_rand() %
			(VMMC_PORT_EPHEMERAL_MAX - VMMC_PORT_EPHEMERAL_MIN + 1));
	return 0;
}

/* The last socket is gone: close the endpoint (nothing left pinned). */
void vs_stack_put(void)
{
	if (vs_live || !vs.open)
		return;
	vmmc_ep_close(&vs.ep);
	vs.open = false;
	memset(vs.byexp, 0, sizeof(vs.byexp));
	/* the endpoint's pins are gone: so is what we learnt of them */
	vs.zc_nopin_next = 0;
	memset(vs.zc_nopin, 0, sizeof(vs.zc_nopin));
}

struct vs_sock *vs_sock_new(void)
{
	struct vs_sock *s, **t;
	int id, n;

	if (vs_stack_get())
		return NULL;
	for (id = 0; id < vs.ntab && vs.tab[id]; id++)
		;
	if (id == vs.ntab) {
		n = vs.ntab ? vs.ntab * 2 : 16;
		if (n > 0xffff)
			return NULL;
		t = realloc(vs.tab, (size_t)n * sizeof(*t));
		if (!t)
			return NULL;
		memset(t + vs.ntab, 0, (size_t)(n - vs.ntab) * sizeof(*t));
		vs.tab = t;
		vs.ntab = n;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	s->fd = -1;
	s->node = vs.ep.info.node_id;
	s->rcvbuf = VMMC_SOCK_RCVBUF_DEF;
	s->sndbuf = VMMC_SOCK_RCVBUF_DEF;
	vs_opts_init(s);
	vs.tab[id] = s;
	vs_live++;
	return s;
}

void vs_sock_free(struct vs_sock *s)
{
	vs.tab[s->id] = NULL;
	free(s->zc_pend);
	free(s);
	vs_live--;
	vs_stack_put();
}

/* ---- memory of a socket ---- */

int vs_export_listen(struct vs_sock *s, uint32_t port)
{
	size_t len = VS_LISTEN_SLOTS * VS_SLOT;
	int err;

	s->lbuf = vs_map(len);
	if (!s->lbuf)
		return -ENOMEM;
	err = vmmc_export(&vs.ep, s->lbuf, len, VS_NAME_LISTEN | port, ~0ULL,
			  &s->lexp);
	if (err) {
		vs_unmap(s->lbuf, len);
		s->lbuf = NULL;
		return err == -EEXIST ? -EADDRINUSE : err;
	}
	vs.byexp[s->lexp] = s;
	s->port = port;
	s->bound = true;
	vs.st.listeners++;
	return 0;
}

/* The control page: sources of states, request or hello; pinned. */
static int vs_ctl_alloc(struct vs_sock *s)
{
	int err;

	s->tx = vs_map(VS_HDR);
	if (!s->tx)
		return -ENOMEM;
	err = __vmmc_pin_locked(&vs.ep, s->tx, VS_HDR);
	if (err) {
		vs_unmap(s->tx, VS_HDR);
		s->tx = NULL;
	}
	return err;
}

/* Our receive region, exported to @node only. */
int vs_conn_alloc(struct vs_sock *s, uint32_t node)
{
	int err, tries;

	if (!s->tx) {
		err = vs_ctl_alloc(s);
		if (err)
			return err;
	}
	err = -EEXIST;
	s->rx_ring = s->rcvbuf;
	s->rx_map = VS_HDR + s->rx_ring;
	s->rx = vs_map(s->rx_map);
	if (!s->rx)
		return -ENOMEM;
	/* the secret of the region: the name may be guessed, not the key */
	s->rx_key = 0;
	while (!s->rx_key) {
		ssize_t r = getrandom(&s->rx_key, sizeof(s->rx_key), 0);

		if (r < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (r != (ssize_t)sizeof(s->rx_key))
			s->rx_key = 0;
	}
	for (tries = 0; tries < 16 && err == -EEXIST; tries++) {
		s->rx_name = VS_NAME_CONN | (uint32_t)(vs_rand() & 0xffffff);
		err = vmmc_export_key(&vs.ep, s->rx, s->rx_map, s->rx_name,
				      node < VMMC_MAX_NODES ? 1ULL << node : 0,
				      s->rx_key, &s->rx_exp);
		/* RLIMIT_MEMLOCK: a connection before zero-copy pins */
		if (err == -ENOMEM && vmmc_utlb_drop_zc(vs.ep.utlb))
			err = -EEXIST;
	}
	if (err) {
		vs_unmap(s->rx, s->rx_map);
		s->rx = NULL;
		return err;
	}
	s->have_rx_exp = true;
	vs.byexp[s->rx_exp] = s;
	vs.st.conns++;
	return 0;
}

/*
 * The staging ring, as big as the peer's receive ring (a peer's word),
 * after a page that holds the sources of our state words: one mapping,
 * pinned as one UTLB range. So when the kernel drops the range's
 * translations (the process unmaps it, or exits: its memory goes before
 * its endpoint is fenced), it drops the state page's (the first) before
 * any staging page's, and no state SEND that follows a failed data SEND
 * can land: a peer never announces bytes that did not arrive.
 */
int vs_tx_alloc(struct vs_sock *s, uint32_t ring)
{
	if (ring < VMMC_SOCK_RCVBUF_MIN || ring > VMMC_SOCK_RCVBUF_MAX ||
	    (ring & (ring - 1)))
		return -EPROTO;
	s->stg = vs_map(VS_HDR + ring);
	if (!s->stg)
		return -ENOMEM;
	s->tx_ring = ring;
	return __vmmc_pin_locked(&vs.ep, s->stg, VS_HDR + ring);
}

/* Give back the connection's memory; nothing may be in flight. */
void vs_teardown_conn(struct vs_sock *s)
{
	if (s->have_peer_imp)
		vmmc_unimport(&vs.ep, s->peer_imp);
	if (s->have_l_imp)
		vmmc_unimport(&vs.ep, s->l_imp);
	s->have_peer_imp = s->have_l_imp = false;
	if (s->have_rx_exp) {
		vmmc_unexport(&vs.ep, s->rx_exp);
		vs.byexp[s->rx_exp] = NULL;
		s->have_rx_exp = false;
		vs.st.conns--;
	}
	if (s->rx)
		vs_unmap(s->rx, s->rx_map);
	/* unpinned first: an unmap of pinned memory flushes the UTLB */
	if (s->tx) {
		__vmmc_unpin_locked(&vs.ep, s->tx);
		vs_unmap(s->tx, VS_HDR);
	}
	if (s->stg) {
		__vmmc_unpin_locked(&vs.ep, s->stg);
		vs_unmap(s->stg, VS_HDR + s->tx_ring);
	}
	s->rx = s->tx = s->stg = NULL;
	s->tx_ring = 0;
}

/* Give back everything the socket holds; nothing may be in flight. */
void vs_teardown(struct vs_sock *s)
{
	vs_teardown_conn(s);
	if (s->lbuf) {
		vmmc_unexport(&vs.ep, s->lexp);
		vs.byexp[s->lexp] = NULL;
		vs_unmap(s->lbuf, VS_LISTEN_SLOTS * VS_SLOT);
		s->lbuf = NULL;
		vs.st.listeners--;
	}
}

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
		s->state_dirty = true;	/* posted when a slot comes back */
		return;
	}
	st = (struct vs_state *)(s->stg + slot * VS_SLOT);
	memset(st, 0, sizeof(*st));
	st->sent = s->tx_posted;
	st->consumed = s->rx_cons;
	if (s->shut_wr && s->tx_posted == s->tx_queued)
		st->fin = 1 + s->tx_posted;
	if (s->reset)
		st->flags = VS_F_RST;
	if (s->want_credit)
		st->flags |= VS_F_WANT;
	st->nonce = s->nonce;
	st->check = vs_check(st, s->nonce);
	err = vs_post(s, st, sizeof(*st), s->peer_imp, VS_OFF_STATE,
		      VMMC_SQF_NOTIFY, VS_UD(s->id, VS_K_STATE, slot));
	if (err) {
		s->state_dirty = true;
		vs_post_failed(s, err);
		return;
	}
	s->state_busy |= 1u << slot;
	s->state_dirty = false;
	s->rx_told = s->rx_cons;
	if (st->fin)
		s->fin_told = true;
	s->posts++;
	vs.st.state_sends++;
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

	for (i = 0; s->state_dirty && i < VS_STATE_POLLS; i++) {
		vs_reap();
		vs_post_state(s);
	}
	if (!may_block || s->busy_poll)
		return;
	while (s->state_dirty && s->state == VS_ESTAB && !s->reset &&
	       !s->peer_dead && s->have_peer_imp && s->stg) {
		if (!deadline)
			deadline = vs_now_ns() + VS_STATE_WAIT_MS * NS_PER_MS;
		if (vs_wait(deadline))
			return;		/* the time is up, or a signal */
		vs_reap();
		vs_post_state(s);
	}
}

/* Hand the staged bytes to the NIC, then say how far they go. */
void vs_flush_tx(struct vs_sock *s)
{
	bool any = false;
	uint64_t pos;
	uint32_t off;
	size_t n;
	int err;

	if (s->state != VS_ESTAB || s->reset)
		return;
	while (s->tx_posted < s->tx_queued) {
		pos = s->tx_posted;
		off = (uint32_t)(pos & (s->tx_ring - 1));
		n = s->tx_queued - pos;
		if (n > s->tx_ring - off)
			n = s->tx_ring - off;
		err = vs_post(s, s->stg + VS_HDR + off, n, s->peer_imp,
			      VS_HDR + off, 0, VS_UD(s->id, VS_K_DATA, pos + n));
		if (err) {
			/* SQ full: progress posts the rest; else reset */
			vs_post_failed(s, err);
			if (s->reset)
				return;
			break;
		}
		s->tx_posted += n;
		vs.st.data_sends++;
		vs.st.tx_bytes += n;
		any = true;
	}
	if (any || (s->shut_wr && !s->fin_told &&
		    s->tx_posted == s->tx_queued))
		vs_post_state(s);
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
		s->state_dirty = true;	/* tell the peer: RST */
	}
}

/* Read the peer's state word and take what is new; no system call. */
void vs_update(struct vs_sock *s)
{
	struct vs_state st;

	if (s->state == VS_SYN_SENT && !s->hello_done) {
		vs_take_hello(s);
		return;
	}
	if (s->state != VS_ESTAB)
		return;
	memcpy(&st, s->rx + VS_OFF_STATE, sizeof(st));
	if (st.check != vs_check(&st, s->nonce) || st.nonce != s->nonce)
		return;		/* not written yet, or being written */
	/* pairs with the order of the peer's SENDs: data before state */
	vmmc_smp_mb();
	if (st.flags & VS_F_RST) {
		vs_reset(s, ECONNRESET, false);
		return;
	}
	if (st.sent < s->rx_sent || st.sent - s->rx_cons > s->rx_ring ||
	    st.consumed < s->tx_acked || st.consumed > s->tx_posted ||
	    (s->rx_fin && st.fin != s->rx_fin) ||
	    (st.fin && st.fin - 1 != st.sent)) {
		vs_reset(s, ECONNRESET, true);
		return;
	}
	if (st.sent != s->rx_sent) {
		s->rx_sent = st.sent;
		s->rx_gen++;
	}
	if (st.fin && !s->rx_fin) {
		s->rx_fin = st.fin;
		s->rx_gen++;
	}
	if (st.consumed != s->tx_acked) {
		s->tx_acked = st.consumed;
		s->tx_gen++;
	}
	/* the peer waits for credit we have not written yet: write it */
	s->peer_wants = st.flags & VS_F_WANT;
	if (s->peer_wants && s->rx_told != s->rx_cons)
		s->state_dirty = true;
}

/* ---- completions ---- */

static void vs_send_failed(struct vs_sock *s, uint32_t kind, uint32_t status)
{
	int err = status == VMMC_ST_NODE_DOWN ? ETIMEDOUT : ECONNRESET;

	if (kind == VS_K_REQ) {
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

static void vs_reap(void)
{
	struct vmmc_cqe *c;
	struct vs_sock *s;
	uint64_t ud, end;
	uint32_t status, kind, id;
	uint8_t op;

	while ((c = vmmc_peek_cqe(&vs.ep))) {
		ud = c->user_data;
		status = c->status;
		op = c->op;
		vmmc_cqe_seen(&vs.ep);
		if (op == VMMC_OP_REDIRECT)
			vs_zc_reaped(ud, status);
		if (op != VMMC_OP_SEND)
			continue;
		id = (uint32_t)(ud >> 48);
		kind = (uint32_t)(ud >> 40) & 0xff;
		s = id < (uint32_t)vs.ntab ? vs.tab[id] : NULL;
		if (!s || !s->inflight)
			continue;
		s->inflight--;
		vs.st.inflight--;
		if (kind == VS_K_STATE)
			s->state_busy &= ~(1u << (ud & 31));
		if (status != VMMC_ST_OK) {
			vs_send_failed(s, kind, status);
			continue;
		}
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

static void vs_notes(void)
{
	struct vmmc_nqe *n, e;
	struct vs_sock *s;

	while ((n = vmmc_peek_nqe(&vs.ep))) {
		e = *n;
		vmmc_nqe_seen(&vs.ep);
		if (e.type != VMMC_NQE_DATA || e.export_id >= VMMC_MAX_EXPORTS)
			continue;
		s = vs.byexp[e.export_id];
		if (s && s->lbuf && e.export_id == s->lexp)
			vs_take_req(s, e.offset, e.src_node);
		/* a connection's words are read where they are needed */
	}
}

void vs_progress(void)
{
	struct vs_sock *s;
	int i;

	if (!vs.open)
		return;
	vs_reap();
	vs_notes();
	for (i = 0; i < vs.ntab; i++) {
		s = vs.tab[i];
		if (!s)
			continue;
		vs_update(s);
		if (s->state == VS_ESTAB && s->tx_posted < s->tx_queued)
			vs_flush_tx(s);
		if (s->state_dirty)
			vs_post_state(s);
		if (s->inflight)
			continue;
		if (s->state == VS_SYN_SENT && s->hello_done && s->have_l_imp) {
			vmmc_unimport(&vs.ep, s->l_imp);
			s->have_l_imp = false;
		}
		if (s->state == VS_REFUSING || (s->zombie && !s->state_dirty)) {
			vs_teardown(s);
			vs_sock_free(s);
		}
	}
}

/* Connect retries and time-outs, liveness probes: the wait paths only. */
void vs_timers(void)
{
	uint64_t now;
	struct vs_sock *s;
	int i;

	if (!vs.open)
		return;
	now = vs_now_ns();
	for (i = 0; i < vs.ntab; i++) {
		s = vs.tab[i];
		if (!s)
			continue;
		if (s->lingering) {	/* its releaser may never look again */
			if (now >= s->linger_ns || vs_close_done(s))
				vs_close_end(s);
			continue;
		}
		if (s->state == VS_SYN_SENT && !s->hello_done) {
			if (now >= s->deadline_ns) {
				s->err = ETIMEDOUT;
				s->state = VS_CLOSED;
				s->rx_gen++;
				s->tx_gen++;
			} else if (now >= s->retry_ns && !s->inflight) {
				vs_post_req(s);
				s->retry_ns = now + VS_RETRY_MS * NS_PER_MS;
			}
			continue;
		}
		if (s->state != VS_ESTAB || now < s->probe_ns)
			continue;
		/* nothing posted for a while: is the peer still there? */
		if (s->posts == s->probe_mark) {
			vs_post_state(s);
			vs.st.probes++;
		}
		s->probe_mark = s->posts;
		s->probe_ns = now + VMMC_SOCK_PROBE_MS * NS_PER_MS;
	}
}

/*
 * Block until the NIC has news for us, at most until @deadline_ns (0:
 * none) and at most one probe interval: 0 (look again), -ETIMEDOUT (the
 * deadline passed) or -EINTR.
 */
int vs_wait(uint64_t deadline_ns)
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
	err = vmmc_ep_wait(&vs.ep, (uint32_t)ms);
	return err == -ETIMEDOUT ? 0 : err;
}

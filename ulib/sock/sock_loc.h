/* SPDX-License-Identifier: MIT */
/*
 * sock_loc.h - internals of the stream sockets (the sock_*.c files): the
 * wire formats in shared memory, the socket and the per-process stack.
 *
 * Names. A bound port P is the export VS_NAME_LISTEN | P of the listen
 * buffer (VMMC_NAME_PORT(P) of uapi/vmmc.h: the kernel lets only
 * CAP_NET_BIND_SERVICE take P < 1024, so bind() gets EACCES as TCP's): so
 * bind() finds EADDRINUSE through the NIC's unique names and a client
 * finds the listener by importing (node, VS_NAME_LISTEN | P); the listen
 * buffers of an acceptor group are VMMC_NAME_ACCEPT(P, i) (sock_accept.c). A
 * connection's receive region is the export VS_NAME_CONN | 24 random bits
 * with a 64-bit key from getrandom(): the peer learns both from the
 * request or hello and imports with the key; a third party that guesses
 * or sees the name gets ENOENT. A request or hello that names any other
 * export is ignored or refused, so a peer cannot make us write into an
 * export that is not a socket's.
 *
 * Memory a peer writes (never trusted: read once into a local copy,
 * checked, masked; a violation resets that one connection):
 *
 *   listen buffer  VS_LISTEN_SLOTS request slots of 64 bytes; a client
 *                  writes struct vs_req into a slot with NOTIFY (a
 *                  process's requests take them in turn from a random
 *                  start; a collision is a lost request: the client
 *                  retries)
 *   conn region    [0, 64) struct vs_hello   writer: the server (once)
 *                  [64, 128) struct vs_state writer: the peer, at times
 *                  [4096, 4096 + ring)       writer: the peer, data,
 *                                            and trailers
 *
 * One SEND per small message: a data SEND of at most VS_TRAIL_MAX bytes
 * at stream position p carries, in the same SEND and with NOTIFY, a
 * trailer: a struct vs_state (as the state word, checked) in the ring
 * bytes right after its data, [p + n, p + n + 64) mod ring, which the
 * next data overwrites. The sender adds it when those 64 bytes neither
 * wrap nor pass its credit. The NIC writes a SEND in order and its NQE
 * after it, so the receiver, from the NQE's offset and length, reads
 * the trailer after its data is in place: its sent announces the data,
 * its consumed is credit riding on data. A trailer that does not check
 * (overwritten by later data, which brings its own; torn at the source
 * by the next send's copy, which is flushed with its own) is ignored;
 * one whose counts are behind ours is stale and ignored too (trailers
 * and state words reach us in no set order). An NQE dropped: the
 * sender's CQE says so and it writes the state word; the receiver, which
 * cannot wait for that (the sender may sleep elsewhere), looks for the
 * trailers in its ring by their nonce (vs_scan_trailers()). A trailer
 * must never land on a zero-copy receive's buffer (ahead of the data it
 * announces, it would confuse what the redirect says went where): a
 * sender trails only while its peer lets it (VS_F_TRAIL_OK), which a
 * receiver does after a receive that could not redirect (a small one);
 * before it redirects, it takes that back (revoke, counted) and waits
 * until the sender's revoke_seen says it saw that (in a state word, which
 * lands after its last trailer). Larger SENDs, those with no room for a
 * trailer and those to a peer that does not let us trail are announced
 * by the
 * state word, as are FIN, RST and standalone credit.
 *
 * Ordering between the parties: SENDs of one endpoint to one import land
 * in order, so a vs_state whose sent covers some bytes is written after
 * those bytes; the receiver loads the state, then (acquire) the data.
 * A state is written from one of VS_STATE_SLOTS source copies that stay
 * unchanged until its SEND completes, so it never tears at the source;
 * those copies share one UTLB range with the staging ring, first page
 * first, so a state never lands after its data failed (vs_tx_alloc());
 * a check word over it catches a reader racing the NIC's copy (retry)
 * and stray writes (ignored).
 *
 * Layers: a file calls functions of its own layer and of those below it,
 * never of one above (the engine learns nothing from the API's files):
 *
 *   API      sock.c (set-up, naming, close, dup), sock_opt.c (options,
 *            queries), sock_tcpopt.c (the kernel's TCP options),
 *            sock_io.c (send, recv), sock_poll.c (poll, epoll)
 *   receive  sock_zc.c (zero-copy receive, for sock_io.c and close)
 *   engine   sock_proto.c (posting, completions, notifications, progress,
 *            the one blocking wait vs_block()), sock_timer.c (timers:
 *            a heap of due times), sock_conn.c (connection set-up:
 *            request, hello), sock_stack.c (the stack, the socket table,
 *            the epoll queues, a socket's memory)
 *   core     vmmc.h and core/svc.h (never core/utlb.h or ep.utlb)
 *
 * The engine's files call one another (sock_proto.c hands a listener's
 * request to sock_conn.c, which posts through sock_proto.c).
 */
#ifndef VMMC_SOCK_INT_H
#define VMMC_SOCK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmmc.h"
#include "vmmc_sock.h"
#include "../core/svc.h"

#define VS_MAGIC		0x4b434f53u	/* "SOCK" */
#define VS_VERSION		3		/* 3: trailers in the ring */
#define VS_NAME_LISTEN		VMMC_NAME_PORT_BASE
#define VS_NAME_CONN		0x43000000u
#define VS_LISTEN_SLOTS		64
#define VS_SLOT			64
/* a listen buffer's mapping: an acceptor's has room for its directory */
#define VS_LBUF_MAP(s)		((s)->acceptor ? 2 * VS_HDR : VS_LISTEN_SLOTS * VS_SLOT)
#define VS_HDR			4096		/* control page before a ring */
#define VS_OFF_HELLO		0
#define VS_OFF_STATE		64
#define VS_STATE_SLOTS		8
#define VS_TRAIL_MAX		8192		/* data SENDs this long, at most,
						 * carry a trailer (vs_flush_tx())
						 */
#define VS_SRC_REQ		0		/* req/hello source in the ctl page */
#define VS_SRC_HELLO		(VS_STATE_SLOTS * VS_SLOT)	/* an accepted
						 * connection's hello source,
						 * in its staging ring's first
						 * page (after the states')
						 */
#define VS_RETRY_MS		300		/* resend a connection request */
#define VS_TIMER_MS		1		/* between vs_timers() runs, at least */
#define VS_LINGER_MS		2000		/* close waits this long, at most */
#define VS_STATE_POLLS		20000		/* vs_state_out(): polls of the CQ */
#define VS_STATE_WAIT_MS	200		/* ... then waits, at most */
#define VS_NIOPT		48		/* int options (sock_tcpopt.c) */
#define VS_CORK_SEG		65483		/* a segment's worth (TCP_CORK):
						 * loopback's MSS
						 */
#define VS_CORK_MS		200		/* a corked tail waits, at most */
#define VS_RECENT		32		/* requests a listener remembers */
#define VS_PROBE_GAP_US		20000		/* vs_probe_ns(): a process's
						 * probes, one per this long
						 * on average, at most
						 */
/* zero-copy receive buffers kept pinned, at most (vs_zc_budget()) */
#define VS_ZC_PIN_RANGES	64
#define VS_ZC_PIN_PAGES		2048			/* 8 MiB */

/* client -> a listen slot */
struct vs_req {
	uint32_t magic;
	uint16_t version, port;		/* client's port */
	uint32_t node;			/* client's node */
	uint32_t name;			/* client's conn region */
	uint32_t ring;			/* client's ring bytes */
	uint32_t via;			/* VMMC_VIA_* of its connect() */
	uint64_t nonce;
	uint64_t key;			/* ... and its import key */
	uint32_t sndmax;		/* the largest ring the client will
					 * stage (its budget, SO_SNDBUF); 0
					 * (older clients): any
					 */
	uint32_t reserved0;
	uint64_t reserved;
	uint64_t check;
};

/* server -> client's region at VS_OFF_HELLO */
struct vs_hello {
	uint32_t magic;
	uint16_t version, port;		/* server's port */
	uint32_t status;		/* 0, or a positive errno (refused) */
	uint32_t name;			/* server's conn region */
	uint32_t ring;			/* server's ring bytes */
	uint32_t reserved0;
	uint64_t nonce;			/* the request's */
	uint64_t key;			/* the server's region's import key */
	uint64_t reserved[2];
	uint64_t check;
};

#define VS_F_RST	1u	/* the sender reset the connection */
#define VS_F_WANT	2u	/* the sender waits for credit: send it now */
#define VS_F_TRAIL_OK	4u	/* the sender lets the peer trail */

/* peer -> our region at VS_OFF_STATE: all counts are free-running */
struct vs_state {
	uint64_t sent;		/* bytes the peer wrote into our ring */
	uint64_t consumed;	/* bytes it took from its ring (our credit) */
	uint64_t fin;		/* 0, or 1 + sent at its shutdown(SHUT_WR) */
	uint32_t flags;		/* VS_F_* */
	uint32_t revoke;	/* times the sender took TRAIL_OK back */
	uint64_t nonce;
	uint64_t revoke_seen;	/* the peer's revoke it saw (and obeys) */
	uint64_t reserved;
	uint64_t check;
};

_Static_assert(sizeof(struct vs_req) == VS_SLOT, "req");
_Static_assert(sizeof(struct vs_hello) == VS_SLOT, "hello");
_Static_assert(sizeof(struct vs_state) == VS_SLOT, "state");

enum vs_sock_state {
	VS_FRESH = 0,		/* socket(), maybe bound */
	VS_LISTEN,
	VS_SYN_SENT,		/* connect() under way */
	VS_ESTAB,		/* has a ring and the peer's import */
	VS_CLOSED,		/* connect failed, or reset: err/reset tell */
	VS_REFUSING,		/* internal: telling a client "refused" */
};

/* What a SEND was, in the top bits of its user_data. */
enum vs_kind {
	VS_K_DATA = 1,		/* low 40 bits: end position */
	VS_K_STATE = 2,		/* low bits: source slot */
	VS_K_REQ = 3,
	VS_K_HELLO = 4,
	VS_K_REDIR = 5,		/* low bits: redirect slot (recv, sock_zc.c) */
};

#define VS_UD(id, kind, v)	((uint64_t)(id) << 48 | (uint64_t)(kind) << 40 | \
				 ((uint64_t)(v) & ((1ULL << 40) - 1)))

struct vs_zc;	/* sock_zc.c */

/* One epoll registration of a socket (library-side interest). */
struct vs_reg {
	int epfd;
	uint32_t events;	/* EPOLLIN ... | EPOLLET | EPOLLONESHOT */
	uint64_t data;
	uint32_t seen_rx, seen_tx;	/* ET: generations last reported */
	bool disabled;		/* ONESHOT fired */
	bool queued;		/* in its epoll fd's queue (vs_epoll_note()) */
	uint32_t walk;		/* the queue's walk that last looked at it */
};

#define VS_MAX_REGS	4

/* Options the engine acts on (struct vs_sock's kn). */
struct vs_knobs {
	bool ka_on;			/* SO_KEEPALIVE */
	uint32_t ka_idle_s, ka_intvl_s, ka_cnt;	/* TCP_KEEP* */
	uint32_t user_to_ms;		/* TCP_USER_TIMEOUT, 0: none */
	uint32_t defer_s;		/* TCP_DEFER_ACCEPT, 0: none */
};

struct vs_sock {
	int id;			/* index in the stack's table, user_data */
	int fd;			/* an fd naming it (an eventfd); -1 in a
				 * backlog or once the last fd is closed
				 */
	int nfds;		/* fds naming it: dup()s are aliases, the
				 * socket closes with the last
				 */
	int state;		/* enum vs_sock_state */
	bool nonblock, bound, shut_rd, shut_wr, reset;
	bool state_dirty;	/* a state is owed to the peer */
	bool hello_done;	/* client: hello taken */
	int err;		/* pending error (SO_ERROR), positive errno */
	uint32_t node, port;	/* local */
	uint32_t peer_node, peer_port;
	uint32_t via;		/* VMMC_VIA_*: of bind (a listener takes
				 * requests of that family), of connect, or
				 * the request's (accepted)
				 */
	/* options */
	/*
	 * The other options kept as an int (sock_opt.c's table, by index):
	 * iopt_set's bit i says iopt[i] was set, else the table's default.
	 */
	uint64_t iopt_set;
	int iopt[VS_NIOPT];
	/*
	 * The options the engine acts on, as numbers (vs_knobs_sync(),
	 * from iopt; an accepted socket takes its listener's): keepalive's
	 * and TCP_USER_TIMEOUT's limits (vs_live()), TCP_DEFER_ACCEPT's.
	 */
	struct vs_knobs kn;
	bool cork;		/* TCP_CORK: vs_flush_tx() posts whole
				 * VS_CORK_SEG's only, until shut_wr
				 */
	bool more;		/* cork is a MSG_MORE send's, not TCP_CORK's:
				 * ends at the next send without it
				 */
	uint64_t cork_ns;	/* vs_timers(): a held tail goes then */
	int linger_on, linger_s;	/* SO_LINGER */
	char cong[16];		/* TCP_CONGESTION, "" for the default */
	uint32_t rcvbuf, sndbuf;
	bool rcvbuf_set, sndbuf_set;	/* by the program: above the pressure
					 * mark too (vs_mem_plan())
					 */
	uint64_t rcvtimeo_ms, sndtimeo_ms;	/* 0: forever */
	uint32_t zc_min;	/* VMMC_SO_ZEROCOPY_MIN: 0 off */
	int busy_poll;		/* VMMC_SO_BUSY_POLL */
	/*
	 * Zero-copy receives to skip (copy instead), and the next such
	 * back-off: a receive whose bytes were mostly copied anyway (the
	 * sender's data beat its posts) doubles it, up to VS_ZC_BACKOFF_MAX,
	 * and one mostly redirected clears it (sock_zc.c).
	 */
	uint32_t zc_skip, zc_backoff;
	/*
	 * A split-phase zero-copy receive (vmmc_sock_recv_begin), under way
	 * while its ->active; other receives on the socket get EAGAIN then.
	 */
	struct vs_zc *zc_pend;

	/* listening: the port's export (from bind) */
	uint8_t *lbuf;
	uint32_t lexp;		/* export id */
	int backlog_max, nbacklog;
	struct vs_sock *backlog[VMMC_SOCK_BACKLOG_MAX];
	uint32_t nobufs;	/* requests refused for memory, not yet
				 * told by accept (ENOBUFS)
				 */
	uint64_t recent[VS_RECENT];	/* nonces of requests taken */
	uint32_t nrecent;
	struct vs_sock *parent;	/* in a listener's backlog */
	/*
	 * In the backlog of a listener with TCP_DEFER_ACCEPT: seen by the
	 * timers first at born_ns; defer_done once data came or the time
	 * passed (vs_defer_check()): accept may take it then.
	 */
	bool defer_done;
	uint64_t born_ns;
	/*
	 * VMMC_SO_ACCEPTOR (sock_accept.c): lexp is the acceptor name
	 * acc_idx's; dexp the port's directory while have_dir, else the
	 * next try at dir_ns (UINT64_MAX: none).
	 */
	bool acceptor, have_dir;
	uint32_t acc_idx, dexp;
	uint64_t dir_ns;

	/* connection */
	uint64_t nonce;
	uint8_t *rx;		/* our region: header page + ring */
	size_t rx_map;
	uint32_t rx_ring, rx_exp, rx_name;
	uint64_t rx_key;	/* our region's import key: a secret */
	bool have_rx_exp;
	uint8_t *tx;		/* control page, pinned: source of the
				 * request (or a refusal's hello); the page
				 * after the region, in its mapping's slack
				 * (vs_conn_alloc()); NULL for an accepted
				 * connection (VS_SRC_HELLO)
				 */
	uint8_t *stg;		/* pinned: a page of state sources, then
				 * the staging ring (see vs_tx_alloc())
				 */
	uint32_t tx_ring;	/* its size == the peer's ring */
	/*
	 * Pages of the socket memory budget (vs_mem_plan()) charged to this
	 * connection, of which tx_rsv hold the place of a staging ring to
	 * come of at most tx_max bytes (a client before its hello).
	 */
	uint32_t mem_pages, tx_rsv, tx_max;
	uint32_t peer_name, peer_imp, l_imp;
	bool have_peer_imp, have_l_imp;
	uint32_t state_busy;	/* source slots in flight (bit mask) */
	uint32_t inflight;	/* SENDs not yet completed */

	uint64_t rx_cons;	/* bytes we took from our ring */
	uint64_t rx_sent;	/* peer's sent, checked */
	uint64_t rx_fin;	/* peer's fin, checked */
	uint64_t rx_told;	/* rx_cons we last wrote to the peer */
	uint64_t tx_queued;	/* bytes accepted into the staging ring */
	uint64_t tx_posted;	/* ... handed to the NIC */
	uint64_t tx_done;	/* ... completed */
	uint64_t tx_acked;	/* peer's consumed, checked */
	bool fin_told;		/* our fin is in a posted state */
	bool want_credit;	/* we wait for credit (told the peer) */
	uint64_t trail_end;	/* where our last trailer was (0: none) */
	bool trail_grant;	/* we let the peer trail (VS_F_TRAIL_OK) */
	uint32_t revoke;	/* times we took it back */
	uint32_t revoke_echo;	/* the peer's revoke_seen, checked */
	bool peer_grant;	/* the peer lets us trail */
	uint32_t peer_revoke;	/* the peer's revoke we saw */
	bool peer_wants;	/* the peer waits for our credit */
	bool peer_dead;		/* a SEND to the peer failed: post no more */
	uint32_t dead_status;	/* that SEND's VMMC_ST_*, VS_K_* << 8 */
	bool zombie;		/* closed with SENDs in flight: freed later */
	/*
	 * vmmc_sock_release() of the last fd: the close's linger runs in
	 * vmmc_sock_linger() (and vs_timers()) instead of waiting; it ends
	 * at linger_ns at the latest. linger_seq (from one counter for all
	 * sockets) tells the handle's socket from a later one with the same
	 * id.
	 */
	bool lingering;
	uint16_t linger_seq;
	uint64_t linger_ns, linger_min_ns;

	/* connect timing (clock read only in the wait paths) */
	uint64_t deadline_ns, retry_ns;
	uint32_t req_moves;	/* requests sent to another acceptor */
	/* sock_timer.c: when vs_timers() is to look; place in its heap (0: none) */
	uint64_t tm_ns;
	uint32_t tm_pos;
	/* liveness probes: posts since the last tick */
	uint64_t posts, probe_mark, probe_ns;
	/*
	 * vs_live(): our SENDs completed (acks), and at live_ns, the last
	 * look that found the peer there, acks and rx_sent as they were
	 */
	uint64_t acks, live_acks, live_rx, live_ns;
	uint32_t busy_polls;	/* VMMC_SO_BUSY_POLL: polls since its tick */
	/* readiness generations, for edge-triggered epoll */
	uint32_t rx_gen, tx_gen;
	struct vs_reg regs[VS_MAX_REGS];
	int nregs;
};

/*
 * An epoll fd's record (sock_poll.c): the endpoint generation it watches,
 * and its queue: the ids of the sockets whose interest in it may be
 * ready (vs_epoll_note()), the only ones vmmc_sock_epoll_wait() looks at.
 */
struct vs_epfd {
	int epfd;
	uint32_t ep_gen;
	int *q;
	int nq, qcap;
	uint32_t walk;		/* walks of the queue so far */
};

#define VS_READY_WORDS(n)	(((size_t)(n) + 63) / 64)

/* The process's socket layer: one endpoint shared by all its sockets. */
struct vs_stack {
	bool open;
	struct vmmc_ep ep;
	uint32_t ep_gen;	/* bumped at every endpoint open */
	struct vs_sock **tab;	/* by id */
	int ntab;
	/*
	 * Sockets with news to look at, a bit per id (vs_mark()): taken by
	 * vs_progress(). nq_dropped: the NQ's dropped count last seen.
	 */
	uint64_t *ready;
	uint32_t nq_dropped;
	uint64_t timers_ns;	/* vs_timers()'s last run */
	/* sock_timer.c: the sockets with a timer, soonest first */
	struct vs_sock **heap;
	uint32_t nheap;
	/*
	 * Sockets looked at: by vs_progress() (ready ones), by vs_timers()
	 * (due ones), by vmmc_sock_epoll_wait() (queued ones); none of these
	 * grows with the sockets that have nothing to say.
	 */
	uint64_t steps, timer_visits, epoll_visits;
	/* CQEs and NQEs taken (vs_reap(), vs_notes()): vs_news() */
	uint64_t news;
	int free_id;		/* no free id below it in tab */
	struct vs_sock **byfd;	/* by fd */
	int nbyfd;
	struct vs_sock *byexp[VMMC_MAX_EXPORTS];
	/*
	 * The socket memory budget (vs_mem_budget()): pages the
	 * connections' rings, headers and control pages may pin, and the
	 * pages they pin now.
	 */
	uint64_t mem_max, mem_pages;
	uint32_t next_port;
	uint32_t next_slot;	/* listen slot of our next request */
	uint64_t rnd;
	struct vmmc_sock_stats st;
	/*
	 * Zero-copy receive (sock_zc.c): the endpoint's redirect slots the
	 * library uses (bit set from the post until the REDIRECT's CQE was
	 * reaped and its record read), the slots whose CQE vs_reap() saw,
	 * and its status. One thread at a time, as the rest of the stack.
	 */
	uint32_t zc_busy, zc_done;
	uint32_t zc_status[VMMC_REDIR_SLOTS];
	/* buffers that could not be pinned for write but are writable */
	uintptr_t zc_nopin[4][2];
	uint32_t zc_nopin_next;
	/* epoll fds the library has seen (sock_poll.c) */
	struct vs_epfd *epfds;
	int nepfds;
};

extern struct vs_stack vs;

/* sock_stack.c */
uint64_t vs_now_ns(void);
uint64_t vs_rand(void);
uint64_t vs_check(const void *p, uint64_t nonce);
void *vs_grow(void *p, size_t n, size_t nn, size_t size);
int vs_stack_get(void);
void vs_stack_put(void);
struct vs_sock *vs_sock_new(void);
void vs_sock_free(struct vs_sock *s);
void *vs_map(size_t len);
void vs_unmap(void *p, size_t len);
int vs_export_listen(struct vs_sock *s, uint32_t port);
int vs_mem_plan(struct vs_sock *s, uint32_t peer_ring, uint32_t cap);
int vs_conn_alloc(struct vs_sock *s, uint32_t node_perm, bool ctl);
int vs_tx_alloc(struct vs_sock *s, uint32_t ring);
void vs_teardown(struct vs_sock *s);
void vs_teardown_conn(struct vs_sock *s);
struct vs_epfd *vs_epfd_find(int epfd, bool add);
void vs_epoll_note(struct vs_sock *s);

/* sock_proto.c */
void vs_post_state(struct vs_sock *s);
void vs_flush_tx(struct vs_sock *s);
int vs_tx_pinned(struct vs_sock *s);
void vs_state_out(struct vs_sock *s, bool may_block);
void vs_update(struct vs_sock *s);
void vs_trail_grant(struct vs_sock *s);
bool vs_trail_revoke(struct vs_sock *s);
void vs_reset(struct vs_sock *s, int err, bool garbage);
int vs_post(struct vs_sock *s, const void *src, size_t len, uint32_t imp,
	    uint64_t off, uint32_t flags, uint64_t ud);
void vs_progress(void);
void vs_poke(struct vs_sock *s);
bool vs_close_done(const struct vs_sock *s);
void vs_close_end(struct vs_sock *s);
int vs_block(struct vs_sock *s, uint64_t *deadline, uint64_t timeo_ms);
void vs_wait_policy(void);

/* sock_timer.c */
void vs_timer_at(struct vs_sock *s, uint64_t when);
void vs_timer_del(struct vs_sock *s);
bool vs_timer_need(const struct vs_sock *s);
void vs_timers(void);
void vs_defer_check(struct vs_sock *c, uint64_t now);
int vs_backlog_ready(struct vs_sock *l);

/* sock_conn.c */
int vs_connect_start(struct vs_sock *s, uint32_t node, uint32_t port);
int vs_post_req(struct vs_sock *s);
void vs_take_req(struct vs_sock *l, uint64_t off, uint32_t src_node);
void vs_take_hello(struct vs_sock *s);

/* sock_accept.c */
int vs_export_acceptor(struct vs_sock *s, uint32_t port);
void vs_acceptor_tick(struct vs_sock *s);
void vs_acceptor_drop(struct vs_sock *s);
bool vs_req_elsewhere(struct vs_sock *s);
int vs_import_listener(struct vs_sock *s, uint32_t node, uint32_t port,
		       uint64_t *len);

/* sock_zc.c */
int vs_setopt_vmmc(struct vs_sock *s, int name, int v);
int vs_getopt_vmmc(struct vs_sock *s, int name, int *v);

/* sock_tcpopt.c */
int vs_setopt_std(struct vs_sock *s, int level, int name, const void *val,
		  socklen_t len);
int vs_getopt_std(struct vs_sock *s, int level, int name, void *val,
		  socklen_t *len);
ssize_t vs_zc_recv(struct vs_sock *s, uint8_t *dst, size_t len,
		   bool waitall, uint64_t *deadline);
uint8_t *vs_iov_at(const struct iovec *iov, int iovcnt, size_t skip,
		   size_t *len);
int vs_zc_begin(struct vs_sock *s, uint8_t *dst, size_t len, bool waitall);
bool vs_zc_pending(const struct vs_sock *s);
bool vs_zc_pending_into(const struct vs_sock *s, const void *buf);
ssize_t vs_zc_poll(struct vs_sock *s, bool stop);
void vs_zc_abort(struct vs_sock *s);

/* sock_poll.c */
uint32_t vs_events(struct vs_sock *s);

/* sock.c */
int vs_lookup(int fd, struct vs_sock **s);
void vs_fill_addr(struct sockaddr *addr, socklen_t *len, uint32_t node,
		  uint32_t port, uint32_t via);

/* @s has news: vs_progress() looks at it. */
static inline void vs_mark(const struct vs_sock *s)
{
	vs.ready[s->id / 64] |= 1ULL << (s->id % 64);
}

/* A state word is owed to the peer: posted by the next vs_progress(). */
static inline void vs_dirty(struct vs_sock *s)
{
	s->state_dirty = true;
	vs_mark(s);
}

/*
 * From one liveness probe of an idle connection to its next (vs_timers()):
 * VMMC_SOCK_PROBE_MS, or longer with many connections, so that their
 * probes together stay at one per VS_PROBE_GAP_US (a process of 4096
 * connections probes each every 82 s: 50 probes a second in all, not
 * 40960).
 */
static inline uint64_t vs_probe_ns(void)
{
	uint64_t ms = VMMC_SOCK_PROBE_MS,
		 many = (uint64_t)vs.st.conns * VS_PROBE_GAP_US / 1000;

	return (ms > many ? ms : many) * 1000000ULL;
}

static inline uint64_t vs_rx_avail(const struct vs_sock *s)
{
	return s->rx_sent - s->rx_cons;
}

static inline uint64_t vs_tx_space(const struct vs_sock *s)
{
	uint64_t low = s->tx_done < s->tx_acked ? s->tx_done : s->tx_acked;

	return s->tx_ring - (s->tx_queued - low);
}

static inline bool vs_rx_eof(const struct vs_sock *s)
{
	return s->rx_fin && s->rx_cons == s->rx_fin - 1;
}

/*
 * Where a send's or a receive's time goes: a debug build only
 * (CFLAGS=-DVS_PROF; never in the library as built by default). Each
 * VS_PROF_END adds the time since its VS_PROF_BEGIN to one bucket; the
 * buckets nest (a send's total holds its copy, its waits, ...), and
 * vs_prof_dump() prints them to stderr at every close of a connection
 * when VMMC_SOCK_PROF is set, then clears them; with them, what this
 * node's NIC counted meanwhile (SENDs, doorbells, sleeps, interrupts).
 */
enum vs_prof_bucket {
	VS_P_SEND,	/* vs_sendv(), all of it */
	VS_P_COPYIN,	/* ... copying into the staging ring */
	VS_P_FLUSH,	/* ... posting (vs_flush_tx()) */
	VS_P_SWAIT,	/* ... blocked for credit (vs_block()) */
	VS_P_SOUT,	/* ... the state's way out (vs_state_out()) */
	VS_P_ZCSEND,	/* ... zero-copy: post and wait for the NIC's read */
	VS_P_RECV,	/* vs_recvv(), all of it */
	VS_P_COPYOUT,	/* ... copying out of the receive ring */
	VS_P_ZCRECV,	/* ... zero-copy receive (vs_zc_recv()) */
	VS_P_RWAIT,	/* ... blocked for data (vs_block()) */
	VS_P_CREDIT,	/* ... posting credit (vs_post_state()) */
	VS_P_PROG,	/* vs_progress(): completions, notifications */
	VS_P_KWAIT,	/* vs_wait(): asleep in the endpoint's wait */
	VS_P_N
};

#ifdef VS_PROF
extern uint64_t vs_prof_ns[VS_P_N], vs_prof_n[VS_P_N];
void vs_prof_dump(void);
#define VS_PROF_BEGIN(t)	uint64_t t = vs_now_ns()
#define VS_PROF_END(k, t)	do { vs_prof_ns[k] += vs_now_ns() - (t); \
				     vs_prof_n[k]++; } while (0)
#else
#define VS_PROF_BEGIN(t)	do { } while (0)
#define VS_PROF_END(k, t)	do { } while (0)
static inline void vs_prof_dump(void)
{
}
#endif

#endif /* VMMC_SOCK_INT_H */

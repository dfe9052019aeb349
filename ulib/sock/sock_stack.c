// SPDX-License-Identifier: MIT
/*
 * sock_stack.c - the bottom of the stream sockets (sock_loc.h says the
 * layers): the per-process stack and its endpoint, the table of sockets,
 * a socket's birth and death, and the memory of a socket (the listen
 * slots, the receive region, the control page and the staging ring),
 * pinned through the core's service interface (core/svc.h).
 *
 * Set-up and teardown: each step is a system call or two (mmap, export,
 * pin); none is on the steady path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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

struct vs_stack vs;
uint64_t vs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#ifdef VS_PROF
uint64_t vs_prof_ns[VS_P_N], vs_prof_n[VS_P_N];
/* this node's NIC's counters at the endpoint's open or the last print */
static struct vmmc_nic_counters vs_prof_nic;

void vs_prof_dump(void)
{
	static const char *const name[VS_P_N] = {
		"send", " copy-in", " flush/post", " credit wait",
		" state out", " zc send", "recv", " copy-out", " zc recv",
		" data wait", " credit post", "progress", "kernel wait",
	};
	const struct vmmc_nic_counters *c = &vs.ep.status->counters;
	int k;

	if (!vs.open || !getenv("VMMC_SOCK_PROF") ||
	    (!vs_prof_n[VS_P_SEND] && !vs_prof_n[VS_P_RECV]))
		return;
	fprintf(stderr, "vs_prof pid %d: tx %llu rx %llu bytes, waits %llu\n",
		(int)getpid(), (unsigned long long)vs.st.tx_bytes,
		(unsigned long long)vs.st.rx_bytes,
		(unsigned long long)vs.st.waits);
	fprintf(stderr, "vs_prof NIC (node): %llu SENDs, %llu doorbells, %llu sleeps, %llu irqs\n",
		(unsigned long long)(c->sends - vs_prof_nic.sends),
		(unsigned long long)(c->doorbells - vs_prof_nic.doorbells),
		(unsigned long long)(c->sleeps - vs_prof_nic.sleeps),
		(unsigned long long)(c->irqs - vs_prof_nic.irqs));
	vs_prof_nic = *c;
	for (k = 0; k < VS_P_N; k++)
		fprintf(stderr, "vs_prof  %-14s %10llu calls %10.3f ms\n",
			name[k], (unsigned long long)vs_prof_n[k],
			vs_prof_ns[k] / 1e6);
	memset(vs_prof_ns, 0, sizeof(vs_prof_ns));
	memset(vs_prof_n, 0, sizeof(vs_prof_n));
}
#endif

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
 * VMMC_SVC_GRANULE, at an address aligned to it. The UTLB pins SEND
 * sources rounded out to that granule, and the kernel drops a whole pin
 * when any page of it is unmapped: with a neighbour sharing a granule,
 * the teardown of one socket (munmap) untranslated the pin another
 * socket's SEND was in flight on (BAD_SLOT: its peer taken for dead, the
 * last bytes never announced; the LD_PRELOAD shim's thread test hung on
 * it about once in 50 runs under load). vs_unmap() gives it all back.
 */
static size_t vs_map_len(size_t len)
{
	return (len + VMMC_SVC_GRANULE - 1) & ~(size_t)(VMMC_SVC_GRANULE - 1);
}

void *vs_map(size_t len)
{
	size_t full = vs_map_len(len), g = VMMC_SVC_GRANULE;
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

void vs_unmap(void *p, size_t len)
{
	munmap(p, vs_map_len(len));
}

/*
 * The mapping of a connection's region: the region (header page and
 * ring, exported) and the control page after it, which always fits in
 * the slack up to the next granule (the region is a page and a power of
 * two of at least a page, so never a whole number of granules).
 */
static size_t vs_rx_map_len(const struct vs_sock *s)
{
	return s->rx_map + VS_HDR;
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
			vs_unmap(s->rx, vs_rx_map_len(s));
		if (s->stg)
			vs_unmap(s->stg, VS_HDR + s->tx_ring);
		if (s->lbuf)
			vs_unmap(s->lbuf, VS_LBUF_MAP(s));
		free(s->zc_pend);
		free(s);
	}
	free(vs.tab);
	free(vs.ready);
	free(vs.byfd);
	free(vs.heap);
	vmmc_ep_close(&vs.ep);
	vs_live = 0;
	vs.heap = NULL;
	vs.nheap = 0;
	vs.free_id = 0;
	vs.tab = NULL;
	vs.ready = NULL;
	vs.byfd = NULL;
	vs.ntab = vs.nbyfd = 0;
	vs.open = false;
	vs.mem_pages = 0;
	memset(vs.byexp, 0, sizeof(vs.byexp));
	memset(&vs.st, 0, sizeof(vs.st));
	vs.zc_busy = vs.zc_done = 0;
	vs.zc_nopin_next = 0;
	memset(vs.zc_nopin, 0, sizeof(vs.zc_nopin));
	/* the epoll fds' records (sock_poll.c): they watched the old endpoint */
	for (i = 0; i < vs.nepfds; i++)
		free(vs.epfds[i].q);
	free(vs.epfds);
	vs.epfds = NULL;
	vs.nepfds = 0;
}

/*
 * The zero-copy pin budget (vmmc_sock(7)): receive buffers pinned for
 * zero-copy receive stay pinned (a UTLB hit the next time), at most
 * VS_ZC_PIN_RANGES of them and VMMC_SOCK_ZC_PIN_MAX bytes (default
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
	uint64_t pages = VS_ZC_PIN_PAGES, v;
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
	vmmc_svc_zc_budget(&vs.ep, pages ? VS_ZC_PIN_RANGES : 0,
			   (uint32_t)pages);
}

/*
 * The socket memory budget (vmmc_sock(7)), in pages: what the
 * connections' rings, their header pages and control pages may pin
 * together. VMMC_SOCK_MEM_MAX bytes (environment, read at the endpoint's
 * open), else a quarter of the machine's memory and, for a process
 * without CAP_IPC_LOCK under a finite RLIMIT_MEMLOCK, at most three
 * quarters of that limit (zero-copy receive's pins take the last
 * quarter): so the library says ENOBUFS before the kernel would refuse
 * a pin, and one process cannot pin the machine.
 */
static void vs_mem_budget(void)
{
	const char *e = getenv("VMMC_SOCK_MEM_MAX");
	long phys = sysconf(_SC_PHYS_PAGES);
	uint64_t pages = phys > 0 ? (uint64_t)phys / 4 : 1ULL << 16, v;
	struct rlimit rl;
	char *end;

	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 * 3 / VMMC_PAGE_SIZE < pages && !vs_cap_ipc_lock())
		pages = rl.rlim_cur / 4 * 3 / VMMC_PAGE_SIZE;
	if (e && *e) {
		v = strtoull(e, &end, 0);
		if (!*end)
			pages = v / VMMC_PAGE_SIZE;
	}
	vs.mem_max = pages;
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
	vs_wait_policy();
#ifdef VS_PROF
	vs_prof_nic = vs.ep.status->counters;
#endif
	vs.nq_dropped = vmmc_nq_dropped(&vs.ep);
	vs_zc_budget();
	vs_mem_budget();
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

/* A new socket's options, as the environment sets their defaults. */
static void vs_opts_init(struct vs_sock *s)
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

/*
 * The array @p of @n elements of @size bytes, grown to @nn with the new
 * ones zeroed (@p is then gone), or NULL (@p stays).
 */
void *vs_grow(void *p, size_t n, size_t nn, size_t size)
{
	uint8_t *t = realloc(p, nn * size);

	if (t)
		memset(t + n * size, 0, (nn - n) * size);
	return t;
}

/* Room for @n sockets in the table and the ready bit map: 0 or -ENOMEM. */
static int vs_tab_grow(int n)
{
	struct vs_sock **t;
	uint64_t *r;

	r = vs_grow(vs.ready, VS_READY_WORDS(vs.ntab), VS_READY_WORDS(n),
		    sizeof(*r));
	if (!r)
		return -ENOMEM;
	vs.ready = r;
	t = vs_grow(vs.tab, (size_t)vs.ntab, (size_t)n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	vs.tab = t;
	t = vs_grow(vs.heap, (size_t)vs.ntab, (size_t)n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	vs.heap = t;
	vs.ntab = n;
	return 0;
}

struct vs_sock *vs_sock_new(void)
{
	struct vs_sock *s;
	int id;

	if (vs_stack_get())
		return NULL;
	for (id = vs.free_id; id < vs.ntab && vs.tab[id]; id++)
		;
	vs.free_id = id + 1;
	if (id == vs.ntab &&
	    (id * 2 > 0xffff || vs_tab_grow(vs.ntab ? vs.ntab * 2 : 16)))
		return NULL;
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
	vs_timer_del(s);
	vs.tab[s->id] = NULL;
	if (s->id < vs.free_id)
		vs.free_id = s->id;
	vs.ready[s->id / 64] &= ~(1ULL << (s->id % 64));
	free(s->zc_pend);
	free(s);
	vs_live--;
	vs_stack_put();
}

/* ---- epoll queues (sock_poll.c) ---- */

/* The record of epoll fd @epfd; with @add, made if new (NULL: no memory). */
struct vs_epfd *vs_epfd_find(int epfd, bool add)
{
	struct vs_epfd *t;
	int i;

	for (i = 0; i < vs.nepfds; i++)
		if (vs.epfds[i].epfd == epfd)
			return &vs.epfds[i];
	if (!add)
		return NULL;
	t = realloc(vs.epfds, (size_t)(vs.nepfds + 1) * sizeof(*t));
	if (!t)
		return NULL;
	vs.epfds = t;
	t = &vs.epfds[vs.nepfds++];
	memset(t, 0, sizeof(*t));
	t->epfd = epfd;
	return t;
}

/*
 * @s's readiness may have changed (news for it, a call on it, a new
 * interest): queue each of its epoll interests not queued yet, for the
 * next vmmc_sock_epoll_wait() on that fd to look at. With no memory for
 * the queue, every interest of that fd stays unqueued and the fd's
 * record says so (qcap < 0): its waits look at every socket then.
 */
void vs_epoll_note(struct vs_sock *s)
{
	struct vs_epfd *e;
	struct vs_reg *r;
	int i, *q;

	for (i = 0; i < s->nregs; i++) {
		r = &s->regs[i];
		if (r->queued)
			continue;
		e = vs_epfd_find(r->epfd, false);
		if (!e || e->qcap < 0)
			continue;
		if (e->nq == e->qcap) {
			q = realloc(e->q, (size_t)(e->qcap ? 2 * e->qcap : 16) *
				    sizeof(*q));
			if (!q) {
				e->qcap = -1;
				continue;
			}
			e->q = q;
			e->qcap = e->qcap ? 2 * e->qcap : 16;
		}
		e->q[e->nq++] = s->id;
		r->queued = true;
	}
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

/* ---- the socket memory budget ---- */

/* Pages a ring of @ring bytes pins with its header page. */
static uint64_t vs_ring_pages(uint32_t ring)
{
	return 1 + ring / VMMC_PAGE_SIZE;
}

static void vs_mem_charge(struct vs_sock *s, uint64_t pages)
{
	vs.mem_pages += pages;
	s->mem_pages += (uint32_t)pages;
}

/*
 * The largest ring of at most @want bytes (a power of two, at least
 * VMMC_SOCK_RCVBUF_MIN) that fits in the budget beside @fixed pages more;
 * 0 if not even the smallest does. A ring the program did not size
 * (@set false) also keeps under the pressure mark, a quarter of the
 * budget, or is the smallest: as Linux's TCP under memory pressure, a
 * few connections get large rings and thousands still fit.
 */
static uint32_t vs_ring_plan(uint32_t want, bool set, uint64_t fixed)
{
	uint64_t used = vs.mem_pages + fixed,
		 mark = set ? vs.mem_max : vs.mem_max / 4;
	uint32_t r = want < VMMC_SOCK_RCVBUF_MIN ? VMMC_SOCK_RCVBUF_MIN : want;

	while (r > VMMC_SOCK_RCVBUF_MIN && used + vs_ring_pages(r) > mark)
		r >>= 1;
	return used + vs_ring_pages(r) <= vs.mem_max ? r : 0;
}

/*
 * Size connection @s's rings within the budget and charge them, before
 * any is made: our ring (s->rx_ring) at most its SO_RCVBUF and @cap (the
 * peer's sndmax, 0: none); a server's staging ring is @peer_ring (the
 * client's ring, its word); a client (@peer_ring 0) also charges its
 * control page and holds the place of a staging ring of at most
 * s->tx_max bytes (SO_SNDBUF if set, else the largest), which its
 * request offers as sndmax: the server's ring is no larger, and the
 * hello gives back what it did not take (vs_tx_alloc()). -ENOBUFS if
 * not even the smallest rings fit.
 */
int vs_mem_plan(struct vs_sock *s, uint32_t peer_ring, uint32_t cap)
{
	uint64_t fixed = peer_ring ? vs_ring_pages(peer_ring) :
			 1 + vs_ring_pages(VMMC_SOCK_RCVBUF_MIN);
	uint32_t want = s->rcvbuf;

	while (cap && want > cap && want > VMMC_SOCK_RCVBUF_MIN)
		want >>= 1;
	s->rx_ring = vs_ring_plan(want, s->rcvbuf_set, fixed);
	if (!s->rx_ring)
		return -ENOBUFS;
	vs_mem_charge(s, vs_ring_pages(s->rx_ring));
	if (peer_ring) {
		s->tx_max = peer_ring;
	} else {
		vs_mem_charge(s, 1);	/* the control page */
		s->tx_max = vs_ring_plan(s->sndbuf_set ? s->sndbuf :
					 VMMC_SOCK_RCVBUF_MAX, s->sndbuf_set, 0);
	}
	s->tx_rsv = (uint32_t)vs_ring_pages(s->tx_max);
	vs_mem_charge(s, s->tx_rsv);
	return 0;
}

/*
 * Our receive region, exported to @node only; @ctl: with a control page,
 * pinned (a client's request, a refusal's hello; an accepted connection
 * posts its hello from its staging ring's first page: one mapping and
 * one pin less on the server's side of a connect). Its ring is
 * s->rx_ring: as vs_mem_plan() charged it, or a refusal's smallest (not
 * charged: it goes when its hello has gone).
 */
int vs_conn_alloc(struct vs_sock *s, uint32_t node, bool ctl)
{
	int err = -EEXIST, tries;

	s->rx_map = VS_HDR + s->rx_ring;
	s->rx = vs_map(vs_rx_map_len(s));
	if (!s->rx)
		return -ENOMEM;
	if (ctl) {
		s->tx = s->rx + s->rx_map;
		err = vmmc_svc_pin_locked(&vs.ep, s->tx, VS_HDR);
		if (err) {
			s->tx = NULL;
			goto out_unmap;
		}
		err = -EEXIST;
	}
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
		if (err == -ENOMEM && vmmc_svc_zc_drop(&vs.ep))
			err = -EEXIST;
	}
	if (err)
		goto out_unpin;
	s->have_rx_exp = true;
	vs.byexp[s->rx_exp] = s;
	vs.st.conns++;
	return 0;

out_unpin:
	if (s->tx)
		vmmc_svc_unpin_locked(&vs.ep, s->tx);
	s->tx = NULL;
out_unmap:
	vs_unmap(s->rx, vs_rx_map_len(s));
	s->rx = NULL;
	return err;
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
	uint64_t pages = vs_ring_pages(ring);

	if (ring < VMMC_SOCK_RCVBUF_MIN || ring > VMMC_SOCK_RCVBUF_MAX ||
	    (ring & (ring - 1)))
		return -EPROTO;
	/* a peer that ignored our sndmax (an older one) may still fit */
	if (pages > s->tx_rsv && vs.mem_pages + pages - s->tx_rsv > vs.mem_max)
		return -ENOBUFS;
	vs.mem_pages = vs.mem_pages - s->tx_rsv + pages;
	s->mem_pages = s->mem_pages - s->tx_rsv + (uint32_t)pages;
	s->tx_rsv = 0;
	s->stg = vs_map(VS_HDR + ring);
	if (!s->stg)
		return -ENOMEM;
	s->tx_ring = ring;
	return vmmc_svc_pin_locked(&vs.ep, s->stg, VS_HDR + ring);
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
	/* unpinned first: an unmap of pinned memory flushes the UTLB */
	if (s->tx)
		vmmc_svc_unpin_locked(&vs.ep, s->tx);
	if (s->rx)
		vs_unmap(s->rx, vs_rx_map_len(s));
	if (s->stg) {
		vmmc_svc_unpin_locked(&vs.ep, s->stg);
		vs_unmap(s->stg, VS_HDR + s->tx_ring);
	}
	s->rx = s->tx = s->stg = NULL;
	s->tx_ring = 0;
	vs.mem_pages -= s->mem_pages;
	s->mem_pages = s->tx_rsv = 0;
}

/* Give back everything the socket holds; nothing may be in flight. */
void vs_teardown(struct vs_sock *s)
{
	vs_teardown_conn(s);
	if (s->lbuf) {
		vs_acceptor_drop(s);
		vmmc_unexport(&vs.ep, s->lexp);
		vs.byexp[s->lexp] = NULL;
		vs_unmap(s->lbuf, VS_LBUF_MAP(s));
		s->lbuf = NULL;
		vs.st.listeners--;
	}
}

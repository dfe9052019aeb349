// SPDX-License-Identifier: MIT
/*
 * preload.c - libvmmc-preload.so: unmodified socket programs over VMMC.
 *
 *   LD_PRELOAD=libvmmc-preload.so VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1 prog
 *
 * An AF_INET or AF_INET6 stream socket stays a kernel socket until the
 * program connect()s it to an address of the map (hostmap.h) where a
 * VMMC listener answers (else it connects over kernel TCP), or bind()s
 * it to one the kernel does not have (or to INADDR_ANY or ::, with
 * VMMC_BIND_ANY=1): then the shim creates a VMMC socket (vmmc_sock.h)
 * and moves it onto the same descriptor number (the kernel socket is
 * closed by that dup3), so the
 * program's fd is a real kernel fd (an eventfd of the library) whose
 * readiness the library controls. From then on every call on that fd
 * goes to the library; every other fd (UDP, AF_UNIX, other hosts, files,
 * pipes) goes to the kernel untouched, and so does everything when the
 * map is empty or VMMC_PRELOAD=off.
 *
 * Rules:
 * - The library is not thread-safe: the shim serializes every call into
 *   it with one lock (vp_lock). A blocking call, and poll, select and
 *   epoll_wait, look under the lock without waiting, then wait for the
 *   NIC (and the call's kernel fds) without the lock, a slice at a time
 *   (vp_wait_unlocked, vp_poll_unlocked): threads on other sockets or on
 *   the same one run meanwhile.
 * - The library itself calls libc (close, read, poll, epoll_*, ...):
 *   while a thread is inside the library (the counter vp_inside), every
 *   interposed function goes straight to libc.
 * - poll, select and epoll that involve a VMMC socket go to the library's
 *   vmmc_sock_poll / vmmc_sock_epoll_*, which wait on VMMC sockets and
 *   kernel fds together; calls that involve none go to the kernel.
 * - O_NONBLOCK (socket type, accept4, fcntl, fcntl64, ioctl FIONBIO) is
 *   the shim's record, one per socket (vp_nb), so shared by dup()s; the
 *   eventfd itself always stays non-blocking. FD_CLOEXEC is the kernel's.
 * - dup, dup2, dup3, F_DUPFD, F_DUPFD_CLOEXEC of a VMMC socket: aliases
 *   (vmmc_sock_dup, vmmc_sock_dup3); the socket closes with its last fd.
 * - A listener on the wildcard or on a node's address the kernel has
 *   stays the kernel's, with a VMMC listener beside it: both transports
 *   on one fd (preload_dual.c).
 * - fork: the parent keeps its sockets; the child's inherited ones are
 *   dead stand-ins (ENOTCONN, EINVAL; see vp_fork_prepare()); a
 *   listener on both transports works in both (preload_dual.c); a
 *   connection accepted and not yet used goes to the child through a
 *   relay in the parent (preload_relay.c).
 * - exec: VMMC fds without FD_CLOEXEC become stand-ins that read EOF and
 *   write EPIPE in the new image (see vp_exec_hide()).
 * - A signal handler that runs while a call waits ends it with EINTR
 *   (struct vp_wait); a handler must not call socket functions, close,
 *   dup2 or fork on a VMMC socket (vp_inside the shim they go to libc).
 * - close, dup2 onto a VMMC socket, close_range, closefrom: the shim's
 *   entry and the library's (vmmc_sock_forget) go before the kernel fd.
 * - sendfile() and splice() with a VMMC socket at either end copy
 *   through a buffer (vp_copy).
 * - fdopen() of a VMMC socket: a fopencookie stream over the shim's
 *   read/write/close (glibc's stdio calls its internal __read/__write);
 *   fileno() gives the fd back. system() and popen() spawn through the
 *   interposed posix_spawn, so their shell gets stand-ins (see exec).
 * - sendmmsg/recvmmsg: a loop of sendmsg/recvmsg, as the kernel's.
 * - ioctl FIONREAD (SIOCINQ), SIOCOUTQ, SIOCOUTQNSD: vmmc_sock_ioctl().
 * - Errors are the library's (the errnos of a kernel TCP socket), as -1
 *   and errno.
 *
 * The files, one job each: this one holds the fd table (vp_fds), the
 * lock, a blocking call's wait and the set-up; preload_real.c the real
 * libc entry points; preload_sock.c the socket calls; preload_rw.c reads
 * and writes; preload_close.c close and dup; preload_poll.c poll, select
 * and epoll; preload_splice.c sendfile and splice; preload_exec.c fork,
 * exec and spawning; preload_stdio.c stdio; preload_dual.c listeners on
 * both transports; preload_relay.c connections handed to a forked
 * child; preload_loc.h what they share.
 */

#include "preload_loc.h"

struct vp_fd vp_fds[VP_MAXFD];
/*
 * Bumped each time an fd number stops naming what it named (its kind
 * set to VP_NONE: close, dup2 over it, close_range): a waiting call
 * that finds it moved fails with EBADF (struct vp_hold).
 */
unsigned int vp_gen[VP_MAXFD];
int vp_hi = -1;		/* highest fd ever given a kind */
/* longest wait on kernel fds between looks at the NIC (VMMC_PRELOAD_SLICE_MS) */
int vp_slice_ms = VP_SLICE_MS;
/*
 * O_NONBLOCK of each VMMC socket, by vmmc_sock_id(): a property of the
 * socket (of the open file description, for the kernel), so shared by
 * its dup()s. Written at creation and by F_SETFL/FIONBIO, under vp_lock.
 */
uint8_t vp_nb[65536];
pthread_mutex_t vp_lock = PTHREAD_MUTEX_INITIALIZER;
static bool vp_atfork_set;
__thread int vp_inside;
struct vmmc_hostmap vp_map;
bool vp_enabled, vp_bind_any, vp_debug, vp_fallback = true;
#ifndef VP_SPIN_DEFAULT
#define VP_SPIN_DEFAULT	0	/* measured: see vp_spin() */
#endif
/* VMMC_PRELOAD_SPIN_NS: the waits' spin (-1: the library's limit) */
static long vp_spin_env = VP_SPIN_DEFAULT;
/* bumped by every call out of the library: a waiter's "something moved" */
unsigned int vp_epoch;

/* ---- helpers ---- */

void vp_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	if (!vp_debug)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		REAL(write)(2, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void vp_set_kind(int fd, enum vp_kind k)
{
	struct vp_fd *f = vp_get(fd);
	int hi;

	if (!f)
		return;
	__atomic_store_n(&f->kind, k, __ATOMIC_RELEASE);
	if (k == VP_NONE) {
		__atomic_add_fetch(&vp_gen[fd], 1, __ATOMIC_RELEASE);
		return;
	}
	/* a maximum: socket() runs without the lock */
	hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);
	while (fd > hi && !__atomic_compare_exchange_n(&vp_hi, &hi, fd, true,
							__ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
}

long vp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

void vp_wait_mask(struct vp_wait *w)
{
	sigset_t all;

	if (w->masked || (!w->mask && !w->blocks++))
		return;
	sigfillset(&all);
	/* faults are synchronous: blocked, they would kill the process */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSYS);
	if (pthread_sigmask(SIG_BLOCK, &all, &w->old))
		return;
	w->masked = true;
	if (!w->mask)
		w->mask = &w->old;
}

/*
 * Wait in the kernel (lock not held) at most @ms for @k, with the call's
 * signal mask: 0, or -EINTR when a signal handler ran.
 */
int vp_block(const struct vp_wait *w, struct pollfd *k, nfds_t nk, int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };
	int r;

	if (w->mask)
		r = REAL(ppoll)(k, nk, &ts, w->mask);
	else
		r = REAL(poll)(k, nk, ms);
	return r < 0 && errno == EINTR ? -EINTR : 0;
}

/*
 * The threads blocked in the kernel on the endpoint's fd (vp_block_ep()),
 * under vp_lock. The endpoint's fd is readable while the NIC has news
 * not taken yet; when a completion or notification comes, every thread
 * blocked on it wakes, and the first to take the lock takes the news,
 * for its sockets and for the others' (a socket's readiness moves, an
 * epoll fd's queue grows). The others then find the fd not readable
 * any more and would sleep on until their slice ends, though their
 * socket is ready now (a worker thread of a libevent server, whose
 * requests the listener's thread took: 20 ms per request). So each
 * blocked thread also waits on an eventfd of its own, and a thread that
 * took news (vs_news() moved) kicks every blocked one when it lets the
 * lock go (vp_unlock()); they look again.
 */
struct vp_waiter {
	int efd;		/* this thread's eventfd; -1: none yet */
	bool linked;		/* in vp_waiting */
	bool kicked;		/* its eventfd was written, not read yet */
	struct vp_waiter *next, **pprev;
};

struct vp_waiter *vp_waiting;
static uint64_t vp_news_seen;	/* vs_news() when the last kick looked */
static __thread struct vp_waiter vp_me = { .efd = -1 };
static pthread_key_t vp_me_key;
static pthread_once_t vp_me_once = PTHREAD_ONCE_INIT;

/* At a thread's exit: its eventfd goes (it is never linked then). */
static void vp_me_free(void *arg)
{
	struct vp_waiter *me = arg;

	if (me->efd >= 0)
		REAL(close)(me->efd);
	me->efd = -1;
}

static void vp_me_key_init(void)
{
	if (pthread_key_create(&vp_me_key, vp_me_free))
		vp_me_key = (pthread_key_t)-1;
}

/* Wake every blocked thread but the caller (vp_lock held). */
void vp_kick(void)
{
	uint64_t news = vs_news();
	struct vp_waiter *w;

	if (news == vp_news_seen)
		return;
	vp_news_seen = news;
	for (w = vp_waiting; w; w = w->next) {
		if (w == &vp_me || w->kicked)
			continue;
		w->kicked = true;
		eventfd_write(w->efd, 1);
	}
}

static void vp_unlink(struct vp_waiter *me)
{
	if (!me->linked)
		return;
	*me->pprev = me->next;
	if (me->next)
		me->next->pprev = me->pprev;
	me->linked = false;
}

/* A cancelled thread leaves the list (pthread_cancel in poll). */
static void vp_unlink_locked(void *arg)
{
	vp_enter();
	vp_unlink(arg);
	vp_unlock();
}

/*
 * A new eventfd for a waiting thread, at a high number: the program's
 * own fds keep the numbers the kernel would give them (a program may
 * count on two sockets opened one after the other being adjacent, and
 * a thread blocks for the first time at any moment, in a connect among
 * others). At least 512, or half the fd limit if that is lower.
 */
static int vp_waiter_fd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), hi;
	struct rlimit rl;
	long min = 512;

	if (fd < 0)
		return -1;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    (long)(rl.rlim_cur / 2) < min)
		min = (long)(rl.rlim_cur / 2);
	if (fd >= min)
		return fd;
	hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (int)min);
	if (hi < 0)
		return fd;	/* no room up there: a low number works too */
	REAL(close)(fd);
	return hi;
}

/*
 * vp_block() on @k (room for nk + 1 entries: the thread's eventfd goes
 * last), a wait for the endpoint's news, unless the epoch moved from
 * @epoch (a call ran since the caller looked: look again). Registered
 * under the lock before it blocks, so that news taken by any thread
 * after the caller's look either moved the epoch or kicks it. 0 (look
 * again) or -EINTR.
 */
int vp_block_ep(const struct vp_wait *w, struct pollfd *k, nfds_t nk, int ms,
		unsigned int epoch)
{
	struct vp_waiter *me = &vp_me;
	eventfd_t v;
	int r;

	vp_enter();
	if (__atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE) != epoch) {
		vp_unlock();
		return 0;
	}
	if (me->efd < 0) {
		pthread_once(&vp_me_once, vp_me_key_init);
		if (vp_me_key != (pthread_key_t)-1 &&
		    !pthread_setspecific(vp_me_key, me))
			me->efd = vp_waiter_fd();
	}
	if (me->efd >= 0) {
		me->next = vp_waiting;
		me->pprev = &vp_waiting;
		if (vp_waiting)
			vp_waiting->pprev = &me->next;
		vp_waiting = me;
		me->linked = true;
		vp_news_seen = vs_news();
		k[nk].fd = me->efd;
		k[nk].events = POLLIN;
		k[nk].revents = 0;
	}
	vp_unlock();
	pthread_cleanup_push(vp_unlink_locked, me);
	r = vp_block(w, k, nk + (me->efd >= 0), ms);
	pthread_cleanup_pop(0);
	vp_enter();
	vp_unlink(me);
	if (me->efd >= 0 && (k[nk].revents & POLLNVAL)) {
		me->efd = -1;	/* the program closed it: another next time */
	} else if (me->kicked) {
		eventfd_read(me->efd, &v);
	}
	me->kicked = false;
	vp_unlock();
	return r;
}

/* The child after fork: none of its parent's threads blocks here. */
void vp_waiters_fork_child(void)
{
	vp_waiting = NULL;
	vp_me.linked = false;
	vp_me.kicked = false;
	if (vp_me.efd >= 0)
		REAL(close)(vp_me.efd);	/* the parent's eventfd too */
	vp_me.efd = -1;
}

/*
 * The spin of a competitive wait (spin, then block: what the library's
 * own waits do, vmmc_ep_wait(3)), without holding the lock: for up to
 * the library's spin limit @ns, look with @look under the lock whenever
 * it is free. @look's first nonzero result (ready, or an error), or 0.
 * Off by default (VMMC_PRELOAD_SPIN_NS: ns, or -1 for the library's
 * limit): measured with tools/bench/apps.sh 2 vmmc on the shared 2-core
 * TCG host, the 64 B sockperf ping-pong took 287-345 us with the spin
 * and 192 us without: a spinning guest vCPU takes the host CPU that the
 * fabric (the NIC) needs to move the data.
 */
long vp_spin(long (*look)(void *), void *arg, uint32_t ns)
{
	long end = vp_now_ns() + (long)ns, r = 0;

	do {
		vp_inside++;
		if (!pthread_mutex_trylock(&vp_lock)) {
			r = look(arg);
			if (r)
				__atomic_add_fetch(&vp_epoch, 1,
						   __ATOMIC_RELEASE);
			if (vp_waiting)
				vp_kick();
			pthread_mutex_unlock(&vp_lock);
		}
		vp_inside--;
	} while (!r && vp_now_ns() < end);
	return r;
}

/* How long a wait spins before it blocks, ns (vp_lock held). */
uint32_t vp_spin_ns(void)
{
	if (vp_spin_env >= 0)
		return vp_spin_env > UINT32_MAX ? UINT32_MAX : (uint32_t)vp_spin_env;
	return vmmc_sock_spin_ns();
}

long vp_look_poll(void *arg)
{
	struct vp_pollset *p = arg;

	return vmmc_sock_poll(p->fds, p->n, 0);
}

/*
 * A blocking call found socket @fd not ready (vp_lock held, released
 * here): first spin without the lock (vp_spin), then wait for the NIC's
 * news without the lock, so other threads run meanwhile (a thread of
 * this process may be the one to make @fd ready), at most a slice. The
 * endpoint's fd is readable when a completion or notification arrives;
 * if another thread took the news first, it kicks this one (vp_kick()),
 * and a call that ran since we looked (the epoch) ends the wait. Every 5th
 * slice the library waits a moment itself, under the lock, which runs
 * its timers (liveness probes, connect retries). 0 (look again) or
 * -EINTR.
 */
int vp_wait_unlocked(struct vp_wait *w, int fd, short ev)
{
	unsigned int epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
	struct pollfd p[2] = { { .fd = vmmc_sock_ep_fd(), .events = POLLIN } };
	struct pollfd s = { .fd = fd, .events = ev };
	struct vp_pollset l = { .fds = &s, .n = 1 };
	uint32_t spin = vp_spin_ns();

	vp_wait_mask(w);
	if (!w->spun && spin) {
		w->spun = true;
		vp_unlock();
		vp_spin(vp_look_poll, &l, spin);
		return 0;
	}
	w->spun = false;
	if (w->round++ % 5 == 4 || p[0].fd < 0) {
		vmmc_sock_poll(&s, 1, 1);
		vp_leave();
		return vp_block(w, NULL, 0, 0);	/* a signal meanwhile? */
	}
	vp_unlock();
	return vp_block_ep(w, p, 1, vp_slice_ms, epoch);
}

long vp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * The node of an address of socket @f's family (AF_INET, or AF_INET6 when
 * f->v6), into *@v with the family it was named by (svm_via): a mapped
 * node's, or any node (the unspecified address, if @any_ok). IPv4-mapped
 * addresses (::ffff:a.b.c.d) on an AF_INET6 socket are IPv4, unless it is
 * IPV6_V6ONLY (then none: the kernel gives its error). false: not ours.
 */
bool vp_to_vmmc(const struct vp_fd *f, const struct sockaddr *a,
		socklen_t len, bool any_ok, struct sockaddr_vmmc *v)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	uint8_t via = VMMC_VIA_INET;
	struct in6_addr any = IN6ADDR_ANY_INIT;
	uint32_t a4 = 0;
	int node;

	if (!a || (f->v6 ? len < 24 || a->sa_family != AF_INET6 :
			   len < sizeof(*in) || a->sa_family != AF_INET))
		return false;	/* 24: without sin6_scope_id, as the kernel */
	if (!f->v6)
		a4 = in->sin_addr.s_addr;
	else if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && !f->v6only)
		memcpy(&a4, &in6->sin6_addr.s6_addr[12], 4);
	else if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return false;
	else
		via = VMMC_VIA_INET6;
	if (via == VMMC_VIA_INET6 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
		via = f->v6only ? VMMC_VIA_INET6 : VMMC_VIA_ANY;
	if (via == VMMC_VIA_INET ? a4 == htonl(INADDR_ANY) :
	    !memcmp(&in6->sin6_addr, &any, sizeof(any))) {
		if (!any_ok)
			return false;
		node = -2;
	} else {
		node = via == VMMC_VIA_INET ? vmmc_hostmap_node4(&vp_map, a4) :
		       vmmc_hostmap_node(&vp_map, &in6->sin6_addr);
		if (node < 0)
			return false;
	}
	memset(v, 0, sizeof(*v));
	v->svm_family = AF_VMMC;
	v->svm_port = ntohs(f->v6 ? in6->sin6_port : in->sin_port);
	v->svm_node = node == -2 ? VMMC_NODE_ANY : (uint32_t)node;
	v->svm_via = via;
	return true;
}

/*
 * struct sockaddr_vmmc -> socket @f's family, into the caller's (addr,
 * len): on an AF_INET6 socket, a connection made by IPv4 shows the
 * node's IPv4 address as ::ffff:a.b.c.d; others its IPv6 address (or,
 * if the map gives it none, the mapped IPv4 one).
 */
void vp_to_inet(const struct vp_fd *f, const struct sockaddr_vmmc *v,
		struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in in = { .sin_family = AF_INET };
	bool v4 = !f->v6 || v->svm_via == VMMC_VIA_INET;
	struct in6_addr a = IN6ADDR_ANY_INIT;
	const void *src = &in;
	socklen_t n = sizeof(in);

	if (v->svm_node != VMMC_NODE_ANY &&
	    (v4 || !vmmc_hostmap_addr(&vp_map, v->svm_node, true, &a)))
		vmmc_hostmap_addr(&vp_map, v->svm_node, false, &a);
	else if (v->svm_node == VMMC_NODE_ANY && v4)
		a.s6_addr[10] = a.s6_addr[11] = 0xff;	/* ::ffff:0.0.0.0 */
	if (f->v6) {
		in6.sin6_addr = a;
		in6.sin6_port = htons(v->svm_port);
		src = &in6;
		n = sizeof(in6);
	} else {
		memcpy(&in.sin_addr, &a.s6_addr[12], 4);
		in.sin_port = htons(v->svm_port);
	}
	if (addr && len) {
		memcpy(addr, src, *len < n ? *len : n);
		*len = n;
	}
}

/* O_NONBLOCK of VMMC socket @fd (vp_lock held); 1 if it is none. */
bool vp_nonblock(int fd)
{
	int id = vmmc_sock_id(fd);

	return id < 0 || vp_nb[id];
}

void vp_set_nonblock(int fd, bool on)
{
	int id = vmmc_sock_id(fd);

	if (id >= 0)
		vp_nb[id] = on;
}

/*
 * The options a program may have set on the kernel socket before it
 * turned VMMC: read back from the kernel, set on the VMMC socket @v (an
 * option the kernel keeps rounded reads back the same there). The buffer
 * sizes go only if the program set them (the kernel's defaults and
 * doubling are not ring sizes).
 */
static const struct { int level, name; } vp_copied[] = {
	{ SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_KEEPALIVE }, { SOL_SOCKET, SO_LINGER },
	{ SOL_SOCKET, SO_BROADCAST }, { SOL_SOCKET, SO_OOBINLINE },
	{ SOL_SOCKET, SO_DONTROUTE }, { SOL_SOCKET, SO_PRIORITY },
	{ SOL_SOCKET, SO_RCVLOWAT }, { SOL_SOCKET, SO_RCVTIMEO },
	{ SOL_SOCKET, SO_SNDTIMEO }, { IPPROTO_TCP, TCP_NODELAY },
	{ IPPROTO_TCP, TCP_MAXSEG }, { IPPROTO_TCP, TCP_CORK },
	{ IPPROTO_TCP, TCP_KEEPIDLE }, { IPPROTO_TCP, TCP_KEEPINTVL },
	{ IPPROTO_TCP, TCP_KEEPCNT }, { IPPROTO_TCP, TCP_SYNCNT },
	{ IPPROTO_TCP, TCP_LINGER2 }, { IPPROTO_TCP, TCP_DEFER_ACCEPT },
	{ IPPROTO_TCP, TCP_QUICKACK }, { IPPROTO_TCP, TCP_USER_TIMEOUT },
	{ IPPROTO_TCP, TCP_FASTOPEN }, { IPPROTO_TCP, TCP_FASTOPEN_CONNECT },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT }, { IPPROTO_TCP, TCP_CONGESTION },
	{ IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS }, { IPPROTO_IP, IP_TOS },
	{ IPPROTO_IP, IP_TTL }, { IPPROTO_IP, IP_MTU_DISCOVER },
};

void vp_copy_opts(int fd, int v)
{
	struct vp_fd *f = vp_get(fd);
	char buf[32];
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(vp_copied) / sizeof(vp_copied[0]); i++) {
		len = sizeof(buf);
		if (!REAL(getsockopt)(fd, vp_copied[i].level, vp_copied[i].name,
				      buf, &len))
			vmmc_sock_setsockopt(v, vp_copied[i].level,
					     vp_copied[i].name, buf, len);
	}
	if (f->rcvbuf)
		vmmc_sock_setsockopt(v, SOL_SOCKET, SO_RCVBUF, &f->rcvbuf,
				     sizeof(f->rcvbuf));
	if (f->sndbuf)
		vmmc_sock_setsockopt(v, SOL_SOCKET, SO_SNDBUF, &f->sndbuf,
				     sizeof(f->sndbuf));
}

/* The kernel socket @fd becomes a VMMC socket under the same number. */
int vp_convert(int fd)
{
	struct vp_fd *f = vp_get(fd);
	int v, r;

	v = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK |
			(f->cloexec ? SOCK_CLOEXEC : 0), 0);
	if (v < 0)
		return v;
	vp_copy_opts(fd, v);
	r = vmmc_sock_move(v, fd);
	if (r < 0) {
		vmmc_sock_close(v);
		return r;
	}
	vp_set_nonblock(fd, f->nonblock);
	vp_atfork();
	vp_set_kind(fd, VP_VMMC);
	vp_log("vmmc-preload: fd %d is a VMMC socket\n", fd);
	return 0;
}

/* The fork handlers, once (after the library's: it registers at its first socket). */
void vp_atfork(void)
{
	if (!vp_atfork_set && !pthread_atfork(vp_fork_prepare, vp_fork_parent,
					      vp_fork_child))
		vp_atfork_set = true;
}

/* ---- set-up ---- */

__attribute__((constructor)) static void vp_init(void)
{
	const char *off = getenv("VMMC_PRELOAD");
	char err[256] = "";

	vp_debug = getenv("VMMC_PRELOAD_DEBUG") && *getenv("VMMC_PRELOAD_DEBUG") != '0';
	vp_bind_any = getenv("VMMC_BIND_ANY") && *getenv("VMMC_BIND_ANY") == '1';
	vp_fallback = !getenv("VMMC_PRELOAD_FALLBACK") ||
		      *getenv("VMMC_PRELOAD_FALLBACK") != '0';
	if (off && !strcmp(off, "off"))
		return;
	if (getenv("VMMC_PRELOAD_SLICE_MS")) {
		long v = strtol(getenv("VMMC_PRELOAD_SLICE_MS"), NULL, 10);

		if (v >= 1 && v <= 60000)
			vp_slice_ms = (int)v;
	}
	if (getenv("VMMC_PRELOAD_SPIN_NS"))
		vp_spin_env = strtol(getenv("VMMC_PRELOAD_SPIN_NS"), NULL, 0);
	if (vmmc_hostmap_load(&vp_map, err, sizeof(err))) {
		fprintf(stderr, "libvmmc-preload: %s: every socket stays with the kernel\n",
			err);
		return;
	}
	vp_enabled = vp_map.n > 0;
	vp_log("vmmc-preload: %u addresses mapped\n", vp_map.n);
	if (vp_enabled)
		vp_dual_adopt();
}

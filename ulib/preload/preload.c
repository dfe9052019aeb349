// SPDX-License-Identifier: MIT
/*
 * preload.c - libvmmc-preload.so: unmodified socket programs over VMMC.
 *
 *   LD_PRELOAD=libvmmc-preload.so VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1 prog
 *
 * An AF_INET stream socket stays a kernel socket until the program
 * connect()s it to an address of the map (hostmap.h), or bind()s it to
 * one (or to INADDR_ANY, with VMMC_BIND_ANY=1): then the shim creates a
 * VMMC socket (vmmc_sock.h) and moves it onto the same descriptor number
 * (the kernel socket is closed by that dup3), so the program's fd is a
 * real kernel fd (an eventfd of the library) whose readiness the library
 * controls. From then on every call on that fd goes to the library; every
 * other fd (UDP, AF_UNIX, other hosts, files, pipes) goes to the kernel
 * untouched, and so does everything when the map is empty or
 * VMMC_PRELOAD=off.
 *
 * Rules:
 * - The library is not thread-safe: the shim serializes every call into
 *   it with one lock (vp_lock). A blocking call, and poll, select and
 *   epoll_wait, look under the lock without waiting, then wait for the
 *   NIC (and the call's kernel fds) without the lock, a slice at a time
 *   (vp_wait_unlocked, vp_poll_unlocked): threads on other sockets or on
 *   the same one run meanwhile.
 * - The library itself calls libc (close, read, poll, epoll_*, ...):
 *   while a thread is inside the library (the `inside` counter), every
 *   interposed function goes straight to libc.
 * - poll, select and epoll that involve a VMMC socket go to the library's
 *   vmmc_sock_poll / vmmc_sock_epoll_*, which wait on VMMC sockets and
 *   kernel fds together; calls that involve none go to the kernel.
 * - O_NONBLOCK (socket type, accept4, fcntl, fcntl64, ioctl FIONBIO) is
 *   the shim's record, one per socket (vp_nb), so shared by dup()s; the
 *   eventfd itself always stays non-blocking. FD_CLOEXEC is the kernel's.
 * - dup, dup2, dup3, F_DUPFD, F_DUPFD_CLOEXEC of a VMMC socket: aliases
 *   (vmmc_sock_dup, vmmc_sock_dup3); the socket closes with its last fd.
 * - fork: the parent keeps its sockets; the child's inherited ones are
 *   dead stand-ins (ENOTCONN, EINVAL; see vp_fork_prepare()).
 * - exec: VMMC fds without FD_CLOEXEC become stand-ins that read EOF and
 *   write EPIPE in the new image (see vp_exec_hide()).
 * - A signal handler that runs while a call waits ends it with EINTR
 *   (struct vp_wait); a handler must not call socket functions, close,
 *   dup2 or fork on a VMMC socket (inside the shim they go to libc).
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
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostmap.h"
#include "vmmc_sock.h"

#define VP_MAXFD	65536	/* fds the shim can track; others: kernel */
#define VP_SLICE_MS	20

enum vp_kind {
	VP_NONE = 0,
	VP_INET,	/* kernel AF_INET stream socket: may turn VMMC */
	VP_VMMC,	/* a VMMC socket */
	VP_DEAD,	/* a VMMC socket inherited over fork: unusable */
	VP_EPOLL,	/* an epoll fd the library knows */
};

struct vp_fd {
	uint8_t kind;
	uint8_t nonblock;
	uint8_t cloexec;
	uint8_t reuse, nodelay, keepalive;
	int rcvbuf, sndbuf;
};

static struct vp_fd vp_fds[VP_MAXFD];
/*
 * Bumped each time an fd number stops naming what it named (its kind
 * set to VP_NONE: close, dup2 over it, close_range): a waiting call
 * that finds it moved fails with EBADF (struct vp_hold).
 */
static unsigned int vp_gen[VP_MAXFD];
static int vp_hi = -1;		/* highest fd ever given a kind */
/*
 * O_NONBLOCK of each VMMC socket, by vmmc_sock_id(): a property of the
 * socket (of the open file description, for the kernel), so shared by
 * its dup()s. Written at creation and by F_SETFL/FIONBIO, under vp_lock.
 */
static uint8_t vp_nb[65536];
static pthread_mutex_t vp_lock = PTHREAD_MUTEX_INITIALIZER;
static bool vp_atfork_set;
static __thread int inside;
static struct vmmc_hostmap vp_map;
static bool vp_enabled, vp_bind_any, vp_debug;
#ifndef VP_SPIN_DEFAULT
#define VP_SPIN_DEFAULT	0	/* measured: see vp_spin() */
#endif
/* VMMC_PRELOAD_SPIN_NS: the waits' spin (-1: the library's limit) */
static long vp_spin_env = VP_SPIN_DEFAULT;

/* ---- the real functions ---- */

#define REAL(name)	(real_##name ? real_##name : (vp_resolve(), real_##name))

static void vp_resolve(void);

static int (*real_socket)(int, int, int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_listen)(int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
			      const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *,
				socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned int, int);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			    struct timespec *);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_close)(int);
static int (*real_shutdown)(int, int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_fcntl)(int, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *,
			 const sigset_t *);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *,
			  struct timeval *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *,
			   const struct timespec *, const sigset_t *);
static int (*real_epoll_ctl)(int, int, int, struct epoll_event *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int,
			       const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int,
				const struct timespec *, const sigset_t *);
static int (*real_close_range)(unsigned int, unsigned int, int);
static void (*real_closefrom)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_splice)(int, loff_t *, int, loff_t *, size_t,
			      unsigned int);
static int (*real_fcntl64)(int, int, ...);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execv)(const char *, char *const[]);
static int (*real_execvp)(const char *, char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);
static int (*real_posix_spawn)(pid_t *, const char *,
			       const posix_spawn_file_actions_t *,
			       const posix_spawnattr_t *, char *const[],
			       char *const[]);
static FILE *(*real_fdopen)(int, const char *);
static int (*real_fileno)(FILE *);
static int (*real_system)(const char *);
static FILE *(*real_popen)(const char *, const char *);
static int (*real_pclose)(FILE *);
static int (*real_posix_spawnp)(pid_t *, const char *,
				const posix_spawn_file_actions_t *,
				const posix_spawnattr_t *, char *const[],
				char *const[]);

/* Every real function; before main if a constructor already calls one. */
static void vp_resolve(void)
{
#define R(name)	(real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name))
	R(socket);
	R(bind);
	R(listen);
	R(accept);
	R(accept4);
	R(connect);
	R(send);
	R(sendto);
	R(sendmsg);
	R(recv);
	R(recvfrom);
	R(recvmsg);
	R(sendmmsg);
	R(recvmmsg);
	R(read);
	R(write);
	R(readv);
	R(writev);
	R(close);
	R(shutdown);
	R(getsockname);
	R(getpeername);
	R(setsockopt);
	R(getsockopt);
	R(fcntl);
	R(ioctl);
	R(poll);
	R(ppoll);
	R(select);
	R(pselect);
	R(epoll_ctl);
	R(epoll_wait);
	R(epoll_pwait);
	R(epoll_pwait2);
	R(close_range);
	R(closefrom);
	R(dup);
	R(dup2);
	R(dup3);
	R(sendfile);
	R(splice);
	R(fcntl64);
	R(execve);
	R(execv);
	R(execvp);
	R(execvpe);
	R(fexecve);
	R(posix_spawn);
	R(posix_spawnp);
	R(fdopen);
	R(fileno);
	R(system);
	R(popen);
	R(pclose);
	if (!real_fcntl64)
		real_fcntl64 = real_fcntl;
#undef R
}

/* ---- helpers ---- */

static void vp_log(const char *fmt, ...)
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

static struct vp_fd *vp_get(int fd)
{
	return fd >= 0 && fd < VP_MAXFD ? &vp_fds[fd] : NULL;
}

static int vp_kind(int fd)
{
	struct vp_fd *f = vp_get(fd);

	return f && !inside ? __atomic_load_n(&f->kind, __ATOMIC_ACQUIRE) :
			      VP_NONE;
}

static void vp_set_kind(int fd, enum vp_kind k)
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

/* bumped by every call out of the library: a waiter's "something moved" */
static unsigned int vp_epoch;

/*
 * "inside" is raised before the lock is taken and lowered after it is
 * released, so that a signal handler that interrupts a thread holding
 * (or taking) the lock never tries to take it again: its calls go to
 * libc. Hence the rule for signal handlers (docs/api.md): a handler may
 * call async-signal-safe functions on kernel fds, but not socket calls,
 * close, dup2 or fork on VMMC sockets (they would reach the library's
 * eventfd through libc).
 */
static void vp_enter(void)
{
	inside++;
	pthread_mutex_lock(&vp_lock);
}

static void vp_unlock(void)
{
	pthread_mutex_unlock(&vp_lock);
	inside--;
}

static void vp_leave(void)
{
	__atomic_add_fetch(&vp_epoch, 1, __ATOMIC_RELEASE);
	vp_unlock();
}

static long vp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/*
 * One blocking call's wait (VP_CALL, poll, select, epoll_wait and their
 * p- forms). From its second wait on (from the first for ppoll, pselect
 * and epoll_pwait) the call blocks the asynchronous signals (@old: the
 * thread's mask before) and then only ever waits in the kernel with
 * ppoll(2) and @mask (the caller's mask, else @old): a signal that comes
 * while the call spins or looks under the lock stays pending until that
 * wait, which delivers it and fails with EINTR, so a handler that runs
 * ends the call with EINTR (as the kernel's blocking calls without
 * SA_RESTART), and the caller's mask applies atomically. The first wait
 * of a call without a mask is a plain poll(2), for the latency of a
 * short wait (two system calls less): a signal handled in the moment
 * before it (the call's first look) is missed, as one just before the
 * call would be.
 */
struct vp_wait {
	unsigned int round;	/* waits so far */
	unsigned int blocks;	/* waits in the kernel so far */
	bool spun;		/* the last wait spun: block the next */
	bool masked;		/* @old holds the mask to restore */
	const sigset_t *mask;	/* the caller's, or NULL (then &old) */
	sigset_t old;
};

static void vp_wait_begin(struct vp_wait *w, const sigset_t *mask)
{
	w->round = 0;
	w->blocks = 0;
	w->spun = false;
	w->masked = false;
	w->mask = mask;
}

static void vp_wait_mask(struct vp_wait *w)
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

static void vp_wait_end(struct vp_wait *w)
{
	int e = errno;

	if (w->masked)
		pthread_sigmask(SIG_SETMASK, &w->old, NULL);
	errno = e;
}

/*
 * Wait in the kernel (lock not held) at most @ms for @k, with the call's
 * signal mask: 0, or -EINTR when a signal handler ran.
 */
static int vp_block(const struct vp_wait *w, struct pollfd *k, nfds_t nk,
		    int ms)
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
static long vp_spin(long (*look)(void *), void *arg, uint32_t ns)
{
	long end = vp_now_ns() + (long)ns, r = 0;

	do {
		inside++;
		if (!pthread_mutex_trylock(&vp_lock)) {
			r = look(arg);
			if (r)
				__atomic_add_fetch(&vp_epoch, 1,
						   __ATOMIC_RELEASE);
			pthread_mutex_unlock(&vp_lock);
		}
		inside--;
	} while (!r && vp_now_ns() < end);
	return r;
}

/* How long a wait spins before it blocks, ns (vp_lock held). */
static uint32_t vp_spin_ns(void)
{
	if (vp_spin_env >= 0)
		return vp_spin_env > UINT32_MAX ? UINT32_MAX : (uint32_t)vp_spin_env;
	return vmmc_sock_spin_ns();
}

struct vp_pollset {
	struct pollfd *fds;
	nfds_t n;
};

static long vp_look_poll(void *arg)
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
 * if another thread took the news first, the wait ends with its slice,
 * unless the epoch shows that some call ran since we looked. Every 5th
 * slice the library waits a moment itself, under the lock, which runs
 * its timers (liveness probes, connect retries). 0 (look again) or
 * -EINTR.
 */
static int vp_wait_unlocked(struct vp_wait *w, int fd, short ev)
{
	unsigned int epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
	struct pollfd p = { .fd = vmmc_sock_ep_fd(), .events = POLLIN };
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
	if (w->round++ % 5 == 4 || p.fd < 0) {
		vmmc_sock_poll(&s, 1, 1);
		vp_leave();
		return vp_block(w, NULL, 0, 0);	/* a signal meanwhile? */
	}
	vp_unlock();
	if (__atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE) != epoch)
		return 0;
	return vp_block(w, &p, 1, VP_SLICE_MS);
}

static int vp_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static ssize_t vp_sret(ssize_t r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static long vp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* AF_INET address of a mapped node -> struct sockaddr_vmmc */
static bool vp_to_vmmc(const struct sockaddr *a, socklen_t len, bool any_ok,
		       struct sockaddr_vmmc *v)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	int node;

	if (!a || len < sizeof(*in) || a->sa_family != AF_INET)
		return false;
	if (in->sin_addr.s_addr == htonl(INADDR_ANY)) {
		if (!any_ok)
			return false;
		node = -2;
	} else {
		node = vmmc_hostmap_node(&vp_map, in->sin_addr.s_addr);
		if (node < 0)
			return false;
	}
	memset(v, 0, sizeof(*v));
	v->svm_family = AF_VMMC;
	v->svm_port = ntohs(in->sin_port);
	v->svm_node = node == -2 ? VMMC_NODE_ANY : (uint32_t)node;
	return true;
}

/* struct sockaddr_vmmc -> AF_INET, into the caller's (addr, len) */
static void vp_to_inet(const struct sockaddr_vmmc *v, struct sockaddr *addr,
		       socklen_t *len)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	uint32_t a = htonl(INADDR_ANY);

	if (v->svm_node != VMMC_NODE_ANY)
		vmmc_hostmap_addr(&vp_map, v->svm_node, &a);
	in.sin_addr.s_addr = a;
	in.sin_port = htons(v->svm_port);
	if (addr && len) {
		memcpy(addr, &in, *len < sizeof(in) ? *len : sizeof(in));
		*len = sizeof(in);
	}
}

/* O_NONBLOCK of VMMC socket @fd (vp_lock held); 1 if it is none. */
static bool vp_nonblock(int fd)
{
	int id = vmmc_sock_id(fd);

	return id < 0 || vp_nb[id];
}

static void vp_set_nonblock(int fd, bool on)
{
	int id = vmmc_sock_id(fd);

	if (id >= 0)
		vp_nb[id] = on;
}

/*
 * Put on @fd a stand-in for a VMMC socket this process image cannot use
 * (after fork, in the child; across exec): a stream socket whose peer is
 * gone, so that a program that does not know it reads EOF, gets EPIPE on
 * a write and never waits on it (poll says ready at once), and the fd
 * number stays taken until the program closes it.
 */
static int vp_stand_in(int fd, bool cloexec)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	REAL(close)(sv[1]);
	if (sv[0] == fd)	/* the number was free: it is the stand-in */
		return cloexec || !REAL(fcntl)(fd, F_SETFD, 0) ? 0 : -errno;
	r = REAL(dup3)(sv[0], fd, cloexec ? O_CLOEXEC : 0);
	r = r < 0 ? -errno : 0;
	REAL(close)(sv[0]);
	return r;
}

static void vp_fork_prepare(void);
static void vp_fork_parent(void);
static void vp_fork_child(void);

/* The kernel socket @fd becomes a VMMC socket under the same number. */
static int vp_convert(int fd)
{
	struct vp_fd *f = vp_get(fd);
	int v, r, one = 1;

	v = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK |
			(f->cloexec ? SOCK_CLOEXEC : 0), 0);
	if (v < 0)
		return v;
	if (f->reuse)
		vmmc_sock_setsockopt(v, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (f->keepalive)
		vmmc_sock_setsockopt(v, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (f->nodelay)
		vmmc_sock_setsockopt(v, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (f->rcvbuf)
		vmmc_sock_setsockopt(v, SOL_SOCKET, SO_RCVBUF, &f->rcvbuf,
				     sizeof(f->rcvbuf));
	if (f->sndbuf)
		vmmc_sock_setsockopt(v, SOL_SOCKET, SO_SNDBUF, &f->sndbuf,
				     sizeof(f->sndbuf));
	r = vmmc_sock_move(v, fd);
	if (r < 0) {
		vmmc_sock_close(v);
		return r;
	}
	vp_set_nonblock(fd, f->nonblock);
	/* after the library's own (it registers at its first socket) */
	if (!vp_atfork_set && !pthread_atfork(vp_fork_prepare, vp_fork_parent,
					      vp_fork_child))
		vp_atfork_set = true;
	vp_set_kind(fd, VP_VMMC);
	vp_log("vmmc-preload: fd %d is a VMMC socket\n", fd);
	return 0;
}

/*
 * What a blocking call waits on: the socket that @fd named at its start
 * (vp_lock held), not the number: if another thread closes @fd, or
 * dup2()s another socket or file onto it, meanwhile, the call fails with
 * EBADF instead of going on with whatever the number names now.
 */
struct vp_hold {
	unsigned int gen;
	int id;
};

static void vp_hold(struct vp_hold *h, int fd)
{
	h->gen = fd >= 0 && fd < VP_MAXFD ?
		 __atomic_load_n(&vp_gen[fd], __ATOMIC_ACQUIRE) : 0;
	h->id = vmmc_sock_id(fd);
}

static bool vp_held(const struct vp_hold *h, int fd)
{
	struct vp_hold now;

	vp_hold(&now, fd);
	return now.gen == h->gen && now.id == h->id;
}

/*
 * Run @op on VMMC socket @fd with the socket's blocking mode: a blocking
 * socket tries non-blocking and waits for @events between tries,
 * without the lock (vp_wait_unlocked); -EINTR if a signal handler ran,
 * -EBADF if @fd stopped naming the socket meanwhile (vp_hold).
 */
#define VP_CALL(fd, ev_, dontwait, expr)				\
	({								\
		struct vp_wait w_;					\
		struct vp_hold h_;					\
		long r_;						\
		vp_wait_begin(&w_, NULL);				\
		vp_enter();						\
		vp_hold(&h_, (fd));					\
		for (;;) {						\
			r_ = vp_held(&h_, (fd)) ? (long)(expr) : -EBADF; \
			if (r_ != -EAGAIN || (dontwait) || vp_nonblock(fd)) { \
				vp_leave();				\
				break;					\
			}						\
			r_ = vp_wait_unlocked(&w_, (fd), (ev_));	\
			if (r_)						\
				break;					\
			vp_enter();					\
		}							\
		vp_wait_end(&w_);					\
		r_;							\
	})

/* ---- set-up ---- */

/*
 * fork(): a VMMC socket belongs to the process that made it (its rings,
 * exports and endpoint are that process's). The parent keeps every
 * socket; in the child each inherited one is dead: data calls fail with
 * ENOTCONN, accept/listen/bind with EINVAL, poll says ready at once, and
 * close() frees the number; the child can make VMMC sockets of its own.
 * The lock is held across fork, so the library's state is whole in both.
 */
static void vp_fork_prepare(void)
{
	int fd, hi;

	/* held, and "inside": the library's child handler calls close() */
	vp_enter();
	hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);
	for (fd = 0; fd <= hi; fd++)
		if (vp_fds[fd].kind == VP_VMMC)
			vp_fds[fd].cloexec = !!(REAL(fcntl)(fd, F_GETFD) &
						FD_CLOEXEC);
}

static void vp_fork_parent(void)
{
	vp_leave();
}

/* Runs after the library's handler, which forgot the sockets. */
static void vp_fork_child(void)
{
	int fd, hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);

	for (fd = 0; fd <= hi; fd++) {
		if (vp_fds[fd].kind == VP_VMMC) {
			vp_stand_in(fd, vp_fds[fd].cloexec);
			vp_fds[fd].kind = VP_DEAD;
		} else if (vp_fds[fd].kind == VP_EPOLL) {
			vp_fds[fd].kind = VP_NONE;
		}
	}
	inside--;
	pthread_mutex_init(&vp_lock, NULL);
}

__attribute__((constructor)) static void vp_init(void)
{
	const char *off = getenv("VMMC_PRELOAD");
	char err[256] = "";

	vp_debug = getenv("VMMC_PRELOAD_DEBUG") && *getenv("VMMC_PRELOAD_DEBUG") != '0';
	vp_bind_any = getenv("VMMC_BIND_ANY") && *getenv("VMMC_BIND_ANY") == '1';
	if (off && !strcmp(off, "off"))
		return;
	if (getenv("VMMC_PRELOAD_SPIN_NS"))
		vp_spin_env = strtol(getenv("VMMC_PRELOAD_SPIN_NS"), NULL, 0);
	if (vmmc_hostmap_load(&vp_map, err, sizeof(err))) {
		fprintf(stderr, "libvmmc-preload: %s: every socket stays with the kernel\n",
			err);
		return;
	}
	vp_enabled = vp_map.n > 0;
	vp_log("vmmc-preload: %u addresses mapped\n", vp_map.n);
}

/* ---- the interposed calls ---- */

int socket(int domain, int type, int protocol)
{
	int fd = REAL(socket)(domain, type, protocol);
	struct vp_fd *f = vp_get(fd);

	if (fd < 0 || inside || !f)
		return fd;
	memset(f, 0, sizeof(*f));
	if (vp_enabled && domain == AF_INET && (type & 0xf) == SOCK_STREAM &&
	    (!protocol || protocol == IPPROTO_TCP)) {
		f->nonblock = !!(type & SOCK_NONBLOCK);
		f->cloexec = !!(type & SOCK_CLOEXEC);
		vp_set_kind(fd, VP_INET);
	}
	return fd;
}

/* A connect in progress on @fd (vp_lock held): -EAGAIN, 0 or -errno. */
static long vp_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;
	long r;

	r = vmmc_sock_poll(&p, 1, 0);
	if (r <= 0)
		return r ? r : -EAGAIN;
	r = vmmc_sock_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return r < 0 ? r : -err;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_vmmc v;
	int k = vp_kind(fd);
	bool nb;
	long r;

	if (k == VP_INET && vp_to_vmmc(addr, len, false, &v)) {
		vp_enter();
		r = vp_convert(fd);
		vp_leave();
		if (r < 0)
			return vp_ret(r);
		k = VP_VMMC;
	}
	if (k == VP_DEAD)
		return vp_ret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(connect)(fd, addr, len);
	if (!vp_to_vmmc(addr, len, false, &v))
		return vp_ret(addr && len >= sizeof(sa_family_t) &&
			      addr->sa_family != AF_INET ? -EAFNOSUPPORT :
			      -ENETUNREACH);
	/* the library's socket is non-blocking: the handshake is waited
	 * for here, without the lock */
	vp_enter();
	r = vmmc_sock_connect(fd, (struct sockaddr *)&v, sizeof(v));
	nb = vp_nonblock(fd);
	vp_leave();
	if (r != -EINPROGRESS || nb)
		return vp_ret(r);
	return vp_ret(VP_CALL(fd, POLLOUT, false, vp_connected(fd)));
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_vmmc v;
	int k = vp_kind(fd);
	long r;

	if (k == VP_INET && vp_to_vmmc(addr, len, vp_bind_any, &v)) {
		vp_enter();
		r = vp_convert(fd);
		if (!r)
			r = vmmc_sock_bind(fd, (struct sockaddr *)&v, sizeof(v));
		vp_leave();
		return vp_ret(r);
	}
	if (k == VP_VMMC) {
		if (!vp_to_vmmc(addr, len, true, &v))
			return vp_ret(-EADDRNOTAVAIL);
		vp_enter();
		r = vmmc_sock_bind(fd, (struct sockaddr *)&v, sizeof(v));
		vp_leave();
		return vp_ret(r);
	}
	return k == VP_DEAD ? vp_ret(-EINVAL) : REAL(bind)(fd, addr, len);
}

int listen(int fd, int backlog)
{
	long r;

	if (vp_kind(fd) != VP_VMMC)
		return vp_kind(fd) == VP_DEAD ? vp_ret(-EINVAL) :
						 REAL(listen)(fd, backlog);
	vp_enter();
	r = vmmc_sock_listen(fd, backlog);
	vp_leave();
	return vp_ret(r);
}

/* The library accepted @r (vp_lock held): make it ours. */
static long vp_accepted(long r, int flags)
{
	struct vp_fd *f = vp_get((int)r);

	if (r < 0)
		return r;
	if (!f) {		/* beyond what we track: cannot serve it */
		vmmc_sock_close((int)r);
		return -EMFILE;
	}
	memset(f, 0, sizeof(*f));
	f->cloexec = !!(flags & SOCK_CLOEXEC);
	vp_set_nonblock((int)r, flags & SOCK_NONBLOCK);
	vp_set_kind((int)r, VP_VMMC);
	return r;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sockaddr_vmmc v;
	socklen_t vlen = sizeof(v);
	long r;

	if (vp_kind(fd) != VP_VMMC)
		return vp_kind(fd) == VP_DEAD ? vp_ret(-EINVAL) :
		       REAL(accept4)(fd, addr, len, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return vp_ret(-EINVAL);
	r = VP_CALL(fd, POLLIN, false,
		    vp_accepted(vmmc_sock_accept4(fd, (struct sockaddr *)&v,
						  &vlen, (flags & SOCK_CLOEXEC) |
						  SOCK_NONBLOCK), flags));
	if (r < 0)
		return vp_ret(r);
	if (addr)
		vp_to_inet(&v, addr, len);
	return (int)r;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (vp_kind(fd) != VP_VMMC && vp_kind(fd) != VP_DEAD)
		return REAL(accept)(fd, addr, len);
	return accept4(fd, addr, len, 0);
}

/* vp_nonblock() under the lock, for calls that loop outside it. */
static bool vp_nonblock_locked(int fd)
{
	bool nb;

	vp_enter();
	nb = vp_nonblock(fd);
	vp_leave();
	return nb;
}

/*
 * As a kernel socket: a blocking send returns when every byte is queued
 * (or with what was queued before an error); a non-blocking one takes
 * what fits.
 */
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	int k = vp_kind(fd);
	size_t done = 0;
	long r;

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(send)(fd, buf, len, flags);
	for (;;) {
		r = VP_CALL(fd, POLLOUT, flags & MSG_DONTWAIT,
			    vmmc_sock_send(fd, (const char *)buf + done,
					   len - done, flags | MSG_DONTWAIT));
		if (r < 0)
			return done ? (ssize_t)done : vp_sret(r);
		done += (size_t)r;
		if (done == len || (flags & MSG_DONTWAIT) ||
		    vp_nonblock_locked(fd))
			return (ssize_t)done;
	}
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(sendto)(fd, buf, len, flags, addr, alen);
	/* as Linux TCP: the address of a stream sendto() is ignored */
	(void)addr;
	(void)alen;
	return send(fd, buf, len, flags);
}

/*
 * A split-phase receive into @p began on socket @id, and the descriptor
 * it began on now names something else (vp_held()): end it through
 * another descriptor of that socket, if it has one left (closing the
 * last one ended it already), and give its bytes (0 if none). The
 * library checks that the receive under way is into @p, so a socket that
 * took the number @id since cannot lose its own. vp_lock held.
 */
static ssize_t vp_recv_orphan(int id, char *p, size_t n, int flags)
{
	int fd, hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);
	ssize_t r;

	for (fd = 0; fd <= hi; fd++) {
		if (vp_fds[fd].kind != VP_VMMC || vmmc_sock_id(fd) != id)
			continue;
		r = vmmc_sock_recv_end(fd, p, n, flags, 1);
		return r > 0 ? r : 0;
	}
	return 0;
}

/*
 * A blocking recv (and read) on VMMC socket @fd: the library's split-phase
 * receive (vmmc_sock_recv_begin(3)) posts the buffer for zero-copy when
 * the ring is empty; the wait runs without the lock as VP_CALL's does,
 * other threads using the stack meanwhile, and vmmc_sock_recv_end()
 * takes what came. MSG_WAITALL waits for all of it, as the kernel's. A
 * signal handler that runs ends it: the bytes that came, else EINTR.
 */
static ssize_t vp_recv_zc(int fd, void *buf, size_t len, int flags)
{
	bool pending = false, stop = false, first = true;
	bool all = (flags & MSG_WAITALL) && !(flags & MSG_PEEK);
	struct vp_wait w;
	struct vp_hold h;
	size_t got = 0;
	ssize_t r;

	vp_wait_begin(&w, NULL);
	for (;;) {
		char *p = (char *)buf + got;

		vp_enter();
		if (first) {
			vp_hold(&h, fd);
			first = false;
		} else if (!vp_held(&h, fd)) {
			/* @fd names another socket now: end ours, EBADF */
			r = pending ? vp_recv_orphan(h.id, p, len - got, flags) : 0;
			vp_leave();
			if (r > 0)
				got += (size_t)r;
			r = -EBADF;
			break;
		}
		if (pending)
			r = vmmc_sock_recv_end(fd, p, len - got, flags, stop);
		else if (vp_nonblock(fd))
			r = vmmc_sock_recv(fd, p, len - got, flags | MSG_DONTWAIT);
		else
			r = vmmc_sock_recv_begin(fd, p, len - got, flags);
		pending = r == -EINPROGRESS;
		if (r > 0)
			got += (size_t)r;
		if (r > 0 && all && got < len && !stop) {
			vp_leave();
			continue;
		}
		if (stop || (!pending && (r != -EAGAIN || vp_nonblock(fd)))) {
			vp_leave();
			break;
		}
		r = vp_wait_unlocked(&w, fd, POLLIN);
		if (r && !pending)
			break;
		stop = r != 0;
	}
	vp_wait_end(&w);
	if (got)
		return (ssize_t)got;
	return stop && r == -EAGAIN ? -EINTR : r;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	int k = vp_kind(fd);

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(recv)(fd, buf, len, flags);
	if (!(flags & MSG_DONTWAIT))
		return vp_sret(vp_recv_zc(fd, buf, len, flags));
	return vp_sret(VP_CALL(fd, POLLIN, flags & MSG_DONTWAIT,
			       vmmc_sock_recv(fd, buf, len,
					      flags | MSG_DONTWAIT)));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 struct sockaddr *addr, socklen_t *alen)
{
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	if (addr && alen)
		*alen = 0;	/* a connected stream: no source address */
	return recv(fd, buf, len, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int k = vp_kind(fd);

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(sendmsg)(fd, msg, flags);
	return vp_sret(VP_CALL(fd, POLLOUT, flags & MSG_DONTWAIT,
			       vmmc_sock_sendmsg(fd, msg,
						 flags | MSG_DONTWAIT)));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	int k = vp_kind(fd);

	if (k == VP_DEAD)
		return vp_sret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(recvmsg)(fd, msg, flags);
	return vp_sret(VP_CALL(fd, POLLIN, flags & MSG_DONTWAIT,
			       vmmc_sock_recvmsg(fd, msg,
						 flags | MSG_DONTWAIT)));
}

/*
 * sendmmsg/recvmmsg on a VMMC socket: sendmsg/recvmsg per message, as
 * the kernel loops (vlen capped at UIO_MAXIOV): an error on the first
 * message is the call's, a later one ends it with the count so far.
 * recvmmsg: MSG_WAITFORONE makes every message after the first
 * MSG_DONTWAIT; @timeout is checked after each message (it does not
 * bound a wait, as the kernel's) and left holding the time remaining.
 */
int sendmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags)
{
	int k = vp_kind(fd);
	unsigned int i;
	ssize_t r;

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(sendmmsg)(fd, v, vlen, flags);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen; i++) {
		r = sendmsg(fd, &v[i].msg_hdr, flags);
		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags,
	     struct timespec *timeout)
{
	int k = vp_kind(fd);
	long end = 0, left;
	unsigned int i;
	ssize_t r;

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(recvmmsg)(fd, v, vlen, flags, timeout);
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= 1000000000L)
			return vp_ret(-EINVAL);
		end = vp_now_ns() + timeout->tv_sec * 1000000000L +
		      timeout->tv_nsec;
	}
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen;) {
		r = recvmsg(fd, &v[i].msg_hdr, flags & ~MSG_WAITFORONE);
		if (r < 0)
			return i ? (int)i : -1;
		v[i++].msg_len = (unsigned int)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timeout) {
			left = end - vp_now_ns();
			if (left < 0)
				left = 0;
			timeout->tv_sec = left / 1000000000L;
			timeout->tv_nsec = left % 1000000000L;
			if (!left)
				break;
		}
	}
	return (int)i;
}

ssize_t read(int fd, void *buf, size_t len)
{
	int k = vp_kind(fd);

	if (k == VP_VMMC || k == VP_DEAD)
		return recv(fd, buf, len, 0);
	return REAL(read)(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	int k = vp_kind(fd);

	if (k == VP_VMMC || k == VP_DEAD)
		return send(fd, buf, len, 0);
	return REAL(write)(fd, buf, len);
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov,
			    .msg_iovlen = cnt > 0 ? (size_t)cnt : 0 };
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(readv)(fd, iov, cnt);
	if (cnt < 0 || cnt > IOV_MAX)
		return vp_sret(-EINVAL);
	return recvmsg(fd, &m, 0);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov,
			    .msg_iovlen = cnt > 0 ? (size_t)cnt : 0 };
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(writev)(fd, iov, cnt);
	if (cnt < 0 || cnt > IOV_MAX)
		return vp_sret(-EINVAL);
	return sendmsg(fd, &m, 0);
}

/*
 * The linger of a socket's last close (vmmc_sock_release() gave @h > 0):
 * look under the lock, wait for the NIC's news without it, a slice at a
 * time, until the data and the FIN are out or the linger's time passed
 * (2 s at most), so other threads' calls run meanwhile.
 */
static void vp_linger(int h)
{
	struct pollfd p = { .events = POLLIN };
	unsigned int epoch;

	while (h > 0) {
		vp_enter();
		if (!vmmc_sock_linger(h)) {
			vp_leave();
			return;
		}
		p.fd = vmmc_sock_ep_fd();
		epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
		vp_unlock();
		if (p.fd >= 0 && __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE) ==
		    epoch)
			REAL(poll)(&p, 1, VP_SLICE_MS);
	}
}

/*
 * close(): the shim's entry and the library's fd-table entry go first,
 * the kernel fd last, so that the number is never free in the kernel
 * while the shim or the library still take it for a VMMC socket (another
 * thread's open() could get it). When this was the socket's last fd, its
 * linger (up to 2 s) runs after that, without the lock (vp_linger).
 */
int close(int fd)
{
	int k = vp_kind(fd);
	long r;

	if (k == VP_VMMC) {
		vp_enter();
		vp_set_kind(fd, VP_NONE);
		r = vmmc_sock_release(fd);
		vp_leave();
		if (r == -EBADF)	/* not the library's: the kernel's */
			return REAL(close)(fd);
		REAL(close)(fd);
		vp_linger((int)r);
		return vp_ret(r > 0 ? 0 : r);
	}
	if (k == VP_EPOLL) {
		vp_enter();
		vmmc_sock_epoll_close(fd);
		vp_set_kind(fd, VP_NONE);
		vp_leave();
	} else if (k != VP_NONE) {
		vp_set_kind(fd, VP_NONE);
	}
	return REAL(close)(fd);
}

/*
 * close_range(2) and closefrom(3) (glibc's closefrom calls close_range
 * inside libc, out of the shim's reach): the shim and the library forget
 * the fds of the range first (a VMMC socket closes with its last fd),
 * then the kernel closes them. CLOSE_RANGE_CLOEXEC closes nothing.
 */
#define VP_LINGER_MAX	64

struct vp_lingers {
	int n, h[VP_LINGER_MAX];
};

/* @h from vmmc_sock_release(): one more close to linger (vp_lock held) */
static void vp_linger_add(struct vp_lingers *l, long h)
{
	if (h <= 0)
		return;
	if (l->n < VP_LINGER_MAX)
		l->h[l->n++] = (int)h;
	/* else: it lingers in the background (the library's timers end it) */
}

static void vp_linger_all(struct vp_lingers *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		vp_linger(l->h[i]);
	l->n = 0;
}

static void vp_forget_range(unsigned int first, unsigned int last,
			    struct vp_lingers *l)
{
	int hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED), fd;

	vp_enter();
	for (fd = (int)first; fd <= hi && (unsigned int)fd <= last && fd >= 0;
	     fd++) {
		switch (__atomic_load_n(&vp_fds[fd].kind, __ATOMIC_ACQUIRE)) {
		case VP_NONE:
			continue;
		case VP_VMMC:
			vp_set_kind(fd, VP_NONE);
			vp_linger_add(l, vmmc_sock_release(fd));
			break;
		case VP_EPOLL:
			vp_set_kind(fd, VP_NONE);
			vmmc_sock_epoll_close(fd);
			break;
		default:
			vp_set_kind(fd, VP_NONE);
			break;
		}
	}
	vp_leave();
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	struct vp_lingers l = { .n = 0 };
	int r;

	if (!REAL(close_range))
		return vp_ret(-ENOSYS);
	if (!inside && first <= last &&
	    !(flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	    !(flags & CLOSE_RANGE_CLOEXEC))
		vp_forget_range(first, last, &l);
	r = REAL(close_range)(first, last, flags);
	vp_linger_all(&l);
	return r;
}

void closefrom(int lowfd)
{
	struct vp_lingers l = { .n = 0 };

	if (!inside && lowfd >= 0)
		vp_forget_range((unsigned int)lowfd, ~0U, &l);
	if (REAL(closefrom))
		REAL(closefrom)(lowfd);
	vp_linger_all(&l);
}

int shutdown(int fd, int how)
{
	long r;

	if (vp_kind(fd) == VP_DEAD)
		return vp_ret(-ENOTCONN);
	if (vp_kind(fd) != VP_VMMC)
		return REAL(shutdown)(fd, how);
	vp_enter();
	r = vmmc_sock_shutdown(fd, how);
	vp_leave();
	return vp_ret(r);
}

static int vp_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_vmmc v;
	socklen_t vlen = sizeof(v);
	long r;

	if (!addr || !len)
		return vp_ret(-EFAULT);
	vp_enter();
	r = peer ? vmmc_sock_getpeername(fd, (struct sockaddr *)&v, &vlen) :
		   vmmc_sock_getsockname(fd, (struct sockaddr *)&v, &vlen);
	vp_leave();
	if (r < 0)
		return vp_ret(r);
	vp_to_inet(&v, addr, len);
	return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (vp_kind(fd) != VP_VMMC)
		return REAL(getsockname)(fd, addr, len);
	return vp_name(fd, addr, len, false);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (vp_kind(fd) == VP_DEAD)
		return vp_ret(-ENOTCONN);
	if (vp_kind(fd) != VP_VMMC)
		return REAL(getpeername)(fd, addr, len);
	return vp_name(fd, addr, len, true);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct vp_fd *f = vp_get(fd);
	int k = vp_kind(fd), v = 0;
	long r;

	if (k == VP_INET && val && len >= sizeof(int)) {
		memcpy(&v, val, sizeof(v));
		if (level == SOL_SOCKET && name == SO_REUSEADDR)
			f->reuse = !!v;
		else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
			f->keepalive = !!v;
		else if (level == IPPROTO_TCP && name == TCP_NODELAY)
			f->nodelay = !!v;
		else if (level == SOL_SOCKET && name == SO_RCVBUF)
			f->rcvbuf = v;
		else if (level == SOL_SOCKET && name == SO_SNDBUF)
			f->sndbuf = v;
	}
	if (k != VP_VMMC)
		return REAL(setsockopt)(fd, level, name, val, len);
	vp_enter();
	r = vmmc_sock_setsockopt(fd, level, name, val, len);
	vp_leave();
	return vp_ret(r);
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	long r;

	if (vp_kind(fd) != VP_VMMC)
		return REAL(getsockopt)(fd, level, name, val, len);
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		/* no TCP underneath: an established connection, all zeros */
		struct tcp_info ti = { .tcpi_state = TCP_ESTABLISHED };

		if (!val || !len)
			return vp_ret(-EFAULT);
		memcpy(val, &ti, *len < sizeof(ti) ? *len : sizeof(ti));
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		return 0;
	}
	vp_enter();
	r = vmmc_sock_getsockopt(fd, level, name, val, len);
	vp_leave();
	return vp_ret(r);
}

/* fd @nfd is a new name of VMMC socket or stand-in @fd's (a dup). */
static void vp_dup_kind(int fd, int nfd)
{
	struct vp_fd *f = vp_get(nfd);

	if (!f)
		return;
	*f = *vp_get(fd);
	vp_set_kind(nfd, f->kind);
}

/* dup(), F_DUPFD, F_DUPFD_CLOEXEC of a VMMC socket. */
static int vp_dup(int fd, int minfd, bool cloexec)
{
	long r;

	vp_enter();
	r = vmmc_sock_dup(fd, minfd, cloexec ? O_CLOEXEC : 0);
	if (r >= 0 && !vp_get((int)r)) {
		vmmc_sock_close((int)r);
		r = -EMFILE;
	}
	if (r >= 0)
		vp_dup_kind(fd, (int)r);
	vp_leave();
	return vp_ret(r);
}

/*
 * fcntl and fcntl64 (programs built with _FILE_OFFSET_BITS=64, redis
 * among them, call the latter). O_NONBLOCK of a VMMC socket is the
 * shim's (the library's eventfd always stays non-blocking); FD_CLOEXEC
 * is the kernel's, on the eventfd.
 */
static int vp_fcntl(int (*real)(int, int, ...), int fd, int cmd, long arg)
{
	struct vp_fd *f = vp_get(fd);
	int k = vp_kind(fd), r;

	if (k == VP_DEAD && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
		r = real(fd, cmd, arg);
		if (r >= 0)
			vp_dup_kind(fd, r);
		return r;
	}
	if (k != VP_VMMC) {
		r = real(fd, cmd, arg);
		if (r >= 0 && k == VP_INET && cmd == F_SETFL)
			f->nonblock = !!(arg & O_NONBLOCK);
		return r;
	}
	switch (cmd) {
	case F_GETFL:
		r = real(fd, F_GETFL);
		if (r < 0)
			return r;
		vp_enter();
		r = (r & ~O_NONBLOCK) | (vp_nonblock(fd) ? O_NONBLOCK : 0);
		vp_leave();
		return r;
	case F_SETFL:
		/* the eventfd stays non-blocking: the library needs it so */
		r = real(fd, F_SETFL, arg | O_NONBLOCK);
		if (r < 0)
			return r;
		vp_enter();
		vp_set_nonblock(fd, arg & O_NONBLOCK);
		vp_leave();
		return r;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg < 0 || arg >= INT_MAX)
			return vp_ret(-EINVAL);
		return vp_dup(fd, (int)arg, cmd == F_DUPFD_CLOEXEC);
	default:
		return real(fd, cmd, arg);
	}
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return vp_fcntl(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return vp_fcntl(REAL(fcntl64), fd, cmd, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
	int k = vp_kind(fd);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (k == VP_VMMC && req == FIONBIO) {
		if (!arg)
			return vp_ret(-EFAULT);
		vp_enter();
		vp_set_nonblock(fd, !!*(int *)arg);
		vp_leave();
		return 0;
	}
	if (k == VP_VMMC && (req == FIONREAD || req == SIOCOUTQ ||
			     req == SIOCOUTQNSD)) {
		long r;

		vp_enter();
		r = vmmc_sock_ioctl(fd, req, arg);
		vp_leave();
		return vp_ret(r);
	}
	if (k == VP_INET && req == FIONBIO && arg)
		vp_get(fd)->nonblock = !!*(int *)arg;
	return REAL(ioctl)(fd, req, arg);
}

/* ---- readiness ---- */

static bool vp_any_vmmc(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++)
		if (vp_kind(fds[i].fd) == VP_VMMC)
			return true;
	return false;
}

/* The next wait of a call with @timeout ms that ends at @end. */
static int vp_slice(int timeout, long end)
{
	long left;

	if (timeout == 0)
		return 0;
	if (timeout < 0)
		return VP_SLICE_MS;
	left = end - vp_now_ms();
	return left <= 0 ? 0 : left < VP_SLICE_MS ? (int)left : VP_SLICE_MS;
}

/*
 * Wait, without the lock, at most @slice ms, for a kernel fd of @fds or
 * the endpoint (vp_lock held at entry, released here; the caller looks
 * again under the lock). As vp_wait_unlocked(): a spin first, an epoch
 * that moved ends the wait at once, and every 5th slice the library's own
 * wait runs its timers. 0 (look again), what the spin found (> 0: @fds
 * has it), or -errno (-EINTR: a signal handler ran).
 */
static int vp_poll_unlocked(struct vp_wait *w, struct pollfd *fds, nfds_t n,
			    int slice)
{
	unsigned int epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
	struct vp_pollset l = { .fds = fds, .n = n };
	uint32_t spin = vp_spin_ns();
	struct pollfd small[64], *k = small;
	nfds_t i, nk = 0;
	int r;

	vp_wait_mask(w);
	if (!w->spun && spin) {
		w->spun = true;
		vp_unlock();
		return (int)vp_spin(vp_look_poll, &l, spin);
	}
	w->spun = false;
	if (n >= 64)
		k = malloc((n + 1) * sizeof(*k));
	if (w->round++ % 5 == 4 || !k) {	/* (no memory: wait under the lock) */
		r = vmmc_sock_poll(fds, n, k ? 1 : slice);
		vp_leave();
		if (k != small)
			free(k);
		return r ? r : vp_block(w, NULL, 0, 0);
	}
	for (i = 0; i < n; i++)
		if (fds[i].fd >= 0 && !vmmc_sock_is_sock(fds[i].fd))
			k[nk++] = fds[i];
	k[nk].fd = vmmc_sock_ep_fd();
	k[nk].events = POLLIN;
	k[nk].revents = 0;
	if (k[nk].fd >= 0)
		nk++;
	vp_unlock();
	r = 0;
	if (__atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE) == epoch)
		r = vp_block(w, k, nk, slice);
	if (k != small)
		free(k);
	return r;
}

/*
 * vmmc_sock_poll: look under the lock, wait without it; @mask: the
 * caller's signal mask for the waits (ppoll, pselect), or NULL.
 */
static int vp_poll(struct pollfd *fds, nfds_t n, int timeout,
		   const sigset_t *mask)
{
	long end = timeout > 0 ? vp_now_ms() + timeout : 0;
	struct vp_wait w;
	int r, slice;

	vp_wait_begin(&w, mask);
	for (;;) {
		vp_enter();
		r = vmmc_sock_poll(fds, n, 0);
		slice = vp_slice(timeout, end);
		if (r != 0 || slice == 0) {
			vp_leave();
			break;
		}
		r = vp_poll_unlocked(&w, fds, n, slice);
		if (r)
			break;
	}
	vp_wait_end(&w);
	return vp_ret(r);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (inside || !vp_any_vmmc(fds, n))
		return REAL(poll)(fds, n, timeout);
	return vp_poll(fds, n, timeout, NULL);
}

/* A timeout of ppoll, pselect or epoll_pwait2 in ms (-1: none). */
static int vp_ts_ms(const struct timespec *ts)
{
	long long ms;

	if (!ts)
		return -1;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -2;
	ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > INT_MAX ? -1 : (int)ms;
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
	  const sigset_t *mask)
{
	int ms;

	if (inside || !vp_any_vmmc(fds, n))
		return REAL(ppoll)(fds, n, ts, mask);
	ms = vp_ts_ms(ts);
	if (ms == -2)
		return vp_ret(-EINVAL);
	return vp_poll(fds, n, ms, mask);
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		const sigset_t *mask, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

static int vp_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int ms,
		     const sigset_t *mask)
{
	struct pollfd *p;
	int fd, n = 0, r, i, cnt = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return vp_ret(-EINVAL);
	p = calloc((size_t)nfds ? (size_t)nfds : 1, sizeof(*p));
	if (!p)
		return vp_ret(-ENOMEM);
	for (fd = 0; fd < nfds; fd++) {
		short ev = (rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
			   (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
			   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0);

		if (!ev)
			continue;
		p[n].fd = fd;
		p[n++].events = ev;
	}
	r = vp_poll(p, (nfds_t)n, ms, mask);
	if (r < 0) {
		free(p);
		return r;
	}
	for (i = 0; i < n; i++) {
		short re = p[i].revents;

		if (re & POLLNVAL) {
			free(p);
			return vp_ret(-EBADF);
		}
	}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	for (i = 0; i < n; i++) {
		short re = p[i].revents;

		if (rd && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, rd);
			cnt++;
		}
		if (wr && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, wr);
			cnt++;
		}
		if (ex && (p[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(p[i].fd, ex);
			cnt++;
		}
	}
	free(p);
	return cnt;
}

static bool vp_sets_vmmc(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
	int fd;

	for (fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) ||
		     (ex && FD_ISSET(fd, ex))) && vp_kind(fd) == VP_VMMC)
			return true;
	return false;
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	int ms;

	if (inside || !vp_sets_vmmc(nfds, rd, wr, ex))
		return REAL(select)(nfds, rd, wr, ex, tv);
	ms = tv ? (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000) : -1;
	return vp_select(nfds, rd, wr, ex, ms, NULL);
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
	    const struct timespec *ts, const sigset_t *mask)
{
	int ms;

	if (inside || !vp_sets_vmmc(nfds, rd, wr, ex))
		return REAL(pselect)(nfds, rd, wr, ex, ts, mask);
	ms = vp_ts_ms(ts);
	if (ms == -2)
		return vp_ret(-EINVAL);
	return vp_select(nfds, rd, wr, ex, ms, mask);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	long r;

	if (inside || (vp_kind(fd) != VP_VMMC && vp_kind(epfd) != VP_EPOLL))
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	vp_enter();
	r = vmmc_sock_epoll_ctl(epfd, op, fd, ev);
	if (r >= 0)
		vp_set_kind(epfd, VP_EPOLL);
	vp_leave();
	return vp_ret(r);
}

struct vp_epset {
	int epfd, max;
	struct epoll_event *evs;
};

static long vp_look_epoll(void *arg)
{
	struct vp_epset *e = arg;

	return vmmc_sock_epoll_wait(e->epfd, e->evs, e->max, 0);
}

/*
 * Look under the lock, wait without it: the epoll fd holds the kernel
 * fds and the endpoint's fd (the library adds it), and polling the epoll
 * fd itself says "something there" without taking its events. A spin
 * first, as vp_wait_unlocked(); @mask as vp_poll()'s.
 */
static int vp_epoll_wait(int epfd, struct epoll_event *evs, int max,
			 int timeout, const sigset_t *mask)
{
	long end = timeout > 0 ? vp_now_ms() + timeout : 0;
	struct pollfd p = { .fd = epfd, .events = POLLIN };
	struct vp_epset e = { .epfd = epfd, .max = max, .evs = evs };
	unsigned int epoch;
	struct vp_wait w;
	uint32_t spin;
	int r, slice;

	vp_wait_begin(&w, mask);
	for (;;) {
		vp_enter();
		slice = vp_slice(timeout, end);
		r = vmmc_sock_epoll_wait(epfd, evs, max,
					 w.round % 5 == 4 && slice ? 1 : 0);
		if (r != 0 || slice == 0) {
			vp_leave();
			break;
		}
		epoch = __atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE);
		spin = vp_spin_ns();
		vp_wait_mask(&w);
		vp_unlock();
		if (!w.spun && spin) {
			w.spun = true;
			r = (int)vp_spin(vp_look_epoll, &e, spin);
			if (r)
				break;
			continue;
		}
		w.spun = false;
		if (w.round++ % 5 == 4)
			r = vp_block(&w, NULL, 0, 0);
		else if (__atomic_load_n(&vp_epoch, __ATOMIC_ACQUIRE) == epoch)
			r = vp_block(&w, &p, 1, slice);
		if (r)
			break;
	}
	vp_wait_end(&w);
	return vp_ret(r);
}

int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	if (inside || vp_kind(epfd) != VP_EPOLL)
		return REAL(epoll_wait)(epfd, evs, max, timeout);
	return vp_epoll_wait(epfd, evs, max, timeout, NULL);
}

int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
		const sigset_t *mask)
{
	if (inside || vp_kind(epfd) != VP_EPOLL)
		return REAL(epoll_pwait)(epfd, evs, max, timeout, mask);
	return vp_epoll_wait(epfd, evs, max, timeout, mask);
}

int epoll_pwait2(int epfd, struct epoll_event *evs, int max,
		 const struct timespec *ts, const sigset_t *mask)
{
	int ms;

	if (inside || vp_kind(epfd) != VP_EPOLL) {
		if (!REAL(epoll_pwait2))
			return vp_ret(-ENOSYS);
		return REAL(epoll_pwait2)(epfd, evs, max, ts, mask);
	}
	ms = vp_ts_ms(ts);
	if (ms == -2)
		return vp_ret(-EINVAL);
	return vp_epoll_wait(epfd, evs, max, ms, mask);
}

/* ---- descriptors ---- */

int dup(int fd)
{
	int k = vp_kind(fd), r;

	if (k == VP_VMMC)
		return vp_dup(fd, 0, false);
	r = REAL(dup)(fd);
	if (r >= 0 && k == VP_DEAD)
		vp_dup_kind(fd, r);
	return r;
}

/*
 * dup2/dup3 of kernel fd (or stand-in) @fd onto @newfd, which the shim
 * knows (a VMMC socket or an epoll fd), under the lock: the kernel's dup3
 * first, which replaces @newfd atomically (no other thread can get the
 * number in between), then the library forgets @newfd without closing it
 * (the socket closes if that was its last fd).
 */
static int vp_replace(int fd, int newfd, int flags, int k)
{
	bool sock;
	int r;

	long h = 0;

	vp_enter();
	sock = vmmc_sock_is_sock(newfd);
	r = REAL(dup3)(fd, newfd, flags);
	if (r >= 0) {
		vp_set_kind(newfd, VP_NONE);
		if (sock)
			h = vmmc_sock_release(newfd);
		if (k == VP_EPOLL)
			vmmc_sock_epoll_close(newfd);
	}
	vp_leave();
	vp_linger((int)h);
	return r;
}

/* dup2/dup3 of VMMC socket @fd onto @newfd (not @fd). */
static int vp_dup3(int fd, int newfd, int flags)
{
	int kn = vp_kind(newfd);
	long r;

	if (!vp_get(newfd))
		return vp_ret(newfd < 0 ? -EBADF : -EMFILE);
	long h = 0;

	vp_enter();
	if (kn == VP_EPOLL)
		vmmc_sock_epoll_close(newfd);
	/*
	 * @newfd names another socket: the library forgets it first (the
	 * kernel fd stays until dup3 replaces it), and that socket's linger,
	 * if it was its last fd, runs after, without the lock.
	 */
	if (kn == VP_VMMC && !(flags & ~O_CLOEXEC) &&
	    vmmc_sock_id(newfd) != vmmc_sock_id(fd))
		h = vmmc_sock_release(newfd);
	r = vmmc_sock_dup3(fd, newfd, flags);
	if (r >= 0)
		vp_dup_kind(fd, newfd);
	else if (kn == VP_VMMC && h >= 0 && !vmmc_sock_is_sock(newfd))
		vp_set_kind(newfd, VP_NONE);	/* released; a plain fd now */
	vp_leave();
	vp_linger((int)h);
	return vp_ret(r);
}

int dup2(int fd, int newfd)
{
	int k = vp_kind(fd), r;

	if (k == VP_VMMC) {
		if (fd == newfd)
			return newfd;
		return vp_dup3(fd, newfd, 0);
	}
	if (fd != newfd && !inside) {
		int kn = vp_kind(newfd);

		if (kn == VP_VMMC || kn == VP_EPOLL) {
			r = vp_replace(fd, newfd, 0, kn);
			if (r >= 0 && k == VP_DEAD)
				vp_dup_kind(fd, newfd);
			return r;
		}
	}
	r = REAL(dup2)(fd, newfd);
	if (r >= 0 && fd != newfd && !inside) {
		if (k == VP_DEAD)
			vp_dup_kind(fd, newfd);
		else
			vp_set_kind(newfd, VP_NONE);
	}
	return r;
}

int dup3(int fd, int newfd, int flags)
{
	int k = vp_kind(fd), r;

	if (k == VP_VMMC)
		return fd == newfd ? vp_ret(-EINVAL) : vp_dup3(fd, newfd, flags);
	if (fd != newfd && !inside) {
		int kn = vp_kind(newfd);

		if (kn == VP_VMMC || kn == VP_EPOLL) {
			r = vp_replace(fd, newfd, flags, kn);
			if (r >= 0 && k == VP_DEAD)
				vp_dup_kind(fd, newfd);
			return r;
		}
	}
	r = REAL(dup3)(fd, newfd, flags);
	if (r >= 0 && !inside) {
		if (k == VP_DEAD)
			vp_dup_kind(fd, newfd);
		else
			vp_set_kind(newfd, VP_NONE);
	}
	return r;
}

/* ---- sendfile and splice: a copy through a buffer ---- */

#define VP_BOUNCE	65536

static bool vp_is_sock(int fd)
{
	int k = vp_kind(fd);

	return k == VP_VMMC || k == VP_DEAD;
}

/*
 * At most @n bytes of kernel fd @in (not a VMMC socket) into @buf without
 * taking them: at *@off_in if given, else at the file offset (*@pos: it),
 * else, for a pipe, through tee(2) into a private pipe @tp (the bytes
 * stay in @in). What was there (0: EOF), or -errno; -EINVAL for any
 * other kind of fd (as splice(2) when neither end is a pipe).
 */
static ssize_t vp_peek_fd(int in, loff_t *off_in, void *buf, size_t n,
			  bool nb, off_t *pos, int tp[2])
{
	struct stat st;
	ssize_t r;

	if (off_in) {
		if (*off_in < 0)
			return -EINVAL;
		r = pread(in, buf, n, *off_in);
		return r < 0 ? -errno : r;
	}
	if (fstat(in, &st))
		return -errno;
	if (S_ISFIFO(st.st_mode)) {
		if (pipe2(tp, O_CLOEXEC | O_NONBLOCK))
			return -errno;
		r = tee(in, tp[1], n, nb ? SPLICE_F_NONBLOCK : 0);
		if (r > 0)
			r = REAL(read)(tp[0], buf, (size_t)r);
		return r < 0 ? -errno : r;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	*pos = lseek(in, 0, SEEK_CUR);
	if (*pos < 0)
		return -errno;
	r = pread(in, buf, n, *pos);
	return r < 0 ? -errno : r;
}

/*
 * Write @n bytes of @buf to @out: a VMMC socket (a blocking one takes
 * them all or fails), a file at *@off_out, or any kernel fd; with @nb a
 * blocking kernel fd (a pipe) is written only if poll says it has room,
 * and at most PIPE_BUF bytes (what that room surely takes). What was
 * written, or -errno.
 */
static ssize_t vp_put(int out, loff_t *off_out, const void *buf, size_t n,
		      bool nb)
{
	struct pollfd p = { .fd = out, .events = POLLOUT };
	ssize_t r;
	int fl;

	if (vp_is_sock(out))
		r = send(out, buf, n, nb ? MSG_DONTWAIT : 0);
	else if (off_out)
		r = *off_out < 0 ? (errno = EINVAL, -1) :
				   pwrite(out, buf, n, *off_out);
	else if (nb && (fl = REAL(fcntl)(out, F_GETFL)) >= 0 &&
		 !(fl & O_NONBLOCK) && REAL(poll)(&p, 1, 0) != 1)
		r = (errno = EAGAIN, -1);
	else
		r = REAL(write)(out, buf, nb && n > PIPE_BUF ? PIPE_BUF : n);
	return r < 0 ? -errno : r;
}

/*
 * One round of a copy from @in to @out, one of them a VMMC socket (the
 * splice(2) and sendfile(2) of the shim): look at up to @len bytes of
 * @in without taking them (MSG_PEEK on a socket, pread on a file, tee on
 * a pipe), write them to @out, then take from @in exactly what @out took:
 * a write that fails or takes part consumes nothing more of @in (file
 * offset, pipe or socket). @nb: neither side waits (-EAGAIN instead).
 * Bytes moved (0: EOF of @in), or -errno.
 */
static ssize_t vp_copy(int in, loff_t *off_in, int out, loff_t *off_out,
		       size_t len, bool nb)
{
	size_t want = len < VP_BOUNCE ? len : VP_BOUNCE;
	int tp[2] = { -1, -1 };
	off_t pos = -1;
	ssize_t n, m;
	char *buf;

	if ((vp_is_sock(in) && off_in) || (vp_is_sock(out) && off_out))
		return -ESPIPE;
	if (!len)
		return 0;
	buf = malloc(want);
	if (!buf)
		return -ENOMEM;
	if (vp_is_sock(in)) {
		n = recv(in, buf, want, MSG_PEEK | (nb ? MSG_DONTWAIT : 0));
		n = n < 0 ? -errno : n;
	} else {
		n = vp_peek_fd(in, off_in, buf, want, nb, &pos, tp);
	}
	m = n > 0 ? vp_put(out, off_out, buf, (size_t)n, nb) : n;
	if (m > 0) {
		if (vp_is_sock(in))	/* the bytes peeked, now taken */
			recv(in, buf, (size_t)m, MSG_DONTWAIT);
		else if (off_in)
			*off_in += m;
		else if (tp[0] >= 0)
			REAL(read)(in, buf, (size_t)m);
		else
			lseek(in, pos + m, SEEK_SET);
		if (off_out)
			*off_out += m;
	}
	if (tp[0] >= 0) {
		REAL(close)(tp[0]);
		REAL(close)(tp[1]);
	}
	free(buf);
	return m;
}

/*
 * sendfile(2) to (or from) a VMMC socket: rounds of vp_copy() until
 * @count, EOF or a round that moved less than it asked; an error after
 * some bytes moved ends with their count.
 */
ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	loff_t pos = off ? *off : 0;
	size_t done = 0, want;
	ssize_t m = 0;

	if (!vp_is_sock(out) && !vp_is_sock(in))
		return REAL(sendfile)(out, in, off, count);
	if (off && *off < 0)
		return vp_sret(-EINVAL);
	while (done < count) {
		want = count - done < VP_BOUNCE ? count - done : VP_BOUNCE;
		m = vp_copy(in, off ? &pos : NULL, out, NULL, want, false);
		if (m <= 0)
			break;
		done += (size_t)m;
		if ((size_t)m < want)
			break;
	}
	if (off)
		*off = pos;
	return done || m >= 0 ? (ssize_t)done : vp_sret(m);
}

/*
 * splice(2) with a VMMC socket at either end: one vp_copy() round of at
 * most 64 KiB (a partial count, as the kernel's). The other end may be a
 * pipe, a regular file (at *off, or at its file offset) or another VMMC
 * socket. SPLICE_F_NONBLOCK: neither end waits (the kernel applies it to
 * the pipe only; the socket's own O_NONBLOCK applies as well).
 */
ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
	       unsigned int flags)
{
	if (!vp_is_sock(in) && !vp_is_sock(out))
		return REAL(splice)(in, off_in, out, off_out, len, flags);
	if (flags & ~(SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE |
		      SPLICE_F_GIFT))
		return vp_sret(-EINVAL);
	return vp_sret(vp_copy(in, off_in, out, off_out, len,
			       flags & SPLICE_F_NONBLOCK));
}

/* ---- _FORTIFY_SOURCE entry points of the calls above ---- */

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

/* ---- exec ---- */

/*
 * A VMMC socket cannot cross exec: its rings and endpoint belong to the
 * process image (the endpoint's fd is close-on-exec, so the driver frees
 * them and the peer's next send or probe finds the connection reset).
 * Before exec, each VMMC socket fd without FD_CLOEXEC gets a stand-in
 * (vp_stand_in: reads EOF, writes EPIPE, poll ready), so the new image
 * never sees a bare eventfd where it expects its socket; FD_CLOEXEC ones
 * just close. If exec fails, the sockets are put back.
 *
 * No lock and no change to the shim's memory here: after vfork() the
 * child runs this on its parent's memory.
 */
#define VP_EXEC_MAX	1024

struct vp_hidden {
	int n;
	int fd[VP_EXEC_MAX], save[VP_EXEC_MAX];
};

static void vp_exec_unhide(struct vp_hidden *h)
{
	int e = errno;

	while (h->n-- > 0) {
		REAL(dup3)(h->save[h->n], h->fd[h->n], 0);
		REAL(close)(h->save[h->n]);
	}
	errno = e;
}

static int vp_exec_hide(struct vp_hidden *h)
{
	int fd, hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED), fl, sv;

	h->n = 0;
	for (fd = 0; fd <= hi; fd++) {
		if (__atomic_load_n(&vp_fds[fd].kind, __ATOMIC_ACQUIRE) !=
		    VP_VMMC)
			continue;
		fl = REAL(fcntl)(fd, F_GETFD);
		if (fl < 0 || (fl & FD_CLOEXEC))
			continue;
		if (h->n == VP_EXEC_MAX)
			goto fail_errno;
		sv = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
		if (sv < 0)
			goto fail;
		if (vp_stand_in(fd, false)) {
			REAL(close)(sv);
			goto fail;
		}
		h->fd[h->n] = fd;
		h->save[h->n++] = sv;
	}
	return 0;
fail_errno:
	errno = EMFILE;
fail:
	vp_exec_unhide(h);
	return -1;
}

#define VP_EXEC(call)							\
	({								\
		struct vp_hidden h_;					\
		int r_;							\
		if (vp_exec_hide(&h_))					\
			return -1;					\
		r_ = (call);						\
		vp_exec_unhide(&h_);					\
		r_;							\
	})

int execve(const char *path, char *const argv[], char *const envp[])
{
	return VP_EXEC(REAL(execve)(path, argv, envp));
}

int execv(const char *path, char *const argv[])
{
	return VP_EXEC(REAL(execv)(path, argv));
}

int execvp(const char *file, char *const argv[])
{
	return VP_EXEC(REAL(execvp)(file, argv));
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return VP_EXEC(REAL(execvpe)(file, argv, envp));
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
	return VP_EXEC(REAL(fexecve)(fd, argv, envp));
}

/* execl, execlp, execle: their arguments into an array, on the stack. */
#define VP_EXECL_ARGV(arg, argv, ap)					\
	size_t n_ = 1;							\
	va_start(ap, arg);						\
	while (va_arg(ap, char *))					\
		n_++;							\
	va_end(ap);							\
	char *argv[n_ + 1];						\
	argv[0] = (char *)(arg);					\
	va_start(ap, arg);						\
	for (size_t i_ = 1; i_ <= n_; i_++)				\
		argv[i_] = va_arg(ap, char *)

int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	VP_EXECL_ARGV(arg, argv, ap);

	va_end(ap);
	return execv(path, argv);
}

int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	VP_EXECL_ARGV(arg, argv, ap);

	va_end(ap);
	return execvp(file, argv);
}

int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	va_list ap;
	VP_EXECL_ARGV(arg, argv, ap);

	envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

/*
 * posix_spawn: the child is cloned from this process's fd table while the
 * stand-ins are in place; the lock keeps this process's own calls on those
 * sockets out for that moment.
 */
int posix_spawn(pid_t *pid, const char *path,
		const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[],
		char *const envp[])
{
	struct vp_hidden h;
	int r;

	if (inside)
		return REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	vp_enter();	/* the library's calls stay out meanwhile */
	r = vp_exec_hide(&h) ? errno : 0;
	if (!r) {
		r = REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
		vp_exec_unhide(&h);
	}
	vp_unlock();
	return r;
}

int posix_spawnp(pid_t *pid, const char *file,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	struct vp_hidden h;
	int r;

	if (inside)
		return REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
	vp_enter();
	r = vp_exec_hide(&h) ? errno : 0;
	if (!r) {
		r = REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
		vp_exec_unhide(&h);
	}
	vp_unlock();
	return r;
}

/* ---- stdio ---- */

/*
 * fdopen() of a VMMC socket: glibc's stdio reads and writes a stream's fd
 * with its internal __read/__write, which the shim cannot see (they would
 * reach the library's eventfd). So the stream is a fopencookie(3) one
 * whose read, write and close are the shim's; fileno() gives its fd back
 * (the stream's own fd field is -1: glibc's fileno is interposed here).
 * Not seekable (fseek: ESPIPE), as a socket stream.
 */
struct vp_cookie {
	int fd;
	FILE *f;
	pid_t pid;		/* popen's child, or 0 */
	struct vp_cookie *next;
};

static struct vp_cookie *vp_cookies;	/* under vp_cookie_lock */
static pthread_mutex_t vp_cookie_lock = PTHREAD_MUTEX_INITIALIZER;

static void vp_cookie_add(struct vp_cookie *c)
{
	pthread_mutex_lock(&vp_cookie_lock);
	c->next = vp_cookies;
	vp_cookies = c;
	pthread_mutex_unlock(&vp_cookie_lock);
}

/* The record of stream @f, taken off the list if @take; or NULL. */
static struct vp_cookie *vp_cookie_find(FILE *f, bool take)
{
	struct vp_cookie **p, *c = NULL;

	pthread_mutex_lock(&vp_cookie_lock);
	for (p = &vp_cookies; *p; p = &(*p)->next) {
		if ((*p)->f == f) {
			c = *p;
			if (take)
				*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&vp_cookie_lock);
	return c;
}

static ssize_t vp_cookie_read(void *arg, char *buf, size_t n)
{
	return read(((struct vp_cookie *)arg)->fd, buf, n);
}

/* fopencookie's write: 0, never a negative count, on error */
static ssize_t vp_cookie_write(void *arg, const char *buf, size_t n)
{
	ssize_t r = write(((struct vp_cookie *)arg)->fd, buf, n);

	return r < 0 ? 0 : r;
}

static int vp_cookie_close(void *arg)
{
	struct vp_cookie *c = arg;
	int r;

	vp_cookie_find(c->f, true);
	r = close(c->fd);
	free(c);
	return r;
}

FILE *fdopen(int fd, const char *mode)
{
	cookie_io_functions_t io = { .read = vp_cookie_read,
				     .write = vp_cookie_write,
				     .close = vp_cookie_close };
	struct vp_cookie *c;
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(fdopen)(fd, mode);
	if (!mode || !strchr("rwa", mode[0])) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->f = fopencookie(c, mode, io);
	if (!c->f) {
		free(c);
		return NULL;
	}
	vp_cookie_add(c);
	return c->f;
}

int fileno(FILE *f)
{
	struct vp_cookie *c;

	if (!inside && f && (c = vp_cookie_find(f, false)) && c->fd >= 0)
		return c->fd;
	return REAL(fileno)(f);
}

/*
 * system() and popen(): glibc spawns their shell with its internal
 * posix_spawn, out of the shim's reach, so the shell (and the command)
 * would inherit the library's bare eventfds. Here they spawn with the
 * interposed posix_spawn (VMMC fds without FD_CLOEXEC: stand-ins that
 * read EOF and write EPIPE, as across exec), with system()'s signal
 * rules: SIGINT and SIGQUIT ignored and SIGCHLD blocked in the caller
 * while the command runs, the caller's mask and dispositions for it.
 * popen's end of the pipe is close-on-exec whatever the mode (so no
 * later child inherits it: POSIX's rule, which glibc keeps by closing
 * them in the child).
 */
static int vp_spawn_sh(pid_t *pid, const char *cmd,
		       const posix_spawn_file_actions_t *fa,
		       const sigset_t *mask, bool sigdef)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	extern char **environ;
	posix_spawnattr_t at;
	sigset_t def;
	int r;

	r = posix_spawnattr_init(&at);
	if (r)
		return r;
	sigemptyset(&def);
	if (sigdef) {
		sigaddset(&def, SIGINT);
		sigaddset(&def, SIGQUIT);
	}
	posix_spawnattr_setsigmask(&at, mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(pid, "/bin/sh", fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	return r;
}

int system(const char *cmd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	sigset_t chld, old;
	int st = -1, e;
	pid_t pid;

	if (!cmd || inside || !vp_enabled)
		return REAL(system)(cmd);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	e = vp_spawn_sh(&pid, cmd, NULL, &old,
			oint.sa_handler != SIG_IGN || oquit.sa_handler != SIG_IGN);
	if (e)
		st = 127 << 8;	/* as glibc: the shell could not run */
	else
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (e)
		errno = e;
	return st;
}

FILE *popen(const char *cmd, const char *mode)
{
	posix_spawn_file_actions_t fa;
	bool rd = mode && mode[0] == 'r';
	struct vp_cookie *c;
	int p[2], e;
	sigset_t cur;
	FILE *f;

	if (inside || !vp_enabled || !cmd)
		return REAL(popen)(cmd, mode);
	if (!mode || (mode[0] != 'r' && mode[0] != 'w') ||
	    (mode[1] && strcmp(mode + 1, "e"))) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (pipe2(p, O_CLOEXEC)) {
		free(c);
		return NULL;
	}
	posix_spawn_file_actions_init(&fa);
	/* the child's end onto stdin/stdout (dup2 clears its FD_CLOEXEC) */
	posix_spawn_file_actions_adddup2(&fa, rd ? p[1] : p[0], rd ? 1 : 0);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	e = vp_spawn_sh(&c->pid, cmd, &fa, &cur, false);
	posix_spawn_file_actions_destroy(&fa);
	REAL(close)(rd ? p[1] : p[0]);
	if (e) {
		REAL(close)(rd ? p[0] : p[1]);
		free(c);
		errno = e;
		return NULL;
	}
	f = REAL(fdopen)(rd ? p[0] : p[1], rd ? "r" : "w");
	if (!f) {
		e = errno;
		REAL(close)(rd ? p[0] : p[1]);
		waitpid(c->pid, NULL, 0);
		free(c);
		errno = e;
		return NULL;
	}
	c->fd = -1;
	c->f = f;
	vp_cookie_add(c);
	return f;
}

int pclose(FILE *f)
{
	struct vp_cookie *c = vp_cookie_find(f, true);
	pid_t pid;
	int st;

	if (!c || !c->pid)
		return REAL(pclose)(f);
	pid = c->pid;
	free(c);
	fclose(f);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

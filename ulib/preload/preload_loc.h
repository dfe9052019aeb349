/* SPDX-License-Identifier: MIT */
/*
 * preload_loc.h - the LD_PRELOAD shim's private header: the fd table and
 * its kinds, the lock and the counter vp_inside, a blocking call's wait,
 * the real libc entry points (REAL), and the prototypes shared by the
 * shim's files (preload.c describes the shim and its rules). Everything
 * declared here is hidden: the shim exports only the calls it interposes
 * and the library's vmmc_* symbols (preload.map).
 */
#ifndef VMMC_PRELOAD_LOC_H
#define VMMC_PRELOAD_LOC_H

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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
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
#include "sock/sock_shim.h"

#pragma GCC visibility push(hidden)

#define VP_MAXFD	65536	/* fds the shim can track; others: kernel */
#define VP_SLICE_MS	20	/* default of vp_slice_ms */

enum vp_kind {
	VP_NONE = 0,
	VP_INET,	/* kernel AF_INET(6) stream socket: may turn VMMC */
	VP_VMMC,	/* a VMMC socket */
	VP_DEAD,	/* a VMMC socket inherited over fork: unusable */
	VP_EPOLL,	/* an epoll fd the library knows */
	VP_DUAL,	/* a kernel listener with a VMMC one beside it */
	VP_RELAY,	/* a child's end of a relayed connection (kernel) */
};

struct vp_fd {
	uint8_t kind;
	uint8_t nonblock;
	uint8_t cloexec;
	int rcvbuf, sndbuf;
	uint8_t v6, v6only;	/* AF_INET6; its IPV6_V6ONLY */
	uint8_t bound_any;	/* bound to the wildcard (INADDR_ANY, ::) */
	uint8_t dual_bound;	/* VP_INET bound by the kernel to @dual_at */
	uint8_t accepted;	/* VP_VMMC made by accept */
	int16_t dual;		/* VP_DUAL: its vp_duals[] entry */
	struct sockaddr_vmmc dual_at;	/* VMMC address of its kernel bind */
};

/*
 * A listener on both transports (preload_dual.c): the program's fd is
 * the kernel's listening socket; beside it a VMMC listener of this
 * process (@vfd, a library fd the program does not know) on the same
 * port, created at listen() and, in a process that has none, at its
 * first accept, poll or epoll_ctl on the fd. Shared by the
 * fd's dups (@refs). @regs: the epoll interests the program gave the fd,
 * which the VMMC listener joins whenever it (re)appears.
 */
#define VP_DUAL_MAX	64
#define VP_DUAL_REGS	8

struct vp_dual {
	int refs;
	int fd;			/* one of its fds */
	int vfd;		/* the VMMC listener, or -1 */
	int last_err;		/* of the last try, for the log */
	int backlog;
	long retry_ms;		/* next registration try; -1: never */
	bool flip;		/* which side accept() tries first */
	bool used;		/* this process accepted or waited on it */
	uint8_t nonblock;	/* the program's O_NONBLOCK (the kernel fd's
				 * is always set) */
	struct sockaddr_vmmc at;
	int nregs;
	struct { int epfd; struct epoll_event ev; } regs[VP_DUAL_REGS];
};

/* preload.c: the fd table, the lock, the waits, the address map */
extern struct vp_fd vp_fds[VP_MAXFD];
extern unsigned int vp_gen[VP_MAXFD];
extern int vp_hi;
extern int vp_slice_ms;
extern uint8_t vp_nb[65536];
extern pthread_mutex_t vp_lock;
extern __thread int vp_inside;
extern struct vmmc_hostmap vp_map;
extern bool vp_enabled, vp_bind_any, vp_debug, vp_fallback;
extern unsigned int vp_epoch;
extern struct vp_waiter *vp_waiting;
extern struct vp_dual vp_duals[VP_DUAL_MAX];

/* preload_real.c: the real functions; before main if a constructor calls one */
#define VP_REAL(name, ret, args)	extern ret (*real_##name) args;
#include "preload_real.h"
#undef VP_REAL

#define REAL(name)	(real_##name ? real_##name : (vp_resolve(), real_##name))

void vp_resolve(void);

static inline struct vp_fd *vp_get(int fd)
{
	return fd >= 0 && fd < VP_MAXFD ? &vp_fds[fd] : NULL;
}

static inline int vp_kind(int fd)
{
	struct vp_fd *f = vp_get(fd);

	return f && !vp_inside ? __atomic_load_n(&f->kind, __ATOMIC_ACQUIRE) :
			      VP_NONE;
}

/*
 * vp_inside is raised before the lock is taken and lowered after it is
 * released, so that a signal handler that interrupts a thread holding
 * (or taking) the lock never tries to take it again: its calls go to
 * libc. Hence the rule for signal handlers (docs/api.md): a handler may
 * call async-signal-safe functions on kernel fds, but not socket calls,
 * close, dup2 or fork on VMMC sockets (they would reach the library's
 * eventfd through libc).
 */
static inline void vp_enter(void)
{
	vp_inside++;
	pthread_mutex_lock(&vp_lock);
}

void vp_kick(void);

static inline void vp_unlock(void)
{
	if (vp_waiting)
		vp_kick();
	pthread_mutex_unlock(&vp_lock);
	vp_inside--;
}

static inline void vp_leave(void)
{
	__atomic_add_fetch(&vp_epoch, 1, __ATOMIC_RELEASE);
	vp_unlock();
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

static inline void vp_wait_begin(struct vp_wait *w, const sigset_t *mask)
{
	w->round = 0;
	w->blocks = 0;
	w->spun = false;
	w->masked = false;
	w->mask = mask;
}

static inline void vp_wait_end(struct vp_wait *w)
{
	int e = errno;

	if (w->masked)
		pthread_sigmask(SIG_SETMASK, &w->old, NULL);
	errno = e;
}

struct vp_pollset {
	struct pollfd *fds;
	nfds_t n;
};

static inline int vp_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static inline ssize_t vp_sret(ssize_t r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
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

static inline void vp_hold(struct vp_hold *h, int fd)
{
	h->gen = fd >= 0 && fd < VP_MAXFD ?
		 __atomic_load_n(&vp_gen[fd], __ATOMIC_ACQUIRE) : 0;
	h->id = vmmc_sock_id(fd);
}

static inline bool vp_held(const struct vp_hold *h, int fd)
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

/* preload.c */
void vp_set_kind(int fd, enum vp_kind k);
long vp_now_ns(void);
long vp_now_ms(void);
void vp_wait_mask(struct vp_wait *w);
int vp_block(const struct vp_wait *w, struct pollfd *k, nfds_t nk, int ms);
int vp_block_ep(const struct vp_wait *w, struct pollfd *k, nfds_t nk, int ms,
		unsigned int epoch);
void vp_waiters_fork_child(void);
long vp_spin(long (*look)(void *), void *arg, uint32_t ns);
uint32_t vp_spin_ns(void);
long vp_look_poll(void *arg);
int vp_wait_unlocked(struct vp_wait *w, int fd, short ev);
bool vp_to_vmmc(const struct vp_fd *f, const struct sockaddr *a,
		socklen_t len, bool any_ok, struct sockaddr_vmmc *v);
void vp_to_inet(const struct vp_fd *f, const struct sockaddr_vmmc *v,
		struct sockaddr *addr, socklen_t *len);
bool vp_nonblock(int fd);
void vp_set_nonblock(int fd, bool on);
int vp_convert(int fd);
void vp_atfork(void);
void vp_copy_opts(int fd, int v);
void vp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* preload_sock.c */
long vp_accepted(long r, int flags, const struct vp_fd *l);

/* preload_dual.c (vp_lock held, unless said) */
static inline struct vp_dual *vp_dual_of(int fd)
{
	struct vp_fd *f = vp_get(fd);

	return f && f->kind == VP_DUAL ? &vp_duals[f->dual] : NULL;
}

int vp_dual_listen(int fd, int backlog);
void vp_dual_tick(void);
long vp_dual_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int vp_dual_close(int fd);
void vp_dual_dup(int fd, int nfd);
int vp_dual_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
void vp_dual_epoll_gone(int epfd);
void vp_dual_setsockopt(int fd, int level, int name, const void *val,
			socklen_t len);
void vp_dual_fork_prepare(void);
void vp_dual_fork_child(void);
void vp_dual_adopt(void);	/* at start-up, no lock */

/* preload_relay.c (fork: vp_lock held) */
void vp_relay_fork_prepare(void);
void vp_relay_fork_parent(void);
void vp_relay_fork_child(void);
int vp_relay_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer);
void vp_relay_closed(int fd);

/* preload_exec.c */
void vp_fork_prepare(void);
void vp_fork_parent(void);
void vp_fork_child(void);

#pragma GCC visibility pop

#endif /* VMMC_PRELOAD_LOC_H */

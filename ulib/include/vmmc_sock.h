/* SPDX-License-Identifier: MIT */
/*
 * vmmc_sock.h - stream sockets over VMMC (libvmmc), BSD-like.
 *
 * A VMMC socket is a TCP-like byte stream between two processes on the
 * same or different nodes, addressed by (node, port): struct
 * sockaddr_vmmc. Each socket is named by a real kernel file descriptor
 * (an eventfd the library owns), so it numbers, closes and counts like
 * any fd; but I/O on it goes through these calls, and its readiness is
 * known to the library, not to the kernel: wait for it with
 * vmmc_sock_poll() or vmmc_sock_epoll_wait(), which take VMMC sockets
 * and kernel fds in the same call. See vmmc_sock(7).
 *
 * Data path: each direction of a connection is a receive ring that the
 * receiver exports and the sender imports; the sender copies into a
 * pinned staging ring and writes it with deliberate update (vmmc_send()),
 * the receiver copies it out on recv and writes its consumed count back
 * as the sender's credit. Once connected, send and recv make no system
 * call (blocking waits aside).
 *
 * Conventions: like the rest of libvmmc, every call returns a value >= 0
 * or a negative errno, and never sets errno (the LD_PRELOAD shim converts
 * to -1/errno). The errnos are the ones a kernel TCP socket gives.
 *
 * Threads: the sockets of a process share one endpoint (the "stack") and
 * are NOT thread-safe: call in from one thread at a time.
 */
#ifndef VMMC_SOCK_H
#define VMMC_SOCK_H

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The address family of struct sockaddr_vmmc (library-private value). */
#define AF_VMMC			0x4d56
/* bind(): any node means this node. */
#define VMMC_NODE_ANY		0xffffffffu
/* Ports handed out by an implicit bind (connect, listen unbound). */
#define VMMC_PORT_EPHEMERAL_MIN	32768
#define VMMC_PORT_EPHEMERAL_MAX	60999

/*
 * svm_via: the IP family a program named the peer by, for a layer that
 * maps IP addresses onto nodes (the LD_PRELOAD shim). A client's
 * connect() sends it with its request; a listener bound with
 * VMMC_VIA_INET or VMMC_VIA_INET6 refuses requests sent with the other
 * (ECONNREFUSED, as a kernel IPv4-only or IPv6-only listener never sees
 * them), VMMC_VIA_ANY takes all; accept, getpeername and getsockname
 * give a connection's. The port space is one for all three.
 */
#define VMMC_VIA_ANY		0
#define VMMC_VIA_INET		4
#define VMMC_VIA_INET6		6

/* Same size as struct sockaddr_in. */
struct sockaddr_vmmc {
	sa_family_t svm_family;		/* AF_VMMC */
	uint16_t svm_port;		/* host order, 1..65535 (0: any) */
	uint32_t svm_node;		/* node id, or VMMC_NODE_ANY */
	uint8_t svm_via;		/* VMMC_VIA_*; else EINVAL */
	uint8_t svm_zero[7];
};

/* Default, minimum and maximum receive ring (SO_RCVBUF), bytes. */
#define VMMC_SOCK_RCVBUF_DEF	(256u << 10)
#define VMMC_SOCK_RCVBUF_MIN	(4u << 10)
#define VMMC_SOCK_RCVBUF_MAX	(4u << 20)
/* Connection requests a listener holds before accept(), at most. */
#define VMMC_SOCK_BACKLOG_MAX	64
/* A connect() that gets no answer gives up after this long. */
#define VMMC_SOCK_CONNECT_MS	10000
/* A waiting connection checks that its peer still exists this often. */
#define VMMC_SOCK_PROBE_MS	100

/*
 * Counters of this process's socket layer. The gauges (sockets, conns,
 * listeners, inflight) are back to zero when every socket is closed, and
 * then the stack's endpoint is closed too.
 */
struct vmmc_sock_stats {
	uint32_t sockets;	/* gauge: open socket fds */
	uint32_t conns;		/* gauge: connections with a ring (any state) */
	uint32_t listeners;	/* gauge: bound or listening ports */
	uint32_t inflight;	/* gauge: SENDs posted, not yet completed */
	uint64_t connects;	/* connections established as client */
	uint64_t accepts;	/* ... as server (taken by accept) */
	uint64_t refused;	/* connection requests refused or dropped */
	uint64_t tx_bytes;	/* bytes posted to peers' rings */
	uint64_t rx_bytes;	/* bytes copied out of our rings */
	uint64_t data_sends;	/* data SEND descriptors posted */
	uint64_t state_sends;	/* state (credit, FIN, RST) SENDs posted */
	uint64_t probes;	/* liveness probes while waiting */
	uint64_t resets;	/* connections reset (peer died, RST, garbage) */
	uint64_t garbage;	/* ... of those: the peer broke the protocol */
	uint64_t waits;		/* blocking waits on the endpoint */
	uint64_t zc_posts;	/* recv redirections posted */
	uint64_t zc_bytes;	/* received bytes that landed in the
				 * caller's buffer (no copy)
				 */
	uint64_t zc_copied;	/* ... that a zero-copy receive copied from
				 * the ring (they came before its post, or
				 * the NIC's record of the redirect had no
				 * room to say they went to the buffer)
				 */
	uint64_t zc_cancels;	/* zero-copy receives whose redirects a
				 * cancel ended early (partial data, EOF,
				 * reset, time-out, signal); not those that
				 * had completed when the cancel came
				 */
	uint64_t zc_fallbacks;	/* large receives that copied instead
				 * (buffer not pinnable, no slot, a
				 * stream that raced its redirects)
				 */
	uint32_t zc_active;	/* gauge: redirect slots in use */
	uint32_t reserved0;
	uint64_t zc_nopin;	/* ... of zc_fallbacks: pinning the buffer
				 * would exceed the zero-copy pin budget
				 * (VMMC_SOCK_ZC_PIN_MAX) or need room held
				 * by other pins, or it overlaps the
				 * library's own memory
				 */
	uint64_t pin_resets;	/* connections reset because their own
				 * memory could not be pinned again (the
				 * error is the socket's: ENOMEM, ...)
				 */
	uint32_t zc_pin_ranges;	/* gauge: receive buffers kept pinned for
				 * zero-copy (within the budget)
				 */
	uint32_t zc_pin_pages;	/* gauge: their pages */
};

/*
 * Options of level SOL_VMMC (vmmc_sock_setsockopt(), an int each):
 *
 * VMMC_SO_ZEROCOPY_MIN  a blocking receive into a contiguous buffer of at
 *                       least this many bytes that finds the ring empty
 *                       redirects the data straight into the buffer
 *                       (no copy); 0 turns it off. Default
 *                       VMMC_SOCK_ZC_MIN_DEF, or the environment variable
 *                       VMMC_SOCK_ZC_MIN at socket creation.
 * VMMC_SO_BUSY_POLL     1: blocking send and receive spin on the NIC's
 *                       rings instead of sleeping in the kernel, with no
 *                       system call at all: liveness probes go every
 *                       65536 polls; time-outs, if set, read the clock
 *                       (vDSO) then; signals do not end the spin.
 *                       Default 0, or VMMC_SOCK_BUSY_POLL.
 * VMMC_SO_ACCEPTOR      1 before bind: the socket joins its port's
 *                       acceptor group (processes that share the port's
 *                       connections, one in VMMC_SOCK_ACCEPTORS chosen at
 *                       random by each client): bind() exports under an
 *                       acceptor name, which the kernel grants only to a
 *                       process holding a TCP socket listening on the
 *                       port (else EACCES); EADDRINUSE when every
 *                       acceptor name is taken. After bind: EINVAL.
 */
#define SOL_VMMC		0x4d56
#define VMMC_SO_ZEROCOPY_MIN	1
#define VMMC_SO_BUSY_POLL	2
#define VMMC_SO_ACCEPTOR	3
/* Acceptors of one port, at most (VMMC_SO_ACCEPTOR). */
#define VMMC_SOCK_ACCEPTORS	16
#define VMMC_SOCK_ZC_MIN_DEF	(16u << 10)

int vmmc_socket(int domain, int type, int protocol);
int vmmc_sock_bind(int fd, const struct sockaddr *addr, socklen_t len);
int vmmc_sock_listen(int fd, int backlog);
int vmmc_sock_accept(int fd, struct sockaddr *addr, socklen_t *len);
int vmmc_sock_accept4(int fd, struct sockaddr *addr, socklen_t *len,
		      int flags);
int vmmc_sock_connect(int fd, const struct sockaddr *addr, socklen_t len);

ssize_t vmmc_sock_send(int fd, const void *buf, size_t len, int flags);
ssize_t vmmc_sock_recv(int fd, void *buf, size_t len, int flags);
/* split-phase zero-copy receive, for a caller that waits on its own */
ssize_t vmmc_sock_recv_begin(int fd, void *buf, size_t len, int flags);
ssize_t vmmc_sock_recv_end(int fd, void *buf, size_t len, int flags,
			   int stop);
ssize_t vmmc_sock_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t vmmc_sock_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t vmmc_sock_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t vmmc_sock_readv(int fd, const struct iovec *iov, int iovcnt);

int vmmc_sock_shutdown(int fd, int how);
int vmmc_sock_close(int fd);
int vmmc_sock_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int vmmc_sock_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int vmmc_sock_setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len);
int vmmc_sock_getsockopt(int fd, int level, int name, void *val,
			 socklen_t *len);
/* O_NONBLOCK of a socket: on != 0 sets it. 0 or -errno. */
int vmmc_sock_set_nonblock(int fd, int on);
/*
 * Give socket @fd the descriptor number @newfd instead (dup3() onto it,
 * closing what @newfd was, then closing @fd): how the LD_PRELOAD shim
 * turns the kernel socket a program created into a VMMC socket under the
 * same number. Not while @fd is in an epoll set. @newfd, or -errno.
 */
int vmmc_sock_move(int fd, int newfd);
/*
 * dup(2) and fcntl(F_DUPFD, F_DUPFD_CLOEXEC) of a socket: the lowest free
 * fd >= @minfd names the same socket too (@flags: 0 or O_CLOEXEC). Every
 * fd of a socket is an alias: data, options, O_NONBLOCK and epoll
 * interest belong to the socket, and the socket closes (FIN, linger)
 * when its last fd is closed. The new fd, or -errno.
 */
int vmmc_sock_dup(int fd, int minfd, int flags);
/*
 * dup3(2) of a socket onto @newfd (@flags: 0 or O_CLOEXEC; @newfd ==
 * @fd is EINVAL): whatever @newfd was is closed first, an fd of another
 * VMMC socket included (that socket closes if it was its last fd).
 * @newfd, or -errno.
 */
int vmmc_sock_dup3(int fd, int newfd, int flags);
/*
 * @fd no longer names its socket, and its kernel fd is left open (the
 * caller closes or replaces it): for a caller that must free the number
 * only after the library forgot it (an LD_PRELOAD shim, or dup2(2) of
 * another fd onto @fd). The socket closes (FIN, linger) if @fd was its
 * last fd. 0 or -errno.
 */
int vmmc_sock_forget(int fd);
/*
 * vmmc_sock_forget() without the wait of the last close: the socket's
 * close starts and, if its data and FIN are not out yet, it lingers in
 * the background; the return value (> 0) is a handle for
 * vmmc_sock_linger(). 0 when nothing lingers, or -errno.
 */
int vmmc_sock_release(int fd);
/*
 * One look at a lingering close (no waiting): 1 while it lingers (wait
 * for vmmc_sock_ep_fd() to be readable, then look again), 0 once the
 * socket is gone (data and FIN out, or the linger's 2 s passed).
 */
int vmmc_sock_linger(int handle);
/*
 * A small number (0..65534) naming the socket of @fd, the same for all
 * its fds, unique among this process's open sockets; or -errno.
 */
int vmmc_sock_id(int fd);
/*
 * ioctl(2) of a socket: FIONREAD (SIOCINQ), SIOCOUTQ, SIOCOUTQNSD store
 * a byte count in *@val; FIONBIO sets O_NONBLOCK from *@val. 0 or -errno
 * (-ENOTTY for any other @req).
 */
int vmmc_sock_ioctl(int fd, unsigned long req, int *val);
/* 1 if fd is a VMMC socket of this process, else 0. */
int vmmc_sock_is_sock(int fd);

/* poll(2) over VMMC sockets and kernel fds together. */
int vmmc_sock_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);
/*
 * epoll over VMMC sockets and kernel fds together: create the epoll fd
 * with vmmc_sock_epoll_create1() (or tell the library of it by the first
 * vmmc_sock_epoll_ctl()), add either kind of fd with vmmc_sock_epoll_ctl()
 * and wait with vmmc_sock_epoll_wait(). EPOLLET and EPOLLONESHOT work on
 * VMMC sockets as on kernel sockets.
 */
int vmmc_sock_epoll_create1(int flags);
int vmmc_sock_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int vmmc_sock_epoll_wait(int epfd, struct epoll_event *events, int max,
			 int timeout_ms);
/* Forget an epoll fd (call before closing it); then close it. */
int vmmc_sock_epoll_close(int epfd);

/*
 * Do the protocol's pending work (completions, notifications, incoming
 * connection requests) without waiting; no system call. The calls above
 * do it themselves.
 */
void vmmc_sock_progress(void);
/* The endpoint's fd (pollable: readable when the NIC has news), or -1. */
int vmmc_sock_ep_fd(void);
/*
 * How long a competitive wait spins before it blocks, in ns, by the
 * endpoint's wait policy (0: the policy blocks at once, or no endpoint):
 * for a caller that spins on vmmc_sock_poll(..., 0) itself.
 */
uint32_t vmmc_sock_spin_ns(void);
void vmmc_sock_stats(struct vmmc_sock_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* VMMC_SOCK_H */

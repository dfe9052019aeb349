// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_ivshmem.c - the ivshmem server side of each node's socket
 *
 * Contract (QEMU docs/specs/ivshmem-spec.rst, protocol version 0): on
 * connect the fabric sends int64 little-endian messages, each with at most
 * one fd (SCM_RIGHTS):
 *   0 (version), 1 (the client's id), -1 + SRAM memfd,
 *   0 + peer-0 eventfd, once per vector in vector order (the NIC's
 *       doorbells: the guest writes (0 << 16) | v to BAR0 offset 12),
 *   1 + peer-1 eventfd, once per vector (the guest's MSI-X vectors).
 * The connection is one-way. One guest per node: a second connection is
 * logged and closed and does not disturb the first. Nothing a client of
 * this socket does blocks the fabric: the handshake is sent without
 * waiting (a client that never reads it still gets it whole, buffered;
 * one that cannot take it is closed), and afterwards the fabric only
 * reads the socket when epoll says so, without waiting. A peer that sends
 * anything, or errors, is disconnected. On disconnect the node goes down:
 * its endpoints are dropped, its SRAM (except status) is reset and its
 * eventfds are replaced, so a new guest starts from a clean NIC.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fabric.h"

int fabric_node_listen(struct fabric_node *n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (lstat(n->sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			node_log(n, LOG_ERR, "%s exists and is not a socket",
				 n->sock_path);
			return -1;
		}
		/* A stale socket from an earlier run. */
		unlink(n->sock_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		node_log(n, LOG_ERR, "socket: %s", strerror(errno));
		return -1;
	}
	strncpy(sa.sun_path, n->sock_path, sizeof(sa.sun_path) - 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		node_log(n, LOG_ERR, "%s: %s", n->sock_path, strerror(errno));
		close(fd);
		return -1;
	}
	n->listen_fd = fd;
	return 0;
}

void fabric_node_close_eventfds(struct fabric_node *n)
{
	unsigned int v;

	for (v = 0; v < VMMC_NR_VECTORS; v++) {
		if (n->db_fd[v] >= 0) {
			/* A live peer may still hold a copy: leave explicitly. */
			if (n->f->epfd >= 0)
				epoll_ctl(n->f->epfd, EPOLL_CTL_DEL,
					  n->db_fd[v], NULL);
			close(n->db_fd[v]);
		}
		if (n->irq_fd[v] >= 0)
			close(n->irq_fd[v]);
		n->db_fd[v] = n->irq_fd[v] = -1;
	}
}

/* Fresh eventfds for the next guest; the doorbells join the epoll set. */
int fabric_node_eventfds(struct fabric_node *n)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int v;

	fabric_node_close_eventfds(n);
	for (v = 0; v < VMMC_NR_VECTORS; v++) {
		n->db_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		n->irq_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->db_fd[v] < 0 || n->irq_fd[v] < 0)
			goto fail;
		ev.data.u64 = FEV_TAG(FEV_DOORBELL, n->id, v);
		if (epoll_ctl(n->f->epfd, EPOLL_CTL_ADD, n->db_fd[v], &ev))
			goto fail;
	}
	return 0;
fail:
	node_log(n, LOG_ERR, "eventfd: %s", strerror(errno));
	fabric_node_close_eventfds(n);
	return -1;
}

static int send_msg(struct fabric_node *n, int sock, __s64 val, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	__u64 le = htole64((__u64)val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	/*
	 * Never blocks: the 88 bytes fit in a fresh socket's buffer. A peer
	 * that could make us wait (it cannot even by never reading) is
	 * refused rather than allowed to hold up the NIC.
	 */
	do {
		r = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(le)) {
		node_log(n, LOG_ERR, "ivshmem handshake: send: %s",
			 r < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

static int handshake(struct fabric_node *n, int sock)
{
	unsigned int v;

	if (send_msg(n, sock, 0, -1) ||		/* protocol version */
	    send_msg(n, sock, 1, -1) ||		/* the client's id */
	    send_msg(n, sock, -1, n->sram_fd))	/* the shared memory */
		return -1;
	for (v = 0; v < VMMC_NR_VECTORS; v++)	/* peer 0: the NIC */
		if (send_msg(n, sock, VMMC_NIC_PEER, n->db_fd[v]))
			return -1;
	for (v = 0; v < VMMC_NR_VECTORS; v++)	/* peer 1: its own vectors */
		if (send_msg(n, sock, 1, n->irq_fd[v]))
			return -1;
	return 0;
}

void fabric_node_accept(struct fabric_node *n)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	int sock;

	sock = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0) {
		if (errno != EAGAIN && errno != EINTR)
			node_log(n, LOG_ERR, "accept: %s", strerror(errno));
		return;
	}
	if (n->client_fd >= 0) {
		node_log(n, LOG_INFO,
			 "refusing a second guest connection: node already has a guest");
		close(sock);
		return;
	}
	if (handshake(n, sock)) {
		close(sock);
		return;
	}
	ev.data.u64 = FEV_TAG(FEV_CLIENT, n->id, 0);
	if (epoll_ctl(n->f->epfd, EPOLL_CTL_ADD, sock, &ev)) {
		node_log(n, LOG_ERR, "epoll: %s", strerror(errno));
		close(sock);
		return;
	}
	n->client_fd = sock;
	n->state = NODE_UP;
	n->f->ever_connected = true;
	node_log(n, LOG_INFO, "guest connected: node up");
}

void fabric_node_disconnect(struct fabric_node *n, const char *why)
{
	if (n->client_fd < 0)
		return;
	close(n->client_fd);
	n->client_fd = -1;
	n->state = NODE_GONE;
	fabric_nic_reset(n);
	if (fabric_node_eventfds(n))
		node_log(n, LOG_ERR, "no eventfds: the node cannot take a new guest");
	node_log(n, LOG_INFO, "guest disconnected (%s): node down", why);
}

void fabric_node_client_event(struct fabric_node *n, __u32 events)
{
	char buf[64];
	ssize_t r;

	if (n->client_fd < 0)
		return;
	r = recv(n->client_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r > 0) {
		node_log(n, LOG_ERR,
			 "guest sent %zd bytes on the one-way ivshmem socket: protocol error",
			 r);
		fabric_node_disconnect(n, "protocol error");
	} else if (r == 0) {
		fabric_node_disconnect(n, "end of file");
	} else if (errno != EAGAIN && errno != EINTR) {
		fabric_node_disconnect(n, strerror(errno));
	} else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		fabric_node_disconnect(n, "hang-up");
	}
}

void fabric_node_doorbell(struct fabric_node *n, unsigned int vec)
{
	__u64 v;

	if (vec >= VMMC_NR_VECTORS || n->db_fd[vec] < 0)
		return;
	if (read(n->db_fd[vec], &v, sizeof(v)) != sizeof(v))
		return;		/* spurious epoll wake-up */
	ctr_add(n->kstatus->counters.doorbells, 1);
	node_log(n, LOG_VV, "doorbell vector %u (x%llu)", vec,
		 (unsigned long long)v);
}

/* Raise MSI-X vector @vec in the guest; 0 if an interrupt was sent. */
int fabric_node_irq(struct fabric_node *n, unsigned int vec)
{
	__u64 one = 1;

	if (n->client_fd < 0 || n->irq_fd[vec] < 0)
		return -1;
	if (write(n->irq_fd[vec], &one, sizeof(one)) != sizeof(one)) {
		node_log(n, LOG_ERR, "irq vector %u: %s", vec,
			 strerror(errno));
		return -1;
	}
	ctr_add(n->kstatus->counters.irqs, 1);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_sock_test.h - helpers of the stream socket selftests: addresses,
 * a connected pair inside one process, seeded byte streams.
 */
#ifndef VMMC_SOCK_TEST_H
#define VMMC_SOCK_TEST_H

#include <errno.h>
#include <sys/socket.h>

#include "vmmc_test.h"
#include "vmmc_sock.h"

static inline struct sockaddr_vmmc vs_sa(uint32_t node, uint16_t port)
{
	struct sockaddr_vmmc a = {
		.svm_family = AF_VMMC, .svm_port = port, .svm_node = node,
	};

	return a;
}

#define VS_SA(a)	((struct sockaddr *)&(a)), sizeof(a)

/* A port no other test process uses at the same time. */
static inline uint16_t vs_test_port(unsigned int n)
{
	return (uint16_t)(1024 + (getpid() * 8 + n) % 30000);
}

/*
 * Connect to (@node, @port), retrying every @wait_us while nobody listens
 * there yet, at most @tries times: the fd, or a negative errno.
 */
static inline int vs_connect_retry(uint32_t node, uint16_t port, int tries,
				   unsigned int wait_us)
{
	struct sockaddr_vmmc a = vs_sa(node, port);
	int fd, err, t;

	for (t = 0; t < tries; t++) {
		fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
		if (fd < 0)
			return fd;
		err = vmmc_sock_connect(fd, VS_SA(a));
		if (!err)
			return fd;
		vmmc_sock_close(fd);
		if (err != -ECONNREFUSED)
			return err;
		usleep(wait_us);
	}
	return -ETIMEDOUT;
}

/* Listen on @port; connect to it and accept: 0, or a negative errno. */
static inline int vs_pair(uint16_t port, int *lfd, int *cfd, int *afd)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int err;

	*lfd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (*lfd < 0)
		return *lfd;
	err = vmmc_sock_bind(*lfd, VS_SA(a));
	if (!err)
		err = vmmc_sock_listen(*lfd, 8);
	*cfd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (!err && *cfd < 0)
		err = *cfd;
	if (!err)
		err = vmmc_sock_connect(*cfd, VS_SA(a));
	if (!err) {
		*afd = vmmc_sock_accept(*lfd, NULL, NULL);
		if (*afd < 0)
			err = *afd;
	}
	return err;
}

/*
 * Send @total bytes of stream @dir of run @seed in random pieces of up to
 * @max bytes: 0, or the first error.
 */
static inline int vs_send_stream(int fd, uint64_t seed, uint64_t dir,
				 size_t total, size_t max, uint8_t *buf)
{
	uint64_t s = seed ^ dir, off = 0;
	size_t n;
	ssize_t r;

	while (off < total) {
		n = vmmc_rand_size(&s, max);
		if (n > total - off)
			n = total - off;
		vmmc_fill_pattern(buf, n, seed, dir, off);
		r = vmmc_sock_send(fd, buf, n, MSG_NOSIGNAL);
		if (r < 0)
			return (int)r;
		off += (uint64_t)r;	/* a short send: the rest again */
	}
	return 0;
}

/* Receive and check @total bytes: 0, -1 on a wrong byte, or the error. */
static inline int vs_recv_stream(int fd, uint64_t seed, uint64_t dir,
				 size_t total, size_t max, uint8_t *buf)
{
	uint64_t s = seed ^ dir ^ 0x55, off = 0;
	size_t n;
	ssize_t r;

	while (off < total) {
		n = vmmc_rand_size(&s, max);
		if (n > total - off)
			n = total - off;
		r = vmmc_sock_recv(fd, buf, n, 0);
		if (r <= 0)
			return r ? (int)r : -ENODATA;
		if (vmmc_check_pattern(buf, (size_t)r, seed, dir, off) != -1)
			return -1;
		off += (uint64_t)r;
	}
	return 0;
}

/*
 * In a kselftest TEST: every gauge of the socket layer is back to zero
 * (no socket, connection, listener, SEND in flight or redirect slot) and
 * the stack's endpoint is closed (so nothing of it stays pinned).
 */
#define VS_EXPECT_ALL_CLOSED()						\
	do {								\
		struct vmmc_sock_stats st_;				\
									\
		vmmc_sock_stats(&st_);					\
		EXPECT_EQ(0, st_.sockets);				\
		EXPECT_EQ(0, st_.conns);				\
		EXPECT_EQ(0, st_.listeners);				\
		EXPECT_EQ(0, st_.inflight);				\
		EXPECT_EQ(0, st_.zc_active);				\
		EXPECT_EQ(-1, vmmc_sock_ep_fd());			\
	} while (0)

#endif /* VMMC_SOCK_TEST_H */

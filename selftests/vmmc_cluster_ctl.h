/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_cluster_ctl.h - the side channel of the two-node selftests: a
 * kernel TCP connection over the nodes' virtio-net link that carries only
 * set-up and acknowledgements (struct vmmc_ctl_msg); the data goes
 * through the NICs. Node 1 accepts, node 0 connects.
 */
#ifndef VMMC_CLUSTER_CTL_H
#define VMMC_CLUSTER_CTL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#define VMMC_CTL_PEER	"10.77.0.2"	/* node 1 */

struct msg {
	uint32_t op, a;
	uint64_t b, c;
};

/* node 1: accept one connection on @port (bounded wait) */
static inline int ctl_accept(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct pollfd p = { .events = POLLIN };
	int one = 1, fd;

	p.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(p.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(p.fd, 1) ||
	    poll(&p, 1, 300000) != 1)
		return -1;
	fd = accept(p.fd, NULL, NULL);
	close(p.fd);
	return fd;
}

/* node 0: connect to node 1, retrying while it gets there */
static inline int ctl_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, tries;

	inet_pton(AF_INET, VMMC_CTL_PEER, &sa.sin_addr);
	for (tries = 0; tries < 1500; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(200000);
	}
	return -1;
}

static inline int put(int fd, uint32_t op, uint32_t a, uint64_t b, uint64_t c)
{
	struct msg m = { op, a, b, c };

	return write(fd, &m, sizeof(m)) == sizeof(m) ? 0 : -1;
}

/* The next message within @ms (0 for none waiting): 1, 0 or -1. */
static inline int get(int fd, struct msg *m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return 0;
	return recv(fd, m, sizeof(*m), MSG_WAITALL) == sizeof(*m) ? 1 : -1;
}

#endif /* VMMC_CLUSTER_CTL_H */

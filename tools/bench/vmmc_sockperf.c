// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_sockperf - VMMC stream sockets beside kernel TCP, same guests,
 * same run: ping-pong latency of small messages and streaming throughput
 * for 64 KiB .. 1 MiB sends, with the ratio column.
 *
 *   vmmc_sockperf server [-p PORT [-r KiB]] (node 1: serves both kinds)
 *   vmmc_sockperf client -n NODE -a IP [-c PINGS] [-m MiB] [-s KiB,KiB,KiB]
 *                        [-p PORT] [-k]
 *
 * -p: the port of both transports (default 7000): servers on two ports
 * with different environments (VMMC_SOCK_ZC_MIN, ...) let one boot
 * alternate two settings of the receiving side; -r: its VMMC receive
 * ring (SO_RCVBUF: the stream's window); -k: VMMC sockets only.
 *
 * Protocol on either transport: the client sends a 16-byte request
 * {op, size, count}; op 1: count ping-pongs of size bytes (the server
 * echoes); op 2: count sends of size bytes, then the server answers one
 * byte; op 0: end. Every byte of both is checked on the other side only
 * for length (this is a benchmark; the selftests check contents).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc_sock.h"

static int port = 7000, rcvbuf;
#define MAXSZ	(1u << 20)

struct req {
	uint32_t op, size;
	uint64_t count;
};

struct tp {
	const char *name;
	ssize_t (*send)(int fd, const void *b, size_t n, int flags);
	ssize_t (*recv)(int fd, void *b, size_t n, int flags);
};

static ssize_t k_send(int fd, const void *b, size_t n, int flags)
{
	ssize_t r = send(fd, b, n, flags);

	return r < 0 ? -errno : r;
}

static ssize_t k_recv(int fd, void *b, size_t n, int flags)
{
	ssize_t r = recv(fd, b, n, flags);

	return r < 0 ? -errno : r;
}

static const struct tp tcp = { "kernel TCP", k_send, k_recv };
static const struct tp vmmc = { "VMMC sockets", vmmc_sock_send, vmmc_sock_recv };

static int all(const struct tp *t, int fd, void *b, size_t n, bool tx)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = tx ? t->send(fd, (char *)b + off, n - off, MSG_NOSIGNAL) :
			 t->recv(fd, (char *)b + off, n - off, 0);
		if (r <= 0)
			return r ? (int)r : -ENODATA;
		off += (size_t)r;
	}
	return 0;
}

static void serve(const struct tp *t, int fd, char *buf)
{
	struct req r;
	uint64_t i;

	while (!all(t, fd, &r, sizeof(r), false) && r.op && r.size <= MAXSZ) {
		for (i = 0; i < r.count; i++) {
			if (all(t, fd, buf, r.size, false))
				return;
			if (r.op == 1 && all(t, fd, buf, r.size, true))
				return;
		}
		if (r.op == 2 && all(t, fd, buf, 1, true))
			return;
	}
}

static int server(void)
{
	static char buf[MAXSZ];
	struct sockaddr_vmmc va = { .svm_family = AF_VMMC,
				    .svm_port = (uint32_t)port,
				    .svm_node = VMMC_NODE_ANY };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int l, c, one = 1;

	if (fork() == 0) {	/* the VMMC side */
		l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
		if (rcvbuf)
			vmmc_sock_setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					     sizeof(rcvbuf));
		if (l < 0 || vmmc_sock_bind(l, (struct sockaddr *)&va, sizeof(va)) ||
		    vmmc_sock_listen(l, 4))
			return 1;
		while ((c = vmmc_sock_accept(l, NULL, NULL)) >= 0) {
			serve(&vmmc, c, buf);
			vmmc_sock_close(c);
		}
		return 1;
	}
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 4))
		return 1;
	while ((c = accept(l, NULL, NULL)) >= 0) {
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		serve(&tcp, c, buf);
		close(c);
	}
	return 1;
}

/* us per round trip of @size bytes, and MB/s of streaming @sizes */
struct result {
	double rtt_us, mbs[3];
};

/* the streaming sizes (-s KiB,KiB,KiB) */
static uint32_t sizes[3] = { 64u << 10, 256u << 10, 1u << 20 };

static int measure(const struct tp *t, int fd, int pings, int mib,
		   struct result *res)
{
	static char buf[MAXSZ];
	struct req r = { .op = 1, .size = 64, .count = (uint64_t)pings };
	double t0;
	int i, k;

	memset(buf, 0x5a, sizeof(buf));
	if (all(t, fd, &r, sizeof(r), true))
		return -1;
	t0 = bench_s();
	for (i = 0; i < pings; i++)
		if (all(t, fd, buf, 64, true) || all(t, fd, buf, 64, false))
			return -1;
	res->rtt_us = (bench_s() - t0) * 1e6 / pings;
	for (k = 0; k < 3; k++) {
		r.op = 2;
		r.size = sizes[k];
		r.count = ((uint64_t)mib << 20) / sizes[k];
		if (all(t, fd, &r, sizeof(r), true))
			return -1;
		t0 = bench_s();
		for (i = 0; i < (int)r.count; i++)
			if (all(t, fd, buf, sizes[k], true))
				return -1;
		if (all(t, fd, buf, 1, false))
			return -1;
		res->mbs[k] = (double)mib * 1.048576 / (bench_s() - t0);
	}
	r.op = 0;
	return all(t, fd, &r, sizeof(r), true);
}

static int client(uint32_t node, const char *ip, int pings, int mib,
		  bool no_tcp)
{
	struct sockaddr_vmmc va = { .svm_family = AF_VMMC,
				    .svm_port = (uint32_t)port,
				    .svm_node = node };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	struct result rt = { 1, { 1, 1, 1 } }, rv = { 0 };
	int fd, one = 1, k;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	fd = no_tcp ? 0 : bench_connect((struct sockaddr *)&sa, sizeof(sa),
					false);
	if (fd < 0) {
		fprintf(stderr, "tcp connect: %s\n", strerror(-fd));
		return 1;
	}
	if (!no_tcp) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (measure(&tcp, fd, pings, mib, &rt))
			return 1;
		close(fd);
	}
	fd = bench_connect((struct sockaddr *)&va, sizeof(va), true);
	if (fd < 0) {
		fprintf(stderr, "vmmc connect: %s\n", strerror(-fd));
		return 1;
	}
	if (measure(&vmmc, fd, pings, mib, &rv))
		return 1;
	vmmc_sock_close(fd);
	if (no_tcp) {
		printf("64 B ping-pong RTT, us      %12.1f\n", rv.rtt_us);
		for (k = 0; k < 3; k++)
			printf("stream %4u KiB sends, MB/s  %12.1f\n",
			       sizes[k] >> 10, rv.mbs[k]);
		return 0;
	}
	printf("%-28s %12s %12s %8s\n", "", tcp.name, vmmc.name, "ratio");
	printf("%-28s %12.1f %12.1f %7.2fx\n", "64 B ping-pong RTT, us",
	       rt.rtt_us, rv.rtt_us, rt.rtt_us / rv.rtt_us);
	for (k = 0; k < 3; k++)
		printf("stream %4u KiB sends, MB/s  %12.1f %12.1f %7.2fx\n",
		       sizes[k] >> 10, rt.mbs[k], rv.mbs[k], rv.mbs[k] / rt.mbs[k]);
	printf("(ratio: how many times better VMMC is; %d pings, %d MiB per size)\n",
	       pings, mib);
	return 0;
}

int main(int argc, char **argv)
{
	int pings = 500, mib = 16, opt, k;
	bool no_tcp = false;
	const char *ip = "10.77.0.2";
	uint32_t node = 1;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 3 && !strcmp(argv[1], "server") && !strcmp(argv[2], "-p"))
		port = atoi(argv[3]);
	if (argc > 5 && !strcmp(argv[1], "server") && !strcmp(argv[4], "-r"))
		rcvbuf = atoi(argv[5]) << 10;
	if (argc > 1 && !strcmp(argv[1], "server"))
		return server();
	if (argc < 2 || strcmp(argv[1], "client")) {
		fprintf(stderr, "usage: %s server [-p PORT [-r KiB]] | client [-n NODE] [-a IP] [-c PINGS] [-m MiB] [-s KiB,KiB,KiB] [-p PORT] [-k]\n",
			argv[0]);
		return 2;
	}
	optind = 2;
	while ((opt = getopt(argc, argv, "n:a:c:m:s:p:k")) != -1) {
		switch (opt) {
		case 'n':
			node = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'a':
			ip = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'k':
			no_tcp = true;
			break;
		case 'c':
			pings = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 'm':
			mib = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 's':
			if (sscanf(optarg, "%u,%u,%u", &sizes[0], &sizes[1],
				   &sizes[2]) != 3)
				return 2;
			for (k = 0; k < 3; k++) {
				if (!sizes[k] || sizes[k] > MAXSZ >> 10)
					return 2;
				sizes[k] <<= 10;
			}
			break;
		default:
			return 2;
		}
	}
	return client(node, ip, pings, mib, no_tcp);
}

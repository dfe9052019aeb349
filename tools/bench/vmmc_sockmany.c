// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_sockmany - aggregate streaming throughput of VMMC stream sockets
 * over one connection and over many, same guests, same run, same ring
 * size, with the ratio column (issue: 1024 connections within 20 % of
 * one connection's throughput).
 *
 *   vmmc_sockmany server                       (node 1)
 *   vmmc_sockmany client -n NODE [-c CONNS,CONNS,...] [-m MiB] [-k KiB]
 *                        [-r RING_KiB]
 *
 * Per run the client opens CONNS connections (SO_RCVBUF RING on both
 * sides, and the client's SO_SNDBUF; a ring the socket memory budget
 * shrank is reported), sends a 16-byte header {conns, chunk, rounds} on the first,
 * then chunk bytes on each connection in turn, round after round, MiB in
 * all; the server takes them in the same order and answers one byte on
 * the first connection after the last. Throughput: bytes / (first send
 * to the answer). Lengths only are checked (the selftests check bytes).
 * A chunk no bigger than the ring keeps the round-robin free of
 * deadlock: a send waits only for a connection the server reaches next.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc_sock.h"

#define PORT	7100
#define MAXCHUNK (256u << 10)

struct hdr {
	uint32_t conns, chunk;
	uint64_t rounds;
};

static int all(int fd, void *b, size_t n, bool tx)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = tx ? vmmc_sock_send(fd, (char *)b + off, n - off, 0) :
			 vmmc_sock_recv(fd, (char *)b + off, n - off, 0);
		if (r <= 0)
			return r ? (int)r : -ENODATA;
		off += (size_t)r;
	}
	return 0;
}

static void fd_room(unsigned int n)
{
	struct rlimit r = { (rlim_t)n + 256, (rlim_t)n + 256 };

	if (setrlimit(RLIMIT_NOFILE, &r))
		perror("setrlimit NOFILE");
	r.rlim_cur = r.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_MEMLOCK, &r))
		perror("setrlimit MEMLOCK");
}

static int serve_one(int l, char *buf)
{
	struct hdr h;
	int *fds, rc = 0;
	uint64_t r;
	uint32_t i;

	fds = calloc(65536, sizeof(int));
	if (!fds)
		return -ENOMEM;
	fds[0] = vmmc_sock_accept(l, NULL, NULL);
	if (fds[0] < 0 || all(fds[0], &h, sizeof(h), false) ||
	    !h.conns || h.conns > 65536 || !h.chunk || h.chunk > MAXCHUNK) {
		free(fds);
		return -EPROTO;
	}
	for (i = 1; i < h.conns; i++) {
		fds[i] = vmmc_sock_accept(l, NULL, NULL);
		if (fds[i] < 0)
			return fds[i];
	}
	for (r = 0; r < h.rounds && !rc; r++)
		for (i = 0; i < h.conns && !rc; i++)
			rc = all(fds[i], buf, h.chunk, false);
	if (!rc)
		rc = all(fds[0], buf, 1, true);
	for (i = 0; i < h.conns; i++)
		vmmc_sock_close(fds[i]);
	free(fds);
	return rc;
}

static int server(int ring)
{
	struct sockaddr_vmmc a = { .svm_family = AF_VMMC,
				   .svm_node = VMMC_NODE_ANY,
				   .svm_port = PORT };
	char *buf = malloc(MAXCHUNK);
	int l, rc;

	fd_room(65536);
	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (!buf || l < 0 ||
	    vmmc_sock_setsockopt(l, SOL_SOCKET, SO_RCVBUF, &ring,
				 sizeof(ring)) ||
	    vmmc_sock_bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    vmmc_sock_listen(l, VMMC_SOCK_BACKLOG_MAX)) {
		fprintf(stderr, "server: cannot listen on %u\n", PORT);
		return 1;
	}
	for (;;) {
		rc = serve_one(l, buf);
		if (rc)
			fprintf(stderr, "server: %s\n", strerror(-rc));
	}
}

/* One run: MB/s over @conns connections, or a negative errno. */
static double run(uint32_t node, uint32_t conns, uint32_t chunk,
		  uint64_t total, int ring, char *buf)
{
	struct sockaddr_vmmc a = { .svm_family = AF_VMMC, .svm_node = node,
				   .svm_port = PORT };
	struct hdr h = { conns, chunk, total / ((uint64_t)chunk * conns) };
	int *fds = calloc(conns, sizeof(int)), rc = 0, t, v;
	socklen_t len = sizeof(v);
	uint32_t i, small = 0;
	double t0, dt;
	uint64_t r;

	if (!fds || !h.rounds)
		return -EINVAL;
	for (i = 0; i < conns; i++) {
		for (t = 0; t < (i ? 1 : 100); t++) {
			fds[i] = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
			vmmc_sock_setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF,
					     &ring, sizeof(ring));
			vmmc_sock_setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF,
					     &ring, sizeof(ring));
			rc = vmmc_sock_connect(fds[i], (struct sockaddr *)&a,
					       sizeof(a));
			if (rc != -ECONNREFUSED)
				break;
			vmmc_sock_close(fds[i]);
			usleep(200000);
		}
		if (rc)
			return rc;
		if (!i && all(fds[0], &h, sizeof(h), true))
			return -EIO;
		/* the memory budget may have given smaller rings: say so */
		v = 0;
		vmmc_sock_getsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &v, &len);
		small += v < ring;
	}
	if (small)
		fprintf(stderr, "%u of %u connections got rings smaller than %d KiB (the socket memory budget: VMMC_SOCK_MEM_MAX)\n",
			small, conns, ring >> 10);
	t0 = bench_s();
	for (r = 0; r < h.rounds && !rc; r++)
		for (i = 0; i < conns && !rc; i++)
			rc = all(fds[i], buf, chunk, true);
	if (!rc)
		rc = all(fds[0], buf, 1, false);
	dt = bench_s() - t0;
	for (i = 0; i < conns; i++)
		vmmc_sock_close(fds[i]);
	free(fds);
	if (rc)
		return rc;
	return (double)h.rounds * chunk * conns / dt / 1e6;
}

static int client(int argc, char **argv)
{
	const char *list = "1,1024,1,1024,1,1024";
	uint32_t node = 1, chunk = 16 << 10;
	uint64_t total = 64ULL << 20;
	int ring = 64 << 10, o;
	double one = 0, mbs;
	char *buf, *l, *p;

	while ((o = getopt(argc, argv, "n:c:m:k:r:")) != -1) {
		switch (o) {
		case 'n': node = (uint32_t)atoi(optarg); break;
		case 'c': list = optarg; break;
		case 'm': total = strtoull(optarg, NULL, 0) << 20; break;
		case 'k': chunk = (uint32_t)atoi(optarg) << 10; break;
		case 'r': ring = atoi(optarg) << 10; break;
		default: return 2;
		}
	}
	if (!chunk || chunk > MAXCHUNK || chunk > (uint32_t)ring) {
		fprintf(stderr, "a chunk of 1 KiB .. min(ring, 256 KiB)\n");
		return 2;
	}
	buf = malloc(MAXCHUNK);
	l = strdup(list);
	if (!buf || !l)
		return 1;
	memset(buf, 0x5a, MAXCHUNK);
	fd_room(65536);
	printf("%-8s %10s %8s\n", "conns", "MB/s", "ratio");
	for (p = strtok(l, ","); p; p = strtok(NULL, ",")) {
		uint32_t c = (uint32_t)atoi(p);

		mbs = c ? run(node, c, chunk, total, ring, buf) : -EINVAL;
		if (mbs < 0) {
			printf("%-8u failed: %s\n", c, strerror((int)-mbs));
			return 1;
		}
		if (c == 1)
			one = mbs;
		printf("%-8u %10.1f %8.2f\n", c, mbs, one ? mbs / one : 0);
		fflush(stdout);
	}
	printf("(%llu MiB per run in %u KiB sends, %d KiB rings; ratio: against the last 1-connection run)\n",
	       (unsigned long long)(total >> 20), chunk >> 10, ring >> 10);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "server"))
		return server(argc > 2 ? atoi(argv[2]) << 10 : 64 << 10);
	if (argc > 1 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s server [RING_KiB] | client -n NODE [-c CONNS,...] [-m MiB] [-k KiB] [-r RING_KiB]\n",
		argv[0]);
	return 2;
}

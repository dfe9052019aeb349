// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_sockzc - VMMC stream sockets: copy vs zero-copy receive, in one
 * run, for messages of 4 KiB .. 1 MiB, with the ratio column.
 *
 *   vmmc_sockzc server                  (the sender, e.g. on node 1)
 *   vmmc_sockzc client -n NODE [-m MiB] (the receiver, e.g. on node 0)
 *   vmmc_sockzc local [-m MiB]          (both on this node, forked)
 *
 * -p PORT (default 7010): servers of two builds side by side, so that
 * one boot alternates them.
 *
 * For each size the receiver asks for MiB of messages of that size
 * twice on one connection: once with VMMC_SO_ZEROCOPY_MIN = 0 (every
 * byte copied out of the receive ring) and once with the library's
 * default threshold (16 KiB; 4 KiB for 4 KiB messages), so that blocking
 * MSG_WAITALL receives that find the ring empty redirect the data into
 * the buffer; first streamed (the sender sends as fast as the credit
 * lets it), then request-response (each message asked for with one
 * byte, so the ring is empty whenever the receiver asks). It
 * prints the receive throughput and the receiver's CPU time per MiB of
 * each, their ratio, and the share of bytes that arrived with no copy.
 * Each message carries its number in its first and last 8 bytes, which
 * the receiver checks (the selftests check every byte).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc_sock.h"

static uint32_t port = 7010;	/* -p: servers of two builds side by side */
#define MAXSZ	(1u << 20)
#define NSIZES	5

static const uint32_t sizes[NSIZES] = {
	4u << 10, 16u << 10, 64u << 10, 256u << 10, 1u << 20,
};

struct req {
	uint32_t op, size;	/* 1: send count messages; 2: one per byte
				 * received (request-response); 0: end
				 */
	uint64_t count;
};

static int all(int fd, void *b, size_t n, bool tx)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = tx ? vmmc_sock_send(fd, (char *)b + off, n - off, MSG_NOSIGNAL) :
			 vmmc_sock_recv(fd, (char *)b + off, n - off, MSG_WAITALL);
		if (r <= 0)
			return r ? (int)r : -ENODATA;
		off += (size_t)r;
	}
	return 0;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void serve(int fd)
{
	static uint8_t buf[MAXSZ];
	struct req r;
	uint64_t i;

	while (!all(fd, &r, sizeof(r), false) && (r.op == 1 || r.op == 2) &&
	       r.size >= 16 && r.size <= MAXSZ) {
		for (i = 0; i < r.count; i++) {
			if (r.op == 2 && all(fd, buf, 1, false))
				return;
			memcpy(buf, &i, 8);
			memcpy(buf + r.size - 8, &i, 8);
			if (all(fd, buf, r.size, true))
				return;
		}
	}
}

static int server(bool once)
{
	struct sockaddr_vmmc va = { .svm_family = AF_VMMC, .svm_port = port,
				    .svm_node = VMMC_NODE_ANY };
	int l, c;

	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0 || vmmc_sock_bind(l, (struct sockaddr *)&va, sizeof(va)) ||
	    vmmc_sock_listen(l, 4)) {
		fprintf(stderr, "vmmc_sockzc: cannot listen on port %u\n", port);
		return 1;
	}
	while ((c = vmmc_sock_accept(l, NULL, NULL)) >= 0) {
		serve(c);
		vmmc_sock_close(c);
		if (once)
			break;
	}
	vmmc_sock_close(l);
	return 0;
}

struct phase {
	double mbs, cpu_us_per_mib, zc_share;
};

/*
 * Receive MiB of messages of @size with zero-copy threshold @zc_min:
 * streamed (@rpc false) or each asked for with one byte (@rpc true).
 */
static int phase(int fd, uint8_t *buf, uint32_t size, int mib, bool rpc,
		 int zc_min, struct phase *out)
{
	struct req r = { .op = rpc ? 2 : 1, .size = size };
	uint8_t go = 'g';
	struct vmmc_sock_stats s0, s1;
	uint64_t i, a, b;
	double t0, c0, secs;

	if (vmmc_sock_setsockopt(fd, SOL_VMMC, VMMC_SO_ZEROCOPY_MIN, &zc_min,
				 sizeof(zc_min)))
		return -1;
	/* one message first: pins the buffer, fills the caches */
	r.count = 1 + ((uint64_t)mib << 20) / size;
	if (all(fd, &r, sizeof(r), true) || (rpc && all(fd, &go, 1, true)) ||
	    all(fd, buf, size, false))
		return -1;
	vmmc_sock_stats(&s0);
	t0 = bench_s();
	c0 = cpu_s();
	for (i = 1; i < r.count; i++) {
		if ((rpc && all(fd, &go, 1, true)) || all(fd, buf, size, false))
			return -1;
		memcpy(&a, buf, 8);
		memcpy(&b, buf + size - 8, 8);
		if (a != i || b != i) {
			fprintf(stderr, "vmmc_sockzc: message %llu of %u bytes is "
				"wrong\n", (unsigned long long)i, size);
			return -1;
		}
	}
	secs = bench_s() - t0;
	vmmc_sock_stats(&s1);
	out->mbs = (double)(r.count - 1) * size / 1e6 / secs;
	out->cpu_us_per_mib = (cpu_s() - c0) * 1e6 /
			      ((double)(r.count - 1) * size / (1 << 20));
	out->zc_share = (double)(s1.zc_bytes - s0.zc_bytes) * 100.0 /
			((double)(r.count - 1) * size);
	if (getenv("VMMC_SOCKZC_VERBOSE"))
		fprintf(stderr, "%s size %u zc_min %d: %llu msgs, %llu redirects, "
			"%llu bytes no copy, %llu copied, %llu cancels, "
			"%llu fallbacks, %llu waits\n", rpc ? "rpc" : "stream",
			size, zc_min,
			(unsigned long long)(r.count - 1),
			(unsigned long long)(s1.zc_posts - s0.zc_posts),
			(unsigned long long)(s1.zc_bytes - s0.zc_bytes),
			(unsigned long long)(s1.zc_copied - s0.zc_copied),
			(unsigned long long)(s1.zc_cancels - s0.zc_cancels),
			(unsigned long long)(s1.zc_fallbacks - s0.zc_fallbacks),
			(unsigned long long)(s1.waits - s0.waits));
	return 0;
}

static int client(uint32_t node, int mib)
{
	struct sockaddr_vmmc va = { .svm_family = AF_VMMC, .svm_port = port,
				    .svm_node = node };
	struct phase pc, pz;
	struct req end = { 0 };
	int fd, k, zc_min, rpc;
	uint8_t *buf;

	buf = aligned_alloc(4096, MAXSZ);
	if (!buf)
		return 1;
	memset(buf, 0, MAXSZ);
	fd = bench_connect((struct sockaddr *)&va, sizeof(va), true);
	if (fd < 0) {
		fprintf(stderr, "vmmc_sockzc: cannot connect to node %u: %s\n",
			node, strerror(-fd));
		return 1;
	}
	printf("receive of %d MiB per size and kind into one buffer, "
	       "MSG_WAITALL;\nstream: the sender streams; rpc: each message "
	       "asked for with one byte\n", mib);
	printf("%6s %8s %10s %10s %6s %11s %11s %6s %8s\n", "kind", "size",
	       "copy MB/s", "zc MB/s", "zc/cp", "copy cpu", "zc cpu", "cp/zc",
	       "no copy");
	printf("%6s %8s %10s %10s %6s %11s %11s %6s %8s\n", "", "", "", "", "",
	       "us/MiB", "us/MiB", "", "");
	for (rpc = 0; rpc < 2; rpc++) {
		for (k = 0; k < NSIZES; k++) {
			/* the library's default threshold, or the size */
			zc_min = sizes[k] < VMMC_SOCK_ZC_MIN_DEF ?
				 (int)sizes[k] : (int)VMMC_SOCK_ZC_MIN_DEF;
			if (phase(fd, buf, sizes[k], mib, rpc, 0, &pc) ||
			    phase(fd, buf, sizes[k], mib, rpc, zc_min, &pz)) {
				fprintf(stderr, "vmmc_sockzc: failed at size "
					"%u\n", sizes[k]);
				return 1;
			}
			printf("%6s %7uK %10.1f %10.1f %6.2f %11.0f %11.0f "
			       "%6.2f %7.1f%%\n", rpc ? "rpc" : "stream",
			       sizes[k] >> 10, pc.mbs, pz.mbs, pz.mbs / pc.mbs,
			       pc.cpu_us_per_mib, pz.cpu_us_per_mib,
			       pc.cpu_us_per_mib / pz.cpu_us_per_mib,
			       pz.zc_share);
			fflush(stdout);
		}
	}
	all(fd, &end, sizeof(end), true);
	vmmc_sock_close(fd);
	free(buf);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vmmc_sockzc server [-p PORT]\n"
			"       vmmc_sockzc client -n NODE [-m MiB] [-p PORT]\n"
			"       vmmc_sockzc local [-m MiB] [-p PORT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint32_t node = VMMC_NODE_ANY;
	int mib = 32, opt, st, rc;
	const char *mode;
	pid_t pid;

	if (argc < 2)
		return usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "n:m:p:")) != -1) {
		if (opt == 'n')
			node = (uint32_t)strtoul(optarg, NULL, 0);
		else if (opt == 'm')
			mib = atoi(optarg);
		else if (opt == 'p')
			port = (uint32_t)strtoul(optarg, NULL, 0);
		else
			return usage();
	}
	if (mib < 1 || mib > 1024)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "server"))
		return server(false);
	if (!strcmp(mode, "client"))
		return node == VMMC_NODE_ANY ? usage() : client(node, mib);
	if (strcmp(mode, "local"))
		return usage();
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid)
		_exit(server(true));
	rc = client(VMMC_NODE_ANY, mib);
	if (rc)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return rc || !WIFEXITED(st) || WEXITSTATUS(st);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_lat - the distribution of raw VMMC one-way latency between two
 * nodes, per waiting policy, with what each sample cost the NICs:
 *
 *   vmmc_lat client -n NODE -a ADDR [-c COUNT] [-s SIZE] [-r ROUNDS]
 *            [-P POLICIES]
 *   vmmc_lat server                (on node NODE)
 *
 * A ping-pong of SIZE-byte SENDs with NOTIFY (default 64 B): the client
 * posts into the server's export and waits for its NQ, the server waits
 * for its NQ and posts the same size back. Both sides wait by the same
 * policy: poll (spin on the mapped NQ, no system call), block
 * (VMMC_WAIT_BLOCK: the interrupt-driven wait) or comp (the default
 * competitive policy). POLICIES is a string of p, b, c (default "pbc");
 * ROUNDS rounds of COUNT samples per policy are interleaved, so that the
 * policies see the same host. One-way latency is half each round trip.
 *
 * For every sample the client also reads its NIC's counters (the status
 * page every endpoint maps): the doorbells the NIC took, the times it went
 * to sleep and the interrupts it raised during the sample. Slow samples
 * (over 1 ms one way) are split by whether the NIC slept during them, and
 * a histogram of the samples in log2 buckets shows the modes.
 * docs/performance.md, "Where the latency goes", reads this output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc.h"

#define PORT		7475
#define NAME_SRV	0x6c610001
#define NAME_CLI	0x6c610002
#define WARMUP		20
#define MAXCOUNT	20000
#define BUF		65536
#define NBUCKET		16	/* 2^k us, k = 0 .. 15 */

enum { OP_HELLO = 1, OP_RUN, OP_BYE };

struct cmd {
	uint32_t op, size, count, arg;	/* arg: node (HELLO), policy (RUN) */
};

struct sample {
	double us;		/* one way */
	uint64_t db, sl, irq;	/* this NIC's counters over the sample */
};

static __attribute__((noreturn)) void die(const char *what, int err)
{
	fprintf(stderr, "vmmc_lat: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static enum vmmc_wait_policy policy_of(char c)
{
	return c == 'b' ? VMMC_WAIT_BLOCK : c == 'c' ? VMMC_WAIT_COMPETITIVE :
	       VMMC_WAIT_POLL;
}

/* Wait for one notification by @pol ('p': spin on the mapped NQ). */
static void wait_nqe(struct vmmc_ep *ep, char pol)
{
	struct vmmc_nqe nqe;
	int err;

	if (pol == 'p') {
		while (!vmmc_peek_nqe(ep))
			;
		vmmc_nqe_seen(ep);
		return;
	}
	err = vmmc_wait_nqe(ep, &nqe, 10000);
	if (err)
		die("wait", err);
}

/* Reap what completed; fail on an error status. */
static void reap(struct vmmc_ep *ep)
{
	struct vmmc_cqe *cqe;

	while ((cqe = vmmc_peek_cqe(ep))) {
		if (cqe->status != VMMC_ST_OK)
			die("SEND", EIO);
		vmmc_cqe_seen(ep);
	}
}

static void post(struct vmmc_ep *ep, const void *src, size_t len, uint32_t imp)
{
	int err;

	while ((err = vmmc_send(ep, src, len, imp, 0, VMMC_SQF_NOTIFY, 0)) ==
	       -EAGAIN)
		reap(ep);
	if (err)
		die("send", err);
}

static void *map_buf(void)
{
	void *p = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", errno);
	return p;
}

/* Open an endpoint, export @rx under @name to every node, pin @src. */
static void ep_setup(struct vmmc_ep *ep, void *rx, void *src, uint32_t name)
{
	uint32_t id;
	int err = vmmc_ep_open(ep, NULL);

	if (!err)
		err = vmmc_export(ep, rx, BUF, name, ~0ULL, &id);
	if (!err)
		err = vmmc_pin(ep, src, BUF);
	if (err)
		die("open/export", err);
}

static __attribute__((noreturn)) void server(void)
{
	char *buf = map_buf(), *rx = map_buf();
	int lfd, fd, one = 1, err, i;
	uint32_t imp = 0;
	struct vmmc_ep ep;
	struct cmd c;

	ep_setup(&ep, rx, buf, NAME_SRV);
	lfd = bench_listen(PORT);
	if (lfd < 0)
		die("listen", lfd);
	/* one client at a time, each a session of commands */
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (!bench_io_all(fd, &c, sizeof(c), 0) && c.op != OP_BYE) {
			if (c.op == OP_HELLO) {
				err = vmmc_import(&ep, c.arg, NAME_CLI, &imp, NULL);
				if (err)
					die("import", err);
			} else if (c.op == OP_RUN) {
				char pol = (char)c.arg;

				vmmc_set_wait_policy(&ep, policy_of(pol), 0);
				for (i = -WARMUP; i < (int)c.count; i++) {
					wait_nqe(&ep, pol);
					post(&ep, buf, c.size, imp);
					reap(&ep);
				}
			}
			if (bench_io_all(fd, &c, sizeof(c), 1))
				break;
		}
		if (imp)
			vmmc_unimport(&ep, imp);
		imp = 0;
		close(fd);
	}
	die("accept", errno);
}

/*
 * A command to the server; with @op 0, the server's answer that the last
 * command is done instead.
 */
static void ctl(int fd, uint32_t op, uint32_t size, uint32_t count,
		uint32_t arg)
{
	struct cmd c = { op, size, count, arg };

	if (bench_io_all(fd, &c, sizeof(c), op != 0))
		die("control", EIO);
}

static int cmp_sample(const void *x, const void *y)
{
	double a = ((const struct sample *)x)->us;
	double b = ((const struct sample *)y)->us;

	return a < b ? -1 : a > b;
}

/* One policy's samples, pooled over the rounds: the distribution. */
static void report(char pol, struct sample *s, int n)
{
	static const char *const name[] = { ['p'] = "poll", ['b'] = "block",
					    ['c'] = "competitive" };
	int hist[NBUCKET] = { 0 }, slow = 0, slow_sl = 0, slow_db = 0, i, k;
	uint64_t db = 0, sl = 0, irq = 0;

	qsort(s, (size_t)n, sizeof(*s), cmp_sample);
	for (i = 0; i < n; i++) {
		for (k = 0; k < NBUCKET - 1 && s[i].us >= (double)(2u << k); k++)
			;
		hist[k]++;
		db += s[i].db;
		sl += s[i].sl;
		irq += s[i].irq;
		if (s[i].us > 1000) {
			slow++;
			slow_sl += s[i].sl > 0;
			slow_db += s[i].db > 0;
		}
	}
	printf("%-11s n=%d  min %.1f  median %.1f  p90 %.1f  p99 %.1f  max %.1f us; over 1 ms: %d (%.1f%%; NIC slept in %d, doorbell in %d)\n",
	       name[(int)pol], n, s[0].us, s[n / 2].us, s[n * 9 / 10].us,
	       s[n * 99 / 100].us, s[n - 1].us, slow, 100.0 * slow / n,
	       slow_sl, slow_db);
	printf("%-11s per sample: %.2f doorbells, %.2f NIC sleeps, %.2f irqs (this node's NIC)\n",
	       "", (double)db / n, (double)sl / n, (double)irq / n);
	printf("%-11s histogram, one-way us:", "");
	for (k = 0; k < NBUCKET; k++)
		if (hist[k])
			printf(" [%u,%u):%d", k ? 1u << k : 0, 2u << k, hist[k]);
	printf("\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: vmmc_lat client -n NODE -a ADDR [-c COUNT] [-s SIZE] [-r ROUNDS] [-P POLICIES]\n"
		"       vmmc_lat server\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	const char *addr = NULL, *pols = "pbc";
	int count = 1000, rounds = 4, size = 64, node = 1, opt, fd, r, p, i;
	const struct vmmc_nic_counters *ctr;
	static struct sample smp[3][MAXCOUNT];
	int nsmp[3] = { 0 };
	uint32_t imp = 0;
	struct vmmc_ep ep;
	char *src, *rx;
	int err;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "server"))
		server();
	if (strcmp(argv[1], "client"))
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "n:a:c:s:r:P:")) != -1) {
		switch (opt) {
		case 'n': node = atoi(optarg); break;
		case 'a': addr = optarg; break;
		case 'c': count = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'P': pols = optarg; break;
		default: usage();
		}
	}
	if (!addr || count < 10 || size < 1 || size > BUF || rounds < 1 ||
	    (long)count * rounds > MAXCOUNT || strlen(pols) > 3 ||
	    strspn(pols, "pbc") != strlen(pols) || !*pols)
		usage();
	src = map_buf();
	rx = map_buf();
	ep_setup(&ep, rx, src, NAME_CLI);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		die(addr, EINVAL);
	fd = bench_connect((struct sockaddr *)&sa, sizeof(sa), false);
	if (fd < 0)
		die("connect", fd);
	ctl(fd, OP_HELLO, 0, 0, ep.info.node_id);
	ctl(fd, 0, 0, 0, 0);
	for (i = 0; i < 600; i++) {
		err = vmmc_import(&ep, (uint32_t)node, NAME_SRV, &imp, NULL);
		if (err != -ENOENT)
			break;
		usleep(100000);
	}
	if (err)
		die("import", err);
	ctr = &ep.status->counters;
	for (r = 0; r < rounds; r++) {
		for (p = 0; pols[p]; p++) {
			char pol = pols[(p + r) % strlen(pols)];
			int slot = (int)(strchr(pols, pol) - pols);

			vmmc_set_wait_policy(&ep, policy_of(pol), 0);
			ctl(fd, OP_RUN, (uint32_t)size, (uint32_t)count, (uint32_t)pol);
			for (i = -WARMUP; i < count; i++) {
				uint64_t db = ctr->doorbells, sl = ctr->sleeps,
					 irq = ctr->irqs;
				double t0 = bench_ns(CLOCK_MONOTONIC);
				struct sample *s;

				post(&ep, src, (size_t)size, imp);
				wait_nqe(&ep, pol);
				if (i < 0)
					continue;
				s = &smp[slot][nsmp[slot]++];
				s->us = (bench_ns(CLOCK_MONOTONIC) - t0) / 2e3;
				s->db = ctr->doorbells - db;
				s->sl = ctr->sleeps - sl;
				s->irq = ctr->irqs - irq;
				reap(&ep);
			}
			ctl(fd, 0, 0, 0, 0);
		}
	}
	ctl(fd, OP_BYE, 0, 0, 0);
	close(fd);
	printf("vmmc_lat: node %u <-> node %d, %d B SEND+NOTIFY ping-pong, one way = round trip / 2, %d rounds x %d per policy, interleaved\n",
	       ep.info.node_id, node, size, rounds, count);
	for (p = 0; pols[p]; p++)
		report(pols[p], smp[p], nsmp[p]);
	vmmc_ep_close(&ep);
	return 0;
}

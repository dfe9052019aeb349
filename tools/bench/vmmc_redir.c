// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_redir - the receive path with transfer redirection against the
 * receive path that copies out of the export buffer, in one run.
 *
 *   vmmc_redir [-c COUNT] [-D DEV]
 *
 * One node, two endpoints, the NIC loopback: a sender endpoint writes a
 * message of each size into the receiver's export; the message is
 * "received" when it is in the receiver's own buffer U:
 *   copy      SEND with NOTIFY into the export E; the receiver waits for
 *             the notification, then memcpy()s E -> U (what a receiver
 *             without redirection must do)
 *   redirect  the receiver posts a redirect of the range to U first; the
 *             SEND lands straight in U; the receiver waits for the
 *             REDIRECT's completion. If any byte came before the post (it
 *             cannot here: the post is fetched first), the library's
 *             cancel + vmmc_redirect_copy_rest() fix-up runs, and the
 *             count of such fix-ups is printed.
 * For each size: the median time per message from post/send to "in U"
 * (waits poll, no interrupts), the receiver's copy time alone, and the
 * ratio copy / redirect. Modes alternate message by message; every
 * message's U is checked byte for byte outside the timed part. Under TCG
 * the guest's memcpy is slow next to the NIC's (a host memcpy), which
 * is exactly the cost redirection removes: read the ratio, not the times.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc.h"

#define MAX_LEN		(4u << 20)
#define NSIZES		9

static const size_t sizes[NSIZES] = { 64, 1024, 4096, 16384, 65536,
				      262144, 1u << 20, 2u << 20, 4u << 20 };

/* Spin for the next CQE of @ep; -1 after ~10 s. */
static int spin_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out)
{
	double t0 = bench_ns(CLOCK_MONOTONIC);
	unsigned long k;

	for (k = 0;; k++) {
		struct vmmc_cqe *c = vmmc_peek_cqe(ep);

		if (c) {
			*out = *c;
			vmmc_cqe_seen(ep);
			return 0;
		}
		if (!(k & 0xffff) && bench_ns(CLOCK_MONOTONIC) - t0 > 10e9)
			return -1;
	}
}

static int spin_nqe(struct vmmc_ep *ep, struct vmmc_nqe *out)
{
	double t0 = bench_ns(CLOCK_MONOTONIC);
	unsigned long k;

	for (k = 0;; k++) {
		struct vmmc_nqe *n = vmmc_peek_nqe(ep);

		if (n) {
			*out = *n;
			vmmc_nqe_seen(ep);
			return 0;
		}
		if (!(k & 0xffff) && bench_ns(CLOCK_MONOTONIC) - t0 > 10e9)
			return -1;
	}
}

struct ctx {
	struct vmmc_ep rx, tx;
	uint8_t *e, *u, *src;
	uint32_t export_id, import_id;
	unsigned long fixups;
};

static void fill(uint8_t *p, size_t len, unsigned int msg)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + msg * 7 + (i >> 12));
}

/* One message by copy; returns ns, *copy_ns the memcpy alone, or < 0. */
static double one_copy(struct ctx *c, size_t len, double *copy_ns)
{
	struct vmmc_cqe cqe;
	struct vmmc_nqe nqe;
	double t0, t1, t2;

	t0 = bench_ns(CLOCK_MONOTONIC);
	if (vmmc_send(&c->tx, c->src, len, c->import_id, 0, VMMC_SQF_NOTIFY, 1))
		return -1;
	if (spin_nqe(&c->rx, &nqe) || nqe.len != len)
		return -1;
	t1 = bench_ns(CLOCK_MONOTONIC);
	memcpy(c->u, c->e, len);
	t2 = bench_ns(CLOCK_MONOTONIC);
	if (spin_cqe(&c->tx, &cqe) || cqe.status != VMMC_ST_OK)
		return -1;
	*copy_ns = t2 - t1;
	return t2 - t0;
}

/* One message by redirection; returns ns or < 0. */
static double one_redir(struct ctx *c, size_t len)
{
	struct vmmc_redir_res r;
	struct vmmc_cqe cqe, scqe;
	double t0, t1;

	t0 = bench_ns(CLOCK_MONOTONIC);
	if (vmmc_redirect(&c->rx, 0, c->export_id, 0, c->u, len, 2))
		return -1;
	if (vmmc_send(&c->tx, c->src, len, c->import_id, 0, 0, 1))
		return -1;
	if (spin_cqe(&c->tx, &scqe) || scqe.status != VMMC_ST_OK)
		return -1;
	/* all of it has arrived; did all of it go to U? */
	if (vmmc_peek_cqe(&c->rx) == NULL) {
		/* no: end the redirect and copy what stayed in E */
		if (vmmc_redirect_cancel(&c->rx, 0, 3))
			return -1;
		if (spin_cqe(&c->rx, &cqe) || cqe.op != VMMC_OP_REDIRECT ||
		    vmmc_redirect_result(&c->rx, 0, &r))
			return -1;
		vmmc_redirect_copy_rest(&r, c->e, c->u, 0, len);
		if (spin_cqe(&c->rx, &cqe))	/* the cancel's own */
			return -1;
		c->fixups++;
	} else if (spin_cqe(&c->rx, &cqe) || cqe.status != VMMC_ST_OK ||
		   cqe.imm != len) {
		return -1;
	}
	t1 = bench_ns(CLOCK_MONOTONIC);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/vmmc0";
	struct ctx c = { 0 };
	int count = 40, opt, i, s;
	uint32_t name = (uint32_t)getpid() << 8 | 0x77;
	uint64_t len;

	while ((opt = getopt(argc, argv, "c:D:h")) != -1) {
		switch (opt) {
		case 'c':
			count = atoi(optarg);
			break;
		case 'D':
			dev = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-c COUNT] [-D DEV]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (count < 1 || count > 100000) {
		fprintf(stderr, "vmmc_redir: -c: 1..100000\n");
		return 2;
	}
	c.e = mmap(NULL, MAX_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	c.u = mmap(NULL, MAX_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	c.src = mmap(NULL, MAX_LEN, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (c.e == MAP_FAILED || c.u == MAP_FAILED || c.src == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (vmmc_ep_open(&c.rx, dev) || vmmc_ep_open(&c.tx, dev)) {
		fprintf(stderr, "vmmc_redir: cannot open %s\n", dev);
		return 1;
	}
	if (vmmc_export(&c.rx, c.e, MAX_LEN, name, 1ULL << c.rx.info.node_id,
			&c.export_id) ||
	    vmmc_import(&c.tx, c.rx.info.node_id, name, &c.import_id, &len) ||
	    vmmc_pin_write(&c.rx, c.u, MAX_LEN) || vmmc_pin(&c.tx, c.src, MAX_LEN)) {
		fprintf(stderr, "vmmc_redir: export/import/pin failed\n");
		return 1;
	}
	printf("receive path: into the user's buffer by redirection vs by copy from the export\n");
	printf("(one node, NIC loopback, %d messages per size and mode, polling waits; median us)\n\n",
	       count);
	printf("%10s %12s %12s %12s %10s\n", "size", "copy: total", "of it memcpy",
	       "redirect", "copy/redir");
	for (s = 0; s < NSIZES; s++) {
		size_t sz = sizes[s];
		double tc[count], tm[count], tr[count];

		for (i = 0; i < count; i++) {
			fill(c.src, sz, (unsigned int)i);
			memset(c.u, 0, sz);
			tc[i] = one_copy(&c, sz, &tm[i]);
			if (tc[i] < 0 || memcmp(c.u, c.src, sz)) {
				fprintf(stderr, "vmmc_redir: copy path failed at %zu bytes\n", sz);
				return 1;
			}
			fill(c.src, sz, (unsigned int)i + 1000);
			memset(c.u, 0, sz);
			tr[i] = one_redir(&c, sz);
			if (tr[i] < 0 || memcmp(c.u, c.src, sz)) {
				fprintf(stderr, "vmmc_redir: redirect path failed at %zu bytes\n", sz);
				return 1;
			}
		}
		{
			double mc = bench_median(tc, count), mm = bench_median(tm, count);
			double mr = bench_median(tr, count);

			printf("%10zu %12.1f %12.1f %12.1f %9.2fx\n", sz, mc / 1e3,
			       mm / 1e3, mr / 1e3, mc / mr);
		}
	}
	printf("\nredirects that needed the copy fix-up: %lu; every message checked byte for byte\n",
	       c.fixups);
	vmmc_ep_close(&c.tx);
	vmmc_ep_close(&c.rx);
	return 0;
}

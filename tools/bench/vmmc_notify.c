// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_notify - competitive notification against pure polling and pure
 * blocking, in one run (docs/architecture.md, "Notification", says what
 * the competitive policies promise and how the spin limit is set).
 *
 *   vmmc_notify [-c COUNT] [-s SPIN_NS] [-C COST_NS] [-D DEV]
 *
 * Events come from the NIC alone: a NOP with VMMC_SQF_DELAY completes
 * imm us after the NIC fetched it, with no host software in between, as a
 * message would arrive. For inter-arrival delays of 0, C/4, C/2, C, 5C/4,
 * 2C, 4C, 10C and 20C, where C is the competitive spin limit
 * (vmmc_info.spin_ns: the cost of blocking measured by the first endpoint
 * opened, see vmmc_set_wait_policy(3); -C to choose another), the
 * receiver posts one NOP, waits for its completion with vmmc_wait_cqe()
 * under each policy -- poll, block, competitive (the default: a random
 * spin of at most C, then block) and competitive-fixed (spin C, then
 * block) -- and we record, per batch of COUNT / BATCHES events,
 *   lat  mean detection latency: from when the event was due (post +
 *        delay) to when the waiter returned with it (includes the NIC's
 *        own fetch and timer, the same for every policy)
 *   cpu  mean CPU time of the receiver per event (CLOCK_PROCESS_CPUTIME_ID
 *        over the batch)
 *   cost lat + cpu, the thesis's waiting cost
 * and report the median over the batches of each (means within a batch,
 * since the randomized policy's cost is an expectation; the median of the
 * batches drops a batch that a host stall hit). Policies are interleaved
 * batch by batch so that drift hits all of them.
 * For each delay: competitive's cost <= 2 x min(poll, block)? and overall
 * PASS or FAIL (judged for the default policy; the fixed one is shown for
 * comparison: its ratio is 2 at every delay past C by construction). The
 * exit status is 0 either way (1 only on errors).
 *
 * The spin limit follows the cost of blocking the library observes
 * (ulib/core/wait.c, spin_observe()): before the grid of delays is laid
 * out, WARMUP_EVENTS blocking waits for events half the limit away let it
 * settle from the value measured at open, and C is the limit the library then holds (shown again at the
 * end, where it has gone on following the blocks of the run).
 *
 * A row whose polling waiter still saw the NIC's events more than LATE_NS
 * late after LATE_TRIES measurements again measured the host, not the
 * waiting: the simulated NIC (a host thread) did not run. Such a row is
 * shown with its ratio but judged neither way; the verdict is FAIL if any
 * other row breaks the bound, PASS if every row was measured and holds
 * it, and NOT MEASURED (with the count of such rows) if the rows that
 * were measured hold it but some could not be measured. The bound is
 * never relaxed.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc.h"

#define NR_POL		4
#define BATCHES		8
#define MAX_DELAYS	9
#define LATE_NS		150000	/* polling saw the event this late: host stalled */
#define LATE_TRIES	3
#define WARMUP_EVENTS	64	/* blocking waits before C is read */

/* delays as multiples of C, in quarters */
static const unsigned int delay_q[MAX_DELAYS] = { 0, 1, 2, 4, 5, 8, 16, 40, 80 };

/* the order of the columns, and of the batches' rotation */
static const enum vmmc_wait_policy pols[NR_POL] = {
	VMMC_WAIT_POLL, VMMC_WAIT_BLOCK, VMMC_WAIT_COMPETITIVE,
	VMMC_WAIT_COMPETITIVE_FIXED,
};

enum { POLL, BLOCK, COMP, FIXED };

struct cell {
	double lat[BATCHES];	/* ns per event, mean of each batch */
	double cpu[BATCHES];
	double cost[BATCHES];
	uint64_t blocks;	/* wait counter over the cell */
	double lat_med, cpu_med, cost_med;
};

/* @n events of @delay_us under the endpoint's current policy. */
static int run_batch(struct vmmc_ep *ep, uint32_t delay_us, int n,
		     struct cell *c, int batch)
{
	struct vmmc_wait_stats s0, s1;
	double cpu0, cpu1, lat = 0;
	int i, err;

	vmmc_wait_stats(ep, &s0);
	cpu0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(ep);
		struct vmmc_cqe cqe;
		double t0, t1;

		if (!sqe)
			return -EBUSY;
		vmmc_prep_nop(sqe, (uint64_t)i, delay_us);
		t0 = bench_ns(CLOCK_MONOTONIC);
		vmmc_submit(ep);
		err = vmmc_wait_cqe(ep, &cqe, 10000);
		t1 = bench_ns(CLOCK_MONOTONIC);
		if (err)
			return err;
		if (cqe.status != VMMC_ST_OK || cqe.user_data != (uint64_t)i) {
			fprintf(stderr, "vmmc_notify: event %d: %s, user_data %llu\n",
				i, vmmc_status_str(cqe.status),
				(unsigned long long)cqe.user_data);
			return -EIO;
		}
		lat += t1 - t0 - delay_us * 1e3;
	}
	cpu1 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	vmmc_wait_stats(ep, &s1);
	c->lat[batch] = lat / n;
	c->cpu[batch] = (cpu1 - cpu0) / n;
	c->cost[batch] = c->lat[batch] + c->cpu[batch];
	c->blocks += s1.blocks - s0.blocks;
	return 0;
}

/* One delay: BATCHES rounds of every policy, rotating their order. */
static int measure_delay(struct vmmc_ep *ep, uint32_t delay_us, int per,
			 uint32_t spin_ns, struct cell *cells)
{
	int b, p, err;

	for (b = 0; b < BATCHES; b++) {
		for (p = 0; p < NR_POL; p++) {
			int q = (p + b) % NR_POL;

			err = vmmc_set_wait_policy(ep, pols[q], spin_ns);
			if (!err)
				err = run_batch(ep, delay_us, per, &cells[q], b);
			if (err)
				return err;
		}
	}
	return 0;
}

static const char *spin_source_str(uint32_t src)
{
	return src == VMMC_SPIN_OVERRIDE ? "override -s" :
	       src == VMMC_SPIN_DRIVER ? "driver" :
	       src == VMMC_SPIN_OBSERVED ? "followed the blocks the library observed" :
	       "FALLBACK: the driver reported 0, VMMC_SPIN_FALLBACK_NS";
}

static void usage(void)
{
	fprintf(stderr, "usage: vmmc_notify [-c COUNT] [-s SPIN_NS] [-C COST_NS] [-D DEV]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	struct cell cells[MAX_DELAYS][NR_POL];
	uint32_t spin_ns = 0, cost_ns = 0, delay_us[MAX_DELAYS];
	const char *dev = NULL;
	struct vmmc_wait_stats ws;
	struct vmmc_ep ep;
	int count = 240, per, d, p, t, err, fails = 0, fixed_fails = 0, opt;
	int remeasured = 0, nlate = 0, late_bad = 0;
	uint32_t spin_open;
	bool late[MAX_DELAYS];
	double t_clock, worst_r = 0;

	while ((opt = getopt(argc, argv, "c:s:C:D:")) != -1) {
		switch (opt) {
		case 'c':
			count = atoi(optarg);
			break;
		case 's':
			spin_ns = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'C':
			cost_ns = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'D':
			dev = optarg;
			break;
		default:
			usage();
		}
	}
	if (count < BATCHES)
		usage();
	per = count / BATCHES;
	count = per * BATCHES;

	/*
	 * Each open measures the spin limit until one could (a host too
	 * loaded stores nothing and keeps the driver's probe estimate, a
	 * cruder number): give it a few chances, a second apart.
	 */
	for (t = 1; ; t++) {
		err = vmmc_ep_open(&ep, dev);
		if (err) {
			fprintf(stderr, "vmmc_notify: open: %s\n", strerror(-err));
			return 1;
		}
		if (ep.info.spin_src != VMMC_SPIN_SRC_PROBE || t == 4)
			break;
		printf("the host was too loaded to measure the spin limit at open: again in 1 s\n");
		vmmc_ep_close(&ep);
		sleep(1);
	}
	err = vmmc_set_wait_policy(&ep, VMMC_WAIT_COMPETITIVE, spin_ns);
	if (err)
		goto out_err;
	vmmc_wait_stats(&ep, &ws);
	spin_open = ws.spin_ns;
	/*
	 * Let the limit follow what blocking costs now (no effect with -s):
	 * blocking waits for events half the current limit away, the ones
	 * the library's average counts (ulib/core/wait.c, spin_observe()).
	 */
	if (!spin_ns) {
		struct cell warm;

		memset(&warm, 0, sizeof(warm));
		err = vmmc_set_wait_policy(&ep, VMMC_WAIT_BLOCK, 0);
		for (t = 0; !err && t < WARMUP_EVENTS; t++) {
			vmmc_wait_stats(&ep, &ws);
			err = run_batch(&ep, ws.spin_ns / 2000 ? ws.spin_ns / 2000 : 1,
					1, &warm, 0);
		}
		if (!err)
			err = vmmc_set_wait_policy(&ep, VMMC_WAIT_COMPETITIVE, 0);
		if (err)
			goto out_err;
		vmmc_wait_stats(&ep, &ws);
	}
	if (!cost_ns)
		cost_ns = ws.spin_ns;

	/* is clock_gettime a system call here (TCG: maybe no vDSO clock)? */
	t_clock = bench_ns(CLOCK_MONOTONIC);
	for (d = 0; d < 1000; d++)
		bench_ns(CLOCK_MONOTONIC);
	t_clock = (bench_ns(CLOCK_MONOTONIC) - t_clock) / 1000;

	printf("== vmmc_notify: %d events per delay and policy, %d batches, interleaved\n",
	       count, BATCHES);
	printf("spin limit %u ns (%s; %u ns at open); driver's info.spin_ns %u (%s); C = %u ns; "
	       "one poll %.1f ns; clock_gettime %.0f ns\n", ws.spin_ns,
	       spin_source_str(ws.spin_source), spin_open,
	       ep.info.spin_ns,
	       ep.info.spin_src == VMMC_SPIN_SRC_WAITER ? "measured by a waiter" :
	       ep.info.spin_src == VMMC_SPIN_SRC_PROBE ? "probe estimate" :
	       ep.info.spin_src == VMMC_SPIN_SRC_ADMIN ? "set by the administrator" :
	       "unknown", cost_ns, ws.poll_ps / 1e3, t_clock);

	memset(cells, 0, sizeof(cells));
	for (d = 0; d < MAX_DELAYS; d++) {
		delay_us[d] = (uint32_t)((uint64_t)cost_ns * delay_q[d] / 4000);
		if (delay_q[d] && !delay_us[d])
			delay_us[d] = 1;
	}

	for (d = 0; d < MAX_DELAYS; d++) {
		for (t = 0; ; t++) {
			double poll_lat;

			memset(cells[d], 0, sizeof(cells[d]));
			err = measure_delay(&ep, delay_us[d], per, spin_ns,
					    cells[d]);
			if (err)
				goto out_err;
			/*
			 * Polling sees the event about 1 us after the NIC
			 * posts it. Far later means the NIC (a host thread)
			 * was not running: the host's CPUs were taken, and
			 * what every policy paid in this round says more
			 * about the host than about waiting. Measure the
			 * delay again, at most LATE_TRIES times, and say so.
			 */
			poll_lat = bench_median(cells[d][POLL].lat, BATCHES);
			late[d] = poll_lat > LATE_NS;
			if (!late[d] || t == LATE_TRIES)
				break;
			remeasured++;
			printf("delay %u us: the simulated NIC ran %.0f us late (host CPUs taken): measured again\n",
			       delay_us[d], poll_lat / 1e3);
		}
	}

	printf("\n%-9s %-5s | %-22s | %-22s | %-35s | %s\n", "delay", "(xC)",
	       "poll: lat cpu cost", "block: lat cpu cost",
	       "competitive: lat cpu cost blk% ratio",
	       "fixed: cost blk% ratio");
	for (d = 0; d < MAX_DELAYS; d++) {
		double best, r, rf;
		bool ok;

		for (p = 0; p < NR_POL; p++) {
			struct cell *c = &cells[d][p];

			c->lat_med = bench_median(c->lat, BATCHES);
			c->cpu_med = bench_median(c->cpu, BATCHES);
			c->cost_med = bench_median(c->cost, BATCHES);
		}
		best = cells[d][POLL].cost_med;
		if (cells[d][BLOCK].cost_med < best)
			best = cells[d][BLOCK].cost_med;
		r = cells[d][COMP].cost_med / best;
		rf = cells[d][FIXED].cost_med / best;
		ok = r <= 2;
		nlate += late[d];
		if (late[d]) {
			late_bad += !ok;	/* judged neither way */
		} else {
			fails += !ok;
			if (r > worst_r)
				worst_r = r;
		}
		fixed_fails += rf > 2;
		printf("%6u us %5.2f | %6.1f %6.1f %7.1f | %6.1f %6.1f %7.1f | %6.1f %6.1f %7.1f %4.0f%% %5.2f %-3s | %7.1f %4.0f%% %5.2f\n",
		       delay_us[d], delay_q[d] / 4.0,
		       cells[d][POLL].lat_med / 1e3,
		       cells[d][POLL].cpu_med / 1e3,
		       cells[d][POLL].cost_med / 1e3,
		       cells[d][BLOCK].lat_med / 1e3,
		       cells[d][BLOCK].cpu_med / 1e3,
		       cells[d][BLOCK].cost_med / 1e3,
		       cells[d][COMP].lat_med / 1e3,
		       cells[d][COMP].cpu_med / 1e3,
		       cells[d][COMP].cost_med / 1e3,
		       100.0 * cells[d][COMP].blocks / count, r,
		       late[d] ? "n/m" : ok ? "ok" : "BAD",
		       cells[d][FIXED].cost_med / 1e3,
		       100.0 * cells[d][FIXED].blocks / count, rf);
		if (late[d])
			printf("%15s (the NIC still ran late here: this row measures the host; not judged)\n", "");
	}
	printf("(us per event; ratio = cost / min(poll cost, block cost))\n");
	/* what blocking really cost: block's extra latency over poll's */
	d = MAX_DELAYS - 1;
	printf("\nmeasured cost of blocking at the longest delay: block lat - poll lat = %.1f us"
	       " (spin limit %.1f us)\n",
	       (cells[d][BLOCK].lat_med - cells[d][POLL].lat_med) / 1e3,
	       ws.spin_ns / 1e3);
	/*
	 * Under QEMU the NIC is a host thread: when the host is loaded, a
	 * spinning receiver starves it and polling's own latency grows;
	 * say so, since it bounds what any spin limit can do.
	 */
	{
		double worst = 0;

		for (d = 1; d < MAX_DELAYS; d++)
			if (cells[d][POLL].lat_med > worst)
				worst = cells[d][POLL].lat_med;
		printf("polling's detection latency: %.1f us at delay 0, up to %.1f us at the others%s\n",
		       cells[0][POLL].lat_med / 1e3, worst / 1e3,
		       worst > 20e3 ? " (the simulated NIC, a host thread, ran late while the receiver spun: host CPUs shared)" : "");
	}
	printf("competitive-fixed (spin C, then block) above 2x at %d of %d delays (its ratio is 2 past C by construction)\n",
	       fixed_fails, MAX_DELAYS);
	vmmc_wait_stats(&ep, &ws);
	printf("spin limit at the end: %u ns (%s)\n", ws.spin_ns,
	       spin_source_str(ws.spin_source));
	printf("2-competitive bound (competitive cost <= 2 x min(poll, block)) at every delay: %s (worst ratio %.2f over %d measured delays)",
	       fails ? "FAIL" : nlate ? "NOT MEASURED" : "PASS", worst_r,
	       MAX_DELAYS - nlate);
	if (fails)
		printf(" (%d of %d measured delays violated)", fails,
		       MAX_DELAYS - nlate);
	else if (nlate)
		printf(" (held at the %d measured delays; %d could not be measured: the host did not run the NIC)",
		       MAX_DELAYS - nlate, nlate);
	printf("\n");
	if (remeasured || nlate)
		printf("host stalls: %d rounds measured again; %d delays still measured with the NIC running late (%d of them above 2x)\n",
		       remeasured, nlate, late_bad);
	vmmc_ep_close(&ep);
	return 0;

out_err:
	fprintf(stderr, "vmmc_notify: %s\n", strerror(-err));
	vmmc_ep_close(&ep);
	return 1;
}

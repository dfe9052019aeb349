// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the wait policies of libvmmc, by behaviour, not speed.
 * POLL never enters the kernel (no block in the library's counters, no
 * VMMC_IOC_WAIT in the driver's); BLOCK blocks for every event and is
 * woken by the interrupt; COMPETITIVE with a long spin limit catches an
 * event that arrives within the spin without blocking, and with a short
 * one blocks and is woken by the NIC's interrupt; in a loop of delayed
 * NOPs with random delays around the spin limit, several in flight, every
 * completion is seen exactly once. The spin limit: the first open measures
 * it on its endpoint and stores it (VMMC_IOC_SET_SPIN, first one wins,
 * exact errnos for bad requests), leaving the endpoint's counters and
 * rings as if nothing happened; the administrator's reset (spin_ns 0)
 * brings back the probe's estimate and the next open measures again.
 * As the endpoint runs, its blocks move the limit (VMMC_SPIN_OBSERVED):
 * blocks for events that come at once do, blocks for events far past the
 * limit leave it exactly as it was, and the caller's override is never
 * moved.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"
#define EVENTS	20

FIXTURE(wt) {
	struct vmmc_ep ep;
};

FIXTURE_SETUP(wt)
{
	int err = vmmc_ep_open(&self->ep, VMMC_DEV);

	ASSERT_EQ(0, err) TH_LOG("vmmc_ep_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(wt)
{
	vmmc_ep_close(&self->ep);
}

static int post_nop(struct vmmc_ep *ep, uint64_t user_data, uint32_t delay_us)
{
	struct vmmc_sqe *sqe = vmmc_get_sqe(ep);

	if (!sqe)
		return -EBUSY;
	vmmc_prep_nop(sqe, user_data, delay_us);
	vmmc_submit(ep);
	return 0;
}

/* @n events of @delay_us, one at a time, each reaped by vmmc_wait_cqe() */
static int events(struct vmmc_ep *ep, int n, uint32_t delay_us)
{
	struct vmmc_cqe cqe;
	int i, err;

	for (i = 0; i < n; i++) {
		err = post_nop(ep, 1000 + i, delay_us);
		if (!err)
			err = vmmc_wait_cqe(ep, &cqe, 10000);
		if (err)
			return err;
		if (cqe.user_data != 1000 + (uint64_t)i ||
		    cqe.status != VMMC_ST_OK)
			return -EIO;
	}
	return 0;
}

TEST_F(wt, policy_setter)
{
	struct vmmc_wait_stats s;

	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(VMMC_WAIT_COMPETITIVE, s.policy);
	if (self->ep.info.spin_ns) {
		EXPECT_EQ(VMMC_SPIN_DRIVER, s.spin_source);
		EXPECT_EQ(self->ep.info.spin_ns, s.spin_ns);
	} else {
		EXPECT_EQ(VMMC_SPIN_FALLBACK, s.spin_source);
		EXPECT_EQ(VMMC_SPIN_FALLBACK_NS, s.spin_ns);
	}
	EXPECT_EQ(-EINVAL, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_NR, 0));
	EXPECT_EQ(-EINVAL, vmmc_set_wait_policy(&self->ep, -1, 0));
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_POLL, 12345));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(VMMC_WAIT_POLL, s.policy);
	EXPECT_EQ(VMMC_SPIN_OVERRIDE, s.spin_source);
	EXPECT_EQ(12345, s.spin_ns);
	EXPECT_LT(0, s.poll_ps);	/* calibrated by the setter */
	TH_LOG("one poll of the CQ: %u ps; driver's spin_ns %u",
	       s.poll_ps, self->ep.info.spin_ns);
}

TEST_F(wt, poll_never_enters_kernel)
{
	long long waits0 = vmmc_ctl_stat(CTL, "waits");
	struct vmmc_wait_stats s;
	struct vmmc_cqe cqe;

	ASSERT_LE(0, waits0) TH_LOG("no 'waits' in vmmc_ctl -j show");
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_POLL, 0));
	ASSERT_EQ(0, events(&self->ep, EVENTS, 2000));
	/* and a time-out by polling alone */
	EXPECT_EQ(-ETIMEDOUT, vmmc_wait_cqe(&self->ep, &cqe, 20));
	EXPECT_EQ(-ETIMEDOUT, vmmc_ep_wait(&self->ep, 5));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(EVENTS + 2, s.waits);
	EXPECT_EQ(EVENTS, s.spin_hits);
	EXPECT_EQ(0, s.blocks);
	EXPECT_EQ(waits0, vmmc_ctl_stat(CTL, "waits"));
}

TEST_F(wt, block_blocks_at_once)
{
	long long waits0 = vmmc_ctl_stat(CTL, "waits");
	long long blocks0 = vmmc_ctl_stat(CTL, "wait_blocks");
	long long irq0 = vmmc_ctl_stat(CTL, "irq_event");
	long long blocks, irqs;
	struct vmmc_wait_stats s;

	ASSERT_LE(0, blocks0) TH_LOG("no 'wait_blocks' in vmmc_ctl -j show");
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_BLOCK, 0));
	ASSERT_EQ(0, events(&self->ep, EVENTS, 2000));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(EVENTS, s.waits);
	EXPECT_EQ(EVENTS, s.blocks);
	EXPECT_EQ(EVENTS, s.block_wakeups_with_event);
	EXPECT_EQ(0, s.spin_hits);
	EXPECT_EQ(0, s.block_timeouts);
	EXPECT_EQ(0, s.poll_ps);	/* BLOCK never calibrates a spin */
	EXPECT_EQ(waits0 + EVENTS, vmmc_ctl_stat(CTL, "waits"));
	/* 2 ms is far longer than the kernel's arm and re-check */
	blocks = vmmc_ctl_stat(CTL, "wait_blocks") - blocks0;
	irqs = vmmc_ctl_stat(CTL, "irq_event") - irq0;
	EXPECT_GE(blocks, EVENTS / 2);
	EXPECT_GE(irqs, blocks);	/* every sleep ended by an interrupt */
}

/*
 * The limit follows the endpoint's own blocks (ulib/core/wait.c,
 * spin_observe()): NOPs 1 us away waited for by blocking are events due
 * within 100 us of the block unless the host stalls the NIC's timer that
 * long, each block for one an observation (up to 1000 tries for the
 * first); delayed NOPs 40 limits (and over 100 us) away are past the
 * limit and leave it untouched, to the ns;
 * an override is never moved. Not timed: only the source and equality
 * are checked, and the bounds of any limit.
 */
TEST_F(wt, spin_follows_observed_blocks)
{
	struct vmmc_wait_stats s;
	int tries = 0;
	uint32_t c;

	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_BLOCK, 0));
	do {
		ASSERT_EQ(0, events(&self->ep, 1, 1));
		vmmc_wait_stats(&self->ep, &s);
	} while (s.spin_source != VMMC_SPIN_OBSERVED && ++tries < 1000 &&
		 self->ep.info.spin_src != VMMC_SPIN_SRC_ADMIN);
	ASSERT_LT(0, s.block_wakeups_with_event);
	if (self->ep.info.spin_src == VMMC_SPIN_SRC_ADMIN) {
		EXPECT_EQ(VMMC_SPIN_DRIVER, s.spin_source);
		EXPECT_EQ(self->ep.info.spin_ns, s.spin_ns);
		SKIP(return, "the administrator set the limit: it does not move");
	}
	EXPECT_EQ(VMMC_SPIN_OBSERVED, s.spin_source);
	EXPECT_LE(VMMC_SPIN_MIN_NS, s.spin_ns);
	EXPECT_GE(VMMC_SPIN_MAX_NS, s.spin_ns);
	c = s.spin_ns;

	/* the policy setter keeps what the endpoint measured */
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_BLOCK, 0));
	ASSERT_EQ(0, events(&self->ep, 4, 40 * (c / 1000) + 200));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(VMMC_SPIN_OBSERVED, s.spin_source);
	EXPECT_EQ(c, s.spin_ns);

	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_BLOCK, 54321));
	ASSERT_EQ(0, events(&self->ep, 8, 1));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(VMMC_SPIN_OVERRIDE, s.spin_source);
	EXPECT_EQ(54321, s.spin_ns);
	TH_LOG("limit %u ns at open, %u ns after %d blocks",
	       self->ep.info.spin_ns, c, tries + 1);
}

TEST_F(wt, competitive_long_spin_catches_event)
{
	long long waits0 = vmmc_ctl_stat(CTL, "waits");
	long long irq0 = vmmc_proc_irqs("vmmc-event");
	struct vmmc_wait_stats s;

	/* a fixed 500 ms spin: a 1 ms event always arrives within it */
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep,
					  VMMC_WAIT_COMPETITIVE_FIXED,
					  500000000));
	ASSERT_EQ(0, events(&self->ep, EVENTS, 1000));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(EVENTS, s.spin_hits);
	EXPECT_EQ(0, s.blocks);
	EXPECT_EQ(waits0, vmmc_ctl_stat(CTL, "waits"));
	EXPECT_EQ(irq0, vmmc_proc_irqs("vmmc-event"));
}

TEST_F(wt, competitive_short_spin_blocks)
{
	long long blocks0 = vmmc_ctl_stat(CTL, "wait_blocks");
	long long irq0 = vmmc_ctl_stat(CTL, "irq_event");
	long long blocks, irqs;
	struct vmmc_wait_stats s;

	/* a 1 us spin: a 5 ms event arrives long after it */
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_COMPETITIVE,
					  1000));
	ASSERT_EQ(0, events(&self->ep, EVENTS, 5000));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(0, s.spin_hits);
	EXPECT_EQ(EVENTS, s.blocks);
	EXPECT_EQ(EVENTS, s.block_wakeups_with_event);
	EXPECT_EQ(0, s.block_timeouts);
	blocks = vmmc_ctl_stat(CTL, "wait_blocks") - blocks0;
	irqs = vmmc_ctl_stat(CTL, "irq_event") - irq0;
	EXPECT_GE(blocks, EVENTS / 2);
	EXPECT_GE(irqs, blocks);
}

/*
 * The default competitive policy spins for a random time t in [0, C] with
 * density e^(t/C) / (C (e - 1)), so an event C/2 away is caught by the
 * spin with probability 1 - (e^0.5 - 1) / (e - 1) = 0.62, and one C/10
 * away with 0.94. With C = 10 ms (delays of 5 ms and 1 ms: far above the
 * NIC's and the clock's jitter) and 120 events each, the hit counts must
 * fall within about 4 standard deviations of those (a fixed spin catches
 * every one, a spin of 0 none); every miss blocked, was woken
 * by its event and lost nothing. A host too loaded to deliver the NIC's
 * timed events on time (the guest and the fabric share two CPUs with
 * whatever else runs) makes events late and so misses: a count out of
 * range is measured again, at most 3 times in all, and each try is
 * logged. A policy that does not randomise fails every try.
 */
static uint64_t spin_hits(struct vmmc_ep *ep, int n, uint32_t delay_us,
			  double lo, double hi, struct __test_metadata *_metadata)
{
	struct vmmc_wait_stats s0, s1;
	uint64_t hits = 0;
	int try;

	for (try = 1; try <= 3; try++) {
		vmmc_wait_stats(ep, &s0);
		if (events(ep, n, delay_us))
			return UINT64_MAX;
		vmmc_wait_stats(ep, &s1);
		hits = s1.spin_hits - s0.spin_hits;
		TH_LOG("delay %u us, try %d: %llu of %d caught by the spin",
		       delay_us, try, (unsigned long long)hits, n);
		EXPECT_EQ(n - hits, s1.block_wakeups_with_event -
				    s0.block_wakeups_with_event);
		EXPECT_EQ(s0.block_timeouts, s1.block_timeouts);
		if (hits >= (uint64_t)(n * lo) && hits <= (uint64_t)(n * hi))
			break;
	}
	return hits;
}

TEST_F(wt, competitive_spin_is_randomized)
{
	enum { N = 120, C_US = 10000 };
	struct vmmc_wait_stats s0, s1;
	uint64_t hits;

	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_COMPETITIVE,
					  C_US * 1000));
	/* C/2: expected 0.62 */
	hits = spin_hits(&self->ep, N, C_US / 2, 0.45, 0.80, _metadata);
	EXPECT_GE(hits, (uint64_t)(N * 0.45));
	EXPECT_LE(hits, (uint64_t)(N * 0.80));
	/* C/10: expected 0.94; 0.94^120: never all */
	hits = spin_hits(&self->ep, N, C_US / 10, 0.85, (N - 1.0) / N,
			 _metadata);
	EXPECT_GE(hits, (uint64_t)(N * 0.85));
	EXPECT_LT(hits, (uint64_t)N);

	/* the fixed spin catches every one at C/10 */
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep,
					  VMMC_WAIT_COMPETITIVE_FIXED,
					  C_US * 1000));
	vmmc_wait_stats(&self->ep, &s0);
	ASSERT_EQ(0, events(&self->ep, 20, C_US / 10));
	vmmc_wait_stats(&self->ep, &s1);
	EXPECT_EQ(20, s1.spin_hits - s0.spin_hits);
	EXPECT_EQ(s0.blocks, s1.blocks);
}

TEST_F(wt, block_times_out)
{
	struct vmmc_wait_stats s;
	struct vmmc_cqe cqe;

	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_BLOCK, 0));
	EXPECT_EQ(-ETIMEDOUT, vmmc_wait_cqe(&self->ep, &cqe, 30));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(1, s.blocks);
	EXPECT_EQ(1, s.block_timeouts);
}

/*
 * Random delays in [0, 2 x spin], up to 4 NOPs in flight (so completions
 * come out of order), competitive with a 200 us spin: every completion is
 * seen exactly once, none is lost between the spin and the sleep.
 */
TEST_F(wt, no_lost_event)
{
	enum { N = 600, INFLIGHT = 4, SPIN_US = 200 };
	uint64_t seed = vmmc_test_seed("no_lost_event");
	static unsigned char seen[N];
	struct vmmc_wait_stats s;
	struct vmmc_cqe cqe;
	int posted = 0, reaped = 0, err;

	memset(seen, 0, sizeof(seen));
	ASSERT_EQ(0, vmmc_set_wait_policy(&self->ep, VMMC_WAIT_COMPETITIVE,
					  SPIN_US * 1000));
	while (reaped < N) {
		while (posted < N && posted - reaped < INFLIGHT) {
			uint32_t d = (uint32_t)vmmc_rand_range(&seed, 0,
							       2 * SPIN_US);

			ASSERT_EQ(0, post_nop(&self->ep, posted, d));
			posted++;
		}
		err = vmmc_wait_cqe(&self->ep, &cqe, 10000);
		ASSERT_EQ(0, err) TH_LOG("event %d of %d: %s", reaped, N,
					 strerror(-err));
		ASSERT_EQ(VMMC_ST_OK, cqe.status);
		ASSERT_GT(N, cqe.user_data);
		ASSERT_EQ(0, seen[cqe.user_data])
			TH_LOG("completion %llu seen twice",
			       (unsigned long long)cqe.user_data);
		seen[cqe.user_data] = 1;
		reaped++;
	}
	/* nothing more comes */
	EXPECT_EQ(-ETIMEDOUT, vmmc_wait_cqe(&self->ep, &cqe, 50));
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(N, s.spin_hits + s.block_wakeups_with_event);
	EXPECT_EQ(1, s.block_timeouts);
	TH_LOG("%llu caught spinning, %llu after blocking",
	       (unsigned long long)s.spin_hits,
	       (unsigned long long)s.block_wakeups_with_event);
	EXPECT_LT(0, s.spin_hits);
	EXPECT_LT(0, s.block_wakeups_with_event);
}

static int set_spin(struct vmmc_ep *ep, uint32_t ns, uint32_t flags,
		    uint64_t reserved)
{
	struct vmmc_spin_req r = {
		.spin_ns = ns, .flags = flags, .reserved = reserved,
	};

	return ioctl(ep->fd, VMMC_IOC_SET_SPIN, &r) ? -errno : 0;
}

static void get_info(struct vmmc_ep *ep, struct vmmc_info *i)
{
	memset(i, 0, sizeof(*i));
	if (ioctl(ep->fd, VMMC_IOC_INFO, i))
		i->spin_src = VMMC_SPIN_SRC_NR;	/* fails the caller's check */
}

/*
 * Open @ep until an open measured the spin limit and stored it, at most
 * @tries times: 0 when one did (@ep open), 1 when none did (@ep open, the
 * last try), or -errno.
 */
static int open_measured(struct vmmc_ep *ep, int tries)
{
	int t, err;

	for (t = 1; ; t++) {
		err = vmmc_ep_open(ep, VMMC_DEV);
		if (err)
			return err;
		if (ep->info.spin_src == VMMC_SPIN_SRC_WAITER)
			return 0;
		if (t == tries)
			return 1;
		vmmc_ep_close(ep);
	}
}

TEST_F(wt, spin_measured_at_open_and_stored)
{
	struct vmmc_wait_stats s;
	struct vmmc_info i;
	struct vmmc_ep ep2;
	struct vmmc_cqe cqe;
	uint32_t probe;
	int r;

	/*
	 * this open, or an earlier one, measured it; it left no trace. On
	 * a host too loaded to measure (the simulated NIC starved by the
	 * spinning vCPU, or over 2 s) the open stores nothing and the next
	 * one measures again: open again, a few times.
	 */
	get_info(&self->ep, &i);
	if (i.spin_src != VMMC_SPIN_SRC_WAITER) {
		vmmc_ep_close(&self->ep);
		r = open_measured(&self->ep, 5);
		ASSERT_LE(0, r);
		if (r)
			SKIP(return, "host too loaded to measure the spin limit (5 opens in a row)");
		get_info(&self->ep, &i);
	}
	ASSERT_EQ(VMMC_SPIN_SRC_WAITER, i.spin_src);
	EXPECT_LE(VMMC_SPIN_MIN_NS, i.spin_ns);
	EXPECT_GE(VMMC_SPIN_MAX_NS, i.spin_ns);
	EXPECT_EQ(i.spin_ns, self->ep.info.spin_ns);
	vmmc_wait_stats(&self->ep, &s);
	EXPECT_EQ(0, s.waits);
	EXPECT_EQ(0, s.blocks);
	EXPECT_EQ(0, s.spin_hits);
	EXPECT_EQ(VMMC_SPIN_DRIVER, s.spin_source);
	EXPECT_EQ(i.spin_ns, s.spin_ns);
	EXPECT_EQ(-ETIMEDOUT, vmmc_wait_cqe(&self->ep, &cqe, 0));

	/* bad requests, then good ones that come too late */
	EXPECT_EQ(-EINVAL, set_spin(&self->ep, 50000, 4, 0));
	EXPECT_EQ(-EINVAL, set_spin(&self->ep, 50000, VMMC_SPIN_CLAIM, 0));
	EXPECT_EQ(-EINVAL, set_spin(&self->ep, 50000, VMMC_SPIN_UNCLAIM, 0));
	EXPECT_EQ(-EEXIST, set_spin(&self->ep, 0, VMMC_SPIN_CLAIM, 0));
	EXPECT_EQ(-EINVAL, set_spin(&self->ep, 50000, 0, 1));
	EXPECT_EQ(-ERANGE, set_spin(&self->ep, VMMC_SPIN_MIN_NS - 1, 0, 0));
	EXPECT_EQ(-ERANGE, set_spin(&self->ep, VMMC_SPIN_MAX_NS + 1, 0, 0));
	EXPECT_EQ(-EEXIST, set_spin(&self->ep, 50000, 0, 0));
	get_info(&self->ep, &i);
	EXPECT_EQ(VMMC_SPIN_SRC_WAITER, i.spin_src);
	EXPECT_EQ(self->ep.info.spin_ns, i.spin_ns);

	/* the administrator's choice is never replaced by a measurement */
	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 77777"));
	get_info(&self->ep, &i);
	EXPECT_EQ(VMMC_SPIN_SRC_ADMIN, i.spin_src);
	EXPECT_EQ(77777, i.spin_ns);
	EXPECT_EQ(-EEXIST, set_spin(&self->ep, 50000, 0, 0));
	ASSERT_EQ(0, vmmc_ep_open(&ep2, VMMC_DEV));
	EXPECT_EQ(77777, ep2.info.spin_ns);
	vmmc_ep_close(&ep2);

	/* reset: the probe's estimate; one claim at a time, released by
	 * UNCLAIM or by closing; the first store wins */
	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 0"));
	get_info(&self->ep, &i);
	probe = i.spin_ns;	/* 0 if the NIC did not answer the probe */
	EXPECT_EQ(probe ? VMMC_SPIN_SRC_PROBE : VMMC_SPIN_SRC_NONE,
		  i.spin_src);
	ASSERT_EQ(0, set_spin(&self->ep, 0, VMMC_SPIN_CLAIM, 0));
	EXPECT_EQ(0, set_spin(&self->ep, 0, VMMC_SPIN_CLAIM, 0));
	ASSERT_EQ(0, vmmc_ep_open(&ep2, VMMC_DEV));	/* does not measure */
	EXPECT_EQ(i.spin_src, ep2.info.spin_src);
	EXPECT_EQ(probe, ep2.info.spin_ns);
	EXPECT_EQ(-EBUSY, set_spin(&ep2, 0, VMMC_SPIN_CLAIM, 0));
	EXPECT_EQ(-EBUSY, set_spin(&ep2, 40000, 0, 0));
	EXPECT_EQ(0, set_spin(&ep2, 0, VMMC_SPIN_UNCLAIM, 0));	/* not its */
	EXPECT_EQ(0, set_spin(&self->ep, 0, VMMC_SPIN_UNCLAIM, 0));
	EXPECT_EQ(0, set_spin(&ep2, 0, VMMC_SPIN_CLAIM, 0));
	EXPECT_EQ(-EBUSY, set_spin(&self->ep, 0, VMMC_SPIN_CLAIM, 0));
	vmmc_ep_close(&ep2);				/* drops its claim */
	get_info(&self->ep, &i);
	EXPECT_EQ(probe ? VMMC_SPIN_SRC_PROBE : VMMC_SPIN_SRC_NONE,
		  i.spin_src);
	EXPECT_EQ(0, set_spin(&self->ep, 50000, 0, 0));
	EXPECT_EQ(-EEXIST, set_spin(&self->ep, 60000, 0, 0));
	EXPECT_EQ(-EEXIST, set_spin(&self->ep, 0, VMMC_SPIN_CLAIM, 0));
	get_info(&self->ep, &i);
	EXPECT_EQ(VMMC_SPIN_SRC_WAITER, i.spin_src);
	EXPECT_EQ(50000, i.spin_ns);

	/*
	 * reset again: the next open measures and stores it -- unless the
	 * host is too loaded to measure right now (the simulated NIC
	 * starved, or over 2 s): then it stores nothing, the probe's
	 * estimate stays, and the next open measures again. Allow a few.
	 */
	ASSERT_EQ(0, system(CTL " dev set vmmc0 spin_ns 0"));
	r = open_measured(&ep2, 5);
	ASSERT_LE(0, r);
	if (r) {
		EXPECT_EQ(probe ? VMMC_SPIN_SRC_PROBE : VMMC_SPIN_SRC_NONE,
			  ep2.info.spin_src);
		EXPECT_EQ(probe, ep2.info.spin_ns);
		vmmc_ep_close(&ep2);
		SKIP(return, "host too loaded to measure the spin limit (5 opens in a row)");
	}
	EXPECT_EQ(VMMC_SPIN_SRC_WAITER, ep2.info.spin_src);
	get_info(&self->ep, &i);
	EXPECT_EQ(VMMC_SPIN_SRC_WAITER, i.spin_src);
	EXPECT_EQ(ep2.info.spin_ns, i.spin_ns);
	vmmc_wait_stats(&ep2, &s);
	EXPECT_EQ(0, s.waits);
	EXPECT_EQ(0, s.poll_ps);	/* its poll calibration is undone too */
	EXPECT_EQ(-ETIMEDOUT, vmmc_wait_cqe(&ep2, &cqe, 0));
	TH_LOG("probe estimate %u ns, measured at open %u ns", probe,
	       ep2.info.spin_ns);
	vmmc_ep_close(&ep2);
}

TEST_HARNESS_MAIN

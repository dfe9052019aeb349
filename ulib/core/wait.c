// SPDX-License-Identifier: MIT
/*
 * wait.c - waiting for completions and notifications, by the endpoint's
 * policy (vmmc_set_wait_policy(3)):
 *
 *   POLL         spin on the mapped ring until the deadline; never enters
 *                the kernel (but for a clock read every millisecond).
 *   BLOCK        one look at the ring, then the kernel's interrupt-driven
 *                wait (VMMC_IOC_WAIT) at once.
 *   COMPETITIVE  (the default) spin for a random time of at most the
 *                spin limit C (random_spin()), then block: the expected
 *                waiting cost is e/(e - 1), about 1.58, times the better
 *                of the two others whatever the event's delay, when C is
 *                the cost of blocking (the WAIT ioctl, the NIC's MSI-X,
 *                the wake-up back in user space: CPU time plus detection
 *                latency; docs/architecture.md, "Notification").
 *   COMPETITIVE_FIXED  spin for the whole limit C, then block: at most
 *                twice the better of the two others.
 *
 * The spin makes no system call: it polls in chunks of about 2 us (a
 * number of polls computed from the cost of one poll, measured with
 * CLOCK_MONOTONIC once per endpoint and ring mask, on first use) and reads
 * the clock (vDSO) between chunks, so it lasts the spin limit in time even
 * when the vCPU runs slower or faster than when the poll was timed. No
 * wake-up is lost between the spin and the sleep: VMMC_IOC_WAIT arms the
 * interrupt, re-checks both rings and only then sleeps (kmod/vmmc_irq.c).
 *
 * The spin limit is measured: first estimated by the driver when it binds
 * the NIC (kmod/vmmc_spin.c), then measured here on the path a waiter
 * pays (spin_measure(), at the first open after the driver loaded) and
 * stored in the driver for every later endpoint (VMMC_IOC_SET_SPIN); each
 * endpoint reads it at open (vmmc_info.spin_ns). From then on the limit
 * follows what blocking costs this endpoint as it runs (spin_observe()):
 * every block that ends with the awaited completion is a measurement of
 * the cost of blocking, and the limit is their moving average.
 *
 * The kernel's wait returns when the CQ *or* the NQ has an entry, so a
 * waiter for one ring whose other ring holds unreaped entries cannot
 * sleep: it keeps waiting (yielding the CPU between rounds) until its
 * deadline. Reap both rings, or use vmmc_ep_wait() and peek at both.
 * Every timeout is a bound on the whole call.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "core_loc.h"

#define RING_CQ		1u
#define RING_NQ		2u

#define NSEC_PER_MSEC	1000000ULL
#define CALIB_ROUND_NS	100000ULL	/* one calibration round: >= 100 us */
#define CALIB_ROUNDS	5		/* keep the fastest */
#define CALIB_TRIES	100
#define POLL_CHUNK_NS	NSEC_PER_MSEC	/* POLL reads the clock this often */
#define SPIN_CHUNK_NS	2000ULL		/* COMPETITIVE reads it this often */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Poll the rings in @mask up to @iters times: the iterations done, less
 * than @iters if a ring's prod moved off the given cons. Never inlined, so
 * that calibration times exactly the loop the waits run.
 */
static __attribute__((noinline)) uint64_t
spin_rings(const struct vmmc_ep *ep, unsigned int mask, uint32_t cq_cons,
	   uint32_t nq_cons, uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		/* pairs with the NIC's release of prod (entries first) */
		if ((mask & RING_CQ) &&
		    vmmc_load_acquire(&ep->kcq->prod) != cq_cons)
			break;
		if ((mask & RING_NQ) &&
		    vmmc_load_acquire(&ep->knq->prod) != nq_cons)
			break;
	}
	return i;
}

/*
 * The cost of one poll of the rings in @mask, in ps: time spin_rings()
 * with cons = the current prods, i.e. the loop the waits run on empty
 * rings. Rounds of at least 100 us; the fastest of five (a round the vCPU
 * lost is too slow); a round cut short by an arriving entry is run again.
 * If entries never stop arriving, guess 10 ns and calibrate next time.
 */
static uint32_t poll_ps(struct vmmc_ep *ep, unsigned int mask)
{
	uint64_t iters = 256, best = UINT64_MAX, t0, dt, done, ps;
	int round = 0, tries = 0;
	uint32_t cq, nq;

	if (ep->poll_ps[mask])
		return ep->poll_ps[mask];
	while (round < CALIB_ROUNDS && tries++ < CALIB_TRIES) {
		cq = vmmc_load_acquire(&ep->kcq->prod);
		nq = vmmc_load_acquire(&ep->knq->prod);
		t0 = now_ns();
		done = spin_rings(ep, mask, cq, nq, iters);
		dt = now_ns() - t0;
		if (done < iters)
			continue;		/* an entry came: again */
		if (dt < CALIB_ROUND_NS && iters < (1ULL << 32)) {
			iters *= 2;		/* still growing the round */
			continue;
		}
		if (dt < best)
			best = dt;
		round++;
	}
	if (best == UINT64_MAX)
		return 10000;
	ps = best * 1000 / iters;
	ep->poll_ps[mask] = ps ? (ps < UINT32_MAX ? (uint32_t)ps : UINT32_MAX) : 1;
	return ep->poll_ps[mask];
}

/* Polls of the rings in @mask that take about @ns. */
static uint64_t polls_for(struct vmmc_ep *ep, unsigned int mask, uint64_t ns)
{
	uint64_t n = ns * 1000 / poll_ps(ep, mask);

	return n ? n : 1;
}

/*
 * Take what the caller waits for, if it is there: 1 or 0. For
 * vmmc_ep_wait() (@take NULL): whether either ring has an entry.
 */
typedef int (*take_fn)(struct vmmc_ep *ep, void *out);

static int ready(struct vmmc_ep *ep, take_fn take, void *out)
{
	if (take)
		return take(ep, out);
	return vmmc_load_acquire(&ep->kcq->prod) != ep->cq_cons ||
	       vmmc_load_acquire(&ep->knq->prod) != ep->nq_cons;
}

/* Spin on @mask for @iters polls; then whether the entry was taken. */
static bool spin_take(struct vmmc_ep *ep, unsigned int mask, take_fn take,
		      void *out, uint64_t iters)
{
	if (spin_rings(ep, mask, ep->cq_cons, ep->nq_cons, iters) == iters)
		return false;
	return ready(ep, take, out);
}

/*
 * Spin on @mask until @ns have passed (by the clock, read between chunks
 * of polls); then whether the entry was taken.
 */
static bool spin_for(struct vmmc_ep *ep, unsigned int mask, take_fn take,
		     void *out, uint64_t ns)
{
	uint64_t chunk = polls_for(ep, mask, ns < SPIN_CHUNK_NS ?
				   ns : SPIN_CHUNK_NS);
	uint64_t end = now_ns() + ns;

	do {
		if (spin_take(ep, mask, take, out, chunk))
			return true;
	} while (now_ns() < end);
	return false;
}

/*
 * The randomized spin (VMMC_WAIT_COMPETITIVE). A fixed spin of C = B,
 * the cost of blocking, costs C + B = 2B for every event later than C,
 * where the better policy (blocking) costs B: the ratio is exactly 2 at
 * every such delay, so a measurement of it is a coin toss around the
 * bound. Karlin, Manasse, McGeoch and Owicki (SOSP 1991) spin instead for
 * a random T in [0, C] with density e^(t/C) / (C (e - 1)); the expected
 * cost is then e/(e-1) ~ 1.58 times the better of polling and blocking at
 * every delay, which leaves the 2x bound real margin for what a
 * measurement of B misses. T = C ln(1 + u (e - 1)), u uniform in [0, 1);
 * its mean is C / (e - 1) ~ 0.58 C.
 *
 * u comes from a per-thread xorshift64* generator (no lock, no system
 * call: a thread's state is seeded from its address and the clock).
 */
static _Thread_local uint64_t spin_rng;

static uint64_t rng_next(void)
{
	uint64_t x = spin_rng;

	if (!x)
		x = (now_ns() ^ (uint64_t)(uintptr_t)&spin_rng) |
		    0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	spin_rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* ln(x) for 1 <= x <= e: 2 atanh((x - 1) / (x + 1)), |z| < 0.47 */
static double ln_1e(double x)
{
	double z = (x - 1) / (x + 1), z2 = z * z, term = z, sum = 0;
	int k;

	for (k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return 2 * sum;
}

#define E_MINUS_1	1.718281828459045

/* A spin time for limit @c_ns, drawn as above. */
static uint64_t random_spin(uint64_t c_ns)
{
	double u = (double)(rng_next() >> 11) / 9007199254740992.0;

	return (uint64_t)((double)c_ns * ln_1e(1 + u * E_MINUS_1));
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t clamp_spin(uint64_t ns)
{
	if (ns < VMMC_SPIN_MIN_NS)
		return VMMC_SPIN_MIN_NS;
	return ns > VMMC_SPIN_MAX_NS ? VMMC_SPIN_MAX_NS : ns;
}

/*
 * The spin limit as the endpoint runs: a moving average of the cost of
 * blocking that its waits observe (the competitive policies want C = B,
 * the cost of blocking, see spin_crossing()). A block that ends with the
 * completion it waited for, taken at @t_ret, is one observation:
 *
 *   B = (t_ret - t_due) + the thread's CPU time in the block (@cpu)
 *
 * where t_due = @t_wait + cqe.nic_ns is when the NIC wrote the entry: the
 * NIC reports how long the operation took from its fetch (nic_ns), and
 * the operation was fetched when the wait began or later (the usual
 * blocking pattern: submit, then wait). A polling waiter would have seen
 * the entry at t_due; the block paid the interrupt, the wake-up and the
 * return to user space on top, which is B. Bounded by t_ret - @t_block
 * (the entry was not there when the thread blocked). An entry due
 * before the wait began (an operation submitted long before) says
 * nothing and is not counted.
 *
 * Only blocks whose event came within max(C, SPIN_SHORT_NS) of the block
 * count. Under QEMU TCG, blocking costs more the longer the vCPU idles
 * (spin_crossing()), and the limit wanted is where that cost K(x) for an
 * event x after the block crosses x; events far past C would pull the
 * average up to K at long idles, and a spin that long loses at every
 * delay near C. So the average is of K(x) for x <= C: if those blocks
 * cost more than C the limit grows, if less it shrinks, and it settles
 * where blocking for up to C costs C. Blocks for events far away leave
 * it alone. The floor SPIN_SHORT_NS lets a limit far too short grow
 * again: events a few us after the block (a SEND's answer, a NIC timer's
 * wake-up) always count.
 *
 * Each observation moves the limit by 1/2^SPIN_EWMA_SHIFT (1/8) of the
 * difference, capped at twice the current limit so that one block the
 * host stalled for milliseconds cannot throw the limit far: the limit
 * grows by at most 1/8 per block, and falls by at most as much. The
 * limit the administrator set, or the caller's override, is kept as is.
 * The observation also counts the NIC's fetch delay (the doorbell's
 * wake-up of a sleeping NIC), which a polling waiter pays too: the
 * limit errs long by that much, a few us, inside the margin the
 * randomized spin leaves (e/(e-1) against the bound of 2).
 */
#define SPIN_EWMA_SHIFT	3
#define SPIN_SHORT_NS	100000ULL

static void spin_observe(struct vmmc_ep *ep, const struct vmmc_cqe *cqe,
			 uint64_t t_wait, uint64_t t_block, uint64_t cpu0)
{
	struct vmmc_wait_stats *s = &ep->wstats;
	uint64_t t_ret = now_ns(), cpu = thread_cpu_ns() - cpu0;
	uint64_t due = t_wait + cqe->nic_ns, lat, b, c = s->spin_ns;

	if (s->spin_source == VMMC_SPIN_OVERRIDE ||
	    ep->info.spin_src == VMMC_SPIN_SRC_ADMIN || due > t_ret ||
	    due > t_block + (c > SPIN_SHORT_NS ? c : SPIN_SHORT_NS))
		return;
	lat = t_ret - due;
	if (lat > t_ret - t_block)
		lat = t_ret - t_block;
	b = lat + cpu;
	if (b > 2 * c)
		b = 2 * c;
	c = c - (c >> SPIN_EWMA_SHIFT) + (b >> SPIN_EWMA_SHIFT);
	s->spin_ns = (uint32_t)clamp_spin(c);
	s->spin_source = VMMC_SPIN_OBSERVED;
}

static int cqe_take(struct vmmc_ep *ep, void *out);

static int kernel_wait(struct vmmc_ep *ep, uint32_t timeout_ms)
{
	struct vmmc_wait w = { .timeout_ms = timeout_ms };

	if (ioctl(ep->fd, VMMC_IOC_WAIT, &w) < 0)
		return -errno;
	return 0;
}

static int wait_rings(struct vmmc_ep *ep, unsigned int mask, take_fn take,
		      void *out, uint32_t timeout_ms)
{
	struct vmmc_wait_stats *s = &ep->wstats;
	uint64_t deadline = 0, now, left, t_wait, cpu0;
	int err;

	s->waits++;
	if (ready(ep, take, out))
		goto spin_hit;
	t_wait = now_ns();
	if (timeout_ms)
		deadline = t_wait + timeout_ms * NSEC_PER_MSEC;

	for (;;) {
		switch (ep->wait_policy) {
		case VMMC_WAIT_POLL:
			if (spin_take(ep, mask, take, out,
				      polls_for(ep, mask, POLL_CHUNK_NS)))
				goto spin_hit;
			if (!timeout_ms || now_ns() >= deadline)
				return -ETIMEDOUT;
			continue;
		case VMMC_WAIT_COMPETITIVE:
			if (spin_for(ep, mask, take, out,
				     random_spin(s->spin_ns)))
				goto spin_hit;
			break;
		case VMMC_WAIT_COMPETITIVE_FIXED:
			if (spin_for(ep, mask, take, out, s->spin_ns))
				goto spin_hit;
			break;
		default:	/* VMMC_WAIT_BLOCK */
			break;
		}
		if (!timeout_ms)
			return -ETIMEDOUT;
		now = now_ns();
		if (now >= deadline)
			return ready(ep, take, out) ? 0 : -ETIMEDOUT;
		left = (deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
		s->blocks++;
		cpu0 = thread_cpu_ns();
		err = kernel_wait(ep, (uint32_t)left);
		if (err == -ETIMEDOUT) {
			s->block_timeouts++;
			return ready(ep, take, out) ? 0 : -ETIMEDOUT;
		}
		if (!err && ready(ep, take, out)) {
			s->block_wakeups_with_event++;
			if (take == cqe_take)
				spin_observe(ep, out, t_wait, now, cpu0);
			return 0;
		}
		s->block_wakeups_other++;
		if (err)
			return err;
		sched_yield();		/* the other ring woke us */
	}

spin_hit:
	s->spin_hits++;
	return 0;
}

int vmmc_ep_wait(struct vmmc_ep *ep, uint32_t timeout_ms)
{
	return wait_rings(ep, RING_CQ | RING_NQ, NULL, NULL, timeout_ms);
}

static int cqe_take(struct vmmc_ep *ep, void *out)
{
	struct vmmc_cqe *cqe = vmmc_peek_cqe(ep);

	if (!cqe)
		return 0;
	*(struct vmmc_cqe *)out = *cqe;
	vmmc_cqe_seen(ep);
	return 1;
}

static int nqe_take(struct vmmc_ep *ep, void *out)
{
	struct vmmc_nqe *nqe = vmmc_peek_nqe(ep);

	if (!nqe)
		return 0;
	*(struct vmmc_nqe *)out = *nqe;
	vmmc_nqe_seen(ep);
	return 1;
}

int vmmc_wait_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out,
		  uint32_t timeout_ms)
{
	return wait_rings(ep, RING_CQ, cqe_take, out, timeout_ms);
}

int vmmc_wait_nqe(struct vmmc_ep *ep, struct vmmc_nqe *out,
		  uint32_t timeout_ms)
{
	return wait_rings(ep, RING_NQ, nqe_take, out, timeout_ms);
}

/* The spin limit: the override, else the driver's, else the fallback. */
void vmmc_wait_setup(struct vmmc_ep *ep)
{
	struct vmmc_wait_stats *s = &ep->wstats;

	s->policy = ep->wait_policy;
	if (!ep->spin_override_ns && s->spin_source == VMMC_SPIN_OBSERVED &&
	    ep->info.spin_src != VMMC_SPIN_SRC_ADMIN)
		return;		/* what this endpoint measured stays */
	if (ep->spin_override_ns) {
		s->spin_ns = ep->spin_override_ns;
		s->spin_source = VMMC_SPIN_OVERRIDE;
	} else if (ep->info.spin_ns) {
		s->spin_ns = ep->info.spin_ns;
		s->spin_source = VMMC_SPIN_DRIVER;
	} else {
		s->spin_ns = VMMC_SPIN_FALLBACK_NS;
		s->spin_source = VMMC_SPIN_FALLBACK;
	}
}

/*
 * Measuring the spin limit on the waiter's own path.
 *
 * Waiting that spins for t and then blocks costs about d for an event d
 * away when d < t, and t + K(d - t) when d > t, where K(x) is what
 * blocking costs when the event comes x after the block (CPU time of the
 * WAIT ioctl and the wake-up, plus the latency from the event to the
 * waiter's return). The best offline choice costs min(d, K(d)). Both the
 * fixed spin (t = C) and the randomized one (t drawn from [0, C], see
 * random_spin()) want C = B, the cost of blocking: the fixed spin is then
 * 2-competitive (exactly 2 past C), the randomized one e/(e-1) in
 * expectation; a C too long loses at d near C (blocking was cheaper than
 * the spin), a C too short loses just past it. Under QEMU TCG K grows
 * with the idle time (70 us at a 170 us delay, 140 at 350), so B is read
 * where K(d) crosses d: where spinning for the whole delay starts to cost
 * more than blocking for it.
 *
 * So C is where K(d) crosses d. K is measured at a geometric grid of
 * delays, 16 us to 2 ms: a NOP delayed by d on this endpoint, waited for
 * with the BLOCK policy exactly as vmmc_wait_cqe() does, K(d) = latency
 * past the due time + CPU time of the thread, the mean of a burst, the
 * median over the rounds (round_cost()). The grid is
 * swept MEASURE_ROUNDS times, so that a burst of load on a shared host
 * hits every delay alike rather than bending the curve at one of them;
 * each visit of a delay waits for MEASURE_BURST events in a row and
 * counts all but the first, which finds the NIC and the vCPU in the state
 * the previous delay left them (the simulated NIC sleeps when it has no
 * work) rather than the steady state of events that far apart.
 * C is the crossing, interpolated between the two grid points around it
 * (K at the ends if it never crosses). The short delays are also waited
 * for by POLL: if polling costs as much as blocking at most of them, the
 * host is too loaded to measure and nothing is stored (see below). K is
 * measured with the costs the
 * waiter really pays, which the driver's probe (a kernel thread on the
 * control vector) cannot see.
 * It takes about MEASURE_ROUNDS x MEASURE_BURST x (8 ms + 8 K), 0.1-0.2 s
 * under TCG; beyond 2 s (a host too loaded) it gives up and the driver's
 * estimate stays. One endpoint measures at a time (VMMC_SPIN_CLAIM): the
 * others opened meanwhile use the estimate.
 * With VMMC_SPIN_DEBUG set in the environment the curve goes to stderr.
 */
#define MEASURE_DELAYS	8		/* 16 us .. 2048 us */
#define MEASURE_MIN_US	16
#define MEASURE_ROUNDS	5
#define MEASURE_BURST	5		/* events per visit, the first not counted */
#define MEASURE_SAMPLES	(MEASURE_ROUNDS * (MEASURE_BURST - 1))
#define MEASURE_SHORT	4		/* polled too: 16 us .. 128 us */
#define MEASURE_MAX_NS	(2000 * NSEC_PER_MSEC)	/* give up after */
#define MEASURE_TAG	0x766d6d6353504e00ULL	/* "vmmcSPN" + delay */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median_u64(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u64);
	return v[n / 2];
}

/* One event @delay_us away, waited for by @policy: latency and CPU, ns. */
static int one_event(struct vmmc_ep *ep, uint32_t policy, uint32_t delay_us,
		     uint64_t tag, uint64_t *lat, uint64_t *cpu)
{
	struct vmmc_sqe *sqe = vmmc_get_sqe(ep);
	uint64_t c0, t0, t1;
	struct vmmc_cqe cqe;
	int err;

	if (!sqe)
		return -EBUSY;
	ep->wait_policy = policy;
	vmmc_prep_nop(sqe, tag, delay_us);
	c0 = thread_cpu_ns();
	t0 = now_ns();
	vmmc_submit(ep);
	err = wait_rings(ep, RING_CQ, cqe_take, &cqe, 1000);
	t1 = now_ns() - t0;
	*cpu = thread_cpu_ns() - c0;
	if (err)
		return err;
	if (cqe.status != VMMC_ST_OK || cqe.user_data != tag)
		return -EIO;
	*lat = t1 > delay_us * 1000ULL ? t1 - delay_us * 1000ULL : 0;
	return 0;
}

/*
 * @n events of @delay_us in a row, waited for by @policy; all but the
 * first recorded from @lat[@at], @cpu[@at].
 */
static int burst(struct vmmc_ep *ep, uint32_t policy, uint32_t delay_us,
		 uint64_t *lat, uint64_t *cpu, int at, int n)
{
	uint64_t l, c;
	int b, err;

	for (b = 0; b < n; b++) {
		err = one_event(ep, policy, delay_us,
				MEASURE_TAG + delay_us, &l, &c);
		if (err)
			return err;
		if (b) {
			lat[at + b - 1] = l;
			cpu[at + b - 1] = c;
		}
	}
	return 0;
}

/*
 * The cost at one delay: the mean over each round's burst (the waiting
 * cost that matters is an expectation: a slow wake-up now and then is part
 * of it), then the median over the rounds (a round a host stall hit is
 * dropped). @b may be NULL.
 */
static uint64_t round_cost(const uint64_t *a, const uint64_t *b)
{
	uint64_t m[MEASURE_ROUNDS];
	int r, j, at;

	for (r = 0; r < MEASURE_ROUNDS; r++) {
		m[r] = 0;
		for (j = 0; j < MEASURE_BURST - 1; j++) {
			at = r * (MEASURE_BURST - 1) + j;
			m[r] += a[at] + (b ? b[at] : 0);
		}
		m[r] /= MEASURE_BURST - 1;
	}
	return median_u64(m, MEASURE_ROUNDS);
}

/* Where K(d) crosses d, in ns (or the starved-NIC choice); 0 or -errno. */
static int spin_crossing(struct vmmc_ep *ep, uint64_t *out)
{
	uint64_t lat[MEASURE_DELAYS][MEASURE_SAMPLES];
	uint64_t cpu[MEASURE_DELAYS][MEASURE_SAMPLES];
	uint64_t plat[MEASURE_SHORT][MEASURE_SAMPLES];
	uint64_t pcpu[MEASURE_SHORT][MEASURE_SAMPLES];
	uint64_t k[MEASURE_DELAYS], d[MEASURE_DELAYS], p[MEASURE_SHORT];
	bool debug = getenv("VMMC_SPIN_DEBUG") != NULL;
	uint64_t deadline = now_ns() + MEASURE_MAX_NS;
	int i, r, at, starved = 0, err = 0;
	double x0, x1, y0, y1;

	for (r = 0; !err && r < MEASURE_ROUNDS; r++) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;	/* a host this loaded: later */
		at = r * (MEASURE_BURST - 1);
		for (i = 0; !err && i < MEASURE_DELAYS; i++) {
			err = burst(ep, VMMC_WAIT_BLOCK, MEASURE_MIN_US << i,
				    lat[i], cpu[i], at, MEASURE_BURST);
			if (!err && i < MEASURE_SHORT)
				err = burst(ep, VMMC_WAIT_POLL,
					    MEASURE_MIN_US << i, plat[i],
					    pcpu[i], at, MEASURE_BURST);
		}
	}
	if (err)
		return err;
	for (i = 0; i < MEASURE_DELAYS; i++) {
		d[i] = (uint64_t)(MEASURE_MIN_US << i) * 1000;
		k[i] = round_cost(lat[i], cpu[i]);
		if (i < MEASURE_SHORT) {
			p[i] = round_cost(plat[i], pcpu[i]);
			starved += p[i] >= k[i];
		}
		if (debug)
			fprintf(stderr, "libvmmc: spin limit: K(%llu us) = %llu us (latency %llu + cpu %llu)",
				(unsigned long long)d[i] / 1000,
				(unsigned long long)k[i] / 1000,
				(unsigned long long)round_cost(lat[i], NULL) / 1000,
				(unsigned long long)round_cost(cpu[i], NULL) / 1000);
		if (debug && i < MEASURE_SHORT)
			fprintf(stderr, "; polling costs %llu us",
				(unsigned long long)p[i] / 1000);
		if (debug)
			fprintf(stderr, "\n");
	}
	if (2 * starved > MEASURE_SHORT) {
		/*
		 * Polling costs at least as much as blocking even at most of
		 * the short delays. This happens when spinning delays the
		 * event itself: the NIC (a host thread under QEMU) shares the
		 * host CPUs with this spinning vCPU, and the host is loaded
		 * right now. That is a passing state, not the system's cost
		 * of blocking, and the limit is stored for good: store
		 * nothing; the driver's estimate stays and a later open
		 * measures again.
		 */
		if (debug)
			fprintf(stderr, "libvmmc: spin limit: polling costs as much as blocking now (a loaded host): not stored, measured again later\n");
		return -EAGAIN;
	}
	if (k[0] <= d[0]) {		/* blocking is cheap everywhere */
		*out = clamp_spin(k[0]);
		return 0;
	}
	for (i = 1; i < MEASURE_DELAYS; i++) {
		if (k[i] > d[i])
			continue;
		/* K - d goes from > 0 at d[i-1] to <= 0 at d[i] */
		x0 = (double)d[i - 1];
		x1 = (double)d[i];
		y0 = (double)k[i - 1] - x0;
		y1 = (double)k[i] - x1;
		*out = clamp_spin((uint64_t)(x0 + (x1 - x0) * y0 / (y0 - y1)));
		return 0;
	}
	*out = clamp_spin(k[MEASURE_DELAYS - 1]);
	return 0;
}

/*
 * At open: unless a waiter already measured the spin limit or the
 * administrator set it, measure it on this endpoint (nothing is in flight
 * yet) and store it in the driver for every endpoint; then use what the
 * driver holds (ours, or a racing opener's). Best effort: on any error the
 * driver's estimate stays. The endpoint's wait counters are untouched.
 */
void vmmc_spin_measure(struct vmmc_ep *ep)
{
	struct vmmc_wait_stats saved = ep->wstats;
	uint32_t policy = ep->wait_policy, poll_cost[4];
	struct vmmc_spin_req req = { 0 };
	struct vmmc_info info;
	uint64_t c;
	int err;

	if (ep->info.spin_src == VMMC_SPIN_SRC_WAITER ||
	    ep->info.spin_src == VMMC_SPIN_SRC_ADMIN)
		return;
	/* one endpoint measures; the others use the estimate meanwhile */
	req.flags = VMMC_SPIN_CLAIM;
	if (ioctl(ep->fd, VMMC_IOC_SET_SPIN, &req) < 0) {
		if (errno == EEXIST)
			goto reread;
		return;
	}
	memcpy(poll_cost, ep->poll_ps, sizeof(poll_cost));
	err = spin_crossing(ep, &c);
	/* as if nothing happened: counters, policy, poll calibration */
	memcpy(ep->poll_ps, poll_cost, sizeof(poll_cost));
	ep->wait_policy = policy;
	ep->wstats = saved;
	req.flags = err ? VMMC_SPIN_UNCLAIM : 0;
	req.spin_ns = err ? 0 : (uint32_t)c;
	if (ioctl(ep->fd, VMMC_IOC_SET_SPIN, &req) < 0 && errno != EEXIST)
		return;
	if (err)
		return;
reread:
	if (ioctl(ep->fd, VMMC_IOC_INFO, &info) == 0) {
		ep->info.spin_ns = info.spin_ns;
		ep->info.spin_src = info.spin_src;
	}
	vmmc_wait_setup(ep);
}

int vmmc_set_wait_policy(struct vmmc_ep *ep, enum vmmc_wait_policy policy,
			 uint32_t spin_ns)
{
	struct vmmc_info info;

	if (!ep || (unsigned int)policy >= VMMC_WAIT_NR)
		return -EINVAL;
	/* the administrator may have changed the limit since open */
	if (!spin_ns && ioctl(ep->fd, VMMC_IOC_INFO, &info) == 0) {
		ep->info.spin_ns = info.spin_ns;
		ep->info.spin_src = info.spin_src;
	}
	ep->wait_policy = policy;
	ep->spin_override_ns = spin_ns;
	vmmc_wait_setup(ep);
	/* calibrate now rather than inside the caller's first wait */
	if (policy != VMMC_WAIT_BLOCK)
		poll_ps(ep, RING_CQ);
	return 0;
}

void vmmc_wait_stats(struct vmmc_ep *ep, struct vmmc_wait_stats *out)
{
	*out = ep->wstats;
	out->poll_ps = ep->poll_ps[RING_CQ];
}

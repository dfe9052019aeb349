// SPDX-License-Identifier: MIT
/*
 * wait.c - waiting for completions and notifications, by the endpoint's
 * policy (vmmc_set_wait_policy(3)):
 *
 *   POLL         spin on the mapped ring until the deadline; never enters
 *                the kernel (but for a clock read every millisecond).
 *   BLOCK        one look at the ring, then the kernel's interrupt-driven
 *                wait (VMMC_IOC_WAIT) at once.
 *   COMPETITIVE  (the default) spin for the spin limit, then block. The
 *                limit is the cost of blocking (doorbell -> NIC -> MSI-X
 *                -> wake-up) that the driver measured (vmmc_info.spin_ns),
 *                so the waiting cost is at most twice the better of the
 *                two others whatever the event's delay (the 2-competitive
 *                rule of DESIGN.md section 4).
 *
 * The spin makes no system call: it runs a number of polls computed from
 * the calibrated cost of one poll, measured with CLOCK_MONOTONIC once per
 * endpoint and ring mask, on first use. No wake-up is lost between the
 * spin and the sleep: VMMC_IOC_WAIT arms the interrupt, re-checks both
 * rings and only then sleeps (kmod/vmmc_irq.c).
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
#include <sys/ioctl.h>
#include <time.h>

#include "utlb.h"

#define RING_CQ		1u
#define RING_NQ		2u

#define NSEC_PER_MSEC	1000000ULL
#define CALIB_ROUND_NS	100000ULL	/* one calibration round: >= 100 us */
#define CALIB_ROUNDS	5		/* keep the fastest */
#define CALIB_TRIES	100
#define POLL_CHUNK_NS	NSEC_PER_MSEC	/* POLL reads the clock this often */

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
	uint64_t deadline = 0, now, left;
	int err;

	s->waits++;
	if (ready(ep, take, out))
		goto spin_hit;
	if (timeout_ms)
		deadline = now_ns() + timeout_ms * NSEC_PER_MSEC;

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
			if (spin_take(ep, mask, take, out,
				      polls_for(ep, mask, s->spin_ns)))
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
		err = kernel_wait(ep, (uint32_t)left);
		if (err == -ETIMEDOUT) {
			s->block_timeouts++;
			return ready(ep, take, out) ? 0 : -ETIMEDOUT;
		}
		if (!err && ready(ep, take, out)) {
			s->block_wakeups_with_event++;
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

int vmmc_set_wait_policy(struct vmmc_ep *ep, enum vmmc_wait_policy policy,
			 uint32_t spin_ns)
{
	struct vmmc_info info;

	if (!ep || (unsigned int)policy >= VMMC_WAIT_NR)
		return -EINVAL;
	/* the administrator may have changed the limit since open */
	if (!spin_ns && ioctl(ep->fd, VMMC_IOC_INFO, &info) == 0)
		ep->info.spin_ns = info.spin_ns;
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

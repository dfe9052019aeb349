// SPDX-License-Identifier: MIT
/*
 * wait.c - waiting for completions and notifications: a short spin on the
 * mapped ring, then the kernel's interrupt-driven wait (VMMC_IOC_WAIT),
 * which returns when the CQ *or* the NQ has an entry. So a waiter for one
 * ring whose other ring holds unreaped entries cannot sleep: it keeps
 * polling (yielding the CPU between rounds) until its deadline. Reap both
 * rings, or use vmmc_ep_wait() and peek at both.
 *
 * The competitive spin limit (calibrated against the interrupt cost) comes
 * with the notification work; until then the spin is a fixed number of
 * polls. Every timeout is a bound on the whole call.
 */
#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vmmc.h"

#define VMMC_SPIN_POLLS	1000

int vmmc_ep_wait(struct vmmc_ep *ep, uint32_t timeout_ms)
{
	struct vmmc_wait w = { .timeout_ms = timeout_ms };

	if (ioctl(ep->fd, VMMC_IOC_WAIT, &w) < 0)
		return -errno;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for @ready(ep) != 0 (which copies and consumes the entry). */
static int wait_ring(struct vmmc_ep *ep, int (*ready)(struct vmmc_ep *, void *),
		     void *out, uint32_t timeout_ms)
{
	uint64_t deadline = 0, now;
	int i, err;

	for (;;) {
		for (i = 0; i < VMMC_SPIN_POLLS; i++)
			if (ready(ep, out))
				return 0;
		if (!timeout_ms)
			return -ETIMEDOUT;
		now = now_ms();
		if (!deadline)
			deadline = now + timeout_ms;
		else if (now >= deadline)
			return -ETIMEDOUT;
		err = vmmc_ep_wait(ep, (uint32_t)(deadline - now));
		if (err)
			return err;
		if (!ready(ep, out))
			sched_yield();	/* the other ring woke us */
		else
			return 0;
	}
}

static int cqe_ready(struct vmmc_ep *ep, void *out)
{
	struct vmmc_cqe *cqe = vmmc_peek_cqe(ep);

	if (!cqe)
		return 0;
	*(struct vmmc_cqe *)out = *cqe;
	vmmc_cqe_seen(ep);
	return 1;
}

static int nqe_ready(struct vmmc_ep *ep, void *out)
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
	return wait_ring(ep, cqe_ready, out, timeout_ms);
}

int vmmc_wait_nqe(struct vmmc_ep *ep, struct vmmc_nqe *out,
		  uint32_t timeout_ms)
{
	return wait_ring(ep, nqe_ready, out, timeout_ms);
}

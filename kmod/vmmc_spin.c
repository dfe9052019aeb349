// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_spin.c - the spin limit of competitive notification: how long a
 * waiter spins before it blocks.
 *
 * The limit is what blocking for the NIC costs. Its sources, in the
 * order that one replaces another: the estimate made at probe
 * (vmmc_calibrate_spin()), the first measurement a waiter stores
 * (vmmc_spin_store(), one endpoint at a time holding the claim), and the
 * administrator's choice (vmmc_spin_admin(); 0 goes back to the probe's
 * estimate). vdev->calib_lock guards the limit's words (vmmc.h); a
 * reader of spin_ns alone may READ_ONCE() it.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/sort.h>

#include "vmmc_loc.h"

static int vmmc_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

#define VMMC_CALIB_ROUNDS	11
#define VMMC_CALIB_DELAY_NS	(300 * NSEC_PER_USEC)
#define VMMC_CALIB_TIMEOUT_NS	(20 * NSEC_PER_MSEC)
#define VMMC_CALIB_BUDGET_NS	(200 * NSEC_PER_MSEC)	/* per phase */

struct vmmc_calib {
	struct hrtimer timer;
	struct vmmc_dev *vdev;
	u32 seq;
	u64 fired;		/* ktime of the doorbell, or 0 */
};

/* The "event": post a mailbox NOP and ring, from the timer (hardirq). */
static enum hrtimer_restart vmmc_calib_fire(struct hrtimer *t)
{
	struct vmmc_calib *c = container_of(t, struct vmmc_calib, timer);
	struct vmmc_dev *vdev = c->vdev;

	memset(&vdev->ctrl->cmd, 0, sizeof(vdev->ctrl->cmd));
	/* pairs with the NIC's acquire of cmd_seq: cmd is complete */
	smp_store_release(&vdev->ctrl->cmd_seq, c->seq);
	WRITE_ONCE(c->fired, ktime_get_ns());
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	return HRTIMER_NORESTART;
}

static bool vmmc_calib_answered(struct vmmc_calib *c)
{
	/* pairs with the NIC's release of resp_seq */
	return smp_load_acquire(&c->vdev->ctrl->resp_seq) == c->seq;
}

/*
 * One round: the NIC's answer arrives 300 us from now, when the caller is
 * surely asleep (@block) or spinning; returns how long after the doorbell
 * the caller saw it, or 0 if the NIC did not answer. kcmd_lock held.
 */
static u64 vmmc_calib_round(struct vmmc_calib *c, bool block)
{
	struct vmmc_dev *vdev = c->vdev;
	u64 seen = 0, start = ktime_get_ns();

	c->seq = ++vdev->kcmd_seq;
	WRITE_ONCE(c->fired, 0);
	hrtimer_start(&c->timer, ns_to_ktime(VMMC_CALIB_DELAY_NS),
		      HRTIMER_MODE_REL);
	if (block) {
		if (wait_event_timeout(vdev->ctrl_wq, vmmc_calib_answered(c),
				       nsecs_to_jiffies(VMMC_CALIB_TIMEOUT_NS)))
			seen = ktime_get_ns();
	} else {
		while (ktime_get_ns() - start < VMMC_CALIB_TIMEOUT_NS) {
			if (vmmc_calib_answered(c)) {
				seen = ktime_get_ns();
				break;
			}
			cpu_relax();
		}
	}
	hrtimer_cancel(&c->timer);
	if (!seen || !READ_ONCE(c->fired))
		return 0;
	return max_t(u64, seen - READ_ONCE(c->fired), 1);
}

/*
 * The median of up to VMMC_CALIB_ROUNDS rounds the NIC answered in time
 * (a loaded host may miss some), tried until @deadline (ktime ns); 0 if
 * fewer than 3 were answered.
 */
static u64 vmmc_calib_median(struct vmmc_calib *c, bool block, u64 deadline)
{
	u64 t[VMMC_CALIB_ROUNDS];
	int n = 0, tries;

	for (tries = 0; n < VMMC_CALIB_ROUNDS && tries < 2 * VMMC_CALIB_ROUNDS &&
	     ktime_get_ns() < deadline; tries++) {
		t[n] = vmmc_calib_round(c, block);
		if (t[n])
			n++;
	}
	if (n < 3)
		return 0;
	sort(t, n, sizeof(t[0]), vmmc_cmp_u64, NULL);
	return t[n / 2];
}

/**
 * vmmc_calibrate_spin() - estimate what blocking for the NIC costs
 * @vdev: the NIC, its driver state UP and interrupts set up
 *
 * Competitive notification spins for as long as blocking would cost, so
 * that its total waiting cost is at most twice the best offline choice.
 * This is the first estimate, made at probe so that the limit is known
 * before any endpoint opens: an event (a mailbox NOP posted by a timer while this thread
 * waits) is seen once by a thread that sleeps and is woken by the NIC's
 * MSI-X interrupt, and once by a thread that spins; the difference of the
 * medians is what blocking adds (interrupt, wake-up, scheduling), the
 * NIC's own response time cancelling out. It is not the path a waiter
 * pays (the WAIT ioctl on the event vector, the return to user space, a
 * cost that under TCG grows with how long the vCPU idled), so the first
 * endpoint opened measures that path and replaces the estimate
 * (vmmc_spin_store()); the administrator may override both
 * (vmmc_spin_admin()).
 *
 * Context: process context (probe), sleeps and spins a few ms; on a
 * loaded host that drops rounds, at most about 0.4 s.
 */
void vmmc_calibrate_spin(struct vmmc_dev *vdev)
{
	struct vmmc_calib c = { .vdev = vdev };
	u64 blocked, polled, start = ktime_get_ns();

	hrtimer_init(&c.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	c.timer.function = vmmc_calib_fire;
	mutex_lock(&vdev->kcmd_lock);
	vmmc_calib_round(&c, false);	/* wakes the NIC up; not counted */
	polled = vmmc_calib_median(&c, false, start + VMMC_CALIB_BUDGET_NS);
	blocked = polled ? vmmc_calib_median(&c, true,
					     start + 2 * VMMC_CALIB_BUDGET_NS) : 0;
	mutex_unlock(&vdev->kcmd_lock);
	if (!polled || !blocked) {
		dev_warn(&vdev->pdev->dev, "NIC does not answer: spin limit not calibrated\n");
		return;
	}
	spin_lock(&vdev->calib_lock);
	vdev->spin_probe_ns = clamp_t(u64, blocked > polled ?
				      blocked - polled : 1,
				      VMMC_SPIN_MIN_NS, VMMC_SPIN_MAX_NS);
	vdev->spin_measured_ns = vdev->spin_probe_ns;
	vdev->spin_src = VMMC_SPIN_SRC_PROBE;
	WRITE_ONCE(vdev->spin_ns, vdev->spin_probe_ns);
	spin_unlock(&vdev->calib_lock);
}

static bool vmmc_spin_open(struct vmmc_dev *vdev)
{
	return vdev->spin_src == VMMC_SPIN_SRC_NONE ||
	       vdev->spin_src == VMMC_SPIN_SRC_PROBE;
}

/**
 * vmmc_spin_store() - a waiter's measurement of the cost of blocking
 * @ep: the endpoint that measured (VMMC_IOC_SET_SPIN)
 * @flags: 0, VMMC_SPIN_CLAIM or VMMC_SPIN_UNCLAIM
 * @spin_ns: with @flags 0, the result, already range-checked
 *
 * One endpoint at a time claims the measurement; the first result stored
 * replaces the probe's estimate (or an unknown limit), never another
 * waiter's measurement or the administrator's choice.
 *
 * Context: any; takes calib_lock.
 * Return: 0; -EEXIST if the limit was already measured or set; -EBUSY if
 * another endpoint holds the claim.
 */
int vmmc_spin_store(const struct vmmc_ep *ep, u32 flags, u32 spin_ns)
{
	struct vmmc_dev *vdev = ep->vdev;
	int err = 0;

	spin_lock(&vdev->calib_lock);
	if (flags == VMMC_SPIN_UNCLAIM) {
		if (vdev->spin_claim == ep)
			vdev->spin_claim = NULL;
	} else if (!vmmc_spin_open(vdev)) {
		err = -EEXIST;
	} else if (vdev->spin_claim && vdev->spin_claim != ep) {
		err = -EBUSY;
	} else if (flags == VMMC_SPIN_CLAIM) {
		vdev->spin_claim = ep;
	} else {
		vdev->spin_claim = NULL;
		vdev->spin_measured_ns = spin_ns;
		vdev->spin_src = VMMC_SPIN_SRC_WAITER;
		WRITE_ONCE(vdev->spin_ns, spin_ns);
	}
	spin_unlock(&vdev->calib_lock);
	return err;
}

/**
 * vmmc_spin_release() - an endpoint goes away: drop its claim, if any
 * @ep: the endpoint, before it is freed
 *
 * Context: any; takes calib_lock.
 */
void vmmc_spin_release(const struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;

	spin_lock(&vdev->calib_lock);
	if (vdev->spin_claim == ep)
		vdev->spin_claim = NULL;
	spin_unlock(&vdev->calib_lock);
}

/**
 * vmmc_spin_admin() - the administrator's spin limit (netlink dev-set)
 * @vdev: the NIC
 * @spin_ns: the limit in ns; 0: forget any choice and measurement, go
 *	back to the probe's estimate, and let the next endpoint measure
 *
 * Context: any; takes calib_lock.
 */
void vmmc_spin_admin(struct vmmc_dev *vdev, u32 spin_ns)
{
	spin_lock(&vdev->calib_lock);
	if (spin_ns) {
		vdev->spin_src = VMMC_SPIN_SRC_ADMIN;
	} else {
		spin_ns = vdev->spin_probe_ns;
		vdev->spin_measured_ns = spin_ns;
		vdev->spin_src = spin_ns ? VMMC_SPIN_SRC_PROBE :
					   VMMC_SPIN_SRC_NONE;
	}
	WRITE_ONCE(vdev->spin_ns, spin_ns);
	spin_unlock(&vdev->calib_lock);
}

/**
 * vmmc_spin_get() - a consistent copy of the spin limit's words
 * @vdev: the NIC
 * @out: spin_ns, spin_src, spin_probe_ns, spin_measured_ns in that order
 *
 * Context: any; takes calib_lock.
 */
void vmmc_spin_get(struct vmmc_dev *vdev, u32 out[4])
{
	spin_lock(&vdev->calib_lock);
	out[0] = vdev->spin_ns;
	out[1] = vdev->spin_src;
	out[2] = vdev->spin_probe_ns;
	out[3] = vdev->spin_measured_ns;
	spin_unlock(&vdev->calib_lock);
}

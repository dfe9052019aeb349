// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_irq.c - MSI-X interrupts and the interrupt half of notification.
 *
 * Lost-wake-up rules. Between a waiter (kmod, on behalf of a process)
 * and the NIC:
 *   waiter: on the slot's queue; ctx->irq_armed = 1; smp_mb(); re-check
 *           CQ/NQ; sleep; on every wake-up that finds nothing, arm again
 *   NIC:    publish CQ/NQ prod; full fence; if xchg(irq_armed, 0) raise
 *           VMMC_IRQ_EVENT
 * Either the waiter sees the entry in its re-check, or the NIC sees the
 * armed flag and interrupts. The event handler wakes each slot whose flag
 * the NIC took (armed back to 0) and that has a sleeper.
 * Between waiters of one endpoint (threads in VMMC_IOC_WAIT, poll, epoll):
 * a waiter joins the queue before it arms; one that leaves disarms only
 * if the queue is empty, checked and written under the queue's lock; one
 * that finds an entry right after arming wakes the others (the NIC may
 * have taken the flag just before, and its interrupt then skips the slot).
 */
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/poll.h>
#include <linux/sort.h>

#include "vmmc_loc.h"

static irqreturn_t vmmc_irq_event(int irq, void *data)
{
	struct vmmc_dev *vdev = data;
	int i;

	vmmc_stat_inc(vdev, VMMC_STAT_IRQ_EVENT);
	for (i = 0; i < VMMC_MAX_EPS; i++) {
		if (!wq_has_sleeper(&vdev->ep_wq[i]))
			continue;
		if (READ_ONCE(vdev->epctx[i].irq_armed))
			continue;
		vmmc_stat_inc(vdev, VMMC_STAT_WAKEUPS);
		wake_up_interruptible(&vdev->ep_wq[i]);
	}
	return IRQ_HANDLED;
}

static irqreturn_t vmmc_irq_ctrl(int irq, void *data)
{
	struct vmmc_dev *vdev = data;

	vmmc_stat_inc(vdev, VMMC_STAT_IRQ_CTRL);
	wake_up_all(&vdev->ctrl_wq);
	vmmc_stall_kick(vdev);
	return IRQ_HANDLED;
}

/**
 * vmmc_irq_setup() - allocate the MSI-X vectors and request them
 * @vdev: the NIC; bus mastering already enabled
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno.
 */
int vmmc_irq_setup(struct vmmc_dev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int err;

	err = pci_alloc_irq_vectors(pdev, VMMC_IRQ_NR, VMMC_IRQ_NR,
				    PCI_IRQ_MSIX);
	if (err < 0) {
		dev_err(&pdev->dev, "no MSI-X vectors: %d\n", err);
		return err;
	}
	err = request_irq(pci_irq_vector(pdev, VMMC_IRQ_EVENT), vmmc_irq_event,
			  0, "vmmc-event", vdev);
	if (err)
		goto out_free_vectors;
	err = request_irq(pci_irq_vector(pdev, VMMC_IRQ_CTRL), vmmc_irq_ctrl,
			  0, "vmmc-ctrl", vdev);
	if (err)
		goto out_free_event;
	return 0;

out_free_event:
	free_irq(pci_irq_vector(pdev, VMMC_IRQ_EVENT), vdev);
out_free_vectors:
	pci_free_irq_vectors(pdev);
	return err;
}

/**
 * vmmc_irq_teardown() - undo vmmc_irq_setup()
 * @vdev: the NIC
 *
 * Context: process context, may sleep.
 */
void vmmc_irq_teardown(struct vmmc_dev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	free_irq(pci_irq_vector(pdev, VMMC_IRQ_CTRL), vdev);
	free_irq(pci_irq_vector(pdev, VMMC_IRQ_EVENT), vdev);
	pci_free_irq_vectors(pdev);
}

/*
 * A waiter is done: an endpoint nobody waits on costs no interrupt. Under
 * the queue's lock, so that the check for other waiters and the write are
 * one step for a waiter that joins the queue (before it arms): either we
 * see it and leave the flag, or its arming comes after our write. The
 * caller is off the queue, holds dead_rwsem for reading and saw !dead.
 */
static void vmmc_ep_disarm(struct vmmc_ep *ep)
{
	wait_queue_head_t *wq = &ep->vdev->ep_wq[ep->id];
	unsigned long flags;

	spin_lock_irqsave(&wq->lock, flags);
	/* under wq->lock: no waiter can join between the check and the write */
	if (!waitqueue_active(wq))
		WRITE_ONCE(ep->ctx->irq_armed, 0);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/*
 * Arm the interrupt and re-check. True if an entry is there; false if the
 * caller may sleep: the NIC will interrupt for the next one. The caller
 * is on the wait queue already (else a waiter leaving could disarm after
 * our arming: vmmc_ep_disarm()), holds dead_rwsem for reading, saw !dead.
 *
 * An entry found after arming may be one whose flag the NIC took before
 * we set it again: its interrupt then finds the flag set and wakes no one
 * (vmmc_irq_event()), so wake the other sleepers here.
 */
static bool vmmc_ep_arm(struct vmmc_ep *ep)
{
	if (vmmc_ep_has_events(ep))
		return true;
	WRITE_ONCE(ep->ctx->irq_armed, 1);
	/* pairs with the NIC's fence between prod and the irq_armed xchg */
	smp_mb();
	if (!vmmc_ep_has_events(ep))
		return false;
	wake_up_interruptible(&ep->vdev->ep_wq[ep->id]);
	return true;
}

/**
 * vmmc_ep_wait() - block until the endpoint's CQ or NQ is non-empty
 * @ep: the endpoint
 * @timeout_ms: 0 for a non-blocking check
 *
 * Any number of threads may wait on one endpoint, with poll and epoll
 * besides: each is on the queue before it arms, and arms again before
 * every sleep (a wake-up whose entry another thread took leaves the flag
 * taken by the NIC), so none sleeps through an entry.
 *
 * Context: process context, sleeps interruptibly; holds dead_rwsem for
 * reading around each SRAM access, never while sleeping.
 * Return: 0 if an entry is there, -ETIMEDOUT, -EINTR on a signal,
 * -ENODEV if the NIC went away, or -ESHUTDOWN if the owner shut the
 * endpoint down meanwhile (VMMC_IOC_SHUTDOWN).
 */
int vmmc_ep_wait(struct vmmc_ep *ep, u32 timeout_ms)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct vmmc_dev *vdev = ep->vdev;
	wait_queue_head_t *wq = &vdev->ep_wq[ep->id];
	long left = msecs_to_jiffies(timeout_ms);
	bool slept = false;
	int ret;

	vmmc_stat_inc(vdev, VMMC_STAT_WAITS);
	down_read(&vdev->dead_rwsem);
	if (vdev->dead) {
		up_read(&vdev->dead_rwsem);
		return -ENODEV;
	}
	if (vmmc_ep_has_events(ep) || !timeout_ms) {
		ret = vmmc_ep_has_events(ep) ? 0 : -ETIMEDOUT;
		up_read(&vdev->dead_rwsem);
		return ret;
	}
	add_wait_queue(wq, &wait);
	for (;;) {
		if (vdev->dead) {
			ret = -ENODEV;
			break;
		}
		/* VMMC_IOC_SHUTDOWN wakes us after it set shut */
		if (READ_ONCE(ep->shut)) {
			ret = -ESHUTDOWN;
			break;
		}
		if (vmmc_ep_arm(ep)) {
			ret = 0;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (!left) {
			ret = -ETIMEDOUT;
			break;
		}
		if (slept)	/* woken, but nothing there (any more) */
			vmmc_stat_inc(vdev, VMMC_STAT_SPURIOUS);
		else
			vmmc_stat_inc(vdev, VMMC_STAT_WAIT_BLOCKS);
		up_read(&vdev->dead_rwsem);
		left = wait_woken(&wait, TASK_INTERRUPTIBLE, left);
		slept = true;
		down_read(&vdev->dead_rwsem);
	}
	remove_wait_queue(wq, &wait);
	if (!vdev->dead)
		vmmc_ep_disarm(ep);
	up_read(&vdev->dead_rwsem);
	return ret;
}

/**
 * vmmc_ep_poll() - poll()/epoll support: EPOLLIN when CQ or NQ has entries
 * @ep: the endpoint
 * @file: its file
 * @wait: the poll table
 *
 * poll_wait() puts the caller on the queue before it arms (an epoll
 * stays there, and keeps the endpoint armed, for as long as it watches).
 *
 * Context: process context; takes dead_rwsem for reading.
 * Return: the poll mask.
 */
__poll_t vmmc_ep_poll(struct vmmc_ep *ep, struct file *file,
		      struct poll_table_struct *wait)
{
	struct vmmc_dev *vdev = ep->vdev;
	__poll_t mask = 0;

	poll_wait(file, &vdev->ep_wq[ep->id], wait);
	down_read(&vdev->dead_rwsem);
	if (vdev->dead)
		mask = EPOLLERR | EPOLLHUP;
	else if (vmmc_ep_arm(ep))
		mask = EPOLLIN | EPOLLRDNORM;
	up_read(&vdev->dead_rwsem);
	return mask;
}

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

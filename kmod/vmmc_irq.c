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
#include <linux/interrupt.h>
#include <linux/poll.h>

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

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_stall.c - a NIC that stops answering: the stalled state, its
 * probe and the graveyard.
 *
 * Every change the driver makes to what the NIC may touch (an endpoint's
 * fence, a UTLB sync, an export's state) is acknowledged by the NIC in a
 * word of SRAM, and memory is handed back only after the ack. The NIC is
 * a host process: it can stop (SIGSTOP, a loaded host) or die.
 *
 * - A wait for an ack (vmmc_ctrl_wait(), vmmc_ctrl.c) sleeps at most
 *   VMMC_FENCE_TIMEOUT, uninterruptibly but bounded. A time-out
 *   declares the NIC stalled (fence_timeouts, nic_stalls, the
 *   nic_stalled gauge, one log line): from then on waits do not sleep,
 *   they look once, so that no close, munmap, exit or ioctl piles up
 *   behind a lock, and what needs an ack fails with -ETIMEDOUT (EXPORT,
 *   IMPORT; UNPIN and UNEXPORT succeed, their pages going to the
 *   graveyard).
 * - Nothing the NIC did not acknowledge is unpinned or freed: a umem
 *   goes to its endpoint's graves (vmmc_grave_add()) with the ack word
 *   and the value that frees it (gauge grave_pages); a closed endpoint
 *   whose fence was not acknowledged stays in eps[] as a zombie with its
 *   slot, event region and UTLB (gauge zombie_eps), and holds a module
 *   reference.
 * - stall_work probes a stalled NIC with a mailbox NOP every
 *   VMMC_STALL_POLL (sooner on a control interrupt). Once the NIC
 *   answers it is live again (nic_recoveries, a log line). While graves
 *   or zombies exist, stall_work has each endpoint's reap_work unpin the
 *   graves whose ack arrived (vmmc_grave_take()) and finishes zombies
 *   whose fence was acknowledged (vmmc_ep_reap_zombie()): all pages come
 *   back and the module can be unloaded again.
 * - A NIC that never answers keeps them pinned for good: the gauges say
 *   so, and the module stays in use. An unbind abandons them as they are,
 *   pinned and allocated for good, but lets the module go
 *   (vmmc_ep_abandon_zombies()).
 */
#include <linux/bitmap.h>
#include <linux/jiffies.h>
#include <linux/workqueue.h>

#include "vmmc_loc.h"

/*
 * (Re)queue stall_work after @delay, sooner if @sooner and it was queued
 * for later; never once vmmc_stall_fini() turned it off: a work left
 * queued could run after the module is gone. Any context.
 */
static void vmmc_stall_queue(struct vmmc_dev *vdev, unsigned long delay,
			     bool sooner)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->stall_lock, flags);
	if (!vdev->stall_off) {
		if (sooner)
			mod_delayed_work(vmmc_wq, &vdev->stall_work, delay);
		else
			queue_delayed_work(vmmc_wq, &vdev->stall_work, delay);
	}
	spin_unlock_irqrestore(&vdev->stall_lock, flags);
}

/**
 * vmmc_stall_later() - have stall_work look at graves and zombies
 * @vdev: the NIC
 *
 * Context: any.
 */
void vmmc_stall_later(struct vmmc_dev *vdev)
{
	vmmc_stall_queue(vdev, VMMC_STALL_POLL, false);
}

/**
 * vmmc_nic_stall() - the NIC missed an acknowledgment: declare it stalled
 * @vdev: the NIC
 *
 * The first call counts and logs the stall and starts stall_work's
 * probing; later ones, until the NIC answers again, do nothing.
 *
 * Context: any context that may take stall_lock (a control wait).
 */
void vmmc_nic_stall(struct vmmc_dev *vdev)
{
	unsigned long flags;
	bool first;

	spin_lock_irqsave(&vdev->stall_lock, flags);
	first = !vdev->stalled;
	if (first) {
		WRITE_ONCE(vdev->stalled, true);
		vdev->stalled_at = jiffies;
	}
	spin_unlock_irqrestore(&vdev->stall_lock, flags);
	if (!first)
		return;
	vmmc_stat_inc(vdev, VMMC_STAT_NIC_STALLS);
	vmmc_stat_add(vdev, VMMC_STAT_NIC_STALLED, 1);
	dev_warn(&vdev->pdev->dev, "NIC stalled: no acknowledgment within %u ms; what it may still use stays pinned, operations that need it fail with ETIMEDOUT until it answers\n",
		 jiffies_to_msecs(VMMC_FENCE_TIMEOUT));
	vmmc_stall_queue(vdev, VMMC_STALL_POLL, true);
}

static void vmmc_nic_unstall(struct vmmc_dev *vdev)
{
	unsigned long since, flags;
	bool was;

	spin_lock_irqsave(&vdev->stall_lock, flags);
	was = vdev->stalled;
	since = vdev->stalled_at;
	WRITE_ONCE(vdev->stalled, false);
	spin_unlock_irqrestore(&vdev->stall_lock, flags);
	if (!was)
		return;
	vmmc_stat_inc(vdev, VMMC_STAT_NIC_RECOVERIES);
	vmmc_stat_add(vdev, VMMC_STAT_NIC_STALLED, -1);
	dev_info(&vdev->pdev->dev, "NIC answers again after %u ms stalled\n",
		 jiffies_to_msecs(jiffies - since));
}

static bool vmmc_umem_acked(struct vmmc_umem *umem)
{
	return umem->ack64 ? vmmc_acked64(umem->ack, umem->ack_want) :
			     vmmc_acked(umem->ack, (u32)umem->ack_want);
}

/* vmmc_grave_add() and vmmc_grave_add64(): @ack is a u64 if @ack64. */
static void vmmc_grave_put(struct vmmc_umem *umem, void *ack, u64 want,
			   bool ack64)
{
	struct vmmc_ep *ep = umem->ep;

	lockdep_assert_held(&ep->pin_lock);
	umem->leaked = true;
	umem->ack = ack;
	umem->ack_want = want;
	umem->ack64 = ack64;
	if (list_empty(&umem->grave)) {
		list_add_tail(&umem->grave, &ep->graves);
		vmmc_stat_add(ep->vdev, VMMC_STAT_GRAVE_PAGES, umem->nr_pages);
	}
	/* no-op if queued: the NIC may well be acking as we speak */
	vmmc_stall_later(ep->vdev);
}

/**
 * vmmc_grave_add() - keep a umem pinned until the NIC lets go of it
 * @umem: a umem the NIC did not acknowledge giving up
 * @ack: the word in SRAM that will say it did
 * @want: the value that says so
 *
 * The umem is "leaked": nobody unpins it but reap_work, once *@ack
 * reached @want (vmmc_grave_take()). Idempotent; a later call replaces
 * the ack to wait for.
 *
 * Context: ep->pin_lock held; any context that holds it.
 */
void vmmc_grave_add(struct vmmc_umem *umem, u32 *ack, u32 want)
{
	vmmc_grave_put(umem, ack, want, false);
}

/**
 * vmmc_grave_add64() - vmmc_grave_add() on a 64-bit word (export gens)
 * @umem: a umem the NIC did not acknowledge giving up
 * @ack: the word in SRAM that will say it did
 * @want: the value that says so
 *
 * Context: ep->pin_lock held.
 */
void vmmc_grave_add64(struct vmmc_umem *umem, u64 *ack, u64 want)
{
	vmmc_grave_put(umem, ack, want, true);
}

/**
 * vmmc_grave_take() - take one umem the NIC has let go of off the graves
 * @ep: the endpoint
 * @orphan: out: the owner let go of it (umem->bury is set, and stays);
 *	else the owner still holds it and frees it itself, after flushing
 *	reap_work
 *
 * The umem is no longer leaked: the caller (reap_work) unpins it, then
 * calls umem->bury() if @orphan.
 *
 * Context: ep->pin_lock held, SRAM mapped (SRCU or dead_rwsem, not dead).
 * Return: the umem, or NULL if none was acknowledged.
 */
struct vmmc_umem *vmmc_grave_take(struct vmmc_ep *ep, bool *orphan)
{
	struct vmmc_umem *umem;

	lockdep_assert_held(&ep->pin_lock);
	list_for_each_entry(umem, &ep->graves, grave) {
		if (!vmmc_umem_acked(umem))
			continue;
		list_del_init(&umem->grave);
		umem->leaked = false;
		*orphan = !!umem->bury;
		vmmc_stat_add(ep->vdev, VMMC_STAT_GRAVE_PAGES,
			      -(long)umem->nr_pages);
		return umem;
	}
	return NULL;
}

/*
 * Post a mailbox NOP, or see whether the last one was answered: true if
 * the NIC answered it or a later command (it answers in order). A
 * command of a process may hold the mailbox: then next time; one that
 * wrote it after our NOP (it took kcmd_lock before the NIC was declared
 * stalled) leaves kcmd_seq past probe_seq: post again, or we would wait
 * for an answer to a NOP the NIC never saw. dead_rwsem held for
 * reading, NIC alive.
 */
static bool vmmc_stall_probe(struct vmmc_dev *vdev)
{
	bool answered = false;

	if (!mutex_trylock(&vdev->kcmd_lock))
		return false;
	if (vdev->probe_seq &&
	    /* pairs with the NIC's release of resp_seq */
	    (s32)(smp_load_acquire(&vdev->ctrl->resp_seq) -
		  vdev->probe_seq) >= 0) {
		answered = true;
		vdev->probe_seq = 0;
	} else {
		if (!vdev->probe_seq || vdev->kcmd_seq != vdev->probe_seq) {
			memset(&vdev->ctrl->cmd, 0, sizeof(vdev->ctrl->cmd));
			vdev->probe_seq = ++vdev->kcmd_seq;
			/* pairs with the NIC's acquire of cmd_seq */
			smp_store_release(&vdev->ctrl->cmd_seq, vdev->probe_seq);
		}
		vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	}
	mutex_unlock(&vdev->kcmd_lock);
	return answered;
}

static bool vmmc_graves_left(struct vmmc_dev *vdev)
{
	return atomic64_read(&vdev->stats[VMMC_STAT_GRAVE_PAGES]) ||
	       atomic64_read(&vdev->stats[VMMC_STAT_ZOMBIE_EPS]);
}

static void vmmc_stall_work(struct work_struct *work)
{
	struct vmmc_dev *vdev = container_of(to_delayed_work(work),
					     struct vmmc_dev, stall_work);
	DECLARE_BITMAP(zombies, VMMC_MAX_EPS);
	struct vmmc_ep *ep;
	int i;

	down_read(&vdev->dead_rwsem);
	if (vdev->dead) {
		up_read(&vdev->dead_rwsem);
		return;
	}
	if (READ_ONCE(vdev->stalled) && vmmc_stall_probe(vdev))
		vmmc_nic_unstall(vdev);
	bitmap_zero(zombies, VMMC_MAX_EPS);
	mutex_lock(&vdev->ep_lock);
	for (i = 0; i < VMMC_MAX_EPS; i++) {
		ep = vdev->eps[i];
		if (!ep)
			continue;
		if (ep->zombie) {
			__set_bit(i, zombies);
			continue;
		}
		mutex_lock(&ep->pin_lock);
		if (!list_empty(&ep->graves))
			queue_work(vmmc_wq, &ep->reap_work);
		mutex_unlock(&ep->pin_lock);
	}
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);

	/*
	 * Only this work frees a zombie (and empties its eps[] slot), and
	 * remove() cancels it first: the slots still hold them.
	 */
	for_each_set_bit(i, zombies, VMMC_MAX_EPS) {
		mutex_lock(&vdev->ep_lock);
		ep = vdev->eps[i];
		mutex_unlock(&vdev->ep_lock);
		vmmc_ep_reap_zombie(ep);
	}

	if (READ_ONCE(vdev->stalled) || vmmc_graves_left(vdev))
		vmmc_stall_later(vdev);
}

/**
 * vmmc_stall_init() - set up the stalled state and its work
 * @vdev: a NIC being probed, before its interrupts
 *
 * Context: process context.
 */
void vmmc_stall_init(struct vmmc_dev *vdev)
{
	spin_lock_init(&vdev->stall_lock);
	INIT_DELAYED_WORK(&vdev->stall_work, vmmc_stall_work);
}

/**
 * vmmc_stall_kick() - the NIC raised a control interrupt
 * @vdev: the NIC
 *
 * If it was stalled or holds graves, look at once rather than at the
 * next poll.
 *
 * Context: any (the control interrupt handler).
 */
void vmmc_stall_kick(struct vmmc_dev *vdev)
{
	if (READ_ONCE(vdev->stalled) || vmmc_graves_left(vdev))
		vmmc_stall_queue(vdev, 0, true);
}

/**
 * vmmc_stall_fini() - stop the work for good, abandon what is left
 * @vdev: a NIC being removed: dead, its interrupts freed
 *
 * Context: process context, may sleep; no vmmc lock held.
 */
void vmmc_stall_fini(struct vmmc_dev *vdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->stall_lock, flags);
	vdev->stall_off = true;
	spin_unlock_irqrestore(&vdev->stall_lock, flags);
	cancel_delayed_work_sync(&vdev->stall_work);
	if (!vmmc_graves_left(vdev))
		return;
	dev_warn(&vdev->pdev->dev, "unbound with %lld pages and %d closed endpoints the NIC never let go of: they stay pinned for good\n",
		 (long long)atomic64_read(&vdev->stats[VMMC_STAT_GRAVE_PAGES]),
		 vmmc_ep_abandon_zombies(vdev));
}

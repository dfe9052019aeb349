// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_utlb.c - the endpoint's user-level translation table (UTLB).
 *
 * As in VMMC-2, the library caches which of its pages are pinned and at
 * which slot, and asks the kernel only on a miss (VMMC_IOC_PIN). The table
 * is a __u64 array in guest RAM that only the kernel writes and the NIC
 * reads: entry = guest-physical page address | VMMC_UTLB_VALID, plus
 * VMMC_UTLB_WRITE for a range pinned with VMMC_PIN_F_WRITE (pinned for
 * write and dirtied when unpinned: a REDIRECT may land there). These
 * guests have no IOMMU, so the bus address is the physical address; a
 * device behind an IOMMU would need dma_map_page(). A send or a redirect
 * names slots, never addresses.
 *
 * Dropping translations (UNPIN, munmap of pinned pages, endpoint close):
 * zero the entries, then the sync handshake (ctx->sync_seq/sync_ack): once
 * the NIC acknowledges, no data movement that read the old entries is
 * still going on, and the pages may be unpinned. When the kernel drops a
 * range on its own (the process unmapped it) it bumps the utlb_gen word
 * the library reads, so that the library flushes its cache; the range's
 * slots stay reserved until the library's UNPIN of it, so that a stale
 * UNPIN can never hit a newer range in the same slots.
 *
 * Locking: ep->pin_lock guards utlb[], slot_map, pins and the sync; see
 * vmmc_umem.c for the order with mmap_lock and dead_rwsem.
 */
#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vmmc_loc.h"

#define VMMC_UTLB_BYTES		(VMMC_UTLB_SLOTS * sizeof(__u64))
#define VMMC_PIN_RETRIES	8

/* Make the NIC forget old entries. pin_lock and dead_rwsem (read) held. */
static int vmmc_utlb_sync(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;

	lockdep_assert_held(&ep->pin_lock);
	ep->sync_seq++;
	/* pairs with the NIC's read of sync_seq: the entries are zero first */
	dma_wmb();
	WRITE_ONCE(ep->ctx->sync_seq, ep->sync_seq);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	return vmmc_ctrl_wait(vdev, &ep->ctx->sync_ack, ep->sync_seq);
}

/*
 * Zero a pin's entries and make the NIC forget them: 0 once it did (or
 * once the endpoint was fenced, bound or not), else the pages must stay
 * pinned: the pin goes to the graveyard until the NIC acknowledges the
 * sync.
 * pin_lock held; dead_rwsem or the SRCU read side held.
 */
static int vmmc_pin_unmap(struct vmmc_pin *pin)
{
	struct vmmc_ep *ep = pin->umem.ep;
	unsigned long i;
	int err;

	lockdep_assert_held(&ep->pin_lock);
	for (i = 0; i < pin->umem.nr_pages; i++)
		WRITE_ONCE(ep->utlb[pin->slot + i], 0);
	/*
	 * Fenced (ack seen; it stays true): the NIC reads neither the UTLB
	 * nor the pages, and need not answer a sync of a fenced slot.
	 */
	if (READ_ONCE(ep->fenced))
		err = 0;
	else if (ep->vdev->dead)
		err = -EIO;
	else
		err = vmmc_utlb_sync(ep);
	if (err)
		vmmc_grave_add(&pin->umem, &ep->ctx->sync_ack, ep->sync_seq);
	return err;
}

/*
 * The graveyard is done with a pin its owner let go of: the NIC
 * acknowledged, the pages are unpinned; free its slots and itself.
 */
static void vmmc_pin_bury(struct vmmc_umem *umem)
{
	struct vmmc_pin *pin = container_of(umem, struct vmmc_pin, umem);
	struct vmmc_ep *ep = umem->ep;

	mutex_lock(&ep->pin_lock);
	bitmap_clear(ep->slot_map, pin->slot, umem->nr_pages);
	mutex_unlock(&ep->pin_lock);
	vmmc_stat_inc(ep->vdev, VMMC_STAT_UNPINS);
	kfree(pin);
}

/* The process unmapped pinned pages: drop the range, tell the library. */
static int vmmc_pin_invalidate(struct vmmc_umem *umem)
{
	struct vmmc_pin *pin = container_of(umem, struct vmmc_pin, umem);
	struct vmmc_ep *ep = umem->ep;
	int err;

	err = vmmc_pin_unmap(pin);
	WRITE_ONCE(ep->shared->utlb_gen, READ_ONCE(ep->shared->utlb_gen) + 1);
	return err;
}

/**
 * vmmc_utlb_init() - allocate an endpoint's UTLB and slot map
 * @ep: a new endpoint, not yet active
 *
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM.
 */
int vmmc_utlb_init(struct vmmc_ep *ep)
{
	struct device *dev = &ep->vdev->pdev->dev;

	mutex_init(&ep->pin_lock);
	INIT_LIST_HEAD(&ep->pins);
	INIT_LIST_HEAD(&ep->reap_list);
	INIT_WORK(&ep->reap_work, vmmc_reap_work);
	ep->slot_map = bitmap_zalloc(VMMC_UTLB_SLOTS, GFP_KERNEL);
	if (!ep->slot_map)
		return -ENOMEM;
	ep->utlb = dma_alloc_coherent(dev, VMMC_UTLB_BYTES, &ep->utlb_dma,
				      GFP_KERNEL);
	if (!ep->utlb) {
		bitmap_free(ep->slot_map);
		return -ENOMEM;
	}
	return 0;
}

/**
 * vmmc_utlb_fini() - drop every pinned range and the UTLB
 * @ep: an endpoint being destroyed (or a zombie being finished)
 * @fenced: the NIC acknowledged the endpoint's fence: it reads neither the
 *	UTLB nor the pages any more: the entries are zeroed, the pages
 *	unpinned. If not, the pages go to the graveyard until it does. The
 *	UTLB stays: vmmc_utlb_free().
 *
 * Context: process context, takes mmap_lock; no vmmc lock held.
 */
void vmmc_utlb_fini(struct vmmc_ep *ep, bool fenced)
{
	struct vmmc_pin *pin, *next;
	unsigned long i;
	LIST_HEAD(todo);

	mutex_lock(&ep->pin_lock);
	list_for_each_entry_safe(pin, next, &ep->pins, node) {
		vmmc_umem_detach(&pin->umem);
		/* no entry names a page once it is unpinned */
		if (fenced)
			for (i = 0; i < pin->umem.nr_pages; i++)
				WRITE_ONCE(ep->utlb[pin->slot + i], 0);
		list_move(&pin->node, &todo);
		if (!pin->umem.dead) {
			pin->umem.dead = true;
			if (!fenced)
				vmmc_grave_add(&pin->umem, &ep->ctx->ack_gen,
					       ep->gen);
		}
	}
	mutex_unlock(&ep->pin_lock);
	flush_work(&ep->reap_work);

	list_for_each_entry_safe(pin, next, &todo, node) {
		list_del(&pin->node);
		if (!vmmc_umem_put(&pin->umem, vmmc_pin_bury))
			continue;	/* the graveyard frees it */
		vmmc_stat_inc(ep->vdev, VMMC_STAT_UNPINS);
		kfree(pin);
	}
}

/**
 * vmmc_utlb_free() - free the UTLB and the slot map
 * @ep: an endpoint whose fence the NIC acknowledged, with no grave left
 *	and reap_work flushed
 *
 * Context: process context.
 */
void vmmc_utlb_free(struct vmmc_ep *ep)
{
	dma_free_coherent(&ep->vdev->pdev->dev, VMMC_UTLB_BYTES, ep->utlb,
			  ep->utlb_dma);
	bitmap_free(ep->slot_map);
}

/* Publish a pinned range in free slots. pin_lock held. */
static int vmmc_pin_install(struct vmmc_ep *ep, struct vmmc_pin *pin,
			    struct vmmc_pin_req *req)
{
	unsigned long n = pin->umem.nr_pages, slot, i;

	lockdep_assert_held(&ep->pin_lock);
	slot = bitmap_find_next_zero_area(ep->slot_map, VMMC_UTLB_SLOTS, 0, n,
					  0);
	if (slot >= VMMC_UTLB_SLOTS)
		return -ENOSPC;
	bitmap_set(ep->slot_map, slot, n);
	for (i = 0; i < n; i++)
		WRITE_ONCE(ep->utlb[slot + i],
			   page_to_phys(pin->umem.pages[i]) | VMMC_UTLB_VALID |
			   (pin->umem.writable ? VMMC_UTLB_WRITE : 0));
	/* pairs with the NIC's read of the entries after it saw the SQE */
	dma_wmb();
	pin->slot = slot;
	pin->umem.invalidate = vmmc_pin_invalidate;
	list_add(&pin->node, &ep->pins);
	/* after the unlock another thread may unpin it: copy out now */
	req->slot = slot;
	req->nr_slots = n;
	return 0;
}

static int vmmc_unpin_slot(struct vmmc_ep *ep, u32 slot,
			   const struct vmmc_pin *only);

/**
 * vmmc_ioctl_pin() - VMMC_IOC_PIN
 * @ep: the endpoint
 * @uarg: struct vmmc_pin_req
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno (see struct vmmc_pin_req).
 */
long vmmc_ioctl_pin(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_pin_req req;
	struct vmmc_pin *pin;
	unsigned long seq;
	int err, tries;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~VMMC_PIN_F_WRITE) || req.slot || req.nr_slots ||
	    req.reserved[0] || req.reserved[1] || req.reserved[2])
		return -EINVAL;
	if (!req.len || req.len > (u64)VMMC_UTLB_SLOTS * PAGE_SIZE)
		return -EINVAL;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	for (tries = 0; tries < VMMC_PIN_RETRIES; tries++) {
		err = vmmc_umem_get(ep, &pin->umem, req.addr, req.len,
				    req.flags & VMMC_PIN_F_WRITE, &seq);
		if (err)
			goto out_free;
		if (pin->umem.nr_pages > VMMC_UTLB_SLOTS) {
			err = -EINVAL;
			goto out_put;
		}
		down_read(&vdev->dead_rwsem);
		mutex_lock(&ep->pin_lock);
		if (vdev->dead)
			err = -ENODEV;
		else if (mmu_interval_read_retry(&pin->umem.notifier, seq))
			err = -EAGAIN;	/* the range changed under us */
		else
			err = vmmc_pin_install(ep, pin, &req);
		mutex_unlock(&ep->pin_lock);
		up_read(&vdev->dead_rwsem);
		if (err != -EAGAIN)
			break;
		vmmc_umem_release(&pin->umem);
		memset(&pin->umem, 0, sizeof(pin->umem));
	}
	if (err)
		goto out_put;

	vmmc_stat_inc(vdev, VMMC_STAT_PINS);
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/*
		 * Nobody can know the slot: take it back, unless a sibling's
		 * UNPIN took it already (pin is only compared).
		 */
		vmmc_unpin_slot(ep, req.slot, pin);
		return -EFAULT;
	}
	return 0;

out_put:
	vmmc_umem_release(&pin->umem);	/* never published */
out_free:
	kfree(pin);
	return err;
}

/*
 * Drop the range that starts at @slot: 0, or -EINVAL if no range starts
 * there or the kernel had dropped it already (it is cleaned up: its
 * slots are free again). A range whose sync the NIC does not ack goes to
 * the graveyard, pinned and its slots reserved until the NIC does: the
 * UNPIN itself succeeds. @only set: only that range (nothing of it is
 * read: it is only compared). No vmmc lock held.
 */
static int vmmc_unpin_slot(struct vmmc_ep *ep, u32 slot,
			   const struct vmmc_pin *only)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_pin *pin, *found = NULL;
	bool slots_kept = false;
	int err = 0;

	down_read(&vdev->dead_rwsem);
	mutex_lock(&ep->pin_lock);
	list_for_each_entry(pin, &ep->pins, node) {
		if (pin->slot == slot && (!only || pin == only)) {
			found = pin;
			break;
		}
	}
	if (found) {
		if (found->umem.dead) {
			err = -EINVAL;	/* dropped by the kernel already */
		} else {
			found->umem.dead = true;
			vmmc_pin_unmap(found);
		}
		/* a leaked pin's slots stay reserved until its burial */
		slots_kept = found->umem.leaked;
		if (!slots_kept)
			bitmap_clear(ep->slot_map, found->slot,
				     found->umem.nr_pages);
		vmmc_umem_detach(&found->umem);
		list_del(&found->node);
	} else {
		err = -EINVAL;
	}
	mutex_unlock(&ep->pin_lock);
	up_read(&vdev->dead_rwsem);

	if (found) {
		flush_work(&ep->reap_work);
		if (!vmmc_umem_put(&found->umem, vmmc_pin_bury))
			return err;	/* the graveyard frees it */
		if (slots_kept) {	/* acked meanwhile */
			vmmc_pin_bury(&found->umem);
			return err;
		}
		vmmc_stat_inc(vdev, VMMC_STAT_UNPINS);
		kfree(found);
	}
	return err;
}

/**
 * vmmc_ioctl_unpin() - VMMC_IOC_UNPIN
 * @ep: the endpoint
 * @uarg: struct vmmc_unpin_req
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (no live range starts at that slot, or reserved
 * fields set), -EFAULT.
 */
long vmmc_ioctl_unpin(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_unpin_req req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved[0] || req.reserved[1] || req.reserved[2])
		return -EINVAL;
	return vmmc_unpin_slot(ep, req.slot, NULL);
}

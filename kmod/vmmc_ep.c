// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_ep.c - endpoints: a NIC context slot, its SQ window in SRAM and its
 * event region (CQ + NQ) in guest RAM.
 *
 * Activation order (kmod writes, NIC reads):
 *   1. reset the SQ header in SRAM and the CQ/NQ headers in the region;
 *   2. write evq_addr/evq_size/owner_pid into the context;
 *   3. dma_wmb(), then state = ACTIVE and gen + 1.
 * Deactivation (the fence), in vmmc_ep_fence():
 *   1. state = FENCED and gen + 1, ring VMMC_DB_CTRL;
 *   2. wait until the NIC writes ack_gen == gen (it stops touching the
 *      endpoint between two descriptors and raises VMMC_IRQ_CTRL);
 *   3. only then free the event region and the slot.
 * If the NIC never acks, the region is leaked on purpose (never hand back
 * memory that a device may still write) and counted in fence_timeouts.
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "vmmc_loc.h"

/* Write a new state and a new generation; the NIC acks the generation. */
static void vmmc_ep_set_state(struct vmmc_ep *ep, u32 state)
{
	WRITE_ONCE(ep->ctx->state, state);
	ep->gen++;
	/* pairs with the NIC's read of gen before state: state is visible */
	dma_wmb();
	WRITE_ONCE(ep->ctx->gen, ep->gen);
}

/**
 * vmmc_ep_fence() - stop the NIC from touching an endpoint
 * @ep: the endpoint
 *
 * After a successful return no DMA into or out of @ep's memory is in
 * flight or can start. Idempotent.
 *
 * Context: process context, sleeps up to VMMC_FENCE_TIMEOUT. Called with
 * or without vdev->ep_lock held.
 */
void vmmc_ep_fence(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;
	long left;

	if (ep->fenced)
		return;
	vmmc_ep_set_state(ep, VMMC_EP_FENCED);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	vmmc_stat_inc(vdev, VMMC_STAT_FENCES);

	left = wait_event_timeout(vdev->ctrl_wq,
				  /* pairs with the NIC's release of ack_gen */
				  smp_load_acquire(&ep->ctx->ack_gen) == ep->gen,
				  VMMC_FENCE_TIMEOUT);
	if (!left) {
		vmmc_stat_inc(vdev, VMMC_STAT_FENCE_TIMEOUTS);
		vmmc_warn_ep(ep, "NIC did not ack the fence (gen %u): keeping its memory\n",
			     ep->gen);
		return;
	}
	ep->fenced = true;
}

/**
 * vmmc_ep_create() - open a new endpoint on a NIC
 * @vdev: the NIC
 *
 * Context: process context, may sleep; takes dead_rwsem and ep_lock.
 * Return: the endpoint, or ERR_PTR(-ENODEV) if the NIC is gone,
 * ERR_PTR(-EBUSY) if every slot is in use, ERR_PTR(-ENOMEM).
 */
struct vmmc_ep *vmmc_ep_create(struct vmmc_dev *vdev)
{
	struct vmmc_ep *ep;
	int err, id;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return ERR_PTR(-ENOMEM);
	ep->vdev = vdev;
	mutex_init(&ep->imp_lock);
	init_rwsem(&ep->use_rwsem);
	INIT_LIST_HEAD(&ep->xports);

	ep->evq = dma_alloc_coherent(&vdev->pdev->dev, VMMC_EVQ_SIZE,
				     &ep->evq_dma, GFP_KERNEL);
	if (!ep->evq) {
		err = -ENOMEM;
		goto out_free_ep;
	}
	ep->cq = ep->evq + VMMC_CQ_HDR_OFF;
	ep->nq = ep->evq + VMMC_NQ_HDR_OFF;
	ep->shared = ep->evq + VMMC_EPINFO_OFF;
	err = vmmc_utlb_init(ep);
	if (err)
		goto out_free_evq;

	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	if (vdev->dead) {
		err = -ENODEV;
		goto out_unlock;
	}
	for (id = 0; id < VMMC_MAX_EPS; id++)
		if (!vdev->eps[id])
			break;
	if (id == VMMC_MAX_EPS) {
		err = -EBUSY;
		goto out_unlock;
	}
	ep->id = id;
	ep->ctx = &vdev->epctx[id];
	ep->sq = vdev->sram + VMMC_SRAM_SQ + id * VMMC_SQ_SIZE;
	ep->gen = READ_ONCE(ep->ctx->gen);
	ep->sync_seq = READ_ONCE(ep->ctx->sync_seq);

	/* the slot is FREE: the NIC does not read it while we fill it */
	memset(ep->sq, 0, VMMC_SQ_SIZE);
	memset(&vdev->imptab[id * VMMC_MAX_IMPORTS], 0,
	       VMMC_MAX_IMPORTS * sizeof(struct vmmc_import));
	ep->ctx->irq_armed = 0;
	ep->ctx->evq_addr = ep->evq_dma;
	ep->ctx->evq_size = VMMC_EVQ_SIZE;
	ep->ctx->utlb_addr = ep->utlb_dma;
	ep->ctx->utlb_slots = VMMC_UTLB_SLOTS;
	ep->pid = task_tgid_nr(current);
	ep->ctx->owner_pid = ep->pid;
	vmmc_ep_set_state(ep, VMMC_EP_ACTIVE);

	vdev->eps[id] = ep;
	vdev->live_eps++;
	kref_get(&vdev->ref);
	mmgrab(current->mm);
	ep->mm = current->mm;
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);

	vmmc_stat_inc(vdev, VMMC_STAT_EPS_OPENED);
	vmmc_dbg_ep(ep, "opened by pid %d\n", task_tgid_nr(current));
	return ep;

out_unlock:
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);
	vmmc_utlb_fini(ep, true);
out_free_evq:
	dma_free_coherent(&vdev->pdev->dev, VMMC_EVQ_SIZE, ep->evq,
			  ep->evq_dma);
out_free_ep:
	kfree(ep);
	return ERR_PTR(err);
}

/**
 * vmmc_ep_teardown() - stop the NIC and give back what the endpoint holds
 * @ep: the endpoint
 *
 * Order: fence the NIC (no DMA into or out of the endpoint is in flight
 * or can start), revoke its exports (remote senders get an error, not
 * stale memory), forget its imports, then unpin everything. Whatever the
 * NIC did not acknowledge is kept, never freed. The event region and the
 * slot stay: the owner may still have them mapped. Done once; a second
 * call returns the first one's answer.
 *
 * Context: process context, may sleep; takes dead_rwsem, ep_lock and the
 * endpoint's locks. Caller holds use_rwsem for writing, or is releasing
 * the file (nobody else can reach @ep).
 * Return: true if the NIC acknowledged everything (the slot may be freed).
 */
static bool vmmc_ep_teardown(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;
	bool fenced;

	if (ep->torn_down)
		return ep->clean;
	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	/* after an unbind the SRAM is unmapped: remove() fenced us already */
	if (!vdev->dead)
		vmmc_ep_fence(ep);
	fenced = ep->fenced;
	mutex_unlock(&vdev->ep_lock);
	if (fenced && !vdev->dead)
		vmmc_ep_drop_imports(ep);
	up_read(&vdev->dead_rwsem);

	ep->clean = vmmc_ep_drop_exports(ep, fenced) && fenced;
	vmmc_utlb_fini(ep, fenced);	/* unpins only if fenced */
	flush_work(&ep->reap_work);
	ep->torn_down = true;
	return ep->clean;
}

/**
 * vmmc_ep_shutdown() - VMMC_IOC_SHUTDOWN: the owner's teardown, now
 * @ep: the endpoint; the caller is its owner
 *
 * Tears @ep down although other processes (a forked child that did not
 * close the fd) keep the file, and so the endpoint's shell, open: after
 * it every ioctl fails with -ESHUTDOWN. Waiters are woken.
 *
 * Context: process context, may sleep; takes use_rwsem for writing.
 * Return: 0, -ESHUTDOWN (done already), -EINTR (killed while waiting for
 * another ioctl to finish), or -EIO (the NIC did not acknowledge: what it
 * may use stays pinned).
 */
int vmmc_ep_shutdown(struct vmmc_ep *ep)
{
	bool clean;

	if (down_write_killable(&ep->use_rwsem))
		return -EINTR;
	if (ep->shut) {
		up_write(&ep->use_rwsem);
		return -ESHUTDOWN;
	}
	WRITE_ONCE(ep->shut, true);
	/* a WAIT asleep, an epoll: they see shut (vmmc_ep_woken()) */
	wake_up_all(&ep->vdev->ep_wq[ep->id]);
	clean = vmmc_ep_teardown(ep);
	up_write(&ep->use_rwsem);
	vmmc_dbg_ep(ep, "shut down%s\n", clean ? "" : " (NIC did not ack: kept)");
	return clean ? 0 : -EIO;
}

/**
 * vmmc_ep_destroy() - tear an endpoint down and free it
 * @ep: the endpoint; its file is being released, so no mapping is left
 *
 * vmmc_ep_teardown() (unless VMMC_IOC_SHUTDOWN did it), then free the
 * slot, the event region and @ep; if the NIC did not acknowledge, all of
 * it is kept instead.
 *
 * Context: process context, may sleep; takes dead_rwsem, ep_lock and the
 * endpoint's locks.
 */
void vmmc_ep_destroy(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;
	bool clean;

	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	ep->mapping = NULL;	/* the file is going away */
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);

	clean = vmmc_ep_teardown(ep);

	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	if (clean && !vdev->dead) {
		vmmc_ep_set_state(ep, VMMC_EP_FREE);
		ep->ctx->evq_addr = 0;
		ep->ctx->utlb_addr = 0;
		ep->ctx->owner_pid = 0;
	}
	if (clean)
		vdev->eps[ep->id] = NULL;
	/* an unacked slot stays taken: the NIC may still use it */
	vdev->live_eps--;
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);

	vmmc_stat_inc(vdev, VMMC_STAT_EPS_CLOSED);
	vmmc_dbg_ep(ep, "closed%s\n", clean ? "" : " (NIC did not ack: kept)");
	if (!clean) {
		/* kept memory is the module's to the end: no unload */
		__module_get(THIS_MODULE);
		return;
	}
	mmdrop(ep->mm);
	dma_free_coherent(&vdev->pdev->dev, VMMC_EVQ_SIZE, ep->evq,
			  ep->evq_dma);
	kfree(ep);
	vmmc_dev_put(vdev);
}

static bool vmmc_ring_nonempty(struct vmmc_ring_hdr *r)
{
	return READ_ONCE(r->prod) != READ_ONCE(r->cons);
}

/**
 * vmmc_ep_has_events() - does the CQ or the NQ hold an entry?
 * @ep: the endpoint
 *
 * Both indices of each ring are in memory the process can write, so the
 * answer is only as true as the process lets it be; it is used to decide
 * whether to sleep, never as an index.
 *
 * Context: any context.
 */
bool vmmc_ep_has_events(struct vmmc_ep *ep)
{
	return vmmc_ring_nonempty(ep->cq) || vmmc_ring_nonempty(ep->nq);
}

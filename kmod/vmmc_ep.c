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
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "vmmc_loc.h"

/*
 * Per-user limits, per NIC: one user (by real uid, as RLIMIT_NPROC
 * counts) may hold this many endpoints and exports, so that nobody can
 * take every slot of the NIC from the others. 0: no limit. Callers with
 * CAP_SYS_RESOURCE are not limited (their endpoints and exports still
 * count against their uid). Read at each open and export.
 */
unsigned int vmmc_max_eps_per_user = VMMC_MAX_EPS / 4;
module_param_named(max_eps_per_user, vmmc_max_eps_per_user, uint, 0644);
MODULE_PARM_DESC(max_eps_per_user,
		 "endpoints one user may hold per NIC (0: no limit; default 16 of 64)");

unsigned int vmmc_max_exports_per_user = VMMC_MAX_EXPORTS / 4;
module_param_named(max_exports_per_user, vmmc_max_exports_per_user, uint,
		   0644);
MODULE_PARM_DESC(max_exports_per_user,
		 "exports one user may hold per NIC (0: no limit; default 64 of 256)");

/**
 * vmmc_user_may_take() - may the caller take one more of a limited thing?
 * @held: how many its user holds now
 * @max: the limit (a module parameter's value); 0: none
 *
 * Context: process context (capable() looks at current); asked only when
 * @held reached @max, so that only a refusal or an exemption is audited.
 * Return: true if under the limit or the caller has CAP_SYS_RESOURCE.
 */
bool vmmc_user_may_take(unsigned int held, unsigned int max)
{
	return !max || held < max || capable(CAP_SYS_RESOURCE);
}

/* How many endpoint slots @uid's endpoints take. ep_lock held. */
static unsigned int vmmc_user_eps(struct vmmc_dev *vdev, kuid_t uid)
{
	unsigned int id, n = 0;

	lockdep_assert_held(&vdev->ep_lock);
	for (id = 0; id < VMMC_MAX_EPS; id++)
		if (vdev->eps[id] && uid_eq(vdev->eps[id]->uid, uid))
			n++;
	return n;
}

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
 * ERR_PTR(-EBUSY) if every slot is in use, ERR_PTR(-EDQUOT) if the
 * caller's user holds max_eps_per_user endpoints already,
 * ERR_PTR(-ENOMEM).
 */
struct vmmc_ep *vmmc_ep_create(struct vmmc_dev *vdev)
{
	struct vmmc_ep *ep;
	int err, id;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return ERR_PTR(-ENOMEM);
	ep->vdev = vdev;
	ep->uid = current_uid();
	mutex_init(&ep->imp_lock);
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
	if (!vmmc_user_may_take(vmmc_user_eps(vdev, ep->uid),
				READ_ONCE(vmmc_max_eps_per_user))) {
		vmmc_stat_inc(vdev, VMMC_STAT_USER_LIMITS);
		err = -EDQUOT;
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
 * vmmc_ep_destroy() - tear an endpoint down
 * @ep: the endpoint; its file is being released, so no mapping is left
 *
 * Order: fence the NIC (no DMA into or out of the endpoint is in flight
 * or can start), revoke its exports (remote senders get an error, not
 * stale memory), forget its imports, then unpin everything. Whatever the
 * NIC did not acknowledge is kept, endpoint included, never freed.
 *
 * Context: process context, may sleep; takes dead_rwsem, ep_lock and the
 * endpoint's locks.
 */
void vmmc_ep_destroy(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;
	bool fenced, clean;

	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	/* after an unbind the SRAM is unmapped: remove() fenced us already */
	if (!vdev->dead)
		vmmc_ep_fence(ep);
	fenced = ep->fenced;
	ep->mapping = NULL;	/* the file is going away */
	mutex_unlock(&vdev->ep_lock);
	if (fenced && !vdev->dead)
		vmmc_ep_drop_imports(ep);
	up_read(&vdev->dead_rwsem);

	clean = vmmc_ep_drop_exports(ep, fenced) && fenced;
	vmmc_utlb_fini(ep, fenced);	/* unpins only if fenced */
	flush_work(&ep->reap_work);

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

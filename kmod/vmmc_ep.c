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
 * If the NIC does not ack, the closed endpoint stays a zombie (slot,
 * region, UTLB and pins kept: never hand back memory that a device may
 * still write) until it does (vmmc_stall.c, vmmc_ep_reap_zombie()).
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

unsigned int vmmc_max_exports_per_user = VMMC_MAX_EXPORTS / 2;
module_param_named(max_exports_per_user, vmmc_max_exports_per_user, uint,
		   0644);
MODULE_PARM_DESC(max_exports_per_user,
		 "exports one user may hold per NIC (0: no limit; default 8192 of 16384)");

/**
 * vmmc_user_exempt() - is the caller exempt from the per-user limits?
 *
 * Asked before the locks that vmmc_user_may_take() runs under (the LSM
 * hook may sleep or take its own locks), and without an audit record:
 * most callers are under their limit and use no capability.
 *
 * Context: process context (looks at current's credentials).
 * Return: true if the caller has CAP_SYS_RESOURCE.
 */
bool vmmc_user_exempt(void)
{
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_RESOURCE);
}

/**
 * vmmc_user_may_take() - may the caller take one more of a limited thing?
 * @held: how many its user holds now
 * @max: the limit (a module parameter's value); 0: none
 * @exempt: vmmc_user_exempt(), asked before the caller's locks
 *
 * Context: any.
 * Return: true if under the limit or @exempt.
 */
bool vmmc_user_may_take(unsigned int held, unsigned int max, bool exempt)
{
	return !max || held < max || exempt;
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
	lockdep_assert_held(&ep->vdev->ep_lock);
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
 * Context: process context, sleeps up to VMMC_FENCE_TIMEOUT (not at all
 * while the NIC is stalled); vdev->ep_lock held.
 */
void vmmc_ep_fence(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;

	lockdep_assert_held(&vdev->ep_lock);
	if (ep->fenced)
		return;
	vmmc_ep_set_state(ep, VMMC_EP_FENCED);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	vmmc_stat_inc(vdev, VMMC_STAT_FENCES);

	if (vmmc_ctrl_wait(vdev, &ep->ctx->ack_gen, ep->gen)) {
		vmmc_warn_ep(ep, "NIC did not ack the fence (gen %u): keeping its memory\n",
			     ep->gen);
		return;
	}
	WRITE_ONCE(ep->fenced, true);
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
	bool exempt;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return ERR_PTR(-ENOMEM);
	ep->vdev = vdev;
	ep->uid = current_uid();
	mutex_init(&ep->imp_lock);
	init_rwsem(&ep->use_rwsem);
	INIT_LIST_HEAD(&ep->xports);
	INIT_LIST_HEAD(&ep->graves);
	exempt = vmmc_user_exempt();	/* before the locks */

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
				READ_ONCE(vmmc_max_eps_per_user), exempt)) {
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
	vmmc_utlb_free(ep);
out_free_evq:
	dma_free_coherent(&vdev->pdev->dev, VMMC_EVQ_SIZE, ep->evq,
			  ep->evq_dma);
out_free_ep:
	kfree(ep);
	return ERR_PTR(err);
}

/* Free what a clean endpoint holds; it left eps[] and the NIC let go. */
static void vmmc_ep_free(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;

	/* a burial reap_work started may still use the slot map */
	flush_work(&ep->reap_work);
	vmmc_utlb_free(ep);
	mmdrop(ep->mm);
	dma_free_coherent(&vdev->pdev->dev, VMMC_EVQ_SIZE, ep->evq,
			  ep->evq_dma);
	kfree(ep);
	vmmc_dev_put(vdev);
}

/* Give the NIC's slot back. dead_rwsem (read) and ep_lock held. */
static void vmmc_ep_release_slot(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;

	lockdep_assert_held(&vdev->ep_lock);
	if (!vdev->dead) {
		vmmc_ep_set_state(ep, VMMC_EP_FREE);
		ep->ctx->evq_addr = 0;
		ep->ctx->utlb_addr = 0;
		ep->ctx->owner_pid = 0;
	}
	vdev->eps[ep->id] = NULL;
}

static bool vmmc_ep_has_graves(struct vmmc_ep *ep)
{
	bool graves;

	mutex_lock(&ep->pin_lock);
	graves = !list_empty(&ep->graves);
	mutex_unlock(&ep->pin_lock);
	return graves;
}

/**
 * vmmc_ep_teardown() - stop the NIC and give back what the endpoint holds
 * @ep: the endpoint
 *
 * Order: fence the NIC (no DMA into or out of the endpoint is in flight
 * or can start), forget its imports, revoke its exports (remote senders
 * get an error, not stale memory), then unpin everything. Whatever the
 * NIC did not acknowledge is kept: pages in the graveyard. The event
 * region and the slot stay: the owner may still have them mapped. Done
 * once; ep->torn_fenced says whether the fence was acknowledged.
 *
 * Context: process context, may sleep (at most VMMC_FENCE_TIMEOUT per
 * acknowledgment, none once the NIC is stalled); takes dead_rwsem,
 * ep_lock and the endpoint's locks. Caller holds use_rwsem for writing,
 * or is releasing the file (nobody else can reach @ep).
 */
static void vmmc_ep_teardown(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;
	bool fenced;

	if (ep->torn_down)
		return;
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

	vmmc_ep_drop_exports(ep);
	vmmc_utlb_fini(ep, fenced);	/* unpins only if fenced */
	flush_work(&ep->reap_work);
	ep->torn_fenced = fenced;
	ep->torn_down = true;
}

/**
 * vmmc_ep_shutdown() - VMMC_IOC_SHUTDOWN: the owner's teardown, now
 * @ep: the endpoint; the caller is its owner
 *
 * vmmc_ep_teardown() although other processes (a forked child that did
 * not close the fd) keep the file, and so the endpoint's shell, open:
 * after it every ioctl fails with -ESHUTDOWN. Waiters are woken, a spin
 * measurement claim is given up. The slot and the event region go at
 * the last close, as ever.
 *
 * Context: process context, may sleep; takes use_rwsem for writing.
 * Return: 0, -ESHUTDOWN (done already), -EINTR (killed while another
 * ioctl ran), or -EIO (the NIC did not acknowledge all: what it may
 * still use stays pinned, as at close).
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
	/* a CLAIM, as at close: no SET_SPIN of ours comes after shut */
	vmmc_spin_release(ep);
	/* a WAIT asleep or an epoll sees shut */
	wake_up_all(&ep->vdev->ep_wq[ep->id]);
	vmmc_ep_teardown(ep);
	clean = ep->torn_fenced && !vmmc_ep_has_graves(ep);
	up_write(&ep->use_rwsem);
	vmmc_dbg_ep(ep, "shut down%s\n", clean ? "" : " (the NIC kept some)");
	return clean ? 0 : -EIO;
}

/**
 * vmmc_ep_destroy() - tear an endpoint down and free it
 * @ep: the endpoint; its file is being released, so no mapping is left
 *
 * vmmc_ep_teardown() (unless VMMC_IOC_SHUTDOWN did it), then give the
 * slot back and free. Whatever the NIC did not acknowledge is kept:
 * pages in the graveyard, the endpoint as a zombie (with a module
 * reference) until the NIC acknowledges.
 *
 * Context: process context, may sleep (at most VMMC_FENCE_TIMEOUT per
 * acknowledgment, none once the NIC is stalled); takes dead_rwsem,
 * ep_lock and the endpoint's locks.
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

	vmmc_ep_teardown(ep);

	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	clean = ep->torn_fenced && !vmmc_ep_has_graves(ep);
	if (clean) {
		vmmc_ep_release_slot(ep);
	} else {
		/* the slot stays taken: the NIC may still use it */
		ep->zombie = true;
		vmmc_stat_add(vdev, VMMC_STAT_ZOMBIE_EPS, 1);
		/*
		 * Kept memory is the module's until the NIC lets go; after
		 * an unbind nobody waits for that: it is pinned for good.
		 */
		ep->modref = !vdev->dead;
		if (ep->modref)
			__module_get(THIS_MODULE);
	}
	vdev->live_eps--;
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);

	vmmc_stat_inc(vdev, VMMC_STAT_EPS_CLOSED);
	if (!clean) {
		vmmc_warn_ep(ep, "closed, but the NIC did not let go of it: kept %s\n",
			     ep->modref ? "until it does" : "for good (unbound)");
		vmmc_stall_later(vdev);
		return;
	}
	vmmc_dbg_ep(ep, "closed\n");
	vmmc_ep_free(ep);
}

/**
 * vmmc_ep_reap_zombie() - finish a closed endpoint once the NIC let go
 * @ep: a zombie (closed; its fence or some of its graves not acked)
 *
 * Empties its graves whose ack arrived; if the NIC acknowledged the
 * fence and no grave is left, gives its slot back and frees it.
 *
 * Context: process context (stall_work, the only one that frees a
 * zombie); takes dead_rwsem, ep_lock, pin_lock.
 */
void vmmc_ep_reap_zombie(struct vmmc_ep *ep)
{
	struct vmmc_dev *vdev = ep->vdev;
	bool done = false;

	queue_work(vmmc_wq, &ep->reap_work);
	flush_work(&ep->reap_work);

	down_read(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	if (!vdev->dead && vmmc_acked(&ep->ctx->ack_gen, ep->gen) &&
	    !vmmc_ep_has_graves(ep)) {
		done = true;
		WRITE_ONCE(ep->fenced, true);
		vmmc_ep_drop_imports(ep);
		vmmc_ep_release_slot(ep);
		vmmc_stat_add(vdev, VMMC_STAT_ZOMBIE_EPS, -1);
		/* not dead: no unbind abandoned it, the reference is ours */
		ep->modref = false;
	}
	mutex_unlock(&vdev->ep_lock);
	up_read(&vdev->dead_rwsem);
	if (!done)
		return;
	vmmc_info_ep(ep, "the NIC let go of the closed endpoint: freed\n");
	vmmc_ep_free(ep);
	module_put(THIS_MODULE);
}

/**
 * vmmc_ep_abandon_zombies() - an unbind gives up waiting for the NIC
 * @vdev: a NIC being removed: dead, stall_work cancelled
 *
 * Zombies stay as they are, their pages pinned and their memory
 * allocated for good (the NIC was told to stop, but a stopped NIC may
 * still finish a transfer first); only their module references go, so
 * that the module can be unloaded. Nothing of the module's code is
 * reachable from them any more: their notifiers are removed, no work
 * is queued on a dead NIC, and module exit destroys vmmc_wq, which waits
 * for a reap_work still running.
 *
 * Context: process context; takes ep_lock.
 * Return: how many were abandoned.
 */
int vmmc_ep_abandon_zombies(struct vmmc_dev *vdev)
{
	int i, n = 0;

	mutex_lock(&vdev->ep_lock);
	for (i = 0; i < VMMC_MAX_EPS; i++) {
		struct vmmc_ep *ep = vdev->eps[i];

		if (!ep || !ep->zombie)
			continue;
		n++;
		if (ep->modref) {
			ep->modref = false;
			module_put(THIS_MODULE);
		}
	}
	mutex_unlock(&vdev->ep_lock);
	return n;
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

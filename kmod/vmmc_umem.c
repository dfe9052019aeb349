// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_umem.c - pinning user memory for the NIC, and taking it back.
 *
 * A umem is a user range pinned with FOLL_LONGTERM (the NIC may touch it
 * at any later time), charged to the opener's mm->pinned_vm against
 * RLIMIT_MEMLOCK (unless CAP_IPC_LOCK), and watched by an MMU interval
 * notifier. If the process unmaps or remaps any of it, the notifier has
 * the owner's invalidate() stop the NIC from using the pages (a UTLB sync
 * or an export revocation, each acknowledged by the NIC) and marks the
 * umem dead; reap_work unpins it later. The notifier never unpins itself:
 * some of its callers hold the page lock that unpinning a dirty page takes.
 * If the NIC does not acknowledge, the umem is "leaked": its pages stay
 * pinned in the graveyard until it does (vmmc_stall.c), for good if it
 * never does. Never hand back memory a device may write.
 *
 * Lock order: mmap_lock -> vdev->dead_rwsem -> ep->pin_lock ->
 * vdev->exp_lock. The notifier (under mmap_lock, maybe in reclaim) takes
 * only pin_lock, and reads vdev->dead under vdev->srcu. Pinning and
 * notifier insert take mmap_lock, notifier removal waits for the
 * invalidations in progress: they run with no vmmc lock.
 *
 * Ownership: the owner (a pin or an export) detaches its umem under
 * pin_lock (vmmc_umem_detach()), then flushes reap_work, then releases;
 * so the owner and the reaper never release the same umem at once.
 */
#include <linux/backing-dev.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "vmmc_loc.h"

/* Charge @npages to @ep's mm, within RLIMIT_MEMLOCK unless privileged. */
static int vmmc_account(struct vmmc_ep *ep, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	s64 pinned = atomic64_add_return(npages, &ep->mm->pinned_vm);

	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &ep->mm->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

static void vmmc_unaccount(struct vmmc_ep *ep, unsigned long npages)
{
	atomic64_sub(npages, &ep->mm->pinned_vm);
}

/**
 * vmmc_umem_unwatch() - stop watching a umem for munmap
 * @umem: the umem; only its owner, or reap_work for a dead one, calls
 *
 * Idempotent. Context: process context; does not take mmap_lock, but
 * mmu_interval_notifier_remove() waits for invalidations of the range in
 * progress, which take pin_lock: no vmmc lock may be held.
 */
void vmmc_umem_unwatch(struct vmmc_umem *umem)
{
	if (umem->watched) {
		mmu_interval_notifier_remove(&umem->notifier);
		umem->watched = false;
	}
}

/**
 * vmmc_umem_unpin() - unpin a umem's pages and give back their charge
 * @umem: a umem the NIC no longer uses (or never knew), not leaked;
 *	nobody else unpins it at the same time
 *
 * Idempotent. Context: process context, takes page locks; no pin_lock
 * (the MMU notifier may hold a page lock when it takes pin_lock).
 */
void vmmc_umem_unpin(struct vmmc_umem *umem)
{
	struct vmmc_ep *ep = umem->ep;

	if (!umem->pages)
		return;
	unpin_user_pages_dirty_lock(umem->pages, umem->nr_pages,
				    umem->writable);
	vmmc_unaccount(ep, umem->nr_pages);
	vmmc_stat_add(ep->vdev, VMMC_STAT_PINNED_PAGES, -(long)umem->nr_pages);
	atomic_long_sub(umem->nr_pages, &ep->pinned_pages);
	kvfree(umem->pages);
	umem->pages = NULL;
}

/**
 * vmmc_umem_release() - stop watching a umem and unpin it unless leaked
 * @umem: a dead umem, or one the NIC was never told about; a leaked one
 *	keeps its pages for the graveyard
 *
 * Context: process context, waits for invalidations (vmmc_umem_unwatch()),
 * takes page locks; no vmmc lock may be held.
 */
void vmmc_umem_release(struct vmmc_umem *umem)
{
	vmmc_umem_unwatch(umem);
	if (!umem->leaked)
		vmmc_umem_unpin(umem);
}

/**
 * vmmc_umem_put() - the owner lets go of its detached umem
 * @umem: detached (vmmc_umem_detach()) and dead, or never published
 * @bury: frees the owner's object; called by reap_work if the umem is
 *	in the graveyard, once the NIC acknowledged
 *
 * Context: process context, waits for invalidations (vmmc_umem_unwatch()),
 * takes pin_lock, page locks; no vmmc lock may be held.
 * Return: true if the caller frees its object now (the pages are
 * unpinned); false if the graveyard owns it from now on.
 */
bool vmmc_umem_put(struct vmmc_umem *umem,
		   void (*bury)(struct vmmc_umem *umem))
{
	struct vmmc_ep *ep = umem->ep;
	bool grave;

	vmmc_umem_unwatch(umem);
	mutex_lock(&ep->pin_lock);
	grave = umem->leaked;
	if (grave)
		umem->bury = bury;
	mutex_unlock(&ep->pin_lock);
	if (grave)
		return false;
	/* reap_work may have just taken it off the graves: let it finish */
	flush_work(&ep->reap_work);
	vmmc_umem_unpin(umem);
	return true;
}

/**
 * vmmc_umem_detach() - take a umem away from the reaper
 * @umem: the owner's umem
 *
 * After this and a flush of reap_work, only the owner touches @umem.
 * Context: ep->pin_lock held.
 */
void vmmc_umem_detach(struct vmmc_umem *umem)
{
	lockdep_assert_held(&umem->ep->pin_lock);
	if (!list_empty(&umem->reap))
		list_del_init(&umem->reap);
	umem->invalidate = NULL;
}

/* Drop a live umem: stop the NIC using it, then queue it for unpinning. */
static void vmmc_umem_drop(struct vmmc_umem *umem)
{
	struct vmmc_ep *ep = umem->ep;

	lockdep_assert_held(&ep->pin_lock);
	/* on failure the owner's invalidate() put it in the graveyard */
	umem->invalidate(umem);
	umem->dead = true;
	if (list_empty(&umem->reap))
		list_add_tail(&umem->reap, &ep->reap_list);
	queue_work(vmmc_wq, &ep->reap_work);
	vmmc_stat_inc(ep->vdev, VMMC_STAT_INVALIDATIONS);
}

/*
 * Are the pages the process maps at @umem's range still the pinned ones?
 * A page-table clear that was not a munmap may have changed nothing: a
 * migration or compaction that tried the pinned pages and failed on the
 * pin (and restored the entries), or an madvise(MADV_DONTNEED) of a shared
 * mapping (the same page-cache pages fault back). Looking faults the
 * range in, read-only: a private page dropped by MADV_DONTNEED comes back
 * as the zero page, not ours. No vmmc lock held.
 */
static bool vmmc_umem_same_pages(struct vmmc_umem *umem, struct mm_struct *mm)
{
	unsigned long i, done = 0;
	struct page *batch[16];
	bool same = true;
	long got, j;

	mmap_read_lock(mm);
	while (same && done < umem->nr_pages) {
		got = get_user_pages_remote(mm, umem->start + done * PAGE_SIZE,
					    min(umem->nr_pages - done,
						ARRAY_SIZE(batch)),
					    0, batch, NULL, NULL);
		if (got <= 0) {
			same = false;
			break;
		}
		for (j = 0; j < got; j++) {
			i = done + j;
			if (batch[j] != umem->pages[i])
				same = false;
			put_page(batch[j]);
		}
		done += got;
	}
	mmap_read_unlock(mm);
	return same;
}

/*
 * Check a suspect umem once the invalidation that cleared its range is
 * over: keep it if its pages are still mapped there, else drop it as the
 * notifier would have. Taken off reap_list by the caller.
 */
static void vmmc_umem_check(struct vmmc_umem *umem)
{
	struct vmmc_ep *ep = umem->ep;
	struct vmmc_dev *vdev = ep->vdev;
	unsigned long seq;
	bool same = false;
	int idx, tries;

	for (tries = 0; tries < 8; tries++) {
		seq = mmu_interval_read_begin(&umem->notifier);
		if (mmget_not_zero(ep->mm)) {
			same = vmmc_umem_same_pages(umem, ep->mm);
			mmput(ep->mm);
		}
		idx = srcu_read_lock(&vdev->srcu);
		mutex_lock(&ep->pin_lock);
		if (!mmu_interval_read_retry(&umem->notifier, seq) ||
		    !umem->suspect) {
			if (umem->suspect && !umem->dead && umem->invalidate &&
			    !same)
				vmmc_umem_drop(umem);
			umem->suspect = false;
			mutex_unlock(&ep->pin_lock);
			srcu_read_unlock(&vdev->srcu, idx);
			return;
		}
		mutex_unlock(&ep->pin_lock);
		srcu_read_unlock(&vdev->srcu, idx);
	}
	/* cleared again and again: drop it, the safe way */
	idx = srcu_read_lock(&vdev->srcu);
	mutex_lock(&ep->pin_lock);
	if (umem->suspect && !umem->dead && umem->invalidate)
		vmmc_umem_drop(umem);
	umem->suspect = false;
	mutex_unlock(&ep->pin_lock);
	srcu_read_unlock(&vdev->srcu, idx);
}

/**
 * vmmc_reap_work() - unpin dead umems, check suspect ones, empty graves
 * @work: ep->reap_work
 *
 * One umem at a time comes off ep->reap_list (or, once the NIC
 * acknowledged, off ep->graves) under pin_lock, never a private batch:
 * the release may sleep (waiting for an invalidation of the mm to end),
 * and meanwhile an owner may detach any umem still on the list
 * (vmmc_umem_detach()). A umem taken here is finished here, and the
 * owner's flush of reap_work waits for that.
 *
 * Context: workqueue; takes pin_lock briefly, then mmap_lock.
 */
void vmmc_reap_work(struct work_struct *work)
{
	struct vmmc_ep *ep = container_of(work, struct vmmc_ep, reap_work);
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_umem *umem, *grave;
	bool dead, orphan = false;
	int idx;

	for (;;) {
		grave = NULL;
		idx = srcu_read_lock(&vdev->srcu);
		mutex_lock(&ep->pin_lock);
		umem = list_first_entry_or_null(&ep->reap_list,
						struct vmmc_umem, reap);
		if (umem)
			list_del_init(&umem->reap);
		else if (!READ_ONCE(vdev->dead))
			grave = vmmc_grave_take(ep, &orphan);
		dead = umem && umem->dead;
		mutex_unlock(&ep->pin_lock);
		srcu_read_unlock(&vdev->srcu, idx);
		if (grave) {
			vmmc_umem_unpin(grave);
			if (orphan)
				grave->bury(grave);
			continue;
		}
		if (!umem)
			return;
		if (dead)
			vmmc_umem_release(umem);
		else
			vmmc_umem_check(umem);
	}
}

static bool vmmc_umem_invalidate(struct mmu_interval_notifier *mni,
				 const struct mmu_notifier_range *range,
				 unsigned long cur_seq)
{
	struct vmmc_umem *umem = container_of(mni, struct vmmc_umem, notifier);
	struct vmmc_ep *ep = umem->ep;
	struct vmmc_dev *vdev = ep->vdev;
	int idx;

	/*
	 * fork's COW and mprotect leave pinned pages where they are. munmap
	 * and mremap (UNMAP) take them away: drop the range at once. A clear
	 * (CLEAR: MADV_DONTNEED, but also migration and compaction, which
	 * fail on pinned pages and put them back, THP splits, KSM, reclaim
	 * scans) may change nothing: a umem that asks for it (an export,
	 * whose revocation is for good) is checked once the clear is over
	 * (vmmc_umem_check()) and dropped only if its pages went; any other
	 * is dropped at once, the safe choice, at the cost of a re-pin: a
	 * UTLB pin must be, as a program may write the fresh pages and send
	 * them the moment madvise(MADV_DONTNEED) returns (selftest
	 * vmmc_utlb clear_drops_pin_at_once).
	 */
	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return true;
	default:
		break;
	}
	if (!mmu_notifier_range_blockable(range))
		return false;

	idx = srcu_read_lock(&vdev->srcu);
	mutex_lock(&ep->pin_lock);
	mmu_interval_set_seq(mni, cur_seq);
	if (!umem->dead && umem->invalidate) {
		if (umem->verify && range->event == MMU_NOTIFY_CLEAR) {
			umem->suspect = true;
			if (list_empty(&umem->reap))
				list_add_tail(&umem->reap, &ep->reap_list);
			queue_work(vmmc_wq, &ep->reap_work);
		} else {
			vmmc_umem_drop(umem);
		}
	}
	mutex_unlock(&ep->pin_lock);
	srcu_read_unlock(&vdev->srcu, idx);
	return true;
}

static const struct mmu_interval_notifier_ops vmmc_umem_ops = {
	.invalidate = vmmc_umem_invalidate,
};

/**
 * vmmc_vma_tracks_dirty() - does a file behind @vma track writes to it?
 * @vma: a mapping of the caller's
 *
 * True for a shared mapping of a file whose filesystem is told of writes
 * through the page tables (->page_mkwrite, ->pfn_mkwrite) or writes pages
 * back (its backing device can write back): ext4, xfs, 9p, NFS; ramfs too,
 * which never writes back but maps with generic_file_vm_ops, whose
 * ->page_mkwrite is filemap_page_mkwrite(). Such a page may be cleaned,
 * written back and write-protected while pinned, so a device write after
 * that is lost or corrupts the filesystem's state. shmem/tmpfs, shared
 * anonymous memory, memfd and hugetlbfs track nothing and are fine. The
 * rule Linux 6.5 applies to FOLL_LONGTERM | FOLL_WRITE
 * (vma_needs_dirty_tracking()); 6.1 does not.
 *
 * Left out, as 6.5 leaves them out of that rule: soft-dirty tracking
 * (vma_soft_dirty_enabled(), a VMA reason vma_wants_writenotify() names)
 * and uffd-wp. They write-protect to observe the program's own writes,
 * not to keep a filesystem's dirty state; the NIC's writes are simply not
 * seen by them, as no DMA is. A VM_IO or VM_PFNMAP mapping needs no test
 * here: pin_user_pages() refuses it (-EFAULT, check_vma_flags()).
 *
 * Context: mmap_lock held.
 * Return: true if the NIC must not write the mapping's pages.
 */
static bool vmmc_vma_tracks_dirty(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	mmap_assert_locked(vma->vm_mm);
	if (!(vma->vm_flags & VM_SHARED) || !vma->vm_file)
		return false;
	if (ops && (ops->page_mkwrite || ops->pfn_mkwrite))
		return true;
	return mapping_can_writeback(vma->vm_file->f_mapping);
}

/*
 * Pin the range VMA by VMA: a writable private mapping is pinned for
 * write, so that the NIC sees the very pages the program will write (a
 * read-only pin of a never-written page would pin the shared zero page,
 * which the program's first write replaces); a read-only mapping is pinned
 * read-only, and refused when the NIC must write (@need_write), as is a
 * shared file mapping that tracks dirty pages (-EOPNOTSUPP); the NIC may
 * read the latter (SEND sources), pinned without FOLL_WRITE: its pages are
 * the page-cache pages the program writes.
 */
static long vmmc_umem_pin(struct vmmc_umem *umem, bool need_write)
{
	struct mm_struct *mm = current->mm;
	unsigned long done = 0, addr, chunk;
	struct vm_area_struct *vma;
	unsigned int flags;
	bool tracked;
	long got = 0;

	mmap_read_lock(mm);
	while (done < umem->nr_pages) {
		addr = umem->start + done * PAGE_SIZE;
		vma = vma_lookup(mm, addr);
		if (!vma || (need_write && !(vma->vm_flags & VM_WRITE))) {
			got = -EFAULT;
			break;
		}
		tracked = vmmc_vma_tracks_dirty(vma);
		if (need_write && tracked) {
			got = -EOPNOTSUPP;
			break;
		}
		chunk = min(umem->nr_pages - done,
			    (vma->vm_end - addr) >> PAGE_SHIFT);
		flags = FOLL_LONGTERM;
		if ((vma->vm_flags & VM_WRITE) && !tracked)
			flags |= FOLL_WRITE;
		got = pin_user_pages(addr, chunk, flags, umem->pages + done,
				     NULL);
		if (got <= 0) {
			got = got ? got : -EFAULT;
			break;
		}
		done += got;
	}
	mmap_read_unlock(mm);
	if (done < umem->nr_pages) {
		if (done)
			unpin_user_pages(umem->pages, done);
		return got;
	}
	return 0;
}

/**
 * vmmc_umem_get() - pin a user range and watch it
 * @ep: the endpoint that will use it; current->mm must be its mm
 * @umem: zeroed storage, embedded in the caller's object
 * @addr: start, any alignment
 * @len: bytes, non-zero
 * @need_write: the NIC writes the range (exports): every page must be
 *	mapped writable; else (send sources) read-only mappings are accepted
 * @seq: out: the notifier sequence to check with mmu_interval_read_retry()
 *	under ep->pin_lock before the pages are published to the NIC
 *
 * Context: process context, takes mmap_lock; no vmmc lock may be held.
 * Return: 0, -EINVAL, -EPERM (not the endpoint's process), -EFAULT,
 * -EOPNOTSUPP (@need_write on a shared mapping of a file that tracks
 * dirty pages, see vmmc_vma_tracks_dirty()), -ENOMEM (RLIMIT_MEMLOCK or
 * memory).
 */
int vmmc_umem_get(struct vmmc_ep *ep, struct vmmc_umem *umem,
		  unsigned long addr, u64 len, bool need_write,
		  unsigned long *seq)
{
	unsigned long end;
	int err;

	if (!len || addr + len < addr || addr + len > TASK_SIZE)
		return -EINVAL;
	if (current->mm != ep->mm)
		return -EPERM;
	umem->ep = ep;
	INIT_LIST_HEAD(&umem->reap);
	INIT_LIST_HEAD(&umem->grave);
	umem->start = addr & PAGE_MASK;
	umem->first_off = addr & ~PAGE_MASK;
	end = PAGE_ALIGN(addr + len);
	umem->nr_pages = (end - umem->start) >> PAGE_SHIFT;
	umem->pages = kvcalloc(umem->nr_pages, sizeof(*umem->pages),
			       GFP_KERNEL);
	if (!umem->pages)
		return -ENOMEM;

	err = vmmc_account(ep, umem->nr_pages);
	if (err)
		goto out_free_pages;
	err = mmu_interval_notifier_insert(&umem->notifier, current->mm,
					   umem->start, end - umem->start,
					   &vmmc_umem_ops);
	if (err)
		goto out_unaccount;
	umem->watched = true;
	*seq = mmu_interval_read_begin(&umem->notifier);

	/* only what the NIC writes (exports) is dirtied when unpinned */
	umem->writable = need_write;
	err = vmmc_umem_pin(umem, need_write);
	if (err)
		goto out_remove;
	vmmc_stat_add(ep->vdev, VMMC_STAT_PINNED_PAGES, umem->nr_pages);
	atomic_long_add(umem->nr_pages, &ep->pinned_pages);
	return 0;

out_remove:
	mmu_interval_notifier_remove(&umem->notifier);
	umem->watched = false;
out_unaccount:
	vmmc_unaccount(ep, umem->nr_pages);
out_free_pages:
	kvfree(umem->pages);
	umem->pages = NULL;
	return err;
}

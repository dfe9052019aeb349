// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_mmap.c - map an endpoint's own regions into its process.
 *
 * An endpoint fd maps exactly four regions, each whole, MAP_SHARED, never
 * executable:
 *   VMMC_OFF_SQ        its SQ window in SRAM           read-write
 *   VMMC_OFF_EVQ       its CQ + NQ in guest RAM        read-write
 *   VMMC_OFF_STATUS    the NIC status page in SRAM     read-only
 *   VMMC_OFF_DOORBELL  the BAR0 page (doorbell)        read-write, only if
 *                      no other register shares that page
 * Anything else fails: an unknown offset or a wrong size with -EINVAL, a
 * forbidden permission with -EPERM. Kernel-owned SRAM (control page,
 * endpoint contexts, other endpoints' SQs) is never reachable.
 *
 * Only the endpoint's own process maps it (-EPERM for any other mm), and
 * no mapping is copied into a child at fork (VM_DONTCOPY; every one is
 * VM_IO as well, so madvise(MADV_DOFORK) cannot undo that): a child that
 * touches the address faults.
 */
#include <linux/dma-mapping.h>
#include <linux/mm.h>

#include "vmmc_loc.h"

static int vmmc_mmap_pfn(struct vm_area_struct *vma, resource_size_t phys,
			 pgprot_t prot)
{
	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	return io_remap_pfn_range(vma, vma->vm_start, phys >> PAGE_SHIFT,
				  vma->vm_end - vma->vm_start, prot);
}

static int vmmc_mmap_evq(struct vmmc_ep *ep, struct vm_area_struct *vma)
{
	unsigned long pgoff = vma->vm_pgoff;
	int err;

	/* dma_mmap_coherent() reads vm_pgoff as an offset into the buffer */
	vma->vm_pgoff = 0;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	err = dma_mmap_coherent(&ep->vdev->pdev->dev, vma, ep->evq,
				ep->evq_dma, VMMC_EVQ_SIZE);
	vma->vm_pgoff = pgoff;
	return err;
}

/* The mapping itself; dead_rwsem held for reading, NIC alive. */
static int vmmc_mmap_locked(struct vmmc_ep *ep, struct vm_area_struct *vma)
{
	struct vmmc_dev *vdev = ep->vdev;
	unsigned long size = vma->vm_end - vma->vm_start;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;

	switch (off) {
	case VMMC_OFF_SQ:
		if (size != VMMC_SQ_SIZE)
			return -EINVAL;
		return vmmc_mmap_pfn(vma, vdev->sram_phys + VMMC_SRAM_SQ +
				     (resource_size_t)ep->id * VMMC_SQ_SIZE,
				     vma->vm_page_prot);
	case VMMC_OFF_EVQ:
		if (size != VMMC_EVQ_SIZE)
			return -EINVAL;
		return vmmc_mmap_evq(ep, vma);
	case VMMC_OFF_STATUS:
		if (size != PAGE_SIZE)
			return -EINVAL;
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vma->vm_flags &= ~VM_MAYWRITE;
		return vmmc_mmap_pfn(vma, vdev->sram_phys + VMMC_SRAM_STATUS,
				     vma->vm_page_prot);
	case VMMC_OFF_DOORBELL:
		if (size != PAGE_SIZE)
			return -EINVAL;
		if (!vdev->db_mappable)
			return -EPERM;
		return vmmc_mmap_pfn(vma, vdev->regs_phys,
				     pgprot_noncached(vma->vm_page_prot));
	default:
		return -EINVAL;
	}
}

/**
 * vmmc_mmap() - mmap() of /dev/vmmcN
 * @file: an endpoint's file
 * @vma: the new mapping
 *
 * Context: process context, mmap_lock held for write; takes dead_rwsem
 * for reading.
 * Return: 0, -EINVAL (offset, size, MAP_PRIVATE), -EPERM (permission, or
 * not the endpoint's process), or -ENODEV (the NIC is gone).
 */
int vmmc_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vmmc_ep *ep = file->private_data;
	struct vmmc_dev *vdev = ep->vdev;
	int err;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC || vma->vm_mm != ep->mm)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTCOPY;

	/* remove() zaps mappings after it set dead: none can slip past */
	down_read(&vdev->dead_rwsem);
	err = vdev->dead ? -ENODEV : vmmc_mmap_locked(ep, vma);
	up_read(&vdev->dead_rwsem);
	return err;
}

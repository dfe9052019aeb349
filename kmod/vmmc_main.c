// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_main.c - module init, PCI probe/remove of the vmmc NIC.
 *
 * The NIC is QEMU's ivshmem-doorbell device (1af4:1110) whose SRAM (BAR2)
 * starts with struct vmmc_nic_status carrying VMMC_NIC_MAGIC. Other users
 * of ivshmem exist: a device without the magic, or with another
 * VMMC_NIC_VERSION, is left alone with one log line.
 *
 * The SRAM is memory that the NIC (a host process) shares coherently with
 * the guest, so the driver maps it write-back with memremap() and orders
 * its accesses with the kernel's barriers; a real NIC's SRAM would need
 * ioremap_wc() and readl()/writel(). BAR0 is true MMIO (the doorbell).
 */
#include <linux/build_bug.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include "vmmc_loc.h"

/* vmmc_devs_lock guards vmmc_devs (netlink walks it) and vmmc_ida */
DEFINE_MUTEX(vmmc_devs_lock);
LIST_HEAD(vmmc_devs);
static DEFINE_IDA(vmmc_ida);

VMMC_LAYOUT_CHECKS;

static void vmmc_dev_release(struct kref *ref)
{
	struct vmmc_dev *vdev = container_of(ref, struct vmmc_dev, ref);
	struct vmmc_xuser *u;
	struct hlist_node *tmp;
	int bkt;

	cleanup_srcu_struct(&vdev->srcu);
	pci_dev_put(vdev->pdev);
	/* none is left once every export is freed; nothing else runs */
	hash_for_each_safe(vdev->exp_users, bkt, tmp, u, node)
		kfree(u);
	kvfree(vdev->xports);
	kfree(vdev);
}

/**
 * vmmc_dev_put() - drop a reference on a NIC
 * @vdev: the NIC
 *
 * Context: any context that may sleep. The last put frees @vdev.
 */
void vmmc_dev_put(struct vmmc_dev *vdev)
{
	kref_put(&vdev->ref, vmmc_dev_release);
}

/*
 * The doorbell page may be mapped into user space only if no other device
 * register shares its page (a sub-page BAR can be packed next to another).
 */
static bool vmmc_regs_page_private(struct pci_dev *pdev)
{
	resource_size_t start = pci_resource_start(pdev, VMMC_BAR_REGS);
	resource_size_t page = start & PAGE_MASK;
	struct pci_dev *other = NULL;
	int i;

	if (start & ~PAGE_MASK)
		return false;
	for_each_pci_dev(other) {
		for (i = 0; i < PCI_NUM_RESOURCES; i++) {
			struct resource *r = &other->resource[i];

			if (other == pdev && i == VMMC_BAR_REGS)
				continue;
			if (!(r->flags & IORESOURCE_MEM) || !r->start)
				continue;
			if (r->start < page + PAGE_SIZE && r->end >= page) {
				pci_dev_put(other);
				return false;
			}
		}
	}
	return true;
}

/* Check the magic and version without keeping a mapping. */
static int vmmc_check_nic(struct pci_dev *pdev)
{
	struct vmmc_nic_status *st;
	u32 magic, version;

	if (pci_resource_len(pdev, VMMC_BAR_SRAM) < VMMC_SRAM_SIZE ||
	    !(pci_resource_flags(pdev, VMMC_BAR_SRAM) & IORESOURCE_MEM)) {
		dev_info(&pdev->dev, "ivshmem device without a vmmc-sized BAR2, leaving it alone\n");
		return -ENODEV;
	}
	st = memremap(pci_resource_start(pdev, VMMC_BAR_SRAM), PAGE_SIZE,
		      MEMREMAP_WB);
	if (!st)
		return -ENOMEM;
	/* pairs with the NIC's store-release of magic after the rest */
	magic = smp_load_acquire(&st->magic);
	version = READ_ONCE(st->version);
	memunmap(st);

	if (magic != VMMC_NIC_MAGIC) {
		dev_info(&pdev->dev, "ivshmem device is not a vmmc NIC (magic %#x), leaving it alone\n",
			 magic);
		return -ENODEV;
	}
	if (version != VMMC_NIC_VERSION) {
		dev_info(&pdev->dev, "vmmc NIC version %u, driver speaks %u, leaving it alone\n",
			 version, VMMC_NIC_VERSION);
		return -ENODEV;
	}
	return 0;
}

/* System RAM the NIC cannot reach, found by vmmc_check_ram_map(). */
struct vmmc_ram_check {
	u64 low_end;		/* the NIC reaches [0, low_end) ... */
	u64 high_end;		/* ... and [4 GiB, high_end) */
	u64 outside;		/* bytes of System RAM beyond both */
	u64 first;		/* the first such byte */
};

static u64 vmmc_overlap(u64 s, u64 e, u64 a, u64 b)
{
	return min(e, b) > max(s, a) ? min(e, b) - max(s, a) : 0;
}

static int vmmc_ram_range_check(struct resource *r, void *arg)
{
	struct vmmc_ram_check *c = arg;
	u64 s = r->start, e = (u64)r->end + 1, out;

	out = e - s - vmmc_overlap(s, e, 0, c->low_end) -
	      vmmc_overlap(s, e, SZ_4G, c->high_end);
	if (out && !c->outside)
		c->first = s < c->low_end ? c->low_end :
			   s < SZ_4G ? s : max(s, c->high_end);
	c->outside += out;
	return 0;
}

/*
 * The NIC says which guest-physical ranges it reaches (the map the machine
 * was built with, of the RAM file it was given); every page of System RAM
 * must lie in them. If some does not, the NIC was told another machine's
 * map or a smaller RAM: its idea of where the RAM above 4 GiB lies in the
 * file may be wrong too, and a wrong map would move data to and from
 * other pages than the ones pinned. Refuse the NIC then (-ENODEV).
 */
static int vmmc_check_ram_map(struct vmmc_dev *vdev)
{
	struct vmmc_ram_check c = {
		.low_end = (u64)READ_ONCE(vdev->status->ram_low_pages) <<
			   PAGE_SHIFT,
	};

	c.high_end = SZ_4G + ((u64)READ_ONCE(vdev->status->ram_high_pages) <<
			      PAGE_SHIFT);
	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, U64_MAX,
			    &c, vmmc_ram_range_check);
	if (!c.outside)
		return 0;
	dev_err(&vdev->pdev->dev, "%llu KiB of guest RAM, from %#llx, lie outside what the NIC reaches ([0, %#llx) and [4 GiB, %#llx)): its map is not this machine's, leaving it alone\n",
		c.outside >> 10, c.first, c.low_end, c.high_end);
	return -ENODEV;
}

static int vmmc_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vmmc_dev *vdev;
	int err, i;

	err = pcim_enable_device(pdev);
	if (err)
		return err;

	err = vmmc_check_nic(pdev);
	if (err)
		return err;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return -ENOMEM;
	vdev->xports = kvcalloc(VMMC_MAX_EXPORTS, sizeof(*vdev->xports),
				GFP_KERNEL);
	err = vdev->xports ? init_srcu_struct(&vdev->srcu) : -ENOMEM;
	if (err) {
		kvfree(vdev->xports);
		kfree(vdev);
		return err;
	}
	kref_init(&vdev->ref);
	vdev->pdev = pci_dev_get(pdev);
	init_rwsem(&vdev->dead_rwsem);
	mutex_init(&vdev->ep_lock);
	mutex_init(&vdev->exp_lock);
	spin_lock_init(&vdev->exp_seq_lock);
	mutex_init(&vdev->kcmd_lock);
	spin_lock_init(&vdev->calib_lock);
	vmmc_stall_init(vdev);
	init_waitqueue_head(&vdev->ctrl_wq);
	for (i = 0; i < VMMC_MAX_EPS; i++)
		init_waitqueue_head(&vdev->ep_wq[i]);
	INIT_LIST_HEAD(&vdev->list);
	pci_set_drvdata(pdev, vdev);

	err = pcim_iomap_regions(pdev, BIT(VMMC_BAR_REGS), VMMC_DRV_NAME);
	if (err)
		goto out_put;
	vdev->regs = pcim_iomap_table(pdev)[VMMC_BAR_REGS];
	vdev->regs_phys = pci_resource_start(pdev, VMMC_BAR_REGS);
	vdev->db_mappable = vmmc_regs_page_private(pdev);
	if (!vdev->db_mappable)
		dev_info(&pdev->dev, "doorbell page is shared with other registers: user doorbells disabled\n");

	vdev->sram_phys = pci_resource_start(pdev, VMMC_BAR_SRAM);
	vdev->sram = devm_memremap(&pdev->dev, vdev->sram_phys, VMMC_SRAM_SIZE,
				   MEMREMAP_WB);
	if (IS_ERR(vdev->sram)) {
		err = PTR_ERR(vdev->sram);
		goto out_put;
	}
	vdev->status = vdev->sram + VMMC_SRAM_STATUS;
	vdev->ctrl = vdev->sram + VMMC_SRAM_CTRL;
	vdev->epctx = vdev->sram + VMMC_SRAM_EPCTX;
	vdev->node_id = READ_ONCE(vdev->status->node_id);
	vdev->nr_nodes = READ_ONCE(vdev->status->nr_nodes);
	vdev->nic_version = READ_ONCE(vdev->status->version);
	vdev->exptab = vdev->sram + VMMC_SRAM_EXPORTS;
	vdev->imptab = vdev->sram + VMMC_SRAM_IMPORTS;
	vdev->kcmd_seq = READ_ONCE(vdev->ctrl->cmd_seq);
	/* continued: a value the NIC saw must not come back as news */
	vdev->exp_seq = READ_ONCE(vdev->ctrl->exp_seq);
	err = vmmc_check_ram_map(vdev);
	if (err)
		goto out_put;

	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		goto out_put;
	pci_set_master(pdev);	/* else QEMU drops the NIC's MSI-X writes */

	/* no endpoint or export from an earlier driver instance survives */
	for (i = 0; i < VMMC_MAX_EPS; i++) {
		WRITE_ONCE(vdev->epctx[i].state, VMMC_EP_FREE);
		WRITE_ONCE(vdev->epctx[i].irq_armed, 0);
	}
	for (i = 0; i < VMMC_MAX_EXPORTS; i++)
		WRITE_ONCE(vdev->exptab[i].state, VMMC_EXPORT_FREE);
	memset(vdev->imptab, 0,
	       VMMC_MAX_EPS * VMMC_MAX_IMPORTS * sizeof(*vdev->imptab));

	err = vmmc_irq_setup(vdev);
	if (err)
		goto out_clear_master;

	mutex_lock(&vmmc_devs_lock);
	vdev->index = ida_alloc_max(&vmmc_ida, VMMC_MAX_DEVS - 1, GFP_KERNEL);
	mutex_unlock(&vmmc_devs_lock);
	if (vdev->index < 0) {
		err = vdev->index;
		goto out_irq_teardown;
	}

	/* pairs with the NIC's read of drv_state before any endpoint */
	smp_store_release(&vdev->ctrl->drv_state, VMMC_DRV_UP);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);

	vmmc_calibrate_spin(vdev);

	err = vmmc_cdev_add(vdev);
	if (err)
		goto out_drv_down;

	mutex_lock(&vmmc_devs_lock);
	list_add_tail(&vdev->list, &vmmc_devs);
	mutex_unlock(&vmmc_devs_lock);

	dev_info(&pdev->dev, "vmmc%d: node %u of %u, NIC version %u, blocking costs about %u ns (probe estimate)\n",
		 vdev->index, vdev->node_id, vdev->nr_nodes, VMMC_NIC_VERSION,
		 vdev->spin_probe_ns);
	return 0;

out_drv_down:
	/* pairs with the NIC's acquire of drv_state: it stops at once */
	smp_store_release(&vdev->ctrl->drv_state, VMMC_DRV_DOWN);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	mutex_lock(&vmmc_devs_lock);
	ida_free(&vmmc_ida, vdev->index);
	mutex_unlock(&vmmc_devs_lock);
out_irq_teardown:
	vmmc_irq_teardown(vdev);
	vmmc_stall_fini(vdev);
out_clear_master:
	pci_clear_master(pdev);
out_put:
	pci_set_drvdata(pdev, NULL);
	vmmc_dev_put(vdev);
	return err;
}

static void vmmc_remove(struct pci_dev *pdev)
{
	struct vmmc_dev *vdev = pci_get_drvdata(pdev);
	int i;

	mutex_lock(&vmmc_devs_lock);
	list_del_init(&vdev->list);
	mutex_unlock(&vmmc_devs_lock);

	/* a mailbox wait under dead_rwsem (IMPORT) ends now, -ENODEV */
	WRITE_ONCE(vdev->removing, true);
	wake_up_all(&vdev->ctrl_wq);
	/* no new endpoint; fence the live ones (only on unbind: rmmod waits) */
	down_write(&vdev->dead_rwsem);
	mutex_lock(&vdev->ep_lock);
	vdev->dead = true;
	for (i = 0; i < VMMC_MAX_EPS; i++)
		if (vdev->eps[i])
			vmmc_ep_fence(vdev->eps[i]);
	mutex_unlock(&vdev->ep_lock);
	/*
	 * The MMU notifier and reap_work read dead under SRCU: wait for
	 * those that saw it false (they may be revoking an export) before
	 * writing every export's gen. They take no dead_rwsem.
	 */
	synchronize_srcu(&vdev->srcu);
	vmmc_revoke_all_exports(vdev);
	up_write(&vdev->dead_rwsem);

	/*
	 * SRAM and BAR0 go away with us: zap every user mapping. Not under
	 * dead_rwsem: zapping runs the MMU notifiers of the same mm. dead is
	 * set, so no new mapping can appear.
	 */
	mutex_lock(&vdev->ep_lock);
	for (i = 0; i < VMMC_MAX_EPS; i++)
		if (vdev->eps[i] && vdev->eps[i]->mapping)
			unmap_mapping_range(vdev->eps[i]->mapping, 0, 0, 1);
	mutex_unlock(&vdev->ep_lock);
	for (i = 0; i < VMMC_MAX_EPS; i++)
		wake_up_all(&vdev->ep_wq[i]);

	vmmc_cdev_del(vdev);

	/* pairs with the NIC's acquire of drv_state: it stops at once */
	smp_store_release(&vdev->ctrl->drv_state, VMMC_DRV_DOWN);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);

	mutex_lock(&vmmc_devs_lock);
	ida_free(&vmmc_ida, vdev->index);
	mutex_unlock(&vmmc_devs_lock);

	vmmc_irq_teardown(vdev);
	vmmc_stall_fini(vdev);	/* after the last kick and stall */
	pci_clear_master(pdev);
	pci_set_drvdata(pdev, NULL);
	dev_info(&pdev->dev, "vmmc%d: removed\n", vdev->index);
	vmmc_dev_put(vdev);
}

static const struct pci_device_id vmmc_pci_ids[] = {
	{ PCI_DEVICE(VMMC_PCI_VENDOR, VMMC_PCI_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vmmc_pci_ids);

static struct pci_driver vmmc_pci_driver = {
	.name		= VMMC_DRV_NAME,
	.id_table	= vmmc_pci_ids,
	.probe		= vmmc_probe,
	.remove		= vmmc_remove,
};

/*
 * The driver's works (stall_work, each endpoint's reap_work) run here, not
 * on system_wq: module exit destroys it, which waits for any still running
 * (a zombie's reap_work, a work that just dropped the module reference),
 * so none outlives the module's code.
 */
struct workqueue_struct *vmmc_wq;

static int __init vmmc_init(void)
{
	int err;

	vmmc_wq = alloc_workqueue("vmmc", 0, 0);
	if (!vmmc_wq)
		return -ENOMEM;
	err = vmmc_cdev_init();
	if (err)
		goto out_destroy_wq;
	err = vmmc_nl_init();
	if (err)
		goto out_cdev_exit;
	err = pci_register_driver(&vmmc_pci_driver);
	if (err)
		goto out_nl_exit;
	return 0;

out_nl_exit:
	vmmc_nl_exit();
out_cdev_exit:
	vmmc_cdev_exit();
out_destroy_wq:
	destroy_workqueue(vmmc_wq);
	return err;
}

static void __exit vmmc_exit(void)
{
	pci_unregister_driver(&vmmc_pci_driver);
	vmmc_nl_exit();
	vmmc_cdev_exit();
	destroy_workqueue(vmmc_wq);
}

module_init(vmmc_init);
module_exit(vmmc_exit);

MODULE_DESCRIPTION("vmmc: protected user-level communication on a simulated Myrinet-like NIC");
MODULE_LICENSE("GPL");

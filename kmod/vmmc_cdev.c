// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_cdev.c - /dev/vmmcN: open creates an endpoint, release destroys it,
 * ioctl answers INFO and WAIT, poll reports CQ/NQ entries.
 *
 * Every ioctl copies a fixed-size struct, checks every must-be-zero field
 * and returns -EINVAL for any it does not know; unknown ioctl numbers get
 * -ENOTTY, from anyone (isatty() on the fd answers as for any non-tty).
 *
 * Ownership: every known ioctl, mmap and poll from a task outside the
 * opener's address space fails (-EPERM; poll: EPOLLERR), checked before
 * anything else. Such a task (a forked child, an exec'd program, a
 * receiver of the fd) holds only a reference: its close() is an fput like
 * any other, and only the last one releases the endpoint (there is no
 * ->flush), so nothing it does tears down, fences or wakes the owner's
 * endpoint. Since the last fput may then come late, the owner tears down
 * with VMMC_IOC_SHUTDOWN (vmmc_ep_close() does), leaving a shell whose
 * ioctls and mmaps fail with -ESHUTDOWN until that fput.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "vmmc_loc.h"

static dev_t vmmc_devt;
static struct class *vmmc_class;

static int vmmc_open(struct inode *inode, struct file *file)
{
	struct vmmc_dev *vdev = container_of(inode->i_cdev, struct vmmc_dev,
					     cdev);
	struct vmmc_ep *ep;

	ep = vmmc_ep_create(vdev);
	if (IS_ERR(ep))
		return PTR_ERR(ep);
	ep->mapping = file->f_mapping;
	file->private_data = ep;
	return 0;
}

static int vmmc_release(struct inode *inode, struct file *file)
{
	vmmc_spin_release(file->private_data);
	vmmc_ep_destroy(file->private_data);
	return 0;
}

static long vmmc_ioctl_info(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_dev *vdev = ep->vdev;
	u32 spin[4];
	struct vmmc_info info = {
		.abi_version	= VMMC_ABI_VERSION,
		.nic_version	= vdev->nic_version,
		.node_id	= vdev->node_id,
		.nr_nodes	= vdev->nr_nodes,
		.ep_id		= ep->id,
		.max_eps	= VMMC_MAX_EPS,
		.sq_entries	= VMMC_SQ_ENTRIES,
		.sq_entries_off	= VMMC_SQ_ENTRIES_OFF,
		.sq_size	= VMMC_SQ_SIZE,
		.cq_entries	= VMMC_CQ_ENTRIES,
		.cq_hdr_off	= VMMC_CQ_HDR_OFF,
		.cq_entries_off	= VMMC_CQ_ENTRIES_OFF,
		.nq_entries	= VMMC_NQ_ENTRIES,
		.nq_hdr_off	= VMMC_NQ_HDR_OFF,
		.nq_entries_off	= VMMC_NQ_ENTRIES_OFF,
		.evq_size	= VMMC_EVQ_SIZE,
		.doorbell_reg	= VMMC_REG_DOORBELL,
		.epinfo_off	= VMMC_EPINFO_OFF,
		.utlb_slots	= VMMC_UTLB_SLOTS,
		.max_imports	= VMMC_MAX_IMPORTS,
	};

	vmmc_spin_get(vdev, spin);
	info.spin_ns = spin[0];
	info.spin_src = spin[1];

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long vmmc_ioctl_wait(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_wait w;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (w.flags || w.reserved[0] || w.reserved[1])
		return -EINVAL;
	return vmmc_ep_wait(ep, w.timeout_ms);
}

/*
 * The spin limit holds for every endpoint of the NIC: only CAP_NET_ADMIN
 * may claim its measurement or store one (else any user could make every
 * waiter spin 100 ms, or never spin). Giving up a claim is anyone's.
 */
static long vmmc_ioctl_set_spin(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_spin_req r;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (r.reserved)
		return -EINVAL;
	if (r.flags == VMMC_SPIN_UNCLAIM)
		return r.spin_ns ? -EINVAL : vmmc_spin_store(ep, r.flags, 0);
	if (r.flags && r.flags != VMMC_SPIN_CLAIM)
		return -EINVAL;
	if (r.flags && r.spin_ns)
		return -EINVAL;
	if (!r.flags &&
	    (r.spin_ns < VMMC_SPIN_MIN_NS || r.spin_ns > VMMC_SPIN_MAX_NS))
		return -ERANGE;
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	return vmmc_spin_store(ep, r.flags, r.spin_ns);
}

static long vmmc_ioctl_shutdown(struct vmmc_ep *ep, void __user *uarg)
{
	return uarg ? -EINVAL : vmmc_ep_shutdown(ep);
}

typedef long (*vmmc_ioctl_fn)(struct vmmc_ep *ep, void __user *uarg);

/* The handler of a known ioctl number, or NULL. */
static vmmc_ioctl_fn vmmc_ioctl_lookup(unsigned int cmd)
{
	switch (cmd) {
	case VMMC_IOC_INFO:
		return vmmc_ioctl_info;
	case VMMC_IOC_WAIT:
		return vmmc_ioctl_wait;
	case VMMC_IOC_EXPORT:
		return vmmc_ioctl_export;
	case VMMC_IOC_UNEXPORT:
		return vmmc_ioctl_unexport;
	case VMMC_IOC_IMPORT:
		return vmmc_ioctl_import;
	case VMMC_IOC_UNIMPORT:
		return vmmc_ioctl_unimport;
	case VMMC_IOC_PIN:
		return vmmc_ioctl_pin;
	case VMMC_IOC_UNPIN:
		return vmmc_ioctl_unpin;
	case VMMC_IOC_SET_SPIN:
		return vmmc_ioctl_set_spin;
	case VMMC_IOC_SHUTDOWN:
		return vmmc_ioctl_shutdown;
	default:
		return NULL;
	}
}

static long vmmc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmmc_ep *ep = file->private_data;
	void __user *uarg = (void __user *)arg;
	vmmc_ioctl_fn fn = vmmc_ioctl_lookup(cmd);
	long err;

	if (!fn)
		return -ENOTTY;
	if (!vmmc_ep_owned(ep))
		return -EPERM;
	if (READ_ONCE(ep->shut))
		return -ESHUTDOWN;
	/* SHUTDOWN takes use_rwsem itself; WAIT sleeps: it must not hold it */
	if (cmd == VMMC_IOC_SHUTDOWN || cmd == VMMC_IOC_WAIT)
		return fn(ep, uarg);
	if (down_read_killable(&ep->use_rwsem))
		return -EINTR;
	err = ep->shut ? -ESHUTDOWN : fn(ep, uarg);
	up_read(&ep->use_rwsem);
	return err;
}

static __poll_t vmmc_poll(struct file *file, struct poll_table_struct *wait)
{
	struct vmmc_ep *ep = file->private_data;

	/*
	 * Neither arm the owner's interrupt nor learn of its events. A task
	 * without an mm is a kworker re-polling for a waiter the owner
	 * registered (AIO's IOCB_CMD_POLL completion, io_uring's fallback):
	 * let it through. That opens no door to others: a non-owner's first
	 * poll returns here, before poll_wait(), so it never has a waiter
	 * that a kworker would re-poll for.
	 */
	if (current->mm && !vmmc_ep_owned(ep))
		return EPOLLERR;
	if (READ_ONCE(ep->shut))
		return EPOLLERR | EPOLLHUP;
	return vmmc_ep_poll(ep, file, wait);
}

const struct file_operations vmmc_fops = {
	.owner		= THIS_MODULE,
	.open		= vmmc_open,
	.release	= vmmc_release,
	.unlocked_ioctl	= vmmc_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vmmc_mmap,
	.poll		= vmmc_poll,
	.llseek		= no_llseek,
};

static void vmmc_cdev_dev_release(struct device *dev)
{
	struct vmmc_dev *vdev = container_of(dev, struct vmmc_dev, cdev_dev);

	vmmc_dev_put(vdev);
}

/**
 * vmmc_cdev_add() - create /dev/vmmcN for a probed NIC
 * @vdev: the NIC, with ->index set
 *
 * The char device holds a reference on @vdev until its struct device is
 * released.
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno.
 */
int vmmc_cdev_add(struct vmmc_dev *vdev)
{
	struct device *dev = &vdev->cdev_dev;
	int err;

	device_initialize(dev);
	dev->class = vmmc_class;
	dev->parent = &vdev->pdev->dev;
	dev->devt = MKDEV(MAJOR(vmmc_devt), vdev->index);
	dev->release = vmmc_cdev_dev_release;
	kref_get(&vdev->ref);
	err = dev_set_name(dev, "vmmc%d", vdev->index);
	if (err)
		goto out_put_device;

	cdev_init(&vdev->cdev, &vmmc_fops);
	vdev->cdev.owner = THIS_MODULE;
	err = cdev_device_add(&vdev->cdev, dev);
	if (err)
		goto out_put_device;
	return 0;

out_put_device:
	put_device(dev);
	return err;
}

/**
 * vmmc_cdev_del() - remove /dev/vmmcN; open files keep their endpoint
 * @vdev: the NIC
 *
 * Context: process context, may sleep.
 */
void vmmc_cdev_del(struct vmmc_dev *vdev)
{
	cdev_device_del(&vdev->cdev, &vdev->cdev_dev);
	put_device(&vdev->cdev_dev);
}

static char *vmmc_devnode(struct device *dev, umode_t *mode)
{
	if (mode)
		*mode = 0666;
	return NULL;
}

/**
 * vmmc_cdev_init() - register the char device region and class
 *
 * Context: module init.
 * Return: 0 or -errno.
 */
int vmmc_cdev_init(void)
{
	int err;

	err = alloc_chrdev_region(&vmmc_devt, 0, VMMC_MAX_DEVS, VMMC_DRV_NAME);
	if (err)
		return err;
	vmmc_class = class_create(THIS_MODULE, VMMC_DRV_NAME);
	if (IS_ERR(vmmc_class)) {
		err = PTR_ERR(vmmc_class);
		goto out_unregister_region;
	}
	vmmc_class->devnode = vmmc_devnode;
	return 0;

out_unregister_region:
	unregister_chrdev_region(vmmc_devt, VMMC_MAX_DEVS);
	return err;
}

/**
 * vmmc_cdev_exit() - undo vmmc_cdev_init()
 *
 * Context: module exit.
 */
void vmmc_cdev_exit(void)
{
	class_destroy(vmmc_class);
	unregister_chrdev_region(vmmc_devt, VMMC_MAX_DEVS);
}

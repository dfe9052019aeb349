/* SPDX-License-Identifier: GPL-2.0 */
/* vmmc_loc.h - prototypes shared between the driver's files. */
#ifndef _VMMC_LOC_H
#define _VMMC_LOC_H

#include "vmmc.h"

/* vmmc_main.c */
extern struct mutex vmmc_devs_lock;
extern struct list_head vmmc_devs;
extern struct workqueue_struct *vmmc_wq;
void vmmc_dev_put(struct vmmc_dev *vdev);

/* vmmc_cdev.c */
extern const struct file_operations vmmc_fops;
int vmmc_cdev_init(void);
void vmmc_cdev_exit(void);
int vmmc_cdev_add(struct vmmc_dev *vdev);
void vmmc_cdev_del(struct vmmc_dev *vdev);

/* vmmc_ep.c */
extern unsigned int vmmc_max_eps_per_user;
extern unsigned int vmmc_max_exports_per_user;
bool vmmc_user_exempt(void);
bool vmmc_user_may_take(unsigned int held, unsigned int max, bool exempt);
struct vmmc_ep *vmmc_ep_create(struct vmmc_dev *vdev);
void vmmc_ep_destroy(struct vmmc_ep *ep);
void vmmc_ep_fence(struct vmmc_ep *ep);
int vmmc_ep_shutdown(struct vmmc_ep *ep);
void vmmc_ep_reap_zombie(struct vmmc_ep *ep);
int vmmc_ep_abandon_zombies(struct vmmc_dev *vdev);
bool vmmc_ep_has_events(struct vmmc_ep *ep);

/* vmmc_umem.c */
int vmmc_umem_get(struct vmmc_ep *ep, struct vmmc_umem *umem,
		  unsigned long addr, u64 len, bool need_write,
		  unsigned long *seq);
void vmmc_umem_unwatch(struct vmmc_umem *umem);
void vmmc_umem_unpin(struct vmmc_umem *umem);
void vmmc_umem_release(struct vmmc_umem *umem);
bool vmmc_umem_put(struct vmmc_umem *umem,
		   void (*bury)(struct vmmc_umem *umem));
void vmmc_umem_detach(struct vmmc_umem *umem);
void vmmc_reap_work(struct work_struct *work);

/* vmmc_ctrl.c */
void vmmc_ring_doorbell(struct vmmc_dev *vdev, u32 vector);
bool vmmc_acked(u32 *ack, u32 want);
bool vmmc_acked64(u64 *ack, u64 want);
int vmmc_ctrl_wait(struct vmmc_dev *vdev, u32 *ack, u32 want);
int vmmc_ctrl_wait64(struct vmmc_dev *vdev, u64 *ack, u64 want);
int vmmc_kcmd(struct vmmc_dev *vdev, const struct vmmc_kcmd *cmd,
	      struct vmmc_kresp *resp);

/* vmmc_stall.c */
void vmmc_nic_stall(struct vmmc_dev *vdev);
void vmmc_grave_add(struct vmmc_umem *umem, u32 *ack, u32 want);
void vmmc_grave_add64(struct vmmc_umem *umem, u64 *ack, u64 want);
struct vmmc_umem *vmmc_grave_take(struct vmmc_ep *ep, bool *orphan);
void vmmc_stall_init(struct vmmc_dev *vdev);
void vmmc_stall_kick(struct vmmc_dev *vdev);
void vmmc_stall_later(struct vmmc_dev *vdev);
void vmmc_stall_fini(struct vmmc_dev *vdev);

/* vmmc_utlb.c */
int vmmc_utlb_init(struct vmmc_ep *ep);
void vmmc_utlb_fini(struct vmmc_ep *ep, bool fenced);
void vmmc_utlb_free(struct vmmc_ep *ep);
long vmmc_ioctl_pin(struct vmmc_ep *ep, void __user *uarg);
long vmmc_ioctl_unpin(struct vmmc_ep *ep, void __user *uarg);

/* vmmc_export.c */
long vmmc_ioctl_export(struct vmmc_ep *ep, void __user *uarg);
long vmmc_ioctl_unexport(struct vmmc_ep *ep, void __user *uarg);
long vmmc_ioctl_import(struct vmmc_ep *ep, void __user *uarg);
long vmmc_ioctl_unimport(struct vmmc_ep *ep, void __user *uarg);
void vmmc_ep_drop_exports(struct vmmc_ep *ep);
void vmmc_ep_drop_imports(struct vmmc_ep *ep);
void vmmc_revoke_all_exports(struct vmmc_dev *vdev);

/* vmmc_mmap.c */
int vmmc_mmap(struct file *file, struct vm_area_struct *vma);

/* vmmc_irq.c */
int vmmc_irq_setup(struct vmmc_dev *vdev);
void vmmc_irq_teardown(struct vmmc_dev *vdev);
int vmmc_ep_wait(struct vmmc_ep *ep, u32 timeout_ms);
__poll_t vmmc_ep_poll(struct vmmc_ep *ep, struct file *file,
		      struct poll_table_struct *wait);

/* vmmc_spin.c */
void vmmc_calibrate_spin(struct vmmc_dev *vdev);
int vmmc_spin_store(const struct vmmc_ep *ep, u32 flags, u32 spin_ns);
void vmmc_spin_release(const struct vmmc_ep *ep);
void vmmc_spin_admin(struct vmmc_dev *vdev, u32 spin_ns);
void vmmc_spin_get(struct vmmc_dev *vdev, u32 out[4]);

/* vmmc_nl.c */
int vmmc_nl_init(void);
void vmmc_nl_exit(void);

#endif /* _VMMC_LOC_H */

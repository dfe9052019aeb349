/* SPDX-License-Identifier: GPL-2.0 */
/* vmmc_loc.h - prototypes shared between the driver's files. */
#ifndef _VMMC_LOC_H
#define _VMMC_LOC_H

#include "vmmc.h"

/* vmmc_main.c */
extern struct mutex vmmc_devs_lock;
extern struct list_head vmmc_devs;
void vmmc_dev_put(struct vmmc_dev *vdev);
void vmmc_ring_doorbell(struct vmmc_dev *vdev, u32 vector);

/* vmmc_cdev.c */
extern const struct file_operations vmmc_fops;
int vmmc_cdev_init(void);
void vmmc_cdev_exit(void);
int vmmc_cdev_add(struct vmmc_dev *vdev);
void vmmc_cdev_del(struct vmmc_dev *vdev);

/* vmmc_ep.c */
struct vmmc_ep *vmmc_ep_create(struct vmmc_dev *vdev);
void vmmc_ep_destroy(struct vmmc_ep *ep);
void vmmc_ep_fence(struct vmmc_ep *ep);
bool vmmc_ep_has_events(struct vmmc_ep *ep);

/* vmmc_mmap.c */
int vmmc_mmap(struct file *file, struct vm_area_struct *vma);

/* vmmc_irq.c */
int vmmc_irq_setup(struct vmmc_dev *vdev);
void vmmc_irq_teardown(struct vmmc_dev *vdev);
int vmmc_ep_wait(struct vmmc_ep *ep, u32 timeout_ms);
__poll_t vmmc_ep_poll(struct vmmc_ep *ep, struct file *file,
		      struct poll_table_struct *wait);

/* vmmc_nl.c */
int vmmc_nl_init(void);
void vmmc_nl_exit(void);

#endif /* _VMMC_LOC_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc.h - the driver's private view of one NIC and its endpoints.
 *
 * One struct vmmc_dev per bound ivshmem device whose SRAM carries the vmmc
 * magic. One struct vmmc_ep per open file of /dev/vmmcN: the endpoint owns
 * a slot of the NIC's endpoint contexts, that slot's SQ window in SRAM and a
 * DMA-coherent event region (CQ + NQ) in guest RAM.
 *
 * Lifetime: a vmmc_dev is refcounted (kref); probe holds one reference and
 * every open endpoint holds one, so an endpoint that outlives an unbind
 * still points at valid memory. Each open file also holds a module
 * reference (fops.owner), and a mapping holds its file, so rmmod is refused
 * while any endpoint or mapping exists.
 */
#ifndef _VMMC_H
#define _VMMC_H

#include <linux/cdev.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/srcu.h>
#include <linux/workqueue.h>
#include <linux/wait.h>

#include "../uapi/vmmc.h"

/*
 * The NIC and the driver share 64-bit words (export gens, their acks,
 * the UTLB generation) that each side reads and writes in one access:
 * on a 32-bit kernel such an access can tear.
 */
#if BITS_PER_LONG != 64
#error "vmmc needs a 64-bit kernel (64-bit words shared with the NIC)"
#endif

#define VMMC_DRV_NAME		"vmmc"
#define VMMC_MAX_DEVS		16
#define VMMC_FENCE_TIMEOUT	(2 * HZ)
#define VMMC_STALL_POLL		(HZ / 5)	/* stalled: probe this often */

/* Driver-side counters; all atomic64, written from any context. */
enum vmmc_drv_stat {
	VMMC_STAT_IRQ_EVENT,	/* event interrupts taken */
	VMMC_STAT_IRQ_CTRL,	/* control interrupts taken */
	VMMC_STAT_WAITS,	/* VMMC_IOC_WAIT calls */
	VMMC_STAT_WAIT_BLOCKS,	/* ... that had to sleep */
	VMMC_STAT_WAKEUPS,	/* endpoints woken by an interrupt */
	VMMC_STAT_EPS_OPENED,
	VMMC_STAT_EPS_CLOSED,
	VMMC_STAT_FENCES,
	VMMC_STAT_FENCE_TIMEOUTS, /* NIC did not ack: memory kept, not freed */
	VMMC_STAT_PINNED_PAGES,	/* gauge: pages pinned now (UTLB + exports) */
	VMMC_STAT_EXPORTS,	/* gauge: exports live now */
	VMMC_STAT_IMPORTS,	/* gauge: imports live now */
	VMMC_STAT_PINS,		/* VMMC_IOC_PIN that succeeded */
	VMMC_STAT_UNPINS,
	VMMC_STAT_INVALIDATIONS, /* ranges dropped because the process
				  * unmapped or remapped pinned memory
				  */
	VMMC_STAT_KCMDS,	/* mailbox commands sent to the NIC */
	VMMC_STAT_KCMD_TIMEOUTS,
	VMMC_STAT_SPURIOUS,	/* a blocked waiter woken with no entry */
	VMMC_STAT_USER_LIMITS,	/* opens and exports refused by a per-user
				 * limit (max_eps_per_user and
				 * max_exports_per_user)
				 */
	VMMC_STAT_NIC_STALLS,	/* the NIC missed an ack: declared stalled */
	VMMC_STAT_NIC_RECOVERIES, /* a stalled NIC answered again */
	VMMC_STAT_NIC_STALLED,	/* gauge: 1 while the NIC is stalled */
	VMMC_STAT_GRAVE_PAGES,	/* gauge: pages kept pinned until the NIC
				 * acknowledges that it let go of them
				 */
	VMMC_STAT_ZOMBIE_EPS,	/* gauge: closed endpoints whose fence the
				 * NIC has not acknowledged yet
				 */
	VMMC_STAT_NR,
};

struct vmmc_ep;
struct vmmc_xport;

struct vmmc_dev {
	struct kref ref;
	struct pci_dev *pdev;
	int index;			/* N of /dev/vmmcN */
	struct cdev cdev;
	struct device cdev_dev;

	void __iomem *regs;		/* BAR0: ivshmem registers */
	resource_size_t regs_phys;
	bool db_mappable;		/* BAR0 page holds nothing else */
	void *sram;			/* BAR2, coherent (see vmmc_main.c) */
	resource_size_t sram_phys;
	struct vmmc_nic_status *status;	/* in sram */
	struct vmmc_nic_ctrl *ctrl;	/* in sram */
	struct vmmc_ep_ctx *epctx;	/* in sram, VMMC_MAX_EPS entries */
	u32 node_id;			/* cached at probe */
	u32 nr_nodes;
	u32 nic_version;
	/*
	 * The competitive spin limit. calib_lock guards the words below
	 * against each other (probe, VMMC_IOC_SET_SPIN, netlink dev-set,
	 * endpoint release); a reader of spin_ns alone may READ_ONCE() it.
	 */
	spinlock_t calib_lock;
	const struct vmmc_ep *spin_claim; /* measuring it; only compared */
	u32 spin_ns;			/* in use, reported by INFO */
	u32 spin_src;			/* enum vmmc_spin_src */
	u32 spin_probe_ns;		/* the probe's estimate; 0: none */
	u32 spin_measured_ns;		/* a waiter's measurement, else
					 * the probe's estimate
					 */

	/*
	 * Guards dead against the process-context users of SRAM and BAR0
	 * that do not take ep_lock (wait, poll, mmap): they hold it for
	 * reading while they touch the device; remove() takes it for
	 * writing to set dead, after which SRAM and BAR0 go away.
	 * Order: dead_rwsem, then ep_lock.
	 */
	struct rw_semaphore dead_rwsem;
	/*
	 * The MMU notifier cannot take dead_rwsem (it runs under mmap_lock,
	 * maybe from reclaim): it reads dead inside an SRCU section instead,
	 * and remove() waits for those sections after setting dead.
	 */
	struct srcu_struct srcu;
	/*
	 * A NIC that misses an acknowledgment is "stalled" (vmmc_stall.c):
	 * waits for acks stop sleeping, and stall_work probes it with a
	 * mailbox NOP until it answers, then reaps what it let go of.
	 */
	spinlock_t stall_lock;		/* guards stalled, stalled_at,
					 * stall_off (any context); a reader
					 * of stalled alone may READ_ONCE() it
					 */
	bool stall_off;			/* remove(): stall_work never again */
	bool stalled;
	unsigned long stalled_at;	/* jiffies */
	u32 probe_seq;			/* NOP probe in the mailbox, 0: none;
					 * under kcmd_lock
					 */
	struct delayed_work stall_work;
	struct mutex ep_lock;		/* guards eps[], live_eps */
	struct vmmc_ep *eps[VMMC_MAX_EPS];
	unsigned int live_eps;
	bool dead;			/* unbound; written under both locks */

	/* exp_lock: after pin_lock; see vmmc_export.c */
	struct mutex exp_lock;		/* guards xports[], export table,
					 * exp_used, exp_names, exp_users
					 */
	struct vmmc_xport **xports;	/* [VMMC_MAX_EXPORTS], by table slot */
	DECLARE_BITMAP(exp_used, VMMC_MAX_EXPORTS);	/* xports[i] set */
	DECLARE_HASHTABLE(exp_names, 10);	/* live exports by name */
	DECLARE_HASHTABLE(exp_users, 6);	/* vmmc_xuser by uid */
	spinlock_t exp_seq_lock;	/* guards exp_seq and its store */
	u32 exp_seq;			/* vmmc_export_gen(): ctrl->exp_seq */
	struct vmmc_export *exptab;	/* in sram */
	struct vmmc_import *imptab;	/* in sram, [MAX_EPS][MAX_IMPORTS] */

	struct mutex kcmd_lock;		/* guards the mailbox (ctrl->cmd) */
	u32 kcmd_seq;			/* last cmd_seq written */
	bool removing;			/* remove() began: a mailbox wait
					 * ends at once (-ENODEV) instead of
					 * holding dead_rwsem against it; set
					 * once, read with READ_ONCE()
					 */

	/* one queue per endpoint slot: the slot is stable, the ep is not */
	wait_queue_head_t ep_wq[VMMC_MAX_EPS];
	wait_queue_head_t ctrl_wq;	/* NIC acked a context change */

	atomic64_t stats[VMMC_STAT_NR];
	struct list_head list;		/* in vmmc_devs, under vmmc_devs_lock */
};

struct vmmc_ep {
	struct vmmc_dev *vdev;		/* holds a reference */
	u32 id;				/* slot in the NIC's contexts */
	u32 gen;			/* last gen written to ctx->gen;
					 * under vdev->ep_lock
					 */
	struct vmmc_ep_ctx *ctx;	/* in sram */
	struct vmmc_ring_hdr *sq;	/* SQ header in sram */
	void *evq;			/* CQ + NQ, DMA-coherent */
	dma_addr_t evq_dma;
	struct vmmc_ring_hdr *cq;	/* in evq */
	struct vmmc_ring_hdr *nq;	/* in evq */
	bool fenced;			/* the NIC acked FENCED; set under
					 * ep_lock, never cleared: the MMU
					 * notifier reads it without the
					 * lock (READ_ONCE/WRITE_ONCE)
					 */
	struct address_space *mapping;	/* of the file: zapped on unbind */
	struct mm_struct *mm;		/* of the opener (mmgrab): pins and
					 * RLIMIT_MEMLOCK are charged here
					 */
	struct vmmc_ep_shared *shared;	/* in evq */

	/* translation: UTLB in guest RAM, written by us, read by the NIC */
	__u64 *utlb;
	dma_addr_t utlb_dma;
	u32 sync_seq;			/* last ctx->sync_seq written */
	/*
	 * pin_lock guards utlb[], slot_map, pins and every umem's dead flag.
	 * It is taken inside mmap_lock by the MMU notifier, so nothing that
	 * takes mmap_lock (pinning, notifier insert/remove) may run under it.
	 */
	struct mutex pin_lock;
	unsigned long *slot_map;	/* VMMC_UTLB_SLOTS bits: slot in use */
	struct list_head pins;		/* struct vmmc_pin */
	struct list_head xports;	/* our exports */
	struct list_head reap_list;	/* dead umems whose pages reap_work
					 * unpins (never the notifier: it may
					 * run with a page locked)
					 */
	struct work_struct reap_work;

	struct mutex imp_lock;		/* guards import rows, imp_used */
	DECLARE_BITMAP(imp_used, VMMC_MAX_IMPORTS);	/* row i taken */
	atomic_long_t pinned_pages;	/* ours, UTLB and exports */
	pid_t pid;			/* of the opener, for vmmc_ctl */
	kuid_t uid;			/* the opener's real uid: per-user
					 * limits are counted by it
					 */
	/*
	 * Umems whose pages the NIC may still use (it did not acknowledge
	 * letting go): kept pinned until it does; under pin_lock.
	 */
	struct list_head graves;
	bool zombie;			/* closed, but the NIC did not let go
					 * of it: kept in eps[] until it does;
					 * under ep_lock
					 */
	bool modref;			/* the zombie holds a module reference
					 * (dropped when it is freed, or when
					 * an unbind abandons it); ep_lock
					 */

	/*
	 * VMMC_IOC_SHUTDOWN: the owner's teardown while others may still
	 * hold the file. Every ioctl but WAIT holds use_rwsem for reading
	 * and SHUTDOWN for writing; it is taken before mmap_lock (PIN),
	 * never under it (mmap, the MMU notifier). shut is written under it
	 * for writing; WAIT, poll and mmap read it without (what they touch,
	 * the event region and the slot, lives until release). torn_down and
	 * torn_fenced are vmmc_ep_teardown()'s: under use_rwsem for writing,
	 * or at release, when nobody else holds the file.
	 */
	struct rw_semaphore use_rwsem;
	bool shut;
	bool torn_down;
	bool torn_fenced;		/* the teardown's fence was acked */
};

/*
 * A pinned user range, watched for munmap/mremap by an MMU interval
 * notifier. On such an event the owner's invalidate() stops the NIC from
 * using the pages and the range is "dead"; reap_work then unpins it. The
 * struct lives on until its owner releases it. Flags under ep->pin_lock,
 * but watched and pages: those are the owner's (and reap_work's, for a
 * dead umem it took off reap_list or ep->graves).
 */
struct vmmc_umem {
	struct mmu_interval_notifier notifier;
	struct vmmc_ep *ep;
	unsigned long start;		/* page aligned */
	unsigned long nr_pages;
	unsigned int first_off;		/* of the user's address */
	struct page **pages;		/* NULL once released */
	bool writable;
	bool watched;			/* notifier registered */
	bool dead;			/* the NIC no longer uses the pages */
	bool leaked;			/* it did not ack: kept pinned, on
					 * ep->graves, until *ack reaches
					 * ack_want
					 */
	bool verify;			/* a page-table clear may be spurious:
					 * check the pages before dropping
					 * (exports); else drop at once
					 */
	bool suspect;			/* cleared: on reap_list for a check */
	struct list_head reap;		/* on ep->reap_list (dead or suspect) */
	/* stop the NIC using the pages: 0 when it acked; under pin_lock */
	int (*invalidate)(struct vmmc_umem *umem);
	/* leaked: the grave, the NIC's word and the value that frees it */
	struct list_head grave;		/* on ep->graves; under pin_lock */
	void *ack;			/* in SRAM: a u32, or a u64 if ack64 */
	u64 ack_want;
	bool ack64;			/* an export's 64-bit ack_gen */
	/*
	 * Set (under pin_lock) once the owner let go of a leaked umem:
	 * reap_work calls it, no vmmc lock held, after unpinning, to free
	 * the owner's object.
	 */
	void (*bury)(struct vmmc_umem *umem);
};

/* A VMMC_IOC_PIN range: a umem and its UTLB slots. */
struct vmmc_pin {
	struct vmmc_umem umem;
	struct list_head node;		/* in ep->pins */
	u32 slot;
};

/* An export: a umem, its page list for the NIC, and its table slot. */
struct vmmc_xport {
	struct vmmc_umem umem;
	struct list_head node;		/* in ep->xports */
	u32 id;				/* slot in the NIC's export table */
	u64 gen;			/* last gen written (never wraps);
					 * under ep->pin_lock (see vmmc_export.c)
					 */
	__u64 *pagelist;		/* guest RAM, NIC reads it */
	dma_addr_t pagelist_dma;
	size_t pagelist_size;
	bool revoked;			/* acked REVOKED (or FREE); set under
					 * vdev->exp_lock, never cleared:
					 * read without it under pin_lock
					 * (READ_ONCE/WRITE_ONCE)
					 */
	bool live;			/* name taken; under vdev->exp_lock */
	u32 name;
	struct hlist_node name_node;	/* in vdev->exp_names while live */
	struct vmmc_xuser *user;	/* its user's count while it holds
					 * a table slot; under exp_lock
					 */
};

/*
 * The table slots the exports of one user hold (live or not), for
 * max_exports_per_user: one per user that holds any, in
 * vdev->exp_users, under vdev->exp_lock.
 */
struct vmmc_xuser {
	struct hlist_node node;
	kuid_t uid;
	unsigned int slots;
};

/*
 * An endpoint is its opener's: only a task running in the opener's
 * address space (its threads, a vfork child until it execs) may use it
 * (ioctl, mmap, poll). A process that holds the file otherwise (forked,
 * cloned without CLONE_VM, exec'd, sent the fd) gets EPERM; it may only
 * close it. See "Ownership" in docs/architecture.md.
 */
static inline bool vmmc_ep_owned(const struct vmmc_ep *ep)
{
	return current->mm == ep->mm;
}

static inline void vmmc_stat_inc(struct vmmc_dev *vdev, enum vmmc_drv_stat s)
{
	atomic64_inc(&vdev->stats[s]);
}

static inline void vmmc_stat_add(struct vmmc_dev *vdev, enum vmmc_drv_stat s,
				 long v)
{
	atomic64_add(v, &vdev->stats[s]);
}

/* per-endpoint logging: "ep#N " after the PCI device's prefix */
#define vmmc_ep_printk(level, ep, fmt, ...)				\
	do {								\
		const struct vmmc_ep *__ep = (ep);			\
		dev_printk(level, &__ep->vdev->pdev->dev, "ep#%u " fmt,	\
			   __ep->id, ##__VA_ARGS__);			\
	} while (0)
#define vmmc_dbg_ep(ep, fmt, ...)					\
	do {								\
		const struct vmmc_ep *__ep = (ep);			\
		dev_dbg(&__ep->vdev->pdev->dev, "ep#%u " fmt, __ep->id,	\
			##__VA_ARGS__);					\
	} while (0)
#define vmmc_warn_ep(ep, fmt, ...) \
	vmmc_ep_printk(KERN_WARNING, ep, fmt, ##__VA_ARGS__)
#define vmmc_info_ep(ep, fmt, ...) \
	vmmc_ep_printk(KERN_INFO, ep, fmt, ##__VA_ARGS__)

#endif /* _VMMC_H */

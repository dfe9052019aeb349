// SPDX-License-Identifier: MIT
/*
 * setup.c - open an endpoint, check the ABI, map its four regions, set
 * up its UTLB; close. Returns -errno on error and leaves nothing mapped,
 * allocated or open behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core_loc.h"

VMMC_LAYOUT_CHECKS;

static int vmmc_map(struct vmmc_ep *ep, void **out, uint64_t off, size_t len,
		    int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, ep->fd, (off_t)off);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static void vmmc_unmap_all(struct vmmc_ep *ep)
{
	if (ep->db_map)
		munmap(ep->db_map, VMMC_PAGE_SIZE);
	if (ep->status_map)
		munmap(ep->status_map, VMMC_PAGE_SIZE);
	if (ep->evq_map)
		munmap(ep->evq_map, VMMC_EVQ_SIZE);
	if (ep->sq_map)
		munmap(ep->sq_map, VMMC_SQ_SIZE);
	ep->db_map = ep->status_map = ep->evq_map = ep->sq_map = NULL;
}

/* The kernel tells us the geometry; we accept only the one we know. */
static int vmmc_check_info(const struct vmmc_info *i)
{
	if (i->abi_version != VMMC_ABI_VERSION ||
	    i->nic_version != VMMC_NIC_VERSION)
		return -EPROTO;
	if (i->sq_entries != VMMC_SQ_ENTRIES ||
	    i->sq_entries_off != VMMC_SQ_ENTRIES_OFF ||
	    i->sq_size != VMMC_SQ_SIZE ||
	    i->cq_entries != VMMC_CQ_ENTRIES ||
	    i->cq_hdr_off != VMMC_CQ_HDR_OFF ||
	    i->cq_entries_off != VMMC_CQ_ENTRIES_OFF ||
	    i->nq_entries != VMMC_NQ_ENTRIES ||
	    i->nq_hdr_off != VMMC_NQ_HDR_OFF ||
	    i->nq_entries_off != VMMC_NQ_ENTRIES_OFF ||
	    i->evq_size != VMMC_EVQ_SIZE ||
	    i->doorbell_reg != VMMC_REG_DOORBELL ||
	    i->epinfo_off != VMMC_EPINFO_OFF ||
	    i->utlb_slots != VMMC_UTLB_SLOTS ||
	    !i->max_imports || i->max_imports > VMMC_MAX_IMPORTS)
		return -EPROTO;
	return 0;
}

/* A non-zero word that marks our SENDs' user_data (see send.c). */
static uint32_t vmmc_new_cookie(void)
{
	uint32_t c = 0;
	struct timespec ts;

	if (getrandom(&c, sizeof(c), GRND_NONBLOCK) != sizeof(c)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		c = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
	}
	return c ? c : 0x766d6d63;
}

int vmmc_ep_open(struct vmmc_ep *ep, const char *path)
{
	char *sq, *evq;
	int err;

	if (!ep)
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	ep->fd = open(path ? path : "/dev/vmmc0", O_RDWR | O_CLOEXEC);
	if (ep->fd < 0)
		return -errno;
	if (ioctl(ep->fd, VMMC_IOC_INFO, &ep->info) < 0) {
		err = -errno;
		goto out_close;
	}
	err = vmmc_check_info(&ep->info);
	if (err)
		goto out_close;

	ep->utlb = malloc(sizeof(*ep->utlb));
	if (!ep->utlb) {
		err = -ENOMEM;
		goto out_close;
	}

	err = vmmc_map(ep, &ep->sq_map, VMMC_OFF_SQ, VMMC_SQ_SIZE,
		       PROT_READ | PROT_WRITE);
	if (!err)
		err = vmmc_map(ep, &ep->evq_map, VMMC_OFF_EVQ, VMMC_EVQ_SIZE,
			       PROT_READ | PROT_WRITE);
	if (!err)
		err = vmmc_map(ep, &ep->status_map, VMMC_OFF_STATUS,
			       VMMC_PAGE_SIZE, PROT_READ);
	if (!err)
		err = vmmc_map(ep, &ep->db_map, VMMC_OFF_DOORBELL,
			       VMMC_PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (err)
		goto out_unmap;

	sq = ep->sq_map;
	evq = ep->evq_map;
	ep->ksq = (struct vmmc_ring_hdr *)sq;
	ep->sqes = (struct vmmc_sqe *)(sq + VMMC_SQ_ENTRIES_OFF);
	ep->sq_entries = VMMC_SQ_ENTRIES;
	ep->sq_mask = VMMC_SQ_ENTRIES - 1;
	ep->sq_prod = vmmc_read_once(&ep->ksq->prod);
	ep->kcq = (struct vmmc_ring_hdr *)(evq + VMMC_CQ_HDR_OFF);
	ep->cqes = (struct vmmc_cqe *)(evq + VMMC_CQ_ENTRIES_OFF);
	ep->cq_mask = VMMC_CQ_ENTRIES - 1;
	ep->cq_cons = vmmc_read_once(&ep->kcq->cons);
	ep->cq_cooked = ep->cq_cons - 1;
	ep->knq = (struct vmmc_ring_hdr *)(evq + VMMC_NQ_HDR_OFF);
	ep->nqes = (struct vmmc_nqe *)(evq + VMMC_NQ_ENTRIES_OFF);
	ep->nq_mask = VMMC_NQ_ENTRIES - 1;
	ep->nq_cons = vmmc_read_once(&ep->knq->cons);
	ep->status = ep->status_map;
	ep->doorbell = (volatile uint32_t *)((char *)ep->db_map +
					     VMMC_REG_DOORBELL);
	ep->kshared = (const struct vmmc_ep_shared *)(evq + VMMC_EPINFO_OFF);
	ep->send_cookie = vmmc_new_cookie();
	ep->opener_pid = (int32_t)getpid();
	vmmc_utlb_init(ep->utlb, &vmmc_ep_utlb_ops, (void *)(intptr_t)ep->fd,
		       vmmc_utlb_gen(ep));
	vmmc_wait_setup(ep);
	vmmc_spin_measure(ep);
	return 0;

out_unmap:
	vmmc_unmap_all(ep);
	free(ep->utlb);
	ep->utlb = NULL;
out_close:
	close(ep->fd);
	ep->fd = -1;
	return err;
}

/*
 * Forget every pointer into the endpoint's mappings without unmapping:
 * in a child they were never copied (VM_DONTCOPY), and whatever the child
 * maps at those addresses since is its own.
 */
static void vmmc_forget_maps(struct vmmc_ep *ep)
{
	ep->db_map = ep->status_map = ep->evq_map = ep->sq_map = NULL;
	ep->ksq = NULL;
	ep->sqes = NULL;
	ep->kcq = NULL;
	ep->cqes = NULL;
	ep->knq = NULL;
	ep->nqes = NULL;
	ep->kshared = NULL;
	ep->status = NULL;
	ep->doorbell = NULL;
}

/*
 * The opener first shuts the endpoint down (VMMC_IOC_SHUTDOWN): a forked
 * child that still holds the fd would otherwise keep it, its exports
 * writable by remote nodes and its pins, alive after our close. Errors
 * are ignored (an old kernel: ENOTTY, and the last close does it; a
 * policy that refuses ioctls): the close still follows. "The opener" is
 * the process that opened it, by pid, not by what an ioctl answers: a
 * seccomp or LSM policy may answer EPERM itself, and a vfork child shares
 * the opener's mm (the kernel takes it for the owner) but must neither
 * shut down nor unmap the parent's endpoint (it should not call this at
 * all: it shares *ep with the parent). The UTLB cache is freed in any
 * case; the kernel unpins what it held.
 */
void vmmc_ep_close(struct vmmc_ep *ep)
{
	if (!ep || ep->fd < 0)
		return;
	free(ep->utlb);
	ep->utlb = NULL;
	if (ep->opener_pid == (int32_t)getpid()) {
		ioctl(ep->fd, VMMC_IOC_SHUTDOWN, 0);
		vmmc_unmap_all(ep);
	}
	vmmc_forget_maps(ep);
	close(ep->fd);
	ep->fd = -1;
}

const char *vmmc_status_str(uint32_t status)
{
	static const char *const names[VMMC_ST_NR] = {
		[VMMC_ST_OK]		= "ok",
		[VMMC_ST_BAD_OP]	= "bad op",
		[VMMC_ST_BAD_FLAGS]	= "bad flags or reserved field",
		[VMMC_ST_BAD_LEN]	= "bad length",
		[VMMC_ST_BAD_NODE]	= "no such node",
		[VMMC_ST_NODE_DOWN]	= "node down",
		[VMMC_ST_BAD_ARG]	= "argument out of range",
		[VMMC_ST_BAD_IMPORT]	= "bad import handle",
		[VMMC_ST_RANGE]		= "offset or length beyond the import",
		[VMMC_ST_BAD_SLOT]	= "source not translated (bad slot)",
		[VMMC_ST_REVOKED]	= "export revoked",
		[VMMC_ST_NO_EXPORT]	= "no such export",
		[VMMC_ST_PERM]		= "not permitted",
		[VMMC_ST_BUSY]		= "redirect slot or range busy",
		[VMMC_ST_IDLE]		= "no active redirect in that slot",
		[VMMC_ST_CANCELLED]	= "redirect cancelled",
	};

	return status < VMMC_ST_NR ? names[status] : "unknown status";
}

// SPDX-License-Identifier: MIT
/*
 * send.c - deliberate update: vmmc_send() posts one SEND descriptor whose
 * source the UTLB (utlb.c) translates, and __vmmc_send_done() gives its
 * completion back to the caller.
 *
 * A SEND's user_data in the SQE is the library's tag, (send_cookie << 32)
 * | (seq << 16) | index in the in-flight table; the table keeps the
 * caller's user_data and the source range, which stays pinned until the
 * CQE is seen by vmmc_peek_cqe(). That function (inline, vmmc.h) calls
 * __vmmc_send_done() once per such CQE and puts the caller's user_data
 * back, so callers never see a tag. A SEND written by hand into the SQ
 * (vmmc_get_sqe()) is not tracked and keeps its own user_data.
 *
 * Neither function makes a system call unless the source misses in the
 * UTLB (or the kernel moved utlb_gen), and the reap side never does.
 */
#include <errno.h>

#include "core_loc.h"

/*
 * A descriptor whose memory [addr, addr + len) the library tracks until
 * its completion is reaped (SEND source, REDIRECT destination): room in
 * the SQ and the tag table first (a miss is not worth pinning for
 * -EAGAIN), then the translation and the tag. Fills user_data, src_slot,
 * src_off and len; the caller fills the rest and submits.
 */
int __vmmc_tracked_sqe(struct vmmc_ep *ep, uintptr_t addr, size_t len,
		       bool write, uint64_t user_data, struct vmmc_sqe **out)
{
	struct vmmc_sqe *sqe;
	uint32_t tag;
	int id, err;

	if (ep->sq_prod + ep->sq_pending -
	    vmmc_load_acquire(&ep->ksq->cons) >= ep->sq_entries)
		return -EAGAIN;
	if (ep->utlb->tag_free == VMMC_UTLB_NONE)
		return -EAGAIN;	/* as many in flight as the CQ holds */
	id = vmmc_utlb_get(ep->utlb, vmmc_utlb_gen(ep), addr, len, write);
	if (id < 0)
		return id;
	err = vmmc_utlb_tag_get(ep->utlb, (uint32_t)id, user_data, &tag);
	if (err)
		return err;
	sqe = vmmc_get_sqe(ep);	/* cannot fail: checked above */
	sqe->len = (uint32_t)len;
	sqe->user_data = (uint64_t)ep->send_cookie << 32 | tag;
	sqe->src_slot = vmmc_utlb_slot(ep->utlb, (uint32_t)id, addr);
	sqe->src_off = (uint32_t)(addr & (VMMC_PAGE_SIZE - 1));
	*out = sqe;
	return 0;
}

int vmmc_send(struct vmmc_ep *ep, const void *src, size_t len,
	      uint32_t import_id, uint64_t dst_offset, uint32_t flags,
	      uint64_t user_data)
{
	uintptr_t addr = (uintptr_t)src;
	struct vmmc_sqe *sqe;
	int err;

	if (!ep || !ep->utlb || !src || !len)
		return -EINVAL;
	if (len > VMMC_SEND_MAX_LEN)
		return -E2BIG;
	if (flags & ~VMMC_SQF_NOTIFY || import_id >= ep->info.max_imports ||
	    dst_offset + len < dst_offset || addr + len - 1 < addr)
		return -EINVAL;
	err = __vmmc_tracked_sqe(ep, addr, len, false, user_data, &sqe);
	if (err)
		return err;
	sqe->op = VMMC_OP_SEND;
	sqe->flags = (uint8_t)flags;
	sqe->import = import_id;
	sqe->dst_offset = dst_offset;
	vmmc_submit(ep);
	return 0;
}

void __vmmc_send_done(struct vmmc_ep *ep, struct vmmc_cqe *cqe)
{
	uint64_t user_data;

	if (!ep->utlb)
		return;
	if (!vmmc_utlb_tag_put(ep->utlb, (uint32_t)cqe->user_data, &user_data))
		cqe->user_data = user_data;
}

static int pin(struct vmmc_ep *ep, const void *addr, size_t len, bool write)
{
	int id;

	if (!ep || !ep->utlb || !addr || !len)
		return -EINVAL;
	id = vmmc_utlb_get(ep->utlb, vmmc_utlb_gen(ep), (uintptr_t)addr, len,
			   write);
	return id < 0 ? id : 0;
}

int vmmc_pin(struct vmmc_ep *ep, const void *addr, size_t len)
{
	return pin(ep, addr, len, false);
}

int vmmc_pin_write(struct vmmc_ep *ep, void *addr, size_t len)
{
	return pin(ep, addr, len, true);
}

int vmmc_utlb_flush(struct vmmc_ep *ep)
{
	if (!ep || !ep->utlb)
		return -EINVAL;
	ep->utlb->gen = vmmc_utlb_gen(ep);
	return vmmc_utlb_flush_all(ep->utlb);
}

void vmmc_utlb_stats(struct vmmc_ep *ep, struct vmmc_utlb_stats *out)
{
	struct vmmc_utlb *u = ep->utlb;

	*out = u->st;
	out->ranges = u->nr;
	out->pinned_pages = u->pinned_pages;
	out->inflight = u->inflight;
	out->zombies = u->nr_zombies;
}

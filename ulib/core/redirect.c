// SPDX-License-Identifier: MIT
/*
 * redirect.c - transfer redirection (VMMC-2): a receiver re-points a range
 * of one of its exports at a buffer of its own, so that data arriving
 * after the post lands there with no copy; data that arrived before stays
 * in the export and vmmc_redirect_copy_rest() copies it over.
 *
 * vmmc_redirect() posts a REDIRECT descriptor (no system call unless the
 * destination misses in the UTLB). The destination range stays pinned
 * until the REDIRECT's completion is seen by vmmc_peek_cqe(), which, as
 * for vmmc_send(), puts the caller's user_data back (the descriptor
 * carries the library's tag). The completion's imm is the number of bytes
 * redirected; vmmc_redirect_result() reads which ones.
 *
 * Not thread-safe: the endpoint's (one thread at a time), as send.c.
 */
#include <errno.h>
#include <string.h>

#include "core_loc.h"

int vmmc_redirect(struct vmmc_ep *ep, unsigned int slot, uint32_t export_id,
		  uint64_t offset, void *dst, size_t len, uint64_t user_data)
{
	uintptr_t addr = (uintptr_t)dst;
	struct vmmc_sqe *sqe;
	int err;

	if (!ep || !ep->utlb || !dst || !len)
		return -EINVAL;
	if (len > VMMC_SEND_MAX_LEN)
		return -E2BIG;
	if (slot >= VMMC_REDIR_SLOTS || offset + len < offset ||
	    addr + len - 1 < addr)
		return -EINVAL;
	err = __vmmc_tracked_sqe(ep, addr, len, true, user_data, &sqe);
	if (err)
		return err;
	sqe->op = VMMC_OP_REDIRECT;
	sqe->import = export_id;
	sqe->dst_offset = offset;
	sqe->imm = slot;
	vmmc_submit(ep);
	return 0;
}

int vmmc_redirect_cancel(struct vmmc_ep *ep, unsigned int slot,
			 uint64_t user_data)
{
	struct vmmc_sqe *sqe;

	if (!ep || slot >= VMMC_REDIR_SLOTS)
		return -EINVAL;
	sqe = vmmc_get_sqe(ep);
	if (!sqe)
		return -EAGAIN;
	vmmc_prep_redirect_cancel(sqe, slot, user_data);
	vmmc_submit(ep);
	return 0;
}

int vmmc_redirect_result(struct vmmc_ep *ep, unsigned int slot,
			 struct vmmc_redir_res *out)
{
	const struct vmmc_redir_res *k;
	unsigned int tries;
	uint32_t s0, s1;
	uint64_t ud;

	if (!ep || !out || slot >= VMMC_REDIR_SLOTS)
		return -EINVAL;
	k = (const struct vmmc_redir_res *)((const char *)ep->evq_map +
					    VMMC_REDIR_OFF) + slot;
	/*
	 * The NIC (a host thread) may be descheduled mid-update: retry for
	 * long, but never enter the kernel (this runs under seccomp strict).
	 */
	for (tries = 0; tries < 50000000; tries++) {
		/* Partner: the NIC's res_write() (fabric_redir.c). */
		s0 = vmmc_load_acquire(&k->seq);
		if (s0 & 1)
			continue;
		memcpy(out, (const void *)k, sizeof(*out));
		vmmc_smp_rmb();
		s1 = vmmc_read_once(&k->seq);
		if (s0 != s1)
			continue;
		out->seq = s0;
		if (out->nr_ext > VMMC_REDIR_EXTENTS)
			return -EIO;	/* scribbled on */
		/* the descriptor carried our tag: give the caller's back */
		if (ep->utlb && (uint32_t)(out->user_data >> 32) == ep->send_cookie &&
		    !vmmc_utlb_tag_peek(ep->utlb, (uint32_t)out->user_data, &ud))
			out->user_data = ud;
		return 0;
	}
	return -EAGAIN;
}

bool vmmc_redir_covers(const struct vmmc_redir_res *r, uint64_t off)
{
	uint32_t i;

	for (i = 0; i < r->nr_ext && i < VMMC_REDIR_EXTENTS; i++)
		if (off - r->ext[i].offset < r->ext[i].len)
			return true;
	return false;
}

/*
 * Copy the bytes of [from, from + len) (export offsets, inside the
 * redirect's range) that did NOT go to the destination, from the export
 * buffer @export_buf to their place in @dst. Returns the bytes copied.
 */
size_t vmmc_redirect_copy_rest(const struct vmmc_redir_res *r,
			       const void *export_buf, void *dst,
			       uint64_t from, uint64_t len)
{
	const unsigned char *src = export_buf;
	unsigned char *d = dst;
	uint64_t end = from + len, x = from, copied = 0;

	if (from < r->offset)
		x = from = r->offset;
	if (end > r->offset + r->len)
		end = r->offset + r->len;
	while (x < end) {
		/* the next extent boundary at or after x */
		uint64_t next = end, i;
		bool in = false;

		for (i = 0; i < r->nr_ext && i < VMMC_REDIR_EXTENTS; i++) {
			uint64_t a = r->ext[i].offset, b = a + r->ext[i].len;

			if (x >= a && x < b) {
				in = true;
				next = b < end ? b : end;
				break;
			}
			if (a > x && a < next)
				next = a;
		}
		if (!in) {
			memcpy(d + (x - r->offset), src + x, next - x);
			copied += next - x;
		}
		x = next;
	}
	return copied;
}

// SPDX-License-Identifier: MIT
/*
 * vfi_rma.c - RMA write, with and without remote CQ data.
 *
 * A write is a deliberate update: SENDs from the caller's buffer into the
 * target's exported region (vfi_domain.c: the key names the export and
 * unlocks it), at the offset the caller gives. The NIC refuses a SEND past
 * the export's end (VMMC_ST_RANGE: the write completes with FI_EINVAL) and
 * a region that is gone (VMMC_ST_REVOKED: FI_ECONNRESET); a key no region
 * has fails the import (FI_EKEYREJECTED), reported in the CQ. Remote CQ
 * data goes after the data has landed (its SENDs completed, since SENDs
 * to different imports are not ordered) as a notice in the peer's ring,
 * which the peer reports as an FI_REMOTE_WRITE | FI_REMOTE_CQ_DATA
 * completion without taking a receive.
 *
 * Reads are emulated, since a vmmc NIC only writes to the remote side: the
 * requester sends an RREQ {key, offset, length, cookie} through the
 * peer's ring; the peer's provider (during its progress) looks the key up
 * among its own regions registered with FI_REMOTE_READ, checks the range,
 * and sends the bytes back through our ring as RRESP fragments (or a
 * refusal with the reason), which we copy into the read's buffer. The
 * cookie names our operation (its index and a generation that changes at
 * every reuse), so a forged or late response is refused. A read needs
 * the peer to make progress, as a software RDMA would.
 *
 * A read of FI_VMMC_DIRECT_READ bytes (VFI_DIRECT_MIN) or more into one
 * buffer is answered
 * directly, with no copy and no ring fragments: the requester exports its
 * buffer for the read's time (a fresh random key, the peer's node only)
 * and names the key in the RREQ; the peer imports it, SENDs the bytes
 * straight into it, and once those SENDs have completed (the bytes are in
 * place) sends an RRESP notice flagged VFI_HF_DIRECT through the ring. The
 * export goes when the read completes or fails, the import when the
 * notice is out. Either side falls back to the ring when it cannot export
 * or import (RLIMIT_MEMLOCK, tables full).
 */
#include <string.h>

#include "vfi.h"

static int vfi_rma_sends(struct vfi_ep *ep, struct vfi_op *op);
static bool vfi_read_land(struct vfi_ep *ep, struct vfi_op *op);
static void vfi_read_export(struct vfi_ep *ep, struct vfi_op *op);

/* A direct read response: its SENDs, then the notice, or the error that
 * stopped them. Into the landing area, the notice follows the SENDs at
 * once: all go through the connection's import, so they land in order
 * (a SEND failing there means the connection is gone). Into an export
 * of the reader's buffer, another import, vfi_tx_maybe_done() queues it
 * again when the SENDs have completed. 1 when done posting, 0 to wait,
 * or -error.
 */
static int vfi_resp_push(struct vfi_ep *ep, struct vfi_op *op)
{
	struct vfi_hdr h = { .op = VFI_OP_RRESP, .data = op->data,
			     .flags = VFI_HF_FIRST | VFI_HF_LAST |
				      VFI_HF_DIRECT,
			     .total = (uint32_t)op->len };
	int ret;

	if (!op->err && op->done < op->len) {
		ret = vfi_rma_sends(ep, op);
		if (ret != 1 || !op->land)
			return ret;
	}
	if (op->inflight && !op->land)
		return 1;
	if (op->err) {
		h.flags = VFI_HF_FIRST | VFI_HF_LAST | VFI_HF_ERR;
		h.total = (uint32_t)op->err;
	}
	ret = vfi_post_slot(ep, op, &h, NULL, 0);
	if (ret == -FI_EAGAIN || ret == -EAGAIN)
		return 0;
	op->wdata_sent = true;
	VFI_TR("notice_out", op, op->data, ret);
	return ret ? vfi_errno(ret) : 1;
}

/* Post what SQ room allows: 1 when done posting, 0 to wait,
 * VFI_PUSH_PARK (a read waiting for landing room), or -error.
 */
int vfi_rma_push(struct vfi_ep *ep, struct vfi_op *op)
{
	int ret;

	if (op->direct)
		return vfi_resp_push(ep, op);
	if (op->err)
		return 1;
	if (op->kind == VFI_K_READ && !op->routed) {
		/* the landing area, else (none of it in use here to wait
		 * for) a per-read export, else the ring
		 */
		if (!vfi_read_land(ep, op)) {
			if (op->len >= ep->dom->direct_min &&
			    op->len <= VFI_LAND_BYTES && ep->land_busy) {
				VFI_TR("rd_park", op, ep->land_busy,
				       ep->dom->redir_busy);
				return VFI_PUSH_PARK;
			}
			vfi_read_export(ep, op);
		}
		op->routed = true;
	}
	if (op->kind == VFI_K_READ) {
		struct vfi_rreq q = { .key = op->raddr_key, .addr = op->raddr,
				      .len = op->len,
				      .cookie = (uint64_t)(op - ep->ops) |
						(uint64_t)op->gen << 32,
				      .dst_key = op->rd_exported ? op->rd_key :
								   0,
				      .land = op->redir ? VFI_LAND0 +
							  op->land_off + 1 : 0 };
		struct vfi_hdr h = { .op = VFI_OP_RREQ,
				     .flags = VFI_HF_FIRST | VFI_HF_LAST };

		ret = vfi_post_slot(ep, op, &h, &q, sizeof(q));
		if (ret == -FI_EAGAIN || ret == -EAGAIN)
			return 0;
		if (ret)
			return vfi_errno(ret);
		op->wait_resp = true;
		VFI_TR("rreq_out", op, q.cookie, q.land);
		return 1;
	}
	if (op->wdata && op->done == op->len && !op->inflight) {
		struct vfi_hdr h = { .op = VFI_OP_WDATA,
				     .flags = VFI_HF_FIRST | VFI_HF_LAST |
					      VFI_HF_DATA,
				     .data = op->data };

		if (op->wdata_sent)
			return 1;
		ret = vfi_post_slot(ep, op, &h, NULL, 0);
		if (ret == -FI_EAGAIN || ret == -EAGAIN)
			return 0;
		if (ret)
			return vfi_errno(ret);
		op->wdata_sent = true;
		return 1;
	}
	return vfi_rma_sends(ep, op);
}

/*
 * libvmmc pins a source rounded out to 64 KiB granules and drops the
 * cached ranges the new one overlaps, so adjacent buffers (an MPI
 * program's window of messages) would each unpin the other at every
 * use. A long source is therefore pinned as its whole granules and sent
 * in pieces that never cross their edges: the partial granules at either
 * end are pinned (and shared with the neighbours) as granules of their
 * own.
 */
#define VFI_GRANULE	65536u

static void vfi_granules(const struct iovec *v, size_t *head, size_t *tail)
{
	uintptr_t b = (uintptr_t)v->iov_base;
	uintptr_t g0 = (b + VFI_GRANULE - 1) & ~(uintptr_t)(VFI_GRANULE - 1);
	uintptr_t g1 = (b + v->iov_len) & ~(uintptr_t)(VFI_GRANULE - 1);

	*head = *tail = 0;	/* no whole granule: one piece */
	if (g1 > g0) {
		*head = g0 - b;
		*tail = g1 - b;
	}
}

/* The SENDs of a write or direct response that SQ room allows: 1 when all
 * are posted, 0 to wait, or -error.
 */
static int vfi_rma_sends(struct vfi_ep *ep, struct vfi_op *op)
{
	size_t i, head, tail;
	uint64_t dst;
	uint32_t imp;
	int ret;

	for (i = 0; !op->done && i < op->iov_count; i++) {
		vfi_granules(&op->iov[i], &head, &tail);
		if (tail)
			vmmc_pin(&ep->dom->vep,
				 (char *)op->iov[i].iov_base + head,
				 tail - head);
	}
	while (op->done < op->len) {
		const struct iovec *v = &op->iov[op->iov_i];
		size_t n = v->iov_len - op->iov_off;

		if (!n) {
			op->iov_i++;
			op->iov_off = 0;
			continue;
		}
		vfi_granules(v, &head, &tail);
		if (op->iov_off < head && n > head - op->iov_off)
			n = head - op->iov_off;
		else if (op->iov_off >= head && op->iov_off < tail &&
			 n > tail - op->iov_off)
			n = tail - op->iov_off;
		if (n > VMMC_SEND_MAX_LEN)
			n = VMMC_SEND_MAX_LEN;
		/* a write across two parts of a region: no SEND spans both */
		imp = op->import;
		dst = op->raddr + op->done;
		if (op->split && op->done >= op->split) {
			imp = op->import2;
			dst = op->done - op->split;
		} else if (op->split && n > op->split - op->done) {
			n = op->split - op->done;
		}
		if (!vfi_sq_room(ep, 1))
			return 0;
		ret = vmmc_send(&ep->dom->vep,
				(const char *)v->iov_base + op->iov_off, n,
				imp, dst, 0, (uintptr_t)op);
		if (ret)
			return vfi_send_wait(ep, ret);
		op->inflight++;
		op->done += n;
		op->iov_off += n;
		VFI_TR("rma_send", op, n, op->done);
	}
	return 1;
}

/* Take an import (cached) of the region part key + part into *imp. */
static int vfi_write_part(struct vfi_domain *dom, uint32_t node,
			  uint64_t key, uint64_t part, int *imp, uint32_t *id)
{
	int i = vfi_import_get(dom, node, key + part);

	if (i < 0)
		return i;
	*imp = i;
	*id = dom->imps[i].id;
	dom->imps[i].busy++;
	return 0;
}

/*
 * Where a write of op->len bytes at @addr of region @key goes: its
 * import(s) and offset (VFI_MR_PART). 0, -FI_EAGAIN (the import cache
 * is busy), or a negative error for the CQ: FI_EINVAL for a range past
 * the region, FI_EKEYREJECTED for a key no region has.
 */
static int vfi_write_target(struct vfi_domain *dom, struct vfi_op *op,
			    uint32_t node, uint64_t key, uint64_t addr)
{
	uint64_t part, off, len;
	int ret;

	ret = vfi_write_part(dom, node, key, 0, &op->imp, &op->import);
	if (ret)
		return ret;
	len = dom->imps[op->imp].len;
	op->raddr = addr;
	if (addr <= len && op->len <= len - addr)
		return 0;
	/* past part 0: a region of several parts, or a bad range */
	part = addr / VFI_MR_PART;
	off = addr % VFI_MR_PART;
	if (len != VFI_MR_PART || part >= VFI_MR_PARTS)
		return -FI_EINVAL;
	if (part) {
		dom->imps[op->imp].busy--;
		op->imp = -1;
		ret = vfi_write_part(dom, node, key, part, &op->imp,
				     &op->import);
		if (ret)
			return ret == -FI_EKEYREJECTED ? -FI_EINVAL : ret;
		len = dom->imps[op->imp].len;
	}
	op->raddr = off;
	if (off <= len && op->len <= len - off)
		return 0;
	/* across into the next part, which must hold the rest */
	if (len != VFI_MR_PART || part + 1 >= VFI_MR_PARTS)
		return -FI_EINVAL;
	op->split = (size_t)(len - off);
	ret = vfi_write_part(dom, node, key, part + 1, &op->imp2,
			     &op->import2);
	if (ret)
		return ret == -FI_EKEYREJECTED ? -FI_EINVAL : ret;
	if (op->len - op->split > dom->imps[op->imp2].len)
		return -FI_EINVAL;
	return 0;
}

static ssize_t vfi_write_post(struct vfi_ep *ep, const struct iovec *iov,
			      size_t count, uint64_t addr, uint64_t key,
			      void *context, uint64_t data, uint64_t flags)
{
	struct vfi_domain *dom = ep->dom;
	struct vfi_op *op;
	ssize_t ret;

	ret = vfi_op_begin(ep, iov, count, VFI_MAX_RMA, flags, true, &op);
	if (ret)
		return ret;
	op->context = context;
	op->kind = VFI_K_WRITE;
	op->flags = FI_RMA | FI_WRITE;
	op->comp = !(flags & FI_INJECT) &&
		   (!ep->tx_sel || (flags & FI_COMPLETION));
	op->data = data;
	op->wdata = flags & FI_REMOTE_CQ_DATA;
	if (flags & FI_INJECT) {
		vfi_iov_get(op, op->inject, op->len);
		op->iov[0].iov_base = op->inject;
		op->iov[0].iov_len = op->len;
		op->iov_count = 1;
	}
	ret = op->len ? vfi_write_target(dom, op, ep->peer_node, key, addr) :
			0;
	if (ret == -FI_EAGAIN) {
		vfi_op_put(op);
		pthread_mutex_unlock(&dom->lock);
		return -FI_EAGAIN;
	}
	if (ret)
		op->err = (int)-ret;
	op->queued = true;
	vfi_op_enqueue(&ep->txq, op);
	vfi_progress(dom);
	pthread_mutex_unlock(&dom->lock);
	return 0;
}

static ssize_t vfi_write(struct fid_ep *fep, const void *buf, size_t len,
			 void *desc, fi_addr_t dest_addr, uint64_t addr,
			 uint64_t key, void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_write_post(ep, &iov, 1, addr, key, context, 0,
			      ep->tx_flags);
}

static ssize_t vfi_writev(struct fid_ep *fep, const struct iovec *iov,
			  void **desc, size_t count, fi_addr_t dest_addr,
			  uint64_t addr, uint64_t key, void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	return vfi_write_post(ep, iov, count, addr, key, context, 0,
			      ep->tx_flags);
}

static ssize_t vfi_writemsg(struct fid_ep *fep, const struct fi_msg_rma *msg,
			    uint64_t flags)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	if (msg->rma_iov_count != 1)
		return -FI_EINVAL;
	return vfi_write_post(ep, msg->msg_iov, msg->iov_count,
			      msg->rma_iov[0].addr, msg->rma_iov[0].key,
			      msg->context, msg->data, flags);
}

static ssize_t vfi_rma_inject(struct fid_ep *fep, const void *buf,
			      size_t len, fi_addr_t dest_addr, uint64_t addr,
			      uint64_t key)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_write_post(ep, &iov, 1, addr, key, NULL, 0, FI_INJECT);
}

static ssize_t vfi_writedata(struct fid_ep *fep, const void *buf, size_t len,
			     void *desc, uint64_t data, fi_addr_t dest_addr,
			     uint64_t addr, uint64_t key, void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_write_post(ep, &iov, 1, addr, key, context, data,
			      ep->tx_flags | FI_REMOTE_CQ_DATA);
}

static ssize_t vfi_rma_injectdata(struct fid_ep *fep, const void *buf,
				  size_t len, uint64_t data,
				  fi_addr_t dest_addr, uint64_t addr,
				  uint64_t key)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_write_post(ep, &iov, 1, addr, key, NULL, data,
			      FI_INJECT | FI_REMOTE_CQ_DATA);
}

/* ---- long reads answered into the landing area, redirected ---- */

/*
 * Take a redirect slot and landing chunks for a long read into one
 * buffer, and post the REDIRECT of those chunks to the buffer before the
 * request goes out: the NIC fetches the SQ in order, so no byte of the
 * answer comes before it. false: no room (the read goes another way).
 */
static bool vfi_read_land(struct vfi_ep *ep, struct vfi_op *op)
{
	struct vfi_domain *dom = ep->dom;
	uintptr_t b = (uintptr_t)op->iov[0].iov_base;
	uintptr_t p0 = (b + 4095) & ~(uintptr_t)4095;
	uintptr_t p1 = (b + op->len) & ~(uintptr_t)4095;
	unsigned int slot, c, n;
	uint64_t mask;

	if (op->len < dom->direct_min || op->iov_count != 1 ||
	    op->len > VFI_LAND_BYTES || p1 <= p0 ||
	    dom->redir_busy == (1u << VMMC_REDIR_SLOTS) - 1)
		return false;
	n = (unsigned int)((op->len + VFI_LAND_CHUNK - 1) / VFI_LAND_CHUNK);
	mask = n == 64 ? ~0ull : (1ull << n) - 1;
	for (c = 0; c + n <= 64; c++)
		if (!(ep->land_busy & (mask << c)))
			break;
	if (c + n > 64)
		return false;
	slot = (unsigned int)__builtin_ctz(~dom->redir_busy);
	/* whole pages only: the buffer's write pin then never takes in a
	 * neighbour's page (the translation cache would drop one for the
	 * other at every read of adjacent buffers)
	 */
	op->land_head = (uint32_t)(p0 - b);
	if (vmmc_redirect(&dom->vep, slot, ep->export_id,
			  VFI_LAND0 + (uint64_t)c * VFI_LAND_CHUNK +
			  op->land_head, (void *)p0, p1 - p0, slot + 1))
		return false;
	dom->redir_busy |= 1u << slot;
	dom->redir_op[slot] = op;
	op->land_mask = mask << c;
	ep->land_busy |= op->land_mask;
	op->land_off = (uint64_t)c * VFI_LAND_CHUNK;
	op->redir = (int)slot + 1;
	return true;
}

/*
 * The notice and the redirect's completion are both in: copy over what
 * stayed in the landing area (bytes the redirect did not take: it was
 * refused, or ended early), free the slot and chunks, complete the read.
 */
static void vfi_redir_finish(struct vfi_op *op)
{
	struct vfi_ep *ep = op->ep;
	struct vfi_domain *dom = ep->dom;
	unsigned int slot = (unsigned int)op->redir - 1;
	const char *land = (const char *)ep->region + VFI_LAND0 + op->land_off;
	char *buf = op->iov[0].iov_base;
	uint64_t mid = ((uintptr_t)(buf + op->len) & ~(uintptr_t)4095) -
		       (uintptr_t)buf - op->land_head;
	struct vmmc_redir_res res;

	if (op->redir_st == VMMC_ST_OK || op->redir_st == VMMC_ST_CANCELLED ||
	    op->redir_st == VMMC_ST_REVOKED || op->redir_st == VMMC_ST_BAD_SLOT) {
		/* it ran: its record says which bytes it took */
		if (vmmc_redirect_result(&dom->vep, slot, &res) ||
		    res.offset != VFI_LAND0 + op->land_off + op->land_head ||
		    res.len != mid)
			op->err = FI_EIO;
		else if (res.bytes != mid)
			vmmc_redirect_copy_rest(&res, ep->region,
						buf + op->land_head,
						res.offset, mid);
	} else {	/* refused at once: all of it is in the area */
		memcpy(buf + op->land_head, land + op->land_head, mid);
	}
	/* the partial pages at either end */
	memcpy(buf, land, op->land_head);
	memcpy(buf + op->land_head + mid, land + op->land_head + mid,
	       op->len - op->land_head - mid);
	dom->redir_busy &= ~(1u << slot);
	dom->redir_op[slot] = NULL;
	ep->land_busy &= ~op->land_mask;
	op->redir = 0;
	op->done = op->len;
	op->wait_resp = false;
	VFI_TR("rd_landed", op, op->len, 0);
	vfi_tx_maybe_done(op);
}

/* A REDIRECT's completion (dom->lock held). */
void vfi_redir_cqe(struct vfi_domain *dom, const struct vmmc_cqe *cqe)
{
	uint64_t slot = cqe->user_data - 1;
	struct vfi_op *op;

	if (slot >= VMMC_REDIR_SLOTS || !(dom->redir_busy & (1u << slot)))
		return;
	op = dom->redir_op[slot];
	if (!op) {	/* its read is gone: the slot is free now */
		dom->redir_busy &= ~(1u << slot);
		return;
	}
	op->redir_cqe = true;
	op->redir_st = cqe->status;
	VFI_TR("redir_cqe", op, cqe->status, cqe->imm);
	if (op->resp_in)
		vfi_redir_finish(op);
}

/*
 * A read that ends otherwise (refused, failed, answered through the ring)
 * gives its redirect up: cancelled (its completion frees the slot; with
 * the SQ full, the region's end does), its chunks free.
 */
void vfi_redir_abandon(struct vfi_op *op)
{
	struct vfi_domain *dom = op->ep->dom;
	unsigned int slot = (unsigned int)op->redir - 1;

	op->redir = 0;
	dom->redir_op[slot] = NULL;
	if (op->redir_cqe)
		dom->redir_busy &= ~(1u << slot);
	else if (vmmc_redirect_cancel(&dom->vep, slot, 0))
		return;	/* still active: its chunks stay taken */
	op->ep->land_busy &= ~op->land_mask;
}

/* The notice of a redirected answer: every byte has landed. 1, or 0 to
 * look again (a cancel that found the SQ full).
 */
static int vfi_redir_notice(struct vfi_op *op)
{
	struct vfi_domain *dom = op->ep->dom;
	unsigned int slot = (unsigned int)op->redir - 1;
	struct vmmc_redir_res res;

	if (!op->redir_cqe &&
	    (vmmc_redirect_result(&dom->vep, slot, &res) ||
	     res.bytes != res.len) &&
	    vmmc_redirect_cancel(&dom->vep, slot, 0))
		return 0;	/* part stayed in the area: end it now */
	op->resp_in = true;
	if (op->redir_cqe)
		vfi_redir_finish(op);
	return 1;
}

/* Export a long read's buffer for the peer's direct response (dom->lock
 * held); without it (no room, RLIMIT_MEMLOCK) the response comes through
 * the ring.
 */
static void vfi_read_export(struct vfi_ep *ep, struct vfi_op *op)
{
	uint64_t key;
	int tries, ret = -EEXIST;

	if (op->len < ep->dom->direct_min || op->len > VFI_MAX_RMA ||
	    op->iov_count != 1 || ep->peer_node >= 64)
		return;
	for (tries = 0; tries < 4 && ret == -EEXIST; tries++) {
		if (vfi_random(&key, sizeof(key)) || !key)
			return;
		ret = vmmc_export_key(&ep->dom->vep, op->iov[0].iov_base,
				      op->len,
				      VFI_NAME_MR | (key & VFI_NAME_RAND),
				      1ull << ep->peer_node, key,
				      &op->rd_export);
	}
	if (!ret) {
		op->rd_exported = true;
		op->rd_key = key;
	}
}

static ssize_t vfi_read_post(struct vfi_ep *ep, const struct iovec *iov,
			     size_t count, uint64_t addr, uint64_t key,
			     void *context, uint64_t flags)
{
	struct vfi_op *op;
	ssize_t ret;

	ret = vfi_op_begin(ep, iov, count, VFI_MAX_RMA, 0, true, &op);
	if (ret)
		return ret;
	op->context = context;
	op->kind = VFI_K_READ;
	op->flags = FI_RMA | FI_READ;
	op->comp = !ep->tx_sel || (flags & FI_COMPLETION);
	op->raddr = addr;
	op->raddr_key = key;
	op->queued = true;
	VFI_TR("rd_post", op, op->len, 0);
	vfi_op_enqueue(&ep->txq, op);
	vfi_progress(ep->dom);
	pthread_mutex_unlock(&ep->dom->lock);
	return 0;
}

static ssize_t vfi_read(struct fid_ep *fep, void *buf, size_t len, void *desc,
			fi_addr_t src_addr, uint64_t addr, uint64_t key,
			void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return vfi_read_post(ep, &iov, 1, addr, key, context, ep->tx_flags);
}

static ssize_t vfi_readv(struct fid_ep *fep, const struct iovec *iov,
			 void **desc, size_t count, fi_addr_t src_addr,
			 uint64_t addr, uint64_t key, void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	return vfi_read_post(ep, iov, count, addr, key, context, ep->tx_flags);
}

static ssize_t vfi_readmsg(struct fid_ep *fep, const struct fi_msg_rma *msg,
			   uint64_t flags)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	if (msg->rma_iov_count != 1)
		return -FI_EINVAL;
	return vfi_read_post(ep, msg->msg_iov, msg->iov_count,
			     msg->rma_iov[0].addr, msg->rma_iov[0].key,
			     msg->context, flags);
}

/* ---- the peer's side of a read ---- */

/* Import the requester's buffer for a direct response, if it can be. */
static void vfi_resp_direct(struct vfi_ep *ep, struct vfi_op *op,
			    uint64_t key)
{
	uint64_t len;
	uint32_t id;

	if (vmmc_import_key(&ep->dom->vep, ep->peer_node,
			    VFI_NAME_MR | (uint32_t)(key & VFI_NAME_RAND), key,
			    &id, &len))
		return;
	if (len != op->len) {	/* not what the request said: the ring */
		vmmc_unimport(&ep->dom->vep, id);
		return;
	}
	op->direct = true;
	op->import = id;
	op->raddr = 0;
}

/* Answer into the requester's landing area (our import of its region),
 * if the place it names is there.
 */
static void vfi_resp_land(struct vfi_ep *ep, struct vfi_op *op, uint64_t off)
{
	if (off < VFI_LAND0 || off > VFI_REGION_BYTES ||
	    op->len > VFI_REGION_BYTES - off)
		return;		/* the ring */
	op->direct = op->land = true;
	op->import = ep->import_id;
	op->raddr = off;
}

/* An RREQ: queue the response (the region's bytes, or a refusal). */
static int vfi_rx_rreq(struct vfi_ep *ep, const struct vfi_hdr *h,
		       const void *payload)
{
	struct vfi_rreq q;
	struct vfi_op *op;
	size_t mlen;
	void *mbuf;
	int ret;

	if (!(h->flags & VFI_HF_INLINE) || h->len != sizeof(q))
		return -1;
	memcpy(&q, payload, sizeof(q));
	op = vfi_op_get(ep);
	if (!op)
		return 0;	/* the request waits in the ring */
	op->kind = VFI_K_RESP;
	op->data = q.cookie;
	ret = vfi_mr_find(ep->dom, q.key, FI_REMOTE_READ, &mbuf, &mlen);
	if (ret)
		op->err = -ret;
	else if (q.addr > mlen || q.len > mlen - q.addr || q.len > VFI_MAX_MSG)
		op->err = FI_EINVAL;
	if (!op->err) {
		op->iov[0].iov_base = (char *)mbuf + q.addr;
		op->iov[0].iov_len = q.len;
		op->iov_count = 1;
		op->len = q.len;
		if (q.land)
			vfi_resp_land(ep, op, q.land - 1);
		else if (q.dst_key)
			vfi_resp_direct(ep, op, q.dst_key);
	}
	op->queued = true;
	VFI_TR("rreq_in", op, q.cookie, q.len);
	vfi_op_enqueue(&ep->txq, op);
	return 1;
}

/* A fragment of the response to one of our reads. */
static int vfi_rx_rresp(struct vfi_ep *ep, const struct vfi_hdr *h,
			const void *payload)
{
	uint64_t idx = h->data & 0xffffffffu;
	struct vfi_op *op;

	if (idx >= ep->nops)
		return -1;
	op = &ep->ops[idx];
	if (op->kind != VFI_K_READ || !op->wait_resp ||
	    op->gen != (uint32_t)(h->data >> 32))
		return -1;
	if (h->flags & VFI_HF_ERR) {
		if (!(h->flags & VFI_HF_LAST) || !h->total ||
		    h->total > FI_ERRNO_MAX)
			return -1;
		op->err = (int)h->total;
	} else if (h->flags & VFI_HF_DIRECT) {
		/* our export (or the area) holds the bytes: the peer's
		 * SENDs completed
		 */
		if ((!op->rd_exported && !op->redir) ||
		    !(h->flags & VFI_HF_LAST) || h->len ||
		    h->total != op->len || op->done || op->resp_in)
			return -1;
		VFI_TR("notice_in", op, h->data, op->redir);
		if (op->redir)
			return vfi_redir_notice(op);
		op->done = op->len;
	} else {
		if (h->total != op->len || op->done + h->len > op->len ||
		    !!(h->flags & VFI_HF_LAST) != (op->done + h->len == op->len))
			return -1;
		vfi_iov_put(op, op->done, payload, h->len);
		op->done += h->len;
	}
	if (h->flags & VFI_HF_LAST) {
		op->wait_resp = false;
		vfi_tx_maybe_done(op);
	}
	return 1;
}

/* An RMA slot in the ring: 1 consumed, 0 wait, -1 protocol broken. */
int vfi_rma_rx(struct vfi_ep *ep, const struct vfi_hdr *h,
	       const void *payload)
{
	return h->op == VFI_OP_RREQ ? vfi_rx_rreq(ep, h, payload) :
				      vfi_rx_rresp(ep, h, payload);
}

struct fi_ops_rma vfi_rma_ops = {
	.size = sizeof(struct fi_ops_rma),
	.read = vfi_read,
	.readv = vfi_readv,
	.readmsg = vfi_readmsg,
	.write = vfi_write,
	.writev = vfi_writev,
	.writemsg = vfi_writemsg,
	.inject = vfi_rma_inject,
	.writedata = vfi_writedata,
	.injectdata = vfi_rma_injectdata,
};

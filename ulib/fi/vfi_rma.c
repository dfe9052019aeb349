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
 * Reads are not offered: a vmmc NIC only writes to the remote side.
 */
#include <string.h>

#include "vfi.h"

/* Post what SQ room allows: 1 when done posting, 0 to wait, or -error. */
int vfi_rma_push(struct vfi_ep *ep, struct vfi_op *op)
{
	int ret;

	if (op->err)
		return 1;
	if (op->wdata && op->done == op->len && !op->inflight) {
		if (op->wdata_sent)
			return 1;
		ret = vfi_post_notice(ep, op);
		if (ret == -FI_EAGAIN || ret == -EAGAIN)
			return 0;
		if (ret)
			return vfi_errno(ret);
		op->wdata_sent = true;
		return 1;
	}
	if (!op->done)
		vfi_pin_iov(ep, op);
	while (op->done < op->len) {
		const struct iovec *v = &op->iov[op->iov_i];
		size_t n = v->iov_len - op->iov_off;

		if (!n) {
			op->iov_i++;
			op->iov_off = 0;
			continue;
		}
		if (n > VMMC_SEND_MAX_LEN)
			n = VMMC_SEND_MAX_LEN;
		if (!vfi_sq_room(ep, 1))
			return 0;
		ret = vmmc_send(&ep->dom->vep,
				(const char *)v->iov_base + op->iov_off, n,
				op->import, op->raddr + op->done, 0,
				(uintptr_t)op);
		if (ret)
			return ret == -EAGAIN ? 0 : vfi_errno(ret);
		op->inflight++;
		op->done += n;
		op->iov_off += n;
	}
	return 1;
}

static ssize_t vfi_write_post(struct vfi_ep *ep, const struct iovec *iov,
			      size_t count, uint64_t addr, uint64_t key,
			      void *context, uint64_t data, uint64_t flags)
{
	struct vfi_domain *dom = ep->dom;
	struct vfi_op *op;
	size_t len;
	int imp;

	if (count > 4 || (count && !iov))
		return -FI_EINVAL;
	len = vfi_iov_len(iov, count);
	if ((flags & FI_INJECT) && len > VFI_INLINE)
		return -FI_EINVAL;
	pthread_mutex_lock(&dom->lock);
	if (ep->state != VFI_CONNECTED && ep->state != VFI_ACCEPTING) {
		pthread_mutex_unlock(&dom->lock);
		return -FI_ENOTCONN;
	}
	op = vfi_op_get(ep);
	if (!op) {
		vfi_progress(dom);
		pthread_mutex_unlock(&dom->lock);
		return -FI_EAGAIN;
	}
	op->context = context;
	op->flags = FI_RMA | FI_WRITE;
	op->comp = !(flags & FI_INJECT) &&
		   (!ep->tx_sel || (flags & FI_COMPLETION));
	op->data = data;
	op->wdata = flags & FI_REMOTE_CQ_DATA;
	op->len = len;
	op->raddr = addr;
	if (count)
		memcpy(op->iov, iov, count * sizeof(*iov));
	op->iov_count = count;
	if (flags & FI_INJECT) {
		size_t i, off = 0;

		for (i = 0; i < count; i++) {
			memcpy(op->inject + off, iov[i].iov_base,
			       iov[i].iov_len);
			off += iov[i].iov_len;
		}
		op->iov[0].iov_base = op->inject;
		op->iov[0].iov_len = len;
		op->iov_count = 1;
	}
	imp = len ? vfi_import_get(dom, ep->peer_node, key) : -1;
	if (imp == -FI_EAGAIN) {
		vfi_op_put(op);
		pthread_mutex_unlock(&dom->lock);
		return -FI_EAGAIN;
	}
	if (imp < -1) {
		op->err = -imp;
	} else if (imp >= 0) {
		op->imp = imp;
		dom->imps[imp].busy++;
		op->import = dom->imps[imp].id;
		if (addr > dom->imps[imp].len ||
		    len > dom->imps[imp].len - addr)
			op->err = FI_EINVAL;
	}
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

static ssize_t vfi_read(struct fid_ep *ep, void *buf, size_t len, void *desc,
			fi_addr_t src_addr, uint64_t addr, uint64_t key,
			void *context)
{
	return -FI_ENOSYS;
}

static ssize_t vfi_readv(struct fid_ep *ep, const struct iovec *iov,
			 void **desc, size_t count, fi_addr_t src_addr,
			 uint64_t addr, uint64_t key, void *context)
{
	return -FI_ENOSYS;
}

static ssize_t vfi_readmsg(struct fid_ep *ep, const struct fi_msg_rma *msg,
			   uint64_t flags)
{
	return -FI_ENOSYS;
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

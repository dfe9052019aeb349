// SPDX-License-Identifier: MIT
/*
 * vfi_ep.c - the endpoint object: creation, binding to CQs and an EQ,
 * enable, options, cancel, close. Connection setup is in vfi_cm.c, the
 * data path in vfi_msg.c and vfi_rma.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfi.h"

#define VFI_CLOSE_DRAIN_MS	2000

/* dom->lock held */
static void vfi_dom_unlink(struct vfi_ep *ep)
{
	struct vfi_ep **p;

	if (!ep->in_dom)
		return;
	for (p = &ep->dom->eps; *p; p = &(*p)->next_dom) {
		if (*p == ep) {
			*p = ep->next_dom;
			break;
		}
	}
	ep->in_dom = false;
}

void vfi_ep_connected(struct vfi_ep *ep)
{
	pthread_mutex_lock(&ep->dom->lock);
	ep->state = VFI_CONNECTED;
	if (!ep->in_dom) {
		ep->next_dom = ep->dom->eps;
		ep->dom->eps = ep;
		ep->in_dom = true;
	}
	pthread_mutex_unlock(&ep->dom->lock);
}

/* The connection is over: fail what is queued; the caller took it off
 * its EQ. err: positive FI_E*.
 */
void vfi_ep_shutdown(struct vfi_ep *ep, int err)
{
	pthread_mutex_lock(&ep->dom->lock);
	if (ep->state != VFI_SHUT) {
		ep->state = VFI_SHUT;
		vfi_op_fail_all(ep, err);
	}
	/* the data path may have ended it first (vfi_ep_probe()) */
	vfi_dom_unlink(ep);
	if (ep->sock >= 0)
		close(ep->sock);
	ep->sock = -1;
	pthread_mutex_unlock(&ep->dom->lock);
}

static int vfi_ep_close(struct fid *fid)
{
	struct vfi_ep *ep = container_of(fid, struct vfi_ep, ep.fid);
	struct vfi_domain *dom = ep->dom;
	struct timespec t0, t;

	if (ep->eq) {
		pthread_mutex_lock(&ep->eq->lock);
		vfi_eq_del_src(ep->eq, ep);
		ep->eq->refs--;
		pthread_mutex_unlock(&ep->eq->lock);
	}
	vfi_ep_shutdown(ep, FI_ECANCELED);
	/* the NIC may still read our staging copies and the callers'
	 * buffers: wait for the SENDs in flight to complete
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&dom->lock);
	for (;;) {
		vfi_progress(dom);
		if (!ep->ops_busy)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > VFI_CLOSE_DRAIN_MS) {
			VFI_WARN(FI_LOG_EP_CTRL,
				 "closing with %u operations in flight\n",
				 ep->ops_busy);
			break;
		}
		pthread_mutex_unlock(&dom->lock);
		usleep(100);
		pthread_mutex_lock(&dom->lock);
	}
	if (ep->tx_cq)
		ep->tx_cq->refs--;
	if (ep->rx_cq)
		ep->rx_cq->refs--;
	vfi_ep_region_free(ep);
	dom->refs--;
	pthread_mutex_unlock(&dom->lock);
	if (!ep->ops_busy)
		free(ep->ops);
	/* else leak the ops: a late completion may still name one */
	if (ep->info && ep->info->handle &&
	    vfi_creq_live(ep->info->handle, false))
		fi_close(ep->info->handle);
	if (ep->info)
		ep->info->handle = NULL;
	fi_freeinfo(ep->info);
	free(ep);
	return 0;
}

static int vfi_ep_bind(struct fid *fid, struct fid *bfid, uint64_t flags)
{
	struct vfi_ep *ep = container_of(fid, struct vfi_ep, ep.fid);
	struct vfi_cq *cq;
	struct vfi_eq *eq;

	switch (bfid->fclass) {
	case FI_CLASS_CQ:
		cq = container_of(bfid, struct vfi_cq, cq.fid);
		if (cq->dom != ep->dom ||
		    (flags & ~(FI_TRANSMIT | FI_RECV | FI_SELECTIVE_COMPLETION)))
			return -FI_EINVAL;
		pthread_mutex_lock(&ep->dom->lock);
		if (flags & FI_TRANSMIT) {
			if (ep->tx_cq)
				ep->tx_cq->refs--;
			ep->tx_cq = cq;
			cq->refs++;
			ep->tx_sel = flags & FI_SELECTIVE_COMPLETION;
		}
		if (flags & FI_RECV) {
			if (ep->rx_cq)
				ep->rx_cq->refs--;
			ep->rx_cq = cq;
			cq->refs++;
			ep->rx_sel = flags & FI_SELECTIVE_COMPLETION;
		}
		pthread_mutex_unlock(&ep->dom->lock);
		return 0;
	case FI_CLASS_EQ:
		if (ep->eq)
			return -FI_EINVAL;
		eq = container_of(bfid, struct vfi_eq, eq.fid);
		pthread_mutex_lock(&eq->lock);
		eq->refs++;
		pthread_mutex_unlock(&eq->lock);
		ep->eq = eq;
		return 0;
	default:
		return -FI_ENOSYS;
	}
}

static int vfi_ep_control(struct fid *fid, int command, void *arg)
{
	struct vfi_ep *ep = container_of(fid, struct vfi_ep, ep.fid);
	uint64_t *f;

	switch (command) {
	case FI_ENABLE:
		if (!ep->tx_cq || !ep->rx_cq)
			return -FI_ENOCQ;
		if (!ep->eq)
			return -FI_ENOEQ;
		return 0;
	case FI_GETOPSFLAG:	/* *f: FI_TRANSMIT or FI_RECV in, flags out */
		f = arg;
		*f = (*f & FI_TRANSMIT) ? ep->tx_flags : ep->rx_flags;
		return 0;
	case FI_SETOPSFLAG:
		f = arg;
		if (*f & FI_TRANSMIT)
			ep->tx_flags = *f & ~FI_TRANSMIT;
		else
			ep->rx_flags = *f & ~FI_RECV;
		return 0;
	default:
		return -FI_ENOSYS;
	}
}

static struct fi_ops vfi_ep_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_ep_close,
	.bind = vfi_ep_bind,
	.control = vfi_ep_control,
	.ops_open = vfi_no_ops_open,
};

static ssize_t vfi_ep_cancel(fid_t fid, void *context)
{
	struct vfi_ep *ep = container_of(fid, struct vfi_ep, ep.fid);
	struct vfi_op *op, *prev = NULL;
	ssize_t ret = -FI_ENOENT;

	pthread_mutex_lock(&ep->dom->lock);
	/* a receive that has taken no data yet */
	for (op = ep->rxq.head; op; prev = op, op = op->next) {
		if (op->context != context || op->done)
			continue;
		if (prev)
			prev->next = op->next;
		else
			ep->rxq.head = op->next;
		if (ep->rxq.tail == op)
			ep->rxq.tail = prev;
		vfi_cq_push_err(ep->rx_cq, op->context, FI_RECV | FI_MSG,
				FI_ECANCELED, 0, 0, 0);
		vfi_op_put(op);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&ep->dom->lock);
	return ret;
}

static int vfi_ep_getopt(fid_t fid, int level, int optname, void *optval,
			 size_t *optlen)
{
	if (level != FI_OPT_ENDPOINT)
		return -FI_ENOPROTOOPT;
	if (optname != FI_OPT_CM_DATA_SIZE)
		return -FI_ENOPROTOOPT;
	if (*optlen < sizeof(size_t)) {
		*optlen = sizeof(size_t);
		return -FI_ETOOSMALL;
	}
	*(size_t *)optval = VFI_CM_DATA;
	*optlen = sizeof(size_t);
	return 0;
}

static int vfi_ep_setopt(fid_t fid, int level, int optname,
			 const void *optval, size_t optlen)
{
	return -FI_ENOPROTOOPT;
}

static int vfi_no_ctx(struct fid_ep *sep, int index, struct fi_tx_attr *attr,
		      struct fid_ep **tx_ep, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_no_rxctx(struct fid_ep *sep, int index,
			struct fi_rx_attr *attr, struct fid_ep **rx_ep,
			void *context)
{
	return -FI_ENOSYS;
}

static ssize_t vfi_rx_size_left(struct fid_ep *fep)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	return (ssize_t)(ep->nops - ep->ops_busy);
}

static ssize_t vfi_pep_cancel(fid_t fid, void *context)
{
	return -FI_ENOSYS;
}

static ssize_t vfi_no_size_left(struct fid_ep *fep)
{
	return -FI_ENOSYS;
}

static struct fi_ops_ep vfi_ep_ops = {
	.size = sizeof(struct fi_ops_ep),
	.cancel = vfi_ep_cancel,
	.getopt = vfi_ep_getopt,
	.setopt = vfi_ep_setopt,
	.tx_ctx = vfi_no_ctx,
	.rx_ctx = vfi_no_rxctx,
	.rx_size_left = vfi_rx_size_left,
	.tx_size_left = vfi_rx_size_left,
};

struct fi_ops_ep vfi_pep_ep_ops = {
	.size = sizeof(struct fi_ops_ep),
	.cancel = vfi_pep_cancel,
	.getopt = vfi_ep_getopt,
	.setopt = vfi_ep_setopt,
	.tx_ctx = vfi_no_ctx,
	.rx_ctx = vfi_no_rxctx,
	.rx_size_left = vfi_no_size_left,
	.tx_size_left = vfi_no_size_left,
};

int vfi_endpoint(struct fid_domain *domain, struct fi_info *info,
		 struct fid_ep **out, void *context)
{
	struct vfi_domain *dom = container_of(domain, struct vfi_domain, dom);
	struct vfi_ep *ep;
	size_t i;

	if (!info || (info->ep_attr && info->ep_attr->type != FI_EP_MSG &&
		      info->ep_attr->type != FI_EP_UNSPEC))
		return -FI_EINVAL;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -FI_ENOMEM;
	ep->info = fi_dupinfo(info);
	ep->nops = 2 * 256 + 16;
	ep->ops = calloc(ep->nops, sizeof(*ep->ops));
	if (!ep->info || !ep->ops) {
		fi_freeinfo(ep->info);
		free(ep->ops);
		free(ep);
		return -FI_ENOMEM;
	}
	/* the request is the endpoint's now (fi_dupinfo copied the
	 * pointer); fi_accept or close releases it
	 */
	for (i = 0; i < ep->nops; i++) {
		ep->ops[i].ep = ep;
		ep->ops[i].next = ep->free_ops;
		ep->free_ops = &ep->ops[i];
	}
	ep->dom = dom;
	ep->sock = -1;
	ep->state = VFI_IDLE;
	if (info->tx_attr)
		ep->tx_flags = info->tx_attr->op_flags;
	if (info->rx_attr)
		ep->rx_flags = info->rx_attr->op_flags;
	ep->ep.fid.fclass = FI_CLASS_EP;
	ep->ep.fid.context = context;
	ep->ep.fid.ops = &vfi_ep_fi_ops;
	ep->ep.ops = &vfi_ep_ops;
	ep->ep.cm = &vfi_ep_cm_ops;
	ep->ep.msg = &vfi_msg_ops;
	ep->ep.rma = &vfi_rma_ops;
	pthread_mutex_lock(&dom->lock);
	dom->refs++;
	pthread_mutex_unlock(&dom->lock);
	*out = &ep->ep;
	return 0;
}

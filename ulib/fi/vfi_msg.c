// SPDX-License-Identifier: MIT
/*
 * vfi_msg.c - FI_MSG send and receive over the peers' rings (the layout is
 * in vfi.h), the completions of the NIC's SENDs, and per-endpoint
 * progress. Everything here runs under dom->lock.
 *
 * A send is posted fragment by fragment as credit (ring slots the peer has
 * freed) and SQ room allow; the rest waits in ep->txq and goes on at the
 * next progress. Its completion is reported when every SEND of it has
 * completed, that is when all of it is in the peer's memory (so it is
 * also FI_DELIVERY_COMPLETE's "available to the peer"). Payload is sent
 * from the caller's buffer (libvmmc pins it in its translation cache);
 * inline messages and headers are sent from per-slot staging copies that
 * stay unchanged until the peer has consumed the slot.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "vfi.h"

/* ---- operations ---- */

struct vfi_op *vfi_op_get(struct vfi_ep *ep)
{
	struct vfi_op *op = ep->free_ops;

	if (!op)
		return NULL;
	ep->free_ops = op->next;
	memset(op, 0, offsetof(struct vfi_op, inject));
	op->gen++;
	op->ep = ep;
	op->imp = op->imp2 = -1;
	ep->ops_busy++;
	return op;
}

void vfi_op_put(struct vfi_op *op)
{
	struct vfi_ep *ep = op->ep;

	if (op->imp >= 0)
		ep->dom->imps[op->imp].busy--;
	if (op->imp2 >= 0)
		ep->dom->imps[op->imp2].busy--;
	if (op->redir)
		vfi_redir_abandon(op);
	/* a direct read's export (requester) or import (responder) */
	if (op->rd_exported)
		vmmc_unexport(&ep->dom->vep, op->rd_export);
	if (op->direct && !op->land)
		vmmc_unimport(&ep->dom->vep, op->import);
	op->rd_exported = op->direct = false;
	op->next = ep->free_ops;
	ep->free_ops = op;
	ep->ops_busy--;
}

void vfi_op_enqueue(struct vfi_queue *q, struct vfi_op *op)
{
	op->next = NULL;
	if (q->tail)
		q->tail->next = op;
	else
		q->head = op;
	q->tail = op;
}

static struct vfi_op *vfi_op_dequeue(struct vfi_queue *q)
{
	struct vfi_op *op = q->head;

	if (op) {
		q->head = op->next;
		if (!q->head)
			q->tail = NULL;
	}
	return op;
}

/* A send or write with nothing left to post or in flight: report it. */
static void vfi_tx_complete(struct vfi_op *op)
{
	struct vfi_ep *ep = op->ep;

	VFI_TR("tx_done", op, op->kind, op->len);
	if (op->err)
		vfi_cq_push_err(ep->tx_cq, op->context, op->flags, op->err,
				op->prov_err, 0, 0);
	else if (op->comp)
		vfi_cq_push(ep->tx_cq, op->context, op->flags, 0, NULL, 0);
	vfi_op_put(op);
}

void vfi_op_fail_all(struct vfi_ep *ep, int err)
{
	struct vfi_op *op;

	while ((op = vfi_op_dequeue(&ep->rxq))) {
		vfi_cq_push_err(ep->rx_cq, op->context, op->flags, err, 0, 0,
				0);
		vfi_op_put(op);
	}
	while ((op = vfi_op_dequeue(&ep->lwait)) ||
	       (op = vfi_op_dequeue(&ep->txq))) {
		op->queued = false;
		if (!op->err)
			op->err = err;
		vfi_tx_maybe_done(op);
	}
	/* reads waiting for a response that cannot come now */
	for (size_t i = 0; i < ep->nops; i++) {
		op = &ep->ops[i];
		if (op->kind == VFI_K_READ && op->wait_resp) {
			op->wait_resp = false;
			if (op->redir)
				vfi_redir_abandon(op);
			if (!op->err)
				op->err = err;
			vfi_tx_maybe_done(op);
		}
	}
}

/* ---- helpers ---- */

size_t vfi_iov_len(const struct iovec *iov, size_t count)
{
	size_t i, n = 0;

	for (i = 0; i < count; i++)
		n += iov[i].iov_len;
	return n;
}

/* Copy len bytes to the iov at byte offset off (clipped to its room). */
void vfi_iov_put(struct vfi_op *op, size_t off, const void *src,
			size_t len)
{
	size_t i;

	for (i = 0; i < op->iov_count && len; i++) {
		size_t l = op->iov[i].iov_len, n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off < len ? l - off : len;
		memcpy((char *)op->iov[i].iov_base + off, src, n);
		src = (const char *)src + n;
		len -= n;
		off = 0;
	}
}

/* Gather len bytes of the op's iov from its start. */
void vfi_iov_get(const struct vfi_op *op, void *dst, size_t len)
{
	size_t i, n;

	for (i = 0; i < op->iov_count && len; i++) {
		n = op->iov[i].iov_len < len ? op->iov[i].iov_len : len;
		memcpy(dst, op->iov[i].iov_base, n);
		dst = (char *)dst + n;
		len -= n;
	}
}

/*
 * The check word of a header (its check field taken as zero) and of an
 * inline payload: FNV-1a, 64 bits. It catches a header or inline payload
 * read while the NIC was still writing it (the reader retries) and stray
 * data; it is no defence against a malicious peer, who can only spoil
 * its own connection (every field is checked before use).
 */
static uint64_t vfi_fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t vfi_check(const struct vfi_hdr *h, const void *data,
			  size_t len)
{
	struct vfi_hdr c = *h;

	c.check = 0;
	return vfi_fnv(vfi_fnv(0xcbf29ce484222325ull, &c, sizeof(c)), data,
		       len);
}

bool vfi_sq_room(struct vfi_ep *ep, uint32_t n)
{
	struct vmmc_ep *v = &ep->dom->vep;
	uint32_t cons = vmmc_load_acquire(&v->ksq->cons);
	uint32_t used = v->sq_prod + v->sq_pending - cons;

	return used + n <= v->sq_entries;
}

/* Slots we may fill now: the peer's credit word, checked. */
static uint32_t vfi_credit(struct vfi_ep *ep)
{
	uint64_t c = __atomic_load_n((uint64_t *)ep->region, __ATOMIC_ACQUIRE);
	uint32_t out = ep->tx_seq - (uint32_t)c;

	/* a peer that claims more than we sent only stalls itself */
	return out > VFI_NSLOT ? 0 : VFI_NSLOT - out;
}

static uint64_t vfi_slot_off(uint32_t seq)
{
	return VFI_SLOT0 + (uint64_t)(seq % VFI_NSLOT) * VFI_SLOT_BYTES;
}

static uint8_t *vfi_stage(struct vfi_ep *ep, uint32_t seq)
{
	return ep->stage + (seq % VFI_NSLOT) * (VFI_HDR_BYTES + VFI_INLINE);
}

/* Post one slot: header and len bytes of inline payload from the staging
 * copy, in one SEND. Needs one credit and one SQ entry.
 */
static int vfi_post_inline(struct vfi_ep *ep, struct vfi_op *op,
			   struct vfi_hdr *h, const void *payload, size_t len)
{
	uint8_t *s = vfi_stage(ep, ep->tx_seq);
	int ret;

	h->seq = ep->tx_seq + 1;
	h->flags |= VFI_HF_INLINE;
	h->len = (uint32_t)len;
	if (len)
		memcpy(s + VFI_HDR_BYTES, payload, len);
	h->check = vfi_check(h, s + VFI_HDR_BYTES, len);
	memcpy(s, h, sizeof(*h));
	ret = vmmc_send(&ep->dom->vep, s, VFI_HDR_BYTES + len, ep->import_id,
			vfi_slot_off(ep->tx_seq), VMMC_SQF_NOTIFY,
			(uintptr_t)op | VFI_UD_SLOT);
	if (ret)
		return ret;
	op->inflight++;
	ep->tx_seq++;
	return 0;
}

/* One inline slot for vfi_rma.c: -FI_EAGAIN without credit or room. */
int vfi_post_slot(struct vfi_ep *ep, struct vfi_op *op, struct vfi_hdr *h,
		  const void *payload, size_t len)
{
	if (!vfi_credit(ep) || !vfi_sq_room(ep, 1))
		return -FI_EAGAIN;
	return vfi_post_inline(ep, op, h, payload, len);
}

/*
 * Post the header of the slot whose payload is out (in the staging copy):
 * the fragment is then complete. -EAGAIN: the translation cache had no
 * room for the staging page now (busy with SENDs in flight); try again.
 */
static int vfi_post_hdr(struct vfi_ep *ep, struct vfi_op *op, size_t n)
{
	int ret;

	ret = vmmc_send(&ep->dom->vep, vfi_stage(ep, ep->tx_seq),
			VFI_HDR_BYTES, ep->import_id, vfi_slot_off(ep->tx_seq),
			VMMC_SQF_NOTIFY, (uintptr_t)op | VFI_UD_SLOT);
	if (ret)
		return ret;
	op->inflight++;
	ep->tx_seq++;
	op->done += n;
	op->iov_off += n;
	ep->hdr_pend = false;
	return 0;
}

/*
 * A payload SEND that vmmc_send() refused: 0 to post it again later, or
 * the error. A full SQ waits; so does a translation cache with no room
 * (ENOSPC) or a pin over RLIMIT_MEMLOCK (ENOMEM) while other SENDs are in
 * flight, since their completions free pinned ranges.
 */
int vfi_send_wait(struct vfi_ep *ep, int ret)
{
	struct vmmc_utlb_stats st;

	if (ret == -EAGAIN)
		return 0;
	if (ret == -ENOSPC || ret == -ENOMEM) {
		vmmc_utlb_stats(&ep->dom->vep, &st);
		if (st.inflight)
			return 0;
	}
	return vfi_errno(ret);
}

/* Warm libvmmc's translation cache with a large buffer as one range, so
 * that its fragments hit (a failure here only means misses later).
 */
void vfi_pin_iov(struct vfi_ep *ep, const struct vfi_op *op)
{
	size_t i;

	for (i = 0; i < op->iov_count; i++)
		if (op->iov[i].iov_len > VFI_INLINE)
			vmmc_pin(&ep->dom->vep, op->iov[i].iov_base,
				 op->iov[i].iov_len);
}

/*
 * Post what credit and SQ room allow of a send: 1 when all of it is
 * posted, 0 when it must wait, or a negative error.
 */
static int vfi_msg_push(struct vfi_ep *ep, struct vfi_op *op)
{
	struct vfi_hdr h;
	uint8_t buf[VFI_INLINE];
	int ret;

	uint16_t wop = op->kind == VFI_K_RESP ? VFI_OP_RRESP : VFI_OP_MSG;

	if (op->len <= VFI_INLINE || op->err) {
		if (!vfi_credit(ep) || !vfi_sq_room(ep, 1))
			return 0;
		h = (struct vfi_hdr){ .op = wop, .total = (uint32_t)op->len,
				      .flags = VFI_HF_FIRST | VFI_HF_LAST,
				      .data = op->data };
		if (op->err) {	/* a refused read: the reason, no data */
			h.flags |= VFI_HF_ERR;
			h.total = (uint32_t)op->err;
			op->len = 0;
			op->err = 0;
		}
		if (op->flags & FI_REMOTE_CQ_DATA)
			h.flags |= VFI_HF_DATA;
		vfi_iov_get(op, buf, op->len);
		ret = vfi_post_inline(ep, op, &h, buf, op->len);
		if (ret)
			return ret == -EAGAIN ? 0 : vfi_errno(ret);
		op->done = op->len;
		return 1;
	}
	if (!op->done && !ep->hdr_pend)
		vfi_pin_iov(ep, op);
	while (op->done < op->len) {
		const struct iovec *v = &op->iov[op->iov_i];
		size_t n = v->iov_len - op->iov_off;

		if (ep->hdr_pend) {	/* the payload went, its header not */
			ret = vfi_post_hdr(ep, op, ep->hdr_pend_len);
			if (ret)
				return ret == -EAGAIN ? 0 : vfi_errno(ret);
			continue;
		}
		if (!n) {
			op->iov_i++;
			op->iov_off = 0;
			continue;
		}
		if (!vfi_credit(ep) || !vfi_sq_room(ep, 2))
			return 0;
		if (n > VFI_SLOT_DATA)
			n = VFI_SLOT_DATA;
		h = (struct vfi_hdr){ .seq = ep->tx_seq + 1, .op = wop,
				      .len = (uint32_t)n,
				      .total = (uint32_t)op->len,
				      .data = op->data };
		if (!op->done)
			h.flags |= VFI_HF_FIRST;
		if (op->done + n == op->len)
			h.flags |= VFI_HF_LAST;
		if (op->flags & FI_REMOTE_CQ_DATA)
			h.flags |= VFI_HF_DATA;
		h.check = vfi_check(&h, NULL, 0);
		/* payload, then header: to one import, they land in order */
		ret = vmmc_send(&ep->dom->vep,
				(const char *)v->iov_base + op->iov_off, n,
				ep->import_id,
				vfi_slot_off(ep->tx_seq) + VFI_HDR_BYTES, 0,
				(uintptr_t)op);
		if (ret)
			return vfi_send_wait(ep, ret);
		op->inflight++;
		memcpy(vfi_stage(ep, ep->tx_seq), &h, sizeof(h));
		ep->hdr_pend = true;
		ep->hdr_pend_len = n;
	}
	return 1;
}

static void vfi_tx_push(struct vfi_ep *ep)
{
	struct vfi_queue *q;
	struct vfi_op *op;
	int ret;

	/* parked reads first (until one must wait again), then txq */
	for (q = ep->lwait.head ? &ep->lwait : &ep->txq; (op = q->head);) {
		if (op->kind == VFI_K_WRITE || op->kind == VFI_K_READ ||
		    op->direct)
			ret = vfi_rma_push(ep, op);
		else
			ret = vfi_msg_push(ep, op);
		if (ret == VFI_PUSH_PARK && q == &ep->txq) {
			vfi_op_dequeue(q);
			vfi_op_enqueue(&ep->lwait, op);
			continue;
		}
		if (!ret || ret == VFI_PUSH_PARK) {
			if (q == &ep->txq)
				return;
			q = &ep->txq;
			continue;
		}
		vfi_op_dequeue(q);
		if (q == &ep->lwait && !ep->lwait.head)
			q = &ep->txq;
		op->queued = false;
		if (ret < 0 && !op->err) {
			VFI_WARN(FI_LOG_EP_DATA, "posting a SEND: %s\n",
				 fi_strerror(-ret));
			op->err = -ret;
		}
		vfi_tx_maybe_done(op);
	}
}

void vfi_send_done(struct vfi_op *op, const struct vmmc_cqe *cqe)
{
	op->inflight--;
	VFI_TR("send_cqe", op, op->kind, op->inflight);
	if (cqe->status != VMMC_ST_OK && !op->err) {
		op->err = cqe->status == VMMC_ST_RANGE ? FI_EINVAL :
			  cqe->status == VMMC_ST_REVOKED ? FI_ECONNRESET :
			  FI_EIO;
		op->prov_err = (int)cqe->status;
	}
	vfi_tx_maybe_done(op);
}

/* Report a send, write or read that has nothing left to do. */
void vfi_tx_maybe_done(struct vfi_op *op)
{
	if (op->inflight || op->queued || op->wait_resp)
		return;
	if ((op->wdata || op->direct) && !op->wdata_sent &&
	    (!op->err || op->direct) && op->ep->state != VFI_SHUT) {
		/* the data is in place (or a direct response failed): now
		 * the notice
		 */
		op->queued = true;
		vfi_op_enqueue(&op->ep->txq, op);
		return;
	}
	if (op->kind == VFI_K_RESP) {	/* ours: nobody to tell */
		vfi_op_put(op);
		return;
	}
	vfi_tx_complete(op);
}

/* ---- receive ---- */

static void vfi_send_credit(struct vfi_ep *ep)
{
	uint64_t *w;

	if (ep->rx_seq - ep->rx_reported < VFI_NSLOT / 4 ||
	    !vfi_sq_room(ep, 1))
		return;
	/* the value only grows: a word overwritten before the NIC read it
	 * gives the peer a newer count, which is as good
	 */
	w = &ep->credit_src[ep->credit_i++ % 4];
	*w = ep->rx_seq;
	if (!vmmc_send(&ep->dom->vep, w, sizeof(*w), ep->import_id, 0,
		       VMMC_SQF_NOTIFY, 0))
		ep->rx_reported = ep->rx_seq;
}

static void vfi_rx_broken(struct vfi_ep *ep, const char *why)
{
	VFI_WARN(FI_LOG_EP_DATA, "peer broke the ring protocol (%s)\n", why);
	ep->state = VFI_SHUT;
	vfi_op_fail_all(ep, FI_EIO);
	/* the peer and our EQ (FI_SHUTDOWN) see the end on the side channel */
	if (ep->sock >= 0)
		shutdown(ep->sock, SHUT_RDWR);
}

/* Take what the peer wrote into posted receives. */
static void vfi_ep_rx(struct vfi_ep *ep)
{
	uint8_t tmp[VFI_INLINE];
	struct vfi_hdr h;
	struct vfi_op *r;

	while (ep->state == VFI_CONNECTED || ep->state == VFI_ACCEPTING) {
		const uint8_t *base = (uint8_t *)ep->region +
				      vfi_slot_off(ep->rx_seq);
		uint32_t seq = __atomic_load_n((const uint32_t *)base,
					       __ATOMIC_ACQUIRE);
		const void *payload = base + VFI_HDR_BYTES;

		if (seq != ep->rx_seq + 1)
			break;
		memcpy(&h, base, sizeof(h));
		if (h.len > VFI_SLOT_DATA ||
		    ((h.flags & VFI_HF_INLINE) && h.len > VFI_INLINE))
			break;		/* torn or garbage: checked below */
		if (h.flags & VFI_HF_INLINE) {
			memcpy(tmp, payload, h.len);
			payload = tmp;
		}
		if (vfi_check(&h, (h.flags & VFI_HF_INLINE) ? tmp : NULL,
			      (h.flags & VFI_HF_INLINE) ? h.len : 0) != h.check)
			break;		/* still landing: look again later */
		/* first the completions of the slots the peer may have seen
		 * (all we had sent when we first saw this one): ofi_rxm's
		 * rendezvous write needs that order, and the NIC's acks may
		 * come after the peer's answer (never waiting for the peer)
		 */
		vfi_cqes(ep->dom);
		if (ep->rx_gate_for != ep->rx_seq + 1) {
			ep->rx_gate_for = ep->rx_seq + 1;
			ep->rx_gate = ep->tx_seq;
		}
		if ((int32_t)(ep->tx_cqes - ep->rx_gate) < 0)
			break;
		if (h.op == VFI_OP_WDATA) {
			if (ep->rx_cq)
				vfi_cq_push(ep->rx_cq, NULL,
					    FI_RMA | FI_REMOTE_WRITE |
					    FI_REMOTE_CQ_DATA, 0, NULL, h.data);
			ep->rx_seq++;
			continue;
		}
		if (h.op == VFI_OP_RREQ || h.op == VFI_OP_RRESP) {
			int r2 = vfi_rma_rx(ep, &h, payload);

			if (r2 < 0) {
				vfi_rx_broken(ep, "bad read");
				return;
			}
			if (!r2)
				break;
			ep->rx_seq++;
			continue;
		}
		if (h.op != VFI_OP_MSG || h.total > VFI_MAX_MSG) {
			vfi_rx_broken(ep, "bad header");
			return;
		}
		r = ep->rxq.head;
		if (!r)
			break;		/* it waits in the ring for a receive */
		if (!!(h.flags & VFI_HF_FIRST) == !!ep->rx_inmsg ||
		    (ep->rx_inmsg && h.total != r->total) ||
		    r->done + h.len > h.total ||
		    (!!(h.flags & VFI_HF_LAST) != (r->done + h.len == h.total))) {
			vfi_rx_broken(ep, "bad fragment");
			return;
		}
		if (h.flags & VFI_HF_FIRST) {
			r->total = h.total;
			r->trunc = h.total > r->len;
			ep->rx_inmsg = true;
		}
		vfi_iov_put(r, r->done, payload, h.len);
		r->done += h.len;
		ep->rx_seq++;
		if (!(h.flags & VFI_HF_LAST))
			continue;
		ep->rx_inmsg = false;
		VFI_TR("recv_done", r, r->total, 0);
		vfi_op_dequeue(&ep->rxq);
		if (r->trunc)
			vfi_cq_push_err(ep->rx_cq, r->context, r->flags,
					FI_ETRUNC, 0, r->len, r->total - r->len);
		else if (r->comp)
			vfi_cq_push(ep->rx_cq, r->context,
				    r->flags | ((h.flags & VFI_HF_DATA) ?
						FI_REMOTE_CQ_DATA : 0),
				    r->total, r->iov[0].iov_base,
				    (h.flags & VFI_HF_DATA) ? h.data : 0);
		vfi_op_put(r);
	}
	if (ep->state == VFI_CONNECTED || ep->state == VFI_ACCEPTING)
		vfi_send_credit(ep);
}

/*
 * Is the peer still there? Its TCP connection ends when it closes or dies
 * (kill -9): then what waits on it fails now, whether or not anyone reads
 * the EQ (which reports FI_SHUTDOWN when it sees the same end). Looked at
 * every VFI_PROBE_NS at most, from a cheap count of progress calls.
 */
#define VFI_PROBE_NS	100000000ull

static void vfi_ep_probe(struct vfi_ep *ep)
{
	struct timespec ts;
	uint64_t now;
	ssize_t r;
	char c;

	if (++ep->probe_calls % 256 || ep->sock < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now - ep->probe_ns < VFI_PROBE_NS)
		return;
	ep->probe_ns = now;
	r = recv(ep->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		       errno != EINTR)) {
		VFI_WARN(FI_LOG_EP_DATA, "the peer is gone\n");
		ep->state = VFI_SHUT;
		vfi_op_fail_all(ep, FI_ECONNRESET);
	}
}

void vfi_ep_progress(struct vfi_ep *ep)
{
	if (ep->state != VFI_CONNECTED && ep->state != VFI_ACCEPTING)
		return;
	vfi_ep_probe(ep);
	vfi_ep_rx(ep);
	vfi_tx_push(ep);
}

/* ---- posting ---- */

/*
 * Check a post and take an operation for it, its iov and length filled
 * in: 0 with dom->lock held, or a negative error without it. need_conn:
 * only on a connected endpoint (a receive may be posted before).
 */
ssize_t vfi_op_begin(struct vfi_ep *ep, const struct iovec *iov,
		     size_t count, size_t max, uint64_t flags, bool need_conn,
		     struct vfi_op **out)
{
	struct vfi_op *op;
	size_t len;

	if (count > 4 || (count && !iov))
		return -FI_EINVAL;
	len = vfi_iov_len(iov, count);
	if (len > max || ((flags & FI_INJECT) && len > VFI_INLINE))
		return -FI_EINVAL;
	pthread_mutex_lock(&ep->dom->lock);
	if (ep->state == VFI_SHUT ||
	    (need_conn && ep->state != VFI_CONNECTED &&
	     ep->state != VFI_ACCEPTING)) {
		pthread_mutex_unlock(&ep->dom->lock);
		return -FI_ENOTCONN;
	}
	op = vfi_op_get(ep);
	if (!op) {
		vfi_progress(ep->dom);
		pthread_mutex_unlock(&ep->dom->lock);
		return -FI_EAGAIN;
	}
	op->len = len;
	if (count)
		memcpy(op->iov, iov, count * sizeof(*iov));
	op->iov_count = count;
	*out = op;
	return 0;
}

static ssize_t vfi_post(struct vfi_ep *ep, const struct iovec *iov,
			size_t count, void *context, uint64_t data,
			uint64_t flags, bool tx)
{
	struct vfi_op *op;
	ssize_t ret;

	ret = vfi_op_begin(ep, iov, count, VFI_MAX_MSG, flags, tx, &op);
	if (ret)
		return ret;
	op->context = context;
	op->data = data;
	if (tx) {
		op->flags = FI_SEND | FI_MSG | (flags & FI_REMOTE_CQ_DATA);
		op->comp = !(flags & FI_INJECT) &&
			   (!ep->tx_sel || (flags & FI_COMPLETION));
		if (flags & FI_INJECT) {
			vfi_iov_get(op, op->inject, op->len);
			op->iov[0].iov_base = op->inject;
			op->iov[0].iov_len = op->len;
			op->iov_count = 1;
		}
		op->queued = true;
		VFI_TR("send_post", op, op->len, 0);
		vfi_op_enqueue(&ep->txq, op);
		vfi_tx_push(ep);
	} else {
		op->flags = FI_RECV | FI_MSG;
		op->comp = !ep->rx_sel || (flags & FI_COMPLETION);
		vfi_op_enqueue(&ep->rxq, op);
		vfi_ep_progress(ep);
	}
	pthread_mutex_unlock(&ep->dom->lock);
	return 0;
}

static ssize_t vfi_recv(struct fid_ep *fep, void *buf, size_t len, void *desc,
			fi_addr_t src_addr, void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return vfi_post(ep, &iov, 1, context, 0, ep->rx_flags, false);
}

static ssize_t vfi_recvv(struct fid_ep *fep, const struct iovec *iov,
			 void **desc, size_t count, fi_addr_t src_addr,
			 void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	return vfi_post(ep, iov, count, context, 0, ep->rx_flags, false);
}

static ssize_t vfi_recvmsg(struct fid_ep *fep, const struct fi_msg *msg,
			   uint64_t flags)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	if (flags & FI_MULTI_RECV)
		return -FI_EINVAL;
	return vfi_post(ep, msg->msg_iov, msg->iov_count, msg->context, 0,
			flags, false);
}

static ssize_t vfi_send(struct fid_ep *fep, const void *buf, size_t len,
			void *desc, fi_addr_t dest_addr, void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_post(ep, &iov, 1, context, 0, ep->tx_flags, true);
}

static ssize_t vfi_sendv(struct fid_ep *fep, const struct iovec *iov,
			 void **desc, size_t count, fi_addr_t dest_addr,
			 void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	return vfi_post(ep, iov, count, context, 0, ep->tx_flags, true);
}

static ssize_t vfi_sendmsg(struct fid_ep *fep, const struct fi_msg *msg,
			   uint64_t flags)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	return vfi_post(ep, msg->msg_iov, msg->iov_count, msg->context,
			msg->data, flags, true);
}

static ssize_t vfi_inject(struct fid_ep *fep, const void *buf, size_t len,
			  fi_addr_t dest_addr)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_post(ep, &iov, 1, NULL, 0, FI_INJECT, true);
}

static ssize_t vfi_senddata(struct fid_ep *fep, const void *buf, size_t len,
			    void *desc, uint64_t data, fi_addr_t dest_addr,
			    void *context)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_post(ep, &iov, 1, context, data,
			ep->tx_flags | FI_REMOTE_CQ_DATA, true);
}

static ssize_t vfi_injectdata(struct fid_ep *fep, const void *buf, size_t len,
			      uint64_t data, fi_addr_t dest_addr)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return vfi_post(ep, &iov, 1, NULL, data,
			FI_INJECT | FI_REMOTE_CQ_DATA, true);
}

struct fi_ops_msg vfi_msg_ops = {
	.size = sizeof(struct fi_ops_msg),
	.recv = vfi_recv,
	.recvv = vfi_recvv,
	.recvmsg = vfi_recvmsg,
	.send = vfi_send,
	.sendv = vfi_sendv,
	.sendmsg = vfi_sendmsg,
	.inject = vfi_inject,
	.senddata = vfi_senddata,
	.injectdata = vfi_injectdata,
};

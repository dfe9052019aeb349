// SPDX-License-Identifier: MIT
/*
 * vfi_cq.c - completion queues, fi_trywait.
 *
 * A CQ lives under its domain's lock. Reading it makes progress (manual
 * progress: the NIC's completions and the peers' rings are looked at only
 * here). Waiting is competitive: fi_cq_sread polls for a while, then
 * blocks in epoll on the CQ's wait fd, an epoll set holding the domain's
 * vmmc fd (readable when the NIC's CQ or notification queue has an entry:
 * a send completed or a peer wrote to a ring with a notification) and an
 * eventfd that wakes a waiter when another thread's progress put a
 * completion here. fi_control(FI_GETWAIT) hands out the epoll fd for
 * fi_trywait().
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "vfi.h"

/* a blocked reader looks again this often (the peers' liveness probe) */
#define VFI_BLOCK_MAX_MS	100

static size_t vfi_cq_entry_size(enum fi_cq_format f)
{
	switch (f) {
	case FI_CQ_FORMAT_CONTEXT:
		return sizeof(struct fi_cq_entry);
	case FI_CQ_FORMAT_MSG:
		return sizeof(struct fi_cq_msg_entry);
	case FI_CQ_FORMAT_DATA:
		return sizeof(struct fi_cq_data_entry);
	default:
		return sizeof(struct fi_cq_tagged_entry);
	}
}

static bool vfi_ring_grow(struct vfi_cqe **ring, uint32_t *size,
			  uint32_t *head, uint32_t *tail)
{
	uint32_t n = *head - *tail, i;
	struct vfi_cqe *r;

	if (n < *size)
		return true;
	r = malloc(sizeof(*r) * *size * 2);
	if (!r)
		return false;
	for (i = 0; i < n; i++)
		r[i] = (*ring)[(*tail + i) % *size];
	free(*ring);
	*ring = r;
	*size *= 2;
	*tail = 0;
	*head = n;
	return true;
}

static void vfi_cq_wake(struct vfi_cq *cq)
{
	uint64_t one = 1;

	if (cq->evfd >= 0 && cq->armed) {
		cq->armed = false;
		if (write(cq->evfd, &one, sizeof(one)) < 0)
			VFI_WARN(FI_LOG_CQ, "eventfd: %s\n", strerror(errno));
	}
}

/* A new entry in the ring or the error ring, NULL if out of memory. */
static struct vfi_cqe *vfi_cq_add(struct vfi_cq *cq, bool err, void *context,
				  uint64_t flags, size_t len)
{
	struct vfi_cqe *e;
	bool room = err ? vfi_ring_grow(&cq->errs, &cq->esize, &cq->ehead,
					&cq->etail) :
			  vfi_ring_grow(&cq->ring, &cq->size, &cq->head,
					&cq->tail);

	if (!room) {
		cq->overflow++;
		VFI_WARN(FI_LOG_CQ, "out of memory: a completion is lost\n");
		return NULL;
	}
	e = err ? &cq->errs[cq->ehead++ % cq->esize] :
		  &cq->ring[cq->head++ % cq->size];
	memset(e, 0, sizeof(*e));
	e->e.op_context = context;
	e->e.flags = flags;
	e->e.len = len;
	vfi_cq_wake(cq);
	return e;
}

/* dom->lock held */
void vfi_cq_push(struct vfi_cq *cq, void *context, uint64_t flags,
		 size_t len, void *buf, uint64_t data)
{
	struct vfi_cqe *e = vfi_cq_add(cq, false, context, flags, len);

	if (e) {
		e->e.buf = buf;
		e->e.data = data;
	}
}

/* dom->lock held; err positive FI_E* */
void vfi_cq_push_err(struct vfi_cq *cq, void *context, uint64_t flags,
		     int err, int prov_err, size_t len, size_t olen)
{
	struct vfi_cqe *e = vfi_cq_add(cq, true, context, flags, len);

	if (e) {
		e->err = err;
		e->prov_err = prov_err;
		e->olen = olen;
	}
}

static void vfi_copy_entry(struct vfi_cq *cq, void *dst,
			   const struct fi_cq_tagged_entry *e)
{
	memcpy(dst, e, vfi_cq_entry_size(cq->format));
}

static ssize_t vfi_cq_readfrom(struct fid_cq *fcq, void *buf, size_t count,
			       fi_addr_t *src_addr)
{
	struct vfi_cq *cq = container_of(fcq, struct vfi_cq, cq);
	size_t esz = vfi_cq_entry_size(cq->format), n = 0;
	ssize_t ret;

	pthread_mutex_lock(&cq->dom->lock);
	vfi_progress(cq->dom);
	if (cq->ehead != cq->etail) {
		ret = -FI_EAVAIL;
		goto out;
	}
	while (n < count && cq->head != cq->tail) {
		vfi_copy_entry(cq, (char *)buf + n * esz,
			       &cq->ring[cq->tail++ % cq->size].e);
		if (src_addr)
			src_addr[n] = FI_ADDR_NOTAVAIL;
		n++;
	}
	ret = n ? (ssize_t)n : -FI_EAGAIN;
out:
	pthread_mutex_unlock(&cq->dom->lock);
	return ret;
}

static ssize_t vfi_cq_read(struct fid_cq *fcq, void *buf, size_t count)
{
	return vfi_cq_readfrom(fcq, buf, count, NULL);
}

static ssize_t vfi_cq_readerr(struct fid_cq *fcq, struct fi_cq_err_entry *buf,
			      uint64_t flags)
{
	struct vfi_cq *cq = container_of(fcq, struct vfi_cq, cq);
	struct vfi_cqe e;

	pthread_mutex_lock(&cq->dom->lock);
	if (cq->ehead == cq->etail) {
		pthread_mutex_unlock(&cq->dom->lock);
		return -FI_EAGAIN;
	}
	e = cq->errs[cq->etail++ % cq->esize];
	pthread_mutex_unlock(&cq->dom->lock);

	buf->op_context = e.e.op_context;
	buf->flags = e.e.flags;
	buf->len = e.e.len;
	buf->buf = NULL;
	buf->data = 0;
	buf->tag = 0;
	buf->olen = e.olen;
	buf->err = e.err;
	buf->prov_errno = e.prov_err;
	/* no provider error data: err_data_size (1.5 and on) says so */
	if (FI_VERSION_GE(cq->api_version, FI_VERSION(1, 5)))
		buf->err_data_size = 0;
	else
		buf->err_data = NULL;
	return 1;
}

/* Empty the eventfd and arm it; dom->lock held. */
static void vfi_cq_arm(struct vfi_cq *cq)
{
	uint64_t v;

	if (cq->evfd < 0)
		return;
	while (read(cq->evfd, &v, sizeof(v)) > 0)
		;
	cq->armed = true;
}

static uint64_t vfi_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static ssize_t vfi_cq_sreadfrom(struct fid_cq *fcq, void *buf, size_t count,
				fi_addr_t *src_addr, const void *cond,
				int timeout)
{
	struct vfi_cq *cq = container_of(fcq, struct vfi_cq, cq);
	uint64_t start = vfi_now_ns(), deadline = 0;
	struct vmmc_wait_stats ws;
	struct epoll_event ev;
	ssize_t ret;
	bool empty;
	int ms;

	if (cq->epfd < 0)
		return -FI_ENOSYS;
	if (timeout >= 0)
		deadline = start + (uint64_t)timeout * 1000000ull;
	/* competitive: spin as long as blocking would cost (the driver's
	 * measure, or what vmmc_set_wait_policy() set), then block
	 */
	pthread_mutex_lock(&cq->dom->lock);
	vmmc_wait_stats(&cq->dom->vep, &ws);
	pthread_mutex_unlock(&cq->dom->lock);
	for (;;) {
		ret = vfi_cq_readfrom(fcq, buf, count, src_addr);
		if (ret != -FI_EAGAIN)
			return ret;
		if (vfi_now_ns() - start < ws.spin_ns)
			continue;
		pthread_mutex_lock(&cq->dom->lock);
		vfi_cq_arm(cq);
		vfi_progress(cq->dom);
		empty = cq->head == cq->tail && cq->ehead == cq->etail;
		pthread_mutex_unlock(&cq->dom->lock);
		if (!empty)
			continue;
		ms = VFI_BLOCK_MAX_MS;
		if (deadline) {
			uint64_t now = vfi_now_ns();

			if (now >= deadline)
				return -FI_EAGAIN;
			if ((deadline - now) / 1000000 < VFI_BLOCK_MAX_MS)
				ms = (int)((deadline - now + 999999) / 1000000);
		}
		if (epoll_wait(cq->epfd, &ev, 1, ms) < 0 && errno != EINTR)
			return -errno;
	}
}

static ssize_t vfi_cq_sread(struct fid_cq *fcq, void *buf, size_t count,
			    const void *cond, int timeout)
{
	return vfi_cq_sreadfrom(fcq, buf, count, NULL, cond, timeout);
}

static int vfi_cq_signal(struct fid_cq *fcq)
{
	struct vfi_cq *cq = container_of(fcq, struct vfi_cq, cq);
	uint64_t one = 1;

	if (cq->evfd < 0 || write(cq->evfd, &one, sizeof(one)) < 0)
		return -FI_ENOSYS;
	return 0;
}

static const char *vfi_cq_strerror(struct fid_cq *fcq, int prov_errno,
				   const void *err_data, char *buf, size_t len)
{
	const char *s = prov_errno ? vmmc_status_str((uint32_t)prov_errno) :
				     "no provider error";

	if (buf && len) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	return s;
}

static struct fi_ops_cq vfi_cq_ops = {
	.size = sizeof(struct fi_ops_cq),
	.read = vfi_cq_read,
	.readfrom = vfi_cq_readfrom,
	.readerr = vfi_cq_readerr,
	.sread = vfi_cq_sread,
	.sreadfrom = vfi_cq_sreadfrom,
	.signal = vfi_cq_signal,
	.strerror = vfi_cq_strerror,
};

/* 0: nothing to read, the caller may block on the fd; -FI_EAGAIN */
static int vfi_cq_trywait(struct vfi_cq *cq)
{
	bool empty;

	pthread_mutex_lock(&cq->dom->lock);
	vfi_cq_arm(cq);
	vfi_progress(cq->dom);
	empty = cq->head == cq->tail && cq->ehead == cq->etail;
	pthread_mutex_unlock(&cq->dom->lock);
	return empty ? 0 : -FI_EAGAIN;
}

int vfi_trywait(struct fid_fabric *fabric, struct fid **fids, int count)
{
	int i, ret;

	for (i = 0; i < count; i++) {
		switch (fids[i]->fclass) {
		case FI_CLASS_CQ:
			ret = vfi_cq_trywait(container_of(fids[i],
							  struct vfi_cq,
							  cq.fid));
			break;
		case FI_CLASS_EQ:
			ret = vfi_eq_trywait(container_of(fids[i],
							  struct vfi_eq,
							  eq.fid));
			break;
		default:
			return -FI_EINVAL;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int vfi_cq_control(struct fid *fid, int command, void *arg)
{
	struct vfi_cq *cq = container_of(fid, struct vfi_cq, cq.fid);

	if (command != FI_GETWAIT)
		return -FI_ENOSYS;
	if (cq->epfd < 0)
		return -FI_ENODATA;
	*(int *)arg = cq->epfd;
	return 0;
}

static void vfi_cq_free(struct vfi_cq *cq)
{
	if (cq->epfd >= 0)
		close(cq->epfd);
	if (cq->evfd >= 0)
		close(cq->evfd);
	free(cq->ring);
	free(cq->errs);
	free(cq);
}

static int vfi_cq_close(struct fid *fid)
{
	struct vfi_cq *cq = container_of(fid, struct vfi_cq, cq.fid);
	struct vfi_domain *dom = cq->dom;

	pthread_mutex_lock(&dom->lock);
	if (cq->refs) {
		pthread_mutex_unlock(&dom->lock);
		return -FI_EBUSY;
	}
	dom->refs--;
	pthread_mutex_unlock(&dom->lock);
	vfi_cq_free(cq);
	return 0;
}

static struct fi_ops vfi_cq_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_cq_close,
	.bind = vfi_no_bind,
	.control = vfi_cq_control,
	.ops_open = vfi_no_ops_open,
};

static int vfi_cq_waitfds(struct vfi_cq *cq)
{
	struct epoll_event ev = { .events = EPOLLIN };

	cq->epfd = epoll_create1(EPOLL_CLOEXEC);
	cq->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cq->epfd < 0 || cq->evfd < 0)
		return -errno;
	if (epoll_ctl(cq->epfd, EPOLL_CTL_ADD, cq->evfd, &ev) ||
	    epoll_ctl(cq->epfd, EPOLL_CTL_ADD, cq->dom->vep.fd, &ev))
		return -errno;
	return 0;
}

int vfi_cq_open(struct fid_domain *domain, struct fi_cq_attr *attr,
		struct fid_cq **out, void *context)
{
	struct vfi_domain *dom = container_of(domain, struct vfi_domain, dom);
	struct vfi_cq *cq;
	int ret = 0;

	switch (attr->format) {
	case FI_CQ_FORMAT_UNSPEC:
	case FI_CQ_FORMAT_CONTEXT:
	case FI_CQ_FORMAT_MSG:
	case FI_CQ_FORMAT_DATA:
	case FI_CQ_FORMAT_TAGGED:
		break;
	default:
		return -FI_ENOSYS;
	}
	if (attr->wait_obj != FI_WAIT_NONE && attr->wait_obj != FI_WAIT_UNSPEC &&
	    attr->wait_obj != FI_WAIT_FD)
		return -FI_ENOSYS;
	if (attr->wait_cond != FI_CQ_COND_NONE || (attr->flags & ~FI_AFFINITY))
		return -FI_ENOSYS;
	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return -FI_ENOMEM;
	cq->dom = dom;
	cq->api_version = dom->fab->fab.api_version;
	cq->format = attr->format ? attr->format : FI_CQ_FORMAT_CONTEXT;
	cq->size = attr->size ? (uint32_t)attr->size : VFI_CQ_DEF;
	cq->esize = 16;
	cq->epfd = cq->evfd = -1;
	cq->ring = calloc(cq->size, sizeof(*cq->ring));
	cq->errs = calloc(cq->esize, sizeof(*cq->errs));
	if (!cq->ring || !cq->errs)
		ret = -FI_ENOMEM;
	if (!ret && attr->wait_obj != FI_WAIT_NONE)
		ret = vfi_cq_waitfds(cq);
	if (ret) {
		vfi_cq_free(cq);
		return ret;
	}
	cq->cq.fid.fclass = FI_CLASS_CQ;
	cq->cq.fid.context = context;
	cq->cq.fid.ops = &vfi_cq_fi_ops;
	cq->cq.ops = &vfi_cq_ops;
	pthread_mutex_lock(&dom->lock);
	dom->refs++;
	pthread_mutex_unlock(&dom->lock);
	*out = &cq->cq;
	return 0;
}

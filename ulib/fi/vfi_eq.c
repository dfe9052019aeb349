// SPDX-License-Identifier: MIT
/*
 * vfi_eq.c - event queues: connection management events.
 *
 * The connection manager runs here (manual control progress): reading or
 * waiting on an EQ looks at the side-channel sockets of the passive and
 * active endpoints bound to it (struct vfi_cmsrc) and turns what arrived
 * into events (vfi_cm_event()). The EQ's wait fd is an epoll set of those
 * sockets and an eventfd (fi_eq_write, another thread's events).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "vfi.h"

/* eq->lock held */
int vfi_eq_push(struct vfi_eq *eq, uint32_t event, fid_t fid,
		struct fi_info *info, const void *data, size_t len, int err)
{
	struct vfi_eqe *e;
	uint64_t one = 1;

	if (eq->head - eq->tail >= eq->size) {
		VFI_WARN(FI_LOG_EQ, "event queue full: event %u lost\n", event);
		fi_freeinfo(info);
		return -FI_ENOSPC;
	}
	e = &eq->ring[eq->head++ % eq->size];
	memset(e, 0, sizeof(*e));
	e->event = event;
	e->err = err;
	e->fid = fid;
	e->context = fid ? fid->context : NULL;
	e->info = info;
	if (len > VFI_CM_DATA)
		len = VFI_CM_DATA;
	if (data && len)
		memcpy(e->data, data, len);
	e->len = data ? len : 0;
	if (write(eq->evfd, &one, sizeof(one)) < 0)
		VFI_WARN(FI_LOG_EQ, "eventfd: %s\n", strerror(errno));
	return 0;
}

/* eq->lock held */
void vfi_eq_add_src(struct vfi_eq *eq, int fd, int kind, void *obj)
{
	struct vfi_cmsrc *s = calloc(1, sizeof(*s));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!s)
		return;
	s->fd = fd;
	s->kind = kind;
	s->obj = obj;
	ev.data.ptr = s;
	if (epoll_ctl(eq->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		VFI_WARN(FI_LOG_EQ, "epoll_ctl: %s\n", strerror(errno));
		free(s);
		return;
	}
	s->next = eq->srcs;
	eq->srcs = s;
}

/* eq->lock held */
void vfi_eq_del_src(struct vfi_eq *eq, void *obj)
{
	struct vfi_cmsrc **p = &eq->srcs, *s;

	while ((s = *p)) {
		if (s->obj == obj) {
			*p = s->next;
			epoll_ctl(eq->epfd, EPOLL_CTL_DEL, s->fd, NULL);
			free(s);
		} else {
			p = &s->next;
		}
	}
}

/* Turn what the sockets have into events; eq->lock held. */
static void vfi_eq_progress(struct vfi_eq *eq)
{
	struct epoll_event ev;
	uint64_t v;
	int i;

	while (read(eq->evfd, &v, sizeof(v)) > 0)
		;
	for (i = 0; i < 64; i++) {
		if (epoll_wait(eq->epfd, &ev, 1, 0) != 1)
			break;
		if (!ev.data.ptr) {	/* the eventfd */
			while (read(eq->evfd, &v, sizeof(v)) > 0)
				;
			continue;
		}
		vfi_cm_event(eq, ev.data.ptr);
	}
}

static ssize_t vfi_eq_read(struct fid_eq *feq, uint32_t *event, void *buf,
			   size_t len, uint64_t flags)
{
	struct vfi_eq *eq = container_of(feq, struct vfi_eq, eq);
	struct vfi_eqe *e;
	ssize_t ret;

	pthread_mutex_lock(&eq->lock);
	vfi_eq_progress(eq);
	if (eq->head == eq->tail) {
		ret = -FI_EAGAIN;
		goto out;
	}
	e = &eq->ring[eq->tail % eq->size];
	if (e->err) {
		ret = -FI_EAVAIL;
		goto out;
	}
	if (e->event == FI_CONNREQ || e->event == FI_CONNECTED ||
	    e->event == FI_SHUTDOWN) {
		struct fi_eq_cm_entry *cm = buf;
		size_t need = sizeof(*cm) + e->len;

		if (len < sizeof(*cm)) {
			ret = -FI_ETOOSMALL;
			goto out;
		}
		if (need > len)
			need = len;
		cm->fid = e->fid;
		cm->info = e->info;
		memcpy(cm->data, e->data, need - sizeof(*cm));
		ret = (ssize_t)need;
	} else {
		/* fi_eq_write's own entries: the bytes as written */
		size_t n = e->len < len ? e->len : len;

		memcpy(buf, e->data, n);
		ret = (ssize_t)n;
	}
	*event = e->event;
	if (!(flags & FI_PEEK))
		eq->tail++;
out:
	pthread_mutex_unlock(&eq->lock);
	return ret;
}

static ssize_t vfi_eq_readerr(struct fid_eq *feq, struct fi_eq_err_entry *buf,
			      uint64_t flags)
{
	struct vfi_eq *eq = container_of(feq, struct vfi_eq, eq);
	struct vfi_eqe *e;

	pthread_mutex_lock(&eq->lock);
	if (eq->head == eq->tail || !eq->ring[eq->tail % eq->size].err) {
		pthread_mutex_unlock(&eq->lock);
		return -FI_EAGAIN;
	}
	e = &eq->ring[eq->tail % eq->size];
	memset(buf, 0, offsetof(struct fi_eq_err_entry, err_data));
	buf->fid = e->fid;
	buf->context = e->context;
	buf->err = e->err;
	buf->prov_errno = -e->err;
	/* the reject's connection data, valid until the next readerr */
	memcpy(eq->err_data, e->data, e->len);
	buf->err_data = e->len ? eq->err_data : NULL;
	buf->err_data_size = e->len;
	if (!(flags & FI_PEEK))
		eq->tail++;
	pthread_mutex_unlock(&eq->lock);
	return sizeof(*buf);
}

static ssize_t vfi_eq_write(struct fid_eq *feq, uint32_t event,
			    const void *buf, size_t len, uint64_t flags)
{
	struct vfi_eq *eq = container_of(feq, struct vfi_eq, eq);
	int ret;

	if (len > VFI_CM_DATA)
		return -FI_EINVAL;
	pthread_mutex_lock(&eq->lock);
	ret = vfi_eq_push(eq, event, NULL, NULL, buf, len, 0);
	pthread_mutex_unlock(&eq->lock);
	return ret ? ret : (ssize_t)len;
}

static ssize_t vfi_eq_sread(struct fid_eq *feq, uint32_t *event, void *buf,
			    size_t len, int timeout, uint64_t flags)
{
	struct vfi_eq *eq = container_of(feq, struct vfi_eq, eq);
	struct epoll_event ev;
	ssize_t ret;

	for (;;) {
		ret = vfi_eq_read(feq, event, buf, len, flags);
		if (ret != -FI_EAGAIN)
			return ret;
		/* level-triggered: a source with data wakes us at once */
		ret = epoll_wait(eq->epfd, &ev, 1, timeout);
		if (ret == 0)
			return -FI_EAGAIN;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

static const char *vfi_eq_strerror(struct fid_eq *feq, int prov_errno,
				   const void *err_data, char *buf, size_t len)
{
	const char *s = fi_strerror(prov_errno);

	if (buf && len) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	return s;
}

static struct fi_ops_eq vfi_eq_ops = {
	.size = sizeof(struct fi_ops_eq),
	.read = vfi_eq_read,
	.readerr = vfi_eq_readerr,
	.write = vfi_eq_write,
	.sread = vfi_eq_sread,
	.strerror = vfi_eq_strerror,
};

int vfi_eq_trywait(struct vfi_eq *eq)
{
	bool empty;

	pthread_mutex_lock(&eq->lock);
	vfi_eq_progress(eq);
	empty = eq->head == eq->tail;
	pthread_mutex_unlock(&eq->lock);
	return empty ? 0 : -FI_EAGAIN;
}

static int vfi_eq_control(struct fid *fid, int command, void *arg)
{
	struct vfi_eq *eq = container_of(fid, struct vfi_eq, eq.fid);

	if (command != FI_GETWAIT)
		return -FI_ENOSYS;
	*(int *)arg = eq->epfd;
	return 0;
}

static int vfi_eq_close(struct fid *fid)
{
	struct vfi_eq *eq = container_of(fid, struct vfi_eq, eq.fid);

	pthread_mutex_lock(&eq->lock);
	if (eq->refs) {
		pthread_mutex_unlock(&eq->lock);
		return -FI_EBUSY;
	}
	while (eq->head != eq->tail)
		fi_freeinfo(eq->ring[eq->tail++ % eq->size].info);
	pthread_mutex_unlock(&eq->lock);
	close(eq->epfd);
	close(eq->evfd);
	pthread_mutex_destroy(&eq->lock);
	free(eq->ring);
	free(eq);
	return 0;
}

static struct fi_ops vfi_eq_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_eq_close,
	.bind = vfi_no_bind,
	.control = vfi_eq_control,
	.ops_open = vfi_no_ops_open,
};

int vfi_eq_open(struct fid_fabric *fabric, struct fi_eq_attr *attr,
		struct fid_eq **out, void *context)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct vfi_eq *eq;

	if (attr->wait_obj != FI_WAIT_NONE && attr->wait_obj != FI_WAIT_UNSPEC &&
	    attr->wait_obj != FI_WAIT_FD)
		return -FI_ENOSYS;
	eq = calloc(1, sizeof(*eq));
	if (!eq)
		return -FI_ENOMEM;
	eq->size = attr->size ? (uint32_t)attr->size : VFI_EQ_DEF;
	eq->ring = calloc(eq->size, sizeof(*eq->ring));
	eq->epfd = epoll_create1(EPOLL_CLOEXEC);
	eq->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!eq->ring || eq->epfd < 0 || eq->evfd < 0 ||
	    epoll_ctl(eq->epfd, EPOLL_CTL_ADD, eq->evfd, &ev)) {
		if (eq->epfd >= 0)
			close(eq->epfd);
		if (eq->evfd >= 0)
			close(eq->evfd);
		free(eq->ring);
		free(eq);
		return -FI_ENOMEM;
	}
	pthread_mutex_init(&eq->lock, NULL);
	eq->fab = container_of(fabric, struct vfi_fabric, fab);
	eq->eq.fid.fclass = FI_CLASS_EQ;
	eq->eq.fid.context = context;
	eq->eq.fid.ops = &vfi_eq_fi_ops;
	eq->eq.ops = &vfi_eq_ops;
	*out = &eq->eq;
	return 0;
}

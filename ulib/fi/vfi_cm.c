// SPDX-License-Identifier: MIT
/*
 * vfi_cm.c - connection management over the side channel (TCP): passive
 * endpoints, connect, accept, reject, shutdown, and the receive region
 * each side exports for the other.
 *
 * The exchange (struct vfi_cm_msg, fixed size, host byte order: both ends
 * run this provider on guests of one architecture):
 *   active:  connect(); REQ {node, region name, key, data}
 *   passive: FI_CONNREQ (info->handle: the request); the application's
 *            fi_accept: import the active side's region; ACCEPT {node,
 *            name, key, data}; or fi_reject: REJECT {data}, close
 *   active:  import the passive side's region; READY; FI_CONNECTED
 *   passive: on READY, FI_CONNECTED
 * A request that is short, late (2 s), or names something other than a
 * connection region is dropped with the socket and makes no event.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <sys/time.h>

#include "vfi.h"

#define VFI_CM_TIMEOUT_S	2

/* ---- receive regions ---- */

int vfi_ep_region_setup(struct vfi_ep *ep)
{
	struct vfi_domain *dom = ep->dom;
	size_t stage = VFI_NSLOT * (VFI_HDR_BYTES + VFI_INLINE) + 64;
	uint32_t r;
	int ret = 0, tries;

	if (ep->exported)
		return 0;
	if (posix_memalign(&ep->region, 4096, VFI_REGION_BYTES) ||
	    posix_memalign((void **)&ep->stage, 4096, stage))
		return -FI_ENOMEM;
	memset(ep->region, 0, VFI_REGION_BYTES);
	memset(ep->stage, 0, stage);
	ep->credit_src = (uint64_t *)(ep->stage + stage - 64);
	pthread_mutex_lock(&dom->lock);
	for (tries = 0; tries < 16; tries++) {
		ret = vfi_random(&r, sizeof(r));
		if (!ret)
			ret = vfi_random(&ep->my_key, sizeof(ep->my_key));
		if (ret)
			break;
		ep->my_name = VFI_NAME_CONN | (r & VFI_NAME_RAND);
		ret = vmmc_export_key(&dom->vep, ep->region, VFI_REGION_BYTES,
				      ep->my_name, ~0ULL, ep->my_key,
				      &ep->export_id);
		if (ret != -EEXIST)
			break;
	}
	pthread_mutex_unlock(&dom->lock);
	if (ret) {
		if (ret == -ENOMEM)
			vfi_memlock_error(VFI_REGION_BYTES);
		return vfi_errno(ret);
	}
	ep->exported = true;
	return 0;
}

/* dom->lock held */
void vfi_ep_region_free(struct vfi_ep *ep)
{
	if (ep->imported)
		vmmc_unimport(&ep->dom->vep, ep->import_id);
	if (ep->exported)
		vmmc_unexport(&ep->dom->vep, ep->export_id);
	ep->imported = ep->exported = false;
	free(ep->region);
	free(ep->stage);
	ep->region = NULL;
	ep->stage = NULL;
}

static int vfi_import_peer(struct vfi_ep *ep, const struct vfi_cm_msg *m)
{
	uint64_t len;
	int ret;

	pthread_mutex_lock(&ep->dom->lock);
	ret = vmmc_import_key(&ep->dom->vep, m->node, m->name, m->key,
			      &ep->import_id, &len);
	if (!ret && len != VFI_REGION_BYTES) {
		vmmc_unimport(&ep->dom->vep, ep->import_id);
		ret = -EPROTO;
	}
	if (!ret) {
		ep->imported = true;
		ep->peer_node = m->node;
		ep->peer_name = m->name;
		ep->peer_key = m->key;
	}
	pthread_mutex_unlock(&ep->dom->lock);
	return vfi_errno(ret);
}

/* ---- the side channel ---- */

static int vfi_cm_send(int fd, uint32_t type, const struct vfi_ep *ep,
		       const void *data, size_t len)
{
	struct vfi_cm_msg m = { .magic = VFI_CM_MAGIC, .type = type };

	if (ep) {
		m.node = ep->dom->vep.info.node_id;
		m.name = ep->my_name;
		m.key = ep->my_key;
		m.region_len = VFI_REGION_BYTES;
	}
	if (len > VFI_CM_DATA)
		return -FI_EINVAL;
	if (data && len)
		memcpy(m.data, data, len);
	m.data_len = (uint32_t)len;
	if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return -FI_EIO;
	return 0;
}

/* Read one whole message (waits at most VFI_CM_TIMEOUT_S); 0 or -errno,
 * -ECONNRESET at EOF.
 */
static int vfi_cm_recv(int fd, struct vfi_cm_msg *m)
{
	struct timeval tv = { .tv_sec = VFI_CM_TIMEOUT_S };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, m, sizeof(*m), MSG_WAITALL);
	if (n == 0)
		return -FI_ECONNRESET;
	if (n != (ssize_t)sizeof(*m))
		return n < 0 ? -errno : -FI_ECONNRESET;
	if (m->magic != VFI_CM_MAGIC || m->data_len > VFI_CM_DATA)
		return -FI_EOTHER;
	if ((m->type == VFI_CM_REQ || m->type == VFI_CM_ACCEPT) &&
	    ((m->name & ~VFI_NAME_RAND) != VFI_NAME_CONN ||
	     m->region_len != VFI_REGION_BYTES || m->node >= VMMC_MAX_NODES))
		return -FI_EOTHER;
	return 0;
}

static void vfi_sock_opts(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- passive endpoints ---- */

static int vfi_pep_close(struct fid *fid)
{
	struct vfi_pep *pep = container_of(fid, struct vfi_pep, pep.fid);

	if (pep->eq) {
		pthread_mutex_lock(&pep->eq->lock);
		vfi_eq_del_src(pep->eq, pep);
		pep->eq->refs--;
		pthread_mutex_unlock(&pep->eq->lock);
	}
	if (pep->sock >= 0)
		close(pep->sock);
	fi_freeinfo(pep->info);
	free(pep);
	return 0;
}

static int vfi_pep_bind(struct fid *fid, struct fid *bfid, uint64_t flags)
{
	struct vfi_pep *pep = container_of(fid, struct vfi_pep, pep.fid);

	if (bfid->fclass != FI_CLASS_EQ || pep->eq)
		return -FI_EINVAL;
	pep->eq = container_of(bfid, struct vfi_eq, eq.fid);
	pthread_mutex_lock(&pep->eq->lock);
	pep->eq->refs++;
	pthread_mutex_unlock(&pep->eq->lock);
	return 0;
}

static struct fi_ops vfi_pep_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_pep_close,
	.bind = vfi_pep_bind,
	.control = vfi_no_control,
	.ops_open = vfi_no_ops_open,
};

static int vfi_setname(fid_t fid, void *addr, size_t addrlen)
{
	struct vfi_pep *pep;

	if (fid->fclass != FI_CLASS_PEP)
		return -FI_ENOSYS;
	pep = container_of(fid, struct vfi_pep, pep.fid);
	if (pep->listening || addrlen != sizeof(struct sockaddr_in))
		return -FI_EINVAL;
	if (bind(pep->sock, addr, (socklen_t)addrlen))
		return -errno;
	memcpy(&pep->addr, addr, sizeof(pep->addr));
	return 0;
}

/*
 * The address peers reach us at when bound to INADDR_ANY: that of the
 * interface FI_VMMC_IFACE names, else of the first one up that is not a
 * loopback (the guests' eth0), else the loopback (a lone node).
 */
static void vfi_default_addr(struct in_addr *out)
{
	struct ifaddrs *ifa, *i;
	char *want = NULL;

	/* no other interface (a lone node): the loopback, a valid address */
	out->s_addr = htonl(INADDR_LOOPBACK);
	fi_param_get_str(&vfi_prov, "iface", &want);
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		if (want ? strcmp(i->ifa_name, want) :
			   (i->ifa_flags & IFF_LOOPBACK) != 0)
			continue;
		*out = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		break;
	}
	freeifaddrs(ifa);
}

static int vfi_getname(fid_t fid, void *addr, size_t *addrlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t l = sizeof(sin);
	size_t have = *addrlen;
	int fd = -1;

	if (fid->fclass == FI_CLASS_PEP)
		fd = container_of(fid, struct vfi_pep, pep.fid)->sock;
	else if (fid->fclass == FI_CLASS_EP)
		fd = container_of(fid, struct vfi_ep, ep.fid)->sock;
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sin, &l))
		return -errno;
	if (sin.sin_addr.s_addr == htonl(INADDR_ANY))
		vfi_default_addr(&sin.sin_addr);
	*addrlen = sizeof(sin);
	if (have < sizeof(sin))
		return -FI_ETOOSMALL;
	memcpy(addr, &sin, sizeof(sin));
	return 0;
}

static int vfi_getpeer(struct fid_ep *fep, void *addr, size_t *addrlen)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	size_t have = *addrlen;

	*addrlen = sizeof(ep->peer);
	if (have < sizeof(ep->peer))
		return -FI_ETOOSMALL;
	memcpy(addr, &ep->peer, sizeof(ep->peer));
	return 0;
}

static int vfi_listen(struct fid_pep *fpep)
{
	struct vfi_pep *pep = container_of(fpep, struct vfi_pep, pep);

	if (!pep->eq)
		return -FI_ENOEQ;
	if (pep->listening)
		return 0;
	if (listen(pep->sock, 64))
		return -errno;
	fcntl(pep->sock, F_SETFL, fcntl(pep->sock, F_GETFL) | O_NONBLOCK);
	pthread_mutex_lock(&pep->eq->lock);
	vfi_eq_add_src(pep->eq, pep->sock, VFI_SRC_PEP, pep);
	pthread_mutex_unlock(&pep->eq->lock);
	pep->listening = true;
	return 0;
}

/*
 * The connection requests not yet accepted, rejected or closed. A handle
 * is looked up here by its pointer before it is used, so one that accept
 * or reject consumed (and freed) is refused with FI_EINVAL, never read:
 * fi_reject after fi_accept, a second fi_reject, an endpoint made from
 * the request closed after it was rejected.
 */
static pthread_mutex_t vfi_creq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfi_connreq *vfi_creqs;

static void vfi_creq_link(struct vfi_connreq *c)
{
	pthread_mutex_lock(&vfi_creq_lock);
	c->next_live = vfi_creqs;
	vfi_creqs = c;
	pthread_mutex_unlock(&vfi_creq_lock);
}

/* Is @fid a live request? take: unlink it too (its consumer frees it). */
bool vfi_creq_live(fid_t fid, bool take)
{
	struct vfi_connreq **p;
	bool found = false;

	pthread_mutex_lock(&vfi_creq_lock);
	for (p = &vfi_creqs; *p; p = &(*p)->next_live) {
		if (&(*p)->fid == fid) {
			found = true;
			if (take)
				*p = (*p)->next_live;
			break;
		}
	}
	pthread_mutex_unlock(&vfi_creq_lock);
	return found;
}

static int vfi_connreq_close(struct fid *fid)
{
	struct vfi_connreq *c = container_of(fid, struct vfi_connreq, fid);

	vfi_creq_live(fid, true);

	if (c->sock >= 0)
		close(c->sock);
	free(c);
	return 0;
}

static struct fi_ops vfi_connreq_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_connreq_close,
	.bind = vfi_no_bind,
	.control = vfi_no_control,
	.ops_open = vfi_no_ops_open,
};

static int vfi_reject(struct fid_pep *fpep, fid_t handle, const void *param,
		      size_t paramlen)
{
	struct vfi_connreq *c;
	int ret;

	if (!handle || !vfi_creq_live(handle, true))
		return -FI_EINVAL;
	c = container_of(handle, struct vfi_connreq, fid);
	ret = vfi_cm_send(c->sock, VFI_CM_REJECT, NULL, param, paramlen);
	vfi_connreq_close(handle);
	return ret;
}

/* A new connection on a listening socket: its request, an FI_CONNREQ. */
static void vfi_pep_event(struct vfi_eq *eq, struct vfi_pep *pep)
{
	struct sockaddr_in peer;
	socklen_t l = sizeof(peer);
	struct vfi_connreq *c;
	struct vfi_cm_msg m;
	struct fi_info *info;
	int fd;

	fd = accept4(pep->sock, (struct sockaddr *)&peer, &l, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	vfi_sock_opts(fd);
	c = calloc(1, sizeof(*c));
	info = fi_dupinfo(pep->info);
	if (!c || !info || vfi_cm_recv(fd, &m) || m.type != VFI_CM_REQ) {
		VFI_WARN(FI_LOG_EP_CTRL, "bad connection request dropped\n");
		close(fd);
		free(c);
		fi_freeinfo(info);
		return;
	}
	c->fid.fclass = FI_CLASS_CONNREQ;
	c->fid.ops = &vfi_connreq_ops;
	c->sock = fd;
	c->peer = peer;
	c->node = m.node;
	c->name = m.name;
	c->key = m.key;
	vfi_creq_link(c);
	info->handle = &c->fid;
	free(info->dest_addr);
	info->dest_addr = malloc(sizeof(peer));
	if (info->dest_addr) {
		memcpy(info->dest_addr, &peer, sizeof(peer));
		info->dest_addrlen = sizeof(peer);
	} else {
		info->dest_addrlen = 0;
	}
	if (vfi_eq_push(eq, FI_CONNREQ, &pep->pep.fid, info, m.data,
			m.data_len, 0))
		vfi_connreq_close(&c->fid);
}

/* ---- active endpoints ---- */

static void vfi_ep_fail(struct vfi_eq *eq, struct vfi_ep *ep, int err,
			const void *data, size_t len)
{
	vfi_eq_del_src(eq, ep);
	vfi_eq_push(eq, FI_CONNECTED, &ep->ep.fid, NULL, data, len, err);
	vfi_ep_shutdown(ep, err);
}

static void vfi_ep_event(struct vfi_eq *eq, struct vfi_ep *ep)
{
	struct vfi_cm_msg m;
	char junk[64];
	int ret;

	switch (ep->state) {
	case VFI_CONNECTING:
		ret = vfi_cm_recv(ep->sock, &m);
		if (!ret && m.type == VFI_CM_REJECT) {
			vfi_ep_fail(eq, ep, FI_ECONNREFUSED, m.data,
				    m.data_len);
			return;
		}
		if (!ret && m.type != VFI_CM_ACCEPT)
			ret = -FI_EOTHER;
		if (!ret)
			ret = vfi_import_peer(ep, &m);
		if (!ret)
			ret = vfi_cm_send(ep->sock, VFI_CM_READY, NULL, NULL, 0);
		if (ret) {
			vfi_ep_fail(eq, ep, -ret, NULL, 0);
			return;
		}
		vfi_ep_connected(ep);
		vfi_eq_push(eq, FI_CONNECTED, &ep->ep.fid, NULL, m.data,
			    m.data_len, 0);
		return;
	case VFI_ACCEPTING:
		ret = vfi_cm_recv(ep->sock, &m);
		if (ret || m.type != VFI_CM_READY) {
			vfi_ep_fail(eq, ep, ret ? -ret : FI_EOTHER, NULL, 0);
			return;
		}
		ep->state = VFI_CONNECTED;
		vfi_eq_push(eq, FI_CONNECTED, &ep->ep.fid, NULL, NULL, 0, 0);
		return;
	default:
		/* connected: nothing more is sent; EOF or error is the end */
		ret = (int)recv(ep->sock, junk, sizeof(junk), MSG_DONTWAIT);
		if (ret > 0 || (ret < 0 && errno == EAGAIN))
			return;
		vfi_eq_del_src(eq, ep);
		vfi_ep_shutdown(ep, FI_ECONNRESET);
		vfi_eq_push(eq, FI_SHUTDOWN, &ep->ep.fid, NULL, NULL, 0, 0);
		return;
	}
}

int vfi_cm_event(struct vfi_eq *eq, struct vfi_cmsrc *src)
{
	if (src->kind == VFI_SRC_PEP)
		vfi_pep_event(eq, src->obj);
	else
		vfi_ep_event(eq, src->obj);
	return 0;
}

static int vfi_connect(struct fid_ep *fep, const void *addr,
		       const void *param, size_t paramlen)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	const struct sockaddr_in *sin = addr;
	int fd, ret;

	if (!ep->eq)
		return -FI_ENOEQ;
	if (ep->state != VFI_IDLE || !sin || sin->sin_family != AF_INET ||
	    paramlen > VFI_CM_DATA)
		return -FI_EINVAL;
	ret = vfi_ep_region_setup(ep);
	if (ret)
		return ret;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, addr, sizeof(*sin))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	vfi_sock_opts(fd);
	ret = vfi_cm_send(fd, VFI_CM_REQ, ep, param, paramlen);
	if (ret) {
		close(fd);
		return ret;
	}
	ep->sock = fd;
	ep->peer = *sin;
	ep->state = VFI_CONNECTING;
	pthread_mutex_lock(&ep->eq->lock);
	vfi_eq_add_src(ep->eq, fd, VFI_SRC_EP, ep);
	pthread_mutex_unlock(&ep->eq->lock);
	return 0;
}

static int vfi_accept(struct fid_ep *fep, const void *param, size_t paramlen)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);
	struct vfi_connreq *c;
	struct vfi_cm_msg m = { 0 };
	int ret;

	if (!ep->eq)
		return -FI_ENOEQ;
	if (ep->state != VFI_IDLE || !ep->info->handle ||
	    !vfi_creq_live(ep->info->handle, false) ||
	    paramlen > VFI_CM_DATA)
		return -FI_EINVAL;
	c = container_of(ep->info->handle, struct vfi_connreq, fid);
	ret = vfi_ep_region_setup(ep);
	m.node = c->node;
	m.name = c->name;
	m.key = c->key;
	if (!ret)
		ret = vfi_import_peer(ep, &m);
	if (!ret)
		ret = vfi_cm_send(c->sock, VFI_CM_ACCEPT, ep, param, paramlen);
	if (ret)
		return ret;
	ep->sock = c->sock;
	ep->peer = c->peer;
	c->sock = -1;
	vfi_connreq_close(&c->fid);
	ep->info->handle = NULL;
	ep->state = VFI_ACCEPTING;
	vfi_ep_connected(ep);
	ep->state = VFI_ACCEPTING;
	pthread_mutex_lock(&ep->eq->lock);
	vfi_eq_add_src(ep->eq, ep->sock, VFI_SRC_EP, ep);
	pthread_mutex_unlock(&ep->eq->lock);
	return 0;
}

static int vfi_shutdown(struct fid_ep *fep, uint64_t flags)
{
	struct vfi_ep *ep = container_of(fep, struct vfi_ep, ep);

	if (ep->eq) {
		pthread_mutex_lock(&ep->eq->lock);
		vfi_eq_del_src(ep->eq, ep);
		pthread_mutex_unlock(&ep->eq->lock);
	}
	vfi_ep_shutdown(ep, FI_ECANCELED);
	return 0;
}

static int vfi_no_join(struct fid_ep *ep, const void *addr, uint64_t flags,
		       struct fid_mc **mc, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_pep_no_connect(struct fid_ep *ep, const void *addr,
			      const void *param, size_t paramlen)
{
	return -FI_ENOSYS;
}

static int vfi_ep_no_listen(struct fid_pep *pep)
{
	return -FI_ENOSYS;
}

static int vfi_ep_no_reject(struct fid_pep *pep, fid_t handle,
			    const void *param, size_t paramlen)
{
	return -FI_ENOSYS;
}

static int vfi_pep_no_accept(struct fid_ep *ep, const void *param,
			     size_t paramlen)
{
	return -FI_ENOSYS;
}

static int vfi_pep_no_shutdown(struct fid_ep *ep, uint64_t flags)
{
	return -FI_ENOSYS;
}

struct fi_ops_cm vfi_ep_cm_ops = {
	.size = sizeof(struct fi_ops_cm),
	.setname = vfi_setname,
	.getname = vfi_getname,
	.getpeer = vfi_getpeer,
	.connect = vfi_connect,
	.listen = vfi_ep_no_listen,
	.accept = vfi_accept,
	.reject = vfi_ep_no_reject,
	.shutdown = vfi_shutdown,
	.join = vfi_no_join,
};

static struct fi_ops_cm vfi_pep_cm_ops = {
	.size = sizeof(struct fi_ops_cm),
	.setname = vfi_setname,
	.getname = vfi_getname,
	.getpeer = vfi_getpeer,
	.connect = vfi_pep_no_connect,
	.listen = vfi_listen,
	.accept = vfi_pep_no_accept,
	.reject = vfi_reject,
	.shutdown = vfi_pep_no_shutdown,
	.join = vfi_no_join,
};

int vfi_passive_ep(struct fid_fabric *fabric, struct fi_info *info,
		   struct fid_pep **out, void *context)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct vfi_pep *pep;
	int one = 1;

	if (!info || (info->src_addr &&
		      info->src_addrlen != sizeof(struct sockaddr_in)))
		return -FI_EINVAL;
	pep = calloc(1, sizeof(*pep));
	if (!pep)
		return -FI_ENOMEM;
	pep->info = fi_dupinfo(info);
	pep->sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!pep->info || pep->sock < 0)
		goto fail;
	setsockopt(pep->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (info->src_addr)
		memcpy(&any, info->src_addr, sizeof(any));
	if (bind(pep->sock, (struct sockaddr *)&any, sizeof(any)))
		goto fail;
	pep->addr = any;
	pep->fab = container_of(fabric, struct vfi_fabric, fab);
	pep->pep.fid.fclass = FI_CLASS_PEP;
	pep->pep.fid.context = context;
	pep->pep.fid.ops = &vfi_pep_fi_ops;
	pep->pep.ops = &vfi_pep_ep_ops;
	pep->pep.cm = &vfi_pep_cm_ops;
	*out = &pep->pep;
	return 0;
fail:
	{
		int err = errno ? -errno : -FI_ENOMEM;

		if (pep->sock >= 0)
			close(pep->sock);
		fi_freeinfo(pep->info);
		free(pep);
		return err;
	}
}

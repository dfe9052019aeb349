// SPDX-License-Identifier: MIT
/*
 * vfi_domain.c - the domain (one vmmc endpoint), manual progress, the RMA
 * import cache and memory registration.
 *
 * Memory registration. A region that peers may write (FI_REMOTE_WRITE) is
 * exported (one they may only read is not: reads are answered by the
 * provider from dom->mrs, so a region registered for FI_REMOTE_READ alone
 * pins nothing ahead of time and costs no system call) under a provider key of 64 random bits (getrandom()): the export
 * name is VFI_NAME_MR | the key's low 24 bits, and the whole key is the
 * export's key, so a peer that has not been given the key cannot import the
 * region (the NIC refuses an import without the right key as if the name
 * did not exist). RMA addresses are offsets into the region (no
 * FI_MR_VIRT_ADDR); the NIC checks every SEND against the export's length,
 * so a bad offset or length fails (VMMC_ST_RANGE) instead of writing
 * outside. A local-only registration pins nothing ahead of time: sources
 * are pinned by libvmmc's translation cache on first use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfi.h"

struct vfi_mr {
	struct fid_mr mr;
	struct vfi_domain *dom;
	struct vfi_mr *next;		/* in dom->mrs */
	void *buf;
	size_t len;
	uint64_t access;
	uint32_t export_ids[VFI_MR_PARTS];
	unsigned int nexp;		/* parts exported */
};

/* The region with this key that allows @access; dom->lock held. */
int vfi_mr_find(struct vfi_domain *dom, uint64_t key, uint64_t access,
		void **buf, size_t *len)
{
	struct vfi_mr *mr;

	for (mr = dom->mrs; mr; mr = mr->next) {
		if (mr->mr.key != key)
			continue;
		if ((mr->access & access) != access)
			return -FI_EACCES;
		*buf = mr->buf;
		*len = mr->len;
		return 0;
	}
	return -FI_EKEYREJECTED;
}

/*
 * The NIC's completions (dom->lock held); those of ring slots are counted
 * per endpoint (vfi_ep_rx() reports a peer's message only after the
 * completions of the slots it may have seen).
 */
void vfi_cqes(struct vfi_domain *dom)
{
	struct vmmc_cqe *c;

	while ((c = vmmc_peek_cqe(&dom->vep))) {
		struct vmmc_cqe cqe = *c;

		vmmc_cqe_seen(&dom->vep);
		if (cqe.op == VMMC_OP_SEND && cqe.user_data) {
			uint64_t ud = cqe.user_data & ~(uint64_t)VFI_UD_SLOT;
			struct vfi_op *op = (struct vfi_op *)(uintptr_t)ud;

			if (cqe.user_data & VFI_UD_SLOT)
				op->ep->tx_cqes++;
			vfi_send_done(op, &cqe);
		}
		else if (cqe.op == VMMC_OP_REDIRECT)
			vfi_redir_cqe(dom, &cqe);
	}
}

void vfi_progress(struct vfi_domain *dom)
{
	struct vfi_ep *ep, *next;

	vfi_cqes(dom);
	/* notifications only wake a waiter: the rings are read below */
	while (vmmc_peek_nqe(&dom->vep))
		vmmc_nqe_seen(&dom->vep);
	for (ep = dom->eps; ep; ep = next) {
		next = ep->next_dom;
		vfi_ep_progress(ep);
	}
}

/*
 * The index in dom->imps of an import of (node, key), made on a miss;
 * dom->lock held. Only an entry no write is using is replaced.
 */
int vfi_import_get(struct vfi_domain *dom, uint32_t node, uint64_t key)
{
	struct vfi_imp *victim = NULL, *e;
	uint32_t name = VFI_NAME_MR | (uint32_t)(key & VFI_NAME_RAND);
	unsigned int i;
	int ret;

	for (i = 0; i < VFI_IMPORT_CACHE; i++) {
		e = &dom->imps[i];
		if (e->used && e->key == key && e->node == node) {
			e->used = ++dom->imp_clock;
			return (int)i;
		}
		if (!e->busy && (!victim || e->used < victim->used))
			victim = e;
	}
	if (!victim)
		return -FI_EAGAIN;
	if (victim->used) {
		vmmc_unimport(&dom->vep, victim->id);
		victim->used = 0;
	}
	ret = vmmc_import_key(&dom->vep, node, name, key, &victim->id,
			      &victim->len);
	if (ret)
		return ret == -ENOENT ? -FI_EKEYREJECTED : vfi_errno(ret);
	victim->key = key;
	victim->node = node;
	victim->used = ++dom->imp_clock;
	return (int)(victim - dom->imps);
}

/* ---- memory registration ---- */

static int vfi_mr_close(struct fid *fid)
{
	struct vfi_mr *mr = container_of(fid, struct vfi_mr, mr.fid);
	struct vfi_domain *dom = mr->dom;

	struct vfi_mr **p;

	pthread_mutex_lock(&dom->lock);
	for (p = &dom->mrs; *p; p = &(*p)->next) {
		if (*p == mr) {
			*p = mr->next;
			break;
		}
	}
	while (mr->nexp)
		vmmc_unexport(&dom->vep, mr->export_ids[--mr->nexp]);
	dom->refs--;
	pthread_mutex_unlock(&dom->lock);
	free(mr);
	return 0;
}

/* Export the region in parts (VFI_MR_PART), part i as key + i: 0, or an
 * error with none of them left exported.
 */
static int vfi_mr_export(struct vfi_domain *dom, struct vfi_mr *mr,
			 uint64_t key)
{
	uint64_t off, k;
	int ret = 0;

	for (off = 0; off < mr->len && !ret; off += VFI_MR_PART) {
		k = key + mr->nexp;
		ret = vmmc_export_key(&dom->vep, (char *)mr->buf + off,
				      mr->len - off < VFI_MR_PART ?
				      mr->len - off : VFI_MR_PART,
				      VFI_NAME_MR | (k & VFI_NAME_RAND), ~0ULL,
				      k, &mr->export_ids[mr->nexp]);
		if (!ret)
			mr->nexp++;
	}
	if (ret)
		while (mr->nexp)
			vmmc_unexport(&dom->vep, mr->export_ids[--mr->nexp]);
	return ret;
}

static struct fi_ops vfi_mr_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_mr_close,
	.bind = vfi_no_bind,
	.control = vfi_no_control,
	.ops_open = vfi_no_ops_open,
};

int vfi_mr_reg(struct fid *fid, const void *buf, size_t len, uint64_t access,
	       uint64_t offset, uint64_t requested_key, uint64_t flags,
	       struct fid_mr **out, void *context)
{
	struct vfi_domain *dom = container_of(fid, struct vfi_domain, dom.fid);
	struct vfi_mr *mr;
	int ret = 0, tries;
	uint64_t key;

	if (fid->fclass != FI_CLASS_DOMAIN || flags)
		return -FI_EINVAL;
	mr = calloc(1, sizeof(*mr));
	if (!mr)
		return -FI_ENOMEM;
	mr->dom = dom;
	mr->mr.fid.fclass = FI_CLASS_MR;
	mr->mr.fid.context = context;
	mr->mr.fid.ops = &vfi_mr_fi_ops;
	mr->mr.mem_desc = mr;
	mr->buf = (void *)buf;
	mr->len = len;
	mr->access = access;

	pthread_mutex_lock(&dom->lock);
	for (tries = 0; tries < 16; tries++) {
		ret = vfi_random(&key, sizeof(key));
		if (ret)
			break;
		mr->mr.key = key;
		/* only what peers may write is exported: a read is served
		 * by this provider, from dom->mrs, and ends with the close
		 */
		if (!(access & FI_REMOTE_WRITE) || !len)
			break;
		if (len > VFI_MR_PARTS * VFI_MR_PART) {
			ret = -FI_EINVAL;
			break;
		}
		ret = vfi_mr_export(dom, mr, key);
		if (ret != -EEXIST)
			break;
	}
	if (ret == -ENOMEM)
		vfi_memlock_error(len);
	if (!ret) {
		dom->refs++;
		mr->next = dom->mrs;
		dom->mrs = mr;
	}
	pthread_mutex_unlock(&dom->lock);
	if (ret) {
		free(mr);
		return vfi_errno(ret);
	}
	*out = &mr->mr;
	return 0;
}

int vfi_mr_regv(struct fid *fid, const struct iovec *iov, size_t count,
		uint64_t access, uint64_t offset, uint64_t requested_key,
		uint64_t flags, struct fid_mr **mr, void *context)
{
	if (count != 1)
		return -FI_EINVAL;
	return vfi_mr_reg(fid, iov->iov_base, iov->iov_len, access, offset,
			  requested_key, flags, mr, context);
}

int vfi_mr_regattr(struct fid *fid, const struct fi_mr_attr *attr,
		   uint64_t flags, struct fid_mr **mr)
{
	if (attr->iface != FI_HMEM_SYSTEM)
		return -FI_ENOSYS;
	return vfi_mr_regv(fid, attr->mr_iov, attr->iov_count, attr->access,
			   attr->offset, attr->requested_key, flags, mr,
			   attr->context);
}

/* ---- the domain ---- */

static int vfi_domain_close(struct fid *fid)
{
	struct vfi_domain *dom = container_of(fid, struct vfi_domain, dom.fid);
	unsigned int i;

	if (dom->refs)
		return -FI_EBUSY;
	for (i = 0; i < VFI_IMPORT_CACHE; i++)
		if (dom->imps[i].used)
			vmmc_unimport(&dom->vep, dom->imps[i].id);
	vmmc_ep_close(&dom->vep);
	pthread_mutex_destroy(&dom->lock);
	free(dom);
	return 0;
}

static struct fi_ops vfi_domain_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_domain_close,
	.bind = vfi_no_bind,
	.control = vfi_no_control,
	.ops_open = vfi_no_ops_open,
};

static int vfi_endpoint2(struct fid_domain *domain, struct fi_info *info,
			 struct fid_ep **ep, uint64_t flags, void *context)
{
	if (flags)
		return -FI_EINVAL;
	return vfi_endpoint(domain, info, ep, context);
}

static int vfi_no_av(struct fid_domain *domain, struct fi_av_attr *attr,
		     struct fid_av **av, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_no_sep(struct fid_domain *domain, struct fi_info *info,
		      struct fid_ep **sep, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_no_cntr(struct fid_domain *domain, struct fi_cntr_attr *attr,
		       struct fid_cntr **cntr, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_no_poll(struct fid_domain *domain, struct fi_poll_attr *attr,
		       struct fid_poll **pollset)
{
	return -FI_ENOSYS;
}

static int vfi_no_stx(struct fid_domain *domain, struct fi_tx_attr *attr,
		      struct fid_stx **stx, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_no_srx(struct fid_domain *domain, struct fi_rx_attr *attr,
		      struct fid_ep **rx_ep, void *context)
{
	return -FI_ENOSYS;
}

static int vfi_no_atomic(struct fid_domain *domain, enum fi_datatype datatype,
			 enum fi_op op, struct fi_atomic_attr *attr,
			 uint64_t flags)
{
	return -FI_ENOSYS;
}

static int vfi_no_coll(struct fid_domain *domain, enum fi_collective_op coll,
		       struct fi_collective_attr *attr, uint64_t flags)
{
	return -FI_ENOSYS;
}

static struct fi_ops_domain vfi_domain_ops = {
	.size = sizeof(struct fi_ops_domain),
	.av_open = vfi_no_av,
	.cq_open = vfi_cq_open,
	.endpoint = vfi_endpoint,
	.scalable_ep = vfi_no_sep,
	.cntr_open = vfi_no_cntr,
	.poll_open = vfi_no_poll,
	.stx_ctx = vfi_no_stx,
	.srx_ctx = vfi_no_srx,
	.query_atomic = vfi_no_atomic,
	.query_collective = vfi_no_coll,
	.endpoint2 = vfi_endpoint2,
};

static struct fi_ops_mr vfi_mr_ops = {
	.size = sizeof(struct fi_ops_mr),
	.reg = vfi_mr_reg,
	.regv = vfi_mr_regv,
	.regattr = vfi_mr_regattr,
};

int vfi_domain_open(struct fid_fabric *fabric, struct fi_info *info,
		    struct fid_domain **out, void *context)
{
	struct vfi_domain *dom;
	char path[80];
	int ret, direct;

	if (!info || !info->domain_attr || !info->domain_attr->name ||
	    strncmp(info->domain_attr->name, "vmmc", 4) ||
	    strchr(info->domain_attr->name, '/'))
		return -FI_EINVAL;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -FI_ENOMEM;
	snprintf(path, sizeof(path), "/dev/%s", info->domain_attr->name);
	ret = vmmc_ep_open(&dom->vep, path);
	if (ret) {
		VFI_WARN(FI_LOG_DOMAIN, "opening %s: %s\n", path,
			 strerror(-ret));
		free(dom);
		return vfi_errno(ret);
	}
	pthread_mutex_init(&dom->lock, NULL);
	dom->fab = container_of(fabric, struct vfi_fabric, fab);
	dom->mr_mode = info->domain_attr->mr_mode;
	dom->direct_min = VFI_DIRECT_MIN;
	if (!fi_param_get_int(&vfi_prov, "direct_read", &direct))
		dom->direct_min = direct > 0 ? (size_t)direct : SIZE_MAX;
	dom->dom.fid.fclass = FI_CLASS_DOMAIN;
	dom->dom.fid.context = context;
	dom->dom.fid.ops = &vfi_domain_fi_ops;
	dom->dom.ops = &vfi_domain_ops;
	dom->dom.mr = &vfi_mr_ops;
	*out = &dom->dom;
	return 0;
}

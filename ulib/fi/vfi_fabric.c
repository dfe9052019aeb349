// SPDX-License-Identifier: MIT
/*
 * vfi_fabric.c - the provider's entry (fi_prov_ini), fi_getinfo and the
 * fabric object.
 *
 * fi_getinfo answers with nothing at once (one glob of /dev, no open) when
 * the machine has no vmmc NIC, so libfabric programs elsewhere are not
 * slowed or disturbed by the provider being installed.
 */
#include <errno.h>
#include <glob.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <arpa/inet.h>

#include "vfi.h"

#define VFI_CAPS	(FI_MSG | FI_RMA | FI_SEND | FI_RECV | FI_WRITE | \
			 FI_REMOTE_WRITE | FI_READ | FI_REMOTE_READ | \
			 FI_LOCAL_COMM | FI_REMOTE_COMM)
#define VFI_TX_OPS	(FI_INJECT | FI_COMPLETION | FI_TRANSMIT_COMPLETE | \
			 FI_DELIVERY_COMPLETE | FI_REMOTE_CQ_DATA | \
			 FI_INJECT_COMPLETE)
#define VFI_MR_MODE	FI_MR_PROV_KEY

int vfi_random(void *buf, size_t len)
{
	ssize_t n = getrandom(buf, len, 0);

	return n == (ssize_t)len ? 0 : -FI_EIO;
}

int vfi_errno(int err)
{
	if (err >= 0)
		return err;
	/* libfabric's codes below 256 are the errno values */
	return err > -256 ? err : -FI_EOTHER;
}

/* The first /dev/vmmcN, or false when there is none. */
int vfi_no_bind(struct fid *fid, struct fid *bfid, uint64_t flags)
{
	return -FI_ENOSYS;
}

int vfi_no_control(struct fid *fid, int command, void *arg)
{
	return -FI_ENOSYS;
}

int vfi_no_ops_open(struct fid *fid, const char *name, uint64_t flags,
		    void **ops, void *context)
{
	return -FI_ENOSYS;
}

/*
 * An export failed ENOMEM: the pages would take the process over its
 * RLIMIT_MEMLOCK (or memory is short). Said on stderr once per process
 * even without FI_LOG_LEVEL, since the caller only sees FI_ENOMEM and the
 * cure (ulimit -l, limits.conf) is the administrator's.
 */
void vfi_memlock_error(size_t len)
{
	static int said;
	struct rlimit rl;

	VFI_WARN(FI_LOG_MR, "exporting %zu bytes: ENOMEM\n", len);
	if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		return;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		fprintf(stderr,
			"libvmmc-fi: pinning %zu bytes for the vmmc NIC failed: out of memory\n",
			len);
	else
		fprintf(stderr,
			"libvmmc-fi: pinning %zu bytes for the vmmc NIC failed: over RLIMIT_MEMLOCK (%llu KiB; raise it with ulimit -l or limits.conf)\n",
			len, (unsigned long long)rl.rlim_cur >> 10);
}

static bool vfi_device(char *name, size_t len)
{
	glob_t g;
	bool found;

	if (glob("/dev/vmmc[0-9]*", GLOB_NOSORT, NULL, &g))
		return false;
	found = g.gl_pathc > 0;
	if (found)
		snprintf(name, len, "%s", g.gl_pathv[0] + strlen("/dev/"));
	globfree(&g);
	return found;
}

static int vfi_resolve(const char *node, const char *service, bool passive,
		       struct sockaddr_in *out)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;

	if (passive)
		hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(node, service, &hints, &res))
		return -FI_ENODATA;
	memcpy(out, res->ai_addr, sizeof(*out));
	freeaddrinfo(res);
	return 0;
}

static int vfi_copy_addr(void **dst, size_t *dlen, const void *src,
			 size_t slen)
{
	if (!src)
		return 0;
	if (slen != sizeof(struct sockaddr_in) ||
	    ((const struct sockaddr_in *)src)->sin_family != AF_INET)
		return -FI_ENODATA;
	*dst = malloc(slen);
	if (!*dst)
		return -FI_ENOMEM;
	memcpy(*dst, src, slen);
	*dlen = slen;
	return 0;
}

#define VFI_NO(why) do {						\
		FI_INFO(&vfi_prov, FI_LOG_CORE, "hints not met: %s\n", why); \
		return false;						\
	} while (0)

/* Do the hints ask for anything we do not do? */
static bool vfi_hints_ok(uint32_t version, const struct fi_info *h,
			 const char *devname)
{
	if (!h)
		return true;
	if (h->ep_attr && h->ep_attr->type != FI_EP_UNSPEC &&
	    h->ep_attr->type != FI_EP_MSG)
		VFI_NO("endpoint type");
	if (h->caps & ~(VFI_CAPS | FI_SOURCE))
		VFI_NO("capabilities");
	if (h->addr_format != FI_FORMAT_UNSPEC &&
	    h->addr_format != FI_SOCKADDR && h->addr_format != FI_SOCKADDR_IN)
		VFI_NO("address format");
	if (h->fabric_attr && h->fabric_attr->name &&
	    strcmp(h->fabric_attr->name, VFI_NAME))
		VFI_NO("fabric name");
	if (h->domain_attr) {
		const struct fi_domain_attr *d = h->domain_attr;

		if (d->name && strcmp(d->name, devname))
			VFI_NO("domain name");
		if (d->control_progress == FI_PROGRESS_AUTO ||
		    d->data_progress == FI_PROGRESS_AUTO)
			VFI_NO("automatic progress");
		/* from 1.5 mr_mode is bits: the app must take provider keys */
		if (FI_VERSION_GE(version, FI_VERSION(1, 5)) &&
		    d->mr_mode != FI_MR_UNSPEC &&
		    (d->mr_mode & (FI_MR_BASIC | FI_MR_SCALABLE) ||
		     (VFI_MR_MODE & ~(uint64_t)d->mr_mode)))
			VFI_NO("memory registration mode");
		if (d->mr_key_size > 8 || d->cq_data_size > 8)
			VFI_NO("key or CQ data size");
	}
	if (h->tx_attr && (h->tx_attr->op_flags & ~VFI_TX_OPS))
		VFI_NO("transmit op_flags");
	if (h->tx_attr && h->tx_attr->inject_size > VFI_INLINE)
		VFI_NO("inject size");
	if (h->ep_attr && h->ep_attr->max_msg_size > VFI_MAX_MSG)
		VFI_NO("message size");
	return true;
}

static struct fi_info *vfi_info_new(const struct fi_info *h,
				    const char *devname)
{
	struct fi_info *fi = fi_allocinfo();

	if (!fi)
		return NULL;
	fi->caps = VFI_CAPS;
	if (h && h->caps)
		fi->caps = h->caps & VFI_CAPS;
	if (!(fi->caps & (FI_MSG | FI_RMA)))
		fi->caps |= FI_MSG;
	fi->mode = 0;
	fi->addr_format = FI_SOCKADDR_IN;

	fi->tx_attr->caps = fi->caps;
	fi->tx_attr->op_flags = h && h->tx_attr ? h->tx_attr->op_flags : 0;
	fi->tx_attr->msg_order = FI_ORDER_SAS;
	fi->tx_attr->comp_order = FI_ORDER_NONE;
	fi->tx_attr->inject_size = VFI_INLINE;
	fi->tx_attr->size = 256;
	fi->tx_attr->iov_limit = 4;
	fi->tx_attr->rma_iov_limit = 1;

	fi->rx_attr->caps = fi->caps;
	fi->rx_attr->msg_order = FI_ORDER_SAS;
	fi->rx_attr->comp_order = FI_ORDER_NONE;
	fi->rx_attr->total_buffered_recv = 0;
	fi->rx_attr->size = 256;
	fi->rx_attr->iov_limit = 4;

	fi->ep_attr->type = FI_EP_MSG;
	fi->ep_attr->protocol = FI_PROTO_UNSPEC;
	fi->ep_attr->max_msg_size = VFI_MAX_MSG;
	fi->ep_attr->msg_prefix_size = 0;
	fi->ep_attr->max_order_raw_size = 0;
	fi->ep_attr->max_order_war_size = 0;
	fi->ep_attr->max_order_waw_size = 0;
	fi->ep_attr->mem_tag_format = 0;
	fi->ep_attr->tx_ctx_cnt = 1;
	fi->ep_attr->rx_ctx_cnt = 1;

	fi->domain_attr->name = strdup(devname);
	fi->domain_attr->threading = FI_THREAD_SAFE;
	if (h && h->domain_attr && h->domain_attr->threading)
		fi->domain_attr->threading = h->domain_attr->threading;
	fi->domain_attr->control_progress = FI_PROGRESS_MANUAL;
	fi->domain_attr->data_progress = FI_PROGRESS_MANUAL;
	fi->domain_attr->resource_mgmt = FI_RM_ENABLED;
	fi->domain_attr->av_type = FI_AV_UNSPEC;
	fi->domain_attr->mr_mode = VFI_MR_MODE;
	fi->domain_attr->mr_key_size = sizeof(uint64_t);
	fi->domain_attr->cq_data_size = sizeof(uint64_t);
	fi->domain_attr->cq_cnt = 256;
	fi->domain_attr->ep_cnt = VMMC_MAX_IMPORTS - VFI_IMPORT_CACHE;
	fi->domain_attr->tx_ctx_cnt = fi->domain_attr->ep_cnt;
	fi->domain_attr->rx_ctx_cnt = fi->domain_attr->ep_cnt;
	fi->domain_attr->max_ep_tx_ctx = 1;
	fi->domain_attr->max_ep_rx_ctx = 1;
	fi->domain_attr->mr_iov_limit = 1;
	fi->domain_attr->mr_cnt = VMMC_MAX_EXPORTS;
	fi->domain_attr->caps = FI_LOCAL_COMM | FI_REMOTE_COMM;

	fi->fabric_attr->name = strdup(VFI_NAME);
	fi->fabric_attr->prov_version = VFI_PROV_VERSION;
	if (!fi->domain_attr->name || !fi->fabric_attr->name) {
		fi_freeinfo(fi);
		return NULL;
	}
	return fi;
}

static int vfi_getinfo(uint32_t version, const char *node,
		       const char *service, uint64_t flags,
		       const struct fi_info *hints, struct fi_info **info)
{
	struct sockaddr_in sin;
	struct fi_info *fi;
	char dev[64];
	int ret = 0;

	*info = NULL;
	if (!vfi_device(dev, sizeof(dev)))
		return -FI_ENODATA;
	if (!vfi_hints_ok(version, hints, dev))
		return -FI_ENODATA;
	fi = vfi_info_new(hints, dev);
	if (!fi)
		return -FI_ENOMEM;

	if (node || service) {
		bool src = flags & FI_SOURCE;

		ret = vfi_resolve(node, service, src && !node, &sin);
		if (!ret && src)
			ret = vfi_copy_addr(&fi->src_addr, &fi->src_addrlen,
					    &sin, sizeof(sin));
		else if (!ret)
			ret = vfi_copy_addr(&fi->dest_addr, &fi->dest_addrlen,
					    &sin, sizeof(sin));
	}
	if (!ret && hints && !fi->src_addr)
		ret = vfi_copy_addr(&fi->src_addr, &fi->src_addrlen,
				    hints->src_addr, hints->src_addrlen);
	if (!ret && hints && !fi->dest_addr)
		ret = vfi_copy_addr(&fi->dest_addr, &fi->dest_addrlen,
				    hints->dest_addr, hints->dest_addrlen);
	if (ret) {
		fi_freeinfo(fi);
		return ret;
	}
	*info = fi;
	return 0;
}

static int vfi_fabric_close(struct fid *fid)
{
	free(container_of(fid, struct vfi_fabric, fab.fid));
	return 0;
}

static struct fi_ops vfi_fabric_fi_ops = {
	.size = sizeof(struct fi_ops),
	.close = vfi_fabric_close,
	.bind = vfi_no_bind,
	.control = vfi_no_control,
	.ops_open = vfi_no_ops_open,
};

static int vfi_wait_open(struct fid_fabric *fabric, struct fi_wait_attr *attr,
			 struct fid_wait **waitset)
{
	return -FI_ENOSYS;
}

static struct fi_ops_fabric vfi_fabric_ops = {
	.size = sizeof(struct fi_ops_fabric),
	.domain = vfi_domain_open,
	.passive_ep = vfi_passive_ep,
	.eq_open = vfi_eq_open,
	.wait_open = vfi_wait_open,
	.trywait = vfi_trywait,
};

int vfi_fabric_open(struct fi_fabric_attr *attr, struct fid_fabric **fabric,
		    void *context)
{
	struct vfi_fabric *fab;

	if (attr && attr->name && strcmp(attr->name, VFI_NAME))
		return -FI_ENODATA;
	fab = calloc(1, sizeof(*fab));
	if (!fab)
		return -FI_ENOMEM;
	fab->fab.fid.fclass = FI_CLASS_FABRIC;
	fab->fab.fid.context = context;
	fab->fab.fid.ops = &vfi_fabric_fi_ops;
	fab->fab.ops = &vfi_fabric_ops;
	*fabric = &fab->fab;
	return 0;
}

static void vfi_cleanup(void)
{
}

struct fi_provider vfi_prov = {
	.name = VFI_NAME,
	.version = VFI_PROV_VERSION,
	.fi_version = VFI_FI_VERSION,
	.getinfo = vfi_getinfo,
	.fabric = vfi_fabric_open,
	.cleanup = vfi_cleanup,
};

FI_EXT_INI
{
	fi_param_define(&vfi_prov, "iface", FI_PARAM_STRING,
			"Interface whose IPv4 address a passive endpoint bound to any address gives as its name (default: the first up that is not a loopback)");
	fi_param_define(&vfi_prov, "direct_read", FI_PARAM_INT,
			"Reads of this many bytes or more are answered straight into the reader's buffer, exported for the read; 0: every read through the ring (default: 1048576)");
	return &vfi_prov;
}

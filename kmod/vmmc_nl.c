// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_nl.c - the "vmmc" generic netlink family: DEV_GET (do and dump)
 * reports each NIC, its counters and its per-user limits; EP_GET,
 * EXPORT_GET and IMPORT_GET dump its endpoints, exports and imports;
 * DEV_SET sets the spin limit. Any user may ask DEV_GET; everything else
 * names other users' processes or changes the NIC for every user, so it
 * needs CAP_NET_ADMIN (GENL_ADMIN_PERM). Requests are validated strictly
 * against vmmc_nl_gen.c.
 */
#include <net/genetlink.h>

#include "vmmc_loc.h"
#include "vmmc_nl_gen.h"

static struct genl_family vmmc_nl_family;

#define VMMC_NIC_STAT(f)	(offsetof(struct vmmc_nic_counters, f) / sizeof(__u64))

/* NIC-written counters, in the order of struct vmmc_nic_counters */
static const char * const vmmc_nic_stat_names[] = {
	"nic_doorbells", "nic_sleeps", "nic_descs", "nic_desc_errors",
	"nic_cqes", "nic_nqes", "nic_irqs", "nic_pings_tx", "nic_pings_rx",
	"nic_pkts_tx", "nic_pkts_rx", "nic_bytes_tx", "nic_bytes_rx",
	"nic_ctrl_acks", "nic_sends", "nic_send_errors", "nic_data_tx",
	"nic_data_rx", "nic_rx_rejects", "nic_kcmds",
	"nic_link_retrans", "nic_link_dups", "nic_link_crc_errors",
	"nic_link_ooo", "nic_link_peer_deaths", "nic_link_imports_revoked",
	"nic_fault_drops", "nic_fault_dups", "nic_fault_corrupts",
	"nic_fault_delays",
	[VMMC_NIC_STAT(redirects)]	= "nic_redirects",
	[VMMC_NIC_STAT(redir_bytes)]	= "nic_redir_bytes",
};

/* driver counters, in the order of enum vmmc_drv_stat */
static const char * const vmmc_drv_stat_names[VMMC_STAT_NR] = {
	[VMMC_STAT_IRQ_EVENT]		= "irq_event",
	[VMMC_STAT_IRQ_CTRL]		= "irq_ctrl",
	[VMMC_STAT_WAITS]		= "waits",
	[VMMC_STAT_WAIT_BLOCKS]		= "wait_blocks",
	[VMMC_STAT_WAKEUPS]		= "wakeups",
	[VMMC_STAT_EPS_OPENED]		= "eps_opened",
	[VMMC_STAT_EPS_CLOSED]		= "eps_closed",
	[VMMC_STAT_FENCES]		= "fences",
	[VMMC_STAT_FENCE_TIMEOUTS]	= "fence_timeouts",
	[VMMC_STAT_PINNED_PAGES]	= "pinned_pages",
	[VMMC_STAT_EXPORTS]		= "exports",
	[VMMC_STAT_IMPORTS]		= "imports",
	[VMMC_STAT_PINS]		= "pins",
	[VMMC_STAT_UNPINS]		= "unpins",
	[VMMC_STAT_INVALIDATIONS]	= "invalidations",
	[VMMC_STAT_KCMDS]		= "kcmds",
	[VMMC_STAT_KCMD_TIMEOUTS]	= "kcmd_timeouts",
	[VMMC_STAT_SPURIOUS]		= "spurious_wakeups",
	[VMMC_STAT_USER_LIMITS]		= "user_limit_refusals",
	[VMMC_STAT_NIC_STALLS]		= "nic_stalls",
	[VMMC_STAT_NIC_RECOVERIES]	= "nic_recoveries",
	[VMMC_STAT_NIC_STALLED]		= "nic_stalled",
	[VMMC_STAT_GRAVE_PAGES]		= "grave_pages",
	[VMMC_STAT_ZOMBIE_EPS]		= "zombie_eps",
};

static int vmmc_nl_put_stat(struct sk_buff *skb, const char *name, u64 val)
{
	struct nlattr *entry;

	entry = nla_nest_start(skb, VMMC_NL_A_STAT_ENTRY);
	if (!entry)
		return -EMSGSIZE;
	if (nla_put_string(skb, VMMC_NL_A_STAT_NAME, name) ||
	    nla_put_u64_64bit(skb, VMMC_NL_A_STAT_VALUE, val,
			      VMMC_NL_A_STAT_PAD)) {
		nla_nest_cancel(skb, entry);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, entry);
	return 0;
}

static int vmmc_nl_put_stats(struct sk_buff *skb, struct vmmc_dev *vdev)
{
	const __u64 *nic = (const __u64 *)&vdev->status->counters;
	struct nlattr *stats;
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(vmmc_nic_stat_names) >
		     sizeof(struct vmmc_nic_counters) / sizeof(__u64));

	stats = nla_nest_start(skb, VMMC_NL_A_STATS);
	if (!stats)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(vmmc_nic_stat_names); i++)
		if (vmmc_nic_stat_names[i] &&
		    vmmc_nl_put_stat(skb, vmmc_nic_stat_names[i],
				     READ_ONCE(nic[i])))
			goto out_cancel;
	for (i = 0; i < VMMC_STAT_NR; i++)
		if (vmmc_nl_put_stat(skb, vmmc_drv_stat_names[i],
				     atomic64_read(&vdev->stats[i])))
			goto out_cancel;
	nla_nest_end(skb, stats);
	return 0;

out_cancel:
	nla_nest_cancel(skb, stats);
	return -EMSGSIZE;
}

static int vmmc_nl_fill_dev(struct sk_buff *skb, struct vmmc_dev *vdev,
			    u32 portid, u32 seq, int flags)
{
	unsigned int live;
	u32 spin[4];
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &vmmc_nl_family, flags,
			  VMMC_NL_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;

	mutex_lock(&vdev->ep_lock);
	live = vdev->live_eps;
	mutex_unlock(&vdev->ep_lock);
	vmmc_spin_get(vdev, spin);

	if (nla_put_u32(skb, VMMC_NL_A_DEV_INDEX, vdev->index) ||
	    nla_put_string(skb, VMMC_NL_A_DEV_NAME, dev_name(&vdev->cdev_dev)) ||
	    nla_put_string(skb, VMMC_NL_A_PCI_NAME, pci_name(vdev->pdev)) ||
	    nla_put_u32(skb, VMMC_NL_A_NODE_ID, vdev->node_id) ||
	    nla_put_u32(skb, VMMC_NL_A_NR_NODES, vdev->nr_nodes) ||
	    nla_put_u32(skb, VMMC_NL_A_NIC_VERSION, vdev->nic_version) ||
	    nla_put_u32(skb, VMMC_NL_A_ABI_VERSION, VMMC_ABI_VERSION) ||
	    nla_put_u32(skb, VMMC_NL_A_MAX_EPS, VMMC_MAX_EPS) ||
	    nla_put_u32(skb, VMMC_NL_A_LIVE_EPS, live) ||
	    nla_put_u32(skb, VMMC_NL_A_NIC_FLAGS,
			READ_ONCE(vdev->status->flags)) ||
	    nla_put_u32(skb, VMMC_NL_A_SPIN_NS, spin[0]) ||
	    nla_put_u32(skb, VMMC_NL_A_SPIN_SOURCE, spin[1]) ||
	    nla_put_u32(skb, VMMC_NL_A_SPIN_PROBE_NS, spin[2]) ||
	    nla_put_u32(skb, VMMC_NL_A_SPIN_MEASURED_NS, spin[3]) ||
	    nla_put_u32(skb, VMMC_NL_A_MAX_EPS_PER_USER,
			READ_ONCE(vmmc_max_eps_per_user)) ||
	    nla_put_u32(skb, VMMC_NL_A_MAX_EXPORTS_PER_USER,
			READ_ONCE(vmmc_max_exports_per_user)) ||
	    vmmc_nl_put_stats(skb, vdev)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int vmmc_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmc_dev *vdev, *found = NULL;
	struct sk_buff *msg;
	u32 index;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VMMC_NL_A_DEV_INDEX))
		return -EINVAL;
	index = nla_get_u32(info->attrs[VMMC_NL_A_DEV_INDEX]);

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&vmmc_devs_lock);
	list_for_each_entry(vdev, &vmmc_devs, list) {
		if (vdev->index == index) {
			found = vdev;
			break;
		}
	}
	if (!found) {
		mutex_unlock(&vmmc_devs_lock);
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[VMMC_NL_A_DEV_INDEX],
				    "no vmmc NIC with this index");
		err = -ENODEV;
		goto out_free_msg;
	}
	err = vmmc_nl_fill_dev(msg, found, info->snd_portid, info->snd_seq, 0);
	mutex_unlock(&vmmc_devs_lock);
	if (err)
		goto out_free_msg;
	return genlmsg_reply(msg, info);

out_free_msg:
	nlmsg_free(msg);
	return err;
}

static int vmmc_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmc_dev *vdev;
	int err = -ENODEV;
	u32 index;

	if (GENL_REQ_ATTR_CHECK(info, VMMC_NL_A_DEV_INDEX) ||
	    GENL_REQ_ATTR_CHECK(info, VMMC_NL_A_SPIN_NS))
		return -EINVAL;
	index = nla_get_u32(info->attrs[VMMC_NL_A_DEV_INDEX]);

	mutex_lock(&vmmc_devs_lock);
	list_for_each_entry(vdev, &vmmc_devs, list) {
		if (vdev->index != index)
			continue;
		/* read by endpoints opened from now on (VMMC_IOC_INFO) */
		vmmc_spin_admin(vdev,
				nla_get_u32(info->attrs[VMMC_NL_A_SPIN_NS]));
		err = 0;
		break;
	}
	mutex_unlock(&vmmc_devs_lock);
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[VMMC_NL_A_DEV_INDEX],
				    "no vmmc NIC with this index");
	return err;
}

static int vmmc_nl_dev_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct vmmc_dev *vdev;
	long idx = 0, start = cb->args[0];
	int err = 0;

	mutex_lock(&vmmc_devs_lock);
	list_for_each_entry(vdev, &vmmc_devs, list) {
		if (idx++ < start)
			continue;
		err = vmmc_nl_fill_dev(skb, vdev, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err) {
			idx--;
			break;
		}
	}
	mutex_unlock(&vmmc_devs_lock);
	cb->args[0] = idx;
	/* a full skb ends this round; the next one resumes at idx */
	if (err == -EMSGSIZE && idx > start)
		return skb->len;
	return err ? err : skb->len;
}

/* put the attributes of object @i of @vdev: 0, -ENOENT, -EMSGSIZE */
typedef int (*vmmc_nl_fill_fn)(struct sk_buff *skb, struct vmmc_dev *vdev,
			       long i);

/*
 * Dump objects 0 .. @nobjs - 1 of every NIC, one message each, with @fill
 * putting an object's attributes; cb->args[0] is the NIC position and
 * cb->args[1] the object position to resume at.
 */
static int vmmc_nl_dump(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd, long nobjs, vmmc_nl_fill_fn fill)
{
	struct vmmc_dev *vdev;
	long d = 0, i;
	int err = 0;
	void *hdr;

	mutex_lock(&vmmc_devs_lock);
	list_for_each_entry(vdev, &vmmc_devs, list) {
		if (d++ < cb->args[0])
			continue;
		for (i = cb->args[1]; i < nobjs; i++) {
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, &vmmc_nl_family,
					  NLM_F_MULTI, cmd);
			err = hdr ? fill(skb, vdev, i) : -EMSGSIZE;
			if (err && hdr)
				genlmsg_cancel(skb, hdr);
			if (err == -EMSGSIZE) {
				cb->args[0] = d - 1;
				cb->args[1] = i;
				goto out_unlock;
			}
			if (!err)
				genlmsg_end(skb, hdr);
		}
		cb->args[1] = 0;
	}
	cb->args[0] = d;
	err = 0;
out_unlock:
	mutex_unlock(&vmmc_devs_lock);
	/* a full skb ends this round; an object larger than one is an error */
	if (err == -EMSGSIZE && !skb->len)
		return err;
	return skb->len;
}

static int vmmc_nl_fill_ep(struct sk_buff *skb, struct vmmc_dev *vdev, long i)
{
	struct vmmc_ep_ctx *ctx = &vdev->epctx[i];
	struct vmmc_ep *ep;
	int err = -ENOENT;

	mutex_lock(&vdev->ep_lock);
	ep = vdev->eps[i];
	if (ep)
		err = nla_put_u32(skb, VMMC_NL_A_DEV_INDEX, vdev->index) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_ID, ep->id) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_PID, ep->pid) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_UID,
				  from_kuid_munged(&init_user_ns, ep->uid)) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EP_PINNED,
					atomic_long_read(&ep->pinned_pages),
					VMMC_NL_A_PAD) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EP_DESCS,
					READ_ONCE(ctx->descs), VMMC_NL_A_PAD) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EP_CQES,
					READ_ONCE(ctx->cqes), VMMC_NL_A_PAD) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EP_NQES,
					READ_ONCE(ctx->nqes), VMMC_NL_A_PAD) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EP_IRQS,
					READ_ONCE(ctx->irqs), VMMC_NL_A_PAD) ?
		      -EMSGSIZE : 0;
	mutex_unlock(&vdev->ep_lock);
	return err;
}

static int vmmc_nl_fill_export(struct sk_buff *skb, struct vmmc_dev *vdev,
			       long i)
{
	struct vmmc_export *e = &vdev->exptab[i];
	struct vmmc_xport *x;
	int err = -ENOENT;

	mutex_lock(&vdev->exp_lock);
	x = vdev->xports[i];
	if (x)
		err = nla_put_u32(skb, VMMC_NL_A_DEV_INDEX, vdev->index) ||
		      nla_put_u32(skb, VMMC_NL_A_EXPORT_ID, i) ||
		      nla_put_u32(skb, VMMC_NL_A_EXPORT_NAME, x->name) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_ID, x->umem.ep->id) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_PID, x->umem.ep->pid) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EXPORT_LEN,
					READ_ONCE(e->len), VMMC_NL_A_PAD) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_EXPORT_PERM,
					READ_ONCE(e->perm_nodes),
					VMMC_NL_A_PAD) ||
		      nla_put_u32(skb, VMMC_NL_A_EXPORT_STATE,
				  READ_ONCE(e->state)) ?
		      -EMSGSIZE : 0;
	mutex_unlock(&vdev->exp_lock);
	return err;
}

static int vmmc_nl_fill_import(struct sk_buff *skb, struct vmmc_dev *vdev,
			       long i)
{
	struct vmmc_import *row = &vdev->imptab[i];
	u32 id = i / VMMC_MAX_IMPORTS;
	struct vmmc_ep *ep;
	int err = -ENOENT;

	mutex_lock(&vdev->ep_lock);
	ep = vdev->eps[id];
	if (ep && READ_ONCE(row->state))
		err = nla_put_u32(skb, VMMC_NL_A_DEV_INDEX, vdev->index) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_ID, id) ||
		      nla_put_u32(skb, VMMC_NL_A_EP_PID, ep->pid) ||
		      nla_put_u32(skb, VMMC_NL_A_IMPORT_ID,
				  i % VMMC_MAX_IMPORTS) ||
		      nla_put_u32(skb, VMMC_NL_A_IMPORT_NODE,
				  READ_ONCE(row->node)) ||
		      nla_put_u32(skb, VMMC_NL_A_IMPORT_EXPORT,
				  READ_ONCE(row->export_id)) ||
		      nla_put_u64_64bit(skb, VMMC_NL_A_IMPORT_LEN,
					READ_ONCE(row->len), VMMC_NL_A_PAD) ||
		      nla_put_u32(skb, VMMC_NL_A_IMPORT_STATE,
				  READ_ONCE(row->state)) ?
		      -EMSGSIZE : 0;
	mutex_unlock(&vdev->ep_lock);
	return err;
}

static int vmmc_nl_ep_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	return vmmc_nl_dump(skb, cb, VMMC_NL_CMD_EP_GET, VMMC_MAX_EPS,
			    vmmc_nl_fill_ep);
}

static int vmmc_nl_export_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	return vmmc_nl_dump(skb, cb, VMMC_NL_CMD_EXPORT_GET, VMMC_MAX_EXPORTS,
			    vmmc_nl_fill_export);
}

static int vmmc_nl_import_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	return vmmc_nl_dump(skb, cb, VMMC_NL_CMD_IMPORT_GET,
			    VMMC_MAX_EPS * VMMC_MAX_IMPORTS, vmmc_nl_fill_import);
}

static const struct genl_ops vmmc_nl_ops[] = {
	{
		.cmd		= VMMC_NL_CMD_DEV_GET,
		.doit		= vmmc_nl_dev_get_doit,
		.dumpit		= vmmc_nl_dev_get_dumpit,
		.policy		= vmmc_nl_dev_get_policy,
		.maxattr	= VMMC_NL_A_DEV_INDEX,
	},
	{
		.cmd		= VMMC_NL_CMD_DEV_SET,
		.doit		= vmmc_nl_dev_set_doit,
		.policy		= vmmc_nl_dev_set_policy,
		.maxattr	= VMMC_NL_A_MAX,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VMMC_NL_CMD_EP_GET,
		.dumpit		= vmmc_nl_ep_get_dumpit,
		/* pids and memory layout of every process */
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VMMC_NL_CMD_EXPORT_GET,
		.dumpit		= vmmc_nl_export_get_dumpit,
		/* pids and memory layout of every process */
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VMMC_NL_CMD_IMPORT_GET,
		.dumpit		= vmmc_nl_import_get_dumpit,
		/* pids and memory layout of every process */
		.flags		= GENL_ADMIN_PERM,
	},
};

static struct genl_family vmmc_nl_family __ro_after_init = {
	.name		= VMMC_NL_FAMILY_NAME,
	.version	= VMMC_NL_FAMILY_VERSION,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= vmmc_nl_ops,
	.n_ops		= ARRAY_SIZE(vmmc_nl_ops),
	.resv_start_op	= VMMC_NL_CMD_DEV_GET,
};

/**
 * vmmc_nl_init() - register the genetlink family
 *
 * Context: module init.
 * Return: 0 or -errno.
 */
int vmmc_nl_init(void)
{
	return genl_register_family(&vmmc_nl_family);
}

/**
 * vmmc_nl_exit() - unregister the genetlink family
 *
 * Context: module exit.
 */
void vmmc_nl_exit(void)
{
	genl_unregister_family(&vmmc_nl_family);
}

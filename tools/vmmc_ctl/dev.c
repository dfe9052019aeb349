// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - the "dev" object: NICs, their endpoints and counters.
 *
 *   vmmc_ctl dev [ show [ DEV ] ]      DEV: vmmcN or N
 *   vmmc_ctl dev set DEV spin_ns N     competitive spin limit (root)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>

#include "vmmc_ctl.h"
#include "../../uapi/vmmc.h"
#include "../../uapi/vmmc_nl.h"

struct dev_show_ctx {
	struct ctl *ctl;
	int count;
	int err;		/* -errno from the kernel, if any */
};

static struct nla_policy dev_policy[VMMC_NL_A_MAX + 1] = {
	[VMMC_NL_A_DEV_INDEX]	= { .type = NLA_U32 },
	[VMMC_NL_A_DEV_NAME]	= { .type = NLA_STRING },
	[VMMC_NL_A_PCI_NAME]	= { .type = NLA_STRING },
	[VMMC_NL_A_NODE_ID]	= { .type = NLA_U32 },
	[VMMC_NL_A_NR_NODES]	= { .type = NLA_U32 },
	[VMMC_NL_A_NIC_VERSION]	= { .type = NLA_U32 },
	[VMMC_NL_A_ABI_VERSION]	= { .type = NLA_U32 },
	[VMMC_NL_A_MAX_EPS]	= { .type = NLA_U32 },
	[VMMC_NL_A_LIVE_EPS]	= { .type = NLA_U32 },
	[VMMC_NL_A_NIC_FLAGS]	= { .type = NLA_U32 },
	[VMMC_NL_A_STATS]	= { .type = NLA_NESTED },
	[VMMC_NL_A_SPIN_NS]	= { .type = NLA_U32 },
	[VMMC_NL_A_SPIN_MEASURED_NS] = { .type = NLA_U32 },
	[VMMC_NL_A_SPIN_SOURCE]	= { .type = NLA_U32 },
	[VMMC_NL_A_SPIN_PROBE_NS] = { .type = NLA_U32 },
	[VMMC_NL_A_MAX_EPS_PER_USER] = { .type = NLA_U32 },
	[VMMC_NL_A_MAX_EXPORTS_PER_USER] = { .type = NLA_U32 },
};

/* enum vmmc_spin_src, as show prints it */
static const char *spin_source_str(uint64_t src)
{
	static const char *const names[VMMC_SPIN_SRC_NR] = {
		[VMMC_SPIN_SRC_NONE]	= "none",
		[VMMC_SPIN_SRC_PROBE]	= "probe",
		[VMMC_SPIN_SRC_WAITER]	= "waiter",
		[VMMC_SPIN_SRC_ADMIN]	= "admin",
	};

	return src < VMMC_SPIN_SRC_NR ? names[src] : "unknown";
}

static uint64_t get_u32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static void print_flags(struct ctl *ctl, uint32_t flags)
{
	static const char *const names[] = { "sleeping", "running" };
	unsigned int i;
	bool any = false;

	if (ctl->json) {
		ctl_open_object(ctl, "flags");
		for (i = 0; i < 2; i++)
			ctl_print_u64(ctl, names[i], NULL, !!(flags & (1u << i)));
		ctl_close_object(ctl);
		return;
	}
	printf("flags ");
	for (i = 0; i < 2; i++) {
		if (flags & (1u << i)) {
			printf("%s%s", any ? "," : "", names[i]);
			any = true;
		}
	}
	printf("%s\n", any ? "" : "none");
}

static void print_stats(struct ctl *ctl, struct nlattr *nest)
{
	struct nlattr *entry, *tb[VMMC_NL_A_STAT_MAX + 1];
	int rem, col = 0;

	ctl_open_object(ctl, "stats");
	nla_for_each_nested(entry, nest, rem) {
		char name[64];

		if (nla_type(entry) != VMMC_NL_A_STAT_ENTRY)
			continue;
		if (nla_parse_nested(tb, VMMC_NL_A_STAT_MAX, entry, NULL) ||
		    !tb[VMMC_NL_A_STAT_NAME] || !tb[VMMC_NL_A_STAT_VALUE])
			continue;
		nla_strlcpy(name, tb[VMMC_NL_A_STAT_NAME], sizeof(name));
		if (!ctl->json) {
			printf("%s%s %llu", col ? " " : "    ", name,
			       (unsigned long long)nla_get_u64(tb[VMMC_NL_A_STAT_VALUE]));
			if (++col == 4) {
				putchar('\n');
				col = 0;
			}
		} else {
			ctl_print_u64(ctl, name, NULL,
				      nla_get_u64(tb[VMMC_NL_A_STAT_VALUE]));
		}
	}
	if (!ctl->json && col)
		putchar('\n');
	ctl_close_object(ctl);
}

static int dev_show_cb(struct nl_msg *msg, void *arg)
{
	struct dev_show_ctx *dc = arg;
	struct ctl *ctl = dc->ctl;
	struct nlattr *tb[VMMC_NL_A_MAX + 1];
	char name[32] = "?", pci[32] = "?";

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, VMMC_NL_A_MAX, dev_policy))
		return NL_SKIP;
	if (tb[VMMC_NL_A_DEV_NAME])
		nla_strlcpy(name, tb[VMMC_NL_A_DEV_NAME], sizeof(name));
	if (tb[VMMC_NL_A_PCI_NAME])
		nla_strlcpy(pci, tb[VMMC_NL_A_PCI_NAME], sizeof(pci));
	dc->count++;

	ctl_open_object(ctl, NULL);
	ctl_print_str(ctl, "dev", "%s: ", name);
	ctl_print_u64(ctl, "index", NULL, get_u32(tb, VMMC_NL_A_DEV_INDEX));
	ctl_print_u64(ctl, "node_id", "node %llu ", get_u32(tb, VMMC_NL_A_NODE_ID));
	ctl_print_u64(ctl, "nr_nodes", "of %llu ", get_u32(tb, VMMC_NL_A_NR_NODES));
	ctl_print_str(ctl, "pci", "pci %s ", pci);
	ctl_print_u64(ctl, "nic_version", "nic_version %llu ",
		      get_u32(tb, VMMC_NL_A_NIC_VERSION));
	ctl_print_u64(ctl, "abi_version", "abi_version %llu\n",
		      get_u32(tb, VMMC_NL_A_ABI_VERSION));
	ctl_print_u64(ctl, "live_eps", "    endpoints %llu",
		      get_u32(tb, VMMC_NL_A_LIVE_EPS));
	ctl_print_u64(ctl, "max_eps", "/%llu ", get_u32(tb, VMMC_NL_A_MAX_EPS));
	print_flags(ctl, get_u32(tb, VMMC_NL_A_NIC_FLAGS));
	ctl_print_u64(ctl, "spin_ns", "    spin_ns %llu",
		      get_u32(tb, VMMC_NL_A_SPIN_NS));
	ctl_print_str(ctl, "spin_source", " (%s; ",
		      spin_source_str(get_u32(tb, VMMC_NL_A_SPIN_SOURCE)));
	ctl_print_u64(ctl, "spin_measured_ns", "measured %llu, ",
		      get_u32(tb, VMMC_NL_A_SPIN_MEASURED_NS));
	ctl_print_u64(ctl, "spin_probe_ns", "probe estimate %llu)\n",
		      get_u32(tb, VMMC_NL_A_SPIN_PROBE_NS));
	ctl_print_u64(ctl, "max_eps_per_user", "    per user: endpoints %llu",
		      get_u32(tb, VMMC_NL_A_MAX_EPS_PER_USER));
	ctl_print_u64(ctl, "max_exports_per_user", " exports %llu (0: no limit)\n",
		      get_u32(tb, VMMC_NL_A_MAX_EXPORTS_PER_USER));
	if (tb[VMMC_NL_A_STATS])
		print_stats(ctl, tb[VMMC_NL_A_STATS]);
	ctl_close_object(ctl);
	return NL_OK;
}

static int dev_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct dev_show_ctx *dc = arg;

	dc->err = e->error;
	return NL_STOP;
}

/* "vmmc3" or "3" -> 3; -1 if neither */
static long parse_dev(const char *s)
{
	char *end;
	long v;

	if (!strncmp(s, "vmmc", 4))
		s += 4;
	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < 0 || v > 0xffff)
		return -1;
	return v;
}

int dev_show(struct ctl *ctl, int argc, char **argv)
{
	struct dev_show_ctx dc = { .ctl = ctl };
	struct nl_msg *msg;
	long index = -1;
	int err;

	if (argc > 1) {
		fprintf(stderr, "vmmc_ctl: dev show takes at most one DEV\n");
		return 2;
	}
	if (argc == 1) {
		index = parse_dev(argv[0]);
		if (index < 0) {
			fprintf(stderr, "vmmc_ctl: bad DEV \"%s\" (want vmmcN or N)\n",
				argv[0]);
			return 2;
		}
	}
	msg = nlmsg_alloc();
	if (!msg)
		return 1;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctl->family, 0,
			 index < 0 ? NLM_F_DUMP : 0, VMMC_NL_CMD_DEV_GET,
			 VMMC_NL_FAMILY_VERSION) ||
	    (index >= 0 && nla_put_u32(msg, VMMC_NL_A_DEV_INDEX, index))) {
		nlmsg_free(msg);
		return 1;
	}
	nl_socket_modify_cb(ctl->sk, NL_CB_VALID, NL_CB_CUSTOM, dev_show_cb, &dc);
	nl_socket_modify_err_cb(ctl->sk, NL_CB_CUSTOM, dev_err_cb, &dc);

	ctl_open_array(ctl);
	err = nl_send_auto(ctl->sk, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_recvmsgs_default(ctl->sk);
	if (index >= 0 && !dc.err && !dc.count)
		err = nl_wait_for_ack(ctl->sk);
	ctl_close_array(ctl);

	if (dc.err == -ENODEV) {
		fprintf(stderr, "vmmc_ctl: no NIC vmmc%ld\n", index);
		return 1;
	}
	if (dc.err) {
		fprintf(stderr, "vmmc_ctl: dev show: %s\n", strerror(-dc.err));
		return 1;
	}
	if (err < 0) {
		fprintf(stderr, "vmmc_ctl: netlink: %s\n", nl_geterror(err));
		return 1;
	}
	if (!dc.count) {
		fprintf(stderr, "vmmc_ctl: no vmmc NIC found\n");
		return 1;
	}
	return 0;
}

static int dev_set(struct ctl *ctl, int argc, char **argv)
{
	struct dev_show_ctx dc = { .ctl = ctl };
	unsigned long long ns;
	struct nl_msg *msg;
	long index;
	char *end;
	int err;

	if (argc != 3 || !ctl_matches(argv[1], "spin_ns")) {
		fprintf(stderr, "vmmc_ctl: usage: dev set DEV spin_ns N\n");
		return 2;
	}
	index = parse_dev(argv[0]);
	errno = 0;
	ns = strtoull(argv[2], &end, 10);
	if (index < 0 || *end || errno || !*argv[2] || ns > 1000000000ULL) {
		fprintf(stderr, "vmmc_ctl: bad DEV \"%s\" or spin_ns \"%s\" (0..1000000000)\n",
			argv[0], argv[2]);
		return 2;
	}
	msg = nlmsg_alloc();
	if (!msg)
		return 1;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctl->family, 0,
			 NLM_F_ACK, VMMC_NL_CMD_DEV_SET,
			 VMMC_NL_FAMILY_VERSION) ||
	    nla_put_u32(msg, VMMC_NL_A_DEV_INDEX, index) ||
	    nla_put_u32(msg, VMMC_NL_A_SPIN_NS, ns)) {
		nlmsg_free(msg);
		return 1;
	}
	nl_socket_modify_err_cb(ctl->sk, NL_CB_CUSTOM, dev_err_cb, &dc);
	err = nl_send_auto(ctl->sk, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_wait_for_ack(ctl->sk);
	if (dc.err == -ENODEV) {
		fprintf(stderr, "vmmc_ctl: no NIC vmmc%ld\n", index);
		return 1;
	}
	if (dc.err) {
		fprintf(stderr, "vmmc_ctl: dev set: %s\n", strerror(-dc.err));
		return 1;
	}
	if (err < 0) {
		fprintf(stderr, "vmmc_ctl: netlink: %s\n", nl_geterror(err));
		return 1;
	}
	return 0;
}

static int dev_help(struct ctl *ctl, int argc, char **argv)
{
	printf("Usage: vmmc_ctl dev show [ DEV ]\n"
	       "       vmmc_ctl dev set DEV spin_ns N\n"
	       "       DEV := vmmcN | N\n");
	return 0;
}

int cmd_dev(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_cmd cmds[] = {
		{ "show",	dev_show },
		{ "list",	dev_show },
		{ "set",	dev_set },
		{ "help",	dev_help },
		{ NULL, NULL }
	};

	return ctl_exec(ctl, cmds, argc, argv, "dev command");
}

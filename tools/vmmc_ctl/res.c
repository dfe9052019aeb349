// SPDX-License-Identifier: GPL-2.0
/*
 * res.c - the resource objects: endpoints, exports and imports.
 *
 *   vmmc_ctl ep [ show ]        every endpoint: pid, pinned pages, counters
 *   vmmc_ctl export [ show ]    every export: name, owner, length, nodes
 *   vmmc_ctl import [ show ]    every import: owner, exporter node and id
 *
 * Each is one netlink dump; one print call per field emits text or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/genl/genl.h>

#include "vmmc_ctl.h"
#include "../../uapi/vmmc.h"
#include "../../uapi/vmmc_nl.h"

struct res_ctx {
	struct ctl *ctl;
	int err;
	void (*print)(struct ctl *ctl, struct nlattr **tb);
};

static uint64_t u32_of(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static uint64_t u64_of(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u64(tb[a]) : 0;
}

static void print_ep(struct ctl *ctl, struct nlattr **tb)
{
	ctl_open_object(ctl, NULL);
	ctl_print_u64(ctl, "dev_index", "vmmc%llu ", u32_of(tb, VMMC_NL_A_DEV_INDEX));
	ctl_print_u64(ctl, "ep", "ep %llu ", u32_of(tb, VMMC_NL_A_EP_ID));
	ctl_print_u64(ctl, "pid", "pid %llu ", u32_of(tb, VMMC_NL_A_EP_PID));
	ctl_print_u64(ctl, "uid", "uid %llu ", u32_of(tb, VMMC_NL_A_EP_UID));
	ctl_print_u64(ctl, "pinned_pages", "pinned_pages %llu ",
		      u64_of(tb, VMMC_NL_A_EP_PINNED));
	ctl_print_u64(ctl, "descs", "descs %llu ", u64_of(tb, VMMC_NL_A_EP_DESCS));
	ctl_print_u64(ctl, "cqes", "cqes %llu ", u64_of(tb, VMMC_NL_A_EP_CQES));
	ctl_print_u64(ctl, "nqes", "nqes %llu ", u64_of(tb, VMMC_NL_A_EP_NQES));
	ctl_print_u64(ctl, "irqs", "irqs %llu\n", u64_of(tb, VMMC_NL_A_EP_IRQS));
	ctl_close_object(ctl);
}

static const char *export_state(uint64_t s)
{
	switch (s) {
	case VMMC_EXPORT_FREE:
		return "free";
	case VMMC_EXPORT_ACTIVE:
		return "active";
	case VMMC_EXPORT_REVOKED:
		return "revoked";
	default:
		return "unknown";
	}
}

static void print_export(struct ctl *ctl, struct nlattr **tb)
{
	char perm[32];

	snprintf(perm, sizeof(perm), "%#llx",
		 (unsigned long long)u64_of(tb, VMMC_NL_A_EXPORT_PERM));
	ctl_open_object(ctl, NULL);
	ctl_print_u64(ctl, "dev_index", "vmmc%llu ", u32_of(tb, VMMC_NL_A_DEV_INDEX));
	ctl_print_u64(ctl, "export", "export %llu ", u32_of(tb, VMMC_NL_A_EXPORT_ID));
	ctl_print_u64(ctl, "name", "name %llu ", u32_of(tb, VMMC_NL_A_EXPORT_NAME));
	ctl_print_u64(ctl, "ep", "ep %llu ", u32_of(tb, VMMC_NL_A_EP_ID));
	ctl_print_u64(ctl, "pid", "pid %llu ", u32_of(tb, VMMC_NL_A_EP_PID));
	ctl_print_u64(ctl, "len", "len %llu ", u64_of(tb, VMMC_NL_A_EXPORT_LEN));
	if (ctl->json)
		ctl_print_u64(ctl, "perm_nodes", NULL,
			      u64_of(tb, VMMC_NL_A_EXPORT_PERM));
	else
		ctl_print_str(ctl, NULL, "perm_nodes %s ", perm);
	ctl_print_str(ctl, "state", "state %s\n",
		      export_state(u32_of(tb, VMMC_NL_A_EXPORT_STATE)));
	ctl_close_object(ctl);
}

static const char *import_state(unsigned long long st)
{
	switch (st) {
	case VMMC_IMPORT_ACTIVE:
		return "active";
	case VMMC_IMPORT_DEAD:
		return "dead";
	default:
		return "unknown";
	}
}

static void print_import(struct ctl *ctl, struct nlattr **tb)
{
	ctl_open_object(ctl, NULL);
	ctl_print_u64(ctl, "dev_index", "vmmc%llu ", u32_of(tb, VMMC_NL_A_DEV_INDEX));
	ctl_print_u64(ctl, "ep", "ep %llu ", u32_of(tb, VMMC_NL_A_EP_ID));
	ctl_print_u64(ctl, "pid", "pid %llu ", u32_of(tb, VMMC_NL_A_EP_PID));
	ctl_print_u64(ctl, "import", "import %llu ", u32_of(tb, VMMC_NL_A_IMPORT_ID));
	ctl_print_u64(ctl, "node", "node %llu ", u32_of(tb, VMMC_NL_A_IMPORT_NODE));
	ctl_print_u64(ctl, "export", "export %llu ",
		      u32_of(tb, VMMC_NL_A_IMPORT_EXPORT));
	ctl_print_u64(ctl, "len", "len %llu ", u64_of(tb, VMMC_NL_A_IMPORT_LEN));
	ctl_print_str(ctl, "state", "state %s\n",
		      import_state(u32_of(tb, VMMC_NL_A_IMPORT_STATE)));
	ctl_close_object(ctl);
}

static int res_cb(struct nl_msg *msg, void *arg)
{
	struct res_ctx *rc = arg;
	struct nlattr *tb[VMMC_NL_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, VMMC_NL_A_MAX, NULL))
		return NL_SKIP;
	rc->print(rc->ctl, tb);
	return NL_OK;
}

static int res_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct res_ctx *rc = arg;

	rc->err = e->error;
	return NL_STOP;
}

static int res_dump(struct ctl *ctl, int argc, uint8_t cmd,
		    void (*print)(struct ctl *, struct nlattr **))
{
	struct res_ctx rc = { .ctl = ctl, .print = print };
	struct nl_msg *msg;
	int err;

	if (argc) {
		fprintf(stderr, "vmmc_ctl: show takes no arguments\n");
		return 2;
	}
	msg = nlmsg_alloc();
	if (!msg)
		return 1;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctl->family, 0,
			 NLM_F_DUMP, cmd, VMMC_NL_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return 1;
	}
	nl_socket_modify_cb(ctl->sk, NL_CB_VALID, NL_CB_CUSTOM, res_cb, &rc);
	nl_socket_modify_err_cb(ctl->sk, NL_CB_CUSTOM, res_err_cb, &rc);
	ctl_open_array(ctl);
	err = nl_send_auto(ctl->sk, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_recvmsgs_default(ctl->sk);
	ctl_close_array(ctl);
	if (rc.err) {
		fprintf(stderr, "vmmc_ctl: %s\n", strerror(-rc.err));
		return 1;
	}
	if (err < 0) {
		fprintf(stderr, "vmmc_ctl: netlink: %s\n", nl_geterror(err));
		return 1;
	}
	return 0;
}

static int ep_show(struct ctl *ctl, int argc, char **argv)
{
	return res_dump(ctl, argc, VMMC_NL_CMD_EP_GET, print_ep);
}

static int export_show(struct ctl *ctl, int argc, char **argv)
{
	return res_dump(ctl, argc, VMMC_NL_CMD_EXPORT_GET, print_export);
}

static int import_show(struct ctl *ctl, int argc, char **argv)
{
	return res_dump(ctl, argc, VMMC_NL_CMD_IMPORT_GET, print_import);
}

static int res_help(struct ctl *ctl, int argc, char **argv)
{
	printf("Usage: vmmc_ctl { ep | export | import } [ show ]\n");
	return 0;
}

int cmd_ep(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_cmd cmds[] = {
		{ "show", ep_show }, { "list", ep_show }, { "help", res_help },
		{ NULL, NULL }
	};

	return ctl_exec(ctl, cmds, argc, argv, "ep command");
}

int cmd_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_cmd cmds[] = {
		{ "show", export_show }, { "list", export_show },
		{ "help", res_help }, { NULL, NULL }
	};

	return ctl_exec(ctl, cmds, argc, argv, "export command");
}

int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_cmd cmds[] = {
		{ "show", import_show }, { "list", import_show },
		{ "help", res_help }, { NULL, NULL }
	};

	return ctl_exec(ctl, cmds, argc, argv, "import command");
}

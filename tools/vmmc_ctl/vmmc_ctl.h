/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_ctl.h - shared state of the vmmc_ctl tool: options, the netlink
 * socket, and the printer that emits the same fields as text or JSON.
 */
#ifndef VMMC_CTL_H
#define VMMC_CTL_H

#include <stdbool.h>
#include <stdint.h>

struct nl_sock;

struct ctl {
	bool json;
	bool pretty;
	bool details;
	struct nl_sock *sk;
	int family;
	/* printer state */
	int depth;
	bool first[16];
};

/* a command table entry; the first entry of a table is the default */
struct ctl_cmd {
	const char *name;
	int (*fn)(struct ctl *ctl, int argc, char **argv);
};

int ctl_exec(struct ctl *ctl, const struct ctl_cmd *cmds, int argc,
	     char **argv, const char *what);
bool ctl_matches(const char *arg, const char *keyword);
const struct ctl_cmd *ctl_find(const struct ctl_cmd *cmds, const char *arg);

/* utils.c: netlink */
int ctl_nl_open(struct ctl *ctl);
void ctl_nl_close(struct ctl *ctl);

/* utils.c: printing (text and JSON from one call per field) */
void ctl_open_array(struct ctl *ctl);
void ctl_close_array(struct ctl *ctl);
void ctl_open_object(struct ctl *ctl, const char *key);
void ctl_close_object(struct ctl *ctl);
void ctl_print_str(struct ctl *ctl, const char *key, const char *fmt,
		   const char *val);
void ctl_print_u64(struct ctl *ctl, const char *key, const char *fmt,
		   uint64_t val);
void ctl_print_text(struct ctl *ctl, const char *text);

/* res.c */
int cmd_ep(struct ctl *ctl, int argc, char **argv);
int cmd_export(struct ctl *ctl, int argc, char **argv);
int cmd_import(struct ctl *ctl, int argc, char **argv);

/* dev.c */
int cmd_dev(struct ctl *ctl, int argc, char **argv);
int dev_show(struct ctl *ctl, int argc, char **argv);

#endif /* VMMC_CTL_H */

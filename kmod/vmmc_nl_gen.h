/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_nl_gen.h - policies of the vmmc genetlink family, written from
 * uapi/vmmc_nl.yaml (Debian's 6.1 sources predate the ynl generator).
 */
#ifndef _VMMC_NL_GEN_H
#define _VMMC_NL_GEN_H

#include <net/netlink.h>

#include "../uapi/vmmc_nl.h"

extern const struct nla_policy vmmc_nl_dev_get_policy[VMMC_NL_A_MAX + 1];
extern const struct nla_policy vmmc_nl_dev_set_policy[VMMC_NL_A_MAX + 1];

#endif /* _VMMC_NL_GEN_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_nl_gen.c - request policies of the vmmc genetlink family, in the
 * order of uapi/vmmc_nl.yaml. Only attributes a request may carry are
 * listed; anything else is rejected by strict validation.
 */
#include <linux/time64.h>

#include "vmmc_nl_gen.h"

/* dev-get: request attributes [ dev-index ] */
const struct nla_policy vmmc_nl_dev_get_policy[VMMC_NL_A_MAX + 1] = {
	[VMMC_NL_A_DEV_INDEX] = { .type = NLA_U32 },
};

/* not const: 6.1's nla_policy points at a mutable one */
static struct netlink_range_validation vmmc_nl_spin_range = {
	.max = NSEC_PER_SEC,
};

/* dev-set: request attributes [ dev-index, spin-ns ] */
const struct nla_policy vmmc_nl_dev_set_policy[VMMC_NL_A_MAX + 1] = {
	[VMMC_NL_A_DEV_INDEX] = { .type = NLA_U32 },
	[VMMC_NL_A_SPIN_NS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						    &vmmc_nl_spin_range),
};

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_nl_gen.c - request policies of the vmmc genetlink family, in the
 * order of uapi/vmmc_nl.yaml. Only attributes a request may carry are
 * listed; anything else is rejected by strict validation.
 */
#include "vmmc_nl_gen.h"

/* dev-get: request attributes [ dev-index ] */
const struct nla_policy vmmc_nl_dev_get_policy[VMMC_NL_A_MAX + 1] = {
	[VMMC_NL_A_DEV_INDEX] = { .type = NLA_U32 },
};

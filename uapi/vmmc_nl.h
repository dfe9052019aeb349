/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * vmmc generic netlink family. uapi/vmmc_nl.yaml is the description of the
 * family; the enums below follow it in the same order, and the kernel's
 * policy tables (kmod/vmmc_nl_gen.c) follow these enums.
 */
#ifndef _UAPI_VMMC_NL_H
#define _UAPI_VMMC_NL_H

#define VMMC_NL_FAMILY_NAME	"vmmc"
#define VMMC_NL_FAMILY_VERSION	1

enum vmmc_nl_cmd {
	VMMC_NL_CMD_UNSPEC,
	VMMC_NL_CMD_DEV_GET,	/* do: one NIC by DEV_INDEX; dump: all */
	VMMC_NL_CMD_EP_GET,	/* dump: every endpoint of every NIC */
	VMMC_NL_CMD_EXPORT_GET,	/* dump: every export of every NIC */
	VMMC_NL_CMD_IMPORT_GET,	/* dump: every import of every endpoint */
	VMMC_NL_CMD_DEV_SET,	/* do: DEV_INDEX + SPIN_NS (CAP_NET_ADMIN) */

	__VMMC_NL_CMD_MAX,
	VMMC_NL_CMD_MAX = __VMMC_NL_CMD_MAX - 1
};

enum vmmc_nl_attr {
	VMMC_NL_A_UNSPEC,
	VMMC_NL_A_DEV_INDEX,	/* u32: N of /dev/vmmcN */
	VMMC_NL_A_DEV_NAME,	/* string: "vmmcN" */
	VMMC_NL_A_PCI_NAME,	/* string: PCI address, "0000:00:04.0" */
	VMMC_NL_A_NODE_ID,	/* u32 */
	VMMC_NL_A_NR_NODES,	/* u32 */
	VMMC_NL_A_NIC_VERSION,	/* u32 */
	VMMC_NL_A_ABI_VERSION,	/* u32 */
	VMMC_NL_A_MAX_EPS,	/* u32 */
	VMMC_NL_A_LIVE_EPS,	/* u32: endpoints open now */
	VMMC_NL_A_NIC_FLAGS,	/* u32: VMMC_NIC_F_* */
	VMMC_NL_A_STATS,	/* nest of VMMC_NL_A_STAT_ENTRY */
	VMMC_NL_A_PAD,
	VMMC_NL_A_EP_ID,	/* u32: endpoint slot */
	VMMC_NL_A_EP_PID,	/* u32: the opener's pid */
	VMMC_NL_A_EP_PINNED,	/* u64: pages pinned (UTLB and exports) */
	VMMC_NL_A_EP_DESCS,	/* u64: SQ descriptors the NIC consumed */
	VMMC_NL_A_EP_CQES,	/* u64 */
	VMMC_NL_A_EP_NQES,	/* u64 */
	VMMC_NL_A_EP_IRQS,	/* u64 */
	VMMC_NL_A_EXPORT_ID,	/* u32: slot in the NIC's export table */
	VMMC_NL_A_EXPORT_NAME,	/* u32 */
	VMMC_NL_A_EXPORT_LEN,	/* u64 */
	VMMC_NL_A_EXPORT_PERM,	/* u64: bit n: node n may import */
	VMMC_NL_A_EXPORT_STATE,	/* u32: enum vmmc_export_state */
	VMMC_NL_A_IMPORT_ID,	/* u32: handle in the endpoint's table */
	VMMC_NL_A_IMPORT_NODE,	/* u32: the exporter's node */
	VMMC_NL_A_IMPORT_EXPORT, /* u32: export id on that node */
	VMMC_NL_A_IMPORT_LEN,	/* u64 */
	VMMC_NL_A_SPIN_NS,	/* u32: competitive spin limit, ns */
	VMMC_NL_A_SPIN_MEASURED_NS, /* u32: a waiter's measurement, else
				     * the probe's estimate
				     */
	VMMC_NL_A_SPIN_SOURCE,	/* u32: enum vmmc_spin_src (uapi/vmmc.h) */
	VMMC_NL_A_SPIN_PROBE_NS, /* u32: the driver's estimate at probe */
	VMMC_NL_A_IMPORT_STATE,	/* u32: enum vmmc_import_state (active, or
				 * dead: the exporter's node is down)
				 */
	VMMC_NL_A_MAX_EPS_PER_USER, /* u32: module parameter; 0: no limit */
	VMMC_NL_A_MAX_EXPORTS_PER_USER, /* u32: module parameter */
	VMMC_NL_A_EP_UID,	/* u32: the opener's real uid */

	__VMMC_NL_A_MAX,
	VMMC_NL_A_MAX = __VMMC_NL_A_MAX - 1
};

/* One counter: a stable snake_case name and its value. */
enum vmmc_nl_stat_attr {
	VMMC_NL_A_STAT_UNSPEC,
	VMMC_NL_A_STAT_ENTRY,	/* nest: NAME + VALUE */
	VMMC_NL_A_STAT_NAME,	/* string */
	VMMC_NL_A_STAT_VALUE,	/* u64 */
	VMMC_NL_A_STAT_PAD,

	__VMMC_NL_A_STAT_MAX,
	VMMC_NL_A_STAT_MAX = __VMMC_NL_A_STAT_MAX - 1
};

#endif /* _UAPI_VMMC_NL_H */

/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * vmmc: the one definition of the NIC's hardware interface and of the
 * kernel/user ABI. The module (kmod/), the library (ulib/), the fabric
 * (tools/fabric/), vmmc_ctl and the selftests all include this file; nobody
 * keeps a copy of any struct below.
 *
 * Three parties share memory:
 *   - the NIC (the fabric process on the host, which owns the ivshmem SRAM),
 *   - the kernel module (kmod), which owns protection,
 *   - the user library (ulib), which owns its endpoint's queues.
 * Every field says who writes it. Everything is little-endian, fixed size,
 * with explicit padding; sizes and offsets are checked by VMMC_LAYOUT_CHECKS
 * at the end of this file, which every side compiles.
 *
 * Rings: all ring indices are free-running __u32 counters, masked with
 * (entries - 1) on access; entries is a power of two; the ring is full when
 * prod - cons == entries and empty when prod == cons. Each index has exactly
 * one writer. A reader never trusts the other party's index: it masks it and
 * bounds prod - cons by entries before it uses it.
 *
 *   ring | lives in          | prod (writer) | cons (writer)
 *   -----+-------------------+---------------+--------------
 *   SQ   | NIC SRAM          | ulib          | NIC
 *   CQ   | guest RAM (kmod)  | NIC           | ulib
 *   NQ   | guest RAM (kmod)  | NIC           | ulib
 *
 * Producer: write entries, then store-release prod. Consumer: load-acquire
 * prod, read entries, then store-release cons.
 */
#ifndef _UAPI_VMMC_H
#define _UAPI_VMMC_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* ------------------------------------------------------------------------
 * Identity
 */
#define VMMC_NIC_MAGIC		0x434d4d56	/* "VMMC" read as a __u32 */
#define VMMC_NIC_VERSION	1		/* SRAM layout and descriptors */
#define VMMC_ABI_VERSION	1		/* ioctls and mmap layout */

#define VMMC_PCI_VENDOR		0x1af4		/* ivshmem */
#define VMMC_PCI_DEVICE		0x1110

/* ------------------------------------------------------------------------
 * The ivshmem device
 *
 * BAR0: ivshmem registers. BAR1: MSI-X. BAR2: NIC SRAM (the shm).
 * The NIC is ivshmem peer 0 (the fabric); the guest is peer 1.
 */
#define VMMC_BAR_REGS		0
#define VMMC_BAR_SRAM		2
#define VMMC_REG_DOORBELL	12	/* write (peer << 16) | vector */
#define VMMC_NIC_PEER		0

/* Doorbell vectors, guest -> NIC (peer 0's eventfds). */
enum vmmc_db_vector {
	VMMC_DB_SQ	= 0,	/* an SQ got work while the NIC slept */
	VMMC_DB_CTRL	= 1,	/* kmod changed an endpoint context */
	VMMC_DB_NR	= 2,
};

/* MSI-X vectors, NIC -> guest. */
enum vmmc_irq_vector {
	VMMC_IRQ_EVENT	= 0,	/* an armed endpoint got a CQ or NQ entry */
	VMMC_IRQ_CTRL	= 1,	/* the NIC acknowledged a context change */
	VMMC_IRQ_NR	= 2,
};

#define VMMC_NR_VECTORS		4	/* vectors= given to ivshmem-doorbell */

/* ------------------------------------------------------------------------
 * SRAM layout (BAR2). Offsets are fixed by VMMC_NIC_VERSION; the status
 * page repeats them so a reader can check.
 */
#define VMMC_PAGE_SIZE		4096
#define VMMC_SRAM_SIZE		(4u << 20)	/* power of two, >= the end */
#define VMMC_MAX_EPS		64

#define VMMC_SRAM_STATUS	0x000000	/* struct vmmc_nic_status */
#define VMMC_SRAM_CTRL		0x001000	/* struct vmmc_nic_ctrl */
#define VMMC_SRAM_EPCTX		0x002000	/* struct vmmc_ep_ctx[MAX_EPS] */
#define VMMC_SRAM_SQ		0x010000	/* SQ windows, VMMC_SQ_SIZE each */
#define VMMC_SRAM_END		(VMMC_SRAM_SQ + VMMC_MAX_EPS * VMMC_SQ_SIZE)

/* The SQ window of one endpoint: a header page, then the entries. */
#define VMMC_SQ_SIZE		(2 * VMMC_PAGE_SIZE)
#define VMMC_SQ_ENTRIES		64
#define VMMC_SQ_ENTRIES_OFF	VMMC_PAGE_SIZE

/* The event region of one endpoint (guest RAM): CQ and NQ. */
#define VMMC_EVQ_SIZE		(4 * VMMC_PAGE_SIZE)
#define VMMC_CQ_HDR_OFF		0x0000
#define VMMC_NQ_HDR_OFF		0x0100
#define VMMC_CQ_ENTRIES_OFF	0x1000
#define VMMC_CQ_ENTRIES		128
#define VMMC_NQ_ENTRIES_OFF	0x2000
#define VMMC_NQ_ENTRIES		256

/**
 * struct vmmc_ring_hdr - indices of one ring, each on its own cache line
 * @prod: producer index (see the table at the top for the writer)
 * @cons: consumer index
 * @flags: VMMC_RING_F_*; writer: the consumer
 */
struct vmmc_ring_hdr {
	__u32 prod;
	__u32 pad0[15];
	__u32 cons;
	__u32 pad1[15];
	__u32 flags;
	__u32 pad2[15];
};

/* ------------------------------------------------------------------------
 * Page 0: NIC status. Writer: NIC. Readers: kmod, ulib (mapped read-only
 * into every endpoint's process), vmmc_ctl through the module.
 */
struct vmmc_nic_counters {
	__aligned_u64 doorbells;	/* doorbell wake-ups taken */
	__aligned_u64 sleeps;		/* times the NIC went idle */
	__aligned_u64 descs;		/* SQ descriptors consumed */
	__aligned_u64 desc_errors;	/* ... that completed with an error */
	__aligned_u64 cqes;		/* completions written */
	__aligned_u64 nqes;		/* notifications written */
	__aligned_u64 irqs;		/* MSI-X interrupts raised */
	__aligned_u64 pings_tx;		/* ping requests sent to a node */
	__aligned_u64 pings_rx;		/* ping requests answered */
	__aligned_u64 pkts_tx;		/* packets sent on the link */
	__aligned_u64 pkts_rx;		/* packets received from the link */
	__aligned_u64 bytes_tx;
	__aligned_u64 bytes_rx;
	__aligned_u64 ctrl_acks;	/* endpoint context changes acked */
	__aligned_u64 reserved[18];
};

#define VMMC_NIC_F_SLEEPING	(1u << 0)	/* ring the doorbell to wake */
#define VMMC_NIC_F_RUNNING	(1u << 1)	/* the fabric is attached */

struct vmmc_nic_status {
	__u32 magic;		/* VMMC_NIC_MAGIC, stored last (release) */
	__u32 version;		/* VMMC_NIC_VERSION */
	__u32 node_id;		/* this NIC's node id on the fabric */
	__u32 nr_nodes;		/* nodes on the fabric */
	__u32 sram_size;
	__u32 max_eps;		/* VMMC_MAX_EPS */
	__u32 epctx_off;	/* VMMC_SRAM_EPCTX */
	__u32 sq_off;		/* VMMC_SRAM_SQ */
	__u32 sq_size;		/* VMMC_SQ_SIZE */
	__u32 sq_entries;	/* VMMC_SQ_ENTRIES */
	__u32 reserved0[6];
	/* second cache line: the one field polled by every sender */
	__u32 flags;		/* VMMC_NIC_F_* */
	__u32 pad0[15];
	struct vmmc_nic_counters counters;
};

/* ------------------------------------------------------------------------
 * Page 1: NIC control. Shared by kmod and NIC only; never mapped to users.
 */
#define VMMC_DRV_DOWN		0	/* no driver: the NIC ignores every ep */
#define VMMC_DRV_UP		1

struct vmmc_nic_ctrl {
	__u32 drv_state;	/* writer: kmod; VMMC_DRV_* */
	__u32 ram_size_mb;	/* writer: kmod; guest RAM the NIC may touch */
	__u32 reserved[62];
};

/* ------------------------------------------------------------------------
 * Endpoint contexts: one per endpoint slot. Written by kmod (state,
 * addresses) and by the NIC (ack, counters, irq_armed reset); never mapped
 * into user space.
 *
 * Activation: kmod fills the addresses, resets the SQ window, then writes
 * state = ACTIVE (after dma_wmb) and bumps gen. Deactivation (the fence):
 * kmod writes state = FENCED, bumps gen and rings VMMC_DB_CTRL; the NIC
 * stops touching the endpoint between two descriptors, then writes
 * ack_gen = gen and raises VMMC_IRQ_CTRL. Only then may kmod free the
 * endpoint's memory.
 */
enum vmmc_ep_state {
	VMMC_EP_FREE	= 0,
	VMMC_EP_ACTIVE	= 1,
	VMMC_EP_FENCED	= 2,
};

struct vmmc_ep_ctx {
	__u32 state;		/* writer: kmod; from enum vmmc_ep_state */
	__u32 gen;		/* writer: kmod; bumped on every state write */
	__u32 ack_gen;		/* writer: NIC; last gen the NIC acted on */
	__u32 irq_armed;	/* writer: kmod sets 1; NIC xchg()s it to 0 */
	__aligned_u64 evq_addr;	/* writer: kmod; guest-physical, CQ + NQ */
	__u32 evq_size;		/* writer: kmod; VMMC_EVQ_SIZE */
	__u32 owner_pid;	/* writer: kmod; for diagnostics only */
	__u32 reserved0[8];
	/* writer: NIC */
	__aligned_u64 descs;
	__aligned_u64 desc_errors;
	__aligned_u64 cqes;
	__aligned_u64 nqes;
	__aligned_u64 irqs;
	__aligned_u64 reserved1[3];
};

/* ------------------------------------------------------------------------
 * Send queue descriptors. Writer: ulib. Reader: NIC, which trusts nothing
 * in them: an unknown op, flag, node or length completes with an error
 * status.
 */
enum vmmc_op {
	VMMC_OP_NOP	= 0,	/* complete at once, or after imm us (<= 1 s) */
	VMMC_OP_PING	= 1,	/* NIC to NIC echo of imm through dst_node */
	VMMC_OP_NR,
};

#define VMMC_SQF_DELAY		(1u << 0)	/* NOP: complete after imm us */
#define VMMC_SQF_ALL		(VMMC_SQF_DELAY)
#define VMMC_NOP_MAX_DELAY_US	1000000

struct vmmc_sqe {
	__u8  op;		/* from enum vmmc_op */
	__u8  flags;		/* VMMC_SQF_* */
	__u16 reserved0;	/* must be zero */
	__u32 len;		/* bytes; must be zero for NOP and PING */
	__aligned_u64 user_data; /* returned in the completion */
	__u32 dst_node;		/* PING: node to echo through */
	__u32 reserved1;	/* must be zero */
	__aligned_u64 imm;	/* NOP: delay in us; PING: echoed value */
	__aligned_u64 reserved2[4]; /* must be zero */
};

/* Completion status. */
enum vmmc_status {
	VMMC_ST_OK		= 0,
	VMMC_ST_BAD_OP		= 1,	/* unknown op */
	VMMC_ST_BAD_FLAGS	= 2,	/* unknown flag or non-zero reserved */
	VMMC_ST_BAD_LEN		= 3,	/* length not allowed for the op */
	VMMC_ST_BAD_NODE	= 4,	/* no such node */
	VMMC_ST_NODE_DOWN	= 5,	/* node exists but does not answer */
	VMMC_ST_BAD_ARG		= 6,	/* another field out of range */
	VMMC_ST_NR,
};

struct vmmc_cqe {
	__aligned_u64 user_data;	/* from the descriptor */
	__u32 status;			/* from enum vmmc_status */
	__u8  op;			/* from the descriptor */
	__u8  reserved0[3];
	__aligned_u64 imm;		/* PING: echoed imm; else 0 */
	__aligned_u64 nic_ns;		/* NIC time from fetch to completion */
};

/* Notification (written by the receiver's NIC); used from ABI 2 on. */
struct vmmc_nqe {
	__u32 type;		/* reserved for the data path */
	__u32 src_node;
	__u32 src_ep;
	__u32 len;
	__aligned_u64 offset;
	__aligned_u64 reserved;
};

/* ------------------------------------------------------------------------
 * mmap offsets of an endpoint fd. Each region must be mapped whole
 * (offset and size exact), MAP_SHARED; the status page read-only.
 */
#define VMMC_OFF_SQ		0x00000000ULL	/* SQ window, SRAM, rw */
#define VMMC_OFF_EVQ		0x00100000ULL	/* CQ + NQ, guest RAM, rw */
#define VMMC_OFF_STATUS		0x00200000ULL	/* NIC status page, ro */
#define VMMC_OFF_DOORBELL	0x00300000ULL	/* doorbell page (BAR0), wo */

/* ------------------------------------------------------------------------
 * ioctls on /dev/vmmcN
 */
#define VMMC_IOC_MAGIC		'V'

/**
 * struct vmmc_info - VMMC_IOC_INFO: what an endpoint needs to start
 *
 * All fields are output; reserved fields are returned as zero. The layout
 * fields repeat the constants above so that a library built against an
 * older header can check them.
 */
struct vmmc_info {
	__u32 abi_version;	/* VMMC_ABI_VERSION */
	__u32 nic_version;	/* VMMC_NIC_VERSION of the NIC */
	__u32 node_id;
	__u32 nr_nodes;
	__u32 ep_id;		/* this endpoint's slot on its NIC */
	__u32 max_eps;
	__u32 sq_entries;
	__u32 sq_entries_off;
	__u32 sq_size;
	__u32 cq_entries;
	__u32 cq_hdr_off;
	__u32 cq_entries_off;
	__u32 nq_entries;
	__u32 nq_hdr_off;
	__u32 nq_entries_off;
	__u32 evq_size;
	__u32 doorbell_reg;	/* offset of the doorbell in its page */
	__u32 reserved[15];
};

/**
 * struct vmmc_wait - VMMC_IOC_WAIT: block until the CQ or NQ is non-empty
 * @timeout_ms: 0 = do not block; otherwise at most this long
 * @flags: must be zero
 * @reserved: must be zero
 *
 * Arms the endpoint's interrupt, re-checks both rings, then sleeps until
 * the NIC's interrupt or a signal. Returns 0 when an entry is there,
 * -1/ETIMEDOUT on time-out, -1/EINTR on a signal.
 */
struct vmmc_wait {
	__u32 timeout_ms;
	__u32 flags;
	__aligned_u64 reserved[2];
};

#define VMMC_IOC_INFO	_IOR(VMMC_IOC_MAGIC, 0x00, struct vmmc_info)
#define VMMC_IOC_WAIT	_IOW(VMMC_IOC_MAGIC, 0x01, struct vmmc_wait)

/* ------------------------------------------------------------------------
 * Layout checks, compiled on every side (C11 _Static_assert, as in the
 * kernel, whose static_assert is the same keyword).
 */
#define VMMC_LAYOUT_CHECKS						\
	_Static_assert(sizeof(struct vmmc_ring_hdr) == 192, "ring");	\
	_Static_assert(sizeof(struct vmmc_nic_counters) == 256, "ctr");	\
	_Static_assert(sizeof(struct vmmc_nic_status) == 384, "status");	\
	_Static_assert(sizeof(struct vmmc_nic_ctrl) == 256, "ctrl");	\
	_Static_assert(sizeof(struct vmmc_ep_ctx) == 128, "epctx");	\
	_Static_assert(sizeof(struct vmmc_sqe) == 64, "sqe");		\
	_Static_assert(sizeof(struct vmmc_cqe) == 32, "cqe");		\
	_Static_assert(sizeof(struct vmmc_nqe) == 32, "nqe");		\
	_Static_assert(sizeof(struct vmmc_info) == 128, "info");	\
	_Static_assert(sizeof(struct vmmc_wait) == 24, "wait");		\
	_Static_assert(VMMC_SRAM_EPCTX + VMMC_MAX_EPS *			\
		      sizeof(struct vmmc_ep_ctx) <= VMMC_SRAM_SQ, "ep");	\
	_Static_assert(VMMC_SQ_ENTRIES_OFF + VMMC_SQ_ENTRIES *		\
		      sizeof(struct vmmc_sqe) <= VMMC_SQ_SIZE, "sq");	\
	_Static_assert(VMMC_CQ_ENTRIES_OFF + VMMC_CQ_ENTRIES *		\
		      sizeof(struct vmmc_cqe) <= VMMC_NQ_ENTRIES_OFF, "cq");	\
	_Static_assert(VMMC_NQ_ENTRIES_OFF + VMMC_NQ_ENTRIES *		\
		      sizeof(struct vmmc_nqe) <= VMMC_EVQ_SIZE, "nq");	\
	_Static_assert(VMMC_SRAM_END <= VMMC_SRAM_SIZE, "sram")

#endif /* _UAPI_VMMC_H */

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
#define VMMC_NIC_VERSION	5		/* SRAM layout and descriptors */
#define VMMC_ABI_VERSION	3		/* ioctls and mmap layout */

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
#define VMMC_SRAM_SIZE		(16u << 20)	/* power of two, >= the end */
#define VMMC_MAX_EPS		64

#define VMMC_SRAM_STATUS	0x000000	/* struct vmmc_nic_status */
#define VMMC_SRAM_CTRL		0x001000	/* struct vmmc_nic_ctrl */
#define VMMC_SRAM_EPCTX		0x002000	/* struct vmmc_ep_ctx[MAX_EPS] */
#define VMMC_SRAM_SQ		0x010000	/* SQ windows, VMMC_SQ_SIZE each */
#define VMMC_SRAM_EXPORTS	0x090000	/* struct vmmc_export[MAX_EXPORTS] */
#define VMMC_SRAM_IMPORTS	0x290000	/* struct vmmc_import[MAX_EPS][MAX_IMPORTS] */
#define VMMC_SRAM_END		(VMMC_SRAM_IMPORTS + VMMC_MAX_EPS *	\
				 VMMC_MAX_IMPORTS * sizeof(struct vmmc_import))

/*
 * Table sizes: a connection of the stream sockets takes one export and
 * one import on each side (and, while it connects, an import of the
 * listener's buffer), so a NIC's 16384 exports hold 16384 connections to
 * other nodes (8192 within the node) and an endpoint's imports 4096
 * connections with 64 more under way.
 */
#define VMMC_MAX_EXPORTS	16384		/* per NIC */
#define VMMC_MAX_IMPORTS	4160		/* per endpoint */
#define VMMC_MAX_NODES		64		/* bits of vmmc_export.perm_nodes */

/* The SQ window of one endpoint: a header page, then the entries. */
#define VMMC_SQ_SIZE		(2 * VMMC_PAGE_SIZE)
#define VMMC_SQ_ENTRIES		64
#define VMMC_SQ_ENTRIES_OFF	VMMC_PAGE_SIZE

/* The event region of one endpoint (guest RAM): CQ and NQ. */
#define VMMC_EVQ_SIZE		(4 * VMMC_PAGE_SIZE)
#define VMMC_CQ_HDR_OFF		0x0000
#define VMMC_NQ_HDR_OFF		0x0100
#define VMMC_EPINFO_OFF		0x0200	/* struct vmmc_ep_shared */
#define VMMC_REDIR_OFF		0x0800	/* struct vmmc_redir_res[SLOTS] */
#define VMMC_REDIR_SLOTS	16	/* redirects active at once, per ep */
#define VMMC_CQ_ENTRIES_OFF	0x1000
#define VMMC_CQ_ENTRIES		128
#define VMMC_NQ_ENTRIES_OFF	0x2000
#define VMMC_NQ_ENTRIES		256

/**
 * struct vmmc_ring_hdr - indices of one ring, each on its own cache line
 * @prod: producer index (see the table at the top for the writer)
 * @dropped: CQ and NQ: entries the NIC could not write because the ring
 *	had no room (its consumer never reaped, or its cons lied), counted
 *	from the endpoint's activation; writer: the producer, as @prod (the
 *	NIC keeps its own count: a process writing here fools only itself)
 * @cons: consumer index
 * @flags: VMMC_RING_F_*; writer: the consumer
 */
struct vmmc_ring_hdr {
	__u32 prod;
	__u32 dropped;
	__u32 pad0[14];
	__u32 cons;
	__u32 pad1[15];
	__u32 flags;
	__u32 pad2[15];
};

/*
 * Words the kernel tells the library, in the event region (a process can
 * overwrite them and only fools itself). Writer: kmod. Reader: ulib.
 */
struct vmmc_ep_shared {
	__aligned_u64 utlb_gen;	/* bumped when the kernel dropped translations
				 * on its own (munmap, mremap of pinned pages):
				 * the library must flush its translation
				 * cache; 64 bits, so it never comes back to
				 * a value the library saw (a 32-bit reader
				 * of the first word, little-endian, still
				 * sees it move)
				 */
	__u32 reserved[14];
};

/* ------------------------------------------------------------------------
 * User-level translation (UTLB): one table per endpoint in guest RAM,
 * written by kmod only (VMMC_IOC_PIN/UNPIN, and invalidation when the
 * process unmaps pinned pages), read by the NIC. Entry = guest-physical
 * page address | VMMC_UTLB_VALID. A send names its source by slot.
 */
#define VMMC_UTLB_SLOTS		32768	/* pages an endpoint may have pinned */
#define VMMC_UTLB_VALID		1ULL
#define VMMC_UTLB_WRITE		2ULL	/* pinned for write: a redirect may
					 * land in the page
					 */

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
	__aligned_u64 sends;		/* SEND descriptors completed OK */
	__aligned_u64 send_errors;	/* SEND descriptors failed */
	__aligned_u64 data_tx;		/* payload bytes sent */
	__aligned_u64 data_rx;		/* payload bytes written to exports */
	__aligned_u64 rx_rejects;	/* packets refused: bad export, range */
	__aligned_u64 kcmds;		/* mailbox commands answered */
	/* the reliable link layer (docs/nic.md) */
	__aligned_u64 link_retrans;	/* packets retransmitted */
	__aligned_u64 link_dups;	/* duplicates received, dropped */
	__aligned_u64 link_crc_errors;	/* bad CRC or malformed, dropped */
	__aligned_u64 link_ooo;		/* out of order, held for the gap */
	__aligned_u64 link_peer_deaths;	/* peers declared unreachable */
	__aligned_u64 link_imports_revoked; /* ... their imports marked DEAD */
	/* faults injected by the fabric on this node's outgoing links */
	__aligned_u64 fault_drops;	/* copies dropped (link down included) */
	__aligned_u64 fault_dups;	/* copies duplicated */
	__aligned_u64 fault_corrupts;	/* copies corrupted */
	__aligned_u64 fault_delays;	/* copies delayed or reordered */
	/* transfer redirection */
	__aligned_u64 redirects;	/* REDIRECTs accepted */
	__aligned_u64 redir_bytes;	/* payload bytes written to redirect
					 * destinations (also in data_rx)
					 */
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
	/*
	 * The guest RAM the NIC reaches (the map the machine was built
	 * with; tools/fabric/fabric.h, fabric_gpa()): guest-physical
	 * [0, ram_low_pages * 4096) and [4 GiB, 4 GiB + ram_high_pages *
	 * 4096). Any other address in a table or descriptor is refused.
	 */
	__u32 ram_low_pages;
	__u32 ram_high_pages;
	__u32 reserved0[4];
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

/*
 * The kernel -> NIC mailbox: one command at a time. kmod fills cmd,
 * store-releases cmd_seq + 1 and rings VMMC_DB_CTRL; the NIC answers in
 * resp, store-releases resp_seq = cmd_seq and raises VMMC_IRQ_CTRL. A
 * command on a remote node is answered by that node's NIC, never by its
 * kernel (the export table is in that NIC's SRAM).
 */
enum vmmc_kcmd_op {
	VMMC_KCMD_NOP		= 0,
	VMMC_KCMD_IMPORT	= 1,	/* look up (node, name) for importer */
};

struct vmmc_kcmd {
	__u32 op;		/* from enum vmmc_kcmd_op */
	__u32 node;		/* IMPORT: the exporter's node */
	__u32 name;		/* IMPORT: the export's name */
	__u32 ep;		/* IMPORT: the importing endpoint */
	__aligned_u64 key;	/* IMPORT: must equal the export's key */
	__u32 reserved[2];
};

struct vmmc_kresp {
	__u32 status;		/* from enum vmmc_status */
	__u32 export_id;	/* IMPORT: slot in the exporter's table */
	__aligned_u64 export_gen; /* IMPORT: its gen when looked up */
	__aligned_u64 len;	/* IMPORT: the export's length */
	__aligned_u64 reserved;
};

struct vmmc_nic_ctrl {
	__u32 drv_state;	/* writer: kmod; VMMC_DRV_* */
	__u32 ram_size_mb;	/* writer: kmod; guest RAM the NIC may touch */
	__u32 cmd_seq;		/* writer: kmod */
	__u32 resp_seq;		/* writer: NIC */
	struct vmmc_kcmd cmd;	/* writer: kmod */
	struct vmmc_kresp resp;	/* writer: NIC */
	/*
	 * writer: kmod; changed (store-release) after every write of an
	 * export's gen: the NIC looks through its export table for gens to
	 * acknowledge only when this word differs from the value it saw
	 * last, not at every pass over a table of VMMC_MAX_EXPORTS entries
	 */
	__u32 exp_seq;
	__u32 reserved[43];
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
	__u32 gen;		/* writer: kmod; bumped on every state write;
				 * 32 bits suffice: a slot is reused only
				 * after the NIC acked its fence, so the NIC
				 * sees every incarnation, and answers from
				 * far NICs are matched to their operation by
				 * a 64-bit tag of the fabric as well
				 */
	__u32 ack_gen;		/* writer: NIC; last gen the NIC acted on */
	__u32 irq_armed;	/* writer: kmod sets 1; NIC xchg()s it to 0 */
	__aligned_u64 evq_addr;	/* writer: kmod; guest-physical, CQ + NQ */
	__u32 evq_size;		/* writer: kmod; VMMC_EVQ_SIZE */
	__u32 owner_pid;	/* writer: kmod; for diagnostics only */
	__aligned_u64 utlb_addr;	/* writer: kmod; guest-phys __u64[slots] */
	__u32 utlb_slots;	/* writer: kmod; VMMC_UTLB_SLOTS */
	/*
	 * Translation sync: kmod invalidates UTLB entries, bumps sync_seq and
	 * rings VMMC_DB_CTRL; the NIC writes sync_ack = sync_seq (release)
	 * and raises VMMC_IRQ_CTRL once no data movement that started with
	 * the old entries is still going on. In-flight descriptors are NOT
	 * dropped (unlike a gen change): later chunks see the new entries.
	 */
	__u32 sync_seq;		/* writer: kmod */
	__u32 sync_ack;		/* writer: NIC */
	__u32 reserved0[3];
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
	VMMC_OP_SEND	= 2,	/* deliberate update: len bytes from the
				 * source slots to (import, dst_offset)
				 */
	VMMC_OP_REDIRECT = 3,	/* transfer redirection: data arriving for
				 * [dst_offset, + len) of our export goes
				 * to our own pinned memory instead
				 */
	VMMC_OP_REDIRECT_CANCEL = 4, /* end redirect slot imm now */
	VMMC_OP_NR,
};

#define VMMC_SQF_DELAY		(1u << 0)	/* NOP: complete after imm us */
#define VMMC_SQF_NOTIFY		(1u << 1)	/* SEND: the receiver gets an
						 * NQ entry once all the data
						 * is in its memory
						 */
#define VMMC_SQF_ALL		(VMMC_SQF_DELAY | VMMC_SQF_NOTIFY)
#define VMMC_NOP_MAX_DELAY_US	1000000
#define VMMC_SEND_MAX_LEN	(16u << 20)

/*
 * A field an op does not use must be zero (else BAD_FLAGS). A SEND reads
 * its source from the endpoint's UTLB: the bytes [src_off, src_off + len)
 * of the pages in slots src_slot, src_slot + 1, ...; it writes them at
 * dst_offset of the import's export. Completion means the data is in the
 * receiver's memory (and, with NOTIFY, its NQ entry written, or dropped
 * because the receiver's NQ was full: imm says which).
 */
/*
 * REDIRECT (transfer redirection, docs/nic.md): @import names one of this
 * endpoint's own exports (its export id, as in VMMC_IOC_EXPORT and the
 * NQE), @dst_offset and @len a range of it, @src_slot and @src_off the new
 * destination in this endpoint's UTLB (pages pinned with
 * VMMC_PIN_F_WRITE), @imm the redirect slot (< VMMC_REDIR_SLOTS). From
 * the moment the NIC fetches it, every byte that arrives for the range
 * lands at the destination instead of the export, until the whole range
 * has been redirected (completion OK), a REDIRECT_CANCEL of that slot
 * (CANCELLED), the export is revoked (REVOKED) or the destination is
 * unpinned (BAD_SLOT). Bytes that arrived before the fetch stay in the
 * export. The completion's imm is the number of bytes redirected and
 * struct vmmc_redir_res in the event region says which ones. Refused at
 * fetch, moving nothing: PERM (not our export, or a destination page not
 * pinned for write), RANGE, BAD_SLOT, BAD_ARG (slot number), BUSY (slot in
 * use, or the range overlaps another active redirect of that export).
 * REDIRECT_CANCEL: @imm the slot; completes at once: OK (imm = bytes
 * redirected) or IDLE (the slot holds no active redirect).
 */
struct vmmc_sqe {
	__u8  op;		/* from enum vmmc_op */
	__u8  flags;		/* VMMC_SQF_* */
	__u16 reserved0;	/* must be zero */
	__u32 len;		/* SEND: 1..VMMC_SEND_MAX_LEN; else zero */
	__aligned_u64 user_data; /* returned in the completion */
	__u32 dst_node;		/* PING: node to echo through */
	__u32 import;		/* SEND: import handle (slot in our table) */
	__aligned_u64 imm;	/* NOP: delay in us; PING: echoed value */
	__aligned_u64 dst_offset; /* SEND: byte offset in the import */
	__u32 src_slot;		/* SEND: UTLB slot of the first source page */
	__u32 src_off;		/* SEND: offset in that page, < 4096 */
	__aligned_u64 reserved2[2]; /* must be zero */
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
	VMMC_ST_BAD_IMPORT	= 7,	/* import handle not ours or unused */
	VMMC_ST_RANGE		= 8,	/* dst_offset + len beyond the import */
	VMMC_ST_BAD_SLOT	= 9,	/* a source slot out of range or not
					 * (or no longer) translated
					 */
	VMMC_ST_REVOKED		= 10,	/* the export is gone (unexported,
					 * owner dead) or changed since import
					 */
	VMMC_ST_NO_EXPORT	= 11,	/* IMPORT: no export of that name */
	VMMC_ST_PERM		= 12,	/* IMPORT: not permitted to this node;
					 * REDIRECT: not our export, or the
					 * destination is not pinned for write
					 */
	VMMC_ST_BUSY		= 13,	/* REDIRECT: slot in use, or overlap */
	VMMC_ST_IDLE		= 14,	/* REDIRECT_CANCEL: nothing to cancel */
	VMMC_ST_CANCELLED	= 15,	/* REDIRECT: ended by a cancel */
	VMMC_ST_NR,
};

struct vmmc_cqe {
	__aligned_u64 user_data;	/* from the descriptor */
	__u32 status;			/* from enum vmmc_status */
	__u8  op;			/* from the descriptor */
	__u8  reserved0[3];
	__aligned_u64 imm;		/* PING: echoed imm; SEND:
					 * VMMC_SEND_NQ_DROPPED or 0; else 0
					 */
	__aligned_u64 nic_ns;		/* NIC time from fetch to completion */
};

/*
 * Notification, written by the receiver's NIC into the NQ of the
 * endpoint that owns the export. A receiver cannot stall a sender: when
 * its NQ has no room (never reaped, or a cons that lies), the NIC drops
 * the notification, counts it in the NQ header's @dropped, and the
 * sender's SEND completes OK all the same (its data did land) with
 * imm = VMMC_SEND_NQ_DROPPED. NQ cons is only a hint that can hurt no one
 * but the endpoint that writes it.
 */
#define VMMC_SEND_NQ_DROPPED	1ULL	/* SEND CQE imm: NOTIFY's NQE dropped */

enum vmmc_nqe_type {
	VMMC_NQE_DATA	= 1,	/* a SEND with NOTIFY landed in an export */
};

struct vmmc_nqe {
	__u32 type;		/* from enum vmmc_nqe_type */
	__u32 export_id;	/* which of our exports (VMMC_IOC_EXPORT) */
	__u32 src_node;
	__u32 src_ep;
	__aligned_u64 offset;	/* where in the export */
	__u32 len;
	__u32 reserved;
};

/*
 * The outcome of a redirect, in the event region at VMMC_REDIR_OFF +
 * slot * sizeof(struct vmmc_redir_res). Writer: NIC (the process can
 * overwrite it and only fools itself; the NIC keeps its own copy). Reader:
 * ulib. The NIC writes it when it accepts the REDIRECT, after every packet
 * that lands in the range, and before the REDIRECT's CQE, so once that CQE
 * is seen the record is final. Reading an active redirect: @seq is odd
 * while the NIC updates the record (a seqlock; retry while odd or changed).
 *
 * Exactly the bytes of the range inside @ext[0 .. nr_ext) went to the
 * destination (byte offset x of the export to destination + x - offset);
 * every other byte of the range that arrived is in the export. Extents are
 * in export offsets, disjoint, merged when they touch, in no set order.
 * A piece that would need a fifth extent is not redirected (@spilled
 * counts those bytes), so a redirect is always exact.
 */
#define VMMC_REDIR_EXTENTS	4

enum vmmc_redir_state {
	VMMC_REDIR_FREE		= 0,
	VMMC_REDIR_ACTIVE	= 1,
	VMMC_REDIR_DONE		= 2,	/* @status is final */
};

struct vmmc_redir_ext {
	__aligned_u64 offset;
	__aligned_u64 len;
};

struct vmmc_redir_res {
	__u32 seq;		/* seqlock: odd while being written */
	__u32 state;		/* from enum vmmc_redir_state */
	__aligned_u64 user_data; /* the REDIRECT descriptor's (libvmmc's
				  * vmmc_redirect_result() gives back the
				  * caller's)
				  */
	__aligned_u64 offset;	/* the range, in the export */
	__u32 len;
	__u32 export_id;
	__aligned_u64 bytes;	/* sum of the extents' lengths */
	__u32 status;		/* with DONE: as in the CQE */
	__u32 nr_ext;
	__aligned_u64 spilled;	/* bytes of the range sent to the export
				 * because no extent was left (counted per
				 * arrival: a byte written twice counts
				 * twice)
				 */
	struct vmmc_redir_ext ext[VMMC_REDIR_EXTENTS];
	__aligned_u64 reserved;
};

/* ------------------------------------------------------------------------
 * Export and import tables (SRAM, never mapped to users). Writer: kmod,
 * except ack_gen (NIC). An export's pages are pinned by the kernel; their
 * guest-physical addresses are a __u64 array in guest RAM.
 *
 * Revocation: kmod writes state = REVOKED (or FREE), bumps gen, rings
 * VMMC_DB_CTRL and waits for ack_gen == gen: after that the NIC writes no
 * byte into the export, and every packet for it is refused (the sender's
 * SEND completes with VMMC_ST_REVOKED). A packet also carries the gen the
 * importer saw at import; a different gen is refused the same way.
 *
 * A table slot is reused by later exports, so gen is what makes an
 * import name one export for good: it is 64 bits and only ever grows
 * (by one per state write; it is never reset, not even by a new driver
 * instance, which continues from the value in SRAM), so it cannot come
 * back to a value an importer holds (2^64 state writes at one per
 * nanosecond take 584 years).
 */
enum vmmc_export_state {
	VMMC_EXPORT_FREE	= 0,
	VMMC_EXPORT_ACTIVE	= 1,
	VMMC_EXPORT_REVOKED	= 2,
};

struct vmmc_export {
	__u32 state;		/* from enum vmmc_export_state */
	__u32 name;		/* unique among ACTIVE exports of a NIC */
	__u32 owner_ep;		/* endpoint slot that gets the NQ entries */
	__u32 first_off;	/* offset of the buffer in its first page */
	__aligned_u64 gen;	/* never wraps (above) */
	__aligned_u64 ack_gen;	/* writer: NIC */
	__aligned_u64 len;	/* bytes */
	__aligned_u64 perm_nodes; /* bit n: node n may import */
	__aligned_u64 pages_addr; /* guest-phys address of __u64[nr_pages] */
	__u32 nr_pages;
	__u32 reserved0;
	__aligned_u64 key;	/* an IMPORT must present it (0: none); the
				 * NIC answers NO_EXPORT to any other key
				 */
	__aligned_u64 reserved[7];
};

/*
 * Import rows: kmod writes them; the NIC changes state only from ACTIVE
 * to DEAD (atomic compare-and-exchange) when the exporter's node stayed
 * unreachable past the NIC's dead-peer time: SENDs through a DEAD row
 * complete with VMMC_ST_NODE_DOWN; the row stays used until unimported.
 */
enum vmmc_import_state {
	VMMC_IMPORT_FREE	= 0,
	VMMC_IMPORT_ACTIVE	= 1,
	VMMC_IMPORT_DEAD	= 2,	/* writer: NIC; the exporter is gone */
};

struct vmmc_import {
	__u32 state;		/* from enum vmmc_import_state */
	__u32 node;		/* the exporter's node */
	__u32 export_id;	/* slot in that node's export table */
	__u32 reserved;
	__aligned_u64 export_gen; /* its gen at import time (64 bits) */
	__aligned_u64 len;	/* the export's length */
};

/* ------------------------------------------------------------------------
 * mmap offsets of an endpoint fd. Each region must be mapped whole
 * (offset and size exact), MAP_SHARED; the status page read-only. The
 * doorbell page maps only if no other device register shares its page
 * (else EPERM).
 */
#define VMMC_OFF_SQ		0x00000000ULL	/* SQ window, SRAM, rw */
#define VMMC_OFF_EVQ		0x00100000ULL	/* CQ + NQ, guest RAM, rw */
#define VMMC_OFF_STATUS		0x00200000ULL	/* NIC status page, ro */
#define VMMC_OFF_DOORBELL	0x00300000ULL	/* doorbell page (BAR0), rw */

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
	__u32 epinfo_off;	/* VMMC_EPINFO_OFF in the event region */
	__u32 utlb_slots;	/* VMMC_UTLB_SLOTS */
	__u32 max_imports;	/* VMMC_MAX_IMPORTS */
	__u32 spin_ns;		/* competitive notification: how long to
				 * spin before blocking, in ns: the cost of
				 * blocking for an event (the wait ioctl,
				 * the NIC's interrupt, the wake-up back in
				 * user space: receiver CPU time plus
				 * detection latency) at a delay equal to
				 * itself; see spin_src; 0: unknown
				 */
	__u32 spin_src;		/* enum vmmc_spin_src: who set spin_ns */
	__u32 reserved[10];
};

/*
 * Where vmmc_info.spin_ns comes from. The driver's probe makes a first
 * estimate (in the kernel, on the control vector); the first endpoint
 * opened by a process with CAP_NET_ADMIN then measures the cost of
 * blocking on the waiter's own path (libvmmc: delayed NOPs on its
 * endpoint, woken through VMMC_IOC_WAIT, iterated to the delay where
 * blocking costs as much as the delay) and stores it with
 * VMMC_IOC_SET_SPIN; the administrator may override
 * either (netlink dev-set), or set 0 to go back to the probe's estimate
 * and have the next endpoint measure again.
 */
enum vmmc_spin_src {
	VMMC_SPIN_SRC_NONE	= 0,	/* not measured (the NIC did not answer) */
	VMMC_SPIN_SRC_PROBE	= 1,	/* the driver's estimate at probe */
	VMMC_SPIN_SRC_WAITER	= 2,	/* measured by a waiter (VMMC_IOC_SET_SPIN) */
	VMMC_SPIN_SRC_ADMIN	= 3,	/* set by the administrator */
	VMMC_SPIN_SRC_NR,
};

/* VMMC_IOC_SET_SPIN flags */
#define VMMC_SPIN_CLAIM		0x1u	/* this endpoint will measure */
#define VMMC_SPIN_UNCLAIM	0x2u	/* ... no longer: no result */

/* The range VMMC_IOC_SET_SPIN accepts, in ns. */
#define VMMC_SPIN_MIN_NS	1000
#define VMMC_SPIN_MAX_NS	100000000

/**
 * struct vmmc_spin_req - VMMC_IOC_SET_SPIN: measure and store the spin limit
 * @spin_ns: with @flags 0, the cost of blocking the caller measured on its
 *	own endpoint, VMMC_SPIN_MIN_NS..VMMC_SPIN_MAX_NS; otherwise 0
 * @flags: 0 (store), VMMC_SPIN_CLAIM or VMMC_SPIN_UNCLAIM
 * @reserved: must be zero
 *
 * Only one endpoint measures: it first claims the measurement
 * (VMMC_SPIN_CLAIM), then stores its result (flags 0), or gives the claim
 * up (VMMC_SPIN_UNCLAIM); closing the endpoint gives it up too. Both
 * claiming and storing are accepted only while the NIC's spin limit is the
 * probe's estimate (or unknown), and only from a caller with
 * CAP_NET_ADMIN (the value holds for every user's endpoints): the stored
 * value holds for every endpoint opened from then on, until the
 * administrator resets it. Errors: EINVAL (flags, reserved, @spin_ns with
 * a claim), ERANGE (@spin_ns out of range), EPERM (claim or store without
 * CAP_NET_ADMIN: the library keeps the probe's estimate), EEXIST (already
 * measured by a waiter or set by the administrator: read VMMC_IOC_INFO
 * again), EBUSY (another endpoint holds the claim).
 */
struct vmmc_spin_req {
	__u32 spin_ns;
	__u32 flags;
	__aligned_u64 reserved;
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

/**
 * struct vmmc_export_req - VMMC_IOC_EXPORT: offer memory to other nodes
 * @addr: start of the buffer in the caller's memory (any alignment)
 * @len: 1 .. VMMC_EXPORT_MAX_LEN bytes, all mapped writable
 * @perm_nodes: bit n set: node n may import (the own node included)
 * @name: the name importers use; unique among this NIC's exports
 * @flags: must be zero
 * @export_id: out: the export's slot, as reported in NQ entries
 * @reserved0: must be zero
 * @key: 0, or a secret every importer must present (struct
 *	vmmc_import_req): a name can be guessed, 64 random bits cannot
 *
 * Pins the pages (FOLL_LONGTERM, counted in RLIMIT_MEMLOCK). Errors:
 * EINVAL, EFAULT, EEXIST (name taken), ENOSPC (table full), ENOMEM (over
 * RLIMIT_MEMLOCK or out of memory), EOPNOTSUPP (part of the range is a
 * MAP_SHARED mapping of a file that tracks dirty pages: ext4, 9p, ...),
 * EDQUOT (the caller's user holds max_exports_per_user exports on this
 * NIC already; the module parameter; CAP_SYS_RESOURCE is not limited),
 * EACCES (a port name below 1024 without CAP_NET_BIND_SERVICE or the
 * port's listening socket, an acceptor name without that socket: see
 * VMMC_NAME_PORT, VMMC_NAME_ACCEPT).
 */
struct vmmc_export_req {
	__aligned_u64 addr;
	__aligned_u64 len;
	__aligned_u64 perm_nodes;
	__u32 name;
	__u32 flags;
	__u32 export_id;
	__u32 reserved0;
	__aligned_u64 key;
};

/*
 * Export names the kernel reserves for the stream sockets (libvmmc): a
 * socket bound to port P is the export VMMC_NAME_PORT(P) of its listen
 * buffer. A port name whose P is below the initial network namespace's
 * net.ipv4.ip_unprivileged_port_start (1024 by default) needs
 * CAP_NET_BIND_SERVICE in the initial user namespace, as TCP's bind()
 * does there; else EXPORT fails EACCES. Not the caller's namespaces: the
 * names are the whole NIC's.
 */
#define VMMC_NAME_PORT_BASE	0x4c000000u
#define VMMC_NAME_PORT_MASK	0xffff0000u
#define VMMC_NAME_PORT(p)	(VMMC_NAME_PORT_BASE | (__u16)(p))

/*
 * Acceptor names: VMMC_NAME_ACCEPT(P, I), I < 256, is the listen buffer
 * of one of the processes that accept connections of port P (a pre-fork
 * server's workers), so that clients spread among them. EXPORT of one
 * needs a TCP socket of the initial network namespace listening on P, any
 * address, in the caller's file table (else EACCES): the holders of the
 * port's listening socket, whoever they are now (no capability needed).
 * VMMC_NAME_PORT(P) below the unprivileged port start is also granted to
 * such a holder.
 */
#define VMMC_NAME_ACCEPT_BASE	0x41000000u
#define VMMC_NAME_ACCEPT_MASK	0xff000000u
#define VMMC_NAME_ACCEPT(p, i)	(VMMC_NAME_ACCEPT_BASE | \
				 (__u32)(__u8)(i) << 16 | (__u16)(p))

#define VMMC_EXPORT_MAX_LEN	(64u << 20)

/**
 * struct vmmc_import_req - VMMC_IOC_IMPORT: import (node, name)
 * @node: the exporter's node (may be our own)
 * @name: the export's name
 * @flags: must be zero
 * @import_id: out: the handle for SEND descriptors
 * @len: out: the export's length
 * @key: the export's key (0 if it has none)
 * @reserved: must be zero
 *
 * Asks the exporter's NIC. Errors: EINVAL, ENOENT (no such export, or
 * not with that key: the two are not told apart), EACCES (not permitted
 * to this node), EHOSTUNREACH (node down), ENOSPC (the endpoint's import
 * table is full), ETIMEDOUT.
 */
struct vmmc_import_req {
	__u32 node;
	__u32 name;
	__u32 flags;
	__u32 import_id;
	__aligned_u64 len;
	__aligned_u64 key;
	__u32 reserved[2];
};

/**
 * struct vmmc_pin_req - VMMC_IOC_PIN: pin memory and translate it
 * @addr: start of the range (any alignment)
 * @len: 1 .. VMMC_UTLB_SLOTS pages' worth of bytes
 * @flags: 0 or VMMC_PIN_F_WRITE
 * @slot: out: UTLB slot of the page holding addr; the range's pages are
 *	in slots slot .. slot + nr_slots - 1
 * @nr_slots: out: pages pinned
 *
 * FOLL_LONGTERM pins, counted in RLIMIT_MEMLOCK. If the process later
 * unmaps or remaps any of the pages, the kernel drops the whole range's
 * translations and pins by itself and bumps vmmc_ep_shared.utlb_gen.
 * Without VMMC_PIN_F_WRITE the NIC only reads the pages (SEND sources);
 * with it every page must be mapped writable (else EFAULT), is pinned for
 * write and marked VMMC_UTLB_WRITE, and may be a REDIRECT destination,
 * but not a MAP_SHARED mapping of a file that tracks dirty pages (ext4,
 * 9p, ...: EOPNOTSUPP). Errors: EINVAL, EFAULT, EOPNOTSUPP, ENOMEM
 * (RLIMIT_MEMLOCK), ENOSPC (no run of free slots that long: unpin
 * something).
 */
#define VMMC_PIN_F_WRITE	(1u << 0)

struct vmmc_pin_req {
	__aligned_u64 addr;
	__aligned_u64 len;
	__u32 flags;
	__u32 slot;
	__u32 nr_slots;
	__u32 reserved[3];
};

/**
 * struct vmmc_unpin_req - VMMC_IOC_UNPIN: undo one VMMC_IOC_PIN
 * @slot: as returned by VMMC_IOC_PIN
 * @reserved: must be zero
 *
 * Errors: EINVAL if @slot does not start a pinned range (for example
 * because the kernel already dropped it).
 */
struct vmmc_unpin_req {
	__u32 slot;
	__u32 reserved[3];
};

/*
 * An endpoint is its opener's (its address space's): every ioctl and mmap
 * from another process holding the fd (fork, exec, SCM_RIGHTS) fails with
 * EPERM and poll reports EPOLLERR; no mapping is inherited by a child.
 * An unknown ioctl number gets ENOTTY from anyone.
 *
 * VMMC_IOC_SHUTDOWN (no argument; arg must be 0): the owner tears its
 * endpoint down now, whoever else still holds the file: the NIC is fenced,
 * every export revoked (a remote SEND gets VMMC_ST_REVOKED), every import
 * dropped and every pin released. What is left is a shell: every later
 * ioctl (SHUTDOWN included), and mmap, fail with ESHUTDOWN, poll reports
 * EPOLLERR | EPOLLHUP, a WAIT asleep returns ESHUTDOWN; existing mappings
 * stay valid (and dead) until munmap. Its slot is freed at the last
 * close. Returns 0, or EIO if the NIC did not acknowledge (what it may
 * still use stays pinned, as at close). libvmmc's vmmc_ep_close() calls it.
 */
#define VMMC_IOC_INFO	_IOR(VMMC_IOC_MAGIC, 0x00, struct vmmc_info)
#define VMMC_IOC_WAIT	_IOW(VMMC_IOC_MAGIC, 0x01, struct vmmc_wait)
#define VMMC_IOC_EXPORT	_IOWR(VMMC_IOC_MAGIC, 0x02, struct vmmc_export_req)
#define VMMC_IOC_UNEXPORT _IOW(VMMC_IOC_MAGIC, 0x03, __u32)
#define VMMC_IOC_IMPORT	_IOWR(VMMC_IOC_MAGIC, 0x04, struct vmmc_import_req)
#define VMMC_IOC_UNIMPORT _IOW(VMMC_IOC_MAGIC, 0x05, __u32)
#define VMMC_IOC_PIN	_IOWR(VMMC_IOC_MAGIC, 0x06, struct vmmc_pin_req)
#define VMMC_IOC_UNPIN	_IOW(VMMC_IOC_MAGIC, 0x07, struct vmmc_unpin_req)
#define VMMC_IOC_SET_SPIN _IOW(VMMC_IOC_MAGIC, 0x08, struct vmmc_spin_req)
#define VMMC_IOC_SHUTDOWN _IO(VMMC_IOC_MAGIC, 0x09)

/* ------------------------------------------------------------------------
 * Layout checks, compiled on every side (C11 _Static_assert, as in the
 * kernel, whose static_assert is the same keyword).
 */
#define VMMC_LAYOUT_CHECKS						\
	_Static_assert(sizeof(struct vmmc_ring_hdr) == 192, "ring");	\
	_Static_assert(sizeof(struct vmmc_nic_counters) == 256, "ctr");	\
	_Static_assert(sizeof(struct vmmc_nic_status) == 384, "status");	\
	_Static_assert(sizeof(struct vmmc_nic_ctrl) == 256, "ctrl");	\
	_Static_assert(sizeof(struct vmmc_ep_shared) == 64, "epshared"); \
	_Static_assert(sizeof(struct vmmc_export) == 128, "export");	\
	_Static_assert(sizeof(struct vmmc_kcmd) == 32, "kcmd");		\
	_Static_assert(sizeof(struct vmmc_import) == 32, "import");	\
	_Static_assert(sizeof(struct vmmc_kresp) == 32, "kresp");	\
	_Static_assert(sizeof(struct vmmc_export_req) == 48, "expreq");	\
	_Static_assert(sizeof(struct vmmc_import_req) == 40, "impreq");	\
	_Static_assert(sizeof(struct vmmc_pin_req) == 40, "pinreq");	\
	_Static_assert(sizeof(struct vmmc_unpin_req) == 16, "unpinreq"); \
	_Static_assert(sizeof(struct vmmc_spin_req) == 16, "spinreq");	\
	_Static_assert(VMMC_SRAM_SQ + VMMC_MAX_EPS * VMMC_SQ_SIZE <=	\
		       VMMC_SRAM_EXPORTS, "sq-end");			\
	_Static_assert(VMMC_SRAM_EXPORTS + VMMC_MAX_EXPORTS *		\
		       sizeof(struct vmmc_export) <= VMMC_SRAM_IMPORTS, "exp"); \
	_Static_assert(VMMC_EPINFO_OFF + sizeof(struct vmmc_ep_shared) <= \
		       VMMC_CQ_ENTRIES_OFF, "epinfo");			\
	_Static_assert(sizeof(struct vmmc_ep_ctx) == 128, "epctx");	\
	_Static_assert(sizeof(struct vmmc_sqe) == 64, "sqe");		\
	_Static_assert(sizeof(struct vmmc_cqe) == 32, "cqe");		\
	_Static_assert(sizeof(struct vmmc_nqe) == 32, "nqe");		\
	_Static_assert(sizeof(struct vmmc_redir_res) == 128, "redir");	\
	_Static_assert(VMMC_EPINFO_OFF + sizeof(struct vmmc_ep_shared) <= \
		       VMMC_REDIR_OFF, "redir-start");			\
	_Static_assert(VMMC_REDIR_OFF + VMMC_REDIR_SLOTS *		\
		       sizeof(struct vmmc_redir_res) <= VMMC_CQ_ENTRIES_OFF, \
		       "redir-end");					\
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

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fabric.h - internal structures and cross-file prototypes of vmmc-fabric
 *
 * vmmc-fabric is the NIC processor and DMA engine of every node and the
 * switch between the nodes (docs/nic.md, docs/architecture.md). One
 * thread runs everything: an epoll loop over the ivshmem sockets, the
 * doorbell eventfds, a timerfd and a signalfd, plus a polling pass over
 * every node's SRAM. Nothing here is shared with other processes except
 * through the structs of uapi/vmmc.h; the structs below are the NIC's
 * private state, so every index the NIC publishes has a private copy
 * here: the guest can rewrite the shared one at any time, and the NIC
 * never reads its own index back from memory the guest writes.
 *
 * Naming: pointers into memory the guest can write start with k
 * (kstatus, kctx, ksq); everything else is private to the fabric.
 */
#ifndef FABRIC_H
#define FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <assert.h>

#include "uapi/vmmc.h"
#include "uapi/vmmc_barrier.h"

#define FABRIC_MAX_NODES	16
#define FABRIC_EP_BUDGET	32	/* descriptors per endpoint per pass */
#define FABRIC_STALL_POLL_MS	1	/* poll period of a CQ-full endpoint */
#define FABRIC_RECHECK_MS	50	/* --recheck-ms default (run()) */
/*
 * Poll this long without work before sleeping (--idle-us). 0: sleep as
 * soon as a pass finds nothing, and let the doorbell wake the NIC. On a
 * host with fewer CPUs than guest vCPUs plus the fabric, a fabric that
 * keeps polling holds a CPU a guest needs next: every round trip between
 * two nodes then waits for the end of the poll (docs/performance.md,
 * "Where the latency goes").
 */
#define FABRIC_DEFAULT_IDLE_US	0

/* ------------------------------------------------------------------------
 * A minimal intrusive doubly linked list.
 */
struct flist {
	struct flist *next, *prev;
};

#define flist_entry(ptr, type, member)					\
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void flist_init(struct flist *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool flist_empty(const struct flist *h)
{
	return h->next == h;
}

/* Insert @n after @pos. */
static inline void flist_add_after(struct flist *pos, struct flist *n)
{
	n->next = pos->next;
	n->prev = pos;
	pos->next->prev = n;
	pos->next = n;
}

static inline void flist_add_tail(struct flist *h, struct flist *n)
{
	flist_add_after(h->prev, n);
}

static inline void flist_del(struct flist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	flist_init(n);
}

/* ------------------------------------------------------------------------
 * Link packets. Inside one fabric they stay in this process; to a node of
 * another fabric of a cluster, struct vmmc_pkt and its payload travel
 * byte for byte in a UDP datagram (WIRE.md: little-endian, which the
 * fabric requires of its host).
 *
 * A DATA packet carries a copy of its payload, taken by the sending NIC
 * in the poll pass that re-read (and checked) the UTLB entries of its
 * source pages. Why a copy and not a reference to the source pages: the
 * reliable link layer may deliver a packet long after it was sent (a
 * retransmission after a loss, an injected delay, a link down for
 * seconds), and the sending kernel unpins a source page as soon as the
 * NIC acknowledged the translation sync (or the endpoint fence) that
 * removed it. A reference would force the NIC to hold those acks while
 * any DATA of the endpoint is unacknowledged, for up to the dead-peer
 * time, above the kernel's fence time-out (after which it leaks pages),
 * and a user rewriting its own SEND source while the SEND runs would make
 * a retransmitted packet's CRC fail forever, killing the link for every
 * endpoint. With a copy, the source page is read exactly once, before any
 * later sync ack, so a page is never read after the kernel may unpin it;
 * a retransmission is byte-identical to the original; and a corrupted
 * packet is really corrupted (payload included). The cost is one more
 * memcpy per byte (docs/nic.md has the measurement).
 *
 * crc is CRC32C over the header (with crc = 0) followed by the payload.
 * The reliable link layer (fabric_link.c) numbers every packet but ACK
 * per link (src -> dst) within an epoch, acknowledges cumulatively
 * (ack) and selectively (sack), retransmits, and delivers in order.
 */
#define FABRIC_MTU		8192	/* payload bytes per DATA packet */
#define FABRIC_PKT_PAGES	(FABRIC_MTU / VMMC_PAGE_SIZE + 1) /* it spans */
#define FABRIC_SEND_BUDGET	(64u << 10) /* SEND bytes per ep per pass */
#define FABRIC_WINDOW		256	/* unacked packets per link (DATA) */
#define FABRIC_RXWIN		512	/* receiver's reorder buffer */
#define FABRIC_SACK_WORDS	(FABRIC_WINDOW / 64) /* selective ack bits */
#define FABRIC_RTO_MIN_NS	4000000ull	/* first retransmission */
#define FABRIC_RTO_MAX_NS	100000000ull	/* back-off cap */
#define FABRIC_DEFAULT_DEAD_MS	4000	/* no ack progress: peer dead */
#define FABRIC_PAUSE_NS		50000000ull	/* a gap in the passes: paused */

enum vmmc_pkt_type {
	VMMC_PKT_PING		= 1,	/* request: echo imm back to src */
	VMMC_PKT_PONG		= 2,	/* answer; status says whether dst was up */
	VMMC_PKT_DATA		= 3,	/* SEND payload for an export */
	VMMC_PKT_DATA_RESP	= 4,	/* refusal, or: last packet landed */
	VMMC_PKT_IMPORT_REQ	= 5,	/* mailbox IMPORT, to the exporter */
	VMMC_PKT_IMPORT_RESP	= 6,	/* its answer */
	VMMC_PKT_ACK		= 7,	/* link ack of the reverse link */
	VMMC_PKT_VOID		= 8,	/* a DATA whose SEND ended: ignored */
};

#define VMMC_PKT_F_FIRST	(1u << 0)	/* DATA: first of its SEND */
#define VMMC_PKT_F_LAST		(1u << 1)	/* DATA: last of its SEND */
#define VMMC_PKT_F_NOTIFY	(1u << 2)	/* DATA: the SEND had NOTIFY */

struct vmmc_pkt {
	__u32 src_node;
	__u32 dst_node;
	__u16 type;		/* from enum vmmc_pkt_type */
	__u16 status;		/* answers: from enum vmmc_status */
	__u32 seq;		/* per-link (src -> dst) sequence number */
	__u32 epoch;		/* the sender's link epoch (see fabric_link.c) */
	__u32 ack;		/* ACK: next seq expected on the reverse link */
	__u64 sack[FABRIC_SACK_WORDS]; /* ACK: bit i: seq ack + 1 + i held */
	__u32 src_ep;		/* requesting endpoint; echoed in answers */
	__u32 src_gen;		/* that endpoint's gen when it sent */
	__u64 cookie;		/* sender's op tag, echoed in the answer */
	__u64 imm;		/* PING/PONG */
	__u32 len;		/* payload bytes (DATA), else 0 */
	__u32 crc;		/* CRC32C of header (crc = 0) + payload */
	__u32 flags;		/* DATA: VMMC_PKT_F_* */
	__u32 export_id;	/* DATA, IMPORT_RESP */
	__u32 name;		/* IMPORT_REQ */
	__u32 msg_len;		/* DATA: the SEND's len (for the NQE) */
	__u64 export_gen;	/* DATA: the gen the importer recorded;
				 * IMPORT_RESP: the export's gen
				 */
	__u64 dst_offset;	/* DATA: where in the export */
	__u64 msg_offset;	/* DATA: the SEND's dst_offset (for the NQE) */
	__u64 exp_len;		/* IMPORT_RESP: the export's length */
	__u64 key;		/* IMPORT_REQ: the importer's key */
};

/*
 * A packet as the fabric holds it: one allocation, header then payload,
 * reference counted (the sender's window, each copy on the wire, the
 * receiver's reorder buffer).
 */
struct fabric_pkt {
	struct flist link;	/* on fabric_link.window */
	unsigned int refs;
	unsigned int tries;	/* transmissions */
	bool sacked;		/* the receiver has it (not yet in order) */
	__u32 cap;		/* payload bytes allocated */
	__u64 sent_ns;		/* last transmission */
	struct vmmc_pkt pkt;
	__u8 payload[];		/* pkt.len bytes (DATA) */
};

static inline const __u8 *fabric_pkt_payload(const struct vmmc_pkt *pkt)
{
	return (const __u8 *)pkt + sizeof(*pkt);
}

/* Injected faults of one link; rates in parts per million. */
struct fabric_fault {
	__u32 drop, dup, reorder, corrupt, delay;
	__u32 delay_us;		/* how long a delayed packet waits */
	__u64 down_until;	/* ns; with down: back up then (0: never) */
	bool down;
};

/* A packet copy in flight on a wire. */
struct fabric_wire {
	struct flist link;	/* on fabric_link.wire, by (due, wseq) */
	__u64 due;		/* ns: delivered at or after this */
	__u64 wseq;		/* order of transmission */
	struct fabric_pkt *p;
};

/* Per-link injection and protocol counters (fabric ctl show). */
struct fabric_link_stats {
	__u64 sent, retrans, acks, drops, dups, reorders, corrupts, delays,
	      rx_dups, rx_ooo, rx_bad, deaths;
};

/*
 * One direction of the wire between two nodes (src == dst: loopback):
 * the wire itself, the sender's half of the protocol (NIC src) and the
 * receiver's half (NIC dst). The two halves talk only through packets.
 */
struct fabric_link {
	struct flist wire;	/* struct fabric_wire, by (due, wseq) */
	struct fabric_fault fault;
	struct fabric_link_stats st;

	/* sender (NIC src) */
	__u32 tx_epoch;		/* starts at 1; + 1 when the peer died */
	__u32 tx_seq;		/* next seq to send */
	struct flist window;	/* struct fabric_pkt, unacked, by seq */
	unsigned int in_window;
	__u64 rto_ns;		/* current retransmission time-out */
	__u64 srtt_ns, rttvar_ns; /* RFC 6298's estimates (0: no sample) */
	__u64 progress_ns;	/* last ack progress (or first unacked) */
	bool dead;		/* peer declared dead; next request revives */

	/* receiver (NIC dst) */
	__u32 rx_epoch;		/* 0: nothing received yet */
	__u32 rx_seq;		/* next seq expected */
	bool ack_due;		/* something arrived: ack it this pass */
	struct fabric_pkt *ooo[FABRIC_RXWIN]; /* by seq % FABRIC_RXWIN */
};

/* ------------------------------------------------------------------------
 * In-flight operations: a descriptor consumed from the SQ whose
 * completion comes later (delayed NOP, PING, SEND). Each holds one CQ
 * slot reserved (fabric_ep.inflight) and is tagged with the endpoint's
 * gen: a gen change frees it, so nothing is ever written for an old
 * incarnation of an endpoint.
 */
enum fabric_op_kind {
	FOP_NOP_DELAY,
	FOP_PING,
	FOP_SEND,
	FOP_REDIRECT,
};

/* FOP_REDIRECT: the NIC's own copy of a redirect (fabric_redir.c). */
struct fabric_redir {
	__u32 slot;			/* index in fabric_ep.redir[] */
	__u32 export_id;
	__u32 len;
	__u64 export_gen;		/* the export's gen at post */
	__u64 offset;			/* range start in the export */
	__u32 dst_slot;			/* destination: UTLB slot ... */
	__u32 dst_off;			/* ... and offset in its page */
	__u64 bytes;			/* sum of ext[].len */
	__u64 spilled;
	__u32 nr_ext;
	struct vmmc_redir_ext ext[VMMC_REDIR_EXTENTS];
};

struct fabric_op {
	struct flist ep_link;		/* on fabric_ep.ops */
	struct flist timer_link;	/* FOP_NOP_DELAY: on fabric.timers */
	struct fabric_ep *ep;
	enum fabric_op_kind kind;
	__u32 gen;			/* ep gen when fetched */
	__u8 op;			/* vmmc_sqe.op */
	__u64 user_data;
	__u64 t_fetch;			/* ns, CLOCK_MONOTONIC */
	__u64 due;			/* FOP_NOP_DELAY: ns */
	__u64 seq;			/* FOP_NOP_DELAY: order among equal dues */
	__u64 cookie;			/* FOP_PING, FOP_SEND: matches answers */
	__u32 peer;			/* FOP_PING: the node pinged */

	/* FOP_SEND: a snapshot of the descriptor and import, and progress */
	__u32 dst_node;			/* import.node */
	__u32 export_id;		/* import.export_id */
	__u64 export_gen;		/* import.export_gen */
	__u32 len;
	__u64 dst_offset;
	__u32 src_slot;
	__u32 src_off;
	bool notify;
	__u32 sent;			/* bytes handed to the link so far */

	struct fabric_redir redir;	/* FOP_REDIRECT */
};

/* ------------------------------------------------------------------------
 * Endpoints and nodes
 */
struct fabric_node;

struct fabric_ep {
	struct fabric_node *node;
	unsigned int id;
	struct vmmc_ep_ctx *kctx;	/* SRAM; kmod-written */
	struct vmmc_ring_hdr *ksq;	/* SRAM; prod: ulib, cons: NIC */
	struct vmmc_sqe *ksqes;		/* SRAM; ulib-written */

	bool live;		/* an ACTIVE incarnation was adopted */
	__u32 gen;		/* last ctx gen the NIC acted on */
	__u32 sq_cons;		/* private copy of SQ cons */
	__u64 evq_addr;		/* evq the private cq_prod belongs to */
	bool evq_valid;		/* evq_addr validated, cq_prod loaded */
	__u8 *evq;		/* with evq_valid: evq_addr in n->ram */
	__u32 cq_prod;		/* private copy of CQ prod */
	__u32 nq_prod;		/* private copy of NQ prod (same evq) */
	__u32 cq_dropped;	/* private copy of CQ dropped (same evq) */
	__u32 nq_dropped;	/* private copy of NQ dropped (same evq) */
	unsigned int inflight;	/* ops holding a CQ slot */
	struct flist ops;	/* struct fabric_op, by ep_link */
	struct fabric_op *send;	/* the SEND in progress; blocks the SQ */
	struct fabric_op *redir[VMMC_REDIR_SLOTS]; /* active redirects */
	unsigned int nr_redir;	/* non-NULL entries of redir[] */
	__u32 redir_seq[VMMC_REDIR_SLOTS]; /* last seq of each slot's record */
	__u32 sync_ack;		/* private copy of ctx.sync_ack */

	/* Stall states; each holds until the named value changes. */
	bool sq_broken;		/* prod - cons > entries */
	__u32 broken_prod;
	bool evq_bad;		/* evq_addr failed validation */
	__u64 bad_evq;
	bool cq_stalled;	/* CQ had no free slot */
};

enum fabric_node_state {
	NODE_NEVER,		/* no guest has connected yet */
	NODE_UP,		/* a guest is connected */
	NODE_GONE,		/* the guest disconnected */
};

struct fabric;

#define FABRIC_EXP_BUCKETS	4096	/* export rows by name: a power of 2 */

struct fabric_node {
	struct fabric *f;
	unsigned int id;
	char *sock_path;
	char *ram_path;
	__u64 ram_bytes;		/* the RAM file's size, mapped whole */
	__u64 ram_low;			/* of it, the bytes below 4 GiB */
	__u8 *ram;			/* guest RAM, MAP_SHARED */

	int sram_fd;			/* memfd, VMMC_SRAM_SIZE */
	__u8 *sram;
	struct vmmc_nic_status *kstatus;
	struct vmmc_nic_ctrl *kctrl;

	int listen_fd;
	int client_fd;			/* -1: no guest */
	int db_fd[VMMC_NR_VECTORS];	/* peer 0: guest rings, NIC reads */
	int irq_fd[VMMC_NR_VECTORS];	/* peer 1: NIC writes, QEMU: MSI-X */
	enum fabric_node_state state;
	bool drv_up;			/* last drv_state the NIC acted on */

	/* The mailbox: private copies of what the NIC published. */
	__u32 kcmd_done;		/* last cmd_seq answered */
	bool kcmd_busy;			/* an IMPORT awaits its answer */
	__u32 kcmd_seq;			/* ... for this cmd_seq */
	__u64 kcmd_cookie;		/* ... matching this IMPORT_RESP */
	__u32 kcmd_node;		/* ... asked of this node */
	__u64 exp_ack[VMMC_MAX_EXPORTS]; /* private copy of export ack_gen */
	__u64 exp_seq;			/* kctrl->exp_seq at the last look
					 * through the export table; above
					 * 32 bits: look at the next pass
					 */
	/*
	 * The ACTIVE export rows by name, as acknowledged (fabric_ctrl.c):
	 * chains of row + 1 (0 ends one), so that an IMPORT_REQ looks at
	 * the rows of its name's bucket, not the whole table.
	 */
	__u16 exp_head[FABRIC_EXP_BUCKETS];
	__u16 exp_next[VMMC_MAX_EXPORTS];
	bool exp_in[VMMC_MAX_EXPORTS];	/* row chained ... */
	__u32 exp_name[VMMC_MAX_EXPORTS]; /* ... under this name */

	/* Private diagnostics, logged at exit (no room in uapi yet). */
	__u64 ring_errors;		/* broken SQs, bad evq addresses */
	__u64 dropped_ops;		/* ops dropped by fences */
	__u64 lost_cqes;		/* CQ overrun by a bad user cons */
	__u64 nq_drops;			/* NQEs dropped: the owner's NQ full */
	__u64 stale_pkts;		/* answers/data for a dropped op */
	__u64 bad_pkts;			/* malformed or bad CRC: dropped */
	__u64 bad_tables;		/* export/UTLB entries failing checks */
	__u64 acks_tx;			/* link ACK packets sent */
	__u64 late_doorbells;		/* work no doorbell announced */
	__u64 late_irqs;		/* armed waiters found unwoken */
	bool dead;			/* injected: the NIC is cut off */
	bool remote;			/* served by another fabric (cluster) */

	/*
	 * DATA receiver: the last SEND of each (source node, endpoint) this
	 * NIC refused; that SEND's later packets are dropped unanswered
	 * (fabric_rx.c). The receiver's own record: nothing of the sending
	 * NIC's state is read.
	 */
	struct fabric_refused {
		__u64 cookie;
		__u32 gen;
		bool valid;
	} refused[FABRIC_MAX_NODES][VMMC_MAX_EPS];

	struct fabric_ep eps[VMMC_MAX_EPS];
};

/*
 * One connection to the control socket (fabric_admin.c). Nothing on it
 * ever blocks the NIC: the socket is non-blocking, served from the event
 * loop as bytes come, and closed at its deadline whatever it did.
 */
#define FABRIC_CTL_CLIENTS	8	/* control connections at once */
#define FABRIC_CTL_MS		1000	/* a control client's whole exchange */
#define FABRIC_CTL_LINE		1024	/* longest request, newline included */

struct fabric_ctl_client {
	int fd;			/* -1: free */
	__u64 deadline;		/* ns: closed then, answered or not */
	size_t len;		/* request bytes read into line */
	char *out;		/* the answer (malloc); NULL while reading */
	size_t out_len, off;	/* its length, bytes written */
	char line[FABRIC_CTL_LINE];
};

struct fabric_cluster;

struct fabric {
	unsigned int nr_nodes;
	struct fabric_cluster *cl;	/* --cluster (fabric_span.h), or NULL */
	struct fabric_node nodes[FABRIC_MAX_NODES];
	struct fabric_link links[FABRIC_MAX_NODES][FABRIC_MAX_NODES];
	unsigned int pkts_queued;	/* wire entries, every link */
	unsigned int pkts_unacked;	/* window entries, every link */
	__u64 wire_seq;
	__u64 dead_ns;			/* --dead-ms */
	__u64 timers_ns;		/* last fabric_link_timers() pass */
	__u64 rnd;			/* fault injection PRNG state */
	struct fabric_fault fault_all;	/* what "all" was last set to */
	int ctl_fd;			/* control socket (listening) */
	char *ctl_path;
	struct fabric_ctl_client ctl_cli[FABRIC_CTL_CLIENTS];
	__u64 ctl_refused;		/* connections over FABRIC_CTL_CLIENTS */

	struct flist timers;		/* FOP_NOP_DELAY ops by (due, seq) */
	__u64 timer_seq;
	__u64 next_cookie;
	bool timerfd_armed;

	int epfd;
	int timer_fd;
	int signal_fd;

	int verbose;
	FILE *log;
	char *run_dir;
	char *pid_path;
	__u64 idle_ns;
	int rt_prio;			/* --rt-prio: SCHED_FIFO priority, 0: none */
	int recheck_ms;			/* --recheck-ms: a sleep's second look */
	__u64 irq_look_ns;		/* last fabric_nic_irq_look() */

	bool stop;
	bool ever_connected;
	bool crc_hw;			/* SSE4.2 crc32 instructions */
};

/* ------------------------------------------------------------------------
 * epoll tags: what a ready fd is.
 */
enum fabric_ev {
	FEV_SIGNAL = 1,
	FEV_TIMER,
	FEV_LISTEN,
	FEV_CLIENT,
	FEV_DOORBELL,
	FEV_CTL,
	FEV_CTL_CLIENT,		/* vec: index in fabric.ctl_cli[] */
	FEV_UDP,		/* the cluster's datagram socket */
	FEV_HELLO,		/* the cluster's HELLO timerfd */
};

#define FEV_TAG(type, node, vec) \
	(((__u64)(type) << 32) | ((__u64)(node) << 8) | (__u64)(vec))
#define FEV_TYPE(tag)	((unsigned int)((tag) >> 32))
#define FEV_NODE(tag)	((unsigned int)(((tag) >> 8) & 0xff))
#define FEV_VEC(tag)	((unsigned int)((tag) & 0xff))

/* ------------------------------------------------------------------------
 * Logging: "fabric: node<i>: ..." (fabric_main.c)
 */
void fabric_log(struct fabric *f, int level, int node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define LOG_ERR		0	/* always */
#define LOG_INFO	0	/* connect/disconnect: always */
#define LOG_V		1	/* -v */
#define LOG_VV		2	/* -vv */

#define node_log(n, lvl, ...)	fabric_log((n)->f, (lvl), (int)(n)->id, __VA_ARGS__)
#define fab_log(f, lvl, ...)	fabric_log((f), (lvl), -1, __VA_ARGS__)

/* Counters in the status page: NIC-written, so relaxed single stores. */
#define ctr_add(field, n)						\
	vmmc_write_once(&(field), vmmc_read_once(&(field)) + (n))

/* Compare-and-exchange on a word shared with the guest. */
#define vmmc_cmpxchg(p, old, v)						\
	atomic_compare_exchange_strong_explicit(			\
		(_Atomic __typeof__(*(p)) *)(p), (old), (v),		\
		memory_order_seq_cst, memory_order_seq_cst)

__u64 fabric_now_ns(void);

/* ------------------------------------------------------------------------
 * The DMA engine's one address translation. Every byte the NIC reads or
 * writes in guest RAM goes through fabric_gpa() with its length.
 *
 * QEMU's pc machine backs the guest's RAM with one file (memory-backend-
 * file) but maps it in two pieces: file bytes [0, ram_low) at guest-
 * physical [0, ram_low), and file bytes [ram_low, ram_bytes) at guest-
 * physical [4 GiB, 4 GiB + ram_bytes - ram_low); between ram_low and
 * 4 GiB lies the PCI hole (devices, this NIC's SRAM included). ram_low is
 * QEMU's below_4g_mem_size: the runner passes it (--node ...,BYTES:LOW,
 * with the same max-ram-below-4g given to QEMU), or the fabric applies
 * QEMU 7.2's rule for pc (hw/i386/pc_piix.c: RAM of 3.5 GiB or more is
 * split at 3 GiB, smaller RAM is all below 4 GiB).
 *
 * A range must lie whole in one of the two pieces (nothing the kernel
 * hands the NIC crosses one: pages, page tables and event regions are
 * physically contiguous RAM); anything else, the hole and whatever lies
 * past the file included, is refused: NULL, and the caller completes with
 * an error status.
 */
#define FABRIC_4G		(1ull << 32)

static inline __u8 *fabric_gpa(const struct fabric_node *n, __u64 gpa,
			       __u64 len)
{
	__u64 off;

	if (!len)
		return NULL;
	if (gpa < n->ram_low) {
		if (len > n->ram_low - gpa)
			return NULL;
		off = gpa;
	} else if (gpa >= FABRIC_4G &&
		   gpa - FABRIC_4G < n->ram_bytes - n->ram_low) {
		off = gpa - FABRIC_4G + n->ram_low;
		if (len > n->ram_bytes - off)
			return NULL;
	} else {
		return NULL;
	}
	return n->ram + off;
}

/* fabric_ivshmem.c */
int fabric_node_listen(struct fabric_node *n);
int fabric_node_eventfds(struct fabric_node *n);
void fabric_node_close_eventfds(struct fabric_node *n);
void fabric_node_accept(struct fabric_node *n);
void fabric_node_client_event(struct fabric_node *n, __u32 events);
void fabric_node_disconnect(struct fabric_node *n, const char *why);
void fabric_node_doorbell(struct fabric_node *n, unsigned int vec);
int fabric_node_irq(struct fabric_node *n, unsigned int vec);

/* fabric_nic.c */
int fabric_nic_init(struct fabric_node *n);
void fabric_nic_reset(struct fabric_node *n);
unsigned int fabric_nic_poll(struct fabric *f);
bool fabric_nic_has_work(struct fabric *f, bool *stalled);
bool fabric_nic_recheck(struct fabric *f);
void fabric_nic_irq_look(struct fabric *f);
void fabric_nic_set_sleeping(struct fabric *f, bool sleeping);
bool fabric_node_is_up(struct fabric_node *n);
bool fabric_ep_usable(struct fabric_ep *ep, __u32 gen);
void fabric_ep_drop_ops(struct fabric_ep *ep);

/* fabric_cq.c */
__u8 *fabric_ep_evq(struct fabric_ep *ep);
bool fabric_cq_has_room(struct fabric_ep *ep, __u8 *evq);
void fabric_cq_post(struct fabric_ep *ep, __u8 *evq, __u64 user_data,
		    __u8 op, __u32 status, __u64 imm, __u64 t_fetch);
bool fabric_nq_has_room(struct fabric_ep *ep, __u8 *evq);
void fabric_nq_post(struct fabric_ep *ep, __u8 *evq,
		    const struct vmmc_nqe *nqe);
void fabric_nq_drop(struct fabric_ep *ep, __u8 *evq);
void fabric_ep_notify(struct fabric_ep *ep);
void fabric_op_complete(struct fabric_op *op, __u32 status, __u64 imm);

/* fabric_timer.c */
struct fabric_op *fabric_op_new(struct fabric_ep *ep, enum fabric_op_kind k,
				__u32 gen, const struct vmmc_sqe *sqe,
				__u64 t_fetch);
void fabric_op_free(struct fabric_op *op);
void fabric_timer_add(struct fabric *f, struct fabric_op *op, __u64 due);
unsigned int fabric_timer_run(struct fabric *f, __u64 now);
bool fabric_timer_due_before(struct fabric *f, __u64 t);
int fabric_timer_arm(struct fabric *f);

/* fabric_crc.c */
void fabric_crc_init(struct fabric *f);
__u32 fabric_crc32c(__u32 crc, const void *buf, size_t len);
const char *fabric_crc_impl(void);

/* fabric_link.c */
void fabric_link_init(struct fabric *f);
struct fabric_pkt *fabric_pkt_alloc(__u32 len);
void fabric_pkt_put(struct fabric_pkt *p);
int fabric_link_send(struct fabric *f, const struct vmmc_pkt *pkt);
void fabric_link_queue(struct fabric *f, struct fabric_pkt *p);
bool fabric_link_room(struct fabric *f, __u32 src, __u32 dst);
bool fabric_link_is_dead(struct fabric *f, __u32 src, __u32 dst);
__u32 fabric_link_payload(struct fabric *f, __u32 dst); /* fabric_cluster.c */
unsigned int fabric_link_deliver(struct fabric *f);
unsigned int fabric_link_timers(struct fabric *f, __u64 now);
bool fabric_link_has_work(struct fabric *f, bool *stalled);
void fabric_link_free(struct fabric *f);
void fabric_link_void(struct fabric *f, const struct fabric_op *op);
void fabric_link_transmit(struct fabric *f, struct fabric_link *l,
			  struct fabric_pkt *p, __u64 now);
/* fabric_retrans.c */
__u64 fabric_link_rto(const struct fabric_link *l);
void fabric_link_rtt(struct fabric_link *l, __u64 r);
void fabric_link_count_retrans(struct fabric *f, struct fabric_link *l,
			       unsigned int src, unsigned int re);
void fabric_link_fast_retransmit(struct fabric *f, struct fabric_link *l,
				 unsigned int src, __u64 now);
unsigned int fabric_link_rto_expire(struct fabric *f, struct fabric_link *l,
				    __u64 now);
int fabric_ping_send(struct fabric_op *op, __u32 dst_node, __u64 imm);
__u32 fabric_pkt_crc(const struct vmmc_pkt *pkt);
void fabric_pkt_answer(const struct vmmc_pkt *req, struct vmmc_pkt *ans,
		       __u16 type, __u16 status);

/* fabric_fault.c: fault injection, the wire */
void fabric_wire_send(struct fabric *f, struct fabric_link *l,
		      struct fabric_pkt *p);
__u64 fabric_rnd(struct fabric *f);
int fabric_parse_uint(const char *s, unsigned long max, unsigned long *out);
int fabric_fault_parse(struct fabric *f, const char *spec, char *err,
		       size_t errlen);
void fabric_fault_tick(struct fabric *f, __u64 now);

/* fabric_admin.c: the control socket and its client */
int fabric_ctl_listen(struct fabric *f);
void fabric_ctl_accept(struct fabric *f);
void fabric_ctl_client_event(struct fabric *f, unsigned int i, __u32 events);
void fabric_ctl_expire(struct fabric *f, __u64 now);
int fabric_ctl_timeout_ms(struct fabric *f, __u64 now);
void fabric_ctl_close(struct fabric *f);
int fabric_ctl_client(int argc, char **argv);

/* fabric_ctrl.c: mailbox, export and translation acks */
unsigned int fabric_ctrl_acks(struct fabric_node *n);
unsigned int fabric_kcmd_poll(struct fabric_node *n);
bool fabric_ctrl_has_work(struct fabric_node *n);
void fabric_ctrl_reset(struct fabric_node *n);
void fabric_rx_import_req(struct fabric_node *n, const struct vmmc_pkt *pkt);
void fabric_rx_import_resp(struct fabric_node *n, const struct vmmc_pkt *pkt);
void fabric_kcmd_peer_dead(struct fabric_node *n, __u32 peer);

/* fabric_tx.c: SEND at the sending NIC */
__u32 fabric_send_start(struct fabric_ep *ep, const struct vmmc_sqe *sqe,
			__u64 t_fetch);
unsigned int fabric_send_push(struct fabric_ep *ep);
void fabric_send_complete(struct fabric_op *op, __u32 status, __u64 imm);
void fabric_rx_data_resp(struct fabric_node *n, const struct vmmc_pkt *pkt);

__u32 fabric_utlb_limit(struct fabric_ep *ep);
int fabric_utlb_page(struct fabric_ep *ep, __u32 slot, bool write,
		     __u64 *page);

/* fabric_redir.c: transfer redirection at the receiving NIC */
__u32 fabric_redir_post(struct fabric_ep *ep, __u8 *evq,
			const struct vmmc_sqe *sqe, __u64 t_fetch);
__u32 fabric_redir_cancel(struct fabric_ep *ep, const struct vmmc_sqe *sqe,
			  __u64 *imm);
void fabric_redir_unlink(struct fabric_op *op);
void fabric_redir_deliver(struct fabric_node *n, const struct vmmc_pkt *pkt,
			  __u32 owner, const __u64 *dpages, __u32 dpos);
void fabric_redir_export_gone(struct fabric_node *n, __u32 export_id);
void fabric_redir_sync(struct fabric_ep *ep);
void fabric_pkt_copy(struct fabric_node *n, const struct vmmc_pkt *pkt,
		     __u32 poff, __u32 len, const __u64 *dpages, __u32 doff);

/* fabric_rx.c: SEND at the receiving NIC */
void fabric_rx_data(struct fabric_node *n, const struct vmmc_pkt *pkt);

#endif /* FABRIC_H */

/* SPDX-License-Identifier: MIT */
/*
 * vfi.h - internals of the libfabric provider "vmmc" (libvmmc-fi.so).
 *
 * Objects. A domain owns one vmmc endpoint (/dev/vmmcN) and one mutex,
 * dom->lock, that guards the endpoint and every data-path structure of the
 * domain: its CQs, its endpoints' queues, its memory regions and its
 * import cache (FI_THREAD_SAFE at the cost of one lock; manual progress
 * runs under it). An EQ has its own lock; lock order: eq->lock, then
 * dom->lock.
 *
 * Connections. Set up over TCP between the guests (the side channel, as
 * verbs uses rdma_cm): the active side connects to the passive endpoint's
 * sockaddr_in and sends a struct vfi_cm_msg naming its receive region
 * (export name and key); the accepting side answers with its own; each
 * imports the other's region with the key. The TCP socket stays open as the
 * connection's liveness channel: EOF on it is FI_SHUTDOWN.
 *
 * Receive region (exported by the receiver, written by the peer; never
 * trusted: read once into a local copy, checked):
 *   [0, 64)                 u64 credit: slots of OUR sends the peer has
 *                           consumed (writer: the peer)
 *   [VFI_SLOT0, ...)        VFI_NSLOT slots of VFI_SLOT_BYTES: a struct
 *                           vfi_hdr, then up to VFI_SLOT_DATA payload bytes
 *   [VFI_LAND0, +4 MiB)     the landing area: the peer's answers to our
 *                           long reads, redirected by our NIC straight
 *                           into the reads' buffers (vfi_rma.c)
 * A fragment of a message takes one slot. A small one (VFI_INLINE bytes)
 * goes with its header in one SEND, and the header's check word covers the
 * payload, so a reader racing the NIC's copy sees a bad check and retries.
 * A large one is two SENDs to the same import, payload then header, which
 * land in that order; the check covers the header. A slot is consumed only
 * when a posted receive takes it (messages wait in the ring: no receiver
 * not ready errors), and the credit goes back every VFI_NSLOT / 4 slots.
 */
#ifndef VFI_H
#define VFI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/providers/fi_prov.h>
#include <rdma/providers/fi_log.h>

#include "vmmc.h"

#define VFI_NAME		"vmmc"
#define VFI_PROV_VERSION	FI_VERSION(0, 1)
#define VFI_FI_VERSION		FI_VERSION(1, 17)

/* export names: connection regions and memory regions (24 random bits) */
#define VFI_NAME_CONN		0x46000000u
#define VFI_NAME_MR		0x4d000000u
#define VFI_NAME_RAND		0x00ffffffu

#define VFI_NSLOT		16u
#define VFI_SLOT_BYTES		131072u
#define VFI_HDR_BYTES		32u
#define VFI_SLOT_DATA		(VFI_SLOT_BYTES - VFI_HDR_BYTES)
#define VFI_INLINE		256u
#define VFI_SLOT0		4096u
/* after the slots, the landing area of redirected read responses */
#define VFI_LAND0		(VFI_SLOT0 + VFI_NSLOT * VFI_SLOT_BYTES)
#define VFI_LAND_CHUNK		65536u
#define VFI_LAND_BYTES		(64u * VFI_LAND_CHUNK)	/* one u64 of chunks */
#define VFI_REGION_BYTES	(VFI_LAND0 + VFI_LAND_BYTES)
#define VFI_MAX_MSG		((size_t)1 << 30)
#define VFI_MAX_RMA		((size_t)VMMC_EXPORT_MAX_LEN)
/* A region registered for FI_REMOTE_WRITE is exported in parts of the
 * NIC's export limit, part i under the region's key + i; a write that
 * reaches past a whole first part goes to the part(s) it falls in.
 */
#define VFI_MR_PART		((uint64_t)VMMC_EXPORT_MAX_LEN)
#define VFI_MR_PARTS		16u	/* so at most 1 GiB */
#define VFI_CQ_DEF		1024u
#define VFI_EQ_DEF		64u
#define VFI_CM_DATA		256u	/* connection data, each way */
#define VFI_IMPORT_CACHE	32u	/* RMA imports kept per domain */
#define VFI_DIRECT_MIN		(1u << 20) /* reads this long answered directly
					 * (FI_VMMC_DIRECT_READ's default)
					 */

/* a slot's SEND: its vmmc user_data is the op's address | VFI_UD_SLOT */
#define VFI_UD_SLOT	1u

/* struct vfi_hdr.op */
enum { VFI_OP_MSG = 1, VFI_OP_WDATA = 2, VFI_OP_RREQ = 3, VFI_OP_RRESP = 4 };
/* struct vfi_hdr.flags */
#define VFI_HF_FIRST	0x1
#define VFI_HF_LAST	0x2
#define VFI_HF_INLINE	0x4
#define VFI_HF_DATA	0x8
#define VFI_HF_ERR	0x10	/* RRESP: refused, total = FI_E* code */
#define VFI_HF_DIRECT	0x20	/* RRESP: the data went into dst_key's export */

/* the inline payload of an RREQ: read [addr, addr + len) of region key */
struct vfi_rreq {
	uint64_t key;
	uint64_t addr;
	uint64_t len;
	uint64_t cookie;	/* the requester's op: index | gen << 32 */
	uint64_t dst_key;	/* the requester's export of its buffer, or 0 */
	uint64_t land;		/* 1 + where in the requester's landing
				 * area to answer, or 0
				 */
};

/* struct vfi_op.kind */
enum { VFI_K_MSG = 0, VFI_K_WRITE, VFI_K_READ, VFI_K_RESP };

struct vfi_hdr {
	uint32_t seq;		/* 1 + index of the slot in the stream */
	uint16_t op;
	uint16_t flags;
	uint32_t len;		/* payload bytes in this slot */
	uint32_t total;		/* the message's length (every fragment) */
	uint64_t data;		/* remote CQ data (VFI_HF_DATA) */
	uint64_t check;		/* vfi_check() of the rest (and inline data) */
};

struct vfi_fabric {
	struct fid_fabric fab;
};

/* an RMA import, by the remote key and node */
struct vfi_imp {
	uint64_t key;
	uint32_t node;
	uint32_t id;		/* vmmc import id */
	uint64_t len;
	uint64_t used;		/* LRU stamp; 0: free */
	uint32_t busy;		/* writes in flight through it */
};

struct vfi_ep;
struct vfi_cq;
struct vfi_mr;

struct vfi_domain {
	struct fid_domain dom;
	struct vfi_fabric *fab;
	pthread_mutex_t lock;
	struct vmmc_ep vep;
	struct vfi_ep *eps;		/* connected or connecting, for progress */
	struct vfi_mr *mrs;		/* registered regions, by key for reads */
	struct vfi_imp imps[VFI_IMPORT_CACHE];
	uint64_t imp_clock;
	int refs;
	uint64_t mr_mode;
	size_t direct_min;		/* FI_VMMC_DIRECT_READ; SIZE_MAX: off */
	/* the NIC's redirect slots: the read each serves (NULL: abandoned,
	 * busy until its completion)
	 */
	uint32_t redir_busy;
	struct vfi_op *redir_op[VMMC_REDIR_SLOTS];
};

/* One posted operation (send, receive, write): a slot of the endpoint. */
struct vfi_op {
	struct vfi_op *next;
	struct vfi_ep *ep;
	void *context;
	uint64_t flags;		/* FI_SEND, FI_RECV, FI_WRITE, FI_MSG... */
	uint64_t data;		/* remote CQ data */
	struct iovec iov[4];
	size_t iov_count;
	size_t iov_i, iov_off;	/* send: the next byte to post */
	size_t len;		/* total bytes (receive: room) */
	size_t done;		/* posted (send, write) or received so far */
	size_t total;		/* receive: the message's length */
	uint32_t inflight;	/* SENDs posted, not completed */
	int err;		/* first error, positive FI_E* */
	int prov_err;		/* a vmmc_status, or 0 */
	bool comp;		/* report a completion when done */
	bool queued;		/* in txq: more to post */
	bool trunc;		/* receive: message longer than the room */
	/* RMA */
	int imp;		/* index in dom->imps, -1: none */
	uint32_t import;
	uint64_t raddr;		/* offset in the target region (part) */
	/* a write across two parts of a region: from byte split of the
	 * op on, to import2 (dom->imps[imp2]) at offset 0 (split 0: none)
	 */
	int imp2;
	uint32_t import2;
	size_t split;
	uint64_t raddr_key;	/* read: the region's key */
	bool wdata;		/* the notice with remote CQ data is due */
	bool wdata_sent;
	uint8_t kind;		/* VFI_K_* */
	bool wait_resp;		/* read: the response has not all come */
	/* a read answered directly: the requester exports its buffer for
	 * the read's time (rd_export), the peer imports it (direct) and
	 * SENDs into it, then the RRESP notice (wdata, wdata_sent)
	 */
	bool rd_exported;
	bool direct;
	uint32_t rd_export;
	uint64_t rd_key;
	/* a read answered into our landing area, redirected to its buffer:
	 * redir = 1 + the redirect slot; done when both the redirect's
	 * completion and the peer's notice are in. land (responder): the
	 * SENDs go to the connection's import (not ours to drop)
	 */
	int redir;
	uint32_t redir_st;	/* the redirect's completion status */
	bool redir_cqe, resp_in, land;
	bool routed;		/* read: landing, export or ring chosen */
	uint64_t land_off, land_mask;
	uint32_t land_head;	/* bytes before the buffer's first whole page
				 * (not redirected: copied from the area)
				 */
	uint8_t inject[VFI_INLINE];
	uint32_t gen;		/* read cookies: bumped at each reuse */
};

struct vfi_queue {
	struct vfi_op *head, *tail;
};

enum vfi_state {
	VFI_IDLE, VFI_CONNECTING, VFI_ACCEPTING, VFI_CONNECTED, VFI_SHUT,
};

struct vfi_eq;
struct vfi_connreq;

struct vfi_ep {
	struct fid_ep ep;
	struct vfi_domain *dom;
	struct fi_info *info;
	struct vfi_ep *next_dom;	/* in dom->eps */
	struct vfi_cq *tx_cq, *rx_cq;
	uint64_t tx_flags, rx_flags;	/* default op flags */
	bool tx_sel, rx_sel;		/* FI_SELECTIVE_COMPLETION binds */
	struct vfi_eq *eq;
	enum vfi_state state;
	bool in_dom;
	bool shut_reported;
	int sock;			/* TCP side channel, -1: none */
	struct sockaddr_in local, peer;
	/* our receive region, exported */
	void *region;
	uint32_t export_id;
	uint32_t my_name;
	uint64_t my_key;
	bool exported;
	/* the peer's, imported */
	uint32_t peer_node;
	uint32_t peer_name;
	uint64_t peer_key;
	uint32_t import_id;
	bool imported;
	/* send side */
	uint32_t tx_seq;		/* slots sent */
	uint32_t tx_cqes;		/* their SENDs completed */
	struct vfi_queue txq;		/* sends and writes not fully posted */
	struct vfi_queue lwait;		/* reads waiting for landing room,
					 * out of txq so that nothing waits
					 * behind them (our answers to the
					 * peer's reads above all)
					 */
	uint8_t *stage;			/* VFI_NSLOT header+inline copies */
	uint64_t *credit_src;		/* 4 words we send as credit */
	uint32_t credit_i;
	bool hdr_pend;			/* a slot's payload is out, not its header */
	size_t hdr_pend_len;
	/* receive side */
	uint32_t rx_seq;		/* slots consumed */
	uint32_t rx_reported;		/* rx_seq last sent as credit */
	struct vfi_queue rxq;		/* posted receives */
	bool rx_inmsg;			/* between a FIRST and its LAST */
	/* the slot at rx_seq waits until tx_cqes reaches rx_gate: the
	 * slots we had sent when we first saw it (rx_gate_for = its seq)
	 */
	uint32_t rx_gate, rx_gate_for;
	uint64_t land_busy;		/* landing area chunks in use */
	/* ops */
	struct vfi_op *ops, *free_ops;
	size_t nops;
	uint32_t ops_busy;
	uint32_t probe_calls;		/* vfi_ep_probe() */
	uint64_t probe_ns;
	/* connection data to send with connect or accept */
	uint8_t cm_data[VFI_CM_DATA];
	size_t cm_len;
};

/* a completion waiting in a CQ */
struct vfi_cqe {
	struct fi_cq_tagged_entry e;
	int err, prov_err;
	size_t olen;
};

struct vfi_cq {
	struct fid_cq cq;
	struct vfi_domain *dom;
	enum fi_cq_format format;
	enum fi_wait_obj wait_obj;
	struct vfi_cqe *ring;
	uint32_t size, head, tail;	/* head - tail entries; dom->lock */
	struct vfi_cqe *errs;		/* error entries, a small ring */
	uint32_t esize, ehead, etail;
	struct fi_cq_err_entry last_err;
	int epfd;			/* epoll: the vmmc fd and the eventfd */
	int evfd;
	bool armed;			/* a waiter wants the eventfd written */
	uint64_t overflow;		/* completions lost: out of memory */
	uint32_t api_version;
	int refs;
};

/* an event waiting in an EQ */
struct vfi_eqe {
	uint32_t event;
	int err;
	struct fi_info *info;		/* FI_CONNREQ's */
	uint8_t data[VFI_CM_DATA];
	size_t len;
	fid_t fid;
	void *context;
};

/* a CM source an EQ polls: a listening pep, a connecting or connected ep,
 * or a connection request waiting for accept or reject
 */
struct vfi_cmsrc {
	struct vfi_cmsrc *next;
	int fd;
	int kind;			/* VFI_SRC_* */
	void *obj;
};

enum { VFI_SRC_PEP = 1, VFI_SRC_EP = 2 };

struct vfi_eq {
	struct fid_eq eq;
	struct vfi_fabric *fab;
	pthread_mutex_t lock;
	struct vfi_eqe *ring;
	uint32_t size, head, tail;
	struct fi_eq_err_entry last_err;
	uint8_t err_data[VFI_CM_DATA];
	struct vfi_cmsrc *srcs;
	int epfd, evfd;
	int refs;
};

struct vfi_pep {
	struct fid_pep pep;
	struct vfi_fabric *fab;
	struct fi_info *info;
	struct vfi_eq *eq;
	int sock;
	struct sockaddr_in addr;
	bool listening;
};

/* a connection request, the handle of an FI_CONNREQ event */
struct vfi_connreq {
	struct fid fid;
	struct vfi_connreq *next_live;	/* vfi_cm.c's list of live requests */
	int sock;
	struct sockaddr_in peer;
	uint32_t node, name;
	uint64_t key;
};

/* The side channel's messages (network byte order on the wire). */
#define VFI_CM_MAGIC	0x76666931u	/* "vfi1" */
enum { VFI_CM_REQ = 1, VFI_CM_ACCEPT = 2, VFI_CM_REJECT = 3, VFI_CM_READY = 4 };
struct vfi_cm_msg {
	uint32_t magic;
	uint32_t type;
	uint32_t node;
	uint32_t name;
	uint64_t key;
	uint32_t region_len;
	uint32_t data_len;
	uint8_t data[VFI_CM_DATA];
};

extern struct fi_provider vfi_prov;

#define VFI_WARN(sub, ...) FI_WARN(&vfi_prov, sub, __VA_ARGS__)

/* vfi_fabric.c */
int vfi_fabric_open(struct fi_fabric_attr *attr, struct fid_fabric **fabric,
		    void *context);
int vfi_random(void *buf, size_t len);
int vfi_errno(int err);
void vfi_memlock_error(size_t len);
int vfi_no_bind(struct fid *fid, struct fid *bfid, uint64_t flags);
int vfi_no_control(struct fid *fid, int command, void *arg);
int vfi_no_ops_open(struct fid *fid, const char *name, uint64_t flags,
		    void **ops, void *context);

/* vfi_domain.c */
int vfi_domain_open(struct fid_fabric *fabric, struct fi_info *info,
		    struct fid_domain **dom, void *context);
void vfi_progress(struct vfi_domain *dom);
void vfi_cqes(struct vfi_domain *dom);
int vfi_import_get(struct vfi_domain *dom, uint32_t node, uint64_t key);
int vfi_mr_reg(struct fid *fid, const void *buf, size_t len, uint64_t access,
	       uint64_t offset, uint64_t requested_key, uint64_t flags,
	       struct fid_mr **mr, void *context);
int vfi_mr_regv(struct fid *fid, const struct iovec *iov, size_t count,
		uint64_t access, uint64_t offset, uint64_t requested_key,
		uint64_t flags, struct fid_mr **mr, void *context);
int vfi_mr_regattr(struct fid *fid, const struct fi_mr_attr *attr,
		   uint64_t flags, struct fid_mr **mr);

/* vfi_cq.c */
int vfi_cq_open(struct fid_domain *domain, struct fi_cq_attr *attr,
		struct fid_cq **cq, void *context);
void vfi_cq_push(struct vfi_cq *cq, void *context, uint64_t flags,
		 size_t len, void *buf, uint64_t data);
void vfi_cq_push_err(struct vfi_cq *cq, void *context, uint64_t flags,
		     int err, int prov_err, size_t len, size_t olen);
int vfi_trywait(struct fid_fabric *fabric, struct fid **fids, int count);
int vfi_eq_trywait(struct vfi_eq *eq);

/* vfi_eq.c */
int vfi_eq_open(struct fid_fabric *fabric, struct fi_eq_attr *attr,
		struct fid_eq **eq, void *context);
int vfi_eq_push(struct vfi_eq *eq, uint32_t event, fid_t fid,
		struct fi_info *info, const void *data, size_t len, int err);
void vfi_eq_add_src(struct vfi_eq *eq, int fd, int kind, void *obj);
void vfi_eq_del_src(struct vfi_eq *eq, void *obj);

/* vfi_cm.c */
int vfi_passive_ep(struct fid_fabric *fabric, struct fi_info *info,
		   struct fid_pep **pep, void *context);
int vfi_cm_event(struct vfi_eq *eq, struct vfi_cmsrc *src);
extern struct fi_ops_cm vfi_ep_cm_ops;
extern struct fi_ops_ep vfi_pep_ep_ops;
bool vfi_creq_live(fid_t fid, bool take);
int vfi_ep_region_setup(struct vfi_ep *ep);
void vfi_ep_region_free(struct vfi_ep *ep);

/* vfi_ep.c */
int vfi_endpoint(struct fid_domain *domain, struct fi_info *info,
		 struct fid_ep **ep, void *context);
void vfi_ep_connected(struct vfi_ep *ep);
void vfi_ep_shutdown(struct vfi_ep *ep, int err);

/* vfi_msg.c */
extern struct fi_ops_msg vfi_msg_ops;
struct vfi_op *vfi_op_get(struct vfi_ep *ep);
void vfi_op_put(struct vfi_op *op);
void vfi_op_enqueue(struct vfi_queue *q, struct vfi_op *op);
void vfi_ep_progress(struct vfi_ep *ep);
void vfi_send_done(struct vfi_op *op, const struct vmmc_cqe *cqe);
void vfi_op_fail_all(struct vfi_ep *ep, int err);
bool vfi_sq_room(struct vfi_ep *ep, uint32_t n);
int vfi_send_wait(struct vfi_ep *ep, int ret);
size_t vfi_iov_len(const struct iovec *iov, size_t count);
void vfi_pin_iov(struct vfi_ep *ep, const struct vfi_op *op);
ssize_t vfi_op_begin(struct vfi_ep *ep, const struct iovec *iov,
		     size_t count, size_t max, uint64_t flags, bool need_conn,
		     struct vfi_op **out);
void vfi_iov_put(struct vfi_op *op, size_t off, const void *src, size_t len);
void vfi_iov_get(const struct vfi_op *op, void *dst, size_t len);

/* vfi_rma.c */
extern struct fi_ops_rma vfi_rma_ops;
#define VFI_PUSH_PARK	2
int vfi_rma_push(struct vfi_ep *ep, struct vfi_op *op);
int vfi_rma_rx(struct vfi_ep *ep, const struct vfi_hdr *h,
	       const void *payload);
void vfi_tx_maybe_done(struct vfi_op *op);
int vfi_post_slot(struct vfi_ep *ep, struct vfi_op *op, struct vfi_hdr *h,
		  const void *payload, size_t len);
int vfi_mr_find(struct vfi_domain *dom, uint64_t key, uint64_t access,
		void **buf, size_t *len);
void vfi_redir_cqe(struct vfi_domain *dom, const struct vmmc_cqe *cqe);
void vfi_redir_abandon(struct vfi_op *op);

/* vfi_trace.c: timestamps of the data path in a VFI_TRACE build only */
#ifdef VFI_TRACE
void vfi_trace(const char *ev, const void *op, uint64_t a, uint64_t b);
#define VFI_TR(ev, op, a, b) vfi_trace(ev, op, (uint64_t)(a), (uint64_t)(b))
#else
#define VFI_TR(ev, op, a, b) ((void)0)
#endif

#endif /* VFI_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fabric_span.h - a cluster of several vmmc-fabric processes: the cluster
 * description (fabric_cluster.c) and the UDP wire between them
 * (fabric_udp.c). WIRE.md is the specification; this is its C.
 */
#ifndef FABRIC_SPAN_H
#define FABRIC_SPAN_H

#include <sys/socket.h>

#include "fabric.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the wire is little-endian and carries struct vmmc_pkt as it is"
#endif

#define FABRIC_MAX_FABRICS	16
#define FABRIC_NAME_MAX		32	/* with the NUL */
#define FABRIC_DEFAULT_IP_MTU	1500
#define FABRIC_HELLO_MS		250
#define FABRIC_UDP_TX_BATCH	64	/* datagrams per sendmmsg() */

#define VMMC_WIRE_MAGIC		0x574d4d56u	/* "VMMW" */
#define VMMC_WIRE_VERSION	2

enum vmmc_wire_kind {
	VMMC_WIRE_PKT	= 1,	/* a struct vmmc_pkt and its payload follow */
	VMMC_WIRE_HELLO	= 2,	/* the header alone */
};

struct vmmc_wire_hdr {
	__u32 magic;
	__u8 version;
	__u8 kind;		/* enum vmmc_wire_kind */
	__u8 sender;		/* the sender's fabric index */
	__u8 zero;
	__u32 crc;		/* vmmc_wire_crc() */
	__u32 len;		/* bytes in the datagram */
	__u64 cluster;		/* the sender's cluster hash */
	__u64 boot;		/* the sender's boot epoch */
	__u64 dst_boot;		/* the receiver's, as known (0: unknown) */
};

/*
 * The datagram CRC32C: this header (crc taken as 0), then what follows
 * of the @len bytes at @body up to the link packet's header; its payload
 * is the link packet CRC's (pkt.crc, checked by the link layer): every
 * byte is summed once on each side.
 */
static inline __u32 vmmc_wire_crc(const struct vmmc_wire_hdr *h,
				  const void *body, size_t len)
{
	struct vmmc_wire_hdr c = *h;

	c.crc = 0;
	if (len > sizeof(struct vmmc_pkt))
		len = sizeof(struct vmmc_pkt);
	return fabric_crc32c(fabric_crc32c(0, &c, sizeof(c)), body, len);
}

/* Datagrams dropped at receipt, by reason (WIRE.md, "Checks"). */
struct fabric_udp_stats {
	__u64 rx, tx, tx_errors, hellos_rx, hellos_tx;
	__u64 shorts, bad_header, unknown_sender, bad_cluster, bad_crc,
	      stale_boot, bad_route, node_dead, restarts, silences;
};

struct fabric_peer {
	char name[FABRIC_NAME_MAX];
	struct sockaddr_storage addr;
	socklen_t addr_len;
	__u32 mtu;		/* the path's IP MTU (cluster file) */
	__u64 boot;		/* last boot epoch heard (0: never) */
	__u64 heard_ns;		/* last valid datagram from it */
	bool silent;		/* not heard for dead_ns: links declared dead */
	bool warned;		/* a cluster-hash mismatch was logged */
};

struct fabric_cluster {
	char *path;
	unsigned int nr_fabrics;
	unsigned int me;	/* our index */
	struct fabric_peer fab[FABRIC_MAX_FABRICS];
	unsigned int node_fabric[FABRIC_MAX_NODES];
	__u64 hash;
	__u64 boot;		/* ours */
	int fd;			/* the UDP socket */
	int hello_fd;		/* timerfd, every FABRIC_HELLO_MS */
	__u64 hello_ns;		/* its last expiry handled */
	struct fabric_udp_txq *txq;	/* fabric_udp.c: sealed, not yet sent */
	struct fabric_udp_rxq *rxq;	/* fabric_udp.c: recvmmsg()'s buffers */
	struct fabric_udp_stats st;
};

/* fabric_cluster.c */
int fabric_cluster_load(struct fabric *f, const char *path, const char *me);
int fabric_cluster_check(struct fabric *f);
void fabric_cluster_free(struct fabric *f);

/* fabric_udp.c */
int fabric_udp_open(struct fabric *f);
void fabric_udp_send(struct fabric *f, struct fabric_pkt *p, unsigned int dst);
void fabric_udp_flush(struct fabric *f);
void fabric_udp_input(struct fabric *f);
void fabric_udp_hello(struct fabric *f);
void fabric_udp_close(struct fabric *f);

typedef void (*fabric_out_fn)(void *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fabric_udp_show(struct fabric *f, fabric_out_fn out, void *o);

/* fabric_link.c: the receiving side of a datagram, a peer gone */
void fabric_link_input(struct fabric *f, struct fabric_pkt *p);
void fabric_link_peer_gone(struct fabric *f, __u32 node, bool forget_rx);

#endif /* FABRIC_SPAN_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_udp.c - the datagrams between the fabrics of a cluster (WIRE.md)
 *
 * Contract:
 * - fabric_udp_open(): one non-blocking UDP socket bound to this fabric's
 *   address and port of the cluster file, with large buffers (a window of
 *   packets may come at once), and a timerfd for HELLO; -1 with a message
 *   if either fails.
 * - fabric_udp_send(): one link packet copy (already through fault
 *   injection, fabric_fault.c) as one datagram to the fabric serving its
 *   destination node: sealed (header, CRC) now and queued, holding a
 *   reference to the packet; fabric_udp_flush() (the link layer's pass
 *   calls it at its end, and a full queue does) hands the queue to the
 *   kernel in one sendmmsg(). A send that fails (buffer full, no route)
 *   is counted; the link layer retransmits.
 * - fabric_udp_input(): reads what is queued on the socket (a bounded
 *   batch per call, UDP_RX_BATCH datagrams per recvmmsg()), checks every
 *   datagram as WIRE.md lists, drops and
 *   counts what fails, and hands each link packet to the link layer
 *   (fabric_link_input()). Nothing of a dropped datagram reaches a guest.
 * - fabric_udp_hello(): every FABRIC_HELLO_MS: a HELLO to every other
 *   fabric; a fabric silent for the dead-peer time has its nodes' links
 *   declared dead (once, until it is heard again). Time this process did
 *   not run (two periods or more between expiries) is not counted as
 *   silence.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fabric_span.h"

static_assert(sizeof(struct vmmc_wire_hdr) == 40, "wire header");

#define UDP_BUF_BYTES	(8 << 20)
#define UDP_BATCH	256		/* datagrams per input call */
#define UDP_RX_BATCH	32		/* per recvmmsg() */
#define FABRIC_HELLO_NS	(FABRIC_HELLO_MS * 1000000ull)
#define DGRAM_MAX	(sizeof(struct vmmc_wire_hdr) + \
			 sizeof(struct vmmc_pkt) + FABRIC_MTU)

/*
 * Where recvmmsg() puts datagrams: each one's wire header apart, its link
 * packet and payload straight into a packet of FABRIC_MTU + 1 payload
 * bytes (one more than any packet: a longer datagram shows), which the
 * link layer then takes as it is, without a copy.
 */
struct fabric_udp_rxq {
	struct vmmc_wire_hdr h[UDP_RX_BATCH];
	struct fabric_pkt *p[UDP_RX_BATCH];	/* NULL: to allocate */
	struct sockaddr_storage from[UDP_RX_BATCH];
	struct iovec iov[UDP_RX_BATCH][2];
	struct mmsghdr m[UDP_RX_BATCH];
};

/* Datagrams sealed and waiting for the next sendmmsg(). */
struct fabric_udp_txq {
	unsigned int nr;
	struct mmsghdr m[FABRIC_UDP_TX_BATCH];
	struct iovec iov[FABRIC_UDP_TX_BATCH][3];
	struct vmmc_wire_hdr h[FABRIC_UDP_TX_BATCH];
	struct fabric_pkt *p[FABRIC_UDP_TX_BATCH];
};

static void set_buf(int fd, int opt, int force)
{
	int v = UDP_BUF_BYTES;

	/* FORCE needs CAP_NET_ADMIN; without it, what rmem_max allows */
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

int fabric_udp_open(struct fabric *f)
{
	struct fabric_cluster *cl = f->cl;
	struct fabric_peer *me = &cl->fab[cl->me];
	struct itimerspec its = {
		.it_value = { 0, 1 },
		.it_interval = { 0, FABRIC_HELLO_MS * 1000000L },
	};
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	cl->boot = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	cl->fd = socket(me->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
			SOCK_CLOEXEC, 0);
	if (cl->fd < 0 ||
	    bind(cl->fd, (struct sockaddr *)&me->addr, me->addr_len)) {
		fab_log(f, LOG_ERR, "cluster: fabric %s: cannot bind its address: %s",
			me->name, strerror(errno));
		return -1;
	}
	/* never fragmented: a datagram larger than the path fails to send */
	if (me->addr.ss_family == AF_INET6) {
		int on = 1;

		setsockopt(cl->fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on,
			   sizeof(on));
	} else {
		int pmtu = IP_PMTUDISC_DO;

		setsockopt(cl->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
			   sizeof(pmtu));
	}
	set_buf(cl->fd, SO_RCVBUF, SO_RCVBUFFORCE);
	set_buf(cl->fd, SO_SNDBUF, SO_SNDBUFFORCE);
	cl->txq = calloc(1, sizeof(*cl->txq));
	cl->rxq = calloc(1, sizeof(*cl->rxq));
	if (!cl->txq || !cl->rxq) {
		fab_log(f, LOG_ERR, "cluster: out of memory");
		return -1;
	}
	cl->hello_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_CLOEXEC | TFD_NONBLOCK);
	if (cl->hello_fd < 0 ||
	    timerfd_settime(cl->hello_fd, 0, &its, NULL)) {
		fab_log(f, LOG_ERR, "cluster: timerfd: %s", strerror(errno));
		return -1;
	}
	fab_log(f, LOG_V, "cluster %s: fabric %s (%u of %u), hash %016llx",
		cl->path, me->name, cl->me, cl->nr_fabrics,
		(unsigned long long)cl->hash);
	return 0;
}

static void log_out(void *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A fabric_out_fn into the log (-v): "fabric: " and the line. */
static void log_out(void *o, const char *fmt, ...)
{
	struct fabric *f = o;
	FILE *out = f->log ? f->log : stderr;
	va_list ap;

	fputs("fabric: ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

/* At exit: the counters into the log (-v), then the sockets closed. */
void fabric_udp_close(struct fabric *f)
{
	struct fabric_cluster *cl = f->cl;
	unsigned int i;

	if (cl->txq)
		fabric_udp_flush(f);
	if (cl->fd >= 0 && f->verbose >= LOG_V)
		fabric_udp_show(f, log_out, f);
	free(cl->txq);
	cl->txq = NULL;
	if (cl->rxq)
		for (i = 0; i < UDP_RX_BATCH; i++)
			if (cl->rxq->p[i])
				fabric_pkt_put(cl->rxq->p[i]);
	free(cl->rxq);
	cl->rxq = NULL;

	if (cl->fd >= 0)
		close(cl->fd);
	if (cl->hello_fd >= 0)
		close(cl->hello_fd);
	cl->fd = cl->hello_fd = -1;
}

static void hdr_fill(struct fabric_cluster *cl, struct vmmc_wire_hdr *h,
		     unsigned int to, enum vmmc_wire_kind kind, __u32 len)
{
	memset(h, 0, sizeof(*h));
	h->magic = VMMC_WIRE_MAGIC;
	h->version = VMMC_WIRE_VERSION;
	h->kind = kind;
	h->sender = (__u8)cl->me;
	h->len = len;
	h->cluster = cl->hash;
	h->boot = cl->boot;
	h->dst_boot = cl->fab[to].boot;
}

static void dgram_send(struct fabric *f, unsigned int to,
		       struct iovec *iov, unsigned int nr)
{
	struct fabric_cluster *cl = f->cl;
	struct vmmc_wire_hdr *h = iov[0].iov_base;
	struct msghdr m = {
		.msg_name = &cl->fab[to].addr,
		.msg_namelen = cl->fab[to].addr_len,
		.msg_iov = iov,
		.msg_iovlen = nr,
	};

	h->crc = vmmc_wire_crc(h, nr > 1 ? iov[1].iov_base : NULL,
			       nr > 1 ? iov[1].iov_len : 0);
	if (sendmsg(cl->fd, &m, 0) < 0) {
		cl->st.tx_errors++;
		fab_log(f, LOG_VV, "cluster: to fabric %s: %s",
			cl->fab[to].name, strerror(errno));
		return;
	}
	cl->st.tx++;
}

/*
 * @p goes to node @dst: the link's, not pkt.dst_node, and pkt.len payload
 * bytes but never more than p->cap: a copy corrupted by fault injection
 * may say anything there, and the receiver's link layer is what catches
 * it. The datagram is sealed now, its CRC over the two headers (the link
 * packet's CRC covers the payload); were the packet changed before the
 * flush (a SEND ending turns its DATA into VOID), the receiver drops the
 * copy for its datagram CRC and the link layer sends it again.
 */
void fabric_udp_send(struct fabric *f, struct fabric_pkt *p, unsigned int dst)
{
	struct fabric_cluster *cl = f->cl;
	struct fabric_udp_txq *q = cl->txq;
	unsigned int to = cl->node_fabric[dst], k;
	/* a corrupted copy's len may say anything: never past the buffer */
	__u32 len = p->pkt.len < p->cap ? p->pkt.len : p->cap;
	struct vmmc_wire_hdr *h;
	struct iovec *iov;

	if (q->nr == FABRIC_UDP_TX_BATCH)
		fabric_udp_flush(f);
	k = q->nr++;
	h = &q->h[k];
	iov = q->iov[k];
	hdr_fill(cl, h, to, VMMC_WIRE_PKT, sizeof(*h) + sizeof(p->pkt) + len);
	iov[0] = (struct iovec){ h, sizeof(*h) };
	iov[1] = (struct iovec){ &p->pkt, sizeof(p->pkt) };
	iov[2] = (struct iovec){ p->payload, len };
	h->crc = vmmc_wire_crc(h, &p->pkt, sizeof(p->pkt));
	memset(&q->m[k], 0, sizeof(q->m[k]));
	q->m[k].msg_hdr.msg_name = &cl->fab[to].addr;
	q->m[k].msg_hdr.msg_namelen = cl->fab[to].addr_len;
	q->m[k].msg_hdr.msg_iov = iov;
	q->m[k].msg_hdr.msg_iovlen = len ? 3 : 2;
	p->refs++;
	q->p[k] = p;
}

/* The queued datagrams to the kernel; each failing one counted, skipped. */
void fabric_udp_flush(struct fabric *f)
{
	struct fabric_cluster *cl = f->cl;
	struct fabric_udp_txq *q = cl->txq;
	unsigned int done = 0, k;

	while (done < q->nr) {
		int r = sendmmsg(cl->fd, q->m + done, q->nr - done, 0);

		if (r > 0) {
			cl->st.tx += (unsigned int)r;
			done += (unsigned int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		cl->st.tx_errors++;
		fab_log(f, LOG_VV, "cluster: sendmmsg: %s",
			r < 0 ? strerror(errno) : "nothing sent");
		done++;
	}
	for (k = 0; k < q->nr; k++)
		fabric_pkt_put(q->p[k]);
	q->nr = 0;
}

/* A fabric went silent or restarted: every link with its nodes. */
static void peer_gone(struct fabric *f, unsigned int fab, bool restarted)
{
	struct fabric_cluster *cl = f->cl;
	unsigned int i;

	for (i = 0; i < f->nr_nodes; i++)
		if (cl->node_fabric[i] == fab)
			fabric_link_peer_gone(f, i, restarted);
}

void fabric_udp_hello(struct fabric *f)
{
	struct fabric_cluster *cl = f->cl;
	__u64 now = fabric_now_ns(), v, gap;
	struct vmmc_wire_hdr h;
	struct iovec iov = { &h, sizeof(h) };
	unsigned int i;

	if (read(cl->hello_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fab_log(f, LOG_ERR, "cluster: timerfd: %s", strerror(errno));
	/*
	 * More than two periods since the last: time this process did not
	 * run, in which no peer could be heard (a loaded host, a stop).
	 */
	gap = cl->hello_ns && now - cl->hello_ns > 2 * FABRIC_HELLO_NS ?
	      now - cl->hello_ns - FABRIC_HELLO_NS : 0;
	cl->hello_ns = now;
	for (i = 0; i < cl->nr_fabrics; i++) {
		struct fabric_peer *p = &cl->fab[i];

		if (i == cl->me)
			continue;
		if (p->heard_ns && gap)
			p->heard_ns = p->heard_ns + gap > now ?
				      now : p->heard_ns + gap;
		hdr_fill(cl, &h, i, VMMC_WIRE_HELLO, sizeof(h));
		dgram_send(f, i, &iov, 1);
		cl->st.hellos_tx++;
		if (!p->heard_ns)
			p->heard_ns = now;	/* the time-out starts now */
		if (!p->silent && now - p->heard_ns >= f->dead_ns) {
			p->silent = true;
			cl->st.silences++;
			fab_log(f, LOG_INFO, "cluster: fabric %s silent for %llu ms: its nodes are unreachable",
				p->name,
				(unsigned long long)(f->dead_ns / 1000000));
			peer_gone(f, i, false);
		}
	}
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct fabric_peer *p)
{
	if (a->ss_family != p->addr.ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)&p->addr;

		return alen >= sizeof(*x) && x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)&p->addr;

		return alen >= sizeof(*x) && x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(x->sin6_addr));
	}
}

/* Header checks 2..6 of WIRE.md; the sender's index, or -1 (counted). */
static int check_hdr(struct fabric *f, struct vmmc_wire_hdr *h,
		     const void *body, size_t len,
		     const struct sockaddr_storage *from, socklen_t flen)
{
	struct fabric_cluster *cl = f->cl;
	struct fabric_peer *p;

	if (h->magic != VMMC_WIRE_MAGIC || h->version != VMMC_WIRE_VERSION ||
	    h->zero || (h->kind != VMMC_WIRE_PKT && h->kind != VMMC_WIRE_HELLO)) {
		cl->st.bad_header++;
		return -1;
	}
	if (h->sender >= cl->nr_fabrics || h->sender == cl->me ||
	    !same_addr(from, flen, &cl->fab[h->sender])) {
		cl->st.unknown_sender++;
		return -1;
	}
	p = &cl->fab[h->sender];
	if (h->cluster != cl->hash) {
		cl->st.bad_cluster++;
		if (!p->warned)
			fab_log(f, LOG_ERR, "cluster: fabric %s has another cluster description (hash %016llx, ours %016llx): refused",
				p->name, (unsigned long long)h->cluster,
				(unsigned long long)cl->hash);
		p->warned = true;
		return -1;
	}
	if (h->len != len ||
	    vmmc_wire_crc(h, body, len - sizeof(*h)) != h->crc) {
		cl->st.bad_crc++;
		return -1;
	}
	if (h->boot < p->boot ||
	    (h->dst_boot && h->dst_boot != cl->boot)) {
		cl->st.stale_boot++;
		return -1;
	}
	if (h->boot > p->boot) {
		if (p->boot) {
			cl->st.restarts++;
			fab_log(f, LOG_INFO, "cluster: fabric %s restarted: its links begin anew",
				p->name);
			peer_gone(f, h->sender, true);
		}
		p->boot = h->boot;
	}
	p->heard_ns = fabric_now_ns();
	if (p->silent) {
		p->silent = false;
		fab_log(f, LOG_INFO, "cluster: fabric %s heard again", p->name);
	}
	return h->sender;
}

/*
 * One datagram of @len bytes: header @h, the rest in @p's link packet
 * and payload. True if the link layer took @p (the caller's reference
 * given up), false if it was dropped (@p free for the next one).
 */
static bool input_one(struct fabric *f, struct vmmc_wire_hdr *h,
		      struct fabric_pkt *p, size_t len,
		      const struct sockaddr_storage *from, socklen_t flen)
{
	struct fabric_cluster *cl = f->cl;
	const struct vmmc_pkt *pkt = &p->pkt;
	size_t plen;
	int s;

	if (len < sizeof(*h)) {
		cl->st.shorts++;
		return false;
	}
	if (len > DGRAM_MAX) {
		cl->st.bad_header++;	/* larger than any packet */
		return false;
	}
	s = check_hdr(f, h, pkt, len, from, flen);
	if (s < 0)
		return false;
	if (h->kind == VMMC_WIRE_HELLO) {
		cl->st.hellos_rx++;
		return false;
	}
	plen = len - sizeof(*h);
	if (plen < sizeof(*pkt) || pkt->src_node >= f->nr_nodes ||
	    cl->node_fabric[pkt->src_node] != (unsigned int)s ||
	    pkt->dst_node >= f->nr_nodes || f->nodes[pkt->dst_node].remote) {
		cl->st.bad_route++;
		return false;
	}
	if (f->nodes[pkt->src_node].dead || f->nodes[pkt->dst_node].dead) {
		cl->st.node_dead++;	/* injected: nodeN:dead=1 */
		return false;
	}
	cl->st.rx++;
	/* pkt.len against what came: the link layer's check, with the CRC */
	p->cap = (__u32)(plen - sizeof(*pkt));
	fabric_link_input(f, p);
	fabric_pkt_put(p);
	return true;
}

void fabric_udp_input(struct fabric *f)
{
	struct fabric_cluster *cl = f->cl;
	struct fabric_udp_rxq *q = cl->rxq;
	unsigned int got = 0, k;

	while (got < UDP_BATCH) {
		int r;

		for (k = 0; k < UDP_RX_BATCH; k++) {
			if (!q->p[k]) {
				q->p[k] = fabric_pkt_alloc(FABRIC_MTU + 1);
				if (!q->p[k])
					return;	/* the senders retransmit */
			}
			q->iov[k][0] = (struct iovec){ &q->h[k], sizeof(q->h[k]) };
			q->iov[k][1] = (struct iovec){
				&q->p[k]->pkt,
				sizeof(q->p[k]->pkt) + FABRIC_MTU + 1 };
			memset(&q->m[k], 0, sizeof(q->m[k]));
			q->m[k].msg_hdr.msg_name = &q->from[k];
			q->m[k].msg_hdr.msg_namelen = sizeof(q->from[k]);
			q->m[k].msg_hdr.msg_iov = q->iov[k];
			q->m[k].msg_hdr.msg_iovlen = 2;
		}
		r = recvmmsg(cl->fd, q->m, UDP_RX_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0) {
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				fab_log(f, LOG_V, "cluster: recvmmsg: %s",
					strerror(errno));
			return;
		}
		for (k = 0; k < (unsigned int)r; k++) {
			struct msghdr *m = &q->m[k].msg_hdr;

			if (m->msg_flags & MSG_TRUNC)
				cl->st.bad_header++;	/* larger than any */
			else if (input_one(f, &q->h[k], q->p[k],
					   q->m[k].msg_len, &q->from[k],
					   m->msg_namelen))
				q->p[k] = NULL;
		}
		got += (unsigned int)r;
		if (r < UDP_RX_BATCH)
			return;		/* the socket is empty */
	}
}

void fabric_udp_show(struct fabric *f, fabric_out_fn out, void *o)
{
	struct fabric_cluster *cl = f->cl;
	struct fabric_udp_stats *s = &cl->st;
	unsigned int i;

	out(o, "cluster %s fabric %s hash %016llx boot %llu\n", cl->path,
	    cl->fab[cl->me].name, (unsigned long long)cl->hash,
	    (unsigned long long)cl->boot);
	for (i = 0; i < cl->nr_fabrics; i++)
		if (i != cl->me)
			out(o, "peer %s boot %llu %s\n", cl->fab[i].name,
			    (unsigned long long)cl->fab[i].boot,
			    cl->fab[i].silent ? "silent" :
			    cl->fab[i].boot ? "heard" : "never-heard");
	out(o, "udp rx %llu tx %llu tx_errors %llu hellos_rx %llu hellos_tx %llu short %llu bad_header %llu unknown_sender %llu bad_cluster %llu bad_crc %llu stale_boot %llu bad_route %llu node_dead %llu restarts %llu silences %llu\n",
	    (unsigned long long)s->rx, (unsigned long long)s->tx,
	    (unsigned long long)s->tx_errors,
	    (unsigned long long)s->hellos_rx,
	    (unsigned long long)s->hellos_tx,
	    (unsigned long long)s->shorts,
	    (unsigned long long)s->bad_header,
	    (unsigned long long)s->unknown_sender,
	    (unsigned long long)s->bad_cluster,
	    (unsigned long long)s->bad_crc,
	    (unsigned long long)s->stale_boot,
	    (unsigned long long)s->bad_route,
	    (unsigned long long)s->node_dead,
	    (unsigned long long)s->restarts,
	    (unsigned long long)s->silences);
}

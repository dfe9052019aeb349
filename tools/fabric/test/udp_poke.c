// SPDX-License-Identifier: GPL-2.0
/*
 * Description: fabric-udp-poke - sends hand-made datagrams to a fabric of a
 * cluster (span.sh checks what the fabric counted; WIRE.md lists the
 * checks):
 *
 *   fabric-udp-poke stranger ADDR PORT HASH   one valid DATA datagram of
 *                          fabric 1 (node1 -> node0), from ADDR and any port
 *   fabric-udp-poke bad ADDR PORT HASH FROM_ADDR FROM_PORT
 *                          from fabric 1's address: a short one, a bad
 *                          magic, a bad version, another cluster hash, a bad
 *                          CRC, a wrong len, a HELLO of boot 1000, one of
 *                          boot 999, one for another receiver boot, a PKT
 *                          from a node not fabric 1's, one to a node not the
 *                          receiver's, and a DATA with a bad packet CRC
 *   fabric-udp-poke forge ADDR PORT HASH FROM_ADDR FROM_PORT BOOT
 *                          the same from a raw socket (root), so that
 *                          FROM_PORT may be that of a running fabric 1 of
 *                          boot epoch BOOT: a valid DATA from port
 *                          FROM_PORT + 1 (unknown_sender), then the bad
 *                          ones less the HELLO of boot 1000 (one of BOOT - 1
 *                          is stale)
 *   fabric-udp-poke probe ADDR PORT   five bytes "probe" from any port
 *
 * Exit 0 if every datagram was sent, 1 if not, 2 for bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fabric_span.h"

struct dgram {
	struct vmmc_wire_hdr h;
	struct vmmc_pkt pkt;
	__u8 payload[16];
};

static int fd = -1, failed;
static struct sockaddr_storage to;
static socklen_t to_len;
static __u16 raw_sport, raw_dport;	/* forge: the UDP header's ports */

static socklen_t addr(struct sockaddr_storage *ss, const char *a,
		      const char *port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((__u16)atoi(port));
		return sizeof(*a4);
	}
	if (inet_pton(AF_INET6, a, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((__u16)atoi(port));
		return sizeof(*a6);
	}
	return 0;
}

/* A valid datagram of fabric 1: HELLO, or DATA node1 -> node0. */
static size_t make(struct dgram *d, __u64 hash, bool hello, __u64 boot)
{
	size_t len = hello ? sizeof(d->h) : sizeof(*d);
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->h.magic = VMMC_WIRE_MAGIC;
	d->h.version = VMMC_WIRE_VERSION;
	d->h.kind = hello ? VMMC_WIRE_HELLO : VMMC_WIRE_PKT;
	d->h.sender = 1;
	d->h.len = len;
	d->h.cluster = hash;
	d->h.boot = boot;
	d->pkt.src_node = 1;
	d->pkt.dst_node = 0;
	d->pkt.type = VMMC_PKT_DATA;
	d->pkt.epoch = 1;
	d->pkt.len = sizeof(d->payload);
	d->pkt.export_id = 1;
	d->pkt.flags = VMMC_PKT_F_FIRST | VMMC_PKT_F_LAST;
	d->pkt.msg_len = sizeof(d->payload);
	for (i = 0; i < sizeof(d->payload); i++)
		d->payload[i] = 0xee;
	d->pkt.crc = fabric_crc32c(0, &d->pkt, sizeof(d->pkt) +
				   sizeof(d->payload));
	return len;
}

static void put(struct dgram *d, size_t len, bool seal)
{
	struct {
		struct udphdr u;
		struct dgram d;
	} r;
	const void *out = d;

	if (seal)
		d->h.crc = vmmc_wire_crc(&d->h, &d->pkt, len - sizeof(d->h));
	if (raw_dport) {	/* forge: the UDP header is ours to write */
		r.u.source = htons(raw_sport);
		r.u.dest = htons(raw_dport);
		r.u.len = htons((__u16)(sizeof(r.u) + len));
		r.u.check = 0;	/* IPv4: none; IPv6: IPV6_CHECKSUM fills it */
		memcpy(&r.d, d, len);
		len += sizeof(r.u);
		out = &r;
	}
	if (sendto(fd, out, len, 0, (struct sockaddr *)&to, to_len) !=
	    (ssize_t)len) {
		perror("fabric-udp-poke: sendto");
		failed = 1;
	}
	usleep(2000);		/* in order, and no receive buffer overrun */
}

/*
 * The malformed ones from fabric 1's address, its boot epoch @boot (the
 * HELLO that makes it known first unless @live: then it is running).
 */
static void bad(__u64 hash, __u64 boot, bool live)
{
	struct dgram d;
	size_t len;

	len = make(&d, hash, true, boot);
	put(&d, 10, false);				/* short */
	d.h.magic ^= 1;
	put(&d, len, true);				/* bad_header */
	len = make(&d, hash, true, boot);
	d.h.version = VMMC_WIRE_VERSION + 1;
	put(&d, len, true);				/* bad_header */
	len = make(&d, hash + 1, true, boot);
	put(&d, len, true);				/* bad_cluster */
	len = make(&d, hash, true, boot);
	d.h.crc = vmmc_wire_crc(&d.h, &d.pkt, len - sizeof(d.h)) ^ 1;
	put(&d, len, false);				/* bad_crc */
	len = make(&d, hash, true, boot);
	d.h.len++;
	put(&d, len, true);				/* bad_crc */
	if (!live) {
		len = make(&d, hash, true, boot);
		put(&d, len, true);			/* hellos_rx */
	}
	len = make(&d, hash, true, boot - 1);
	put(&d, len, true);				/* stale_boot */
	len = make(&d, hash, true, boot);
	d.h.dst_boot = 12345;
	put(&d, len, true);				/* stale_boot */
	len = make(&d, hash, false, boot);
	d.pkt.src_node = 0;
	put(&d, len, true);				/* bad_route */
	len = make(&d, hash, false, boot);
	d.pkt.dst_node = 1;
	put(&d, len, true);				/* bad_route */
	len = make(&d, hash, false, boot);
	d.pkt.crc ^= 1;
	put(&d, len, true);		/* rx; the link layer's rx_bad */
}

/* forge: a raw socket bound to FROM_ADDR that writes its UDP headers. */
static int forge_open(const struct sockaddr_storage *from, socklen_t from_len)
{
	int off = offsetof(struct udphdr, check);

	fd = socket(to.ss_family, SOCK_RAW, IPPROTO_UDP);
	if (fd < 0 || bind(fd, (const struct sockaddr *)from, from_len))
		return -1;
	raw_sport = ntohs(((const struct sockaddr_in *)from)->sin_port);
	raw_dport = ntohs(((struct sockaddr_in *)&to)->sin_port);
	if (to.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&to)->sin6_port = 0;
		return setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off,
				  sizeof(off));
	}
	((struct sockaddr_in *)&to)->sin_port = 0;
	return 0;
}

int main(int argc, char **argv)
{
	static struct fabric f;
	struct sockaddr_storage from;
	socklen_t from_len;
	struct dgram d;
	__u64 hash, boot = 0;
	bool stranger = argc == 5 && !strcmp(argv[1], "stranger");
	bool probe = argc == 4 && !strcmp(argv[1], "probe");
	bool forge = argc == 8 && !strcmp(argv[1], "forge");

	if (!stranger && !probe && !forge &&
	    (argc != 7 || strcmp(argv[1], "bad"))) {
		fprintf(stderr, "usage: fabric-udp-poke stranger|bad|forge|probe ADDR PORT [HASH [FROM_ADDR FROM_PORT [BOOT]]]\n");
		return 2;
	}
	fabric_crc_init(&f);
	to_len = addr(&to, argv[2], argv[3]);
	hash = probe ? 0 : strtoull(argv[4], NULL, 16);
	from_len = addr(&from, argc >= 7 ? argv[5] : argv[2],
			argc >= 7 ? argv[6] : "0");
	if (forge)
		boot = strtoull(argv[7], NULL, 0);
	if (!to_len || !from_len || (forge && boot < 2)) {
		fprintf(stderr, "fabric-udp-poke: bad address or boot epoch\n");
		return 2;
	}
	if (forge) {
		size_t len = make(&d, hash, false, boot);
		struct sockaddr_in *f4 = (struct sockaddr_in *)&from;

		if (forge_open(&from, from_len)) {
			perror("fabric-udp-poke: raw socket");
			return 1;
		}
		raw_sport++;			/* a port no fabric has */
		put(&d, len, true);		/* unknown_sender */
		raw_sport = ntohs(f4->sin_port);
		bad(hash, boot, true);
		close(fd);
		return failed;
	}
	fd = socket(to.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&from, from_len)) {
		perror("fabric-udp-poke: bind");
		return 1;
	}
	if (probe) {
		memcpy(&d, "probe", 5);
		put(&d, 5, false);
	} else if (argc == 7) {
		bad(hash, 1000, false);
	} else {
		size_t len = make(&d, hash, false, 1000);

		put(&d, len, true);
	}
	close(fd);
	return failed;
}

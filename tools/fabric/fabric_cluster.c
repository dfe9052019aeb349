// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_cluster.c - the cluster description (--cluster FILE --fabric NAME)
 *
 * Contract (WIRE.md, "The cluster description"):
 * - fabric_cluster_load() parses FILE, refuses anything malformed with a
 *   message naming the line (-1: the caller exits 2), computes the cluster
 *   hash over the canonical form, sets f->nr_nodes to the cluster's node
 *   count and marks every node that fabric NAME does not serve remote.
 * - fabric_cluster_check(), after the --node options: every local node
 *   has one, no remote node has one.
 * - fabric_link_payload(): the largest DATA payload on a link to @dst:
 *   FABRIC_MTU inside this fabric, else what fits an unfragmented
 *   datagram on the path (the smaller of the two fabrics' mtu).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fabric_span.h"

static int line_err(const char *path, unsigned int line, const char *what,
		    const char *arg)
{
	fprintf(stderr, "vmmc-fabric: %s:%u: %s%s%s\n", path, line, what,
		arg ? ": " : "", arg ? arg : "");
	return -1;
}

static bool good_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= FABRIC_NAME_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_.-") == n;
}

static int find_fabric(const struct fabric_cluster *cl, const char *name)
{
	unsigned int i;

	for (i = 0; i < cl->nr_fabrics; i++)
		if (!strcmp(cl->fab[i].name, name))
			return (int)i;
	return -1;
}

static int parse_addr(struct fabric_peer *p, const char *addr,
		      unsigned long port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&p->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&p->addr;

	memset(&p->addr, 0, sizeof(p->addr));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((__u16)port);
		p->addr_len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((__u16)port);
		p->addr_len = sizeof(*a6);
		return 0;
	}
	return -1;
}

/* "fabric NAME ADDRESS PORT [mtu=BYTES]" */
static int parse_fabric(struct fabric_cluster *cl, char **tok, int nr,
			const char *path, unsigned int line)
{
	struct fabric_peer *p;
	unsigned long port, mtu = FABRIC_DEFAULT_IP_MTU;
	unsigned int i;

	if (nr < 4 || nr > 5)
		return line_err(path, line, "want: fabric NAME ADDRESS PORT [mtu=BYTES]",
				NULL);
	if (cl->nr_fabrics == FABRIC_MAX_FABRICS)
		return line_err(path, line, "more than 16 fabrics", NULL);
	if (!good_name(tok[1]))
		return line_err(path, line, "bad fabric name (1..31 of A-Z a-z 0-9 _ . -)",
				tok[1]);
	if (find_fabric(cl, tok[1]) >= 0)
		return line_err(path, line, "fabric named twice", tok[1]);
	if (fabric_parse_uint(tok[3], 65535, &port) || !port)
		return line_err(path, line, "port must be 1..65535", tok[3]);
	if (nr == 5 && (strncmp(tok[4], "mtu=", 4) ||
			fabric_parse_uint(tok[4] + 4, 65535, &mtu) ||
			mtu < 1280))
		return line_err(path, line, "want mtu=1280..65535", tok[4]);
	p = &cl->fab[cl->nr_fabrics];
	snprintf(p->name, sizeof(p->name), "%s", tok[1]);
	if (parse_addr(p, tok[2], port))
		return line_err(path, line, "not a numeric IPv4 or IPv6 address",
				tok[2]);
	p->mtu = mtu;
	for (i = 0; i < cl->nr_fabrics; i++) {
		if (cl->fab[i].addr.ss_family != p->addr.ss_family)
			return line_err(path, line, "fabrics of both IPv4 and IPv6",
					tok[2]);
		if (cl->fab[i].addr_len == p->addr_len &&
		    !memcmp(&cl->fab[i].addr, &p->addr, p->addr_len))
			return line_err(path, line, "address and port given twice",
					tok[2]);
	}
	cl->nr_fabrics++;
	return 0;
}

static void hash_add(__u64 *h, const char *s)
{
	for (; *s; s++) {
		*h ^= (__u8)*s;
		*h *= 0x100000001b3ull;
	}
}

static void hash_cluster(struct fabric_cluster *cl, unsigned int nr_nodes)
{
	char buf[INET6_ADDRSTRLEN], line[160];
	unsigned int i;
	__u64 h = 0xcbf29ce484222325ull;

	for (i = 0; i < cl->nr_fabrics; i++) {
		const struct fabric_peer *p = &cl->fab[i];
		const struct sockaddr_in *a4 = (const void *)&p->addr;
		const struct sockaddr_in6 *a6 = (const void *)&p->addr;
		bool v4 = p->addr.ss_family == AF_INET;

		inet_ntop(p->addr.ss_family,
			  v4 ? (const void *)&a4->sin_addr :
			       (const void *)&a6->sin6_addr, buf, sizeof(buf));
		snprintf(line, sizeof(line), "fabric %s %s %u %u\n", p->name,
			 buf, ntohs(v4 ? a4->sin_port : a6->sin6_port), p->mtu);
		hash_add(&h, line);
	}
	for (i = 0; i < nr_nodes; i++) {
		snprintf(line, sizeof(line), "node %u %s\n", i,
			 cl->fab[cl->node_fabric[i]].name);
		hash_add(&h, line);
	}
	cl->hash = h;
}

struct node_line {
	unsigned int line;
	char name[FABRIC_NAME_MAX];
};

static int parse_file(struct fabric_cluster *cl, FILE *in, const char *path,
		      struct node_line *nodes, unsigned int *nr_nodes)
{
	char buf[512], *tok[8], *save;
	unsigned int line = 0;
	unsigned long id;
	int nr;

	while (fgets(buf, sizeof(buf), in)) {
		line++;
		if (!strchr(buf, '\n') && !feof(in))
			return line_err(path, line, "line too long", NULL);
		for (nr = 0, save = NULL,
		     tok[0] = strtok_r(buf, " \t\r\n", &save);
		     tok[nr] && nr < 7;
		     tok[++nr] = strtok_r(NULL, " \t\r\n", &save))
			;
		if (!nr || tok[0][0] == '#')
			continue;
		if (!strcmp(tok[0], "fabric")) {
			if (parse_fabric(cl, tok, nr, path, line))
				return -1;
		} else if (!strcmp(tok[0], "node")) {
			if (nr != 3)
				return line_err(path, line, "want: node ID FABRIC-NAME",
						NULL);
			if (fabric_parse_uint(tok[1], FABRIC_MAX_NODES - 1, &id))
				return line_err(path, line, "node id must be 0..15",
						tok[1]);
			if (nodes[id].line)
				return line_err(path, line, "node given twice",
						tok[1]);
			nodes[id].line = line;
			snprintf(nodes[id].name, sizeof(nodes[id].name), "%s",
				 tok[2]);
			if (id + 1 > *nr_nodes)
				*nr_nodes = id + 1;
		} else {
			return line_err(path, line, "want a fabric or node line",
					tok[0]);
		}
	}
	if (ferror(in))
		return line_err(path, line, "read error", strerror(errno));
	return 0;
}

int fabric_cluster_load(struct fabric *f, const char *path, const char *me)
{
	struct node_line nodes[FABRIC_MAX_NODES];
	struct fabric_cluster *cl;
	unsigned int i, nr_nodes = 0;
	FILE *in;
	int r;

	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return line_err(path, 0, "out of memory", NULL);
	cl->fd = cl->hello_fd = -1;
	f->cl = cl;
	cl->path = strdup(path);
	in = fopen(path, "re");
	if (!in)
		return line_err(path, 0, "cannot open", strerror(errno));
	memset(nodes, 0, sizeof(nodes));
	r = parse_file(cl, in, path, nodes, &nr_nodes);
	fclose(in);
	if (r)
		return -1;
	if (!cl->nr_fabrics || !nr_nodes)
		return line_err(path, 0, "no fabric or no node line", NULL);
	for (i = 0; i < nr_nodes; i++) {
		if (!nodes[i].line) {
			fprintf(stderr, "vmmc-fabric: %s: node ids must be 0..N-1 without gaps: node %u missing\n",
				path, i);
			return -1;
		}
		r = find_fabric(cl, nodes[i].name);
		if (r < 0)
			return line_err(path, nodes[i].line, "no such fabric",
					nodes[i].name);
		cl->node_fabric[i] = (unsigned int)r;
	}
	r = me ? find_fabric(cl, me) : -1;
	if (r < 0) {
		fprintf(stderr, "vmmc-fabric: --fabric %s: not a fabric of %s\n",
			me ? me : "(missing)", path);
		return -1;
	}
	cl->me = (unsigned int)r;
	hash_cluster(cl, nr_nodes);
	f->nr_nodes = nr_nodes;
	for (i = 0; i < nr_nodes; i++)
		f->nodes[i].remote = cl->node_fabric[i] != cl->me;
	return 0;
}

int fabric_cluster_check(struct fabric *f)
{
	unsigned int i;

	for (i = 0; i < FABRIC_MAX_NODES; i++) {
		const struct fabric_node *n = &f->nodes[i];
		bool local = i < f->nr_nodes && !n->remote;

		if (local && !n->sock_path) {
			fprintf(stderr, "vmmc-fabric: %s gives node %u to fabric %s: --node %u,... is required\n",
				f->cl->path, i, f->cl->fab[f->cl->me].name, i);
			return -1;
		}
		if (!local && n->sock_path) {
			fprintf(stderr, "vmmc-fabric: --node %u: %s does not give node %u to fabric %s\n",
				i, f->cl->path, i, f->cl->fab[f->cl->me].name);
			return -1;
		}
	}
	return 0;
}

__u32 fabric_link_payload(struct fabric *f, __u32 dst)
{
	const struct fabric_cluster *cl = f->cl;
	__u32 mtu, ip, room;

	if (!cl || !f->nodes[dst].remote)
		return FABRIC_MTU;
	mtu = cl->fab[cl->me].mtu;
	if (cl->fab[cl->node_fabric[dst]].mtu < mtu)
		mtu = cl->fab[cl->node_fabric[dst]].mtu;
	ip = cl->fab[cl->me].addr.ss_family == AF_INET6 ? 40 : 20;
	room = mtu - ip - 8 - sizeof(struct vmmc_wire_hdr) -
	       sizeof(struct vmmc_pkt);
	return room < FABRIC_MTU ? room : FABRIC_MTU;
}

void fabric_cluster_free(struct fabric *f)
{
	if (!f->cl)
		return;
	fabric_udp_close(f);
	free(f->cl->path);
	free(f->cl);
	f->cl = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: deliberate update among every ordered pair of nodes of a
 * cluster (run on every node; make check runs it on four nodes served by
 * two fabrics joined over UDP). Skips on a single node.
 *
 * all_pairs: each node exports one buffer per other node (name
 * MESH_NAME | sender, writable by that sender alone) and imports the one
 * every other node exports for it. Then, in rounds, it sends one message
 * to each other node at once (seeded random size up to SLOT bytes, at a
 * random offset inside slot i of the export, NOTIFY) and waits for the
 * completions (OK, each user_data once), taking the NQEs that arrive
 * meanwhile. On each NQE the receiver regenerates what the sender's
 * stream for that pair says message i is (offset, length, bytes) and
 * checks it byte for byte, in order per sender; at the end nothing
 * outside the messages changed. A kernel TCP connection to node 0 over
 * the virtio-net link carries only the start (the seed) and the end
 * barrier: nobody unexports while another node may still send to it.
 * VMMC_MESH_MSGS messages per ordered pair (default 6).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define MESH_NAME	0x6d657300u	/* "mes" and the sender's node id */
#define MESH_PORT	7796
#define MESH_HOST	"10.77.0.1"	/* node 0 */
#define MAX_NODES	16
#define MAX_MSGS	64
#define SLOT		(256 * 1024 + 64)	/* one message's room */
#define SRC_LEN		(256 * 1024 + 4096)	/* one destination's source */
#define FILL		0x5a
#define WAIT_MS		180000	/* four TCG guests on two cores are slow */

struct pair {
	uint64_t s;		/* the pair's random stream */
	uint64_t pseed;		/* its pattern seed */
};

static void pair_init(struct pair *p, uint64_t seed, uint32_t src,
		      uint32_t dst)
{
	p->s = seed ^ (0x9e3779b97f4a7c15ULL * (src * MAX_NODES + dst + 1));
	if (!p->s)
		p->s = 1;
	p->pseed = vmmc_rand(&p->s);
}

/* Message @i of a pair's stream: its length, export offset, source offset. */
static void plan(struct pair *p, uint32_t i, size_t *len, uint64_t *doff,
		 size_t *soff)
{
	*len = vmmc_rand_size(&p->s, SLOT);
	*doff = (uint64_t)i * SLOT + vmmc_rand_range(&p->s, 0, SLOT - *len);
	*soff = (size_t)vmmc_rand_range(&p->s, 0, SRC_LEN - SLOT);
}

static int full_io(int fd, void *buf, size_t len, int rd)
{
	struct pollfd pfd = { .fd = fd, .events = rd ? POLLIN : POLLOUT };
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (poll(&pfd, 1, WAIT_MS * 2) != 1)
			return -1;
		n = rd ? read(fd, (char *)buf + done, len - done) :
			 write(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/*
 * The side channel: node 0 accepts one connection from each other node
 * (fds[1..n-1]); every other node connects to node 0 (fds[0]).
 */
static int mesh_connect(uint32_t me, uint32_t n, int *fds)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(MESH_PORT) };
	int one = 1, lfd, tries;
	uint32_t k, who;

	if (me) {
		inet_pton(AF_INET, MESH_HOST, &sa.sin_addr);
		for (tries = 0; tries < 1500; tries++) {
			fds[0] = socket(AF_INET, SOCK_STREAM, 0);
			if (!connect(fds[0], (struct sockaddr *)&sa, sizeof(sa)))
				return full_io(fds[0], &me, sizeof(me), 0);
			close(fds[0]);
			usleep(200000);
		}
		return -1;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, MAX_NODES))
		return -1;
	for (k = 1; k < n; k++) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, WAIT_MS * 2) != 1)
			return -1;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 || full_io(fd, &who, sizeof(who), 1) ||
		    who == 0 || who >= n || fds[who] >= 0)
			return -1;
		fds[who] = fd;
	}
	close(lfd);
	return 0;
}

/* Everybody reaches it before anybody leaves; node 0's @val to all. */
static int mesh_barrier(uint32_t me, uint32_t n, int *fds, uint64_t *val)
{
	uint64_t v = *val;
	uint32_t k;

	if (me)
		return full_io(fds[0], &v, sizeof(v), 0) ||
		       full_io(fds[0], val, sizeof(*val), 1) ? -1 : 0;
	for (k = 1; k < n; k++)
		if (full_io(fds[k], &v, sizeof(v), 1))
			return -1;
	for (k = 1; k < n; k++)
		if (full_io(fds[k], val, sizeof(*val), 0))
			return -1;
	return 0;
}

FIXTURE(mesh) {
	struct vmmc_ep ep;
	uint32_t me, n;
	int fds[MAX_NODES];
};

FIXTURE_SETUP(mesh)
{
	uint32_t k;

	for (k = 0; k < MAX_NODES; k++)
		self->fds[k] = -1;
	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	self->me = self->ep.info.node_id;
	self->n = self->ep.info.nr_nodes;
	if (self->n < 2)
		SKIP(return, "single node");
	ASSERT_GE(MAX_NODES, self->n);
}

FIXTURE_TEARDOWN(mesh)
{
	uint32_t k;

	for (k = 0; k < MAX_NODES; k++)
		if (self->fds[k] >= 0)
			close(self->fds[k]);
	vmmc_ep_close(&self->ep);
}

struct rx {
	struct pair p[MAX_NODES];	/* sender k's stream to us */
	uint32_t exp_id[MAX_NODES];
	uint32_t got[MAX_NODES];	/* messages checked from k */
	uint8_t *buf;			/* n exports of count * SLOT */
	uint32_t count, total;
};

/* Check one NQE against its sender's stream: 0, or -1 (logged). */
static int take_nqe(struct __test_metadata *_metadata, struct rx *rx,
		    uint32_t me, uint32_t n, const struct vmmc_nqe *nqe)
{
	uint32_t k = nqe->src_node, i;
	uint64_t doff;
	size_t len, soff;
	uint8_t *exp;
	long bad;

	if (k >= n || k == me || nqe->export_id != rx->exp_id[k] ||
	    rx->got[k] >= rx->count) {
		TH_LOG("unexpected NQE: node %u export %u offset %llu len %u",
		       nqe->src_node, nqe->export_id,
		       (unsigned long long)nqe->offset, nqe->len);
		return -1;
	}
	i = rx->got[k]++;
	rx->total++;
	plan(&rx->p[k], i, &len, &doff, &soff);
	exp = rx->buf + (size_t)k * rx->count * SLOT;
	if (nqe->offset != doff || nqe->len != len) {
		TH_LOG("node %u -> %u message %u: NQE of %u bytes at %llu, expected %zu at %llu",
		       k, me, i, nqe->len, (unsigned long long)nqe->offset,
		       len, (unsigned long long)doff);
		return -1;
	}
	bad = vmmc_check_pattern(exp + doff, len, rx->p[k].pseed, i, doff);
	if (bad >= 0) {
		TH_LOG("node %u -> %u message %u (%zu bytes at %llu): byte %ld wrong",
		       k, me, i, len, (unsigned long long)doff, bad);
		return -1;
	}
	memset(exp + doff, FILL, len);
	return 0;
}

TEST_F_TIMEOUT(mesh, all_pairs, 900)
{
	const char *e = getenv("VMMC_MESH_MSGS");
	uint32_t me = self->me, n = self->n, k, i, imp[MAX_NODES];
	struct pair tx[MAX_NODES];
	size_t exp_len, all_len;
	struct vmmc_nqe nqe;
	struct vmmc_cqe cqe;
	struct rx rx = { 0 };
	uint64_t seed = 0, len64;
	uint8_t *src;

	rx.count = e ? (uint32_t)strtoul(e, NULL, 0) : 6;
	ASSERT_LT(0, rx.count);
	ASSERT_GE(MAX_MSGS, rx.count);
	exp_len = (size_t)rx.count * SLOT;
	all_len = exp_len * n;
	rx.buf = vmmc_page_map(all_len, FILL);
	ASSERT_NE(MAP_FAILED, rx.buf);
	src = vmmc_page_map((size_t)SRC_LEN * n, 0);
	ASSERT_NE(MAP_FAILED, src);
	for (k = 0; k < n; k++)
		if (k != me)
			ASSERT_EQ(0, vmmc_export(&self->ep, rx.buf + k * exp_len,
						 exp_len, MESH_NAME | k,
						 1ULL << k, &rx.exp_id[k]));
	ASSERT_EQ(0, mesh_connect(me, n, self->fds));
	if (!me)
		seed = vmmc_test_seed("mesh all_pairs");
	ASSERT_EQ(0, mesh_barrier(me, n, self->fds, &seed))
		TH_LOG("no start from every node");
	for (k = 0; k < n; k++) {
		if (k == me)
			continue;
		pair_init(&rx.p[k], seed, k, me);
		pair_init(&tx[k], seed, me, k);
		ASSERT_EQ(0, vmmc_import(&self->ep, k, MESH_NAME | me, &imp[k],
					 &len64)) TH_LOG("import from node %u", k);
		ASSERT_EQ(exp_len, len64);
	}
	for (i = 0; i < rx.count; i++) {
		uint64_t want = 0;

		for (k = 0; k < n; k++) {
			uint64_t doff;
			size_t len, soff;
			uint8_t *s = src + (size_t)k * SRC_LEN;

			if (k == me)
				continue;
			plan(&tx[k], i, &len, &doff, &soff);
			vmmc_fill_pattern(s + soff, len, tx[k].pseed, i, doff);
			ASSERT_EQ(0, vmmc_send(&self->ep, s + soff, len, imp[k],
					       doff, VMMC_SQF_NOTIFY,
					       (uint64_t)k << 32 | i));
			want |= 1ULL << k;
		}
		while (want) {
			ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, WAIT_MS))
				TH_LOG("round %u: no completion (%llx left)", i,
				       (unsigned long long)want);
			k = (uint32_t)(cqe.user_data >> 32);
			ASSERT_EQ(VMMC_ST_OK, cqe.status)
				TH_LOG("node %u -> %u message %u: %s", me, k, i,
				       vmmc_status_str(cqe.status));
			ASSERT_EQ(i, (uint32_t)cqe.user_data);
			ASSERT_TRUE(k < n && (want & 1ULL << k));
			want &= ~(1ULL << k);
			while (!vmmc_wait_nqe(&self->ep, &nqe, 0))
				ASSERT_EQ(0, take_nqe(_metadata, &rx, me, n, &nqe));
		}
	}
	while (rx.total < rx.count * (n - 1)) {
		ASSERT_EQ(0, vmmc_wait_nqe(&self->ep, &nqe, WAIT_MS))
			TH_LOG("%u of %u messages came", rx.total,
			       rx.count * (n - 1));
		ASSERT_EQ(0, take_nqe(_metadata, &rx, me, n, &nqe));
	}
	EXPECT_EQ(-1, vmmc_find_not(rx.buf, all_len, FILL));
	printf("# node %u: %u messages sent to and %u checked from each of %u nodes\n",
	       me, rx.count, rx.count, n - 1);
	fflush(stdout);
	ASSERT_EQ(0, mesh_barrier(me, n, self->fds, &seed))
		TH_LOG("no end from every node");
	for (k = 0; k < n; k++) {
		if (k == me)
			continue;
		EXPECT_EQ(0, vmmc_unimport(&self->ep, imp[k]));
		EXPECT_EQ(0, vmmc_unexport(&self->ep, rx.exp_id[k]));
	}
	munmap(src, (size_t)SRC_LEN * n);
	munmap(rx.buf, all_len);
}

TEST_HARNESS_MAIN

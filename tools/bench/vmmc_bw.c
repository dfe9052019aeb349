// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_bw - one-way latency and bandwidth of deliberate update beside
 * kernel TCP, same program, same sizes (4 B .. 1 MiB), one run:
 *
 *   vmmc local    two endpoints of this process through the NIC loopback
 *   vmmc remote   this node <-> node NODE through both NICs
 *   tcp remote    kernel TCP between the same two guests (virtio-net)
 *
 * Latency is half the median round trip: a SEND with NOTIFY into the peer's
 * export, the peer polls its NQ and SENDs the same size back with NOTIFY
 * into ours, we poll ours (TCP: write, the peer reads it all and writes
 * it back, TCP_NODELAY). Bandwidth is a stream of SENDs from one pinned
 * buffer with up to WINDOW outstanding, timed from the first post to the
 * last completion (a completion means the data is in the receiver's
 * memory), median of three runs; TCP streams the same bytes and waits for a one-byte ack.
 * memcpy of 1 MiB blocks is the physical limit of the data path (the
 * fabric copies once per message on the host): cache-hot and cold (spread
 * over 64 MiB, as the fabric's copies between guest RAM files are),
 * measured here in the guest, and on the host by `make bench` (-M).
 *
 *   vmmc_bw client -n NODE -a ADDR [-p PORT] [-M HOT,COLD] [-s SIZE,...]
 *                  [-S SECS]
 *   vmmc_bw server [-p PORT]      (on node NODE)
 *   vmmc_bw memcpy                (print HOT,COLD MB/s of 1 MiB memcpy)
 *
 * -s measures only the sizes listed (bytes, up to 11, each 1 .. 1 MiB;
 * tools/bench/mpi.sh takes 8 B and 1 MiB beside MPI's).
 * -S: after the tables, stream 1 MiB SENDs to node NODE for SECS seconds
 * (nothing else moving: the host measures the fabric's CPU per GB
 * meanwhile, tools/bench/span.sh) and print the rate.
 * Both sides poll: a polling waiter keeps its vCPU busy, a cost these
 * numbers include (docs/architecture.md, "Notification", weighs polling
 * against blocking).
 * Absolute numbers under TCG mean little; compare the ratios of one run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc.h"

#define MAXSZ		(1u << 20)
#define WINDOW		32
#define WARMUP		30		/* untimed round trips first */
#define TRIALS		3		/* bandwidth: the median of these */
#define NAME_SRV	0x62770001	/* the server's export */
#define NAME_CLI	0x62770002	/* the client's (remote pongs) */
#define NAME_LOC	0x62770003	/* local: the second endpoint's */
#define NAME_LOC2	0x62770004	/* local: the first endpoint's */

enum { OP_HELLO = 1, OP_VLAT, OP_TLAT, OP_TBW, OP_BYE };

struct cmd {
	uint32_t op, size, count, node;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "vmmc_bw: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void *map_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", errno);
	memset(p, 0x5a, len);
	return p;
}

static void nodelay(int fd, int on)
{
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}


static int reap(struct vmmc_ep *ep);

/*
 * Spin (no system call) until the NQ has an entry; consume it. With
 * @sender (the local peer whose SEND we wait for), its completions are
 * reaped meanwhile, so that a SEND that failed (the export revoked) ends
 * the program with its status instead of a wait for ever.
 */
static void poll_nqe(struct vmmc_ep *ep, struct vmmc_ep *sender)
{
	while (!vmmc_peek_nqe(ep))
		if (sender)
			reap(sender);
	vmmc_nqe_seen(ep);
}

/* Reap every completion there is; fail on an error status. */
static int reap(struct vmmc_ep *ep)
{
	struct vmmc_cqe *cqe;
	int n = 0;

	while ((cqe = vmmc_peek_cqe(ep))) {
		if (cqe->status != VMMC_ST_OK) {
			fprintf(stderr, "vmmc_bw: SEND: %s\n",
				vmmc_status_str(cqe->status));
			exit(1);
		}
		vmmc_cqe_seen(ep);
		n++;
	}
	return n;
}

static void post(struct vmmc_ep *ep, const void *src, size_t len, uint32_t imp,
		 uint32_t flags)
{
	int err;

	while ((err = vmmc_send(ep, src, len, imp, 0, flags, 0)) == -EAGAIN)
		reap(ep);
	if (err)
		die("vmmc_send", err);
}

static double rtt[1000];	/* one sample per round trip */

/*
 * ping-pong @count times between (a, imp_a) and (b, imp_b): the median
 * round trip over two, in us (medians: the host's two cores are shared
 * by the fabric and two polling guests, and a descheduled thread costs a
 * time slice)
 */
static double vmmc_lat(struct vmmc_ep *a, uint32_t imp_a, struct vmmc_ep *b,
		       uint32_t imp_b, const void *src, size_t size, int count)
{
	double t0 = 0;
	int i;

	for (i = -WARMUP; i < count; i++) {
		t0 = now_us();
		post(a, src, size, imp_a, VMMC_SQF_NOTIFY);
		if (b) {	/* local: we are the peer too */
			poll_nqe(b, a);
			post(b, src, size, imp_b, VMMC_SQF_NOTIFY);
			reap(b);
		}
		poll_nqe(a, b ? b : a);
		reap(a);
		if (i >= 0)
			rtt[i] = now_us() - t0;
	}
	return bench_median(rtt, count) / 2;
}

/* stream @count SENDs with WINDOW outstanding: MB/s */
static double vmmc_bw(struct vmmc_ep *ep, uint32_t imp, const void *src,
		      size_t size, int count)
{
	int posted = 0, done = 0;
	double t0 = now_us();

	while (done < count) {
		while (posted < count && posted - done < WINDOW) {
			int err = vmmc_send(ep, src, size, imp, 0, 0, posted);

			if (err == -EAGAIN)
				break;
			if (err)
				die("vmmc_send", err);
			posted++;
		}
		done += reap(ep);
	}
	return (double)size * count / (now_us() - t0);
}

/*
 * MB/s of memcpy in 1 MiB blocks: cache-hot (two buffers, back and forth)
 * or cold (blocks spread over 2 x 64 MiB, like DMA from guest RAM).
 */
static double memcpy_mbps(int cold)
{
	size_t span = cold ? 64u << 20 : MAXSZ, nblk = span / MAXSZ;
	char *a = map_buf(span), *b = map_buf(span);
	double t0 = now_us(), t;
	size_t n = 0, k;

	do {
		k = cold ? (n * 7919) % nblk : 0;
		memcpy((n & 1 ? a : b) + k * MAXSZ, (n & 1 ? b : a) + k * MAXSZ,
		       MAXSZ);
		n++;
		t = now_us() - t0;
	} while (t < 500000 || n < 8);
	munmap(a, span);
	munmap(b, span);
	return (double)MAXSZ * n / t;
}

static __attribute__((noreturn)) void server(int port)
{
	int lfd, fd, err, i;
	uint32_t id, imp = 0;
	struct vmmc_ep ep;
	struct cmd c;
	char *buf = map_buf(MAXSZ), *rx = map_buf(MAXSZ);

	err = vmmc_ep_open(&ep, NULL);
	if (err)
		die("open", err);
	err = vmmc_export(&ep, rx, MAXSZ, NAME_SRV, ~0ULL, &id);
	if (!err)
		err = vmmc_pin(&ep, buf, MAXSZ);
	if (err)
		die("export", err);
	lfd = bench_listen(port);
	if (lfd < 0)
		die("listen", lfd);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			die("accept", errno);
		nodelay(fd, 1);
		while (!bench_io_all(fd, &c, sizeof(c), 0) && c.op != OP_BYE) {
			switch (c.op) {
			case OP_HELLO:
				err = vmmc_import(&ep, c.node, NAME_CLI, &imp, NULL);
				if (err)
					die("import", err);
				break;
			case OP_VLAT:
				for (i = -WARMUP; i < (int)c.count; i++) {
					poll_nqe(&ep, NULL);
					post(&ep, buf, c.size, imp, VMMC_SQF_NOTIFY);
					reap(&ep);
				}
				break;
			case OP_TLAT:
				nodelay(fd, 1);
				for (i = -WARMUP; i < (int)c.count; i++)
					if (bench_io_all(fd, buf, c.size, 0) ||
					    bench_io_all(fd, buf, c.size, 1))
						die("tcp", EIO);
				break;
			case OP_TBW:
				nodelay(fd, 0);
				for (i = 0; i < (int)c.count; i++)
					if (bench_io_all(fd, buf, c.size, 0))
						die("tcp", EIO);
				nodelay(fd, 1);
				break;
			}
			if (bench_io_all(fd, &c, sizeof(c), 1))	/* done */
				break;
		}
		if (imp)
			vmmc_unimport(&ep, imp);
		imp = 0;
		close(fd);
	}
}

static void rpc(int fd, uint32_t op, uint32_t size, uint32_t count, uint32_t node)
{
	struct cmd c = { op, size, count, node };

	if (bench_io_all(fd, &c, sizeof(c), 1))
		die("control", EIO);
}

static void rpc_done(int fd)
{
	struct cmd c;

	if (bench_io_all(fd, &c, sizeof(c), 0))
		die("control", EIO);
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		die(addr, EINVAL);
	fd = bench_connect((struct sockaddr *)&sa, sizeof(sa), false);
	if (fd < 0)
		die("connect", -fd);
	return fd;
}

static int lat_count(size_t s)
{
	return s <= 4096 ? 300 : s <= 65536 ? 100 : 21;
}

static int bw_count(size_t s)
{
	size_t n = (32u << 20) / s;

	return n < 64 ? 64 : n > 20000 ? 20000 : (int)n;
}

int main(int argc, char **argv)
{
	struct vmmc_ep a, b;
	uint32_t id, imp_ab, imp_ba, imp_r, node = 1;
	double host_mc[2] = { 0, 0 }, guest_mc[2], lat[3][11], bw[3][11];
	double t0 = 0, lim, trial[3][TRIALS], stream_mbps = 0;
	const char *addr = NULL;
	int port = 7799, opt, err, fd, i, k, n, t, nsz = 0, stream_s = 0;
	size_t s, sz[11];
	char *tok;
	char *src, *rxa, *rxb, *cli;

	if (argc >= 2 && !strcmp(argv[1], "memcpy")) {
		printf("%.0f,%.0f\n", memcpy_mbps(0), memcpy_mbps(1));
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: vmmc_bw {client -n NODE -a ADDR [-p PORT] [-M MBPS] [-s SIZE,...] [-S SECS] | server [-p PORT] | memcpy}\n");
		return 2;
	}
	while ((opt = getopt(argc - 1, argv + 1, "n:a:p:M:s:S:")) != -1) {
		switch (opt) {
		case 'n':
			node = (uint32_t)atoi(optarg);
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'S':
			stream_s = atoi(optarg);
			break;
		case 'M':	/* HOT[,COLD] as printed by "vmmc_bw memcpy" */
			if (sscanf(optarg, "%lf,%lf", &host_mc[0], &host_mc[1]) < 1)
				return 2;
			break;
		case 's':
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				s = strtoul(tok, NULL, 0);
				if (nsz == 11 || !s || s > MAXSZ) {
					fprintf(stderr, "vmmc_bw: -s: up to 11 sizes of 1 .. %u bytes\n",
						MAXSZ);
					return 2;
				}
				sz[nsz++] = s;
			}
			break;
		default:
			return 2;
		}
	}
	if (!strcmp(argv[1], "server"))
		server(port);
	if (strcmp(argv[1], "client") || !addr) {
		fprintf(stderr, "vmmc_bw: client needs -n NODE -a ADDR\n");
		return 2;
	}
	if (!nsz)	/* 4 B .. 1 MiB, every 4x */
		for (s = 4; s <= MAXSZ; s *= 4)
			sz[nsz++] = s;
	src = map_buf(MAXSZ);
	rxa = map_buf(MAXSZ);
	rxb = map_buf(MAXSZ);
	cli = map_buf(MAXSZ);
	err = vmmc_ep_open(&a, NULL);
	if (!err)
		err = vmmc_ep_open(&b, NULL);
	if (err)
		die("open", err);
	/* local: a <-> b; remote: a -> server, server -> a (cli) */
	if ((err = vmmc_export(&b, rxb, MAXSZ, NAME_LOC, ~0ULL, &id)) ||
	    (err = vmmc_export(&a, rxa, MAXSZ, NAME_LOC2, ~0ULL, &id)) ||
	    (err = vmmc_export(&a, cli, MAXSZ, NAME_CLI, ~0ULL, &id)) ||
	    (err = vmmc_import(&a, a.info.node_id, NAME_LOC, &imp_ab, NULL)) ||
	    (err = vmmc_import(&b, b.info.node_id, NAME_LOC2, &imp_ba, NULL)) ||
	    (err = vmmc_pin(&a, src, MAXSZ)) || (err = vmmc_pin(&b, src, MAXSZ)))
		die("set-up", err);
	fd = tcp_connect(addr, port);
	nodelay(fd, 1);
	rpc(fd, OP_HELLO, 0, 0, a.info.node_id);
	rpc_done(fd);
	for (i = 0; i < 600; i++) {	/* the server's NIC may come up late */
		err = vmmc_import(&a, node, NAME_SRV, &imp_r, NULL);
		if (err != -ENOENT && err != -EHOSTUNREACH)
			break;
		usleep(100000);
	}
	if (err)
		die("import server", err);
	guest_mc[0] = memcpy_mbps(0);
	guest_mc[1] = memcpy_mbps(1);
	/* settle: both guests and the fabric past their start-up work */
	t0 = now_us();
	while (now_us() - t0 < 2e6)
		vmmc_lat(&a, imp_ab, &b, imp_ba, src, 64, 100);

	for (k = 0; k < nsz && (s = sz[k]); k++) {
		n = lat_count(s);
		lat[0][k] = vmmc_lat(&a, imp_ab, &b, imp_ba, src, s, n);
		rpc(fd, OP_VLAT, (uint32_t)s, (uint32_t)n, 0);
		lat[1][k] = vmmc_lat(&a, imp_r, NULL, 0, src, s, n);
		rpc_done(fd);
		rpc(fd, OP_TLAT, (uint32_t)s, (uint32_t)n, 0);
		for (i = -WARMUP; i < n; i++) {
			t0 = now_us();
			if (bench_io_all(fd, src, s, 1) || bench_io_all(fd, cli, s, 0))
				die("tcp", EIO);
			if (i >= 0)
				rtt[i] = now_us() - t0;
		}
		lat[2][k] = bench_median(rtt, n) / 2;
		rpc_done(fd);

		n = bw_count(s);
		for (t = 0; t < TRIALS; t++) {
			trial[0][t] = vmmc_bw(&a, imp_ab, src, s, n);
			trial[1][t] = vmmc_bw(&a, imp_r, src, s, n);
			rpc(fd, OP_TBW, (uint32_t)s, (uint32_t)n, 0);
			nodelay(fd, 0);
			t0 = now_us();
			for (i = 0; i < n; i++)
				if (bench_io_all(fd, src, s, 1))
					die("tcp", EIO);
			rpc_done(fd);
			trial[2][t] = (double)s * n / (now_us() - t0);
			nodelay(fd, 1);
		}
		for (t = 0; t < 3; t++)
			bw[t][k] = bench_median(trial[t], TRIALS);
	}
	if (stream_s > 0) {	/* the server's export stays while we talk */
		double t1 = now_us(), sends = 0;

		while (now_us() - t1 < stream_s * 1e6) {
			vmmc_bw(&a, imp_r, src, MAXSZ, 64);
			sends += 64;
		}
		stream_mbps = sends * MAXSZ / (now_us() - t1);
	}
	rpc(fd, OP_BYE, 0, 0, 0);
	close(fd);

	printf("vmmc_bw: node %u <-> node %u; vmmc polls its NQ/CQ, tcp is kernel TCP over virtio-net\n",
	       a.info.node_id, node);
	printf("\none-way latency (median round trip / 2), microseconds\n");
	printf("%8s %12s %12s %12s %14s\n", "size", "vmmc local", "vmmc remote",
	       "tcp remote", "tcp/vmmc rem");
	for (k = 0; k < nsz && (s = sz[k]); k++)
		printf("%8zu %12.1f %12.1f %12.1f %13.1fx\n", s, lat[0][k],
		       lat[1][k], lat[2][k], lat[2][k] / lat[1][k]);
	printf("\nbandwidth, MB/s, median of %d runs (vmmc: window of %d SENDs)\n",
	       TRIALS, WINDOW);
	printf("%8s %12s %12s %12s %14s\n", "size", "vmmc local", "vmmc remote",
	       "tcp remote", "vmmc rem/tcp");
	for (k = 0; k < nsz && (s = sz[k]); k++)
		printf("%8zu %12.1f %12.1f %12.1f %13.1fx\n", s, bw[0][k],
		       bw[1][k], bw[2][k], bw[1][k] / bw[2][k]);
	k = nsz - 1;
	printf("\nmemcpy of 1 MiB blocks, MB/s: %.0f cache-hot, %.0f cold in this guest (TCG)",
	       guest_mc[0], guest_mc[1]);
	if (host_mc[0] > 0)
		printf("; %.0f hot, %.0f cold on the host (measured by make bench)",
		       host_mc[0], host_mc[1]);
	lim = host_mc[1] > 0 ? host_mc[1] : host_mc[0] > 0 ? host_mc[0] : guest_mc[1];
	printf("\n%zu B SENDs reach %.0f%% (local) and %.0f%% (remote) of %s cold memcpy\n",
	       sz[k], 100 * bw[0][k] / lim, 100 * bw[1][k] / lim,
	       host_mc[0] > 0 ? "the host's" : "this guest's");
	if (stream_s > 0)
		printf("stream of 1 MiB SENDs to node %u for %d s: %.1f MB/s\n",
		       node, stream_s, stream_mbps);
	vmmc_ep_close(&b);
	vmmc_ep_close(&a);
	return 0;
}

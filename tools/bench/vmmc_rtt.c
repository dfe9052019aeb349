// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_rtt - round trips, side by side in one run:
 *   nop    the local NIC: post a NOP, poll its completion
 *   ping   NIC to NIC: a PING through node D's NIC and back (no host
 *          software on D is involved: its NIC answers)
 *   tcp    kernel TCP, 1 byte each way, between the same two guests over
 *          their virtio-net link (the baseline)
 *
 *   vmmc_rtt client -n NODE -a ADDR [-c COUNT] [-p PORT] [-w]
 *   vmmc_rtt server [-p PORT]          (the TCP echo side, on node NODE)
 *
 * -w blocks in the kernel (VMMC_IOC_WAIT: arm the interrupt, re-check,
 * sleep) on every round trip instead of polling the mapped CQ.
 * Prints min/median/p99/mean per path in microseconds and how many times
 * faster than the TCP mean each path is. Absolute numbers under TCG mean little; compare
 * only the ratios of one run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "vmmc.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

struct stats {
	double min, med, p99, mean;
};

static struct stats summarize(double *v, int n)
{
	struct stats s = { 0 };
	double sum = 0;
	int i;

	qsort(v, n, sizeof(*v), bench_cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	s.min = v[0];
	s.med = v[n / 2];
	s.p99 = v[(n * 99) / 100];
	s.mean = sum / n;
	return s;
}

static int nic_rtt(struct vmmc_ep *ep, int op, uint32_t node, int count,
		   int block, double *out)
{
	int i, err;

	for (i = 0; i < count; i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(ep);
		struct vmmc_cqe cqe;
		double t0;

		if (!sqe)
			return -EBUSY;
		if (op == VMMC_OP_PING)
			vmmc_prep_ping(sqe, node, (uint64_t)i * 7919, i);
		else
			vmmc_prep_nop(sqe, i, 0);
		t0 = now_us();
		vmmc_submit(ep);
		if (block) {
			/* pure blocking: no competitive spin first */
			vmmc_set_wait_policy(ep, VMMC_WAIT_BLOCK, 0);
			err = vmmc_ep_wait(ep, 5000);
			if (err)
				return err;
		}
		vmmc_set_wait_policy(ep, VMMC_WAIT_POLL, 0);
		do {
			err = vmmc_wait_cqe(ep, &cqe, 0);
		} while (err == -ETIMEDOUT);
		if (err)
			return err;
		out[i] = now_us() - t0;
		if (cqe.status != VMMC_ST_OK || cqe.user_data != (uint64_t)i ||
		    (op == VMMC_OP_PING && cqe.imm != (uint64_t)i * 7919)) {
			fprintf(stderr, "vmmc_rtt: round trip %d: %s\n", i,
				vmmc_status_str(cqe.status));
			return -EIO;
		}
	}
	return 0;
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = bench_connect((struct sockaddr *)&sa, sizeof(sa), false);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int tcp_rtt(int fd, int count, double *out)
{
	char c = 'x';
	int i;

	for (i = 0; i < count; i++) {
		double t0 = now_us();

		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			return -EIO;
		out[i] = now_us() - t0;
	}
	return 0;
}

static int server(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int lfd, fd, one = 1;
	char c;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		perror("vmmc_rtt: server");
		return 1;
	}
	/* one client at a time, until killed */
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(fd, &c, 1) == 1)
			if (write(fd, &c, 1) != 1)
				break;
		close(fd);
	}
}

static void row(const char *name, struct stats s, double base)
{
	printf("%-28s %9.1f %9.1f %9.1f %9.1f %9.1fx\n", name, s.min, s.med,
	       s.p99, s.mean, s.mean > 0 ? base / s.mean : 0);
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *dev = "/dev/vmmc0";
	int count = 2000, port = 7788, block = 0, node = -1, opt, err, fd;
	struct stats nop, ping, tcp;
	struct vmmc_ep ep;
	double *v;

	if (argc < 2) {
		fprintf(stderr, "usage: vmmc_rtt {client -n NODE -a ADDR [-c N] [-p PORT] [-w] | server [-p PORT]}\n");
		return 2;
	}
	while ((opt = getopt(argc - 1, argv + 1, "n:a:c:p:wd:")) != -1) {
		switch (opt) {
		case 'n': node = atoi(optarg); break;
		case 'a': addr = optarg; break;
		case 'c': count = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'w': block = 1; break;
		case 'd': dev = optarg; break;
		default: return 2;
		}
	}
	if (!strcmp(argv[1], "server"))
		return server(port);
	if (strcmp(argv[1], "client") || node < 0 || !addr || count < 10 ||
	    count > 1000000) {
		fprintf(stderr, "vmmc_rtt: client needs -n NODE -a ADDR, 10 <= count <= 1000000\n");
		return 2;
	}
	v = calloc(count, sizeof(*v));
	err = vmmc_ep_open(&ep, dev);
	if (!v || err) {
		fprintf(stderr, "vmmc_rtt: open %s: %s\n", dev, strerror(-err));
		return 1;
	}
	fd = tcp_connect(addr, port);
	if (fd < 0) {
		fprintf(stderr, "vmmc_rtt: tcp connect %s:%d: %s\n", addr, port,
			strerror(-fd));
		return 1;
	}
	/* warm up every path, then measure */
	if (nic_rtt(&ep, VMMC_OP_PING, node, 50, block, v) ||
	    tcp_rtt(fd, 50, v))
		return 1;
	if (nic_rtt(&ep, VMMC_OP_NOP, 0, count, block, v))
		return 1;
	nop = summarize(v, count);
	if (nic_rtt(&ep, VMMC_OP_PING, node, count, block, v))
		return 1;
	ping = summarize(v, count);
	if (tcp_rtt(fd, count, v))
		return 1;
	tcp = summarize(v, count);
	close(fd);

	printf("round trips, %d each, node %u -> node %d, %s, microseconds\n",
	       count, ep.info.node_id, node,
	       block ? "blocking wait in the kernel" : "polling the mapped CQ");
	printf("%-28s %9s %9s %9s %9s %10s\n", "path", "min", "median", "p99",
	       "mean", "tcp/mean");
	row("nop (local NIC)", nop, tcp.mean);
	row("ping (NIC to NIC)", ping, tcp.mean);
	row("tcp 1 byte (kernel, virtio)", tcp, tcp.mean);
	vmmc_ep_close(&ep);
	free(v);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mpi_bench - three MPI measurements between two ranks, whatever transport
 * Open MPI was told to use (tools/bench/mpi.sh runs it over vmmc;ofi_rxm,
 * btl tcp and libfabric's tcp provider, on the same two guests):
 *
 *   latency     8 B ping-pong (MPI_Send/MPI_Recv): half the median round
 *               trip, microseconds
 *   bandwidth   1 MiB messages (-s: another size), a window of 16 MPI_Isend/MPI_Irecv, then a
 *               1-byte ack: MB/s, the median of 3 trials
 *   allreduce   MPI_Allreduce of 1 MiB of doubles (MPI_SUM): the median
 *               time of one, milliseconds; every element of the result
 *               checked
 *
 *   mpirun -np 2 ... mpi_bench [-n ROUND_TRIPS] [-b WINDOWS] [-r ALLREDUCES]
 *                              [-s BANDWIDTH_MESSAGE_BYTES]
 *
 * Rank 0 prints one line of key=value pairs (the bench table's input).
 * Medians, not means: the host's cores are shared with the fabric.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define LAT_SIZE	8
#define BW_MAX		(4u << 20)
#define WINDOW		16
#define TRIALS		3
#define RED_COUNT	((1u << 20) / sizeof(double))
#define WARMUP		20

static int rank, peer, bw_size = 1 << 20;

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "mpi_bench: out of memory\n");
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	return p;
}

/* half the median 8 B round trip over @n, microseconds */
static double latency(int n)
{
	double *rtt = xmalloc(sizeof(*rtt) * (size_t)n), t0, r;
	char buf[LAT_SIZE];
	int i;

	memset(buf, rank, sizeof(buf));
	MPI_Barrier(MPI_COMM_WORLD);
	for (i = -WARMUP; i < n; i++) {
		t0 = bench_ns(CLOCK_MONOTONIC);
		if (!rank) {
			MPI_Send(buf, LAT_SIZE, MPI_CHAR, peer, 1, MPI_COMM_WORLD);
			MPI_Recv(buf, LAT_SIZE, MPI_CHAR, peer, 1, MPI_COMM_WORLD,
				 MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(buf, LAT_SIZE, MPI_CHAR, peer, 1, MPI_COMM_WORLD,
				 MPI_STATUS_IGNORE);
			MPI_Send(buf, LAT_SIZE, MPI_CHAR, peer, 1, MPI_COMM_WORLD);
		}
		if (i >= 0)
			rtt[i] = (bench_ns(CLOCK_MONOTONIC) - t0) / 1e3;
	}
	r = bench_median(rtt, n) / 2;
	free(rtt);
	return r;
}

/* rank 0 streams @windows windows of WINDOW bw_size messages to rank 1: MB/s */
static double bandwidth(int windows)
{
	MPI_Request rq[WINDOW];
	double trial[TRIALS], t0;
	char *buf = xmalloc((size_t)bw_size * WINDOW), ack = 0;
	int t, w, k;

	memset(buf, 0x5a, (size_t)bw_size * WINDOW);
	for (t = 0; t < TRIALS; t++) {
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = bench_ns(CLOCK_MONOTONIC);
		for (w = 0; w < windows; w++) {
			for (k = 0; k < WINDOW; k++) {
				char *p = buf + (size_t)k * (size_t)bw_size;

				if (!rank)
					MPI_Isend(p, bw_size, MPI_CHAR, peer, 2,
						  MPI_COMM_WORLD, &rq[k]);
				else
					MPI_Irecv(p, bw_size, MPI_CHAR, peer, 2,
						  MPI_COMM_WORLD, &rq[k]);
			}
			MPI_Waitall(WINDOW, rq, MPI_STATUSES_IGNORE);
		}
		if (!rank)
			MPI_Recv(&ack, 1, MPI_CHAR, peer, 3, MPI_COMM_WORLD,
				 MPI_STATUS_IGNORE);
		else
			MPI_Send(&ack, 1, MPI_CHAR, peer, 3, MPI_COMM_WORLD);
		trial[t] = (double)bw_size * WINDOW * windows /
			   ((bench_ns(CLOCK_MONOTONIC) - t0) / 1e3);
	}
	free(buf);
	return bench_median(trial, TRIALS);
}

/* the median time of one 1 MiB allreduce over @n, ms; *bad: wrong sums */
static double allreduce(int n, int *bad)
{
	double *in = xmalloc(RED_COUNT * sizeof(double));
	double *out = xmalloc(RED_COUNT * sizeof(double));
	double *ms = xmalloc(sizeof(*ms) * (size_t)n), t0, r;
	size_t j;
	int i;

	for (j = 0; j < RED_COUNT; j++)
		in[j] = (double)j + rank * 0.5;
	*bad = 0;
	for (i = -2; i < n; i++) {
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = bench_ns(CLOCK_MONOTONIC);
		MPI_Allreduce(in, out, (int)RED_COUNT, MPI_DOUBLE, MPI_SUM,
			      MPI_COMM_WORLD);
		if (i >= 0)
			ms[i] = (bench_ns(CLOCK_MONOTONIC) - t0) / 1e6;
		/* ranks 0 and 1: j + j + 0.5, exact in a double */
		for (j = 0; j < RED_COUNT; j++)
			if (out[j] != 2.0 * (double)j + 0.5)
				(*bad)++;
		memset(out, 0, RED_COUNT * sizeof(double));
	}
	r = bench_median(ms, n);
	free(in);
	free(out);
	free(ms);
	return r;
}

int main(int argc, char **argv)
{
	int n = 1000, windows = 8, reds = 20, size, c, bad, allbad = 0;
	double lat, bw, red;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	while ((c = getopt(argc, argv, "n:b:r:s:")) != -1) {
		switch (c) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'b':
			windows = atoi(optarg);
			break;
		case 'r':
			reds = atoi(optarg);
			break;
		case 's':
			bw_size = atoi(optarg);
			break;
		default:
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
	}
	if (size != 2 || n < 1 || windows < 1 || reds < 1 || bw_size < 1 ||
	    bw_size > (int)BW_MAX) {
		if (!rank)
			fprintf(stderr, "mpi_bench: two ranks; -n, -b, -r >= 1; -s 1 .. %u\n",
				BW_MAX);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	peer = !rank;
	lat = latency(n);
	bw = bandwidth(windows);
	red = allreduce(reds, &bad);
	MPI_Reduce(&bad, &allbad, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
	if (!rank) {
		printf("lat8_us=%.1f bw_MBps=%.1f bw_bytes=%d allreduce1m_ms=%.2f allreduce_bad=%d\n",
		       lat, bw, bw_size, red, allbad);
		fflush(stdout);
	}
	MPI_Finalize();
	return allbad ? 1 : 0;
}

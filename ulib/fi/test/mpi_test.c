// SPDX-License-Identifier: MIT
/*
 * mpi_test - MPI over the vmmc provider, two ranks (TAP, from rank 0).
 * Each check's failures are summed over both ranks before rank 0 reports:
 * blocking ping-pong 1 B..1 MiB byte for byte, non-blocking exchange both
 * ways at once, tags matched out of order, MPI_ANY_SOURCE/MPI_ANY_TAG with
 * the status checked, an allreduce of 1 MiB of doubles, 16 messages of
 * 1 MiB each way at once, and a 64 MiB transfer there and back byte for
 * byte.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG	(64u << 20)

static int rank, n_ok, n_fail;

static void report(int bad, const char *name)
{
	int sum = 0;

	MPI_Allreduce(&bad, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank)
		return;
	if (sum)
		n_fail++;
	else
		n_ok++;
	printf("%s %d %s%s\n", sum ? "not ok" : "ok", n_ok + n_fail, name,
	       sum ? " (mismatches)" : "");
	fflush(stdout);
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 13 + (i >> 10));
}

static int differs(const unsigned char *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed + i * 13 + (i >> 10)))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *a, *b;
	int size, peer, bad;
	MPI_Request rq[2];
	MPI_Status st;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		if (!rank)
			printf("1..0 # SKIP needs 2 ranks\n");
		MPI_Finalize();
		return 0;
	}
	peer = !rank;
	a = malloc(BIG);
	b = malloc(BIG);
	if (!rank)
		printf("1..7\n");

	/* blocking ping-pong, rank 1 echoes each message + 1 */
	bad = 0;
	for (size_t len = 1; len <= (1u << 20); len *= 4) {
		if (!rank) {
			fill(a, len, (unsigned int)len);
			MPI_Send(a, (int)len, MPI_BYTE, 1, 7, MPI_COMM_WORLD);
			MPI_Recv(b, (int)len, MPI_BYTE, 1, 7, MPI_COMM_WORLD, &st);
			bad += differs(b, len, (unsigned int)len + 1);
		} else {
			MPI_Recv(b, (int)len, MPI_BYTE, 0, 7, MPI_COMM_WORLD, &st);
			bad += differs(b, len, (unsigned int)len);
			fill(a, len, (unsigned int)len + 1);
			MPI_Send(a, (int)len, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
		}
	}
	report(bad, "blocking ping-pong 1 B..1 MiB byte for byte");

	/* non-blocking, both ways at once */
	fill(a, 300000, 40 + rank);
	MPI_Irecv(b, 300000, MPI_BYTE, peer, 9, MPI_COMM_WORLD, &rq[0]);
	MPI_Isend(a, 300000, MPI_BYTE, peer, 9, MPI_COMM_WORLD, &rq[1]);
	MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
	report(differs(b, 300000, 40 + peer), "non-blocking exchange both ways");

	/* tags matched out of order: sent 3, 2, 1; received 1, 2, 3 */
	bad = 0;
	if (!rank) {
		for (int t = 3; t >= 1; t--) {
			fill(a + t * 1000, 1000, 100 + t);
			MPI_Send(a + t * 1000, 1000, MPI_BYTE, 1, t, MPI_COMM_WORLD);
		}
	} else {
		for (int t = 1; t <= 3; t++) {
			MPI_Recv(b, 1000, MPI_BYTE, 0, t, MPI_COMM_WORLD, &st);
			bad += differs(b, 1000, 100 + t) || st.MPI_TAG != t;
		}
	}
	report(bad, "tagged receives matched out of order");

	/* any source, any tag: the status says who and which */
	bad = 0;
	if (rank) {
		fill(a, 4096, 77);
		MPI_Send(a, 4096, MPI_BYTE, 0, 42, MPI_COMM_WORLD);
	} else {
		int cnt = 0;

		MPI_Recv(b, 8192, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG,
			 MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &cnt);
		bad = st.MPI_SOURCE != 1 || st.MPI_TAG != 42 || cnt != 4096 ||
		      differs(b, 4096, 77);
	}
	report(bad, "MPI_ANY_SOURCE/MPI_ANY_TAG: source, tag, count and bytes");

	/* allreduce of 1 MiB of doubles */
	{
		size_t nd = (1u << 20) / sizeof(double);
		double *x = (double *)a, *y = (double *)b;

		for (size_t i = 0; i < nd; i++)
			x[i] = (double)(i % 1000) * (rank + 1);
		MPI_Allreduce(x, y, (int)nd, MPI_DOUBLE, MPI_SUM,
			      MPI_COMM_WORLD);
		bad = 0;
		for (size_t i = 0; i < nd; i++)
			if (y[i] != (double)(i % 1000) * 3)
				bad = 1;
		report(bad, "allreduce of 1 MiB of doubles");
	}

	/* windows of long messages both ways at once: each rank's reads
	 * wait for landing room while it must still answer the other's
	 */
	{
		MPI_Request w[32];
		size_t m = 1u << 20;
		int k;

		for (k = 0; k < 16; k++)
			fill(a + k * m, m, 40u + (unsigned int)(rank * 16 + k));
		memset(b, 0, 16 * m);
		for (k = 0; k < 16; k++) {
			MPI_Irecv(b + k * m, (int)m, MPI_BYTE, !rank, 20 + k,
				  MPI_COMM_WORLD, &w[k]);
			MPI_Isend(a + k * m, (int)m, MPI_BYTE, !rank, 20 + k,
				  MPI_COMM_WORLD, &w[16 + k]);
		}
		MPI_Waitall(32, w, MPI_STATUSES_IGNORE);
		bad = 0;
		for (k = 0; k < 16; k++)
			bad |= differs(b + k * m, m,
				       40u + (unsigned int)(!rank * 16 + k));
		report(bad, "16 x 1 MiB each way at once byte for byte");
	}

	/* 64 MiB there and back */
	bad = 0;
	if (!rank) {
		fill(a, BIG, 5);
		MPI_Send(a, BIG, MPI_BYTE, 1, 11, MPI_COMM_WORLD);
		memset(b, 0, BIG);
		MPI_Recv(b, BIG, MPI_BYTE, 1, 12, MPI_COMM_WORLD, &st);
		bad = differs(b, BIG, 5);
	} else {
		MPI_Recv(b, BIG, MPI_BYTE, 0, 11, MPI_COMM_WORLD, &st);
		bad = differs(b, BIG, 5);
		MPI_Send(b, BIG, MPI_BYTE, 0, 12, MPI_COMM_WORLD);
	}
	report(bad, "64 MiB there and back byte for byte");

	if (!rank)
		printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
		       n_ok, n_fail);
	free(a);
	free(b);
	MPI_Finalize();
	return n_fail ? 1 : 0;
}

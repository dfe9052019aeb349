/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the benchmarks share: clocks and medians (medians, not
 * means: the host's two cores are shared with the simulated NICs).
 */
#ifndef VMMC_BENCH_H
#define VMMC_BENCH_H

#include <stdlib.h>
#include <time.h>

/* @clk now, in ns */
static inline double bench_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CLOCK_MONOTONIC now, in s */
static inline double bench_s(void)
{
	return bench_ns(CLOCK_MONOTONIC) / 1e9;
}

static inline int bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* the median of @n samples (sorts them) */
static inline double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* VMMC_BENCH_H */

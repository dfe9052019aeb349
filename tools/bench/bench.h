/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the benchmarks share: clocks and medians (medians, not
 * means: the host's two cores are shared with the simulated NICs), and
 * the client's connect while the server starts.
 */
#ifndef VMMC_BENCH_H
#define VMMC_BENCH_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmmc_sock.h"

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

/* All of @len bytes read from (@wr 0) or written to @fd: 0 or -EIO. */
static inline int bench_io_all(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;

	while (len) {
		ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A kernel TCP socket listening on @port of every IPv4 address, or -errno. */
static inline int bench_listen(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * A stream socket connected to @sa, through libvmmc's sockets (@vmmc) or
 * the kernel's; tried every 100 ms for 60 s while the server starts. The
 * fd, or the last try's -errno.
 */
static inline int bench_connect(const struct sockaddr *sa, socklen_t len,
				bool vmmc)
{
	int fd, err = -ETIMEDOUT, tries;

	for (tries = 0; tries < 600; tries++, usleep(100000)) {
		if (vmmc) {
			fd = vmmc_socket(sa->sa_family, SOCK_STREAM, 0);
			if (fd < 0)
				return fd;
			err = vmmc_sock_connect(fd, sa, len);
			if (!err)
				return fd;
			vmmc_sock_close(fd);
		} else {
			fd = socket(sa->sa_family, SOCK_STREAM, 0);
			if (fd < 0)
				return -errno;
			if (!connect(fd, sa, len))
				return fd;
			err = -errno;
			close(fd);
		}
	}
	return err;
}

#endif /* VMMC_BENCH_H */

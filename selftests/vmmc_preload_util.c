// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_util.c - the helpers of vmmc_preload_test: addresses, a
 * listener and a connected pair, patterned data written and checked, a
 * socket filled up, a temporary file.
 */
#include "vmmc_preload_test.h"

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * AF_VMMC when the shim made @fd a VMMC socket (it alone answers a
 * SOL_VMMC option: SO_DOMAIN says the family the program created, as the
 * kernel's would), else the kernel's SO_DOMAIN; -errno when neither.
 */
int domain_of(int fd)
{
	int d = -1;
	socklen_t l = sizeof(d);

	if (!getsockopt(fd, SOL_VMMC, VMMC_SO_BUSY_POLL, &d, &l))
		return AF_VMMC;
	l = sizeof(d);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &l))
		return -errno;
	return d;
}

struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

int listen_on(int port)
{
	struct sockaddr_in a = addr_of(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 16))
		return -1;
	return fd;
}

int connect_to(int port)
{
	struct sockaddr_in a = addr_of(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	return fd;
}

/* a connected pair through listener @l: *c the client, *s the server */
int pair(int l, int *c, int *s)
{
	*c = connect_to(PORT);
	*s = *c >= 0 ? accept(l, NULL, NULL) : -1;
	return *c >= 0 && *s >= 0 ? 0 : -1;
}

void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

int write_all(int fd, const void *b, size_t n)
{
	size_t d = 0;
	ssize_t r;

	while (d < n) {
		r = write(fd, (const char *)b + d, n - d);
		if (r <= 0)
			return -1;
		d += (size_t)r;
	}
	return 0;
}

int read_all(int fd, void *b, size_t n)
{
	size_t d = 0;
	ssize_t r;

	while (d < n) {
		r = read(fd, (char *)b + d, n - d);
		if (r <= 0)
			return -1;
		d += (size_t)r;
	}
	return 0;
}

/* @n pattern bytes from @w arrive byte for byte at @r */
bool carries(int w, int r, size_t n, unsigned int seed)
{
	uint8_t *a = malloc(n), *b = malloc(n);
	bool good;

	fill(a, n, seed);
	memset(b, 0, n);
	good = a && b && !write_all(w, a, n) && !read_all(r, b, n) &&
	       !memcmp(a, b, n);
	free(a);
	free(b);
	return good;
}

int cloexec_of(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f < 0 ? -errno : !!(f & FD_CLOEXEC);
}

/* accept, but give up after 20 s (a child that failed never connects) */
int accept_within(int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, 20000) != 1)
		return -1;
	return accept(l, NULL, NULL);
}

/* non-blocking @c accepts no more (twice: the NIC may still be moving) */
int fill_up(int c)
{
	static uint8_t big[65536];
	long t0 = now_ms();
	int round, e = 0;

	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	memset(big, 1, sizeof(big));
	for (round = 0; round < 2; round++) {
		while (send(c, big, sizeof(big), 0) > 0 &&
		       now_ms() - t0 < 10000)
			;
		e = errno;
		usleep(200000);
	}
	return e;
}

/* an unlinked temporary file holding @n pattern bytes of @seed (in @a) */
int temp_file(uint8_t *a, size_t n, unsigned int seed)
{
	char tmpl[] = "/tmp/vmmc_preload_XXXXXX";
	int f = mkstemp(tmpl);

	fill(a, n, seed);
	if (f < 0)
		return -1;
	unlink(tmpl);
	if (write(f, a, n) != (ssize_t)n) {
		close(f);
		return -1;
	}
	return f;
}

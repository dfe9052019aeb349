// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_splice.c - vmmc_preload_test on splice(2) with a VMMC
 * socket at either end.
 */
#include "vmmc_preload_test.h"

/* ---- splice ---- */

/* splice from a VMMC socket until @n bytes went, or an error/EOF */
static ssize_t splice_all(int in, int out, loff_t *off, size_t n)
{
	size_t d = 0;
	ssize_t r;

	while (d < n) {
		r = splice(in, NULL, out, off, n - d, 0);
		if (r <= 0)
			return d ? (ssize_t)d : r;
		d += (size_t)r;
	}
	return (ssize_t)d;
}

void test_splice(int l)
{
	uint8_t a[8000], b[8000];
	int c, s, f, pf[2], e, tries, q;
	loff_t off;
	ssize_t r;

	if (pair(l, &c, &s) || pipe(pf)) {
		ok(false, "splice: pair and pipe");
		return;
	}
	f = temp_file(a, sizeof(a), 21);
	if (f < 0) {
		ok(false, "splice: temporary file");
		return;
	}

	/* file -> socket, at an offset; the file offset stays */
	off = 300;
	r = splice(f, &off, c, NULL, 2000, 0);
	ok(r == 2000 && off == 2300 && lseek(f, 0, SEEK_CUR) == 8000 &&
	   !read_all(s, b, 2000) && !memcmp(b, a + 300, 2000),
	   "splice file (offset 300) -> VMMC socket: 2000 bytes, byte for byte, offset 2300 (%zd, %ld)",
	   r, (long)off);
	/* file -> socket at the file offset */
	lseek(f, 5000, SEEK_SET);
	r = splice(f, NULL, c, NULL, 5000, 0);
	ok(r == 3000 && lseek(f, 0, SEEK_CUR) == 8000 &&
	   !read_all(s, b, 3000) && !memcmp(b, a + 5000, 3000),
	   "splice file (its offset 5000) -> VMMC socket: the 3000 bytes to EOF, offset 8000 (%zd)",
	   r);
	r = splice(f, NULL, c, NULL, 100, 0);
	ok(r == 0, "splice file at EOF -> VMMC socket: 0 (%zd)", r);

	/* pipe -> socket */
	fill(a, 6000, 22);
	r = write(pf[1], a, 6000);
	r = r == 6000 ? splice(pf[0], NULL, c, NULL, 6000, 0) : -2;
	ok(r == 6000 && !read_all(s, b, 6000) && !memcmp(a, b, 6000),
	   "splice pipe -> VMMC socket: 6000 bytes, byte for byte (%zd)", r);

	/* socket -> pipe */
	fill(a, 7000, 23);
	r = write_all(s, a, 7000) ? -2 : splice_all(c, pf[1], NULL, 7000);
	ok(r == 7000 && !read_all(pf[0], b, 7000) && !memcmp(a, b, 7000),
	   "splice VMMC socket -> pipe: 7000 bytes, byte for byte (%zd)", r);

	/* socket -> file at an offset */
	fill(a, 4000, 24);
	off = 1000;
	r = write_all(s, a, 4000) ? -2 : splice_all(c, f, &off, 4000);
	ok(r == 4000 && off == 5000 && pread(f, b, 4000, 1000) == 4000 &&
	   !memcmp(a, b, 4000) && lseek(f, 0, SEEK_CUR) == 8000,
	   "splice VMMC socket -> file (offset 1000): 4000 bytes, byte for byte, offset 5000 (%zd)",
	   r);

	/* errors */
	off = 0;
	errno = 0;
	r = splice(c, &off, pf[1], NULL, 10, 0);
	e = errno;
	ok(r == -1 && e == ESPIPE, "splice with an offset on the VMMC socket: ESPIPE (%zd, %s)",
	   r, strerror(e));
	errno = 0;
	r = splice(c, NULL, pf[1], NULL, 10, SPLICE_F_NONBLOCK);
	e = errno;
	ok(r == -1 && e == EAGAIN,
	   "splice SPLICE_F_NONBLOCK from an idle VMMC socket: EAGAIN (%zd, %s)",
	   r, strerror(e));
	errno = 0;
	r = splice(c, NULL, pf[1], NULL, 10, 0x100);
	e = errno;
	ok(r == -1 && e == EINVAL, "splice with an unknown flag: EINVAL (%zd, %s)",
	   r, strerror(e));

	/* a full pipe: the socket's bytes stay in the socket */
	fcntl(pf[1], F_SETFL, O_NONBLOCK);
	while (write(pf[1], a, sizeof(a)) > 0)
		;
	fill(a, 3000, 25);
	r = write_all(s, a, 3000);
	usleep(100000);
	errno = 0;
	r = r ? -2 : splice(c, NULL, pf[1], NULL, 3000, 0);
	e = errno;
	ok(r == -1 && e == EAGAIN && !read_all(c, b, 3000) && !memcmp(a, b, 3000),
	   "splice VMMC socket -> full non-blocking pipe: EAGAIN, and the 3000 bytes are still the socket's (%zd, %s)",
	   r, strerror(e));
	close(pf[0]);
	close(pf[1]);

	/* a full socket: the pipe's and the file's bytes stay */
	if (pipe(pf) || (e = fill_up(c)) != EAGAIN) {
		ok(false, "splice: the socket filled up (%s)", strerror(e));
		return;
	}
	fill(a, 5000, 26);
	r = write(pf[1], a, 5000);
	for (tries = 0; tries < 5; tries++) {
		errno = 0;
		r = splice(pf[0], NULL, c, NULL, 5000, SPLICE_F_NONBLOCK);
		e = errno;
		if (r <= 0)
			break;
		fill_up(c);
	}
	q = -1;
	ioctl(pf[0], FIONREAD, &q);
	ok(r == -1 && e == EAGAIN && q == 5000 && !read_all(pf[0], b, 5000) &&
	   !memcmp(a, b, 5000),
	   "splice pipe -> full VMMC socket: EAGAIN, the pipe keeps all 5000 bytes, byte for byte (%zd, %s, %d)",
	   r, strerror(e), q);
	lseek(f, 100, SEEK_SET);
	errno = 0;
	r = splice(f, NULL, c, NULL, 1000, 0);
	e = errno;
	ok(r == -1 && e == EAGAIN && lseek(f, 0, SEEK_CUR) == 100,
	   "splice file -> full non-blocking VMMC socket: EAGAIN, file offset kept (%zd, %s)",
	   r, strerror(e));
	close(pf[0]);
	close(pf[1]);
	close(f);

	/* EOF after the peer's shutdown, once its filler bytes are read */
	fcntl(c, F_SETFL, 0);
	shutdown(s, SHUT_WR);
	if (pipe(pf)) {
		ok(false, "splice: pipe");
		return;
	}
	shutdown(c, SHUT_WR);
	while (read(s, b, sizeof(b)) > 0)
		;
	r = splice(c, NULL, pf[1], NULL, 100, 0);
	ok(r == 0, "splice from a VMMC socket whose peer shut down: 0 (%zd)", r);

	/* two kernel fds: the kernel's splice, untouched */
	errno = 0;
	r = splice(pf[0], NULL, pf[1], NULL, 10, SPLICE_F_NONBLOCK);
	e = errno;
	ok(r == -1 && e == EINVAL, "splice pipe -> same pipe: the kernel's EINVAL (%s)",
	   strerror(e));
	close(pf[0]);
	close(pf[1]);
	close(c);
	close(s);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_fds.c - vmmc_preload_test on descriptors: dup, dup2, dup3
 * and F_DUPFD aliases, O_NONBLOCK and FD_CLOEXEC, close, dup2 over a
 * socket, close_range, sendfile.
 */
#include "vmmc_preload_test.h"

/* ---- dup ---- */

void test_dup(int l)
{
	int c, s, d, d1, d2, n, r, c2, s2, c3, s3, e;
	char b;

	ok(l >= 0 && domain_of(l) == AF_INET,
	   "listener is the kernel's (AF_INET): its VMMC side is beside it");
	if (pair(l, &c, &s)) {
		ok(false, "connected pair");
		return;
	}
	ok(domain_of(c) == AF_VMMC && domain_of(s) == AF_VMMC,
	   "both ends are VMMC sockets (the listener's VMMC side accepted)");
	d = dup(c);
	ok(d >= 0 && d != c && domain_of(d) == AF_VMMC, "dup: a VMMC socket too");
	ok(carries(d, s, 3000, 1) && carries(s, d, 3000, 2) &&
	   carries(s, c, 100, 3), "dup: the alias carries data both ways, byte for byte");
	d1 = fcntl(c, F_DUPFD, 100);
	d2 = fcntl(c, F_DUPFD_CLOEXEC, 200);
	ok(d1 >= 100 && cloexec_of(d1) == 0 && d2 >= 200 && cloexec_of(d2) == 1,
	   "F_DUPFD >= 100 without FD_CLOEXEC (%d), F_DUPFD_CLOEXEC >= 200 with it (%d)",
	   d1, d2);
	ok(fcntl(d1, F_SETFD, FD_CLOEXEC) == 0 && cloexec_of(d1) == 1 &&
	   cloexec_of(c) == 0, "FD_CLOEXEC is per descriptor");
	n = open("/dev/null", O_RDWR);
	r = dup2(c, n);
	ok(r == n && domain_of(n) == AF_VMMC && carries(n, s, 500, 4),
	   "dup2 onto an open file: it is now the socket");
	errno = 0;
	r = dup3(c, c, 0);
	e = errno;
	ok(r == -1 && e == EINVAL, "dup3(fd, fd) is EINVAL (%d)", e);
	errno = 0;
	r = dup3(c, n, 0x4000);
	e = errno;
	ok(r == -1 && e == EINVAL && domain_of(n) == AF_VMMC,
	   "dup3 with a bad flag is EINVAL (%d), the target untouched", e);
	ok(dup3(c, n, O_CLOEXEC) == n && cloexec_of(n) == 1,
	   "dup3(O_CLOEXEC) onto an alias sets only its FD_CLOEXEC");
	ok(dup2(c, c) == c, "dup2(fd, fd) returns fd");
	errno = 0;
	r = dup(-1);
	e = errno;
	ok(r == -1 && e == EBADF, "dup(-1) is EBADF");

	/* O_NONBLOCK belongs to the socket (the open file description) */
	ok(fcntl(d, F_SETFL, O_NONBLOCK) == 0 &&
	   (fcntl(c, F_GETFL) & O_NONBLOCK) && (fcntl(n, F_GETFL) & O_NONBLOCK),
	   "O_NONBLOCK set through one alias shows on all");
	errno = 0;
	r = (int)recv(c, &b, 1, 0);
	e = errno;
	ok(r == -1 && e == EAGAIN, "... and recv on another alias is EAGAIN (%d)", e);
	ok(fcntl(c, F_SETFL, 0) == 0 && !(fcntl(d, F_GETFL) & O_NONBLOCK),
	   "cleared through another");

	/* the socket closes with its last fd */
	close(c);
	close(d1);
	close(d2);
	close(n);
	ok(carries(d, s, 777, 5), "closing three aliases leaves the fourth working");
	errno = 0;
	r = (int)recv(s, &b, 1, MSG_DONTWAIT);
	e = errno;
	ok(r == -1 && e == EAGAIN, "the peer sees no EOF yet (%d %d)", r, e);
	close(d);
	r = (int)read(s, &b, 1);
	ok(r == 0, "the last close: the peer reads EOF (%d)", r);
	close(s);

	/* dup2 of one VMMC socket onto another closes the one replaced */
	if (pair(l, &c2, &s2) || pair(l, &c3, &s3)) {
		ok(false, "two more pairs");
		return;
	}
	ok(dup2(c3, c2) == c2 && carries(c2, s3, 300, 6),
	   "dup2 onto another VMMC socket: the number names the new one");
	r = (int)read(s2, &b, 1);
	ok(r == 0, "... and the one replaced closed: its peer reads EOF (%d)", r);
	close(c2);
	close(c3);
	close(s2);
	close(s3);
}

/* ---- close, dup2 over a socket, close_range, sendfile ---- */

void test_fds(int l)
{
	int c, s, c2, s2, pf[2], e, f, tries;
	uint8_t a[3000], b[3000];
	off_t off;
	ssize_t r;

	/* close: the number goes back to the kernel and is a plain fd */
	if (pair(l, &c, &s)) {
		ok(false, "fds: connected pair");
		return;
	}
	close(c);
	f = open("/dev/null", O_WRONLY);
	ok(f == c && write(f, "x", 1) == 1,
	   "close: the freed number is a plain fd that writes (fd %d, was %d)",
	   f, c);
	close(f);
	r = read(s, b, sizeof(b));
	ok(r == 0, "close: the peer reads EOF (%zd)", r);
	close(s);

	/* dup2 of a pipe onto a socket: the fd is the pipe's, peer sees EOF */
	if (pair(l, &c, &s) || pipe(pf)) {
		ok(false, "fds: pair and pipe");
		return;
	}
	ok(dup2(pf[1], c) == c && write(c, "pipe", 4) == 4 &&
	   read(pf[0], b, 4) == 4 && !memcmp(b, "pipe", 4),
	   "dup2 onto a VMMC socket: the number writes into the pipe");
	r = read(s, b, sizeof(b));
	ok(r == 0, "dup2 onto a VMMC socket: the peer reads EOF (%zd)", r);
	close(c);
	close(s);
	close(pf[0]);
	close(pf[1]);

	/* close_range over two sockets: both peers see EOF; numbers free */
	c = connect_to(PORT);
	c2 = connect_to(PORT);
	s = accept(l, NULL, NULL);
	s2 = accept(l, NULL, NULL);
	if (c < 0 || c2 != c + 1 || s < 0 || s2 < 0) {
		ok(false, "fds: two pairs, the clients side by side (%d, %d)",
		   c, c2);
		return;
	}
	{
		int lo = c < c2 ? c : c2, hi = c < c2 ? c2 : c;

		ok(!close_range((unsigned int)lo, (unsigned int)hi, 0),
		   "close_range(%d, %d)", lo, hi);
		ok(read(s, b, 1) == 0 && read(s2, b, 1) == 0,
		   "close_range: both peers read EOF");
		f = open("/dev/null", O_WRONLY);
		ok(f == lo && write(f, "x", 1) == 1,
		   "close_range: the lowest number is a plain fd again (%d)", f);
		close(f);
	}
	close(s);
	close(s2);

	/* sendfile with an offset: EAGAIN is an error, not EOF, and the
	 * offset moves by what was sent only */
	if (pair(l, &c, &s)) {
		ok(false, "fds: pair for sendfile");
		return;
	}
	f = temp_file(a, sizeof(a), 5);
	if (f < 0) {
		ok(false, "sendfile: temporary file");
		return;
	}
	off = 100;
	r = sendfile(c, f, &off, 1000);
	ok(r == 1000 && off == 1100 && !read_all(s, b, 1000) &&
	   !memcmp(b, a + 100, 1000), "sendfile with offset: 1000 bytes (%zd)",
	   r);
	/* fill the pipe to the peer, then sendfile must say EAGAIN */
	e = fill_up(c);
	ok(e == EAGAIN, "sendfile: the socket filled up (%s)", strerror(e));
	/*
	 * Room can come back after the EAGAIN (the NIC finishing what was
	 * queued): then the sendfile rightly sends, and the socket is
	 * filled again before the next try. What is tested is the EAGAIN.
	 */
	for (tries = 0; tries < 5; tries++) {
		off = 0;
		r = sendfile(c, f, &off, 1000);
		e = errno;
		if (r <= 0)
			break;
		while (send(c, a, sizeof(a), 0) > 0)
			;
	}
	ok(r == -1 && e == EAGAIN && off == 0,
	   "sendfile to a full non-blocking socket: -1/EAGAIN, offset kept "
	   "(got %zd, %s, off %ld)", r, strerror(e), (long)off);
	lseek(f, 0, SEEK_SET);
	r = sendfile(c, f, NULL, 1000);
	e = errno;
	ok(r == -1 && e == EAGAIN && lseek(f, 0, SEEK_CUR) == 0,
	   "sendfile(NULL offset) to a full socket: -1/EAGAIN, file offset "
	   "kept (got %zd, %s)", r, strerror(e));
	close(f);
	close(c);
	close(s);
}

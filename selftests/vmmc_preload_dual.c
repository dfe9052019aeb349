// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_dual.c - vmmc_preload_test on a listener on both
 * transports: bound to 0.0.0.0, it is the kernel's listening socket
 * (AF_INET, getsockname the wildcard) with a VMMC listener beside it; a
 * client of 127.0.0.1 (mapped) comes over VMMC, one of 127.0.0.2 (not
 * mapped) over kernel TCP; one edge-triggered, EPOLLEXCLUSIVE epoll
 * interest reports both, accept4's flags hold for both, O_NONBLOCK is
 * the program's, a dup keeps the listener, and after its last close a
 * client is refused. Then a double-fork daemon serving a listener it made
 * before daemonising.
 */
#include "vmmc_preload_test.h"

#define DPORT	7302

static int dial(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DPORT) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -errno;
	}
	return fd;
}

void test_dual(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(DPORT) };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE,
				  .data.u64 = 77 }, evs[4];
	struct sockaddr_in got;
	socklen_t len = sizeof(got);
	int l, l2, ep, cv, ck, a[3] = { -1, -1, -1 }, n = 0, i, e, one = 1;
	int nv = 0, nk = 0, flags_ok = 1, r;

	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(l, (struct sockaddr *)&any, sizeof(any)) || listen(l, 16);
	ok(!r && domain_of(l) == AF_INET &&
	   !getsockname(l, (struct sockaddr *)&got, &len) &&
	   got.sin_addr.s_addr == htonl(INADDR_ANY) && got.sin_port == htons(DPORT),
	   "dual: a listener on 0.0.0.0 is the kernel's (AF_INET), getsockname the wildcard");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ok(!epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev),
	   "dual: epoll_ctl ADD with EPOLLET | EPOLLEXCLUSIVE");
	cv = dial("127.0.0.1");
	ck = dial("127.0.0.2");
	ok(cv >= 0 && ck >= 0 && domain_of(cv) == AF_VMMC && domain_of(ck) == AF_INET,
	   "dual: a client of 127.0.0.1 connects over VMMC, one of 127.0.0.2 over kernel TCP (%d %d)",
	   cv, ck);
	r = epoll_wait(ep, evs, 4, 3000);
	for (i = 0, e = 0; i < r; i++)
		e += evs[i].data.u64 != 77 || !(evs[i].events & EPOLLIN);
	ok(r >= 1 && !e, "dual: epoll_wait reports the listener (%d events, all its data)", r);
	ok(!fcntl(l, F_SETFL, O_NONBLOCK) && (fcntl(l, F_GETFL) & O_NONBLOCK),
	   "dual: O_NONBLOCK set and read back");
	for (;;) {
		r = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (r < 0 || n == 3)
			break;
		a[n++] = r;
		nv += domain_of(r) == AF_VMMC;
		nk += domain_of(r) == AF_INET;
		flags_ok &= !!(fcntl(r, F_GETFL) & O_NONBLOCK) && cloexec_of(r) == 1;
	}
	e = errno;
	ok(n == 2 && nv == 1 && nk == 1 && flags_ok && r == -1 && e == EAGAIN,
	   "dual: accept4 until EAGAIN: one VMMC and one kernel connection, both O_NONBLOCK and FD_CLOEXEC (%d %d %d, %s)",
	   nv, nk, flags_ok, strerror(e));
	ok(epoll_wait(ep, evs, 4, 0) == 0, "dual: drained, the edge-triggered interest reports nothing more");
	for (i = 0; i < n; i++)
		fcntl(a[i], F_SETFL, 0);	/* carries() reads blocking */
	ok(n == 2 && carries(cv, a[domain_of(a[0]) == AF_VMMC ? 0 : 1], 70000, 41) &&
	   carries(ck, a[domain_of(a[0]) == AF_VMMC ? 1 : 0], 70000, 42),
	   "dual: both connections carry 70000 B byte for byte, client to server");
	ok(!fcntl(l, F_SETFL, 0) && !(fcntl(l, F_GETFL) & O_NONBLOCK),
	   "dual: O_NONBLOCK cleared and read back");
	for (i = 0; i < n; i++)
		close(a[i]);
	close(cv);
	close(ck);
	l2 = dup(l);
	close(l);
	cv = dial("127.0.0.1");
	r = l2 >= 0 ? accept(l2, NULL, NULL) : -1;
	ok(cv >= 0 && domain_of(cv) == AF_VMMC && r >= 0 && domain_of(r) == AF_VMMC &&
	   carries(cv, r, 1000, 43),
	   "dual: a dup of the listener, the original closed, accepts over VMMC");
	close(r);
	close(cv);
	close(l2);
	close(ep);
	cv = dial("127.0.0.1");
	ok(cv == -ECONNREFUSED, "dual: after the last close a client is refused (%d)", cv);
	if (cv >= 0)
		close(cv);
}

#define EPORT	7303
#define ESIZE	70000

/*
 * The daemon's grandchild: say on @w that it is ready (its epoll_ctl on
 * listener @l made the VMMC listener of this process: before, a client
 * would fall back to kernel TCP), serve @n connections (each: a header
 * of its pid and session id, then every byte back until the client's
 * EOF), then say on @w how many it served.
 */
static void echo_daemon(int l, int n, int w)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint8_t *buf = malloc(ESIZE);
	int served = 0, c, hdr[2] = { getpid(), getsid(0) }, ready = 0;
	int ep = epoll_create1(0);
	size_t got;
	ssize_t r;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) ||
	    write(w, &ready, sizeof(ready)) != sizeof(ready))
		_exit(1);
	while (buf && served < n && (c = accept_within(l)) >= 0) {
		got = 0;
		while (got < ESIZE && (r = read(c, buf + got, ESIZE - got)) > 0)
			got += (size_t)r;
		if (!write_all(c, hdr, sizeof(hdr)) && !write_all(c, buf, got))
			served++;
		close(c);
	}
	if (write(w, &served, sizeof(served)) < 0)
		_exit(1);
	_exit(0);
}

/*
 * A double-fork daemon: a listener on 0.0.0.0 made before daemonising
 * (fork, setsid, fork; the original closes its copy, the middle process
 * exits) serves VMMC clients from the grandchild, byte for byte.
 */
void test_daemon(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(EPORT) };
	struct sockaddr_in a = addr_of(EPORT);
	struct pollfd p;
	uint8_t *x = malloc(ESIZE), *y = malloc(ESIZE);
	int l, pw[2], one = 1, st = -1, i, c, good = 0, served = -1;
	int hdr[2] = { -1, -1 };
	pid_t mid;

	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!x || !y || l < 0 || bind(l, (struct sockaddr *)&any, sizeof(any)) ||
	    listen(l, 16) || pipe(pw)) {
		ok(false, "daemon: listener on 0.0.0.0:%d: %s", EPORT, strerror(errno));
		goto out;
	}
	mid = fork();
	if (mid == 0) {
		close(pw[0]);
		if (setsid() < 0)
			_exit(2);
		if (fork() == 0)
			echo_daemon(l, 2, pw[1]);
		_exit(0);
	}
	close(l);
	close(pw[1]);
	if (mid > 0 && waitpid(mid, &st, 0) != mid)
		st = -1;
	ok(mid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "daemon: fork, setsid, fork: the middle process exited (%#x); the original closed its listener",
	   st);
	p = (struct pollfd){ .fd = pw[0], .events = POLLIN };
	ok(poll(&p, 1, 20000) == 1 && read(pw[0], &served, sizeof(served)) ==
	   sizeof(served) && served == 0,
	   "daemon: the grandchild is ready (its epoll_ctl on the listener)");
	served = -1;
	for (i = 0; i < 2; i++) {
		fill(x, ESIZE, 50 + (unsigned int)i);
		memset(y, 0, ESIZE);
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) ||
		    domain_of(c) != AF_VMMC || write_all(c, x, ESIZE) ||
		    shutdown(c, SHUT_WR) || read_all(c, hdr, sizeof(hdr)) ||
		    read_all(c, y, ESIZE) || read(c, y, 1) != 0) {
			if (c >= 0)
				close(c);
			break;
		}
		close(c);
		good += !memcmp(x, y, ESIZE) && hdr[0] != getpid() &&
			hdr[0] != mid && hdr[1] == mid;
	}
	ok(good == 2,
	   "daemon: 2 clients over VMMC, %d B each echoed byte for byte by the grandchild (pid %d, session %d: the middle's %d) (%d good)",
	   ESIZE, hdr[0], hdr[1], (int)mid, good);
	if (poll(&p, 1, 20000) == 1 &&
	    read(pw[0], &served, sizeof(served)) != sizeof(served))
		served = -1;
	/* its exit closes the pipe: nothing of it is left for later tests */
	p.revents = 0;
	ok(served == 2 && poll(&p, 1, 20000) == 1 && read(pw[0], &st, 1) == 0,
	   "daemon: the grandchild served 2 and ended (%d)", served);
	close(pw[0]);
out:
	free(x);
	free(y);
}

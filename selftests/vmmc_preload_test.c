// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_test - what real programs do with sockets, under the
 * LD_PRELOAD shim (run by vmmc_preload.sh with the shim and the map
 * 127.0.0.1=0, so every connection is a VMMC one inside this node):
 * dup/dup2/dup3/F_DUPFD aliases, O_NONBLOCK and FD_CLOEXEC, fork (the
 * parent keeps its sockets, the child's are dead with exact errnos and
 * never hang), exec (a stand-in that reads EOF and writes EPIPE; put back
 * if exec fails), threads on different sockets and on the same one.
 * Plain libc calls only: it is not linked with libvmmc. TAP output.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmmc_sock.h"		/* AF_VMMC only */
#include "vmmc_tap.h"

#define PORT	7301



static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int domain_of(int fd)
{
	int d = -1;
	socklen_t l = sizeof(d);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &l))
		return -errno;
	return d;
}

static struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int listen_on(int port)
{
	struct sockaddr_in a = addr_of(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 16))
		return -1;
	return fd;
}

static int connect_to(int port)
{
	struct sockaddr_in a = addr_of(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	return fd;
}

/* a connected pair through listener @l: *c the client, *s the server */
static int pair(int l, int *c, int *s)
{
	*c = connect_to(PORT);
	*s = *c >= 0 ? accept(l, NULL, NULL) : -1;
	return *c >= 0 && *s >= 0 ? 0 : -1;
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static int write_all(int fd, const void *b, size_t n)
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

static int read_all(int fd, void *b, size_t n)
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
static bool carries(int w, int r, size_t n, unsigned int seed)
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

static int cloexec_of(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f < 0 ? -errno : !!(f & FD_CLOEXEC);
}

/* ---- dup ---- */

static void test_dup(int l)
{
	int c, s, d, d1, d2, n, r, c2, s2, c3, s3, e;
	char b;

	ok(l >= 0 && domain_of(l) == AF_VMMC, "listener is a VMMC socket");
	if (pair(l, &c, &s)) {
		ok(false, "connected pair");
		return;
	}
	ok(domain_of(c) == AF_VMMC && domain_of(s) == AF_VMMC,
	   "both ends are VMMC sockets");
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

/* accept, but give up after 20 s (a child that failed never connects) */
static int accept_within(int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, 20000) != 1)
		return -1;
	return accept(l, NULL, NULL);
}

/* ---- fork ---- */

static int fork_child(int l, int c)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	long t0;
	char b = 0;
	int n;

	errno = 0;
	if (read(c, &b, 1) != -1 || errno != ENOTCONN)
		return 10;
	errno = 0;
	if (write(c, &b, 1) != -1 || errno != ENOTCONN)
		return 11;
	errno = 0;
	if (send(c, &b, 1, MSG_NOSIGNAL) != -1 || errno != ENOTCONN)
		return 12;
	errno = 0;
	if (accept(l, NULL, NULL) != -1 || errno != EINVAL)
		return 13;
	t0 = now_ms();
	if (poll(&p, 1, 5000) != 1 || now_ms() - t0 > 2000)
		return 14;	/* a dead socket never makes poll wait */
	if (fcntl(c, F_GETFD) < 0)
		return 15;	/* the number stays taken until close */
	if (close(c) || close(l))
		return 16;
	/* the child's own sockets are VMMC sockets of its own */
	n = connect_to(PORT);
	if (n < 0 || domain_of(n) != AF_VMMC)
		return 17;
	{
		uint8_t a[4000];

		fill(a, sizeof(a), 9);
		if (write_all(n, a, sizeof(a)))
			return 18;
	}
	close(n);
	return 0;
}

static void test_fork(int l)
{
	int c, s, st = -1, n;
	uint8_t a[4000], b[4000];
	pid_t pid;

	if (pair(l, &c, &s)) {
		ok(false, "pair for fork");
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(fork_child(l, c));
	n = accept_within(l);
	fill(a, sizeof(a), 9);
	ok(n >= 0 && !read_all(n, b, sizeof(b)) && !memcmp(a, b, sizeof(a)),
	   "the child connects with a VMMC socket of its own, bytes checked");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "in the child, inherited sockets are dead: read/write/send ENOTCONN, accept EINVAL, poll ready at once, close 0 (child step %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ok(carries(c, s, 5000, 10) && carries(s, c, 5000, 11),
	   "the parent's sockets keep working after the fork");
	close(n);
	close(c);
	close(s);
}

/* ---- exec ---- */

static int exec_image(int c, int e)
{
	char b;
	struct pollfd p = { .fd = c, .events = POLLIN };

	if (fcntl(c, F_GETFD) < 0)
		return 30;	/* inherited: the number is there */
	if (domain_of(c) != AF_UNIX)
		return 31;	/* a stand-in, not a bare eventfd */
	if (poll(&p, 1, 3000) != 1)
		return 32;
	if (read(c, &b, 1) != 0)
		return 33;	/* EOF */
	errno = 0;
	if (write(c, "x", 1) != -1 || errno != EPIPE)
		return 34;
	errno = 0;
	if (fcntl(e, F_GETFD) != -1 || errno != EBADF)
		return 35;	/* FD_CLOEXEC: gone */
	return 0;
}

static int exec_child(const char *self, int l)
{
	char a1[16], a2[16];
	int c, e;

	close(l);
	c = connect_to(PORT);
	e = connect_to(PORT);
	if (c < 0 || e < 0 || fcntl(e, F_SETFD, FD_CLOEXEC))
		return 20;
	if (write_all(c, "hello", 5))
		return 21;
	/* an exec that fails gives the sockets back */
	errno = 0;
	if (execl("/nonexistent/vmmc", "x", (char *)NULL) != -1 || errno != ENOENT)
		return 22;
	if (domain_of(c) != AF_VMMC || write_all(c, "again", 5))
		return 23;
	snprintf(a1, sizeof(a1), "%d", c);
	snprintf(a2, sizeof(a2), "%d", e);
	signal(SIGPIPE, SIG_IGN);	/* kept across exec */
	execl(self, self, "--exec-image", a1, a2, (char *)NULL);
	return 24;
}

static void test_exec(const char *self, int l)
{
	char buf[10];
	int s, e2, st = -1, r, e;
	pid_t pid;
	long t0;

	pid = fork();
	if (pid == 0)
		_exit(exec_child(self, l));
	s = accept_within(l);
	e2 = s >= 0 ? accept_within(l) : -1;
	ok(s >= 0 && !read_all(s, buf, 10) && !memcmp(buf, "helloagain", 10),
	   "an exec that failed (ENOENT) left the socket working");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "across exec: the socket's number holds a stand-in (AF_UNIX, EOF, EPIPE, poll ready), a FD_CLOEXEC one is closed (step %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	t0 = now_ms();
	errno = 0;
	r = (int)read(s, buf, 1);
	e = errno;
	ok(r == -1 && e == ECONNRESET && now_ms() - t0 < 5000,
	   "the peer of the exec'd image's socket: ECONNRESET (%d %d) in %ld ms",
	   r, e, now_ms() - t0);
	close(s);
	close(e2);
}

/* ---- threads ---- */

struct own {
	int c, s, seed;
	bool good;
};

static void *own_pair(void *arg)
{
	struct own *o = arg;
	int i;

	o->good = true;
	for (i = 0; i < 150 && o->good; i++)
		o->good = carries(o->c, o->s, (size_t)(1 + (i * 997 + o->seed * 31) % 20000),
				  (unsigned int)(o->seed * 1000 + i)) &&
			  carries(o->s, o->c, (size_t)(1 + i * 13), (unsigned int)i);
	return NULL;
}

#define REC	64
#define NREC	1500
#define NWR	2

struct rec {
	uint32_t tid, seq;
	uint8_t pat[REC - 8];
};

static int same_c;

static void *writer(void *arg)
{
	struct rec r;
	uint32_t i;

	r.tid = (uint32_t)(uintptr_t)arg;
	for (i = 0; i < NREC; i++) {
		r.seq = i;
		fill(r.pat, sizeof(r.pat), r.tid * 100000 + i);
		if (write_all(same_c, &r, sizeof(r)))
			return (void *)1;
	}
	return NULL;
}

static void *echo(void *arg)
{
	int s = (int)(intptr_t)arg;
	char b[8192];
	ssize_t n;

	while ((n = read(s, b, sizeof(b))) > 0)
		if (write_all(s, b, (size_t)n))
			break;
	close(s);
	return NULL;
}

static void test_threads(int l)
{
	struct own o[4];
	pthread_t t[4], w[NWR], ec;
	uint32_t next[NWR] = { 0 };
	struct rec r;
	uint8_t want[REC - 8];
	int i, s, bad = 0, got = 0;
	bool all = true;

	for (i = 0; i < 4; i++) {
		o[i].seed = i + 1;
		if (pair(l, &o[i].c, &o[i].s))
			all = false;
	}
	for (i = 0; all && i < 4; i++)
		pthread_create(&t[i], NULL, own_pair, &o[i]);
	for (i = 0; all && i < 4; i++) {
		pthread_join(t[i], NULL);
		all = all && o[i].good;
		close(o[i].c);
		close(o[i].s);
	}
	ok(all, "4 threads, each on its own pair: 150 round trips of 1..20000 bytes, byte for byte");

	/* the same socket: two writers and a reader on one fd, an echo */
	if (pair(l, &same_c, &s)) {
		ok(false, "pair for threads");
		return;
	}
	pthread_create(&ec, NULL, echo, (void *)(intptr_t)s);
	for (i = 0; i < NWR; i++)
		pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)i);
	while (got < NWR * NREC) {
		if (read_all(same_c, &r, sizeof(r))) {
			bad++;
			break;
		}
		fill(want, sizeof(want), r.tid * 100000 + r.seq);
		if (r.tid >= NWR || r.seq != next[r.tid] ||
		    memcmp(want, r.pat, sizeof(want)))
			bad++;
		else
			next[r.tid]++;
		got++;
	}
	for (i = 0; i < NWR; i++) {
		void *rv;

		pthread_join(w[i], &rv);
		if (rv)
			bad++;
	}
	shutdown(same_c, SHUT_WR);
	pthread_join(ec, NULL);
	ok(!bad && got == NWR * NREC,
	   "2 writer threads and a reader thread on one socket: %d of %d records, each in order and whole (%d bad)",
	   got, NWR * NREC, bad);
	close(same_c);
}

/* ---- signals: a handler ends a blocking call with EINTR ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM (handler, no SA_RESTART) in @ms */
static void alarm_in(int ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000,
					      .tv_usec = (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* @what returned -1/EINTR, after the handler ran, within 5 s */
static void check_eintr(const char *what, long r, int e, long t0)
{
	long dt = now_ms() - t0;

	ok(r == -1 && e == EINTR && alarms == 1 && dt >= 150 && dt < 5000,
	   "%s on an idle VMMC socket: -1/EINTR when SIGALRM's handler runs "
	   "(got %ld, %s, handler ran %d times, after %ld ms)", what, r,
	   strerror(e), (int)alarms, dt);
}

static volatile int eintr_done;

/* SIGALRM is the test's, not the watchdog's, meanwhile: a hang fails */
static void *eintr_watchdog(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 600 && !eintr_done; i++)
		usleep(100000);
	if (!eintr_done) {
		printf("not ok %d - eintr: a call ignored the signal: hung "
		       "for 60 s\n", tn + 1);
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

static void test_eintr(int l)
{
	pthread_t wd;
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct pollfd p;
	sigset_t block, was;
	char b[16];
	int c, s, ep, e;
	long r, t0;

	if (pair(l, &c, &s)) {
		ok(false, "eintr: connected pair");
		return;
	}
	alarm(0);		/* the watchdog is SIGALRM too */
	eintr_done = 0;
	/* the watchdog thread never takes SIGALRM: it inherits this mask */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, &was);
	pthread_create(&wd, NULL, eintr_watchdog, NULL);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	sigaction(SIGALRM, &sa, &old);

	alarms = 0;
	t0 = now_ms();
	alarm_in(200);
	r = recv(s, b, sizeof(b), 0);
	e = errno;
	check_eintr("recv", r, e, t0);

	p.fd = s;
	p.events = POLLIN;
	alarms = 0;
	t0 = now_ms();
	alarm_in(200);
	r = poll(&p, 1, -1);
	e = errno;
	check_eintr("poll(-1)", r, e, t0);

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = s;
	ok(ep >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev),
	   "eintr: epoll fd with the VMMC socket");
	alarms = 0;
	t0 = now_ms();
	alarm_in(200);
	r = epoll_wait(ep, &out, 1, -1);
	e = errno;
	check_eintr("epoll_wait(-1)", r, e, t0);

	/* ppoll: SIGALRM blocked by the thread, unblocked by ppoll's mask
	 * alone: it must interrupt the wait, even if it came before it */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, &was);
	alarms = 0;
	t0 = now_ms();
	alarm_in(200);
	r = ppoll(&p, 1, NULL, &was);
	e = errno;
	check_eintr("ppoll(NULL, unblocking mask)", r, e, t0);
	alarms = 0;
	raise(SIGALRM);		/* pending before the call */
	t0 = now_ms() - 200;
	r = epoll_pwait(ep, &out, 1, -1, &was);
	e = errno;
	check_eintr("epoll_pwait(-1) with a signal pending before", r, e, t0);
	pthread_sigmask(SIG_SETMASK, &was, NULL);

	/* the data still arrives, byte for byte, after the interruptions */
	ok(carries(c, s, 1000, 9), "eintr: the socket still carries data");

	sigaction(SIGALRM, &old, NULL);
	eintr_done = 1;
	pthread_join(wd, NULL);
	alarm(240);
	close(ep);
	close(c);
	close(s);
}

/* non-blocking @c accepts no more (twice: the NIC may still be moving) */
static int fill_up(int c)
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
static int temp_file(uint8_t *a, size_t n, unsigned int seed)
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

/* ---- close, dup2 over a socket, close_range, sendfile ---- */

static void test_fds(int l)
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

static void test_splice(int l)
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

/* ---- ioctl ---- */

/* ioctl @req of @fd: the int it stored, or -errno */
static int ioctl_int(int fd, unsigned long req)
{
	int v = -12345;

	return ioctl(fd, req, &v) ? -errno : v;
}

/* wait (at most 3 s) until ioctl @req of @fd says @want; the last value */
static int ioctl_until(int fd, unsigned long req, int want)
{
	long t0 = now_ms();
	int v;

	while ((v = ioctl_int(fd, req)) != want && v >= 0 &&
	       now_ms() - t0 < 3000)
		usleep(1000);
	return v;
}

static void test_ioctl(int l)
{
	uint8_t a[60000], b[60000];
	int c, s, v, v2, nd, on = 1, e;
	ssize_t r;

	if (pair(l, &c, &s)) {
		ok(false, "ioctl: pair");
		return;
	}
	v = ioctl_int(s, FIONREAD);
	ok(v == 0, "FIONREAD of an idle VMMC socket: 0 (%d)", v);
	fill(a, 1234, 31);
	write_all(c, a, 1234);
	v = ioctl_until(s, FIONREAD, 1234);
	v2 = ioctl_int(s, SIOCINQ);
	ok(v == 1234 && v2 == 1234, "FIONREAD and SIOCINQ after 1234 bytes came: 1234 (%d, %d)",
	   v, v2);
	r = read(s, b, 1000);
	v = ioctl_int(s, FIONREAD);
	ok(r == 1000 && v == 234 && !memcmp(a, b, 1000),
	   "... after reading 1000 of them: 234 (%d)", v);
	read_all(s, b, 234);
	fill(a, sizeof(a), 32);
	write_all(c, a, sizeof(a));
	v = ioctl_int(c, SIOCOUTQ);
	nd = ioctl_int(c, SIOCOUTQNSD);
	ok(v >= 0 && v <= (int)sizeof(a) && nd >= 0 && nd <= v,
	   "SIOCOUTQ (%d) and SIOCOUTQNSD (%d) right after a 60000-byte send: 0..60000, NSD <= OUTQ",
	   v, nd);
	v = ioctl_until(c, SIOCOUTQ, 0);
	nd = ioctl_int(c, SIOCOUTQNSD);
	ok(v == 0 && nd == 0 && !read_all(s, b, sizeof(b)) && !memcmp(a, b, sizeof(a)),
	   "SIOCOUTQ and SIOCOUTQNSD once the bytes are in the peer's ring: 0 (%d, %d), bytes checked",
	   v, nd);
	v = ioctl_int(l, FIONREAD);
	v2 = ioctl_int(l, SIOCOUTQ);
	ok(v == -EINVAL && v2 == -EINVAL, "FIONREAD and SIOCOUTQ of a listener: EINVAL (%s, %s)",
	   strerror(-v), strerror(-v2));
	errno = 0;
	r = ioctl(c, FIONREAD, NULL);
	e = errno;
	ok(r == -1 && e == EFAULT, "FIONREAD with a NULL argument: EFAULT (%s)", strerror(e));
	ok(!ioctl(s, FIONBIO, &on) && (fcntl(s, F_GETFL) & O_NONBLOCK),
	   "FIONBIO 1: O_NONBLOCK shows in F_GETFL");
	errno = 0;
	r = recv(s, b, 1, 0);
	e = errno;
	on = 0;
	ok(r == -1 && e == EAGAIN && !ioctl(s, FIONBIO, &on) &&
	   !(fcntl(s, F_GETFL) & O_NONBLOCK),
	   "... recv on the idle socket EAGAIN (%s); FIONBIO 0 clears it", strerror(e));
	close(c);
	close(s);
}

/* ---- sendmmsg, recvmmsg ---- */

static void test_mmsg(int l)
{
	uint8_t a[3000], b[4][1000], x[3000];
	struct mmsghdr m[4];
	struct iovec iv[4];
	struct timespec ts;
	int c, s, r, e, i;
	bool good;

	if (pair(l, &c, &s)) {
		ok(false, "mmsg: pair");
		return;
	}
	fill(a, sizeof(a), 41);
	memset(m, 0, sizeof(m));
	/* three messages: 100 bytes; 2000; 50 + 850 in two pieces */
	iv[0] = (struct iovec){ a, 100 };
	iv[1] = (struct iovec){ a + 100, 2000 };
	iv[2] = (struct iovec){ a + 2100, 50 };
	iv[3] = (struct iovec){ a + 2150, 850 };
	m[0].msg_hdr.msg_iov = &iv[0];
	m[0].msg_hdr.msg_iovlen = 1;
	m[1].msg_hdr.msg_iov = &iv[1];
	m[1].msg_hdr.msg_iovlen = 1;
	m[2].msg_hdr.msg_iov = &iv[2];
	m[2].msg_hdr.msg_iovlen = 2;
	r = sendmmsg(c, m, 3, 0);
	ok(r == 3 && m[0].msg_len == 100 && m[1].msg_len == 2000 &&
	   m[2].msg_len == 900 && !read_all(s, x, 3000) && !memcmp(a, x, 3000),
	   "sendmmsg of 3 messages: 3, msg_len 100/2000/900, 3000 bytes in order (%d)",
	   r);

	/* recvmmsg, MSG_WAITFORONE: what is there, then EAGAIN ends it */
	fill(a, sizeof(a), 42);
	write_all(c, a, 2500);
	ioctl_until(s, FIONREAD, 2500);
	memset(m, 0, sizeof(m));
	for (i = 0; i < 4; i++) {
		iv[i] = (struct iovec){ b[i], sizeof(b[i]) };
		m[i].msg_hdr.msg_iov = &iv[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	r = recvmmsg(s, m, 4, MSG_WAITFORONE, NULL);
	good = r == 3 && m[0].msg_len == 1000 && m[1].msg_len == 1000 &&
	       m[2].msg_len == 500 && !memcmp(b[0], a, 1000) &&
	       !memcmp(b[1], a + 1000, 1000) && !memcmp(b[2], a + 2000, 500);
	ok(good, "recvmmsg MSG_WAITFORONE with 2500 bytes there: 3 messages of 1000/1000/500, byte for byte (%d)",
	   r);

	/* the timeout is checked after each message: 1 ns ends it after one */
	write_all(c, a, 700);
	ts = (struct timespec){ 0, 1 };
	r = recvmmsg(s, m, 4, 0, &ts);
	ok(r == 1 && m[0].msg_len == 700 && !memcmp(b[0], a, 700) &&
	   ts.tv_sec == 0 && ts.tv_nsec == 0,
	   "recvmmsg with a 1 ns timeout, 700 bytes there: 1 message of 700, the timeout left 0 (%d, %ld)",
	   r, (long)ts.tv_nsec);
	errno = 0;
	r = recvmmsg(s, m, 4, MSG_DONTWAIT, NULL);
	e = errno;
	ok(r == -1 && e == EAGAIN, "recvmmsg MSG_DONTWAIT on an idle socket: EAGAIN (%d, %s)",
	   r, strerror(e));
	ts = (struct timespec){ 0, 1000000000L };
	errno = 0;
	r = recvmmsg(s, m, 4, MSG_DONTWAIT, &ts);
	e = errno;
	ok(r == -1 && e == EINVAL, "recvmmsg with tv_nsec 1e9: EINVAL (%d, %s)", r,
	   strerror(e));
	r = sendmmsg(c, m, 0, 0);
	ok(r == 0, "sendmmsg of 0 messages: 0 (%d)", r);
	/* at EOF every message is an empty one, as a TCP socket's */
	shutdown(c, SHUT_WR);
	r = recvmmsg(s, m, 2, 0, NULL);
	ok(r == 2 && m[0].msg_len == 0 && m[1].msg_len == 0,
	   "recvmmsg at EOF: 2 messages of 0 bytes (%d)", r);
	close(c);
	close(s);
}

/* ---- a waiting call follows its socket; close lingers without the lock ---- */

struct waiter {
	int fd, e;
	ssize_t r;
	volatile pid_t tid;
	char b[100];
	uint8_t *big;		/* else b */
	size_t len;
};

static void *wait_recv(void *arg)
{
	struct waiter *w = arg;

	w->tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	if (w->big) {
		w->r = recv(w->fd, w->big, w->len, 0);
		w->e = errno;
		return NULL;
	}
	w->r = recv(w->fd, w->b, sizeof(w->b), 0);
	w->e = errno;
	return NULL;
}

/*
 * Has thread *@tid come to wait in poll/ppoll (the shim's unlocked wait)?
 * Its /proc syscall line says so; up to 10 s.
 */
static bool in_poll(volatile pid_t *tid)
{
	char path[64], line[128];
	long nr;
	FILE *f;
	int i;

	for (i = 0; i < 1000; i++, usleep(10000)) {
		if (!*tid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall",
			 (int)*tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		nr = -1;
		if (!fgets(line, sizeof(line), f) || sscanf(line, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
		if (nr == SYS_poll || nr == SYS_ppoll)
			return true;
	}
	return false;
}

/*
 * The same with a receive big enough to be zero-copy (its buffer posted,
 * vmmc_sock_recv_begin), on a socket that keeps another descriptor: the
 * waiter ends its receive through that one and gives EBADF, or the
 * bytes that had come; every byte the peer sends is either in its
 * answer or read from the other descriptor, once, in order.
 */
static void test_follow_zc(int l)
{
	static uint8_t big[65536], a[3000], b[3000];
	struct waiter w;
	int c, s, c2, s2, alias;
	size_t took = 0;
	pthread_t t;
	ssize_t r;

	if (pair(l, &c, &s) || pair(l, &c2, &s2)) {
		ok(false, "follow (zero-copy): two pairs");
		return;
	}
	alias = dup(s);
	w.fd = s;
	w.tid = 0;
	w.big = big;
	w.len = sizeof(big);
	pthread_create(&t, NULL, wait_recv, &w);
	if (!in_poll(&w.tid)) {
		ok(false, "follow (zero-copy): the recv never came to wait");
		pthread_join(t, NULL);
		return;
	}
	r = dup2(s2, s);
	fill(a, sizeof(a), 77);
	write_all(c, a, sizeof(a));
	pthread_join(t, NULL);
	if (w.r > 0) {
		took = (size_t)w.r;
		memcpy(b, big, took);
	}
	ok(r == s && ((w.r == -1 && w.e == EBADF) ||
		      (w.r > 0 && (size_t)w.r <= sizeof(a))),
	   "a zero-copy recv waiting on fd %d while dup2 puts another socket there: EBADF or its own socket's bytes (%zd, %s)",
	   s, w.r, strerror(w.e));
	ok(took <= sizeof(a) && read_all(alias, b + took, sizeof(a) - took) == 0 &&
	   !memcmp(a, b, sizeof(a)),
	   "... the rest of what its peer sent reads from the socket's other fd, byte for byte (%zu in the recv)",
	   took);
	close(alias);
	r = read(c, b, 1);
	ok(r == 0, "... closing that fd closes the socket: its peer reads EOF (%zd)", r);
	close(c);
	close(s);
	close(c2);
}

static void test_follow(int l)
{
	struct waiter w = { .big = NULL };
	pthread_t t;
	int c, s, c2, s2;
	char b[8];
	ssize_t r;

	if (pair(l, &c, &s) || pair(l, &c2, &s2)) {
		ok(false, "follow: two pairs");
		return;
	}
	w.fd = s;
	w.tid = 0;
	pthread_create(&t, NULL, wait_recv, &w);
	/* it waits on s (a loaded host may take long to run it at all) */
	if (!in_poll(&w.tid)) {
		ok(false, "follow: the recv never came to wait");
		pthread_join(t, NULL);
		return;
	}
	/* s names the second pair's socket now; its peer sends */
	r = dup2(s2, s);
	write_all(c2, "follow!", 7);
	pthread_join(t, NULL);
	ok(r == s && w.r == -1 && w.e == EBADF,
	   "a recv waiting on fd %d while dup2 puts another socket there: EBADF, not the other's data (%zd, %s)",
	   s, w.r, strerror(w.e));
	/* (if the waiter took them, a read would wait for ever) */
	ok(w.r < 0 && read_all(s, b, 7) == 0 && !memcmp(b, "follow!", 7),
	   "... the data stays for the socket it was sent to, byte for byte");
	r = read(c, b, 1);
	ok(r == 0, "... and the socket replaced closed: its peer reads EOF (%zd)", r);
	close(c);
	close(s);
	close(c2);
	close(s2);
	test_follow_zc(l);
}

struct closer {
	int fd, how;
	long ms, end;
	volatile pid_t tid;
};

static void *close_it(void *arg)
{
	struct closer *k = arg;
	long t0 = now_ms();

	k->tid = (pid_t)syscall(SYS_gettid);
	if (k->how == 0)
		close(k->fd);
	else
		close_range((unsigned int)k->fd, (unsigned int)k->fd, 0);
	k->end = now_ms();
	k->ms = k->end - t0;
	return NULL;
}

/*
 * Run in a fresh image with VMMC_SOCK_LINGER_MIN_MS=1500 (every close
 * lingers 1.5 s): while one thread's close (then close_range) lingers,
 * another thread's round trips on another pair run. 0, or the step.
 */
static int linger_image(void)
{
	struct sockaddr_in a = addr_of(PORT + 1);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s, c2, s2, how;
	struct closer k;
	pthread_t t;
	long t0, dt;
	char b;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4))
		return 40;
	c2 = connect_to(PORT + 1);
	s2 = c2 >= 0 ? accept(l, NULL, NULL) : -1;
	if (s2 < 0)
		return 41;
	for (how = 0; how < 2; how++) {
		c = connect_to(PORT + 1);
		s = c >= 0 ? accept(l, NULL, NULL) : -1;
		if (s < 0)
			return 42;
		k.fd = c;
		k.how = how;
		k.tid = 0;
		pthread_create(&t, NULL, close_it, &k);
		if (!in_poll(&k.tid))	/* the close lingers */
			return 47 + 10 * how;
		t0 = now_ms();
		if (!carries(c2, s2, 1000, 50) || !carries(s2, c2, 1000, 51))
			return 43;
		dt = now_ms() - t0;
		pthread_join(t, NULL);
		printf("# linger %s: close took %ld ms, round trips meanwhile %ld ms\n",
		       how ? "close_range" : "close", k.ms, dt);
		if (k.ms < 1400)
			return 44 + 10 * how;	/* no linger seen */
		if (t0 + dt >= k.end)
			return 45 + 10 * how;	/* they waited for it */
		if (read(s, &b, 1) != 0)
			return 46 + 10 * how;
		close(s);
	}
	return 0;
}

static void test_linger(const char *self)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		setenv("VMMC_SOCK_LINGER_MIN_MS", "1500", 1);
		execl(self, self, "--linger", (char *)NULL);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "a close (and a close_range) that lingers 1.5 s does not hold other threads' calls up (step %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---- stdio: fdopen, system, popen ---- */

static void test_stdio(int l)
{
	char cmd[160], line[64], b[32];
	FILE *fw, *fr, *p;
	int c, s, r;

	if (pair(l, &c, &s)) {
		ok(false, "stdio: pair");
		return;
	}
	fw = fdopen(c, "w");
	r = fw ? fprintf(fw, "hello %d\n", 42) : -1;
	ok(fw && r == 9 && fflush(fw) == 0 && !read_all(s, b, 9) &&
	   !memcmp(b, "hello 42\n", 9),
	   "fdopen(VMMC socket, \"w\"): fprintf + fflush sends \"hello 42\\n\" byte for byte");
	ok(fw && fileno(fw) == c, "fileno of that stream: the socket's fd (%d, %d)",
	   fw ? fileno(fw) : -2, c);
	fr = fdopen(s, "r");
	write_all(c, "line one\nline two\n", 18);
	ok(fr && fgets(line, sizeof(line), fr) && !strcmp(line, "line one\n") &&
	   fgets(line, sizeof(line), fr) && !strcmp(line, "line two\n"),
	   "fdopen(VMMC socket, \"r\"): fgets reads both lines whole");

	/* what a shell of system() and popen() gets at the socket's number */
	snprintf(cmd, sizeof(cmd),
		 "test -S /proc/self/fd/%d && test -z \"$(head -c 1 <&%d)\"", c, c);
	r = system(cmd);
	ok(r == 0, "system(): the shell finds a stand-in socket at fd %d that reads EOF, not the library's eventfd (status %#x)",
	   c, r);
	snprintf(cmd, sizeof(cmd), "test -S /proc/self/fd/%d && echo stand-in", c);
	p = popen(cmd, "r");
	line[0] = 0;
	ok(p && fgets(line, sizeof(line), p) && !strcmp(line, "stand-in\n") &&
	   pclose(p) == 0, "popen(\"r\"): the command sees the stand-in, pclose 0 (\"%.*s\")",
	   (int)strcspn(line, "\n"), line);
	p = popen("read x && test \"$x\" = piped", "w");
	ok(p && fputs("piped\n", p) >= 0 && pclose(p) == 0,
	   "popen(\"w\"): the command reads what was written, pclose 0");
	r = system("exit 3");
	ok(WIFEXITED(r) && WEXITSTATUS(r) == 3, "system(\"exit 3\"): status 3 (%#x)", r);
	ok(carries(c, s, 2000, 61), "the socket still works after system and popen");

	ok(fw && fclose(fw) == 0 && fgetc(fr) == EOF && feof(fr),
	   "fclose of the writing stream closes the socket: the reader's stream sees EOF");
	ok(fr && fclose(fr) == 0, "fclose of the reading stream: 0");
}

/* the part running now, for the watchdog's message */
static const char *volatile stage = "start";

/* The whole run's watchdog: say where it hung, then fail. */
static void on_watchdog(int sig)
{
	const char *a = "not ok - hung for 240 s in the ", *b = " tests\n";

	(void)sig;
	if (write(1, a, strlen(a)) < 0 || write(1, stage, strlen(stage)) < 0 ||
	    write(1, b, strlen(b)) < 0)
		_exit(1);
	_exit(1);
}

int main(int argc, char **argv)
{
	struct sigaction wd = { .sa_handler = on_watchdog };
	int l;

	if (argc == 2 && !strcmp(argv[1], "--linger")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return linger_image();
	}
	if (argc == 4 && !strcmp(argv[1], "--exec-image"))
		return exec_image(atoi(argv[2]), atoi(argv[3]));
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGALRM, &wd, NULL);
	alarm(240);
	printf("TAP version 13\n");
	l = listen_on(PORT);
	stage = "dup";
	if (argc < 2 || strstr(argv[1], "dup"))
		test_dup(l);
	stage = "fork";
	if (argc < 2 || strstr(argv[1], "fork"))
		test_fork(l);
	stage = "exec";
	if (argc < 2 || strstr(argv[1], "exec"))
		test_exec(argv[0], l);
	stage = "threads";
	if (argc < 2 || strstr(argv[1], "threads"))
		test_threads(l);
	stage = "eintr";
	if (argc < 2 || strstr(argv[1], "eintr"))
		test_eintr(l);
	stage = "fds";
	if (argc < 2 || strstr(argv[1], "fds"))
		test_fds(l);
	stage = "splice";
	if (argc < 2 || strstr(argv[1], "splice"))
		test_splice(l);
	stage = "ioctl";
	if (argc < 2 || strstr(argv[1], "ioctl"))
		test_ioctl(l);
	stage = "mmsg";
	if (argc < 2 || strstr(argv[1], "mmsg"))
		test_mmsg(l);
	stage = "stdio";
	if (argc < 2 || strstr(argv[1], "stdio"))
		test_stdio(l);
	stage = "follow";
	if (argc < 2 || strstr(argv[1], "follow"))
		test_follow(l);
	stage = "linger";
	if (argc < 2 || strstr(argv[1], "linger"))
		test_linger(argv[0]);
	close(l);
	printf("1..%d\n", tn);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       tn - tfail, tfail);
	return tfail ? 1 : 0;
}

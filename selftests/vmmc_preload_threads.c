// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_threads.c - vmmc_preload_test on threads: on different
 * sockets and on the same one, a waiting call that follows its socket
 * (close or dup2 under it), a close that lingers without the lock.
 */
#include "vmmc_preload_test.h"


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

void test_threads(int l)
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

/* ---- news that another thread took ---- */

#define KICK_ROUNDS	15

static bool in_poll(volatile pid_t *tid);

struct kick {
	int epfd;
	volatile int rounds;
	volatile pid_t tid;
	long woke_us[KICK_ROUNDS];
	bool good;
};

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* Blocks in epoll_wait for each round's byte; notes when it woke. */
static void *kick_waiter(void *arg)
{
	struct kick *k = arg;
	struct epoll_event ev;
	char b;
	int i, n;

	k->tid = (pid_t)syscall(SYS_gettid);
	k->good = true;
	for (i = 0; i < KICK_ROUNDS && k->good; i++) {
		n = epoll_wait(k->epfd, &ev, 1, 10000);
		k->woke_us[i] = now_us();
		k->good = n == 1 && recv(ev.data.fd, &b, 1, 0) == 1 &&
			  b == (char)i;
		k->rounds = i + 1;
	}
	return NULL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Stage "kick", run on its own by vmmc_preload.sh with the shim's slice
 * (VMMC_PRELOAD_SLICE_MS) at 2 s, so that a waiter that nobody kicks
 * wakes about 2 s after the send however loaded the host is, and one
 * that is kicked within milliseconds.
 *
 * A thread blocks in epoll_wait on socket s while this one, raised to
 * SCHED_FIFO so that the waiter cannot run meanwhile (the guest has one
 * CPU), sends s a byte and then calls recv(MSG_DONTWAIT) on another
 * socket for 1 ms: that call takes from the endpoint the notification
 * meant for s, and the endpoint's fd is not readable any more when the
 * waiter runs. The waiter must wake for its byte (the taker kicked it),
 * not when its wait's slice ends: the median wake of 15 rounds, from the
 * send, is under 500 ms (a slice is 2 s here).
 */
void test_kick(int l)
{
	struct sched_param rt = { .sched_priority = 1 }, other = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct kick k = { .epfd = -1 };
	long sent[KICK_ROUNDS], d[KICK_ROUNDS];
	int c, s, c2, s2, i;
	pthread_t tw;
	char b;

	if (pair(l, &c, &s) || pair(l, &c2, &s2)) {
		ok(false, "pairs for the kick test");
		return;
	}
	k.epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = s;
	if (k.epfd < 0 || epoll_ctl(k.epfd, EPOLL_CTL_ADD, s, &ev)) {
		ok(false, "epoll set for the kick test: %s", strerror(errno));
		return;
	}
	pthread_create(&tw, NULL, kick_waiter, &k);
	for (i = 0; i < KICK_ROUNDS; i++) {
		if (!in_poll(&k.tid))
			break;
		usleep(3000 + 1000 * (i % 7));
		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt))
			break;
		b = (char)i;
		sent[i] = now_us();
		if (send(c, &b, 1, 0) != 1)
			break;
		do
			(void)recv(s2, &b, 1, MSG_DONTWAIT);
		while (now_us() - sent[i] < 1000);
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
		while (k.rounds == i && now_us() - sent[i] < 15000000L)
			usleep(200);
		if (k.rounds != i + 1 || !k.good)
			break;
		d[i] = k.woke_us[i] - sent[i];
	}
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &other);
	if (i < KICK_ROUNDS)
		shutdown(s, SHUT_RDWR);
	pthread_join(tw, NULL);
	if (i == KICK_ROUNDS) {
		qsort(d, KICK_ROUNDS, sizeof(d[0]), cmp_long);
		ok(d[KICK_ROUNDS / 2] < 500000,
		   "a thread blocked in epoll_wait wakes for its byte though another thread took the news: median %ld us, max %ld us over %d rounds",
		   d[KICK_ROUNDS / 2], d[KICK_ROUNDS - 1], KICK_ROUNDS);
	} else {
		ok(false, "kick test: round %d of %d failed (%s)", i,
		   KICK_ROUNDS, !k.good ? "the waiter's answer was wrong" :
		   k.rounds != i ? "the waiter did not wake" : strerror(errno));
	}
	close(k.epfd);
	close(c);
	close(s);
	close(c2);
	close(s2);
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

void test_follow(int l)
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
int linger_image(void)
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

void test_linger(const char *self)
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

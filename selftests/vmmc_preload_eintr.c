// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_eintr.c - vmmc_preload_test on signals: a handler ends a
 * blocking call with EINTR.
 */
#include "vmmc_preload_test.h"

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

void test_eintr(int l)
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

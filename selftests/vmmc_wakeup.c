// SPDX-License-Identifier: GPL-2.0
/*
 * Description: no lost wake-ups. Several threads wait on one endpoint at
 * once, by VMMC_IOC_WAIT, poll() and epoll_wait(), for a completion that
 * comes after a delay that varies from round to round; every waiter must
 * see it, and the worst wake-up (from when the main thread saw the entry)
 * must be far below the waits' 10 s time-out. The second test has only
 * VMMC_IOC_WAIT waiters and a main thread that, at real-time priority,
 * takes a first "decoy" completion before the woken waiters can look:
 * they find nothing and must sleep again armed, or the NIC raises no
 * interrupt for the completion that follows. A host too loaded to tell
 * (the main thread itself saw an entry seconds late) makes a test SKIP.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define MAXW		6
#define TIMEOUT_MS	10000
#define BOUND_S		2.0	/* worst wake-up allowed */
#define LAG_S		2.0	/* the host is too loaded to judge beyond */
#define MAX(a, b)	((a) > (b) ? (a) : (b))

enum kind { K_IOCTL, K_POLL, K_EPOLL };

struct round {
	struct vmmc_ep ep;
	pthread_barrier_t go, done;
	int nw, rounds, stop;
	enum kind kind[MAXW];
	uint64_t want;		/* user_data of the awaited completion */
	uint32_t cons;		/* the CQ's cons for this round */
	double woke[MAXW];	/* when it saw it; 0: never */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Is the awaited completion in the CQ? Only peeks. */
static int arrived(struct round *s)
{
	uint32_t prod = vmmc_load_acquire(&s->ep.kcq->prod), i;

	for (i = s->cons; i != prod; i++)
		if (s->ep.cqes[i & s->ep.cq_mask].user_data == s->want)
			return 1;
	return 0;
}

static void wait_once(struct round *s, enum kind k, int epfd)
{
	struct vmmc_wait w = { .timeout_ms = TIMEOUT_MS };
	struct pollfd p = { .fd = s->ep.fd, .events = POLLIN };
	struct epoll_event ev;

	switch (k) {
	case K_IOCTL:
		ioctl(s->ep.fd, VMMC_IOC_WAIT, &w);
		break;
	case K_POLL:
		poll(&p, 1, TIMEOUT_MS);
		break;
	case K_EPOLL:
		epoll_wait(epfd, &ev, 1, TIMEOUT_MS);
		break;
	}
}

struct waiter {
	struct round *s;
	int i;
};

static void *waiter(void *arg)
{
	struct waiter *w = arg;
	struct round *s = w->s;
	struct epoll_event ev = { .events = EPOLLIN };
	int epfd = epoll_create1(0);
	double start;

	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, s->ep.fd, &ev))
		return NULL;
	for (;;) {
		pthread_barrier_wait(&s->go);
		if (s->stop)
			break;
		start = now_s();
		/* a return without it (an entry it does not want): again */
		while (!arrived(s) && now_s() - start < TIMEOUT_MS / 1000.0)
			wait_once(s, s->kind[w->i], epfd);
		s->woke[w->i] = arrived(s) ? now_s() : 0;
		pthread_barrier_wait(&s->done);
	}
	close(epfd);
	return NULL;
}

static void post(struct vmmc_ep *ep, uint64_t user_data, uint32_t delay_us)
{
	vmmc_prep_nop(vmmc_get_sqe(ep), user_data, delay_us);
	vmmc_submit(ep);
}

/* Spin (@spin) or nap until the CQ's first entry is @ud: when it was. */
static double seen(struct round *s, uint64_t ud, int spin)
{
	double end = now_s() + 30;
	struct vmmc_cqe *c;

	while (now_s() < end) {
		c = vmmc_peek_cqe(&s->ep);
		if (c && c->user_data == ud)
			return now_s();
		if (!spin)
			usleep(1000);
	}
	return 0;
}

static void consume(struct round *s)
{
	while (vmmc_peek_cqe(&s->ep))
		vmmc_cqe_seen(&s->ep);
}

static void set_fifo(int on)
{
	struct sched_param p = { .sched_priority = on ? 10 : 0 };

	pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER,
			      &p);
}

/*
 * Run @rounds rounds with the waiters of @kinds; @decoy: take a first
 * completion at real-time priority before the waiters look. Prints a
 * summary; 1 pass, 0 fail, -1 cannot judge (load).
 */
static int run(struct __test_metadata *_metadata, const enum kind *kinds,
	       int nw, int rounds, int decoy)
{
	struct round *s = calloc(1, sizeof(*s));
	struct waiter w[MAXW];
	pthread_t th[MAXW];
	double worst = 0, lag = 0, t_post, t_seen, l;
	uint64_t seed = vmmc_test_seed("wakeup");
	uint32_t delay;
	int i, r, missed = 0, verdict;

	if (!s || vmmc_ep_open(&s->ep, VMMC_DEV))
		return 0;
	s->nw = nw;
	memcpy(s->kind, kinds, nw * sizeof(*kinds));
	pthread_barrier_init(&s->go, NULL, nw + 1);
	pthread_barrier_init(&s->done, NULL, nw + 1);
	for (i = 0; i < nw; i++) {
		w[i] = (struct waiter){ s, i };
		pthread_create(&th[i], NULL, waiter, &w[i]);
	}
	for (r = 0; r < rounds && !missed; r++) {
		s->want = 1000 + r;
		s->cons = s->ep.cq_cons;
		pthread_barrier_wait(&s->go);
		usleep(vmmc_rand_range(&seed, 20, 80) * 1000); /* all asleep */
		delay = vmmc_rand_range(&seed, 0, 400) * 1000;
		if (decoy) {
			delay += 200000;
			set_fifo(1);
			post(&s->ep, 1, 20000);
			post(&s->ep, s->want, delay);
			t_post = now_s();
			/* woken by its interrupt, the waiters cannot run yet */
			if (seen(s, 1, 1))
				vmmc_cqe_seen(&s->ep);
			set_fifo(0);
		} else {
			post(&s->ep, s->want, delay);
			t_post = now_s();
		}
		t_seen = seen(s, s->want, 0);
		pthread_barrier_wait(&s->done);
		if (t_seen)
			lag = MAX(lag, t_seen - t_post - delay / 1e6);
		for (i = 0; i < nw; i++) {
			if (!s->woke[i]) {
				missed++;
				TH_LOG("round %d: waiter %d (kind %d) never saw the completion",
				       r, i, kinds[i]);
				continue;
			}
			l = s->woke[i] - t_seen;
			worst = MAX(worst, l);
			if (l >= BOUND_S)
				TH_LOG("round %d: waiter %d (kind %d) woke %.2f s late",
				       r, i, kinds[i], l);
		}
		if (worst >= BOUND_S)
			break;
		consume(s);
	}
	s->stop = 1;
	pthread_barrier_wait(&s->go);
	for (i = 0; i < nw; i++)
		pthread_join(th[i], NULL);
	printf("# %d rounds, %d waiters: %d missed, worst wake-up %.3f s, host lag %.3f s\n",
	       r, nw, missed, worst, lag);
	fflush(stdout);		/* the harness's child ends with _exit() */
	verdict = !missed && worst < BOUND_S;
	if (!verdict && lag >= LAG_S)
		verdict = -1;
	consume(s);
	vmmc_ep_close(&s->ep);
	free(s);
	return verdict;
}

FIXTURE(wk) {
	int unused;
};

FIXTURE_SETUP(wk)
{
}

FIXTURE_TEARDOWN(wk)
{
}

TEST_F_TIMEOUT(wk, mixed_waiters_all_woken, 120)
{
	static const enum kind k[] = { K_IOCTL, K_POLL, K_EPOLL,
				       K_IOCTL, K_POLL, K_EPOLL };
	int v = run(_metadata, k, 6, 30, 0);

	if (v < 0)
		SKIP(return, "host too loaded to judge wake-up latency");
	EXPECT_EQ(1, v);
}

TEST_F_TIMEOUT(wk, woken_waiters_rearm_after_decoy, 120)
{
	static const enum kind k[] = { K_IOCTL, K_IOCTL, K_IOCTL };
	struct sched_param p = { .sched_priority = 10 };
	int v;

	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &p))
		SKIP(return, "no SCHED_FIFO here: cannot order the decoy");
	set_fifo(0);
	v = run(_metadata, k, 3, 8, 1);
	if (v < 0)
		SKIP(return, "host too loaded to judge wake-up latency");
	EXPECT_EQ(1, v);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: no call's cost grows with the number of sockets (issue 15,
 * point 3): a ping-pong on one connection looks at as many sockets per
 * message with 64 idle connections beside it (each takes two of the
 * endpoint's imports) as with none: in progress (the sockets the NIC's
 * news names), in the timers (the sockets that are due: an idle
 * connection once per probe interval) and in epoll_wait (the sockets
 * queued as maybe ready, with all 130 in the set).
 * Counted (the stack's counts of sockets looked at), not timed; every
 * byte checked.
 */
#include <poll.h>
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"
#include "../ulib/sock/sock_loc.h"

#define IDLE	64
#define PINGS	200
#define LEN	64

/* epoll_wait on @ep until @fd is reported readable: 0, or -1 */
static int wait_in(int ep, int fd)
{
	struct epoll_event ev[8];
	int n, i, tries;

	for (tries = 0; tries < 10000; tries++) {
		n = vmmc_sock_epoll_wait(ep, ev, 8, 1000);
		if (n < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (ev[i].data.fd == fd && (ev[i].events & EPOLLIN))
				return 0;
	}
	return -1;
}

/* What one run of pings looked at, and how long it took. */
struct looks {
	int64_t steps;		/* sockets stepped per ping, times 100 */
	int64_t epoll;		/* sockets epoll_wait looked at, per ping x100 */
	uint64_t timers;	/* sockets the timers looked at, in all */
	uint64_t ms;
};

/*
 * PINGS pings c -> a -> c, each receive after epoll_wait on @ep (if not
 * -1) reported its socket readable: 0, or -1.
 */
static int ping_looks(struct __test_metadata *_metadata, int c, int a,
		      int ep, struct looks *lk)
{
	uint8_t out[LEN], in[LEN];
	uint64_t s0 = vs.steps, t0 = vs.timer_visits, e0 = vs.epoll_visits;
	uint64_t ns0 = vs_now_ns();
	int i;

	for (i = 0; i < PINGS; i++) {
		vmmc_fill_pattern(out, LEN, 9, 1, (uint64_t)i * LEN);
		if (vmmc_sock_send(c, out, LEN, 0) != LEN ||
		    (ep >= 0 && wait_in(ep, a)) ||
		    vmmc_sock_recv(a, in, LEN, MSG_WAITALL) != LEN ||
		    memcmp(in, out, LEN) ||
		    vmmc_sock_send(a, in, LEN, 0) != LEN ||
		    (ep >= 0 && wait_in(ep, c)) ||
		    vmmc_sock_recv(c, out, LEN, MSG_WAITALL) != LEN ||
		    memcmp(in, out, LEN)) {
			TH_LOG("ping %d failed", i);
			return -1;
		}
	}
	lk->ms = (vs_now_ns() - ns0) / 1000000;
	lk->timers = vs.timer_visits - t0;
	lk->steps = (int64_t)((vs.steps - s0) * 100 / PINGS);
	lk->epoll = (int64_t)((vs.epoll_visits - e0) * 100 / PINGS);
	return 0;
}

/* @fd into epoll set @ep, readable (level-triggered) */
static int ep_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return vmmc_sock_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * The timers look at an idle connection once per probe interval at most:
 * each of @socks sockets at most (@ms / interval + 2) times over @ms.
 */
static uint64_t timer_bound(int socks, uint64_t ms)
{
	return (uint64_t)socks * (ms / VMMC_SOCK_PROBE_MS + 2);
}

TEST(looks_do_not_grow_with_sockets)
{
	struct sockaddr_vmmc sa;
	struct vmmc_sock_stats st;
	uint16_t port = vs_test_port(12);
	int l = -1, c = -1, a = -1, cs[IDLE], as[IDLE], i, ep, ep2;
	struct looks alone, beside, e_alone, e_beside;
	struct epoll_event evs[8];
	struct pollfd pf = { .events = POLLIN };
	uint64_t t0, ns0, idle_ms;

	ASSERT_EQ(0, vs_pair(port, &l, &c, &a));
	ASSERT_EQ(0, ping_looks(_metadata, c, a, -1, &alone));
	ep = vmmc_sock_epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ep_add(ep, a));
	ASSERT_EQ(0, ep_add(ep, c));
	ASSERT_EQ(0, ping_looks(_metadata, c, a, ep, &e_alone));
	sa = vs_sa(VMMC_NODE_ANY, port);
	ep2 = vmmc_sock_epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep2);
	ASSERT_EQ(0, ep_add(ep2, a));
	ASSERT_EQ(0, ep_add(ep2, c));
	for (i = 0; i < IDLE; i++) {
		cs[i] = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
		ASSERT_LE(0, cs[i]);
		ASSERT_EQ(0, vmmc_sock_connect(cs[i], VS_SA(sa)));
		as[i] = vmmc_sock_accept(l, NULL, NULL);
		ASSERT_LE(0, as[i]);
		ASSERT_EQ(0, ep_add(ep2, cs[i]));
		ASSERT_EQ(0, ep_add(ep2, as[i]));
	}
	ASSERT_EQ(0, ping_looks(_metadata, c, a, -1, &beside));
	/* a new interest is looked at once (told the present state) */
	ASSERT_LE(0, vmmc_sock_epoll_wait(ep2, evs, 8, 0));
	ASSERT_EQ(0, ping_looks(_metadata, c, a, ep2, &e_beside));
	TH_LOG("per ping x100, alone / beside %d idle connections: steps %lld / %lld; epoll_wait looks %lld / %lld",
	       IDLE, (long long)alone.steps, (long long)beside.steps,
	       (long long)e_alone.epoll, (long long)e_beside.epoll);
	TH_LOG("timer looks in all: %llu in %llu ms alone, %llu in %llu ms beside (%llu with epoll)",
	       (unsigned long long)alone.timers, (unsigned long long)alone.ms,
	       (unsigned long long)beside.timers,
	       (unsigned long long)beside.ms,
	       (unsigned long long)e_beside.timers);
	/* the idle ones are never looked at by progress */
	EXPECT_LE(beside.steps, alone.steps + 50);
	/*
	 * nor by epoll_wait, though in its set, but when news comes for
	 * them: an idle connection's probe (one per probe interval at most)
	 */
	EXPECT_LE((uint64_t)e_beside.epoll * PINGS / 100,
		  (uint64_t)e_alone.epoll * PINGS / 100 + 100 +
		  timer_bound(2 * IDLE, e_beside.ms));
	/* nor by the timers, but for a probe per interval */
	EXPECT_LE(beside.timers, timer_bound(2 * IDLE + 3, beside.ms));
	EXPECT_LE(e_beside.timers, timer_bound(2 * IDLE + 3, e_beside.ms));
	/*
	 * Idle for about 3 probe intervals in 30 waits of 10 ms (the timers
	 * run after each): they still look at each socket once per interval
	 * (a walk over all of them after every wait: 30 x 131)
	 */
	t0 = vs.timer_visits;
	ns0 = vs_now_ns();
	pf.fd = a;
	for (i = 0; i < 30; i++)
		EXPECT_EQ(0, vmmc_sock_poll(&pf, 1, VMMC_SOCK_PROBE_MS / 10));
	idle_ms = (vs_now_ns() - ns0) / 1000000;
	TH_LOG("idle %llu ms: %llu timer looks, %llu waits in all, %u timers",
	       (unsigned long long)idle_ms,
	       (unsigned long long)(vs.timer_visits - t0),
	       (unsigned long long)vs.st.waits, vs.nheap);
	EXPECT_LE(vs.timer_visits - t0, timer_bound(2 * IDLE + 3, idle_ms));
	EXPECT_EQ(0, vmmc_sock_epoll_close(ep));
	EXPECT_EQ(0, close(ep));
	for (i = 0; i < IDLE; i++) {
		EXPECT_EQ(0, vmmc_sock_close(cs[i]));
		EXPECT_EQ(0, vmmc_sock_close(as[i]));
	}
	EXPECT_EQ(0, vmmc_sock_epoll_close(ep2));
	EXPECT_EQ(0, close(ep2));
	EXPECT_EQ(0, vmmc_sock_close(a));
	EXPECT_EQ(0, vmmc_sock_close(c));
	EXPECT_EQ(0, vmmc_sock_close(l));
	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
}

TEST_HARNESS_MAIN

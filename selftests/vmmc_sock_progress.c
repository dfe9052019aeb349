// SPDX-License-Identifier: GPL-2.0
/*
 * Description: progress follows the NIC's news straight to its socket
 * (issue 15, point 3): a ping-pong on one connection looks at as many
 * sockets per message with 64 idle connections beside it (each takes two
 * of the endpoint's imports) as with none.
 * Counted (the stack's count of sockets stepped), not timed; every byte
 * checked. The timers' walk over every socket (after a wait, at most
 * once a millisecond) is counted and shown, not bounded.
 */
#include "kselftest_harness.h"
#include "vmmc_sock_test.h"
#include "../ulib/sock/sock_loc.h"

#define IDLE	64
#define PINGS	200
#define LEN	64

/* @n pings c -> a -> c: the sockets stepped per ping (times 100) */
static int64_t ping_steps(struct __test_metadata *_metadata, int c, int a,
			  uint64_t *visits)
{
	uint8_t out[LEN], in[LEN];
	uint64_t s0 = vs.steps, t0 = vs.timer_visits;
	int i;

	for (i = 0; i < PINGS; i++) {
		vmmc_fill_pattern(out, LEN, 9, 1, (uint64_t)i * LEN);
		if (vmmc_sock_send(c, out, LEN, 0) != LEN ||
		    vmmc_sock_recv(a, in, LEN, MSG_WAITALL) != LEN ||
		    memcmp(in, out, LEN) ||
		    vmmc_sock_send(a, in, LEN, 0) != LEN ||
		    vmmc_sock_recv(c, out, LEN, MSG_WAITALL) != LEN ||
		    memcmp(in, out, LEN)) {
			TH_LOG("ping %d failed", i);
			return -1;
		}
	}
	*visits = vs.timer_visits - t0;
	return (int64_t)((vs.steps - s0) * 100 / PINGS);
}

TEST(steps_do_not_grow_with_sockets)
{
	struct sockaddr_vmmc sa;
	struct vmmc_sock_stats st;
	uint16_t port = vs_test_port(12);
	int l = -1, c = -1, a = -1, cs[IDLE], as[IDLE], i;
	int64_t alone, beside;
	uint64_t v_alone, v_beside;

	ASSERT_EQ(0, vs_pair(port, &l, &c, &a));
	alone = ping_steps(_metadata, c, a, &v_alone);
	ASSERT_LE(0, alone);
	sa = vs_sa(VMMC_NODE_ANY, port);
	for (i = 0; i < IDLE; i++) {
		cs[i] = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
		ASSERT_LE(0, cs[i]);
		ASSERT_EQ(0, vmmc_sock_connect(cs[i], VS_SA(sa)));
		as[i] = vmmc_sock_accept(l, NULL, NULL);
		ASSERT_LE(0, as[i]);
	}
	beside = ping_steps(_metadata, c, a, &v_beside);
	ASSERT_LE(0, beside);
	TH_LOG("sockets stepped per ping x100: %lld alone, %lld beside %d idle connections; timer visits %llu, %llu",
	       (long long)alone, (long long)beside, IDLE,
	       (unsigned long long)v_alone, (unsigned long long)v_beside);
	/* the idle ones are never looked at by progress */
	EXPECT_LE(beside, alone + 50);
	for (i = 0; i < IDLE; i++) {
		EXPECT_EQ(0, vmmc_sock_close(cs[i]));
		EXPECT_EQ(0, vmmc_sock_close(as[i]));
	}
	EXPECT_EQ(0, vmmc_sock_close(a));
	EXPECT_EQ(0, vmmc_sock_close(c));
	EXPECT_EQ(0, vmmc_sock_close(l));
	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a rogue socket peer or listener cannot stall its victim
 * (issue 13, point 2). A forked rogue accepts the victim's connection and
 * then never calls the library again (never reaps its NQ), or also writes
 * its NQ cons past prod; or it listens with a lying NQ cons and never
 * accepts. The victim sends to it (600 one-byte sends, each a data and a
 * notifying state SEND; or a non-blocking connect whose requests notify)
 * while it streams 1 MiB over an honest connection, byte-checked: the
 * honest stream finishes, at a rate judged against the same stream
 * without the rogue, every send to the rogue is accepted, and the rogue
 * finds its lost notifications counted by vmmc_nq_dropped().
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"
#include "../ulib/sock/sock_loc.h"

#define HONEST		(1u << 20)
#define CHUNK		16384
#define ROGUE_SENDS	600
#define DEADLINE_S	60

enum kind { PEER_NEVER_REAPS, PEER_CONS_LIES, LISTENER_CONS_LIES };

FIXTURE(srogue) {
	int to_child[2], from_child[2];
	pid_t child;
	uint16_t port;		/* the rogue's */
	uint8_t *sb, *rb;
};

FIXTURE_VARIANT(srogue) {
	enum kind kind;
};

FIXTURE_VARIANT_ADD(srogue, peer_never_reaps) { .kind = PEER_NEVER_REAPS };
FIXTURE_VARIANT_ADD(srogue, peer_cons_lies) { .kind = PEER_CONS_LIES };
FIXTURE_VARIANT_ADD(srogue, listener_cons_lies) { .kind = LISTENER_CONS_LIES };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The rogue: listen, maybe accept, lie, then sleep in read(). */
static void rogue(int in, int out, enum kind kind, uint16_t port)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	uint32_t dropped;
	int l, fd = -1;
	uint8_t go = 1;

	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0 || vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 8))
		_exit(2);
	if (kind == LISTENER_CONS_LIES)
		vmmc_store_release(&vs.ep.knq->cons,
				   vmmc_load_acquire(&vs.ep.knq->prod) + 7);
	if (write(out, &go, 1) != 1)
		_exit(3);
	if (kind != LISTENER_CONS_LIES) {
		fd = vmmc_sock_accept(l, NULL, NULL);
		if (fd < 0)
			_exit(4);
		if (kind == PEER_CONS_LIES)
			vmmc_store_release(&vs.ep.knq->cons,
					   vmmc_load_acquire(&vs.ep.knq->prod) + 7);
		if (write(out, &go, 1) != 1)
			_exit(5);
	}
	if (read(in, &go, 1) != 1)	/* never reaps meanwhile */
		_exit(6);
	dropped = vmmc_nq_dropped(&vs.ep);
	if (write(out, &dropped, sizeof(dropped)) != sizeof(dropped))
		_exit(7);
	_exit(0);
}

FIXTURE_SETUP(srogue)
{
	uint8_t go;

	self->port = vs_test_port(5);
	self->sb = malloc(CHUNK);
	self->rb = malloc(CHUNK);
	ASSERT_NE(NULL, self->sb);
	ASSERT_NE(NULL, self->rb);
	ASSERT_EQ(0, pipe(self->to_child));
	ASSERT_EQ(0, pipe(self->from_child));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		close(self->to_child[1]);
		close(self->from_child[0]);
		rogue(self->to_child[0], self->from_child[1], variant->kind,
		      self->port);
	}
	close(self->to_child[0]);
	close(self->from_child[1]);
	ASSERT_EQ(1, read(self->from_child[0], &go, 1)) TH_LOG("rogue did not start");
}

FIXTURE_TEARDOWN(srogue)
{
	int st;

	close(self->to_child[1]);
	close(self->from_child[0]);
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &st, 0);
	}
	free(self->sb);
	free(self->rb);
}

/*
 * Move HONEST bytes c -> a in one thread, checked; each round also sends
 * one byte to @rogue (if >= 0), counted in *to_rogue, until ROGUE_SENDS
 * went. Seconds, or < 0.
 */
static double honest(struct __test_metadata *_metadata, int c, int a,
		     uint8_t *sb, uint8_t *rb, uint64_t seed, int rogue,
		     unsigned int *to_rogue)
{
	size_t sent = 0, got = 0, n;
	double t0 = now_s();
	ssize_t r;
	long bad;

	while (got < HONEST || (rogue >= 0 && *to_rogue < ROGUE_SENDS)) {
		if (now_s() - t0 > DEADLINE_S) {
			TH_LOG("honest stream stalled: %zu of %u bytes in %d s (%u sends to the rogue)",
			       got, HONEST, DEADLINE_S, *to_rogue);
			return -1;
		}
		if (sent < HONEST) {
			n = HONEST - sent < CHUNK ? HONEST - sent : CHUNK;
			vmmc_fill_pattern(sb, n, seed, 0, sent);
			r = vmmc_sock_send(c, sb, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0) {
				sent += (size_t)r;
			} else if (r != -EAGAIN) {
				TH_LOG("honest send: %zd", r);
				return -1;
			}
		}
		r = vmmc_sock_recv(a, rb, CHUNK, MSG_DONTWAIT);
		if (r > 0) {
			bad = vmmc_check_pattern(rb, (size_t)r, seed, 0, got);
			if (bad != -1) {
				TH_LOG("honest byte %zu wrong", got + bad);
				return -1;
			}
			got += (size_t)r;
		} else if (r != -EAGAIN) {
			TH_LOG("honest recv: %zd", r);
			return -1;
		}
		if (rogue >= 0 && *to_rogue < ROGUE_SENDS &&
		    vmmc_sock_send(rogue, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
			++*to_rogue;
		vmmc_sock_progress();
	}
	return now_s() - t0;
}

TEST_F_TIMEOUT(srogue, honest_connection_keeps_moving, 300)
{
	struct sockaddr_vmmc ra = vs_sa(VMMC_NODE_ANY, self->port);
	unsigned int to_rogue = 0, i;
	double alone, with;
	uint32_t dropped;
	int l = -1, c = -1, a = -1, r;
	uint8_t go = 1;

	ASSERT_EQ(0, vs_pair(vs_test_port(6), &l, &c, &a));
	alone = honest(_metadata, c, a, self->sb, self->rb, 1, -1, &to_rogue);
	ASSERT_LT(0, alone) TH_LOG("the honest stream alone failed");

	r = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	ASSERT_LE(0, r);
	if (variant->kind == LISTENER_CONS_LIES) {
		/* its request (and every retry) notifies a lying NQ */
		vmmc_sock_set_nonblock(r, 1);
		EXPECT_EQ(-EINPROGRESS, vmmc_sock_connect(r, VS_SA(ra)));
		to_rogue = ROGUE_SENDS;
	} else {
		ASSERT_EQ(0, vmmc_sock_connect(r, VS_SA(ra)));
		ASSERT_EQ(1, read(self->from_child[0], &go, 1));
		/* first the rogue's NQ fills (or its cons lies) ... */
		for (i = 0; i < ROGUE_SENDS / 2; i++)
			to_rogue += vmmc_sock_send(r, "x", 1,
						   MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
	}
	/* ... then more to it, interleaved with the honest stream */
	with = honest(_metadata, c, a, self->sb, self->rb, 2, r, &to_rogue);
	TH_LOG("honest 1 MiB: %.0f ms alone, %.0f ms beside the rogue",
	       alone * 1e3, with * 1e3);
	EXPECT_LT(0, with) TH_LOG("the rogue stalled its victim's honest connection");
	EXPECT_GE(alone * 20 + 5, with) TH_LOG("honest throughput collapsed");
	EXPECT_EQ(ROGUE_SENDS, to_rogue) TH_LOG("sends to the rogue stopped being accepted");

	ASSERT_EQ(1, write(self->to_child[1], &go, 1));
	ASSERT_EQ(sizeof(dropped), read(self->from_child[0], &dropped,
					sizeof(dropped)));
	EXPECT_LT(0, dropped) TH_LOG("the rogue lost no notification?");
	TH_LOG("the rogue's vmmc_nq_dropped(): %u", dropped);
	EXPECT_EQ(0, vmmc_sock_close(r));
	EXPECT_EQ(0, vmmc_sock_close(a));
	EXPECT_EQ(0, vmmc_sock_close(c));
	EXPECT_EQ(0, vmmc_sock_close(l));
	VS_EXPECT_ALL_CLOSED();
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: VMMC_SO_BUSY_POLL does not spin forever. A blocking
 * receive that spins on the rings (a small one, copied; a large one,
 * with a zero-copy redirect posted) returns ECONNRESET once the peer's
 * process dies (the liveness probes it sends while spinning find the
 * peer's export revoked), and one with SO_RCVTIMEO returns EAGAIN once
 * the time-out passed, not much later. Afterwards no redirect slot is
 * held and every socket gauge is back to zero. VMMC_SOCK_WAIT sets how
 * the stack's waits wait (block at once, or a fixed spin), and a bad
 * value leaves the default.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A peer process that connects to @port, writes one byte to @pipe_w,
 * then dies after @die_ms (0: lives until killed).
 */
static pid_t peer(uint16_t port, int pipe_w, unsigned int die_ms)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	fd = vs_connect_retry(VMMC_NODE_ANY, port, 200, 10000);
	if (fd < 0 || write(pipe_w, "c", 1) != 1)
		_exit(2);
	if (die_ms) {
		usleep(die_ms * 1000);
		kill(getpid(), SIGKILL);
	}
	for (;;)
		pause();
}

/* Listen, start the peer, accept, spin: the accepted fd. */
static int busy_pair(struct __test_metadata *_metadata, uint16_t port,
		     unsigned int die_ms, pid_t *pid, int *l)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	int p[2], fd, one = 1;
	char c;

	*l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	EXPECT_LE(0, *l);
	EXPECT_EQ(0, vmmc_sock_bind(*l, VS_SA(a)));
	EXPECT_EQ(0, vmmc_sock_listen(*l, 1));
	EXPECT_EQ(0, pipe(p));
	*pid = peer(port, p[1], die_ms);
	fd = vmmc_sock_accept(*l, NULL, NULL);
	EXPECT_LE(0, fd);
	EXPECT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(0, vmmc_sock_setsockopt(fd, SOL_VMMC, VMMC_SO_BUSY_POLL,
					  &one, sizeof(one)));
	return fd;
}

static void all_closed(struct __test_metadata *_metadata, int fd, int l)
{
	struct vmmc_sock_stats st;

	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.zc_active);
	EXPECT_EQ(0, vmmc_sock_close(fd));
	EXPECT_EQ(0, vmmc_sock_close(l));
	VS_EXPECT_ALL_CLOSED();
}

static void dead_peer(struct __test_metadata *_metadata, uint16_t port,
		      size_t len)
{
	static uint8_t buf[256 << 10];
	struct vmmc_sock_stats s0, s1;
	int fd, l, status;
	uint64_t t0;
	pid_t pid;
	ssize_t r;

	fd = busy_pair(_metadata, port, 300, &pid, &l);
	vmmc_sock_stats(&s0);
	t0 = now_ms();
	r = vmmc_sock_recv(fd, buf, len, 0);
	EXPECT_EQ(-ECONNRESET, r);
	TH_LOG("%zu-byte busy-poll receive: %zd after %llu ms", len, r,
	       (unsigned long long)(now_ms() - t0));
	vmmc_sock_stats(&s1);
	EXPECT_LT(s0.probes, s1.probes);
	EXPECT_EQ(s0.resets + 1, s1.resets);
	EXPECT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	all_closed(_metadata, fd, l);
}

FIXTURE(busy) {
	int unused;
};

FIXTURE_SETUP(busy)
{
}

FIXTURE_TEARDOWN(busy)
{
}

/* A small receive (copied) and a large one (redirect posted). */
TEST_F_TIMEOUT(busy, dead_peer_copy, 60)
{
	dead_peer(_metadata, vs_test_port(0), 100);
}

TEST_F_TIMEOUT(busy, dead_peer_zero_copy, 60)
{
	dead_peer(_metadata, vs_test_port(1), 256 << 10);
}

TEST_F_TIMEOUT(busy, rcvtimeo, 60)
{
	static uint8_t buf[256 << 10];
	struct timeval tv = { 0, 200000 };
	size_t lens[2] = { 100, sizeof(buf) };
	int fd, l, i, status;
	uint64_t t0, dt;
	pid_t pid;

	fd = busy_pair(_metadata, vs_test_port(2), 0, &pid, &l);
	EXPECT_EQ(0, vmmc_sock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					  sizeof(tv)));
	for (i = 0; i < 2; i++) {
		t0 = now_ms();
		EXPECT_EQ(-EAGAIN, vmmc_sock_recv(fd, buf, lens[i], 0));
		dt = now_ms() - t0;
		TH_LOG("%zu-byte receive timed out after %llu ms", lens[i],
		       (unsigned long long)dt);
		EXPECT_LE(200, dt);
		EXPECT_GT(10000, dt);
	}
	kill(pid, SIGKILL);
	EXPECT_EQ(pid, waitpid(pid, &status, 0));
	all_closed(_metadata, fd, l);
}

/*
 * In a process of its own (the stack opens its endpoint once): with
 * VMMC_SOCK_WAIT=@env, the spin limit is @spin_ns (~0u: the default,
 * neither 0 nor 30 us), and 256 KiB still arrive byte for byte. The exit
 * status says what failed (0: nothing).
 */
static int wait_env_child(const char *env, uint32_t spin_ns, uint16_t port)
{
	static uint8_t out[256 << 10], in[256 << 10];
	size_t i, off = 0, sent = 0;
	uint32_t got;
	int l, c, a;
	ssize_t r;

	if (setenv("VMMC_SOCK_WAIT", env, 1) || vs_pair(port, &l, &c, &a))
		return 1;
	got = vmmc_sock_spin_ns();
	if (spin_ns == ~0u ? got == 0 || got == 30000 : got != spin_ns)
		return 2;
	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	/* what the window takes, then a blocking receive (it waits) */
	while (off < sizeof(in)) {
		if (sent < sizeof(out)) {
			r = vmmc_sock_send(c, out + sent, sizeof(out) - sent,
					   MSG_DONTWAIT);
			if (r <= 0 && r != -EAGAIN)
				return 3;
			sent += r > 0 ? (size_t)r : 0;
		}
		r = vmmc_sock_recv(a, in + off, sizeof(in) - off, 0);
		if (r <= 0)
			return 4;
		off += (size_t)r;
	}
	if (memcmp(in, out, sizeof(in)))
		return 5;
	if (vmmc_sock_close(a) || vmmc_sock_close(c) || vmmc_sock_close(l))
		return 6;
	return 0;
}

TEST_F_TIMEOUT(busy, wait_env, 60)
{
	static const struct { const char *env; uint32_t spin_ns; } cases[] = {
		{ "block", 0 }, { "30", 30000 }, { "30x", ~0u }, { "0", ~0u },
	};
	unsigned int i;
	int status;
	pid_t pid;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(wait_env_child(cases[i].env, cases[i].spin_ns,
					     vs_test_port(i)));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("VMMC_SOCK_WAIT=%s", cases[i].env);
		}
	}
}

TEST_HARNESS_MAIN

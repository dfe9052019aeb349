// SPDX-License-Identifier: GPL-2.0
/*
 * Description: VMMC stream sockets under UTLB and RLIMIT_MEMLOCK pressure
 * (as user nobody, so that the limit holds). The library's own pins (a
 * connection's control page and staging ring) are never evicted for
 * zero-copy receive buffers, which stay within their pin budget
 * (VMMC_SOCK_ZC_PIN_MAX) or are copied into instead (zc_nopin); a
 * staging ring that cannot be pinned again after the kernel dropped the
 * translations (a munmap of a pinned buffer) makes send fail with ENOMEM
 * (nothing accepted) or resets the connection with ENOMEM (bytes were
 * accepted), never a silent retry; and with many distinct receive
 * buffers being pinned, evicted and refused, a thread in
 * SECCOMP_MODE_STRICT keeps streaming on another connection with no
 * system call. Every stream is checked byte for byte, and at the end of
 * each test the process pins nothing (VmPin 0) and every socket gauge is
 * back to zero.
 */
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define KiB	1024L
#define MiB	(1024 * KiB)
#define RING	(256 * KiB)	/* the default receive ring */

/* VmPin once the kernel's reaper gave back what it dropped (munmap). */
static long vm_pin_settled(void)
{
	long kb = vmmc_vm_pin_kb(), prev = -2;
	int i;

	for (i = 0; i < 100 && kb != prev; i++) {
		usleep(10000);
		prev = kb;
		kb = vmmc_vm_pin_kb();
	}
	return kb;
}

/* The soft RLIMIT_MEMLOCK, in KiB (the hard one stays 64 MiB). */
static int memlock_kb(long kb)
{
	struct rlimit rl = { (rlim_t)(kb < 0 ? 0 : kb) * 1024, 64 * MiB };

	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* Become nobody with a 64 MiB hard limit: the limit then holds. */
static int become_nobody(void)
{
	if (memlock_kb(64 * 1024) || setgid(65534) || setuid(65534))
		return -1;
	return 0;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * A blocking receive into @buf that finds the ring empty: posts its
 * redirect (pinning @buf within the budget) or copies; SO_RCVTIMEO ends
 * it with EAGAIN, as nothing comes (this process is the only sender).
 */
static ssize_t zc_try(int fd, void *buf, size_t len)
{
	return vmmc_sock_recv(fd, buf, len, 0);
}

static int set_rcvtimeo(int fd, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return vmmc_sock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv));
}

/* Send @n bytes of stream @dir at @off on @c, take them on @a, check. */
static int xfer_check(int c, int a, uint64_t seed, uint64_t dir,
		      uint64_t off, size_t n)
{
	static uint8_t b[64 * 1024];
	size_t got = 0;
	ssize_t r;

	if (n > sizeof(b))
		return -EINVAL;
	vmmc_fill_pattern(b, n, seed, dir, off);
	r = vmmc_sock_send(c, b, n, MSG_NOSIGNAL);
	if (r != (ssize_t)n)
		return r < 0 ? (int)r : -EIO;
	memset(b, 0, n);
	while (got < n) {
		r = vmmc_sock_recv(a, b + got, n - got, 0);
		if (r <= 0)
			return r ? (int)r : -ENODATA;
		got += (size_t)r;
	}
	return vmmc_check_pattern(b, n, seed, dir, off) == -1 ? 0 : -EBADMSG;
}

/* Close everything: then the endpoint is closed and nothing is pinned. */
static int all_gone(int l, int c, int a)
{
	struct vmmc_sock_stats st;

	vmmc_sock_close(c);
	vmmc_sock_close(a);
	vmmc_sock_close(l);
	vmmc_sock_stats(&st);
	if (st.sockets || st.conns || st.listeners || st.inflight ||
	    st.zc_active || st.zc_pin_ranges || st.zc_pin_pages)
		return -1;
	if (vmmc_sock_ep_fd() != -1 || vm_pin_settled() != 0)
		return -2;
	return 0;
}

/* Run @fn in a child; its exit status (0: all good, else the step). */
static int in_child(int (*fn)(uint16_t), uint16_t port)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(port));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Budget: eight distinct 256 KiB buffers with a 1 MiB budget: each
 * receive pins its buffer (zc_posts), the oldest ones leave, never more
 * than 4 ranges or 256 pages. Then the limit so low that no buffer fits
 * even with every zero-copy pin gone: the receive copies (zc_nopin), and
 * the connection's own pins are all still there: a send and a receive
 * go through with no pin at all.
 */
static int budget_child(uint16_t port)
{
	struct vmmc_sock_stats s0, s1;
	uint64_t seed = vmmc_test_seed("sock pin budget");
	uint8_t *buf[9];
	int l, c, a, i;
	long pin;

	if (become_nobody())
		return 2;
	setenv("VMMC_SOCK_ZC_PIN_MAX", "1048576", 1);
	if (vs_pair(port, &l, &c, &a) || set_rcvtimeo(a, 2))
		return 3;
	for (i = 0; i < 9; i++)
		if (!(buf[i] = map(RING)))
			return 4;
	if (xfer_check(c, a, seed, 1, 0, 1000))
		return 5;
	for (i = 0; i < 8; i++) {
		vmmc_sock_stats(&s0);
		if (zc_try(a, buf[i], RING) != -EAGAIN)
			return 6;
		vmmc_sock_stats(&s1);
		/* one redirect, or two where the ring wraps */
		if (s1.zc_posts <= s0.zc_posts || s1.zc_nopin != s0.zc_nopin)
			return 7;
		if (s1.zc_pin_ranges != (uint32_t)(i < 4 ? i + 1 : 4) ||
		    s1.zc_pin_pages != s1.zc_pin_ranges * RING / 4096)
			return 8;
	}
	/* below what is pinned now less the zero-copy pins, less 128 KiB */
	pin = vm_pin_settled();
	if (memlock_kb(pin - 1024 - 128))
		return 9;
	vmmc_sock_stats(&s0);
	if (zc_try(a, buf[8], RING) != -EAGAIN)
		return 10;
	vmmc_sock_stats(&s1);
	if (s1.zc_posts != s0.zc_posts || s1.zc_nopin != s0.zc_nopin + 1 ||
	    s1.zc_fallbacks != s0.zc_fallbacks + 1 || s1.zc_pin_ranges)
		return 11;
	/* the connection's own pins stayed: both ways work, byte-exact */
	if (xfer_check(c, a, seed, 1, 1000, 5000) ||
	    xfer_check(a, c, seed, 2, 0, 5000))
		return 12;
	if (vm_pin_settled() != pin - 1024)
		return 13;
	if (memlock_kb(64 * 1024))
		return 14;
	if (all_gone(l, c, a))
		return 15;
	return 0;
}

/*
 * The kernel dropped translations (a pinned receive buffer unmapped):
 * the connection's own pins are pinned again at their next use; with
 * the limit too low for that, send fails with ENOMEM and accepts
 * nothing (the stream goes on once the limit allows), and a FIN that
 * cannot go out resets the connection with ENOMEM (pin_resets), which
 * the next call returns. Nothing hangs.
 */
static int gen_bump(int fd)
{
	uint8_t *b = map(RING);

	if (!b || zc_try(fd, b, RING) != -EAGAIN)
		return -1;
	return munmap(b, RING);
}

static int repin_child(uint16_t port)
{
	struct vmmc_sock_stats s0, s1;
	uint64_t seed = vmmc_test_seed("sock pin repin");
	uint8_t b[1000];
	int l, c, a;
	ssize_t r;
	long pin;

	if (become_nobody())
		return 2;
	if (vs_pair(port, &l, &c, &a) || set_rcvtimeo(a, 2) ||
	    set_rcvtimeo(c, 2))
		return 3;
	if (xfer_check(c, a, seed, 1, 0, 1000))
		return 4;
	if (gen_bump(c))
		return 5;
	pin = vm_pin_settled();
	if (memlock_kb(pin - 8))
		return 6;
	vmmc_sock_stats(&s0);
	vmmc_fill_pattern(b, sizeof(b), seed, 1, 1000);
	r = vmmc_sock_send(c, b, sizeof(b), MSG_NOSIGNAL);
	if (r != -ENOMEM)
		return 7;
	if (vmmc_sock_recv(a, b, sizeof(b), MSG_DONTWAIT) != -EAGAIN)
		return 8;
	vmmc_sock_stats(&s1);
	if (s1.pin_resets != s0.pin_resets || s1.tx_bytes != s0.tx_bytes)
		return 9;
	/* room again: the same bytes go, and nothing else went before */
	if (memlock_kb(64 * 1024))
		return 10;
	if (xfer_check(c, a, seed, 1, 1000, 1000) ||
	    xfer_check(a, c, seed, 2, 0, 3000))
		return 11;
	/* a FIN that cannot go out for want of a pin: reset, ENOMEM */
	if (gen_bump(a))
		return 12;
	pin = vm_pin_settled();
	if (memlock_kb(pin - 8))
		return 13;
	vmmc_sock_stats(&s0);
	if (vmmc_sock_shutdown(c, SHUT_WR))
		return 14;
	vmmc_sock_stats(&s1);
	if (s1.pin_resets != s0.pin_resets + 1)
		return 15;
	if (vmmc_sock_send(c, b, 10, MSG_NOSIGNAL) != -ENOMEM)
		return 16;
	if (vmmc_sock_send(c, b, 10, MSG_NOSIGNAL) != -EPIPE)
		return 17;
	if (memlock_kb(64 * 1024))
		return 18;
	if (all_gone(l, c, a))
		return 19;
	return 0;
}

/*
 * Streaming under pressure. This process (nobody) receives a stream
 * from a peer process into twelve distinct 256 KiB buffers in turn
 * (pinned, evicted within a 512 KiB budget, never over it; then, with the limit below
 * what the library holds, refused and copied), while a thread of it in
 * SECCOMP_MODE_STRICT sends another stream to the peer with no system
 * call (any would kill the process). Then, with room again, buffers are
 * unmapped and new ones mapped for every receive (the kernel drops
 * their translations each time) while the main thread streams too. The
 * library is used by one thread at a time (a spin lock of the test).
 */
#define P_BUFS		12
#define P_RX1		(48 * RING)	/* peer -> us while the thread sends */
#define P_RX2		(16 * RING)	/* ... then with unmapping */
#define P_TX1		(8 * MiB)	/* the strict thread -> peer */
#define P_TX2		(2 * MiB)	/* the main thread -> peer, after */

static struct {
	int lock, rx, tx;
	uint64_t seed, tx_off;
	volatile int done, err;
} P;

static void p_lock(void)
{
	while (__atomic_exchange_n(&P.lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void p_unlock(void)
{
	__atomic_store_n(&P.lock, 0, __ATOMIC_RELEASE);
}

static void *strict_sender(void *arg)
{
	static uint8_t b[16 * 1024];
	uint64_t s = P.seed ^ 3;
	size_t n;
	ssize_t r;

	(void)arg;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) {
		P.err = 1;
		P.done = 1;
		return NULL;
	}
	while (P.tx_off < P_TX1) {
		n = vmmc_rand_size(&s, sizeof(b));
		if (n > P_TX1 - P.tx_off)
			n = P_TX1 - P.tx_off;
		vmmc_fill_pattern(b, n, P.seed, 3, P.tx_off);
		for (;;) {
			p_lock();
			r = vmmc_sock_send(P.tx, b, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			p_unlock();
			if (r != -EAGAIN)
				break;
			__builtin_ia32_pause();
		}
		if (r <= 0) {
			P.err = 2;
			break;
		}
		P.tx_off += (uint64_t)r;
		if ((size_t)r < n) {
			/* the rest of this piece: fill again from there */
			continue;
		}
	}
	__atomic_store_n(&P.done, 1, __ATOMIC_RELEASE);
	syscall(SYS_exit, 0);
	return NULL;
}

/* Receive @len bytes of stream 4 at @off into @b (WAITALL), check. */
static int p_recv(uint8_t *b, size_t len, uint64_t off, bool locked)
{
	ssize_t r;

	memset(b, 0, len);
	if (locked)
		p_lock();
	r = vmmc_sock_recv(P.rx, b, len, MSG_WAITALL);
	if (locked)
		p_unlock();
	if (r != (ssize_t)len)
		return -1;
	return vmmc_check_pattern(b, len, P.seed, 4, off) == -1 ? 0 : -2;
}

/* The peer: streams 4 to us, checks stream 3 from us, both at once. */
static int pressure_peer(uint16_t port)
{
	static uint8_t tb[32 * 1024], rb[64 * 1024];
	uint64_t s = P.seed ^ 4, toff = 0, roff = 0;
	uint64_t rtotal = P_TX1 + P_TX2, ttotal = P_RX1 + P_RX2;
	struct pollfd pf[2];
	int l, rx, tx;
	size_t n = 0, sent = 0;
	ssize_t r;
	struct sockaddr_vmmc sa = vs_sa(VMMC_NODE_ANY, port);

	l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (l < 0 || vmmc_sock_bind(l, VS_SA(sa)) || vmmc_sock_listen(l, 2))
		return 2;
	tx = vmmc_sock_accept(l, NULL, NULL);	/* ours to send on */
	rx = vmmc_sock_accept(l, NULL, NULL);
	if (tx < 0 || rx < 0)
		return 3;
	while (toff < ttotal || roff < rtotal) {
		bool idle = true;

		if (toff < ttotal) {
			if (sent == n) {
				n = vmmc_rand_size(&s, sizeof(tb));
				if (n > ttotal - toff)
					n = ttotal - toff;
				vmmc_fill_pattern(tb, n, P.seed, 4, toff);
				sent = 0;
			}
			r = vmmc_sock_send(tx, tb + sent, n - sent,
					   MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0) {
				sent += (size_t)r;
				toff += (uint64_t)r;
				idle = false;
			} else if (r != -EAGAIN) {
				return 4;
			}
		}
		r = vmmc_sock_recv(rx, rb, sizeof(rb), MSG_DONTWAIT);
		if (r > 0) {
			if (vmmc_check_pattern(rb, (size_t)r, P.seed, 3,
					       roff) != -1)
				return 5;
			roff += (uint64_t)r;
			idle = false;
		} else if (r != -EAGAIN) {
			return 6;
		}
		if (idle) {
			pf[0] = (struct pollfd){ .fd = tx,
				.events = toff < ttotal ? POLLOUT : 0 };
			pf[1] = (struct pollfd){ .fd = rx, .events = POLLIN };
			vmmc_sock_poll(pf, 2, 50);
		}
	}
	vmmc_sock_close(tx);
	vmmc_sock_close(rx);
	vmmc_sock_close(l);
	return 0;
}

static int pressure_child(uint16_t port)
{
	static uint8_t tb[16 * 1024];
	struct vmmc_sock_stats s0, s1;
	uint8_t *buf[P_BUFS], *b;
	uint64_t off = 0, s;
	pthread_t th;
	long pin;
	int i = 0, rc;
	size_t n;

	if (become_nobody())
		return 2;
	setenv("VMMC_SOCK_ZC_PIN_MAX", "524288", 1);
	/* the peer sends on the first connection it accepts */
	P.rx = vs_connect_retry(VMMC_NODE_ANY, port, 200, 10000);
	if (P.rx < 0)
		return 3;
	P.tx = vs_connect_retry(VMMC_NODE_ANY, port, 200, 10000);
	if (P.tx < 0)
		return 3;
	for (i = 0; i < P_BUFS; i++)
		if (!(buf[i] = map(RING)))
			return 4;
	/* room for the budget and a little more */
	pin = vm_pin_settled();
	if (memlock_kb(pin + 512 + 64))
		return 5;
	vmmc_sock_stats(&s0);
	if (pthread_create(&th, NULL, strict_sender, NULL))
		return 6;
	for (i = 0; off < P_RX1; i++) {
		if (i == 24) {
			/* below what we hold less every zero-copy pin */
			vmmc_sock_stats(&s1);
			if (memlock_kb(vmmc_vm_pin_kb() - s1.zc_pin_pages * 4 - 64))
				return 7;
		}
		if (p_recv(buf[i % P_BUFS], RING, off, true))
			return 8;
		off += RING;
		/* within the budget (a receive that copied some bytes first
		 * pins only the rest of its buffer: ranges vary in size)
		 */
		vmmc_sock_stats(&s1);
		if (s1.zc_pin_pages > 128 || s1.zc_pin_ranges > 64)
			return 9;
	}
	while (!__atomic_load_n(&P.done, __ATOMIC_ACQUIRE))
		usleep(1000);
	pthread_join(th, NULL);
	if (P.err || P.tx_off != P_TX1)
		return 10;
	vmmc_sock_stats(&s1);
	printf("# strict phase: %llu zero-copy posts, %llu copied for the budget, %llu bytes redirected\n",
	       (unsigned long long)(s1.zc_posts - s0.zc_posts),
	       (unsigned long long)(s1.zc_nopin - s0.zc_nopin),
	       (unsigned long long)(s1.zc_bytes - s0.zc_bytes));
	fflush(stdout);
	/* room again; a new buffer for each receive, the old one unmapped */
	if (memlock_kb(64 * 1024))
		return 11;
	s = P.seed ^ 3;
	for (i = 0; off < P_RX1 + P_RX2; i++) {
		b = map(RING);
		if (!b || p_recv(b, RING, off, false))
			return 12;
		off += RING;
		if (munmap(b, RING))
			return 13;
		/* and our stream goes on from this thread */
		n = vmmc_rand_size(&s, sizeof(tb));
		if (n > P_TX1 + P_TX2 - P.tx_off)
			n = P_TX1 + P_TX2 - P.tx_off;
		if (n) {
			vmmc_fill_pattern(tb, n, P.seed, 3, P.tx_off);
			if (vmmc_sock_send(P.tx, tb, n, MSG_NOSIGNAL) !=
			    (ssize_t)n)
				return 14;
			P.tx_off += n;
		}
	}
	while (P.tx_off < P_TX1 + P_TX2) {
		n = P_TX1 + P_TX2 - P.tx_off < sizeof(tb) ?
		    P_TX1 + P_TX2 - P.tx_off : sizeof(tb);
		vmmc_fill_pattern(tb, n, P.seed, 3, P.tx_off);
		if (vmmc_sock_send(P.tx, tb, n, MSG_NOSIGNAL) != (ssize_t)n)
			return 15;
		P.tx_off += n;
	}
	for (i = 0; i < P_BUFS; i++)
		munmap(buf[i], RING);
	rc = all_gone(-1, P.tx, P.rx);
	return rc ? 16 - rc : 0;
}

TEST(zc_budget_and_own_pins_kept)
{
	EXPECT_EQ(0, in_child(budget_child, vs_test_port(0)));
}

TEST(repin_failure_is_an_error)
{
	EXPECT_EQ(0, in_child(repin_child, vs_test_port(1)));
}

TEST(strict_stream_under_pin_pressure)
{
	uint16_t port = vs_test_port(2);
	int status;
	pid_t peer;

	P.seed = vmmc_test_seed("sock pin pressure");
	peer = fork();
	ASSERT_LE(0, peer);
	if (!peer)
		_exit(pressure_peer(port));
	EXPECT_EQ(0, in_child(pressure_child, port));
	ASSERT_EQ(peer, waitpid(peer, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN

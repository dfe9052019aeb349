// SPDX-License-Identifier: GPL-2.0
/*
 * Description: once connected, VMMC socket send and recv make no system
 * call. A server and a client (two processes) connect, then both enter
 * SECCOMP_MODE_STRICT (any system call but read/write/exit kills them)
 * and run thousands of seeded messages of random sizes each way with
 * MSG_DONTWAIT (spinning instead of blocking), checking every byte: the
 * client sends a message, the server checks it and answers with the
 * same length of its own pattern, which the client checks.
 *
 * Zero-copy receive likewise: the server receives 3000 messages of 4 to
 * 16 KiB (its VMMC_SO_ZEROCOPY_MIN set to 4 KiB, to keep the test short)
 * with blocking MSG_WAITALL receives into one buffer, warmed by a
 * first receive before strict mode (its pin is the only system call the
 * path needs, and the UTLB cache keeps it); VMMC_SO_BUSY_POLL makes the
 * blocking waits spin instead of sleeping in the kernel. Each message is
 * checked and answered with one byte; most must have been redirected.
 */
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define MSGS	3000
#define MAXLEN	20000

struct shared {
	volatile uint32_t ready, done, bad;
	volatile int err;
	volatile uint32_t bad_side, bad_msg, bad_len;
	volatile long bad_off;
	volatile uint64_t zc_posts, zc_bytes, zc_copied, zc_fallbacks;
	volatile uint64_t zc_posts0, zc_bytes0;	/* after the warm-up */
};

static void note_bad(struct shared *sh, bool server, int i, size_t n,
		     long off)
{
	if (!sh->bad++) {
		sh->bad_side = server;
		sh->bad_msg = (uint32_t)i;
		sh->bad_len = (uint32_t)n;
		sh->bad_off = off;
	}
}

static int xfer(int fd, uint8_t *p, size_t len, bool tx)
{
	size_t off = 0;
	ssize_t r;

	while (off < len) {
		r = tx ? vmmc_sock_send(fd, p + off, len - off, MSG_DONTWAIT) :
			 vmmc_sock_recv(fd, p + off, len - off, MSG_DONTWAIT);
		if (r == -EAGAIN)
			continue;
		if (r <= 0)
			return r ? (int)r : -ENODATA;
		off += (size_t)r;
	}
	return 0;
}

/* one side; @server answers, else asks */
static void run(struct shared *sh, uint16_t port, uint64_t seed, bool server)
{
	static uint8_t buf[MAXLEN];
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	uint64_t s = seed;
	int fd, l, i, err;
	long off;
	size_t n;

	fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (server) {
		l = fd;
		if (vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 1))
			_exit(2);
		__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
		fd = vmmc_sock_accept(l, NULL, NULL);
	} else {
		while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE))
			usleep(1000);
		if (vmmc_sock_connect(fd, VS_SA(a)))
			_exit(3);
	}
	if (fd < 0)
		_exit(4);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		_exit(5);
	for (i = 0; i < MSGS; i++) {
		n = vmmc_rand_size(&s, MAXLEN);
		if (server) {
			err = xfer(fd, buf, n, false);
			off = err ? -1 : vmmc_check_pattern(buf, n, seed, 2 * i, 0);
			if (off != -1)
				note_bad(sh, server, i, n, off);
			vmmc_fill_pattern(buf, n, seed, 2 * i + 1, 0);
			if (!err)
				err = xfer(fd, buf, n, true);
		} else {
			vmmc_fill_pattern(buf, n, seed, 2 * i, 0);
			err = xfer(fd, buf, n, true);
			if (!err)
				err = xfer(fd, buf, n, false);
			off = err ? -1 : vmmc_check_pattern(buf, n, seed, 2 * i + 1, 0);
			if (off != -1)
				note_bad(sh, server, i, n, off);
		}
		if (err) {
			sh->err = err;
			syscall(SYS_exit, 6);
		}
	}
	if (!server)
		sh->done = MSGS;
	syscall(SYS_exit, 0);
}

/* the server's VMMC_SO_ZEROCOPY_MIN: small messages, a short test */
#define ZC_MIN	(4 << 10)
#define ZC_MAX	(16 << 10)

/* Zero-copy: the client sends, the server receives with redirection. */
static void run_zc(struct shared *sh, uint16_t port, uint64_t seed,
		   bool server)
{
	static uint8_t buf[ZC_MAX];
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	struct vmmc_sock_stats st;
	uint64_t s = seed;
	int fd, l, i, w, err = 0, one = 1, zc_min = ZC_MIN;
	uint8_t ack = 'a', warm = 'w';
	long off;
	size_t n;
	ssize_t r;

	fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (server) {
		l = fd;
		if (vmmc_sock_bind(l, VS_SA(a)) || vmmc_sock_listen(l, 1))
			_exit(2);
		__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
		fd = vmmc_sock_accept(l, NULL, NULL);
		if (fd < 0 || vmmc_sock_setsockopt(fd, SOL_VMMC,
						   VMMC_SO_BUSY_POLL, &one,
						   sizeof(one)) ||
		    vmmc_sock_setsockopt(fd, SOL_VMMC, VMMC_SO_ZEROCOPY_MIN,
					 &zc_min, sizeof(zc_min)))
			_exit(4);
		/*
		 * The warm-up pins the whole buffer for write: a receive
		 * that finds the ring empty posts a redirect, and pins its
		 * destination. One that finds the bytes already there copies
		 * and pins nothing (the client was quicker): ask again.
		 */
		for (w = 0; ; w++) {
			vmmc_sock_stats(&st);
			if (st.zc_posts)
				break;
			if (w == 50 || xfer(fd, &warm, 1, true) ||
			    vmmc_sock_recv(fd, buf, ZC_MAX, MSG_WAITALL) !=
			    ZC_MAX)
				_exit(4);
		}
		sh->zc_posts0 = st.zc_posts;
		sh->zc_bytes0 = st.zc_bytes;
		warm = 'g';
		if (xfer(fd, &warm, 1, true))
			_exit(4);
	} else {
		while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE))
			usleep(1000);
		if (vmmc_sock_connect(fd, VS_SA(a)))
			_exit(3);
		memset(buf, 1, ZC_MAX);
		/* 'w': one more warm-up message; 'g': go */
		do {
			if (xfer(fd, &warm, 1, false) ||
			    (warm == 'w' && xfer(fd, buf, ZC_MAX, true)))
				_exit(4);
		} while (warm == 'w');
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		_exit(5);
	for (i = 0; i < MSGS && !err; i++) {
		n = ZC_MIN + vmmc_rand_size(&s, ZC_MAX - ZC_MIN);
		if (server) {
			memset(buf, 0, n);
			r = vmmc_sock_recv(fd, buf, n, MSG_WAITALL);
			err = r == (ssize_t)n ? 0 : r < 0 ? (int)r : -ENODATA;
			off = err ? -1 : vmmc_check_pattern(buf, n, seed, i, 0);
			if (off != -1)
				note_bad(sh, server, i, n, off);
			if (!err)
				err = xfer(fd, &ack, 1, true);
		} else {
			vmmc_fill_pattern(buf, n, seed, i, 0);
			err = xfer(fd, buf, n, true);
			if (!err)
				err = xfer(fd, &ack, 1, false);
		}
	}
	if (err) {
		sh->err = err;
		syscall(SYS_exit, 6);
	}
	if (server) {
		vmmc_sock_stats(&st);
		sh->zc_posts = st.zc_posts;
		sh->zc_bytes = st.zc_bytes;
		sh->zc_copied = st.zc_copied;
		sh->zc_fallbacks = st.zc_fallbacks;
	} else {
		sh->done = MSGS;
	}
	syscall(SYS_exit, 0);
}

FIXTURE(strict) {
	int unused;
};

FIXTURE_SETUP(strict)
{
}

FIXTURE_TEARDOWN(strict)
{
}

typedef void (*side_fn)(struct shared *sh, uint16_t port, uint64_t seed,
			bool server);

/*
 * Run @fn as a server and a client process on @port; check that both
 * exited cleanly (a system call under strict mode is a SIGKILL), that
 * nothing failed or came wrong, and that the client finished.
 */
static void run_pair(struct __test_metadata *_metadata, struct shared *sh,
		     side_fn fn, uint16_t port, uint64_t seed)
{
	int st_s = 0, st_c = 0;
	pid_t srv, cli;

	srv = fork();
	ASSERT_LE(0, srv);
	if (!srv)
		fn(sh, port, seed, true);
	cli = fork();
	ASSERT_LE(0, cli);
	if (!cli)
		fn(sh, port, seed, false);
	ASSERT_EQ(cli, waitpid(cli, &st_c, 0));
	if (!WIFEXITED(st_c) || WEXITSTATUS(st_c))
		kill(srv, SIGKILL);
	ASSERT_EQ(srv, waitpid(srv, &st_s, 0));
	EXPECT_TRUE(WIFEXITED(st_c));
	EXPECT_TRUE(WIFEXITED(st_s));
	EXPECT_EQ(0, WEXITSTATUS(st_c));
	EXPECT_EQ(0, WEXITSTATUS(st_s));
	EXPECT_EQ(0, sh->err);
	EXPECT_EQ(0, sh->bad);
	if (sh->bad)
		TH_LOG("first bad: %s, message %u of %u bytes, at byte %ld",
		       sh->bad_side ? "server" : "client", sh->bad_msg,
		       sh->bad_len, sh->bad_off);
	EXPECT_EQ(MSGS, sh->done);
}

TEST_F_TIMEOUT(strict, no_syscall_once_connected, 300)
{
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, sh);
	run_pair(_metadata, sh, run, vs_test_port(7),
		 vmmc_test_seed("sock strict"));
}

TEST_F_TIMEOUT(strict, zero_copy_recv_no_syscall, 300)
{
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, sh);
	run_pair(_metadata, sh, run_zc, vs_test_port(6),
		 vmmc_test_seed("sock strict zc"));
	TH_LOG("server: %llu redirects, %llu bytes with no copy, %llu copied, "
	       "%llu fallbacks", (unsigned long long)sh->zc_posts,
	       (unsigned long long)sh->zc_bytes,
	       (unsigned long long)sh->zc_copied,
	       (unsigned long long)sh->zc_fallbacks);
	/*
	 * Under strict mode, some receives went by redirection (the ring
	 * is empty when the server asks, unless the client's message beat
	 * its post: how many did depends on scheduling on shared CPUs, so
	 * only "some" is checked), and none fell back for want of a pin.
	 */
	EXPECT_LT(sh->zc_posts0, sh->zc_posts);
	EXPECT_LT(sh->zc_bytes0, sh->zc_bytes);
	EXPECT_EQ(0, sh->zc_fallbacks);
}

TEST_HARNESS_MAIN

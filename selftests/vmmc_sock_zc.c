// SPDX-License-Identifier: GPL-2.0
/*
 * Description: zero-copy receive of VMMC stream sockets (transfer
 * redirection of the receive ring onto the caller's buffer). A child
 * process sends on command (after a delay, in pieces, then shuts down,
 * closes or dies); the parent receives and checks every byte of its
 * buffer against the seeded stream: data that came before the receive
 * and data that came after its redirect was posted, in one receive
 * (MSG_WAITALL); a send larger than the receive; partial arrival (the
 * redirect is cancelled and the receive returns what came); a small ring
 * so that redirects wrap; random mixes of small and large receives;
 * the peer's FIN, close and death while a redirect is posted; a
 * read-only buffer (EFAULT, as a kernel socket gives it, with the data
 * kept) and a file-backed one (redirected, or copied if the kernel will
 * not pin it); pipelined pieces of a receive larger than the ring; the
 * split-phase receive of the LD_PRELOAD shim. After every
 * receive no redirect slot is held, and after every test every socket
 * counter is back to zero and the endpoint (with its pins) is closed.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define KiB	1024UL
#define MiB	(1024 * KiB)

enum { C_SEND = 1, C_SHUT, C_CLOSE, C_DIE, C_STREAM, C_EXIT };

struct cmd {
	uint32_t op, len, delay_us, piece;
};

struct zc {
	int l, fd, to[2], from[2];
	pid_t pid;
	uint64_t seed, off;	/* the stream and how far the parent got */
	uint8_t *buf;
};

static void child(struct zc *z, uint16_t port)
{
	static uint8_t b[1 << 20];
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);
	uint64_t off = 0, s = z->seed ^ 0x777;
	struct vmmc_sock_stats st;
	struct cmd c;
	size_t n, k;
	ssize_t r;
	int fd;

	fd = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (fd < 0 || vmmc_sock_connect(fd, VS_SA(a)))
		_exit(2);
	while (read(z->to[0], &c, sizeof(c)) == sizeof(c)) {
		usleep(c.delay_us);
		switch (c.op) {
		case C_SEND:
		case C_STREAM:
			for (n = 0; n < c.len; n += k) {
				k = c.op == C_STREAM ? vmmc_rand_size(&s, c.piece) :
				    c.piece ? c.piece : c.len;
				if (k > c.len - n)
					k = c.len - n;
				vmmc_fill_pattern(b, k, z->seed, 1, off);
				r = vmmc_sock_send(fd, b, k, MSG_NOSIGNAL);
				if (r != (ssize_t)k)
					_exit(3);
				off += k;
			}
			break;
		case C_SHUT:
			if (vmmc_sock_shutdown(fd, SHUT_WR))
				_exit(4);
			break;
		case C_CLOSE:
			if (vmmc_sock_close(fd))
				_exit(5);
			break;
		case C_DIE:
			kill(getpid(), SIGKILL);
			break;
		case C_EXIT:
			vmmc_sock_close(fd);
			_exit(0);
		}
		/*
		 * Our last states may wait for a source slot; they go out
		 * only from inside the library: stay until they did.
		 */
		do {
			vmmc_sock_progress();
			vmmc_sock_stats(&st);
		} while (st.inflight && c.op != C_CLOSE);
		if (write(z->from[1], "k", 1) != 1)
			_exit(6);
	}
	_exit(7);
}

/* Listen with a ring of @ring bytes, start the child, accept. */
static int zc_start(struct zc *z, uint16_t port, int ring)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, port);

	memset(z, 0, sizeof(*z));
	z->seed = vmmc_test_seed("sock zc");
	z->buf = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z->buf == MAP_FAILED || pipe(z->to) || pipe(z->from))
		return -ENOMEM;
	z->l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (z->l < 0)
		return z->l;
	if (ring && vmmc_sock_setsockopt(z->l, SOL_SOCKET, SO_RCVBUF, &ring,
					 sizeof(ring)))
		return -EINVAL;
	if (vmmc_sock_bind(z->l, VS_SA(a)) || vmmc_sock_listen(z->l, 1))
		return -EADDRINUSE;
	z->pid = fork();
	if (z->pid < 0)
		return -errno;
	if (!z->pid) {
		close(z->to[1]);
		close(z->from[0]);
		child(z, port);
	}
	close(z->to[0]);
	close(z->from[1]);
	z->fd = vmmc_sock_accept(z->l, NULL, NULL);
	return z->fd < 0 ? z->fd : 0;
}

static void zc_cmd(struct zc *z, uint32_t op, uint32_t len, uint32_t delay_us,
		   uint32_t piece)
{
	struct cmd c = { op, len, delay_us, piece };

	if (write(z->to[1], &c, sizeof(c)) != sizeof(c))
		abort();
}

/* The child finished its last command: 0, or -1 (it died). */
static int zc_acked(struct zc *z)
{
	char b;

	return read(z->from[0], &b, 1) == 1 ? 0 : -1;
}

static void zc_stats(struct vmmc_sock_stats *st)
{
	vmmc_sock_stats(st);
}

/*
 * Receive into @p (@n bytes, @flags): the result; checks every byte that
 * came against the stream and that no redirect slot is left held.
 */
static ssize_t zc_rx(struct __test_metadata *_metadata, struct zc *z,
		     uint8_t *p, size_t n, int flags)
{
	struct vmmc_sock_stats st;
	ssize_t r;

	memset(p, 0xa5, n);
	r = vmmc_sock_recv(z->fd, p, n, flags);
	if (r > 0) {
		EXPECT_EQ(-1, vmmc_check_pattern(p, (size_t)r, z->seed, 1,
						 z->off));
		z->off += (uint64_t)r;
	}
	zc_stats(&st);
	EXPECT_EQ(0, st.zc_active);
	return r;
}

static void zc_finish(struct __test_metadata *_metadata, struct zc *z,
		      bool exited)
{
	struct vmmc_sock_stats st;
	int status;

	if (!exited) {
		zc_cmd(z, C_EXIT, 0, 0, 0);
		EXPECT_EQ(-1, zc_acked(z));	/* EOF: it exited */
	}
	EXPECT_EQ(z->pid, waitpid(z->pid, &status, 0));
	if (!exited) {
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	zc_stats(&st);
	EXPECT_EQ(0, st.zc_active);
	if (z->fd >= 0)	/* -1: the test closed it */
		EXPECT_EQ(0, vmmc_sock_close(z->fd));
	EXPECT_EQ(0, vmmc_sock_close(z->l));
	VS_EXPECT_ALL_CLOSED();		/* endpoint closed: no pins */
	close(z->to[1]);
	close(z->from[0]);
	munmap(z->buf, 4 * MiB);
}

FIXTURE(zc) {
	struct zc z;
};

FIXTURE_SETUP(zc)
{
}

FIXTURE_TEARDOWN(zc)
{
}

/* Some bytes wait in the ring, the rest comes after the redirect. */
TEST_F_TIMEOUT(zc, before_and_after_the_post, 120)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;

	ASSERT_EQ(0, zc_start(z, vs_test_port(1), 0));
	zc_cmd(z, C_SEND, 20000, 0, 0);
	ASSERT_EQ(0, zc_acked(z));
	usleep(50000);		/* in our ring now */
	zc_stats(&s0);
	zc_cmd(z, C_SEND, 100000, 200000, 0);	/* while we wait */
	EXPECT_EQ(120000, zc_rx(_metadata, z, z->buf, 120000, MSG_WAITALL));
	zc_stats(&s1);
	EXPECT_LE(1, s1.zc_posts - s0.zc_posts);
	/* the 100000 that came later needed no copy (or one, if late) */
	EXPECT_EQ(100000, (s1.zc_bytes - s0.zc_bytes) +
			  (s1.zc_copied - s0.zc_copied));
	EXPECT_LT(0, s1.zc_bytes - s0.zc_bytes);
	EXPECT_EQ(0, zc_acked(z));

	/* all of it after the post, no MSG_WAITALL */
	zc_stats(&s0);
	zc_cmd(z, C_SEND, 65536, 100000, 0);
	EXPECT_EQ(65536, zc_rx(_metadata, z, z->buf + 1, 65536, 0));
	zc_stats(&s1);
	EXPECT_EQ(1, s1.zc_posts - s0.zc_posts);
	EXPECT_EQ(65536, (s1.zc_bytes - s0.zc_bytes) +
			 (s1.zc_copied - s0.zc_copied));
	/* the redirect was complete: no cancel cut it (review #10) */
	EXPECT_EQ(0, s1.zc_cancels - s0.zc_cancels);
	EXPECT_EQ(0, zc_acked(z));
	zc_finish(_metadata, z, false);
}

/*
 * A send larger than the receive: the redirect takes its first part,
 * the ring the rest. A send smaller: the redirect is cancelled and the
 * receive returns what came, as TCP's would.
 */
TEST_F_TIMEOUT(zc, larger_and_partial_sends, 120)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;

	ASSERT_EQ(0, zc_start(z, vs_test_port(2), 0));
	zc_cmd(z, C_SEND, 200000, 100000, 0);
	EXPECT_EQ(50000, zc_rx(_metadata, z, z->buf, 50000, 0));
	EXPECT_EQ(0, zc_acked(z));
	EXPECT_EQ(150000, zc_rx(_metadata, z, z->buf, 150000, MSG_WAITALL));

	zc_stats(&s0);
	zc_cmd(z, C_SEND, 10000, 100000, 0);
	EXPECT_EQ(10000, zc_rx(_metadata, z, z->buf, 100000, 0));
	zc_stats(&s1);
	EXPECT_EQ(1, s1.zc_cancels - s0.zc_cancels);
	EXPECT_EQ(0, zc_acked(z));
	/* pieces of 7000 into one MSG_WAITALL receive */
	zc_cmd(z, C_SEND, 90000, 50000, 7000);
	EXPECT_EQ(90000, zc_rx(_metadata, z, z->buf + 3, 90000, MSG_WAITALL));
	EXPECT_EQ(0, zc_acked(z));
	zc_finish(_metadata, z, false);
}

/* A 32 KiB ring: redirects wrap (two of them), credit after each. */
TEST_F_TIMEOUT(zc, ring_wrap, 300)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;
	uint64_t s;
	size_t n;
	int i, fl;

	ASSERT_EQ(0, zc_start(z, vs_test_port(3), 32 << 10));
	s = z->seed;
	zc_stats(&s0);
	zc_cmd(z, C_STREAM, 4 * MiB, 0, 48 << 10);
	for (i = 0; z->off < 4 * MiB; i++) {
		n = 16384 + vmmc_rand_size(&s, 80000);
		if (n > 4 * MiB - z->off)
			n = 4 * MiB - z->off;
		fl = i % 3 ? 0 : MSG_WAITALL;
		ASSERT_LT(0, zc_rx(_metadata, z, z->buf + i % 64, n, fl));
	}
	EXPECT_EQ(0, zc_acked(z));
	zc_stats(&s1);
	/*
	 * How many receives found the ring empty depends on scheduling:
	 * only the accounting is exact (every byte once, by either path).
	 */
	EXPECT_EQ(4 * MiB, s1.rx_bytes - s0.rx_bytes);
	EXPECT_GE(4 * MiB, (s1.zc_bytes - s0.zc_bytes) +
			   (s1.zc_copied - s0.zc_copied));
	TH_LOG("%d receives: %llu redirects, %llu bytes with no copy, "
	       "%llu copied, %llu cancelled", i,
	       (unsigned long long)(s1.zc_posts - s0.zc_posts),
	       (unsigned long long)(s1.zc_bytes - s0.zc_bytes),
	       (unsigned long long)(s1.zc_copied - s0.zc_copied),
	       (unsigned long long)(s1.zc_cancels - s0.zc_cancels));
	zc_finish(_metadata, z, false);
}

/* Random mixes of small and large receives, of small and large sends. */
TEST_F_TIMEOUT(zc, mixed_sizes, 300)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;
	uint64_t s, total = 12 * MiB;
	size_t n;
	int i, fl;

	ASSERT_EQ(0, zc_start(z, vs_test_port(4), 0));
	s = z->seed ^ 3;
	zc_stats(&s0);
	zc_cmd(z, C_STREAM, (uint32_t)total, 0, 300000);
	for (i = 0; z->off < total; i++) {
		n = vmmc_rand_size(&s, 1 << 20);
		if (n > total - z->off)
			n = total - z->off;
		fl = i & 1 ? MSG_WAITALL : 0;
		ASSERT_LT(0, zc_rx(_metadata, z, z->buf + 4096 * (i % 7), n,
				   fl));
	}
	EXPECT_EQ(0, zc_acked(z));
	zc_stats(&s1);
	TH_LOG("%d receives: %llu redirects, %llu bytes with no copy, "
	       "%llu copied, %llu cancelled", i,
	       (unsigned long long)(s1.zc_posts - s0.zc_posts),
	       (unsigned long long)(s1.zc_bytes - s0.zc_bytes),
	       (unsigned long long)(s1.zc_copied - s0.zc_copied),
	       (unsigned long long)(s1.zc_cancels - s0.zc_cancels));
	EXPECT_EQ(total, s1.rx_bytes - s0.rx_bytes);
	EXPECT_GE(total, (s1.zc_bytes - s0.zc_bytes) +
			 (s1.zc_copied - s0.zc_copied));
	zc_finish(_metadata, z, false);
}

/* The peer's FIN and close while a redirect is posted. */
TEST_F_TIMEOUT(zc, peer_shutdown_and_close, 120)
{
	struct zc *z = &self->z;

	ASSERT_EQ(0, zc_start(z, vs_test_port(5), 0));
	zc_cmd(z, C_SEND, 5000, 100000, 0);
	zc_cmd(z, C_SHUT, 0, 50000, 0);
	/* MSG_WAITALL still ends at EOF with what came */
	EXPECT_EQ(5000, zc_rx(_metadata, z, z->buf, 100000, MSG_WAITALL));
	EXPECT_EQ(0, zc_rx(_metadata, z, z->buf, 100000, 0));
	EXPECT_EQ(0, zc_acked(z));
	EXPECT_EQ(0, zc_acked(z));
	zc_cmd(z, C_CLOSE, 0, 100000, 0);
	EXPECT_EQ(0, zc_rx(_metadata, z, z->buf, 100000, 0));
	EXPECT_EQ(0, zc_acked(z));
	zc_finish(_metadata, z, false);
}

/* The peer's process dies while a redirect is posted: ECONNRESET. */
TEST_F_TIMEOUT(zc, peer_dies_mid_redirect, 120)
{
	struct zc *z = &self->z;

	ASSERT_EQ(0, zc_start(z, vs_test_port(6), 0));
	zc_cmd(z, C_SEND, 30000, 0, 0);
	ASSERT_EQ(0, zc_acked(z));
	EXPECT_EQ(30000, zc_rx(_metadata, z, z->buf, 30000, MSG_WAITALL));
	zc_cmd(z, C_DIE, 0, 100000, 0);
	EXPECT_EQ(-ECONNRESET, zc_rx(_metadata, z, z->buf, 100000, 0));
	EXPECT_EQ(0, zc_rx(_metadata, z, z->buf, 100000, 0));
	zc_finish(_metadata, z, true);
}

/*
 * A shared mapping of a new 1 MiB file made from @tmpl, or NULL; the
 * caller unlinks it after munmap().
 */
static uint8_t *file_map(char *tmpl)
{
	void *p = MAP_FAILED;
	int fd = mkstemp(tmpl);

	if (fd < 0)
		return NULL;
	if (!ftruncate(fd, 1 << 20))
		p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0);
	close(fd);
	if (p == MAP_FAILED)
		unlink(tmpl);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * A buffer that cannot take the data: EFAULT once data is there, as a
 * kernel socket gives it, and the data stays for the next receive. A
 * file-backed buffer: the data arrives, redirected or copied.
 */
TEST_F_TIMEOUT(zc, readonly_and_file_buffers, 120)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;
	/*
	 * tmpfs: not the project's 9p share, whose page cache the NIC would
	 * dirty behind the kernel's back (the kernel learns it at unpin, and
	 * its writeback of the unlinked file then competes with later tests)
	 */
	char path[] = "/tmp/vmmc_zc_XXXXXX";
	uint8_t *ro, *fb;

	ASSERT_EQ(0, zc_start(z, vs_test_port(7), 0));
	ro = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	zc_stats(&s0);
	zc_cmd(z, C_SEND, 40000, 100000, 0);
	EXPECT_EQ(-EFAULT, vmmc_sock_recv(z->fd, ro, 65536, 0));
	zc_stats(&s1);
	EXPECT_EQ(1, s1.zc_fallbacks - s0.zc_fallbacks);
	EXPECT_EQ(0, s1.zc_posts - s0.zc_posts);
	EXPECT_EQ(0, zc_acked(z));
	/* nothing lost */
	EXPECT_EQ(40000, zc_rx(_metadata, z, z->buf, 65536, 0));
	munmap(ro, 65536);

	fb = file_map(path);
	ASSERT_NE(NULL, fb);
	zc_cmd(z, C_SEND, 300000, 100000, 0);
	EXPECT_EQ(300000, zc_rx(_metadata, z, fb, 300000, MSG_WAITALL));
	EXPECT_EQ(0, zc_acked(z));
	zc_cmd(z, C_SEND, 30000, 100000, 0);
	EXPECT_EQ(30000, zc_rx(_metadata, z, fb + 5, 30000, MSG_WAITALL));
	EXPECT_EQ(0, zc_acked(z));
	zc_stats(&s1);
	TH_LOG("file-backed buffer: %llu redirects, %llu fallbacks",
	       (unsigned long long)(s1.zc_posts - s0.zc_posts),
	       (unsigned long long)(s1.zc_fallbacks - s0.zc_fallbacks - 1));
	munmap(fb, 1 << 20);
	unlink(path);
	zc_finish(_metadata, z, false);
}

/* Options: the threshold, off, and MSG_PEEK / MSG_DONTWAIT never redirect. */
TEST_F_TIMEOUT(zc, options_peek_dontwait, 120)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;
	socklen_t len = sizeof(int);
	int v = -1;

	ASSERT_EQ(0, zc_start(z, vs_test_port(8), 0));
	EXPECT_EQ(0, vmmc_sock_getsockopt(z->fd, SOL_VMMC, VMMC_SO_ZEROCOPY_MIN,
					  &v, &len));
	EXPECT_EQ((int)VMMC_SOCK_ZC_MIN_DEF, v);
	v = -1;
	EXPECT_EQ(-EINVAL, vmmc_sock_setsockopt(z->fd, SOL_VMMC,
						VMMC_SO_ZEROCOPY_MIN, &v,
						sizeof(v)));
	EXPECT_EQ(-ENOPROTOOPT, vmmc_sock_setsockopt(z->fd, SOL_VMMC, 99, &v,
						     sizeof(v)));
	zc_stats(&s0);
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(z->fd, z->buf, 65536, MSG_DONTWAIT));
	zc_cmd(z, C_SEND, 20000, 100000, 0);
	EXPECT_EQ(20000, vmmc_sock_recv(z->fd, z->buf, 65536, MSG_PEEK));
	EXPECT_EQ(-1, vmmc_check_pattern(z->buf, 20000, z->seed, 1, z->off));
	EXPECT_EQ(20000, zc_rx(_metadata, z, z->buf, 65536, 0));
	EXPECT_EQ(0, zc_acked(z));
	/* below the threshold, and turned off: copies */
	v = 0;
	EXPECT_EQ(0, vmmc_sock_setsockopt(z->fd, SOL_VMMC, VMMC_SO_ZEROCOPY_MIN,
					  &v, sizeof(v)));
	zc_cmd(z, C_SEND, 20000, 100000, 0);
	EXPECT_EQ(20000, zc_rx(_metadata, z, z->buf, 20000, MSG_WAITALL));
	EXPECT_EQ(0, zc_acked(z));
	zc_stats(&s1);
	EXPECT_EQ(0, s1.zc_posts - s0.zc_posts);
	zc_finish(_metadata, z, false);
}

/*
 * Pipelining, with a 64 KiB ring (pieces of 16 KiB): a receive larger
 * than the ring takes the stream in quarter-ring pieces, each credited as
 * soon as all its bytes came and the next one posted before, every byte
 * checked, at odd buffer offsets and send sizes. A receive without
 * MSG_WAITALL that returns while later pieces are posted: the bytes they
 * took past what it returns go back to the ring for the next receives.
 * Sends racing the posts (no delay): pieces whose first bytes landed in
 * the ring are cancelled and copied, the stream stays exact.
 */
TEST_F_TIMEOUT(zc, pipelined_pieces, 180)
{
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;
	uint32_t n = (1 << 20) + 333;
	uint64_t want;
	ssize_t r;
	int i;

	ASSERT_EQ(0, zc_start(z, vs_test_port(9), 64 << 10));
	for (i = 0; i < 3; i++) {
		zc_stats(&s0);
		zc_cmd(z, C_SEND, n, 50000, 10000 + 3333 * i);
		EXPECT_EQ(n, zc_rx(_metadata, z, z->buf + 5 + i, n,
				   MSG_WAITALL));
		zc_stats(&s1);
		EXPECT_EQ(0, zc_acked(z));
		/*
		 * Pieces of 16 KiB at most cover the first 1 MiB (a zero-copy
		 * receive's window); the 333 bytes past it are an ordinary
		 * copy (below the threshold).
		 */
		EXPECT_EQ(1 << 20, (s1.zc_bytes - s0.zc_bytes) +
				   (s1.zc_copied - s0.zc_copied));
		EXPECT_LE(64, s1.zc_posts - s0.zc_posts);
		EXPECT_LT(n / 2, s1.zc_bytes - s0.zc_bytes);
	}

	zc_stats(&s0);
	zc_cmd(z, C_SEND, 200000, 50000, 30000);
	r = zc_rx(_metadata, z, z->buf + 1, 1 << 20, 0);
	EXPECT_LT(0, r);
	EXPECT_GE(200000, r);
	zc_stats(&s1);
	EXPECT_EQ(1, s1.zc_cancels - s0.zc_cancels);
	want = z->off + 200000 - (uint64_t)r;
	while (z->off < want && r > 0)
		r = zc_rx(_metadata, z, z->buf + 7, want - z->off, 0);
	EXPECT_EQ(want, z->off);
	EXPECT_EQ(0, zc_acked(z));

	for (i = 0; i < 8; i++) {
		zc_cmd(z, C_SEND, 300000, 0, 7000 + 1000 * i);
		EXPECT_EQ(300000, zc_rx(_metadata, z, z->buf + 4096 * i,
					300000, MSG_WAITALL));
		EXPECT_EQ(0, zc_acked(z));
	}

	/*
	 * A stream of small sends into receives of one or two pieces: the
	 * ring is empty only for moments, so receives that were mostly
	 * copied make the next ones copy (counted as fallbacks).
	 */
	zc_stats(&s0);
	want = z->off + 4 * MiB;
	zc_cmd(z, C_STREAM, 4 * MiB, 0, 12000);
	for (i = 0; z->off < want; i++) {
		n = 16384 + 7 * (uint32_t)(i % 5000);
		if (n > want - z->off)
			n = (uint32_t)(want - z->off);
		ASSERT_EQ(n, zc_rx(_metadata, z, z->buf + i % 64, n,
				   MSG_WAITALL));
	}
	EXPECT_EQ(0, zc_acked(z));
	zc_stats(&s1);
	TH_LOG("stream of small sends, %d receives: %llu redirects, %llu "
	       "bytes with no copy, %llu copied, %llu fallbacks", i,
	       (unsigned long long)(s1.zc_posts - s0.zc_posts),
	       (unsigned long long)(s1.zc_bytes - s0.zc_bytes),
	       (unsigned long long)(s1.zc_copied - s0.zc_copied),
	       (unsigned long long)(s1.zc_fallbacks - s0.zc_fallbacks));
	zc_finish(_metadata, z, false);
}

/*
 * Wait for @fd's readiness, then end the split-phase receive: its result
 * once it is no longer under way.
 */
static ssize_t zc_split_wait(int fd, uint8_t *p, size_t n, int flags)
{
	struct pollfd q = { .fd = fd, .events = POLLIN };
	ssize_t r;
	int i;

	for (i = 0; i < 100000; i++) {
		r = vmmc_sock_recv_end(fd, p, n, flags, 0);
		if (r != -EINPROGRESS)
			return r;
		vmmc_sock_poll(&q, 1, 10);
	}
	return vmmc_sock_recv_end(fd, p, n, flags, 1);
}

/*
 * The split-phase receive (vmmc_sock_recv_begin/_end, for the LD_PRELOAD
 * shim): posted only when the ring is empty; while it is under way the
 * stack serves other calls (progress, poll, a send on the same socket)
 * and other receives on the socket get EAGAIN; ended by its bytes, by
 * stop (none came: EAGAIN, and the bytes that come later are intact),
 * and by close. Every byte checked.
 */
TEST_F_TIMEOUT(zc, split_phase, 120)
{
	struct pollfd q;
	struct vmmc_sock_stats s0, s1;
	struct zc *z = &self->z;
	uint8_t small[16], *ro;
	ssize_t r;

	ASSERT_EQ(0, zc_start(z, vs_test_port(10), 0));
	EXPECT_EQ(-EINVAL, vmmc_sock_recv_end(z->fd, z->buf, 300000,
					      MSG_WAITALL, 0));
	zc_stats(&s0);
	memset(z->buf, 0xa5, 300000);
	ASSERT_EQ(-EINPROGRESS, vmmc_sock_recv_begin(z->fd, z->buf, 300000,
						     MSG_WAITALL));
	zc_cmd(z, C_SEND, 300000, 100000, 50000);
	/* other calls meanwhile */
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(z->fd, small, sizeof(small),
					  MSG_DONTWAIT));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv_begin(z->fd, small, sizeof(small), 0));
	vmmc_sock_progress();
	q.fd = z->fd;
	q.events = POLLOUT;
	q.revents = 0;
	EXPECT_EQ(1, vmmc_sock_poll(&q, 1, 0));
	EXPECT_EQ(5, vmmc_sock_send(z->fd, "hello", 5, MSG_NOSIGNAL));
	EXPECT_EQ(300000, zc_split_wait(z->fd, z->buf, 300000, MSG_WAITALL));
	EXPECT_EQ(-1, vmmc_check_pattern(z->buf, 300000, z->seed, 1, z->off));
	z->off += 300000;
	zc_stats(&s1);
	EXPECT_LE(1, s1.zc_posts - s0.zc_posts);
	EXPECT_LT(150000, s1.zc_bytes - s0.zc_bytes);
	EXPECT_EQ(0, s1.zc_active);
	EXPECT_EQ(0, zc_acked(z));

	/* data in the ring: an ordinary copy, nothing posted */
	zc_cmd(z, C_SEND, 40000, 0, 0);
	EXPECT_EQ(0, zc_acked(z));
	usleep(50000);
	zc_stats(&s0);
	EXPECT_EQ(40000, vmmc_sock_recv_begin(z->fd, z->buf, 40000,
					      MSG_WAITALL));
	EXPECT_EQ(-1, vmmc_check_pattern(z->buf, 40000, z->seed, 1, z->off));
	z->off += 40000;
	zc_stats(&s1);
	EXPECT_EQ(0, s1.zc_posts - s0.zc_posts);

	/* stopped with nothing come: EAGAIN; what comes later is intact */
	ASSERT_EQ(-EINPROGRESS, vmmc_sock_recv_begin(z->fd, z->buf + 3,
						     100000, 0));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv_end(z->fd, z->buf + 3, 100000, 0, 1));
	zc_stats(&s1);
	EXPECT_EQ(0, s1.zc_active);
	zc_cmd(z, C_SEND, 70000, 50000, 0);
	EXPECT_EQ(70000, zc_rx(_metadata, z, z->buf, 70000, MSG_WAITALL));
	EXPECT_EQ(0, zc_acked(z));

	/* a buffer that cannot take the data: EFAULT at once, nothing posted */
	ro = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	zc_stats(&s0);
	EXPECT_EQ(-EFAULT, vmmc_sock_recv_begin(z->fd, ro, 65536, 0));
	zc_stats(&s1);
	EXPECT_EQ(0, s1.zc_posts - s0.zc_posts);
	EXPECT_EQ(0, s1.zc_active);
	munmap(ro, 65536);

	/* the socket closes while a receive is under way */
	ASSERT_EQ(-EINPROGRESS, vmmc_sock_recv_begin(z->fd, z->buf, 100000, 0));
	zc_stats(&s1);
	EXPECT_LT(0, s1.zc_active);
	EXPECT_EQ(0, vmmc_sock_close(z->fd));
	zc_stats(&s1);
	EXPECT_EQ(0, s1.zc_active);
	r = vmmc_sock_recv_end(z->fd, z->buf, 100000, 0, 1);
	EXPECT_EQ(-EBADF, r);
	z->fd = -1;
	zc_finish(_metadata, z, false);
}

TEST_HARNESS_MAIN

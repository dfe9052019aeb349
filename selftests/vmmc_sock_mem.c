// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the socket memory budget (vmmc_sock(7), "Memory"): the
 * pages a process's connections pin are bounded; past the bound connect
 * and accept fail with ENOBUFS, exactly there, having pinned nothing more;
 * closing gives all of it back (the kernel's VmPin and the library's
 * gauges back where they were, and the same connections fit again); a
 * process without CAP_IPC_LOCK stays under RLIMIT_MEMLOCK by itself; rings
 * the program did not size shrink under pressure rather than fail. Both
 * ends of every connection are in this process (one node); every
 * connection carries bytes checked one by one. Cost: about 3 s.
 */
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "vmmc_sock_test.h"

#define PAGE		4096
#define MAXC		512
#define SMALL		4096		/* SO_RCVBUF/SO_SNDBUF: the smallest */
#define MSG		3000
/* budget pages a connection of SMALL rings takes: the client its region
 * (header and ring), control page and staging ring, the server its region
 * and staging ring
 */
#define PAIR_PAGES	(2 + 1 + 2 + 2 + 2)

struct conns {
	int l, n, c[MAXC], a[MAXC];
	uint16_t port;
};

static void set_int(int fd, int name, int v)
{
	vmmc_sock_setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v));
}

static int get_int(int fd, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	vmmc_sock_getsockopt(fd, SOL_SOCKET, name, &v, &len);
	return v;
}

/* A non-blocking listener on a port of its own; @small: SMALL rings. */
static int listen_on(struct conns *k, bool small)
{
	struct sockaddr_vmmc a;

	k->port = vs_test_port(1);
	a = vs_sa(VMMC_NODE_ANY, k->port);
	k->n = 0;
	k->l = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	if (k->l < 0)
		return k->l;
	if (small)
		set_int(k->l, SO_RCVBUF, SMALL);
	vmmc_sock_set_nonblock(k->l, 1);
	if (vmmc_sock_bind(k->l, VS_SA(a)) || vmmc_sock_listen(k->l, 64))
		return -EADDRINUSE;
	return 0;
}

/*
 * One more connection to ourselves, both ends kept in @k: 0, or the
 * connect's error (the accept's if the connect passed and it failed).
 */
static int one_more(struct conns *k, bool small)
{
	struct sockaddr_vmmc a = vs_sa(VMMC_NODE_ANY, k->port);
	int c = vmmc_socket(AF_VMMC, SOCK_STREAM, 0), err;

	if (c < 0)
		return c;
	if (small) {
		set_int(c, SO_RCVBUF, SMALL);
		set_int(c, SO_SNDBUF, SMALL);
	}
	err = vmmc_sock_connect(c, VS_SA(a));
	if (err) {
		vmmc_sock_close(c);
		return err;
	}
	k->a[k->n] = vmmc_sock_accept(k->l, NULL, NULL);
	if (k->a[k->n] < 0) {
		vmmc_sock_close(c);
		return k->a[k->n];
	}
	k->c[k->n++] = c;
	return 0;
}

/* Connections until the first error (returned) or MAXC (0). */
static int fill(struct conns *k, bool small)
{
	int err = 0;

	while (k->n < MAXC && !(err = one_more(k, small)))
		;
	return err;
}

/* MSG bytes each way on every connection, checked byte for byte: 0 good. */
static int talk(struct conns *k)
{
	static uint8_t buf[MSG];
	int i, bad = 0;

	for (i = 0; i < k->n && !bad; i++)
		bad = vs_send_stream(k->c[i], i, 0, MSG, 700, buf) ||
		      vs_recv_stream(k->a[i], i, 0, MSG, 900, buf) ||
		      vs_send_stream(k->a[i], i, 1, MSG, 500, buf) ||
		      vs_recv_stream(k->c[i], i, 1, MSG, 1100, buf);
	return bad ? -1 - (i - 1) : 0;
}

static void close_all(struct conns *k)
{
	int i;

	for (i = 0; i < k->n; i++) {
		vmmc_sock_close(k->c[i]);
		vmmc_sock_close(k->a[i]);
	}
	k->n = 0;
}

/*
 * Until no SEND is in flight (a refusal's socket goes when its hello's
 * completion is taken), 5 s at most.
 */
static void settle(void)
{
	struct vmmc_sock_stats st;
	int i;

	for (i = 0; i < 5000; i++) {
		vmmc_sock_progress();
		vmmc_sock_stats(&st);
		if (!st.inflight)
			return;
		usleep(1000);
	}
}

static void budget(long pages)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", pages * PAGE);
	setenv("VMMC_SOCK_MEM_MAX", v, 1);
}

FIXTURE(mem) {
	struct conns k;
};

FIXTURE_SETUP(mem)
{
}

FIXTURE_TEARDOWN(mem)
{
}

/*
 * A budget of exactly 10 connections of the smallest rings: the 11th
 * connect fails with ENOBUFS at once (the client's own pages do not
 * fit); with 5 pages more, the client's fit and the server's do not: the
 * server refuses, so connect says ENOBUFS and so does the next accept.
 * Nothing more is pinned either way; closing gives all back, and the
 * same 10 fit again.
 */
TEST_F(mem, exact)
{
	struct vmmc_sock_stats st;
	long pin0, pin;
	int round;

	for (round = 0; round < 2; round++) {
		budget(10 * PAIR_PAGES + 5 * round);
		ASSERT_EQ(0, listen_on(&self->k, true));
		pin0 = vmmc_vm_pin_kb();
		ASSERT_LE(0, pin0);
		EXPECT_EQ(-ENOBUFS, fill(&self->k, true));
		EXPECT_EQ(10, self->k.n);
		/* a refusal said so to accept too, once */
		EXPECT_EQ(round ? -ENOBUFS : -EAGAIN,
			  vmmc_sock_accept(self->k.l, NULL, NULL));
		EXPECT_EQ(-EAGAIN, vmmc_sock_accept(self->k.l, NULL, NULL));
		settle();
		pin = vmmc_vm_pin_kb();
		TH_LOG("round %d: %d connections, %ld KiB pinned (budget %d KiB)",
		       round, self->k.n, pin - pin0, 10 * PAIR_PAGES * 4);
		EXPECT_EQ(10 * PAIR_PAGES * PAGE / 1024, pin - pin0);
		EXPECT_EQ(0, talk(&self->k));
		EXPECT_EQ(SMALL, get_int(self->k.c[9], SO_RCVBUF));
		EXPECT_EQ(SMALL, get_int(self->k.c[9], SO_SNDBUF));
		close_all(&self->k);
		/* every page back: the same ten fit again */
		EXPECT_EQ(pin0, vmmc_vm_pin_kb());
		vmmc_sock_stats(&st);
		EXPECT_EQ(0, st.conns);
		EXPECT_EQ(-ENOBUFS, fill(&self->k, true));
		EXPECT_EQ(10, self->k.n);
		EXPECT_EQ(0, talk(&self->k));
		close_all(&self->k);
		EXPECT_EQ(pin0, vmmc_vm_pin_kb());
		vmmc_sock_close(self->k.l);
		VS_EXPECT_ALL_CLOSED();
		EXPECT_EQ(0, vmmc_vm_pin_kb());
	}
}

/*
 * Rings the program did not size: the first connections get the default
 * ring, later ones smaller ones under pressure, down to the smallest,
 * never failing before the budget is spent, never pinning past it.
 */
TEST_F(mem, pressure)
{
	const long pages = 1024;
	int i, r, first, last, err, shrunk = 0;
	long pin0, pin;

	budget(pages);
	ASSERT_EQ(0, listen_on(&self->k, false));
	pin0 = vmmc_vm_pin_kb();
	err = fill(&self->k, false);
	settle();
	pin = vmmc_vm_pin_kb();
	EXPECT_EQ(-ENOBUFS, err);
	ASSERT_LT(0, self->k.n);
	first = get_int(self->k.c[0], SO_RCVBUF);
	last = get_int(self->k.c[self->k.n - 1], SO_RCVBUF);
	TH_LOG("%d connections, %ld of %ld KiB pinned; rings %d .. %d",
	       self->k.n, pin - pin0, pages * 4, first, last);
	EXPECT_EQ(VMMC_SOCK_RCVBUF_DEF, first);
	EXPECT_EQ(SMALL, last);
	EXPECT_GE(pages * 4, pin - pin0);
	/* past the pressure mark (a quarter), mostly the smallest rings */
	EXPECT_LE(pages / 2 / PAIR_PAGES, self->k.n);
	for (i = 0; i < self->k.n; i++) {
		r = get_int(self->k.a[i], SO_RCVBUF);
		shrunk += r < VMMC_SOCK_RCVBUF_DEF;
		EXPECT_TRUE(r >= SMALL && r <= VMMC_SOCK_RCVBUF_DEF &&
			    !(r & (r - 1)));
		/* a side's staging ring is its peer's ring */
		EXPECT_EQ(r, get_int(self->k.c[i], SO_SNDBUF));
	}
	EXPECT_LT(0, shrunk);
	EXPECT_EQ(0, talk(&self->k));
	close_all(&self->k);
	EXPECT_EQ(pin0, vmmc_vm_pin_kb());
	vmmc_sock_close(self->k.l);
	VS_EXPECT_ALL_CLOSED();
}

/* Drop CAP_IPC_LOCK from this process's effective set: 0 or -errno. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/*
 * A process without CAP_IPC_LOCK under RLIMIT_MEMLOCK of 1 MiB and no
 * budget of its own: its budget is three quarters of the limit, so the
 * library says ENOBUFS where the kernel would have said ENOMEM, and the
 * kernel's count stays under the limit.
 */
TEST_F(mem, memlock)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	long pin0, pin;
	int err;

	unsetenv("VMMC_SOCK_MEM_MAX");
	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, listen_on(&self->k, false));
	pin0 = vmmc_vm_pin_kb();
	err = fill(&self->k, false);
	settle();
	pin = vmmc_vm_pin_kb();
	TH_LOG("%d connections, %ld KiB pinned (%ld KiB before)",
	       self->k.n, pin - pin0, pin0);
	EXPECT_EQ(-ENOBUFS, err);
	EXPECT_GE(768, pin - pin0);
	EXPECT_GE(1024, pin);
	EXPECT_LE(768 / 4 / 2 / PAIR_PAGES, self->k.n);
	EXPECT_EQ(0, talk(&self->k));
	close_all(&self->k);
	EXPECT_EQ(pin0, vmmc_vm_pin_kb());
	vmmc_sock_close(self->k.l);
	VS_EXPECT_ALL_CLOSED();
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a receiver cannot stall a sender (issue 13, point 2). The
 * owner of node1's export (ep10) fills its NQ and never reaps it, then
 * lies in its NQ cons (past prod, far behind) and scribbles over the
 * NQ's dropped count; through all of it, node0 ep10's notifying SENDs to
 * it complete OK at once with imm VMMC_SEND_NQ_DROPPED, their data in
 * place, while its SENDs to another endpoint (node0 ep11) go on; the
 * NIC overwrites no NQE and counts every drop in its own copy. Once the
 * owner reaps, its 256 NQEs are there in order and the next one is
 * written again. Clients of the fabric's control socket (more than it
 * serves at once) that connect and send nothing or dribble, and extra
 * clients of the nodes' ivshmem sockets, leave the NIC's SENDs
 * undelayed and are closed by their deadline.
 */
#define FABRIC_TEST_CTL	8	/* FABRIC_CTL_CLIENTS */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_guest.h"
#include "test_send.h"

static bool nqe_at(const struct vmmc_nqe *q, const struct ts_dst *d,
		   unsigned int ep, __u64 off, __u32 len)
{
	return q->type == VMMC_NQE_DATA && q->export_id == d->export_id &&
	       q->src_node == 0 && q->src_ep == ep && q->offset == off &&
	       q->len == len && !q->reserved;
}

/*
 * One notifying SEND of @len bytes to the rogue (dst[1]), then one plain
 * SEND to dst[0]: both complete with the status and imm expected, in
 * order, and the rogue's bytes landed.
 */
static bool pair(struct ts *t, __u64 tag, __u64 doff, __u32 len, __u64 imm)
{
	struct ts_dst *d = &t->dst[1];
	__u8 seed = (__u8)tag;
	struct vmmc_sqe s;
	bool ok;

	ts_fill_dst(&d->buf, seed);
	ts_fill_src(&t->src, 7, len);
	fg_sqe_send(&s, tag, 1, doff, TS_SLOT, 7, len, true);
	fg_submit(&t->s0, &s);
	fg_sqe_send(&s, tag + 1, 0, doff, TS_SLOT, 7, len, false);
	fg_submit(&t->s0, &s);
	ok = fg_expect(&t->s0, tag, VMMC_OP_SEND, VMMC_ST_OK, imm,
		       "SEND with NOTIFY to the rogue completes OK");
	ok &= fg_expect(&t->s0, tag + 1, VMMC_OP_SEND, VMMC_ST_OK, 0,
			"the SEND behind it, to another endpoint, too");
	return ok && ts_check_dst(&d->buf, seed, &t->src, 7, doff, len);
}

void test_rogue_nq(struct ts *t)
{
	static struct vmmc_nqe snap[VMMC_NQ_ENTRIES];
	struct ts_dst *d = &t->dst[1];
	struct fg_ep *o = d->owner;
	__u32 prod, base = o->nq_cons, i, good = 0;
	__u64 drops = 0, t0;
	struct vmmc_nqe q;

	t_check(ts_fill_nq(t) == VMMC_NQ_ENTRIES &&
		fg_nq_prod(o) - o->nq_cons == VMMC_NQ_ENTRIES &&
		!o->nq->dropped,
		"rogue: 256 notifying SENDs fill the owner's NQ, nothing dropped");
	prod = fg_nq_prod(o);
	memcpy(snap, o->nqes, sizeof(snap));
	t0 = fg_now_ms();
	for (i = 0; i < 50; i++)
		good += pair(t, 0x1000 + 2 * i, 1000 + 17 * i, 1 + 97 * i,
			     VMMC_SEND_NQ_DROPPED);
	drops += 50;
	t_check(good == 50, "never reaped: 50 notifying SENDs complete OK, NQE dropped (imm %llu), bytes landed; 50 SENDs behind them to another endpoint flow (%llu ms)",
		(unsigned long long)VMMC_SEND_NQ_DROPPED,
		(unsigned long long)(fg_now_ms() - t0));
	t_check(fg_nq_prod(o) == prod && !memcmp(snap, o->nqes, sizeof(snap)) &&
		vmmc_load_acquire(&o->nq->dropped) == drops,
		"... no NQE overwritten, prod unchanged, dropped == %llu",
		(unsigned long long)drops);

	vmmc_store_release(&o->nq->cons, prod + 5);
	good = pair(t, 0x2000, 3, 5000, VMMC_SEND_NQ_DROPPED);
	vmmc_store_release(&o->nq->cons, prod - 1000);
	good += pair(t, 0x2002, 9000, 70000, VMMC_SEND_NQ_DROPPED);
	drops += 2;
	t_check(good == 2 && fg_nq_prod(o) == prod &&
		!memcmp(snap, o->nqes, sizeof(snap)),
		"NQ cons past prod, then 1000 behind: SENDs complete OK, dropped, nothing overwritten");
	vmmc_write_once(&o->nq->dropped, 0u);
	good = pair(t, 0x2004, 0, 1, VMMC_SEND_NQ_DROPPED);
	drops++;
	t_check(good == 1 && vmmc_load_acquire(&o->nq->dropped) == drops,
		"owner zeroes its dropped count: the NIC goes on from its own (%u)",
		vmmc_load_acquire(&o->nq->dropped));

	/* The owner comes back: its 256 NQEs in order, then a new one. */
	vmmc_store_release(&o->nq->cons, base);
	o->nq_cons = base;
	for (i = 0; i < VMMC_NQ_ENTRIES; i++)
		if (!fg_wait_nqe(o, &q, 100) || !nqe_at(&q, d, t->s0.id, i, 1))
			break;
	t_check(i == VMMC_NQ_ENTRIES && fg_nq_prod(o) == o->nq_cons,
		"owner reaps: its 256 NQEs, in order, none doubled");
	good = pair(t, 0x3000, 999, 300, 0);
	t_check(good == 1 && fg_wait_nqe(o, &q, 1000) &&
		nqe_at(&q, d, t->s0.id, 999, 300) &&
		vmmc_load_acquire(&o->nq->dropped) == drops,
		"room again: the next NQE is written (imm 0), dropped stays %llu",
		(unsigned long long)drops);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One control request; true if answered "ok". */
static bool ctl_ok(const char *path, const char *req)
{
	char buf[64];
	ssize_t r = -1;
	int fd = unix_connect(path);

	if (fd < 0)
		return false;
	if (write(fd, req, strlen(req)) == (ssize_t)strlen(req))
		r = read(fd, buf, sizeof(buf));
	close(fd);
	return r >= 2 && !strncmp(buf, "ok", 2);
}

/* Has the fabric closed @fd (EOF) within @ms? */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && read(fd, &c, 1) <= 0;	/* EOF or reset */
}

/*
 * Clients of the fabric's sockets that connect and then send nothing,
 * dribble, or never read: the NIC's SENDs go on, each at once.
 */
void test_rogue_ctl(struct fg *g0, struct fg *g1, const struct fg_env *env)
{
	static struct ts t;
	int idle[FABRIC_TEST_CTL + 2], ivs[2], drib, i, n = 0, late = 0;
	char ctl[256], *slash;
	__u64 t0, worst = 0;

	snprintf(ctl, sizeof(ctl), "%s", env->sock[0]);
	slash = strrchr(ctl, '/');
	if (!slash || !ts_setup(&t, g0, g1))
		return;
	snprintf(slash, sizeof(ctl) - (slash - ctl), "/fabric.ctl");
	for (i = 0; i < FABRIC_TEST_CTL + 2; i++)
		n += (idle[i] = unix_connect(ctl)) >= 0;
	drib = unix_connect(ctl);
	ivs[0] = unix_connect(env->sock[0]);
	ivs[1] = unix_connect(env->sock[1]);
	t_check(n == FABRIC_TEST_CTL + 2 && drib >= 0 && ivs[0] >= 0 &&
		ivs[1] >= 0,
		"%d idle clients on the control socket, one that dribbles, one more on each node's ivshmem socket",
		n);
	for (i = 0; i < 40; i++) {
		struct vmmc_sqe s;

		/* a byte now and then; once closed by the fabric, none */
		if (send(drib, "s", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
			n = 0;
		ts_fill_src(&t.src, 0, 4096);
		fg_sqe_send(&s, 0x4000 + i, i & 1, 4096 * i, TS_SLOT, 0, 4096,
			    false);
		t0 = fg_now_ms();
		fg_submit(&t.s0, &s);
		late += !fg_expect(&t.s0, 0x4000 + i, VMMC_OP_SEND, VMMC_ST_OK,
				   0, "SEND beside the idle control clients");
		if (fg_now_ms() - t0 > worst)
			worst = fg_now_ms() - t0;
	}
	t_check(!late && worst < 800,
		"40 SENDs, each completed within %llu ms while the clients hang on",
		(unsigned long long)worst);
	t_check(closed_within(ivs[0], 1000) && closed_within(ivs[1], 1000),
		"a second ivshmem client is closed at once, unserved");
	for (i = 0, n = 0; i < FABRIC_TEST_CTL + 2; i++)
		n += closed_within(idle[i], 3000);
	t_check(n == FABRIC_TEST_CTL + 2 && closed_within(drib, 3000),
		"every idle or dribbling control client is closed by its deadline");
	t_check(ctl_ok(ctl, "show\n"), "... and the control socket answers again");
	for (i = 0; i < FABRIC_TEST_CTL + 2; i++)
		close(idle[i]);
	close(drib);
	close(ivs[0]);
	close(ivs[1]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the reliable link layer under injected faults (run against
 * a fabric started with --fault ... and --dead-ms FG_DEAD_MS, default
 * 1000, above 700): many SENDs of
 * random sizes from node0 to node1 (and to node0's own loopback), every
 * byte and every notification checked; a link down for a while then up:
 * nothing lost; node1 dead: the SEND fails with NODE_DOWN within the
 * dead-peer time, node1's imports are marked DEAD, node0's own traffic
 * goes on; node1 back: a new import works; a fence while a SEND's packets
 * are held on the wire: none of them lands. Faults are changed at run
 * time through the fabric's control socket.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_guest.h"
#include "test_send.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Wait until no link has a packet waiting for its ACK (the fabric's "show"
 * says "unacked 0" for every link), at most @ms. A test of the dead-peer
 * time needs it: the time runs from a window's last progress, and packets
 * that a SEND's completion outran (its answer came back before the ACK of
 * its data) would otherwise start the clock before the test does.
 */
static bool links_quiet(const char *path, int ms)
{
	double t0 = now_ms();
	char buf[4096];

	do {
		const char *p = buf;
		unsigned int busy = 0, links = 0, v;

		if (!fg_ctl(path, "show\n", buf, sizeof(buf)))
			return false;
		while ((p = strstr(p, " unacked "))) {
			if (sscanf(p, " unacked %u", &v) == 1) {
				busy += v;
				links++;
			}
			p++;
		}
		if (!links)
			return false;	/* not the answer we know */
		if (!busy)
			return true;
		usleep(10000);
	} while (now_ms() - t0 < ms);
	return false;
}

/*
 * One SEND of @len bytes to dst[@which] at @doff: CQE OK, the range holds
 * the source bytes, the byte before and after it untouched, and one NQE.
 */
bool ts_xfer(struct ts *t, unsigned int which, __u32 len, __u64 doff,
	     __u64 tag, int timeout_ms)
{
	struct ts_dst *d = &t->dst[which];
	__u32 soff = ts_rnd() % VMMC_PAGE_SIZE, i;
	__u64 lo = doff ? doff - 1 : 0, hi = doff + len;
	__u8 before = 0, after = 0;
	struct vmmc_cqe c;
	struct vmmc_nqe q;
	struct vmmc_sqe s;

	if (doff)
		before = *fg_buf_at(&d->buf, lo) =
			(__u8)~*fg_buf_at(&t->src, soff);
	if (hi < TS_ELEN)
		after = *fg_buf_at(&d->buf, hi) =
			(__u8)(tag * 3);
	ts_fill_src(&t->src, soff, len);
	fg_sqe_send(&s, tag, which, doff, TS_SLOT, soff, len, true);
	fg_submit(&t->s0, &s);
	if (!fg_wait_cqe(&t->s0, &c, timeout_ms) || c.user_data != tag ||
	    c.status != VMMC_ST_OK) {
		t_diag("SEND %llu (len %u): no OK completion (status %u)",
		       (unsigned long long)tag, len, c.status);
		return false;
	}
	for (i = 0; i < len; i++)
		if (*fg_buf_at(&d->buf, doff + i) !=
		    *fg_buf_at(&t->src, soff + i)) {
			t_diag("SEND %llu: byte %u differs", (unsigned long long)tag,
			       i);
			return false;
		}
	if ((doff && *fg_buf_at(&d->buf, lo) != before) ||
	    (hi < TS_ELEN &&
	     *fg_buf_at(&d->buf, hi) != after)) {
		t_diag("SEND %llu: a byte outside its range changed",
		       (unsigned long long)tag);
		return false;
	}
	if (!fg_wait_nqe(d->owner, &q, timeout_ms) || q.offset != doff ||
	    q.len != len || q.src_ep != t->s0.id ||
	    fg_nq_prod(d->owner) != d->owner->nq_cons) {
		t_diag("SEND %llu: not exactly one NQE", (unsigned long long)tag);
		return false;
	}
	return true;
}

static void many(struct ts *t, unsigned int n)
{
	const struct vmmc_nic_counters *c0 = &t->g0->st->counters;
	const struct vmmc_nic_counters *c1 = &t->g1->st->counters;
	unsigned int i, good = 0;
	__u64 re = c0->link_retrans + c1->link_retrans;

	for (i = 0; i < n; i++) {
		__u32 len = 1 + ts_rnd() % (i % 10 ? 20000 : 300000);
		__u64 doff = ts_rnd() % (TS_ELEN - len + 1);

		good += ts_xfer(t, i % 8 ? 1 : 0, len, doff, 1000 + i, 10000);
	}
	t_check(good == n, "lossy links: %u of %u SENDs (1 B .. 300 KB) byte-exact with one NQE each",
		good, n);
	t_check(c0->link_retrans + c1->link_retrans > re &&
		c0->fault_drops && c0->fault_dups && c0->fault_corrupts &&
		c0->fault_delays && c1->link_crc_errors && c1->link_dups &&
		c1->link_ooo,
		"retransmissions, injected faults, CRC errors, duplicates and reordering counted");
}

static void link_down(struct ts *t, const char *path)
{
	double t0;
	bool ok;

	ok = fg_ctl(path, "fault 0-1:down-ms=700 1-0:down-ms=700\n", NULL, 0);
	t0 = now_ms();
	ok = ok && ts_xfer(t, 1, 100000, 777, 2, 5000);
	t_check(ok && now_ms() - t0 >= 600,
		"link down 0.7 s (below dead-ms): the SEND waits, then lands whole (%.0f ms)",
		now_ms() - t0);
	t_check(!t->g0->st->counters.link_peer_deaths &&
		fg_kimport(&t->s0, 1)->state == VMMC_IMPORT_ACTIVE,
		"... no peer declared dead, the import still ACTIVE");
}

static void node_death(struct ts *t, const char *path)
{
	const char *e = getenv("FG_DEAD_MS");
	double dead = e ? atof(e) : 1000;
	const struct vmmc_nic_counters *c0 = &t->g0->st->counters;
	__u64 deaths = c0->link_peer_deaths;
	__u64 revoked = c0->link_imports_revoked;
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	double t0, dt;
	bool ok;

	t_check(links_quiet(path, 5000),
		"before node1 dies: every packet on the links acknowledged");
	ok = fg_ctl(path, "fault node1:dead=1\n", NULL, 0);
	fg_sqe_send(&s, 3, 1, 0, TS_SLOT, 0, 50000, true);
	t0 = now_ms();
	fg_submit(&t->s0, &s);
	ok = ok && fg_wait_cqe(&t->s0, &c, 3 * dead + 2000);
	dt = now_ms() - t0;
	t_check(ok && c.user_data == 3 && c.status == VMMC_ST_NODE_DOWN &&
		dt >= 0.9 * dead && dt < 2 * dead + 1000,
		"node1 dead: the SEND fails NODE_DOWN after the dead-peer time (%.0f ms, dead-ms %.0f)",
		dt, dead);
	t_check(fg_kimport(&t->s0, 1)->state == VMMC_IMPORT_DEAD &&
		fg_kimport(&t->s0, 0)->state == VMMC_IMPORT_ACTIVE &&
		c0->link_peer_deaths == deaths + 1 &&
		c0->link_imports_revoked == revoked + 1,
		"... node1's import marked DEAD, node0's own import kept, counted (deaths %llu -> %llu, revoked %llu -> %llu)",
		(unsigned long long)deaths,
		(unsigned long long)c0->link_peer_deaths,
		(unsigned long long)revoked,
		(unsigned long long)c0->link_imports_revoked);
	fg_sqe_send(&s, 4, 1, 0, TS_SLOT, 0, 10, false);
	t0 = now_ms();
	fg_submit(&t->s0, &s);
	fg_expect(&t->s0, 4, VMMC_OP_SEND, VMMC_ST_NODE_DOWN, 0,
		  "a later SEND through the dead import fails NODE_DOWN at once");
	t_check(now_ms() - t0 < 500, "... at once (%.0f ms)", now_ms() - t0);
	t_check(ts_xfer(t, 0, 5000, 10, 5, 2000),
		"the sender stays healthy: a SEND to its own node works");
	t_check(fg_ctl(path, "fault node1:dead=0\n", NULL, 0) && ts_import(t, 1) &&
		ts_xfer(t, 1, 30000, 99, 6, 5000),
		"node1 back: a new import works, the SEND lands whole");
}

/*
 * A fence while a SEND's packets wait on the wire (every copy delayed
 * 300 ms): none of them moves a byte, though the link still carries them
 * (as VOID packets, fabric_link.c).
 */
static void fence_voids(struct ts *t, const char *path)
{
	const struct vmmc_nic_counters *c1 = &t->g1->st->counters;
	__u64 rx = c1->data_rx, pkts = c1->pkts_rx;
	struct vmmc_sqe s;
	bool ok;

	ts_fill_dst(&t->dst[1].buf, 0x3c);
	ok = fg_ctl(path, "fault 0-1:delay=100,delay-us=300000\n", NULL, 0);
	fg_sqe_send(&s, 8, 1, 0, TS_SLOT, 0, 100000, true);
	fg_submit(&t->s0, &s);
	fg_sleep_ms(50);
	ok = ok && fg_ep_set_state(&t->s0, VMMC_EP_FENCED);
	fg_sleep_ms(800);
	t_check(ok && c1->pkts_rx > pkts && c1->data_rx == rx &&
		ts_check_dst(&t->dst[1].buf, 0x3c, NULL, 0, 0, 0),
		"a fence while its SEND's packets wait on the wire: they arrive, not a byte lands (data_rx %llu -> %llu)",
		(unsigned long long)rx, (unsigned long long)c1->data_rx);
	fg_ctl(path, "fault 0-1:clear\n", NULL, 0);
}

void test_fault(struct fg *g0, struct fg *g1, const char *ctl_path,
		unsigned int n)
{
	static struct ts t;

	if (!ts_setup(&t, g0, g1))
		return;
	many(&t, n);
	link_down(&t, ctl_path);
	t_check(fg_ctl(ctl_path, "fault all:clear\n", NULL, 0), "faults cleared at run time");
	node_death(&t, ctl_path);
	t_check(!fg_ctl(ctl_path, "fault 0-7:drop=5\n", NULL, 0) &&
		!fg_ctl(ctl_path, "fault all:drop=101\n", NULL, 0) &&
		!fg_ctl(ctl_path, "fault all:bogus=1\n", NULL, 0) &&
		!fg_ctl(ctl_path, "frobnicate\n", NULL, 0) &&
		fg_ctl(ctl_path, "show\n", NULL, 0),
		"control socket: bad requests refused, show answers");
	fence_voids(&t, ctl_path);
}

/* A diagnostic: SEND latency (64 B, NOTIFY) node0 -> node1, spinning. */
void test_latency(struct fg *g0, struct fg *g1)
{
	static struct ts t;
	double lat[2000], t0, sum = 0;
	unsigned int i, n = 2000, bad = 0;
	struct vmmc_sqe s;
	struct vmmc_nqe q;

	if (!ts_setup(&t, g0, g1))
		return;
	for (i = 0; i < n; i++) {
		fg_sqe_send(&s, i, 1, 0, TS_SLOT, 0, 64, true);
		t0 = now_ms();
		fg_submit(&t.s0, &s);
		while (fg_cq_prod(&t.s0) == t.s0.cq_cons)
			;
		lat[i] = now_ms() - t0;
		sum += lat[i];
		t.s0.cq_cons++;
		vmmc_store_release(&t.s0.cq->cons, t.s0.cq_cons);
		bad += !fg_wait_nqe(t.dst[1].owner, &q, 1000);
	}
	t_diag("64 B SEND with NOTIFY node0 -> node1: mean %.1f us, first %.1f us (%u lost NQEs)",
	       sum / n * 1000, lat[0] * 1000, bad);
	/* 64 B SENDs without NOTIFY, 32 in flight: SENDs per second */
	t0 = now_ms();
	for (i = 0, bad = 0; i < 20000 + 32; i++) {
		if (i < 20000) {
			fg_sqe_send(&s, i, 1, 0, TS_SLOT, 0, 64, false);
			fg_submit(&t.s0, &s);
		}
		if (i < 32)
			continue;
		while (fg_cq_prod(&t.s0) == t.s0.cq_cons)
			;
		t.s0.cq_cons++;
		vmmc_store_release(&t.s0.cq->cons, t.s0.cq_cons);
	}
	t_diag("64 B SENDs node0 -> node1, 32 in flight: %.0f per second",
	       20000 / (now_ms() - t0) * 1000);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: two fabrics joined over UDP (run by span.sh): node0 on
 * fabric A, node1 on fabric B, faults injected on both. Many SENDs from
 * node0 to node1 (most of one or two datagrams, some of hundreds), every
 * byte and every notification checked; then fabric B is killed: a SEND
 * to node1 fails NODE_DOWN within the dead-peer time, node1's import is
 * marked DEAD, node0 goes on; B is started again (a new boot epoch): node1
 * reconnects and exports again, node0 imports it anew and a SEND lands
 * whole. With both control sockets, the traffic goes through three
 * disturbances shorter than the dead-peer time (disturb()): no peer may
 * be declared dead.
 *
 * Environment: FG_DEAD_MS (the fabrics' --dead-ms), FG_SPAN_PIDFILE (B's
 * fabric.pid), FG_SPAN_RESTART (a shell command that starts B again in
 * the background), FG_SPAN_CTL and FG_SPAN_CTL_B (A's and B's control
 * sockets), FG_SPAN_FAULTS (the fault spec both fabrics started with),
 * FG_SPAN_POKE (a shell command that sends forged datagrams to A, before
 * the traffic), FG_SPAN_BW (SENDs of 1 MiB per run of the bandwidth
 * diagnostic, default 32).
 */
#define _GNU_SOURCE
#include <signal.h>
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
 * A batch of @nr SENDs (1..2000 bytes each) to node1, submitted at once:
 * SEND k reads from its own 32 pages of the source and writes into its
 * own slice of the export. Each must complete OK in order, land byte for
 * byte with the bytes around it untouched, and post one NQE; the number
 * of SENDs that did all of it.
 */
#define SPAN_BATCH	32
#define SPAN_SLICE	(TS_ELEN / SPAN_BATCH)

struct span_env;
typedef void (*span_hook)(const struct span_env *e);

static unsigned int batch(struct ts *t, unsigned int nr, __u64 tag,
			  span_hook hook, const struct span_env *e)
{
	struct ts_dst *d = &t->dst[1];
	__u32 len[SPAN_BATCH], off[SPAN_BATCH], soff, i, k;
	__u64 doff[SPAN_BATCH];
	unsigned int good = 0;
	struct vmmc_cqe c;
	struct vmmc_nqe q;
	struct vmmc_sqe s;

	for (k = 0; k < nr; k++) {
		len[k] = 1 + ts_rnd() % 2000;
		off[k] = ts_rnd() % VMMC_PAGE_SIZE;
		doff[k] = k * SPAN_SLICE + 1 +
			  ts_rnd() % (SPAN_SLICE - len[k] - 1);
		*fg_buf_at(&d->buf, doff[k] - 1) = 0x5a;
		*fg_buf_at(&d->buf, doff[k] + len[k]) = 0xa5;
		ts_fill_src(&t->src, k * 32 * VMMC_PAGE_SIZE + off[k], len[k]);
		fg_sqe_send(&s, tag + k, 1, doff[k], TS_SLOT + k * 32, off[k],
			    len[k], true);
		fg_submit(&t->s0, &s);
	}
	if (hook)	/* while the batch is in flight */
		hook(e);
	for (k = 0; k < nr; k++) {
		bool ok = fg_wait_cqe(&t->s0, &c, 10000) &&
			  c.user_data == tag + k && c.status == VMMC_ST_OK;

		soff = k * 32 * VMMC_PAGE_SIZE + off[k];
		for (i = 0; ok && i < len[k]; i++)
			ok = *fg_buf_at(&d->buf, doff[k] + i) ==
			     *fg_buf_at(&t->src, soff + i);
		ok = ok && *fg_buf_at(&d->buf, doff[k] - 1) == 0x5a &&
		     *fg_buf_at(&d->buf, doff[k] + len[k]) == 0xa5 &&
		     fg_wait_nqe(d->owner, &q, 10000) &&
		     q.offset == doff[k] && q.len == len[k] &&
		     q.src_ep == t->s0.id;
		if (!ok) {
			t_diag("SEND %llu (len %u): not OK, not byte-exact or no NQE",
			       (unsigned long long)(tag + k), len[k]);
			return good;
		}
		good++;
	}
	return good;
}

/*
 * Disturbances during the traffic, none of which may get a live peer
 * declared dead (disturb(), kind 0..2): 0, heavy loss, reordering and
 * duplication on both fabrics for 0.4 x the dead-peer time, through
 * small SENDs and 1 MiB ones that fill the link's window; 1, fabric B
 * stopped (SIGSTOP) for 0.6 x the dead-peer time, as a loaded host may
 * deschedule it, a batch in flight; 2, a batch sent while A's link to B
 * drops everything for 0.6 x the dead-peer time, then fabric A itself
 * stopped for 0.5 x, the link restored after: 1.1 x without an ack, of
 * which A ran 0.6 x only (B hears A's HELLOs until the stop: at most
 * 0.5 x + 250 ms of silence). The fault rates go back to the ones both
 * fabrics started with after.
 */
struct span_env {
	const char *ctl[2];	/* A's and B's control sockets */
	const char *faults;	/* the rates set at start */
	int pid[2];		/* A's and B's */
	double dead;		/* the dead-peer time, ms */
};

#define SPAN_BIG	(1u << 20)
#define SPAN_BURST	"all:drop=40,reorder=40,dup=10,corrupt=5,delay=10,delay-us=500"

/* @spec on fabric @i's links (0: A, 1: B, 2: both). */
static bool set_faults(const struct span_env *e, unsigned int i,
		       const char *spec)
{
	char req[256], out[512];
	bool ok = true;
	unsigned int k;

	snprintf(req, sizeof(req), "fault %s\n", spec);
	for (k = 0; k < 2; k++)
		if (i == k || i == 2)
			ok = fg_ctl(e->ctl[k], req, out, sizeof(out)) && ok;
	return ok;
}

static void stop_for(int pid, double ms)
{
	kill(pid, SIGSTOP);
	fg_sleep_ms((unsigned int)ms);
	kill(pid, SIGCONT);
}

static void stop_b(const struct span_env *e)
{
	stop_for(e->pid[1], 0.6 * e->dead);
}

static void cut_then_stop_a(const struct span_env *e)
{
	fg_sleep_ms((unsigned int)(0.6 * e->dead));
	kill(e->pid[0], SIGSTOP);
	fg_sleep_ms((unsigned int)(0.5 * e->dead));
	kill(e->pid[0], SIGCONT);
	set_faults(e, 0, e->faults);
}

static bool disturb(struct ts *t, const struct span_env *e, unsigned int kind,
		    __u64 tag)
{
	double t0 = now_ms();
	unsigned int nr = 0;
	bool ok = true;

	if (kind == 1)
		return batch(t, SPAN_BATCH, tag, stop_b, e) == SPAN_BATCH;
	if (kind == 2) {
		/* B's window empty first: its answers all acked */
		fg_sleep_ms((unsigned int)(0.2 * e->dead));
		return set_faults(e, 0, "0-1:drop=100") &&
		       batch(t, SPAN_BATCH, tag, cut_then_stop_a, e) ==
		       SPAN_BATCH;
	}
	if (!set_faults(e, 2, SPAN_BURST))
		return false;
	for (nr = 0; ok && now_ms() - t0 < 0.4 * e->dead; nr++)
		ok = nr % 2 ? ts_xfer(t, 1, SPAN_BIG, 0, tag + nr * 64, 10000) :
		     batch(t, SPAN_BATCH, tag + nr * 64, NULL, e) ==
		     SPAN_BATCH;
	return set_faults(e, 2, e->faults) && ok;
}

static void many(struct ts *t, unsigned int n, const struct span_env *e)
{
	const struct vmmc_nic_counters *c0 = &t->g0->st->counters;
	const struct vmmc_nic_counters *c1 = &t->g1->st->counters;
	__u64 deaths = c0->link_peer_deaths + c1->link_peer_deaths;
	unsigned int i, nr, good = 0, kind = 0, every = n / 4;
	double t0 = now_ms();
	bool calm = true;

	for (i = 0; i < n; i += nr) {
		nr = n - i < SPAN_BATCH ? n - i : SPAN_BATCH;
		if (e && kind < 3 && i >= every * (kind + 1)) {
			calm = disturb(t, e, kind, 10000000ull * (kind + 1));
			kind++;
			if (!calm)
				break;
		}
		if (i % 1024 == 0) {	/* now and then one of 1 .. 300 KB */
			__u32 len = 1 + ts_rnd() % 300000;

			nr = 1;
			if (!ts_xfer(t, 1, len, ts_rnd() % (TS_ELEN - len + 1),
				     1000 + i, 10000))
				break;
			good++;
			continue;
		}
		if (batch(t, nr, 1000 + i, NULL, NULL) != nr)
			break;
		good += nr;
	}
	t_check(good == n, "two fabrics over UDP: %u of %u SENDs node0 -> node1 byte-exact with one NQE each (%.1f s)",
		good, n, (now_ms() - t0) / 1e3);
	t_check(c0->link_retrans && c0->fault_drops && c0->fault_dups &&
		c0->fault_corrupts && c0->fault_delays && c1->fault_drops &&
		c1->link_crc_errors && c1->link_dups && c1->link_ooo,
		"... faults injected on both fabrics, retransmissions, CRC errors, duplicates and reordering counted (retrans %llu, crc errors %llu)",
		(unsigned long long)c0->link_retrans,
		(unsigned long long)c1->link_crc_errors);
	if (e)
		t_check(calm && kind == 3 &&
			c0->link_peer_deaths + c1->link_peer_deaths == deaths,
			"... through a burst of heavy loss and reordering, fabric B stopped for 0.6 x the dead-peer time, and fabric A stopped for 0.5 x after 0.6 x of its link dropping all: the traffic went on, no peer declared dead (%llu deaths)",
			(unsigned long long)(c0->link_peer_deaths +
					     c1->link_peer_deaths - deaths));
}

/*
 * Forged datagrams aimed at node0's export 1 (@cmd: fabric-udp-poke
 * forge, from fabric B's own address and port while B runs): none may
 * change a byte of it or post an NQE; span.sh checks what A counted.
 */
static void forged(struct ts *t, const char *cmd)
{
	const struct ts_dst *d = &t->dst[0];
	bool ok;

	ts_fill_dst(&d->buf, 0x3c);
	ok = system(cmd) == 0;
	fg_sleep_ms(300);
	t_check(ok, "forged datagrams sent to fabric A (%s)", cmd);
	t_check(d->export_id == 1 && ts_check_dst(&d->buf, 0x3c, &t->src, 0, 0, 0) &&
		fg_nq_prod(d->owner) == d->owner->nq_cons,
		"... node0's export 1 (their target) unchanged, no NQE posted");
}

/*
 * A diagnostic, after the checks: SENDs of 1 MiB node0 -> node1, one at
 * a time, then eight in flight; the retransmissions they cost.
 */
static void bandwidth(struct ts *t)
{
	const struct vmmc_nic_counters *c0 = &t->g0->st->counters;
	const char *nr = getenv("FG_SPAN_BW");
	unsigned int i, n = nr ? (unsigned int)atoi(nr) : 32, ok, w;
	__u64 re;
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	double t0;

	for (w = 1; w <= 8; w += 7) {
		re = c0->link_retrans;
		t0 = now_ms();
		ok = 0;
		for (i = 0; i < n + w - 1; i++) {
			if (i < n) {
				fg_sqe_send(&s, 500 + i, 1, 0, TS_SLOT, 0,
					    1u << 20, false);
				fg_submit(&t->s0, &s);
			}
			if (i + 1 >= w)
				ok += fg_wait_cqe(&t->s0, &c, 10000) &&
				      c.status == VMMC_ST_OK;
		}
		t_diag("SEND 1 MiB node0 -> node1 over UDP, %u in flight: %.0f MB/s (%u of %u OK, %llu retransmissions)",
		       w, n * 1.048576 / (now_ms() - t0) * 1e3, ok, n,
		       (unsigned long long)(c0->link_retrans - re));
	}
}

/* The boot epoch of fabric B that A last heard (ctl show), or 0. */
static unsigned long long b_boot(const char *ctl)
{
	static char out[16384];
	unsigned long long boot = 0;
	const char *p;

	if (fg_ctl(ctl, "show\n", out, sizeof(out)) &&
	    (p = strstr(out, "\npeer B boot ")) &&
	    sscanf(p, "\npeer B boot %llu", &boot) != 1)
		boot = 0;
	return boot;
}

static int read_pid(const char *path)
{
	FILE *p = fopen(path, "re");
	int pid = -1;

	if (p) {
		if (fscanf(p, "%d", &pid) != 1)
			pid = -1;
		fclose(p);
	}
	return pid;
}

/* Fabric B killed: node0's SEND to node1 fails NODE_DOWN in time. */
static bool kill_b(struct ts *t, const char *pidfile, double dead)
{
	const struct vmmc_nic_counters *c0 = &t->g0->st->counters;
	__u64 deaths = c0->link_peer_deaths;
	int pid = read_pid(pidfile);
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	double t0, dt;
	bool ok;

	if (!t_check(pid > 0 && !kill(pid, SIGKILL), "fabric B (pid %d) killed",
		     pid))
		return false;
	fg_sqe_send(&s, 3, 1, 0, TS_SLOT, 0, 50000, true);
	t0 = now_ms();
	fg_submit(&t->s0, &s);
	ok = fg_wait_cqe(&t->s0, &c, 3 * dead + 2000);
	dt = now_ms() - t0;
	t_check(ok && c.user_data == 3 && c.status == VMMC_ST_NODE_DOWN &&
		dt >= 0.7 * dead && dt < 2 * dead + 1000,
		"a SEND to node1 fails NODE_DOWN within the dead-peer time (%.0f ms, dead-ms %.0f)",
		dt, dead);
	t_check(fg_kimport(&t->s0, 1)->state == VMMC_IMPORT_DEAD &&
		fg_kimport(&t->s0, 0)->state == VMMC_IMPORT_ACTIVE &&
		c0->link_peer_deaths > deaths,
		"... node1's import marked DEAD, node0's own kept, the death counted");
	return t_check(ts_xfer(t, 0, 5000, 10, 5, 2000),
		       "node0 stays up: a SEND to its own node works");
}

/* Fabric B started again: node1 back, a new import, a whole SEND. */
static void restart_b(struct ts *t, const struct fg_env *env,
		      const char *pidfile, const char *cmd, const char *ctl)
{
	int old = read_pid(pidfile), pid = old;
	unsigned long long boot = b_boot(ctl);
	double t0 = now_ms();
	bool ok;

	if (!t_check(system(cmd) == 0, "fabric B started again"))
		return;
	while ((pid = read_pid(pidfile)) == old || pid <= 0) {
		if (now_ms() - t0 > 10000)
			break;
		fg_sleep_ms(10);
	}
	if (!t_check(pid > 0 && pid != old, "... it is ready (pid %d)", pid))
		return;
	fg_close(t->g1);
	if (!fg_connect(t->g1, env->sock[1], env->ram[1], env->ram_bytes, 1))
		return;
	fg_drv(t->g1, VMMC_DRV_UP);
	/*
	 * A request of A's made before it heard B's new boot epoch would be
	 * addressed to the old B: refused there, then failed NODE_DOWN.
	 */
	t0 = now_ms();
	while (b_boot(ctl) == boot && now_ms() - t0 < 10000)
		fg_sleep_ms(20);
	t_check(b_boot(ctl) > boot && boot,
		"fabric A heard B's new boot epoch (%llu -> %llu, %.0f ms)",
		boot, b_boot(ctl), now_ms() - t0);
	ok = fg_ep_open(&t->o1, t->g1, 10, FG_EVQ(10)) &&
	     fg_export(t->g1, 1, 0x5001, t->o1.id, &t->dst[1].buf, TS_ELEN, 3);
	t_check(ok && ts_import(t, 1),
		"node1 on the new fabric B exports again; node0 imports it anew");
	t_check(ts_xfer(t, 1, 30000, 99, 6, 5000) &&
		ts_xfer(t, 1, 300000, 5, 7, 5000),
		"... and SENDs land whole across the rejoined link");
}

void test_span(struct fg *g0, struct fg *g1, const struct fg_env *env,
	       unsigned int n)
{
	const char *e = getenv("FG_DEAD_MS");
	const char *pidfile = getenv("FG_SPAN_PIDFILE");
	const char *cmd = getenv("FG_SPAN_RESTART");
	const char *ctl = getenv("FG_SPAN_CTL");
	const char *poke = getenv("FG_SPAN_POKE");
	struct span_env se = {
		.ctl = { ctl, getenv("FG_SPAN_CTL_B") },
		.faults = getenv("FG_SPAN_FAULTS"),
		.pid = { env->fabric_pid, pidfile ? read_pid(pidfile) : -1 },
		.dead = e ? atof(e) : 1000,
	};
	static struct ts t;

	if (!ts_setup(&t, g0, g1))
		return;
	if (poke)
		forged(&t, poke);
	many(&t, n, se.ctl[0] && se.ctl[1] && se.faults && se.pid[1] > 0 ?
		    &se : NULL);
	bandwidth(&t);
	if (!pidfile || !cmd || !ctl)
		return;
	if (kill_b(&t, pidfile, e ? atof(e) : 1000))
		restart_b(&t, env, pidfile, cmd, ctl);
}

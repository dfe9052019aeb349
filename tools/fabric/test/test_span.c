// SPDX-License-Identifier: GPL-2.0
/*
 * Description: two fabrics joined over UDP (run by span.sh): node0 on
 * fabric A, node1 on fabric B, faults injected on both. Many SENDs from
 * node0 to node1 (most of one or two datagrams, some of hundreds), every
 * byte and every notification checked; then fabric B is killed: a SEND
 * to node1 fails NODE_DOWN within the dead-peer time, node1's import is
 * marked DEAD, node0 goes on; B is started again (a new boot epoch): node1
 * reconnects and exports again, node0 imports it anew and a SEND lands
 * whole.
 *
 * Environment: FG_DEAD_MS (the fabrics' --dead-ms), FG_SPAN_PIDFILE (B's
 * fabric.pid), FG_SPAN_RESTART (a shell command that starts B again in
 * the background), FG_SPAN_CTL (A's control socket), FG_SPAN_POKE (a
 * shell command that sends forged datagrams to A, before the traffic).
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

static unsigned int batch(struct ts *t, unsigned int nr, __u64 tag)
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

static void many(struct ts *t, unsigned int n)
{
	const struct vmmc_nic_counters *c0 = &t->g0->st->counters;
	const struct vmmc_nic_counters *c1 = &t->g1->st->counters;
	unsigned int i, nr, good = 0;
	double t0 = now_ms();

	for (i = 0; i < n; i += nr) {
		nr = n - i < SPAN_BATCH ? n - i : SPAN_BATCH;
		if (i % 1024 == 0) {	/* now and then one of 1 .. 300 KB */
			__u32 len = 1 + ts_rnd() % 300000;

			nr = 1;
			if (!ts_xfer(t, 1, len, ts_rnd() % (TS_ELEN - len + 1),
				     1000 + i, 10000))
				break;
			good++;
			continue;
		}
		if (batch(t, nr, 1000 + i) != nr)
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
	unsigned int i, n = 32, ok, w;
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
	static struct ts t;

	if (!ts_setup(&t, g0, g1))
		return;
	if (poke)
		forged(&t, poke);
	many(&t, n);
	bandwidth(&t);
	if (!pidfile || !cmd || !ctl)
		return;
	if (kill_b(&t, pidfile, e ? atof(e) : 1000))
		restart_b(&t, env, pidfile, cmd, ctl);
}

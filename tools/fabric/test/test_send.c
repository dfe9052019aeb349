// SPDX-License-Identifier: GPL-2.0
/*
 * Description: SEND (NIC version 2), byte for byte: on the own node and
 * node0 -> node1, random sizes 1 B .. 4 MiB at unaligned source and
 * destination offsets, scattered pages on both sides; NOTIFY writes
 * exactly one NQE; a full NQ (test_rogue.c) stalls no sender; memcpy
 * bandwidth vs SEND throughput.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_guest.h"
#include "test_send.h"

static __u64 rnd_state = 0x2545f4914f6cdd1dull;

__u64 ts_rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static __u8 bg(__u64 raw, __u8 seed)
{
	return (__u8)(raw * 7 + seed);
}

/* Fill the destination's pages (first_off bytes before it included). */
void ts_fill_dst(const struct fg_buf *d, __u8 seed)
{
	__u64 r;

	for (r = 0; r < (__u64)d->nr_pages * VMMC_PAGE_SIZE; r++)
		d->g->ram[d->pages[r / VMMC_PAGE_SIZE] + r % VMMC_PAGE_SIZE] =
			bg(r, seed);
}

/* Every byte of the destination's pages: the SEND's range or untouched. */
bool ts_check_dst(const struct fg_buf *d, __u8 seed, const struct fg_buf *s,
		  __u32 soff, __u64 doff, __u32 len)
{
	__u64 r, lo = d->first_off + doff, hi = lo + len;

	for (r = 0; r < (__u64)d->nr_pages * VMMC_PAGE_SIZE; r++) {
		__u8 got = d->g->ram[d->pages[r / VMMC_PAGE_SIZE] +
				     r % VMMC_PAGE_SIZE];
		__u8 want = r >= lo && r < hi ? *fg_buf_at(s, soff + r - lo) :
						bg(r, seed);

		if (got != want) {
			t_diag("byte %llu of the pages (range %llu..%llu): got 0x%02x want 0x%02x",
			       (unsigned long long)r, (unsigned long long)lo,
			       (unsigned long long)hi, got, want);
			return false;
		}
	}
	return true;
}

void ts_fill_src(const struct fg_buf *s, __u32 soff, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++)
		*fg_buf_at(s, soff + i) = (__u8)ts_rnd();
}

static bool nqe_is(const struct vmmc_nqe *q, __u32 exp, __u32 node,
		   __u32 ep, __u64 off, __u32 len)
{
	return q->type == VMMC_NQE_DATA && q->export_id == exp &&
	       q->src_node == node && q->src_ep == ep && q->offset == off &&
	       q->len == len && !q->reserved;
}

/* One SEND through import @t->imp, checked byte for byte. */
static bool one_send(struct ts *t, unsigned int which, __u32 len,
		     __u32 soff, __u64 doff, bool notify)
{
	struct ts_dst *d = &t->dst[which];
	__u8 seed = (__u8)ts_rnd();
	struct vmmc_nqe q;
	struct vmmc_sqe s;
	bool ok;

	ts_fill_dst(&d->buf, seed);
	ts_fill_src(&t->src, soff, len);
	fg_sqe_send(&s, len, which, doff, TS_SLOT, soff, len, notify);
	fg_submit(&t->s0, &s);
	ok = fg_expect(&t->s0, len, VMMC_OP_SEND, VMMC_ST_OK, 0, "SEND completes OK");
	ok &= ts_check_dst(&d->buf, seed, &t->src, soff, doff, len);
	if (notify)
		ok &= fg_wait_nqe(d->owner, &q, 2000) &&
		      nqe_is(&q, d->export_id, 0, t->s0.id, doff, len);
	ok &= fg_nq_prod(d->owner) == d->owner->nq_cons;
	if (!ok)
		t_diag("len %u src_off %u dst_offset %llu notify %d", len, soff,
		       (unsigned long long)doff, notify);
	return ok;
}

static void random_sends(struct ts *t, unsigned int which, const char *what)
{
	static const __u32 sizes[] = { 1, 2, 4095, 4096, 4097, 8191, 8192,
				       8193, 65536, 65537, 200000,
				       TS_MAX_LEN };
	unsigned int i, good = 0, n = 0;

	for (i = 0; i < 24; i++) {
		__u32 len = i < 12 ? sizes[i] : 1 + ts_rnd() % (i < 20 ? 300000 :
								   TS_MAX_LEN);
		__u32 soff = i == 11 ? 0 : ts_rnd() % VMMC_PAGE_SIZE;
		__u64 room = TS_ELEN - len;
		__u64 doff = room ? ts_rnd() % (room + 1) : 0;

		if (soff + len > TS_SRC_PAGES * VMMC_PAGE_SIZE)
			soff = TS_SRC_PAGES * VMMC_PAGE_SIZE - len;
		n++;
		good += one_send(t, which, len, soff, doff, i & 1);
	}
	t_check(good == n, "%s: %u of %u SENDs (1 B .. 4 MiB, unaligned) byte-exact, one NQE per NOTIFY",
		what, good, n);
}

/* 256 one-byte notifying SENDs from s0 to import 1; how many went OK. */
unsigned int ts_fill_nq(struct ts *t)
{
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	unsigned int i, ok = 0;

	for (i = 0; i < VMMC_NQ_ENTRIES; i++) {
		fg_sqe_send(&s, i, 1, i, TS_SLOT, 0, 1, true);
		fg_submit(&t->s0, &s);
		ok += fg_wait_cqe(&t->s0, &c, 2000) && c.status == VMMC_ST_OK;
	}
	return ok;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bandwidth(struct ts *t, unsigned int which, const char *what)
{
	const unsigned int mib = 1 << 20, n = 256, big = 64;
	unsigned int i, done = 0, sent = 0, bad = 0;
	__u8 *a = malloc(big * mib), *b = malloc(big * mib);
	double t0, t_memcpy, t_cold, t_send;
	struct vmmc_cqe c;
	struct vmmc_sqe s;

	if (!a || !b) {
		free(a);
		free(b);
		return;
	}
	memset(a, 1, big * mib);
	memset(b, 2, big * mib);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		memcpy(i & 1 ? a : b, i & 1 ? b : a, mib);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
	}
	t_memcpy = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		memcpy(b + (i % big) * mib, a + ((i * 7) % big) * mib, mib);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
	}
	t_cold = now_s() - t0;
	free(a);
	free(b);
	t0 = now_s();
	while (done < n) {
		while (sent < n && sent - done < 8) {
			fg_sqe_send(&s, sent, which, (sent % 3) * mib, TS_SLOT,
				    0, mib, false);
			fg_submit(&t->s0, &s);
			sent++;
		}
		if (!fg_wait_cqe(&t->s0, &c, 3000))
			break;
		bad += c.status != VMMC_ST_OK;
		done++;
	}
	t_send = now_s() - t0;
	t_diag("%s: host memcpy 1 MiB: %.2f GB/s (cache-hot), %.2f GB/s (over 64 MiB); SEND 1 MiB: %.2f GB/s (%.0f us per SEND)",
	       what, n * (double)mib / t_memcpy / 1e9,
	       n * (double)mib / t_cold / 1e9,
	       n * (double)mib / t_send / 1e9, t_send / n * 1e6);
	t_check(done == n && !bad, "%s: %u x 1 MiB SENDs, 8 in flight", what, n);
}

void test_send(struct fg *g0, struct fg *g1)
{
	static struct ts t;

	if (!ts_setup(&t, g0, g1))
		return;
	random_sends(&t, 0, "node0 -> node0");
	random_sends(&t, 1, "node0 -> node1");
	test_rogue_nq(&t);
	t_check(g0->st->counters.sends > 0 && g0->st->counters.data_tx > 0 &&
		g1->st->counters.data_rx > 0 && g1->st->counters.nqes > 0 &&
		t.dst[1].owner->ctx->nqes > 0,
		"sends, data_tx, data_rx and nqes counted");
	bandwidth(&t, 0, "same node");
	bandwidth(&t, 1, "node0 -> node1");
	test_send_errors(&t);
	test_send_garbage(&t);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_fuzz_good.c - what must keep working inside a fuzzing process.
 *
 * A canary page per process that no call ever names: the NIC must never
 * touch it, so it must hold its seeded bytes at the end. And a good path:
 * its own endpoint (the walk never uses it), a keyed export of pages the
 * walk never unmaps, a source and a redirect destination of its own,
 * laid out as canary | src | canary | dst | canary | rd | canary. Every
 * SEND on it must complete OK with its own user_data and land byte for
 * byte; a REDIRECT posted before a SEND of its range must take every byte
 * of it into rd (completion OK, imm = the length) and leave dst as it was;
 * and the canaries must stay intact, however the walk around misbehaves.
 * Only the process that set it up uses it (never a forked child).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "vmmc_test.h"
#include "vmmc_fuzz.h"

#define PG		4096
#define MAP_LEN		(4 * PG + 3 * FZ_GOOD_LEN)
#define CANARIES	4

static uint64_t canary_seed(const struct fz_proc *p)
{
	return p->seed ^ 0xca9a7ca9a7ULL ^ (uint64_t)p->idx << 40;
}

/* Fill (or check) a canary page: -1 if intact, else the first bad byte. */
static long canary(const struct fz_proc *p, uint8_t *pg, uint64_t which,
		   int check)
{
	if (!check) {
		vmmc_fill_pattern(pg, PG, canary_seed(p), which, 0);
		return -1;
	}
	return vmmc_check_pattern(pg, PG, canary_seed(p), which, 0);
}

static uint8_t *good_canary(struct fz_good *g, int i)
{
	return g->map + (size_t)i * (PG + FZ_GOOD_LEN);
}

void fz_good_init(struct fz_proc *p)
{
	struct fz_good *g = &p->good;
	uint64_t key = fz_rand(p) | 1;
	int err, i;

	p->canary = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->canary == MAP_FAILED) {
		p->canary = NULL;
		fz_fail(p, "canary: mmap: %s", strerror(errno));
	} else {
		canary(p, p->canary, 0, 0);
	}
	memset(g, 0, sizeof(*g));
	g->map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		fz_fail(p, "good path: mmap: %s", strerror(errno));
		return;
	}
	g->src = g->map + PG;
	g->dst = g->map + 2 * PG + FZ_GOOD_LEN;
	g->rd = g->map + 3 * PG + 2 * FZ_GOOD_LEN;
	for (i = 0; i < CANARIES; i++)
		canary(p, good_canary(g, i), 1 + i, 0);
	memset(g->src, 0, FZ_GOOD_LEN);
	memset(g->dst, 0, FZ_GOOD_LEN);
	memset(g->rd, 0, FZ_GOOD_LEN);
	err = vmmc_ep_open(&g->ep, fz_dev);
	if (err) {
		__atomic_add_fetch(&fz->good_fails, 1, __ATOMIC_RELAXED);
		fz_fail(p, "good path: open: %s", strerror(-err));
		return;
	}
	g->open = 1;
	err = vmmc_export_key(&g->ep, g->dst, FZ_GOOD_LEN,
			      FZ_GOOD_NAME + (uint32_t)p->idx, ~0ULL, key,
			      &g->exp) ?:
	      vmmc_import_key(&g->ep, g->ep.info.node_id,
			      FZ_GOOD_NAME + (uint32_t)p->idx, key, &g->imp,
			      NULL);
	if (err) {
		__atomic_add_fetch(&fz->good_fails, 1, __ATOMIC_RELAXED);
		fz_fail(p, "good path: export/import: %s", strerror(-err));
		vmmc_ep_close(&g->ep);
		g->open = 0;
	}
}

/* One SEND that must work: OK, its own user_data, every byte. */
void fz_good_send(struct fz_proc *p)
{
	struct fz_good *g = &p->good;
	size_t len = 1 + fz_below(p, FZ_GOOD_LEN);
	uint64_t off = fz_below(p, FZ_GOOD_LEN - len + 1);
	uint64_t soff = fz_below(p, FZ_GOOD_LEN - len + 1), ud;
	uint64_t seed = canary_seed(p) ^ 0x600d;
	struct vmmc_cqe cqe;
	long bad;
	int err;

	if (!g->open || p->is_child)
		return;
	ud = FZ_GOOD_SEND | ++g->msgs;
	vmmc_fill_pattern(g->src + soff, len, seed, g->msgs, off);
	err = vmmc_send(&g->ep, g->src + soff, len, g->imp, off, 0, ud);
	if (!err)
		err = vmmc_wait_cqe(&g->ep, &cqe, 10000);
	if (err) {
		__atomic_add_fetch(&fz->good_fails, 1, __ATOMIC_RELAXED);
		fz_fail(p, "good SEND %llu (%zu B): %s",
			(unsigned long long)g->msgs, len, strerror(-err));
		return;
	}
	if (cqe.status != VMMC_ST_OK || cqe.user_data != ud ||
	    cqe.op != VMMC_OP_SEND) {
		__atomic_add_fetch(&fz->good_fails, 1, __ATOMIC_RELAXED);
		fz_fail(p, "good SEND %llu (%zu B): status %s, op %u, user_data 0x%llx",
			(unsigned long long)g->msgs, len,
			vmmc_status_str(cqe.status), cqe.op,
			(unsigned long long)cqe.user_data);
		return;
	}
	bad = vmmc_check_pattern(g->dst + off, len, seed, g->msgs, off);
	if (bad >= 0) {
		__atomic_add_fetch(&fz->good_fails, 1, __ATOMIC_RELAXED);
		fz_fail(p, "good SEND %llu (%zu B at %llu): byte %ld differs",
			(unsigned long long)g->msgs, len,
			(unsigned long long)off, bad);
		return;
	}
	__atomic_add_fetch(&fz->good_sends, 1, __ATOMIC_RELAXED);
}

static void good_fail(struct fz_proc *p, const char *what, uint64_t n,
		      const char *why)
{
	__atomic_add_fetch(&fz->good_fails, 1, __ATOMIC_RELAXED);
	fz_fail(p, "good %s %llu: %s", what, (unsigned long long)n, why);
}

/*
 * A REDIRECT of a range of our export onto rd, then a SEND of that range:
 * every byte must go to rd (the NIC fetched the REDIRECT first, from the
 * same SQ), none to dst. Both completions OK, in either order.
 */
void fz_good_redirect(struct fz_proc *p)
{
	struct fz_good *g = &p->good;
	size_t len = 1 + fz_below(p, FZ_GOOD_LEN / 2);
	uint64_t off = fz_below(p, FZ_GOOD_LEN - len + 1);
	uint64_t roff = fz_below(p, FZ_GOOD_LEN - len + 1);
	uint64_t seed = canary_seed(p) ^ 0x4ed1, n, ud;
	unsigned int slot = (unsigned int)fz_below(p, VMMC_REDIR_SLOTS);
	struct vmmc_cqe cqe;
	int err, got = 0;
	char why[160];
	long bad;

	if (!g->open || p->is_child)
		return;
	n = ++g->msgs;
	ud = FZ_GOOD_SEND | n;
	memset(g->dst + off, 0xee, len);	/* the NIC must leave it so */
	memset(g->rd + roff, 0, len);
	vmmc_fill_pattern(g->src, len, seed, n, off);
	err = vmmc_redirect(&g->ep, slot, g->exp, off, g->rd + roff, len,
			    ud ^ 1);
	if (!err)
		err = vmmc_send(&g->ep, g->src, len, g->imp, off, 0, ud);
	if (err) {
		snprintf(why, sizeof(why), "post: %s", strerror(-err));
		good_fail(p, "REDIRECT", n, why);
		return;
	}
	while (got != 3) {
		err = vmmc_wait_cqe(&g->ep, &cqe, 10000);
		if (err) {
			snprintf(why, sizeof(why), "wait: %s (have %d)",
				 strerror(-err), got);
			good_fail(p, "REDIRECT", n, why);
			return;
		}
		if (cqe.user_data == ud && cqe.op == VMMC_OP_SEND &&
		    cqe.status == VMMC_ST_OK && !(got & 1)) {
			got |= 1;
		} else if (cqe.user_data == (ud ^ 1) &&
			   cqe.op == VMMC_OP_REDIRECT &&
			   cqe.status == VMMC_ST_OK && cqe.imm == len &&
			   !(got & 2)) {
			got |= 2;
		} else {
			snprintf(why, sizeof(why),
				 "op %u status %s imm %llu user_data 0x%llx (%zu B)",
				 cqe.op, vmmc_status_str(cqe.status),
				 (unsigned long long)cqe.imm,
				 (unsigned long long)cqe.user_data, len);
			good_fail(p, "REDIRECT", n, why);
			return;
		}
	}
	bad = vmmc_check_pattern(g->rd + roff, len, seed, n, off);
	if (bad < 0)
		bad = vmmc_find_not(g->dst + off, len, 0xee);
	if (bad >= 0) {
		snprintf(why, sizeof(why), "byte %ld of %zu at %llu misplaced",
			 bad, len, (unsigned long long)off);
		good_fail(p, "REDIRECT", n, why);
		return;
	}
	__atomic_add_fetch(&fz->good_redirects, 1, __ATOMIC_RELAXED);
}

/* At the end: the canaries byte for byte, then close. */
void fz_good_fini(struct fz_proc *p)
{
	struct fz_good *g = &p->good;
	long bad;
	int i;

	if (p->canary) {
		bad = canary(p, p->canary, 0, 1);
		if (bad >= 0) {
			__atomic_add_fetch(&fz->canary_fails, 1,
					   __ATOMIC_RELAXED);
			fz_fail(p, "the process's canary page: byte %ld changed",
				bad);
		} else {
			__atomic_add_fetch(&fz->canary_pages, 1,
					   __ATOMIC_RELAXED);
		}
		munmap(p->canary, PG);
		p->canary = NULL;
	}
	if (g->open)
		vmmc_ep_close(&g->ep);
	g->open = 0;
	if (!g->map)
		return;
	for (i = 0; i < CANARIES; i++) {
		bad = canary(p, good_canary(g, i), 1 + i, 1);
		if (bad >= 0) {
			__atomic_add_fetch(&fz->canary_fails, 1,
					   __ATOMIC_RELAXED);
			fz_fail(p, "good path: canary %d: byte %ld changed", i,
				bad);
		} else {
			__atomic_add_fetch(&fz->canary_pages, 1,
					   __ATOMIC_RELAXED);
		}
	}
	munmap(g->map, MAP_LEN);
	g->map = NULL;
}

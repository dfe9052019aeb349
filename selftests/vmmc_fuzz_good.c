// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_fuzz_good.c - what must keep working inside a fuzzing process.
 *
 * A canary page per process that no call ever names: the NIC must never
 * touch it, so it must hold its seeded bytes at the end. And a good path:
 * its own endpoint (the walk never uses it), a keyed export of pages the
 * walk never unmaps and a source of its own, laid out as
 * canary | src | canary | dst | canary. Every SEND on it must complete
 * OK with its own user_data and land byte for byte, and the canaries
 * around dst must stay intact, however the walk around it misbehaves.
 * Only the process that set it up uses it (never a forked child).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "vmmc_test.h"
#include "vmmc_fuzz.h"

#define PG		4096
#define MAP_LEN		(3 * PG + 2 * FZ_GOOD_LEN)

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
	for (i = 0; i < 3; i++)
		canary(p, good_canary(g, i), 1 + i, 0);
	memset(g->src, 0, FZ_GOOD_LEN);
	memset(g->dst, 0, FZ_GOOD_LEN);
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
	for (i = 0; i < 3; i++) {
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

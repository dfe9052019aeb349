// SPDX-License-Identifier: MIT
/*
 * Description: the UTLB (utlb.c) against a stubbed kernel, on the host.
 * The stub hands out contiguous slot runs first-fit from VMMC_UTLB_SLOTS,
 * enforces a page limit like RLIMIT_MEMLOCK, refuses "unmapped" addresses
 * with EFAULT and remembers which page each slot translates, so every
 * translation the cache hands out can be checked. Covers: hit without a
 * kernel call, granule sharing, EFAULT fallback, LRU eviction on ENOMEM
 * and ENOSPC, in-flight ranges never evicted (the kernel's error instead),
 * utlb_gen flush with zombies, overlaps, the tag table, LOCKED ranges
 * (never evicted nor replaced, stale after a flush and pinned again
 * whole, EAGAIN while in flight, the kernel's error when that fails),
 * the ZC budget (ranges, pages, ENOBUFS rather than evicting a CACHE or
 * LOCKED range, EBUSY over LOCKED memory), and a seeded random run
 * checked against the stub. Exit 0 pass, 1 fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "utlb.h"

#define PG	VMMC_PAGE_SIZE
#define G	VMMC_UTLB_GRANULE

static struct {
	uintptr_t page[VMMC_UTLB_SLOTS];	/* 0: free */
	uint32_t run[VMMC_UTLB_SLOTS];		/* pages of a run, at its first */
	uint32_t pinned, limit;			/* pages */
	uintptr_t bad_lo, bad_hi;		/* "unmapped" */
	uintptr_t ro_lo, ro_hi;			/* "mapped read-only" */
	uint32_t last_flags;			/* of the last good pin */
	int pins, unpins;
} k;

static int stub_pin(void *ctx, uintptr_t addr, size_t len, uint32_t flags,
		    uint32_t *slot, uint32_t *nr)
{
	uintptr_t p0 = addr & ~(uintptr_t)(PG - 1);
	uint32_t n = (uint32_t)((addr + len - p0 + PG - 1) / PG), s, i;

	(void)ctx;
	if (!len || n > VMMC_UTLB_SLOTS)
		return -EINVAL;
	if (addr < k.bad_hi && addr + len > k.bad_lo)
		return -EFAULT;
	if ((flags & VMMC_PIN_F_WRITE) && addr < k.ro_hi && addr + len > k.ro_lo)
		return -EFAULT;
	k.last_flags = flags;
	if (k.pinned + n > k.limit)
		return -ENOMEM;
	for (s = 0; s + n <= VMMC_UTLB_SLOTS; s++) {
		for (i = 0; i < n && !k.page[s + i]; i++)
			;
		if (i == n)
			break;
		s += i;
	}
	if (s + n > VMMC_UTLB_SLOTS)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		k.page[s + i] = p0 + (uintptr_t)i * PG;
	k.run[s] = n;
	k.pinned += n;
	k.pins++;
	*slot = s;
	*nr = n;
	return 0;
}

static int stub_unpin(void *ctx, uint32_t slot)
{
	uint32_t i;

	(void)ctx;
	k.unpins++;
	if (slot >= VMMC_UTLB_SLOTS || !k.run[slot])
		return -EINVAL;
	for (i = 0; i < k.run[slot]; i++)
		k.page[slot + i] = 0;
	k.pinned -= k.run[slot];
	k.run[slot] = 0;
	return 0;
}

/* the kernel dropping everything by itself (munmap of pinned memory) */
static void stub_drop_all(void)
{
	memset(k.page, 0, sizeof(k.page));
	memset(k.run, 0, sizeof(k.run));
	k.pinned = 0;
}

static const struct vmmc_utlb_ops ops = { stub_pin, stub_unpin };
static struct vmmc_utlb u;

static void reset(uint32_t limit)
{
	memset(&k, 0, sizeof(k));
	k.limit = limit;
	vmmc_utlb_init(&u, &ops, NULL, 0);
}

/* The translation of every page of [a, a + len) is right. */
static int translates(int id, uintptr_t a, size_t len)
{
	uintptr_t p;

	if (id < 0)
		return 0;
	for (p = a & ~(uintptr_t)(PG - 1); p < a + len; p += PG)
		if (k.page[vmmc_utlb_slot(&u, (uint32_t)id, p)] != p)
			return 0;
	return 1;
}

static void test_basic(void)
{
	uintptr_t a = 0x10000000 + 100;
	int id, pins;

	reset(VMMC_UTLB_SLOTS);
	id = vmmc_utlb_get(&u, 0, a, 5000, false);
	CHECK(id >= 0 && k.pins == 1 && translates(id, a, 5000));
	/* the granule: one pin for the 64 KiB around it */
	CHECK(u.pool[id].start == 0x10000000 && u.pool[id].end == 0x10000000 + G);
	pins = k.pins;
	CHECK(vmmc_utlb_get(&u, 0, a, 5000, false) == id);
	CHECK(vmmc_utlb_get(&u, 0, 0x10000000 + 60000, 5000, false) == id);
	CHECK(k.pins == pins && u.st.hits == 2);
	/* crossing the granule: a miss, a new range replaces the old */
	id = vmmc_utlb_get(&u, 0, 0x10000000 + 60000, 10000, false);
	CHECK(translates(id, 0x10000000 + 60000, 10000) && u.nr == 1);
	CHECK(k.pins == pins + 1 && k.pinned == 2 * G / PG);
	CHECK(vmmc_utlb_get(&u, 0, a, 0, false) == -EINVAL);
	CHECK(vmmc_utlb_get(&u, 0, UINTPTR_MAX - 10, 100, false) == -EINVAL);
}

static void test_efault_fallback(void)
{
	uintptr_t a = 0x20000000 + 8 * PG;
	int id;

	reset(VMMC_UTLB_SLOTS);
	k.bad_lo = 0x20000000;		/* the page before a is unmapped */
	k.bad_hi = a;
	id = vmmc_utlb_get(&u, 0, a + 10, PG, false);
	CHECK(id >= 0 && translates(id, a + 10, PG));
	CHECK(u.pool[id].start == a && u.pool[id].end == a + 2 * PG);
	CHECK(vmmc_utlb_get(&u, 0, k.bad_lo, 10, false) == -EFAULT);
}

/*
 * SEND lookups pin read-only; a redirect lookup (need_write) pins the
 * exact pages for write, replacing a read-only range only once that
 * worked; memory that cannot be written fails with the kernel's EFAULT
 * and leaves the cache as it was.
 */
static void test_write_pins(void)
{
	uintptr_t rw = 0x30000000, ro = 0x31000000 + 100;
	int id, pins, unpins, wid;

	reset(4096);
	k.ro_lo = 0x31000000;
	k.ro_hi = 0x31000000 + 4 * G;
	id = vmmc_utlb_get(&u, 0, rw, 100, false);
	CHECK(id >= 0 && k.last_flags == 0 && !u.pool[id].writable);
	pins = k.pins;
	wid = vmmc_utlb_get(&u, 0, rw, 100, true);
	CHECK(wid >= 0 && k.pins == pins + 1 && k.last_flags == VMMC_PIN_F_WRITE &&
	      u.pool[wid].writable && translates(wid, rw, 100));
	/* now a hit for both kinds */
	pins = k.pins;
	CHECK(vmmc_utlb_get(&u, 0, rw, 100, true) == wid && k.pins == pins);
	CHECK(vmmc_utlb_get(&u, 0, rw, 100, false) == wid && k.pins == pins);
	id = vmmc_utlb_get(&u, 0, ro, 100, false);
	CHECK(id >= 0 && k.last_flags == 0 && !u.pool[id].writable &&
	      translates(id, ro, 100));
	pins = k.pins;
	unpins = k.unpins;
	CHECK(vmmc_utlb_get(&u, 0, ro, 100, true) == -EFAULT);
	CHECK(k.pins == pins && k.unpins == unpins);
	/* the read-only range is still cached: a hit, no pin */
	CHECK(vmmc_utlb_get(&u, 0, ro, 100, false) == id && k.pins == pins);
	CHECK(k.pinned == u.pinned_pages);
}

static void test_lru_enomem(void)
{
	uint32_t tag;
	uint64_t ud;
	int i, id[4];

	reset(3 * G / PG);		/* room for three granules */
	for (i = 0; i < 3; i++)
		id[i] = vmmc_utlb_get(&u, 0, 0x30000000 + (uintptr_t)i * 4 * G, 10, false);
	vmmc_utlb_get(&u, 0, 0x30000000, 10, false);	/* 0 is now the newest */
	id[3] = vmmc_utlb_get(&u, 0, 0x40000000, 10, false);
	CHECK(id[3] >= 0 && u.st.evictions == 1 && u.nr == 3);
	/* the LRU one (1) went, 0 and 2 stayed */
	CHECK(vmmc_utlb_get(&u, 0, 0x30000000, 10, false) == id[0]);
	CHECK(vmmc_utlb_get(&u, 0, 0x30000000 + 8 * G, 10, false) == id[2]);
	/* everything in flight: the kernel's error, nothing unpinned */
	for (i = 0; i < 3; i++) {
		int r = vmmc_utlb_get(&u, 0, u.pool[u.sorted[i]].start, 1, false);

		CHECK(!vmmc_utlb_tag_get(&u, (uint32_t)r, 100 + i, &tag));
	}
	i = k.unpins;
	CHECK(vmmc_utlb_get(&u, 0, 0x50000000, 10, false) == -ENOMEM);
	CHECK(k.unpins == i && u.nr == 3);
	/* one completes: its range may go */
	CHECK(!vmmc_utlb_tag_put(&u, tag, &ud) && ud == 102);
	CHECK(vmmc_utlb_get(&u, 0, 0x50000000, 10, false) >= 0);
}

static void test_enospc(void)
{
	int i, id;

	reset(VMMC_UTLB_SLOTS);
	/* fill every slot with 16-page ranges, spaced apart */
	for (i = 0; i < VMMC_UTLB_SLOTS / 16; i++)
		CHECK(vmmc_utlb_get(&u, 0, 0x100000000ULL + (uintptr_t)i * 2 * G, 1, false) >= 0);
	CHECK(k.pinned == VMMC_UTLB_SLOTS && u.nr == VMMC_UTLB_SLOTS / 16);
	/* a 1 MiB buffer needs a run of 256 free slots: evict until */
	id = vmmc_utlb_get(&u, 0, 0x200000000ULL, 1 << 20, false);
	CHECK(id >= 0 && translates(id, 0x200000000ULL, 1 << 20));
	CHECK(u.st.evictions >= 16);
}

static void test_gen_flush_and_zombies(void)
{
	uint32_t tag, t2;
	uint64_t ud;
	int a, b, c;

	reset(VMMC_UTLB_SLOTS);
	a = vmmc_utlb_get(&u, 0, 0x60000000, 100, false);
	b = vmmc_utlb_get(&u, 0, 0x60100000, 100, false);
	CHECK(!vmmc_utlb_tag_get(&u, (uint32_t)a, 7, &tag));
	stub_drop_all();		/* munmap: the kernel dropped both */
	k.unpins = 0;
	c = vmmc_utlb_get(&u, 1, 0x60100000, 100, false);	/* gen 0 -> 1 */
	CHECK(u.st.flushes == 1 && k.unpins == 1);	/* b only; a busy */
	CHECK(c >= 0 && translates(c, 0x60100000, 100));
	CHECK(u.nr_zombies == 1 && u.pool[a].state == VMMC_RANGE_ZOMBIE);
	/* a's send completes; the next miss unpins the zombie (EINVAL ok) */
	CHECK(!vmmc_utlb_tag_put(&u, tag, &ud) && ud == 7);
	CHECK(vmmc_utlb_tag_put(&u, tag, &ud) == -EINVAL);
	vmmc_utlb_get(&u, 1, 0x60000000, 100, false);
	CHECK(u.nr_zombies == 0 && k.unpins == 2 && u.nr == 2);
	/* an overlap with a busy range makes a zombie too */
	a = vmmc_utlb_get(&u, 1, 0x60000000, 100, false);
	CHECK(!vmmc_utlb_tag_get(&u, (uint32_t)a, 8, &tag));
	b = vmmc_utlb_get(&u, 1, 0x60000000 + 100, G, false);
	CHECK(b >= 0 && b != a && u.nr_zombies == 1);
	CHECK(translates(a, 0x60000000, 100));	/* still pinned */
	CHECK(!vmmc_utlb_tag_put(&u, tag, &ud));
	/* the tag table holds as many as the CQ */
	for (c = 0; c < VMMC_UTLB_TAGS; c++)
		CHECK(!vmmc_utlb_tag_get(&u, (uint32_t)b, c, &t2));
	CHECK(vmmc_utlb_tag_get(&u, (uint32_t)b, 0, &t2) == -EAGAIN);
}

/* utlb_gen is 64 bits: a move by exactly 2^32 is a move (no wrap). */
static void test_gen_no_wrap(void)
{
	int a;

	reset(VMMC_UTLB_SLOTS);
	a = vmmc_utlb_get(&u, 0, 0x60000000, 100, false);
	CHECK(a >= 0 && u.st.flushes == 0);
	stub_drop_all();
	vmmc_utlb_get(&u, 1ULL << 32, 0x60000000, 100, false);
	CHECK(u.st.flushes == 1 && u.gen == 1ULL << 32);
}

/*
 * LOCKED ranges (a socket's staging ring) stay pinned through any
 * pressure of CACHE and ZC lookups, are never replaced by an overlapping
 * pin, and survive a utlb_gen flush stale: the next lookup pins them
 * again whole (EAGAIN while a SEND uses the old pin; the kernel's error
 * if that fails, and the range is still there to retry).
 */
static void test_locked(void)
{
	uintptr_t L = 0x70000000 + 3 * PG, a;	/* not granule-aligned */
	size_t llen = 65 * PG;
	uint32_t tag;
	uint64_t ud;
	int i, id, pins;

	reset(65 + 3 * 16);	/* the locked range and three granules */
	CHECK(!vmmc_utlb_lock(&u, 0, L, llen));
	CHECK(u.locked == 1 && u.locked_pages == 65 && k.pinned == 65);
	id = vmmc_utlb_get(&u, 0, L + 100, 1000, false);
	CHECK(id >= 0 && u.pool[id].start == L && u.pool[id].end == L + llen &&
	      translates(id, L, llen));
	CHECK(vmmc_utlb_lock(&u, 0, L + PG, PG) == -EBUSY);
	/* many distinct buffers under ENOMEM: only they are evicted */
	for (i = 0; i < 40; i++) {
		a = 0x80000000 + (uintptr_t)i * 2 * G;
		CHECK(vmmc_utlb_get(&u, 0, a, 10, false) >= 0);
	}
	CHECK(u.st.evictions >= 37 && u.locked == 1);
	pins = k.pins;
	CHECK(vmmc_utlb_get(&u, 0, L, llen, false) == id && k.pins == pins);
	/*
	 * a buffer in the granule before it: pinned exactly, the locked
	 * range untouched; one over it: EBUSY, also for write
	 */
	CHECK(vmmc_utlb_get(&u, 0, 0x70000000, 10, false) >= 0);
	CHECK(u.pool[u.mru].end == 0x70000000 + PG);
	CHECK(vmmc_utlb_get(&u, 0, L - 10, 20, false) == -EBUSY);
	CHECK(vmmc_utlb_get(&u, 0, L, 10, true) == -EBUSY);
	CHECK(vmmc_utlb_get(&u, 0, L, llen, false) == id && k.pins == pins + 1);
	/* a flush (utlb_gen moved): stale, pinned again whole at its use */
	stub_drop_all();
	CHECK(vmmc_utlb_get(&u, 1, 0x90000000, 10, false) >= 0);
	CHECK(u.locked == 1 && u.pool[id].stale);
	pins = k.pins;
	CHECK(vmmc_utlb_get(&u, 1, L + 5 * PG, 10, false) == id);
	CHECK(k.pins == pins + 1 && u.repins == 1 && !u.pool[id].stale &&
	      translates(id, L, llen));
	CHECK(vmmc_utlb_get(&u, 1, L, 10, false) == id && k.pins == pins + 1);
	/* in flight at the flush: EAGAIN until its SEND is reaped */
	CHECK(!vmmc_utlb_tag_get(&u, (uint32_t)id, 5, &tag));
	CHECK(!vmmc_utlb_flush_all(&u) && u.pool[id].stale);
	CHECK(vmmc_utlb_get(&u, 1, L, 10, false) == -EAGAIN);
	CHECK(!vmmc_utlb_tag_put(&u, tag, &ud) && ud == 5);
	CHECK(vmmc_utlb_get(&u, 1, L, 10, false) == id && u.repins == 2);
	CHECK(u.pinned_pages == k.pinned);
	/* the limit went below what it needs: the error, then it works */
	CHECK(!vmmc_utlb_flush_all(&u));
	k.limit = 10;
	CHECK(vmmc_utlb_get(&u, 1, L, 10, false) == -ENOMEM);
	CHECK(u.pool[id].stale && u.pool[id].slot == VMMC_UTLB_NONE &&
	      u.locked == 1 && u.pinned_pages == k.pinned);
	CHECK(vmmc_utlb_get(&u, 1, L, 10, false) == -ENOMEM);
	k.limit = 65;
	CHECK(vmmc_utlb_get(&u, 1, L, 10, false) == id && translates(id, L, llen));
	/* unlock: unpinned, gone */
	CHECK(vmmc_utlb_unlock(&u, L + PG) == -ENOENT);
	CHECK(!vmmc_utlb_unlock(&u, L));
	CHECK(vmmc_utlb_unlock(&u, L) == -ENOENT);
	CHECK(u.locked == 0 && u.locked_pages == 0 && u.nr == 0);
	CHECK(k.pinned == 0 && u.pinned_pages == 0);
}

/*
 * ZC ranges: exact write pins within the budget (LRU among themselves),
 * ENOBUFS when a buffer is bigger than the budget or when only a CACHE
 * or LOCKED range could make room in the kernel's limit.
 */
static void test_zc_budget(void)
{
	uintptr_t a, c = 0xa0000000;
	int i, id, cid, pins;

	reset(VMMC_UTLB_SLOTS);
	vmmc_utlb_set_zc_budget(&u, 4, 64);
	for (i = 0; i < 10; i++) {
		a = 0xb0000000 + (uintptr_t)i * G + 100;
		id = vmmc_utlb_get_cls(&u, 0, a, 15 * PG, false, VMMC_UTLB_ZC);
		CHECK(id >= 0 && u.pool[id].writable &&
		      u.pool[id].cls == VMMC_UTLB_ZC &&
		      u.pool[id].start == a - 100 &&
		      u.pool[id].end == a - 100 + 16 * PG &&
		      k.last_flags == VMMC_PIN_F_WRITE &&
		      translates(id, a, 15 * PG));
		CHECK(u.zc <= 4 && u.zc_pages <= 64);
	}
	CHECK(u.zc == 4 && u.zc_pages == 64 && u.st.evictions == 6);
	/* a hit is served for any lookup */
	pins = k.pins;
	CHECK(vmmc_utlb_get(&u, 0, a, 10, true) == id && k.pins == pins);
	/* bigger than the whole budget: ENOBUFS, nothing evicted */
	CHECK(vmmc_utlb_get_cls(&u, 0, 0xc0000000, 65 * PG, false,
				VMMC_UTLB_ZC) == -ENOBUFS);
	CHECK(u.zc == 4 && u.zc_denied == 1 && k.pins == pins);
	/* the kernel's limit with only a CACHE range idle: ENOBUFS */
	reset(40);
	vmmc_utlb_set_zc_budget(&u, 4, 64);
	cid = vmmc_utlb_get(&u, 0, c, 10, false);
	CHECK(cid >= 0 && k.pinned == 16);
	CHECK(vmmc_utlb_get_cls(&u, 0, 0xb0000000, 16 * PG, false,
				VMMC_UTLB_ZC) >= 0);
	id = vmmc_utlb_get_cls(&u, 0, 0xb0100000, 16 * PG, false, VMMC_UTLB_ZC);
	CHECK(id >= 0 && u.st.evictions == 1 && u.zc == 1);	/* the ZC one */
	CHECK(vmmc_utlb_get_cls(&u, 0, 0xb0200000, 32 * PG, false,
				VMMC_UTLB_ZC) == -ENOBUFS);
	CHECK(vmmc_utlb_get(&u, 0, c, 10, false) == cid);	/* still there */
	/* LOCKED memory is never a ZC buffer */
	CHECK(!vmmc_utlb_lock(&u, 0, 0xd0000000, 4 * PG));
	CHECK(vmmc_utlb_get_cls(&u, 0, 0xd0000000 + PG, PG, false,
				VMMC_UTLB_ZC) == -EBUSY);
	/* a smaller budget drops what is over it; drop_zc the rest */
	vmmc_utlb_set_zc_budget(&u, 4, 8);
	CHECK(u.zc == 0 && u.zc_pages == 0);
	CHECK(vmmc_utlb_get_cls(&u, 0, 0xb0000000, 8 * PG, false,
				VMMC_UTLB_ZC) >= 0);
	CHECK(vmmc_utlb_drop_zc(&u) == 1 && u.zc == 0);
	vmmc_utlb_set_zc_budget(&u, 0, 0);	/* off */
	CHECK(vmmc_utlb_get_cls(&u, 0, 0xb0000000, PG, false,
				VMMC_UTLB_ZC) == -ENOBUFS);
	CHECK(!vmmc_utlb_unlock(&u, 0xd0000000));
	CHECK(!vmmc_utlb_flush_all(&u) && k.pinned == 0 && u.pinned_pages == 0);
}

/*
 * Seeded random buffers, some of them kept "in flight" for a while: the
 * cache must always hand out the truth, never unpin a range in flight,
 * and agree with the kernel on how many pages it pins.
 */
static void test_random(unsigned int seed)
{
	struct { uint32_t tag; int id; uintptr_t a; size_t len; } fl[8];
	int i, j, id, nfl = 0;
	uint64_t ud;

	reset(400);
	srand(seed);
	for (i = 0; i < 200000; i++) {
		uintptr_t a = 0x7f0000000000ULL + (uintptr_t)(rand() % 4096) * 1000;
		size_t len = 1 + (size_t)rand() % (rand() % 4 ? 9000 : 600000);

		if (rand() % 5000 == 0) {
			stub_drop_all();
			for (j = 0; j < nfl; j++)	/* done with the old pages */
				vmmc_utlb_tag_put(&u, fl[j].tag, &ud);
			nfl = 0;
			u.gen++;	/* keep the next call's gen different */
			id = vmmc_utlb_get(&u, u.gen - 1, a, len, false);
		} else {
			id = vmmc_utlb_get(&u, u.gen, a, len, false);
		}
		if (id == -ENOMEM && nfl) {
			/* everything else is in flight: complete one, retry */
			vmmc_utlb_tag_put(&u, fl[0].tag, &ud);
			memmove(&fl[0], &fl[1], --nfl * sizeof(fl[0]));
			id = vmmc_utlb_get(&u, u.gen, a, len, false);
		}
		if (id != -ENOMEM && !translates(id, a, len)) {
			fails++;
			fprintf(stderr, "random: seed %u step %d: %d\n", seed, i, id);
			return;
		}
		for (j = 0; j < nfl; j++)
			CHECK(translates(fl[j].id, fl[j].a, fl[j].len));
		if (id >= 0 && rand() % 3 == 0) {
			if (nfl == 8) {
				vmmc_utlb_tag_put(&u, fl[0].tag, &ud);
				memmove(&fl[0], &fl[1], --nfl * sizeof(fl[0]));
			}
			if (!vmmc_utlb_tag_get(&u, (uint32_t)id, i, &fl[nfl].tag)) {
				fl[nfl].id = id;
				fl[nfl].a = a;
				fl[nfl].len = len;
				nfl++;
			}
		}
		for (j = 1; j < (int)u.nr; j++)
			CHECK(u.pool[u.sorted[j - 1]].end <= u.pool[u.sorted[j]].start);
		CHECK(k.pinned <= k.limit);
		CHECK(u.pinned_pages == k.pinned);
		if (fails > 20)
			return;
	}
	printf("# random: seed %u, %llu lookups, %llu hits, %llu pins, %llu evictions, %llu flushes\n",
	       seed, (unsigned long long)u.st.lookups,
	       (unsigned long long)u.st.hits, (unsigned long long)u.st.pins,
	       (unsigned long long)u.st.evictions,
	       (unsigned long long)u.st.flushes);
}

int main(int argc, char **argv)
{
	unsigned int seed = argc > 1 ? (unsigned int)atoi(argv[1]) : 12345;

	test_basic();
	test_efault_fallback();
	test_write_pins();
	test_lru_enomem();
	test_enospc();
	test_gen_flush_and_zombies();
	test_gen_no_wrap();
	test_locked();
	test_zc_budget();
	test_random(seed);
	printf("1..1\n%s utlb_test (%d checks, %d failures)\n",
	       fails ? "not ok 1 -" : "ok 1 -", checks, fails);
	return fails ? 1 : 0;
}

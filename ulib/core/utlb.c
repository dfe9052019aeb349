// SPDX-License-Identifier: MIT
/*
 * utlb.c - the user-level translation cache (UTLB), as in VMMC-2: which
 * ranges of this process's memory are pinned, and at which UTLB slots.
 * See utlb.h for the data structure. Contract:
 *
 *  - Hit: a range covering [addr, addr + len) is cached and the kernel's
 *    utlb_gen has not moved. Found by a one-entry MRU check, then a binary
 *    search of the sorted array. No system call.
 *  - A lookup for a redirect destination needs a write pin
 *    (VMMC_PIN_F_WRITE: writable memory, dirtied when unpinned); a SEND
 *    source gets a read-only one. A cached read-only range does not serve
 *    a write lookup: the exact pages are pinned for write first, and only
 *    if that works does the new range replace what the cache had there.
 *  - Miss: pin the request rounded out to VMMC_UTLB_GRANULE (64 KiB)
 *    boundaries, so that neighbouring small buffers share one pin; if the
 *    kernel refuses that (EFAULT: the rounding reached unmapped memory;
 *    ENOSPC/ENOMEM: too big for what is left), pin exactly the request's
 *    pages. Cached ranges the new one overlaps leave the cache first.
 *  - Full: when the kernel says ENOSPC (no run of free slots) or ENOMEM
 *    (RLIMIT_MEMLOCK), unpin idle zombies, then the least recently used
 *    idle range, and retry; when nothing idle is left, fail with the
 *    kernel's error. A range a SEND in flight uses is never unpinned.
 *  - utlb_gen changed (the kernel dropped translations because pinned
 *    memory was unmapped or remapped): flush everything before the lookup.
 *    UNPIN's EINVAL then only means the kernel dropped that range itself.
 *  - Classes (utlb.h). LOCKED ranges (the library's own) are never
 *    evicted and never replaced by an overlapping pin (such a lookup
 *    fails with EBUSY); a flush leaves them in the cache, stale, and the
 *    next lookup that hits one unpins and pins it again whole (EAGAIN
 *    while its old pin is in flight). So a zero-copy buffer or a big
 *    vmmc_send() source can never push a socket's staging ring out, and
 *    a socket's send makes a system call only after the kernel moved
 *    utlb_gen. ZC ranges (zero-copy receive buffers) are pinned exactly,
 *    for write, within a budget (zc_max ranges, zc_max_pages pages): to
 *    stay in it, or when the kernel says ENOMEM/ENOSPC, they evict only
 *    other idle ZC ranges; if that is not enough the lookup fails with
 *    ENOBUFS and the caller copies instead.
 *
 * Not thread-safe: the endpoint's (one thread at a time).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "utlb.h"

#define PAGE_MASK_	((uintptr_t)VMMC_PAGE_SIZE - 1)

void vmmc_utlb_init(struct vmmc_utlb *u, const struct vmmc_utlb_ops *ops,
		    void *ctx, uint64_t gen)
{
	uint32_t i;

	memset(u, 0, offsetof(struct vmmc_utlb, sorted));
	u->ops = ops;
	u->ctx = ctx;
	u->gen = gen;
	u->mru = VMMC_UTLB_NONE;
	u->free_head = VMMC_UTLB_NONE;	/* then pool_top's */
	for (i = 0; i < VMMC_UTLB_TAGS; i++)
		u->tags[i].next_free = i + 1 < VMMC_UTLB_TAGS ?
				       i + 1 : VMMC_UTLB_NONE;
	u->tag_free = 0;
}

/* Index in sorted[] of the last range with start <= addr, or -1. */
static int find_pos(const struct vmmc_utlb *u, uintptr_t addr)
{
	int lo = 0, hi = (int)u->nr - 1, ans = -1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (u->pool[u->sorted[mid]].start <= addr) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

/* The class counts of a range entering (+1) or leaving (-1) the cache. */
static void cls_count(struct vmmc_utlb *u, const struct vmmc_utlb_range *r,
		      int d)
{
	uint32_t n = (uint32_t)d * r->nr_slots;

	if (r->cls == VMMC_UTLB_LOCKED) {
		u->locked += (uint32_t)d;
		u->locked_pages += n;
	} else if (r->cls == VMMC_UTLB_ZC) {
		u->zc += (uint32_t)d;
		u->zc_pages += n;
	}
}

static void pool_free(struct vmmc_utlb *u, uint32_t id)
{
	struct vmmc_utlb_range *r = &u->pool[id];

	if (r->slot != VMMC_UTLB_NONE)
		u->pinned_pages -= r->nr_slots;
	memset(r, 0, sizeof(*r));
	r->next_free = u->free_head;
	u->free_head = id;
	if (u->mru == id)
		u->mru = VMMC_UTLB_NONE;
}

static void do_unpin(struct vmmc_utlb *u, uint32_t id)
{
	int err;

	if (u->pool[id].slot != VMMC_UTLB_NONE) {
		err = u->ops->unpin(u->ctx, u->pool[id].slot);
		/* EINVAL: the kernel dropped the range itself (utlb_gen) */
		(void)err;
		u->st.unpins++;
	}
	pool_free(u, id);
}

/* Take sorted[pos] out of the cache: unpin it, or keep it as a zombie. */
static void remove_at(struct vmmc_utlb *u, uint32_t pos)
{
	uint32_t id = u->sorted[pos];

	memmove(&u->sorted[pos], &u->sorted[pos + 1],
		(u->nr - pos - 1) * sizeof(u->sorted[0]));
	u->nr--;
	if (u->mru == id)
		u->mru = VMMC_UTLB_NONE;
	cls_count(u, &u->pool[id], -1);
	if (u->pool[id].inflight) {
		u->pool[id].state = VMMC_RANGE_ZOMBIE;
		u->nr_zombies++;
	} else {
		do_unpin(u, id);
	}
}

/* Unpin the zombies whose SENDs have all completed. */
static int reclaim_zombies(struct vmmc_utlb *u)
{
	uint32_t i;
	int n = 0;

	if (!u->nr_zombies)
		return 0;
	for (i = 0; i < u->pool_top; i++) {
		struct vmmc_utlb_range *r = &u->pool[i];

		if (r->state == VMMC_RANGE_ZOMBIE && !r->inflight) {
			u->nr_zombies--;
			do_unpin(u, i);
			n++;
		}
	}
	return n;
}

#define CLS(c)		(1u << (c))
#define EVICT_ANY	(CLS(VMMC_UTLB_CACHE) | CLS(VMMC_UTLB_ZC))

/*
 * Unpin the least recently used idle range of a class in @mask (never
 * LOCKED): 1 if one went (or an idle zombie), else 0.
 */
static int evict_one(struct vmmc_utlb *u, uint32_t mask)
{
	uint32_t i, best = VMMC_UTLB_NONE;

	if (reclaim_zombies(u))
		return 1;
	for (i = 0; i < u->nr; i++) {
		const struct vmmc_utlb_range *r = &u->pool[u->sorted[i]];

		if (r->inflight || !(mask & CLS(r->cls)) ||
		    r->cls == VMMC_UTLB_LOCKED)
			continue;
		if (best == VMMC_UTLB_NONE ||
		    r->last_use < u->pool[u->sorted[best]].last_use)
			best = i;
	}
	if (best == VMMC_UTLB_NONE)
		return 0;
	remove_at(u, best);
	u->st.evictions++;
	return 1;
}

int vmmc_utlb_flush_all(struct vmmc_utlb *u)
{
	uint32_t pos = u->nr;

	while (pos--) {
		if (u->pool[u->sorted[pos]].cls == VMMC_UTLB_LOCKED)
			u->pool[u->sorted[pos]].stale = true;
		else
			remove_at(u, pos);
	}
	reclaim_zombies(u);
	u->st.flushes++;
	return 0;
}

/* Does a LOCKED range overlap [start, end)? */
static bool overlaps_locked(const struct vmmc_utlb *u, uintptr_t start,
			    uintptr_t end)
{
	int pos = find_pos(u, end - 1);

	for (; pos >= 0; pos--) {
		const struct vmmc_utlb_range *r = &u->pool[u->sorted[pos]];

		if (r->end <= start)
			break;
		if (r->cls == VMMC_UTLB_LOCKED)
			return true;
	}
	return false;
}

/* Drop every cached range that overlaps [start, end) (none LOCKED). */
static void remove_overlaps(struct vmmc_utlb *u, uintptr_t start,
			    uintptr_t end)
{
	int pos = find_pos(u, end - 1);

	while (pos >= 0) {
		const struct vmmc_utlb_range *r = &u->pool[u->sorted[pos]];

		if (r->end <= start)
			break;	/* sorted, non-overlapping: none further left */
		remove_at(u, (uint32_t)pos);
		pos--;
	}
}

static int try_pin(struct vmmc_utlb *u, uintptr_t start, uintptr_t end,
		   bool write, uint32_t *slot)
{
	uint32_t nr = 0;
	int err = u->ops->pin(u->ctx, start, end - start,
			      write ? VMMC_PIN_F_WRITE : 0, slot, &nr);

	if (err) {
		u->st.pin_errors++;
		return err;
	}
	u->st.pins++;
	if (nr != (end - start) / VMMC_PAGE_SIZE) {
		/* a kernel that disagrees about the range: do not use it */
		u->ops->unpin(u->ctx, *slot);
		u->st.unpins++;
		return -EPROTO;
	}
	return 0;
}

/* No pool entry left for a new range. */
static bool pool_full(const struct vmmc_utlb *u)
{
	return u->free_head == VMMC_UTLB_NONE &&
	       u->pool_top == VMMC_UTLB_MAX_RANGES;
}

static int insert(struct vmmc_utlb *u, uintptr_t start, uintptr_t end,
		  uint32_t slot, bool writable, uint32_t cls)
{
	uint32_t id = u->free_head, pos;
	struct vmmc_utlb_range *r;

	if (id == VMMC_UTLB_NONE) {
		id = u->pool_top++;
		r = &u->pool[id];
	} else {
		r = &u->pool[id];
		u->free_head = r->next_free;
	}
	r->start = start;
	r->end = end;
	r->slot = slot;
	r->nr_slots = (uint32_t)((end - start) / VMMC_PAGE_SIZE);
	r->inflight = 0;
	r->writable = writable;
	r->stale = false;
	r->cls = (uint8_t)cls;
	r->state = VMMC_RANGE_CACHED;
	r->last_use = ++u->clock;
	u->pinned_pages += r->nr_slots;
	cls_count(u, r, 1);
	pos = (uint32_t)(find_pos(u, start) + 1);
	memmove(&u->sorted[pos + 1], &u->sorted[pos],
		(u->nr - pos) * sizeof(u->sorted[0]));
	u->sorted[pos] = id;
	u->nr++;
	u->mru = id;
	return (int)id;
}

/*
 * Room for a ZC range of @n pages within the budget, evicting idle ZC
 * ranges only: 0 or -ENOBUFS.
 */
static int zc_room(struct vmmc_utlb *u, uint32_t n)
{
	if (n > u->zc_max_pages || !u->zc_max)
		return -ENOBUFS;
	while (u->zc + 1 > u->zc_max || u->zc_pages + n > u->zc_max_pages ||
	       pool_full(u))
		if (!evict_one(u, CLS(VMMC_UTLB_ZC)))
			return -ENOBUFS;
	return 0;
}

/* A zero-copy buffer: its exact pages, for write, within the budget. */
static int miss_zc(struct vmmc_utlb *u, uintptr_t p0, uintptr_t p1)
{
	uint32_t slot, n = (uint32_t)((p1 - p0) / VMMC_PAGE_SIZE);
	int err;

	if ((p1 - p0) / VMMC_PAGE_SIZE > VMMC_UTLB_SLOTS)
		return -ENOBUFS;
	for (;;) {
		err = zc_room(u, n);
		if (err)
			break;
		err = try_pin(u, p0, p1, true, &slot);
		if (!err) {
			remove_overlaps(u, p0, p1);
			return insert(u, p0, p1, slot, true, VMMC_UTLB_ZC);
		}
		if (err != -ENOSPC && err != -ENOMEM)
			return err;
		/* the kernel's limit: only another ZC range may give room */
		if (!evict_one(u, CLS(VMMC_UTLB_ZC))) {
			err = -ENOBUFS;
			break;
		}
	}
	u->zc_denied++;
	return err;
}

static int miss(struct vmmc_utlb *u, uintptr_t addr, size_t len,
		bool need_write, uint32_t cls)
{
	uintptr_t last = addr + len - 1;
	uintptr_t p0 = addr & ~PAGE_MASK_, p1 = (last | PAGE_MASK_) + 1;
	uintptr_t g0 = addr & ~((uintptr_t)VMMC_UTLB_GRANULE - 1);
	uintptr_t g1 = (last | ((uintptr_t)VMMC_UTLB_GRANULE - 1)) + 1;
	uint32_t slot;
	int err;

	reclaim_zombies(u);
	/* the library's own memory is not a buffer to pin apart */
	if (overlaps_locked(u, p0, p1)) {
		if (cls == VMMC_UTLB_ZC)
			u->zc_denied++;
		return -EBUSY;
	}
	if (cls == VMMC_UTLB_ZC)
		return miss_zc(u, p0, p1);
	/* a granule that wraps the address space is not worth trying */
	if (g1 < g0 || !g1 || overlaps_locked(u, g0, g1))
		g0 = p0, g1 = p1;
	if (need_write) {
		/*
		 * Try the write pin of the exact pages before dropping what
		 * the cache has there: memory that cannot be written (EFAULT)
		 * must not cost the read-only range its SENDs use.
		 */
		if (pool_full(u) && !evict_one(u, EVICT_ANY))
			return -ENOSPC;
		err = try_pin(u, p0, p1, true, &slot);
		if (!err) {
			remove_overlaps(u, p0, p1);
			return insert(u, p0, p1, slot, true, cls);
		}
		if (err != -ENOSPC && err != -ENOMEM)
			return err;
		g0 = p0, g1 = p1;	/* room first, then as below */
	}
	remove_overlaps(u, g0, g1);
	for (;;) {
		if (pool_full(u) && !evict_one(u, EVICT_ANY))
			return -ENOSPC;
		err = try_pin(u, g0, g1, need_write, &slot);
		if (!err)
			return insert(u, g0, g1, slot, need_write, cls);
		if ((err == -EFAULT || err == -ENOSPC || err == -ENOMEM ||
		     err == -EINVAL) && (g0 != p0 || g1 != p1)) {
			err = try_pin(u, p0, p1, need_write, &slot);
			if (!err)
				return insert(u, p0, p1, slot, need_write,
					      cls);
		}
		if (err != -ENOSPC && err != -ENOMEM)
			return err;
		if (!evict_one(u, EVICT_ANY))
			return err;
	}
}

/*
 * Pin stale LOCKED range @id again, whole: its id, -EAGAIN (SENDs still
 * use the old pin) or the kernel's error (it stays stale, unpinned).
 */
static int repin(struct vmmc_utlb *u, uint32_t id)
{
	struct vmmc_utlb_range *r = &u->pool[id];
	uint32_t slot = 0, nr = 0;
	int err;

	if (r->inflight)
		return -EAGAIN;
	if (r->slot != VMMC_UTLB_NONE) {
		/* the kernel may still hold it: give it back first */
		err = u->ops->unpin(u->ctx, r->slot);
		(void)err;
		u->st.unpins++;
		u->pinned_pages -= r->nr_slots;
		r->slot = VMMC_UTLB_NONE;
	}
	for (;;) {
		err = u->ops->pin(u->ctx, r->start, r->end - r->start,
				  r->writable ? VMMC_PIN_F_WRITE : 0, &slot,
				  &nr);
		if (!err && nr != r->nr_slots) {
			u->ops->unpin(u->ctx, slot);
			u->st.unpins++;
			err = -EPROTO;
		}
		if (!err)
			break;
		u->st.pin_errors++;
		if ((err != -ENOSPC && err != -ENOMEM) ||
		    !evict_one(u, EVICT_ANY))
			return err;
	}
	u->st.pins++;
	u->repins++;
	r->slot = slot;
	r->stale = false;
	u->pinned_pages += r->nr_slots;
	r->last_use = ++u->clock;
	u->mru = id;
	return (int)id;
}

int vmmc_utlb_get_cls(struct vmmc_utlb *u, uint64_t gen, uintptr_t addr,
		      size_t len, bool need_write, uint32_t cls)
{
	const struct vmmc_utlb_range *r;
	int pos;

	if (!len || addr + len - 1 < addr)
		return -EINVAL;
	if (cls == VMMC_UTLB_ZC)
		need_write = true;	/* a receive buffer */
	u->st.lookups++;
	if (gen != u->gen) {
		u->gen = gen;
		vmmc_utlb_flush_all(u);
	}
	if (u->mru != VMMC_UTLB_NONE) {
		r = &u->pool[u->mru];
		if (r->start <= addr && addr + len <= r->end &&
		    (r->writable || !need_write) && !r->stale)
			goto hit;
	}
	pos = find_pos(u, addr);
	if (pos >= 0) {
		r = &u->pool[u->sorted[pos]];
		if (addr + len <= r->end && (r->writable || !need_write)) {
			if (r->stale)
				return repin(u, u->sorted[pos]);
			u->mru = u->sorted[pos];
			goto hit;
		}
	}
	return miss(u, addr, len, need_write, cls);

hit:
	u->st.hits++;
	u->pool[u->mru].last_use = ++u->clock;
	return (int)u->mru;
}

int vmmc_utlb_get(struct vmmc_utlb *u, uint64_t gen, uintptr_t addr,
		  size_t len, bool need_write)
{
	return vmmc_utlb_get_cls(u, gen, addr, len, need_write,
				 VMMC_UTLB_CACHE);
}

int vmmc_utlb_lock(struct vmmc_utlb *u, uint64_t gen, uintptr_t addr,
		   size_t len)
{
	uintptr_t p0 = addr & ~PAGE_MASK_, p1;
	uint32_t slot;
	int err;

	if (!len || addr + len - 1 < addr)
		return -EINVAL;
	p1 = ((addr + len - 1) | PAGE_MASK_) + 1;
	if (gen != u->gen) {
		u->gen = gen;
		vmmc_utlb_flush_all(u);
	}
	reclaim_zombies(u);
	if (overlaps_locked(u, p0, p1))
		return -EBUSY;
	remove_overlaps(u, p0, p1);
	for (;;) {
		if (pool_full(u) && !evict_one(u, EVICT_ANY))
			return -ENOSPC;
		err = try_pin(u, p0, p1, false, &slot);
		if (!err)
			break;
		if ((err != -ENOSPC && err != -ENOMEM) ||
		    !evict_one(u, EVICT_ANY))
			return err;
	}
	insert(u, p0, p1, slot, false, VMMC_UTLB_LOCKED);
	return 0;
}

int vmmc_utlb_unlock(struct vmmc_utlb *u, uintptr_t addr)
{
	uintptr_t p0 = addr & ~PAGE_MASK_;
	int pos = find_pos(u, p0);

	if (pos < 0 || u->pool[u->sorted[pos]].start != p0 ||
	    u->pool[u->sorted[pos]].cls != VMMC_UTLB_LOCKED)
		return -ENOENT;
	remove_at(u, (uint32_t)pos);
	reclaim_zombies(u);
	return 0;
}

void vmmc_utlb_set_zc_budget(struct vmmc_utlb *u, uint32_t ranges,
			     uint32_t pages)
{
	u->zc_max = ranges;
	u->zc_max_pages = pages;
	while (u->zc > u->zc_max || u->zc_pages > u->zc_max_pages)
		if (!evict_one(u, CLS(VMMC_UTLB_ZC)))
			break;
}

int vmmc_utlb_drop_zc(struct vmmc_utlb *u)
{
	int n = 0;

	while (u->zc && evict_one(u, CLS(VMMC_UTLB_ZC)))
		n++;
	return n;
}

int vmmc_utlb_tag_get(struct vmmc_utlb *u, uint32_t range, uint64_t user_data,
		      uint32_t *tag)
{
	uint32_t i = u->tag_free;
	struct vmmc_send_tag *t;

	if (i == VMMC_UTLB_NONE)
		return -EAGAIN;
	t = &u->tags[i];
	u->tag_free = t->next_free;
	t->user_data = user_data;
	t->range = range;
	t->busy = 1;
	t->seq++;
	u->pool[range].inflight++;
	u->inflight++;
	*tag = (uint32_t)t->seq << 16 | i;
	return 0;
}

int vmmc_utlb_tag_peek(const struct vmmc_utlb *u, uint32_t tag,
		       uint64_t *user_data)
{
	uint32_t i = tag & 0xffff;
	const struct vmmc_send_tag *t;

	if (i >= VMMC_UTLB_TAGS)
		return -EINVAL;
	t = &u->tags[i];
	if (!t->busy || t->seq != tag >> 16)
		return -EINVAL;
	*user_data = t->user_data;
	return 0;
}

int vmmc_utlb_tag_put(struct vmmc_utlb *u, uint32_t tag, uint64_t *user_data)
{
	uint32_t i = tag & 0xffff;
	struct vmmc_send_tag *t;

	if (i >= VMMC_UTLB_TAGS)
		return -EINVAL;
	t = &u->tags[i];
	if (!t->busy || t->seq != tag >> 16)
		return -EINVAL;
	*user_data = t->user_data;
	u->pool[t->range].inflight--;
	u->inflight--;
	t->busy = 0;
	t->next_free = u->tag_free;
	u->tag_free = i;
	return 0;
}

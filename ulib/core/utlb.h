/* SPDX-License-Identifier: MIT */
/*
 * utlb.h - libvmmc internals: the user-level translation cache (UTLB) and
 * the table of SENDs in flight, the interface of utlb.c. Not installed;
 * the core (through core_loc.h), the host-side unit test
 * (test/utlb_test.c) and, for the pin classes below, the socket stack
 * include it.
 *
 * The cache is a set of non-overlapping, page-aligned ranges of this
 * process's memory, each pinned by one VMMC_IOC_PIN and translated in the
 * contiguous UTLB slots slot .. slot + nr_slots - 1. Ranges live in a
 * fixed pool (stable ids, which the in-flight table refers to) and are
 * looked up through an array of ids sorted by start address.
 *
 * A range a SEND in flight uses (inflight > 0) is never unpinned. When it
 * has to leave the cache while in use (a new range overlaps it, or the
 * cache is flushed) it becomes a zombie: out of the lookup array, still
 * pinned, and unpinned on the next slow path once its SENDs completed.
 * The reap path (__vmmc_send_done) therefore never enters the kernel.
 *
 * Classes (utlb.c says how each is pinned and evicted):
 *   CACHE   vmmc_send(), vmmc_redirect(), vmmc_pin*(): LRU-evictable.
 *   LOCKED  the library's own memory (a socket's control page and staging
 *           ring): never evicted; unpinned only by vmmc_utlb_unlock(). A
 *           utlb_gen change makes it stale: re-pinned whole at its next
 *           lookup (or the lookup fails, never quietly).
 *   ZC      buffers pinned for zero-copy receive: evicted only to make
 *           room for other ZC ranges, and bounded by a budget of ranges
 *           and pages; a ZC pin that would exceed it, or would need a
 *           CACHE or LOCKED range's room, fails with -ENOBUFS.
 */
#ifndef VMMC_UTLB_H
#define VMMC_UTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmmc.h"

#define VMMC_UTLB_GRANULE	(64u << 10)	/* pins are rounded to this */
/*
 * Ranges cached at once: a stream socket's connection keeps two LOCKED
 * ranges (its control page and staging ring), so 16384 leave room for
 * 4096 connections and the cache. The pool is used from its start up
 * (pool_top) and never touched beyond, so what it does not use costs
 * address space only.
 */
#define VMMC_UTLB_MAX_RANGES	16384
#define VMMC_UTLB_TAGS		VMMC_CQ_ENTRIES	/* SENDs in flight, at most */
#define VMMC_UTLB_NONE		UINT32_MAX

enum vmmc_utlb_class {
	VMMC_UTLB_CACHE		= 0,
	VMMC_UTLB_LOCKED	= 1,
	VMMC_UTLB_ZC		= 2,
};

/* How the cache reaches the kernel; stubbed by the unit test. */
struct vmmc_utlb_ops {
	/* pin [addr, addr + len): 0 and the first slot and count, or -errno */
	int (*pin)(void *ctx, uintptr_t addr, size_t len, uint32_t flags,
		   uint32_t *slot, uint32_t *nr_slots);
	/* undo one pin: 0 or -errno (-EINVAL: the kernel already dropped it) */
	int (*unpin)(void *ctx, uint32_t slot);
};

enum vmmc_range_state {
	VMMC_RANGE_FREE		= 0,
	VMMC_RANGE_CACHED	= 1,	/* in the lookup array */
	VMMC_RANGE_ZOMBIE	= 2,	/* pinned, in flight, out of the cache */
};

struct vmmc_utlb_range {
	uintptr_t start;	/* page-aligned */
	uintptr_t end;		/* page-aligned, exclusive */
	uint64_t last_use;	/* LRU clock at the last hit */
	uint32_t slot;		/* UTLB slot of the page at start */
	uint32_t nr_slots;	/* (end - start) / page size */
	uint32_t inflight;	/* SENDs/REDIRECTs using it, not reaped */
	bool writable;		/* pinned with VMMC_PIN_F_WRITE */
	bool stale;		/* LOCKED, after a utlb_gen change: the kernel
				 * may have dropped it; re-pin before use
				 * (slot NONE: its old pin is already undone)
				 */
	uint8_t cls;		/* enum vmmc_utlb_class */
	uint32_t state;		/* from enum vmmc_range_state */
	uint32_t next_free;	/* pool free list */
};

struct vmmc_send_tag {
	uint64_t user_data;	/* the caller's, given back in the CQE */
	uint32_t range;		/* pool id of the source's range */
	uint16_t seq;		/* bumped per use, part of the tag */
	uint16_t busy;
	uint32_t next_free;
};

struct vmmc_utlb {
	const struct vmmc_utlb_ops *ops;
	void *ctx;
	uint64_t gen;		/* vmmc_ep_shared.utlb_gen we last saw */
	uint32_t nr;		/* ranges in sorted[] */
	uint32_t free_head;	/* pool free list */
	uint32_t nr_zombies;
	uint32_t mru;		/* pool id of the last hit, or NONE */
	uint32_t tag_free;	/* tag free list */
	uint32_t inflight;	/* tags in use */
	uint32_t pinned_pages;
	uint32_t locked, locked_pages;	/* LOCKED ranges cached, their pages */
	uint32_t zc, zc_pages;		/* ZC ranges cached, their pages */
	uint32_t zc_max, zc_max_pages;	/* the ZC budget */
	uint64_t zc_denied;	/* ZC lookups failed with -ENOBUFS */
	uint64_t repins;	/* stale LOCKED ranges pinned again */
	uint64_t clock;
	struct vmmc_utlb_stats st;
	uint32_t pool_top;	/* pool ids below it were ever used */
	struct vmmc_send_tag tags[VMMC_UTLB_TAGS];
	/* the rest is not cleared: read only below nr and pool_top */
	uint32_t sorted[VMMC_UTLB_MAX_RANGES];	/* pool ids by start */
	struct vmmc_utlb_range pool[VMMC_UTLB_MAX_RANGES];
};

void vmmc_utlb_init(struct vmmc_utlb *u, const struct vmmc_utlb_ops *ops,
		    void *ctx, uint64_t gen);
/*
 * The range covering [addr, addr + len), pinning it on a miss; flushes
 * first if @gen differs from the one the cache saw. Returns its pool id
 * (>= 0) or -errno: EINVAL (len 0 or wrapping), the kernel's EFAULT,
 * ENOSPC or ENOMEM when nothing more could be evicted.
 */
int vmmc_utlb_get(struct vmmc_utlb *u, uint64_t gen, uintptr_t addr,
		  size_t len, bool need_write);
/*
 * The same, pinning a miss as class @cls: ZC (always for write) adds
 * -ENOBUFS (over budget, or no room without evicting a non-ZC range) and
 * -EBUSY (the buffer overlaps a LOCKED range). A hit of any class serves
 * any lookup. A stale LOCKED range is pinned again on a hit: -EAGAIN
 * while SENDs still use its old pin (reap them first), else 0 or the
 * kernel's error.
 */
int vmmc_utlb_get_cls(struct vmmc_utlb *u, uint64_t gen, uintptr_t addr,
		      size_t len, bool need_write, uint32_t cls);
/*
 * Pin [addr, addr + len) (page-aligned memory the library owns) as one
 * LOCKED range, read-only: 0 or -errno (-EBUSY: overlaps another LOCKED
 * range). Cached CACHE/ZC ranges it overlaps leave the cache.
 */
int vmmc_utlb_lock(struct vmmc_utlb *u, uint64_t gen, uintptr_t addr,
		   size_t len);
/* Undo vmmc_utlb_lock() of the range starting at @addr: 0 or -ENOENT. */
int vmmc_utlb_unlock(struct vmmc_utlb *u, uintptr_t addr);
/*
 * Set the ZC budget (none until the user of the class, svc.h, sets it);
 * ZC ranges over it are unpinned (if idle).
 */
void vmmc_utlb_set_zc_budget(struct vmmc_utlb *u, uint32_t ranges,
			     uint32_t pages);
/* Unpin every idle ZC range (the memory limit is wanted elsewhere). */
int vmmc_utlb_drop_zc(struct vmmc_utlb *u);
/*
 * Unpin every idle CACHE and ZC range, turn the busy ones into zombies;
 * LOCKED ranges stay, stale (pinned again at their next lookup).
 */
int vmmc_utlb_flush_all(struct vmmc_utlb *u);
/* Slot of the page holding @addr, which range @id covers. */
static inline uint32_t vmmc_utlb_slot(const struct vmmc_utlb *u, uint32_t id,
				      uintptr_t addr)
{
	const struct vmmc_utlb_range *r = &u->pool[id];

	return r->slot + (uint32_t)((addr - r->start) / VMMC_PAGE_SIZE);
}

/* The in-flight table: a tag holds its range until put back. */
int vmmc_utlb_tag_get(struct vmmc_utlb *u, uint32_t range, uint64_t user_data,
		      uint32_t *tag);
/* The caller's user_data behind a busy @tag (not released). */
int vmmc_utlb_tag_peek(const struct vmmc_utlb *u, uint32_t tag,
		       uint64_t *user_data);
/* Release tag (from a CQE's low 32 bits): 0 and the caller's user_data. */
int vmmc_utlb_tag_put(struct vmmc_utlb *u, uint32_t tag, uint64_t *user_data);

#endif /* VMMC_UTLB_H */

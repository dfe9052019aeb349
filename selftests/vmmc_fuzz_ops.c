// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_fuzz_ops.c - the fuzzer's operations: one process's random walk
 * over the endpoint's ioctls, mmap offsets, its memory, its SQ and its
 * event rings. See vmmc_fuzz.c for what is checked.
 *
 * Handles a process owns (export ids, pinned slots) are tracked exactly:
 * UNEXPORT or UNPIN of a handle it does not own must fail, whatever the
 * handle is (another process's included). A fork()ed child holds the
 * endpoint files but owns none of them, and has none of their mappings:
 * every ioctl and mmap must fail EPERM and poll say POLLERR (op_foreign()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vmmc_test.h"
#include "vmmc_fuzz.h"
#include "vmmc_fork.h"

enum fz_region_kind {
	FZ_PRIVATE,	/* anonymous, private */
	FZ_SHARED,	/* anonymous, shared */
	FZ_MEMFD,	/* a memfd, shared */
	FZ_RDONLY,	/* anonymous, read-only */
	FZ_KINDS,
};

static const int e_info[] = { EFAULT, 0 };
static const int e_wait[] = { EINVAL, EFAULT, ETIMEDOUT, EINTR, 0 };
static const int e_export[] = { EINVAL, EFAULT, EEXIST, ENOSPC, ENOMEM,
				EAGAIN, EDQUOT, EACCES, 0 };
static const int e_export_child[] = { EPERM, EINVAL, EFAULT, EACCES, 0 };
static const int e_import[] = { EINVAL, EFAULT, ENOENT, EACCES, ENOSPC, 0 };
static const int e_pin[] = { EINVAL, EFAULT, ENOMEM, ENOSPC, EAGAIN, 0 };
static const int e_pin_child[] = { EPERM, EINVAL, EFAULT, 0 };
static const int e_un[] = { EINVAL, EFAULT, 0 };
static const int e_mmap[] = { EINVAL, EPERM, EACCES, ENOMEM, EOVERFLOW, 0 };

/* ---------------------------------------------------------------- memory */

static void region_map(struct fz_proc *p, struct fz_region *r)
{
	uint64_t len = (1 + fz_below(p, 64)) * 4096;
	int kind = (int)fz_below(p, FZ_KINDS), fd;
	void *m;

	switch (kind) {
	case FZ_SHARED:
		m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		break;
	case FZ_MEMFD:
		fd = memfd_create("vmmc_fuzz", 0);
		if (fd < 0 || ftruncate(fd, (off_t)len)) {
			m = MAP_FAILED;
		} else {
			m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 fd, 0);
		}
		if (fd >= 0)
			close(fd);
		break;
	default:
		m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	}
	if (m == MAP_FAILED) {
		r->base = NULL;
		return;
	}
	memset(m, (int)fz_below(p, 256), len);
	if (kind == FZ_RDONLY)
		mprotect(m, len, PROT_READ);
	r->base = m;
	r->len = len;
	r->kind = kind;
}

/* munmap, mremap, madvise, mprotect under pinned and exported memory */
static void op_region(struct fz_proc *p)
{
	struct fz_region *r = &p->regions[fz_below(p, FZ_REGIONS)];
	uint64_t pg, npg;
	void *m;

	if (!r->base) {
		region_map(p, r);
		return;
	}
	npg = r->len / 4096;
	pg = fz_below(p, npg);
	switch (fz_below(p, 7)) {
	case 0:		/* all of it, then a new one */
		munmap(r->base, r->len);
		region_map(p, r);
		break;
	case 1:		/* a hole, filled again at once */
		munmap(r->base + pg * 4096, 4096);
		mmap(r->base + pg * 4096, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:		/* move and grow */
		m = mremap(r->base, r->len, r->len + 4096 * fz_below(p, 4),
			   MREMAP_MAYMOVE);
		if (m != MAP_FAILED) {
			r->base = m;
			r->len += 0;	/* the new tail may not exist: keep len */
		}
		break;
	case 3:
		madvise(r->base + pg * 4096, (npg - pg) * 4096,
			MADV_DONTNEED);
		break;
	case 4:
		mprotect(r->base, r->len, PROT_READ);
		mprotect(r->base, r->len, PROT_READ | PROT_WRITE);
		break;
	case 5:		/* touch it: COW after a fork, faults after DONTNEED */
		if (r->kind != FZ_RDONLY)
			memset(r->base + pg * 4096, (int)fz_rand(p), 4096);
		break;
	default:
		madvise(r->base, r->len, fz_below(p, 2) ? MADV_HUGEPAGE :
			MADV_NOHUGEPAGE);
		break;
	}
}

/* ------------------------------------------------------------- endpoints */

static void ep_clear_handles(struct fz_ep *e)
{
	int i;

	for (i = 0; i < FZ_HANDLES; i++) {
		e->exports[i] = NONE;
		e->pins[i] = NONE;
		e->imports[i] = NONE;
	}
	memset(e->exp_own, 0, sizeof(e->exp_own));
	memset(e->pin_own, 0, sizeof(e->pin_own));
}

static void ep_close(struct fz_proc *p, struct fz_ep *e, int keep_maps);

static void *ep_map(struct fz_ep *e, uint64_t off, size_t len, int prot)
{
	void *m = mmap(NULL, len, prot, MAP_SHARED, e->fd, (off_t)off);

	return m == MAP_FAILED ? NULL : m;
}

static void ep_open(struct fz_proc *p, struct fz_ep *e)
{
	ep_clear_handles(e);
	e->fd = open(fz_dev, O_RDWR | O_CLOEXEC);
	if (e->fd < 0) {
		/* every NIC slot, or every one of this user's, taken */
		if (errno != EBUSY && errno != EDQUOT)
			fz_fail(p, "open: %s", strerror(errno));
		return;
	}
	if (ioctl(e->fd, VMMC_IOC_INFO, &e->info)) {
		fz_fail(p, "INFO: %s", strerror(errno));
		ep_close(p, e, 0);
		return;
	}
	e->sq_map = ep_map(e, VMMC_OFF_SQ, VMMC_SQ_SIZE, PROT_READ | PROT_WRITE);
	e->evq_map = ep_map(e, VMMC_OFF_EVQ, VMMC_EVQ_SIZE,
			    PROT_READ | PROT_WRITE);
	e->status_map = ep_map(e, VMMC_OFF_STATUS, 4096, PROT_READ);
	e->db_map = ep_map(e, VMMC_OFF_DOORBELL, 4096, PROT_READ | PROT_WRITE);
	if (!e->sq_map || !e->evq_map || !e->status_map || !e->db_map) {
		fz_fail(p, "mapping a new endpoint: %s", strerror(errno));
		ep_close(p, e, 0);
		return;
	}
	e->sq = (struct vmmc_ring_hdr *)e->sq_map;
	e->sqes = (struct vmmc_sqe *)(e->sq_map + VMMC_SQ_ENTRIES_OFF);
	e->cq = (struct vmmc_ring_hdr *)(e->evq_map + VMMC_CQ_HDR_OFF);
	e->nq = (struct vmmc_ring_hdr *)(e->evq_map + VMMC_NQ_HDR_OFF);
	e->db = (volatile uint32_t *)(e->db_map + VMMC_REG_DOORBELL);
}

/* Close; sometimes leave the mappings (they keep the endpoint alive). */
static void ep_close(struct fz_proc *p, struct fz_ep *e, int keep_maps)
{
	uint8_t **maps[] = { &e->sq_map, &e->evq_map, &e->status_map,
			     &e->db_map };
	size_t lens[] = { VMMC_SQ_SIZE, VMMC_EVQ_SIZE, 4096, 4096 };
	int i;

	if (e->fd >= 0)
		close(e->fd);
	if (keep_maps) {	/* the older orphan goes, this one waits */
		ep_close(p, &p->orphans[1], 0);
		p->orphans[1] = p->orphans[0];
		p->orphans[0] = *e;
		p->orphans[0].fd = -1;
	}
	for (i = 0; i < 4; i++) {
		if (*maps[i] && !keep_maps)
			munmap(*maps[i], lens[i]);
		*maps[i] = NULL;
	}
	e->sq = e->cq = e->nq = NULL;
	e->db = NULL;
	e->fd = -1;
	ep_clear_handles(e);
}

static struct fz_ep *pick_ep(struct fz_proc *p)
{
	struct fz_ep *e = &p->eps[fz_below(p, FZ_EPS)];

	return e->fd >= 0 ? e : NULL;
}

static int slot_of(const uint32_t *h, uint32_t v)
{
	int i;

	for (i = 0; i < FZ_HANDLES; i++)
		if (h[i] == v)
			return i;
	return -1;
}

static void remember(uint32_t *h, uint32_t *pub, uint32_t v)
{
	int i = slot_of(h, NONE);

	if (i < 0)
		i = 0;	/* forget one: it stays ours in the kernel */
	h[i] = v;
	if (pub)
		__atomic_store_n(&pub[i], v, __ATOMIC_RELAXED);
}

/* A handle: ours, another process's, or anything. */
static uint32_t pick_handle(struct fz_proc *p, const uint32_t *ours,
			    uint32_t (*theirs)[FZ_HANDLES], uint32_t max)
{
	uint32_t v;

	switch (fz_below(p, 5)) {
	case 0:
	case 1:
		v = ours[fz_below(p, FZ_HANDLES)];
		return v == NONE ? (uint32_t)fz_below(p, max) : v;
	case 2:
		return __atomic_load_n(&theirs[fz_below(p, fz->nprocs)]
				       [fz_below(p, FZ_HANDLES)],
				       __ATOMIC_RELAXED);
	case 3:
		return (uint32_t)fz_below(p, max + 2);
	default:
		return (uint32_t)fz_rand(p);
	}
}

/* ------------------------------------------------------------- ioctls */

/* An export name: a few often (so that imports find them), or others. */
static uint32_t fz_name(struct fz_proc *p)
{
	return FZ_NAME_BASE + (uint32_t)fz_below(p, fz_below(p, 4) ? 6 :
						 FZ_NAMES);
}

static void op_ioctl_random(struct fz_proc *p, struct fz_ep *e)
{
	static const unsigned long known[] = {
		VMMC_IOC_INFO, VMMC_IOC_WAIT, VMMC_IOC_EXPORT,
		VMMC_IOC_UNEXPORT, VMMC_IOC_IMPORT, VMMC_IOC_UNIMPORT,
		VMMC_IOC_PIN, VMMC_IOC_UNPIN,
		VMMC_IOC_SET_SPIN,	/* not fuzzed: it stores the driver's
					 * spin limit for every later test
					 */
	};
	const unsigned int nknown = sizeof(known) / sizeof(known[0]);
	static const int e_notty[] = { ENOTTY, 0 };
	unsigned long cmd;
	unsigned int i;
	long rc;

	switch (fz_below(p, 3)) {
	case 0:		/* our magic, any number, direction and size */
		cmd = _IOC(fz_below(p, 4), VMMC_IOC_MAGIC, fz_below(p, 16),
			   fz_below(p, 256));
		break;
	case 1:		/* a known number with the wrong size or direction */
		cmd = known[fz_below(p, nknown)] ^ (1UL << fz_below(p, 32));
		break;
	default:
		cmd = (unsigned long)(uint32_t)fz_rand(p);
		break;
	}
	for (i = 0; i < nknown; i++)
		if (cmd == known[i])
			return;	/* the typed ops cover those */
	rc = ioctl(e->fd, cmd, fz_argp(p, NULL, 256));
	if (rc == 0)
		fz_fail(p, "unknown ioctl 0x%lx succeeded", cmd);
	fz_expect(p, "unknown ioctl", rc, e_notty);
}

static void op_info(struct fz_proc *p, struct fz_ep *e)
{
	long rc = ioctl(e->fd, VMMC_IOC_INFO, fz_argp(p, NULL,
						      sizeof(struct vmmc_info)));

	fz_expect(p, "INFO", rc, e_info);
}

static void op_wait(struct fz_proc *p, struct fz_ep *e)
{
	struct vmmc_wait w = { .timeout_ms = (uint32_t)fz_below(p, 20) };
	long rc;

	if (fz_below(p, 4) == 0)
		w.flags = (uint32_t)fz_rand(p);
	if (fz_below(p, 4) == 0)
		w.reserved[fz_below(p, 2)] = fz_rand(p);
	rc = ioctl(e->fd, VMMC_IOC_WAIT, fz_argp(p, &w, sizeof(w)));
	fz_expect(p, "WAIT", rc, e_wait);
}

static void op_export(struct fz_proc *p, struct fz_ep *e)
{
	struct vmmc_export_req *q, r = { 0 };
	uint64_t room;
	long rc;

	r.addr = fz_addr(p, &room);
	r.len = fz_len(p, room);
	r.perm_nodes = fz_below(p, 4) ? ~0ULL : fz_rand(p);
	r.name = fz_name(p);
	if (fz_below(p, 6) == 0)
		r.flags = 1u << fz_below(p, 32);
	if (fz_below(p, 6) == 0)
		r.export_id = (uint32_t)fz_rand(p);
	if (fz_below(p, 6) == 0)
		r.reserved0 = (uint32_t)fz_rand(p);
	if (fz_below(p, 4) == 0)
		r.key = fz_rand(p);
	q = fz_argp(p, &r, sizeof(r));
	rc = ioctl(e->fd, VMMC_IOC_EXPORT, q);
	fz_expect(p, "EXPORT", rc, p->is_child ? e_export_child : e_export);
	if (rc == 0 && p->is_child)
		fz_fail(p, "EXPORT from a forked child succeeded");
	if (rc == 0 && !p->is_child) {
		if (q->export_id >= VMMC_MAX_EXPORTS)
			fz_fail(p, "EXPORT gave id %u", q->export_id);
		remember(e->exports, fz->export_ids[p->idx], q->export_id);
		e->exp_len[slot_of(e->exports, q->export_id)] = q->len;
		if (q->export_id < VMMC_MAX_EXPORTS)
			e->exp_own[q->export_id] = 1;
	}
}

static void op_unexport(struct fz_proc *p, struct fz_ep *e)
{
	uint32_t id = pick_handle(p, e->exports, fz->export_ids,
				  VMMC_MAX_EXPORTS);
	int mine = slot_of(e->exports, id);
	int exact, owned = id < VMMC_MAX_EXPORTS && e->exp_own[id];
	uint32_t *arg = fz_argp_x(p, &id, sizeof(id), &exact);
	long rc;

	if (!exact)	/* random bytes went in: can't tell whose */
		id = NONE;
	rc = ioctl(e->fd, VMMC_IOC_UNEXPORT, arg);
	fz_expect(p, "UNEXPORT", rc, e_un);
	if (rc == 0 && id != NONE && !p->is_child) {
		if (!owned)
			fz_fail(p, "UNEXPORT of export %u, not ours, succeeded",
				id);
		e->exp_own[id] = 0;
		if (mine >= 0)
			e->exports[mine] = NONE;
	}
}

static void op_import(struct fz_proc *p, struct fz_ep *e)
{
	struct vmmc_import_req *q, r = { 0 };
	long rc;

	switch (fz_below(p, 6)) {
	case 0:
		r.node = e->info.nr_nodes;
		break;
	case 1:
		r.node = (uint32_t)fz_rand(p);
		break;
	default:
		r.node = e->info.node_id;
		break;
	}
	r.name = fz_below(p, 8) ? fz_name(p) : (uint32_t)fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.flags = (uint32_t)fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.len = fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.reserved[fz_below(p, 2)] = (uint32_t)fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.key = fz_rand(p);
	q = fz_argp(p, &r, sizeof(r));
	rc = ioctl(e->fd, VMMC_IOC_IMPORT, q);
	fz_expect(p, "IMPORT", rc, e_import);
	if (rc == 0 && !p->is_child) {
		if (q->import_id >= VMMC_MAX_IMPORTS)
			fz_fail(p, "IMPORT gave id %u", q->import_id);
		remember(e->imports, fz->import_ids[p->idx], q->import_id);
		e->import_len[slot_of(e->imports, q->import_id)] = q->len;
	}
}

static void op_unimport(struct fz_proc *p, struct fz_ep *e)
{
	uint32_t id = pick_handle(p, e->imports, fz->import_ids,
				  VMMC_MAX_IMPORTS);
	int mine = slot_of(e->imports, id);
	long rc = ioctl(e->fd, VMMC_IOC_UNIMPORT, fz_argp(p, &id, sizeof(id)));

	fz_expect(p, "UNIMPORT", rc, e_un);
	if (rc == 0 && mine >= 0)
		e->imports[mine] = NONE;
}

static void op_pin(struct fz_proc *p, struct fz_ep *e)
{
	struct vmmc_pin_req *q, r = { 0 };
	uint64_t room;
	long rc;

	r.addr = fz_addr(p, &room);
	r.len = fz_len(p, room);
	if (fz_below(p, 3) == 0)	/* a REDIRECT destination */
		r.flags = VMMC_PIN_F_WRITE;
	else if (fz_below(p, 8) == 0)
		r.flags = (uint32_t)fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.slot = (uint32_t)fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.nr_slots = (uint32_t)fz_rand(p);
	if (fz_below(p, 8) == 0)
		r.reserved[fz_below(p, 3)] = (uint32_t)fz_rand(p);
	q = fz_argp(p, &r, sizeof(r));
	rc = ioctl(e->fd, VMMC_IOC_PIN, q);
	fz_expect(p, "PIN", rc, p->is_child ? e_pin_child : e_pin);
	if (rc == 0 && p->is_child)
		fz_fail(p, "PIN from a forked child succeeded");
	if (rc == 0 && !p->is_child) {
		if (q->slot >= VMMC_UTLB_SLOTS || !q->nr_slots ||
		    q->nr_slots > VMMC_UTLB_SLOTS - q->slot)
			fz_fail(p, "PIN gave slots %u + %u", q->slot,
				q->nr_slots);
		remember(e->pins, fz->pin_slots[p->idx], q->slot);
		e->pin_pages[slot_of(e->pins, q->slot)] = q->nr_slots;
		e->pin_wr[slot_of(e->pins, q->slot)] =
			q->flags == VMMC_PIN_F_WRITE;
		if (q->slot < VMMC_UTLB_SLOTS)
			e->pin_own[q->slot] = 1;
	}
}

static void op_unpin(struct fz_proc *p, struct fz_ep *e)
{
	struct vmmc_unpin_req r = { 0 }, *q;
	int mine, exact, owned;
	long rc;

	r.slot = pick_handle(p, e->pins, fz->pin_slots, VMMC_UTLB_SLOTS);
	if (fz_below(p, 8) == 0)
		r.reserved[fz_below(p, 3)] = (uint32_t)fz_rand(p);
	mine = slot_of(e->pins, r.slot);
	owned = r.slot < VMMC_UTLB_SLOTS && e->pin_own[r.slot];
	q = fz_argp_x(p, &r, sizeof(r), &exact);
	rc = ioctl(e->fd, VMMC_IOC_UNPIN, q);
	fz_expect(p, "UNPIN", rc, e_un);
	if (!exact || p->is_child)
		return;		/* random bytes went in: can't tell */
	if (rc == 0 && !owned)
		fz_fail(p, "UNPIN of slot %u, not ours, succeeded", r.slot);
	/* EINVAL with zero reserved words: the kernel had dropped it */
	if (owned && (rc == 0 || (!r.reserved[0] && !r.reserved[1] &&
				  !r.reserved[2]))) {
		e->pin_own[r.slot] = 0;
		if (mine >= 0)
			e->pins[mine] = NONE;
	}
}

/* --------------------------------------------------------------- mmap */

static void op_mmap(struct fz_proc *p, struct fz_ep *e)
{
	static const uint64_t offs[] = {
		VMMC_OFF_SQ, VMMC_OFF_EVQ, VMMC_OFF_STATUS, VMMC_OFF_DOORBELL,
	};
	static const uint64_t lens[] = {
		VMMC_SQ_SIZE, VMMC_EVQ_SIZE, 4096, 4096,
	};
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	unsigned int k = (unsigned int)fz_below(p, 4);
	uint64_t off = offs[k], len = lens[k];
	int prot = prots[fz_below(p, 6)], flags = MAP_SHARED, want;
	uint8_t *m;

	switch (fz_below(p, 6)) {
	case 0:
		len = 4096 * fz_below(p, 8);
		break;
	case 1:
		off += 4096 * (1 + fz_below(p, 4));
		break;
	case 2:
		off = fz_rand(p) & ~4095ULL & 0x7fffffffffffULL;
		break;
	case 3:
		flags = MAP_PRIVATE;
		break;
	default:
		break;
	}
	want = flags == MAP_SHARED && !(prot & PROT_EXEC) && len &&
	       (k != 2 || !(prot & PROT_WRITE));
	want = want && off == offs[k] && len == lens[k];
	m = mmap(NULL, len ? len : 4096, prot, flags, e->fd, (off_t)off);
	if (!len) {	/* a zero length never maps */
		if (m != MAP_FAILED)
			munmap(m, 4096);
		return;
	}
	errno = m == MAP_FAILED ? errno : 0;
	fz_expect(p, "mmap", m == MAP_FAILED ? -1 : 0, e_mmap);
	if ((m != MAP_FAILED) != want) {
		fz_fail(p, "mmap off 0x%llx len %llu prot %d flags %d: %s",
			(unsigned long long)off, (unsigned long long)len, prot,
			flags, m == MAP_FAILED ? strerror(errno) : "mapped");
	}
	if (m == MAP_FAILED)
		return;
	/* once mapped: no exec, no write to the status page, no growing */
	if (!mprotect(m, len, PROT_READ | PROT_EXEC))
		fz_fail(p, "mprotect PROT_EXEC of region %u succeeded", k);
	if (k == 2 && !mprotect(m, len, PROT_READ | PROT_WRITE))
		fz_fail(p, "mprotect PROT_WRITE of the status page succeeded");
	if (mremap(m, len, len + 4096, 0) != MAP_FAILED)
		fz_fail(p, "mremap grew region %u", k);
	if (fz_below(p, 2))	/* split it */
		munmap(m + len - 4096, 4096);
	munmap(m, len);
}

static void op_poll(struct fz_proc *p, struct fz_ep *e)
{
	struct pollfd pfd = { .fd = e->fd, .events = (short)fz_rand(p) };

	if (poll(&pfd, 1, (int)fz_below(p, 10)) < 0 && errno != EINTR)
		fz_fail(p, "poll: %s", strerror(errno));
}

/* ---------------------------------------------------------------- fork */

/*
 * A forked child on its parent's endpoint: EPERM and POLLERR, always
 * (ENOTTY for an unknown ioctl number, as from anyone).
 */
static void op_foreign(struct fz_proc *p, struct fz_ep *e)
{
	struct fk_target t = {
		.node = (uint32_t)fz_below(p, 4), .name = fz_name(p),
		.export_id = (uint32_t)fz_below(p, VMMC_MAX_EXPORTS),
		.import_id = (uint32_t)fz_below(p, VMMC_MAX_IMPORTS),
		.slot = (uint32_t)fz_below(p, VMMC_UTLB_SLOTS),
	};
	struct fk_probe r;
	int i;

	fk_probe(e->fd, &t, p->scratch, &r);
	for (i = 0; i < FK_NR; i++)
		if (r.res[i] != fk_expected(i))
			fz_fail(p, "forked child: %s on the parent's fd gave %d",
				fk_op_name[i], r.res[i]);
}

static void fz_step(struct fz_proc *p);

static void op_fork(struct fz_proc *p)
{
	uint64_t t;
	int status, i;
	pid_t pid;

	if (p->is_child)
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		p->is_child = 1;
		p->rng ^= 0x5bd1e995;
		for (i = 0; i < 40; i++)
			fz_step(p);
		_exit(0);
	}
	/* meanwhile the parent writes its COW-shared (and pinned) pages */
	for (i = 0; i < 4; i++)
		op_region(p);
	for (t = fz_now_ns(); waitpid(pid, &status, WNOHANG) != pid;) {
		if (fz_now_ns() - t > 20000000000ULL) {
			fz_fail(p, "forked child hung");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(1000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fz_fail(p, "forked child died: status 0x%x", status);
}

/* ---------------------------------------------------------------- driver */

static void fz_step(struct fz_proc *p)
{
	unsigned int what = (unsigned int)fz_below(p, 22);
	struct fz_ep *e = pick_ep(p);

	p->ops++;
	if (what >= 20) {	/* the good path: must work throughout */
		if (what == 20)
			fz_good_send(p);
		else
			fz_good_redirect(p);
		return;
	}
	if (what == 0) {
		op_region(p);
		return;
	}
	if (what == 1) {
		op_fork(p);
		return;
	}
	if (!e) {
		if (!p->is_child)
			ep_open(p, &p->eps[fz_below(p, FZ_EPS)]);
		return;
	}
	if (p->is_child) {
		op_foreign(p, e);
		return;
	}
	switch (what) {
	case 2:
		op_ioctl_random(p, e);
		break;
	case 3:
		op_info(p, e);
		break;
	case 4:
		op_wait(p, e);
		break;
	case 5:
	case 6:
		op_export(p, e);
		break;
	case 7:
		op_unexport(p, e);
		break;
	case 8:
		op_import(p, e);
		break;
	case 9:
		op_unimport(p, e);
		break;
	case 10:
	case 11:
		op_pin(p, e);
		break;
	case 12:
		op_unpin(p, e);
		break;
	case 13:
		op_mmap(p, e);
		break;
	case 14:
	case 15:
		fz_op_sq(p, e);
		break;
	case 16:
		fz_op_evq(p, e);
		break;
	case 17:
		op_poll(p, e);
		break;
	default:	/* close (maybe with mappings left), open again */
		if (p->is_child || fz_below(p, 40))
			break;
		ep_close(p, e, (int)fz_below(p, 4) == 0);
		ep_open(p, e);
		break;
	}
}

int fz_proc_init(struct fz_proc *p)
{
	int i;

	p->scratch = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->scratch == MAP_FAILED)
		return -1;
	mprotect(p->scratch + 4096, 4096, PROT_NONE);
	for (i = 0; i < FZ_REGIONS; i++)
		region_map(p, &p->regions[i]);
	p->orphans[0].fd = p->orphans[1].fd = -1;
	fz_good_init(p);	/* first: the walk may fill the user's quota */
	for (i = 0; i < FZ_EPS; i++)
		ep_open(p, &p->eps[i]);
	return 0;
}

void fz_proc_fini(struct fz_proc *p)
{
	int i;

	for (i = 0; i < FZ_EPS; i++)
		ep_close(p, &p->eps[i], 0);
	ep_close(p, &p->orphans[0], 0);
	ep_close(p, &p->orphans[1], 0);
	fz_good_fini(p);	/* last: nothing of the walk is in flight */
}

void fz_run(struct fz_proc *p)
{
	while (fz_now_ns() < p->end_ns)
		fz_step(p);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_fuzz.h - state shared by the fuzzer's driver (vmmc_fuzz.c) and its
 * operations (vmmc_fuzz_ops.c).
 */
#ifndef VMMC_FUZZ_H
#define VMMC_FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#define FZ_MAX_PROCS	32
#define FZ_REGIONS	6
#define FZ_EPS		2	/* endpoints per process */
#define FZ_HANDLES	8	/* exports, pins, imports tracked per ep */
#define FZ_NAMES	32	/* export names: few, so that they collide */
#define FZ_NAME_BASE	0xf2000000u
#define FZ_GOOD_SEND	0x600d000000000000ULL
#define FZ_GOOD_NAME	0xf3000000u	/* + the process's index */
#define FZ_GOOD_LEN	(64 << 10)	/* src, dst (exported), rd */
#define NONE		UINT32_MAX

/* One page per run, MAP_SHARED between all processes. */
struct fuzz_shared {
	uint64_t failures;
	uint64_t total_ops;
	uint32_t nprocs;
	/* other processes' handles, to be misused: written racily */
	uint32_t export_ids[FZ_MAX_PROCS][FZ_HANDLES];
	uint32_t pin_slots[FZ_MAX_PROCS][FZ_HANDLES];
	uint32_t import_ids[FZ_MAX_PROCS][FZ_HANDLES];
	/* per call: how often it succeeded and failed (coverage) */
	struct {
		const char *what;	/* a literal: same in every process */
		uint64_t ok, err;
	} calls[24];
	/*
	 * completions of SENDs the walk made of live handles (they race
	 * the walk's own unpins, unexports and broken SQ indexes: counted)
	 */
	uint64_t send_status[VMMC_ST_NR];
	/* SENDs of the good path: each must complete OK, byte for byte */
	uint64_t good_sends, good_redirects, good_fails;
	uint64_t canary_pages;	/* canary pages checked intact */
	uint64_t canary_fails;
};

struct fz_region {
	uint8_t *base;		/* NULL: not mapped now */
	uint64_t len;
	int kind;		/* enum fz_region_kind */
};

struct fz_ep {
	int fd;			/* -1: closed */
	struct vmmc_info info;
	struct vmmc_ring_hdr *sq, *cq, *nq;
	struct vmmc_sqe *sqes;
	uint8_t *sq_map, *evq_map, *status_map, *db_map;
	volatile uint32_t *db;
	/* handles we own; UINT32_MAX: none */
	uint32_t exports[FZ_HANDLES];
	uint32_t pins[FZ_HANDLES];
	uint32_t pin_pages[FZ_HANDLES];
	uint32_t imports[FZ_HANDLES];
	uint64_t import_len[FZ_HANDLES];
	uint64_t exp_len[FZ_HANDLES];	/* of exports[i] */
	uint8_t pin_wr[FZ_HANDLES];	/* pins[i] is pinned for write */
	/* the truth: every export id and pinned slot start we own */
	uint8_t exp_own[VMMC_MAX_EXPORTS];
	uint8_t pin_own[VMMC_UTLB_SLOTS];
};

/*
 * The good path: an endpoint the walk never uses, a keyed export of pages
 * the walk never unmaps (dst, between canary pages) and a source of its
 * own; one mapping: canary | src | canary | dst | canary.
 */
struct fz_good {
	struct vmmc_ep ep;
	int open;
	uint8_t *map;
	uint8_t *src, *dst, *rd;
	uint32_t exp, imp;
	uint64_t msgs;
};

struct fz_proc {
	int idx;
	uid_t uid;		/* the walk runs as this user */
	int is_child;		/* a fork()ed copy: other mm, same files */
	uint64_t seed, rng, ops, end_ns;
	uint8_t *scratch;	/* one page, then a PROT_NONE guard page */
	uint8_t *canary;	/* one page no call ever names: the NIC must
				 * never touch it
				 */
	struct fz_good good;
	struct fz_region regions[FZ_REGIONS];
	struct fz_ep eps[FZ_EPS];
	/* mappings of closed endpoints, left for a while: they keep it */
	struct fz_ep orphans[2];
};

extern struct fuzz_shared *fz;
extern const char *fz_dev;

void fz_fail(struct fz_proc *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fz_expect(struct fz_proc *p, const char *what, long rc,
	       const int *ok_errnos);
uint64_t fz_rand(struct fz_proc *p);
uint64_t fz_below(struct fz_proc *p, uint64_t n);
uint64_t fz_len(struct fz_proc *p, uint64_t region);
uint64_t fz_addr(struct fz_proc *p, uint64_t *room);
void *fz_argp(struct fz_proc *p, const void *fill, size_t size);
void *fz_argp_x(struct fz_proc *p, const void *fill, size_t size, int *exact);
uint64_t fz_now_ns(void);

/* vmmc_fuzz_ops.c */
int fz_proc_init(struct fz_proc *p);
void fz_proc_fini(struct fz_proc *p);
void fz_run(struct fz_proc *p);

/* vmmc_fuzz_sq.c */
void fz_op_sq(struct fz_proc *p, struct fz_ep *e);
void fz_op_evq(struct fz_proc *p, struct fz_ep *e);

/* vmmc_fuzz_good.c */
void fz_good_init(struct fz_proc *p);
void fz_good_send(struct fz_proc *p);
void fz_good_redirect(struct fz_proc *p);
void fz_good_fini(struct fz_proc *p);

#endif /* VMMC_FUZZ_H */

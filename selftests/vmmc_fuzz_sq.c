// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_fuzz_sq.c - the fuzzer's descriptors and rings: random and
 * boundary descriptors written into the mapped SQ (SENDs, REDIRECTs and
 * REDIRECT_CANCELs made of the process's live handles and write pins, near
 * misses and noise), broken producer indexes, doorbells on any vector,
 * garbage in the CQ/NQ indexes. Every completion must carry a known
 * status. See vmmc_fuzz.c for what is checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "vmmc_test.h"
#include "vmmc_fuzz.h"

/* ------------------------------------------------------- rings, doorbell */

/* The index of one of our live handles, from a random start; or NONE. */
static uint32_t any_handle(struct fz_proc *p, const uint32_t *h)
{
	uint32_t start = (uint32_t)fz_below(p, FZ_HANDLES), i;

	for (i = 0; i < FZ_HANDLES; i++)
		if (h[(start + i) % FZ_HANDLES] != NONE)
			return (start + i) % FZ_HANDLES;
	return NONE;
}

/* The index of one of our pins made for write, from a random start. */
static uint32_t any_write_pin(struct fz_proc *p, const struct fz_ep *e)
{
	uint32_t start = (uint32_t)fz_below(p, FZ_HANDLES), i, k;

	for (i = 0; i < FZ_HANDLES; i++) {
		k = (start + i) % FZ_HANDLES;
		if (e->pins[k] != NONE && e->pin_wr[k])
			return k;
	}
	return NONE;
}

/* A random length from 1 to the least of @a, @b and VMMC_SEND_MAX_LEN. */
static uint32_t fit_len(struct fz_proc *p, uint64_t a, uint64_t b)
{
	uint64_t room = a < b ? a : b;

	if (room > VMMC_SEND_MAX_LEN)
		room = VMMC_SEND_MAX_LEN;
	return (uint32_t)(1 + fz_below(p, room));
}

/*
 * A REDIRECT the NIC should accept: a range of one of our exports onto
 * our pages pinned for write, a slot number mostly in range; 0 if we have
 * no such export or pin.
 */
static int fill_redirect(struct fz_proc *p, struct fz_ep *e,
			 struct vmmc_sqe *s)
{
	uint32_t i = any_handle(p, e->exports), w = any_write_pin(p, e);
	uint32_t off, len;
	uint64_t room, dst;
	unsigned int slot;

	if (i == NONE || w == NONE || !e->exp_len[i])
		return 0;
	off = (uint32_t)fz_below(p, 4096);
	room = (uint64_t)e->pin_pages[w] * 4096;
	room = room > off ? room - off : 1;
	len = fit_len(p, room, e->exp_len[i]);
	dst = fz_below(p, e->exp_len[i] - len + 1);
	slot = (unsigned int)(fz_below(p, 6) ? fz_below(p, VMMC_REDIR_SLOTS) :
			      fz_below(p, 3 * VMMC_REDIR_SLOTS));
	vmmc_prep_redirect(s, slot, e->exports[i], dst, e->pins[w], off, len,
			   fz_rand(p));
	return 1;
}

/* A SEND the NIC should carry out: a real import, from a real pin. */
static int fill_good_send(struct fz_proc *p, struct fz_ep *e,
			  struct vmmc_sqe *s)
{
	uint32_t i = any_handle(p, e->imports), w = any_handle(p, e->pins);
	uint32_t flags, off, len;
	uint64_t dst;

	if (i == NONE || w == NONE)
		return 0;
	flags = fz_below(p, 2) ? VMMC_SQF_NOTIFY : 0;
	off = (uint32_t)fz_below(p, 4096);
	len = fit_len(p, (uint64_t)e->pin_pages[w] * 4096 - off,
		      e->import_len[i]);
	dst = fz_below(p, e->import_len[i] - len + 1);
	vmmc_prep_send(s, e->pins[w], off, len, e->imports[i], dst, flags,
		       FZ_GOOD_SEND | (fz_rand(p) >> 16));
	return 1;
}

static void fill_sqe(struct fz_proc *p, struct fz_ep *e, struct vmmc_sqe *s)
{
	uint64_t room;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	switch (fz_below(p, 8)) {
	case 6:
		if (fill_redirect(p, e, s))
			return;
		goto send;
	case 7:		/* end a redirect slot: ours, maybe active, or not */
		s->op = VMMC_OP_REDIRECT_CANCEL;
		s->imm = fz_below(p, 4) ? fz_below(p, VMMC_REDIR_SLOTS) :
			 fz_rand(p);
		s->user_data = fz_rand(p);
		return;
	case 0:		/* noise */
		for (i = 0; i < sizeof(*s); i++)
			((uint8_t *)s)[i] = (uint8_t)fz_rand(p);
		return;
	case 1:
		s->op = VMMC_OP_NOP;
		s->flags = fz_below(p, 2) ? VMMC_SQF_DELAY : 0;
		s->imm = fz_below(p, 4) ? fz_below(p, 2000) : fz_rand(p);
		break;
	case 2:
		s->op = VMMC_OP_PING;
		s->dst_node = fz_below(p, 2) ? e->info.node_id :
			      (uint32_t)fz_rand(p);
		s->imm = fz_rand(p);
		break;
	case 3:		/* a SEND that should work: real import, real pin */
		if (fill_good_send(p, e, s))
			return;
		goto send;
	default:	/* a SEND: real handles or near misses */
send:
		s->op = VMMC_OP_SEND;
		s->flags = fz_below(p, 2) ? VMMC_SQF_NOTIFY : 0;
		i = (uint32_t)fz_below(p, FZ_HANDLES);
		s->import = e->imports[i] != NONE && fz_below(p, 4) ?
			    e->imports[i] : (uint32_t)fz_below(p, 70);
		room = e->imports[i] != NONE ? e->import_len[i] : 4096;
		s->len = (uint32_t)(fz_below(p, 4) ? 1 + fz_below(p, room) :
				    fz_len(p, room));
		s->dst_offset = fz_below(p, 4) ? fz_below(p, room) :
				fz_len(p, room);
		i = (uint32_t)fz_below(p, FZ_HANDLES);
		s->src_slot = e->pins[i] != NONE && fz_below(p, 4) ?
			      e->pins[i] : (uint32_t)fz_len(p, VMMC_UTLB_SLOTS);
		s->src_off = (uint32_t)(fz_below(p, 4) ? fz_below(p, 4096) :
					fz_rand(p));
		break;
	}
	s->user_data = fz_rand(p);
	if (fz_below(p, 8) == 0)	/* one stray bit somewhere */
		((uint8_t *)s)[fz_below(p, sizeof(*s))] ^=
			(uint8_t)(1u << fz_below(p, 8));
}

static void ring_doorbell(struct fz_proc *p, struct fz_ep *e)
{
	volatile uint32_t *regs = (volatile uint32_t *)e->db_map;

	if (fz_below(p, 4))
		*e->db = (VMMC_NIC_PEER << 16) | VMMC_DB_SQ;
	else if (fz_below(p, 2))	/* any peer (ourselves too), any vector */
		*e->db = (uint32_t)(fz_below(p, 4) << 16 | fz_below(p, 6));
	else				/* the other ivshmem registers */
		regs[fz_below(p, 4)] = (uint32_t)fz_rand(p);
}

/* Consume the CQ: every completion has a known status. */
static void cq_drain(struct fz_proc *p, struct fz_ep *e)
{
	struct vmmc_cqe *cqes =
		(struct vmmc_cqe *)(e->evq_map + VMMC_CQ_ENTRIES_OFF);
	uint32_t prod = __atomic_load_n(&e->cq->prod, __ATOMIC_ACQUIRE), c;

	for (c = e->cq->cons; prod - c <= VMMC_CQ_ENTRIES && c != prod; c++) {
		struct vmmc_cqe *q = &cqes[c & (VMMC_CQ_ENTRIES - 1)];

		if (q->status >= VMMC_ST_NR)
			fz_fail(p, "CQE status %u", q->status);
		else if (q->op == VMMC_OP_SEND &&
			 (q->user_data & ~0xffffffffffffULL) == FZ_GOOD_SEND)
			__atomic_add_fetch(&fz->send_status[q->status], 1,
					   __ATOMIC_RELAXED);
	}
	__atomic_store_n(&e->cq->cons, prod, __ATOMIC_RELEASE);
}

void fz_op_sq(struct fz_proc *p, struct fz_ep *e)
{
	uint32_t cons = __atomic_load_n(&e->sq->cons, __ATOMIC_ACQUIRE);
	uint32_t prod = e->sq->prod, n = 1 + (uint32_t)fz_below(p, 8), i;

	if (fz_below(p, 2))	/* make room in the CQ, most of the time */
		cq_drain(p, e);
	for (i = 0; i < n; i++)
		fill_sqe(p, e, &e->sqes[(prod + i) & (VMMC_SQ_ENTRIES - 1)]);
	switch (fz_below(p, 12)) {
	case 0:
		prod = (uint32_t)fz_rand(p);	/* broken */
		break;
	case 1:
		prod = cons + VMMC_SQ_ENTRIES + 1 + (uint32_t)fz_below(p, 4);
		break;
	case 2:
		prod = cons - 1 - (uint32_t)fz_below(p, 4);
		break;
	default:
		if (prod - cons > VMMC_SQ_ENTRIES - n)
			prod = cons;	/* repair a broken one */
		prod += n;
		break;
	}
	__atomic_store_n(&e->sq->prod, prod, __ATOMIC_RELEASE);
	if (fz_below(p, 8) == 0)	/* the NIC's index is ours to scribble */
		e->sq->cons = (uint32_t)fz_rand(p);
	ring_doorbell(p, e);
}

/* Garbage into the CQ/NQ indexes and flags, or drain what is there. */
void fz_op_evq(struct fz_proc *p, struct fz_ep *e)
{
	uint32_t *w[] = { &e->cq->cons, &e->nq->cons, &e->cq->prod,
			  &e->nq->prod, &e->cq->flags, &e->nq->flags };
	struct vmmc_ep_shared *sh =
		(struct vmmc_ep_shared *)(e->evq_map + VMMC_EPINFO_OFF);

	switch (fz_below(p, 4)) {
	case 0:
		*w[fz_below(p, 6)] = fz_below(p, 2) ? (uint32_t)fz_rand(p) :
				     *w[fz_below(p, 4)] + (uint32_t)fz_below(p, 300) - 150;
		break;
	case 1:
		sh->utlb_gen = (uint32_t)fz_rand(p);
		break;
	default:
		cq_drain(p, e);
		__atomic_store_n(&e->nq->cons,
				 __atomic_load_n(&e->nq->prod, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		break;
	}
}

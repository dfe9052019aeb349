// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_timer.c - in-flight operations and the delayed-NOP timer list
 *
 * Contract:
 * - An op is created when a descriptor is consumed but completes later
 *   (delayed NOP, PING, SEND). It sits on its endpoint's op list, holds one
 *   reserved CQ slot until freed, and is tagged with the endpoint's gen.
 * - Delayed NOPs sit on one list sorted by (due, submission order). They
 *   complete when due, independently of other descriptors: completions of
 *   one endpoint are therefore NOT in SQ order (an undelayed NOP behind a
 *   delayed one completes first; two delayed NOPs complete in due order,
 *   ties in submission order). Users match CQEs by user_data.
 * - While the NIC polls, due timers are found by the poll pass; before
 *   it sleeps, the timerfd is armed (absolute CLOCK_MONOTONIC) for the
 *   earliest due op, so a pending NOP neither keeps the NIC spinning nor
 *   stalls any other endpoint.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#include "fabric.h"

struct fabric_op *fabric_op_new(struct fabric_ep *ep, enum fabric_op_kind k,
				__u32 gen, const struct vmmc_sqe *sqe,
				__u64 t_fetch)
{
	struct fabric_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->ep = ep;
	op->kind = k;
	op->gen = gen;
	op->op = sqe->op;
	op->user_data = sqe->user_data;
	op->t_fetch = t_fetch;
	flist_init(&op->timer_link);
	flist_add_tail(&ep->ops, &op->ep_link);
	ep->inflight++;
	return op;
}

void fabric_op_free(struct fabric_op *op)
{
	flist_del(&op->ep_link);
	flist_del(&op->timer_link);	/* no-op unless on the timer list */
	if (op->ep->send == op)
		op->ep->send = NULL;
	if (op->kind == FOP_SEND && op->sent)
		fabric_link_void(op->ep->node->f, op);
	if (op->kind == FOP_REDIRECT)
		fabric_redir_unlink(op);
	op->ep->inflight--;
	free(op);
}

void fabric_timer_add(struct fabric *f, struct fabric_op *op, __u64 due)
{
	struct flist *pos;

	op->due = due;
	op->seq = f->timer_seq++;
	/* Delays are alike, so a new op usually goes last: walk back. */
	for (pos = f->timers.prev; pos != &f->timers; pos = pos->prev)
		if (flist_entry(pos, struct fabric_op, timer_link)->due <= due)
			break;
	flist_add_after(pos, &op->timer_link);
}

bool fabric_timer_due_before(struct fabric *f, __u64 t)
{
	return !flist_empty(&f->timers) &&
	       flist_entry(f->timers.next, struct fabric_op,
			   timer_link)->due <= t;
}

unsigned int fabric_timer_run(struct fabric *f, __u64 now)
{
	unsigned int done = 0;

	while (fabric_timer_due_before(f, now)) {
		struct fabric_op *op = flist_entry(f->timers.next,
						   struct fabric_op,
						   timer_link);

		fabric_op_complete(op, VMMC_ST_OK, 0);
		done++;
	}
	return done;
}

/* Arm the timerfd for the earliest due op, or disarm it. */
int fabric_timer_arm(struct fabric *f)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (!flist_empty(&f->timers)) {
		__u64 due = flist_entry(f->timers.next, struct fabric_op,
					timer_link)->due;

		its.it_value.tv_sec = due / 1000000000ull;
		its.it_value.tv_nsec = due % 1000000000ull;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	} else if (!f->timerfd_armed) {
		return 0;
	}
	if (timerfd_settime(f->timer_fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		fab_log(f, LOG_ERR, "timerfd_settime failed");
		return -1;
	}
	f->timerfd_armed = !flist_empty(&f->timers);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * core_loc.h - libvmmc core: the prototypes one file of ulib/core/ calls in
 * another. Not installed, and included by no file outside ulib/core/ (the
 * socket stack includes only svc.h, the core's services to it; this
 * header includes utlb.h, the UTLB's own interface).
 */
#ifndef VMMC_CORE_LOC_H
#define VMMC_CORE_LOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmmc.h"
#include "utlb.h"

/* register.c: the UTLB's kernel side, ioctls on the endpoint; ctx is its fd */
extern const struct vmmc_utlb_ops vmmc_ep_utlb_ops;

/*
 * send.c: a SEND or REDIRECT descriptor whose memory [addr, addr + len)
 * the library tracks until its completion is reaped, half filled (see
 * there); vmmc_send() and vmmc_redirect() fill the rest.
 */
int __vmmc_tracked_sqe(struct vmmc_ep *ep, uintptr_t addr, size_t len,
		       bool write, uint64_t user_data, struct vmmc_sqe **out);

/* wait.c: set the wait counters' spin limit from the endpoint (at open) */
void vmmc_wait_setup(struct vmmc_ep *ep);
/* wait.c: measure the spin limit on this endpoint and store it (at open) */
void vmmc_spin_measure(struct vmmc_ep *ep);

#endif /* VMMC_CORE_LOC_H */

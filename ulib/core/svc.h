/* SPDX-License-Identifier: MIT */
/*
 * svc.h - what the core library offers the layers built on it (the stream
 * sockets, ulib/sock/) for the memory they own, beyond the public API of
 * vmmc.h. Not installed. A layer above includes vmmc.h and this header,
 * never the core's private ones (core_loc.h, utlb.h): it sees no UTLB
 * struct.
 *
 * Contract. Every call takes the endpoint the memory is used on and
 * returns 0 or -errno; none blocks or sleeps beyond the one pin or unpin
 * ioctl it may make (a UTLB hit makes none). One thread at a time per
 * endpoint, as the rest of the core. The core decides no numbers for the
 * caller: how many zero-copy buffers may stay pinned is the caller's to
 * say (vmmc_svc_zc_budget); until it does, there is no zero-copy class.
 *
 * Two classes of pin, besides the evictable cache of vmmc_send(),
 * vmmc_redirect() and vmmc_pin*():
 *
 *   locked  memory of the layer's own (a socket's control page, its
 *           staging ring): pinned read-only as one range, never evicted,
 *           until vmmc_svc_unpin_locked(). Pin whole VMMC_SVC_GRANULE
 *           granules of memory no one else shares: the kernel drops a
 *           whole pin when any page of it is unmapped. If the kernel drops
 *           translations (utlb_gen moves), the range is pinned again at
 *           its next use (vmmc_send() or vmmc_pin() of it), or that use
 *           fails: never quietly.
 *   zc      a caller's buffer that receives by redirection: pinned for
 *           write, kept pinned for the next receive into it, evicted only
 *           to make room for another zc buffer, and bounded by the budget.
 */
#ifndef VMMC_SVC_H
#define VMMC_SVC_H

#include <stddef.h>
#include <stdint.h>

#include "vmmc.h"

/* Pins are rounded out to this many bytes (utlb.h's granule). */
#define VMMC_SVC_GRANULE	(64u << 10)

/*
 * Pin [addr, addr + len) as one locked range: 0, -EINVAL (no endpoint,
 * NULL, 0 bytes), -EBUSY (it overlaps another locked range) or the
 * kernel's error (-EFAULT, -ENOMEM: RLIMIT_MEMLOCK, -ENOSPC: no UTLB
 * room). Cached ranges it overlaps leave the cache.
 */
int vmmc_svc_pin_locked(struct vmmc_ep *ep, const void *addr, size_t len);
/* Undo vmmc_svc_pin_locked() of the range starting at @addr: 0 or -ENOENT. */
int vmmc_svc_unpin_locked(struct vmmc_ep *ep, const void *addr);

/*
 * Pin the buffer [addr, addr + len) for write in the zc class (a hit of
 * any class serves): 0, -ENOBUFS (over the budget, or room only by
 * evicting a pin of another class), -EBUSY (it overlaps a locked range),
 * -EINVAL, or the kernel's error (-EFAULT: not writable memory).
 */
int vmmc_svc_pin_zc(struct vmmc_ep *ep, void *addr, size_t len);
/*
 * The zc budget: at most @ranges buffers and @pages pages pinned at once
 * (0, 0: none). Idle zc pins over a smaller budget are unpinned now.
 */
void vmmc_svc_zc_budget(struct vmmc_ep *ep, uint32_t ranges, uint32_t pages);
/* Unpin every idle zc buffer (the memory is wanted elsewhere): how many. */
int vmmc_svc_zc_drop(struct vmmc_ep *ep);
/* The zc buffers pinned now, and their pages. */
void vmmc_svc_zc_usage(const struct vmmc_ep *ep, uint32_t *ranges,
		       uint32_t *pages);

#endif /* VMMC_SVC_H */

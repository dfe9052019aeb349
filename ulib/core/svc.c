// SPDX-License-Identifier: MIT
/*
 * svc.c - the core's services to the stream sockets (svc.h): the UTLB's
 * LOCKED and ZC classes (utlb.h) behind calls that take the endpoint, so
 * that no layer above sees the UTLB's structs.
 */
#include <errno.h>

#include "svc.h"
#include "utlb.h"

_Static_assert(VMMC_SVC_GRANULE == VMMC_UTLB_GRANULE, "granule");

int vmmc_svc_pin_locked(struct vmmc_ep *ep, const void *addr, size_t len)
{
	if (!ep || !ep->utlb || !addr || !len)
		return -EINVAL;
	return vmmc_utlb_lock(ep->utlb, vmmc_utlb_gen(ep), (uintptr_t)addr,
			      len);
}

int vmmc_svc_unpin_locked(struct vmmc_ep *ep, const void *addr)
{
	if (!ep || !ep->utlb || !addr)
		return -EINVAL;
	return vmmc_utlb_unlock(ep->utlb, (uintptr_t)addr);
}

int vmmc_svc_pin_zc(struct vmmc_ep *ep, void *addr, size_t len)
{
	int id;

	if (!ep || !ep->utlb || !addr || !len)
		return -EINVAL;
	id = vmmc_utlb_get_cls(ep->utlb, vmmc_utlb_gen(ep), (uintptr_t)addr,
			       len, true, VMMC_UTLB_ZC);
	return id < 0 ? id : 0;
}

void vmmc_svc_zc_budget(struct vmmc_ep *ep, uint32_t ranges, uint32_t pages)
{
	vmmc_utlb_set_zc_budget(ep->utlb, ranges, pages);
}

int vmmc_svc_zc_drop(struct vmmc_ep *ep)
{
	return vmmc_utlb_drop_zc(ep->utlb);
}

void vmmc_svc_zc_usage(const struct vmmc_ep *ep, uint32_t *ranges,
		       uint32_t *pages)
{
	*ranges = ep->utlb ? ep->utlb->zc : 0;
	*pages = ep->utlb ? ep->utlb->zc_pages : 0;
}

// SPDX-License-Identifier: MIT
/*
 * wait.c - waiting for completions: a short spin on the mapped CQ, then
 * the kernel's interrupt-driven wait (VMMC_IOC_WAIT). The competitive
 * spin limit (calibrated against the interrupt cost) comes with the
 * notification work; until then the spin is a fixed number of polls.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "vmmc.h"

#define VMMC_SPIN_POLLS	1000

int vmmc_ep_wait(struct vmmc_ep *ep, uint32_t timeout_ms)
{
	struct vmmc_wait w = { .timeout_ms = timeout_ms };

	if (ioctl(ep->fd, VMMC_IOC_WAIT, &w) < 0)
		return -errno;
	return 0;
}

int vmmc_wait_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out,
		  uint32_t timeout_ms)
{
	struct vmmc_cqe *cqe;
	int i, err;

	for (;;) {
		for (i = 0; i < VMMC_SPIN_POLLS; i++) {
			cqe = vmmc_peek_cqe(ep);
			if (cqe) {
				*out = *cqe;
				vmmc_cqe_seen(ep);
				return 0;
			}
		}
		if (!timeout_ms)
			return -ETIMEDOUT;
		err = vmmc_ep_wait(ep, timeout_ms);
		if (err)
			return err;
	}
}

// SPDX-License-Identifier: MIT
/*
 * register.c - the setup calls of deliberate update, each one ioctl on the
 * endpoint: export and unexport memory, import and unimport other nodes'
 * exports, and the UTLB's pin and unpin (the ops utlb.c calls on a miss).
 * Every function returns 0 or -errno (the kernel's, see uapi/vmmc.h) and
 * never sets errno.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "core_loc.h"

#define VMMC_EXPORT_TRIES	8

int vmmc_export(struct vmmc_ep *ep, void *buf, size_t len, uint32_t name,
		uint64_t perm_nodes, uint32_t *export_id)
{
	return vmmc_export_key(ep, buf, len, name, perm_nodes, 0, export_id);
}

int vmmc_export_key(struct vmmc_ep *ep, void *buf, size_t len,
		    uint32_t name, uint64_t perm_nodes, uint64_t key,
		    uint32_t *export_id)
{
	struct vmmc_export_req req = {
		.addr = (uintptr_t)buf,
		.len = len,
		.perm_nodes = perm_nodes,
		.name = name,
		.key = key,
	};

	int tries;

	if (!ep || !export_id)
		return -EINVAL;
	/*
	 * EAGAIN: the pages changed while the kernel pinned them (its own
	 * write fault broke a copy-on-write share after fork); again.
	 */
	for (tries = 0; tries < VMMC_EXPORT_TRIES; tries++) {
		if (!ioctl(ep->fd, VMMC_IOC_EXPORT, &req)) {
			*export_id = req.export_id;
			return 0;
		}
		if (errno != EAGAIN)
			break;
	}
	return -errno;
}

int vmmc_unexport(struct vmmc_ep *ep, uint32_t export_id)
{
	if (!ep)
		return -EINVAL;
	if (ioctl(ep->fd, VMMC_IOC_UNEXPORT, &export_id) < 0)
		return -errno;
	return 0;
}

int vmmc_import(struct vmmc_ep *ep, uint32_t node, uint32_t name,
		uint32_t *import_id, uint64_t *len)
{
	return vmmc_import_key(ep, node, name, 0, import_id, len);
}

int vmmc_import_key(struct vmmc_ep *ep, uint32_t node, uint32_t name,
		    uint64_t key, uint32_t *import_id, uint64_t *len)
{
	struct vmmc_import_req req = {
		.node = node, .name = name, .key = key,
	};

	if (!ep || !import_id)
		return -EINVAL;
	if (ioctl(ep->fd, VMMC_IOC_IMPORT, &req) < 0)
		return -errno;
	*import_id = req.import_id;
	if (len)
		*len = req.len;
	return 0;
}

int vmmc_unimport(struct vmmc_ep *ep, uint32_t import_id)
{
	if (!ep)
		return -EINVAL;
	if (ioctl(ep->fd, VMMC_IOC_UNIMPORT, &import_id) < 0)
		return -errno;
	return 0;
}

static int ep_pin(void *ctx, uintptr_t addr, size_t len, uint32_t flags,
		  uint32_t *slot, uint32_t *nr_slots)
{
	struct vmmc_pin_req req = { .addr = addr, .len = len, .flags = flags };

	if (ioctl((int)(intptr_t)ctx, VMMC_IOC_PIN, &req) < 0)
		return -errno;
	*slot = req.slot;
	*nr_slots = req.nr_slots;
	return 0;
}

static int ep_unpin(void *ctx, uint32_t slot)
{
	struct vmmc_unpin_req req = { .slot = slot };

	if (ioctl((int)(intptr_t)ctx, VMMC_IOC_UNPIN, &req) < 0)
		return -errno;
	return 0;
}

const struct vmmc_utlb_ops vmmc_ep_utlb_ops = {
	.pin = ep_pin,
	.unpin = ep_unpin,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * fake_kmod.c - the fake guest's kmod half for NIC version 2: export and
 * import tables, UTLB entries, the kernel -> NIC mailbox, plus ulib's
 * NQ consumer and SEND descriptors
 *
 * Contract: mirrors what kmod does (write an entry, then state, then
 * bump gen; ring VMMC_DB_CTRL; wait for ack_gen), so the fabric is tested
 * against the protocol of uapi/vmmc.h, not against its own code.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "fake_guest.h"

/*
 * Pages base .. base + nr_pages - 1; scattered: in reverse order, so a
 * buffer is contiguous for its owner but not in guest-physical memory.
 */
void fg_buf_init(struct fg_buf *b, struct fg *g, __u64 base,
		 unsigned int nr_pages, unsigned int first_off, bool scatter)
{
	unsigned int i;

	b->g = g;
	b->nr_pages = nr_pages;
	b->first_off = first_off;
	for (i = 0; i < nr_pages; i++)
		b->pages[i] = base + (__u64)(scatter ? nr_pages - 1 - i : i) *
				     VMMC_PAGE_SIZE;
}

/* The byte at offset @off of the buffer (after first_off). */
__u8 *fg_buf_at(const struct fg_buf *b, __u64 off)
{
	off += b->first_off;
	return b->g->ram + b->pages[off / VMMC_PAGE_SIZE] +
	       off % VMMC_PAGE_SIZE;
}

bool fg_kcmd(struct fg *g, const struct vmmc_kcmd *cmd,
	     struct vmmc_kresp *resp, int timeout_ms)
{
	__u32 seq = g->ctrl->cmd_seq + 1;
	__u64 end = fg_now_ms() + (__u64)timeout_ms;

	memcpy(&g->ctrl->cmd, cmd, sizeof(*cmd));
	/* Partner: the NIC's acquire of cmd_seq before it reads cmd. */
	vmmc_store_release(&g->ctrl->cmd_seq, seq);
	fg_ring(g, VMMC_DB_CTRL);
	/* Partner: the NIC's release of resp_seq after writing resp. */
	while (vmmc_load_acquire(&g->ctrl->resp_seq) != seq) {
		if (fg_now_ms() > end)
			return false;
		usleep(50);
	}
	memcpy(resp, &g->ctrl->resp, sizeof(*resp));
	return true;
}

struct vmmc_export *fg_kexport(struct fg *g, unsigned int id)
{
	return (struct vmmc_export *)(g->sram + VMMC_SRAM_EXPORTS) + id;
}

struct vmmc_import *fg_kimport(struct fg_ep *ep, unsigned int idx)
{
	return (struct vmmc_import *)(ep->g->sram + VMMC_SRAM_IMPORTS) +
	       ep->id * VMMC_MAX_IMPORTS + idx;
}

static bool wait_export_ack(struct vmmc_export *e, __u64 gen)
{
	__u64 end = fg_now_ms() + 2000;

	while (vmmc_load_acquire(&e->ack_gen) != gen)
		if (fg_now_ms() > end)
			return false;
	return true;
}

bool fg_export_state(struct fg *g, unsigned int id, __u32 state)
{
	struct vmmc_export *e = fg_kexport(g, id);
	__u64 gen = e->gen + 1;

	vmmc_store_release(&e->state, state);
	vmmc_store_release(&e->gen, gen);
	/* as kmod's vmmc_export_gen(): the table changed */
	vmmc_store_release(&g->ctrl->exp_seq, g->ctrl->exp_seq + 1);
	fg_ring(g, VMMC_DB_CTRL);
	return wait_export_ack(e, gen);
}

/* kmod's VMMC_IOC_EXPORT: page table, entry, state ACTIVE, new gen. */
bool fg_export(struct fg *g, unsigned int id, __u32 name, __u32 owner,
	       const struct fg_buf *b, __u64 len, __u64 perm)
{
	struct vmmc_export *e = fg_kexport(g, id);

	memcpy(g->ram + FG_PTAB(id), b->pages, b->nr_pages * sizeof(__u64));
	e->name = name;
	e->owner_ep = owner;
	e->first_off = b->first_off;
	e->len = len;
	e->perm_nodes = perm;
	e->pages_addr = FG_PTAB(id);
	e->nr_pages = b->nr_pages;
	e->key = 0;
	return fg_export_state(g, id, VMMC_EXPORT_ACTIVE);
}

/* kmod's VMMC_IOC_PIN: the buffer's pages in slots slot, slot + 1, ... */
void fg_pin(struct fg_ep *ep, __u32 slot, const struct fg_buf *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_pages; i++)
		vmmc_write_once(&ep->utlb[slot + i],
				b->pages[i] | VMMC_UTLB_VALID);
}

__u32 fg_nq_prod(struct fg_ep *ep)
{
	return vmmc_load_acquire(&ep->nq->prod);
}

bool fg_wait_nqe(struct fg_ep *ep, struct vmmc_nqe *nqe, int timeout_ms)
{
	__u64 end = fg_now_ms() + (__u64)timeout_ms;

	while (fg_nq_prod(ep) == ep->nq_cons) {
		if (fg_now_ms() > end)
			return false;
		usleep(100);
	}
	memcpy(nqe, &ep->nqes[ep->nq_cons & (VMMC_NQ_ENTRIES - 1)],
	       sizeof(*nqe));
	ep->nq_cons++;
	vmmc_store_release(&ep->nq->cons, ep->nq_cons);
	return true;
}

void fg_sqe_send(struct vmmc_sqe *s, __u64 user_data, __u32 import,
		 __u64 dst_offset, __u32 slot, __u32 off, __u32 len,
		 bool notify)
{
	memset(s, 0, sizeof(*s));
	s->op = VMMC_OP_SEND;
	s->flags = notify ? VMMC_SQF_NOTIFY : 0;
	s->user_data = user_data;
	s->import = import;
	s->dst_offset = dst_offset;
	s->src_slot = slot;
	s->src_off = off;
	s->len = len;
}

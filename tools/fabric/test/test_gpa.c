// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the NIC's guest-physical map (fabric_gpa()). The fabric
 * runs with --node ...,RAMBYTES:LOW, so that guest-physical 4 GiB + x is
 * RAM-file offset LOW + x, as QEMU's pc machine maps RAM past the PCI
 * hole. A SEND whose source pages, destination export pages and sender's
 * event region all lie from 4 GiB up moves the right bytes between the
 * right file offsets and completes in the right CQ; a UTLB entry in the
 * hole (at LOW, just below 4 GiB) or past the RAM's end completes
 * BAD_SLOT; an export page in the hole REVOKED; an event region that
 * crosses from RAM into the hole is never written (no CQE). Then the
 * guest reconnects (a reboot): its NIC kept every export gen.
 */
#include <string.h>
#include <unistd.h>

#include "fake_guest.h"

#define G4		(1ull << 32)
#define PG		VMMC_PAGE_SIZE

/* The file offset of high guest-physical 4 GiB + @x. */
static __u8 *hi(struct fg *g, __u64 low, __u64 x)
{
	return g->ram + low + x;
}

static void send(struct fg_ep *ep, __u64 ud, __u32 imp, __u32 slot,
		 __u32 len, __u32 st, const char *what)
{
	struct vmmc_sqe s;

	fg_sqe_send(&s, ud, imp, 0, slot, 0, len, false);
	fg_submit(ep, &s);
	fg_expect(ep, ud, VMMC_OP_SEND, st, 0, what);
}

static bool import(struct fg_ep *ep, unsigned int row, __u32 name)
{
	struct vmmc_import *imp = fg_kimport(ep, row);
	struct vmmc_kresp r;
	struct vmmc_kcmd c;

	memset(&c, 0, sizeof(c));
	c.op = VMMC_KCMD_IMPORT;
	c.name = name;
	c.ep = ep->id;
	if (!fg_kcmd(ep->g, &c, &r, 2000) || r.status != VMMC_ST_OK)
		return false;
	imp->node = 0;
	imp->export_id = r.export_id;
	imp->export_gen = r.export_gen;
	imp->len = r.len;
	vmmc_store_release(&imp->state, 1u);
	return true;
}

/*
 * A node whose guest goes away and comes back (a reboot) keeps its export
 * gens: an import another node made before must not reach the new
 * guest's export in the same slot.
 */
static void reboot_keeps_gens(struct fg_env *env, struct fg *g)
{
	__u64 gen0 = fg_kexport(g, 0)->gen, gen1 = fg_kexport(g, 1)->gen;

	fg_close(g);
	fg_sleep_ms(200);	/* the fabric sees the disconnect first */
	if (!fg_connect(g, env->sock[0], env->ram[0], env->ram_bytes, 0))
		return;
	t_check(gen0 > 0 && fg_kexport(g, 0)->gen == gen0 &&
		fg_kexport(g, 1)->gen == gen1 &&
		fg_kexport(g, 0)->ack_gen == gen0 &&
		fg_kexport(g, 0)->state == VMMC_EXPORT_FREE,
		"reboot: the new guest's NIC keeps every export gen (%llu, %llu; found %llu, %llu)",
		(unsigned long long)gen0, (unsigned long long)gen1,
		(unsigned long long)fg_kexport(g, 0)->gen,
		(unsigned long long)fg_kexport(g, 1)->gen);
}

void test_gpa(struct fg_env *env, struct fg *g, __u64 low)
{
	__u64 high = g->ram_bytes - low, i;
	struct fg_buf src, dst, hole;
	struct fg_ep s, o, bad;
	struct vmmc_sqe sqe;
	struct vmmc_cqe cqe;
	bool ok;

	ok = fg_ep_open(&s, g, 1, FG_EVQ(1)) && fg_ep_open(&o, g, 2, FG_EVQ(2));
	if (!t_check(ok && low < g->ram_bytes && high >= (1u << 20),
		     "gpa: endpoints open, RAM split %llu low + %llu high",
		     (unsigned long long)low, (unsigned long long)high))
		return;
	/* the sender's CQ and NQ move to 4 GiB + 512 KiB */
	s.cq = (struct vmmc_ring_hdr *)hi(g, low, 0x80000 + VMMC_CQ_HDR_OFF);
	s.cqes = (struct vmmc_cqe *)hi(g, low, 0x80000 + VMMC_CQ_ENTRIES_OFF);
	s.nq = (struct vmmc_ring_hdr *)hi(g, low, 0x80000 + VMMC_NQ_HDR_OFF);
	s.nqes = (struct vmmc_nqe *)hi(g, low, 0x80000 + VMMC_NQ_ENTRIES_OFF);
	memset(hi(g, low, 0x80000), 0, VMMC_EVQ_SIZE);
	vmmc_store_release(&s.ctx->evq_addr, G4 + 0x80000);

	/* source: two pages at 4 GiB; destination: two pages at 4 GiB + 64K */
	memset(&src, 0, sizeof(src));
	src.g = g;
	src.nr_pages = 2;
	src.pages[0] = G4;
	src.pages[1] = G4 + PG;
	dst = src;
	dst.pages[0] = G4 + 0x10000;
	dst.pages[1] = G4 + 0x11000;
	for (i = 0; i < 2 * PG; i++) {
		*hi(g, low, i) = (__u8)(i * 7 + 3);
		*hi(g, low, 0x10000 + i) = 0xee;
	}
	memset(g->ram + 0x10000, 0xdd, 2 * PG);	/* the identity map's target */
	fg_pin(&s, 0, &src);
	t_check(fg_export(g, 0, 0x6100, o.id, &dst, 2 * PG, 1) &&
		import(&s, 0, 0x6100), "gpa: export of high pages imported");
	send(&s, 1, 0, 0, 2 * PG, VMMC_ST_OK,
	     "gpa: SEND from high pages into high pages, CQE in a high event region: OK");
	t_check(!memcmp(hi(g, low, 0x10000), hi(g, low, 0), 2 * PG),
		"gpa: the bytes landed at file offset LOW + 64 KiB");
	for (i = 0; i < 2 * PG && g->ram[0x10000 + i] == 0xdd; i++)
		;
	t_check(i == 2 * PG, "gpa: file offset 64 KiB (gpa as an offset) untouched");

	/* refusals: the hole and past the end */
	vmmc_write_once(&s.utlb[10], low | VMMC_UTLB_VALID);
	vmmc_write_once(&s.utlb[11], (G4 - PG) | VMMC_UTLB_VALID);
	vmmc_write_once(&s.utlb[12], (G4 + high) | VMMC_UTLB_VALID);
	vmmc_write_once(&s.utlb[13], (G4 + high - PG) | VMMC_UTLB_VALID);
	vmmc_write_once(&s.utlb[14], (low - PG) | VMMC_UTLB_VALID);
	vmmc_write_once(&s.utlb[20], (G4 + high - PG) | VMMC_UTLB_VALID);
	vmmc_write_once(&s.utlb[21], low | VMMC_UTLB_VALID);
	send(&s, 2, 0, 10, 100, VMMC_ST_BAD_SLOT, "gpa: source at LOW (the hole's first page) -> BAD_SLOT");
	send(&s, 3, 0, 11, 100, VMMC_ST_BAD_SLOT, "gpa: source just below 4 GiB -> BAD_SLOT");
	send(&s, 4, 0, 12, 100, VMMC_ST_BAD_SLOT, "gpa: source just past the RAM's end -> BAD_SLOT");
	send(&s, 5, 0, 13, 100, VMMC_ST_OK, "gpa: source in the RAM's last page -> OK");
	send(&s, 6, 0, 14, 100, VMMC_ST_OK, "gpa: source in the last page below the hole -> OK");
	send(&s, 7, 0, 20, 2 * PG, VMMC_ST_BAD_SLOT,
	     "gpa: a SEND from the RAM's last page on into a hole page -> BAD_SLOT");

	memset(&hole, 0, sizeof(hole));
	hole.g = g;
	hole.nr_pages = 1;
	hole.pages[0] = low;
	t_check(fg_export(g, 1, 0x6101, o.id, &hole, 100, 1) &&
		import(&s, 1, 0x6101), "gpa: export of a hole page imported");
	send(&s, 8, 1, 0, 100, VMMC_ST_REVOKED, "gpa: SEND into a page in the hole -> REVOKED");

	/* an event region crossing from RAM into the hole is never used */
	ok = fg_ep_open(&bad, g, 3, low - 2 * PG);
	fg_sqe_nop(&sqe, 9);
	fg_submit(&bad, &sqe);
	t_check(ok && !fg_wait_cqe(&bad, &cqe, 300) &&
		vmmc_load_acquire(&bad.cq->prod) == 0,
		"gpa: an event region crossing into the hole gets no CQE");
	fg_ep_set_state(&bad, VMMC_EP_FENCED);
	fg_export_state(g, 0, VMMC_EXPORT_FREE);
	fg_export_state(g, 1, VMMC_EXPORT_FREE);
	fg_ep_set_state(&s, VMMC_EP_FENCED);
	fg_ep_set_state(&o, VMMC_EP_FENCED);
	reboot_keeps_gens(env, g);
}

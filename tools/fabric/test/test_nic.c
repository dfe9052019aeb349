// SPDX-License-Identifier: GPL-2.0
/*
 * Description: one node's NIC: NOP, bad descriptors, interrupts only when
 * armed, delayed NOPs, sleep/doorbell, CQ full, broken SQ, bad evq_addr,
 * fences, spurious doorbells and idle CPU.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake_guest.h"

#define EVQ(i)	FG_EVQ(i)

static void test_bad_descs(struct fg_ep *ep)
{
	struct vmmc_sqe s;

	fg_sqe_nop(&s, 0x100);
	s.op = VMMC_OP_NR;
	fg_submit(ep, &s);
	fg_expect(ep, 0x100, VMMC_OP_NR, VMMC_ST_BAD_OP, 0, "unknown op -> BAD_OP");
	fg_sqe_nop(&s, 0x101);
	s.op = 0xff;
	fg_submit(ep, &s);
	fg_expect(ep, 0x101, 0xff, VMMC_ST_BAD_OP, 0, "op 0xff -> BAD_OP");
	fg_sqe_nop(&s, 0x102);
	s.flags = 0x80;
	fg_submit(ep, &s);
	fg_expect(ep, 0x102, 0, VMMC_ST_BAD_FLAGS, 0, "unknown flag -> BAD_FLAGS");
	fg_sqe_nop(&s, 0x103);
	s.reserved0 = 1;
	fg_submit(ep, &s);
	fg_expect(ep, 0x103, 0, VMMC_ST_BAD_FLAGS, 0, "reserved0 -> BAD_FLAGS");
	fg_sqe_nop(&s, 0x104);
	s.src_slot = 1;
	fg_submit(ep, &s);
	fg_expect(ep, 0x104, 0, VMMC_ST_BAD_FLAGS, 0, "NOP src_slot -> BAD_FLAGS");
	fg_sqe_nop(&s, 0x105);
	s.reserved2[1] = 1ull << 63;
	fg_submit(ep, &s);
	fg_expect(ep, 0x105, 0, VMMC_ST_BAD_FLAGS, 0, "reserved2[1] -> BAD_FLAGS");
	fg_sqe_nop(&s, 0x106);
	s.len = 1;
	fg_submit(ep, &s);
	fg_expect(ep, 0x106, 0, VMMC_ST_BAD_LEN, 0, "NOP len 1 -> BAD_LEN");
	fg_sqe_ping(ep, &s, 0x107, 0, 5);
	s.len = 4096;
	fg_submit(ep, &s);
	fg_expect(ep, 0x107, 1, VMMC_ST_BAD_LEN, 0, "PING len -> BAD_LEN");
	fg_sqe_ping(ep, &s, 0x108, 0, 5);
	s.flags = VMMC_SQF_DELAY;
	fg_submit(ep, &s);
	fg_expect(ep, 0x108, 1, VMMC_ST_BAD_FLAGS, 0, "PING with DELAY -> BAD_FLAGS");
	fg_sqe_nop(&s, 0x109);
	s.flags = VMMC_SQF_DELAY;
	s.imm = VMMC_NOP_MAX_DELAY_US + 1;
	fg_submit(ep, &s);
	fg_expect(ep, 0x109, 0, VMMC_ST_BAD_ARG, 0, "NOP delay > 1 s -> BAD_ARG");
	fg_sqe_ping(ep, &s, 0x10a, 2, 5);
	fg_submit(ep, &s);
	fg_expect(ep, 0x10a, 1, VMMC_ST_BAD_NODE, 0, "PING dst 2 of 2 -> BAD_NODE");
	fg_sqe_ping(ep, &s, 0x10b, 0xffffffff, 5);
	fg_submit(ep, &s);
	fg_expect(ep, 0x10b, 1, VMMC_ST_BAD_NODE, 0, "PING dst ~0 -> BAD_NODE");
}

static void test_irq(struct fg_ep *ep)
{
	struct fg *g = ep->g;
	struct vmmc_sqe s;
	__u64 irqs;

	fg_irq_count(g, VMMC_IRQ_EVENT);
	fg_sqe_nop(&s, 0x200);
	fg_submit(ep, &s);
	fg_expect(ep, 0x200, 0, VMMC_ST_OK, 0, "NOP, not armed");
	fg_sleep_ms(20);
	t_check(fg_irq_count(g, VMMC_IRQ_EVENT) == 0, "no interrupt when not armed");

	irqs = ep->ctx->irqs;
	vmmc_store_release(&ep->ctx->irq_armed, 1u);
	fg_submit(ep, &s);
	fg_expect(ep, 0x200, 0, VMMC_ST_OK, 0, "NOP, armed");
	fg_sleep_ms(20);
	t_check(fg_irq_count(g, VMMC_IRQ_EVENT) == 1 &&
		vmmc_load_acquire(&ep->ctx->irq_armed) == 0 &&
		ep->ctx->irqs == irqs + 1,
		"one interrupt when armed; irq_armed reset; ep irqs counted");
	fg_submit(ep, &s);
	fg_expect(ep, 0x200, 0, VMMC_ST_OK, 0, "NOP after the interrupt");
	fg_sleep_ms(20);
	t_check(fg_irq_count(g, VMMC_IRQ_EVENT) == 0, "no second interrupt without re-arming");
}

static void test_delay(struct fg_ep *ep)
{
	struct vmmc_cqe c;
	struct vmmc_sqe s;
	__u64 t0 = fg_now_ms();

	fg_sqe_nop(&s, 0xa);
	s.flags = VMMC_SQF_DELAY;
	s.imm = 300000;
	fg_submit(ep, &s);
	fg_sqe_nop(&s, 0xb);
	fg_submit(ep, &s);
	t_check(fg_wait_cqe(ep, &c, 3000) && c.user_data == 0xb &&
		c.status == VMMC_ST_OK && fg_now_ms() - t0 < 250,
		"undelayed NOP completes first, not stalled by a delayed one");
	t_check(fg_wait_cqe(ep, &c, 3000) && c.user_data == 0xa &&
		c.status == VMMC_ST_OK && c.nic_ns >= 300000000ull &&
		fg_now_ms() - t0 >= 300 && c.nic_ns < 2000000000ull,
		"delayed NOP completes after 300 ms (nic_ns %llu)",
		(unsigned long long)c.nic_ns);
}

static void test_sleep(struct fg_ep *ep)
{
	struct fg *g = ep->g;
	struct vmmc_sqe s;
	__u64 db;

	t_check(fg_wait_sleeping(g, 2000), "NIC sleeps when idle");
	/* Post without the doorbell: a sleeping NIC must not see it. */
	fg_sqe_nop(&s, 0x300);
	memcpy(&ep->sqes[ep->sq_prod & (VMMC_SQ_ENTRIES - 1)], &s, sizeof(s));
	ep->sq_prod++;
	vmmc_store_release(&ep->sq->prod, ep->sq_prod);
	fg_sleep_ms(50);
	t_check(fg_cq_prod(ep) == ep->cq_cons, "sleeping NIC does not poll");
	db = g->st->counters.doorbells;
	fg_ring(g, VMMC_DB_SQ);
	fg_expect(ep, 0x300, 0, VMMC_ST_OK, 0, "doorbell wakes the NIC");
	t_check(g->st->counters.doorbells == db + 1 && g->st->counters.sleeps > 0,
		"doorbells and sleeps counted");
	t_check(fg_wait_sleeping(g, 2000), "NIC sleeps again");
	fg_submit(ep, &s);
	fg_expect(ep, 0x300, 0, VMMC_ST_OK, 0, "submit rings the doorbell when SLEEPING");
}

static void test_cq_full(struct fg_ep *ep)
{
	struct vmmc_sqe s;
	__u64 end;
	unsigned int i;
	__u32 cons0 = ep->cq_cons;

	fg_sqe_nop(&s, 0x400);
	for (i = 0; i < VMMC_CQ_ENTRIES; i++) {
		while (ep->sq_prod - vmmc_load_acquire(&ep->sq->cons) >=
		       VMMC_SQ_ENTRIES)
			;
		fg_submit(ep, &s);
	}
	end = fg_now_ms() + 3000;
	while (fg_cq_prod(ep) - cons0 < VMMC_CQ_ENTRIES && fg_now_ms() < end)
		fg_sleep_ms(1);
	t_check(fg_cq_prod(ep) - cons0 == VMMC_CQ_ENTRIES, "128 NOPs fill the CQ");
	fg_sqe_nop(&s, 0x401);
	fg_submit(ep, &s);
	fg_sleep_ms(50);
	t_check(fg_cq_prod(ep) - cons0 == VMMC_CQ_ENTRIES &&
		vmmc_load_acquire(&ep->sq->cons) == ep->sq_prod - 1,
		"full CQ: no overwrite, SQE left in the SQ");
	ep->cq_cons += VMMC_CQ_ENTRIES;
	vmmc_store_release(&ep->cq->cons, ep->cq_cons);
	/* No doorbell: the NIC re-polls a stalled endpoint by itself. */
	fg_expect(ep, 0x401, 0, VMMC_ST_OK, 0, "freeing CQ slots resumes the SQ");
}

static void test_broken(struct fg_ep *ep, struct fg_ep *bad1, struct fg_ep *bad2)
{
	struct fg *g = ep->g;
	__u32 cons = vmmc_load_acquire(&ep->sq->cons);
	struct vmmc_sqe s;

	vmmc_store_release(&ep->sq->prod, cons + 1000);
	fg_ring(g, VMMC_DB_SQ);
	fg_sleep_ms(50);
	t_check(vmmc_load_acquire(&ep->sq->cons) == cons &&
		fg_cq_prod(ep) == ep->cq_cons,
		"SQ prod - cons > entries: nothing consumed or completed");
	ep->sq_prod = cons;
	fg_sqe_nop(&s, 0x500);
	fg_submit(ep, &s);
	fg_expect(ep, 0x500, 0, VMMC_ST_OK, 0, "a sane prod revives the SQ");

	t_check(fg_ep_open(bad1, g, 5, g->ram_bytes) &&
		fg_ep_open(bad2, g, 6, EVQ(6) + 16),
		"endpoints with bad evq_addr are acked");
	fg_submit(bad1, &s);
	fg_submit(bad2, &s);
	fg_sleep_ms(50);
	t_check(vmmc_load_acquire(&bad1->sq->cons) == 0 &&
		vmmc_load_acquire(&bad2->sq->cons) == 0,
		"bad evq_addr (out of RAM, unaligned): SQ not consumed");
	bad2->evq = EVQ(6);
	bad2->cq = (struct vmmc_ring_hdr *)(g->ram + EVQ(6));
	bad2->cqes = (struct vmmc_cqe *)(g->ram + EVQ(6) + VMMC_CQ_ENTRIES_OFF);
	memset(g->ram + EVQ(6), 0, VMMC_EVQ_SIZE);
	vmmc_write_once(&bad2->ctx->evq_addr, EVQ(6));
	fg_ring(g, VMMC_DB_SQ);
	fg_expect(bad2, 0x500, 0, VMMC_ST_OK, 0, "fixed evq_addr: the SQ proceeds");
}

static void test_fence(struct fg_ep *ep)
{
	struct fg *g = ep->g;
	struct vmmc_sqe s;
	__u64 acks = g->st->counters.ctrl_acks, t0;
	__u32 prod;

	fg_irq_count(g, VMMC_IRQ_CTRL);
	/*
	 * The longest delay the NIC takes, so that the fence lands before
	 * it runs out even when the host stalls this process; the check
	 * after the fence says so if it did not.
	 */
	fg_sqe_nop(&s, 0x600);
	s.flags = VMMC_SQF_DELAY;
	s.imm = VMMC_NOP_MAX_DELAY_US;
	t0 = fg_now_ms();
	fg_submit(ep, &s);
	fg_sleep_ms(20);
	prod = fg_cq_prod(ep);
	t_check(fg_ep_set_state(ep, VMMC_EP_FENCED), "fence acked (ack_gen == gen)");
	t_check(fg_cq_prod(ep) == prod && fg_now_ms() - t0 < 900,
		"the fence came before the delayed NOP's time (%llu ms)",
		(unsigned long long)(fg_now_ms() - t0));
	fg_sleep_ms(10);
	t_check(fg_irq_count(g, VMMC_IRQ_CTRL) >= 1 &&
		g->st->counters.ctrl_acks == acks + 1,
		"fence raised VMMC_IRQ_CTRL and counted ctrl_acks");
	fg_sqe_nop(&s, 0x601);
	fg_submit(ep, &s);
	/* past the delayed NOP's time, with room for a late timer */
	while (fg_now_ms() - t0 < VMMC_NOP_MAX_DELAY_US / 1000 + 300)
		fg_sleep_ms(20);
	t_check(fg_cq_prod(ep) == prod &&
		vmmc_load_acquire(&ep->sq->cons) == ep->sq_prod - 1,
		"fenced endpoint: delayed NOP dropped, SQ not consumed");
	t_check(fg_ep_open(ep, g, ep->id, ep->evq), "re-activate the endpoint");
	fg_sqe_nop(&s, 0x602);
	fg_submit(ep, &s);
	fg_expect(ep, 0x602, 0, VMMC_ST_OK, 0, "re-activated endpoint works");
}

static void idle_cpu(struct fg_env *env)
{
	unsigned long long t0 = 0, t1 = 0;
	char path[64];
	FILE *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", env->fabric_pid);
	for (i = 0; i < 2; i++) {
		unsigned long long ut, st;

		p = fopen(path, "r");
		if (!p || fscanf(p, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				 &ut, &st) != 2) {
			t_check(false, "read %s", path);
			if (p)
				fclose(p);
			return;
		}
		fclose(p);
		if (i == 0) {
			t0 = ut + st;
			fg_sleep_ms(2000);
		} else {
			t1 = ut + st;
		}
	}
	t_check(t1 - t0 <= 4, "idle CPU over 2 s: %llu ticks (<= 2%%)", t1 - t0);
}

void test_nic(struct fg_env *env, struct fg *g)
{
	struct fg_ep ep, ep2, bad1, bad2;
	struct vmmc_sqe s;
	unsigned int v;

	fg_drv(g, VMMC_DRV_UP);
	t_check(fg_ep_open(&ep, g, 1, EVQ(1)), "ep1 activated and acked");
	fg_sqe_nop(&s, 0x1234567890abcdefull);
	fg_submit(&ep, &s);
	fg_expect(&ep, 0x1234567890abcdefull, 0, VMMC_ST_OK, 0, "NOP completes OK");
	t_check(ep.ctx->descs == 1 && ep.ctx->cqes == 1 &&
		g->st->counters.descs >= 1, "descs and cqes counted");
	test_bad_descs(&ep);
	t_check(ep.ctx->desc_errors == 12, "desc_errors counted (%llu)",
		(unsigned long long)ep.ctx->desc_errors);
	test_irq(&ep);
	test_delay(&ep);
	t_check(fg_ep_open(&ep2, g, 63, EVQ(63)), "ep63 activated");
	fg_sqe_nop(&s, 63);
	fg_submit(&ep2, &s);
	fg_expect(&ep2, 63, 0, VMMC_ST_OK, 0, "last endpoint slot works");
	test_sleep(&ep);
	test_cq_full(&ep);
	test_broken(&ep, &bad1, &bad2);
	test_fence(&ep);
	for (v = 0; v < VMMC_NR_VECTORS; v++) {
		fg_ring(g, v);
		fg_ring(g, v);
	}
	fg_sqe_nop(&s, 0x700);
	fg_submit(&ep2, &s);
	fg_expect(&ep2, 0x700, 0, VMMC_ST_OK, 0, "spurious doorbells on every vector are harmless");
	fg_wait_sleeping(g, 2000);
	idle_cpu(env);
}

/* Until the NIC shows SLEEPING (a sleep of either kind); false after 2 s. */
static bool sleeping_now(struct fg *g)
{
	__u64 end = fg_now_ms() + 2000;

	while (!(vmmc_read_once(&g->st->flags) & VMMC_NIC_F_SLEEPING))
		if (fg_now_ms() > end)
			return false;
	return true;
}

/*
 * With --recheck-ms (run.sh gives a long one, so that this side is never
 * late): a sleep after work ends with a second look. Each case plays a
 * guest whose barrier did not order its store before its load: the
 * store lands after the NIC went to sleep, and the load had seen nothing
 * to act on (no SLEEPING, so no doorbell; no entry, so the waiter slept).
 * With no second look, neither is ever served.
 */
void test_recheck(struct fg *g, const char *ctl)
{
	struct vmmc_sqe s;
	struct vmmc_cqe c;
	struct fg_ep ep;
	const char *want = "\nnode0 alive late_doorbells 1 late_irqs 1\n";
	const char *line;
	char out[4096];
	__u64 t0;
	bool ok;

	fg_drv(g, VMMC_DRV_UP);
	if (!t_check(fg_ep_open(&ep, g, 3, EVQ(3)), "ep3 activated"))
		return;
	fg_irq_count(g, VMMC_IRQ_EVENT);
	fg_sqe_nop(&s, 0x500);
	fg_submit(&ep, &s);
	fg_expect(&ep, 0x500, 0, VMMC_ST_OK, 0, "NOP completes");
	/* the NIC worked: its next sleep is the bounded one; be in it */
	t_check(sleeping_now(g), "NIC sleeps");
	fg_sleep_ms(20);
	fg_sqe_nop(&s, 0x501);
	memcpy(&ep.sqes[ep.sq_prod & (VMMC_SQ_ENTRIES - 1)], &s, sizeof(s));
	ep.sq_prod++;
	vmmc_store_release(&ep.sq->prod, ep.sq_prod);
	t0 = fg_now_ms();
	ok = fg_wait_cqe(&ep, &c, 3000) && c.user_data == 0x501 &&
	     c.status == VMMC_ST_OK;
	t_check(ok, "an entry published as the NIC fell asleep, no doorbell: taken at its second look (%llu ms)",
		(unsigned long long)(fg_now_ms() - t0));

	/* an entry the NIC published before it saw the waiter's arming */
	fg_sqe_nop(&s, 0x502);
	fg_submit(&ep, &s);
	t0 = fg_now_ms() + 2000;
	while (fg_cq_prod(&ep) == ep.cq_cons && fg_now_ms() < t0)
		usleep(100);
	t_check(fg_cq_prod(&ep) != ep.cq_cons && sleeping_now(g) &&
		fg_irq_count(g, VMMC_IRQ_EVENT) == 0,
		"NOP completed, no interrupt (not armed), NIC sleeps");
	fg_sleep_ms(20);
	vmmc_store_release(&ep.ctx->irq_armed, 1u);
	t0 = fg_now_ms();
	while (!fg_irq_count(g, VMMC_IRQ_EVENT) && fg_now_ms() < t0 + 3000)
		usleep(100);
	t0 = fg_now_ms() - t0;
	t_check(t0 < 3000 && vmmc_load_acquire(&ep.ctx->irq_armed) == 0,
		"a waiter armed after its entry came: interrupted at the second look (%llu ms), irq_armed reset",
		(unsigned long long)t0);
	fg_expect(&ep, 0x502, 0, VMMC_ST_OK, 0, "its entry");
	line = fg_ctl(ctl, "show\n", out, sizeof(out)) ?
	       strstr(out, "\nnode0 ") : NULL;
	if (!line)
		line = "\nnone";
	t_check(!strncmp(line, want, strlen(want)),
		"ctl show counts one late doorbell and one late interrupt (%.*s)",
		(int)strcspn(line + 1, "\n"), line + 1);
}

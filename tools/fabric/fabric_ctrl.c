// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_ctrl.c - each NIC's control plane: the kernel -> NIC mailbox
 * (IMPORT answered NIC to NIC), export-table acknowledgements and
 * translation-sync acknowledgements
 *
 * Contract (uapi/vmmc.h has the layouts):
 * - Mailbox: a command is pending when nic_ctrl.cmd_seq (load-acquire)
 *   differs from the last seq the NIC answered (a private copy). It is
 *   looked at in every poll pass (a VMMC_DB_CTRL doorbell starts one) of
 *   a node whose driver is UP; one command at a time. The answer: resp
 *   written whole, resp_seq = cmd_seq (store-release), VMMC_IRQ_CTRL,
 *   kcmds + 1. A seq is answered at most once. While drv_state is DOWN,
 *   cmd_seq is read and marked done without an answer (cmd_seq is loaded
 *   before drv_state, so a command written after the driver came UP is
 *   never swallowed); an IMPORT waiting for its answer when the driver
 *   goes DOWN or the guest leaves is dropped unanswered.
 * - Checks, in order: op (BAD_OP), reserved words zero (BAD_ARG); for
 *   IMPORT: node < nr_nodes (BAD_NODE), ep < VMMC_MAX_EPS (BAD_ARG), the
 *   exporter's guest connected and its driver UP (NODE_DOWN). Then an
 *   IMPORT_REQ packet goes to the exporter's NIC, which answers with an
 *   IMPORT_RESP: NODE_DOWN if it is down by then, NO_EXPORT unless an
 *   ACTIVE export has that name and the key the importer presented
 *   (vmmc_kcmd.key == vmmc_export.key), PERM unless its perm_nodes has the
 *   importer's bit, else OK with export_id, export_gen (its current gen)
 *   and len; the exporter's NIC finds the export among the rows it
 *   acknowledged ACTIVE (an index by name, exp_index()), so an export
 *   can be imported from its acknowledgement on, which the kernel waits
 *   for before it returns. The importer's NIC copies that into resp; an
 *   answer that matches no pending IMPORT is discarded (stale_pkts). If
 *   the link layer declares the exporter's node dead first, the IMPORT
 *   is answered NODE_DOWN.
 * - Exports: whenever an export's gen differs from the gen the NIC last
 *   acknowledged (a private copy), the NIC adopts it (the data path,
 *   fabric_rx.c, accepts data only for an ACTIVE export whose gen is
 *   that private copy, and re-reads the entry for every packet, so no
 *   byte lands after the ack) and store-releases ack_gen = gen.
 * - Translation sync: whenever an endpoint's sync_seq differs from the
 *   NIC's last ack, it store-releases sync_ack = sync_seq at once: every
 *   DATA packet re-reads the UTLB entries it uses and copies its payload
 *   out of the source pages in the pass that builds it (fabric.h), so no
 *   packet, sent or retransmitted, reads a page through an old entry.
 * - One VMMC_IRQ_CTRL per pass covers every ack (fabric_nic.c raises it).
 */
#include <string.h>

#include "fabric.h"

static struct vmmc_export *kexport(struct fabric_node *n, unsigned int id)
{
	return (struct vmmc_export *)(n->sram + VMMC_SRAM_EXPORTS) + id;
}

/*
 * The export rows by name. A row is chained under its name while the
 * last gen the NIC acknowledged left it ACTIVE: the kernel waits for
 * that ack before an export is used, so a name a peer can know is always
 * chained. A lookup still reads the row itself (state, name, key), which
 * may have changed since: the index only says where to look.
 */
static unsigned int exp_bucket(__u32 name)
{
	return (name * 0x9e3779b1u) >> 20;	/* 12 bits: the bucket count */
}

_Static_assert(FABRIC_EXP_BUCKETS == 1u << 12, "exp_bucket()");
_Static_assert(VMMC_MAX_EXPORTS < 0xffff, "exp_next holds row + 1");

static void exp_unchain(struct fabric_node *n, unsigned int row)
{
	__u16 *p = &n->exp_head[exp_bucket(n->exp_name[row])];

	if (!n->exp_in[row])
		return;
	while (*p && *p != row + 1)
		p = &n->exp_next[*p - 1];
	if (*p)
		*p = n->exp_next[row];
	n->exp_in[row] = false;
}

/* Row @row's new gen was read: chain it as what it is now. */
static void exp_index(struct fabric_node *n, unsigned int row,
		      const struct vmmc_export *e)
{
	__u32 name = vmmc_read_once(&e->name);
	__u16 *h = &n->exp_head[exp_bucket(name)];

	exp_unchain(n, row);
	if (vmmc_read_once(&e->state) != VMMC_EXPORT_ACTIVE)
		return;
	n->exp_name[row] = name;
	n->exp_next[row] = *h;
	*h = (__u16)(row + 1);
	n->exp_in[row] = true;
}

/*
 * Has the export table changed since the last look? Partner: kmod's
 * store-release of exp_seq after the gens (vmmc_export_gen()).
 */
static bool exports_changed(struct fabric_node *n)
{
	return vmmc_load_acquire(&n->kctrl->exp_seq) != n->exp_seq;
}

unsigned int fabric_ctrl_acks(struct fabric_node *n)
{
	unsigned int i, acks = 0;
	bool changed = exports_changed(n);

	if (changed)
		n->exp_seq = vmmc_load_acquire(&n->kctrl->exp_seq);
	for (i = 0; changed && i < VMMC_MAX_EXPORTS; i++) {
		struct vmmc_export *e = kexport(n, i);
		/* Partner: kmod writes the entry and state, then bumps gen. */
		__u64 gen = vmmc_load_acquire(&e->gen);

		if (gen == n->exp_ack[i])
			continue;
		n->exp_ack[i] = gen;
		exp_index(n, i, e);
		/* a few per pass: a garbled table must not flood the log */
		if (acks < 8)
			node_log(n, LOG_V, "export %u: gen %llu state %u name %u: acked",
				 i, (unsigned long long)gen,
				 vmmc_read_once(&e->state),
				 vmmc_read_once(&e->name));
		/* its redirects end (REVOKED) before the ack says it is gone */
		fabric_redir_export_gone(n, i);
		/* Partner: kmod's load-acquire of ack_gen after IRQ_CTRL. */
		vmmc_store_release(&e->ack_gen, gen);
		acks++;
	}
	for (i = 0; i < VMMC_MAX_EPS; i++) {
		struct fabric_ep *ep = &n->eps[i];
		/* Partner: kmod zeroes the entries, then writes sync_seq. */
		__u32 seq = vmmc_load_acquire(&ep->kctx->sync_seq);

		if (seq == ep->sync_ack)
			continue;
		ep->sync_ack = seq;
		fabric_redir_sync(ep);
		/* Partner: kmod's acquire of sync_ack before it unpins. */
		vmmc_store_release(&ep->kctx->sync_ack, seq);
		acks++;
	}
	if (acks)
		ctr_add(n->kstatus->counters.ctrl_acks, acks);
	return acks;
}

static void kcmd_answer(struct fabric_node *n, __u32 seq,
			const struct vmmc_kresp *r)
{
	memcpy(&n->kctrl->resp, r, sizeof(*r));
	/* Partner: kmod's load-acquire of resp_seq before it reads resp. */
	vmmc_store_release(&n->kctrl->resp_seq, seq);
	n->kcmd_done = seq;
	n->kcmd_busy = false;
	ctr_add(n->kstatus->counters.kcmds, 1);
	node_log(n, LOG_V, "mailbox seq %u: status %u export %u gen %llu",
		 seq, r->status, r->export_id,
		 (unsigned long long)r->export_gen);
	fabric_node_irq(n, VMMC_IRQ_CTRL);
}

static __u32 kcmd_check(struct fabric_node *n, const struct vmmc_kcmd *c)
{
	unsigned int i;

	if (c->op > VMMC_KCMD_IMPORT)
		return VMMC_ST_BAD_OP;
	for (i = 0; i < 2; i++)
		if (c->reserved[i])
			return VMMC_ST_BAD_ARG;
	if (c->op == VMMC_KCMD_NOP)
		return VMMC_ST_OK;
	if (c->node >= n->f->nr_nodes)
		return VMMC_ST_BAD_NODE;
	if (c->ep >= VMMC_MAX_EPS)
		return VMMC_ST_BAD_ARG;
	if (!fabric_node_is_up(&n->f->nodes[c->node]))
		return VMMC_ST_NODE_DOWN;
	return VMMC_ST_OK;
}

/* Take a new mailbox command, if any; 1 if something happened. */
unsigned int fabric_kcmd_poll(struct fabric_node *n)
{
	struct vmmc_kresp resp;
	struct vmmc_kcmd cmd;
	struct vmmc_pkt pkt;
	__u32 seq;

	/* Partner: kmod fills cmd, then store-releases cmd_seq. */
	seq = vmmc_load_acquire(&n->kctrl->cmd_seq);
	if (!n->drv_up ||
	    vmmc_load_acquire(&n->kctrl->drv_state) != VMMC_DRV_UP) {
		n->kcmd_done = seq;	/* written while DOWN: ignored */
		n->kcmd_busy = false;
		return 0;
	}
	if (n->kcmd_busy || seq == n->kcmd_done)
		return 0;
	memcpy(&cmd, &n->kctrl->cmd, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	resp.status = kcmd_check(n, &cmd);
	if (resp.status != VMMC_ST_OK || cmd.op == VMMC_KCMD_NOP) {
		kcmd_answer(n, seq, &resp);
		return 1;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.src_node = n->id;
	pkt.dst_node = cmd.node;
	pkt.type = VMMC_PKT_IMPORT_REQ;
	pkt.src_ep = cmd.ep;
	pkt.cookie = ++n->f->next_cookie;
	pkt.name = cmd.name;
	pkt.key = cmd.key;
	if (fabric_link_send(n->f, &pkt)) {
		resp.status = VMMC_ST_BAD_ARG;
		kcmd_answer(n, seq, &resp);
		return 1;
	}
	n->kcmd_busy = true;
	n->kcmd_seq = seq;
	n->kcmd_cookie = pkt.cookie;
	n->kcmd_node = cmd.node;
	return 1;
}

/* The link layer gave @peer up: a pending IMPORT to it gets NODE_DOWN. */
void fabric_kcmd_peer_dead(struct fabric_node *n, __u32 peer)
{
	struct vmmc_kresp resp;

	if (!n->kcmd_busy || n->kcmd_node != peer)
		return;
	memset(&resp, 0, sizeof(resp));
	resp.status = VMMC_ST_NODE_DOWN;
	kcmd_answer(n, n->kcmd_seq, &resp);
}

/* At the exporter's NIC: look the name up, answer the importer's NIC. */
void fabric_rx_import_req(struct fabric_node *n, const struct vmmc_pkt *pkt)
{
	struct vmmc_pkt ans;
	struct vmmc_export e;
	unsigned int i, next;

	fabric_pkt_answer(pkt, &ans, VMMC_PKT_IMPORT_RESP, VMMC_ST_NO_EXPORT);
	if (!fabric_node_is_up(n)) {
		ans.status = VMMC_ST_NODE_DOWN;
		goto out;
	}
	/* the rows chained under the name's bucket (exp_index()) */
	for (next = n->exp_head[exp_bucket(pkt->name)]; next;
	     next = n->exp_next[i]) {
		struct vmmc_export *ke;

		i = next - 1;
		ke = kexport(n, i);

		/* Partner: kmod writes the entry, then bumps gen. */
		e.gen = vmmc_load_acquire(&ke->gen);
		e.state = vmmc_read_once(&ke->state);
		e.name = vmmc_read_once(&ke->name);
		if (e.state != VMMC_EXPORT_ACTIVE || e.name != pkt->name)
			continue;
		/* a wrong key looks like no export: nothing to learn */
		if (vmmc_read_once(&ke->key) != pkt->key)
			break;
		e.perm_nodes = vmmc_read_once(&ke->perm_nodes);
		if (pkt->src_node >= VMMC_MAX_NODES ||
		    !((e.perm_nodes >> pkt->src_node) & 1)) {
			ans.status = VMMC_ST_PERM;
			goto out;
		}
		ans.status = VMMC_ST_OK;
		ans.export_id = i;
		ans.export_gen = e.gen;
		ans.exp_len = vmmc_read_once(&ke->len);
		goto out;
	}
out:
	fabric_link_send(n->f, &ans);
}

/* Back at the importer's NIC: answer the mailbox. */
void fabric_rx_import_resp(struct fabric_node *n, const struct vmmc_pkt *pkt)
{
	struct vmmc_kresp resp;

	if (!n->kcmd_busy || pkt->cookie != n->kcmd_cookie) {
		n->stale_pkts++;
		node_log(n, LOG_V, "IMPORT answer from node%u for no pending command: discarded",
			 pkt->src_node);
		return;
	}
	memset(&resp, 0, sizeof(resp));
	resp.status = pkt->status;
	if (pkt->status == VMMC_ST_OK) {
		resp.export_id = pkt->export_id;
		resp.export_gen = pkt->export_gen;
		resp.len = pkt->exp_len;
	}
	kcmd_answer(n, n->kcmd_seq, &resp);
}

bool fabric_ctrl_has_work(struct fabric_node *n)
{
	unsigned int i;

	if (exports_changed(n))
		return true;
	for (i = 0; i < VMMC_MAX_EPS; i++)
		if (vmmc_load_acquire(&n->eps[i].kctx->sync_seq) !=
		    n->eps[i].sync_ack)
			return true;
	return !n->kcmd_busy &&
	       vmmc_load_acquire(&n->kctrl->cmd_seq) != n->kcmd_done;
}

/* The guest left: the SRAM is being cleared; forget every ack. */
void fabric_ctrl_reset(struct fabric_node *n)
{
	n->kcmd_done = 0;
	n->kcmd_busy = false;
	memset(n->exp_ack, 0, sizeof(n->exp_ack));
	memset(n->exp_head, 0, sizeof(n->exp_head));
	memset(n->exp_in, 0, sizeof(n->exp_in));
}

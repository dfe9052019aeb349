// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_fault.c - the wire between the NICs and the faults it injects
 *
 * Contract:
 * - Fault specs (--fault on the command line, "fault" on the control
 *   socket; docs/nic.md and vmmc-fabric --help list them):
 *     TARGET[:KEY=VALUE[,KEY=VALUE]...]
 *   TARGET is "all" (every link between two different nodes; the
 *   loopback of a node is never hit by "all"), "S-D" (the one link from
 *   node S to node D, S == D allowed) or "nodeN". Link keys: drop, dup,
 *   reorder, corrupt, delay (percent of packet copies, 0..100, decimals
 *   allowed), delay-us (the delay of a delayed copy, default 2000), down
 *   (1: down, 0: up), down-ms (down now, up again after that many ms),
 *   clear (every rate to 0, link up). Node keys: dead (1: the node's NIC
 *   is cut off from every other node, both ways; 0: back). A bad spec
 *   changes nothing and is reported.
 * - The wire, per copy sent: a down link or a dead end node drops it;
 *   else drop; else one or two (dup) copies, each possibly corrupted (a
 *   private copy with one bit flipped in its header or payload), delayed
 *   (delay-us) or reordered (held back 50..1050 us so that later copies
 *   overtake it). Copies are delivered in (due time, send order).
 *   Everything injected is counted on the sending node (fault_* in the
 *   status page) and per link (ctl "show").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fabric.h"

__u64 fabric_rnd(struct fabric *f)
{
	/* xorshift64*; seeded by --seed (default: fixed) */
	f->rnd ^= f->rnd >> 12;
	f->rnd ^= f->rnd << 25;
	f->rnd ^= f->rnd >> 27;
	return f->rnd * 0x2545f4914f6cdd1dull;
}

static bool chance(struct fabric *f, __u32 ppm)
{
	return ppm && fabric_rnd(f) % 1000000 < ppm;
}

static void wire_put(struct fabric *f, struct fabric_link *l,
		     struct fabric_pkt *p, __u64 due)
{
	struct fabric_wire *w = malloc(sizeof(*w));
	struct flist *pos;

	if (!w) {
		fabric_pkt_put(p);	/* lost: the link retransmits */
		return;
	}
	w->due = due;
	w->wseq = f->wire_seq++;
	w->p = p;
	for (pos = l->wire.prev; pos != &l->wire; pos = pos->prev)
		if (flist_entry(pos, struct fabric_wire, link)->due <= due)
			break;
	flist_add_after(pos, &w->link);
	f->pkts_queued++;
}

static struct fabric_pkt *corrupt(struct fabric *f, struct fabric_pkt *p)
{
	struct fabric_pkt *q = fabric_pkt_alloc(p->cap);
	__u64 r = fabric_rnd(f);
	size_t span;
	__u8 *b;

	if (!q)
		return NULL;
	q->pkt = p->pkt;
	memcpy(q->payload, p->payload, p->cap);
	span = sizeof(q->pkt) + q->pkt.len;
	b = (__u8 *)&q->pkt;
	b[(r >> 8) % span] ^= (__u8)(1u << (r & 7));
	return q;
}

/* Put a copy of @p on the wire of @l (the caller keeps its reference). */
void fabric_wire_send(struct fabric *f, struct fabric_link *l,
		      struct fabric_pkt *p)
{
	unsigned int src = p->pkt.src_node, dst = p->pkt.dst_node, i, copies;
	struct vmmc_nic_counters *c = &f->nodes[src].kstatus->counters;
	struct fabric_fault *ft = &l->fault;
	__u64 now = fabric_now_ns();

	if (ft->down && ft->down_until && now >= ft->down_until) {
		ft->down = false;
		ft->down_until = 0;
		fab_log(f, LOG_INFO, "link node%u -> node%u: up", src, dst);
	}
	if (ft->down || (src != dst && (f->nodes[src].dead ||
					f->nodes[dst].dead)) ||
	    chance(f, ft->drop)) {
		l->st.drops++;
		ctr_add(c->fault_drops, 1);
		return;
	}
	copies = 1;
	if (chance(f, ft->dup)) {
		copies = 2;
		l->st.dups++;
		ctr_add(c->fault_dups, 1);
	}
	for (i = 0; i < copies; i++) {
		struct fabric_pkt *q = p;
		__u64 due = now;

		if (chance(f, ft->corrupt)) {
			q = corrupt(f, p);
			if (!q)
				continue;
			l->st.corrupts++;
			ctr_add(c->fault_corrupts, 1);
		} else {
			p->refs++;
		}
		if (chance(f, ft->delay)) {
			due += (__u64)ft->delay_us * 1000;
			l->st.delays++;
			ctr_add(c->fault_delays, 1);
		}
		if (chance(f, ft->reorder)) {
			due += (50 + fabric_rnd(f) % 1000) * 1000;
			l->st.reorders++;
			ctr_add(c->fault_delays, 1);
		}
		wire_put(f, l, q, due);
	}
}

void fabric_fault_tick(struct fabric *f, __u64 now)
{
	unsigned int s, d;

	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_fault *ft = &f->links[s][d].fault;

			if (ft->down && ft->down_until && now >= ft->down_until) {
				ft->down = false;
				ft->down_until = 0;
				fab_log(f, LOG_INFO, "link node%u -> node%u: up",
					s, d);
			}
		}
}

/* ------------------------------------------------------------------------
 * Specs
 */
static int err_out(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_out(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A decimal number 0..@max, nothing else: 0, or -1 if @s is not one. */
int fabric_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "5", "5%", "0.25" percent -> parts per million */
static int parse_rate(const char *s, __u32 *ppm)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	v = strtod(s, &end);
	if (*end == '%')
		end++;
	if (*end || !(v >= 0.0 && v <= 100.0))
		return -1;
	*ppm = (__u32)(v * 10000.0 + 0.5);
	return 0;
}

/* Apply KEY=VALUE to @ft; -1 and @err if bad. */
static int link_key(struct fabric_fault *ft, const char *key,
		    const char *val, char *err, size_t errlen)
{
	static const char *const rates[] = {
		"drop", "dup", "reorder", "corrupt", "delay",
	};
	__u32 *rate[] = { &ft->drop, &ft->dup, &ft->reorder, &ft->corrupt,
			  &ft->delay };
	unsigned long v;
	unsigned int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(key, rates[i])) {
			if (!val || parse_rate(val, rate[i]))
				return err_out(err, errlen, "%s: want a percentage 0..100",
					       key);
			return 0;
		}
	if (!strcmp(key, "delay-us")) {
		if (!val || fabric_parse_uint(val, 10000000, &v))
			return err_out(err, errlen, "delay-us: want 0..10000000");
		ft->delay_us = v;
	} else if (!strcmp(key, "down")) {
		if (!val || fabric_parse_uint(val, 1, &v))
			return err_out(err, errlen, "down: want 0 or 1");
		ft->down = v;
		ft->down_until = 0;
	} else if (!strcmp(key, "down-ms")) {
		if (!val || fabric_parse_uint(val, 3600000, &v) || !v)
			return err_out(err, errlen, "down-ms: want 1..3600000");
		ft->down = true;
		ft->down_until = fabric_now_ns() + v * 1000000ull;
	} else if (!strcmp(key, "clear") && !val) {
		memset(ft, 0, sizeof(*ft));
		ft->delay_us = 2000;
	} else {
		return err_out(err, errlen, "unknown link key '%s'", key);
	}
	return 0;
}

/* Parse and apply one spec (all or nothing). */
int fabric_fault_parse(struct fabric *f, const char *spec, char *err,
		       size_t errlen)
{
	struct fabric_fault ft;
	char *copy, *keys, *tok, *save = NULL;
	unsigned long a, b;
	int node = -1, src = -1, dst = -1, dead = -1, rc = -1;
	unsigned int s, d;

	copy = strdup(spec);
	if (!copy)
		return err_out(err, errlen, "out of memory");
	keys = strchr(copy, ':');
	if (keys)
		*keys++ = 0;
	if (!strcmp(copy, "all")) {
		ft = f->fault_all;
	} else if (!strncmp(copy, "node", 4)) {
		if (fabric_parse_uint(copy + 4, FABRIC_MAX_NODES, &a) ||
		    a >= f->nr_nodes) {
			err_out(err, errlen, "%s: no such node", copy);
			goto out;
		}
		node = a;
	} else {
		char *dash = strchr(copy, '-');

		if (!dash) {
			err_out(err, errlen, "%s: want all, S-D or nodeN", copy);
			goto out;
		}
		*dash = 0;
		if (fabric_parse_uint(copy, FABRIC_MAX_NODES, &a) ||
		    fabric_parse_uint(dash + 1, FABRIC_MAX_NODES, &b) ||
		    a >= f->nr_nodes || b >= f->nr_nodes) {
			err_out(err, errlen, "%s-%s: no such link", copy, dash + 1);
			goto out;
		}
		src = a;
		dst = b;
		ft = f->links[src][dst].fault;
	}
	if (!keys || !*keys) {
		err_out(err, errlen, "%s: no KEY=VALUE given", spec);
		goto out;
	}
	for (tok = strtok_r(keys, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = 0;
		if (node >= 0) {
			if (strcmp(tok, "dead") || !val ||
			    fabric_parse_uint(val, 1, &a)) {
				err_out(err, errlen, "node keys: dead=0|1");
				goto out;
			}
			dead = a;
		} else if (link_key(&ft, tok, val, err, errlen)) {
			goto out;
		}
	}
	if (node >= 0) {
		f->nodes[node].dead = dead;
		fab_log(f, LOG_INFO, "node%u: %s", node,
			dead ? "dead (cut off)" : "alive");
	} else if (src >= 0) {
		f->links[src][dst].fault = ft;
	} else {
		f->fault_all = ft;
		for (s = 0; s < f->nr_nodes; s++)
			for (d = 0; d < f->nr_nodes; d++)
				if (s != d)
					f->links[s][d].fault = ft;
	}
	fab_log(f, LOG_V, "fault %s: applied", spec);
	rc = 0;
out:
	free(copy);
	return rc;
}

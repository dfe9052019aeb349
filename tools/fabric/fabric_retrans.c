// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_retrans.c - when the link layer (fabric_link.c) sends a packet
 * again
 *
 * Contract:
 * - fabric_link_rtt(): one round trip measured on a link (a packet acked
 *   after one transmission) into its SRTT and RTTVAR, as RFC 6298 (2.2,
 *   2.3); fabric_link_rto(): SRTT + 4 RTTVAR within FABRIC_RTO_MIN_NS and
 *   FABRIC_RTO_MAX_NS.
 * - fabric_link_rto_expire(): the link's time-out, when its oldest packet
 *   the receiver lacks is due: that one again, the others due only if it
 *   had been sent again before.
 * - fabric_link_fast_retransmit(): after an ACK, the packets with
 *   FABRIC_DUP_THRESH selectively acked ones after them, at most once a
 *   round trip.
 * Each retransmission is counted (link_retrans, the link's retrans).
 */
#include "fabric_span.h"

/* The RTO of the estimates: SRTT + 4 RTTVAR within [min, max]. */
__u64 fabric_link_rto(const struct fabric_link *l)
{
	__u64 rto = l->srtt_ns + 4 * l->rttvar_ns;

	if (rto < FABRIC_RTO_MIN_NS)
		return FABRIC_RTO_MIN_NS;
	return rto > FABRIC_RTO_MAX_NS ? FABRIC_RTO_MAX_NS : rto;
}

/* One round-trip sample @r (ns) into the estimates (RFC 6298, 2.2-2.3). */
void fabric_link_rtt(struct fabric_link *l, __u64 r)
{
	__u64 err;

	if (!l->srtt_ns) {
		l->srtt_ns = r ? r : 1;
		l->rttvar_ns = r / 2;
		return;
	}
	err = l->srtt_ns > r ? l->srtt_ns - r : r - l->srtt_ns;
	l->rttvar_ns = (3 * l->rttvar_ns + err) / 4;
	l->srtt_ns = (7 * l->srtt_ns + r) / 8;
	if (!l->srtt_ns)
		l->srtt_ns = 1;
}

void fabric_link_count_retrans(struct fabric *f, struct fabric_link *l,
			       unsigned int src, unsigned int re)
{
	ctr_add(f->nodes[src].kstatus->counters.link_retrans, re);
	l->st.retrans += re;
}

/*
 * Packets the receiver has not, with FABRIC_DUP_THRESH or more after
 * them that it has (selectively acked), are taken as lost and sent again
 * now, without waiting for the time-out; at most once per round trip.
 */
#define FABRIC_DUP_THRESH	3
void fabric_link_fast_retransmit(struct fabric *f, struct fabric_link *l,
				 unsigned int src, __u64 now)
{
	unsigned int above = 0, re = 0;
	struct flist *pos;

	if (!l->srtt_ns)
		return;
	for (pos = l->window.next; pos != &l->window; pos = pos->next)
		above += flist_entry(pos, struct fabric_pkt, link)->sacked;
	for (pos = l->window.next; pos != &l->window &&
	     above >= FABRIC_DUP_THRESH; pos = pos->next) {
		struct fabric_pkt *p = flist_entry(pos, struct fabric_pkt,
						   link);

		if (p->sacked)
			above--;
		else if (now - p->sent_ns >= l->srtt_ns) {
			fabric_link_transmit(f, l, p, now);
			re++;
		}
	}
	if (re)
		fabric_link_count_retrans(f, l, src, re);
}

/*
 * The link's time-out, if its oldest packet the receiver lacks is due:
 * that packet is sent again; the others that are due too only if it had
 * been sent again before (one late ack on a loaded host costs one
 * packet, a link that lost a window gets it back at once). The number
 * sent.
 */
unsigned int fabric_link_rto_expire(struct fabric *f, struct fabric_link *l,
				    __u64 now)
{
	unsigned int re = 0;
	bool all = false;
	struct flist *pos;

	for (pos = l->window.next; pos != &l->window; pos = pos->next) {
		struct fabric_pkt *p = flist_entry(pos, struct fabric_pkt,
						   link);

		if (p->sacked)
			continue;
		if (!re) {
			if (now - p->sent_ns < l->rto_ns)
				return 0;	/* the oldest is not due */
			all = p->tries > 1;
		} else if (!all) {
			break;
		} else if (now - p->sent_ns < l->rto_ns) {
			continue;
		}
		fabric_link_transmit(f, l, p, now);
		re++;
	}
	return re;
}

// SPDX-License-Identifier: MIT
/*
 * sock_conn.c - connection set-up of the stream sockets: the client's
 * request into a listen slot, the listener taking it (a new connection in
 * its backlog, or a refusal), the hello back, and the client taking the
 * hello. Each step is a system call or two (export, import, pin): set-up
 * is not the steady path. Wire formats in sock_loc.h.
 */
#include <errno.h>
#include <string.h>

#include "sock_loc.h"

#define NS_PER_MS	1000000ULL

static bool vs_seen_nonce(const struct vs_sock *l, uint64_t nonce)
{
	uint32_t i;

	for (i = 0; i < VS_RECENT; i++)
		if (l->recent[i] == nonce)
			return true;
	return false;
}

/* A request answered: its retries are duplicates from now on. */
static void vs_remember(struct vs_sock *l, uint64_t nonce)
{
	l->recent[l->nrecent++ % VS_RECENT] = nonce;
}

static void vs_post_hello(struct vs_sock *s, uint32_t status)
{
	struct vs_hello *h = (struct vs_hello *)(s->tx ? s->tx + VS_SRC_REQ :
						  s->stg + VS_SRC_HELLO);

	memset(h, 0, sizeof(*h));
	h->magic = VS_MAGIC;
	h->version = VS_VERSION;
	h->port = (uint16_t)s->port;
	h->status = status;
	h->name = s->rx_name;
	h->key = s->rx_key;
	h->ring = s->rx_ring;
	h->nonce = s->nonce;
	h->check = vs_check(h, s->nonce);
	if (vs_post(s, h, sizeof(*h), s->peer_imp, VS_OFF_HELLO,
		    VMMC_SQF_NOTIFY, VS_UD(s->id, VS_K_HELLO, 0)))
		vs_reset(s, ECONNRESET, false);
}

/*
 * A request in listener @l's slot at @off, from @src_node (the NIC's
 * word, so a client cannot speak for another node). Duplicates (a
 * client's retry of a request answered) and garbage are ignored; a full
 * backlog or a failure drops the request unremembered (the client
 * retries until its time-out, as with TCP: a retry that finds room is
 * taken). A connection whose rings do not fit in the socket memory
 * budget is refused with ENOBUFS, which the client's connect and our
 * next accept that finds the backlog empty report.
 */
void vs_take_req(struct vs_sock *l, uint64_t off, uint32_t src_node)
{
	uint32_t refuse;
	struct vs_sock *s;
	struct vs_req r;

	if (off % VS_SLOT || off >= VS_LISTEN_SLOTS * VS_SLOT)
		return;
	memcpy(&r, l->lbuf + off, sizeof(r));
	if (r.magic != VS_MAGIC || r.version != VS_VERSION ||
	    r.check != vs_check(&r, r.nonce) || r.node != src_node ||
	    (r.name & 0xff000000u) != VS_NAME_CONN ||
	    (r.via != VMMC_VIA_ANY && r.via != VMMC_VIA_INET &&
	     r.via != VMMC_VIA_INET6) ||
	    r.ring < VMMC_SOCK_RCVBUF_MIN || r.ring > VMMC_SOCK_RCVBUF_MAX ||
	    (r.ring & (r.ring - 1)) || vs_seen_nonce(l, r.nonce))
		return;
	/* a listener of one IP family never sees the other's requests */
	refuse = (l->state != VS_LISTEN ||
		  (l->via && r.via && l->via != r.via)) ? ECONNREFUSED : 0;
	if (!refuse && l->nbacklog >= l->backlog_max) {
		vs.st.refused++;
		return;
	}
	s = vs_sock_new();
	if (!s)
		return;
	s->rcvbuf = l->rcvbuf;
	s->rcvbuf_set = l->rcvbuf_set;
	if (!refuse && vs_mem_plan(s, r.ring, r.sndmax))
		refuse = ENOBUFS;	/* nothing charged */
	if (refuse)
		s->rx_ring = VMMC_SOCK_RCVBUF_MIN;
	s->zc_min = l->zc_min;		/* as the listener's options */
	s->busy_poll = l->busy_poll;
	/* and the kernel's options, as a kernel TCP socket's child has */
	s->iopt_set = l->iopt_set;
	memcpy(s->iopt, l->iopt, sizeof(s->iopt));
	s->cork = l->cork;
	s->kn = l->kn;
	s->linger_on = l->linger_on;
	s->linger_s = l->linger_s;
	memcpy(s->cong, l->cong, sizeof(s->cong));
	s->port = l->port;
	s->peer_node = r.node;
	s->peer_port = r.port;
	s->via = r.via ? r.via : l->via;
	s->peer_name = r.name;
	s->nonce = r.nonce;
	s->parent = l;
	if (vs_conn_alloc(s, r.node, refuse != 0) ||
	    vmmc_import_key(&vs.ep, r.node, r.name, r.key, &s->peer_imp,
			    NULL))
		goto out_free;
	s->have_peer_imp = true;
	if (refuse) {
		vs_remember(l, r.nonce);
		s->state = VS_REFUSING;
		s->parent = NULL;
		vs_post_hello(s, refuse);
		vs.st.refused++;
		if (refuse == ENOBUFS)
			l->nobufs++;
		return;
	}
	if (vs_tx_alloc(s, r.ring))
		goto out_free;
	vs_remember(l, r.nonce);
	s->state = VS_ESTAB;
	vs_post_hello(s, 0);
	l->backlog[l->nbacklog++] = s;
	l->rx_gen++;
	return;

out_free:
	vs_teardown(s);
	vs_sock_free(s);
}

/*
 * The request goes into a listen slot: the process's requests take the
 * slots in turn from a random start, so that up to VS_LISTEN_SLOTS of
 * its own in flight at once (non-blocking connects) never overwrite one
 * another before the listener took them; other processes' requests may
 * still meet one (the listener ignores the torn or lost one, its client
 * asks again after VS_RETRY_MS).
 */
int vs_post_req(struct vs_sock *s)
{
	struct vs_req *r = (struct vs_req *)(s->tx + VS_SRC_REQ);
	uint64_t slot;

	if (!vs.next_slot)
		vs.next_slot = (uint32_t)vs_rand() | VS_LISTEN_SLOTS;
	slot = vs.next_slot++ % VS_LISTEN_SLOTS;

	memset(r, 0, sizeof(*r));
	r->magic = VS_MAGIC;
	r->version = VS_VERSION;
	r->port = (uint16_t)s->port;
	r->node = s->node;
	r->name = s->rx_name;
	r->key = s->rx_key;
	r->ring = s->rx_ring;
	r->via = s->via;
	r->sndmax = s->tx_max;
	r->nonce = s->nonce;
	r->check = vs_check(r, s->nonce);
	return vs_post(s, r, sizeof(*r), s->l_imp, slot * VS_SLOT,
		       VMMC_SQF_NOTIFY, VS_UD(s->id, VS_K_REQ, 0));
}

/* Import (node, port)'s listen buffer and ask; the hello answers. */
int vs_connect_start(struct vs_sock *s, uint32_t node, uint32_t port)
{
	uint64_t len = 0, now;
	int err;

	s->peer_node = node;
	s->peer_port = port;
	s->req_moves = 0;
	err = vs_mem_plan(s, 0, 0);
	if (!err)
		err = vs_conn_alloc(s, node, true);
	if (err)
		return err;
	err = vs_import_listener(s, node, port, &len);
	switch (err) {
	case 0:
		break;
	case -ENOENT:
	case -EPROTO:
		return -ECONNREFUSED;
	case -EINVAL:
		return -ENETUNREACH;	/* no such node on the fabric */
	case -EHOSTUNREACH:
	case -ETIMEDOUT:
		return -ETIMEDOUT;
	case -ENOSPC:
		return -EAGAIN;
	default:
		return err;
	}
	s->have_l_imp = true;
	if (len < VS_LISTEN_SLOTS * VS_SLOT)
		return -ECONNREFUSED;
	do
		s->nonce = vs_rand();
	while (!s->nonce);
	err = vs_post_req(s);
	if (err)
		return err;
	now = vs_now_ns();
	s->deadline_ns = now + VMMC_SOCK_CONNECT_MS * NS_PER_MS;
	s->retry_ns = now + VS_RETRY_MS * NS_PER_MS;
	s->state = VS_SYN_SENT;
	vs_timer_at(s, s->retry_ns);
	return 0;
}

/* A client's hello: the server's region, ring and port, or a refusal. */
void vs_take_hello(struct vs_sock *s)
{
	struct vs_hello h;
	int err;

	memcpy(&h, s->rx + VS_OFF_HELLO, sizeof(h));
	if (h.magic != VS_MAGIC || h.nonce != s->nonce ||
	    h.check != vs_check(&h, s->nonce))
		return;
	vmmc_smp_mb();	/* pairs with the NIC's copy: nothing before */
	s->hello_done = true;
	if (h.status || (h.name & 0xff000000u) != VS_NAME_CONN) {
		/* the server had no memory for it: as ours would say */
		err = h.status == ENOBUFS ? ENOBUFS : ECONNREFUSED;
		goto out_fail;
	}
	err = -vmmc_import_key(&vs.ep, s->peer_node, h.name, h.key,
			       &s->peer_imp, NULL);
	if (err)
		goto out_fail;
	s->have_peer_imp = true;
	err = -vs_tx_alloc(s, h.ring);
	if (err)
		goto out_fail;
	s->peer_name = h.name;
	s->peer_port = h.port;
	s->state = VS_ESTAB;
	s->tx_gen++;
	vs.st.connects++;
	if (s->have_l_imp && !s->inflight) {
		vmmc_unimport(&vs.ep, s->l_imp);
		s->have_l_imp = false;
	}
	return;

out_fail:
	s->err = err == EPROTO ? ECONNREFUSED : err;
	s->state = VS_CLOSED;
	s->tx_gen++;
	s->rx_gen++;
}


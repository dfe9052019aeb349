// SPDX-License-Identifier: MIT
/*
 * sock_accept.c - acceptor groups: the processes that accept on one port
 * (a pre-fork server's workers, each with an endpoint of its own) share
 * its connections, as TCP spreads a shared listening socket's.
 *
 * A listener with VMMC_SO_ACCEPTOR exports its listen buffer under the
 * acceptor name VMMC_NAME_ACCEPT(P, i), i the lowest one free below
 * VMMC_SOCK_ACCEPTORS: the kernel grants these only to a process holding
 * a TCP socket listening on P (uapi/vmmc.h), so only the port's workers
 * join. One of them also exports the same buffer as the port's name
 * VMMC_NAME_PORT(P), the group's directory, with a length that says
 * "group" and its own index: VS_LISTEN_SLOTS * VS_SLOT + VS_SLOT * (1 + i)
 * (a plain listener's is VS_LISTEN_SLOTS * VS_SLOT). Clients never write
 * through the directory; requests land in an acceptor's export, whose
 * notifications name that listener (sock_proto.c's vs_notes()).
 *
 * A client that finds a directory picks an acceptor at random: r uniform
 * in [0, VMMC_SOCK_ACCEPTORS), and on ENOENT r' uniform in [0, r), down
 * to 0, then the directory's own index. Acceptors take the lowest free
 * index, so with k of them at 0..k-1 each is chosen with probability 1/k
 * (every step is uniform over a range that holds them all), at a cost of
 * about ln(VMMC_SOCK_ACCEPTORS / k) failed lookups per connect. A
 * connection is the accepting process's alone: its endpoint exports the
 * connection's region and imports the client's.
 *
 * When the directory's holder goes, another member takes the name at its
 * next accept or poll of the listener, at most once a second each
 * (vs_acceptor_tick()); meanwhile clients find no listener (a connect
 * refused: the shim falls back to kernel TCP).
 */
#include <errno.h>

#include "sock_loc.h"

#define NS_PER_S	1000000000ULL

/* The length of an acceptor's directory export: "group", and its index. */
static uint64_t vs_dir_len(uint32_t idx)
{
	return VS_LISTEN_SLOTS * VS_SLOT + (uint64_t)VS_SLOT * (1 + idx);
}

/* Bind acceptor @s to @port: its listen buffer under a free acceptor name. */
int vs_export_acceptor(struct vs_sock *s, uint32_t port)
{
	uint32_t i;
	int err = -EEXIST;

	s->lbuf = vs_map(VS_LBUF_MAP(s));
	if (!s->lbuf)
		return -ENOMEM;
	for (i = 0; i < VMMC_SOCK_ACCEPTORS && err == -EEXIST; i++)
		err = vmmc_export(&vs.ep, s->lbuf, VS_LISTEN_SLOTS * VS_SLOT,
				  VMMC_NAME_ACCEPT(port, i), ~0ULL, &s->lexp);
	if (err) {
		vs_unmap(s->lbuf, VS_LBUF_MAP(s));
		s->lbuf = NULL;
		return err == -EEXIST ? -EADDRINUSE : err;
	}
	s->acc_idx = i - 1;
	vs.byexp[s->lexp] = s;
	s->port = port;
	s->bound = true;
	vs.st.listeners++;
	s->dir_ns = 0;
	vs_acceptor_tick(s);
	return 0;
}

/*
 * A listening acceptor without the port's directory takes it if it is
 * free: at once the first time, then at most once a second (the clock is
 * read only while the name is another's). A refusal other than EEXIST
 * (EACCES: no listening socket any more) ends the attempts.
 */
void vs_acceptor_tick(struct vs_sock *s)
{
	uint64_t now;
	int err;

	if (!s->acceptor || !s->lbuf || s->have_dir || s->dir_ns == UINT64_MAX)
		return;
	now = s->dir_ns ? vs_now_ns() : 0;
	if (now < s->dir_ns)
		return;
	err = vmmc_export(&vs.ep, s->lbuf, vs_dir_len(s->acc_idx),
			  VS_NAME_LISTEN | s->port, ~0ULL, &s->dexp);
	if (!err)
		s->have_dir = true;
	else if (err == -EEXIST)
		s->dir_ns = (now ? now : vs_now_ns()) + NS_PER_S;
	else
		s->dir_ns = UINT64_MAX;
}

/* The directory and the acceptor name go (the buffer is the caller's). */
void vs_acceptor_drop(struct vs_sock *s)
{
	if (s->have_dir)
		vmmc_unexport(&vs.ep, s->dexp);
	s->have_dir = false;
}

/*
 * Client: import the listen buffer of (@node, @port) into s->l_imp, its
 * length in *@len; a group's directory leads to one of its acceptors
 * (above). The errors of vmmc_import(); -ENOENT if the group has none
 * left, -EPROTO for a directory whose length means nothing.
 */
int vs_import_listener(struct vs_sock *s, uint32_t node, uint32_t port,
		       uint64_t *len)
{
	uint64_t base = VS_LISTEN_SLOTS * VS_SLOT, i0;
	uint32_t dir, r;
	int err;

	err = vmmc_import(&vs.ep, node, VS_NAME_LISTEN | port, &s->l_imp, len);
	if (err || *len <= base)
		return err;
	dir = s->l_imp;
	i0 = (*len - base) / VS_SLOT;
	if ((*len - base) % VS_SLOT || i0 > VMMC_SOCK_ACCEPTORS) {
		vmmc_unimport(&vs.ep, dir);
		return -EPROTO;
	}
	i0--;
	r = (uint32_t)(vs_rand() % VMMC_SOCK_ACCEPTORS);
	for (;;) {
		err = vmmc_import(&vs.ep, node, VMMC_NAME_ACCEPT(port, r),
				  &s->l_imp, len);
		if (err != -ENOENT || r == i0)
			break;
		r = r ? (uint32_t)(vs_rand() % r) : (uint32_t)i0;
	}
	vmmc_unimport(&vs.ep, dir);
	return err;
}

/*
 * Client: the listener its request went to is gone before it answered
 * (the request's SEND failed, not for a node down): a pre-fork worker
 * that exited, say. The port is looked up again, as at connect, and the
 * request goes to the acceptor found (another of the group), at most
 * VMMC_SOCK_ACCEPTORS times per connect. True when it is on its way; false
 * (refused) when the port has no listener left.
 */
bool vs_req_elsewhere(struct vs_sock *s)
{
	uint64_t len = 0;

	if (s->state != VS_SYN_SENT || s->hello_done ||
	    s->req_moves >= VMMC_SOCK_ACCEPTORS)
		return false;
	s->req_moves++;
	if (s->have_l_imp) {
		vmmc_unimport(&vs.ep, s->l_imp);
		s->have_l_imp = false;
	}
	if (vs_import_listener(s, s->peer_node, s->peer_port, &len))
		return false;
	s->have_l_imp = true;
	return len >= VS_LISTEN_SLOTS * VS_SLOT && !vs_post_req(s);
}

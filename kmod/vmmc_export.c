// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_export.c - exports and imports.
 *
 * An export is a pinned range of the caller's memory (vmmc_umem.c) named
 * by a __u32 unique among the NIC's live exports, with a bit mask of the
 * nodes that may import it and an optional 64-bit key that an importer
 * must present (the exporter's NIC compares it: a wrong key looks like a
 * missing name). Names that stand for socket ports below 1024 need
 * CAP_NET_BIND_SERVICE; a user holds at most max_exports_per_user. The
 * kernel writes the NIC's export table entry and a page list in guest
 * RAM; the NIC accepts data for the export only while the entry is ACTIVE
 * and acknowledged (ack_gen == gen).
 *
 * Revocation (UNEXPORT, munmap of the buffer, endpoint close, unbind):
 * write REVOKED or FREE and a new gen, ring VMMC_DB_CTRL and wait for the
 * NIC's ack; after it the NIC writes no byte into the pages and refuses
 * every packet for the export (the remote sender's SEND completes with
 * VMMC_ST_REVOKED). Only then are the pages unpinned.
 *
 * An import asks the exporter's NIC through the mailbox (the remote
 * kernel is not involved: the table is in that NIC's SRAM) and records
 * (node, export id, export gen, len) in the endpoint's import table row,
 * which only the kernel writes and the NIC reads when it fetches a SEND.
 *
 * Locking: vdev->exp_lock guards xports[], the entries' ownership and
 * each export's live and revoked; ep->pin_lock guards each export's
 * umem, gen and ep->xports (remove() writes gen under exp_lock, after
 * the notifier's SRCU readers are gone and with dead_rwsem held for
 * writing, so no pin_lock holder touches the NIC);
 * ep->imp_lock guards the endpoint's import rows; vdev->kcmd_lock the
 * mailbox. Order: dead_rwsem -> pin_lock -> exp_lock.
 */
#include <linux/capability.h>
#include <linux/dma-mapping.h>
#include <linux/fdtable.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/tcp_states.h>

#include "vmmc_loc.h"

#define VMMC_EXPORT_RETRIES	8

/*
 * Tests only (root: the file is 0600): what a new export adds to its
 * table slot's gen, so that a test brings a slot's gen to where a 32-bit
 * gen would wrap without 2^32 exports (selftests/vmmc_stale). Taken at
 * most VMMC_GEN_SKIP_MAX at a time, and only while the gen is below
 * VMMC_GEN_SKIP_TOP: the 64-bit gen never wraps, whatever root sets.
 */
#define VMMC_GEN_SKIP_MAX	BIT_ULL(48)
#define VMMC_GEN_SKIP_TOP	BIT_ULL(62)
static ulong export_gen_skip;
module_param(export_gen_skip, ulong, 0600);
MODULE_PARM_DESC(export_gen_skip,
		 "debug: added to a slot's gen at each new export (tests force a gen wrap)");

/*
 * Publish a new gen of export entry @e (after the rest of the entry) and
 * tell the NIC the table changed (vmmc_nic_ctrl.exp_seq): it looks
 * through the table at its next pass. exp_seq_lock orders the stores of
 * exp_seq as the increments, so the value the NIC reads last covers every
 * gen stored before it.
 */
static void vmmc_export_gen(struct vmmc_dev *vdev, struct vmmc_export *e,
			    u64 gen)
{
	/* pairs with the NIC's read of gen before the rest of the entry */
	dma_wmb();
	WRITE_ONCE(e->gen, gen);
	spin_lock(&vdev->exp_seq_lock);
	/* pairs with the NIC's load-acquire of exp_seq before the gens */
	smp_store_release(&vdev->ctrl->exp_seq, ++vdev->exp_seq);
	spin_unlock(&vdev->exp_seq_lock);
}

static struct vmmc_export *vmmc_xport_entry(struct vmmc_xport *x)
{
	return &x->umem.ep->vdev->exptab[x->id];
}

/*
 * Write a new state and gen for an export and wait for the NIC's ack.
 * pin_lock and dead_rwsem (read) held, NIC not dead.
 */
static int vmmc_xport_set_state(struct vmmc_xport *x, u32 state)
{
	struct vmmc_dev *vdev = x->umem.ep->vdev;
	struct vmmc_export *e = vmmc_xport_entry(x);

	lockdep_assert_held(&x->umem.ep->pin_lock);
	WRITE_ONCE(e->state, state);
	x->gen++;
	vmmc_export_gen(vdev, e, x->gen);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	return vmmc_ctrl_wait64(vdev, &e->ack_gen, x->gen);
}

/*
 * Revoke an export: 0 once the NIC acknowledged (or an unbound NIC had
 * acknowledged remove()'s revocation), else its pages must stay pinned:
 * it goes to the graveyard until the NIC acknowledges. The name is free
 * again either way. pin_lock held; dead_rwsem or the SRCU read side held.
 */
static int vmmc_xport_revoke(struct vmmc_xport *x, u32 state)
{
	struct vmmc_dev *vdev = x->umem.ep->vdev;
	int err;

	lockdep_assert_held(&x->umem.ep->pin_lock);
	mutex_lock(&vdev->exp_lock);
	x->live = false;
	hash_del(&x->name_node);
	mutex_unlock(&vdev->exp_lock);
	if (vdev->dead) {
		err = READ_ONCE(x->revoked) ? 0 : -EIO;
	} else {
		err = vmmc_xport_set_state(x, state);
		if (!err) {
			mutex_lock(&vdev->exp_lock);
			WRITE_ONCE(x->revoked, true);
			mutex_unlock(&vdev->exp_lock);
		}
	}
	if (err)
		vmmc_grave_add64(&x->umem, &vmmc_xport_entry(x)->ack_gen, x->gen);
	return err;
}

/* The process unmapped an exported buffer: revoke before unpinning. */
static int vmmc_xport_invalidate(struct vmmc_umem *umem)
{
	struct vmmc_xport *x = container_of(umem, struct vmmc_xport, umem);

	return vmmc_xport_revoke(x, VMMC_EXPORT_REVOKED);
}

/*
 * The page list the NIC reads: guest-physical page addresses. No vmmc
 * lock held: a sleeping allocation under pin_lock could wait for reclaim,
 * and reclaim for the MMU notifier, which takes pin_lock.
 */
static int vmmc_xport_alloc_pagelist(struct vmmc_xport *x)
{
	struct vmmc_dev *vdev = x->umem.ep->vdev;
	unsigned long i;

	x->pagelist_size = x->umem.nr_pages * sizeof(__u64);
	x->pagelist = dma_alloc_coherent(&vdev->pdev->dev, x->pagelist_size,
					 &x->pagelist_dma, GFP_KERNEL);
	if (!x->pagelist)
		return -ENOMEM;
	for (i = 0; i < x->umem.nr_pages; i++)
		x->pagelist[i] = page_to_phys(x->umem.pages[i]);
	return 0;
}

static void vmmc_xport_free_pagelist(struct vmmc_xport *x)
{
	if (x->pagelist)
		dma_free_coherent(&x->umem.ep->vdev->pdev->dev,
				  x->pagelist_size, x->pagelist,
				  x->pagelist_dma);
	x->pagelist = NULL;
}

/* The live export named @name, or NULL. exp_lock held. */
static struct vmmc_xport *vmmc_xport_by_name(struct vmmc_dev *vdev, u32 name)
{
	struct vmmc_xport *x;

	lockdep_assert_held(&vdev->exp_lock);
	hash_for_each_possible(vdev->exp_names, x, name_node, name)
		if (x->name == name)
			return x;
	return NULL;
}

/* The count of @uid's table slots, or NULL (none). exp_lock held. */
static struct vmmc_xuser *vmmc_xuser_find(struct vmmc_dev *vdev, kuid_t uid)
{
	struct vmmc_xuser *u;

	lockdep_assert_held(&vdev->exp_lock);
	hash_for_each_possible(vdev->exp_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/*
 * Export @x leaves its table slot (the NIC let go of it): the slot is
 * free, its name too, and its user holds one slot less. exp_lock held.
 */
static void vmmc_xport_slot_free(struct vmmc_dev *vdev, struct vmmc_xport *x)
{
	lockdep_assert_held(&vdev->exp_lock);
	vdev->xports[x->id] = NULL;
	__clear_bit(x->id, vdev->exp_used);
	hash_del(&x->name_node);
	if (x->user && !--x->user->slots) {
		hash_del(&x->user->node);
		kfree(x->user);
	}
	x->user = NULL;
}

/*
 * Publish an export. pin_lock held, NIC alive. Every table slot an
 * export of the caller's user takes (live or not) counts against
 * max_exports_per_user, unless @exempt (vmmc_user_exempt()). A user's
 * first slot takes *@spare (allocated before the locks) for its count.
 */
static int vmmc_xport_install(struct vmmc_ep *ep, struct vmmc_xport *x,
			      const struct vmmc_export_req *req, bool exempt,
			      struct vmmc_xuser **spare)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_xuser *u;
	struct vmmc_export *e;
	unsigned int free_id;

	lockdep_assert_held(&ep->pin_lock);
	mutex_lock(&vdev->exp_lock);
	/* names live in our structs: SRAM states lag behind */
	if (vmmc_xport_by_name(vdev, req->name)) {
		mutex_unlock(&vdev->exp_lock);
		return -EEXIST;
	}
	u = vmmc_xuser_find(vdev, ep->uid);
	if (!vmmc_user_may_take(u ? u->slots : 0,
				READ_ONCE(vmmc_max_exports_per_user), exempt)) {
		mutex_unlock(&vdev->exp_lock);
		vmmc_stat_inc(vdev, VMMC_STAT_USER_LIMITS);
		return -EDQUOT;
	}
	free_id = find_first_zero_bit(vdev->exp_used, VMMC_MAX_EXPORTS);
	if (free_id >= VMMC_MAX_EXPORTS) {
		mutex_unlock(&vdev->exp_lock);
		return -ENOSPC;
	}
	if (!u) {
		u = *spare;
		*spare = NULL;
		u->uid = ep->uid;
		u->slots = 0;
		hash_add(vdev->exp_users, &u->node, __kuid_val(ep->uid));
	}
	u->slots++;
	x->user = u;
	x->id = free_id;
	x->name = req->name;
	x->live = true;
	hash_add(vdev->exp_names, &x->name_node, x->name);
	__set_bit(free_id, vdev->exp_used);
	x->gen = READ_ONCE(vdev->exptab[free_id].gen);
	if (x->gen < VMMC_GEN_SKIP_TOP)
		x->gen += min_t(u64, READ_ONCE(export_gen_skip),
				VMMC_GEN_SKIP_MAX);
	e = &vdev->exptab[free_id];
	e->name = req->name;
	e->owner_ep = ep->id;
	e->first_off = x->umem.first_off;
	e->len = req->len;
	e->perm_nodes = req->perm_nodes;
	e->pages_addr = x->pagelist_dma;
	e->nr_pages = x->umem.nr_pages;
	e->reserved0 = 0;
	e->key = req->key;
	vdev->xports[free_id] = x;
	mutex_unlock(&vdev->exp_lock);

	x->umem.invalidate = vmmc_xport_invalidate;
	x->umem.verify = true;
	list_add(&x->node, &ep->xports);
	vmmc_stat_inc(vdev, VMMC_STAT_EXPORTS);
	return 0;
}

static bool vmmc_xport_take_off(struct vmmc_ep *ep, struct vmmc_xport *x);
static void vmmc_xport_put(struct vmmc_ep *ep, struct vmmc_xport *x,
			   bool leaked);
static int vmmc_unexport_id(struct vmmc_ep *ep, u32 id,
			    const struct vmmc_xport *only);

/* iterate_fd() callback: is @file a TCP socket listening on port *@arg? */
static int vmmc_fd_listens(const void *arg, struct file *file, unsigned int fd)
{
	struct socket *sock = sock_from_file(file);
	struct sock *sk = sock ? sock->sk : NULL;

	if (!sk || sk->sk_type != SOCK_STREAM ||
	    sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) ||
	    !net_eq(sock_net(sk), &init_net))
		return 0;
	/* a permission check: the socket's state at this moment will do */
	return READ_ONCE(sk->sk_state) == TCP_LISTEN &&
	       READ_ONCE(inet_sk(sk)->inet_num) == *(const u16 *)arg;
}

/*
 * Does the calling process hold a TCP socket of the initial network
 * namespace listening on @port (any address, IPv4 or IPv6)? Its file
 * table is walked under its lock (export is not a fast path).
 */
static bool vmmc_holds_listener(u16 port)
{
	return current->files &&
	       iterate_fd(current->files, 0, vmmc_fd_listens, &port) != 0;
}

/*
 * Names of the stream sockets' ports (uapi/vmmc.h). A port name
 * VMMC_NAME_PORT(P) with P below the initial network namespace's
 * unprivileged port start needs CAP_NET_BIND_SERVICE in the initial user
 * namespace, as TCP's bind() does there, or a TCP socket listening on P
 * in that namespace (a worker that dropped its privileges after its
 * master bound P). An acceptor name VMMC_NAME_ACCEPT(P, i), whatever P,
 * needs such a listening socket: it takes a share of P's connections, as
 * a process that holds P's listening socket takes a share of TCP's. Not
 * the caller's namespaces: export names are the whole NIC's, and anyone
 * may be root of a user and network namespace of its own (unshare -Urn),
 * with the capability and a port start of its choosing there.
 */
static bool vmmc_name_allowed(u32 name)
{
	u16 port = (u16)name;

	if ((name & VMMC_NAME_ACCEPT_MASK) == VMMC_NAME_ACCEPT_BASE)
		return vmmc_holds_listener(port);
	if ((name & VMMC_NAME_PORT_MASK) != VMMC_NAME_PORT_BASE)
		return true;
	return !inet_port_requires_bind_service(&init_net, port) ||
	       capable(CAP_NET_BIND_SERVICE) || vmmc_holds_listener(port);
}

/**
 * vmmc_ioctl_export() - VMMC_IOC_EXPORT
 * @ep: the endpoint; it gets the export's NQ entries
 * @uarg: struct vmmc_export_req
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno (see struct vmmc_export_req).
 */
long vmmc_ioctl_export(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_export_req req;
	struct vmmc_xuser *spare;
	struct vmmc_xport *x;
	bool leaked = false, taken_off = false, exempt;
	unsigned long seq;
	int err, tries;
	u32 id = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.export_id || req.reserved0)
		return -EINVAL;
	if (!req.len || req.len > VMMC_EXPORT_MAX_LEN)
		return -EINVAL;
	if (!vmmc_name_allowed(req.name))
		return -EACCES;
	exempt = vmmc_user_exempt();	/* before the locks */

	x = kzalloc(sizeof(*x), GFP_KERNEL);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!x || !spare) {
		kfree(spare);
		kfree(x);
		return -ENOMEM;
	}
	for (tries = 0; tries < VMMC_EXPORT_RETRIES; tries++) {
		err = vmmc_umem_get(ep, &x->umem, req.addr, req.len, true,
				    &seq);
		if (err)
			goto out_free;
		err = vmmc_xport_alloc_pagelist(x);
		if (err)
			goto out_release;
		down_read(&vdev->dead_rwsem);
		mutex_lock(&ep->pin_lock);
		if (vdev->dead)
			err = -ENODEV;
		else if (READ_ONCE(vdev->stalled))
			err = -ETIMEDOUT;	/* it would not ack ACTIVE */
		else if (mmu_interval_read_retry(&x->umem.notifier, seq))
			err = -EAGAIN;	/* the buffer changed under us */
		else
			err = vmmc_xport_install(ep, x, &req, exempt,
						 &spare);
		if (!err) {
			id = x->id;	/* copy out before the unlock */
			/* the NIC takes data only once it acked ACTIVE */
			if (vmmc_xport_set_state(x, VMMC_EXPORT_ACTIVE)) {
				/*
				 * It may still ack: revoke it now, before the
				 * unlock lets a sibling's UNEXPORT(id) at it
				 * (to the graveyard, freed once the NIC acks).
				 */
				leaked = vmmc_xport_take_off(ep, x);
				err = -ETIMEDOUT;
				taken_off = true;
			}
		}
		mutex_unlock(&ep->pin_lock);
		up_read(&vdev->dead_rwsem);
		if (err != -EAGAIN)
			break;
		vmmc_xport_free_pagelist(x);
		vmmc_umem_release(&x->umem);
		memset(&x->umem, 0, sizeof(x->umem));
	}
	kfree(spare);			/* unless a user's first export took it */
	spare = NULL;
	if (taken_off) {
		vmmc_xport_put(ep, x, leaked);	/* still ours alone */
		return err;
	}
	if (err)
		goto out_release;

	req.export_id = id;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/*
		 * Nobody can know the id: take the export back, unless a
		 * sibling's UNEXPORT(id) took it already (x is only compared).
		 */
		vmmc_unexport_id(ep, id, x);
		return -EFAULT;
	}
	return 0;

out_release:
	vmmc_umem_release(&x->umem);	/* never published */
out_free:
	kfree(spare);
	vmmc_xport_free_pagelist(x);
	kfree(x);
	return err;
}

/*
 * The graveyard is done with an export its owner let go of: the NIC
 * acknowledged the revocation and the pages are unpinned. Free its table
 * slot (FREE in SRAM, unless unbound) and itself. No vmmc lock held.
 */
static void vmmc_xport_bury(struct vmmc_umem *umem)
{
	struct vmmc_xport *x = container_of(umem, struct vmmc_xport, umem);
	struct vmmc_dev *vdev = umem->ep->vdev;
	struct vmmc_export *e;
	int idx;

	idx = srcu_read_lock(&vdev->srcu);
	mutex_lock(&vdev->exp_lock);
	e = &vdev->exptab[x->id];
	if (!READ_ONCE(vdev->dead) && READ_ONCE(e->state) != VMMC_EXPORT_FREE) {
		/* REVOKED -> FREE, no wait: the NIC refuses both */
		WRITE_ONCE(e->state, VMMC_EXPORT_FREE);
		vmmc_export_gen(vdev, e, x->gen + 1);
		vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	}
	vmmc_xport_slot_free(vdev, x);
	mutex_unlock(&vdev->exp_lock);
	srcu_read_unlock(&vdev->srcu, idx);
	vmmc_xport_free_pagelist(x);
	kfree(x);
	vmmc_stat_add(vdev, VMMC_STAT_EXPORTS, -1);
}

/*
 * Take @x, one of @ep's exports on ep->xports, off: revoke (FREE) with the
 * NIC's ack, detach, free its table slot unless the NIC keeps it. An
 * export the NIC does not let go of leaves ep->xports for the graveyard
 * (pinned, in its table slot) until the NIC acknowledges. pin_lock and
 * dead_rwsem (read) held. Return: leaked (the graveyard's): pass it to
 * vmmc_xport_put() after the unlock.
 */
static bool vmmc_xport_take_off(struct vmmc_ep *ep, struct vmmc_xport *x)
{
	struct vmmc_dev *vdev = ep->vdev;
	bool leaked;

	lockdep_assert_held(&ep->pin_lock);
	if (!x->umem.dead) {
		x->umem.dead = true;
		vmmc_xport_revoke(x, VMMC_EXPORT_FREE);
	} else if (!x->umem.leaked && !vdev->dead) {
		/*
		 * Revoked when its memory went away: REVOKED -> FREE, so that
		 * the NIC's table keeps no stale entry. The NIC refuses both;
		 * if it does not ack, the entry just stays REVOKED.
		 */
		vmmc_xport_set_state(x, VMMC_EXPORT_FREE);
	}
	leaked = x->umem.leaked;
	vmmc_umem_detach(&x->umem);
	list_del_init(&x->node);
	if (!leaked) {
		mutex_lock(&vdev->exp_lock);
		vmmc_xport_slot_free(vdev, x);
		mutex_unlock(&vdev->exp_lock);
	}
	return leaked;
}

/*
 * Finish what vmmc_xport_take_off() started: unpin and free @x, or leave
 * it to the graveyard. The caller owns @x (nobody else can reach it). No
 * vmmc lock held.
 */
static void vmmc_xport_put(struct vmmc_ep *ep, struct vmmc_xport *x,
			   bool leaked)
{
	flush_work(&ep->reap_work);
	if (!vmmc_umem_put(&x->umem, vmmc_xport_bury))
		return;			/* the graveyard frees it */
	if (leaked) {			/* acked meanwhile */
		vmmc_xport_bury(&x->umem);
		return;
	}
	vmmc_xport_free_pagelist(x);
	kfree(x);
	vmmc_stat_add(ep->vdev, VMMC_STAT_EXPORTS, -1);
}

/*
 * Take back export @id of @ep (vmmc_xport_take_off(), vmmc_xport_put()):
 * -EINVAL if @id is not one of @ep's exports, or (@only set) not @only.
 * Nothing of @only is read: it is only compared. No vmmc lock held.
 */
static int vmmc_unexport_id(struct vmmc_ep *ep, u32 id,
			    const struct vmmc_xport *only)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_xport *x;
	bool leaked;

	if (id >= VMMC_MAX_EXPORTS)
		return -EINVAL;
	down_read(&vdev->dead_rwsem);
	mutex_lock(&ep->pin_lock);
	mutex_lock(&vdev->exp_lock);
	x = vdev->xports[id];
	/* owner checked under exp_lock: another owner may free its own */
	if (!x || x->umem.ep != ep || list_empty(&x->node) ||
	    (only && x != only)) {
		mutex_unlock(&vdev->exp_lock);
		mutex_unlock(&ep->pin_lock);
		up_read(&vdev->dead_rwsem);
		return -EINVAL;
	}
	mutex_unlock(&vdev->exp_lock);
	leaked = vmmc_xport_take_off(ep, x);
	mutex_unlock(&ep->pin_lock);
	up_read(&vdev->dead_rwsem);

	vmmc_xport_put(ep, x, leaked);
	return 0;
}

/**
 * vmmc_ioctl_unexport() - VMMC_IOC_UNEXPORT
 * @ep: the endpoint
 * @uarg: __u32 export id
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (not one of this endpoint's exports), -EFAULT.
 */
long vmmc_ioctl_unexport(struct vmmc_ep *ep, void __user *uarg)
{
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	return vmmc_unexport_id(ep, id, NULL);
}

static struct vmmc_import *vmmc_import_row(struct vmmc_ep *ep, u32 i)
{
	return &ep->vdev->imptab[ep->id * VMMC_MAX_IMPORTS + i];
}

static int vmmc_import_errno(u32 status)
{
	switch (status) {
	case VMMC_ST_OK:
		return 0;
	case VMMC_ST_NO_EXPORT:
		return -ENOENT;
	case VMMC_ST_PERM:
		return -EACCES;
	case VMMC_ST_NODE_DOWN:
		return -EHOSTUNREACH;
	case VMMC_ST_BAD_NODE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/**
 * vmmc_ioctl_import() - VMMC_IOC_IMPORT
 * @ep: the endpoint
 * @uarg: struct vmmc_import_req
 *
 * Context: process context, sleeps up to VMMC_KCMD_TIMEOUT.
 * Return: 0 or -errno (see struct vmmc_import_req).
 */
long vmmc_ioctl_import(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_import_req req;
	struct vmmc_kresp resp = { 0 };
	struct vmmc_kcmd cmd = { .op = VMMC_KCMD_IMPORT };
	struct vmmc_import *row;
	int err, i;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.import_id || req.len || req.reserved[0] ||
	    req.reserved[1])
		return -EINVAL;
	if (req.node >= vdev->nr_nodes)
		return -EINVAL;

	down_read(&vdev->dead_rwsem);
	if (vdev->dead) {
		err = -ENODEV;
		goto out_unlock_dead;
	}
	mutex_lock(&ep->imp_lock);
	i = find_first_zero_bit(ep->imp_used, VMMC_MAX_IMPORTS);
	if (i >= VMMC_MAX_IMPORTS) {
		err = -ENOSPC;
		goto out_unlock;
	}
	row = vmmc_import_row(ep, i);
	cmd.node = req.node;
	cmd.name = req.name;
	cmd.key = req.key;
	cmd.ep = ep->id;
	err = vmmc_kcmd(vdev, &cmd, &resp);
	if (!err)
		err = vmmc_import_errno(resp.status);
	if (!err && resp.export_id >= VMMC_MAX_EXPORTS)
		err = -EIO;
	if (err)
		goto out_unlock;
	row->node = req.node;
	row->export_id = resp.export_id;
	row->export_gen = resp.export_gen;
	row->len = resp.len;
	/* pairs with the NIC's read of state before the row */
	dma_wmb();
	WRITE_ONCE(row->state, 1);
	__set_bit(i, ep->imp_used);
	vmmc_stat_inc(vdev, VMMC_STAT_IMPORTS);
	req.import_id = i;
	req.len = resp.len;
out_unlock:
	mutex_unlock(&ep->imp_lock);
out_unlock_dead:
	up_read(&vdev->dead_rwsem);
	if (err)
		return err;
	if (copy_to_user(uarg, &req, sizeof(req)))
		return -EFAULT;	/* the import stays; close frees it */
	return 0;
}

/**
 * vmmc_ioctl_unimport() - VMMC_IOC_UNIMPORT
 * @ep: the endpoint
 * @uarg: __u32 import id
 *
 * SENDs already fetched by the NIC finish with what they were given.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (not an import of this endpoint), -EFAULT.
 */
long vmmc_ioctl_unimport(struct vmmc_ep *ep, void __user *uarg)
{
	struct vmmc_dev *vdev = ep->vdev;
	struct vmmc_import *row;
	int err = 0;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	if (id >= VMMC_MAX_IMPORTS)
		return -EINVAL;
	down_read(&vdev->dead_rwsem);
	mutex_lock(&ep->imp_lock);
	row = vmmc_import_row(ep, id);
	if (vdev->dead) {
		err = -ENODEV;
	} else if (!READ_ONCE(row->state)) {
		err = -EINVAL;
	} else {
		WRITE_ONCE(row->state, 0);
		__clear_bit(id, ep->imp_used);
		vmmc_stat_add(vdev, VMMC_STAT_IMPORTS, -1);
	}
	mutex_unlock(&ep->imp_lock);
	up_read(&vdev->dead_rwsem);
	return err;
}

/**
 * vmmc_ep_drop_imports() - clear an endpoint's import rows
 * @ep: an endpoint being created or destroyed
 *
 * Context: process context; dead_rwsem held for reading, NIC alive.
 */
void vmmc_ep_drop_imports(struct vmmc_ep *ep)
{
	int i;

	mutex_lock(&ep->imp_lock);
	for (i = 0; i < VMMC_MAX_IMPORTS; i++) {
		struct vmmc_import *row = vmmc_import_row(ep, i);

		if (READ_ONCE(row->state))
			vmmc_stat_add(ep->vdev, VMMC_STAT_IMPORTS, -1);
		memset(row, 0, sizeof(*row));
	}
	bitmap_zero(ep->imp_used, VMMC_MAX_IMPORTS);
	mutex_unlock(&ep->imp_lock);
}

/**
 * vmmc_ep_drop_exports() - revoke and unpin every export of an endpoint
 * @ep: an endpoint being destroyed
 *
 * Exports the NIC does not let go of go to the graveyard.
 *
 * Context: process context, may sleep; no vmmc lock held.
 */
void vmmc_ep_drop_exports(struct vmmc_ep *ep)
{
	struct vmmc_xport *x;

	/*
	 * No ioctl runs (use_rwsem held for writing, or release), and only
	 * vmmc_unexport_id() takes them off.
	 */
	while ((x = list_first_entry_or_null(&ep->xports, struct vmmc_xport,
					     node)))
		vmmc_unexport_id(ep, x->id, NULL);
}

/**
 * vmmc_revoke_all_exports() - on unbind: the NIC takes no more data
 * @vdev: the NIC being removed; dead_rwsem held for writing
 *
 * Context: process context, sleeps for the NIC's acks.
 */
void vmmc_revoke_all_exports(struct vmmc_dev *vdev)
{
	struct vmmc_export *e;
	struct vmmc_xport *x;
	int id;

	mutex_lock(&vdev->exp_lock);
	for (id = 0; id < VMMC_MAX_EXPORTS; id++) {
		x = vdev->xports[id];
		if (!x)
			continue;
		e = &vdev->exptab[id];
		WRITE_ONCE(e->state, VMMC_EXPORT_REVOKED);
		x->gen++;
		vmmc_export_gen(vdev, e, x->gen);
	}
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	for (id = 0; id < VMMC_MAX_EXPORTS; id++) {
		x = vdev->xports[id];
		if (x && !vmmc_ctrl_wait64(vdev, &vdev->exptab[id].ack_gen, x->gen))
			WRITE_ONCE(x->revoked, true);
	}
	mutex_unlock(&vdev->exp_lock);
}

// SPDX-License-Identifier: MIT
/*
 * preload_relay.c - a connection handed to a forked child: the
 * fork-per-connection (inetd) pattern, where a server accepts, forks,
 * the child serves and the parent closes its copy. A VMMC connection is
 * its process's endpoint's, and a child never drives its parent's; so a
 * connection the parent accepted and had not used yet (no byte either
 * way) when it forked goes to the child as one end of a kernel stream
 * socket pair (kind VP_RELAY: TCP options taken, the names the
 * connection's), and the parent's relay thread carries bytes between
 * the other end and the connection:
 *
 *   pending  after the fork: nothing moves (the peer's bytes wait in the
 *            ring). The parent closing its fd makes the relay active;
 *            the parent using the connection (a byte either way) takes
 *            it back, and the child's end reads EOF.
 *   active   both ways, with each side's end of stream passed on; when
 *            both ends are done, the parent's hidden alias of the
 *            connection closes, with its linger.
 *
 * The relay thread waits without the lock (poll on its pairs and the
 * endpoint, at most vp_slice_ms), blocks every signal, and ends when
 * nothing is left to relay. A connection
 * already used at the fork is dead in the child, as before (ENOTCONN).
 */

#include "preload_loc.h"

#define VP_RELAY_MAX	64
#define VP_RELAY_BUF	65536

enum { VR_FREE, VR_FORKING, VR_PENDING, VR_ACTIVE, VR_LINGER, VR_CHILD };

struct vp_relay {
	int state;
	int fd;			/* the program's fd number at the fork */
	int id;			/* the socket (vmmc_sock_id) */
	int h;			/* parent: the relay's alias of the socket */
	int lh;			/* its close's linger (vmmc_sock_release) */
	int pa, pc;		/* the pair: parent's end, child's end */
	bool eof_in, eof_out, shut_pa, shut_h;
	size_t n_in, n_out;
	char *in, *out;		/* peer -> child, child -> peer */
	struct sockaddr_storage self, peer;
	socklen_t self_len, peer_len;
};

static struct vp_relay vp_relays[VP_RELAY_MAX];
static bool vp_relay_thread;

/*
 * Bytes the program gave VMMC socket @fd to send and took from it (lock
 * held; bytes that came but wait unread are not counted); -1: unknown.
 */
/* offsets in Linux's struct tcp_info (uapi, stable), which glibc's lacks */
#define VP_TI_BYTES_RECEIVED	128	/* __u64 */
#define VP_TI_NOTSENT_BYTES	144	/* __u32 */
#define VP_TI_BYTES_SENT	200	/* __u64 */
#define VP_TI_SIZE		232

static long long vp_moved(int fd)
{
	unsigned char ti[VP_TI_SIZE];
	socklen_t len = sizeof(ti);
	uint64_t rcvd, sent;
	uint32_t notsent;
	int inq = 0;

	if (vmmc_sock_getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0 ||
	    len < VP_TI_SIZE || vmmc_sock_ioctl(fd, FIONREAD, &inq) < 0)
		return -1;
	memcpy(&rcvd, ti + VP_TI_BYTES_RECEIVED, sizeof(rcvd));
	memcpy(&notsent, ti + VP_TI_NOTSENT_BYTES, sizeof(notsent));
	memcpy(&sent, ti + VP_TI_BYTES_SENT, sizeof(sent));
	return (long long)(sent + notsent + rcvd) - inq;
}

/* fork(), lock held: a pair for each accepted connection not used yet. */
void vp_relay_fork_prepare(void)
{
	struct sockaddr_vmmc v;
	struct vp_relay *r;
	int fd, hi = vp_hi, i, sv[2];
	socklen_t vlen;

	for (fd = 0, i = 0; fd <= hi && i < VP_RELAY_MAX; fd++) {
		if (vp_fds[fd].kind != VP_VMMC || !vp_fds[fd].accepted ||
		    vp_moved(fd) != 0)
			continue;
		while (i < VP_RELAY_MAX && vp_relays[i].state != VR_FREE)
			i++;
		if (i == VP_RELAY_MAX ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			break;
		r = &vp_relays[i];
		memset(r, 0, sizeof(*r));
		r->state = VR_FORKING;
		r->fd = fd;
		r->id = vmmc_sock_id(fd);
		r->h = -1;
		r->pa = sv[0];
		r->pc = sv[1];
		vlen = sizeof(v);
		r->self_len = sizeof(r->self);
		if (!vmmc_sock_getsockname(fd, (struct sockaddr *)&v, &vlen))
			vp_to_inet(&vp_fds[fd], &v, (struct sockaddr *)&r->self,
				   &r->self_len);
		vlen = sizeof(v);
		r->peer_len = sizeof(r->peer);
		if (!vmmc_sock_getpeername(fd, (struct sockaddr *)&v, &vlen))
			vp_to_inet(&vp_fds[fd], &v, (struct sockaddr *)&r->peer,
				   &r->peer_len);
	}
}

static void *vp_relay_main(void *arg);

/* The parent after fork (lock held): the relays wait for its close. */
void vp_relay_fork_parent(void)
{
	sigset_t all, old;
	pthread_t t;
	bool any = false;
	int i, h;

	for (i = 0; i < VP_RELAY_MAX; i++) {
		struct vp_relay *r = &vp_relays[i];

		if (r->state != VR_FORKING)
			continue;
		REAL(close)(r->pc);
		r->pc = -1;
		h = vmmc_sock_dup(r->fd, 0, O_CLOEXEC);
		if (h < 0 || REAL(fcntl)(r->pa, F_SETFL, O_NONBLOCK) < 0) {
			if (h >= 0)
				vmmc_sock_close(h);
			REAL(close)(r->pa);
			r->state = VR_FREE;
			continue;
		}
		r->h = h;
		r->state = VR_PENDING;
		any = true;
		vp_log("vmmc-preload: fd %d: relayed to the child if this process closes it first\n",
		       r->fd);
	}
	if (!any || vp_relay_thread)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (!pthread_create(&t, NULL, vp_relay_main, NULL)) {
		pthread_detach(t);
		vp_relay_thread = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * The child after fork (vp_fork_child made its inherited VMMC sockets
 * dead stand-ins): each relayed connection's number gets the child's end
 * of its pair; the parent's relays are not the child's.
 */
void vp_relay_fork_child(void)
{
	struct vp_relay *r;
	int i;

	vp_relay_thread = false;
	for (i = 0; i < VP_RELAY_MAX; i++) {
		r = &vp_relays[i];
		if (r->state == VR_FORKING &&
		    REAL(dup3)(r->pc, r->fd, vp_fds[r->fd].cloexec ?
			       O_CLOEXEC : 0) == r->fd) {
			vp_fds[r->fd].kind = VP_RELAY;
			REAL(close)(r->pc);
			REAL(close)(r->pa);
			r->state = VR_CHILD;
			continue;
		}
		if (r->state == VR_FORKING || r->state == VR_PENDING ||
		    r->state == VR_ACTIVE) {	/* the parent's: not ours */
			REAL(close)(r->pa);
			if (r->pc >= 0)
				REAL(close)(r->pc);
		}
		r->in = r->out = NULL;	/* the parent's memory: not freed here */
		r->state = VR_FREE;
	}
}

/*
 * A relay's end (lock held): its pair end and its alias of the socket
 * close; a last close's linger goes on in the relay thread's rounds.
 */
static void vp_relay_end(struct vp_relay *r, const char *why)
{
	long h;

	vp_log("vmmc-preload: fd %d: relay to the child %s\n", r->fd, why);
	REAL(close)(r->pa);
	h = vmmc_sock_release(r->h);
	REAL(close)(r->h);
	free(r->in);
	free(r->out);
	r->in = r->out = NULL;
	r->lh = h > 0 ? (int)h : 0;
	r->state = r->lh ? VR_LINGER : VR_FREE;
}

/* One active relay's moves (lock held). */
static void vp_relay_pump(struct vp_relay *r)
{
	ssize_t n;

	if (!r->eof_in && r->n_in < VP_RELAY_BUF) {
		n = vmmc_sock_recv(r->h, r->in + r->n_in, VP_RELAY_BUF - r->n_in,
				   MSG_DONTWAIT);
		if (n > 0)
			r->n_in += (size_t)n;
		else if (n != -EAGAIN)
			r->eof_in = true;	/* end of stream, or reset */
	}
	if (r->n_in) {
		n = REAL(send)(r->pa, r->in, r->n_in, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			memmove(r->in, r->in + n, r->n_in - (size_t)n);
			r->n_in -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN) {
			r->n_in = 0;	/* the child is gone */
			r->eof_in = true;
		}
	}
	if (r->eof_in && !r->n_in && !r->shut_pa) {
		shutdown(r->pa, SHUT_WR);
		r->shut_pa = true;
	}
	if (!r->eof_out && r->n_out < VP_RELAY_BUF) {
		n = REAL(recv)(r->pa, r->out + r->n_out, VP_RELAY_BUF - r->n_out,
			       MSG_DONTWAIT);
		if (n > 0)
			r->n_out += (size_t)n;
		else if (n == 0 || errno != EAGAIN)
			r->eof_out = true;
	}
	if (r->n_out) {
		n = vmmc_sock_send(r->h, r->out, r->n_out,
				   MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			memmove(r->out, r->out + n, r->n_out - (size_t)n);
			r->n_out -= (size_t)n;
		} else if (n != -EAGAIN) {
			/* the peer is gone: the child's end reads EOF, writes EPIPE */
			vp_relay_end(r, "ended: the connection failed");
			return;
		}
	}
	if (r->eof_out && !r->n_out && !r->shut_h) {
		vmmc_sock_shutdown(r->h, SHUT_WR);
		r->shut_h = true;
	}
	if (r->shut_pa && r->shut_h)
		vp_relay_end(r, "done");
}

/* A pending relay (lock held): the parent closed (go) or used (cancel). */
static void vp_relay_look(struct vp_relay *r)
{
	if (vp_fds[r->fd].kind == VP_VMMC && vmmc_sock_id(r->fd) == r->id) {
		if (vp_moved(r->h) != 0)
			vp_relay_end(r, "cancelled: this process used the connection");
		return;
	}
	r->in = malloc(VP_RELAY_BUF);
	r->out = malloc(VP_RELAY_BUF);
	if (!r->in || !r->out) {
		vp_relay_end(r, "failed (no memory)");
		return;
	}
	r->state = VR_ACTIVE;
	vp_log("vmmc-preload: fd %d: relayed to the child\n", r->fd);
}

static void *vp_relay_main(void *arg)
{
	struct pollfd p[VP_RELAY_MAX + 1];
	struct vp_relay *r;
	nfds_t n;
	int i;

	(void)arg;
	for (;;) {
		vp_enter();
		vmmc_sock_progress();	/* the NIC's news: the endpoint's fd quiets */
		n = 0;
		for (i = 0; i < VP_RELAY_MAX; i++)
			if (vp_relays[i].state != VR_FREE &&
			    vp_relays[i].state != VR_CHILD)
				break;
		if (i == VP_RELAY_MAX) {	/* nothing to relay: the next fork starts another */
			vp_relay_thread = false;
			vp_leave();
			return NULL;
		}
		for (i = 0; i < VP_RELAY_MAX; i++) {
			r = &vp_relays[i];
			if (r->state == VR_LINGER && !vmmc_sock_linger(r->lh))
				r->state = VR_FREE;
			if (r->state == VR_PENDING)
				vp_relay_look(r);
			if (r->state == VR_ACTIVE)
				vp_relay_pump(r);
			if (r->state != VR_ACTIVE)
				continue;
			p[n].fd = r->pa;
			p[n].events = (r->eof_out ? 0 : POLLIN) |
				      (r->n_in ? POLLOUT : 0);
			p[n++].revents = 0;
		}
		p[n].fd = vmmc_sock_ep_fd();
		p[n].events = POLLIN;
		p[n].revents = 0;
		if (p[n].fd >= 0)
			n++;
		vp_leave();
		REAL(poll)(p, n, vp_slice_ms);
	}
	return NULL;
}

/* The relayed connection's names, for the child (0), or 1: not one. */
int vp_relay_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct vp_relay *r;
	socklen_t n;
	int i;

	for (i = 0; i < VP_RELAY_MAX; i++) {
		r = &vp_relays[i];
		if (r->state != VR_CHILD || r->fd != fd)
			continue;
		if (!addr || !len)
			return vp_ret(-EFAULT);
		n = peer ? r->peer_len : r->self_len;
		memcpy(addr, peer ? (void *)&r->peer : (void *)&r->self,
		       *len < n ? *len : n);
		*len = n;
		return 0;
	}
	return 1;
}

/* The child closed relayed fd @fd. */
void vp_relay_closed(int fd)
{
	int i;

	for (i = 0; i < VP_RELAY_MAX; i++)
		if (vp_relays[i].state == VR_CHILD && vp_relays[i].fd == fd)
			vp_relays[i].state = VR_FREE;
}

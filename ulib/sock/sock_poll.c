// SPDX-License-Identifier: MIT
/*
 * sock_poll.c - readiness: poll(2) and epoll(7) over VMMC sockets and
 * kernel fds in the same call.
 *
 * A VMMC socket's readiness lives in the library (vs_events()), not in
 * the kernel; what the kernel can wait on is the endpoint's fd, readable
 * when the NIC wrote a completion or a notification (kmod arms the
 * interrupt in its poll). So vmmc_sock_poll() answers the VMMC sockets
 * itself and hands the kernel fds, plus the endpoint's fd when it has to
 * block, to poll(2); vmmc_sock_epoll_wait() keeps VMMC sockets' interest
 * in the library (struct vs_reg, level or edge triggered, one-shot) and
 * adds the endpoint's fd to the epoll set. The sockets' eventfds are in
 * the kernel's set too (with no events: they never fire), so that the
 * kernel checks the epoll fd and the ADD/MOD/DEL rules (EEXIST, ENOENT,
 * EBADF, EINVAL) exactly as for any fd.
 *
 * Edge-triggered: a socket is reported again when something new came
 * since the last report: bytes, EOF, an error, a connection to accept
 * (rx_gen), or room to send, the end of connect (tx_gen) - what Linux
 * does for TCP sockets.
 *
 * Hook for the LD_PRELOAD shim: the eventfd of a socket can also carry
 * its readiness for programs that wait with plain poll/epoll (written by
 * the library on state changes); not done here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "sock_loc.h"

#define VS_COOKIE_EP	0x564d4d4345500000ULL	/* the endpoint's fd */
#define VS_COOKIE_SOCK	0x564d4d4353000000ULL	/* | id: a socket's eventfd */
#define VS_COOKIE_MASK	0xffffffffff000000ULL
#define NS_PER_MS	1000000ULL

uint32_t vs_events(struct vs_sock *s)
{
	uint32_t ev = 0;

	switch (s->state) {
	case VS_FRESH:
		return POLLOUT | POLLWRNORM | POLLHUP;
	case VS_LISTEN:
		vs_acceptor_tick(s);
		return vs_backlog_ready(s) >= 0 ? POLLIN | POLLRDNORM : 0;
	case VS_SYN_SENT:
		return 0;
	case VS_ESTAB:
		vs_update(s);
		if (s->state != VS_ESTAB)
			return vs_events(s);
		if (vs_rx_avail(s) || vs_rx_eof(s) || s->shut_rd)
			ev |= POLLIN | POLLRDNORM;
		if (s->rx_fin)
			ev |= POLLRDHUP;
		if (!s->shut_wr && vs_tx_space(s))
			ev |= POLLOUT | POLLWRNORM;
		if ((s->rx_fin || s->shut_rd) && s->shut_wr)
			ev |= POLLHUP;
		return ev;
	default:	/* VS_CLOSED: failed connect or reset */
		ev = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP |
		     POLLRDHUP;
		return s->err ? ev | POLLERR : ev;
	}
}

static uint64_t vs_left_ms(uint64_t deadline)
{
	uint64_t now, ms = VMMC_SOCK_PROBE_MS;

	if (!deadline)
		return ms;
	now = vs_now_ns();
	if (now >= deadline)
		return 0;
	return (deadline - now) / NS_PER_MS + 1 < ms ?
	       (deadline - now) / NS_PER_MS + 1 : ms;
}

int vmmc_sock_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	uint64_t deadline = 0, ms;
	struct pollfd *k = NULL;
	nfds_t *map = NULL, i, nk;
	struct vs_sock *s;
	int ready, r, err = 0;
	bool block;

	if (nfds && !fds)
		return -EFAULT;
	if (nfds > (nfds_t)1 << 20)
		return -EINVAL;
	k = malloc((nfds + 1) * sizeof(*k));
	map = malloc((nfds + 1) * sizeof(*map));
	if (!k || !map) {
		err = -ENOMEM;
		goto out;
	}
	if (timeout_ms > 0)
		deadline = vs_now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	for (;;) {
		vs_progress();
		ready = 0;
		nk = 0;
		for (i = 0; i < nfds; i++) {
			fds[i].revents = 0;
			if (fds[i].fd < 0)
				continue;
			s = vmmc_sock_is_sock(fds[i].fd) ? vs.byfd[fds[i].fd] :
							   NULL;
			if (!s) {
				k[nk] = fds[i];
				map[nk++] = i;
				continue;
			}
			fds[i].revents = (short)(vs_events(s) &
				((uint32_t)(uint16_t)fds[i].events | POLLERR |
				 POLLHUP));
			if (fds[i].revents)
				ready++;
		}
		block = !ready && timeout_ms && (!deadline ||
						 vs_now_ns() < deadline);
		ms = block ? vs_left_ms(deadline) : 0;
		if (!nk && block && vs.open) {
			/* only VMMC sockets: the competitive wait */
			err = vs_block(NULL, &deadline, 0);
			if (err == -EINTR)
				goto out;
			err = 0;
			continue;
		}
		if (block && vs.open) {
			k[nk].fd = vs.ep.fd;
			k[nk].events = POLLIN;
			map[nk++] = nfds;
		}
		if (nk || block) {
			r = poll(k, nk, (int)ms);
			if (r < 0) {
				err = -errno;
				goto out;
			}
			for (i = 0; i < nk; i++) {
				if (map[i] == nfds || !k[i].revents)
					continue;
				fds[map[i]].revents = k[i].revents;
				ready++;
			}
		}
		if (ready || !block)
			break;
		vs_timers();
	}
	err = ready;
out:
	free(k);
	free(map);
	return err;
}

/* ---- epoll ---- */

int vmmc_sock_epoll_create1(int flags)
{
	int fd = epoll_create1(flags);

	if (fd < 0)
		return -errno;
	vmmc_sock_epoll_close(fd);	/* forget a closed one's number */
	return fd;
}

int vmmc_sock_epoll_close(int epfd)
{
	struct vs_sock *s;
	int i, j;

	for (i = 0; i < vs.nepfds; i++) {
		if (vs.epfds[i].epfd != epfd)
			continue;
		free(vs.epfds[i].q);
		vs.epfds[i] = vs.epfds[--vs.nepfds];
		break;
	}
	for (i = 0; i < vs.ntab; i++) {
		s = vs.tab[i];
		for (j = 0; s && j < s->nregs; j++)
			if (s->regs[j].epfd == epfd)
				s->regs[j--] = s->regs[--s->nregs];
	}
	return 0;
}

/* The endpoint's fd must be in the set, once per endpoint. */
static int vs_epfd_watch_ep(int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = VS_COOKIE_EP };
	struct vs_epfd *e = vs_epfd_find(epfd, true);

	if (!e)
		return -ENOMEM;
	if (e->ep_gen == vs.ep_gen || !vs.open)
		return 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, vs.ep.fd, &ev) && errno != EEXIST)
		return -errno;
	e->ep_gen = vs.ep_gen;
	return 0;
}

static struct vs_reg *vs_reg_find(struct vs_sock *s, int epfd)
{
	int i;

	for (i = 0; i < s->nregs; i++)
		if (s->regs[i].epfd == epfd)
			return &s->regs[i];
	return NULL;
}

int vmmc_sock_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct epoll_event kev = { .events = 0 };
	struct vs_sock *s;
	struct vs_reg *r;
	int err;

	if (!vmmc_sock_is_sock(fd)) {
		if (epoll_ctl(epfd, op, fd, ev))
			return -errno;
		if (op == EPOLL_CTL_ADD && vs.nbyfd)
			return vs_epfd_watch_ep(epfd);
		return 0;
	}
	s = vs.byfd[fd];
	if (op != EPOLL_CTL_DEL && !ev)
		return -EFAULT;
	kev.data.u64 = VS_COOKIE_SOCK | (uint64_t)s->id;
	/* the kernel checks epfd and the op, as for any fd */
	if (epoll_ctl(epfd, op, fd, op == EPOLL_CTL_DEL ? NULL : &kev))
		return -errno;
	r = vs_reg_find(s, epfd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (s->nregs == VS_MAX_REGS) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			return -ENOSPC;
		}
		r = &s->regs[s->nregs++];
		r->epfd = epfd;
		break;
	case EPOLL_CTL_MOD:
		if (!r)
			return -ENOENT;
		break;
	default:
		if (r)
			*r = s->regs[--s->nregs];
		return 0;
	}
	r->events = ev->events;
	r->data = ev->data.u64;
	r->disabled = false;
	/* a new interest is told the present state once, as Linux does */
	r->seen_rx = s->rx_gen - 1;
	r->seen_tx = s->tx_gen - 1;
	err = vs_epfd_watch_ep(epfd);
	vs_epoll_note(s);
	return err;
}

/*
 * Is @s ready for its interest @r: then the event into @out, true. An
 * edge-triggered interest is told only what is new since it was last
 * told; a one-shot one is then disabled.
 */
static bool vs_epoll_one(struct vs_sock *s, struct vs_reg *r,
			 struct epoll_event *out)
{
	uint32_t ev, want = r->events | EPOLLERR | EPOLLHUP;
	bool fresh;

	vs.epoll_visits++;
	ev = vs_events(s) & want;
	if (!ev)
		return false;
	if (r->events & EPOLLET) {
		fresh = ((ev & ~(uint32_t)(EPOLLOUT | EPOLLWRNORM)) &&
			 r->seen_rx != s->rx_gen) ||
			((ev & EPOLLOUT) && r->seen_tx != s->tx_gen);
		if (!fresh)
			return false;
		r->seen_rx = s->rx_gen;
		r->seen_tx = s->tx_gen;
	}
	if (r->events & EPOLLONESHOT)
		r->disabled = true;
	out->events = ev;
	out->data.u64 = r->data;
	return true;
}

/* @s's live interest in @epfd, or NULL. */
static struct vs_reg *vs_epoll_reg(struct vs_sock *s, int epfd)
{
	struct vs_reg *r;

	if (!s || s->fd < 0)
		return NULL;
	r = vs_reg_find(s, epfd);
	return r && !r->disabled ? r : NULL;
}

/* Reverse q[a, b) (three of them rotate the queue). */
static void vs_ids_reverse(int *q, int a, int b)
{
	int t;

	for (b--; a < b; a++, b--) {
		t = q[a];
		q[a] = q[b];
		q[b] = t;
	}
}

/* Every socket of the table (the queue could not grow: no memory). */
static int vs_epoll_scan_all(int epfd, struct epoll_event *out, int max)
{
	struct vs_reg *r;
	int i, n = 0;

	for (i = 0; i < vs.ntab && n < max; i++) {
		r = vs_epoll_reg(vs.tab[i], epfd);
		if (r && vs_epoll_one(vs.tab[i], r, &out[n]))
			n++;
	}
	return n;
}

/*
 * The VMMC sockets of @epfd that are ready, into @out (at most @max):
 * only those in its queue (vs_epoll_note()). A level-triggered interest
 * that is ready stays queued (it is told again next time, as Linux's
 * ready list keeps it), behind those not looked at yet; every other
 * leaves the queue until news for its socket queues it again.
 */
static int vs_epoll_scan(int epfd, struct epoll_event *out, int max)
{
	struct vs_epfd *e = vs_epfd_find(epfd, false);
	int i, n = 0, nq, keep = 0, id, *q;
	struct vs_sock *s;
	struct vs_reg *r;
	bool ready;

	if (!e)
		return 0;
	if (e->qcap < 0)
		return vs_epoll_scan_all(epfd, out, max);
	q = e->q;
	nq = e->nq;
	e->walk++;
	/* q[0, keep) gathers the ready ones kept, moved to the end after */
	for (i = 0; i < nq && n < max; i++) {
		id = q[i];
		s = id < vs.ntab ? vs.tab[id] : NULL;
		r = s ? vs_reg_find(s, epfd) : NULL;
		/* a socket freed, or its interest dropped or seen this walk */
		if (!r || !r->queued || r->walk == e->walk)
			continue;
		r->walk = e->walk;
		ready = !r->disabled && s->fd >= 0 &&
			vs_epoll_one(s, r, &out[n]);
		if (ready)
			n++;
		if (ready && !(r->events & (EPOLLET | EPOLLONESHOT)))
			q[keep++] = id;
		else
			r->queued = false;
	}
	/* not looked at (max reached): first; then the kept ones */
	memmove(q + keep, q + i, (size_t)(nq - i) * sizeof(*q));
	e->nq = keep + nq - i;
	vs_ids_reverse(q, 0, keep);
	vs_ids_reverse(q, keep, e->nq);
	vs_ids_reverse(q, 0, e->nq);
	return n;
}

int vmmc_sock_epoll_wait(int epfd, struct epoll_event *events, int max,
			 int timeout_ms)
{
	uint64_t deadline = 0;
	int n, r, i, ms;

	if (max <= 0)
		return -EINVAL;
	if (!events)
		return -EFAULT;
	if (timeout_ms > 0)
		deadline = vs_now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	if (vs.open)
		vs_epfd_watch_ep(epfd);
	for (;;) {
		vs_progress();
		n = vs_epoll_scan(epfd, events, max);
		ms = 0;
		if (!n && timeout_ms)
			ms = (int)vs_left_ms(deadline);
		if (!n && timeout_ms && deadline && !ms)
			return 0;
		if (n < max) {
			r = epoll_wait(epfd, events + n, max - n, ms);
			if (r < 0)
				return n ? n : -errno;
			for (i = 0; i < r; i++) {
				if ((events[n + i].data.u64 & VS_COOKIE_MASK) ==
				    VS_COOKIE_SOCK ||
				    events[n + i].data.u64 == VS_COOKIE_EP) {
					/* ours: drop it from the answer */
					events[n + i] = events[n + r - 1];
					r--;
					i--;
				}
			}
			n += r;
		}
		if (n || !timeout_ms)
			return n;
		vs_timers();
	}
}

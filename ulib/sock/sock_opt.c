// SPDX-License-Identifier: MIT
/*
 * sock_opt.c - the stream sockets' calls that tune a socket or ask about
 * it: ioctl(2)'s queries, names, socket options (SOL_VMMC's are in
 * sock_zc.c; the kernel's TCP, IP and most socket ones in sock_tcpopt.c),
 * and the stack's own queries (its endpoint's fd, spin,
 * statistics). Errors as in sock.c: EBADF, then ENOTSOCK, then the
 * call's own.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "sock_loc.h"

/*
 * ioctl(2)'s socket queries, as a kernel TCP socket answers them: bytes
 * readable (FIONREAD, SIOCINQ), bytes queued but not yet in the peer's
 * ring (SIOCOUTQ: not completed; SIOCOUTQNSD: not handed to the NIC);
 * 0 before a connection is set up, EINVAL on a listener. FIONBIO sets
 * the blocking mode from *@val.
 */
int vmmc_sock_ioctl(int fd, unsigned long req, int *val)
{
	struct vs_sock *s;
	uint64_t n = 0;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (req != FIONREAD && req != SIOCOUTQ && req != SIOCOUTQNSD &&
	    req != FIONBIO)
		return -ENOTTY;
	if (!val)
		return -EFAULT;
	if (req == FIONBIO) {
		s->nonblock = !!*val;
		return 0;
	}
	if (s->state == VS_LISTEN)
		return -EINVAL;
	vs_poke(s);
	if (s->state == VS_ESTAB || s->state == VS_CLOSED) {
		if (req == FIONREAD)
			n = s->rx ? vs_rx_avail(s) : 0;
		else if (req == SIOCOUTQ)
			n = s->tx_queued - s->tx_done;
		else
			n = s->tx_queued - s->tx_posted;
	}
	*val = n > INT_MAX ? INT_MAX : (int)n;
	return 0;
}

/* getsockname (@peer false) and getpeername (@peer true). */
static int vs_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (!addr || !len)
		return -EFAULT;
	if (!peer) {
		vs_fill_addr(addr, len, s->node,
			     s->bound || s->state != VS_FRESH ? s->port : 0,
			     s->via);
		return 0;
	}
	if (s->state != VS_ESTAB && !(s->state == VS_CLOSED && s->tx_ring))
		return -ENOTCONN;
	vs_fill_addr(addr, len, s->peer_node, s->peer_port, s->via);
	return 0;
}

int vmmc_sock_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return vs_name(fd, addr, len, false);
}

int vmmc_sock_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return vs_name(fd, addr, len, true);
}

/* A ring size from SO_RCVBUF: a power of two within the limits. */
static uint32_t vs_ring_size(int v)
{
	uint32_t r = VMMC_SOCK_RCVBUF_MIN;

	while (r < (uint32_t)v && r < VMMC_SOCK_RCVBUF_MAX)
		r <<= 1;
	return r;
}

static int vs_get_timeo(uint64_t *ms, const void *val, socklen_t len)
{
	struct timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0)
		*ms = 0;
	else
		*ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)(tv.tv_usec + 999) / 1000;
	return 0;
}

int vmmc_sock_setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len)
{
	struct vs_sock *s;
	int v, err = vs_lookup(fd, &s);

	if (err)
		return err;
	if ((int)len < 0)
		return -EINVAL;
	if (!val)
		return -EFAULT;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		return vs_get_timeo(name == SO_RCVTIMEO ? &s->rcvtimeo_ms :
				    &s->sndtimeo_ms, val, len);
	if (level == SOL_VMMC || (level == SOL_SOCKET && (name == SO_RCVBUF ||
							  name == SO_SNDBUF))) {
		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		if (level == SOL_VMMC)
			return vs_setopt_vmmc(s, name, v);
		/* for rings made later, within the budget (vs_mem_plan()) */
		if (name == SO_RCVBUF) {
			s->rcvbuf = vs_ring_size(v);
			s->rcvbuf_set = true;
		} else {
			s->sndbuf = vs_ring_size(v);	/* the peer's ring, at most */
			s->sndbuf_set = true;
		}
		return 0;
	}
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP &&
	    level != IPPROTO_IPV6)
		return -ENOPROTOOPT;
	return vs_setopt_std(s, level, name, val, len);
}

int vmmc_sock_getsockopt(int fd, int level, int name, void *val,
			 socklen_t *len)
{
	struct vs_sock *s;
	struct timeval tv;
	uint64_t ms;
	int v, err = vs_lookup(fd, &s);

	if (err)
		return err;
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP &&
	    level != IPPROTO_IPV6 && level != SOL_VMMC)
		return -EOPNOTSUPP;	/* as the kernel's IP layer says */
	if (!val || !len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		ms = name == SO_RCVTIMEO ? s->rcvtimeo_ms : s->sndtimeo_ms;
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
		memcpy(val, &tv, *len < sizeof(tv) ? *len : sizeof(tv));
		*len = *len < sizeof(tv) ? *len : sizeof(tv);
		return 0;
	}
	if (level == SOL_VMMC) {
		err = vs_getopt_vmmc(s, name, &v);
		if (err)
			return err;
	} else if ((err = vs_getopt_std(s, level, name, val, len)) <= 0) {
		return err;
	} else if (level != SOL_SOCKET) {
		return -ENOPROTOOPT;
	} else {
		switch (name) {
		case SO_RCVBUF:
			v = (int)(s->rx_ring ? s->rx_ring : s->rcvbuf);
			break;
		case SO_SNDBUF:
			v = (int)(s->tx_ring ? s->tx_ring : s->sndbuf);
			break;
		case SO_ERROR:
			vs_poke(s);
			v = s->err;
			s->err = 0;
			break;
		case SO_TYPE:
			v = SOCK_STREAM;
			break;
		case SO_ACCEPTCONN:
			v = s->state == VS_LISTEN;
			break;
		case SO_DOMAIN:
			v = AF_VMMC;
			break;
		case SO_PROTOCOL:
			v = IPPROTO_TCP;
			break;
		default:
			return -ENOPROTOOPT;
		}
	}
	memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
	*len = *len < sizeof(v) ? *len : sizeof(v);
	return 0;
}

int vmmc_sock_set_nonblock(int fd, int on)
{
	struct vs_sock *s;
	int err = vs_lookup(fd, &s);

	if (err)
		return err;
	s->nonblock = !!on;
	return 0;
}

void vmmc_sock_progress(void)
{
	vs_progress();
}

int vmmc_sock_ep_fd(void)
{
	return vs.open ? vs.ep.fd : -1;
}

uint32_t vmmc_sock_spin_ns(void)
{
	struct vmmc_wait_stats w;

	if (!vs.open || vs.ep.wait_policy == VMMC_WAIT_BLOCK)
		return 0;
	vmmc_wait_stats(&vs.ep, &w);
	return w.spin_ns;
}

/*
 * struct vmmc_sock_stats only grows at its end. vmmc_sock_stats@@VMMC_0.7
 * fills the whole of today's struct; programs linked before it (against
 * vmmc_sock_stats@VMMC_0.5) get the struct as VMMC_0.5 had it, up to
 * zc_posts, so a larger struct never overruns their smaller one.
 */
void vmmc_sock_stats_v07(struct vmmc_sock_stats *out);
void vmmc_sock_stats_v05(struct vmmc_sock_stats *out);
__asm__(".symver vmmc_sock_stats_v07, vmmc_sock_stats@@VMMC_0.7");
__asm__(".symver vmmc_sock_stats_v05, vmmc_sock_stats@VMMC_0.5");

void vmmc_sock_stats_v07(struct vmmc_sock_stats *out)
{
	uint32_t ranges = 0, pages = 0;

	if (vs.open)
		vmmc_svc_zc_usage(&vs.ep, &ranges, &pages);
	*out = vs.st;
	out->zc_pin_ranges = ranges;
	out->zc_pin_pages = pages;
}

void vmmc_sock_stats_v05(struct vmmc_sock_stats *out)
{
	memcpy(out, &vs.st, offsetof(struct vmmc_sock_stats, zc_bytes));
}

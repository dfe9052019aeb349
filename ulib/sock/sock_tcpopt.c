// SPDX-License-Identifier: MIT
/*
 * sock_tcpopt.c - the options a kernel TCP socket takes (levels
 * SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, and an AF_INET6 one's
 * IPPROTO_IPV6: the shim keeps those from AF_INET sockets), with the
 * kernel's rules: an int
 * option wants optlen >= sizeof(int) (else EINVAL; IP's take a byte
 * too), a value out of the kernel's range is EINVAL, an unknown name
 * ENOPROTOOPT; getsockopt answers with the kernel's defaults and
 * roundings and cuts the answer to the caller's length. Most are kept
 * and answered only: VMMC has no segments, windows, retransmissions or
 * TOS (vmmc_sock(7) lists what each does here). TCP_CORK is honoured
 * (vs_flush_tx()), keepalive and TCP_USER_TIMEOUT (vs_live()),
 * TCP_INFO filled from the connection's counts.
 *
 * Only <linux/tcp.h> here (its struct tcp_info is the kernel's, larger
 * than glibc's): no <netinet/tcp.h>.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include "sock_loc.h"

enum { VS_O_INT, VS_O_BOOL };

/* An int option: EINVAL outside [lo, hi]; its value before any set. */
struct vs_iopt {
	int level, name, kind, lo, hi, def;
};

static const struct vs_iopt vs_iopts[] = {
	{ IPPROTO_TCP, TCP_NODELAY, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_MAXSEG, VS_O_INT, 0, 32767, 536 },
	{ IPPROTO_TCP, TCP_CORK, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, VS_O_INT, 1, 32767, 7200 },
	{ IPPROTO_TCP, TCP_KEEPINTVL, VS_O_INT, 1, 32767, 75 },
	{ IPPROTO_TCP, TCP_KEEPCNT, VS_O_INT, 1, 127, 9 },
	{ IPPROTO_TCP, TCP_SYNCNT, VS_O_INT, 1, 127, 6 },
	{ IPPROTO_TCP, TCP_LINGER2, VS_O_INT, INT_MIN, INT_MAX, 60 },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, VS_O_INT, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_QUICKACK, VS_O_BOOL, INT_MIN, INT_MAX, 1 },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, VS_O_INT, 0, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_FASTOPEN, VS_O_INT, 0, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT, VS_O_INT, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, VS_O_INT, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, VS_O_INT, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_WINDOW_CLAMP, VS_O_INT, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_TCP, TCP_INQ, VS_O_INT, 0, 1, 0 },
	{ SOL_SOCKET, SO_REUSEADDR, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_REUSEPORT, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_KEEPALIVE, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_BROADCAST, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_OOBINLINE, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_DONTROUTE, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_PRIORITY, VS_O_INT, INT_MIN, INT_MAX, 0 },
	{ SOL_SOCKET, SO_RCVLOWAT, VS_O_INT, INT_MIN, INT_MAX, 1 },
	{ SOL_SOCKET, SO_BUSY_POLL, VS_O_INT, 0, INT_MAX, 0 },
	{ IPPROTO_IP, IP_TOS, VS_O_INT, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_IP, IP_TTL, VS_O_INT, -1, 255, 64 },
	{ IPPROTO_IP, IP_MTU_DISCOVER, VS_O_INT, 0, 5, 1 },
	{ IPPROTO_IP, IP_FREEBIND, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_IP, IP_RECVTOS, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_IPV6, IPV6_TCLASS, VS_O_INT, -1, 255, 0 },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, VS_O_INT, -1, 255, 64 },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER, VS_O_INT, 0, 5, 1 },
	{ IPPROTO_IPV6, IPV6_RECVTCLASS, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
	{ IPPROTO_IPV6, IPV6_FREEBIND, VS_O_BOOL, INT_MIN, INT_MAX, 0 },
};

_Static_assert(sizeof(vs_iopts) / sizeof(vs_iopts[0]) <= VS_NIOPT,
	       "VS_NIOPT too small");

static int vs_iopt_find(int level, int name)
{
	int i;

	for (i = 0; i < (int)(sizeof(vs_iopts) / sizeof(vs_iopts[0])); i++)
		if (vs_iopts[i].level == level && vs_iopts[i].name == name)
			return i;
	return -1;
}

/*
 * TCP_DEFER_ACCEPT's seconds as the kernel keeps them: SYN-ACK
 * retransmissions from a 1 s time-out doubling up to 120 s, answered as
 * the seconds they cover (so 5 reads back as 7).
 */
static int vs_defer_round(int secs)
{
	int n = 1, timeout = 1, period = 1;

	if (secs <= 0)
		return 0;
	while (secs > period && n < 255) {
		n++;
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
		period += timeout;
	}
	return period;
}

/* A value as the kernel stores it (what getsockopt will answer). */
static int vs_iopt_store(const struct vs_sock *s, const struct vs_iopt *o,
			 int v)
{
	if (o->kind == VS_O_BOOL)
		return !!v;
	switch (o->level << 16 | o->name) {
	case IPPROTO_TCP << 16 | TCP_LINGER2:
		return v < 0 ? -1 : v == 0 ? 60 : v > 120 ? 120 : v;
	case IPPROTO_TCP << 16 | TCP_DEFER_ACCEPT:
		return vs_defer_round(v);
	case IPPROTO_TCP << 16 | TCP_MAXSEG:
		return v ? v : 536;
	case SOL_SOCKET << 16 | SO_RCVLOWAT:
		return v < 0 ? INT_MAX : v ? v : 1;
	case IPPROTO_IP << 16 | IP_TOS:		/* ECN bits are TCP's */
		return v & 0xfc;
	case IPPROTO_IP << 16 | IP_TTL:
	case IPPROTO_IPV6 << 16 | IPV6_UNICAST_HOPS:
		return v < 0 ? 64 : v;
	case IPPROTO_IPV6 << 16 | IPV6_TCLASS:	/* -1: the default, 0 */
		return v < 0 ? 0 : v & 0xfc;
	case IPPROTO_TCP << 16 | TCP_FASTOPEN:	/* the queue, capped */
		return v > VMMC_SOCK_BACKLOG_MAX ? VMMC_SOCK_BACKLOG_MAX : v;
	default:
		(void)s;
		return v;
	}
}

/* Option @level/@name's value now (set, or the default). */
static int vs_iopt_get(const struct vs_sock *s, int level, int name)
{
	int i = vs_iopt_find(level, name);

	return s->iopt_set & 1ull << i ? s->iopt[i] : vs_iopts[i].def;
}

/* The numbers the engine acts on (struct vs_knobs), from the options. */
static void vs_knobs_sync(struct vs_sock *s)
{
	s->kn.ka_on = vs_iopt_get(s, SOL_SOCKET, SO_KEEPALIVE);
	s->kn.ka_idle_s = (uint32_t)vs_iopt_get(s, IPPROTO_TCP, TCP_KEEPIDLE);
	s->kn.ka_intvl_s = (uint32_t)vs_iopt_get(s, IPPROTO_TCP, TCP_KEEPINTVL);
	s->kn.ka_cnt = (uint32_t)vs_iopt_get(s, IPPROTO_TCP, TCP_KEEPCNT);
	s->kn.user_to_ms = (uint32_t)vs_iopt_get(s, IPPROTO_TCP,
						 TCP_USER_TIMEOUT);
	s->kn.defer_s = (uint32_t)vs_iopt_get(s, IPPROTO_TCP, TCP_DEFER_ACCEPT);
}

static int vs_set_cong(struct vs_sock *s, const void *val, socklen_t len)
{
	char name[sizeof(s->cong)], avail[256], *w, *save = NULL;
	FILE *f;
	size_t n;

	if ((int)len < 1)
		return -EINVAL;
	n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
	memcpy(name, val, n);
	name[n] = '\0';
	/* the kernel's choices; reno and cubic if it does not say */
	strcpy(avail, "reno cubic");
	f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "re");
	if (f) {
		if (!fgets(avail, sizeof(avail), f))
			strcpy(avail, "reno cubic");
		fclose(f);
	}
	for (w = strtok_r(avail, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		if (!strcmp(w, name))
			break;
	if (!w)
		return -ENOENT;
	memcpy(s->cong, name, sizeof(name));
	return 0;
}

/*
 * setsockopt of an option this file keeps (not SO_RCVTIMEO/SNDTIMEO,
 * SO_RCVBUF/SNDBUF or SOL_VMMC's: sock_opt.c's). @val is not NULL.
 */
int vs_setopt_std(struct vs_sock *s, int level, int name, const void *val,
		  socklen_t len)
{
	struct linger lg;
	unsigned char c;
	int i, v = 0;

	if (level == IPPROTO_TCP && name == TCP_CONGESTION)
		return vs_set_cong(s, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		s->linger_on = !!lg.l_onoff;
		if (lg.l_onoff)
			s->linger_s = lg.l_linger;
		return 0;
	}
	if (level == IPPROTO_IP && len < sizeof(int)) {
		if (len >= 1) {		/* IP's ints may come as a byte */
			memcpy(&c, val, 1);
			v = c;
		}
	} else if (len < sizeof(int)) {
		return -EINVAL;
	} else {
		memcpy(&v, val, sizeof(v));
	}
	i = vs_iopt_find(level, name);
	if (i < 0)
		return -ENOPROTOOPT;
	if (v < vs_iopts[i].lo || v > vs_iopts[i].hi)
		return -EINVAL;
	if ((name == TCP_MAXSEG && level == IPPROTO_TCP && v && v < 88) ||
	    (level == IPPROTO_IP && name == IP_TTL && (v == 0 || len < 1)) ||
	    (level == IPPROTO_IP && name == IP_FREEBIND && len < 1))
		return -EINVAL;
	/*
	 * Fast Open: a listener's queue, or a client's before connect; a
	 * window clamp goes back to none only before connect
	 */
	if (level == IPPROTO_TCP &&
	    ((name == TCP_FASTOPEN && s->state != VS_FRESH &&
	      s->state != VS_LISTEN) ||
	     ((name == TCP_FASTOPEN_CONNECT || (name == TCP_WINDOW_CLAMP && !v)) &&
	      s->state != VS_FRESH)))
		return -EINVAL;
	s->iopt[i] = vs_iopt_store(s, &vs_iopts[i], v);
	s->iopt_set |= 1ull << i;
	vs_knobs_sync(s);
	/*
	 * Uncork: what was held goes now. TCP_NODELAY on pushes it once
	 * too, the socket staying corked (the kernel's TCP_NAGLE_PUSH).
	 */
	if (level == IPPROTO_TCP && (name == TCP_CORK || (name == TCP_NODELAY &&
							  v && s->cork))) {
		bool more = s->more;	/* a MSG_MORE send's cork ends */

		s->cork = false;
		s->more = false;
		vs_flush_tx(s);
		vs_state_out(s, false);
		s->cork = name == TCP_CORK ? !!v : !more;
		if (s->cork)
			vs_timer_at(s, 0);	/* its ceiling, from the next run */
	}
	return 0;
}

/* Copy @n bytes of @src to @val and say so in *@len. */
static void vs_answer(void *val, socklen_t *len, const void *src, size_t n)
{
	memcpy(val, src, n);
	*len = (socklen_t)n;
}

/* TCP_INFO: the kernel's struct, with what has a meaning here. */
static void vs_tcp_info(struct vs_sock *s, void *val, socklen_t *len)
{
	struct tcp_info ti;

	memset(&ti, 0, sizeof(ti));
	vs_poke(s);
	switch (s->state) {
	case VS_LISTEN:
		ti.tcpi_state = 10;			/* TCP_LISTEN */
		ti.tcpi_unacked = (uint32_t)s->nbacklog;
		ti.tcpi_sacked = (uint32_t)s->backlog_max;
		break;
	case VS_SYN_SENT:
		ti.tcpi_state = 2;			/* TCP_SYN_SENT */
		break;
	case VS_ESTAB:
		ti.tcpi_state = s->shut_wr ? 4 : 1;	/* FIN_WAIT1, ESTAB */
		if (s->rx_fin)
			ti.tcpi_state = s->shut_wr ? 11 : 8; /* CLOSING, WAIT */
		break;
	default:
		ti.tcpi_state = 7;			/* TCP_CLOSE */
	}
	if (s->rx_ring || s->tx_ring) {
		ti.tcpi_snd_mss = VS_CORK_SEG;
		ti.tcpi_rcv_mss = VS_CORK_SEG;
		ti.tcpi_advmss = VS_CORK_SEG;
		ti.tcpi_pmtu = 65536;
		ti.tcpi_rcv_space = s->rx_ring;
		ti.tcpi_snd_cwnd = s->tx_ring / VS_CORK_SEG + 1;
		ti.tcpi_snd_ssthresh = 0x7fffffff;
		ti.tcpi_rcv_ssthresh = s->rx_ring;
		ti.tcpi_bytes_acked = s->tx_acked;
		ti.tcpi_bytes_sent = s->tx_posted;
		ti.tcpi_notsent_bytes = (uint32_t)(s->tx_queued - s->tx_posted);
		ti.tcpi_bytes_received = s->rx_sent;
		ti.tcpi_unacked = (uint32_t)((s->tx_posted - s->tx_acked +
					      VS_CORK_SEG - 1) / VS_CORK_SEG);
		ti.tcpi_rto = 200000;			/* µs, TCP_RTO_MIN */
		ti.tcpi_ato = 40000;
	}
	vs_answer(val, len, &ti, *len < sizeof(ti) ? *len : sizeof(ti));
}

/*
 * getsockopt of an option this file answers (as vs_setopt_std()'s, and
 * TCP_INFO, SO_SNDLOWAT). @val and @len are not NULL. 1: not one of
 * them (sock_opt.c answers). *@len is not negative.
 */
int vs_getopt_std(struct vs_sock *s, int level, int name, void *val,
		  socklen_t *len)
{
	struct linger lg;
	char cong[sizeof(s->cong)];
	unsigned char c;
	int i, v, n;

	if (level == IPPROTO_TCP && name == TCP_INFO) {
		vs_tcp_info(s, val, len);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		memset(cong, 0, sizeof(cong));
		strcpy(cong, s->cong[0] ? s->cong : "cubic");
		vs_answer(val, len, cong, *len < sizeof(cong) ? *len :
					  sizeof(cong));
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		lg.l_onoff = s->linger_on;
		lg.l_linger = s->linger_s;
		vs_answer(val, len, &lg, *len < sizeof(lg) ? *len : sizeof(lg));
		return 0;
	}
	i = vs_iopt_find(level, name);
	if (i >= 0)
		v = s->iopt_set & 1ull << i ? s->iopt[i] : vs_iopts[i].def;
	else if (level == SOL_SOCKET && name == SO_SNDLOWAT)
		v = 1;
	else
		return 1;
	n = (int)*len;		/* not negative (sock_opt.c) */
	if (level == IPPROTO_IP && n > 0 && n < (int)sizeof(int) &&
	    v >= 0 && v <= 255) {
		c = (unsigned char)v;
		vs_answer(val, len, &c, 1);
		return 0;
	}
	if (n > (int)sizeof(int))
		n = sizeof(int);
	vs_answer(val, len, &v, (size_t)n);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_fault.c - the wire between the NICs, the faults it injects, and
 * the fabric's control socket
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
 * - Control socket: a stream socket (--ctl, default RUN_DIR/fabric.ctl),
 *   one request line per connection, answered with "ok" or "error: ..."
 *   on the first line, then text, then the fabric closes it. A client
 *   can never block the NIC: every control connection is non-blocking
 *   and served by the event loop as its bytes come; at most
 *   FABRIC_CTL_CLIENTS are open at once (more are closed at once,
 *   unanswered) and each is closed FABRIC_CTL_MS after it connected,
 *   answered or not (a client that sends nothing, or dribbles, or never
 *   reads its answer, loses only its own request). Requests:
 *   "fault SPEC...", "dead-ms N", "show", "help". The client is
 *   "vmmc-fabric ctl RUN_DIR|SOCKET REQUEST...": exit 0 on "ok", 1 on
 *   an error answer, 2 if it could not talk to the fabric.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
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
		if (!val || parse_uint(val, 10000000, &v))
			return err_out(err, errlen, "delay-us: want 0..10000000");
		ft->delay_us = v;
	} else if (!strcmp(key, "down")) {
		if (!val || parse_uint(val, 1, &v))
			return err_out(err, errlen, "down: want 0 or 1");
		ft->down = v;
		ft->down_until = 0;
	} else if (!strcmp(key, "down-ms")) {
		if (!val || parse_uint(val, 3600000, &v) || !v)
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
		if (parse_uint(copy + 4, FABRIC_MAX_NODES, &a) ||
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
		if (parse_uint(copy, FABRIC_MAX_NODES, &a) ||
		    parse_uint(dash + 1, FABRIC_MAX_NODES, &b) ||
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
			    parse_uint(val, 1, &a)) {
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

/* ------------------------------------------------------------------------
 * The control socket
 */
int fabric_ctl_listen(struct fabric *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, err;

	if (!f->ctl_path &&
	    asprintf(&f->ctl_path, "%s/fabric.ctl", f->run_dir) < 0) {
		f->ctl_path = NULL;
		return -1;
	}
	if (strlen(f->ctl_path) >= sizeof(a.sun_path)) {
		fab_log(f, LOG_ERR, "%s: control socket path too long",
			f->ctl_path);
		return -1;
	}
	strcpy(a.sun_path, f->ctl_path);
	unlink(f->ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* fault injection is the fabric owner's alone: mode 0600 */
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (err || listen(fd, 8)) {
		fab_log(f, LOG_ERR, "%s: %s", f->ctl_path, strerror(errno));
		close(fd);
		return -1;
	}
	f->ctl_fd = fd;
	return 0;
}

static void cli_close(struct fabric *f, struct fabric_ctl_client *c);

void fabric_ctl_close(struct fabric *f)
{
	unsigned int i;

	for (i = 0; i < FABRIC_CTL_CLIENTS; i++)
		cli_close(f, &f->ctl_cli[i]);
	if (f->ctl_fd >= 0) {
		close(f->ctl_fd);
		unlink(f->ctl_path);
	}
	f->ctl_fd = -1;
	free(f->ctl_path);
	f->ctl_path = NULL;
}

struct obuf {
	char buf[16384];
	size_t len;
};

static void out(struct obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= sizeof(o->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ?
			  (size_t)n : sizeof(o->buf) - o->len - 1;
}

static void show(struct fabric *f, struct obuf *o)
{
	unsigned int s, d;

	out(o, "ok\ndead-ms %llu\n", (unsigned long long)(f->dead_ns / 1000000));
	for (s = 0; s < f->nr_nodes; s++)
		out(o, "node%u %s\n", s, f->nodes[s].dead ? "dead" : "alive");
	for (s = 0; s < f->nr_nodes; s++)
		for (d = 0; d < f->nr_nodes; d++) {
			struct fabric_link *l = &f->links[s][d];
			struct fabric_fault *ft = &l->fault;
			struct fabric_link_stats *st = &l->st;

			out(o, "link %u-%u %s%s drop %.2f dup %.2f reorder %.2f corrupt %.2f delay %.2f delay-us %u\n",
			    s, d, ft->down ? "down" : "up",
			    l->dead ? " peer-dead" : "", ft->drop / 1e4,
			    ft->dup / 1e4, ft->reorder / 1e4,
			    ft->corrupt / 1e4, ft->delay / 1e4, ft->delay_us);
			out(o, "  epoch %u sent %llu retrans %llu acks %llu unacked %u drops %llu dups %llu reorders %llu corrupts %llu delays %llu rx_dups %llu rx_ooo %llu rx_bad %llu deaths %llu\n",
			    l->tx_epoch, (unsigned long long)st->sent,
			    (unsigned long long)st->retrans,
			    (unsigned long long)st->acks, l->in_window,
			    (unsigned long long)st->drops,
			    (unsigned long long)st->dups,
			    (unsigned long long)st->reorders,
			    (unsigned long long)st->corrupts,
			    (unsigned long long)st->delays,
			    (unsigned long long)st->rx_dups,
			    (unsigned long long)st->rx_ooo,
			    (unsigned long long)st->rx_bad,
			    (unsigned long long)st->deaths);
		}
}

static const char ctl_help[] =
	"ok\n"
	"fault SPEC...   TARGET:KEY=VALUE[,KEY=VALUE...]; TARGET all, S-D, nodeN\n"
	"                link keys: drop dup reorder corrupt delay (percent),\n"
	"                delay-us N, down 0|1, down-ms N, clear; node: dead 0|1\n"
	"dead-ms N       time without ack progress before a peer is dead\n"
	"show            faults, link state and counters\n"
	"help            this text\n";

static void request(struct fabric *f, char *line, struct obuf *o)
{
	char err[256], *save = NULL, *cmd, *arg;
	unsigned long v;

	cmd = strtok_r(line, " \t\r\n", &save);
	if (!cmd || !strcmp(cmd, "help")) {
		out(o, "%s", ctl_help);
	} else if (!strcmp(cmd, "show")) {
		show(f, o);
	} else if (!strcmp(cmd, "dead-ms")) {
		arg = strtok_r(NULL, " \t\r\n", &save);
		if (!arg || parse_uint(arg, 3600000, &v) || v < 10) {
			out(o, "error: dead-ms: want 10..3600000\n");
			return;
		}
		f->dead_ns = v * 1000000ull;
		out(o, "ok\n");
	} else if (!strcmp(cmd, "fault")) {
		unsigned int nr = 0;

		while ((arg = strtok_r(NULL, " \t\r\n", &save))) {
			if (fabric_fault_parse(f, arg, err, sizeof(err))) {
				out(o, "error: %s (%u spec(s) before it applied)\n",
				    err, nr);
				return;
			}
			nr++;
		}
		if (!nr)
			out(o, "error: fault: no spec given\n");
		else
			out(o, "ok\n");
	} else {
		out(o, "error: unknown request '%s' (try help)\n", cmd);
	}
}

static void cli_close(struct fabric *f, struct fabric_ctl_client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(f->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

/* A connection on the control socket: a slot, non-blocking, in epoll. */
void fabric_ctl_accept(struct fabric *f)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	unsigned int i;
	int fd;

	while ((fd = accept4(f->ctl_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		for (i = 0; i < FABRIC_CTL_CLIENTS; i++)
			if (f->ctl_cli[i].fd < 0)
				break;
		ev.data.u64 = FEV_TAG(FEV_CTL_CLIENT, 0, i);
		if (i == FABRIC_CTL_CLIENTS ||
		    epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			f->ctl_refused++;
			fab_log(f, LOG_V, "control socket: %u clients open: connection closed",
				FABRIC_CTL_CLIENTS);
			close(fd);
			continue;
		}
		f->ctl_cli[i].fd = fd;
		f->ctl_cli[i].len = 0;
		f->ctl_cli[i].deadline = fabric_now_ns() +
					 FABRIC_CTL_MS * 1000000ull;
	}
}

/* Write what the socket takes of the answer; true once all of it went. */
static bool cli_write(struct fabric_ctl_client *c)
{
	ssize_t r;

	while (c->off < c->out_len) {
		r = send(c->fd, c->out + c->off, c->out_len - c->off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return false;
		if (r <= 0)
			return true;	/* the client went: nothing to finish */
		c->off += r;
	}
	return true;
}

/* The request line is complete (or the client stopped): answer it. */
static bool cli_answer(struct fabric *f, struct fabric_ctl_client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	static struct obuf o;

	c->line[c->len] = 0;
	o.len = 0;
	o.buf[0] = 0;
	if (c->len == sizeof(c->line) - 1 && !memchr(c->line, '\n', c->len))
		out(&o, "error: request too long\n");
	else
		request(f, c->line, &o);
	c->out = malloc(o.len ? o.len : 1);
	if (!c->out)
		return true;
	memcpy(c->out, o.buf, o.len);
	c->out_len = o.len;
	c->off = 0;
	if (cli_write(c))
		return true;
	ev.data.u64 = FEV_TAG(FEV_CTL_CLIENT, 0, c - f->ctl_cli);
	return epoll_ctl(f->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0;
}

/* Bytes to read or room to write on control connection @i. */
void fabric_ctl_client_event(struct fabric *f, unsigned int i, __u32 events)
{
	struct fabric_ctl_client *c;
	bool done = false;
	ssize_t r;

	if (i >= FABRIC_CTL_CLIENTS || f->ctl_cli[i].fd < 0)
		return;
	c = &f->ctl_cli[i];
	if (c->out) {
		if (cli_write(c) || (events & (EPOLLERR | EPOLLHUP)))
			cli_close(f, c);
		return;
	}
	while (!done && c->len < sizeof(c->line) - 1) {
		r = recv(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len,
			 MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {		/* end of the request, or an error */
			done = true;
			break;
		}
		done = memchr(c->line + c->len, '\n', r) != NULL;
		c->len += r;
	}
	if (c->len == sizeof(c->line) - 1)
		done = true;
	if (done && cli_answer(f, c))
		cli_close(f, c);
}

/* Close every control connection past its deadline. */
void fabric_ctl_expire(struct fabric *f, __u64 now)
{
	unsigned int i;

	for (i = 0; i < FABRIC_CTL_CLIENTS; i++)
		if (f->ctl_cli[i].fd >= 0 && now >= f->ctl_cli[i].deadline) {
			fab_log(f, LOG_V, "control client %u: no request in %u ms: closed",
				i, FABRIC_CTL_MS);
			cli_close(f, &f->ctl_cli[i]);
		}
}

/* ms until the first control deadline (epoll_wait's time-out), or -1. */
int fabric_ctl_timeout_ms(struct fabric *f, __u64 now)
{
	__u64 first = ~0ull;
	unsigned int i;

	for (i = 0; i < FABRIC_CTL_CLIENTS; i++)
		if (f->ctl_cli[i].fd >= 0 && f->ctl_cli[i].deadline < first)
			first = f->ctl_cli[i].deadline;
	if (first == ~0ull)
		return -1;
	return first <= now ? 0 : (int)((first - now) / 1000000ull + 1);
}

/* vmmc-fabric ctl RUN_DIR|SOCKET REQUEST... */
int fabric_ctl_client(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096], req[1024];
	size_t len = 0, i;
	struct stat st;
	bool first = true, ok = false;
	ssize_t r;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: vmmc-fabric ctl RUN_DIR|SOCKET REQUEST...\n"
			"  requests: fault SPEC..., dead-ms N, show, help\n");
		return 2;
	}
	if (!stat(argv[0], &st) && S_ISDIR(st.st_mode))
		r = snprintf(a.sun_path, sizeof(a.sun_path), "%s/fabric.ctl",
			     argv[0]);
	else
		r = snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[0]);
	if (r < 0 || (size_t)r >= sizeof(a.sun_path)) {
		fprintf(stderr, "vmmc-fabric ctl: %s: path too long\n", argv[0]);
		return 2;
	}
	req[0] = 0;
	for (i = 1; i < (size_t)argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 2 > sizeof(req)) {
			fprintf(stderr, "vmmc-fabric ctl: request too long\n");
			return 2;
		}
		memcpy(req + len, argv[i], n);
		len += n;
		req[len++] = i + 1 < (size_t)argc ? ' ' : '\n';
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "vmmc-fabric ctl: %s: %s\n", a.sun_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (write(fd, req, len) != (ssize_t)len) {
		fprintf(stderr, "vmmc-fabric ctl: write: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (first)
			ok = r >= 2 && !strncmp(buf, "ok", 2);
		first = false;
		fwrite(buf, 1, r, ok ? stdout : stderr);
	}
	close(fd);
	if (first) {
		fprintf(stderr, "vmmc-fabric ctl: no answer\n");
		return 2;
	}
	return ok ? 0 : 1;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_admin.c - the fabric's control socket and its client
 *
 * Contract:
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fabric_span.h"

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

static void out(void *vo, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append to the answer (a struct obuf); a fabric_out_fn. */
static void out(void *vo, const char *fmt, ...)
{
	struct obuf *o = vo;
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

/* The process's CPU and what its nodes sent: the fabric's cost per byte. */
static void show_cost(struct fabric *f, struct obuf *o)
{
	struct rusage ru;
	unsigned int s;

	if (!getrusage(RUSAGE_SELF, &ru))
		out(o, "process user_us %llu sys_us %llu\n",
		    (unsigned long long)ru.ru_utime.tv_sec * 1000000 +
		    (unsigned long long)ru.ru_utime.tv_usec,
		    (unsigned long long)ru.ru_stime.tv_sec * 1000000 +
		    (unsigned long long)ru.ru_stime.tv_usec);
	for (s = 0; s < f->nr_nodes; s++)
		if (!f->nodes[s].remote && f->nodes[s].kstatus)
			out(o, "moved node%u bytes_tx %llu\n", s,
			    (unsigned long long)
			    f->nodes[s].kstatus->counters.bytes_tx);
}

static void show(struct fabric *f, struct obuf *o)
{
	unsigned int s, d;

	out(o, "ok\ndead-ms %llu\n", (unsigned long long)(f->dead_ns / 1000000));
	for (s = 0; s < f->nr_nodes; s++)
		out(o, "node%u %s late_doorbells %llu late_irqs %llu\n", s,
		    f->nodes[s].dead ? "dead" : "alive",
		    (unsigned long long)f->nodes[s].late_doorbells,
		    (unsigned long long)f->nodes[s].late_irqs);
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
	if (f->cl)
		fabric_udp_show(f, out, o);
	show_cost(f, o);
}

static const char ctl_help[] =
	"ok\n"
	"fault SPEC...   TARGET:KEY=VALUE[,KEY=VALUE...]; TARGET all, S-D, nodeN\n"
	"                link keys: drop dup reorder corrupt delay (percent),\n"
	"                delay-us N, down 0|1, down-ms N, clear; node: dead 0|1\n"
	"dead-ms N       time without ack progress before a peer is dead\n"
	"show            faults, link state and counters (and the cluster's)\n"
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
		if (!arg || fabric_parse_uint(arg, 3600000, &v) || v < 10) {
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

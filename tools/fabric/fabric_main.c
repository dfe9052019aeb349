// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_main.c - options, set-up, the event loop, signals and tear-down
 *
 * Contract (the guest runner, tools/vm/vmrun, relies on it):
 *   vmmc-fabric --run-dir DIR --node I,SOCKPATH,RAMFILE,RAMBYTES[:LOW]
 *               [--node ...]
 *               [-v|-vv] [--log FILE] [--idle-us N] [--rt-prio N]
 *               [--recheck-ms N]
 *               [--fault SPEC]...
 *               [--dead-ms N] [--ctl SOCKET] [--seed N]
 *               [--cluster FILE --fabric NAME]
 *   vmmc-fabric ctl RUN_DIR|SOCKET REQUEST...   (fabric_admin.c)
 * - Bad arguments: a message on stderr, exit 2. --help: usage, exit 0.
 * - With --cluster (WIRE.md), the node ids are the cluster's, --node is
 *   given for exactly the nodes FILE gives fabric NAME, and the others
 *   are reached over UDP (fabric_udp.c); a port that cannot be bound:
 *   exit 1.
 * - Every node's socket file and the control socket (DIR/fabric.ctl or
 *   --ctl) exist before the first epoll_wait; then DIR/fabric.pid is
 *   written (a readiness marker; removed at exit).
 * - Exit 0 on SIGINT/SIGTERM, and when every node that had a guest has
 *   lost it. Socket files and the pid file are unlinked on exit.
 *
 * The loop: poll all SQs, link queues and timers while there is work;
 * after idle_us without progress, set SLEEPING in every node's status,
 * full barrier, re-check, and block in epoll_wait (doorbells, sockets,
 * timerfd, signalfd). See fabric_nic_set_sleeping() for the barrier pair.
 * A sleep that follows work or a wake-up lasts --recheck-ms at most
 * and ends with a second look (fabric_nic_recheck(): a guest whose
 * barrier is not one can lose a doorbell or an interrupt); only a sleep
 * after a second look that found nothing is unbounded. Busy or not,
 * armed waiters with entries waiting are looked for as often.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fabric_span.h"

VMMC_LAYOUT_CHECKS;
static_assert(sizeof(struct vmmc_pkt) == 144, "vmmc_pkt");
static_assert(offsetof(struct fabric_pkt, payload) ==
	      offsetof(struct fabric_pkt, pkt) + sizeof(struct vmmc_pkt),
	      "the payload follows the header");

#define EXIT_USAGE	2

__u64 fabric_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

void fabric_log(struct fabric *f, int level, int node, const char *fmt, ...)
{
	FILE *out = f->log ? f->log : stderr;
	va_list ap;

	if (level > f->verbose)
		return;
	if (node >= 0)
		fprintf(out, "fabric: node%d: ", node);
	else
		fprintf(out, "fabric: ");
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmmc-fabric --run-dir DIR --node I,SOCKPATH,RAMFILE,RAMBYTES\n"
		"                   [--node ...] [-v|-vv] [--log FILE] [--idle-us N]\n"
		"\n"
		"  --run-dir DIR   existing directory; fabric.pid is written there\n"
		"  --node ...      one per node, ids 0..N-1 (N <= %d):\n"
		"                  I         node id\n"
		"                  SOCKPATH  ivshmem server socket to create\n"
		"                  RAMFILE   the guest's RAM file (share=on)\n"
		"                  RAMBYTES  guest RAM size (bytes, or K/M/G), then\n"
		"                            optionally :LOW, the part of it QEMU\n"
		"                            maps below 4 GiB (the rest is from\n"
		"                            4 GiB up; default: QEMU 7.2's pc rule,\n"
		"                            3G if RAMBYTES >= 3.5G, else all)\n"
		"  -v, -vv         log connections/fences/errors; also descriptors\n"
		"  --log FILE      append the log to FILE instead of stderr\n"
		"  --idle-us N     poll this long without work before sleeping\n"
		"                  (default %d: sleep at once; more only pays on a\n"
		"                  host with a CPU to spare for the fabric)\n"
		"  --rt-prio N     run under SCHED_FIFO at priority N (1..99; needs\n"
		"                  CAP_SYS_NICE): the NIC wakes on time when the\n"
		"                  guests' vCPUs hold every CPU (default 0: none)\n"
		"  --recheck-ms N  a sleep after work lasts N ms at most, then a\n"
		"                  look for doorbells and interrupts a guest lost\n"
		"                  (its barriers not ordering its stores: QEMU < 8.1\n"
		"                  TCG, one vCPU); 0: never (default %d)\n"
		"  --fault SPEC    inject faults (repeatable): TARGET:KEY=VALUE[,...]\n"
		"                  TARGET: all (links between different nodes),\n"
		"                  S-D (the link from node S to node D), nodeN\n"
		"                  link keys: drop, dup, reorder, corrupt, delay\n"
		"                  (percent of packets), delay-us N (default 2000),\n"
		"                  down 0|1, down-ms N, clear; node key: dead 0|1\n"
		"                  e.g. --fault all:drop=5,dup=1,reorder=5,corrupt=1\n"
		"  --dead-ms N     a peer whose link makes no progress for N ms is\n"
		"                  dead: its SENDs fail, its imports are revoked\n"
		"                  (default %d)\n"
		"  --ctl SOCKET    control socket (default RUN_DIR/fabric.ctl)\n"
		"  --seed N        fault injection random seed (default 1)\n"
		"  --cluster FILE  the cluster description (fabrics, their UDP\n"
		"                  addresses, which fabric serves which node;\n"
		"                  tools/fabric/WIRE.md); with --fabric NAME, this\n"
		"                  fabric is NAME and --node is given for its\n"
		"                  nodes only\n"
		"  -h, --help      this text\n"
		"\n"
		"ctl requests: fault SPEC..., dead-ms N, show, help (changes at run\n"
		"time; exit 0 ok, 1 refused, 2 no fabric)\n",
		FABRIC_MAX_NODES, FABRIC_DEFAULT_IDLE_US, FABRIC_RECHECK_MS,
		FABRIC_DEFAULT_DEAD_MS);
}

static int bad_args(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmmc-fabric: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see vmmc-fabric --help)\n");
	return -1;
}

static int parse_u64(const char *s, __u64 *out, bool suffix)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (suffix && *end) {
		unsigned int shift = 0;

		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		end++;
		if (v > (~0ull >> shift))
			return -1;
		v <<= shift;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/*
 * QEMU 7.2's below_4g_mem_size for the pc machine without
 * max-ram-below-4g (hw/i386/pc_piix.c, pc_init1()): RAM of at least
 * 3.5 GiB is split at 3 GiB (gigabyte_align), smaller RAM is all low.
 */
static __u64 qemu_pc_low(__u64 bytes)
{
	return bytes >= 0xe0000000ull ? 0xc0000000ull : bytes;
}

/*
 * I,SOCKPATH,RAMFILE,RAMBYTES[:LOWBYTES]; SOCKPATH may contain commas.
 * LOWBYTES: how much of the RAM QEMU maps below 4 GiB (fabric.h).
 */
static int parse_node(struct fabric *f, const char *arg)
{
	const char *c1, *c3, *c2, *colon;
	struct fabric_node *n;
	char idbuf[16], numbuf[32];
	__u64 id, bytes, low;

	c1 = strchr(arg, ',');
	c3 = strrchr(arg, ',');
	if (!c1 || c3 == c1)
		return bad_args("--node %s: want I,SOCKPATH,RAMFILE,RAMBYTES",
				arg);
	for (c2 = c3 - 1; c2 > c1 && *c2 != ','; c2--)
		;
	if (c2 == c1 || c2 == c1 + 1 || c3 == c2 + 1)
		return bad_args("--node %s: want I,SOCKPATH,RAMFILE,RAMBYTES",
				arg);
	if ((size_t)(c1 - arg) >= sizeof(idbuf))
		return bad_args("--node %s: bad node id", arg);
	memcpy(idbuf, arg, c1 - arg);
	idbuf[c1 - arg] = 0;
	if (parse_u64(idbuf, &id, false) || id >= FABRIC_MAX_NODES)
		return bad_args("--node %s: node id must be 0..15", arg);
	colon = strchr(c3 + 1, ':');
	if (colon) {
		if ((size_t)(colon - c3 - 1) >= sizeof(numbuf))
			return bad_args("--node %s: bad RAMBYTES", arg);
		memcpy(numbuf, c3 + 1, colon - c3 - 1);
		numbuf[colon - c3 - 1] = 0;
	}
	if (parse_u64(colon ? numbuf : c3 + 1, &bytes, true) ||
	    bytes < VMMC_EVQ_SIZE || bytes % VMMC_PAGE_SIZE ||
	    bytes / VMMC_PAGE_SIZE > 0xffffffffull)
		return bad_args("--node %s: RAMBYTES must be a multiple of 4096, 16 KiB to 16 TiB",
				arg);
	if (colon) {
		if (parse_u64(colon + 1, &low, true) || low > bytes ||
		    low > FABRIC_4G || low < VMMC_PAGE_SIZE ||
		    low % VMMC_PAGE_SIZE)
			return bad_args("--node %s: LOWBYTES must be a multiple of 4096, at most RAMBYTES and 4 GiB",
					arg);
	} else {
		low = qemu_pc_low(bytes);
	}
	n = &f->nodes[id];
	if (n->sock_path)
		return bad_args("--node %s: node id given twice", arg);
	n->sock_path = strndup(c1 + 1, c2 - c1 - 1);
	n->ram_path = strndup(c2 + 1, c3 - c2 - 1);
	if (!n->sock_path || !n->ram_path)
		return bad_args("%s: out of memory", arg);
	if (strlen(n->sock_path) >= 108)
		return bad_args("--node %s: socket path too long", arg);
	n->ram_bytes = bytes;
	n->ram_low = low;
	if (id + 1 > f->nr_nodes)
		f->nr_nodes = id + 1;
	return 0;
}

/*
 * --rt-prio: the NIC is hardware in this model, with a processor of its
 * own; on a host where the guests' vCPU threads (CPU-bound under TCG)
 * hold every CPU, a fabric of the normal class that a doorbell or its
 * timer wakes waits for the running vCPU's time slice, hundreds of
 * microseconds, before it moves the data or completes a delayed op.
 * SCHED_FIFO lets it run at once. It sleeps whenever a pass finds no
 * work (--idle-us 0), and the kernel's RT throttling leaves the others
 * 5 % of each CPU even if it never did. Only at start, only if asked.
 */
static int set_rt_prio(struct fabric *f)
{
	struct sched_param sp = { .sched_priority = f->rt_prio };

	if (!f->rt_prio)
		return 0;
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		fab_log(f, LOG_ERR, "--rt-prio %d: %s", f->rt_prio,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_args(struct fabric *f, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "node", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'l' },
		{ "idle-us", required_argument, NULL, 'i' },
		{ "fault", required_argument, NULL, 'f' },
		{ "dead-ms", required_argument, NULL, 'd' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "rt-prio", required_argument, NULL, 'R' },
		{ "recheck-ms", required_argument, NULL, 'K' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "fabric", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log_path = NULL, *faults[64];
	const char *cluster = NULL, *me = NULL;
	unsigned int nr_faults = 0;
	char err[256];
	struct stat st;
	unsigned int i;
	__u64 v;
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			free(f->run_dir);
			f->run_dir = strdup(optarg);
			break;
		case 'n':
			if (parse_node(f, optarg))
				return -1;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'i':
			if (parse_u64(optarg, &v, false) || v > 10000000)
				return bad_args("--idle-us %s: want 0..10000000",
						optarg);
			f->idle_ns = v * 1000;
			break;
		case 'f':
			if (nr_faults == 64)
				return bad_args("%s: too many --fault", optarg);
			faults[nr_faults++] = optarg;
			break;
		case 'd':
			if (parse_u64(optarg, &v, false) || v < 10 ||
			    v > 3600000)
				return bad_args("--dead-ms %s: want 10..3600000",
						optarg);
			f->dead_ns = v * 1000000;
			break;
		case 'c':
			free(f->ctl_path);
			f->ctl_path = strdup(optarg);
			break;
		case 's':
			if (parse_u64(optarg, &v, false))
				return bad_args("--seed %s: want a number",
						optarg);
			f->rnd = v ? v : 1;
			break;
		case 'R':
			if (parse_u64(optarg, &v, false) || v > 99)
				return bad_args("--rt-prio %s: want 0..99",
						optarg);
			f->rt_prio = (int)v;
			break;
		case 'K':
			if (parse_u64(optarg, &v, false) || v > 1000)
				return bad_args("--recheck-ms %s: want 0..1000",
						optarg);
			f->recheck_ms = (int)v;
			break;
		case 'C':
			cluster = optarg;
			break;
		case 'F':
			me = optarg;
			break;
		case 'v':
			f->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return bad_args("%s", "bad option");
		}
	}
	if (optind < argc)
		return bad_args("unexpected argument '%s'", argv[optind]);
	if (!f->run_dir)
		return bad_args("%s", "--run-dir is required");
	if (stat(f->run_dir, &st) || !S_ISDIR(st.st_mode))
		return bad_args("--run-dir %s: not a directory", f->run_dir);
	if (!cluster && me)
		return bad_args("--fabric %s: needs --cluster", me);
	if (cluster) {
		if (fabric_cluster_load(f, cluster, me) ||
		    fabric_cluster_check(f))
			return -1;
	} else if (!f->nr_nodes) {
		return bad_args("%s", "at least one --node is required");
	}
	for (i = 0; i < f->nr_nodes && !cluster; i++) {
		if (!f->nodes[i].sock_path) {
			fprintf(stderr, "vmmc-fabric: node ids must be 0..N-1 without gaps: node %u missing\n",
				i);
			return -1;
		}
	}
	/* the log first: applying a fault logs it */
	if (log_path) {
		f->log = fopen(log_path, "ae");
		if (!f->log)
			return bad_args("--log %s: cannot open", log_path);
		setvbuf(f->log, NULL, _IOLBF, 0);
	}
	for (i = 0; i < nr_faults; i++)
		if (fabric_fault_parse(f, faults[i], err, sizeof(err))) {
			fprintf(stderr, "vmmc-fabric: --fault %s: %s\n(see vmmc-fabric --help)\n",
				faults[i], err);
			return -1;
		}
	return 0;
}

static int map_ram(struct fabric_node *n)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(n->ram_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmmc-fabric: node%u: %s: %s\n", n->id,
			n->ram_path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (__u64)st.st_size < n->ram_bytes) {
		fprintf(stderr, "vmmc-fabric: node%u: %s: not a regular file of at least %llu bytes\n",
			n->id, n->ram_path, (unsigned long long)n->ram_bytes);
		close(fd);
		return -1;
	}
	p = mmap(NULL, n->ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vmmc-fabric: node%u: mmap %s: %s\n", n->id,
			n->ram_path, strerror(errno));
		return -1;
	}
	n->ram = p;
	return 0;
}

static int epoll_add(struct fabric *f, int fd, __u64 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int write_pid_file(struct fabric *f)
{
	FILE *p;

	if (asprintf(&f->pid_path, "%s/fabric.pid", f->run_dir) < 0) {
		f->pid_path = NULL;
		return -1;
	}
	p = fopen(f->pid_path, "we");
	if (!p)
		return -1;
	fprintf(p, "%d\n", (int)getpid());
	return fclose(p);
}

/* Returns 0, or the exit code: 2 for a bad RAM file or socket path. */
static int setup(struct fabric *f)
{
	sigset_t mask;
	unsigned int i;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	f->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	f->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_CLOEXEC | TFD_NONBLOCK);
	if (f->epfd < 0 || f->signal_fd < 0 || f->timer_fd < 0 ||
	    epoll_add(f, f->signal_fd, FEV_TAG(FEV_SIGNAL, 0, 0)) ||
	    epoll_add(f, f->timer_fd, FEV_TAG(FEV_TIMER, 0, 0))) {
		fab_log(f, LOG_ERR, "set-up: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < f->nr_nodes; i++) {
		struct fabric_node *n = &f->nodes[i];

		if (n->remote)
			continue;
		if (map_ram(n))
			return EXIT_USAGE;
		if (fabric_nic_init(n) || fabric_node_eventfds(n))
			return 1;
		/* Last: the socket file appears only when all is ready. */
		if (fabric_node_listen(n))
			return EXIT_USAGE;
		if (epoll_add(f, n->listen_fd, FEV_TAG(FEV_LISTEN, i, 0))) {
			fab_log(f, LOG_ERR, "epoll: %s", strerror(errno));
			return 1;
		}
		node_log(n, LOG_V, "listening on %s, RAM %s (%llu bytes: guest-physical [0, 0x%llx) and [4 GiB, 4 GiB + 0x%llx))",
			 n->sock_path, n->ram_path,
			 (unsigned long long)n->ram_bytes,
			 (unsigned long long)n->ram_low,
			 (unsigned long long)(n->ram_bytes - n->ram_low));
	}
	if (f->cl && (fabric_udp_open(f) ||
		      epoll_add(f, f->cl->fd, FEV_TAG(FEV_UDP, 0, 0)) ||
		      epoll_add(f, f->cl->hello_fd, FEV_TAG(FEV_HELLO, 0, 0))))
		return 1;
	if (fabric_ctl_listen(f) ||
	    epoll_add(f, f->ctl_fd, FEV_TAG(FEV_CTL, 0, 0))) {
		fab_log(f, LOG_ERR, "control socket: %s", strerror(errno));
		return 1;
	}
	if (write_pid_file(f))
		fab_log(f, LOG_ERR, "cannot write %s/fabric.pid", f->run_dir);
	return 0;
}

static void handle_event(struct fabric *f, const struct epoll_event *ev)
{
	unsigned int node = FEV_NODE(ev->data.u64);
	struct signalfd_siginfo si;
	__u64 v;

	switch (FEV_TYPE(ev->data.u64)) {
	case FEV_SIGNAL:
		while (read(f->signal_fd, &si, sizeof(si)) == sizeof(si)) {
			fab_log(f, LOG_V, "signal %u: exiting", si.ssi_signo);
			f->stop = true;
		}
		break;
	case FEV_TIMER:
		if (read(f->timer_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			fab_log(f, LOG_ERR, "timerfd: %s", strerror(errno));
		f->timerfd_armed = false;
		break;
	case FEV_LISTEN:
		fabric_node_accept(&f->nodes[node]);
		break;
	case FEV_CLIENT:
		fabric_node_client_event(&f->nodes[node], ev->events);
		break;
	case FEV_DOORBELL:
		fabric_node_doorbell(&f->nodes[node], FEV_VEC(ev->data.u64));
		break;
	case FEV_CTL:
		fabric_ctl_accept(f);
		break;
	case FEV_CTL_CLIENT:
		fabric_ctl_client_event(f, FEV_VEC(ev->data.u64), ev->events);
		break;
	case FEV_UDP:
		fabric_udp_input(f);
		break;
	case FEV_HELLO:
		fabric_udp_hello(f);
		break;
	}
}

static bool all_guests_gone(struct fabric *f)
{
	unsigned int i;

	if (!f->ever_connected)
		return false;
	for (i = 0; i < f->nr_nodes; i++)
		if (f->nodes[i].state == NODE_UP)
			return false;
	return true;
}

static void run(struct fabric *f)
{
	struct epoll_event evs[32];
	__u64 idle_since = fabric_now_ns();
	bool looked = false;	/* found nothing, nothing since: no bound */
	unsigned int i;

	while (!f->stop) {
		bool sleeping = false, stalled = false, recheck = false;
		int timeout = 0, nr, ctl;
		__u64 now;

		if (fabric_nic_poll(f)) {
			idle_since = fabric_now_ns();
			looked = false;
		}
		now = fabric_now_ns();
		if (f->recheck_ms &&
		    now - f->irq_look_ns >= f->recheck_ms * 1000000ull) {
			fabric_nic_irq_look(f);
			f->irq_look_ns = now;
		}
		if (now - idle_since >= f->idle_ns &&
		    !fabric_timer_due_before(f, now + f->idle_ns)) {
			/*
			 * Sets SLEEPING, then a full barrier; the partner is
			 * the sender's barrier between publishing SQ prod
			 * and reading status.flags.
			 */
			fabric_nic_set_sleeping(f, true);
			if (fabric_nic_has_work(f, &stalled)) {
				fabric_nic_set_sleeping(f, false);
				continue;
			}
			if (fabric_timer_arm(f))
				stalled = true;	/* no timerfd: poll slowly */
			timeout = stalled ? FABRIC_STALL_POLL_MS : -1;
			ctl = fabric_ctl_timeout_ms(f, now);
			if (ctl >= 0 && (timeout < 0 || ctl < timeout))
				timeout = ctl;	/* a control client's deadline */
			if (!looked && f->recheck_ms) {
				if (timeout < 0 || timeout > f->recheck_ms)
					timeout = f->recheck_ms;
				recheck = true;
			}
			sleeping = true;
			/* a sleep and its second look count once */
			for (i = 0; i < f->nr_nodes && !looked; i++)
				if (!f->nodes[i].remote)
					ctr_add(f->nodes[i].kstatus->counters.sleeps,
						1);
		}
		nr = epoll_wait(f->epfd, evs, 32, timeout);
		if (sleeping)
			fabric_nic_set_sleeping(f, false);
		if (recheck && nr == 0) {
			looked = !fabric_nic_recheck(f);
			f->irq_look_ns = fabric_now_ns();
		} else if (nr != 0) {
			looked = false;
		}
		if (nr < 0) {
			if (errno != EINTR) {
				fab_log(f, LOG_ERR, "epoll_wait: %s",
					strerror(errno));
				break;
			}
			continue;
		}
		/* A slow-poll time-out is no reason to spin again. */
		if (nr > 0)
			idle_since = fabric_now_ns();
		for (i = 0; i < (unsigned int)nr; i++)
			handle_event(f, &evs[i]);
		fabric_ctl_expire(f, fabric_now_ns());
		if (all_guests_gone(f)) {
			fab_log(f, LOG_INFO, "all guests have disconnected: exiting");
			break;
		}
	}
}

static void teardown(struct fabric *f)
{
	unsigned int i, e;

	for (i = 0; i < f->nr_nodes; i++) {
		struct fabric_node *n = &f->nodes[i];

		for (e = 0; e < VMMC_MAX_EPS && n->sram; e++)
			fabric_ep_drop_ops(&n->eps[e]);
	}
	fabric_link_free(f);
	fabric_ctl_close(f);
	fabric_cluster_free(f);
	for (i = 0; i < FABRIC_MAX_NODES; i++) {
		struct fabric_node *n = &f->nodes[i];

		if (n->client_fd >= 0)
			close(n->client_fd);
		if (n->listen_fd >= 0) {
			close(n->listen_fd);
			unlink(n->sock_path);
		}
		fabric_node_close_eventfds(n);
		if (n->sram) {
			struct vmmc_nic_status *s = n->kstatus;

			/* Tell a guest that outlives us that the NIC is gone. */
			vmmc_write_once(&s->flags, 0u);
			node_log(n, LOG_V, "descs %llu cqes %llu nqes %llu irqs %llu sleeps %llu doorbells %llu sends %llu send_errors %llu data_rx %llu rx_rejects %llu kcmds %llu",
				 (unsigned long long)s->counters.descs,
				 (unsigned long long)s->counters.cqes,
				 (unsigned long long)s->counters.nqes,
				 (unsigned long long)s->counters.irqs,
				 (unsigned long long)s->counters.sleeps,
				 (unsigned long long)s->counters.doorbells,
				 (unsigned long long)s->counters.sends,
				 (unsigned long long)s->counters.send_errors,
				 (unsigned long long)s->counters.data_rx,
				 (unsigned long long)s->counters.rx_rejects,
				 (unsigned long long)s->counters.kcmds);
			node_log(n, LOG_V, "link_retrans %llu link_dups %llu link_crc_errors %llu link_ooo %llu link_peer_deaths %llu fault_drops %llu fault_dups %llu fault_corrupts %llu fault_delays %llu acks_tx %llu",
				 (unsigned long long)s->counters.link_retrans,
				 (unsigned long long)s->counters.link_dups,
				 (unsigned long long)s->counters.link_crc_errors,
				 (unsigned long long)s->counters.link_ooo,
				 (unsigned long long)s->counters.link_peer_deaths,
				 (unsigned long long)s->counters.fault_drops,
				 (unsigned long long)s->counters.fault_dups,
				 (unsigned long long)s->counters.fault_corrupts,
				 (unsigned long long)s->counters.fault_delays,
				 (unsigned long long)n->acks_tx);
			node_log(n, LOG_V, "late_doorbells %llu late_irqs %llu",
				 (unsigned long long)n->late_doorbells,
				 (unsigned long long)n->late_irqs);
			node_log(n, LOG_V, "ring_errors %llu dropped_ops %llu lost_cqes %llu nq_drops %llu stale_pkts %llu bad_pkts %llu bad_tables %llu",
				 (unsigned long long)n->ring_errors,
				 (unsigned long long)n->dropped_ops,
				 (unsigned long long)n->lost_cqes,
				 (unsigned long long)n->nq_drops,
				 (unsigned long long)n->stale_pkts,
				 (unsigned long long)n->bad_pkts,
				 (unsigned long long)n->bad_tables);
			munmap(n->sram, VMMC_SRAM_SIZE);
		}
		if (n->sram_fd >= 0)
			close(n->sram_fd);
		if (n->ram)
			munmap(n->ram, n->ram_bytes);
		free(n->sock_path);
		free(n->ram_path);
	}
	if (f->pid_path)
		unlink(f->pid_path);
	free(f->pid_path);
	free(f->run_dir);
	if (f->epfd >= 0)
		close(f->epfd);
	if (f->timer_fd >= 0)
		close(f->timer_fd);
	if (f->signal_fd >= 0)
		close(f->signal_fd);
	if (f->log)
		fclose(f->log);
}

static void init(struct fabric *f)
{
	unsigned int i, v;

	memset(f, 0, sizeof(*f));
	f->epfd = f->timer_fd = f->signal_fd = f->ctl_fd = -1;
	for (i = 0; i < FABRIC_CTL_CLIENTS; i++)
		f->ctl_cli[i].fd = -1;
	f->idle_ns = FABRIC_DEFAULT_IDLE_US * 1000ull;
	f->recheck_ms = FABRIC_RECHECK_MS;
	f->dead_ns = FABRIC_DEFAULT_DEAD_MS * 1000000ull;
	f->rnd = 1;
	f->fault_all.delay_us = 2000;
	flist_init(&f->timers);
	fabric_link_init(f);
	for (i = 0; i < FABRIC_MAX_NODES; i++) {
		struct fabric_node *n = &f->nodes[i];

		n->f = f;
		n->id = i;
		n->sram_fd = n->listen_fd = n->client_fd = -1;
		for (v = 0; v < VMMC_NR_VECTORS; v++)
			n->db_fd[v] = n->irq_fd[v] = -1;
	}
}

int main(int argc, char **argv)
{
	static struct fabric fabric;
	struct fabric *f = &fabric;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return fabric_ctl_client(argc - 2, argv + 2);
	/*
	 * Packets of up to 8 KiB come and go by the thousand a second; a
	 * heap returned to the kernel whenever its top is free (128 KiB,
	 * glibc's default) is faulted in again page by page: about one
	 * page fault per packet. Keep up to 64 MiB.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	init(f);
	if (parse_args(f, argc, argv)) {
		teardown(f);
		return EXIT_USAGE;
	}
	rc = setup(f);
	if (rc) {
		teardown(f);
		return rc;
	}
	if (set_rt_prio(f)) {
		teardown(f);
		return EXIT_FAILURE;
	}
	fab_log(f, LOG_V, "%u node(s) ready, idle %llu us, CRC32C: %s",
		f->nr_nodes, (unsigned long long)(f->idle_ns / 1000),
		fabric_crc_impl());
	run(f);
	teardown(f);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: processes killed with kill -9 while others keep working.
 * PROCS worker processes run at once for SECONDS; every KILL_MS or so
 * the parent kills a random one with SIGKILL and starts a new one in its
 * place, so that hundreds live and die in a run. Each worker has an
 * endpoint, two exports (an inbox for the others, a loop buffer for
 * itself) and imports of both its own and other workers' inboxes, its
 * send buffer pinned through the UTLB (sometimes pinned ahead, sometimes
 * unmapped under it), and keeps SENDs in flight:
 *   - to itself through the NIC loopback: every byte checked;
 *   - to another worker's inbox slot, with NOTIFY: the receiver checks
 *     the header and every byte of the message when its NQ entry comes.
 *     A slot is claimed (shared memory) before the send and freed by its
 *     receiver after the check, so nothing overwrites a message being
 *     checked; a dead sender's claims are freed by the receiver once the
 *     parent reaped the sender (its endpoint is fenced by then).
 * A SEND to another worker completes OK or REVOKED (it died), never
 * otherwise, and never hangs. Afterwards nothing is left: no endpoint,
 * pinned page, export or import in the driver, none in vmmc_ctl's dumps,
 * and none in the NIC's tables (vmmc_sram_check.py). TAP output.
 *
 *   vmmc_stress [-s SEED] [-t SECONDS] [-p PROCS] [-k KILL_MS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vmmc_test.h"

#define CTL		"build/tools/vmmc_ctl/vmmc_ctl"
#define MAX_PROCS	60	/* the NIC has 64 endpoint slots */
#define SLOTS		8	/* inbox slots */
#define SLOT_SIZE	(16 << 10)
#define LOOP_LEN	(64 << 10)
#define SRC_LEN		(256 << 10)
#define MAX_IMPORTS	16
#define INBOX_NAME	0x5a000000u	/* | incarnation */
#define LOOP_NAME	0x5b000000u
#define MSG_MAGIC	0x76737472u
#define STUCK_NS	30000000000ULL

enum { W_EMPTY, W_STARTING, W_READY, W_DEAD };

struct worker {
	pid_t pid;
	uint32_t inc;		/* incarnation: unique over the run */
	uint32_t state;		/* W_*; parent writes DEAD after reaping */
	uint32_t claim[SLOTS];	/* inc of the sender writing it; 0 free */
};

struct shared {
	uint64_t failures, self_ok, sent_ok, revoked, recv_ok, pins, remaps;
	uint32_t stop;
	struct worker w[MAX_PROCS];
};

struct msg_hdr {
	uint32_t magic, sender, len, pad;
	uint64_t seq;
};

static struct shared *sh;
static uint64_t seed;
static unsigned int nprocs = 40;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define FAIL(fmt, ...) do {						\
	__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);		\
	printf("# worker %u (inc %u): FAIL: " fmt "\n", me->idx, me->inc, \
	       ##__VA_ARGS__);						\
	fflush(stdout);							\
} while (0)

#define ADD(field) __atomic_add_fetch(&sh->field, 1, __ATOMIC_RELAXED)

struct me {
	unsigned int idx;
	uint32_t inc, node;
	uint64_t rng, seq;
	struct vmmc_ep ep;
	uint8_t *inbox, *loop, *src;
	uint32_t inbox_id, loop_id, loop_imp;
	struct { uint32_t inc, id; } imp[MAX_IMPORTS];
	unsigned int nimp;
};

/* Check the message in inbox slot @k that an NQ entry announced. */
static void check_msg(struct me *me, const struct vmmc_nqe *n)
{
	uint32_t k = (uint32_t)(n->offset / SLOT_SIZE), claim;
	const uint8_t *slot = me->inbox + (size_t)k * SLOT_SIZE;
	struct msg_hdr h;
	long bad;

	if (n->type != VMMC_NQE_DATA || n->export_id != me->inbox_id ||
	    n->offset % SLOT_SIZE || k >= SLOTS || n->len > SLOT_SIZE ||
	    n->len < sizeof(h)) {
		FAIL("NQE type %u export %u offset %llu len %u", n->type,
		     n->export_id, (unsigned long long)n->offset, n->len);
		return;
	}
	claim = __atomic_load_n(&sh->w[me->idx].claim[k], __ATOMIC_ACQUIRE);
	memcpy(&h, slot, sizeof(h));
	if (h.magic != MSG_MAGIC || h.sender != claim || h.len != n->len) {
		FAIL("slot %u: magic 0x%x sender %u (claimed by %u) len %u (NQE %u)",
		     k, h.magic, h.sender, claim, h.len, n->len);
	} else {
		bad = vmmc_check_pattern(slot + sizeof(h), h.len - sizeof(h),
					 seed ^ h.sender, h.seq, 0);
		if (bad >= 0)
			FAIL("slot %u from %u seq %llu len %u: byte %ld differs",
			     k, h.sender, (unsigned long long)h.seq, h.len, bad);
		else
			ADD(recv_ok);
	}
	__atomic_store_n(&sh->w[me->idx].claim[k], 0, __ATOMIC_RELEASE);
}

static void drain_nq(struct me *me)
{
	struct vmmc_nqe *n;

	while ((n = vmmc_peek_nqe(&me->ep))) {
		struct vmmc_nqe copy = *n;

		vmmc_nqe_seen(&me->ep);
		check_msg(me, &copy);
	}
}

/* A dead sender's claims on our inbox: free them (see the top). */
static void reclaim(struct me *me)
{
	uint32_t k, c, j;

	for (k = 0; k < SLOTS; k++) {
		c = __atomic_load_n(&sh->w[me->idx].claim[k], __ATOMIC_ACQUIRE);
		if (!c)
			continue;
		for (j = 0; j < nprocs; j++)
			if (sh->w[j].inc == c &&
			    __atomic_load_n(&sh->w[j].state, __ATOMIC_ACQUIRE) != W_DEAD)
				break;
		if (j < nprocs)
			continue;	/* alive (or its slot reused: gone) */
		drain_nq(me);	/* its last message, if any, is in the NQ */
		__atomic_compare_exchange_n(&sh->w[me->idx].claim[k], &c, 0, 0,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

/* Wait for the completion of @ud, checking arriving messages meanwhile. */
static int await(struct me *me, uint64_t ud, uint32_t *status)
{
	uint64_t t0 = now_ns();
	struct vmmc_cqe *c;

	for (;;) {
		while ((c = vmmc_peek_cqe(&me->ep))) {
			uint64_t got = c->user_data;

			*status = c->status;
			vmmc_cqe_seen(&me->ep);
			if (got == ud)
				return 0;
			FAIL("completion 0x%llx, expected 0x%llx",
			     (unsigned long long)got, (unsigned long long)ud);
		}
		drain_nq(me);
		if (now_ns() - t0 > STUCK_NS) {
			FAIL("SEND 0x%llx never completed", (unsigned long long)ud);
			return -1;
		}
		vmmc_ep_wait(&me->ep, 100);
	}
}

static void send_self(struct me *me)
{
	size_t len = vmmc_rand_size(&me->rng, LOOP_LEN);
	uint64_t doff = vmmc_rand_range(&me->rng, 0, LOOP_LEN - len);
	uint8_t *from = me->src + vmmc_rand_range(&me->rng, 0, SRC_LEN - len);
	uint64_t ud = ++me->seq;
	uint32_t st;
	long bad;
	int err;

	vmmc_fill_pattern(from, len, seed ^ me->inc, ud, doff);
	err = vmmc_send(&me->ep, from, len, me->loop_imp, doff, 0, ud);
	if (err) {
		FAIL("loopback send: %s", strerror(-err));
		return;
	}
	if (await(me, ud, &st))
		return;
	if (st != VMMC_ST_OK) {
		FAIL("loopback SEND %zu B: %s", len, vmmc_status_str(st));
		return;
	}
	bad = vmmc_check_pattern(me->loop + doff, len, seed ^ me->inc, ud, doff);
	if (bad >= 0)
		FAIL("loopback SEND %zu B at %llu: byte %ld differs", len,
		     (unsigned long long)doff, bad);
	else
		ADD(self_ok);
}

static int import_of(struct me *me, uint32_t inc, uint32_t *id)
{
	unsigned int i;
	int err;

	for (i = 0; i < me->nimp; i++)
		if (me->imp[i].inc == inc) {
			*id = me->imp[i].id;
			return 0;
		}
	if (me->nimp == MAX_IMPORTS) {	/* forget the oldest */
		vmmc_unimport(&me->ep, me->imp[0].id);
		memmove(me->imp, me->imp + 1, sizeof(me->imp[0]) * --me->nimp);
	}
	err = vmmc_import(&me->ep, me->node, INBOX_NAME | inc, id, NULL);
	if (err)
		return err;
	me->imp[me->nimp].inc = inc;
	me->imp[me->nimp++].id = *id;
	return 0;
}

static void forget_import(struct me *me, uint32_t inc)
{
	unsigned int i;

	for (i = 0; i < me->nimp; i++)
		if (me->imp[i].inc == inc) {
			vmmc_unimport(&me->ep, me->imp[i].id);
			me->imp[i] = me->imp[--me->nimp];
			return;
		}
}

static void send_peer(struct me *me)
{
	unsigned int q = (unsigned int)vmmc_rand_range(&me->rng, 0, nprocs - 1);
	struct worker *w = &sh->w[q];
	uint32_t inc = w->inc, k, zero = 0, st, id;
	size_t len = sizeof(struct msg_hdr) +
		     vmmc_rand_size(&me->rng, SLOT_SIZE - sizeof(struct msg_hdr));
	struct msg_hdr h = { MSG_MAGIC, me->inc, (uint32_t)len, 0, ++me->seq };
	uint8_t *from = me->src + vmmc_rand_range(&me->rng, 0, SRC_LEN - len);
	int err;

	if (q == me->idx ||
	    __atomic_load_n(&w->state, __ATOMIC_ACQUIRE) != W_READY)
		return;
	err = import_of(me, inc, &id);
	if (err) {
		if (err != -ENOENT)
			FAIL("import of %u: %s", inc, strerror(-err));
		return;
	}
	for (k = 0; k < SLOTS; k++) {
		zero = 0;
		if (__atomic_compare_exchange_n(&w->claim[k], &zero, me->inc, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (k == SLOTS)
		return;		/* its inbox is busy */
	memcpy(from, &h, sizeof(h));
	vmmc_fill_pattern(from + sizeof(h), len - sizeof(h), seed ^ me->inc,
			  h.seq, 0);
	err = vmmc_send(&me->ep, from, len, id, (uint64_t)k * SLOT_SIZE,
			VMMC_SQF_NOTIFY, h.seq);
	if (err) {
		FAIL("send to %u: %s", inc, strerror(-err));
		goto out_unclaim;
	}
	if (await(me, h.seq, &st))
		return;
	if (st == VMMC_ST_OK) {
		ADD(sent_ok);
		return;		/* the receiver frees the slot */
	}
	if (st != VMMC_ST_REVOKED)
		FAIL("SEND to %u: %s", inc, vmmc_status_str(st));
	ADD(revoked);
	forget_import(me, inc);
out_unclaim:
	zero = me->inc;
	__atomic_compare_exchange_n(&w->claim[k], &zero, 0, 0,
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* Pin part of the send buffer ahead, or pull it away under its pins. */
static void churn(struct me *me)
{
	if (vmmc_rand(&me->rng) % 2) {
		size_t len = vmmc_rand_size(&me->rng, SRC_LEN / 2);

		if (!vmmc_pin(&me->ep, me->src +
			      vmmc_rand_range(&me->rng, 0, SRC_LEN - len), len))
			ADD(pins);
		return;
	}
	munmap(me->src, SRC_LEN);
	me->src = mmap(me->src, SRC_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (me->src == MAP_FAILED)
		_exit(3);
	ADD(remaps);
}

static int worker(unsigned int idx, uint32_t inc)
{
	struct me m = { .idx = idx, .inc = inc }, *me = &m;
	uint64_t last_reclaim = 0;
	int err, tries;

	me->rng = seed * 0x9e3779b97f4a7c15ULL + inc;
	me->inbox = mmap(NULL, SLOTS * SLOT_SIZE + LOOP_LEN + SRC_LEN,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (me->inbox == MAP_FAILED)
		return 3;
	me->loop = me->inbox + SLOTS * SLOT_SIZE;
	me->src = me->loop + LOOP_LEN;
	for (tries = 0; (err = vmmc_ep_open(&me->ep, VMMC_DEV)) == -EBUSY &&
	     tries < 100; tries++)
		usleep(20000);	/* a killed worker's slot is not free yet */
	if (err) {
		FAIL("open: %s", strerror(-err));
		return 1;
	}
	me->node = me->ep.info.node_id;
	err = vmmc_export(&me->ep, me->inbox, SLOTS * SLOT_SIZE,
			  INBOX_NAME | inc, ~0ULL, &me->inbox_id) ?:
	      vmmc_export(&me->ep, me->loop, LOOP_LEN, LOOP_NAME | inc,
			  1ULL << me->node, &me->loop_id) ?:
	      vmmc_import(&me->ep, me->node, LOOP_NAME | inc, &me->loop_imp,
			  NULL);
	if (err) {
		FAIL("export/import: %s", strerror(-err));
		return 1;
	}
	__atomic_store_n(&sh->w[idx].state, W_READY, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		switch (vmmc_rand(&me->rng) % 8) {
		case 0:
			churn(me);
			break;
		case 1:
		case 2:
			send_self(me);
			break;
		default:
			send_peer(me);
			break;
		}
		drain_nq(me);
		if (now_ns() - last_reclaim > 100000000ULL) {
			reclaim(me);
			last_reclaim = now_ns();
		}
	}
	/* the others may still be sending to us: one last look */
	drain_nq(me);
	vmmc_ep_close(&me->ep);
	return 0;
}

static uint32_t next_inc = 1;

static void spawn(unsigned int idx)
{
	struct worker *w = &sh->w[idx];
	pid_t pid;

	memset(w->claim, 0, sizeof(w->claim));
	w->inc = next_inc++;
	__atomic_store_n(&w->state, W_STARTING, __ATOMIC_RELEASE);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		_exit(worker(idx, w->inc));
	w->pid = pid;
}

static int n_tap;

static void tap(int ok, const char *name)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++n_tap, name);
	fflush(stdout);
}

static int ctl_empty(const char *what)
{
	char cmd[256], out[16] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s -j %s show", CTL, what);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	if (!fgets(out, sizeof(out), f))
		out[0] = 0;
	pclose(f);
	return !strncmp(out, "[]", 2);
}

int main(int argc, char **argv)
{
	unsigned int secs = 20, kill_ms = 100, i, kills = 0, hung = 0, bad = 0;
	uint64_t end, t0, rng;
	int opt, status;
	pid_t pid;

	seed = (uint64_t)time(NULL);
	while ((opt = getopt(argc, argv, "s:t:p:k:")) != -1) {
		if (vmmc_run_opt(opt, optarg, &seed, &secs))
			continue;
		switch (opt) {
		case 'p':
			nprocs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'k':
			kill_ms = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: vmmc_stress [-s SEED] [-t SECONDS] [-p PROCS] [-k KILL_MS]\n");
			return 2;
		}
	}
	if (!nprocs || nprocs > MAX_PROCS || !kill_ms) {
		fprintf(stderr, "vmmc_stress: 1 <= PROCS <= %d, KILL_MS >= 1\n",
			MAX_PROCS);
		return 2;
	}
	printf("TAP version 13\n1..8\n");
	printf("# vmmc_stress: seed %llu, %u s, %u processes, a kill every ~%u ms (replay: vmmc_stress -s %llu -t %u -p %u -k %u)\n",
	       (unsigned long long)seed, secs, nprocs, kill_ms,
	       (unsigned long long)seed, secs, nprocs, kill_ms);
	fflush(stdout);
	sh = vmmc_shared_map(sizeof(*sh));
	if (!sh)
		return 1;
	rng = seed;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < nprocs; i++)
		spawn(i);
	t0 = now_ns();
	end = t0 + (uint64_t)secs * 1000000000ULL;
	while (now_ns() < end) {
		usleep((useconds_t)vmmc_rand_range(&rng, kill_ms * 500,
						   kill_ms * 1500));
		/* one that ended by itself is a failure (it says why) */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < nprocs && sh->w[i].pid != pid; i++)
				;
			if (i == nprocs)
				continue;
			printf("# worker %u ended by itself: status 0x%x\n", i,
			       status);
			bad++;
			__atomic_store_n(&sh->w[i].state, W_DEAD, __ATOMIC_RELEASE);
			spawn(i);
		}
		i = (unsigned int)vmmc_rand_range(&rng, 0, nprocs - 1);
		kill(sh->w[i].pid, SIGKILL);
		waitpid(sh->w[i].pid, &status, 0);
		kills++;
		/* reaped: its endpoint is fenced, its files closed */
		__atomic_store_n(&sh->w[i].state, W_DEAD, __ATOMIC_RELEASE);
		spawn(i);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nprocs; i++) {
		uint64_t t = now_ns();

		while (waitpid(sh->w[i].pid, &status, WNOHANG) != sh->w[i].pid) {
			if (now_ns() - t > 60000000000ULL) {
				printf("# worker %u hung\n", i);
				kill(sh->w[i].pid, SIGKILL);
				waitpid(sh->w[i].pid, &status, 0);
				hung++;
				break;
			}
			usleep(20000);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# worker %u: status 0x%x at the end\n", i, status);
			bad++;
		}
	}
	printf("# %u processes, %u killed, in %.1f s: %llu loopback SENDs checked, %llu to others (%llu revoked), %llu messages checked by receivers, %llu pins ahead, %llu buffers unmapped under pins\n",
	       next_inc - 1, kills, (double)(now_ns() - t0) / 1e9,
	       (unsigned long long)sh->self_ok, (unsigned long long)sh->sent_ok,
	       (unsigned long long)sh->revoked, (unsigned long long)sh->recv_ok,
	       (unsigned long long)sh->pins, (unsigned long long)sh->remaps);
	tap(!sh->failures, "every byte and every completion as expected");
	tap(!hung && !bad, "no worker hung or died by itself");
	tap(kills > 0 && sh->self_ok > 0 && sh->sent_ok > 0 &&
	    sh->recv_ok > 0,
	    "work was done and processes were killed");
	usleep(300000);
	tap(vmmc_ctl_stat(CTL, "live_eps") == 0 &&
	    vmmc_ctl_stat(CTL, "fence_timeouts") == 0,
	    "no endpoint left, every fence acknowledged");
	tap(vmmc_ctl_stat(CTL, "pinned_pages") == 0, "no page left pinned");
	tap(vmmc_ctl_stat(CTL, "exports") == 0 &&
	    vmmc_ctl_stat(CTL, "imports") == 0,
	    "no export or import left");
	tap(ctl_empty("export") && ctl_empty("import") && ctl_empty("ep"),
	    "vmmc_ctl dumps no export, import or endpoint");
	tap(system("python3 selftests/vmmc_sram_check.py") == 0,
	    "the NIC's own tables hold no stale entry");
	printf("# replay: vmmc_stress -s %llu -t %u -p %u -k %u\n",
	       (unsigned long long)seed, secs, nprocs, kill_ms);
	return sh->failures || hung || bad ? 1 : 0;
}

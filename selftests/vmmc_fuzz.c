// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a fuzzer for /dev/vmmcN. PROCS processes (each with its own
 * endpoints) run for SECONDS: every ioctl with random and boundary
 * arguments (NULL, kernel and unaligned pointers, structs straddling an
 * unmapped page, lengths 0, 1, page - 1, huge, wrong and other endpoints'
 * handles), mmap of every offset with right and wrong sizes, flags and
 * protections, munmap/mremap/madvise/mprotect/fork around pinned and
 * exported memory, random and boundary descriptors written into the
 * mapped SQ with broken producer indexes and a rung doorbell, and garbage
 * in the CQ/NQ indexes, valid REDIRECT and REDIRECT_CANCEL descriptors
 * onto pages pinned for write. Every call must return 0 or one of the
 * errnos documented for it; a mapping must succeed exactly when it is one
 * of the four regions, whole; no process may hang. Meanwhile each process
 * keeps a good path (vmmc_fuzz_good.c) whose every SEND must complete OK
 * and land byte for byte, and a canary page no call names, which the NIC
 * must never touch (checked byte for byte at the end). With -u UID (65534
 * by default when run as root; -u 0: none) every other process runs as
 * that unprivileged user, beside root's. Afterwards the NIC still works
 * (a NOP and a SEND checked byte for byte), and nothing is left in the
 * driver or in the NIC's tables (vmmc_sram_check.py). TAP output.
 *
 *   vmmc_fuzz [-s SEED] [-t SECONDS] [-p PROCS] [-d DEV] [-u UID]
 *
 * The seed, run length and process count are printed first: the same
 * three replay a run (each process's stream of operations depends only on
 * the seed and its index; timing still differs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vmmc_test.h"
#include "vmmc_fuzz.h"

#define CTL	"build/tools/vmmc_ctl/vmmc_ctl"

struct fuzz_shared *fz;		/* MAP_SHARED: all processes */
const char *fz_dev = VMMC_DEV;

/* a failure: counted in the shared page, printed with the op log */
void fz_fail(struct fz_proc *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	__atomic_add_fetch(&fz->failures, 1, __ATOMIC_RELAXED);
	printf("# proc %d op %llu: FAIL: %s\n", p->idx,
	       (unsigned long long)p->ops, msg);
	fflush(stdout);
}

/* errno of a call that returned < 0, checked against a 0-terminated set */
void fz_expect(struct fz_proc *p, const char *what, long rc,
	       const int *ok_errnos)
{
	int e = errno, i;

	for (i = 0; i < 24; i++) {
		const char *w = __atomic_load_n(&fz->calls[i].what,
						__ATOMIC_RELAXED);
		const char *none = NULL;

		if (!w && __atomic_compare_exchange_n(&fz->calls[i].what, &none,
						      what, 0, __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED))
			w = what;
		if (!w)
			w = none;
		if (w == what) {
			__atomic_add_fetch(rc >= 0 ? &fz->calls[i].ok :
					   &fz->calls[i].err, 1,
					   __ATOMIC_RELAXED);
			break;
		}
	}
	if (rc >= 0)
		return;
	for (i = 0; ok_errnos[i]; i++)
		if (ok_errnos[i] == e)
			return;
	fz_fail(p, "%s: unexpected errno %d (%s)", what, e, strerror(e));
}

uint64_t fz_rand(struct fz_proc *p)
{
	return vmmc_rand(&p->rng);
}

uint64_t fz_below(struct fz_proc *p, uint64_t n)
{
	return n ? fz_rand(p) % n : 0;
}

/* A length: mostly boundaries, sometimes anything. */
uint64_t fz_len(struct fz_proc *p, uint64_t region)
{
	static const uint64_t b[] = {
		0, 1, 7, 4095, 4096, 4097, 8191, 65536, 1 << 20,
		VMMC_EXPORT_MAX_LEN, VMMC_EXPORT_MAX_LEN + 1ULL,
		(uint64_t)VMMC_UTLB_SLOTS * 4096,
		(uint64_t)VMMC_UTLB_SLOTS * 4096 + 1, 1ULL << 47,
		~0ULL, ~0ULL - 4095, 0x8000000000000000ULL,
	};

	switch (fz_below(p, 4)) {
	case 0:
		return b[fz_below(p, sizeof(b) / sizeof(b[0]))];
	case 1:
		return fz_rand(p);
	default:
		return region ? 1 + fz_below(p, region) : 1;
	}
}

/* An address: inside our regions (any alignment), or hostile. */
uint64_t fz_addr(struct fz_proc *p, uint64_t *room)
{
	static const uint64_t hostile[] = {
		0, 1, 4095, 0xffff888000000000ULL, 0xffffffff81000000ULL,
		0xffffffffffffffffULL, 0x00007ffffffff000ULL,
		0x0000800000000000ULL, 0xfffffffffffff000ULL,
	};
	struct fz_region *r;
	uint64_t off;

	*room = 0;
	if (fz_below(p, 6) == 0)
		return hostile[fz_below(p, sizeof(hostile) / sizeof(hostile[0]))];
	r = &p->regions[fz_below(p, FZ_REGIONS)];
	if (!r->base)
		return (uint64_t)(uintptr_t)p->scratch;
	off = fz_below(p, r->len);
	if (fz_below(p, 3) == 0)
		off &= ~4095ULL;
	*room = r->len - off;
	return (uint64_t)(uintptr_t)r->base + off;
}

/*
 * A pointer for an ioctl argument of @size bytes: a good buffer filled
 * with @fill (or random bytes), or NULL, a kernel address, a random one,
 * or a struct whose second half is in the guard page after the scratch
 * page. *exact (may be NULL) says whether it is a good buffer holding
 * exactly @fill.
 */
void *fz_argp_x(struct fz_proc *p, const void *fill, size_t size, int *exact)
{
	uint8_t *good = p->scratch + 64 + fz_below(p, 8);
	size_t i, n = size;

	if (exact)
		*exact = 0;
	switch (fz_below(p, 12)) {
	case 0:
		return NULL;
	case 1:
		return (void *)0xffff888000001000ULL;
	case 2:
		return (void *)(uintptr_t)(fz_rand(p) | 1);
	case 3:	/* the struct ends in the guard page */
		good = p->scratch + 4096 - size / 2;
		n = size / 2;
		break;
	default:
		break;
	}
	if (fill && fz_below(p, 8)) {
		memcpy(good, fill, n);
		if (exact && n == size)
			*exact = 1;
	} else {
		for (i = 0; i < n; i++)
			good[i] = (uint8_t)fz_rand(p);
	}
	return good;
}

void *fz_argp(struct fz_proc *p, const void *fill, size_t size)
{
	return fz_argp_x(p, fill, size, NULL);
}

static void fz_child(int idx, uint64_t seed, uint64_t end_ns, uid_t uid)
{
	struct fz_proc p;

	if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid) ||
		    geteuid() != uid)) {
		printf("# proc %d: cannot become uid %u: %s\n", idx,
		       (unsigned int)uid, strerror(errno));
		_exit(3);
	}
	memset(&p, 0, sizeof(p));
	p.idx = idx;
	p.uid = uid;
	p.seed = seed;
	p.rng = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)idx + 1;
	p.end_ns = end_ns;
	if (fz_proc_init(&p))
		_exit(2);
	fz_run(&p);
	fz_proc_fini(&p);
	__atomic_add_fetch(&fz->total_ops, p.ops, __ATOMIC_RELAXED);
	_exit(0);
}

uint64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int n_tap;

static void tap(int ok, const char *name, const char *why)
{
	n_tap++;
	printf("%sok %d %s%s%s\n", ok ? "" : "not ", n_tap, name,
	       why && !ok ? " # " : "", why && !ok ? why : "");
	fflush(stdout);
}

/* After the storm: a NOP and a 64 KiB SEND through loopback, checked. */
static int sanity(uint64_t seed, char *why, size_t whylen)
{
	size_t len = 64 << 10;
	struct vmmc_ep rx, tx;
	uint32_t exp, imp, name = vmmc_test_name(0xf0);
	struct vmmc_sqe *sqe;
	struct vmmc_cqe cqe;
	uint8_t *src, *dst;
	long bad;
	int err;

	src = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return snprintf(why, whylen, "mmap"), -1;
	dst = src + len;
	memset(dst, 0, len);
	vmmc_fill_pattern(src, len, seed, 1, 0);
	err = vmmc_ep_open(&rx, fz_dev);
	if (err)
		return snprintf(why, whylen, "open: %s", strerror(-err)), -1;
	err = vmmc_ep_open(&tx, fz_dev);
	if (err) {
		vmmc_ep_close(&rx);
		return snprintf(why, whylen, "open: %s", strerror(-err)), -1;
	}
	err = -EIO;
	sqe = vmmc_get_sqe(&tx);
	vmmc_prep_nop(sqe, 77, 0);
	vmmc_submit(&tx);
	if (vmmc_wait_cqe(&tx, &cqe, 5000) || cqe.user_data != 77 ||
	    cqe.status != VMMC_ST_OK) {
		snprintf(why, whylen, "NOP did not complete OK");
		goto out;
	}
	if (vmmc_export(&rx, dst, len, name, ~0ULL, &exp) ||
	    vmmc_import(&tx, rx.info.node_id, name, &imp, NULL)) {
		snprintf(why, whylen, "export/import failed");
		goto out;
	}
	if (vmmc_send(&tx, src, len, imp, 0, 0, 5) ||
	    vmmc_wait_cqe(&tx, &cqe, 5000) || cqe.status != VMMC_ST_OK) {
		snprintf(why, whylen, "SEND did not complete OK");
		goto out;
	}
	bad = vmmc_check_pattern(dst, len, seed, 1, 0);
	if (bad >= 0) {
		snprintf(why, whylen, "byte %ld differs", bad);
		goto out;
	}
	err = 0;
out:
	vmmc_ep_close(&tx);
	vmmc_ep_close(&rx);
	munmap(src, 2 * len);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmmc_fuzz [-s SEED] [-t SECONDS] [-p PROCS] [-d DEV] [-u UID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL), end_ns, t0, done;
	unsigned int secs = 20, procs = 4, i, hung = 0, died = 0;
	uid_t uid = geteuid() == 0 ? 65534 : 0;
	static const char *const nic_stats[5] = {
		"nic_descs", "nic_desc_errors", "nic_sends", "nic_data_rx",
		"nic_redirects",
	};
	long long nic0[5];
	pid_t pids[FZ_MAX_PROCS];
	char why[256];
	int opt, status;

	while ((opt = getopt(argc, argv, "s:t:p:d:u:h")) != -1) {
		if (vmmc_run_opt(opt, optarg, &seed, &secs))
			continue;
		switch (opt) {
		case 'p':
			procs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			fz_dev = optarg;
			break;
		case 'u':
			uid = (uid_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!procs || procs > FZ_MAX_PROCS || !secs)
		usage();
	printf("TAP version 13\n1..8\n");
	printf("# vmmc_fuzz: seed %llu, %u s, %u processes, the odd ones as uid %u (replay: vmmc_fuzz -s %llu -t %u -p %u -u %u)\n",
	       (unsigned long long)seed, secs, procs, (unsigned int)uid,
	       (unsigned long long)seed, secs, procs, (unsigned int)uid);
	fflush(stdout);
	fz = vmmc_shared_map(sizeof(*fz));
	if (!fz)
		return 1;
	fz->nprocs = procs;
	for (i = 0; i < 5; i++)
		nic0[i] = vmmc_ctl_stat(CTL, nic_stats[i]);
	t0 = fz_now_ns();
	end_ns = t0 + (uint64_t)secs * 1000000000ULL;
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 1;
		if (pids[i] == 0)
			fz_child((int)i, seed, end_ns, i % 2 ? uid : 0);
	}
	/* no process may hang: each gets 30 s after the end to finish */
	for (i = 0; i < procs; i++) {
		for (;;) {
			pid_t r = waitpid(pids[i], &status, WNOHANG);

			if (r == pids[i])
				break;
			if (fz_now_ns() > end_ns + 30000000000ULL) {
				printf("# proc %u (pid %d) hung: killing it\n",
				       i, pids[i]);
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				hung++;
				break;
			}
			usleep(50000);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# proc %u: %s %d\n", i,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
			       WTERMSIG(status));
			died++;
		}
	}
	printf("# %llu operations in %.1f s\n",
	       (unsigned long long)fz->total_ops,
	       (double)(fz_now_ns() - t0) / 1e9);
	for (i = 0; i < 5; i++)
		printf("# NIC %-15s +%lld\n", nic_stats[i],
		       vmmc_ctl_stat(CTL, nic_stats[i]) - nic0[i]);
	/*
	 * Not asserted: they race the walk's own unpins, unexports and SQ
	 * index breakage, and a NOTIFY SEND to an export whose owner never
	 * reaps its NQ holds the SQ behind it (the good paths assert).
	 */
	printf("# SENDs the walk made of live handles, completed:");
	for (i = 0, done = 0; i < VMMC_ST_NR; i++) {
		done += fz->send_status[i];
		if (fz->send_status[i])
			printf(" %s %llu", vmmc_status_str(i),
			       (unsigned long long)fz->send_status[i]);
	}
	printf("%s\n", done ? "" : " none");
	for (i = 0; i < 24 && fz->calls[i].what; i++)
		printf("# %-14s %8llu ok %8llu refused\n", fz->calls[i].what,
		       (unsigned long long)fz->calls[i].ok,
		       (unsigned long long)fz->calls[i].err);
	snprintf(why, sizeof(why), "%llu", (unsigned long long)fz->failures);
	tap(fz->failures == 0, "every call returned 0 or a documented errno",
	    why);
	tap(!hung, "no process hung", NULL);
	tap(!died, "every process ended normally", NULL);
	snprintf(why, sizeof(why), "%llu good SENDs, %llu good REDIRECTs, %llu failed",
		 (unsigned long long)fz->good_sends,
		 (unsigned long long)fz->good_redirects,
		 (unsigned long long)fz->good_fails);
	printf("# %s\n", why);
	tap(fz->good_sends > 0 && fz->good_redirects > 0 && !fz->good_fails,
	    "every SEND and REDIRECT of the good paths completed OK, byte for byte",
	    why);
	snprintf(why, sizeof(why), "%llu canary pages intact, %llu changed (want %u)",
		 (unsigned long long)fz->canary_pages,
		 (unsigned long long)fz->canary_fails, 5 * procs);
	printf("# %s\n", why);
	tap(fz->canary_pages == 5 * procs && !fz->canary_fails,
	    "no canary page was touched", why);
	tap(sanity(seed, why, sizeof(why)) == 0,
	    "the NIC still moves data after the fuzzing", why);
	usleep(200000);
	snprintf(why, sizeof(why), "live_eps %lld pinned %lld exports %lld imports %lld",
		 vmmc_ctl_stat(CTL, "live_eps"),
		 vmmc_ctl_stat(CTL, "pinned_pages"),
		 vmmc_ctl_stat(CTL, "exports"), vmmc_ctl_stat(CTL, "imports"));
	tap(vmmc_ctl_stat(CTL, "live_eps") == 0 &&
	    vmmc_ctl_stat(CTL, "pinned_pages") == 0 &&
	    vmmc_ctl_stat(CTL, "exports") == 0 &&
	    vmmc_ctl_stat(CTL, "imports") == 0,
	    "nothing left in the driver", why);
	tap(system("python3 selftests/vmmc_sram_check.py") == 0,
	    "the NIC's own tables hold no stale entry", NULL);
	printf("# replay: vmmc_fuzz -s %llu -t %u -p %u -u %u\n",
	       (unsigned long long)seed, secs, procs, (unsigned int)uid);
	return fz->failures || hung || died ? 1 : 0;
}

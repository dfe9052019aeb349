/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_test.h - helpers shared by the vmmc selftests (kselftest harness).
 */
#ifndef VMMC_TEST_H
#define VMMC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmmc.h"

#define VMMC_DEV "/dev/vmmc0"

/*
 * The options the randomised programs (vmmc_fuzz, vmmc_stress,
 * vmmc_mempress) share: -s SEED and -t SECONDS. 1 if @opt was one of
 * them (its value stored), else 0.
 */
static inline int vmmc_run_opt(int opt, const char *arg, uint64_t *seed,
			       unsigned int *secs)
{
	if (opt == 's')
		*seed = strtoull(arg, NULL, 0);
	else if (opt == 't')
		*secs = (unsigned int)strtoul(arg, NULL, 0);
	else
		return 0;
	return 1;
}

/* @len bytes of zeroed memory that children forked later share, or NULL */
static inline void *vmmc_shared_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

/* This process's pinned_vm, as the kernel charges it: VmPin in kB. */
static inline long vmmc_vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Sum of all CPUs' counts on the /proc/interrupts line named @name. */
static inline long long vmmc_proc_irqs(const char *name)
{
	char line[1024];
	long long total = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;
		long long sum = 0;

		if (!strstr(line, name))
			continue;
		p = strchr(line, ':');
		if (!p)
			continue;
		p++;
		for (;;) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		total = sum;
		break;
	}
	fclose(f);
	return total;
}

/* Spin (no system call) until a completion arrives or @spins run out. */
static inline int vmmc_spin_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out,
				unsigned long spins)
{
	while (spins--) {
		struct vmmc_cqe *cqe = vmmc_peek_cqe(ep);

		if (cqe) {
			*out = *cqe;
			vmmc_cqe_seen(ep);
			return 0;
		}
	}
	return -1;
}
/* Post one hand-written descriptor; its completion status, or 1000 (SQ
 * full) or 1001 (no completion within 10 s).
 */
static inline uint32_t vmmc_post_raw(struct vmmc_ep *ep,
				     const struct vmmc_sqe *in)
{
	struct vmmc_sqe *sqe = vmmc_get_sqe(ep);
	struct vmmc_cqe cqe;

	if (!sqe)
		return 1000;
	*sqe = *in;
	vmmc_submit(ep);
	if (vmmc_wait_cqe(ep, &cqe, 10000))
		return 1001;
	return cqe.status;
}

/*
 * Why a two-node test cannot run on @ep's node (fewer than two nodes, or
 * a node other than 0 and 1), or NULL if it can.
 */
static inline const char *vmmc_pair_skip(const struct vmmc_ep *ep)
{
	if (ep->info.nr_nodes < 2)
		return "single node";
	if (ep->info.node_id > 1)
		return "nodes 0 and 1 only";
	return NULL;
}

/* @len bytes of private anonymous memory filled with @c, or MAP_FAILED */
static inline void *vmmc_page_map(size_t len, int c)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, c, len);
	return p;
}


/* xorshift64*: a seeded, repeatable stream for sizes, offsets, bytes */
static inline uint64_t vmmc_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* The run's seed: $VMMC_SEED or the time; printed so a failure replays. */
static inline uint64_t vmmc_test_seed(const char *what)
{
	const char *e = getenv("VMMC_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL);

	printf("# %s: seed %llu (VMMC_SEED=%llu replays it)\n", what,
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	return seed ? seed : 1;
}

/* A uniform value in [lo, hi] */
static inline uint64_t vmmc_rand_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + vmmc_rand(s) % (hi - lo + 1);
}

/* Log-uniform size in [1, max]: as many small sizes as large ones. */
static inline size_t vmmc_rand_size(uint64_t *s, size_t max)
{
	unsigned int bits = 0, b;
	size_t lo, hi;

	while (((size_t)1 << bits) < max)
		bits++;
	b = (unsigned int)(vmmc_rand(s) % (bits + 1));
	lo = b ? (size_t)1 << (b - 1) : 1;
	hi = ((size_t)1 << b) < max ? (size_t)1 << b : max;
	return (size_t)vmmc_rand_range(s, lo, hi);
}

/*
 * The bytes of message @msg of run @seed at export offset @off: what a
 * sender writes and a receiver checks with no other channel between them.
 * One 64-bit hash per aligned 8 bytes of the offset space.
 */
static inline uint64_t vmmc_pattern_word(uint64_t seed, uint64_t msg,
					 uint64_t word)
{
	uint64_t x = (seed ^ (msg * 0x9e3779b97f4a7c15ULL)) +
		     word * 0xbf58476d1ce4e5b9ULL;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	return x;
}

static inline uint8_t vmmc_pattern(uint64_t seed, uint64_t msg, uint64_t off)
{
	return (uint8_t)(vmmc_pattern_word(seed, msg, off >> 3) >> ((off & 7) * 8));
}

static inline void vmmc_fill_pattern(uint8_t *p, size_t len, uint64_t seed,
				     uint64_t msg, uint64_t off)
{
	size_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		p[i] = vmmc_pattern(seed, msg, off + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = vmmc_pattern_word(seed, msg, (off + i) >> 3);

		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		p[i] = vmmc_pattern(seed, msg, off + i);
}

/* Index of the first byte that differs from the pattern, or -1. */
static inline long vmmc_check_pattern(const uint8_t *p, size_t len,
				      uint64_t seed, uint64_t msg, uint64_t off)
{
	size_t i = 0;

	for (; i < len && ((off + i) & 7); i++)
		if (p[i] != vmmc_pattern(seed, msg, off + i))
			return (long)i;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = vmmc_pattern_word(seed, msg, (off + i) >> 3), v;

		memcpy(&v, p + i, 8);
		if (v != w)
			break;
	}
	for (; i < len; i++)
		if (p[i] != vmmc_pattern(seed, msg, off + i))
			return (long)i;
	return -1;
}

/*
 * Message @msg of the pattern of @seed, sent by node 0 to [@off, + @len)
 * of our export @exp_id at @buf, as @nqe announced it: -1 if the NQE
 * names exactly that and the bytes are the pattern; -2 if the NQE
 * differs; else the index of the first wrong byte.
 */
static inline long vmmc_check_msg(const struct vmmc_nqe *nqe, uint32_t exp_id,
				  const uint8_t *buf, uint64_t off, size_t len,
				  uint64_t seed, uint64_t msg)
{
	if (nqe->export_id != exp_id || nqe->offset != off ||
	    nqe->len != len || nqe->src_node != 0)
		return -2;
	return vmmc_check_pattern(buf + off, len, seed, msg, off);
}

/* Index of the first byte of [p, p + len) that is not @c, or -1. */
static inline long vmmc_find_not(const uint8_t *p, size_t len, uint8_t c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return (long)i;
	return -1;
}

/* A name no other test process uses at the same time. */
static inline uint32_t vmmc_test_name(uint32_t n)
{
	return (uint32_t)getpid() << 8 | (n & 0xff);
}

/* One vmmc_ctl -j show statistic (or a top-level key), -1 if absent. */
static inline long long vmmc_ctl_stat(const char *ctl, const char *key)
{
	char cmd[512], out[64] = "";
	long long v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "%s -j show | python3 -c \"import json,sys; d=json.load(sys.stdin)[0]; "
		 "print(d.get('%s', d.get('stats', {}).get('%s', -1)))\"",
		 ctl, key, key);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (fgets(out, sizeof(out), f))
		v = strtoll(out, NULL, 0);
	pclose(f);
	return v;
}

/* The directory of vmrun's --fabric-signals helper, or NULL (not given). */
static inline const char *vmmc_sig_dir(void)
{
	return getenv("VMMC_FABRIC_SIG_DIR");
}

/* CLOCK_MONOTONIC in seconds. */
static inline double vmmc_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Ask the host for something a guest cannot do (tools/vm/vmrun
 * --fabric-signals, selftests/link_faults.sh): write @req as a line into
 * @dir/req-PID-N over the project share and wait up to 30 s for the
 * helper's @dir/ack-PID-N. Its status (0: done), or -1.
 */
static inline int vmmc_host_req(const char *dir, const char *req)
{
	static unsigned int seq;
	char tmp[512], path[512], ack[512];
	struct timespec t0, t;
	int rc = -1;
	FILE *f;

	if (!dir)
		return -1;
	seq++;
	snprintf(tmp, sizeof(tmp), "%s/req-%d-%u.tmp", dir, getpid(), seq);
	snprintf(path, sizeof(path), "%s/req-%d-%u", dir, getpid(), seq);
	snprintf(ack, sizeof(ack), "%s/ack-%d-%u", dir, getpid(), seq);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", req);
	if (fclose(f) || rename(tmp, path))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		f = fopen(ack, "r");
		if (f) {
			if (fscanf(f, "%d", &rc) != 1)
				rc = -1;
			fclose(f);
			if (rc != -1)
				break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 30)
			break;
		usleep(20000);
	}
	unlink(ack);
	return rc;
}

#endif /* VMMC_TEST_H */

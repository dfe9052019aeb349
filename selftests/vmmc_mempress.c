// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a long-lived sender under memory pressure keeps working.
 * For SECONDS, one process sends seeded random messages through the NIC
 * loopback into two exports (one private anonymous, one shared memory)
 * from a send buffer it pins through the UTLB, and checks every byte;
 * meanwhile a memory hog allocates and touches most of the guest's free
 * memory, frees part of it and starts again (restarted if the OOM killer
 * takes it: it volunteers with oom_score_adj 1000), and the kernel is
 * asked to compact memory every 100 messages (it tries the pinned pages
 * of the shared export, and fails on the pin). Every SEND must complete
 * OK (an export revoked under pressure is a failure) and every byte must
 * arrive. TAP output.
 *
 *   vmmc_mempress [-s SEED] [-t SECONDS] [-r RESERVE_MB]
 *
 * "Short" is MemAvailable below RESERVE_MB + 64 MiB (default 256 MiB, the
 * short form in make check: the hog takes less, and first-touching guest
 * RAM is what stalls a loaded host; make stress passes 48).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vmmc_test.h"

#define MiB		(1UL << 20)
#define EXP_LEN		(1 * MiB)
#define SRC_LEN		(2 * MiB)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	long kb = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, s, strlen(s)) < 0)
		(void)0;	/* best effort */
	close(fd);
}

/* Take all but @reserve_mb of the available memory, touch it, let go. */
static void hog(long reserve_mb, uint64_t seed)
{
	uint64_t s = seed;

	write_file("/proc/self/oom_score_adj", "1000");
	for (;;) {
		long avail = meminfo_kb("MemAvailable") / 1024 - reserve_mb;
		size_t len = avail > 8 ? (size_t)avail * MiB : 8 * MiB;
		uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t off;

		if (m == MAP_FAILED) {
			usleep(10000);
			continue;
		}
		for (off = 0; off < len; off += 4096)
			m[off] = (uint8_t)off;
		/* give back a random part, in holes: fragmentation */
		for (off = 0; off < len; off += 64 * 4096)
			if (vmmc_rand(&s) % 2)
				madvise(m + off, 32 * 4096, MADV_DONTNEED);
		if (vmmc_rand(&s) % 4 == 0)
			write_file("/proc/sys/vm/compact_memory", "1");
		usleep(20000);
		munmap(m, len);
	}
}

static int n_tap;

static void tap(int ok, const char *name)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++n_tap, name);
	fflush(stdout);
}

/* a result that could not be judged: counted as a skip */
static void skip(const char *name, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++n_tap, name, why);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL), s, end, msgs = 0, bad = 0;
	unsigned int secs = 15, hogs = 0;
	long reserve_mb = 256, min_avail = -1;
	uint64_t short_msgs = 0, hard_end;
	uint8_t *src, *dst[2];
	uint32_t exp[2], imp[2];
	struct vmmc_ep rx, tx;
	struct vmmc_utlb_stats st;
	int opt, status, err, i;
	pid_t hog_pid;

	while ((opt = getopt(argc, argv, "s:t:r:")) != -1) {
		if (vmmc_run_opt(opt, optarg, &seed, &secs))
			continue;
		switch (opt) {
		case 'r':
			reserve_mb = strtol(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: vmmc_mempress [-s SEED] [-t SECONDS] [-r RESERVE_MB]\n");
			return 2;
		}
	}
	printf("TAP version 13\n1..3\n");
	printf("# vmmc_mempress: seed %llu, %u s, the hog leaves %ld MiB (replay: vmmc_mempress -s %llu -t %u -r %ld)\n",
	       (unsigned long long)seed, secs, reserve_mb,
	       (unsigned long long)seed, secs, reserve_mb);
	fflush(stdout);
	s = seed;
	src = mmap(NULL, SRC_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst[0] = mmap(NULL, EXP_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst[1] = mmap(NULL, EXP_LEN, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst[0] == MAP_FAILED || dst[1] == MAP_FAILED)
		return 1;
	memset(dst[0], 0, EXP_LEN);
	memset(dst[1], 0, EXP_LEN);
	err = vmmc_ep_open(&rx, VMMC_DEV) ?: vmmc_ep_open(&tx, VMMC_DEV);
	for (i = 0; !err && i < 2; i++)
		err = vmmc_export(&rx, dst[i], EXP_LEN, vmmc_test_name(0x30 + i),
				  1ULL << rx.info.node_id, &exp[i]) ?:
		      vmmc_import(&tx, rx.info.node_id, vmmc_test_name(0x30 + i),
				  &imp[i], NULL);
	if (err) {
		printf("# set-up: %s\n", strerror(-err));
		return 1;
	}
	hog_pid = -1;
	end = now_ns() + (uint64_t)secs * 1000000000ULL;
	hard_end = end + 3ULL * secs * 1000000000ULL;
	/* a slow guest: up to 4 x SECONDS until 50 messages went while short */
	while (now_ns() < end || (short_msgs < 50 && now_ns() < hard_end)) {
		size_t len = vmmc_rand_size(&s, 256 << 10);
		uint64_t doff = vmmc_rand_range(&s, 0, EXP_LEN - len);
		uint8_t *from = src + vmmc_rand_range(&s, 0, SRC_LEN - len);
		struct vmmc_cqe cqe;
		long avail, where;

		if (hog_pid <= 0 || waitpid(hog_pid, &status, WNOHANG) == hog_pid) {
			hog_pid = fork();	/* (re)start it: OOM may take it */
			if (hog_pid == 0) {
				hog(reserve_mb, seed + hogs);
				_exit(0);
			}
			hogs++;
		}
		i = (int)(msgs % 2);
		vmmc_fill_pattern(from, len, seed, msgs, doff);
		err = vmmc_send(&tx, from, len, imp[i], doff, 0, msgs);
		if (!err)
			err = vmmc_wait_cqe(&tx, &cqe, 30000);
		if (err || cqe.status != VMMC_ST_OK || cqe.user_data != msgs) {
			printf("# msg %llu (%zu B into the %s export): %s\n",
			       (unsigned long long)msgs, len,
			       i ? "shared" : "private",
			       err ? strerror(-err) : vmmc_status_str(cqe.status));
			bad++;
			break;
		}
		where = vmmc_check_pattern(dst[i] + doff, len, seed, msgs, doff);
		if (where >= 0) {
			printf("# msg %llu (%zu B at %llu): byte %ld differs\n",
			       (unsigned long long)msgs, len,
			       (unsigned long long)doff, where);
			bad++;
		}
		msgs++;
		/* compaction tries the pinned pages too, and must fail */
		if (msgs % 100 == 0)
			write_file("/proc/sys/vm/compact_memory", "1");
		avail = meminfo_kb("MemAvailable");
		if (avail >= 0 && (min_avail < 0 || avail < min_avail))
			min_avail = avail;
		/* within 128 MiB of what the hog leaves: short */
		if (avail >= 0 && avail / 1024 < reserve_mb + 128)
			short_msgs++;
	}
	if (hog_pid > 0) {
		kill(hog_pid, SIGKILL);
		waitpid(hog_pid, &status, 0);
	}
	vmmc_utlb_stats(&tx, &st);
	printf("# %llu messages checked, %llu of them while memory was short; the hog ran %u times; MemAvailable fell to %ld MiB; UTLB: %llu pins, %llu flushes\n",
	       (unsigned long long)msgs, (unsigned long long)short_msgs, hogs,
	       min_avail / 1024,
	       (unsigned long long)st.pins, (unsigned long long)st.flushes);
	tap(!bad, "every SEND completed OK and every byte arrived");
	/*
	 * Memory that never got short (a loaded host first-touches the
	 * hog's pages slowly) cannot tell whether the sender works under
	 * pressure: a visible SKIP, not a pass.
	 */
	if (!bad && short_msgs < 20 &&
	    (min_avail < 0 || min_avail / 1024 >= reserve_mb + 128))
		skip("the sender worked while memory was short",
		     "memory never got short (MemAvailable stayed above what the hog leaves + 128 MiB)");
	else
		tap(short_msgs >= 20, "the sender worked while memory was short");
	vmmc_ep_close(&tx);
	vmmc_ep_close(&rx);
	tap(vmmc_ctl_stat("build/tools/vmmc_ctl/vmmc_ctl", "pinned_pages") == 0,
	    "nothing left pinned");
	return bad ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the NICs' reliable link layer across two nodes, under
 * faults the fabric injects; run on both nodes (node 0 sends, node 1
 * exports and checks). Skips on a single node, and unless
 * VMMC_LINK_DIR names a directory shared with the host where
 * selftests/link_faults.sh passes requests to the fabric's control socket
 * (the guest cannot reach it). A TCP connection over the virtio-net link
 * carries only set-up and acknowledgements.
 *
 * lossy: with 5% drop, 1% duplicate, 5% reorder, 2% delay and 1%
 * corruption on every link, node 0 sends VMMC_LINK_MSGS (default 3000)
 * messages of seeded random sizes (1 B .. 64 KiB, every 16th up to
 * 1 MiB) at random offsets with NOTIFY, one at a time; node 1 checks
 * every NQE (offset, length, source) and every byte of every message, and
 * that the bytes around it did not change (the whole export every 256
 * messages). Node 0's NIC must have retransmitted and node 1's must have
 * seen CRC errors, duplicates and reordering (vmmc_ctl counters).
 *
 * link_down: the same traffic while both directions of the link are down
 * for 3 s (below the fabric's dead-peer time): every SEND completes OK,
 * every message arrives once, no peer is declared dead.
 *
 * node_kill: node 1's NIC is cut off: node 0's SEND completes with
 * NODE_DOWN within the dead-peer time (+2 s), the next one through the
 * same import at once; node 0 stays healthy (a SEND to its own node
 * works); node 1 comes back: a new import works and its data lands.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"
#include "vmmc_cluster_ctl.h"

#define CTL		"build/tools/vmmc_ctl/vmmc_ctl"
#define KiB		(1UL << 10)
#define MiB		(1UL << 20)
#define EXP_LEN		(2 * MiB + 4099)
#define MAP_LEN		(4 * MiB)
#define FILL		0x5a
#define FAULTS		"all:drop=5,dup=1,reorder=5,delay=2,corrupt=1"
#define DEAD_MS		4000		/* the fabric's default --dead-ms */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Ask the host's link_faults.sh to pass @req to the fabric's control
 * socket; its exit status, or -1 if no answer came within 30 s.
 */
static int host_ctl(const char *req)
{
	return vmmc_host_req(getenv("VMMC_LINK_DIR"), req);
}

static void plan(uint64_t *s, uint32_t i, size_t *len, uint64_t *doff,
		 size_t *soff)
{
	*len = vmmc_rand_size(s, i % 16 ? 64 * KiB : MiB);
	*doff = vmmc_rand_range(s, 0, EXP_LEN - *len);
	*soff = (size_t)vmmc_rand_range(s, 0, MiB - 1);
}

static unsigned int nr_msgs(void)
{
	const char *e = getenv("VMMC_LINK_MSGS");

	return e ? (unsigned int)strtoul(e, NULL, 0) : 3000;
}

FIXTURE(lc) {
	struct vmmc_ep ep;
	uint32_t node;
	uint8_t *map;
};

FIXTURE_SETUP(lc)
{
	struct stat st;
	const char *dir = getenv("VMMC_LINK_DIR"), *skip;

	self->map = MAP_FAILED;
	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	self->node = self->ep.info.node_id;
	skip = vmmc_pair_skip(&self->ep);
	if (skip)
		SKIP(return, "%s", skip);
	if (!dir || stat(dir, &st) || !S_ISDIR(st.st_mode))
		SKIP(return, "VMMC_LINK_DIR: no fault control from the host");
	self->map = vmmc_page_map(MAP_LEN, FILL);
	ASSERT_NE(MAP_FAILED, self->map);
}

FIXTURE_TEARDOWN(lc)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, MAP_LEN);
	vmmc_ep_close(&self->ep);
}

/*
 * Node 1's side of a run of messages: export, tell node 0, check each
 * message as its NQE arrives, acknowledge it; op 9 ends the run.
 * Returns the number of messages checked, or -1.
 */
static long receiver(struct __test_metadata *_metadata, FIXTURE_DATA(lc) *self,
		     int port, uint32_t name_n)
{
	uint8_t *buf = self->map + 4096 + 123;
	uint64_t seed = 0, s = 0, doff;
	uint32_t exp_id, i;
	size_t len, soff;
	struct msg m;
	long n = 0;
	int fd, r;

	if (vmmc_export(&self->ep, buf, EXP_LEN, vmmc_test_name(name_n),
			1ULL << 0, &exp_id))
		return -1;
	fd = ctl_accept(port);
	if (fd < 0)
		return -1;
	put(fd, 1, vmmc_test_name(name_n), EXP_LEN, 0);
	for (i = 0;; i++) {
		struct vmmc_nqe nqe;
		long bad;

		r = get(fd, &m, 600000);
		if (r != 1)
			break;
		if (m.op == 9)
			break;
		if (m.op == 8) {	/* a new stream: seed in b */
			seed = s = m.b;
			i = (uint32_t)-1;
			put(fd, 8, 0, 0, 0);
			continue;
		}
		/* op 2: message m.a was sent and completed OK */
		plan(&s, i, &len, &doff, &soff);
		if (m.a != i || vmmc_wait_nqe(&self->ep, &nqe, 60000)) {
			TH_LOG("message %u: no NQE (got op %u a %u)", i, m.op, m.a);
			n = -1;
			break;
		}
		bad = vmmc_check_msg(&nqe, exp_id, buf, doff, len, seed, i);
		EXPECT_EQ(-1, bad) TH_LOG("message %u (%zu bytes at %llu): NQE of %u bytes at %llu of export %u, or byte %ld",
					  i, len, (unsigned long long)doff,
					  nqe.len, (unsigned long long)nqe.offset,
					  nqe.export_id, bad);
		memset(buf + doff, FILL, len);
		if (i % 256 == 0)
			bad = vmmc_find_not(self->map, MAP_LEN, FILL);
		else
			bad = vmmc_find_not(buf + (doff > 64 ? doff - 64 : 0),
					    len + 128, FILL);
		EXPECT_EQ(-1, bad) TH_LOG("message %u: stray byte at %ld", i, bad);
		if (bad != -1 || !_metadata->passed) {
			n = -1;
			break;
		}
		n++;
		put(fd, 2, i, 0, 0);
	}
	/* no NQE may be left over: none doubled */
	if (n >= 0) {
		struct vmmc_nqe nqe;

		EXPECT_EQ(-ETIMEDOUT, vmmc_wait_nqe(&self->ep, &nqe, 500));
	}
	put(fd, 9, 0, n, 0);
	close(fd);
	vmmc_unexport(&self->ep, exp_id);
	return n;
}

/* Node 0: send @count messages of a fresh stream through @imp. */
static int stream(struct __test_metadata *_metadata, FIXTURE_DATA(lc) *self,
		  int fd, uint32_t imp, unsigned int count, const char *what,
		  unsigned int down_at)
{
	uint64_t seed, s, doff;
	size_t len, soff;
	struct msg m;
	uint32_t i;

	seed = s = vmmc_test_seed(what);
	if (put(fd, 8, 0, seed, 0) || get(fd, &m, 60000) != 1 || m.op != 8)
		return -1;
	for (i = 0; i < count; i++) {
		struct vmmc_cqe cqe;
		int r;

		if (i == down_at)
			EXPECT_EQ(0, host_ctl("fault 0-1:down-ms=3000 1-0:down-ms=3000"));
		plan(&s, i, &len, &doff, &soff);
		vmmc_fill_pattern(self->map + soff, len, seed, i, doff);
		r = vmmc_send(&self->ep, self->map + soff, len, imp, doff,
			      VMMC_SQF_NOTIFY, i);
		if (r)
			return r;
		r = vmmc_wait_cqe(&self->ep, &cqe, 30000);
		if (r)
			return r;
		EXPECT_EQ(VMMC_ST_OK, cqe.status)
			TH_LOG("%s: message %u: %s", what, i,
			       vmmc_status_str(cqe.status));
		EXPECT_EQ(i, cqe.user_data);
		if (cqe.status != VMMC_ST_OK || cqe.user_data != i)
			return -EIO;
		if (put(fd, 2, i, 0, 0) || get(fd, &m, 120000) != 1 ||
		    m.op != 2 || m.a != i) {
			TH_LOG("%s: no check of message %u", what, i);
			return -EIO;
		}
	}
	return 0;
}

static int sender_setup(FIXTURE_DATA(lc) *self, int port, uint32_t *imp,
			uint32_t *name)
{
	struct msg m;
	int fd = ctl_connect(port);

	if (fd < 0 || get(fd, &m, 300000) != 1 ||
	    vmmc_import(&self->ep, 1, m.a, imp, NULL)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (name)
		*name = m.a;
	return fd;
}

static int sender_end(int fd)
{
	struct msg m;
	int r;

	put(fd, 9, 0, 0, 0);
	r = get(fd, &m, 120000);
	close(fd);
	return r == 1 && m.op == 9 ? (int)m.b : -1;
}

TEST_F_TIMEOUT(lc, lossy, 1800)
{
	unsigned int n = nr_msgs();
	long long re0, crc1;
	uint32_t imp;
	int fd;

	if (self->node == 1) {
		crc1 = vmmc_ctl_stat(CTL, "nic_link_crc_errors");
		ASSERT_EQ(n, receiver(_metadata, self, 7795, 1));
		EXPECT_LT(crc1, vmmc_ctl_stat(CTL, "nic_link_crc_errors"));
		EXPECT_LT(0, vmmc_ctl_stat(CTL, "nic_link_dups"));
		EXPECT_LT(0, vmmc_ctl_stat(CTL, "nic_link_ooo"));
		return;
	}
	re0 = vmmc_ctl_stat(CTL, "nic_link_retrans");
	ASSERT_EQ(0, host_ctl("fault " FAULTS));
	fd = sender_setup(self, 7795, &imp, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, stream(_metadata, self, fd, imp, n, "link lossy", ~0u));
	EXPECT_EQ(n, sender_end(fd));
	EXPECT_LT(re0, vmmc_ctl_stat(CTL, "nic_link_retrans"));
	EXPECT_LT(0, vmmc_ctl_stat(CTL, "nic_fault_drops"));
	EXPECT_LT(0, vmmc_ctl_stat(CTL, "nic_fault_corrupts"));
	TH_LOG("%u messages; node 0: retrans %lld, injected drops %lld dups %lld corrupts %lld delays %lld",
	       n, vmmc_ctl_stat(CTL, "nic_link_retrans"),
	       vmmc_ctl_stat(CTL, "nic_fault_drops"),
	       vmmc_ctl_stat(CTL, "nic_fault_dups"),
	       vmmc_ctl_stat(CTL, "nic_fault_corrupts"),
	       vmmc_ctl_stat(CTL, "nic_fault_delays"));
}

TEST_F_TIMEOUT(lc, link_down, 600)
{
	unsigned int n = 400;
	long long deaths;
	uint32_t imp;
	double t0;
	int fd;

	deaths = vmmc_ctl_stat(CTL, "nic_link_peer_deaths");
	if (self->node == 1) {
		ASSERT_EQ(n, receiver(_metadata, self, 7796, 2));
		EXPECT_EQ(deaths, vmmc_ctl_stat(CTL, "nic_link_peer_deaths"));
		return;
	}
	fd = sender_setup(self, 7796, &imp, NULL);
	ASSERT_LE(0, fd);
	t0 = now_ms();
	EXPECT_EQ(0, stream(_metadata, self, fd, imp, n, "link down", 100));
	EXPECT_EQ(n, sender_end(fd));
	EXPECT_LT(3000, now_ms() - t0);
	EXPECT_EQ(deaths, vmmc_ctl_stat(CTL, "nic_link_peer_deaths"));
	TH_LOG("%u messages across a 3 s link outage in %.0f ms", n,
	       now_ms() - t0);
}

/* This process's import @id as vmmc_ctl shows it: "active", "dead"... */
static const char *import_state(uint32_t id)
{
	static char out[32];
	char cmd[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "%s -j import show | python3 -c \"import json,sys; "
		 "print(*[o['state'] for o in json.load(sys.stdin) "
		 "if o['pid'] == %d and o['import'] == %u] or ['none'])\"",
		 CTL, (int)getpid(), id);
	strcpy(out, "error");
	f = popen(cmd, "r");
	if (!f)
		return out;
	if (fgets(out, sizeof(out), f))
		out[strcspn(out, "\n")] = 0;
	pclose(f);
	return out;
}

TEST_F_TIMEOUT(lc, node_kill, 600)
{
	uint32_t imp, imp2, name, own_id, own_imp;
	long long deaths, revoked;
	struct vmmc_cqe cqe;
	double t0, dt;
	int fd;

	if (self->node == 1) {
		/* nothing of the cut-off SENDs arrives; then 20 after revival */
		ASSERT_EQ(20, receiver(_metadata, self, 7797, 3));
		return;
	}
	ASSERT_EQ(0, host_ctl("fault all:clear"));
	fd = sender_setup(self, 7797, &imp, &name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmmc_export(&self->ep, self->map + 2 * MiB, MiB,
				 vmmc_test_name(4), 1ULL << 0, &own_id));
	ASSERT_EQ(0, vmmc_import(&self->ep, 0, vmmc_test_name(4), &own_imp,
				 NULL));
	deaths = vmmc_ctl_stat(CTL, "nic_link_peer_deaths");
	revoked = vmmc_ctl_stat(CTL, "nic_link_imports_revoked");
	ASSERT_EQ(0, host_ctl("fault node1:dead=1"));
	t0 = now_ms();
	ASSERT_EQ(0, vmmc_send(&self->ep, self->map, 5000, imp, 0,
			       VMMC_SQF_NOTIFY, 1));
	ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, DEAD_MS + 10000));
	dt = now_ms() - t0;
	EXPECT_EQ(VMMC_ST_NODE_DOWN, cqe.status)
		TH_LOG("%s", vmmc_status_str(cqe.status));
	EXPECT_LT(dt, DEAD_MS + 2000);
	EXPECT_LT(DEAD_MS - 500, dt);
	TH_LOG("node 1 cut off: NODE_DOWN after %.0f ms (dead-ms %d)", dt,
	       DEAD_MS);
	EXPECT_EQ(deaths + 1, vmmc_ctl_stat(CTL, "nic_link_peer_deaths"));
	EXPECT_EQ(revoked + 1, vmmc_ctl_stat(CTL, "nic_link_imports_revoked"));
	/* netlink shows the import dead, the one from our own node active */
	EXPECT_STREQ("dead", import_state(imp));
	EXPECT_STREQ("active", import_state(own_imp));
	/* the dead import fails at once */
	t0 = now_ms();
	ASSERT_EQ(0, vmmc_send(&self->ep, self->map, 10, imp, 0, 0, 2));
	ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 5000));
	EXPECT_EQ(VMMC_ST_NODE_DOWN, cqe.status);
	EXPECT_LT(now_ms() - t0, 1000);
	/* node 0 stays healthy: its own node still works */
	memset(self->map, 0x77, 4096);
	ASSERT_EQ(0, vmmc_send(&self->ep, self->map, 4096, own_imp, 100, 0, 3));
	ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 5000));
	EXPECT_EQ(VMMC_ST_OK, cqe.status);
	EXPECT_EQ(-1, vmmc_find_not(self->map + 2 * MiB + 100, 4096, 0x77));
	/* node 1 comes back: a new import works, 20 messages land */
	ASSERT_EQ(0, host_ctl("fault node1:dead=0"));
	EXPECT_EQ(0, vmmc_unimport(&self->ep, imp));
	ASSERT_EQ(0, vmmc_import(&self->ep, 1, name, &imp2, NULL));
	EXPECT_EQ(0, stream(_metadata, self, fd, imp2, 20, "after revival", ~0u));
	EXPECT_EQ(20, sender_end(fd));
	EXPECT_EQ(0, vmmc_unexport(&self->ep, own_id));
}

TEST_HARNESS_MAIN

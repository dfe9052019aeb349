// SPDX-License-Identifier: GPL-2.0
/*
 * Description: deliberate update across two nodes; run on both (node 0
 * sends, node 1 exports and checks; each reports its own half). Skips on
 * a single node. A TCP connection over the nodes' virtio-net link carries
 * only set-up and acknowledgements; the data goes through the NICs.
 *
 * random_sizes: node 1 exports 4 MiB + 4099 bytes; node 0 sends seeded
 * random sizes up to 4 MiB at random offsets with NOTIFY; node 1, on each
 * NQE, regenerates the expected offset, length and bytes from the seed and
 * checks every byte, and that nothing outside the range changed.
 *
 * redirect_remote: node 1 redirects each message's range to its own
 * buffer before node 0 sends it: the bytes land there, not in the export.
 *
 * kill9_revokes: a process on node 1 exports a buffer that node 0 keeps
 * sending into; it is killed with SIGKILL: node 0's SENDs then complete
 * with REVOKED (never hang, never OK again), node 1's driver shows no
 * endpoint, export or pinned page left, and fresh memory node 1 fills
 * after the kill stays intact while node 0 keeps trying.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"
#include "vmmc_cluster_ctl.h"

#define CTL		"build/tools/vmmc_ctl/vmmc_ctl"
#define MiB		(1UL << 20)
#define EXP_LEN		(4 * MiB + 4099)
#define FILL		0xa5

/* What message @i of the run is: the same stream on both nodes. */
static void plan(uint64_t *s, size_t *len, uint64_t *doff, size_t *soff)
{
	*len = vmmc_rand_size(s, 4 * MiB);
	*doff = vmmc_rand_range(s, 0, EXP_LEN - *len);
	*soff = (size_t)vmmc_rand_range(s, 0, 4 * MiB - 1);
}

FIXTURE(xc) {
	struct vmmc_ep ep;
	uint32_t node;
};

FIXTURE_SETUP(xc)
{
	const char *skip;

	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	self->node = self->ep.info.node_id;
	skip = vmmc_pair_skip(&self->ep);
	if (skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(xc)
{
	vmmc_ep_close(&self->ep);
}

TEST_F_TIMEOUT(xc, random_sizes, 600)
{
	enum { COUNT = 60 };
	uint64_t seed, s, doff, len64;
	uint32_t imp, i, exp_id;
	size_t len, soff;
	struct msg m;
	uint8_t *map, *buf;
	int fd;

	map = vmmc_page_map(8 * MiB + 8192, FILL);
	ASSERT_NE(MAP_FAILED, map);
	if (self->node == 1) {
		buf = map + 4096 + 123;
		ASSERT_EQ(0, vmmc_export(&self->ep, buf, EXP_LEN, vmmc_test_name(1),
					 1ULL << 0, &exp_id));
		fd = ctl_accept(7790);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, put(fd, 1, vmmc_test_name(1), EXP_LEN, 0));
		ASSERT_EQ(1, get(fd, &m, 60000));
		seed = s = m.b;
		for (i = 0; i < COUNT; i++) {
			struct vmmc_nqe nqe;
			long bad;

			plan(&s, &len, &doff, &soff);
			ASSERT_EQ(0, vmmc_wait_nqe(&self->ep, &nqe, 60000))
				TH_LOG("no NQE for message %u", i);
			bad = vmmc_check_msg(&nqe, exp_id, buf, doff, len, seed, i);
			EXPECT_EQ(-1, bad) TH_LOG("message %u (%zu bytes at %llu): NQE of %u bytes at %llu of export %u, or byte %ld",
						  i, len, (unsigned long long)doff,
						  nqe.len, (unsigned long long)nqe.offset,
						  nqe.export_id, bad);
			memset(buf + doff, FILL, len);
			bad = vmmc_find_not(map, 8 * MiB + 8192, FILL);
			EXPECT_EQ(-1, bad) TH_LOG("message %u: stray byte at %ld", i, bad);
			ASSERT_EQ(0, put(fd, 2, i, bad, 0));
		}
	} else {
		fd = ctl_connect(7790);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, get(fd, &m, 300000));
		ASSERT_EQ(0, vmmc_import(&self->ep, 1, m.a, &imp, &len64));
		ASSERT_EQ(EXP_LEN, len64);
		seed = s = vmmc_test_seed("cluster random_sizes");
		ASSERT_EQ(0, put(fd, 1, 0, seed, 0));
		for (i = 0; i < COUNT; i++) {
			struct vmmc_cqe cqe;

			plan(&s, &len, &doff, &soff);
			vmmc_fill_pattern(map + soff, len, seed, i, doff);
			ASSERT_EQ(0, vmmc_send(&self->ep, map + soff, len, imp, doff,
					       VMMC_SQF_NOTIFY, i));
			ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 60000));
			ASSERT_EQ(VMMC_ST_OK, cqe.status)
				TH_LOG("message %u: %s", i, vmmc_status_str(cqe.status));
			ASSERT_EQ(i, cqe.user_data);
			ASSERT_EQ(1, get(fd, &m, 120000)) TH_LOG("no ack for %u", i);
			ASSERT_EQ(i, m.a);
		}
	}
	close(fd);
	munmap(map, 8 * MiB + 8192);
}

/*
 * Transfer redirection across the nodes: node 1 posts a redirect of the
 * next message's range to its buffer D, says so, node 0 sends; the data
 * must be in D byte for byte and not in the export.
 */
TEST_F_TIMEOUT(xc, redirect_remote, 600)
{
	enum { COUNT = 24 };
	uint64_t seed, s, doff, len64;
	uint32_t imp, i, exp_id;
	size_t len, soff;
	struct msg m;
	uint8_t *map, *d;
	int fd;

	map = vmmc_page_map(8 * MiB + 8192, FILL);
	ASSERT_NE(MAP_FAILED, map);
	if (self->node == 1) {
		uint8_t *e = map + 4096 + 123;
		long long r0 = vmmc_ctl_stat(CTL, "nic_redirects");

		d = vmmc_page_map(4 * MiB + 4096, 0x5a);
		ASSERT_NE(MAP_FAILED, d);
		ASSERT_EQ(0, vmmc_export(&self->ep, e, EXP_LEN, vmmc_test_name(3),
					 1ULL << 0, &exp_id));
		fd = ctl_accept(7792);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, put(fd, 1, vmmc_test_name(3), EXP_LEN, 0));
		ASSERT_EQ(1, get(fd, &m, 60000));
		seed = s = m.b;
		for (i = 0; i < COUNT; i++) {
			struct vmmc_redir_res r;
			struct vmmc_cqe cqe;
			long bad, spins;

			plan(&s, &len, &doff, &soff);
			ASSERT_EQ(0, vmmc_redirect(&self->ep, i % VMMC_REDIR_SLOTS,
						   exp_id, doff, d + 77, len, i));
			/* taken by the NIC before node 0 hears of it */
			for (spins = 0;; spins++) {
				ASSERT_EQ(0, vmmc_redirect_result(&self->ep,
							i % VMMC_REDIR_SLOTS, &r));
				if (r.state == VMMC_REDIR_ACTIVE && r.offset == doff &&
				    r.len == len)
					break;
				/* refused: its completion says why */
				ASSERT_EQ(NULL, vmmc_peek_cqe(&self->ep));
				ASSERT_LT(spins, 100000000) TH_LOG("post %u not taken", i);
			}
			ASSERT_EQ(0, put(fd, 2, i, 0, 0));
			ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 60000))
				TH_LOG("no REDIRECT completion for message %u", i);
			ASSERT_EQ(VMMC_OP_REDIRECT, cqe.op);
			ASSERT_EQ(i, cqe.user_data);
			ASSERT_EQ(VMMC_ST_OK, cqe.status)
				TH_LOG("message %u: %s", i, vmmc_status_str(cqe.status));
			ASSERT_EQ(len, cqe.imm);
			bad = vmmc_check_pattern(d + 77, len, seed, i, doff);
			EXPECT_EQ(-1, bad) TH_LOG("message %u: byte %ld of %zu", i, bad, len);
			bad = vmmc_find_not(map, 8 * MiB + 8192, FILL);
			EXPECT_EQ(-1, bad) TH_LOG("message %u: %ld in the export", i, bad);
			EXPECT_EQ(-1, vmmc_find_not(d, 77, 0x5a));
			EXPECT_EQ(-1, vmmc_find_not(d + 77 + len, 4 * MiB + 4096 - 77 - len, 0x5a));
			memset(d, 0x5a, 4 * MiB + 4096);
			ASSERT_EQ(0, put(fd, 3, i, 0, 0));
		}
		EXPECT_EQ(r0 + COUNT, vmmc_ctl_stat(CTL, "nic_redirects"));
		munmap(d, 4 * MiB + 4096);
	} else {
		fd = ctl_connect(7792);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, get(fd, &m, 300000));
		ASSERT_EQ(0, vmmc_import(&self->ep, 1, m.a, &imp, &len64));
		seed = s = vmmc_test_seed("cluster redirect_remote");
		ASSERT_EQ(0, put(fd, 1, 0, seed, 0));
		for (i = 0; i < COUNT; i++) {
			struct vmmc_cqe cqe;

			plan(&s, &len, &doff, &soff);
			vmmc_fill_pattern(map + soff, len, seed, i, doff);
			ASSERT_EQ(1, get(fd, &m, 120000)) TH_LOG("no go for %u", i);
			ASSERT_EQ(2, m.op);
			ASSERT_EQ(0, vmmc_send(&self->ep, map + soff, len, imp, doff,
					       0, i));
			ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 60000));
			ASSERT_EQ(VMMC_ST_OK, cqe.status);
			ASSERT_EQ(1, get(fd, &m, 120000)) TH_LOG("no ack for %u", i);
			ASSERT_EQ(3, m.op);
		}
	}
	close(fd);
	munmap(map, 8 * MiB + 8192);
}

/* node 1's half of kill9_revokes: the exporting process to be killed */
static void holder(int wfd, uint32_t name)
{
	struct vmmc_ep ep;
	uint32_t id;
	uint8_t *b = mmap(NULL, MiB, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err = b == MAP_FAILED ? -ENOMEM : vmmc_ep_open(&ep, VMMC_DEV);

	if (!err)
		err = vmmc_export(&ep, b, MiB, name, 1ULL << 0, &id);
	if (write(wfd, &err, sizeof(err)) != sizeof(err) || err)
		_exit(1);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(xc, kill9_revokes, 600)
{
	uint32_t name = vmmc_test_name(2);
	struct msg m;
	int fd;

	if (self->node == 1) {
		long long pinned0, exports0;
		int p[2], err = -1, status;
		uint8_t *fresh;
		pid_t pid;

		/* our own endpoint would count: only the holder has one */
		vmmc_ep_close(&self->ep);
		pinned0 = vmmc_ctl_stat(CTL, "pinned_pages");
		exports0 = vmmc_ctl_stat(CTL, "exports");
		ASSERT_EQ(0, pipe(p));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			holder(p[1], name);
		ASSERT_EQ(sizeof(err), read(p[0], &err, sizeof(err)));
		ASSERT_EQ(0, err);
		EXPECT_EQ(pinned0 + 256, vmmc_ctl_stat(CTL, "pinned_pages"));
		fd = ctl_accept(7791);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, put(fd, 1, name, 0, 0));
		ASSERT_EQ(1, get(fd, &m, 120000));	/* node 0 is sending */
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		usleep(500000);
		EXPECT_EQ(0, vmmc_ctl_stat(CTL, "live_eps"));
		EXPECT_EQ(pinned0, vmmc_ctl_stat(CTL, "pinned_pages"));
		EXPECT_EQ(exports0, vmmc_ctl_stat(CTL, "exports"));
		/* fresh memory, likely the dead buffer's pages among it */
		fresh = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		ASSERT_NE(MAP_FAILED, fresh);
		memset(fresh, 0x3c, 64 * MiB);
		ASSERT_EQ(0, put(fd, 2, 0, 0, 0));	/* killed: keep trying */
		sleep(3);
		EXPECT_EQ(-1, vmmc_find_not(fresh, 64 * MiB, 0x3c));
		ASSERT_EQ(0, put(fd, 3, 0, 0, 0));	/* stop */
		EXPECT_EQ(1, get(fd, &m, 60000));
		TH_LOG("node 0: %llu OK before, %llu REVOKED after the kill",
		       (unsigned long long)m.b, (unsigned long long)m.c);
		munmap(fresh, 64 * MiB);
	} else {
		uint64_t ok = 0, revoked = 0, i;
		uint8_t src[1024];
		uint32_t imp;
		int killed = 0, stop = 0, r;

		memset(src, 0xee, sizeof(src));
		fd = ctl_connect(7791);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, get(fd, &m, 300000));
		name = m.a;
		ASSERT_EQ(0, vmmc_import(&self->ep, 1, name, &imp, NULL));
		for (i = 0; !stop; i++) {
			struct vmmc_cqe cqe;

			ASSERT_EQ(0, vmmc_send(&self->ep, src, sizeof(src), imp,
					       (i * 4096) % MiB, 0, i));
			ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 20000))
				TH_LOG("SEND %llu hangs", (unsigned long long)i);
			if (cqe.status == VMMC_ST_OK) {
				ASSERT_EQ(0, revoked) TH_LOG("OK after REVOKED");
				ok++;
			} else {
				ASSERT_EQ(VMMC_ST_REVOKED, cqe.status)
					TH_LOG("%s", vmmc_status_str(cqe.status));
				revoked++;
			}
			if (ok == 20 && !revoked && i == 19)
				ASSERT_EQ(0, put(fd, 1, 0, 0, 0));
			r = get(fd, &m, 0);
			ASSERT_LE(0, r);
			if (r && m.op == 2)
				killed = 1;
			if (r && m.op == 3)
				stop = 1;
		}
		EXPECT_TRUE(killed);
		EXPECT_LT(0, revoked);
		EXPECT_EQ(-ENOENT, vmmc_import(&self->ep, 1, name, &imp, NULL));
		ASSERT_EQ(0, put(fd, 4, 0, ok, revoked));
	}
	close(fd);
}

TEST_HARNESS_MAIN

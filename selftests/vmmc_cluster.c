// SPDX-License-Identifier: GPL-2.0
/*
 * Description: NIC-to-NIC pings across the fabric, run on node 0 of a
 * cluster of two or more nodes: every other node's NIC echoes imm back,
 * byte for byte; a node beyond the cluster is BAD_NODE. Skips on a single
 * node.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

FIXTURE(cluster) {
	struct vmmc_ep ep;
};

FIXTURE_SETUP(cluster)
{
	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	if (self->ep.info.nr_nodes < 2)
		SKIP(return, "single node");
}

FIXTURE_TEARDOWN(cluster)
{
	vmmc_ep_close(&self->ep);
}

static int ping(struct vmmc_ep *ep, uint32_t node, uint64_t imm,
		struct vmmc_cqe *cqe)
{
	struct vmmc_sqe *sqe = vmmc_get_sqe(ep);

	if (!sqe)
		return -EBUSY;
	vmmc_prep_ping(sqe, node, imm, imm ^ 0xffff);
	vmmc_submit(ep);
	return vmmc_wait_cqe(ep, cqe, 10000);
}

/* Wait (bounded) until every node's driver is up: its NIC answers. */
static int wait_nodes_up(struct vmmc_ep *ep, int seconds)
{
	uint32_t n;
	struct vmmc_cqe cqe;

	for (n = 0; n < ep->info.nr_nodes; n++) {
		int tries = seconds * 10;

		for (;;) {
			if (ping(ep, n, n, &cqe))
				return -1;
			if (cqe.status == VMMC_ST_OK)
				break;
			if (cqe.status != VMMC_ST_NODE_DOWN || !--tries)
				return -1;
			usleep(100000);
		}
	}
	return 0;
}

TEST_F_TIMEOUT(cluster, ping_every_node, 180)
{
	struct vmmc_cqe cqe;
	uint32_t n, me = self->ep.info.node_id;
	int i;

	ASSERT_EQ(0, wait_nodes_up(&self->ep, 120));
	for (n = 0; n < self->ep.info.nr_nodes; n++) {
		if (n == me)
			continue;
		for (i = 0; i < 300; i++) {
			uint64_t imm = ((uint64_t)n << 48) ^ (0x9e3779b97f4a7c15ULL * (i + 1));

			ASSERT_EQ(0, ping(&self->ep, n, imm, &cqe));
			ASSERT_EQ(VMMC_ST_OK, cqe.status)
				TH_LOG("node %u: %s", n, vmmc_status_str(cqe.status));
			ASSERT_EQ(imm, cqe.imm);
			ASSERT_EQ(imm ^ 0xffff, cqe.user_data);
		}
	}
	ASSERT_EQ(0, ping(&self->ep, self->ep.info.nr_nodes, 1, &cqe));
	EXPECT_EQ(VMMC_ST_BAD_NODE, cqe.status);
}

/* Pings in flight to several nodes at once all come back, each once. */
TEST_F_TIMEOUT(cluster, pings_in_flight, 180)
{
	uint32_t nodes = self->ep.info.nr_nodes, i, got = 0;
	uint8_t seen[VMMC_SQ_ENTRIES] = { 0 };
	struct vmmc_cqe cqe;

	ASSERT_EQ(0, wait_nodes_up(&self->ep, 120));
	for (i = 0; i < VMMC_SQ_ENTRIES; i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);

		ASSERT_NE(NULL, sqe);
		vmmc_prep_ping(sqe, i % nodes, 0xc0de0000ULL + i, i);
	}
	vmmc_submit(&self->ep);
	while (got < VMMC_SQ_ENTRIES) {
		ASSERT_EQ(0, vmmc_wait_cqe(&self->ep, &cqe, 10000));
		ASSERT_GT(VMMC_SQ_ENTRIES, cqe.user_data);
		EXPECT_EQ(VMMC_ST_OK, cqe.status);
		EXPECT_EQ(0xc0de0000ULL + cqe.user_data, cqe.imm);
		EXPECT_EQ(0, seen[cqe.user_data]);
		seen[cqe.user_data]++;
		got++;
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the data path with no system call and the interrupt path.
 * NOP and PING descriptors written into the mapped SQ complete in the
 * mapped CQ, with user_data and imm intact; malformed descriptors complete
 * with their exact error status; a loop of round trips runs under
 * SECCOMP_MODE_STRICT (any system call kills it); a process blocked in
 * VMMC_IOC_WAIT or poll() is woken by the NIC's MSI-X interrupt, and an
 * endpoint that is not waiting costs no interrupt.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define SPINS	(1UL << 31)

FIXTURE(dp) {
	struct vmmc_ep ep;
};

FIXTURE_SETUP(dp)
{
	int err = vmmc_ep_open(&self->ep, VMMC_DEV);

	ASSERT_EQ(0, err) TH_LOG("vmmc_ep_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(dp)
{
	vmmc_ep_close(&self->ep);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST_F(dp, nop_round_trips)
{
	struct vmmc_cqe cqe;
	int i;

	for (i = 0; i < 1000; i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);

		ASSERT_NE(NULL, sqe);
		vmmc_prep_nop(sqe, 0xabcd0000ULL + i, 0);
		ASSERT_EQ(1, vmmc_submit(&self->ep));
		ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
		ASSERT_EQ(VMMC_ST_OK, cqe.status);
		ASSERT_EQ(0xabcd0000ULL + i, cqe.user_data);
		ASSERT_EQ(VMMC_OP_NOP, cqe.op);
	}
	EXPECT_EQ(NULL, vmmc_peek_cqe(&self->ep));
}

/* Fill the SQ, then reap: completions come back in order, none lost. */
TEST_F(dp, nop_batch_fills_sq)
{
	struct vmmc_cqe cqe;
	unsigned int n = 0, i, round;

	for (round = 0; round < 8; round++) {
		struct vmmc_sqe *sqe;

		n = 0;
		while ((sqe = vmmc_get_sqe(&self->ep))) {
			vmmc_prep_nop(sqe, (uint64_t)round << 32 | n, 0);
			n++;
		}
		ASSERT_EQ(VMMC_SQ_ENTRIES, n);
		ASSERT_EQ((int)n, vmmc_submit(&self->ep));
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
			ASSERT_EQ(VMMC_ST_OK, cqe.status);
			ASSERT_EQ((uint64_t)round << 32 | i, cqe.user_data);
		}
	}
}

TEST_F(dp, ping_loopback)
{
	struct vmmc_cqe cqe;
	uint32_t self_node = self->ep.info.node_id;
	int i;

	for (i = 0; i < 200; i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);
		uint64_t imm = 0x0123456789abcdefULL ^ ((uint64_t)i << 40);

		ASSERT_NE(NULL, sqe);
		vmmc_prep_ping(sqe, self_node, imm, 1000 + i);
		vmmc_submit(&self->ep);
		ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
		ASSERT_EQ(VMMC_ST_OK, cqe.status)
			TH_LOG("ping: %s", vmmc_status_str(cqe.status));
		ASSERT_EQ(1000ULL + i, cqe.user_data);
		ASSERT_EQ(imm, cqe.imm);
		ASSERT_EQ(VMMC_OP_PING, cqe.op);
	}
}

/* Each malformed descriptor completes with exactly its status. */
TEST_F(dp, bad_descriptors)
{
	struct {
		struct vmmc_sqe sqe;
		uint32_t status;
	} cases[] = {
		{ { .op = 99 }, VMMC_ST_BAD_OP },
		{ { .op = VMMC_OP_NR }, VMMC_ST_BAD_OP },
		{ { .op = VMMC_OP_NOP, .flags = 0x80 }, VMMC_ST_BAD_FLAGS },
		{ { .op = VMMC_OP_NOP, .reserved0 = 1 }, VMMC_ST_BAD_FLAGS },
		{ { .op = VMMC_OP_NOP, .import = 7 }, VMMC_ST_BAD_FLAGS },
		{ { .op = VMMC_OP_NOP, .reserved2 = { 0, 1 } },
		  VMMC_ST_BAD_FLAGS },
		{ { .op = VMMC_OP_NOP, .len = 5 }, VMMC_ST_BAD_LEN },
		{ { .op = VMMC_OP_PING, .len = 1 }, VMMC_ST_BAD_LEN },
		{ { .op = VMMC_OP_PING, .dst_node = 1000 }, VMMC_ST_BAD_NODE },
		{ { .op = VMMC_OP_PING, .dst_node = 0xffffffff },
		  VMMC_ST_BAD_NODE },
		{ { .op = VMMC_OP_NOP, .flags = VMMC_SQF_DELAY,
		    .imm = VMMC_NOP_MAX_DELAY_US + 1 }, VMMC_ST_BAD_ARG },
		{ { .op = VMMC_OP_PING, .flags = VMMC_SQF_DELAY },
		  VMMC_ST_BAD_FLAGS },
	};
	struct vmmc_cqe cqe;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);

		ASSERT_NE(NULL, sqe);
		*sqe = cases[i].sqe;
		sqe->user_data = 0x5000 + i;
		vmmc_submit(&self->ep);
		ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
		EXPECT_EQ(0x5000ULL + i, cqe.user_data);
		EXPECT_EQ(cases[i].status, cqe.status)
			TH_LOG("case %u: got %s, want %s", i,
			       vmmc_status_str(cqe.status),
			       vmmc_status_str(cases[i].status));
	}
	/* the endpoint still works after all of them */
	struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);

	ASSERT_NE(NULL, sqe);
	vmmc_prep_nop(sqe, 77, 0);
	vmmc_submit(&self->ep);
	ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
	EXPECT_EQ(VMMC_ST_OK, cqe.status);
	EXPECT_EQ(77, cqe.user_data);
}

/* Garbage in one endpoint's SQ indices hurts only that endpoint. */
TEST_F(dp, sq_garbage_hurts_only_self)
{
	struct vmmc_ep other;
	struct vmmc_cqe cqe;
	struct vmmc_sqe *sqe;

	ASSERT_EQ(0, vmmc_ep_open(&other, VMMC_DEV));
	/* claim 1000 entries in a 64-entry ring */
	vmmc_store_release(&other.ksq->prod, other.ksq->cons + 1000);
	*other.doorbell = VMMC_DB_SQ;

	sqe = vmmc_get_sqe(&self->ep);
	ASSERT_NE(NULL, sqe);
	vmmc_prep_ping(sqe, self->ep.info.node_id, 42, 9);
	vmmc_submit(&self->ep);
	ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
	EXPECT_EQ(VMMC_ST_OK, cqe.status);
	EXPECT_EQ(42, cqe.imm);
	/* the broken endpoint can still be closed (the NIC acks its fence) */
	vmmc_ep_close(&other);
}

struct strict_result {
	volatile int done;
	volatile int fails;
	volatile uint64_t last_bad;
};

/*
 * NOP and PING round trips under SECCOMP_MODE_STRICT: only read, write,
 * _exit and sigreturn are allowed, so any system call on the data path
 * (even a doorbell by ioctl) kills the child with SIGKILL. The child
 * opens its endpoint before it enters strict mode.
 */
TEST_F_TIMEOUT(dp, no_syscalls_seccomp_strict, 120)
{
	struct strict_result *res;
	int status, i;
	pid_t pid;

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	memset(res, 0, sizeof(*res));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the parent's endpoint is not the child's (vmmc_fork) */
		struct vmmc_ep own, *ep = &own;
		uint32_t node;

		if (vmmc_ep_open(&own, VMMC_DEV))
			syscall(SYS_exit, 4);
		node = ep->info.node_id;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			syscall(SYS_exit, 3);
		for (i = 0; i < 3000; i++) {
			struct vmmc_sqe *sqe = vmmc_get_sqe(ep);
			struct vmmc_cqe cqe;
			int ping = i % 3 == 0;

			if (!sqe) {
				res->fails++;
				break;
			}
			if (ping)
				vmmc_prep_ping(sqe, node, ~(uint64_t)i, i);
			else
				vmmc_prep_nop(sqe, i, 0);
			vmmc_submit(ep);
			if (vmmc_spin_cqe(ep, &cqe, SPINS) ||
			    cqe.status != VMMC_ST_OK ||
			    cqe.user_data != (uint64_t)i ||
			    (ping && cqe.imm != ~(uint64_t)i)) {
				res->fails++;
				res->last_bad = i;
			}
		}
		res->done = i;
		syscall(SYS_exit, 0);	/* exit_group is not allowed */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status))
		TH_LOG("child killed by signal %d: a system call on the data path?",
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (WIFEXITED(status))
		EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(3000, res->done);
	EXPECT_EQ(0, res->fails) TH_LOG("last bad round trip %llu",
				       (unsigned long long)res->last_bad);
	munmap(res, sizeof(*res));
}

/* A blocked waiter is woken by the NIC's interrupt, not by a timeout. */
TEST_F(dp, interrupt_wakes_waiter)
{
	long long irq0 = vmmc_proc_irqs("vmmc-event"), irq1;
	struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);
	struct vmmc_cqe *cqe;
	double t0, dt;
	int err;

	ASSERT_LE(0, irq0) TH_LOG("no vmmc-event line in /proc/interrupts");
	ASSERT_NE(NULL, sqe);
	vmmc_prep_nop(sqe, 4242, 300000);	/* completes in 300 ms */
	t0 = now_ms();
	vmmc_submit(&self->ep);
	err = vmmc_ep_wait(&self->ep, 10000);
	dt = now_ms() - t0;
	ASSERT_EQ(0, err) TH_LOG("wait: %s", strerror(-err));
	cqe = vmmc_peek_cqe(&self->ep);
	ASSERT_NE(NULL, cqe);
	EXPECT_EQ(4242, cqe->user_data);
	EXPECT_EQ(VMMC_ST_OK, cqe->status);
	vmmc_cqe_seen(&self->ep);
	EXPECT_GE(dt, 250.0);
	EXPECT_LT(dt, 9000.0);
	irq1 = vmmc_proc_irqs("vmmc-event");
	EXPECT_GT(irq1, irq0);
}

TEST_F(dp, poll_wakes_on_interrupt)
{
	struct pollfd pfd = { .fd = self->ep.fd, .events = POLLIN };
	long long irq0 = vmmc_proc_irqs("vmmc-event");
	struct vmmc_sqe *sqe;

	/* nothing pending: poll times out */
	EXPECT_EQ(0, poll(&pfd, 1, 100));
	sqe = vmmc_get_sqe(&self->ep);
	ASSERT_NE(NULL, sqe);
	vmmc_prep_nop(sqe, 5151, 200000);
	vmmc_submit(&self->ep);
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	ASSERT_NE(NULL, vmmc_peek_cqe(&self->ep));
	EXPECT_EQ(5151, vmmc_peek_cqe(&self->ep)->user_data);
	vmmc_cqe_seen(&self->ep);
	EXPECT_GT(vmmc_proc_irqs("vmmc-event"), irq0);
}

/* An endpoint that is not waiting costs no interrupt. */
TEST_F(dp, no_interrupt_unless_armed)
{
	long long irq0 = vmmc_proc_irqs("vmmc-event");
	struct vmmc_sqe *sqe = vmmc_get_sqe(&self->ep);
	struct vmmc_cqe cqe;

	ASSERT_NE(NULL, sqe);
	vmmc_prep_nop(sqe, 6, 50000);
	vmmc_submit(&self->ep);
	usleep(400000);
	ASSERT_EQ(0, vmmc_spin_cqe(&self->ep, &cqe, SPINS));
	EXPECT_EQ(6, cqe.user_data);
	EXPECT_EQ(irq0, vmmc_proc_irqs("vmmc-event"));
}

TEST_F(dp, wait_times_out)
{
	double t0 = now_ms();

	EXPECT_EQ(-ETIMEDOUT, vmmc_ep_wait(&self->ep, 200));
	EXPECT_GE(now_ms() - t0, 150.0);
}

TEST_HARNESS_MAIN

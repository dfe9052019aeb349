// SPDX-License-Identifier: GPL-2.0
/*
 * Description: deliberate update with no system call on either side.
 * A receiver (forked) exports a ring of slots and polls its NQ; a sender
 * (forked) imports it, pins its source, and then both enter
 * SECCOMP_MODE_STRICT (any system call but read/write/exit kills them)
 * and move thousands of messages with NOTIFY: the sender writes message i
 * (seeded bytes, random length) into slot i % SLOTS, the receiver checks
 * every byte on each NQE and publishes how far it got in a shared page,
 * which is the sender's flow control.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmmc_test.h"

#define MSGS	4000
#define SLOTS	16
#define SLOT_SZ	8192

struct shared {
	volatile uint32_t ready, name, checked, bad, sent, send_err;
	volatile uint64_t seed;
	volatile uint32_t bad_msg, bad_status;
	volatile int rx_err, tx_err;
};

static void receiver(struct shared *sh)
{
	static uint8_t ring[SLOTS * SLOT_SZ];
	struct vmmc_ep ep;
	struct vmmc_nqe *nqe;
	uint32_t id, i = 0;

	sh->rx_err = vmmc_ep_open(&ep, VMMC_DEV);
	if (!sh->rx_err)
		sh->rx_err = vmmc_export(&ep, ring, sizeof(ring), sh->name,
					 1ULL << ep.info.node_id, &id);
	if (sh->rx_err)
		syscall(SYS_exit, 2);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		syscall(SYS_exit, 3);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	while (i < MSGS) {
		nqe = vmmc_peek_nqe(&ep);
		if (!nqe)
			continue;
		if (nqe->export_id != id || nqe->offset != (i % SLOTS) * SLOT_SZ ||
		    vmmc_check_pattern(ring + nqe->offset, nqe->len, sh->seed, i,
				       0) != -1) {
			sh->bad++;
			sh->bad_msg = i;
		}
		vmmc_nqe_seen(&ep);
		i++;
		__atomic_store_n(&sh->checked, i, __ATOMIC_RELEASE);
	}
	syscall(SYS_exit, 0);
}

static void sender(struct shared *sh)
{
	static uint8_t src[SLOTS * SLOT_SZ];
	uint64_t s = sh->seed;
	struct vmmc_cqe *cqe;
	struct vmmc_ep ep;
	uint32_t imp, i = 0, done = 0;

	sh->tx_err = vmmc_ep_open(&ep, VMMC_DEV);
	if (!sh->tx_err)
		sh->tx_err = vmmc_pin(&ep, src, sizeof(src));
	if (sh->tx_err)
		syscall(SYS_exit, 2);
	while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE))
		;
	sh->tx_err = vmmc_import(&ep, ep.info.node_id, sh->name, &imp, NULL);
	if (sh->tx_err)
		syscall(SYS_exit, 4);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		syscall(SYS_exit, 3);
	while (done < MSGS) {
		if (i < MSGS && i - __atomic_load_n(&sh->checked, __ATOMIC_ACQUIRE) < SLOTS) {
			uint8_t *p = src + (i % SLOTS) * SLOT_SZ;
			size_t len = 1 + vmmc_rand(&s) % SLOT_SZ;
			int err;

			vmmc_fill_pattern(p, len, sh->seed, i, 0);
			err = vmmc_send(&ep, p, len, imp, (i % SLOTS) * SLOT_SZ,
					VMMC_SQF_NOTIFY, i);
			if (!err)
				i++;
			else if (err != -EAGAIN)
				sh->send_err++;
		}
		cqe = vmmc_peek_cqe(&ep);
		if (cqe) {
			if (cqe->status != VMMC_ST_OK || cqe->user_data != done) {
				sh->bad++;
				sh->bad_status = cqe->status;
			}
			vmmc_cqe_seen(&ep);
			done++;
			sh->sent = done;
		}
	}
	syscall(SYS_exit, 0);
}

FIXTURE(strict) {
	int unused;
};

FIXTURE_SETUP(strict)
{
}

FIXTURE_TEARDOWN(strict)
{
}

TEST_F_TIMEOUT(strict, notify_stream, 300)
{
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int st_rx = 0, st_tx = 0, t;
	pid_t rx, tx;

	ASSERT_NE(MAP_FAILED, sh);
	sh->seed = vmmc_test_seed("strict");
	sh->name = vmmc_test_name(9);
	rx = fork();
	ASSERT_LE(0, rx);
	if (!rx)
		receiver(sh);
	tx = fork();
	ASSERT_LE(0, tx);
	if (!tx)
		sender(sh);
	/* both must end within the deadline; if one dies, kill the other */
	for (t = 0; (tx || rx) && t < 2400; t++) {
		if (tx && waitpid(tx, &st_tx, WNOHANG) == tx) {
			tx = 0;
			if (rx && (!WIFEXITED(st_tx) || WEXITSTATUS(st_tx)))
				kill(rx, SIGKILL);
		}
		if (rx && waitpid(rx, &st_rx, WNOHANG) == rx) {
			rx = 0;
			if (tx && (!WIFEXITED(st_rx) || WEXITSTATUS(st_rx)))
				kill(tx, SIGKILL);
		}
		usleep(100000);
	}
	if (tx || rx) {
		TH_LOG("stuck: sent %u checked %u", sh->sent, sh->checked);
		if (tx)
			kill(tx, SIGKILL);
		if (rx)
			kill(rx, SIGKILL);
		waitpid(tx ? tx : rx, tx ? &st_tx : &st_rx, 0);
		if (tx && rx)
			waitpid(rx, &st_rx, 0);
	}
	TH_LOG("sent %u, checked %u, setup errors: receiver %d, sender %d",
	       sh->sent, sh->checked, sh->rx_err, sh->tx_err);
	EXPECT_TRUE(WIFEXITED(st_tx)) TH_LOG("sender killed by %d (a system call?)",
					    WTERMSIG(st_tx));
	EXPECT_TRUE(WIFEXITED(st_rx)) TH_LOG("receiver killed by %d (a system call?)",
					    WTERMSIG(st_rx));
	EXPECT_EQ(0, WEXITSTATUS(st_tx));
	EXPECT_EQ(0, WEXITSTATUS(st_rx));
	EXPECT_EQ(MSGS, sh->sent);
	EXPECT_EQ(MSGS, sh->checked);
	EXPECT_EQ(0, sh->send_err);
	EXPECT_EQ(0, sh->bad) TH_LOG("bad message %u, status %u", sh->bad_msg,
				     sh->bad_status);
}

TEST_HARNESS_MAIN

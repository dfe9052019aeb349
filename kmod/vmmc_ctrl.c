// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_ctrl.c - the driver's control channel to the NIC: the doorbell,
 * the waits for the NIC's acknowledgments and the kernel -> NIC mailbox.
 * The NIC's half is tools/fabric/fabric_ctrl.c.
 *
 * A control change (an endpoint's fence, a UTLB sync, an export's state)
 * is written to SRAM, announced on VMMC_DB_CTRL, and acknowledged by the
 * NIC in a word of SRAM with a VMMC_IRQ_CTRL that wakes ctrl_wq
 * (vmmc_ctrl_wait()). A mailbox command (vmmc_kcmd(), one at a time under
 * kcmd_lock) is answered in resp with resp_seq = cmd_seq.
 *
 * The waits here are bounded. An ack wait that times out declares the
 * NIC stalled (vmmc_nic_stall()), and while it is, ack waits look once
 * and do not sleep and a mailbox command fails at once; a mailbox wait
 * is killable and ends when remove() begins. The stalled state, its
 * probe and the memory the NIC did not let go of are vmmc_stall.c's.
 *
 * Acks compare with serial arithmetic: the NIC acknowledges the latest
 * gen or seq it saw, which covers every earlier one. Export gens are 64
 * bits and never wrap, so theirs compare plainly (the *64 variants).
 */
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/wait.h>

#include "vmmc_loc.h"

#define VMMC_KCMD_TIMEOUT	(5 * HZ)

/**
 * vmmc_ring_doorbell() - wake the NIC on one of its doorbell vectors
 * @vdev: the NIC
 * @vector: from enum vmmc_db_vector
 *
 * Context: any context. The caller orders its SRAM writes before this
 * (writel() is ordered after prior normal memory writes on x86 and by
 * its own barrier elsewhere).
 */
void vmmc_ring_doorbell(struct vmmc_dev *vdev, u32 vector)
{
	writel((VMMC_NIC_PEER << 16) | vector, vdev->regs + VMMC_REG_DOORBELL);
}

/**
 * vmmc_acked() - has the NIC acknowledged @want (or later) in @ack?
 * @ack: the NIC-written word in SRAM
 * @want: the gen or seq written
 *
 * Context: any; the caller keeps the SRAM mapped (dead_rwsem, SRCU).
 */
bool vmmc_acked(u32 *ack, u32 want)
{
	/* pairs with the NIC's release of *ack */
	return (s32)(smp_load_acquire(ack) - want) >= 0;
}

/**
 * vmmc_acked64() - vmmc_acked() for a 64-bit word that never wraps
 * @ack: the NIC-written word in SRAM (an export's ack_gen)
 * @want: the gen written
 *
 * Context: as vmmc_acked().
 */
bool vmmc_acked64(u64 *ack, u64 want)
{
	/* pairs with the NIC's release of *ack */
	return smp_load_acquire(ack) >= want;
}

/* Has the NIC acked @want in @ack, a u64 if @ack64, else a u32? */
static bool vmmc_ack_done(void *ack, u64 want, bool ack64)
{
	if (ack64)
		return vmmc_acked64(ack, want);
	return vmmc_acked(ack, (u32)want);
}

/* The wait of vmmc_ctrl_wait() and vmmc_ctrl_wait64(). */
static int vmmc_ctrl_wait_on(struct vmmc_dev *vdev, void *ack, u64 want,
			     bool ack64)
{
	/* once the NIC missed one, waits would only pile up (under locks) */
	if (READ_ONCE(vdev->stalled))
		return vmmc_ack_done(ack, want, ack64) ? 0 : -ETIMEDOUT;
	if (wait_event_timeout(vdev->ctrl_wq, vmmc_ack_done(ack, want, ack64),
			       VMMC_FENCE_TIMEOUT))
		return 0;
	vmmc_stat_inc(vdev, VMMC_STAT_FENCE_TIMEOUTS);
	vmmc_nic_stall(vdev);
	return -ETIMEDOUT;
}

/**
 * vmmc_ctrl_wait() - wait until the NIC acknowledged a control change
 * @vdev: the NIC
 * @ack: the NIC-written word in SRAM
 * @want: the value it must reach
 *
 * Context: process context; sleeps (uninterruptibly) up to
 * VMMC_FENCE_TIMEOUT, and not at all while the NIC is stalled.
 * Return: 0, or -ETIMEDOUT (the caller keeps the memory: graveyard).
 */
int vmmc_ctrl_wait(struct vmmc_dev *vdev, u32 *ack, u32 want)
{
	return vmmc_ctrl_wait_on(vdev, ack, want, false);
}

/**
 * vmmc_ctrl_wait64() - vmmc_ctrl_wait() on a 64-bit word (export gens)
 * @vdev: the NIC
 * @ack: the NIC-written word in SRAM
 * @want: the value it must reach
 *
 * Context: as vmmc_ctrl_wait().
 * Return: 0, or -ETIMEDOUT (the caller keeps the memory: graveyard).
 */
int vmmc_ctrl_wait64(struct vmmc_dev *vdev, u64 *ack, u64 want)
{
	return vmmc_ctrl_wait_on(vdev, ack, want, true);
}

/**
 * vmmc_kcmd() - one mailbox command, answered by the NIC
 * @vdev: the NIC, its driver state UP
 * @cmd: the command
 * @resp: out: the NIC's answer (maybe after a remote NIC's)
 *
 * The wait is killable: a process killed while a NIC (or the remote NIC
 * it asked) takes its time dies at once. A late answer is harmless: it
 * carries the old cmd_seq, which no later wait accepts. remove() ends
 * the wait too, so that a caller holding dead_rwsem does not hold up the
 * unbind for the whole time-out.
 *
 * Context: process context, sleeps up to VMMC_KCMD_TIMEOUT (not at all
 * while the NIC is stalled); takes kcmd_lock.
 * Return: 0, -ETIMEDOUT, -EINTR (killed) or -ENODEV (the NIC is going).
 */
int vmmc_kcmd(struct vmmc_dev *vdev, const struct vmmc_kcmd *cmd,
	      struct vmmc_kresp *resp)
{
	long left;
	u32 seq;

	/* it would not answer; stall_work's probe tells when it does */
	if (READ_ONCE(vdev->stalled))
		return -ETIMEDOUT;
	if (mutex_lock_killable(&vdev->kcmd_lock))
		return -EINTR;
	/* stalled while we waited: the mailbox is stall_work's probe's */
	if (READ_ONCE(vdev->stalled)) {
		mutex_unlock(&vdev->kcmd_lock);
		return -ETIMEDOUT;
	}
	memcpy(&vdev->ctrl->cmd, cmd, sizeof(*cmd));
	seq = ++vdev->kcmd_seq;
	/* pairs with the NIC's acquire of cmd_seq: cmd is complete */
	smp_store_release(&vdev->ctrl->cmd_seq, seq);
	vmmc_ring_doorbell(vdev, VMMC_DB_CTRL);
	vmmc_stat_inc(vdev, VMMC_STAT_KCMDS);
	left = wait_event_killable_timeout(vdev->ctrl_wq,
					   /* pairs with the NIC's release of resp_seq */
					   smp_load_acquire(&vdev->ctrl->resp_seq) == seq ||
					   READ_ONCE(vdev->removing),
					   VMMC_KCMD_TIMEOUT);
	/* pairs with the NIC's release of resp_seq: resp is complete */
	if (left > 0 && smp_load_acquire(&vdev->ctrl->resp_seq) == seq)
		memcpy(resp, &vdev->ctrl->resp, sizeof(*resp));
	else if (left > 0)
		left = -ENODEV;		/* woken by remove() */
	mutex_unlock(&vdev->kcmd_lock);
	if (!left) {
		vmmc_stat_inc(vdev, VMMC_STAT_KCMD_TIMEOUTS);
		return -ETIMEDOUT;
	}
	if (left < 0)
		return left == -ENODEV ? -ENODEV : -EINTR;
	return 0;
}

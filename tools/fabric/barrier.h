/* SPDX-License-Identifier: GPL-2.0 */
/*
 * barrier.h - memory ordering between the fabric (the NIC) and the guests
 *
 * Contract: the fabric shares memory with two other parties that run in
 * other processes (QEMU vCPUs running kmod and ulib): the NIC SRAM (a memfd)
 * and the guest RAM file. Both are mapped MAP_SHARED, so C11 atomics on
 * lock-free types order accesses between processes exactly as between
 * threads. Shared fields are plain __u32/__u64 in uapi/vmmc.h; these
 * helpers cast them to _Atomic for each access, as liburing's barrier.h
 * does. Every user of a helper names the partner barrier on the other side
 * in a comment.
 *
 * Ordering between parties (this file) is the only ordering the fabric
 * needs: it is single-threaded, so there are no locks.
 */
#ifndef FABRIC_BARRIER_H
#define FABRIC_BARRIER_H

#include <stdatomic.h>

#define vmmc_atomic_ptr(p)	((_Atomic __typeof__(*(p)) *)(p))

/* A single-copy-atomic read or write with no ordering (READ_ONCE). */
#define vmmc_read_once(p)						\
	atomic_load_explicit(vmmc_atomic_ptr(p), memory_order_relaxed)
#define vmmc_write_once(p, v)						\
	atomic_store_explicit(vmmc_atomic_ptr(p), (v), memory_order_relaxed)

/* Consumer side of a ring: load the producer index, then read entries. */
#define vmmc_load_acquire(p)						\
	atomic_load_explicit(vmmc_atomic_ptr(p), memory_order_acquire)

/* Producer side of a ring: write entries, then publish the index. */
#define vmmc_store_release(p, v)					\
	atomic_store_explicit(vmmc_atomic_ptr(p), (v), memory_order_release)

/* Full-barrier exchange (the NIC's half of irq_armed). */
#define vmmc_xchg(p, v)							\
	atomic_exchange_explicit(vmmc_atomic_ptr(p), (v), memory_order_seq_cst)

/* Full barrier: orders earlier stores before later loads (smp_mb()). */
#define vmmc_smp_mb()	atomic_thread_fence(memory_order_seq_cst)

#endif /* FABRIC_BARRIER_H */

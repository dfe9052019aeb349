/* SPDX-License-Identifier: MIT */
/*
 * vmmc_barrier.h - ordering between the parties that share vmmc rings: the
 * library, the NIC (the fabric, a host process) and the kernel. The one
 * copy: ulib and tools/fabric both include it.
 *
 * The rings live in memory mapped MAP_SHARED into several processes (the
 * NIC SRAM memfd, the guest RAM file), so C11 atomics on lock-free types
 * order accesses between processes exactly as between threads. Shared
 * fields are plain __u32/__u64 in uapi/vmmc.h; these helpers cast them to
 * _Atomic for each access, as liburing's barrier.h does. Every user names
 * the partner barrier on the other side in a comment.
 *
 * Producer: fill entries, then vmmc_store_release(&ring->prod, ...).
 * Consumer: vmmc_load_acquire(&ring->prod), read entries, then
 * vmmc_store_release(&ring->cons, ...).
 * Sleep/wake: the sleeper sets its flag, vmmc_smp_mb(), re-checks; the
 * waker publishes, vmmc_smp_mb(), tests the flag.
 * Ordering between threads of one process is a different matter, handled
 * with locks by whoever needs it.
 */
#ifndef VMMC_BARRIER_H
#define VMMC_BARRIER_H

#include <stdatomic.h>

#define vmmc_store_release(p, v)					\
	atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v),	\
			      memory_order_release)
#define vmmc_load_acquire(p)						\
	atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p),		\
			     memory_order_acquire)
#define vmmc_read_once(p)						\
	atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p),		\
			     memory_order_relaxed)
#define vmmc_write_once(p, v)						\
	atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v),	\
			      memory_order_relaxed)
#define vmmc_xchg(p, v)							\
	atomic_exchange_explicit((_Atomic __typeof__(*(p)) *)(p), (v),	\
				 memory_order_seq_cst)
#define vmmc_smp_mb()	atomic_thread_fence(memory_order_seq_cst)
/* seqlocks: the writer's fence after its odd seq, the reader's before it
 * reads seq again
 */
#define vmmc_smp_wmb()	atomic_thread_fence(memory_order_release)
#define vmmc_smp_rmb()	atomic_thread_fence(memory_order_acquire)

#endif /* VMMC_BARRIER_H */

/* SPDX-License-Identifier: MIT */
/*
 * vmmc_barrier.h - ordering between the parties that share vmmc rings
 * (the library, the NIC i.e. the fabric, and the kernel), on C11 atomics.
 * Shared by ulib and tools/fabric. Ordering between threads of one process
 * is a different matter, handled with locks by whoever needs it.
 *
 * Producer: fill entries, then vmmc_store_release(&ring->prod, ...).
 * Consumer: vmmc_load_acquire(&ring->prod), read entries, then
 * vmmc_store_release(&ring->cons, ...).
 * Sleep/wake: the sleeper sets its flag, vmmc_smp_mb(), re-checks; the
 * waker publishes, vmmc_smp_mb(), tests the flag.
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

#endif /* VMMC_BARRIER_H */

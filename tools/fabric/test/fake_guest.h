/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_guest.h - a host-side stand-in for one QEMU guest, for testing
 * vmmc-fabric without booting anything
 *
 * A struct fg plays QEMU's ivshmem-doorbell device (socket, SRAM memfd,
 * eventfds) and the guest RAM (the node's RAM file, mmapped); struct
 * fg_ep plays kmod (endpoint context) and ulib (SQ producer, CQ
 * consumer) for one endpoint. Checks print TAP lines ("ok N - ...").
 */
#ifndef FAKE_GUEST_H
#define FAKE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "uapi/vmmc.h"
#include "uapi/vmmc_barrier.h"

struct fg {
	unsigned int node;
	int sock;
	int sram_fd;
	int db_fd[VMMC_NR_VECTORS];	/* peer 0: we ring the NIC */
	int irq_fd[VMMC_NR_VECTORS];	/* peer 1: the NIC interrupts us */
	__u8 *sram;
	struct vmmc_nic_status *st;
	struct vmmc_nic_ctrl *ctrl;
	__u8 *ram;
	__u64 ram_bytes;
};

struct fg_ep {
	struct fg *g;
	unsigned int id;
	struct vmmc_ep_ctx *ctx;
	struct vmmc_ring_hdr *sq;
	struct vmmc_sqe *sqes;
	__u64 evq;
	struct vmmc_ring_hdr *cq;
	struct vmmc_cqe *cqes;
	struct vmmc_ring_hdr *nq;
	struct vmmc_nqe *nqes;
	__u64 *utlb;		/* kmod's UTLB table (guest RAM) */
	__u32 sq_prod;		/* ulib's private SQ prod */
	__u32 cq_cons;		/* ulib's private CQ cons */
	__u32 nq_cons;		/* ulib's private NQ cons */
};

/*
 * Guest RAM layout used by the tests: event regions at FG_EVQ(ep), UTLB
 * tables at FG_UTLB(ep), export page tables at FG_PTAB(id), data from
 * FG_DATA up.
 */
#define FG_EVQ(i)	(0x100000ull + (i) * VMMC_EVQ_SIZE)
#define FG_UTLB(i)	(0x400000ull + (i) * 0x10000ull)
#define FG_PTAB(i)	(0x800000ull + (i) * 0x4000ull)
#define FG_DATA		0x1000000ull

/* A buffer as its owner sees it: scattered guest pages. */
struct fg_buf {
	struct fg *g;
	__u64 pages[2048];
	unsigned int nr_pages;
	unsigned int first_off;
};

struct fg_env {
	const char *sock[2];
	const char *ram[2];
	__u64 ram_bytes;
	int fabric_pid;
};

/* TAP */
extern int t_failed;
bool t_check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void t_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

__u64 fg_now_ms(void);
void fg_sleep_ms(unsigned int ms);

int fg_recv_msg(int sock, __s64 *val, int *fd, int timeout_ms);
int fg_connect_sock(const char *path);
bool fg_ctl(const char *path, const char *req, char *out, size_t outlen);
bool fg_connect(struct fg *g, const char *sock, const char *ram,
		__u64 ram_bytes, unsigned int node);
void fg_close(struct fg *g);
void fg_ring(struct fg *g, unsigned int vec);
__u64 fg_irq_count(struct fg *g, unsigned int vec);
void fg_drv(struct fg *g, __u32 state);

bool fg_ep_open(struct fg_ep *ep, struct fg *g, unsigned int id, __u64 evq);
bool fg_ep_set_state(struct fg_ep *ep, __u32 state);
void fg_submit(struct fg_ep *ep, const struct vmmc_sqe *sqe);
void fg_sqe_nop(struct vmmc_sqe *sqe, __u64 user_data);
void fg_sqe_ping(struct fg_ep *ep, struct vmmc_sqe *sqe, __u64 user_data,
		 __u32 dst, __u64 imm);
bool fg_wait_cqe(struct fg_ep *ep, struct vmmc_cqe *cqe, int timeout_ms);
bool fg_expect(struct fg_ep *ep, __u64 user_data, __u8 op, __u32 status,
	       __u64 imm, const char *what);
__u32 fg_cq_prod(struct fg_ep *ep);
bool fg_wait_sleeping(struct fg *g, int timeout_ms);

/* kmod's tables and mailbox, ulib's NQ (fake_kmod.c) */
void fg_buf_init(struct fg_buf *b, struct fg *g, __u64 base,
		 unsigned int nr_pages, unsigned int first_off, bool scatter);
__u8 *fg_buf_at(const struct fg_buf *b, __u64 off);
bool fg_kcmd(struct fg *g, const struct vmmc_kcmd *cmd,
	     struct vmmc_kresp *resp, int timeout_ms);
bool fg_export(struct fg *g, unsigned int id, __u32 name, __u32 owner,
	       const struct fg_buf *b, __u64 len, __u64 perm);
bool fg_export_state(struct fg *g, unsigned int id, __u32 state);
struct vmmc_export *fg_kexport(struct fg *g, unsigned int id);
struct vmmc_import *fg_kimport(struct fg_ep *ep, unsigned int idx);
void fg_pin(struct fg_ep *ep, __u32 slot, const struct fg_buf *b);
bool fg_wait_nqe(struct fg_ep *ep, struct vmmc_nqe *nqe, int timeout_ms);
__u32 fg_nq_prod(struct fg_ep *ep);
void fg_sqe_send(struct vmmc_sqe *s, __u64 user_data, __u32 import,
		 __u64 dst_offset, __u32 slot, __u32 off, __u32 len,
		 bool notify);

/* test_nic.c, test_link.c, test_ctrl.c, test_send.c */
void test_nic(struct fg_env *env, struct fg *g0);
void test_recheck(struct fg *g, const char *ctl);
void test_link(struct fg_env *env, struct fg *g0, struct fg *g1);
void test_ctrl(struct fg *g0, struct fg *g1);
void test_send(struct fg *g0, struct fg *g1);
void test_latency(struct fg *g0, struct fg *g1);
void test_rogue_ctl(struct fg *g0, struct fg *g1, const struct fg_env *env);
void test_fault(struct fg *g0, struct fg *g1, const char *ctl_path,
		unsigned int n);
void test_gpa(struct fg_env *env, struct fg *g, __u64 low);
void test_span(struct fg *g0, struct fg *g1, const struct fg_env *env,
	       unsigned int n);

#endif /* FAKE_GUEST_H */

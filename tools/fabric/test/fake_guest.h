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
#include "barrier.h"

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
	__u32 sq_prod;		/* ulib's private SQ prod */
	__u32 cq_cons;		/* ulib's private CQ cons */
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

/* test_nic.c, test_link.c */
void test_nic(struct fg_env *env, struct fg *g0);
void test_link(struct fg_env *env, struct fg *g0, struct fg *g1);

#endif /* FAKE_GUEST_H */

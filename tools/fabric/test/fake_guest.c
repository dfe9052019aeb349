// SPDX-License-Identifier: GPL-2.0
/*
 * fake_guest.c - the fake guest's plumbing: the ivshmem client side,
 * kmod's endpoint set-up and ulib's SQ/CQ fast path
 *
 * Contract: mirrors what QEMU, kmod and ulib will do, including the
 * sender's half of the sleep/wake protocol (publish SQ prod, full
 * barrier, read status.flags, ring VMMC_DB_SQ only if SLEEPING).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fake_guest.h"

int t_failed;
static int t_count;

bool t_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++t_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		t_failed++;
	return ok;
}

void t_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__u64 fg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

void fg_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* 1: a message; 0: end of file; -1: error or time-out. */
int fg_recv_msg(int sock, __s64 *val, int *fd, int timeout_ms)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	__u64 le;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t r;

	*fd = -1;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	if (r == 0)
		return 0;
	if (r != sizeof(le))
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	*val = (__s64)le64toh(le);
	return 1;
}

int fg_connect_sock(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * One request on a fabric's control socket; true if answered "ok". The
 * whole answer goes to @out (@outlen bytes, NUL-terminated) if given.
 */
bool fg_ctl(const char *path, const char *req, char *out, size_t outlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char own[256];
	size_t len = 0;
	ssize_t r;
	int fd;

	if (!out) {
		out = own;
		outlen = sizeof(own);
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	r = write(fd, req, strlen(req));
	while (r > 0 && len < outlen - 1) {
		r = read(fd, out + len, outlen - 1 - len);
		if (r > 0)
			len += r;
	}
	close(fd);
	out[len] = 0;
	if (len < 2)
		return false;
	if (strncmp(out, "ok", 2))
		t_diag("ctl request refused: %.*s", (int)strcspn(out, "\n"), out);
	return !strncmp(out, "ok", 2);
}

/* Expect value @want with (@with_fd) or without an fd; returns the fd. */
static int expect_msg(struct fg *g, __s64 want, bool with_fd, int *bad)
{
	__s64 v = 0;
	int fd, r;

	r = fg_recv_msg(g->sock, &v, &fd, 2000);
	if (r != 1 || v != want || (fd >= 0) != with_fd) {
		t_diag("node%u: message: got r=%d value %lld fd %d, want %lld %s fd",
		       g->node, r, (long long)v, fd, (long long)want,
		       with_fd ? "with" : "without");
		(*bad)++;
	}
	return fd;
}

bool fg_connect(struct fg *g, const char *sock, const char *ram,
		__u64 ram_bytes, unsigned int node)
{
	struct stat st;
	unsigned int v;
	int bad = 0, fd;

	memset(g, 0, sizeof(*g));
	g->node = node;
	g->ram_bytes = ram_bytes;
	g->sock = fg_connect_sock(sock);
	if (!t_check(g->sock >= 0, "node%u: connect to %s", node, sock))
		return false;
	expect_msg(g, 0, false, &bad);			/* version */
	expect_msg(g, 1, false, &bad);			/* our id */
	g->sram_fd = expect_msg(g, -1, true, &bad);	/* shm */
	for (v = 0; v < VMMC_NR_VECTORS; v++)
		g->db_fd[v] = expect_msg(g, 0, true, &bad);
	for (v = 0; v < VMMC_NR_VECTORS; v++)
		g->irq_fd[v] = expect_msg(g, 1, true, &bad);
	if (!t_check(!bad, "node%u: ivshmem messages: version 0, id 1, shm, 4 x peer 0, 4 x peer 1",
		     node))
		return false;
	if (!t_check(!fstat(g->sram_fd, &st) && st.st_size == VMMC_SRAM_SIZE,
		     "node%u: SRAM is %u bytes", node, VMMC_SRAM_SIZE))
		return false;
	g->sram = mmap(NULL, VMMC_SRAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, g->sram_fd, 0);
	fd = open(ram, O_RDWR | O_CLOEXEC);
	g->ram = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	close(fd);
	if (!t_check(g->sram != MAP_FAILED && g->ram != MAP_FAILED,
		     "node%u: map SRAM and RAM", node))
		return false;
	g->st = (struct vmmc_nic_status *)(g->sram + VMMC_SRAM_STATUS);
	g->ctrl = (struct vmmc_nic_ctrl *)(g->sram + VMMC_SRAM_CTRL);
	return t_check(vmmc_load_acquire(&g->st->magic) == VMMC_NIC_MAGIC &&
		       g->st->version == VMMC_NIC_VERSION &&
		       g->st->node_id == node && g->st->nr_nodes == 2 &&
		       g->st->sram_size == VMMC_SRAM_SIZE &&
		       g->st->max_eps == VMMC_MAX_EPS &&
		       g->st->epctx_off == VMMC_SRAM_EPCTX &&
		       g->st->sq_off == VMMC_SRAM_SQ &&
		       g->st->sq_size == VMMC_SQ_SIZE &&
		       g->st->sq_entries == VMMC_SQ_ENTRIES &&
		       (g->st->flags & VMMC_NIC_F_RUNNING),
		       "node%u: status page: magic, version, ids, layout, RUNNING",
		       node);
}

void fg_close(struct fg *g)
{
	unsigned int v;

	if (g->sram && g->sram != MAP_FAILED)
		munmap(g->sram, VMMC_SRAM_SIZE);
	if (g->ram && g->ram != MAP_FAILED)
		munmap(g->ram, g->ram_bytes);
	for (v = 0; v < VMMC_NR_VECTORS; v++) {
		if (g->db_fd[v] > 0)
			close(g->db_fd[v]);
		if (g->irq_fd[v] > 0)
			close(g->irq_fd[v]);
	}
	if (g->sram_fd > 0)
		close(g->sram_fd);
	if (g->sock >= 0)
		close(g->sock);
	memset(g, 0, sizeof(*g));
	g->sock = -1;
}

/* The guest's doorbell write: QEMU writes 1 to peer 0's eventfd. */
void fg_ring(struct fg *g, unsigned int vec)
{
	__u64 one = 1;

	if (write(g->db_fd[vec], &one, sizeof(one)) != sizeof(one))
		t_diag("doorbell write failed: %s", strerror(errno));
}

/* Interrupts pending on vector @vec (drains the eventfd). */
__u64 fg_irq_count(struct fg *g, unsigned int vec)
{
	__u64 v = 0;

	if (read(g->irq_fd[vec], &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

void fg_drv(struct fg *g, __u32 state)
{
	vmmc_store_release(&g->ctrl->drv_state, state);
	fg_ring(g, VMMC_DB_CTRL);
}

static bool wait_ack(struct fg_ep *ep, __u32 gen)
{
	__u64 end = fg_now_ms() + 2000;

	while (vmmc_load_acquire(&ep->ctx->ack_gen) != gen)
		if (fg_now_ms() > end)
			return false;
	return true;
}

/* kmod: state change, gen bump, CTRL doorbell; wait for the ack. */
bool fg_ep_set_state(struct fg_ep *ep, __u32 state)
{
	__u32 gen = ep->ctx->gen + 1;

	vmmc_store_release(&ep->ctx->state, state);
	vmmc_store_release(&ep->ctx->gen, gen);
	fg_ring(ep->g, VMMC_DB_CTRL);
	return wait_ack(ep, gen);
}

/* kmod: set up endpoint @id with its event region at @evq. */
bool fg_ep_open(struct fg_ep *ep, struct fg *g, unsigned int id, __u64 evq)
{
	__u8 *sqw = g->sram + VMMC_SRAM_SQ + id * VMMC_SQ_SIZE;

	memset(ep, 0, sizeof(*ep));
	ep->g = g;
	ep->id = id;
	ep->ctx = (struct vmmc_ep_ctx *)(g->sram + VMMC_SRAM_EPCTX) + id;
	ep->sq = (struct vmmc_ring_hdr *)sqw;
	ep->sqes = (struct vmmc_sqe *)(sqw + VMMC_SQ_ENTRIES_OFF);
	ep->evq = evq;
	memset(sqw, 0, VMMC_SQ_SIZE);
	if (evq + VMMC_EVQ_SIZE <= g->ram_bytes) {
		ep->cq = (struct vmmc_ring_hdr *)(g->ram + evq +
						  VMMC_CQ_HDR_OFF);
		ep->cqes = (struct vmmc_cqe *)(g->ram + evq +
					       VMMC_CQ_ENTRIES_OFF);
		ep->nq = (struct vmmc_ring_hdr *)(g->ram + evq +
						  VMMC_NQ_HDR_OFF);
		ep->nqes = (struct vmmc_nqe *)(g->ram + evq +
					       VMMC_NQ_ENTRIES_OFF);
		memset(g->ram + evq, 0, VMMC_EVQ_SIZE);
	}
	ep->utlb = (__u64 *)(g->ram + FG_UTLB(id));
	memset(ep->utlb, 0, VMMC_UTLB_SLOTS * sizeof(__u64));
	ep->ctx->utlb_addr = FG_UTLB(id);
	ep->ctx->utlb_slots = VMMC_UTLB_SLOTS;
	memset((__u8 *)g->sram + VMMC_SRAM_IMPORTS +
	       id * VMMC_MAX_IMPORTS * sizeof(struct vmmc_import), 0,
	       VMMC_MAX_IMPORTS * sizeof(struct vmmc_import));
	ep->ctx->evq_addr = evq;
	ep->ctx->evq_size = VMMC_EVQ_SIZE;
	ep->ctx->owner_pid = (__u32)getpid();
	ep->ctx->irq_armed = 0;
	return fg_ep_set_state(ep, VMMC_EP_ACTIVE);
}

void fg_sqe_nop(struct vmmc_sqe *sqe, __u64 user_data)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->op = VMMC_OP_NOP;
	sqe->user_data = user_data;
}

void fg_sqe_ping(struct fg_ep *ep, struct vmmc_sqe *sqe, __u64 user_data,
		 __u32 dst, __u64 imm)
{
	(void)ep;
	memset(sqe, 0, sizeof(*sqe));
	sqe->op = VMMC_OP_PING;
	sqe->user_data = user_data;
	sqe->dst_node = dst;
	sqe->imm = imm;
}

/* ulib: post one SQE; ring the doorbell only if the NIC sleeps. */
void fg_submit(struct fg_ep *ep, const struct vmmc_sqe *sqe)
{
	memcpy(&ep->sqes[ep->sq_prod & (VMMC_SQ_ENTRIES - 1)], sqe,
	       sizeof(*sqe));
	ep->sq_prod++;
	vmmc_store_release(&ep->sq->prod, ep->sq_prod);
	/* Partner: the NIC's smp_mb() between SLEEPING and its re-check. */
	vmmc_smp_mb();
	if (vmmc_read_once(&ep->g->st->flags) & VMMC_NIC_F_SLEEPING)
		fg_ring(ep->g, VMMC_DB_SQ);
}

__u32 fg_cq_prod(struct fg_ep *ep)
{
	return vmmc_load_acquire(&ep->cq->prod);
}

bool fg_wait_cqe(struct fg_ep *ep, struct vmmc_cqe *cqe, int timeout_ms)
{
	__u64 end = fg_now_ms() + (__u64)timeout_ms;

	while (fg_cq_prod(ep) == ep->cq_cons) {
		if (fg_now_ms() > end)
			return false;
		usleep(100);
	}
	memcpy(cqe, &ep->cqes[ep->cq_cons & (VMMC_CQ_ENTRIES - 1)],
	       sizeof(*cqe));
	ep->cq_cons++;
	vmmc_store_release(&ep->cq->cons, ep->cq_cons);
	return true;
}

/* Wait for one CQE and compare it byte for byte (nic_ns: < 2 s). */
bool fg_expect(struct fg_ep *ep, __u64 user_data, __u8 op, __u32 status,
	       __u64 imm, const char *what)
{
	struct vmmc_cqe got, want;

	if (!fg_wait_cqe(ep, &got, 3000))
		return t_check(false, "%s: no completion", what);
	memset(&want, 0, sizeof(want));
	want.user_data = user_data;
	want.status = status;
	want.op = op;
	want.imm = imm;
	want.nic_ns = got.nic_ns;
	if (memcmp(&got, &want, sizeof(got)) || got.nic_ns > 2000000000ull)
		t_diag("got user_data 0x%llx status %u op %u imm %llu nic_ns %llu",
		       (unsigned long long)got.user_data, got.status, got.op,
		       (unsigned long long)got.imm,
		       (unsigned long long)got.nic_ns);
	return t_check(!memcmp(&got, &want, sizeof(got)) &&
		       got.nic_ns <= 2000000000ull, "%s", what);
}

bool fg_wait_sleeping(struct fg *g, int timeout_ms)
{
	__u64 end = fg_now_ms() + (__u64)timeout_ms;
	__u64 sleeps;

	for (;;) {
		sleeps = vmmc_read_once(&g->st->counters.sleeps);
		if (vmmc_read_once(&g->st->flags) & VMMC_NIC_F_SLEEPING) {
			/* Still the same sleep 20 ms later: it is blocked. */
			fg_sleep_ms(20);
			if ((vmmc_read_once(&g->st->flags) &
			     VMMC_NIC_F_SLEEPING) &&
			    vmmc_read_once(&g->st->counters.sleeps) == sleeps)
				return true;
		}
		if (fg_now_ms() > end)
			return false;
		fg_sleep_ms(1);
	}
}

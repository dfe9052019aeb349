/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_fork.h - what a process that holds another process's endpoint fd
 * (inherited over fork, clone or exec, or received over SCM_RIGHTS) tries
 * through it, for selftests/vmmc_fork.c.
 *
 * fk_probe() runs every ioctl, every mmap offset, poll and epoll on the
 * foreign fd and writes what each returned into a struct fk_probe; the
 * owner must see EPERM (ioctl, mmap) and EPOLLERR (poll, epoll) for every
 * one of them, and its own endpoint untouched.
 */
#ifndef VMMC_FORK_H
#define VMMC_FORK_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmmc.h"

enum fk_op {
	FK_INFO, FK_WAIT, FK_EXPORT, FK_UNEXPORT, FK_IMPORT, FK_UNIMPORT,
	FK_PIN, FK_PIN_WRITE, FK_UNPIN, FK_SET_SPIN, FK_BAD_CMD,
	FK_MMAP_SQ, FK_MMAP_EVQ, FK_MMAP_STATUS, FK_MMAP_DB,
	FK_POLL, FK_EPOLL, FK_NR,
};

static const char *const fk_op_name[FK_NR] = {
	"INFO", "WAIT", "EXPORT", "UNEXPORT", "IMPORT", "UNIMPORT", "PIN",
	"PIN(write)", "UNPIN", "SET_SPIN", "bad cmd", "mmap SQ", "mmap EVQ",
	"mmap STATUS", "mmap DOORBELL", "poll", "epoll",
};

/* What the owner's endpoint holds that the prober names. */
struct fk_target {
	uint32_t node, name, export_id, import_id, slot;
};

/* 0 or the errno per ioctl/mmap; the revents/events for poll/epoll */
struct fk_probe {
	int32_t res[FK_NR];
	int32_t gone;	/* exec'd: the O_CLOEXEC fd is closed (1) */
};

static inline int32_t fk_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static inline int32_t fk_mmap(int fd, uint64_t off, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

/* @mem: a page of the prober's own, writable */
static inline void fk_probe(int fd, const struct fk_target *t, void *mem,
			    struct fk_probe *out)
{
	struct vmmc_info info;
	struct vmmc_wait w = { .timeout_ms = 0 };
	struct vmmc_export_req ex = { .addr = (uintptr_t)mem, .len = 4096,
				      .perm_nodes = ~0ULL,
				      .name = t->name ^ 0x5a5a };
	struct vmmc_import_req im = { .node = t->node, .name = t->name };
	struct vmmc_pin_req pin = { .addr = (uintptr_t)mem, .len = 4096 };
	struct vmmc_unpin_req unpin = { .slot = t->slot };
	struct vmmc_spin_req spin = { .spin_ns = 50000 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	uint32_t id;
	int *r = out->res, ep;

	r[FK_INFO] = fk_ioctl(fd, VMMC_IOC_INFO, &info);
	r[FK_WAIT] = fk_ioctl(fd, VMMC_IOC_WAIT, &w);
	r[FK_EXPORT] = fk_ioctl(fd, VMMC_IOC_EXPORT, &ex);
	id = t->export_id;
	r[FK_UNEXPORT] = fk_ioctl(fd, VMMC_IOC_UNEXPORT, &id);
	r[FK_IMPORT] = fk_ioctl(fd, VMMC_IOC_IMPORT, &im);
	id = t->import_id;
	r[FK_UNIMPORT] = fk_ioctl(fd, VMMC_IOC_UNIMPORT, &id);
	r[FK_PIN] = fk_ioctl(fd, VMMC_IOC_PIN, &pin);
	pin = (struct vmmc_pin_req){ .addr = (uintptr_t)mem, .len = 4096,
				     .flags = VMMC_PIN_F_WRITE };
	r[FK_PIN_WRITE] = fk_ioctl(fd, VMMC_IOC_PIN, &pin);
	r[FK_UNPIN] = fk_ioctl(fd, VMMC_IOC_UNPIN, &unpin);
	r[FK_SET_SPIN] = fk_ioctl(fd, VMMC_IOC_SET_SPIN, &spin);
	r[FK_BAD_CMD] = fk_ioctl(fd, VMMC_IOC_UNPIN + 0x100, &unpin);
	r[FK_MMAP_SQ] = fk_mmap(fd, VMMC_OFF_SQ, VMMC_SQ_SIZE,
				PROT_READ | PROT_WRITE);
	r[FK_MMAP_EVQ] = fk_mmap(fd, VMMC_OFF_EVQ, VMMC_EVQ_SIZE,
				 PROT_READ | PROT_WRITE);
	r[FK_MMAP_STATUS] = fk_mmap(fd, VMMC_OFF_STATUS, 4096, PROT_READ);
	r[FK_MMAP_DB] = fk_mmap(fd, VMMC_OFF_DOORBELL, 4096,
				PROT_READ | PROT_WRITE);
	r[FK_POLL] = poll(&pfd, 1, 0) < 0 ? -errno : pfd.revents;
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		r[FK_EPOLL] = -errno;
	} else {
		ev.events = 0;
		r[FK_EPOLL] = epoll_wait(ep, &ev, 1, 0) < 0 ? -errno :
			      (int32_t)ev.events;
	}
	if (ep >= 0)
		close(ep);
}

/* The expected answer for a foreign caller. */
static inline int32_t fk_expected(enum fk_op op)
{
	if (op == FK_POLL)
		return POLLERR;
	if (op == FK_EPOLL)
		return EPOLLERR;
	return EPERM;
}

/* Number of results that differ from the expected ones, each logged. */
static inline int fk_check(const struct fk_probe *p, const char *who)
{
	int i, bad = 0;

	for (i = 0; i < FK_NR; i++) {
		if (p->res[i] == fk_expected(i))
			continue;
		fprintf(stderr, "# %s: %s gave %d, want %d\n", who, fk_op_name[i],
		       p->res[i], fk_expected(i));
		bad++;
	}
	return bad;
}

#endif /* VMMC_FORK_H */

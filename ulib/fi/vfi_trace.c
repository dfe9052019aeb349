// SPDX-License-Identifier: MIT
/*
 * vfi_trace.c - timestamps of the data path, for a debug build only
 * (make -C ulib/fi VFI_TRACE=1: -DVFI_TRACE; the default build has none
 * of it). Each VFI_TR() call records (CLOCK_MONOTONIC ns, event, op, two
 * values) in a ring of VFI_TRACE_N entries, without a system call; at
 * exit the ring goes to $FI_VMMC_TRACE.<host>.<pid> (default prefix
 * /tmp/vfi_trace), one event a line, oldest first:
 *
 *   ns event op a b
 *
 * The events (VFI_TR() in vfi_msg.c, vfi_rma.c) follow a read from its
 * post to its completion on the requester and an RREQ from its arrival
 * to its notice on the responder; the cookie (a) pairs the two sides'
 * lines, and test/vfi_trace.py puts each read's steps side by side.
 */
#include "vfi.h"

#ifdef VFI_TRACE
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define VFI_TRACE_N	(1u << 18)

struct vfi_trace_ent {
	uint64_t ns;
	const char *ev;
	const void *op;
	uint64_t a, b;
};

static struct vfi_trace_ent *vfi_tr;
static uint64_t vfi_tr_n;

void vfi_trace(const char *ev, const void *op, uint64_t a, uint64_t b)
{
	struct vfi_trace_ent *e;
	struct timespec ts;

	if (!vfi_tr) {
		vfi_tr = calloc(VFI_TRACE_N, sizeof(*vfi_tr));
		if (!vfi_tr)
			return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	e = &vfi_tr[vfi_tr_n++ % VFI_TRACE_N];
	e->ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e->ev = ev;
	e->op = op;
	e->a = a;
	e->b = b;
}

__attribute__((destructor)) static void vfi_trace_dump(void)
{
	const char *pre = getenv("FI_VMMC_TRACE");
	char host[64] = "", path[256];
	uint64_t i;
	FILE *f;

	if (!vfi_tr)
		return;
	gethostname(host, sizeof(host) - 1);
	snprintf(path, sizeof(path), "%s.%s.%d", pre ? pre : "/tmp/vfi_trace",
		 host, (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return;
	i = vfi_tr_n > VFI_TRACE_N ? vfi_tr_n - VFI_TRACE_N : 0;
	for (; i < vfi_tr_n; i++) {
		const struct vfi_trace_ent *e = &vfi_tr[i % VFI_TRACE_N];

		fprintf(f, "%llu %s %p %llu %llu\n", (unsigned long long)e->ns,
			e->ev, e->op, (unsigned long long)e->a,
			(unsigned long long)e->b);
	}
	fclose(f);
}
#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_test.h - helpers shared by the vmmc selftests (kselftest harness).
 */
#ifndef VMMC_TEST_H
#define VMMC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmmc.h"

#define VMMC_DEV "/dev/vmmc0"

/* Sum of all CPUs' counts on the /proc/interrupts line named @name. */
static inline long long vmmc_proc_irqs(const char *name)
{
	char line[1024];
	long long total = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;
		long long sum = 0;

		if (!strstr(line, name))
			continue;
		p = strchr(line, ':');
		if (!p)
			continue;
		p++;
		for (;;) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		total = sum;
		break;
	}
	fclose(f);
	return total;
}

/* Spin (no system call) until a completion arrives or @spins run out. */
static inline int vmmc_spin_cqe(struct vmmc_ep *ep, struct vmmc_cqe *out,
				unsigned long spins)
{
	while (spins--) {
		struct vmmc_cqe *cqe = vmmc_peek_cqe(ep);

		if (cqe) {
			*out = *cqe;
			vmmc_cqe_seen(ep);
			return 0;
		}
	}
	return -1;
}

#endif /* VMMC_TEST_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a helper for the teardown tests, not a test itself. It opens
 * an endpoint, maps it, posts COUNT NOPs delayed by DELAY us, prints
 * "ready <ep_id> <ms>" (ms: CLOCK_BOOTTIME when they were posted, the
 * clock of /proc/uptime) and then waits in the kernel in a loop, touching its SQ
 * mapping every round. When the NIC goes away (unbind) the wait returns
 * ENODEV ("enodev") and the next touch of the mapping raises SIGBUS
 * ("sigbus", exit 0). Killed with SIGKILL it leaves everything in flight.
 * With -e it first exports a 64 KiB buffer under NAME (any node may
 * import it) and imports it back, so that vmmc_ctl has one of each to
 * show.
 *
 *   vmmc_hold [-d DELAY_US] [-n COUNT] [-e NAME]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmmc.h"

static void on_sigbus(int sig)
{
	static const char msg[] = "sigbus\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(4);
	_exit(0);
}

int main(int argc, char **argv)
{
	static char buf[64 << 10] __attribute__((aligned(4096)));
	unsigned int delay = 0, count = 0, i, name = 0;
	uint32_t export_id, import_id;
	struct vmmc_ep ep;
	struct timespec ts;
	int opt, err, said_enodev = 0, share = 0;

	while ((opt = getopt(argc, argv, "d:n:e:")) != -1) {
		if (opt == 'd') {
			delay = strtoul(optarg, NULL, 0);
		} else if (opt == 'n') {
			count = strtoul(optarg, NULL, 0);
		} else if (opt == 'e') {
			name = strtoul(optarg, NULL, 0);
			share = 1;
		} else {
			return 2;
		}
	}
	signal(SIGBUS, on_sigbus);
	err = vmmc_ep_open(&ep, NULL);
	if (err) {
		fprintf(stderr, "vmmc_hold: %s\n", strerror(-err));
		return 1;
	}
	if (share) {
		err = vmmc_export(&ep, buf, sizeof(buf), name, ~0ULL,
				  &export_id);
		if (!err)
			err = vmmc_import(&ep, ep.info.node_id, name, &import_id,
					  NULL);
		if (err) {
			fprintf(stderr, "vmmc_hold: export/import: %s\n",
				strerror(-err));
			return 1;
		}
	}
	for (i = 0; i < count; i++) {
		struct vmmc_sqe *sqe = vmmc_get_sqe(&ep);

		if (!sqe)
			break;
		vmmc_prep_nop(sqe, i, delay);
	}
	vmmc_submit(&ep);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	printf("ready %u %lld\n", ep.info.ep_id,
	       (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	fflush(stdout);
	for (;;) {
		/* touch the SRAM mapping: SIGBUS once the NIC is gone */
		volatile uint32_t cons = ep.ksq->cons;

		(void)cons;
		err = vmmc_ep_wait(&ep, 20);
		if (err == -ENODEV && !said_enodev) {
			printf("enodev\n");
			fflush(stdout);
			said_enodev = 1;
		}
		while (vmmc_peek_cqe(&ep))
			vmmc_cqe_seen(&ep);
	}
}

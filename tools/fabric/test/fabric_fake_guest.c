// SPDX-License-Identifier: GPL-2.0
/*
 * Description: fabric-fake-guest - plays two QEMU guests (device, kmod and
 * ulib) against a running vmmc-fabric with two nodes, and prints TAP.
 *
 *   fabric-fake-guest SOCK0 RAM0 SOCK1 RAM1 RAMBYTES FABRIC_PID
 *
 * With FG_FAULT_CTL=SOCKET in the environment (a fabric started with
 * faults and --dead-ms 1000), it runs test_fault() instead, with
 * FG_FAULT_N messages (default 2000); with FG_LATENCY set as well, it
 * only measures the latency of 64-byte SENDs node0 -> node1 (a diagnostic).
 * With FG_SPAN=N, the two nodes are on two fabrics joined over UDP
 * (span.sh): test_span() with N messages.
 *
 * Exit: 0 all passed, 1 a check failed, 2 bad usage. When it returns,
 * both fake guests have disconnected, so the fabric should exit 0.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_guest.h"

VMMC_LAYOUT_CHECKS;

int main(int argc, char **argv)
{
	struct fg g0, g1;
	struct vmmc_sqe s;
	struct fg_ep ep;
	const char *fault_ctl = getenv("FG_FAULT_CTL");
	struct fg_env env;
	int sock, fd, r;
	__s64 v;

	if (argc != 7) {
		fprintf(stderr, "usage: %s SOCK0 RAM0 SOCK1 RAM1 RAMBYTES FABRIC_PID\n",
			argv[0]);
		return 2;
	}
	env.sock[0] = argv[1];
	env.ram[0] = argv[2];
	env.sock[1] = argv[3];
	env.ram[1] = argv[4];
	env.ram_bytes = strtoull(argv[5], NULL, 0);
	env.fabric_pid = atoi(argv[6]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");

	g1.sock = -1;
	if (!fg_connect(&g0, env.sock[0], env.ram[0], env.ram_bytes, 0))
		goto out;
	if (getenv("FG_GPA_LOW")) {
		/* node0 with --node ...,RAMBYTES:LOW; node1 stays (so that
		 * the fabric lives on while node0 reconnects) */
		if (!t_check(fg_connect(&g1, env.sock[1], env.ram[1],
					env.ram_bytes, 1), "node1 connected"))
			goto out;
		fg_drv(&g0, VMMC_DRV_UP);
		test_gpa(&env, &g0, strtoull(getenv("FG_GPA_LOW"), NULL, 0));
		goto out;
	}
	if (getenv("FG_RECHECK_CTL")) {
		/* node1 connected too: the fabric lives until both leave */
		if (!t_check(fg_connect(&g1, env.sock[1], env.ram[1],
					env.ram_bytes, 1), "node1 connected"))
			goto out;
		test_recheck(&g0, getenv("FG_RECHECK_CTL"));
		goto out;
	}
	if (getenv("FG_SPAN")) {
		if (!t_check(fg_connect(&g1, env.sock[1], env.ram[1],
					env.ram_bytes, 1), "node1 connected"))
			goto out;
		fg_drv(&g0, VMMC_DRV_UP);
		fg_drv(&g1, VMMC_DRV_UP);
		test_span(&g0, &g1, &env, atoi(getenv("FG_SPAN")));
		goto out;
	}
	if (fault_ctl) {
		const char *n = getenv("FG_FAULT_N");

		if (!t_check(fg_connect(&g1, env.sock[1], env.ram[1],
					env.ram_bytes, 1), "node1 connected"))
			goto out;
		fg_drv(&g0, VMMC_DRV_UP);
		fg_drv(&g1, VMMC_DRV_UP);
		if (getenv("FG_LATENCY"))
			test_latency(&g0, &g1);
		else
			test_fault(&g0, &g1, fault_ctl, n ? atoi(n) : 2000);
		goto out;
	}
	sock = fg_connect_sock(env.sock[0]);
	r = sock >= 0 ? fg_recv_msg(sock, &v, &fd, 2000) : -1;
	t_check(r == 0, "second connection to node0 refused (closed, no messages)");
	if (sock >= 0)
		close(sock);
	fg_drv(&g0, VMMC_DRV_UP);
	t_check(fg_ep_open(&ep, &g0, 0, 0x80000), "node0 ep0 activated");
	fg_sqe_nop(&s, 42);
	fg_submit(&ep, &s);
	fg_expect(&ep, 42, 0, VMMC_ST_OK, 0, "first guest undisturbed by the refused one");

	test_nic(&env, &g0);
	test_link(&env, &g0, &g1);
	if (g1.sock >= 0) {
		test_ctrl(&g0, &g1);
		test_send(&g0, &g1);
		test_rogue_ctl(&g0, &g1, &env);
	}
out:
	fg_close(&g0);
	fg_close(&g1);
	printf("# %d check(s) failed\n", t_failed);
	return t_failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_test - what real programs do with sockets, under the
 * LD_PRELOAD shim (run by vmmc_preload.sh with the shim and the map
 * 127.0.0.1=0, so every connection is a VMMC one inside this node):
 * dup/dup2/dup3/F_DUPFD aliases, O_NONBLOCK and FD_CLOEXEC, fork (the
 * parent keeps its sockets, the child's are dead with exact errnos and
 * never hang), exec (a stand-in that reads EOF and writes EPIPE; put back
 * if exec fails), threads on different sockets and on the same one.
 * Plain libc calls only: it is not linked with libvmmc. TAP output.
 * main() runs the topics, one file each (vmmc_preload_test.h lists them);
 * an argument runs only the topics it names.
 */
#include "vmmc_preload_test.h"

/* the part running now, for the watchdog's message */
static const char *volatile stage = "start";

/* The whole run's watchdog: say where it hung, then fail. */
static void on_watchdog(int sig)
{
	const char *a = "not ok - hung for 240 s in the ", *b = " tests\n";

	(void)sig;
	if (write(1, a, strlen(a)) < 0 || write(1, stage, strlen(stage)) < 0 ||
	    write(1, b, strlen(b)) < 0)
		_exit(1);
	_exit(1);
}

int main(int argc, char **argv)
{
	struct sigaction wd = { .sa_handler = on_watchdog };
	int l;

	if (argc == 2 && !strcmp(argv[1], "--linger")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return linger_image();
	}
	if (argc == 4 && !strcmp(argv[1], "--exec-image"))
		return exec_image(atoi(argv[2]), atoi(argv[3]));
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGALRM, &wd, NULL);
	alarm(240);
	printf("TAP version 13\n");
	l = listen_on(PORT);
	stage = "dup";
	if (argc < 2 || strstr(argv[1], "dup"))
		test_dup(l);
	stage = "fork";
	if (argc < 2 || strstr(argv[1], "fork"))
		test_fork(l);
	stage = "exec";
	if (argc < 2 || strstr(argv[1], "exec"))
		test_exec(argv[0], l);
	stage = "threads";
	if (argc < 2 || strstr(argv[1], "threads"))
		test_threads(l);
	stage = "kick";	/* only by name: it wants a 2 s slice */
	if (argc >= 2 && strstr(argv[1], "kick")) {
		const char *slice = getenv("VMMC_PRELOAD_SLICE_MS");

		if (slice && !strcmp(slice, "2000"))
			test_kick(l);
		else
			ok(false, "kick: run with VMMC_PRELOAD_SLICE_MS=2000");
	}
	stage = "eintr";
	if (argc < 2 || strstr(argv[1], "eintr"))
		test_eintr(l);
	stage = "fds";
	if (argc < 2 || strstr(argv[1], "fds"))
		test_fds(l);
	stage = "splice";
	if (argc < 2 || strstr(argv[1], "splice"))
		test_splice(l);
	stage = "ioctl";
	if (argc < 2 || strstr(argv[1], "ioctl"))
		test_ioctl(l);
	stage = "mmsg";
	if (argc < 2 || strstr(argv[1], "mmsg"))
		test_mmsg(l);
	stage = "opts";
	if (argc < 2 || strstr(argv[1], "opts"))
		test_opts(l);
	stage = "stdio";
	if (argc < 2 || strstr(argv[1], "stdio"))
		test_stdio(l);
	stage = "follow";
	if (argc < 2 || strstr(argv[1], "follow"))
		test_follow(l);
	stage = "dual";
	if (argc < 2 || strstr(argv[1], "dual"))
		test_dual();
	stage = "daemon";
	if (argc < 2 || strstr(argv[1], "daemon"))
		test_daemon();
	stage = "linger";
	if (argc < 2 || strstr(argv[1], "linger"))
		test_linger(argv[0]);
	close(l);
	printf("1..%d\n", tn);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       tn - tfail, tfail);
	return tfail ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_preload_exec.c - vmmc_preload_test on fork, exec and stdio: the
 * child's inherited sockets are dead with exact errnos, exec gets
 * stand-ins (put back if exec fails), fdopen, system and popen.
 */
#include "vmmc_preload_test.h"

/* ---- fork ---- */

static int fork_child(int l, int c)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	long t0;
	char b = 0;
	int n;

	errno = 0;
	if (read(c, &b, 1) != -1 || errno != ENOTCONN)
		return 10;
	errno = 0;
	if (write(c, &b, 1) != -1 || errno != ENOTCONN)
		return 11;
	errno = 0;
	if (send(c, &b, 1, MSG_NOSIGNAL) != -1 || errno != ENOTCONN)
		return 12;
	/*
	 * the listener is the kernel's, the parent keeps its VMMC side, and
	 * the child's own (made by this accept) is empty
	 */
	errno = 0;
	if (fcntl(l, F_SETFL, O_NONBLOCK) ||
	    accept(l, NULL, NULL) != -1 || errno != EAGAIN)
		return 13;
	t0 = now_ms();
	if (poll(&p, 1, 5000) != 1 || now_ms() - t0 > 2000)
		return 14;	/* a dead socket never makes poll wait */
	if (fcntl(c, F_GETFD) < 0)
		return 15;	/* the number stays taken until close */
	if (close(c) || close(l))
		return 16;
	/* the child's own sockets are VMMC sockets of its own */
	n = connect_to(PORT);
	if (n < 0 || domain_of(n) != AF_VMMC)
		return 17;
	{
		uint8_t a[4000];

		fill(a, sizeof(a), 9);
		if (write_all(n, a, sizeof(a)))
			return 18;
	}
	close(n);
	return 0;
}

void test_fork(int l)
{
	int c, s, st = -1, n;
	uint8_t a[4000], b[4000];
	pid_t pid;

	if (pair(l, &c, &s)) {
		ok(false, "pair for fork");
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(fork_child(l, c));
	n = accept_within(l);
	fill(a, sizeof(a), 9);
	ok(n >= 0 && !read_all(n, b, sizeof(b)) && !memcmp(a, b, sizeof(a)),
	   "the child connects with a VMMC socket of its own, bytes checked");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "in the child, inherited connections are dead: read/write/send ENOTCONN, poll ready at once, close 0; the inherited listener accepts (EAGAIN: none waits, the parent keeps its VMMC side) (child step %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ok(carries(c, s, 5000, 10) && carries(s, c, 5000, 11),
	   "the parent's sockets keep working after the fork");
	close(n);
	close(c);
	close(s);
}

/* ---- exec ---- */

int exec_image(int c, int e)
{
	char b;
	struct pollfd p = { .fd = c, .events = POLLIN };

	if (fcntl(c, F_GETFD) < 0)
		return 30;	/* inherited: the number is there */
	if (domain_of(c) != AF_UNIX)
		return 31;	/* a stand-in, not a bare eventfd */
	if (poll(&p, 1, 3000) != 1)
		return 32;
	if (read(c, &b, 1) != 0)
		return 33;	/* EOF */
	errno = 0;
	if (write(c, "x", 1) != -1 || errno != EPIPE)
		return 34;
	errno = 0;
	if (fcntl(e, F_GETFD) != -1 || errno != EBADF)
		return 35;	/* FD_CLOEXEC: gone */
	return 0;
}

static int exec_child(const char *self, int l)
{
	char a1[16], a2[16];
	int c, e;

	close(l);
	c = connect_to(PORT);
	e = connect_to(PORT);
	if (c < 0 || e < 0 || fcntl(e, F_SETFD, FD_CLOEXEC))
		return 20;
	if (write_all(c, "hello", 5))
		return 21;
	/* an exec that fails gives the sockets back */
	errno = 0;
	if (execl("/nonexistent/vmmc", "x", (char *)NULL) != -1 || errno != ENOENT)
		return 22;
	if (domain_of(c) != AF_VMMC || write_all(c, "again", 5))
		return 23;
	snprintf(a1, sizeof(a1), "%d", c);
	snprintf(a2, sizeof(a2), "%d", e);
	signal(SIGPIPE, SIG_IGN);	/* kept across exec */
	execl(self, self, "--exec-image", a1, a2, (char *)NULL);
	return 24;
}

void test_exec(const char *self, int l)
{
	char buf[10];
	int s, e2, st = -1, r, e;
	pid_t pid;
	long t0;

	pid = fork();
	if (pid == 0)
		_exit(exec_child(self, l));
	s = accept_within(l);
	e2 = s >= 0 ? accept_within(l) : -1;
	ok(s >= 0 && !read_all(s, buf, 10) && !memcmp(buf, "helloagain", 10),
	   "an exec that failed (ENOENT) left the socket working");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "across exec: the socket's number holds a stand-in (AF_UNIX, EOF, EPIPE, poll ready), a FD_CLOEXEC one is closed (step %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	t0 = now_ms();
	errno = 0;
	r = (int)read(s, buf, 1);
	e = errno;
	ok(r == -1 && e == ECONNRESET && now_ms() - t0 < 5000,
	   "the peer of the exec'd image's socket: ECONNRESET (%d %d) in %ld ms",
	   r, e, now_ms() - t0);
	close(s);
	close(e2);
}

/* ---- stdio: fdopen, system, popen ---- */

void test_stdio(int l)
{
	char cmd[160], line[64], b[32];
	FILE *fw, *fr, *p;
	int c, s, r;

	if (pair(l, &c, &s)) {
		ok(false, "stdio: pair");
		return;
	}
	fw = fdopen(c, "w");
	r = fw ? fprintf(fw, "hello %d\n", 42) : -1;
	ok(fw && r == 9 && fflush(fw) == 0 && !read_all(s, b, 9) &&
	   !memcmp(b, "hello 42\n", 9),
	   "fdopen(VMMC socket, \"w\"): fprintf + fflush sends \"hello 42\\n\" byte for byte");
	ok(fw && fileno(fw) == c, "fileno of that stream: the socket's fd (%d, %d)",
	   fw ? fileno(fw) : -2, c);
	fr = fdopen(s, "r");
	write_all(c, "line one\nline two\n", 18);
	ok(fr && fgets(line, sizeof(line), fr) && !strcmp(line, "line one\n") &&
	   fgets(line, sizeof(line), fr) && !strcmp(line, "line two\n"),
	   "fdopen(VMMC socket, \"r\"): fgets reads both lines whole");

	/* what a shell of system() and popen() gets at the socket's number */
	snprintf(cmd, sizeof(cmd),
		 "test -S /proc/self/fd/%d && test -z \"$(head -c 1 <&%d)\"", c, c);
	r = system(cmd);
	ok(r == 0, "system(): the shell finds a stand-in socket at fd %d that reads EOF, not the library's eventfd (status %#x)",
	   c, r);
	snprintf(cmd, sizeof(cmd), "test -S /proc/self/fd/%d && echo stand-in", c);
	p = popen(cmd, "r");
	line[0] = 0;
	ok(p && fgets(line, sizeof(line), p) && !strcmp(line, "stand-in\n") &&
	   pclose(p) == 0, "popen(\"r\"): the command sees the stand-in, pclose 0 (\"%.*s\")",
	   (int)strcspn(line, "\n"), line);
	p = popen("read x && test \"$x\" = piped", "w");
	ok(p && fputs("piped\n", p) >= 0 && pclose(p) == 0,
	   "popen(\"w\"): the command reads what was written, pclose 0");
	r = system("exit 3");
	ok(WIFEXITED(r) && WEXITSTATUS(r) == 3, "system(\"exit 3\"): status 3 (%#x)", r);
	ok(carries(c, s, 2000, 61), "the socket still works after system and popen");

	ok(fw && fclose(fw) == 0 && fgetc(fr) == EOF && feof(fr),
	   "fclose of the writing stream closes the socket: the reader's stream sees EOF");
	ok(fr && fclose(fr) == 0, "fclose of the reading stream: 0");
}

// SPDX-License-Identifier: MIT
/*
 * preload_stdio.c - stdio for the shim: fdopen() of a VMMC socket as a
 * fopencookie stream, fileno(), and system() and popen(), which spawn
 * through the interposed posix_spawn.
 */

#include "preload_loc.h"

/*
 * fdopen() of a VMMC socket: glibc's stdio reads and writes a stream's fd
 * with its internal __read/__write, which the shim cannot see (they would
 * reach the library's eventfd). So the stream is a fopencookie(3) one
 * whose read, write and close are the shim's; fileno() gives its fd back
 * (the stream's own fd field is -1: glibc's fileno is interposed here).
 * Not seekable (fseek: ESPIPE), as a socket stream.
 */
struct vp_cookie {
	int fd;
	FILE *f;
	pid_t pid;		/* popen's child, or 0 */
	struct vp_cookie *next;
};

static struct vp_cookie *vp_cookies;	/* under vp_cookie_lock */
static pthread_mutex_t vp_cookie_lock = PTHREAD_MUTEX_INITIALIZER;

static void vp_cookie_add(struct vp_cookie *c)
{
	pthread_mutex_lock(&vp_cookie_lock);
	c->next = vp_cookies;
	vp_cookies = c;
	pthread_mutex_unlock(&vp_cookie_lock);
}

/* The record of stream @f, taken off the list if @take; or NULL. */
static struct vp_cookie *vp_cookie_find(FILE *f, bool take)
{
	struct vp_cookie **p, *c = NULL;

	pthread_mutex_lock(&vp_cookie_lock);
	for (p = &vp_cookies; *p; p = &(*p)->next) {
		if ((*p)->f == f) {
			c = *p;
			if (take)
				*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&vp_cookie_lock);
	return c;
}

static ssize_t vp_cookie_read(void *arg, char *buf, size_t n)
{
	return read(((struct vp_cookie *)arg)->fd, buf, n);
}

/* fopencookie's write: 0, never a negative count, on error */
static ssize_t vp_cookie_write(void *arg, const char *buf, size_t n)
{
	ssize_t r = write(((struct vp_cookie *)arg)->fd, buf, n);

	return r < 0 ? 0 : r;
}

static int vp_cookie_close(void *arg)
{
	struct vp_cookie *c = arg;
	int r;

	vp_cookie_find(c->f, true);
	r = close(c->fd);
	free(c);
	return r;
}

FILE *fdopen(int fd, const char *mode)
{
	cookie_io_functions_t io = { .read = vp_cookie_read,
				     .write = vp_cookie_write,
				     .close = vp_cookie_close };
	struct vp_cookie *c;
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD)
		return REAL(fdopen)(fd, mode);
	if (!mode || !strchr("rwa", mode[0])) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->f = fopencookie(c, mode, io);
	if (!c->f) {
		free(c);
		return NULL;
	}
	vp_cookie_add(c);
	return c->f;
}

int fileno(FILE *f)
{
	struct vp_cookie *c;

	if (!vp_inside && f && (c = vp_cookie_find(f, false)) && c->fd >= 0)
		return c->fd;
	return REAL(fileno)(f);
}

/*
 * system() and popen(): glibc spawns their shell with its internal
 * posix_spawn, out of the shim's reach, so the shell (and the command)
 * would inherit the library's bare eventfds. Here they spawn with the
 * interposed posix_spawn (VMMC fds without FD_CLOEXEC: stand-ins that
 * read EOF and write EPIPE, as across exec), with system()'s signal
 * rules: SIGINT and SIGQUIT ignored and SIGCHLD blocked in the caller
 * while the command runs, the caller's mask and dispositions for it.
 * popen's end of the pipe is close-on-exec whatever the mode (so no
 * later child inherits it: POSIX's rule, which glibc keeps by closing
 * them in the child).
 */
static int vp_spawn_sh(pid_t *pid, const char *cmd,
		       const posix_spawn_file_actions_t *fa,
		       const sigset_t *mask, bool sigdef)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	extern char **environ;
	posix_spawnattr_t at;
	sigset_t def;
	int r;

	r = posix_spawnattr_init(&at);
	if (r)
		return r;
	sigemptyset(&def);
	if (sigdef) {
		sigaddset(&def, SIGINT);
		sigaddset(&def, SIGQUIT);
	}
	posix_spawnattr_setsigmask(&at, mask);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(pid, "/bin/sh", fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	return r;
}

int system(const char *cmd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	sigset_t chld, old;
	int st = -1, e;
	pid_t pid;

	if (!cmd || vp_inside || !vp_enabled)
		return REAL(system)(cmd);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	e = vp_spawn_sh(&pid, cmd, NULL, &old,
			oint.sa_handler != SIG_IGN || oquit.sa_handler != SIG_IGN);
	if (e)
		st = 127 << 8;	/* as glibc: the shell could not run */
	else
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (e)
		errno = e;
	return st;
}

FILE *popen(const char *cmd, const char *mode)
{
	posix_spawn_file_actions_t fa;
	bool rd = mode && mode[0] == 'r';
	struct vp_cookie *c;
	int p[2], e;
	sigset_t cur;
	FILE *f;

	if (vp_inside || !vp_enabled || !cmd)
		return REAL(popen)(cmd, mode);
	if (!mode || (mode[0] != 'r' && mode[0] != 'w') ||
	    (mode[1] && strcmp(mode + 1, "e"))) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (pipe2(p, O_CLOEXEC)) {
		free(c);
		return NULL;
	}
	posix_spawn_file_actions_init(&fa);
	/* the child's end onto stdin/stdout (dup2 clears its FD_CLOEXEC) */
	posix_spawn_file_actions_adddup2(&fa, rd ? p[1] : p[0], rd ? 1 : 0);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	e = vp_spawn_sh(&c->pid, cmd, &fa, &cur, false);
	posix_spawn_file_actions_destroy(&fa);
	REAL(close)(rd ? p[1] : p[0]);
	if (e) {
		REAL(close)(rd ? p[0] : p[1]);
		free(c);
		errno = e;
		return NULL;
	}
	f = REAL(fdopen)(rd ? p[0] : p[1], rd ? "r" : "w");
	if (!f) {
		e = errno;
		REAL(close)(rd ? p[0] : p[1]);
		waitpid(c->pid, NULL, 0);
		free(c);
		errno = e;
		return NULL;
	}
	c->fd = -1;
	c->f = f;
	vp_cookie_add(c);
	return f;
}

int pclose(FILE *f)
{
	struct vp_cookie *c = vp_cookie_find(f, true);
	pid_t pid;
	int st;

	if (!c || !c->pid)
		return REAL(pclose)(f);
	pid = c->pid;
	free(c);
	fclose(f);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

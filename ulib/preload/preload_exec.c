// SPDX-License-Identifier: MIT
/*
 * preload_exec.c - fork, exec and spawning for the shim: the fork
 * handlers (a child's inherited VMMC sockets are dead stand-ins), and
 * exec and posix_spawn, which hide VMMC sockets from the new image
 * behind stand-ins (vp_exec_hide).
 */

#include "preload_loc.h"

/* ---- fork ---- */

/*
 * Put on @fd a stand-in for a VMMC socket this process image cannot use
 * (after fork, in the child; across exec): a stream socket whose peer is
 * gone, so that a program that does not know it reads EOF, gets EPIPE on
 * a write and never waits on it (poll says ready at once), and the fd
 * number stays taken until the program closes it.
 */
static int vp_stand_in(int fd, bool cloexec)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	REAL(close)(sv[1]);
	if (sv[0] == fd)	/* the number was free: it is the stand-in */
		return cloexec || !REAL(fcntl)(fd, F_SETFD, 0) ? 0 : -errno;
	r = REAL(dup3)(sv[0], fd, cloexec ? O_CLOEXEC : 0);
	r = r < 0 ? -errno : 0;
	REAL(close)(sv[0]);
	return r;
}

/*
 * fork(): a VMMC socket belongs to the process that made it (its rings,
 * exports and endpoint are that process's). The parent keeps every
 * socket; in the child each inherited one is dead: data calls fail with
 * ENOTCONN, accept/listen/bind with EINVAL, poll says ready at once, and
 * close() frees the number; the child can make VMMC sockets of its own.
 * The lock is held across fork, so the library's state is whole in both.
 */
void vp_fork_prepare(void)
{
	int fd, hi;

	/* held, and vp_inside: the library's child handler calls close() */
	vp_enter();
	hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);
	for (fd = 0; fd <= hi; fd++)
		if (vp_fds[fd].kind == VP_VMMC)
			vp_fds[fd].cloexec = !!(REAL(fcntl)(fd, F_GETFD) &
						FD_CLOEXEC);
	vp_dual_fork_prepare();
	vp_relay_fork_prepare();
}

void vp_fork_parent(void)
{
	vp_relay_fork_parent();
	vp_leave();
}

/* Runs after the library's handler, which forgot the sockets. */
void vp_fork_child(void)
{
	int fd, hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED);

	for (fd = 0; fd <= hi; fd++) {
		if (vp_fds[fd].kind == VP_VMMC) {
			vp_stand_in(fd, vp_fds[fd].cloexec);
			vp_fds[fd].kind = VP_DEAD;
		} else if (vp_fds[fd].kind == VP_EPOLL) {
			vp_fds[fd].kind = VP_NONE;
		}
	}
	vp_dual_fork_child();
	vp_relay_fork_child();
	vp_waiters_fork_child();
	vp_inside--;
	pthread_mutex_init(&vp_lock, NULL);
}

/* ---- exec ---- */

/*
 * A VMMC socket cannot cross exec: its rings and endpoint belong to the
 * process image (the endpoint's fd is close-on-exec, so the driver frees
 * them and the peer's next send or probe finds the connection reset).
 * Before exec, each VMMC socket fd without FD_CLOEXEC gets a stand-in
 * (vp_stand_in: reads EOF, writes EPIPE, poll ready), so the new image
 * never sees a bare eventfd where it expects its socket; FD_CLOEXEC ones
 * just close. If exec fails, the sockets are put back.
 *
 * No lock and no change to the shim's memory here: after vfork() the
 * child runs this on its parent's memory.
 */
#define VP_EXEC_MAX	1024

struct vp_hidden {
	int n, nb;
	int fd[VP_EXEC_MAX], save[VP_EXEC_MAX];
	int blk[VP_DUAL_MAX];	/* dual listeners made blocking for exec */
};

static void vp_exec_unhide(struct vp_hidden *h)
{
	int e = errno;

	while (h->nb-- > 0)
		REAL(fcntl)(h->blk[h->nb], F_SETFL,
			    REAL(fcntl)(h->blk[h->nb], F_GETFL) | O_NONBLOCK);

	while (h->n-- > 0) {
		REAL(dup3)(h->save[h->n], h->fd[h->n], 0);
		REAL(close)(h->save[h->n]);
	}
	errno = e;
}

static int vp_exec_hide(struct vp_hidden *h)
{
	int fd, hi = __atomic_load_n(&vp_hi, __ATOMIC_RELAXED), fl, sv, k;

	h->n = 0;
	h->nb = 0;
	for (fd = 0; fd <= hi; fd++) {
		k = __atomic_load_n(&vp_fds[fd].kind, __ATOMIC_ACQUIRE);
		/* a dual listener's kernel fd goes with the program's O_NONBLOCK */
		if (k == VP_DUAL && h->nb < VP_DUAL_MAX &&
		    !vp_duals[vp_fds[fd].dual].nonblock) {
			fl = REAL(fcntl)(fd, F_GETFL);
			if (fl >= 0 && (fl & O_NONBLOCK) &&
			    !REAL(fcntl)(fd, F_SETFL, fl & ~O_NONBLOCK))
				h->blk[h->nb++] = fd;
		}
		if (k != VP_VMMC)
			continue;
		fl = REAL(fcntl)(fd, F_GETFD);
		if (fl < 0 || (fl & FD_CLOEXEC))
			continue;
		if (h->n == VP_EXEC_MAX)
			goto fail_errno;
		sv = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
		if (sv < 0)
			goto fail;
		if (vp_stand_in(fd, false)) {
			REAL(close)(sv);
			goto fail;
		}
		h->fd[h->n] = fd;
		h->save[h->n++] = sv;
	}
	return 0;
fail_errno:
	errno = EMFILE;
fail:
	vp_exec_unhide(h);
	return -1;
}

#define VP_EXEC(call)							\
	({								\
		struct vp_hidden h_;					\
		int r_;							\
		if (vp_exec_hide(&h_))					\
			return -1;					\
		r_ = (call);						\
		vp_exec_unhide(&h_);					\
		r_;							\
	})

int execve(const char *path, char *const argv[], char *const envp[])
{
	return VP_EXEC(REAL(execve)(path, argv, envp));
}

int execv(const char *path, char *const argv[])
{
	return VP_EXEC(REAL(execv)(path, argv));
}

int execvp(const char *file, char *const argv[])
{
	return VP_EXEC(REAL(execvp)(file, argv));
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return VP_EXEC(REAL(execvpe)(file, argv, envp));
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
	return VP_EXEC(REAL(fexecve)(fd, argv, envp));
}

/* execl, execlp, execle: their arguments into an array, on the stack. */
#define VP_EXECL_ARGV(arg, argv, ap)					\
	size_t n_ = 1;							\
	va_start(ap, arg);						\
	while (va_arg(ap, char *))					\
		n_++;							\
	va_end(ap);							\
	char *argv[n_ + 1];						\
	argv[0] = (char *)(arg);					\
	va_start(ap, arg);						\
	for (size_t i_ = 1; i_ <= n_; i_++)				\
		argv[i_] = va_arg(ap, char *)

int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	VP_EXECL_ARGV(arg, argv, ap);

	va_end(ap);
	return execv(path, argv);
}

int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	VP_EXECL_ARGV(arg, argv, ap);

	va_end(ap);
	return execvp(file, argv);
}

int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	va_list ap;
	VP_EXECL_ARGV(arg, argv, ap);

	envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

/*
 * posix_spawn and posix_spawnp (@real): the child is cloned from this
 * process's fd table while the stand-ins are in place; the lock keeps
 * this process's own calls on those sockets out for that moment.
 */
static int vp_spawn(int (*real)(pid_t *, const char *,
				const posix_spawn_file_actions_t *,
				const posix_spawnattr_t *, char *const[],
				char *const[]),
		    pid_t *pid, const char *path,
		    const posix_spawn_file_actions_t *fa,
		    const posix_spawnattr_t *attr, char *const argv[],
		    char *const envp[])
{
	struct vp_hidden h;
	int r;

	if (vp_inside)
		return real(pid, path, fa, attr, argv, envp);
	vp_enter();	/* the library's calls stay out meanwhile */
	r = vp_exec_hide(&h) ? errno : 0;
	if (!r) {
		r = real(pid, path, fa, attr, argv, envp);
		vp_exec_unhide(&h);
	}
	vp_unlock();
	return r;
}

int posix_spawn(pid_t *pid, const char *path,
		const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[],
		char *const envp[])
{
	return vp_spawn(REAL(posix_spawn), pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	return vp_spawn(REAL(posix_spawnp), pid, file, fa, attr, argv, envp);
}

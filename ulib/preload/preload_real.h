/* SPDX-License-Identifier: MIT */
/*
 * preload_real.h - the libc entry points the shim interposes, one line
 * each: VP_REAL(name, return type, (parameter types)). Included with
 * VP_REAL defined: preload_loc.h declares the pointers real_<name>,
 * preload_real.c defines them and resolves them with dlsym(RTLD_NEXT).
 * No include guard: it is read once per definition of VP_REAL.
 */
VP_REAL(socket, int, (int, int, int))
VP_REAL(bind, int, (int, const struct sockaddr *, socklen_t))
VP_REAL(listen, int, (int, int))
VP_REAL(accept, int, (int, struct sockaddr *, socklen_t *))
VP_REAL(accept4, int, (int, struct sockaddr *, socklen_t *, int))
VP_REAL(connect, int, (int, const struct sockaddr *, socklen_t))
VP_REAL(send, ssize_t, (int, const void *, size_t, int))
VP_REAL(sendto, ssize_t, (int, const void *, size_t, int,
	const struct sockaddr *, socklen_t))
VP_REAL(sendmsg, ssize_t, (int, const struct msghdr *, int))
VP_REAL(recv, ssize_t, (int, void *, size_t, int))
VP_REAL(recvfrom, ssize_t, (int, void *, size_t, int, struct sockaddr *,
	socklen_t *))
VP_REAL(recvmsg, ssize_t, (int, struct msghdr *, int))
VP_REAL(sendmmsg, int, (int, struct mmsghdr *, unsigned int, int))
VP_REAL(recvmmsg, int, (int, struct mmsghdr *, unsigned int, int,
	struct timespec *))
VP_REAL(read, ssize_t, (int, void *, size_t))
VP_REAL(write, ssize_t, (int, const void *, size_t))
VP_REAL(readv, ssize_t, (int, const struct iovec *, int))
VP_REAL(writev, ssize_t, (int, const struct iovec *, int))
VP_REAL(close, int, (int))
VP_REAL(shutdown, int, (int, int))
VP_REAL(getsockname, int, (int, struct sockaddr *, socklen_t *))
VP_REAL(getpeername, int, (int, struct sockaddr *, socklen_t *))
VP_REAL(setsockopt, int, (int, int, int, const void *, socklen_t))
VP_REAL(getsockopt, int, (int, int, int, void *, socklen_t *))
VP_REAL(fcntl, int, (int, int, ...))
VP_REAL(ioctl, int, (int, unsigned long, ...))
VP_REAL(poll, int, (struct pollfd *, nfds_t, int))
VP_REAL(ppoll, int, (struct pollfd *, nfds_t, const struct timespec *,
	const sigset_t *))
VP_REAL(select, int, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
VP_REAL(pselect, int, (int, fd_set *, fd_set *, fd_set *,
	const struct timespec *, const sigset_t *))
VP_REAL(epoll_ctl, int, (int, int, int, struct epoll_event *))
VP_REAL(epoll_wait, int, (int, struct epoll_event *, int, int))
VP_REAL(epoll_pwait, int, (int, struct epoll_event *, int, int,
	const sigset_t *))
VP_REAL(epoll_pwait2, int, (int, struct epoll_event *, int,
	const struct timespec *, const sigset_t *))
VP_REAL(close_range, int, (unsigned int, unsigned int, int))
VP_REAL(closefrom, void, (int))
VP_REAL(dup, int, (int))
VP_REAL(dup2, int, (int, int))
VP_REAL(dup3, int, (int, int, int))
VP_REAL(sendfile, ssize_t, (int, int, off_t *, size_t))
VP_REAL(splice, ssize_t, (int, loff_t *, int, loff_t *, size_t, unsigned int))
VP_REAL(fcntl64, int, (int, int, ...))
VP_REAL(execve, int, (const char *, char *const[], char *const[]))
VP_REAL(execv, int, (const char *, char *const[]))
VP_REAL(execvp, int, (const char *, char *const[]))
VP_REAL(execvpe, int, (const char *, char *const[], char *const[]))
VP_REAL(fexecve, int, (int, char *const[], char *const[]))
VP_REAL(posix_spawn, int, (pid_t *, const char *,
	const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
	char *const[], char *const[]))
VP_REAL(fdopen, FILE *, (int, const char *))
VP_REAL(fileno, int, (FILE *))
VP_REAL(system, int, (const char *))
VP_REAL(popen, FILE *, (const char *, const char *))
VP_REAL(pclose, int, (FILE *))
VP_REAL(posix_spawnp, int, (pid_t *, const char *,
	const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
	char *const[], char *const[]))

// SPDX-License-Identifier: MIT
/*
 * preload_splice.c - sendfile() and splice() for the shim: with a VMMC
 * socket at either end, a copy through a buffer (vp_copy).
 */

#include "preload_loc.h"

#define VP_BOUNCE	65536

static bool vp_is_sock(int fd)
{
	int k = vp_kind(fd);

	return k == VP_VMMC || k == VP_DEAD;
}

/*
 * At most @n bytes of kernel fd @in (not a VMMC socket) into @buf without
 * taking them: at *@off_in if given, else at the file offset (*@pos: it),
 * else, for a pipe, through tee(2) into a private pipe @tp (the bytes
 * stay in @in). What was there (0: EOF), or -errno; -EINVAL for any
 * other kind of fd (as splice(2) when neither end is a pipe).
 */
static ssize_t vp_peek_fd(int in, loff_t *off_in, void *buf, size_t n,
			  bool nb, off_t *pos, int tp[2])
{
	struct stat st;
	ssize_t r;

	if (off_in) {
		if (*off_in < 0)
			return -EINVAL;
		r = pread(in, buf, n, *off_in);
		return r < 0 ? -errno : r;
	}
	if (fstat(in, &st))
		return -errno;
	if (S_ISFIFO(st.st_mode)) {
		if (pipe2(tp, O_CLOEXEC | O_NONBLOCK))
			return -errno;
		r = tee(in, tp[1], n, nb ? SPLICE_F_NONBLOCK : 0);
		if (r > 0)
			r = REAL(read)(tp[0], buf, (size_t)r);
		return r < 0 ? -errno : r;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	*pos = lseek(in, 0, SEEK_CUR);
	if (*pos < 0)
		return -errno;
	r = pread(in, buf, n, *pos);
	return r < 0 ? -errno : r;
}

/*
 * Write @n bytes of @buf to @out: a VMMC socket (a blocking one takes
 * them all or fails), a file at *@off_out, or any kernel fd; with @nb a
 * blocking kernel fd (a pipe) is written only if poll says it has room,
 * and at most PIPE_BUF bytes (what that room surely takes). What was
 * written, or -errno.
 */
static ssize_t vp_put(int out, loff_t *off_out, const void *buf, size_t n,
		      bool nb)
{
	struct pollfd p = { .fd = out, .events = POLLOUT };
	ssize_t r;
	int fl;

	if (vp_is_sock(out))
		r = send(out, buf, n, nb ? MSG_DONTWAIT : 0);
	else if (off_out)
		r = *off_out < 0 ? (errno = EINVAL, -1) :
				   pwrite(out, buf, n, *off_out);
	else if (nb && (fl = REAL(fcntl)(out, F_GETFL)) >= 0 &&
		 !(fl & O_NONBLOCK) && REAL(poll)(&p, 1, 0) != 1)
		r = (errno = EAGAIN, -1);
	else
		r = REAL(write)(out, buf, nb && n > PIPE_BUF ? PIPE_BUF : n);
	return r < 0 ? -errno : r;
}

/*
 * One round of a copy from @in to @out, one of them a VMMC socket (the
 * splice(2) and sendfile(2) of the shim): look at up to @len bytes of
 * @in without taking them (MSG_PEEK on a socket, pread on a file, tee on
 * a pipe), write them to @out, then take from @in exactly what @out took:
 * a write that fails or takes part consumes nothing more of @in (file
 * offset, pipe or socket). @nb: neither side waits (-EAGAIN instead).
 * Bytes moved (0: EOF of @in), or -errno.
 */
static ssize_t vp_copy(int in, loff_t *off_in, int out, loff_t *off_out,
		       size_t len, bool nb)
{
	size_t want = len < VP_BOUNCE ? len : VP_BOUNCE;
	int tp[2] = { -1, -1 };
	off_t pos = -1;
	ssize_t n, m;
	char *buf;

	if ((vp_is_sock(in) && off_in) || (vp_is_sock(out) && off_out))
		return -ESPIPE;
	if (!len)
		return 0;
	buf = malloc(want);
	if (!buf)
		return -ENOMEM;
	if (vp_is_sock(in)) {
		n = recv(in, buf, want, MSG_PEEK | (nb ? MSG_DONTWAIT : 0));
		n = n < 0 ? -errno : n;
	} else {
		n = vp_peek_fd(in, off_in, buf, want, nb, &pos, tp);
	}
	m = n > 0 ? vp_put(out, off_out, buf, (size_t)n, nb) : n;
	if (m > 0) {
		if (vp_is_sock(in))	/* the bytes peeked, now taken */
			recv(in, buf, (size_t)m, MSG_DONTWAIT);
		else if (off_in)
			*off_in += m;
		else if (tp[0] >= 0)
			REAL(read)(in, buf, (size_t)m);
		else
			lseek(in, pos + m, SEEK_SET);
		if (off_out)
			*off_out += m;
	}
	if (tp[0] >= 0) {
		REAL(close)(tp[0]);
		REAL(close)(tp[1]);
	}
	free(buf);
	return m;
}

/*
 * sendfile(2) to (or from) a VMMC socket: rounds of vp_copy() until
 * @count, EOF or a round that moved less than it asked; an error after
 * some bytes moved ends with their count.
 */
ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	loff_t pos = off ? *off : 0;
	size_t done = 0, want;
	ssize_t m = 0;

	if (!vp_is_sock(out) && !vp_is_sock(in))
		return REAL(sendfile)(out, in, off, count);
	if (off && *off < 0)
		return vp_sret(-EINVAL);
	while (done < count) {
		want = count - done < VP_BOUNCE ? count - done : VP_BOUNCE;
		m = vp_copy(in, off ? &pos : NULL, out, NULL, want, false);
		if (m <= 0)
			break;
		done += (size_t)m;
		if ((size_t)m < want)
			break;
	}
	if (off)
		*off = pos;
	return done || m >= 0 ? (ssize_t)done : vp_sret(m);
}

/* sendfile64, the name programs built with 64-bit file offsets call */
ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
	return sendfile(out, in, (off_t *)off, count);
}

/*
 * splice(2) with a VMMC socket at either end: one vp_copy() round of at
 * most 64 KiB (a partial count, as the kernel's). The other end may be a
 * pipe, a regular file (at *off, or at its file offset) or another VMMC
 * socket. SPLICE_F_NONBLOCK: neither end waits (the kernel applies it to
 * the pipe only; the socket's own O_NONBLOCK applies as well).
 */
ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
	       unsigned int flags)
{
	if (!vp_is_sock(in) && !vp_is_sock(out))
		return REAL(splice)(in, off_in, out, off_out, len, flags);
	if (flags & ~(SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE |
		      SPLICE_F_GIFT))
		return vp_sret(-EINVAL);
	return vp_sret(vp_copy(in, off_in, out, off_out, len,
			       flags & SPLICE_F_NONBLOCK));
}

// SPDX-License-Identifier: MIT
/*
 * preload_sock.c - the socket calls of the shim: socket, connect, bind,
 * listen, accept, shutdown, the names, the options and ioctl. A kernel
 * AF_INET or AF_INET6 stream socket turns VMMC at connect() or bind() to
 * a mapped address (vp_convert); VMMC sockets go to the library under
 * vp_lock, their addresses translated by vp_to_vmmc() and vp_to_inet().
 */

#include "preload_loc.h"

int socket(int domain, int type, int protocol)
{
	int fd = REAL(socket)(domain, type, protocol);
	struct vp_fd *f = vp_get(fd);

	if (fd < 0 || vp_inside || !f)
		return fd;
	memset(f, 0, sizeof(*f));
	if (vp_enabled && (domain == AF_INET || domain == AF_INET6) &&
	    (type & 0xf) == SOCK_STREAM &&
	    (!protocol || protocol == IPPROTO_TCP)) {
		int v6only = 0;
		socklen_t len = sizeof(v6only);

		f->nonblock = !!(type & SOCK_NONBLOCK);
		f->cloexec = !!(type & SOCK_CLOEXEC);
		f->v6 = domain == AF_INET6;
		/* the default is the kernel's (net.ipv6.bindv6only) */
		if (f->v6 && !REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY,
					       &v6only, &len))
			f->v6only = !!v6only;
		vp_set_kind(fd, VP_INET);
	}
	return fd;
}

/* A connect in progress on @fd (vp_lock held): -EAGAIN, 0 or -errno. */
static long vp_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;
	long r;

	r = vmmc_sock_poll(&p, 1, 0);
	if (r <= 0)
		return r ? r : -EAGAIN;
	r = vmmc_sock_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return r < 0 ? r : -err;
}

/*
 * A connect of kernel socket @fd to node address @v: a VMMC socket tries
 * it first; if the node has no VMMC listener on the port (no such
 * export: the refusal is known at once), the kernel socket connects
 * instead, so a server without the shim is reached over kernel TCP. The
 * choice is made here, once: a connection never changes transport.
 * 1: VMMC (the VMMC socket now is @fd; *@r the connect's), 0: the
 * kernel's, or -errno. VMMC_PRELOAD_FALLBACK=0: no fallback (the
 * refusal is the caller's).
 */
static long vp_connect_vmmc(int fd, struct sockaddr_vmmc *v, long *r)
{
	struct vp_fd *f = vp_get(fd);
	struct sockaddr_vmmc b;
	long e;
	int s;

	s = vmmc_socket(AF_VMMC, SOCK_STREAM | SOCK_NONBLOCK |
			(f->cloexec ? SOCK_CLOEXEC : 0), 0);
	if (s < 0)
		return s;
	vp_copy_opts(fd, s);
	e = 0;
	if (f->dual_bound) {	/* bound to a node's address first */
		b = f->dual_at;
		e = vmmc_sock_bind(s, (struct sockaddr *)&b, sizeof(b));
	}
	if (!e)
		e = vmmc_sock_connect(s, (struct sockaddr *)v, sizeof(*v));
	if (vp_fallback && (e == -ECONNREFUSED ||
			    (f->dual_bound && e < 0 && e != -EINPROGRESS))) {
		vmmc_sock_close(s);
		vp_log("vmmc-preload: fd %d connects over kernel TCP (node %u, port %u: no VMMC listener)\n",
		       fd, v->svm_node, v->svm_port);
		return 0;
	}
	*r = e;
	e = vmmc_sock_move(s, fd);
	if (e < 0) {
		vmmc_sock_close(s);
		return e;
	}
	vp_set_nonblock(fd, f->nonblock);
	vp_atfork();
	vp_set_kind(fd, VP_VMMC);
	vp_log("vmmc-preload: fd %d connects over VMMC (node %u, port %u)\n",
	       fd, v->svm_node, v->svm_port);
	return 1;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct vp_fd *f = vp_get(fd);
	struct sockaddr_vmmc v;
	int k = vp_kind(fd);
	bool nb;
	long r = 0, c;

	if (k == VP_INET && vp_to_vmmc(f, addr, len, false, &v)) {
		vp_enter();
		c = vp_connect_vmmc(fd, &v, &r);
		nb = vp_nonblock(fd);
		vp_leave();
		if (c < 0)
			return vp_ret(c);
		if (!c)
			return REAL(connect)(fd, addr, len);
		goto wait;
	}
	if (k == VP_DEAD)
		return vp_ret(-ENOTCONN);
	if (k != VP_VMMC)
		return REAL(connect)(fd, addr, len);
	if (!vp_to_vmmc(f, addr, len, false, &v))
		return vp_ret(addr && len >= sizeof(sa_family_t) &&
			      addr->sa_family != (f->v6 ? AF_INET6 : AF_INET) ?
			      -EAFNOSUPPORT : -ENETUNREACH);
	/* the library's socket is non-blocking: the handshake is waited
	 * for here, without the lock */
	vp_enter();
	r = vmmc_sock_connect(fd, (struct sockaddr *)&v, sizeof(v));
	nb = vp_nonblock(fd);
	vp_leave();
wait:
	if (r != -EINPROGRESS || nb)
		return vp_ret(r);
	return vp_ret(VP_CALL(fd, POLLOUT, false, vp_connected(fd)));
}

/*
 * bind() of a kernel socket to the wildcard or a node's address: the
 * kernel binds it (so kernel TCP reaches it, with the kernel's errors)
 * and listen() adds a VMMC listener on the port (preload_dual.c). An
 * address of the map the kernel does not have (EADDRNOTAVAIL), or the
 * wildcard with VMMC_BIND_ANY=1, makes a VMMC-only socket, as before.
 */
int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct vp_fd *f = vp_get(fd);
	struct sockaddr_vmmc v;
	int k = vp_kind(fd);
	long r;

	if (k == VP_INET && vp_to_vmmc(f, addr, len, true, &v)) {
		if (v.svm_node != VMMC_NODE_ANY || !vp_bind_any) {
			struct sockaddr_storage a;
			socklen_t alen = sizeof(a);

			r = REAL(bind)(fd, addr, len);
			if (!r || errno != EADDRNOTAVAIL ||
			    v.svm_node == VMMC_NODE_ANY) {
				/* the kernel's port, if it chose one */
				if (!r && !REAL(getsockname)(fd, (struct sockaddr *)&a,
							     &alen))
					v.svm_port = ntohs(((struct sockaddr_in *)&a)->sin_port);
				f->dual_at = v;
				f->dual_bound = !r;
				return (int)r;
			}
		}
		vp_enter();
		r = vp_convert(fd);
		if (!r)
			r = vmmc_sock_bind(fd, (struct sockaddr *)&v, sizeof(v));
		vp_leave();
		f->bound_any = !r && v.svm_node == VMMC_NODE_ANY;
		return vp_ret(r);
	}
	if (k == VP_VMMC) {
		if (!vp_to_vmmc(f, addr, len, true, &v))
			return vp_ret(-EADDRNOTAVAIL);
		vp_enter();
		r = vmmc_sock_bind(fd, (struct sockaddr *)&v, sizeof(v));
		vp_leave();
		f->bound_any = !r && v.svm_node == VMMC_NODE_ANY;
		return vp_ret(r);
	}
	return k == VP_DEAD ? vp_ret(-EINVAL) : REAL(bind)(fd, addr, len);
}

int listen(int fd, int backlog)
{
	int k = vp_kind(fd);
	long r;

	if (k == VP_DUAL || (k == VP_INET && vp_get(fd)->dual_bound)) {
		r = REAL(listen)(fd, backlog);
		if (r)
			return (int)r;
		vp_enter();
		vp_dual_listen(fd, backlog);
		vp_leave();
		return 0;
	}
	if (k != VP_VMMC)
		return k == VP_DEAD ? vp_ret(-EINVAL) : REAL(listen)(fd, backlog);
	vp_enter();
	r = vmmc_sock_listen(fd, backlog);
	vp_leave();
	return vp_ret(r);
}

/* The library accepted @r on listener @l (vp_lock held): make it ours. */
long vp_accepted(long r, int flags, const struct vp_fd *l)
{
	struct vp_fd *f = vp_get((int)r);

	if (r < 0)
		return r;
	if (!f) {		/* beyond what we track: cannot serve it */
		vmmc_sock_close((int)r);
		return -EMFILE;
	}
	memset(f, 0, sizeof(*f));
	f->v6 = l->v6;		/* its family is the listener's */
	f->v6only = l->v6only;
	f->cloexec = !!(flags & SOCK_CLOEXEC);
	f->accepted = 1;
	vp_set_nonblock((int)r, flags & SOCK_NONBLOCK);
	vp_set_kind((int)r, VP_VMMC);
	return r;
}

/* accept on a dual listener: the first connection of either side */
static int vp_accept_dual(int fd, struct sockaddr *addr, socklen_t *len,
			  int flags)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct vp_dual *d;
	int ms;
	bool nb;
	long r;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return vp_ret(-EINVAL);
	for (;;) {
		vp_enter();
		r = vp_dual_accept(fd, addr, len, flags);
		d = vp_dual_of(fd);
		nb = !d || d->nonblock;
		/* without a VMMC side, look again when it may be free */
		ms = d && d->vfd < 0 && d->retry_ms >= 0 ? 1000 : -1;
		vp_leave();
		if (r != -EAGAIN || nb)
			return vp_ret(r);
		if (poll(&p, 1, ms) < 0 && errno == EINTR)
			return -1;
	}
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sockaddr_vmmc v;
	socklen_t vlen = sizeof(v);
	long r;

	if (vp_kind(fd) == VP_DUAL)
		return vp_accept_dual(fd, addr, len, flags);
	if (vp_kind(fd) != VP_VMMC)
		return vp_kind(fd) == VP_DEAD ? vp_ret(-EINVAL) :
		       REAL(accept4)(fd, addr, len, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return vp_ret(-EINVAL);
	r = VP_CALL(fd, POLLIN, false,
		    vp_accepted(vmmc_sock_accept4(fd, (struct sockaddr *)&v,
						  &vlen, (flags & SOCK_CLOEXEC) |
						  SOCK_NONBLOCK), flags,
				    vp_get(fd)));
	if (r < 0)
		return vp_ret(r);
	if (addr)
		vp_to_inet(vp_get((int)r), &v, addr, len);
	return (int)r;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int k = vp_kind(fd);

	if (k != VP_VMMC && k != VP_DEAD && k != VP_DUAL)
		return REAL(accept)(fd, addr, len);
	return accept4(fd, addr, len, 0);
}

int shutdown(int fd, int how)
{
	long r;

	if (vp_kind(fd) == VP_DEAD)
		return vp_ret(-ENOTCONN);
	if (vp_kind(fd) != VP_VMMC)
		return REAL(shutdown)(fd, how);
	vp_enter();
	r = vmmc_sock_shutdown(fd, how);
	vp_leave();
	return vp_ret(r);
}

static int vp_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_vmmc v;
	socklen_t vlen = sizeof(v);
	long r;

	if (!addr || !len)
		return vp_ret(-EFAULT);
	vp_enter();
	r = peer ? vmmc_sock_getpeername(fd, (struct sockaddr *)&v, &vlen) :
		   vmmc_sock_getsockname(fd, (struct sockaddr *)&v, &vlen);
	/* bound to the wildcard, not connected: the wildcard, as TCP's */
	if (!r && !peer && vp_get(fd)->bound_any) {
		struct sockaddr_vmmc p;

		vlen = sizeof(p);
		if (vmmc_sock_getpeername(fd, (struct sockaddr *)&p, &vlen) ==
		    -ENOTCONN)
			v.svm_node = VMMC_NODE_ANY;
	}
	vp_leave();
	if (r < 0)
		return vp_ret(r);
	vp_to_inet(vp_get(fd), &v, addr, len);
	return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (vp_kind(fd) == VP_RELAY && vp_relay_name(fd, addr, len, false) <= 0)
		return (addr && len) ? 0 : -1;
	if (vp_kind(fd) != VP_VMMC)
		return REAL(getsockname)(fd, addr, len);
	return vp_name(fd, addr, len, false);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (vp_kind(fd) == VP_DEAD)
		return vp_ret(-ENOTCONN);
	if (vp_kind(fd) == VP_RELAY && vp_relay_name(fd, addr, len, true) <= 0)
		return (addr && len) ? 0 : -1;
	if (vp_kind(fd) != VP_VMMC)
		return REAL(getpeername)(fd, addr, len);
	return vp_name(fd, addr, len, true);
}

/*
 * IPV6_V6ONLY on AF_INET6 socket @f, kind @k: the shim's record (which
 * addresses turn the socket VMMC, which requests its listener takes). A
 * VMMC socket is bound, so it cannot change (EINVAL, as the kernel's);
 * getsockopt answers from the record. 1 when not this option.
 */
static int vp_v6only(struct vp_fd *f, int k, int fd, bool set, void *val,
		     socklen_t *len)
{
	int v;

	if (!f || !f->v6 || (k != VP_INET && k != VP_VMMC))
		return 1;
	if (k == VP_INET) {
		if (!set || !val || *len < sizeof(int) ||
		    REAL(setsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, val, *len))
			return 1;	/* the kernel answers, or says no */
		memcpy(&v, val, sizeof(v));
		f->v6only = !!v;
		return 0;
	}
	if (set)
		return vp_ret(-EINVAL);
	if (!val || !len)
		return vp_ret(-EFAULT);
	v = f->v6only;
	memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
	if (*len > sizeof(v))
		*len = sizeof(v);
	return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct vp_fd *f = vp_get(fd);
	int k = vp_kind(fd), v = 0;
	long r;

	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
		r = vp_v6only(f, k, fd, true, (void *)val, &len);
		if (r <= 0)
			return (int)r;
	}
	/* the buffer sizes a kernel socket was given, for vp_convert() */
	if (k == VP_INET && val && len >= sizeof(int) && level == SOL_SOCKET &&
	    (name == SO_RCVBUF || name == SO_SNDBUF)) {
		memcpy(&v, val, sizeof(v));
		*(name == SO_RCVBUF ? &f->rcvbuf : &f->sndbuf) = v;
	}
	if (k == VP_DUAL) {
		r = REAL(setsockopt)(fd, level, name, val, len);
		if (!r) {
			vp_enter();
			vp_dual_setsockopt(fd, level, name, val, len);
			vp_leave();
		}
		return (int)r;
	}
	if (k == VP_RELAY && level != SOL_SOCKET) {
		/* a TCP or IP option on the child's end of a relay: taken */
		r = REAL(setsockopt)(fd, level, name, val, len);
		return r && (errno == EOPNOTSUPP || errno == ENOPROTOOPT) ? 0 : (int)r;
	}
	if (k != VP_VMMC)
		return REAL(setsockopt)(fd, level, name, val, len);
	if (level == IPPROTO_IPV6 && !f->v6)	/* an AF_INET socket's IP layer */
		return vp_ret(-ENOPROTOOPT);
	vp_enter();
	r = vmmc_sock_setsockopt(fd, level, name, val, len);
	vp_leave();
	return vp_ret(r);
}

/*
 * SO_DOMAIN and SO_PROTOCOL of a child's end of a relay (an AF_UNIX
 * socket): those of the TCP connection it stands for.
 */
static int vp_relay_getsockopt(int fd, int name, void *val, socklen_t *len)
{
	int v = name == SO_PROTOCOL ? IPPROTO_TCP :
		vp_get(fd)->v6 ? AF_INET6 : AF_INET;

	if (!val || !len)
		return vp_ret(-EFAULT);
	memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
	if (*len > sizeof(v))
		*len = sizeof(v);
	return 0;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	long r;

	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY &&
	    vp_kind(fd) == VP_VMMC && vp_get(fd)->v6)
		return vp_v6only(vp_get(fd), VP_VMMC, fd, false, val, len);
	if (vp_kind(fd) == VP_RELAY && level == SOL_SOCKET &&
	    (name == SO_DOMAIN || name == SO_PROTOCOL))
		return vp_relay_getsockopt(fd, name, val, len);
	if (vp_kind(fd) != VP_VMMC)
		return REAL(getsockopt)(fd, level, name, val, len);
	if (level == IPPROTO_IPV6 && !vp_get(fd)->v6)
		return vp_ret(-EOPNOTSUPP);	/* as an AF_INET socket's */
	vp_enter();
	r = vmmc_sock_getsockopt(fd, level, name, val, len);
	/* the family the program created, as the kernel's answer */
	if (!r && level == SOL_SOCKET && name == SO_DOMAIN) {
		int d = vp_get(fd)->v6 ? AF_INET6 : AF_INET;

		memcpy(val, &d, *len < sizeof(d) ? *len : sizeof(d));
	}
	vp_leave();
	return vp_ret(r);
}

int ioctl(int fd, unsigned long req, ...)
{
	int k = vp_kind(fd);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (k == VP_VMMC && req == FIONBIO) {
		if (!arg)
			return vp_ret(-EFAULT);
		vp_enter();
		vp_set_nonblock(fd, !!*(int *)arg);
		vp_leave();
		return 0;
	}
	if (k == VP_VMMC && (req == FIONREAD || req == SIOCOUTQ ||
			     req == SIOCOUTQNSD)) {
		long r;

		vp_enter();
		r = vmmc_sock_ioctl(fd, req, arg);
		vp_leave();
		return vp_ret(r);
	}
	if (k == VP_INET && req == FIONBIO && arg)
		vp_get(fd)->nonblock = !!*(int *)arg;
	if (k == VP_DUAL && req == FIONBIO) {
		if (!arg)
			return vp_ret(-EFAULT);
		vp_enter();
		if (vp_dual_of(fd))
			vp_dual_of(fd)->nonblock = !!*(int *)arg;
		vp_leave();
		return 0;
	}
	return REAL(ioctl)(fd, req, arg);
}

/* SPDX-License-Identifier: MIT */
/*
 * hostmap.h - which IPv4 and IPv6 addresses are VMMC nodes, for the
 * LD_PRELOAD shim (libvmmc-preload.so): an AF_INET or AF_INET6 stream
 * socket whose peer (or bound address) is in the map goes over VMMC to
 * that node; every other socket stays with the kernel.
 *
 * Sources, in order (the first to name an address wins):
 *   $VMMC_HOSTS       "ADDR=NODE[,ADDR=NODE...]", e.g.
 *                     "10.77.0.1=0,10.77.0.2=1,fd00::1=0"
 *   $VMMC_HOSTS_FILE  a file (default VMMC_HOSTS_DEFAULT, if it exists) of
 *                     lines "ADDR NODE" or "ADDR=NODE"; '#' starts a
 *                     comment; blank lines are ignored
 * ADDR is a dotted IPv4 address or an IPv6 address (optionally in
 * brackets: "[fd00::1]=0"; an IPv4-mapped one, ::ffff:a.b.c.d, is the
 * IPv4 address a.b.c.d), NODE a node id 0..VMMC_HOSTMAP_MAX_NODE. A node
 * may have addresses of both families (and several of each: the first
 * of a family is the one its sockets show).
 * A malformed entry is an error (the shim then says so and stays out of
 * the way), never silently half-used.
 */
#ifndef VMMC_HOSTMAP_H
#define VMMC_HOSTMAP_H

/*
 * The default hosts file: $(SYSCONFDIR)/vmmc/hosts, SYSCONFDIR given by
 * the build (ulib/Makefile, default /etc), as make install installs it.
 */
#ifndef VMMC_SYSCONFDIR
#define VMMC_SYSCONFDIR "/etc"
#endif
#define VMMC_HOSTS_DEFAULT VMMC_SYSCONFDIR "/vmmc/hosts"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define VMMC_HOSTMAP_MAX	64	/* entries */
#define VMMC_HOSTMAP_MAX_NODE	63

struct vmmc_hostmap {
	unsigned int n;
	struct {
		struct in6_addr addr;	/* IPv4 ones as ::ffff:a.b.c.d */
		uint32_t node;
	} e[VMMC_HOSTMAP_MAX];
};

/*
 * Add the entries of @s ("ADDR=NODE,..." when @env, file syntax when not)
 * to @m; an address already there keeps its node. 0, or -EINVAL with a
 * message in @err (@errlen bytes) naming the line or entry, or -ENOSPC.
 */
int vmmc_hostmap_parse(struct vmmc_hostmap *m, const char *s, bool env,
		       char *err, size_t errlen);
/* Load $VMMC_HOSTS, then $VMMC_HOSTS_FILE or VMMC_HOSTS_DEFAULT. */
int vmmc_hostmap_load(struct vmmc_hostmap *m, char *err, size_t errlen);
/* The node of @addr (an IPv4 one as ::ffff:a.b.c.d), or -1. */
int vmmc_hostmap_node(const struct vmmc_hostmap *m,
		      const struct in6_addr *addr);
/* The node of IPv4 address @addr (network order), or -1. */
int vmmc_hostmap_node4(const struct vmmc_hostmap *m, uint32_t addr);
/*
 * The first address of @node of family @v6 (false: IPv4, as
 * ::ffff:a.b.c.d) into *@addr; false if it has none.
 */
bool vmmc_hostmap_addr(const struct vmmc_hostmap *m, uint32_t node,
		       bool v6, struct in6_addr *addr);

#endif /* VMMC_HOSTMAP_H */

// SPDX-License-Identifier: MIT
/*
 * hostmap.c - the address to node map of the LD_PRELOAD shim; see
 * hostmap.h for the syntax. Called once, before the shim interposes
 * anything: it uses only stdio and string functions, which never create
 * sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmap.h"

static int add(struct vmmc_hostmap *m, const struct in6_addr *addr,
	       uint32_t node)
{
	if (vmmc_hostmap_node(m, addr) >= 0)
		return 0;	/* the first source wins */
	if (m->n == VMMC_HOSTMAP_MAX)
		return -ENOSPC;
	m->e[m->n].addr = *addr;
	m->e[m->n].node = node;
	m->n++;
	return 0;
}

/*
 * @p, a dotted IPv4 address, or an IPv6 one with or without brackets,
 * into *@a (IPv4 as ::ffff:a.b.c.d); false if it is neither.
 */
static bool parse_addr(char *p, struct in6_addr *a)
{
	size_t len = strlen(p);
	struct in_addr a4;

	if (inet_pton(AF_INET, p, &a4) == 1) {
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = 0xff;
		a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &a4, 4);
		return true;
	}
	if (len > 2 && p[0] == '[' && p[len - 1] == ']') {
		p[len - 1] = '\0';
		p++;
	}
	return inet_pton(AF_INET6, p, a) == 1;
}

/* One "ADDR<sep>NODE" entry, trimmed, NUL-terminated. */
static int entry(struct vmmc_hostmap *m, char *p, char *err, size_t errlen,
		 const char *where)
{
	char *node, *end;
	struct in6_addr a;
	unsigned long n;

	node = p + strcspn(p, "= \t");
	if (!*node)
		goto bad;
	*node++ = '\0';
	node += strspn(node, "= \t");
	if (!parse_addr(p, &a))
		goto bad;
	errno = 0;
	n = strtoul(node, &end, 10);
	end += strspn(end, " \t");
	if (errno || end == node || *end || n > VMMC_HOSTMAP_MAX_NODE ||
	    *node == '-' || *node == '+')
		goto bad;
	if (add(m, &a, (uint32_t)n)) {
		snprintf(err, errlen, "%s: more than %d entries", where,
			 VMMC_HOSTMAP_MAX);
		return -ENOSPC;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: not \"ADDR NODE\" with an IPv4 or IPv6 address and a node 0..%d",
		 where, VMMC_HOSTMAP_MAX_NODE);
	return -EINVAL;
}

int vmmc_hostmap_parse(struct vmmc_hostmap *m, const char *s, bool env,
		       char *err, size_t errlen)
{
	char *copy = strdup(s), *rest, *tok, where[48];
	unsigned int k = 0;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	rest = copy;
	/* strsep, not strtok: "a,,b" has an empty entry, which is an error */
	while ((tok = strsep(&rest, env ? "," : "\n"))) {
		char *hash = env ? NULL : strchr(tok, '#');
		size_t len;

		k++;
		if (hash)
			*hash = '\0';
		tok += strspn(tok, " \t\r");
		len = strlen(tok);
		while (len && strchr(" \t\r", tok[len - 1]))
			tok[--len] = '\0';
		if (!len) {
			if (env) {
				snprintf(err, errlen, "entry %u: empty", k);
				rc = -EINVAL;
				break;
			}
			continue;
		}
		snprintf(where, sizeof(where), env ? "entry %u" : "line %u", k);
		rc = entry(m, tok, err, errlen, where);
		if (rc)
			break;
	}
	free(copy);
	return rc;
}

int vmmc_hostmap_load(struct vmmc_hostmap *m, char *err, size_t errlen)
{
	const char *env = getenv("VMMC_HOSTS");
	const char *path = getenv("VMMC_HOSTS_FILE");
	char buf[8192], msg[200];
	size_t got;
	FILE *f;
	int rc;

	m->n = 0;
	if (env && *env) {
		rc = vmmc_hostmap_parse(m, env, true, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "VMMC_HOSTS: %s", msg);
			return rc;
		}
	}
	if (!path || !*path)
		path = VMMC_HOSTS_DEFAULT;
	f = fopen(path, "re");
	if (!f) {
		if (getenv("VMMC_HOSTS_FILE") && *getenv("VMMC_HOSTS_FILE")) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		return 0;	/* no default file: the environment only */
	}
	got = fread(buf, 1, sizeof(buf) - 1, f);
	rc = !feof(f) ? -EFBIG : 0;
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "%s: longer than %zu bytes", path,
			 sizeof(buf) - 1);
		return rc;
	}
	buf[got] = '\0';
	rc = vmmc_hostmap_parse(m, buf, false, msg, sizeof(msg));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, msg);
	return rc;
}

int vmmc_hostmap_node(const struct vmmc_hostmap *m,
		      const struct in6_addr *addr)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (!memcmp(&m->e[i].addr, addr, sizeof(*addr)))
			return (int)m->e[i].node;
	return -1;
}

int vmmc_hostmap_node4(const struct vmmc_hostmap *m, uint32_t addr)
{
	struct in6_addr a = { .s6_addr[10] = 0xff, .s6_addr[11] = 0xff };

	memcpy(&a.s6_addr[12], &addr, 4);
	return vmmc_hostmap_node(m, &a);
}

bool vmmc_hostmap_addr(const struct vmmc_hostmap *m, uint32_t node,
		       bool v6, struct in6_addr *addr)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].node == node &&
		    !IN6_IS_ADDR_V4MAPPED(&m->e[i].addr) == v6) {
			*addr = m->e[i].addr;
			return true;
		}
	return false;
}

// SPDX-License-Identifier: MIT
/*
 * Description: the LD_PRELOAD shim's address to node map (preload/
 * hostmap.c), on the host: both syntaxes, comments and blanks, IPv6
 * entries (bare, bracketed, IPv4-mapped) beside IPv4 ones, the first
 * source winning, every malformed entry refused with its line or entry
 * named, the limit, lookups both ways and by family, and loading from the
 * environment and a file. Exit 0 pass, 1 fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "preload/hostmap.h"

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/* @s, IPv4 (as ::ffff:a.b.c.d) or IPv6 */
static struct in6_addr ip6(const char *s)
{
	struct in6_addr a = { .s6_addr[10] = 0xff, .s6_addr[11] = 0xff };

	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, &a) != 1)
			abort();
	} else {
		memcpy(&a.s6_addr[12], &(uint32_t){ ip4(s) }, 4);
	}
	return a;
}

static int node(const struct vmmc_hostmap *m, const char *s)
{
	struct in6_addr a = ip6(s);

	return vmmc_hostmap_node(m, &a);
}

static bool addr_is(const struct vmmc_hostmap *m, uint32_t n, bool v6,
		    const char *s)
{
	struct in6_addr a, want = ip6(s);

	return vmmc_hostmap_addr(m, n, v6, &a) && !memcmp(&a, &want, sizeof(a));
}

/* IPv6 entries, with IPv4 ones, in both syntaxes */
static void test_v6(void)
{
	static const char *const bad[] = {
		"fd00::1", "fd00::1=", "fd00:::1=1", "[fd00::1=1", "fd00::1]=1",
		"[fd00::1]]=1", "fd00::g=1", "fe80::1%eth0=1", "fd00::1=64",
		"[10.0.0.1]=1", "::ffff:10.0.0.256=1",
	};
	struct vmmc_hostmap m = { 0 };
	struct in6_addr a;
	char err[256];
	unsigned int i;

	CHECK(!vmmc_hostmap_parse(&m, "10.77.0.1=0,fd00::1=0,[fd00::2]=1,"
				  "::ffff:10.77.0.2=1,fd00::0:1=5", true,
				  err, sizeof(err)));
	CHECK(m.n == 4);	/* fd00::0:1 is fd00::1: the first wins */
	CHECK(node(&m, "fd00::1") == 0 && node(&m, "fd00::2") == 1);
	CHECK(node(&m, "10.77.0.2") == 1 && node(&m, "::ffff:10.77.0.2") == 1);
	CHECK(vmmc_hostmap_node4(&m, ip4("10.77.0.2")) == 1);
	CHECK(vmmc_hostmap_node4(&m, ip4("10.77.0.3")) == -1);
	CHECK(node(&m, "fd00::3") == -1 && node(&m, "::1") == -1);
	/* an IPv4 address and the IPv6 one with the same low bits differ */
	CHECK(node(&m, "::10.77.0.1") == -1);
	CHECK(addr_is(&m, 0, false, "10.77.0.1") && addr_is(&m, 0, true, "fd00::1"));
	CHECK(addr_is(&m, 1, false, "10.77.0.2") && addr_is(&m, 1, true, "fd00::2"));
	CHECK(!vmmc_hostmap_addr(&m, 2, true, &a) &&
	      !vmmc_hostmap_addr(&m, 2, false, &a));
	/* a node with IPv6 addresses only */
	CHECK(!vmmc_hostmap_parse(&m, "# v6 only\n fd00::9  7 # x\n[fd00::a]=7\r\n",
				  false, err, sizeof(err)));
	CHECK(m.n == 6 && node(&m, "fd00::9") == 7 && node(&m, "fd00::a") == 7);
	CHECK(addr_is(&m, 7, true, "fd00::9") && !vmmc_hostmap_addr(&m, 7, false, &a));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vmmc_hostmap b = { 0 };

		err[0] = '\0';
		CHECK(vmmc_hostmap_parse(&b, bad[i], true, err, sizeof(err)) ==
		      -EINVAL);
		CHECK(b.n == 0 && strstr(err, "entry 1") != NULL);
	}
	memset(&m, 0, sizeof(m));
	CHECK(vmmc_hostmap_parse(&m, "fd00::1 1\nfd00::2 1 2\n", false, err,
				 sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "line 2") != NULL && strstr(err, "IPv6") != NULL);
}

int main(void)
{
	static const char *const bad_env[] = {
		"10.0.0.1", "10.0.0.1=", "=1", "10.0.0.1=x", "10.0.0.1=64",
		"10.0.0.1=-1", "10.0.0.1=+1", "10.0.0.256=1", "10.0.0.1=1,,",
		"10.0.0.1=1 2", "::1", "10.0.0.1=99999999999999999999",
	};
	struct vmmc_hostmap m = { 0 };
	char err[256], path[] = "/tmp/hostmap_testXXXXXX", big[4096];
	struct in6_addr a;
	unsigned int i;
	FILE *f;
	int fd;

	CHECK(!vmmc_hostmap_parse(&m, "10.77.0.1=0, 10.77.0.2 = 1", true,
				  err, sizeof(err)));
	CHECK(m.n == 2 && node(&m, "10.77.0.1") == 0 &&
	      node(&m, "10.77.0.2") == 1);
	CHECK(node(&m, "10.77.0.3") == -1);
	CHECK(addr_is(&m, 1, false, "10.77.0.2"));
	CHECK(!vmmc_hostmap_addr(&m, 5, false, &a) &&
	      !vmmc_hostmap_addr(&m, 1, true, &a));
	/* file syntax: comments, blanks, both separators; first wins */
	CHECK(!vmmc_hostmap_parse(&m, "# nodes\n\n10.77.0.2 7\n 192.168.1.9=3  # x\r\n",
				  false, err, sizeof(err)));
	CHECK(m.n == 3 && node(&m, "10.77.0.2") == 1 &&
	      node(&m, "192.168.1.9") == 3);
	for (i = 0; i < sizeof(bad_env) / sizeof(bad_env[0]); i++) {
		struct vmmc_hostmap b = { 0 };

		err[0] = '\0';
		CHECK(vmmc_hostmap_parse(&b, bad_env[i], true, err, sizeof(err)) ==
		      -EINVAL);
		CHECK(strstr(err, "entry") != NULL);
	}
	memset(&m, 0, sizeof(m));
	CHECK(vmmc_hostmap_parse(&m, "10.0.0.1 1\n10.0.0.2 x\n", false, err,
				 sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	/* the limit */
	memset(&m, 0, sizeof(m));
	big[0] = '\0';
	for (i = 0; i <= VMMC_HOSTMAP_MAX; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
			 "10.1.%u.%u=%u,", i / 200, i % 200 + 1, i % 60);
	big[strlen(big) - 1] = '\0';
	CHECK(vmmc_hostmap_parse(&m, big, true, err, sizeof(err)) == -ENOSPC);
	CHECK(m.n == VMMC_HOSTMAP_MAX);
	/* loading: the environment first, then the file */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("10.77.0.1 5\n10.77.0.9 9\n", f);
	fclose(f);
	setenv("VMMC_HOSTS", "10.77.0.1=0", 1);
	setenv("VMMC_HOSTS_FILE", path, 1);
	CHECK(!vmmc_hostmap_load(&m, err, sizeof(err)));
	CHECK(m.n == 2 && node(&m, "10.77.0.1") == 0 &&
	      node(&m, "10.77.0.9") == 9);
	setenv("VMMC_HOSTS", "10.77.0.1=zero", 1);
	CHECK(vmmc_hostmap_load(&m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "VMMC_HOSTS") != NULL);
	unsetenv("VMMC_HOSTS");
	unlink(path);
	CHECK(vmmc_hostmap_load(&m, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, path) != NULL);
	unsetenv("VMMC_HOSTS_FILE");
	test_v6();
	printf("1..1\n%s 1 - hostmap_test (%d checks, %d failures)\n",
	       fails ? "not ok" : "ok", checks, fails);
	return fails ? 1 : 0;
}

// SPDX-License-Identifier: MIT
/*
 * Description: the LD_PRELOAD shim's address to node map (preload/
 * hostmap.c), on the host: both syntaxes, comments and blanks, the first
 * source winning, every malformed entry refused with its line or entry
 * named, the limit, lookups both ways, and loading from the environment
 * and a file. Exit 0 pass, 1 fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "preload/hostmap.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

int main(void)
{
	static const char *const bad_env[] = {
		"10.0.0.1", "10.0.0.1=", "=1", "10.0.0.1=x", "10.0.0.1=64",
		"10.0.0.1=-1", "10.0.0.1=+1", "10.0.0.256=1", "10.0.0.1=1,,",
		"10.0.0.1=1 2", "::1=1", "10.0.0.1=99999999999999999999",
	};
	struct vmmc_hostmap m = { 0 };
	char err[256], path[] = "/tmp/hostmap_testXXXXXX", big[4096];
	uint32_t a = 0;
	unsigned int i;
	FILE *f;
	int fd;

	CHECK(!vmmc_hostmap_parse(&m, "10.77.0.1=0, 10.77.0.2 = 1", true,
				  err, sizeof(err)));
	CHECK(m.n == 2 && vmmc_hostmap_node(&m, ip("10.77.0.1")) == 0 &&
	      vmmc_hostmap_node(&m, ip("10.77.0.2")) == 1);
	CHECK(vmmc_hostmap_node(&m, ip("10.77.0.3")) == -1);
	CHECK(vmmc_hostmap_addr(&m, 1, &a) && a == ip("10.77.0.2"));
	CHECK(!vmmc_hostmap_addr(&m, 5, &a));
	/* file syntax: comments, blanks, both separators; first wins */
	CHECK(!vmmc_hostmap_parse(&m, "# nodes\n\n10.77.0.2 7\n 192.168.1.9=3  # x\r\n",
				  false, err, sizeof(err)));
	CHECK(m.n == 3 && vmmc_hostmap_node(&m, ip("10.77.0.2")) == 1 &&
	      vmmc_hostmap_node(&m, ip("192.168.1.9")) == 3);
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
	CHECK(m.n == 2 && vmmc_hostmap_node(&m, ip("10.77.0.1")) == 0 &&
	      vmmc_hostmap_node(&m, ip("10.77.0.9")) == 9);
	setenv("VMMC_HOSTS", "10.77.0.1=zero", 1);
	CHECK(vmmc_hostmap_load(&m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "VMMC_HOSTS") != NULL);
	unsetenv("VMMC_HOSTS");
	unlink(path);
	CHECK(vmmc_hostmap_load(&m, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, path) != NULL);
	unsetenv("VMMC_HOSTS_FILE");
	printf("1..1\n%s 1 - hostmap_test (%d checks, %d failures)\n",
	       fails ? "not ok" : "ok", checks, fails);
	return fails ? 1 : 0;
}

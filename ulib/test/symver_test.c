// SPDX-License-Identifier: MIT
/*
 * Description: vmmc_sock_stats() keeps programs linked against an older
 * libvmmc safe as struct vmmc_sock_stats grows. In libvmmc.so.0 (the path
 * is the argument), vmmc_sock_stats@VMMC_0.5 writes exactly the struct
 * VMMC_0.5 had (up to zc_posts) and not one byte past it, and the default
 * vmmc_sock_stats@@VMMC_0.7 writes the whole struct. TAP; exit 0 pass.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vmmc_sock.h"

#define FILL	0xa5

typedef void (*stats_fn)(struct vmmc_sock_stats *);

static int n, fails;

static void tap(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	fails += !ok;
}

/* How many leading bytes of @buf @fn wrote (the stack is idle: zeros). */
static size_t written(stats_fn fn, unsigned char *buf, size_t len)
{
	size_t i;

	memset(buf, FILL, len);
	fn((struct vmmc_sock_stats *)buf);
	for (i = 0; i < len && buf[i] == 0; i++)
		;
	return i;
}

int main(int argc, char **argv)
{
	unsigned char buf[sizeof(struct vmmc_sock_stats) + 64];
	size_t old_len = offsetof(struct vmmc_sock_stats, zc_bytes), i;
	stats_fn v05, v07, dflt;
	void *h;
	int tail_ok;

	printf("TAP version 13\n1..5\n");
	h = dlopen(argc > 1 ? argv[1] : "libvmmc.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("not ok 1 - dlopen: %s\n", dlerror());
		return 1;
	}
	v05 = (stats_fn)dlvsym(h, "vmmc_sock_stats", "VMMC_0.5");
	v07 = (stats_fn)dlvsym(h, "vmmc_sock_stats", "VMMC_0.7");
	dflt = (stats_fn)dlsym(h, "vmmc_sock_stats");
	tap(v05 && v07 && v05 != v07, "two versions of vmmc_sock_stats");
	tap(dflt && dflt == v07, "the default version is VMMC_0.7");
	if (!v05 || !v07) {
		printf("# the rest needs both versions\n");
		return 1;
	}
	tap(written(v05, buf, sizeof(buf)) == old_len,
	    "VMMC_0.5 fills the old struct, up to zc_posts");
	for (i = old_len, tail_ok = 1; i < sizeof(buf); i++)
		tail_ok &= buf[i] == FILL;
	tap(tail_ok, "VMMC_0.5 writes nothing past the old struct");
	tap(written(v07, buf, sizeof(buf)) == sizeof(struct vmmc_sock_stats) &&
	    buf[sizeof(struct vmmc_sock_stats)] == FILL,
	    "VMMC_0.7 fills exactly today's struct");
	dlclose(h);
	return fails ? 1 : 0;
}

// SPDX-License-Identifier: MIT
/*
 * Description: a program linked with libvmmc.a may use the names the
 * library uses inside (the socket stack's vs, vs_lookup, the core's
 * helpers) for its own globals: the static library keeps only its public
 * names global. This program defines some of them and calls into the
 * library; that it links at all is the test, and it checks that its own
 * globals are the ones it reads back.
 */
#include <stdio.h>
#include <string.h>

#include "vmmc.h"
#include "vmmc_sock.h"

int vs = 42;
int vs_lookup(int x);
int vs_lookup(int x)
{
	return x + 1;
}

int vs_wait = 7;

int main(void)
{
	struct vmmc_sock_stats st;
	int ok;

	memset(&st, 0xff, sizeof(st));
	vmmc_sock_stats(&st);	/* from libvmmc.a: no stack open, all zero */
	printf("1..1\n");
	ok = vs == 42 && vs_lookup(1) == 2 && vs_wait == 7 && !st.conns;
	printf("%s 1 - a program's own vs, vs_lookup, vs_wait beside libvmmc.a\n",
	       ok ? "ok" : "not ok");
	return !ok;
}

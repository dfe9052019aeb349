/* SPDX-License-Identifier: MIT */
/*
 * check.h - the host-side unit tests' CHECK(): count the check, and on
 * failure count that too and say where.
 */
#ifndef VMMC_TEST_CHECK_H
#define VMMC_TEST_CHECK_H

#include <stdio.h>

static int fails, checks;

#define CHECK(c)							\
	do {								\
		checks++;						\
		if (!(c)) {						\
			fails++;					\
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",	\
				__FILE__, __LINE__, #c);		\
		}							\
	} while (0)

#endif /* VMMC_TEST_CHECK_H */

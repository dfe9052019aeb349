// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_tap.c - ok() of vmmc_tap.h: one TAP line per check, at once.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vmmc_tap.h"

int tn, tfail;

void ok(bool c, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", c ? "" : "not ", ++tn);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!c)
		tfail++;
}

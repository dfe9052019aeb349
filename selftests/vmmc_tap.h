/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_tap.h - TAP lines for the selftests that run under the LD_PRELOAD
 * shim (plain libc programs, not on the kselftest harness): ok() prints
 * one "ok N - ..." or "not ok N - ..." line at once (a hang later must
 * not lose it) and counts the failures in tfail.
 */
#ifndef VMMC_TAP_H
#define VMMC_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tn, tfail;

static void ok(bool c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ok(bool c, const char *fmt, ...)
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

#endif

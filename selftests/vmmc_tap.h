/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmc_tap.h - TAP lines for the selftests that run under the LD_PRELOAD
 * shim (plain libc programs, not on the kselftest harness): ok() prints
 * one "ok N - ..." or "not ok N - ..." line at once (a hang later must
 * not lose it) and counts the failures in tfail (vmmc_tap.c, linked into
 * each such program).
 */
#ifndef VMMC_TAP_H
#define VMMC_TAP_H

#include <stdbool.h>

extern int tn, tfail;

void ok(bool c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

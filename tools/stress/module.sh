#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A stress part (see run.sh): the module under abuse, in a one-node guest.
# The fuzzer, the kill -9 stress and the memory-pressure sender run for
# the durations given in the environment, each followed by the driver's
# leak check; then the NIC's tables must be clean, the kernel log free of
# oops, warnings and BUGs (the guest boots with slub_debug), and the
# module must unload and load again.
# Usage: module.sh RESULT_FILE
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
result=$1
secs=$((FUZZ_SECS + STRESS_SECS + MEMPRESS_SECS + 600))
# the guest starts with a clean environment: hand the settings over
tools/vm/vmrun --timeout "$secs" -- \
	env VMMC_RESULT="$result" SEED="$SEED" FUZZ_SECS="$FUZZ_SECS" \
	FUZZ_PROCS="$FUZZ_PROCS" STRESS_SECS="$STRESS_SECS" \
	STRESS_PROCS="$STRESS_PROCS" KILL_MS="$KILL_MS" \
	MEMPRESS_SECS="$MEMPRESS_SECS" \
	tools/stress/module_guest.sh "$top/build"

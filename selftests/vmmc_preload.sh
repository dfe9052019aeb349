#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vmmc_preload_test under the LD_PRELOAD shim, inside one node: the map
# sends 127.0.0.1 to this node, so every connection is a VMMC one.
# dup/dup2/dup3/F_DUPFD, O_NONBLOCK, FD_CLOEXEC, fork, exec, threads, a
# double-fork daemon.
top=$(cd "$(dirname "$0")/.." && pwd)
# Then stage "kick" alone with 2 s slices (vmmc_preload_threads.c).
env LD_PRELOAD="$top/build/ulib/libvmmc-preload.so" \
	VMMC_HOSTS=127.0.0.1=0 "$top/build/selftests/vmmc_preload_test"
rc=$?
env LD_PRELOAD="$top/build/ulib/libvmmc-preload.so" VMMC_PRELOAD_SLICE_MS=2000 \
	VMMC_HOSTS=127.0.0.1=0 "$top/build/selftests/vmmc_preload_test" kick || rc=1
exit $rc

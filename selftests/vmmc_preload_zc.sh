#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vmmc_preload_zc under the LD_PRELOAD shim, inside one node: zero-copy
# receive of blocking recv/read (the split-phase library calls) with other
# threads in the stack meanwhile, a signal, a non-blocking socket.
top=$(cd "$(dirname "$0")/.." && pwd)
exec env LD_PRELOAD="$top/build/ulib/libvmmc-preload.so" \
	VMMC_HOSTS=127.0.0.1=0 "$top/build/selftests/vmmc_preload_zc"

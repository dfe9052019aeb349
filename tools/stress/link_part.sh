#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress part: the link layer under injected faults, long form
# (tools/stress/link.sh with LINK_MSGS messages, default 100000), as a
# part of tools/stress/run.sh: writes "RESULT pass fail 0" to $1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: link_part.sh RESULT_FILE}
msgs=${LINK_MSGS:-100000}
"$top/tools/stress/link.sh" "$msgs"
res=$top/build/results-stress-link
read -r _ p0 f0 _ < "$res/node0" 2>/dev/null || { p0=0 f0=1; }
read -r _ p1 f1 _ < "$res/node1" 2>/dev/null || { p1=0 f1=1; }
echo "RESULT $((p0 + p1)) $((f0 + f1)) 0" > "$out"

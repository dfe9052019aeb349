#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/stress/link.sh - the long form of the link-layer test: two nodes,
# vmmc_link_cluster with MESSAGES messages (default 100000) under 5% drop,
# 1% duplicate, 5% reorder, 2% delay and 1% corruption, then a 3 s link
# outage and a node death (see selftests/vmmc_link_cluster.c).
#
#   tools/stress/link.sh [MESSAGES [TIMEOUT_SECONDS]]
#
# Needs a built tree (make). Results and logs go to build/results-stress-link;
# exit 0 if both nodes passed. Prints one line "link stress: ..." at the end.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
msgs=${1:-100000}
timeout=${2:-$((600 + msgs / 20))}
case $msgs$timeout in *[!0-9]*) echo "usage: $0 [MESSAGES [TIMEOUT_SECONDS]]" >&2; exit 2 ;; esac
build=$top/build
res=$build/results-stress-link
rm -rf "$res" && mkdir -p "$res"
selftests/link_faults.sh "$build/tools/fabric/vmmc-fabric" "$res/fabric.ctl" \
	"$res/link" "$((timeout + 60))" &
watcher=$!
env="VMMC_LINK_DIR=$res/link VMMC_LINK_MSGS=$msgs"
tools/vm/vmrun -n 2 --timeout "$timeout" --fabric-arg "--ctl=$res/fabric.ctl" \
	--node-cmd "0=VMMC_RESULT=$res/node0 $env selftests/run_guest.sh $build vmmc_link_cluster; rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; exit \$rc" \
	--node-cmd "1=VMMC_RESULT=$res/node1 $env selftests/run_guest.sh $build vmmc_link_cluster; rc=\$?; python3 selftests/barrier.py wait; exit \$rc" \
	-- true
rc=$?
touch "$res/link/stop"
wait "$watcher"
read -r _ p0 f0 _ < "$res/node0" 2>/dev/null || { p0=0 f0=1; }
read -r _ p1 f1 _ < "$res/node1" 2>/dev/null || { p1=0 f1=1; }
echo "link stress: $msgs messages: node 0 $p0 passed $f0 failed, node 1 $p1 passed $f1 failed (vmrun rc $rc)"
[ "$rc" -eq 0 ] && [ "$f0" -eq 0 ] && [ "$f1" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress: the long forms of the abuse tests, one part after another,
# ending with "N passed, N failed" like make check. A part is a script in
# tools/stress/ that gets the result file to write as its one argument
# ("RESULT <pass> <fail> <skip>", see selftests/run_guest.sh), prints its
# TAP lines, and reads the durations from the environment:
#
#   FUZZ_SECS=300      vmmc_fuzz run length       FUZZ_PROCS=8
#   STRESS_SECS=300    vmmc_stress run length     STRESS_PROCS=48  KILL_MS=50
#   MEMPRESS_SECS=120  vmmc_mempress run length
#   LINK_MSGS=100000   messages through the link layer under faults (about
#                      20 s per 1000 under TCG)
#   SEED=N             one seed for every part (default: the time)
#
# Usage: tools/stress/run.sh [PART...]   (default: every part below)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

# The parts, in order; add one with one line.
parts=(
	module.sh	# one node: fuzzer, kill -9 stress, memory pressure, unload
	link_part.sh	# two nodes: LINK_MSGS messages under injected faults
)

[ $# -gt 0 ] && parts=("$@")
export FUZZ_SECS=${FUZZ_SECS:-300} FUZZ_PROCS=${FUZZ_PROCS:-8}
export STRESS_SECS=${STRESS_SECS:-300} STRESS_PROCS=${STRESS_PROCS:-48}
export KILL_MS=${KILL_MS:-50} MEMPRESS_SECS=${MEMPRESS_SECS:-120}
export LINK_MSGS=${LINK_MSGS:-100000}
export SEED=${SEED:-$(date +%s)}
results=$top/build/results/stress
rm -rf "$results" && mkdir -p "$results"
pass=0 fail=0 skip=0
echo "# make stress: seed $SEED; fuzz ${FUZZ_SECS}s x $FUZZ_PROCS, stress ${STRESS_SECS}s x $STRESS_PROCS (kill every ${KILL_MS} ms), memory pressure ${MEMPRESS_SECS}s, link ${LINK_MSGS} messages"
for part in "${parts[@]}"; do
	echo "==== stress: $part"
	res=$results/${part%.sh}
	if [ ! -x "tools/stress/$part" ]; then
		echo "not ok - no stress part tools/stress/$part"
		fail=$((fail + 1))
		continue
	fi
	"tools/stress/$part" "$res"
	if [ -s "$res" ] && read -r _ p f s < "$res"; then
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	else
		echo "not ok - $part produced no result"
		fail=$((fail + 1))
	fi
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]

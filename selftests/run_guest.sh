#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a guest (tools/vm/vmrun): loads vmmc.ko, runs the selftests
# given as arguments, checks the kernel log, and writes a summary line
# "RESULT <pass> <fail> <skip>" to $VMMC_RESULT (on the project share).
# Each test program's TAP output goes to the console as it runs.
# Usage: run_guest.sh BUILD_DIR TEST...   (TEST: a program name under
# BUILD_DIR/selftests, or a script under selftests/ ending in .sh)
set -u
build=$1; shift
pass=0 fail=0 skip=0
result=${VMMC_RESULT:-/dev/null}

# count LOG RC NAME: add one test program's results (tap_count.sh)
. "$(dirname "$0")/tap_count.sh"
count() {
	tap_count "$@"
	pass=$((pass + tc_pass)) fail=$((fail + tc_fail)) skip=$((skip + tc_skip))
}

# After each test program, nothing of it may be left in the driver: no
# endpoint, pinned page, export or import, and no acknowledgement the NIC
# missed, no page or endpoint kept for a stalled NIC (the module may have
# been reloaded by a test; these are gauges).
leak_check() {
	local left
	left=$("$build/tools/vmmc_ctl/vmmc_ctl" -j show 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
s = d["stats"]
bad = {k: v for k, v in (("live_eps", d["live_eps"]),
    ("pinned_pages", s["pinned_pages"]), ("exports", s["exports"]),
    ("imports", s["imports"]), ("fence_timeouts", s["fence_timeouts"]),
    ("kcmd_timeouts", s["kcmd_timeouts"]),
    ("nic_stalled", s.get("nic_stalled", 0)),
    ("grave_pages", s.get("grave_pages", 0)),
    ("zombie_eps", s.get("zombie_eps", 0))) if v}
print(bad or "")' 2>&1)
	if [ -z "$left" ]; then
		echo "ok - nothing left in the driver after $1"
		pass=$((pass + 1))
	else
		echo "not ok - left in the driver after $1: $left"
		fail=$((fail + 1))
	fi
}

dmesg -n 4 2>/dev/null
dmesg -C 2>/dev/null
if ! grep -q '^vmmc ' /proc/modules; then
	insmod "$build/vmmc.ko" || { echo "RESULT 0 1 0" > "$result"; exit 1; }
fi
for t in "$@"; do
	log=$(mktemp)
	echo "# ---- $t (node ${VMMC_NODE:-0})"
	case $t in
	*.sh)	timeout 300 bash "selftests/$t" "$build/vmmc.ko" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]} ;;
	*)	timeout 600 "$build/selftests/$t" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]} ;;
	esac
	count "$log" "$rc" "$t"
	rm -f "$log"
	leak_check "$t"
done

# the kernel said nothing alarming while the tests ran
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace|UBSAN|KASAN|list_del corruption'; then
	echo "not ok - kernel log clean"
	fail=$((fail + 1))
	# the console showed only the headlines: the whole story, once
	# (a Call Trace alone, as a stall report or an allocation failure
	# prints it, says what it is in the lines before it)
	dmesg | grep -B12 -A48 -E 'BUG:|WARNING:|Oops|general protection|Call Trace|UBSAN|KASAN|list_del corruption' | head -n 300 | sed 's/^/# /'
else
	echo "ok - kernel log clean"
	pass=$((pass + 1))
fi
echo "RESULT $pass $fail $skip" > "$result"
echo "# node ${VMMC_NODE:-0}: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

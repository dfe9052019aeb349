#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest for tools/stress/module.sh: the long forms of
# vmmc_fuzz, vmmc_stress and vmmc_mempress with the durations from the
# environment, the driver's leak check after each, then the NIC's own
# tables, the kernel log, and an unload and reload of the module. Writes
# "RESULT <pass> <fail> <skip>" to $VMMC_RESULT.
set -u
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/tap.sh"
result=${VMMC_RESULT:-/dev/null}
run() {	# run NAME PROG ARGS...: one program's TAP lines, counted
	local name=$1 log rc p f
	shift
	log=$(mktemp)
	echo "# ---- $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -cE '^ok [0-9]+ ' "$log")
	f=$(grep -cE '^not ok [0-9]+ ' "$log")
	rm -f "$log"
	n=$((n + p + f)) fails=$((fails + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && nok "$name exited with $rc"
	check "nothing left in the driver after $name" json \
		"d[0]['live_eps'] == 0 and d[0]['stats']['pinned_pages'] == 0 and d[0]['stats']['exports'] == 0 and d[0]['stats']['imports'] == 0 and d[0]['stats']['fence_timeouts'] == 0 and d[0]['stats']['kcmd_timeouts'] == 0"
}
dmesg -n 4
dmesg -C
insmod "$build/vmmc.ko" || { echo "RESULT 0 1 0" > "$result"; exit 1; }
echo "TAP version 13"
run vmmc_fuzz "$build/selftests/vmmc_fuzz" -s "$SEED" -t "$FUZZ_SECS" -p "$FUZZ_PROCS"
run vmmc_stress "$build/selftests/vmmc_stress" -s "$SEED" -t "$STRESS_SECS" \
	-p "$STRESS_PROCS" -k "$KILL_MS"
run vmmc_mempress "$build/selftests/vmmc_mempress" -s "$SEED" -t "$MEMPRESS_SECS" -r 48
check "the NIC's tables hold no stale entry" python3 "$top/selftests/vmmc_sram_check.py"
check "kernel log clean" bash -c "! dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace|UBSAN|KASAN|list_del corruption'"
check "module unloads" rmmod vmmc
check "module loads again and binds" bash -c "insmod '$build/vmmc.ko' && [ -c /dev/vmmc0 ]"
echo "RESULT $((n - fails)) $fails 0" > "$result"
tap_end

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: endpoints die cleanly. A process killed with SIGKILL while
# delayed NOPs are in flight leaves no endpoint behind and no completion
# is written after the kill (the fence dropped them); fifty such processes
# likewise; a PCI unbind while a process holds an endpoint and its
# mappings fails its wait with ENODEV, turns its mappings into SIGBUS,
# removes /dev/vmmc0, and a rebind brings the NIC back. TAP output.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/tap.sh"
hold=$top/build/selftests/vmmc_hold
wait_ready() {	# wait_ready FILE: until the holder said ready (bounded)
	local i
	for i in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
echo "TAP version 13"
tap_plan 9
tmp=$(mktemp -d)

# 1. SIGKILL with 32 NOPs delayed by 1 s (the most) in flight. A host too
# loaded to kill within 0.8 s of the post may see them complete before the
# kill: such a run cannot tell, and says so; up to 3 runs, then a visible
# SKIP (never a pass it did not judge)
fences=$(stat fences)
for try in 1 2 3; do
	"$hold" -d 1000000 -n 32 > "$tmp/h1" &
	pid=$!
	wait_ready "$tmp/h1"
	# counted once it is ready: its open may have timed NOPs of its own
	# (the library measures the spin limit when the NIC has none yet)
	cqes=$(stat nic_cqes)
	t_kill=$(cut -d' ' -f1 /proc/uptime)
	kill -9 $pid
	wait $pid 2>/dev/null
	sleep 1.5	# the delayed NOPs would have completed by now
	late=$(awk -v k="$t_kill" '/^ready/ { print (k * 1000 - $3 > 800) ? 1 : 0; exit }' "$tmp/h1")
	[ "${late:-0}" = 1 ] || break
	echo "# kill9 run $try: the kill came over 0.8 s after the post: cannot tell"
done
check "kill9_no_endpoint_left" json "d[0]['live_eps'] == 0"
check "kill9_fenced" json "d[0]['stats']['fences'] == $fences + $try and d[0]['stats']['fence_timeouts'] == 0"
if [ "${late:-0}" = 1 ]; then
	skip "kill9_no_completion_after_death" "each of 3 kills came over 0.8 s after the post (a loaded host)"
else
	check "kill9_no_completion_after_death" json "d[0]['stats']['nic_cqes'] == $cqes"
fi

# 2. fifty processes with work in flight, killed at once
pids=()
for i in $(seq 50); do
	"$hold" -d 1000000 -n 8 > "$tmp/m$i" 2>&1 &
	pids+=($!)
done
for i in $(seq 50); do wait_ready "$tmp/m$i" || break; done
check "fifty_endpoints_open" json "d[0]['live_eps'] == 50"
kill -9 "${pids[@]}"
wait "${pids[@]}" 2>/dev/null
sleep 0.5
check "fifty_killed_none_left" json "d[0]['live_eps'] == 0 and d[0]['stats']['eps_opened'] == d[0]['stats']['eps_closed'] and d[0]['stats']['fence_timeouts'] == 0"

# 3. unbind while a process holds an endpoint and its mappings
bdf=$(basename "$(readlink -f /sys/class/vmmc/vmmc0/device)")
"$hold" > "$tmp/h2" &
pid=$!
wait_ready "$tmp/h2"
echo "$bdf" > /sys/bus/pci/drivers/vmmc/unbind
for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
wait $pid
rc=$?
check "unbind_holder_saw_enodev_then_sigbus" bash -c "[ $rc -eq 0 ] && grep -q enodev '$tmp/h2' && grep -q sigbus '$tmp/h2'"
check "unbind_device_gone" bash -c "! [ -e /dev/vmmc0 ] && ! '$ctl' show 2>/dev/null"
echo "$bdf" > /sys/bus/pci/drivers/vmmc/bind
for i in $(seq 50); do [ -c /dev/vmmc0 ] && break; sleep 0.1; done
check "rebind_nic_back" bash -c "[ -c /dev/vmmc0 ] && '$ctl' show >/dev/null"
check "rebind_endpoint_works" bash -c "'$top/build/selftests/vmmc_datapath' -t nop_round_trips >/dev/null 2>&1"

rm -rf "$tmp"
tap_end

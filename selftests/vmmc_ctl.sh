#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: vmmc_ctl and the vmmc netlink family, as a user sees them:
# text and JSON output agree with the node, endpoints are counted while
# open and back to zero after, NIC and driver counters move with traffic,
# bad arguments and absent NICs give clear errors and the right exit code,
# and malformed netlink requests are refused (vmmc_nl_bad.py). TAP output.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/tap.sh"
dp=$top/build/selftests/vmmc_datapath
echo "TAP version 13"
tap_plan 23
node=${VMMC_NODE:-0}
# the versions this tree speaks, from the one header
nic_ver=$(sed -n 's/^#define VMMC_NIC_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$top/uapi/vmmc.h")
abi_ver=$(sed -n 's/^#define VMMC_ABI_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$top/uapi/vmmc.h")

check "text_show" bash -c "'$ctl' show | grep -q '^vmmc0: node $node of '"
check "json_is_one_nic" json "len(d) == 1 and d[0]['dev'] == 'vmmc0'"
check "json_fields" json "d[0]['node_id'] == $node and d[0]['nic_version'] == ${nic_ver:-0} and d[0]['abi_version'] == ${abi_ver:-0} and d[0]['max_eps'] == 64 and d[0]['flags']['running'] == 1"
check "no_endpoints_idle" json "d[0]['live_eps'] == 0"
opened=$(stat eps_opened)
exec 3<>/dev/vmmc0 4<>/dev/vmmc0
check "endpoints_counted" json "d[0]['live_eps'] == 2"
exec 3>&- 4>&-
check "endpoints_back_to_zero" json "d[0]['live_eps'] == 0 and d[0]['stats']['eps_opened'] == $opened + 2 and d[0]['stats']['eps_closed'] == d[0]['stats']['eps_opened']"
descs=$(stat nic_descs)
irqs=$(stat irq_event)
"$dp" -t nop_round_trips -t interrupt_wakes_waiter > /dev/null 2>&1
check "nic_counters_move" json "d[0]['stats']['nic_descs'] >= $descs + 1001 and d[0]['stats']['nic_cqes'] >= d[0]['stats']['nic_descs'] - 64"
check "irq_counters_move" json "d[0]['stats']['irq_event'] > $irqs and d[0]['stats']['nic_irqs'] >= d[0]['stats']['irq_event']"
check "show_by_index" bash -c "diff <('$ctl' dev show 0 | head -1) <('$ctl' show | head -1)"
check "absent_nic_exit_1" bash -c "'$ctl' dev show vmmc9 2>&1 >/dev/null | grep -q 'no NIC vmmc9'; [ \${PIPESTATUS[0]} -eq 1 ]"
check "bad_usage_exit_2" bash -c "'$ctl' dev show nonsense 2>/dev/null; [ \$? -eq 2 ] && '$ctl' -x 2>/dev/null; [ \$? -eq 2 ] && '$ctl' frob 2>/dev/null; [ \$? -eq 2 ]"
check "help_exit_0" bash -c "'$ctl' --help | grep -q Usage && '$ctl' dev help | grep -q 'dev show'"
check "netlink_bad_requests" python3 "$top/selftests/vmmc_nl_bad.py"

# the endpoint list names the process that holds one
"$top/build/selftests/vmmc_hold" > /tmp/vmmc_ctl_hold &
hold=$!
for _ in $(seq 100); do grep -q ready /tmp/vmmc_ctl_hold && break; sleep 0.1; done
# the competitive spin limit: estimated at probe, measured by the first
# endpoint opened (earlier tests opened some), shown, settable by root
info_spin() {	# spin_ns as a raw endpoint's VMMC_IOC_INFO reports it
	python3 -c "import fcntl,os,struct; fd=os.open('/dev/vmmc0',os.O_RDWR); b=bytearray(128); fcntl.ioctl(fd,0x80805600,b); print(struct.unpack_from('=I',b,80)[0])"
}
jspin() {	# one spin field of vmmc_ctl -j show
	"$ctl" -j show | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['$1'])"
}
measured=$(jspin spin_measured_ns)
probe=$(jspin spin_probe_ns)
# a waiter measures the spin when the host lets it (a loaded host may
# not: up to 5 runs of a test that waits, as a library reopens)
waiter_measures() {
	local i
	for i in 1 2 3 4 5; do
		"$dp" -t nop_round_trips > /dev/null 2>&1
		[ "$(jspin spin_source)" = waiter ] && return 0
	done
	return 1
}
export -f info_spin jspin waiter_measures
export ctl dp
# the probe's estimate is 0 (source none) if the NIC did not answer it in
# time, as on a very loaded host
psrc=probe; [ "$probe" -eq 0 ] && psrc=none
check "spin_measured_and_used" bash -c "[ $measured -gt 0 ] && [ \$(jspin spin_source) = waiter ] && [ \$(jspin spin_ns) -eq $measured ] && [ \$(info_spin) -eq $measured ] && '$ctl' show | grep -q 'spin_ns $measured (waiter; measured $measured, probe estimate $probe)'"
check "spin_set_shown_and_in_info" bash -c "'$ctl' dev set vmmc0 spin_ns 12345 && '$ctl' show | grep -q 'spin_ns 12345 (admin; measured $measured, probe estimate $probe)' && [ \$(info_spin) -eq 12345 ]"
check "spin_reset_then_measured_again" bash -c "'$ctl' dev set vmmc0 spin_ns 0 && '$ctl' show | grep -q 'spin_ns $probe ($psrc; measured $probe, probe estimate $probe)' && [ \$(info_spin) -eq $probe ] && waiter_measures && [ \$(jspin spin_ns) -eq \$(jspin spin_measured_ns) ] && [ \$(info_spin) -eq \$(jspin spin_ns) ]"
check "spin_set_bad_exit_2" bash -c "'$ctl' dev set vmmc0 spin_ns 2000000000 2>/dev/null; [ \$? -eq 2 ] && '$ctl' dev set vmmc0 spin_ns x 2>/dev/null; [ \$? -eq 2 ] && '$ctl' dev set vmmc0 2>/dev/null; [ \$? -eq 2 ]"
check "spin_set_absent_nic_exit_1" bash -c "'$ctl' dev set vmmc7 spin_ns 5 2>&1 | grep -q 'no NIC vmmc7'; [ \${PIPESTATUS[0]} -eq 1 ]"

check "ep_show_lists_holder" bash -c "'$ctl' -j ep show | python3 -c \"import json,sys; d=json.load(sys.stdin); sys.exit(0 if [e for e in d if e['pid'] == $hold and e['pinned_pages'] == 0] else 1)\" && '$ctl' ep show | grep -q 'pid $hold '"
kill $hold; wait $hold 2>/dev/null; rm -f /tmp/vmmc_ctl_hold
check "ep_show_empty_after" bash -c "[ \"\$('$ctl' -j ep show)\" = '[]' ]"
check "export_import_show_empty" bash -c "[ \"\$('$ctl' -j export show)\" = '[]' ] && [ \"\$('$ctl' -j import show)\" = '[]' ]"

# an export and an import of it, then gone with their process
"$top/build/selftests/vmmc_hold" -e 4242 > /tmp/vmmc_ctl_hold &
hold=$!
for _ in $(seq 100); do grep -q ready /tmp/vmmc_ctl_hold && break; sleep 0.1; done
check "export_import_shown" bash -c "'$ctl' -j export show | python3 -c \"import json,sys; d=json.load(sys.stdin); sys.exit(0 if len(d) == 1 and d[0]['name'] == 4242 and d[0]['pid'] == $hold and d[0]['len'] == 65536 and d[0]['state'] == 'active' and d[0]['perm_nodes'] == 2**64 - 1 else 1)\" && '$ctl' -j import show | python3 -c \"import json,sys; d=json.load(sys.stdin); sys.exit(0 if len(d) == 1 and d[0]['pid'] == $hold and d[0]['node'] == $node and d[0]['len'] == 65536 else 1)\" && '$ctl' -j ep show | python3 -c \"import json,sys; d=json.load(sys.stdin); sys.exit(0 if [e for e in d if e['pid'] == $hold and e['pinned_pages'] == 16] else 1)\""
kill $hold; wait $hold 2>/dev/null; rm -f /tmp/vmmc_ctl_hold
check "export_import_gone_with_process" bash -c "[ \"\$('$ctl' -j export show)\" = '[]' ] && [ \"\$('$ctl' -j import show)\" = '[]' ]"

tap_end

# SPDX-License-Identifier: GPL-2.0
# Helpers for the TAP shell tests; source it. Counts in $n and $fails.
#   check NAME CMD...   "ok"/"not ok" from CMD's exit status
#   json EXPR           a python expression on `vmmc_ctl -j show` (d)
#   stat NAME           one counter of vmmc0
#   skip NAME WHY       a result the test could not judge: "ok N NAME # SKIP
#                       WHY", counted as a skip, never as a pass
#   tcp FIELD           a Tcp counter of /proc/net/snmp
#   nic_data            vmmc0's data bytes, sent + received
#   tap_plan N          prints the plan "1..N" first (else tap_end
#                       prints "1..n" last: a script that dies before its
#                       end prints no plan, and the runner fails it)
#   tap_end             prints the totals, returns non-zero on a failure
n=0
fails=0
skips=0
tap_planned=
tap_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ctl=$tap_top/build/tools/vmmc_ctl/vmmc_ctl
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skips=$((skips + 1)); echo "ok $n $1 # SKIP $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
json() {
	"$ctl" -j show 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}
stat() { "$ctl" -j show | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats']['$1'])"; }
tcp() {
	awk -v f="$1" '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n[f] }' /proc/net/snmp
}
nic_data() {
	"$ctl" -j show | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats"]; print(s["nic_data_tx"] + s["nic_data_rx"])'
}
tap_plan() { tap_planned=$1; echo "1..$1"; }
tap_end() {
	[ -n "$tap_planned" ] || echo "1..$n"
	echo "# Totals: pass:$((n - fails - skips)) fail:$fails xfail:0 xpass:0 skip:$skips error:0"
	[ "$fails" -eq 0 ]
}

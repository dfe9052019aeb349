# SPDX-License-Identifier: GPL-2.0
# Helpers for the TAP shell tests; source it. Counts in $n and $fails.
#   check NAME CMD...   "ok"/"not ok" from CMD's exit status
#   json EXPR           a python expression on `vmmc_ctl -j show` (d)
#   stat NAME           one counter of vmmc0
#   tap_end             prints the totals, returns non-zero on a failure
n=0
fails=0
tap_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ctl=$tap_top/build/tools/vmmc_ctl/vmmc_ctl
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
json() {
	"$ctl" -j show 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}
stat() { "$ctl" -j show | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats']['$1'])"; }
tap_end() {
	echo "# Totals: pass:$((n - fails)) fail:$fails xfail:0 xpass:0 skip:0 error:0"
	[ "$fails" -eq 0 ]
}

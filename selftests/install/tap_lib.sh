# SPDX-License-Identifier: GPL-2.0
# TAP helpers of the install checks (check.sh, package-check.sh), sourced
# after they set $log (where each command's output goes) and
# pass=0 fail=0 skip=0 n=0.
# shellcheck shell=bash disable=SC2034,SC2154 # pass, fail, skip: the caller reads them; log: the caller sets it

tap() {	# tap STATUS DESCRIPTION: STATUS 0 ok, 77 skip, else not ok
	n=$((n + 1))
	case $1 in
	0) echo "ok $n - $2"; pass=$((pass + 1)) ;;
	77) echo "ok $n - $2 # SKIP"; skip=$((skip + 1)) ;;
	*) echo "not ok $n - $2"; fail=$((fail + 1)) ;;
	esac
}

run() {	# run DESCRIPTION CMD...: CMD's output to the log, one TAP line
	local d=$1 rc=0
	shift
	echo "# $d: $*" >>"$log"
	"$@" >>"$log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || tail -n 25 "$log" | sed 's/^/# /'
	tap "$rc" "$d"
}

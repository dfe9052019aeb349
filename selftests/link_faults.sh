#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# link_faults.sh - pass fault requests from guests to the fabric
#
#   selftests/link_faults.sh FABRIC CTL_SOCKET[,CTL_SOCKET...] DIR [MAX_SECONDS]
#
# Guests cannot reach the fabric's control socket; they write a request
# line into DIR/req-ID (vmmc_link_cluster.c, host_ctl()) over the shared
# project tree. This loop runs "FABRIC ctl CTL_SOCKET REQUEST" for each
# new one (for each socket: every fabric of a cluster of several, since
# each injects faults on what it sends) and writes its exit status (the
# first non-zero one) into DIR/ack-ID. It stops when
# DIR/stop appears or after MAX_SECONDS (default 3600). Requests and
# answers are logged to DIR/log.
set -u
fabric=$1 ctl=$2 dir=$3 max=${4:-3600}
mkdir -p "$dir"
end=$(($(date +%s) + max))
while [ ! -e "$dir/stop" ] && [ "$(date +%s)" -lt "$end" ]; do
	for req in "$dir"/req-*; do
		[ -e "$req" ] || continue
		case $req in *.tmp) continue ;; esac
		id=${req##*/req-}
		line=$(cat "$req")
		rc=0
		for c in $(echo "$ctl" | tr , ' '); do
			# shellcheck disable=SC2086 # the request is words
			"$fabric" ctl "$c" $line >>"$dir/log" 2>&1
			r=$?
			[ $rc -ne 0 ] || rc=$r
		done
		echo "$(date +%T) [$id] $line -> $rc" >>"$dir/log"
		echo "$rc" >"$dir/ack-$id.tmp"
		mv "$dir/ack-$id.tmp" "$dir/ack-$id"
		rm -f "$req"
	done
	sleep 0.05
done

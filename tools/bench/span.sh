#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# span.sh [HOT,COLD]: the cost of crossing between fabrics (make bench).
# vmmc_bw (4 B and 1 MiB) between two 1-vCPU guests served by one
# fabric, then by two fabrics joined over UDP (vmmc-fabric --cluster; as root each in a
# network namespace of its own, joined by veths of MTU $SPAN_MTU, default
# 9000, else both on loopback), each run followed by a stream of 1 MiB
# SENDs (SPAN_STREAM_S seconds, default 6) during which the host samples
# the fabrics' CPU time and the bytes their nodes sent (vmmc-fabric ctl
# show, every 0.25 s). Prints both vmmc_bw tables, then the goals of
# issue 18 side by side: bandwidth at 1 MiB across >= 50 % of one
# fabric's and >= 10x kernel TCP's, one-way latency of 4 B across
# <= 2x one fabric's, and the fabric CPU per GB moved while streaming
# (the samples moving at least half the peak rate; across: both fabric
# processes' CPU over the bytes sent). VMMC_FABRIC_RT=N runs every fabric
# (the one, and both of the pair) under SCHED_FIFO (vmmc-fabric --rt-prio).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
b=$top/build
bw=$b/tools/bench/vmmc_bw
fabric=$b/tools/fabric/vmmc-fabric
mc=${1:-}
mtu=${SPAN_MTU:-9000}
secs=${SPAN_STREAM_S:-6}
out=$b/bench-span
rm -rf "$out" && mkdir -p "$out/ctl" || exit 1

# sample FILE CTL...: "seconds cpu_us bytes" every 0.25 s, summed over
# the fabrics, until $out/stop appears
sample() {
	local file=$1 c t
	shift
	: >"$file"
	while [ ! -e "$out/stop" ]; do
		t=$(date +%s.%N)
		for c in "$@"; do
			"$fabric" ctl "$c" show 2>/dev/null
		done | awk -v t="$t" '
			$1 == "process" { cpu += $3 + $5; n++ }
			$1 == "moved" { bytes += $4 }
			END { if (n) printf "%s %d %d\n", t, cpu, bytes }' >>"$file"
		sleep 0.25
	done
}

# run NAME VMRUN-ARGS...: vmmc_bw and the stream; its output in
# $out/NAME.txt, the samples in $out/NAME.samples
run() {
	local name=$1 sp rc
	shift
	local node0="insmod $b/vmmc.ko && $bw client -n 1 -a 10.77.0.2 ${mc:+-M $mc} -s 4,1048576 -S $secs >$out/$name.txt; \
rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; exit \$rc"
	local node1="insmod $b/vmmc.ko && { $bw server & } && python3 selftests/barrier.py wait; kill %1 2>/dev/null; exit 0"
	rm -f "$out/stop"
	tools/vm/vmrun "$@" --timeout 1500 --node-cmd "0=$node0" \
		--node-cmd "1=$node1" -- true &
	sp=$!
	case $name in
	one) sample "$out/$name.samples" "$out/ctl/one.ctl" & ;;
	*) sample "$out/$name.samples" "$out/ctl/left.ctl" "$out/ctl/right.ctl" & ;;
	esac
	wait "$sp"
	rc=$?
	touch "$out/stop"
	wait
	return $rc
}

if [ "$(id -u)" = 0 ]; then
	netns=--cluster-netns a0=10.78.0.1 a1=10.78.0.2 port=7491
else
	netns='' a0=127.0.0.1 a1=127.0.0.1 port=$((30000 + $$ % 20000))
fi
printf 'fabric left %s %s mtu=%s\nfabric right %s %s mtu=%s\nnode 0 left\nnode 1 right\n' \
	$a0 $port "$mtu" $a1 $((port + 1)) "$mtu" >"$out/cluster"

run one -n 2 --fabric-arg "--ctl=$out/ctl/one.ctl" || exit 1
# shellcheck disable=SC2086 # $netns: an option or nothing
run two --cluster "$out/cluster" $netns --cluster-ctl "$out/ctl" || exit 1

echo "== vmmc_bw, one fabric: node 0 <-> node 1"
cat "$out/one.txt"
echo
echo "== vmmc_bw, two fabrics joined over UDP (${netns:+two network namespaces, }MTU $mtu): node 0 <-> node 1"
cat "$out/two.txt"
echo

# col FILE TABLE SIZE COLUMN: a number of vmmc_bw's tables (TABLE 1:
# latency, 2: bandwidth; COLUMN 2 vmmc local, 3 vmmc remote, 4 tcp)
col() {
	awk -v tab="$2" -v size="$3" -v c="$4" '
		$1 == "size" { t++ }
		t == tab && $1 == size { print $c; exit }' "$1"
}
# cost FILE: fabric CPU seconds per GB over the samples moving at least
# half the peak rate
cost() {
	awk '
		NR > 1 { dt[NR] = $1 - t; dc[NR] = $2 - c; db[NR] = $3 - bytes
			 r = db[NR] / dt[NR]; if (r > peak) peak = r }
		{ t = $1; c = $2; bytes = $3 }
		END {
			for (i in db)
				if (db[i] / dt[i] >= peak / 2) { cpu += dc[i]; by += db[i] }
			if (by > 0)
				printf "%.2f s/GB (%.0f MB/s of link bytes)", cpu / 1e6 / (by / 1e9), peak / 1e6
			else
				printf "no samples"
		}' "$1"
}
bw1=$(col "$out/one.txt" 2 1048576 3)
bw2=$(col "$out/two.txt" 2 1048576 3)
tcp2=$(col "$out/two.txt" 2 1048576 4)
lat1=$(col "$out/one.txt" 1 4 3)
lat2=$(col "$out/two.txt" 1 4 3)
echo "== across two fabrics, beside one fabric and kernel TCP (issue 18's goals)"
awk -v b1="$bw1" -v b2="$bw2" -v t2="$tcp2" -v l1="$lat1" -v l2="$lat2" 'BEGIN {
	printf "bandwidth at 1 MiB: %.1f MB/s across, %.1f in one fabric: %.0f %% (goal >= 50 %%)\n", b2, b1, 100 * b2 / b1
	printf "                    %.1f MB/s kernel TCP between the same guests: %.1fx (goal >= 10x)\n", t2, b2 / t2
	printf "one-way latency, 4 B: %.1f us across, %.1f in one fabric: %.2fx (goal <= 2x)\n", l2, l1, l2 / l1
}'
echo "fabric CPU per GB moved, streaming 1 MiB SENDs: one fabric $(cost "$out/one.samples"); two fabrics $(cost "$out/two.samples")"
grep -h "^stream" "$out/one.txt" "$out/two.txt" | sed 's/^/  /'

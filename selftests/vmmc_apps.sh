#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unmodified Debian programs between two nodes under the LD_PRELOAD shim
# (short forms of tools/bench/apps.sh), each with its own check: iperf3
# both directions (the client's byte counts exact), sockperf ping-pong
# (no dropped, duplicated or reordered message) and throughput,
# redis-server with redis-cli (every GET answers its SET's value) and
# redis-benchmark (exit 0, the server counted exactly every command, the
# value it wrote reads back), nginx with Debian's stock nginx.conf
# (sendfile on, tcp_nopush on: TCP_CORK; a copy with only the listen
# address, the root and the writable paths changed) serving files of
# 1 B to 3 MB to curl, bodies checked by sha256, in its stock
# master/worker mode (daemon off on its command line, so that the
# script holds it): the workers, as www-data, accept over VMMC on the
# listener their root master made; memcached (threaded: its listener
# thread hands connections to 4 workers) with Debian's
# /etc/memcached.conf but for the listen address and -d, 4 connections
# at once SETting and GETting 48 values of 1 B to 500 KB, each read back
# byte for byte (memcache_check.py). Then that it all went over VMMC: node 0's NIC data
# counters moved by at least the bytes iperf3 alone moved, and kernel TCP
# did not (no active open on node 0, a handful of segments at most on
# either node; node 1's one passive open is this script's own "done").
# Node 1 runs the servers, node 0 the clients; both run this script.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/app_conf.sh"
b=$tap_top/build
pre="env LD_PRELOAD=$b/ulib/libvmmc-preload.so VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1"
srv=10.77.0.2
done_port=7803
mb=${VMMC_APPS_MB:-8}
secs=${VMMC_APPS_SECS:-2}
t=$(mktemp -d)
# each client gets this long (a hang is a failure, not the end of the run)
lim="timeout -k 5 ${VMMC_APPS_LIMIT:-60}"

# pages DIR: the files nginx serves, the same bytes on both nodes
pages() { app_pages "$1" 1 1000 70000 3000000; }

if [ "${VMMC_NODE:-0}" = 1 ]; then
	po0=$(tcp PassiveOpens) os0=$(tcp OutSegs)
	$pre iperf3 -s -B $srv > "$t/iperf3" 2>&1 &
	$pre sockperf sr --tcp -i $srv -p 11111 > "$t/sockperf" 2>&1 &
	$pre redis-server --bind $srv --port 6379 --save '' --appendonly no \
		--protected-mode no > "$t/redis" 2>&1 &
	mkdir -p "$t/www" && pages "$t/www" && chmod -R a+rX "$t"
	nginx_conf "$t" $srv:8080
	$pre nginx -c "$t/nginx.conf" -e "$t/nginx.err" \
		-g 'daemon off;' > "$t/nginx" 2>&1 &
	# Debian's options (not daemonised, no log file or pid file), on $srv
	$pre memcached $(grep -vE '^(#|-d|logfile|-P|$)' /etc/memcached.conf |
		sed "s/^-l .*/-l $srv/") > "$t/memcached" 2>&1 &
	# node 0 says when it is done (kernel TCP: after its measurements)
	python3 -c 'import socket, sys; s = socket.create_server(("0.0.0.0", int(sys.argv[1]))); s.settimeout(240); c, _ = s.accept(); c.recv(8)' $done_port
	po=$(($(tcp PassiveOpens) - po0)) os=$(($(tcp OutSegs) - os0))
	kill %1 %2 %3 %4 %5 2>/dev/null
	wait
	errs=$(cat "$t/nginx.err" "$t/error.log" "$t/nginx" 2>/dev/null | grep -cE '\[(emerg|alert|crit|error)\]')
	check "node 1: nginx logged no error (a failed setsockopt or sendfile is one): $errs" \
		test "$errs" -eq 0
	grep -hE '\[(emerg|alert|crit|error)\]' "$t/nginx.err" "$t/error.log" 2>/dev/null | head -5 | sed 's/^/# /'
	check "node 1: kernel TCP: one passive open (the harness's done: $po), $os segments out (< 40)" \
		test "$po" -eq 1 -a "$os" -lt 40
	rm -rf "$t"
	tap_end
	exit
fi

# node 0: the clients
trap 'echo done > /dev/tcp/$srv/$done_port 2>/dev/null; rm -rf "$t"' EXIT
wait_port() {	# over VMMC (no fallback to the servers' kernel listeners)
	local i
	for i in $(seq 1 200); do
		$pre VMMC_PRELOAD_FALLBACK=0 python3 -c "import socket, sys; socket.create_connection(('$srv', int(sys.argv[1])), 5).close()" "$1" 2>/dev/null && return 0
		sleep 0.3
	done
	return 1
}
if ! { wait_port 5201 && wait_port 11111 && wait_port 6379 && wait_port 8080 &&
       wait_port 11211; }; then
	nok "servers up on node 1 (over VMMC)"
	tap_end
	exit
fi
ao0=$(tcp ActiveOpens) os0=$(tcp OutSegs) d0=$(nic_data)

for dir in "" -R; do
	$lim $pre iperf3 -c $srv -n ${mb}M -l 128K $dir -J > "$t/ip$dir.json" 2> "$t/ip$dir.err"
	rc=$?
	v=$(python3 - "$t/ip$dir.json" $((mb << 20)) <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    s, r, n = d["end"]["sum_sent"], d["end"]["sum_received"], int(sys.argv[2])
    rev = d["start"]["test_start"]["reverse"]
    # the client's own count is exact (all it sent, or all it received);
    # the server's, cut off at the test's end, never exceeds it
    good = r["bytes"] == n >= s["bytes"] > 0 if rev else s["bytes"] == n >= r["bytes"] > 0
    print(f"sent {s['bytes']} received {r['bytes']} of {n}, {r['bits_per_second'] / 8e6:.1f} MB/s", "ok" if good else "BAD")
except Exception as e:
    print("no result:", e, "BAD")
PY
)
	check "iperf3 ${dir:-forward} ${mb} MiB: exit $rc, $v" test "$rc" -eq 0 -a "${v##* }" = ok
done

$lim $pre sockperf pp --tcp -i $srv -p 11111 -t "$secs" -m 64 > "$t/pp" 2>&1
rc=$?
lat=$(sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' "$t/pp" | tail -1)
bad=$(grep -E '# (dropped|duplicated|out-of-order) messages = [1-9]' "$t/pp")
check "sockperf ping-pong 64 B: exit $rc, avg latency ${lat:-?} us, no message dropped, duplicated or out of order" \
	test "$rc" -eq 0 -a -n "$lat" -a -z "$bad"
$lim $pre sockperf tp --tcp -i $srv -p 11111 -t "$secs" -m 65000 > "$t/tp" 2>&1
rc=$?
mbps=$(sed -n 's/.*BandWidth is \([0-9.]*\) MBps.*/\1/p' "$t/tp" | tail -1)
check "sockperf throughput 65000 B: exit $rc, ${mbps:-?} MB/s" test "$rc" -eq 0 -a -n "$mbps"

python3 "$(dirname "$0")/redis_answers.py" cmds 200 > "$t/cmds"
$lim $pre redis-cli -h $srv < "$t/cmds" > "$t/answers" 2>&1
rc=$?
python3 "$(dirname "$0")/redis_answers.py" check "$t/cmds" "$t/answers" 200
check "redis-cli: 200 SET and 200 GET, every answer as written (exit $rc)" test $? -eq 0 -a "$rc" -eq 0
$lim $pre redis-benchmark -h $srv -t set,get -n 2000 -c 10 -q --csv > "$t/rb" 2>&1
rc=$?
rps=$(python3 -c 'import csv,sys; r={x[0]: x[1] for x in list(csv.reader(open(sys.argv[1])))[1:] if len(x) > 1}; print("SET %.0f/s GET %.0f/s" % (float(r["SET"]), float(r["GET"])))' "$t/rb" 2>/dev/null)
check "redis-benchmark 10 connections, 2000 SET + 2000 GET: exit $rc, ${rps:-no result}" \
	test "$rc" -eq 0 -a -n "$rps"
$lim $pre redis-cli -h $srv info commandstats > "$t/stats" 2>&1
calls() { sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" "$t/stats" | tr -d '\r'; }
val=$($lim $pre redis-cli -h $srv get key:__rand_int__ 2>&1)
check "redis counted every command exactly (set $(calls set), get $(calls get): 2200 each) and the benchmark's 3-byte value reads back ($val)" \
	test "$(calls set)" = 2200 -a "$(calls get)" = 2200 -a "${#val}" -eq 3

# nginx: the four files on one connection, then the largest on its own
mkdir -p "$t/want" "$t/got" && pages "$t/want"
urls=() outs=()
for sz in 1 1000 70000 3000000; do
	urls+=("http://$srv:8080/f$sz") outs+=(-o "$t/got/f$sz")
done
s0=$(date +%s.%N)
$lim $pre curl -sS --fail "${urls[@]}" "${outs[@]}" > "$t/curl" 2>&1
rc=$?
$lim $pre curl -sS --fail "http://$srv:8080/f3000000" -o "$t/got/again" >> "$t/curl" 2>&1
rc2=$?
secs_ngx=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$s0")
sums() { (cd "$1" && sha256sum f1 f1000 f70000 f3000000); }
same=$(sums "$t/want" | cmp -s - <(sums "$t/got") && cmp -s "$t/want/f3000000" "$t/got/again" && echo yes)
check "nginx (stock nginx.conf, sendfile and tcp_nopush on) to curl: 1 B, 1000 B, 70000 B, 3 MB on one connection and 3 MB again: exit $rc $rc2 in $secs_ngx s, sha256 of every body as served: ${same:-DIFFERENT}" \
	test "$rc" -eq 0 -a "$rc2" -eq 0 -a "$same" = yes
[ "$same" = yes ] || sed 's/^/# /' "$t/curl"

mc=$($lim $pre python3 "$(dirname "$0")/memcache_check.py" $srv 11211 4 12 2>&1)
check "memcached (Debian's memcached.conf, 4 threads): 4 connections at once, 48 values of 1 B to 500 KB set and read back byte for byte over VMMC: $mc" \
	test "${mc%% *}" = ok -a "$(grep -o '0x4d56' <<< "$mc" | wc -l)" -eq 4

ao=$(($(tcp ActiveOpens) - ao0)) os=$(($(tcp OutSegs) - os0)) d=$(($(nic_data) - d0))
check "over VMMC: node 0's NIC data bytes moved $d (>= $((2 * mb << 20)) + 6071001, iperf3's and nginx's bodies alone)" \
	test "$d" -ge $(((2 * mb << 20) + 6071001))
check "kernel TCP on node 0 did not: $ao active opens (0), $os segments out (< 40)" \
	test "$ao" -eq 0 -a "$os" -lt 40
tap_end

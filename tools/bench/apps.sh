#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unmodified programs from Debian between two nodes, each with its own
# check of correctness: iperf3 (both directions, a fixed byte count: the
# receiving client must count exactly that many; the receiving server, cut
# off when the client finishes writing, never more), sockperf ping-pong
# and throughput
# (no dropped, duplicated or reordered message), redis-server with
# redis-benchmark and redis-cli (every GET answers the value its SET
# wrote), nginx (Debian's nginx.conf) and Apache (Debian's apache2.conf
# with mpm_prefork: selftests/app_conf.sh) with ab (a 1000 B and a 1 MB
# body fetched with curl and compared first; ab's failed requests 0):
# a connection per request, 4 at once; keep-alive one at a time; 1 MB
# bodies), memcached (Debian's memcached.conf) with memcaslap (1000 B
# values, 9 GETs to a SET, every value read back verified). Node 1 runs
# the servers, node 0 the clients.
#
#   tools/bench/apps.sh [SECONDS] [TRANSPORT ...]
#
# TRANSPORT is "tcp" (kernel TCP over virtio-net between the guests; the
# default), "vmmc" (the same programs under the LD_PRELOAD shim,
# build/ulib/libvmmc-preload.so, receiving by zero-copy where it can),
# "vmmccopy" (the same with zero-copy receive off: VMMC_SOCK_ZC_MIN=0)
# or "raw" (no program: libvmmc's own
# sockets with no shim, vmmc_sockperf, in the rows it can fill: half its
# 64 B round trip beside sockperf's latency, its streams of 64 KiB,
# 256 KiB and 1 MiB sends beside sockperf's and iperf3's throughput with
# writes of that size: iperf3 runs with -l 64K, 256K and 1M, and with
# 256K in reverse). Each transport's
# numbers are printed in one table at the end, side by side; the ratio
# column compares the first two (how many times better the second is).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
secs=${1:-3}
shift || true
transports=("${@:-tcp}")
case $secs in ''|*[!0-9]*) echo "apps.sh: SECONDS: a number" >&2; exit 2;; esac
b=$top/build
preload=$b/ulib/libvmmc-preload.so
res=$b/run/apps.$$
mkdir -p "$res"

for t in "${transports[@]}"; do
	case $t in
	tcp) ;;
	vmmc|vmmccopy) [ -f "$preload" ] || { echo "apps.sh: $preload not built yet" >&2; exit 2; } ;;
	raw) ;;
	*) echo "apps.sh: unknown transport $t" >&2; exit 2 ;;
	esac
done

# node 0: every client, under each transport; results as key=value lines
cat > "$res/client.sh" <<EOF
set -u
insmod $b/vmmc.ko 2>/dev/null
out=$res/client
: > \$out
. $top/selftests/app_conf.sh
want=\$(mktemp -d)
app_pages \$want 1000 1000000
# over the transport under test (a VMMC listener has no kernel port)
wait_port() { for i in \$(seq 1 300); do \$pre python3 -c "import socket, sys; socket.create_connection(('10.77.0.2', int(sys.argv[1])), 5).close()" \$1 2>/dev/null && return 0; sleep 0.2; done; return 1; }
fail() { echo "FAIL \$*"; echo "fail=\$*" >> \$out; }
# the next transport: node 1 waits for a line on 7801 once it has started
# this one's servers, which may be later than this side is done with them
next_stage() { for i in \$(seq 1 300); do { echo next > /dev/tcp/10.77.0.2/7801; } 2>/dev/null && return 0; sleep 0.2; done; fail "node 1 did not take next"; }
for t in ${transports[*]}; do
	pre=""
	[ \$t = vmmc ] && pre="env LD_PRELOAD=$preload VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1"
	[ \$t = vmmccopy ] && pre="env LD_PRELOAD=$preload VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1 VMMC_SOCK_ZC_MIN=0"
	if [ \$t = raw ]; then
		# its kernel TCP port up (node 1 starts it when the last
		# transport's servers have gone), then its VMMC one too
		wait_port 7000 || fail "raw: vmmc_sockperf server not up"
		sleep 1
		if $b/tools/bench/vmmc_sockperf client -n 1 -a 10.77.0.2 -c 1000 -m $((secs * 4)) > $res/raw.sockperf 2>&1; then
			awk '/ping-pong RTT/ { printf "raw.sockperf_pp_us=%.1f\\n", \$(NF - 1) / 2 }
			     /stream +64 KiB/ { printf "raw.sockperf_tp_MBps=%s\\nraw.iperf3_64K_MBps=%s\\n", \$(NF - 1), \$(NF - 1) }
			     /stream +256 KiB/ { printf "raw.iperf3_256K_MBps=%s\\nraw.iperf3_256K_reverse_MBps=%s\\n", \$(NF - 1), \$(NF - 1) }
			     /stream +1024 KiB/ { printf "raw.iperf3_1M_MBps=%s\\n", \$(NF - 1) }' $res/raw.sockperf >> \$out
		else
			fail "raw: vmmc_sockperf exit"
		fi
		next_stage
		sleep 1
		continue
	fi
	wait_port 5201 && wait_port 11111 && wait_port 6379 && wait_port 8080 &&
		wait_port 80 && wait_port 11211 || { fail "\$t: servers not up"; continue; }
	# iperf3: 64 KiB, 256 KiB and 1 MiB writes; 256 KiB the other way too
	for run in 64K: 256K: 1M: 256K:-R; do
		len=\${run%%:*} dir=\${run#*:}
		name=iperf3_\$len\${dir:+_reverse}
		if \$pre iperf3 -c 10.77.0.2 -n $((secs * 8))M -l \$len \$dir -J > $res/\$t.\$name.json 2> $res/\$t.\$name.err; then
			python3 - "$res/\$t.\$name.json" "\$t" "\$name" $((secs * 8 << 20)) >> \$out <<'PY' || fail "\$t: \$name check"
import json, sys
d = json.load(open(sys.argv[1]))
s, r = d["end"]["sum_sent"], d["end"]["sum_received"]
# -n is "at least" (iperf3 may send a block more, as it did once over
# kernel TCP at 64 KiB); reverse: the client receives and counts to the
# end; forward: the test ends when the client has written them all,
# before the server has read the last ones: never more than were sent
n, blk = int(sys.argv[4]), d["start"]["test_start"]["blksize"]
if d["start"]["test_start"]["reverse"]:
    ok = n <= r["bytes"] <= n + 16 * blk
else:
    ok = 0 < r["bytes"] <= s["bytes"] and n <= s["bytes"] <= n + 16 * blk
print(f"{sys.argv[2]}.{sys.argv[3]}_MBps={r['bits_per_second'] / 8e6:.1f}")
print(f"{sys.argv[2]}.{sys.argv[3]}_check={'ok' if ok else 'BYTES-DIFFER'}")
sys.exit(0 if ok else 1)
PY
		else
			fail "\$t: \$name exit"
		fi
	done
	# sockperf ping-pong (64 B) and throughput (65000 B: its largest)
	if \$pre sockperf pp --tcp -i 10.77.0.2 -p 11111 -t $secs -m 64 > $res/\$t.pp 2>&1; then
		lat=\$(sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' $res/\$t.pp | tail -1)
		bad=\$(grep -E '# (dropped|duplicated|out-of-order) messages = [1-9]' $res/\$t.pp)
		echo "\$t.sockperf_pp_us=\${lat:-?}" >> \$out
		[ -n "\$lat" ] && [ -z "\$bad" ] && echo "\$t.sockperf_pp_check=ok" >> \$out || fail "\$t: sockperf pp: \${bad:-no latency}"
	else
		fail "\$t: sockperf pp exit"
	fi
	if \$pre sockperf tp --tcp -i 10.77.0.2 -p 11111 -t $secs -m 65000 > $res/\$t.tp 2>&1; then
		mbps=\$(sed -n 's/.*BandWidth is \([0-9.]*\) MBps.*/\1/p' $res/\$t.tp | tail -1)
		echo "\$t.sockperf_tp_MBps=\${mbps:-?}" >> \$out
	else
		fail "\$t: sockperf tp exit"
	fi
	# redis: answers checked, then the benchmark
	python3 $top/selftests/redis_answers.py cmds 2000 > $res/\$t.redis.cmds
	if \$pre redis-cli -h 10.77.0.2 < $res/\$t.redis.cmds > $res/\$t.redis.out 2>&1 &&
	   python3 $top/selftests/redis_answers.py check $res/\$t.redis.cmds $res/\$t.redis.out 2000
	then
		echo "\$t.redis_check=ok" >> \$out
	else
		fail "\$t: redis answers differ"
	fi
	if \$pre redis-benchmark -h 10.77.0.2 -t set,get -n 20000 -c 20 -q --csv > $res/\$t.rb 2>&1; then
		python3 - $res/\$t.rb \$t >> \$out <<'PY' || fail "\$t: redis-benchmark output"
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
got = {r[0]: r[1] for r in rows[1:] if len(r) > 1}
for k in ("SET", "GET"):
    print(f"{sys.argv[2]}.redis_{k.lower()}_rps={float(got[k]):.0f}")
PY
	else
		fail "\$t: redis-benchmark exit"
	fi
	# nginx and Apache: two bodies checked, then ab three ways
	for web in nginx:8080 apache:80; do
		name=\${web%%:*} url=http://10.77.0.2:\${web#*:}
		good=ok
		for f in f1000 f1000000; do
			\$pre curl -sS --fail \$url/\$f -o $res/\$t.\$name.\$f &&
				cmp -s \$want/\$f $res/\$t.\$name.\$f || good=BODIES-DIFFER
		done
		echo "\$t.\${name}_check=\$good" >> \$out
		[ \$good = ok ] || fail "\$t: \$name bodies differ"
		ab="\$pre ab -q -t $secs -n 1000000"
		\$ab -c 4 \$url/f1000 > $res/\$t.\$name.conn 2>&1 || fail "\$t: \$name ab -c 4 exit"
		\$ab -k -c 1 \$url/f1000 > $res/\$t.\$name.ka 2>&1 || fail "\$t: \$name ab -k exit"
		\$ab -k -c 1 \$url/f1000000 > $res/\$t.\$name.big 2>&1 || fail "\$t: \$name ab -k 1 MB exit"
		python3 - $res/\$t.\$name \$t \$name >> \$out <<'PY' || fail "\$t: \$name ab: failed requests"
import re, sys
base, t, name = sys.argv[1:]
def ab(run):
    text = open(f"{base}.{run}").read()
    num = lambda pat: float(re.search(pat, text).group(1))
    bad = num(r"Failed requests:\s+(\d+)") + (num(r"Non-2xx responses:\s+(\d+)") if "Non-2xx" in text else 0)
    return num, bad
try:
    (c, b1), (k, b2), (g, b3) = ab("conn"), ab("ka"), ab("big")
    rps = c(r"Requests per second:\s+([0-9.]+)")
    us = k(r"Time per request:\s+([0-9.]+)") * 1000
    mbps = g(r"Transfer rate:\s+([0-9.]+)") / 1024
except (AttributeError, OSError):
    sys.exit(1)
print(f"{t}.{name}_conn_rps={rps:.0f}")
print(f"{t}.{name}_ka_us={us:.0f}")
print(f"{t}.{name}_1M_MBps={mbps:.1f}")
sys.exit(1 if b1 + b2 + b3 else 0)
PY
	done
	# memcached: 1000 B values, 4 at once then one at a time, all verified
	for c in 4 1; do
		\$pre memcaslap -s 10.77.0.2:11211 -T 1 -c \$c -t ${secs}s -X 1000 -v 1 > $res/\$t.mc\$c 2>&1 ||
			fail "\$t: memcaslap -c \$c exit"
	done
	python3 - $res/\$t.mc \$t >> \$out <<'PY' || fail "\$t: memcached: values differ"
import re, sys
base, t = sys.argv[1:]
try:
    tx = [open(f"{base}{c}").read() for c in (4, 1)]
    tps = [float(re.search(r"TPS: (\d+)", x).group(1)) for x in tx]
    bad = sum(int(re.search(r"verify_failed: (\d+)", x).group(1)) for x in tx)
except (AttributeError, OSError):
    sys.exit(1)
print(f"{t}.memcached_ops={tps[0]:.0f}")
print(f"{t}.memcached_us={1e6 / tps[1]:.0f}")
print(f"{t}.memcached_check={'ok' if not bad else 'VALUES-DIFFER'}")
sys.exit(1 if bad else 0)
PY
	# servers restart between transports (node 1 loops)
	next_stage
	sleep 1
done
EOF

# node 1: the servers, started again for each transport
cat > "$res/server.sh" <<EOF
insmod $b/vmmc.ko 2>/dev/null
. $top/selftests/app_conf.sh
for t in ${transports[*]}; do
	pre=""
	[ \$t = vmmc ] && pre="env LD_PRELOAD=$preload VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1"
	[ \$t = vmmccopy ] && pre="env LD_PRELOAD=$preload VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1 VMMC_SOCK_ZC_MIN=0"
	if [ \$t = raw ]; then
		$b/tools/bench/vmmc_sockperf server > $res/server.raw 2>&1 &
		python3 -c 'import socket; s = socket.create_server(("0.0.0.0", 7801)); s.settimeout(900); c, _ = s.accept(); c.recv(8)'
		kill %1 2>/dev/null; wait
		continue
	fi
	\$pre iperf3 -s -B 10.77.0.2 > $res/server.\$t.iperf3 2>&1 &
	\$pre sockperf sr --tcp -i 10.77.0.2 -p 11111 > $res/server.\$t.sockperf 2>&1 &
	\$pre redis-server --bind 10.77.0.2 --port 6379 --save '' --appendonly no \
		--protected-mode no --daemonize no > $res/server.\$t.redis 2>&1 &
	d=\$(mktemp -d)
	mkdir \$d/www && app_pages \$d/www 1000 1000000 && chmod -R a+rX \$d
	nginx_conf \$d 10.77.0.2:8080
	\$pre nginx -c \$d/nginx.conf -e \$d/nginx.err -g 'daemon off;' > $res/server.\$t.nginx 2>&1 &
	apache_conf \$d
	(apache_run \$d \$pre > $res/server.\$t.apache 2>&1) &
	\$pre memcached \$(grep -vE '^(#|-d|logfile|-P|\$)' /etc/memcached.conf |
		sed "s/^-l .*/-l 10.77.0.2/") > $res/server.\$t.memcached 2>&1 &
	python3 -c 'import socket; s = socket.create_server(("0.0.0.0", 7801)); s.settimeout(900); c, _ = s.accept(); c.recv(8)'
	# at most 10 s for the servers to go, then SIGKILL, with their names:
	# a server that outlived SIGTERM held node 1 here in 2 of 8 runs
	kill %1 %2 %3 %4 %5 %6 2>/dev/null
	for i in \$(seq 1 50); do [ -z "\$(jobs -rp)" ] && break; sleep 0.2; done
	left=\$(jobs -rp)
	if [ -n "\$left" ]; then
		echo "apps.sh: \$t servers still up 10 s after SIGTERM: \$(ps -o pid=,args= -p "\$(echo \$left | tr ' ' ,)" | tr '\\n' ';')" >&2
		pkill -9 -P "\$(echo \$left | tr ' ' ,)" 2>/dev/null
		kill -9 \$left 2>/dev/null
	fi
	wait
	rm -rf \$d
done
EOF

tools/vm/vmrun -n 2 --timeout 1200 \
	--node-cmd "0=bash $res/client.sh; rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; exit \$rc" \
	--node-cmd "1=bash $res/server.sh & python3 selftests/barrier.py wait; exit 0" \
	-- true > "$res/vmrun.log" 2>&1
vrc=$?

python3 - "$res/client" "${transports[@]}" <<'PY'
import sys
kv = {}
for line in open(sys.argv[1]):
    if "=" in line:
        k, v = line.strip().split("=", 1)
        kv.setdefault(k, v)
ts = sys.argv[2:]
rows = [("iperf3 -l 64K, MB/s", "iperf3_64K_MBps"),
        ("iperf3 -l 256K, MB/s", "iperf3_256K_MBps"),
        ("iperf3 -l 1M, MB/s", "iperf3_1M_MBps"),
        ("iperf3 -R -l 256K, MB/s", "iperf3_256K_reverse_MBps"),
        ("sockperf ping-pong 64 B, us", "sockperf_pp_us"),
        ("sockperf throughput 65000 B, MB/s", "sockperf_tp_MBps"),
        ("redis SET req/s", "redis_set_rps"), ("redis GET req/s", "redis_get_rps"),
        ("nginx 1000 B conn each x4, req/s", "nginx_conn_rps"),
        ("nginx 1000 B keep-alive, us", "nginx_ka_us"),
        ("nginx 1 MB keep-alive, MB/s", "nginx_1M_MBps"),
        ("Apache 1000 B conn each x4, req/s", "apache_conn_rps"),
        ("Apache 1000 B keep-alive, us", "apache_ka_us"),
        ("Apache 1 MB keep-alive, MB/s", "apache_1M_MBps"),
        ("memcached 1000 B x4, ops/s", "memcached_ops"),
        ("memcached 1000 B round trip, us", "memcached_us")]
names = {"tcp": "kernel TCP", "vmmc": "VMMC (shim)", "vmmccopy": "shim, copy",
         "raw": "libvmmc"}
print("%-34s" % "program" + "".join("%14s" % names.get(t, t) for t in ts) + ("%10s" % "ratio" if len(ts) > 1 else ""))
for title, key in rows:
    vals = [kv.get(f"{t}.{key}", "-") for t in ts]
    line = "%-34s" % title + "".join("%14s" % v for v in vals)
    if len(ts) > 1:
        try:
            a, b = float(vals[0]), float(vals[1])
            r = a / b if key.endswith("_us") else b / a
            line += "%9.2fx" % r
        except ValueError:
            line += "%10s" % "-"
    print(line)
checks = [k for k in kv if k.endswith("_check")]
print("checks: " + ", ".join(f"{k}={kv[k]}" for k in sorted(checks)))
if "raw" in ts:
    print("(libvmmc: vmmc_sockperf, no program and no shim: half its 64 B round trip; its streams of 64 KiB, 256 KiB and 1 MiB sends in the rows of that size)")
fails = [v for k, v in kv.items() if k == "fail"]
sys.exit(1 if fails else 0)
PY
prc=$?
grep -h '^FAIL\|^fail=' "$res/client" 2>/dev/null
[ "$vrc" -eq 0 ] && [ "$prc" -eq 0 ] || { echo "apps.sh: failed; logs in $res"; exit 1; }
echo "logs: $res"

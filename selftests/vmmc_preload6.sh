#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# IPv6 and dual stack under the LD_PRELOAD shim, between two nodes (node
# i is 10.77.0.(i+1) and fd00::(i+1), both in the map). Node 1 serves
# (preload6.py srv): an AF_INET6 listener on :: that is dual stack, one
# that is IPV6_V6ONLY, and iperf3 -s on its default :: (dual stack), all
# over VMMC (VMMC_BIND_ANY=1). Node 0 connects to each by IPv4, by IPv6
# and by IPv4-mapped IPv6 (preload6.py cli): 64 KiB echoed byte for byte,
# the addresses each side's accept, getsockname and getpeername give
# are the kernel's (::ffff:a.b.c.d for IPv4 peers of an AF_INET6
# socket), the IPv6-only listener refuses IPv4 (ECONNREFUSED) and an
# IPV6_V6ONLY client cannot reach an IPv4-mapped address (ENETUNREACH,
# from the kernel); then iperf3 -6 and iperf3 -4 against the same
# server, byte counts exact. Then that it went over VMMC: node 0's NIC
# data counters moved by at least those bytes, kernel TCP did not.
set -u
. "$(dirname "$0")/tap.sh"
b=$tap_top/build
py=$(dirname "$0")/preload6.py
pre="env LD_PRELOAD=$b/ulib/libvmmc-preload.so VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1,fd00::1=0,fd00::2=1"
v4=10.77.0.2 v6=fd00::2 dual=7821 only=7822 ip3=5211 done_port=7804
mb=4
t=$(mktemp -d)
lim="timeout -k 5 ${VMMC_APPS_LIMIT:-60}"

if ! ip -6 addr show dev eth0 | grep -q "fd00::$((${VMMC_NODE:-0} + 1))/64"; then
	nok "eth0 has fd00::$((${VMMC_NODE:-0} + 1))/64 (tools/vm/init)"
	tap_end
	exit
fi

if [ "${VMMC_NODE:-0}" = 1 ]; then
	po0=$(tcp PassiveOpens)
	VMMC_BIND_ANY=1 $pre python3 "$py" srv $dual $only > "$t/srv" 2>&1 &
	VMMC_BIND_ANY=1 $pre iperf3 -s -p $ip3 > "$t/iperf3" 2>&1 &
	python3 -c 'import socket, sys; s = socket.create_server(("0.0.0.0", int(sys.argv[1]))); s.settimeout(240); c, _ = s.accept(); c.recv(8)' $done_port
	po=$(($(tcp PassiveOpens) - po0))
	kill %1 %2 2>/dev/null
	wait
	check "node 1: the dual-stack listener: $(sed -n "s/^port $dual: //p" "$t/srv")" \
		grep -qx "port $dual: :: v6only 0 (set 0), set after bind: EINVAL" "$t/srv"
	check "node 1: the IPv6-only listener: $(sed -n "s/^port $only: //p" "$t/srv")" \
		grep -qx "port $only: :: v6only 1 (set 1), set after bind: EINVAL" "$t/srv"
	check "node 1: no error from the servers" test -z "$(grep -i -e error -e traceback "$t/srv")"
	check "node 1: kernel TCP: one passive open (the harness's done: $po)" test "$po" -eq 1
	rm -rf "$t"
	tap_end
	exit
fi

# node 0: the clients
trap 'echo done > /dev/tcp/$v4/$done_port 2>/dev/null; rm -rf "$t"' EXIT
up=
for i in $(seq 1 200); do
	$pre python3 -c "import socket, sys; [socket.create_connection(('$v6', p), 5).close() for p in map(int, sys.argv[1:])]" $dual $only $ip3 2>/dev/null && up=1 && break
	sleep 0.3
done
if [ -z "$up" ]; then
	nok "servers up on node 1 (over VMMC)"
	tap_end
	exit
fi
ao0=$(tcp ActiveOpens) os0=$(tcp OutSegs) d0=$(nic_data)

# cli FAMILY ADDR PORT [v6only] WANT: the client's line is WANT
cli() {
	local want=${*: -1} got
	got=$($lim $pre python3 "$py" cli "${@:1:$#-1}" 2>&1)
	check "${*:1:$#-1}: $got" test "$got" = "$want"
}
m4=::ffff:10.77.0
cli 4 $v4 $dual "ok $m4.1 $m4.2 10.77.0.1 10.77.0.2"
cli 6 $v6 $dual "ok fd00::1 fd00::2 fd00::1 fd00::2"
cli 6 $m4.2 $dual "ok $m4.1 $m4.2 $m4.1 $m4.2"
cli 6 $v6 $only "ok fd00::1 fd00::2 fd00::1 fd00::2"
cli 4 $v4 $only "err ECONNREFUSED"
cli 6 $m4.2 $only "err ECONNREFUSED"
cli 6 $m4.2 $dual v6only "err ENETUNREACH"

for a in "-6 -c $v6" "-4 -c $v4"; do
	# shellcheck disable=SC2086 # $a: options
	$lim $pre iperf3 $a -p $ip3 -n ${mb}M -l 128K -J > "$t/ip.json" 2> "$t/ip.err"
	rc=$?
	v=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); s = d["end"]["sum_sent"]; n = int(sys.argv[2])
print(d["start"]["connected"][0]["remote_host"], s["bytes"], "of", n, "ok" if s["bytes"] == n else "BAD")' "$t/ip.json" $((mb << 20)) 2>&1 | tail -1)
	check "iperf3 $a to its server on :: (dual stack): exit $rc, sent $v" \
		test "$rc" -eq 0 -a "${v##* }" = ok
done

ao=$(($(tcp ActiveOpens) - ao0)) os=$(($(tcp OutSegs) - os0))
d=$(($(nic_data) - d0)) want=$(((2 * mb << 20) + (8 << 16)))
check "over VMMC: node 0's NIC data bytes moved $d (>= $want: iperf3's and the echoes)" \
	test "$d" -ge $want
check "kernel TCP on node 0 did not: $ao active opens (0), $os segments out (< 40)" \
	test "$ao" -eq 0 -a "$os" -lt 40
tap_end

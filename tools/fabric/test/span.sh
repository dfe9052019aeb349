#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# span.sh - two vmmc-fabric processes joined over UDP (tools/fabric/WIRE.md)
#
# Contract: needs $O (vmmc-fabric, fabric-fake-guest, fabric-udp-poke);
# FG_SPAN_N messages in the loopback run (default 100000). Checks, as TAP:
# cluster files and options that must be refused; on IPv4 loopback, the
# datagrams a fabric must drop (from a stranger, malformed, another
# cluster, bad CRC, stale boot epochs, wrong route), counted exactly; the
# messages node0 (fabric A) -> node1 (fabric B) under faults injected on
# both, through a burst of heavy loss and reordering and each fabric
# stopped (SIGSTOP) for 0.6 x the dead-peer time, no peer declared dead;
# B killed (NODE_DOWN at A in time) and restarted (rejoined); then,
# as root with ip(8), the same traffic over IPv6 between two network
# namespaces joined by a veth pair (MTU 1500: no datagram too large),
# with the malformed datagrams forged from B's own address and port by
# a raw socket in B's namespace while B runs: counted exactly, and the
# export they aim at unchanged.
# With tshark, the first 3000 datagrams of the loopback run are captured
# and decoded with the Lua dissector tools/fabric/vmmc-wire.lua.
# Temporary files in /tmp and /dev/shm and the namespaces are removed on
# exit. Exits non-zero if anything failed.

set -u
: "${O:?O must name the build directory}"
FABRIC=$O/vmmc-fabric
GUEST=$O/fabric-fake-guest
POKE=$O/fabric-udp-poke
RAMBYTES=$((64 << 20))
RUN=$(mktemp -d /tmp/vmmc-span-test.XXXXXX)
RAM0=/dev/shm/vmmc-span-test-$$-0
RAM1=/dev/shm/vmmc-span-test-$$-1
PORT=$((20000 + $$ % 20000))
NSA=vmmc-span-a-$$
NSB=vmmc-span-b-$$
APID=
BPID=
TPID=
NETNS=
fail=0
n=0

cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	b=$(cat "$RUN/b/fabric.pid" 2>/dev/null) && kill "$b" 2>/dev/null
	if [ -n "$NETNS" ]; then
		ip netns del "$NSA" 2>/dev/null
		ip netns del "$NSB" 2>/dev/null
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$RUN"
	rm -f "$RAM0" "$RAM1"
}
trap cleanup EXIT INT TERM

. "$(dirname "$0")/lib.sh"

truncate -s $RAMBYTES "$RAM0" "$RAM1"
mkdir "$RUN/a" "$RUN/b"
NODE0="--node 0,$RUN/a/n0.sock,$RAM0,$RAMBYTES"
NODE1="--node 1,$RUN/b/n1.sock,$RAM1,$RAMBYTES"
FAULTS="all:drop=0.2,dup=0.2,reorder=0.2,corrupt=0.2,delay=0.2,delay-us=500"
DEAD_MS=1000

cluster() {	# cluster FILE ADDR-A PORT-A ADDR-B PORT-B
	cat >"$1" <<-EOF
	# two fabrics, one node each
	fabric A $2 $3
	fabric B $4 $5
	node 1 B
	node 0 A
	EOF
}

refused() {	# refused DESCRIPTION FILE-CONTENT ARGS...: exit 2
	what=$1
	printf '%s\n' "$2" >"$RUN/bad.cluster"
	shift 2
	"$FABRIC" --run-dir "$RUN/a" --cluster "$RUN/bad.cluster" "$@" \
		>/dev/null 2>"$RUN/bad.err"
	[ $? -eq 2 ] && [ -s "$RUN/bad.err" ]
	check $? "refused with exit 2 and a message: $what"
}

# --- cluster descriptions and options that do not fit
GOOD="fabric A 127.0.0.1 $PORT
fabric B 127.0.0.1 $((PORT + 1))
node 0 A
node 1 B"
refused "a node id missing" "fabric A 127.0.0.1 $PORT
node 1 A" --fabric A $NODE1
refused "a node of no fabric" "fabric A 127.0.0.1 $PORT
node 0 C" --fabric A $NODE0
refused "a host name, not an address" "fabric A localhost $PORT
node 0 A" --fabric A $NODE0
refused "IPv4 and IPv6 fabrics" "fabric A 127.0.0.1 $PORT
fabric B ::1 $PORT
node 0 A" --fabric A $NODE0
refused "an MTU below 1280" "fabric A 127.0.0.1 $PORT mtu=1000
node 0 A" --fabric A $NODE0
refused "--fabric not in the file" "$GOOD" --fabric C $NODE0
refused "--node for a node of another fabric" "$GOOD" --fabric A $NODE0 $NODE1
refused "no --node for a node of this fabric" "$GOOD" --fabric B $NODE0

# --- IPv4 loopback: what a fabric drops
cluster "$RUN/c4" 127.0.0.1 $PORT 127.0.0.1 $((PORT + 1))
if command -v tshark >/dev/null && [ "$(id -u)" -eq 0 ]; then
	# the first 3000 datagrams between the two fabrics, and probes to
	# a third port until one shows: then the capture is on
	tshark -l -P -i lo -w "$RUN/wire.pcapng" -c 3000 \
		-f "udp port $PORT or udp port $((PORT + 1)) or udp port $((PORT + 2))" \
		>"$RUN/tshark.log" 2>&1 &
	TPID=$!
	i=0
	while ! grep -q "$((PORT + 2)) Len=5" "$RUN/tshark.log" && [ $i -lt 200 ]; do
		"$POKE" probe 127.0.0.1 $((PORT + 2))
		sleep 0.1
		i=$((i + 1))
	done
fi
"$FABRIC" --run-dir "$RUN/a" --cluster "$RUN/c4" --fabric A $NODE0 \
	--fault "$FAULTS" --dead-ms $DEAD_MS --seed $$ -v --log "$RUN/a.log" &
APID=$!
wait_for "$RUN/a/n0.sock" "$RUN/a/fabric.pid"
check $? "fabric A (node0) of a two-fabric cluster: socket and fabric.pid created"
HASH=$("$FABRIC" ctl "$RUN/a" show | awk '$1 == "cluster" { print $6 }')
"$POKE" stranger 127.0.0.1 $PORT "$HASH" &&
	"$POKE" bad 127.0.0.1 $PORT "$HASH" 127.0.0.1 $((PORT + 1))
check $? "hand-made datagrams sent to fabric A (cluster hash $HASH)"
sleep 0.2
"$FABRIC" ctl "$RUN/a" show >"$RUN/show"
grep -q "^udp rx 1 .* hellos_rx 1 .* short 1 bad_header 2 unknown_sender 1 bad_cluster 1 bad_crc 2 stale_boot 2 bad_route 2 node_dead 0 restarts 0 " "$RUN/show"
check $? "dropped and counted: a valid DATA from an unknown port, a short one, bad magic and version, another cluster's hash, a bad CRC and len, stale boot epochs, wrong routes"
grep -A1 "^link 1-0 " "$RUN/show" | grep -q "sent 0 .* rx_bad 1 "
check $? "... the one that passed them (a bad packet CRC) dropped by the link layer"
[ $? -eq 0 ] || sed 's/^/    # /' "$RUN/show" | grep -v "# link [02-9]"

# --- IPv4 loopback: traffic under faults, B killed and restarted
BCMD="$FABRIC --run-dir $RUN/b --cluster $RUN/c4 --fabric B $NODE1 --fault $FAULTS --dead-ms $DEAD_MS --seed $(($$ + 1)) -v --log $RUN/b.log"
$BCMD &
BPID=$!
wait_for "$RUN/b/n1.sock" "$RUN/b/fabric.pid"
check $? "fabric B (node1): socket and fabric.pid created"
FG_SPAN=${FG_SPAN_N:-100000} FG_DEAD_MS=$DEAD_MS \
	FG_SPAN_PIDFILE=$RUN/b/fabric.pid FG_SPAN_RESTART="$BCMD &" \
	FG_SPAN_CTL=$RUN/a/fabric.ctl FG_SPAN_CTL_B=$RUN/b/fabric.ctl \
	FG_SPAN_FAULTS=$FAULTS \
	"$GUEST" "$RUN/a/n0.sock" "$RAM0" "$RUN/b/n1.sock" "$RAM1" \
	$RAMBYTES $APID >"$RUN/span.tap" 2>&1
grc=$?
BPID=
sub_tap $grc "$RUN/span.tap" "two fabrics"
wait $APID
frc=$?
APID=
check $frc "fabric A exits 0 once its guest has disconnected (rc $frc)"
b=$(cat "$RUN/b/fabric.pid" 2>/dev/null)
i=0
while [ -n "$b" ] && kill -0 "$b" 2>/dev/null && [ $i -lt 500 ]; do
	sleep 0.02
	i=$((i + 1))
done
[ ! -e "$RUN/b/fabric.pid" ]
check $? "the restarted fabric B exits too"
[ "$(grep -c 'fabric B restarted' "$RUN/a.log")" -eq 2 ] &&
	grep -q "^fabric: udp .* bad_crc 2 .* restarts 2 " "$RUN/a.log"
check $? "fabric A saw B's boot epoch change twice (the poke's, then the restart) and counted it"
[ $grc -ne 0 ] && tail -40 "$RUN/a.log" | sed 's/^/    # A: /'
[ $grc -ne 0 ] && tail -20 "$RUN/b.log" | sed 's/^/    # B: /'

# --- the Lua dissector on what was captured
if [ -n "$TPID" ]; then
	kill "$TPID" 2>/dev/null	# if it has not seen 3000 yet
	wait "$TPID"
	TPID=
	tshark -r "$RUN/wire.pcapng" -X "lua_script:$(dirname "$0")/../vmmc-wire.lua" \
		-Y vmmcw -T fields -e vmmcw.sender -e vmmcw.kind \
		-e vmmcw.pkt.type -e vmmcw.crc_ok -e ip.len -e vmmcw.pkt.crc_ok \
		>"$RUN/wire.txt" 2>"$RUN/tshark.err"
	check $? "tshark reads its capture with vmmc-wire.lua ($(wc -l <"$RUN/wire.txt") datagrams)"
	# sender kind type crc_ok ip.len pkt.crc_ok; crc_ok: 1/0 or True/False
	awk -F'\t' '
		$2 == 2 { hello[$1] = 1 }
		$2 == 1 { type[$3] = 1 }
		$4 == 0 || $4 == "False" { bad++ }
		$6 == 0 || $6 == "False" { pbad++ }
		$6 == 1 || $6 == "True" { pgood++ }
		$5 > 1500 { big++ }
		END {
			ok = hello[0] && hello[1] && bad == 1 && !big &&
			     pbad >= 1 && pgood > 1000
			for (t = 3; t <= 7; t++)
				ok = ok && type[t]
			exit !ok
		}' "$RUN/wire.txt"
	check $? "... HELLOs of both fabrics; DATA, DATA_RESP, IMPORT_REQ, IMPORT_RESP, ACK decoded; the one bad datagram CRC flagged, link packet CRCs checked (the poke's bad one and corrupted copies flagged); none above 1500 bytes" ||
		awk -F'\t' '{ print "    # sender " $1 " kind " $2 " type " $3 " crc_ok " $4 " pkt.crc_ok " $6 " ip.len " ($5 > 1500 ? "> 1500" : "<= 1500") }' \
			"$RUN/wire.txt" | sort | uniq -c
else
	n=$((n + 1))
	echo "ok $n # SKIP the dissector (needs tshark, and root to capture)"
fi

# --- IPv6 between two network namespaces joined by a veth pair
VA=vsa$$
VB=vsb$$
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null &&
	ip netns add "$NSA" 2>/dev/null; then
	NETNS=1
	ip netns add "$NSB" &&
		ip link add "$VA" type veth peer name "$VB" &&
		ip link set "$VA" netns "$NSA" &&
		ip link set "$VB" netns "$NSB" &&
		ip -n "$NSA" addr add fd00:766d::1/64 dev "$VA" nodad &&
		ip -n "$NSB" addr add fd00:766d::2/64 dev "$VB" nodad &&
		ip -n "$NSA" link set "$VA" up &&
		ip -n "$NSB" link set "$VB" up &&
		ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up
	check $? "two network namespaces joined by a veth pair (IPv6, MTU $(ip -n "$NSA" -o link show "$VA" | sed 's/.* mtu \([0-9]*\).*/\1/'))"
	cluster "$RUN/c6" fd00:766d::1 $PORT fd00:766d::2 $PORT
	rm -f "$RUN/a.log" "$RUN/b.log"
	ip netns exec "$NSA" "$FABRIC" --run-dir "$RUN/a" --cluster "$RUN/c6" \
		--fabric A $NODE0 --fault "$FAULTS" --dead-ms $DEAD_MS -v \
		--log "$RUN/a.log" &
	APID=$!
	ip netns exec "$NSB" "$FABRIC" --run-dir "$RUN/b" --cluster "$RUN/c6" \
		--fabric B $NODE1 --fault "$FAULTS" --dead-ms $DEAD_MS -v \
		--log "$RUN/b.log" &
	BPID=$!
	wait_for "$RUN/a/n0.sock" "$RUN/b/n1.sock" "$RUN/a/fabric.pid" \
		"$RUN/b/fabric.pid"
	check $? "fabrics A and B started in their namespaces"
	# forged datagrams from B's namespace, B's address and port, by a raw
	# socket while B runs: A must know B's boot epoch first
	i=0
	while ! "$FABRIC" ctl "$RUN/a" show >"$RUN/show6" 2>/dev/null ||
		! grep -q "^peer B boot [1-9]" "$RUN/show6"; do
		[ $i -lt 250 ] || break
		sleep 0.02
		i=$((i + 1))
	done
	HASH=$(awk '$1 == "cluster" { print $6 }' "$RUN/show6")
	BBOOT=$(awk '$1 == "peer" && $2 == "B" { print $4 }' "$RUN/show6")
	FG_SPAN_POKE="ip netns exec $NSB $POKE forge fd00:766d::1 $PORT $HASH fd00:766d::2 $PORT $BBOOT \
		&& sleep 0.2 && $FABRIC ctl $RUN/a show >$RUN/show-forged" \
	FG_SPAN=${FG_SPAN6_N:-5000} "$GUEST" "$RUN/a/n0.sock" "$RAM0" \
		"$RUN/b/n1.sock" "$RAM1" $RAMBYTES $APID >"$RUN/span6.tap" 2>&1
	grc=$?
	sub_tap $grc "$RUN/span6.tap" "two fabrics over IPv6 and a veth pair"
	wait $APID
	arc=$?
	wait $BPID
	brc=$?
	APID=
	BPID=
	[ $arc -eq 0 ] && [ $brc -eq 0 ]
	check $? "both fabrics exit 0 (rc $arc, $brc)"
	grep -q "^fabric: udp rx [1-9][0-9]* tx [1-9][0-9]* tx_errors 0 " "$RUN/a.log" &&
		grep -q "^fabric: udp rx [1-9][0-9]* tx [1-9][0-9]* tx_errors 0 " "$RUN/b.log"
	check $? "every datagram fit the veth's MTU (no send refused, no IP fragment)"
	grep -q "^udp .* short 1 bad_header 2 unknown_sender 1 bad_cluster 1 bad_crc 2 stale_boot 2 bad_route 2 node_dead 0 restarts 0 " "$RUN/show-forged"
	check $? "the forged datagrams dropped and counted by A: one from B's address and another port, a short one, bad magic and version, another cluster's hash, a bad CRC and len, stale boot epochs, wrong routes"
	[ $grc -ne 0 ] && tail -20 "$RUN/a.log" | sed 's/^/    # A: /'
else
	n=$((n + 1))
	echo "ok $n # SKIP network namespaces (needs root and ip(8))"
fi

summary "fabric span tests"

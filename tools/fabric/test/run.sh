#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run the fabric tests against a real vmmc-fabric
#
# Contract: needs $O (where vmmc-fabric and fabric-fake-guest were built);
# VALGRIND=1 runs the fabric under valgrind (memcheck, leaks are errors).
# Uses a temporary run dir and RAM files in /dev/shm, removed on exit.
# Prints TAP-ish lines and a summary; exits non-zero if anything failed.

set -u
: "${O:?O must name the build directory}"
FABRIC=$O/vmmc-fabric
GUEST=$O/fabric-fake-guest
RAMBYTES=$((64 << 20))
RUN=$(mktemp -d /tmp/vmmc-fabric-test.XXXXXX)
RAM0=/dev/shm/vmmc-fabric-test-$$-0
RAM1=/dev/shm/vmmc-fabric-test-$$-1
FPID=
fail=0
n=0

cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	rm -rf "$RUN"
	rm -f "$RAM0" "$RAM1"
}
trap cleanup EXIT INT TERM

. "$(dirname "$0")/lib.sh"

# fabric_done WHAT: the fabric started last ($FPID) exits 0, and under
# valgrind leaves no error
fabric_done() {
	wait "$FPID"
	frc=$?
	FPID=
	check $frc "fabric $1 exits 0 (rc $frc)"
	if [ -n "$WRAP" ]; then
		[ ! -s "$RUN/valgrind.log" ]
		check $? "valgrind $1: no errors, no leaks"
	fi
}

truncate -s $RAMBYTES "$RAM0" "$RAM1"
NODES="--node 0,$RUN/n0.sock,$RAM0,$RAMBYTES --node 1,$RUN/n1.sock,$RAM1,$RAMBYTES"
if [ -n "${VALGRIND:-}" ]; then
	WRAP="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --log-file=$RUN/valgrind.log"
else
	WRAP=
fi

# --- arguments
"$FABRIC" >/dev/null 2>&1; [ $? -eq 2 ]; check $? "no arguments: exit 2"
"$FABRIC" --run-dir "$RUN" --node 0,$RUN/x.sock,$RAM0,$RAMBYTES \
	--node 2,$RUN/y.sock,$RAM1,$RAMBYTES >/dev/null 2>&1
[ $? -eq 2 ]; check $? "node ids with a gap: exit 2"
"$FABRIC" --run-dir "$RUN" --node 0,$RUN/x.sock,$RAM0,$((RAMBYTES * 2)) \
	>/dev/null 2>&1
[ $? -eq 2 ]; check $? "RAMBYTES larger than the RAM file: exit 2"
"$FABRIC" --run-dir "$RUN" --node 0,$RUN/x.sock,$RAM0 >/dev/null 2>&1
[ $? -eq 2 ]; check $? "malformed --node: exit 2"
"$FABRIC" --help | grep -q -- --run-dir; check $? "--help prints usage"

# --- the fake guests (their sleep tests want the unbounded sleep at once:
# no second look; it has its own run below)
$WRAP "$FABRIC" --run-dir "$RUN" $NODES -v --log "$RUN/fabric.log" \
	--recheck-ms 0 &
FPID=$!
wait_for "$RUN/n0.sock" "$RUN/n1.sock" "$RUN/fabric.pid"
check $? "socket files and fabric.pid created"
"$GUEST" "$RUN/n0.sock" "$RAM0" "$RUN/n1.sock" "$RAM1" $RAMBYTES $FPID \
	>"$RUN/guest.tap" 2>&1
grc=$?
sub_tap $grc "$RUN/guest.tap" "fake guests"
wait $FPID
frc=$?
FPID=
check $frc "fabric exits 0 once both guests have disconnected (rc $frc)"
[ ! -e "$RUN/n0.sock" ] && [ ! -e "$RUN/n1.sock" ] && [ ! -e "$RUN/fabric.pid" ]
check $? "socket files and fabric.pid removed"
if [ -n "$WRAP" ]; then
	[ ! -s "$RUN/valgrind.log" ]
	check $? "valgrind: no errors, no leaks"
	sed 's/^/    # /' "$RUN/valgrind.log"
fi
[ $fail -ne 0 ] && sed 's/^/    # /' "$RUN/fabric.log"

# --- a sleep's second look: a doorbell and an interrupt lost to a guest
# whose barrier is not one (long, so that the fake guest is never late)
$WRAP "$FABRIC" --run-dir "$RUN" $NODES --recheck-ms 300 \
	--log "$RUN/fabric-recheck.log" &
FPID=$!
wait_for "$RUN/n0.sock" "$RUN/n1.sock" "$RUN/fabric.pid" "$RUN/fabric.ctl"
check $? "fabric with --recheck-ms 300: sockets and fabric.ctl created"
FG_RECHECK_CTL=$RUN/fabric.ctl "$GUEST" "$RUN/n0.sock" "$RAM0" \
	"$RUN/n1.sock" "$RAM1" $RAMBYTES $FPID >"$RUN/recheck.tap" 2>&1
grc=$?
sub_tap $grc "$RUN/recheck.tap" "second look"
fabric_done "with --recheck-ms"
"$FABRIC" --run-dir "$RUN" $NODES --recheck-ms 1001 >/dev/null 2>&1
[ $? -eq 2 ]; check $? "--recheck-ms 1001: exit 2"

# --- the reliable link layer under injected faults
FAULTS="all:drop=5,dup=1,reorder=5,corrupt=1,delay=2"
DEAD_MS=1000			# above the test's 0.7 s link outage
[ -n "$WRAP" ] && DEAD_MS=5000	# valgrind is slow
$WRAP "$FABRIC" --run-dir "$RUN" $NODES --fault "$FAULTS" --dead-ms $DEAD_MS \
	--seed $$ --log "$RUN/fabric-fault.log" &
FPID=$!
wait_for "$RUN/n0.sock" "$RUN/n1.sock" "$RUN/fabric.pid" "$RUN/fabric.ctl"
check $? "fabric with --fault $FAULTS: sockets and fabric.ctl created"
[ "$(stat -c %a "$RUN/fabric.ctl")" = 600 ]
check $? "fabric.ctl is mode 0600: only the fabric's owner injects faults"
"$FABRIC" ctl "$RUN" show | grep -q "^link 0-1 up drop 5.00 dup 1.00 reorder 5.00 corrupt 1.00 delay 2.00"
check $? "vmmc-fabric ctl RUN_DIR show: the faults given on the command line"
"$FABRIC" ctl "$RUN" fault 0-1:bogus=1 >/dev/null 2>&1; [ $? -eq 1 ]
check $? "vmmc-fabric ctl: a bad spec is refused (exit 1)"
"$FABRIC" ctl "$RUN/nothing" show >/dev/null 2>&1; [ $? -eq 2 ]
check $? "vmmc-fabric ctl: no fabric there (exit 2)"
FG_FAULT_CTL=$RUN/fabric.ctl FG_FAULT_N=${FG_FAULT_N:-2000} FG_DEAD_MS=$DEAD_MS \
	"$GUEST" "$RUN/n0.sock" "$RAM0" "$RUN/n1.sock" "$RAM1" $RAMBYTES $FPID \
	>"$RUN/fault.tap" 2>&1
grc=$?
sub_tap $grc "$RUN/fault.tap" "faults"
fabric_done "with faults"
[ $grc -ne 0 ] && sed 's/^/    # /' "$RUN/fabric-fault.log" | tail -40

# --- guest RAM split around the PCI hole: 32 MiB low, the rest from 4 GiB
LOW=$((32 << 20))
$WRAP "$FABRIC" --run-dir "$RUN" --node "0,$RUN/n0.sock,$RAM0,$RAMBYTES:$LOW" \
	--node "1,$RUN/n1.sock,$RAM1,$RAMBYTES" -v --log "$RUN/fabric-gpa.log" &
FPID=$!
wait_for "$RUN/n0.sock" "$RUN/n1.sock" "$RUN/fabric.pid"
check $? "fabric with RAMBYTES:LOW: socket and fabric.pid created"
FG_GPA_LOW=$LOW "$GUEST" "$RUN/n0.sock" "$RAM0" "$RUN/n1.sock" "$RAM1" \
	$RAMBYTES $FPID >"$RUN/gpa.tap" 2>&1
grc=$?
sub_tap $grc "$RUN/gpa.tap" "guest-physical map"
fabric_done "with RAMBYTES:LOW"
[ $grc -ne 0 ] && sed 's/^/    # /' "$RUN/fabric-gpa.log" | tail -40
"$FABRIC" --run-dir "$RUN" --node "0,$RUN/x.sock,$RAM0,$RAMBYTES:$((RAMBYTES + 4096))" \
	>/dev/null 2>&1
[ $? -eq 2 ]; check $? "LOW above RAMBYTES: exit 2"

# --- signals
for sig in TERM INT; do
	$WRAP "$FABRIC" --run-dir "$RUN" $NODES --log "$RUN/fabric-$sig.log" &
	FPID=$!
	wait_for "$RUN/n0.sock" "$RUN/n1.sock" "$RUN/fabric.pid"
	kill -$sig $FPID
	wait $FPID
	frc=$?
	FPID=
	[ $frc -eq 0 ] && [ ! -e "$RUN/n0.sock" ] && [ ! -e "$RUN/n1.sock" ]
	check $? "SIG$sig: exit 0 (rc $frc), socket files removed"
	if [ -n "$WRAP" ]; then
		[ ! -s "$RUN/valgrind.log" ]
		check $? "valgrind after SIG$sig: no errors, no leaks"
	fi
done

summary "fabric tests" "${WRAP:+fabric under valgrind}"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The libfabric provider (ulib/fi, fi_vmmc(7)) between two nodes, with
# libfabric's own tools: fi_info lists vmmc (FI_EP_MSG) and vmmc;ofi_rxm
# (FI_EP_RDM) on each node; the provider's own test through the libfabric
# API (ulib/fi/test/fi_test.c, after two garbage connection requests the
# server must drop: connection data, reject, send/recv byte
# for byte, truncation, RMA write with remote CQ data, emulated read (the
# long ones landed by the reader's NIC's transfer redirection), bad
# keys and ranges, the CQ wait fd, shutdown); fi_pingpong over FI_EP_MSG, over ofi_rxm's
# FI_EP_RDM, and RDM tagged, every size it tries (64 B to 1 MiB), its data
# checks on (-c), 10 iterations each; then that it went over the NIC
# (node 0's data counters moved by at least what the 1 MiB rounds alone
# carry); a pingpong server killed with kill -9 mid-run fails its client
# instead of hanging it; and with RLIMIT_MEMLOCK too small the provider
# names the limit. Node 0 runs the servers, node 1 the clients; both run
# this.
set -u
. "$(dirname "$0")/tap.sh"
b=$tap_top/build
export FI_PROVIDER_PATH=$b/ulib/fi
srv=10.77.0.1
iters=10
lim_s=${VMMC_FI_LIMIT:-90}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# lim CMD...: CMD, stopped after $lim_s s (status 124) with its threads'
# stacks printed first (gdb), so that a hang says where it waits
lim() {
	local pid i
	"$@" &
	pid=$!
	for ((i = 0; i < lim_s * 5; i++)); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 $pid 2>/dev/null; then
		echo "still running after $lim_s s: $*"
		command -v gdb > /dev/null &&
			timeout 60 gdb -batch -p $pid -ex "thread apply all bt" 2>&1 |
			grep '^#\|^Thread'
		kill -9 $pid
		wait $pid
		return 124
	fi
	wait $pid
}

data() {	# the NIC's data bytes, sent + received
	"$ctl" -j show | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats"]; print(s["nic_data_tx"] + s["nic_data_rx"])'
}

fi_info -p vmmc > "$t/info" 2>&1
check "node ${VMMC_NODE:-0}: fi_info -p vmmc: provider vmmc, FI_EP_MSG, domain vmmc0" \
	grep -Pzq 'provider: vmmc\n\s+fabric: vmmc\n\s+domain: vmmc0\n\s+version: [0-9.]+\n\s+type: FI_EP_MSG' "$t/info"
check "node ${VMMC_NODE:-0}: fi_info -p vmmc: vmmc;ofi_rxm, FI_EP_RDM" \
	grep -Pzq 'provider: vmmc;ofi_rxm\n\s+fabric: vmmc\n\s+domain: vmmc0\n\s+version: [0-9.]+\n\s+type: FI_EP_RDM' "$t/info"

# RLIMIT_MEMLOCK too small (and no CAP_IPC_LOCK): registering fails
# FI_ENOMEM at once, and the provider says which limit, once, on stderr
if [ "${VMMC_NODE:-0}" = 1 ]; then
	setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock \
		prlimit --memlock=65536 timeout 30 \
		"$b/ulib/fi/fi_test" server 47801 > "$t/ml" 2>&1
	rc=$?
	if [ "$rc" = 1 ] &&
	   grep -q 'over RLIMIT_MEMLOCK (64 KiB; raise it' "$t/ml" &&
	   grep -q '^not ok 1 fi_mr_reg.*Cannot allocate memory' "$t/ml"; then
		ok "node 1: RLIMIT_MEMLOCK of 64 KiB: fi_mr_reg fails ENOMEM, the error names the limit"
	else
		nok "node 1: RLIMIT_MEMLOCK of 64 KiB: rc $rc"
		sed 's/^/# /' "$t/ml"
	fi
fi

# fi_test: node 0 serves, node 1 connects (retrying until it listens)
rd0=$(stat nic_redir_bytes)
if [ "${VMMC_NODE:-0}" = 0 ]; then
	lim "$b/ulib/fi/fi_test" server 47800 > "$t/ft" 2>&1
else
	# garbage first: a short request and 300 random bytes, each on a
	# connection of its own; the server must drop both without an
	# event (its first FI_CONNREQ must be the real client's)
	for i in $(seq 1 100); do
		printf 'vfi1short' 2>/dev/null > /dev/tcp/$srv/47800 && break
		sleep 0.2
	done
	head -c 300 /dev/urandom 2>/dev/null > /dev/tcp/$srv/47800
	lim "$b/ulib/fi/fi_test" client $srv 47800 > "$t/ft" 2>&1
fi
rc=$?
sed 's/^/# /' "$t/ft"
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$t/ft")
passed=$(grep -c '^ok ' "$t/ft")
check "node ${VMMC_NODE:-0}: fi_test: $passed of ${plan:-?} passed, rc $rc" \
	test "$rc" = 0 -a -n "$plan" -a "$passed" = "${plan:-x}"
if [ "${VMMC_NODE:-0}" = 1 ]; then
	# its two 70000 B direct reads landed by transfer redirection
	rd=$(($(stat nic_redir_bytes) - rd0))
	check "node 1: fi_test's direct reads were redirected into their buffers, whole pages ($rd bytes, >= 120000)" \
		test "$rd" -ge 120000
fi

# pingpong NAME PROVIDER ARGS...: one mode; the server (node 0) waits for
# its client, the client retries until the server listens
pingpong() {
	local name=$1 prov=$2 i rc rows
	shift 2
	if [ "${VMMC_NODE:-0}" = 0 ]; then
		lim fi_pingpong -p "$prov" "$@" -c -I $iters > "$t/pp" 2>&1
		rc=$?
	else
		for i in $(seq 1 60); do
			sleep 1
			lim fi_pingpong -p "$prov" "$@" -c -I $iters $srv > "$t/pp" 2>&1
			rc=$?
			grep -q "failed to connect" "$t/pp" || break
		done
	fi
	# one result row per size, each with every message acknowledged
	rows=$(grep -cE "^(64|256|1k|4k|64k|1m) +$iters +=$iters " "$t/pp")
	if [ "$rc" = 0 ] && [ "$rows" = 6 ]; then
		ok "node ${VMMC_NODE:-0}: fi_pingpong -p '$prov' $name: 6 sizes, 64 B to 1 MiB, data checked"
	else
		nok "node ${VMMC_NODE:-0}: fi_pingpong -p '$prov' $name: rc $rc, $rows of 6 sizes"
		sed 's/^/# /' "$t/pp"
	fi
}

d0=$(data)
pingpong "-e msg" vmmc -e msg
pingpong "-e rdm" "vmmc;ofi_rxm" -e rdm
pingpong "-e rdm -m tagged" "vmmc;ofi_rxm" -e rdm -m tagged
moved=$(($(data) - d0))
# each mode's 1 MiB rounds: iters MiB each way through this node's NIC
want=$((3 * 2 * iters << 20))
check "node ${VMMC_NODE:-0}: the NIC carried it: $moved data bytes (>= $want)" \
	test "$moved" -ge "$want"

# kill -9: the server dies mid-run; the client's calls fail, not hang
if [ "${VMMC_NODE:-0}" = 0 ]; then
	d1=$(data)
	fi_pingpong -p vmmc -e msg -S 65536 -I 100000000 > "$t/pp" 2>&1 &
	pid=$!
	# once it moves data (the client retries its connect every second;
	# a loaded host may take a while)
	for i in $(seq 1 60); do
		sleep 1
		d2=$(data)
		[ $((d2 - d1)) -ge $((4 << 20)) ] && break
	done
	kill -9 $pid
	killed=$?
	wait $pid 2>/dev/null
	# it was alive and moving data over the NIC when it was killed
	check "node 0: pingpong server killed with kill -9 mid-run ($((d2 - d1)) data bytes moved, >= 1 MiB)" \
		test "$killed" = 0 -a $((d2 - d1)) -ge $((1 << 20))
else
	t0=$(date +%s)
	for i in $(seq 1 60); do
		sleep 1
		lim fi_pingpong -p vmmc -e msg -S 65536 -I 100000000 $srv > "$t/pp" 2>&1
		rc=$?
		grep -q "failed to connect" "$t/pp" || break
	done
	secs=$(($(date +%s) - t0))
	# it was connected (no connect failure last) and ended with an error
	# of its own well before its time limit
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ] &&
	   ! grep -q "failed to connect" "$t/pp" && [ "$secs" -lt 45 ]; then
		ok "node 1: peer killed: fi_pingpong failed (rc $rc) after $secs s, no hang"
	else
		nok "node 1: peer killed: fi_pingpong rc $rc after $secs s"
	fi
	sed 's/^/# /' "$t/pp" | tail -5
fi
tap_end

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Open MPI over the libfabric provider, two ranks: on this node (through
# the NIC's loopback), or with VMMC_NODES=2 one on each node, node 1's
# started through selftests/mpi_rsh.py (Open MPI's rsh launcher; node 1
# serves it until node 0 is done), where Debian's mpi4py and NetPIPE
# (NPopenmpi -i) run too. pml cm, mtl ofi, mtl_ofi_provider_include vmmc.
# The project's MPI test (ulib/fi/test/mpi_test.c: blocking, non-blocking,
# tagged, any-source, allreduce, 16 x 1 MiB each way at once, 64 MiB byte
# for byte) must pass, on two nodes also with ofi_rxm's rendezvous by
# RMA write (FI_OFI_RXM_USE_RNDV_WRITE=1) instead of read; both
# ranks must report the vmmc domain as their provider; and the data must
# have gone over the NIC, not kernel TCP (Open MPI falls back silently):
# the NIC's data counters moved by at least the 64 MiB transfers, IP
# moved less than 16 MiB (the runtime's own traffic).
set -u
. "$(dirname "$0")/tap.sh"
b=$tap_top/build
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
if ! command -v mpirun > /dev/null; then
	skip "Open MPI over vmmc" "no mpirun (openmpi-bin)"
	tap_end
	exit
fi

data() {	# the NIC's data bytes, sent + received
	"$ctl" -j show | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats"]; print(s["nic_data_tx"] + s["nic_data_rx"])'
}
ipout() {	# bytes IP sent, every interface (loopback too)
	awk '/^IpExt:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["OutOctets"] }' /proc/net/netstat
}

two=
[ "${VMMC_NODES:-1}" -ge 2 ] && two=1
if [ -n "$two" ] && [ "${VMMC_NODE:-0}" != 0 ]; then
	# node 1: the launcher's server, until node 0 says it is done
	python3 "$tap_top/selftests/mpi_rsh.py" --serve "$t/cmds" &
	srv=$!
	python3 "$tap_top/selftests/barrier.py" wait 7791
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
	check "node 1: the launcher started Open MPI's daemon here" \
		grep -q orted "$t/cmds"
	tap_end
	exit
fi
export FI_PROVIDER_PATH=$b/ulib/fi
hosts=(--oversubscribe)
[ -n "$two" ] && hosts=(--host 10.77.0.1,10.77.0.2
	--mca plm_rsh_agent "python3 $tap_top/selftests/mpi_rsh.py"
	--mca plm_rsh_no_tree_spawn 1 --mca oob_tcp_if_include eth0
	-x FI_PROVIDER_PATH)
run() {	# run OUT PROGRAM...: two ranks over vmmc;ofi_rxm
	local out=$1
	shift
	timeout -k 5 180 mpirun --allow-run-as-root "${hosts[@]}" -np 2 \
		--mca pml cm --mca mtl ofi \
		--mca mtl_ofi_provider_include vmmc --mca mtl_base_verbose 10 \
		"$@" > "$out" 2>&1
}
d0=$(data) ip0=$(ipout)
run "$t/out" "$b/ulib/fi/mpi_test"
rc=$?
if [ -n "$two" ]; then
	# Debian's programs: mpi4py (ping-pong, objects, collectives) and
	# NetPIPE's integrity mode (every size to 1 MiB, data checked)
	run "$t/py" /usr/bin/python3 "$tap_top/selftests/mpi4py_test.py"
	pyrc=$?
	run "$t/np" NPopenmpi -i -u 1048576 -n 3 -p 0
	nprc=$?
	# ofi_rxm's other rendezvous: the receiver registers its buffer for
	# FI_REMOTE_WRITE, the sender writes into it and then says so
	run "$t/wr" -x FI_OFI_RXM_USE_RNDV_WRITE=1 "$b/ulib/fi/mpi_test"
	wrrc=$?
	python3 "$tap_top/selftests/barrier.py" notify 10.77.0.2 7791
fi
moved=$(($(data) - d0)) ipmoved=$(($(ipout) - ip0))
grep -E '^(not )?ok |^1\.\.|^# Totals' "$t/out" | sed 's/^/# /'
passed=$(grep -c '^ok ' "$t/out")
check "mpirun -np 2 mpi_test: $passed of 7 passed, rc $rc" \
	test "$rc" = 0 -a "$passed" = 7
chose=$(grep -c 'mtl:ofi:provider: vmmc0' "$t/out")
check "both ranks chose the vmmc provider (domain vmmc0): $chose of 2" \
	test "$chose" = 2
if [ -n "$two" ]; then
	check "one rank on each node" \
		grep -q '^\[node1:.*mtl:ofi:provider: vmmc0' "$t/out"
fi
# 64 MiB there and back, each byte out of and into this NIC (one node),
# or out of it once and into it once (two nodes)
want=$((2 * 2 * (64 << 20)))
[ -n "$two" ] && want=$((2 * (64 << 20)))
check "the NIC carried it: $moved data bytes (>= $want)" test "$moved" -ge "$want"
check "kernel TCP/IP did not: $ipmoved bytes out (< 16 MiB)" \
	test "$ipmoved" -lt $((16 << 20))
[ "$rc" = 0 ] || tail -20 "$t/out" | sed 's/^/# /'
if [ -n "$two" ]; then
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$t/py")
	passed=$(grep -c '^ok ' "$t/py")
	check "mpi4py: $passed of ${plan:-?} passed (ping-pong, objects, collectives), rc $pyrc" \
		test "$pyrc" = 0 -a -n "$plan" -a "$passed" = "${plan:-x}"
	[ "$pyrc" = 0 ] || tail -20 "$t/py" | sed 's/^/# /'
	sizes=$(grep -c 'Integrity check passed' "$t/np")
	check "NPopenmpi -i: $sizes sizes to 1 MiB passed its integrity check, none failed, rc $nprc" \
		test "$nprc" = 0 -a "$sizes" -ge 30 -a "$(grep -ci 'fail' "$t/np")" = 0
	[ "$nprc" = 0 ] || tail -20 "$t/np" | sed 's/^/# /'
	passed=$(grep -c '^ok ' "$t/wr")
	check "mpi_test with FI_OFI_RXM_USE_RNDV_WRITE=1: $passed of 7 passed, rc $wrrc" \
		test "$wrrc" = 0 -a "$passed" = 7
	[ "$wrrc" = 0 ] || tail -20 "$t/wr" | sed 's/^/# /'
fi
tap_end

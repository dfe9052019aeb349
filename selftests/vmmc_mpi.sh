#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Open MPI over the libfabric provider, two ranks on this node (through
# the NIC's loopback): pml cm, mtl ofi, mtl_ofi_provider_include vmmc.
# The project's MPI test (ulib/fi/test/mpi_test.c: blocking, non-blocking,
# tagged, any-source, allreduce, 64 MiB byte for byte) must pass; both
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

d0=$(data) ip0=$(ipout)
FI_PROVIDER_PATH=$b/ulib/fi timeout -k 5 180 mpirun --allow-run-as-root \
	--oversubscribe -np 2 --mca pml cm --mca mtl ofi \
	--mca mtl_ofi_provider_include vmmc --mca mtl_base_verbose 10 \
	"$b/ulib/fi/mpi_test" > "$t/out" 2>&1
rc=$?
moved=$(($(data) - d0)) ipmoved=$(($(ipout) - ip0))
grep -E '^(not )?ok |^1\.\.|^# Totals' "$t/out" | sed 's/^/# /'
passed=$(grep -c '^ok ' "$t/out")
check "mpirun -np 2 mpi_test: $passed of 6 passed, rc $rc" \
	test "$rc" = 0 -a "$passed" = 6
chose=$(grep -c 'mtl:ofi:provider: vmmc0' "$t/out")
check "both ranks chose the vmmc provider (domain vmmc0): $chose of 2" \
	test "$chose" = 2
# 64 MiB there and back, each byte out of and into this NIC
want=$((2 * 2 * (64 << 20)))
check "the NIC carried it: $moved data bytes (>= $want)" test "$moved" -ge "$want"
check "kernel TCP/IP did not: $ipmoved bytes out (< 16 MiB)" \
	test "$ipmoved" -lt $((16 << 20))
[ "$rc" = 0 ] || tail -20 "$t/out" | sed 's/^/# /'
tap_end

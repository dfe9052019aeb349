#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the host's memcpy bandwidth for 1 MiB blocks (the physical
# limit of the fabric's one copy per message), then a two-node cluster of
# 1-vCPU guests: vmmc_bw on node 0 against its server on node 1 (latency
# and bandwidth of deliberate update, local and remote, beside kernel TCP
# between the same guests), vmmc_rtt (NIC round trips), then
# vmmc_sockperf (VMMC stream sockets beside kernel TCP: ping-pong latency,
# streaming throughput with 64 KiB .. 1 MiB sends, ratio column; then the
# sockets again with both sides' waits blocking at once, VMMC_SOCK_WAIT), then
# Debian's iperf3, sockperf and redis over kernel TCP, over VMMC under
# the LD_PRELOAD shim and libvmmc's sockets alone, side by side
# (tools/bench/apps.sh; APPS_SECS seconds per program, default 3), and
# under the shim with zero-copy receive off and on, side by side;
# vmmc_sockzc (VMMC sockets: copy vs zero-copy receive, 4 KiB .. 1 MiB
# messages, streamed and request-response, ratio columns), then
# vmmc_lat (raw one-way latency distribution per waiting policy), then
# vmmc_sockmany (aggregate streaming over 1 and over 1024 connections,
# 64 KiB rings, ratio column; 1024 x 35 pinned pages is past a 512 MiB
# guest's default socket memory budget, so both sides get 256 MiB); then
# MPI between two guests (tools/bench/mpi.sh): Open MPI over vmmc;ofi_rxm beside btl tcp,
# libfabric's tcp provider and raw VMMC, with the issue's goals as ratios;
# then tools/bench/span.sh: vmmc_bw between two guests on one fabric and on
# two fabrics joined over UDP (in two network namespaces as root), the
# fabrics' CPU per GB moved while streaming, and issue 18's goals (1 MiB
# bandwidth across >= 50 % of one fabric's and >= 10x kernel TCP's, 4 B
# latency across <= 2x one fabric's) side by side.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# The NIC runs when it has work, as hardware would (vmmc-fabric --rt-prio):
# SCHED_FIFO for every fabric when run as root, unless VMMC_FABRIC_RT says
# otherwise (0: the normal class).
[ "$(id -u)" != 0 ] || export VMMC_FABRIC_RT="${VMMC_FABRIC_RT:-1}"
cd "$top" || exit 2
b=$top/build
bw=$b/tools/bench/vmmc_bw
rtt=$b/tools/bench/vmmc_rtt
notify=$b/tools/bench/vmmc_notify
sockperf=$b/tools/bench/vmmc_sockperf
sockzc=$b/tools/bench/vmmc_sockzc
sockmany=$b/tools/bench/vmmc_sockmany
lat=$b/tools/bench/vmmc_lat
mc=$("$bw" memcpy) || exit 1
echo "== host memcpy, 1 MiB blocks, MB/s (cache-hot,cold): $mc"

node0="insmod $b/vmmc.ko && \
echo '== vmmc_bw: node 0 <-> node 1' && $bw client -n 1 -a 10.77.0.2 -M $mc && echo && \
echo '== vmmc_rtt: node 0 -> node 1' && $rtt client -n 1 -a 10.77.0.2 -c 1000 && echo && \
echo '== vmmc_lat: node 0 <-> node 1, one-way latency per waiting policy' && $lat client -n 1 -a 10.77.0.2 -c 500 -r 2 && echo && \
echo '== vmmc_sockperf: node 0 -> node 1' && $sockperf client -n 1 -a 10.77.0.2 && echo && \
echo '== the same, VMMC sockets only, both sides VMMC_SOCK_WAIT=block' && VMMC_SOCK_WAIT=block $sockperf client -n 1 -a 10.77.0.2 -k -p 7001 && echo && \
echo '== vmmc_sockzc: node 1 -> node 0, copy vs zero-copy receive' && $sockzc client -n 1 -m 16 && echo && \
echo '== vmmc_sockmany: node 0 -> node 1, 1 vs 1024 connections' && VMMC_SOCK_MEM_MAX=268435456 $sockmany client -n 1; \
rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; exit \$rc"
node1="insmod $b/vmmc.ko && { $bw server & $rtt server & $sockperf server & $sockzc server & VMMC_SOCK_MEM_MAX=268435456 $sockmany server & $lat server & VMMC_SOCK_WAIT=block $sockperf server -p 7001 & } && \
python3 selftests/barrier.py wait; kill %1 %2 %3 %4 %5 %6 %7 2>/dev/null; exit 0"

# competitive notification vs polling vs blocking: one node, NIC-timed events
tools/vm/vmrun --timeout 600 -- sh -c "insmod $b/vmmc.ko && $notify -c 200 && \
echo && $b/tools/bench/vmmc_redir -c 40" || exit 1

tools/vm/vmrun -n 2 --timeout 1500 --node-cmd "0=$node0" \
	--node-cmd "1=$node1" -- true || exit 1

echo
tools/bench/mpi.sh || exit 1
echo
echo "== the same two guests on two fabrics joined over UDP, beside one fabric"
tools/bench/span.sh "$mc" || exit 1
echo
echo "== unmodified programs: kernel TCP, VMMC under the shim, libvmmc alone"
tools/bench/apps.sh "${APPS_SECS:-3}" tcp vmmc raw || exit 1
echo
echo "== the same under the shim: receive by copy vs by zero-copy (ratio: zero-copy/copy)"
exec tools/bench/apps.sh "${APPS_SECS:-3}" vmmccopy vmmc

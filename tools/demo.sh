#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot a two-node cluster around one fabric and run the main
# job: round trips through the NICs (local NOP, NIC-to-NIC ping) beside
# kernel TCP between the same two guests, polling and interrupt-driven;
# deliberate update's latency and bandwidth beside TCP (vmmc_bw),
# transfer redirection against copying (vmmc_redir), each node's vmmc_ctl
# view, and, once node 1 has powered off, competitive notification
# against polling and blocking (vmmc_notify: NIC-local events on node 0); then Debian's iperf3, sockperf and redis,
# unmodified, over kernel TCP and over VMMC under the LD_PRELOAD shim,
# with libvmmc's own sockets beside them (tools/bench/apps.sh, 2 s each).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
# The NIC runs when it has work, as hardware would (vmmc-fabric --rt-prio):
# SCHED_FIFO for every fabric when run as root, unless VMMC_FABRIC_RT says
# otherwise (0: the normal class).
[ "$(id -u)" != 0 ] || export VMMC_FABRIC_RT="${VMMC_FABRIC_RT:-1}"
b=$top/build
rtt=$b/tools/bench/vmmc_rtt
ctl=$b/tools/vmmc_ctl/vmmc_ctl
bw=$b/tools/bench/vmmc_bw
mc=$("$bw" memcpy 2>/dev/null || echo 0)
count=${VMMC_DEMO_COUNT:-2000}

node0="insmod $b/vmmc.ko && \
echo '== vmmc demo: node 0 -> node 1' && \
$rtt client -n 1 -a 10.77.0.2 -c $count && echo && \
$rtt client -n 1 -a 10.77.0.2 -c $((count / 4)) -w && echo && \
$bw client -n 1 -a 10.77.0.2 -M $mc && echo && \
$b/tools/bench/vmmc_redir -c 20 && echo && \
$ctl show; rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; \
python3 selftests/node_gone.py 10.77.0.2 30; \
echo; echo '== competitive notification on node 0 (node 1 has powered off:' \
'the events are node 0 NIC-local, and an idle second guest on the two host' \
'CPUs makes wake-ups several times dearer at random)'; \
$b/tools/bench/vmmc_notify -c 200 || rc=1; exit \$rc"
node1="insmod $b/vmmc.ko && { $rtt server & $bw server & } && \
python3 selftests/barrier.py wait; kill %1 %2 2>/dev/null; wait; \
$ctl show | sed 's/^/[node 1, servers gone] /'; exit 0"

tools/vm/vmrun -n 2 --timeout 900 --node-cmd "0=$node0" \
	--node-cmd "1=$node1" -- true || exit 1

echo
echo "== unmodified programs: kernel TCP, VMMC under the LD_PRELOAD shim, libvmmc alone"
exec tools/bench/apps.sh "${VMMC_DEMO_APPS_SECS:-2}" tcp vmmc raw

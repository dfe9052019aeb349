#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: run every test and print one closing line
# "N passed, N failed[, N skipped]". Host-side tests first (the fabric
# against fake guests, libvmmc's UTLB against a stubbed kernel), then a
# one-node guest (device, data path, interrupts, deliberate update,
# protection, one user against another (vmmc_limits, as nobody), UTLB and
# memory limits, several waiters on one endpoint, a NIC stopped with
# SIGSTOP (vmmc_nicstall), stream sockets, the LD_PRELOAD shim (dup, fork, exec,
# threads, zero-copy receive), Open MPI over the libfabric provider (two
# ranks through the NIC's loopback: vmmc_mpi.sh, about 10 s), short forms
# of the fuzzer (every other
# process as nobody), the kill -9 stress and memory pressure (make stress runs the
# long forms), vmmc_ctl, teardown by kill -9 and unbind, module unload),
# a one-node guest of 6 GiB (transfers from and into pages above 4 GiB),
# then a two-node cluster (NIC to NIC, cross-node transfers and
# redirection, an exporter killed with kill -9, stream sockets, Debian's
# iperf3, sockperf and redis under the LD_PRELOAD shim, libfabric's
# fi_info and fi_pingpong over the vmmc provider (vmmc_fi.sh), and the
# reliable link layer under injected drops, duplicates, reordering,
# corruption, a link outage and a node death), two nodes on two fabrics
# joined over UDP (vmmc-fabric --cluster; as root each in a network
# namespace of its own), four nodes on two such fabrics (transfers among
# every ordered pair: vmmc_xfer_mesh), then vmmc from outside
# the tree (make install into a staging tree, a program built with
# pkg-config alone, run in a guest over the installed module; with
# VMMC_PACKAGE_CHECK=1 also the Debian packages: selftests/install/).
# Guests boot with slub_debug; each guest run ends with a check that
# the kernel log holds no BUG, WARNING or Oops. Every program's results
# must add up to its TAP plan (tap_count.sh); a result a test could not
# judge is a SKIP, counted apart. Exit status non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
build=$top/build
results=$build/results
rm -rf "$results" && mkdir -p "$results"
pass=0 fail=0 skip=0
. selftests/tap_count.sh

add_result() {	# add_result FILE NAME: a "RESULT p f s" line, or a failure
	local p f s
	if [ -s "$1" ] && read -r _ p f s < "$1"; then
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	else
		echo "not ok - $2 produced no result"
		fail=$((fail + 1))
	fi
}

# 1. host side: the fabric against fake guests
echo "==== host: fabric"
if make -s -C tools/fabric test O="$build/tools/fabric" > "$results/fabric.log" 2>&1; then rc=0; else rc=$?; fi
cat "$results/fabric.log"
tap_count "$results/fabric.log" "$rc" "fabric tests"
echo "RESULT $tc_pass $tc_fail $tc_skip" > "$results/fabric"
add_result "$results/fabric" "fabric tests"

echo "==== host: libvmmc unit tests (UTLB against a stubbed kernel, the shim's address map)"
if make -s -C ulib test O="$build/ulib" > "$results/utlb.log" 2>&1; then rc=0; else rc=$?; fi
cat "$results/utlb.log"
tap_count "$results/utlb.log" "$rc" "libvmmc unit tests"
echo "RESULT $tc_pass $tc_fail $tc_skip" > "$results/utlb"
add_result "$results/utlb" "libvmmc unit tests"

echo "==== host: the libfabric provider (exports; fi_info without a NIC)"
if make -s -C ulib/fi test O="$build/ulib/fi" ULIB_O="$build/ulib" > "$results/fi.log" 2>&1; then rc=0; else rc=$?; fi
cat "$results/fi.log"
tap_count "$results/fi.log" "$rc" "libfabric provider host tests"
echo "RESULT $tc_pass $tc_fail $tc_skip" > "$results/fi"
add_result "$results/fi" "libfabric provider host tests"

# 2. one node, with a foreign ivshmem device beside the NIC
echo "==== one node"
# (vmmc_nicstall stops the fabric with SIGSTOP through vmrun's helper)
tools/vm/vmrun --foreign-ivshmem --timeout 900 --fabric-signals "$results/fabsig" -- \
	env VMMC_FOREIGN_IVSHMEM=1 VMMC_RESULT="$results/node1-0" \
	VMMC_FABRIC_SIG_DIR="$results/fabsig" \
	selftests/run_guest.sh "$build" vmmc_dev vmmc_datapath vmmc_xfer vmmc_redirect \
	vmmc_protect vmmc_protect_args vmmc_fork vmmc_filepin vmmc_shutdown vmmc_limits vmmc_utlb vmmc_strict vmmc_wait vmmc_stale vmmc_wakeup vmmc_rogue_rx \
	vmmc_sock vmmc_sock_args vmmc_sock_opts vmmc_sock_optact vmmc_sock_poll vmmc_sock_strict vmmc_sock_zc vmmc_sock_pin vmmc_sock_busy vmmc_sock_garbage vmmc_sock_rogue vmmc_sock_progress vmmc_sock_mem \
	vmmc_preload.sh vmmc_preload_zc.sh vmmc_mpi.sh \
	vmmc_fuzz vmmc_stress vmmc_mempress vmmc_ctl.sh vmmc_teardown.sh \
	vmmc_sock_dead vmmc_nicstall vmmc_module.sh
add_result "$results/node1-0" "one-node run"

# 2b. one node with 6 GiB: RAM above 4 GiB, past the PCI hole (about 30 s)
echo "==== one node, 6 GiB"
tools/vm/vmrun --mem 6144 --timeout 600 -- \
	env VMMC_BIGMEM_REQUIRED=1 VMMC_RESULT="$results/node1-big" \
	selftests/run_guest.sh "$build" vmmc_bigmem
add_result "$results/node1-big" "one-node run with 6 GiB"

# 3. two nodes: node 0 pings node 1's NIC; both run the device tests,
# real servers under the shim (vmmc_apps.sh), both transports on one
# listener, pre-fork and inetd-style servers, Apache (vmmc_dual.sh: about
# 50 s), the libfabric provider (vmmc_fi.sh: about 30 s) and Open MPI across
# the two (vmmc_mpi.sh: about 20 s), then the link layer under injected
# faults (vmmc_link_cluster: its fault
# requests reach the fabric's control socket through link_faults.sh;
# VMMC_LINK_MSGS messages, 2000 by default here)
echo "==== two nodes"
linkdir=$results/link
selftests/link_faults.sh "$build/tools/fabric/vmmc-fabric" \
	"$results/fabric.ctl" "$linkdir" 1800 &
watcher=$!
link_env="VMMC_LINK_DIR=$linkdir VMMC_LINK_MSGS=${VMMC_LINK_MSGS:-2000}"
tools/vm/vmrun -n 2 --timeout 900 --fabric-arg "--ctl=$results/fabric.ctl" \
	--node-cmd "0=VMMC_RESULT=$results/node2-0 $link_env selftests/run_guest.sh $build vmmc_dev vmmc_cluster vmmc_xfer_cluster vmmc_sock_cluster vmmc_sock_many vmmc_apps.sh vmmc_dual.sh vmmc_preload6.sh vmmc_fi.sh vmmc_mpi.sh vmmc_link_cluster; rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; exit \$rc" \
	--node-cmd "1=VMMC_RESULT=$results/node2-1 $link_env selftests/run_guest.sh $build vmmc_dev vmmc_xfer_cluster vmmc_sock_cluster vmmc_sock_many vmmc_apps.sh vmmc_dual.sh vmmc_preload6.sh vmmc_fi.sh vmmc_mpi.sh vmmc_link_cluster; rc=\$?; python3 selftests/barrier.py wait; exit \$rc" \
	-- true
touch "$linkdir/stop"
wait "$watcher"
add_result "$results/node2-0" "two-node run, node 0"
add_result "$results/node2-1" "two-node run, node 1"

# 3b. two nodes on two fabrics joined over UDP (vmmc-fabric --cluster),
# each fabric in a network namespace of its own as root, else both on
# loopback: NIC to NIC, cross-node transfers and redirection, stream
# sockets, Debian's programs under the shim (vmmc_apps.sh) and the link
# layer under faults (each fault request goes to both fabrics:
# VMMC_SPAN_LINK_MSGS messages, 300 by default) (about 150 s)
echo "==== two nodes, two fabrics"
if [ "$(id -u)" = 0 ]; then
	netns=--cluster-netns a0=10.78.0.1 a1=10.78.0.2 port=7471
else
	netns='' a0=127.0.0.1 a1=127.0.0.1 port=$((30000 + $$ % 20000))
fi
printf 'fabric left %s %s\nfabric right %s %s\nnode 0 left\nnode 1 right\n' \
	$a0 $port $a1 $((port + 1)) >"$results/cluster"
linkdir=$results/span-link
mkdir -p "$results/span-ctl"
selftests/link_faults.sh "$build/tools/fabric/vmmc-fabric" \
	"$results/span-ctl/left.ctl,$results/span-ctl/right.ctl" "$linkdir" 1800 &
watcher=$!
link_env="VMMC_LINK_DIR=$linkdir VMMC_LINK_MSGS=${VMMC_SPAN_LINK_MSGS:-300}"
span_tests="vmmc_xfer_cluster vmmc_sock_cluster vmmc_apps.sh vmmc_link_cluster"
# shellcheck disable=SC2086 # $netns: an option or nothing
tools/vm/vmrun --cluster "$results/cluster" $netns --cluster-ctl "$results/span-ctl" --timeout 900 \
	--node-cmd "0=VMMC_RESULT=$results/span-0 $link_env selftests/run_guest.sh $build vmmc_cluster $span_tests; rc=\$?; python3 selftests/barrier.py notify 10.77.0.2; exit \$rc" \
	--node-cmd "1=VMMC_RESULT=$results/span-1 $link_env selftests/run_guest.sh $build $span_tests; rc=\$?; python3 selftests/barrier.py wait; exit \$rc" \
	-- true
touch "$linkdir/stop"
wait "$watcher"
add_result "$results/span-0" "two fabrics, node 0"
add_result "$results/span-1" "two fabrics, node 1"

# 3c. four nodes on the same two fabrics, two nodes each: transfers
# among every ordered pair, checked byte for byte (vmmc_xfer_mesh: four
# TCG guests on two cores, about 70 s)
echo "==== four nodes, two fabrics"
printf 'fabric left %s %s\nfabric right %s %s\nnode 0 left\nnode 1 left\nnode 2 right\nnode 3 right\n' \
	$a0 $((port + 2)) $a1 $((port + 3)) >"$results/cluster4"
# shellcheck disable=SC2086 # $netns: an option or nothing
tools/vm/vmrun --cluster "$results/cluster4" $netns --timeout 900 -- \
	sh -c "VMMC_RESULT=$results/mesh-\$VMMC_NODE exec selftests/run_guest.sh $build vmmc_xfer_mesh"
for i in 0 1 2 3; do
	add_result "$results/mesh-$i" "four nodes on two fabrics, node $i"
done

# 4. vmmc from outside the tree: make install into a staging tree, a
# program built with pkg-config alone, run in a guest over the module
# built from the installed DKMS source, make uninstall
echo "==== install: make install, pkg-config, the installed module in a guest"
selftests/install/check.sh "$build" "$results/install"
add_result "$results/install" "install tests"

# 5. with VMMC_PACKAGE_CHECK=1 (CI: .ci/run), make package-check's tests:
# the Debian packages built, linted, installed on this machine (root),
# DKMS building the module for the guest kernel, a guest, purged again
if [ "${VMMC_PACKAGE_CHECK:-0}" = 1 ]; then
	echo "==== packages: dpkg-buildpackage, lintian, dpkg -i, dkms build, a guest, purge"
	rm -f "$build/pkg/result"
	tools/setup-deps.sh package && selftests/install/package-check.sh "$build"
	add_result "$build/pkg/result" "package tests"
fi

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a guest (tools/vm/vmrun), for selftests/install/check.sh:
# everything from the staging tree STAGE that make install (and make -C
# kmod install) filled, nothing from the build: the module, vmmc_ctl, a
# program built with pkg-config against the installed libvmmc (shared
# and static), the shim. TAP lines go to stdout and to TAPFILE.
# Usage: guest.sh STAGE PREFIX KVER TAPFILE
set -euo pipefail
stage=$1 prefix=$2 kver=$3 tapfile=$4
n=0
: >"$tapfile"
tap() {	# tap STATUS DESCRIPTION: STATUS 0 is ok
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2" | tee -a "$tapfile"
	else
		echo "not ok $n - $2" | tee -a "$tapfile"
	fi
}
run() {	# run DESCRIPTION CMD...: one TAP line for CMD's status
	local d=$1 rc=0
	shift
	"$@" || rc=$?
	tap "$rc" "$d"
}

ko=$stage/lib/modules/$kver/updates/vmmc.ko
lib=$stage$prefix/lib
dmesg -C 2>/dev/null || true
run "insmod the module make -C kmod install put in the staging tree" insmod "$ko"
run "/dev/vmmc0 is there" test -c /dev/vmmc0
run "the installed vmmc_ctl shows the NIC" \
	bash -c "'$stage$prefix/sbin/vmmc_ctl' show | grep -q vmmc0"
# the program finds the installed library, not the build's
# (ldd's output is read whole: grep -q closing the pipe early would kill
# ldd with SIGPIPE, and pipefail would count that as a failure)
deps=$(LD_LIBRARY_PATH=$lib ldd "$stage/hello_vmmc" 2>&1) || true
if grep -qF "libvmmc.so.0 => $lib/libvmmc.so.0" <<<"$deps"; then
	tap 0 "hello_vmmc is linked with the installed libvmmc.so.0"
else
	sed 's/^/# /' <<<"$deps"
	tap 1 "hello_vmmc is linked with the installed libvmmc.so.0"
fi
run "hello_vmmc (shared libvmmc): export, import, send, notify, bytes checked" \
	env LD_LIBRARY_PATH="$lib" timeout 60 "$stage/hello_vmmc"
run "hello_vmmc_static (libvmmc.a): the same" timeout 60 "$stage/hello_vmmc_static"
run "the installed shim loads into a program (VMMC_HOSTS_FILE from the stage)" \
	env LD_PRELOAD="$lib/vmmc/libvmmc-preload.so" \
	VMMC_HOSTS_FILE="$stage/etc/vmmc/hosts" true
# the installed provider, found through FI_PROVIDER_PATH (this LIBDIR is
# not libfabric's own), loads the installed libvmmc through its run path
fi_found() {
	local l out
	l=$(ldd "$lib/libfabric/libvmmc-fi.so" | awk '/libvmmc.so.0 =>/ { print $3 }')
	[ "$(realpath "$l")" = "$lib/libvmmc.so.0" ] || return 1
	out=$(FI_PROVIDER_PATH=$lib/libfabric fi_info -p vmmc) &&
		grep -q 'provider: vmmc$' <<<"$out"
}
if command -v fi_info >/dev/null; then
	run "the installed libfabric provider: fi_info -p vmmc lists it, over the installed libvmmc.so.0" fi_found
else
	echo "ok $((n + 1)) - the installed libfabric provider: no fi_info # SKIP" | tee -a "$tapfile"
	n=$((n + 1))
fi
run "rmmod vmmc" rmmod vmmc
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace'; then
	tap 1 "kernel log clean"
else
	tap 0 "kernel log clean"
fi

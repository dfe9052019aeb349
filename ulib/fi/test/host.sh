#!/bin/bash
# SPDX-License-Identifier: MIT
# Host-side checks of libvmmc-fi.so (TAP): the plugin exports fi_prov_ini
# alone, and on a machine without /dev/vmmc* libfabric's fi_info finds no
# vmmc provider, at once, and loads it without complaint.
# Usage: host.sh DIR (where libvmmc-fi.so is)
set -u
dir=$1
so=$dir/libvmmc-fi.so
n=0 fails=0 skips=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skips=$((skips + 1)); echo "ok $n $1 # SKIP $2"; }
echo "1..3"

syms=$(nm -D --defined-only "$so" | awk '{ print $3 }' | tr '\n' ' ')
if [ "$syms" = "fi_prov_ini " ]; then
	ok "libvmmc-fi.so exports fi_prov_ini alone"
else
	nok "libvmmc-fi.so exports fi_prov_ini alone (exports: $syms)"
fi

if ! command -v fi_info > /dev/null; then
	skip "fi_info without a NIC" "no fi_info (libfabric-bin)"
	skip "fi_info without a NIC: quick" "no fi_info (libfabric-bin)"
elif compgen -G '/dev/vmmc[0-9]*' > /dev/null; then
	skip "fi_info without a NIC" "this machine has /dev/vmmc*"
	skip "fi_info without a NIC: quick" "this machine has /dev/vmmc*"
else
	t0=$(date +%s%N)
	out=$(FI_PROVIDER_PATH=$dir FI_LOG_LEVEL=info FI_LOG_PROV=vmmc \
	      timeout 60 fi_info -p vmmc 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	# 61: ENODATA; the core logs that it loaded the plugin and that the
	# provider had nothing, and nothing of ours warns
	if [ "$rc" = 61 ] &&
	   grep -q 'provider vmmc returned -61' <<< "$out" &&
	   ! grep -q ':vmmc:.*<warn>' <<< "$out"; then
		ok "fi_info -p vmmc without a NIC: no provider (rc 61), plugin loaded, no warning"
	else
		nok "fi_info -p vmmc without a NIC: rc $rc, output: $out"
	fi
	# all of fi_info, every provider loaded: well under 10 s on a
	# loaded machine (about 0.3 s idle)
	if [ "$ms" -lt 10000 ]; then
		ok "fi_info without a NIC took $ms ms (< 10000)"
	else
		nok "fi_info without a NIC took $ms ms (< 10000)"
	fi
fi
echo "# Totals: pass:$((n - fails - skips)) fail:$fails xfail:0 xpass:0 skip:$skips error:0"
[ "$fails" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check's install part: vmmc used from outside the tree.
#   1. make install into a DESTDIR staging tree (the default PREFIX):
#      exactly the files of the install list, the library's soname and
#      symbol versions, libvmmc.pc;
#   2. a program of a user's own (hello_vmmc.c), built with gcc and clang
#      with `pkg-config --cflags --libs libvmmc` and nothing else (the
#      staging tree through PKG_CONFIG_SYSROOT_DIR), shared and static;
#   3. the fabric's service start script from the staging tree;
#   4. the module from make install-dkms's source, built by make -C kmod
#      KDIR=... install into the staging tree;
#   5. a guest that loads that module and runs the program, vmmc_ctl and
#      the shim, all from the staging tree (guest.sh);
#   6. make uninstall (and uninstall-dkms) leave the staging tree empty;
#      a changed configuration file survives reinstall and uninstall.
# Prints TAP lines; writes "RESULT pass fail skip" to RESULT_FILE.
# Usage: selftests/install/check.sh BUILD_DIR RESULT_FILE
# shellcheck disable=SC2016 # the bash -c scripts take their arguments as $1...
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 result=$2
cd "$top"
stage=$build/install-stage
prefix=/usr/local
kver=$(find /boot -maxdepth 1 -name 'vmlinuz-6.1*-amd64' | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)
version=$(cat VERSION)
pass=0 fail=0 skip=0 n=0
log=$build/results/install.log
mkdir -p "$build/results"
: >"$log"

# shellcheck source=selftests/install/tap_lib.sh
. "$top/selftests/install/tap_lib.sh"
finish() {	# a script stopped by set -e counts as a failure
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "not ok - the install tests stopped early (status $rc); log: $log"
		fail=$((fail + 1))
	fi
	echo "RESULT $pass $fail $skip" >"$result"
}
trap finish EXIT

rm -rf "$stage"

mkmake() { make --no-print-directory -s "$@"; }

# ---- 0. one version: VERSION, debian/changelog (the packages' names)
if command -v dpkg-parsechangelog >/dev/null; then
	dv=$(dpkg-parsechangelog -l debian/changelog -S Version)
	run "debian/changelog's version $dv is VERSION's $version" test "$dv" = "$version"
else
	tap 77 "debian/changelog's version: no dpkg-parsechangelog"
fi

# ---- 1. make install
run "make install DESTDIR=<stage> (PREFIX $prefix)" mkmake install DESTDIR="$stage"
want=$(mkmake install-list | sort)
have=$(cd "$stage" && find . ! -type d | sed 's|^\.||' | sort)
if [ "$want" = "$have" ]; then
	tap 0 "the staging tree holds exactly the install list ($(wc -l <<<"$want") files)"
else
	diff <(echo "$want") <(echo "$have") | sed 's/^/# /' | head -n 20
	tap 1 "the staging tree holds exactly the install list"
fi
lib=$stage$prefix/lib
soname=$(readelf -d "$lib/libvmmc.so.0" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
run "libvmmc.so.0: soname $soname, libvmmc.so -> libvmmc.so.0" \
	test "$soname" = libvmmc.so.0 -a "$(readlink "$lib/libvmmc.so")" = libvmmc.so.0
nver=$(objdump -T "$lib/libvmmc.so.0" | grep -cE ' VMMC_0\.[0-9]+ +vmmc_ep_open$' || true)
run "libvmmc.so.0 is the built one, its symbols versioned (vmmc_ep_open@VMMC_0.x)" \
	bash -c '[ "$1" = 1 ] && cmp "$2" "$3"' _ "$nver" "$lib/libvmmc.so.0" "$build/ulib/libvmmc.so.0"

run "the installed shim's default hosts file is /etc/vmmc/hosts (SYSCONFDIR)" \
	bash -c 'strings "$1" | grep -qx /etc/vmmc/hosts' _ "$lib/vmmc/libvmmc-preload.so"

# ---- 2. a program of one's own, with pkg-config alone
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$lib/pkgconfig
unset PKG_CONFIG_PATH
modver=$(pkg-config --modversion libvmmc || true)
run "pkg-config --modversion libvmmc: $modver (VERSION $version)" test "$modver" = "$version"
flags=$(pkg-config --cflags --libs libvmmc || true)
outside=0
for f in $flags; do
	case $f in
	-I* | -L*) [[ ${f:2} == "$stage"/* ]] || outside=1 ;;
	esac
done
run "pkg-config --cflags --libs libvmmc names only the staging tree: $flags" \
	test -n "$flags" -a "$outside" = 0
for cc in gcc clang; do
	if ! command -v "$cc" >/dev/null; then
		tap 77 "$cc: not installed"
		continue
	fi
	# run from the staging tree: no source tree directory on any path
	# shellcheck disable=SC2086 # pkg-config's flags are words
	run "$cc -std=c11 -Wall -Wextra -Werror -pedantic hello_vmmc.c \$(pkg-config --cflags --libs libvmmc)" \
		bash -c 'cd "$1" && shift && "$@"' _ "$stage" \
		"$cc" -std=c11 -Wall -Wextra -Werror -pedantic \
		"$top/selftests/install/hello_vmmc.c" $flags -o "$stage/hello_vmmc.$cc"
done
mv "$stage/hello_vmmc.gcc" "$stage/hello_vmmc" 2>/dev/null || true
rm -f "$stage/hello_vmmc.clang"
# static: libvmmc.a by its path, the rest of pkg-config --static
sflags=()
for f in $(pkg-config --cflags --libs --static libvmmc || true); do
	[ "$f" = -lvmmc ] || sflags+=("$f")
done
run "hello_vmmc_static: libvmmc.a with pkg-config --static's other flags (${sflags[*]})" \
	gcc -std=c11 -Wall -Wextra -Werror -pedantic "$top"/selftests/install/hello_vmmc.c \
	"$lib/libvmmc.a" "${sflags[@]}" -o "$stage/hello_vmmc_static"

unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# ---- 3. the fabric's service start script, from the staging tree
fdir=$stage/run-fabric
mkdir -p "$fdir"
RUNTIME_DIRECTORY=$fdir VMMC_FABRIC=$stage$prefix/sbin/vmmc-fabric \
	VMMC_FABRIC_NODES=2 VMMC_FABRIC_RAM=16M \
	"$stage$prefix/libexec/vmmc/vmmc-fabric-start" >>"$log" 2>&1 &
fpid=$!
for ((i = 0; i < 100; i++)); do
	[ ! -e "$fdir/fabric.pid" ] || break
	sleep 0.1
done
run "vmmc-fabric-start: the fabric serves node0.sock and node1.sock, RAM files 0660" \
	bash -c '[ -S "$1/node0.sock" ] && [ -S "$1/node1.sock" ] &&
		[ "$(stat -c %a "$1/node0.ram")" = 660 ] &&
		[ "$(stat -c %s "$1/node1.ram")" = 16777216 ]' _ "$fdir"
kill "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
rm -rf "$fdir"
if command -v systemd-analyze >/dev/null; then
	# only the unit's own settings: the staging root has no other units
	run "systemd-analyze verify vmmc-fabric.service: no unknown or bad settings" \
		bash -c '! systemd-analyze verify "$1" 2>&1 | grep -iE "unknown|invalid|failed to parse|ignoring"' \
		_ "$stage$prefix/lib/systemd/system/vmmc-fabric.service"
else
	tap 77 "systemd-analyze verify: no systemd-analyze"
fi

# ---- 4. the module: make install-dkms's source, make -C kmod install
src=$stage/usr/src/vmmc-$version
run "make install-dkms DESTDIR=<stage>" mkmake install-dkms DESTDIR="$stage"
run "make -C <dkms source>/kmod KDIR=<$kver headers> install INSTALL_MOD_PATH=<stage>" \
	make -C "$src/kmod" KDIR="/usr/src/linux-headers-$kver" \
	INSTALL_MOD_PATH="$stage" DEPMOD=true install

# ---- 5. in a guest: all of it from the staging tree
tapfile=$build/results/install-guest.tap
rm -f "$tapfile"
echo "# guest: selftests/install/guest.sh (module, hello_vmmc, vmmc_ctl, shim)"
grc=0
tools/vm/vmrun --timeout 300 -- bash selftests/install/guest.sh \
	"$stage" "$prefix" "$kver" "$tapfile" >>"$log" 2>&1 || grc=$?
if [ -s "$tapfile" ]; then
	cat "$tapfile"
	p=$(grep -c '^ok ' "$tapfile" || true)
	f=$(grep -c '^not ok ' "$tapfile" || true)
	pass=$((pass + p)) fail=$((fail + f))
fi
run "the guest run ended with status 0 ($grc)" test "$grc" = 0

# ---- 6. uninstall
rm -rf "$stage/lib/modules" "$stage/hello_vmmc" "$stage/hello_vmmc_static"
run "make uninstall-dkms DESTDIR=<stage>" mkmake uninstall-dkms DESTDIR="$stage"
run "make uninstall DESTDIR=<stage>" mkmake uninstall DESTDIR="$stage"
left=$( [ ! -d "$stage" ] || find "$stage" -mindepth 1 ! -type d )
run "make uninstall left no file in the staging tree${left:+: $left}" test -z "$left"
# a configuration file the user changed survives reinstall and uninstall
mkmake install DESTDIR="$stage" >>"$log" 2>&1
hosts=$stage/etc/vmmc/hosts
echo "10.0.0.1 0" >>"$hosts"
mkmake install DESTDIR="$stage" >>"$log" 2>&1
mkmake uninstall DESTDIR="$stage" >>"$log" 2>&1
run "a changed /etc/vmmc/hosts is kept by install (hosts.new) and uninstall" \
	bash -c '[ "$(tail -n 1 "$1")" = "10.0.0.1 0" ] &&
		[ "$(find "$2" ! -type d | wc -l)" = 1 ]' _ "$hosts" "$stage"
rm -rf "$stage"

# another SYSCONFDIR: the shim is rebuilt to read the hosts file there
alt=/opt/vmmc-etc
run "make install SYSCONFDIR=$alt: hosts there, the shim reads $alt/vmmc/hosts" \
	bash -c 'make --no-print-directory -s install DESTDIR="$1" SYSCONFDIR="$2" &&
		[ -f "$1$2/vmmc/hosts" ] &&
		strings "$1/usr/local/lib/vmmc/libvmmc-preload.so" | grep -qx "$2/vmmc/hosts" &&
		make --no-print-directory -s uninstall DESTDIR="$1" SYSCONFDIR="$2" &&
		[ ! -e "$1" ]' _ "$stage" "$alt"
# the build's shim as it was (SYSCONFDIR /etc)
mkmake ulib >>"$log" 2>&1
run "the build's shim reads /etc/vmmc/hosts again" \
	bash -c 'strings "$1" | grep -qx /etc/vmmc/hosts' _ "$build/ulib/libvmmc-preload.so"
rm -rf "$stage"

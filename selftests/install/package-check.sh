#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make package-check: the Debian packages, built and used as a user would.
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree (build/pkg/);
#   2. lintian: no error and no warning (--pedantic's infos are shown);
#   3. dpkg -i of libvmmc0, libvmmc-dev, vmmc-utils, libfabric-vmmc and
#      vmmc-dkms: the
#      group vmmc and user vmmc-fabric, the conffiles in /etc/vmmc;
#      pkg-config finds libvmmc with no help; hello_vmmc builds with it;
#   4. the installed vmmc-dkms builds the module for the Debian 6.1 guest
#      kernel (dkms build -k <version from /boot>);
#   5. a guest loads that module and runs hello_vmmc and vmmc_ctl as
#      installed (the guest sees this machine's root), and fi_info with no
#      environment finds the packaged provider; udev applies the
#      packaged rule there: /dev/vmmc0 is 0660 root:vmmc, a user outside
#      the group cannot open it, a member can;
#   6. dpkg --purge leaves the machine as it found it: no vmmc files, no
#      DKMS tree, no module, no user or group the packages created.
# Needs root (dpkg -i). Prints TAP lines and "N passed, N failed".
# Usage: selftests/install/package-check.sh BUILD_DIR
# shellcheck disable=SC2016 # the bash -c scripts take their arguments as $1...
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
cd "$top"
version=$(cat VERSION)
kver=$(find /boot -maxdepth 1 -name 'vmlinuz-6.1*-amd64' | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)
arch=$(dpkg --print-architecture)
pkgs=(libvmmc0 libvmmc-dev vmmc-utils libfabric-vmmc vmmc-dkms)
pdir=$build/pkg
log=$pdir/package-check.log
pass=0 fail=0 skip=0 n=0
t0=$(date +%s)

# shellcheck source=selftests/install/tap_lib.sh
. "$top/selftests/install/tap_lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "package-check: needs root (dpkg -i, dkms)" >&2
	exit 1
fi
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
		echo "package-check: $p is installed on this machine already; not touching it" >&2
		exit 1
	fi
done
rm -rf "$pdir"
mkdir -p "$pdir"
: >"$log"

# what the packages may create, and must not leave behind
had_group=0 had_user=0
getent group vmmc >/dev/null && had_group=1
getent passwd vmmc-fabric >/dev/null && had_user=1
mods_before=$(find /lib/modules -name 'vmmc.ko*' 2>/dev/null | sort)
# DKMS makes a module signing key at its first build: ours to remove then
had_mok=0
[ ! -e /var/lib/dkms/mok.key ] || had_mok=1

installed=0
cleanup() {
	local rc=$?
	set +e
	if [ "$installed" = 1 ]; then
		dpkg --purge "${pkgs[@]}" >>"$log" 2>&1
		[ "$had_user" = 1 ] || userdel vmmc-fabric >>"$log" 2>&1
		[ "$had_group" = 1 ] || groupdel vmmc >>"$log" 2>&1
	fi
	[ "$had_mok" = 1 ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	exit "$rc"
}
trap cleanup EXIT

# ---- 1. build, in a copy of the tree (dpkg-buildpackage writes ../*.deb)
src=$pdir/vmmc-$version
mkdir -p "$src"
git ls-files -co --exclude-standard | grep -v '^build/' | tar -cf - -T - | tar -xf - -C "$src"
ts=$(date +%s)
run "dpkg-buildpackage -us -uc -b" bash -c 'cd "$1" && dpkg-buildpackage -us -uc -b' _ "$src"
echo "# build took $(($(date +%s) - ts)) s"
debs=()
for p in "${pkgs[@]}"; do
	a=$arch
	[ "$p" != vmmc-dkms ] || a=all
	debs+=("$pdir/${p}_${version}_$a.deb")
done
run "the ${#pkgs[@]} packages are there (${pkgs[*]})" ls "${debs[@]}"
changes=$pdir/vmmc_${version}_$arch.changes
# every exported symbol in debian/libvmmc0.symbols, with the version that
# brought it (else programs using a new one get too weak a dependency)
if grep -q 'some new symbols appeared in the symbols file' "$log"; then
	sed -n '/some new symbols appeared/,/^ *dh_shlibdeps/p' "$log" | grep '^+ ' | sed 's/^/# /'
	tap 1 "debian/libvmmc0.symbols lists every exported symbol (add the new ones above with this version)"
else
	tap 0 "debian/libvmmc0.symbols lists every exported symbol"
fi

# ---- 2. lintian
lint=$pdir/lintian.txt
lrc=0
lint_as=()	# lintian would rather not run as root: as nobody, if it can read
if runuser -u nobody -- test -r "$changes" 2>/dev/null; then
	lint_as=(runuser -u nobody -- env HOME=/tmp TMPDIR=/tmp)
fi
"${lint_as[@]}" lintian --pedantic --display-info --fail-on error,warning \
	"$changes" >"$lint" 2>&1 || lrc=$?
grep -E '^[EWIPX]: ' "$lint" | sed 's/^/# lintian: /' || true
run "lintian: no error or warning ($(grep -cE '^[IP]: ' "$lint" || true) infos)" test "$lrc" = 0

# ---- 3. install
installed=1
run "dpkg -i ${pkgs[*]}" dpkg -i "${debs[@]}"
run "group vmmc and system user vmmc-fabric exist" \
	bash -c 'getent group vmmc && getent passwd vmmc-fabric | grep -q ":/nonexistent:"'
run "/etc/vmmc/hosts and fabric.conf are conffiles of vmmc-utils" \
	bash -c 'dpkg-query -W -f="\${Conffiles}\n" vmmc-utils | grep -q /etc/vmmc/hosts &&
		dpkg-query -W -f="\${Conffiles}\n" vmmc-utils | grep -q /etc/vmmc/fabric.conf'
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
fiprov=/usr/lib/$triplet/libfabric/libvmmc-fi.so
run "the udev rule, the unit, modules-load.d, the shim and the libfabric provider are where they belong" \
	ls /lib/udev/rules.d/60-vmmc.rules /lib/systemd/system/vmmc-fabric.service \
	/usr/lib/modules-load.d/vmmc.conf "/usr/lib/$triplet/vmmc/libvmmc-preload.so" \
	"$fiprov" /usr/share/man/man7/fi_vmmc.7.gz
modver=$(pkg-config --modversion libvmmc 2>>"$log" || true)
run "pkg-config --modversion libvmmc: $modver, with no PKG_CONFIG_* help" test "$modver" = "$version"
# shellcheck disable=SC2046 # pkg-config's flags are words
run "hello_vmmc builds against the packages: cc \$(pkg-config --cflags --libs libvmmc)" \
	gcc -std=c11 -Wall -Wextra -Werror -pedantic selftests/install/hello_vmmc.c \
	$(pkg-config --cflags --libs libvmmc) -o "$pdir/hello_vmmc"
run "hello_vmmc is linked with the packaged libvmmc.so.0 (/usr/lib/<triplet>)" \
	bash -c 'ldd "$1" | grep -qE "libvmmc.so.0 => (/usr)?/lib/$2/libvmmc.so.0"' \
	_ "$pdir/hello_vmmc" "$(dpkg-architecture -qDEB_HOST_MULTIARCH)"

# the service's start script with the shipped /etc/vmmc/fabric.conf, as
# the unit runs it: user vmmc-fabric, group vmmc, umask 0007
fdir=$(mktemp -d /tmp/vmmc-fabric-run.XXXXXX)
chown vmmc-fabric:vmmc "$fdir"
chmod 0750 "$fdir"
setpriv --reuid=vmmc-fabric --regid=vmmc --init-groups bash -c \
	'umask 0007 && set -a && . /etc/vmmc/fabric.conf && set +a &&
	RUNTIME_DIRECTORY=$1 exec /usr/libexec/vmmc/vmmc-fabric-start' _ "$fdir" >>"$log" 2>&1 &
fpid=$!
for ((i = 0; i < 100; i++)); do
	[ ! -e "$fdir/fabric.pid" ] || break
	sleep 0.1
done
run "vmmc-fabric-start as vmmc-fabric with fabric.conf: node sockets and RAM files for group vmmc" \
	bash -c 'for i in 0 1; do
		[ "$(stat -c "%U %G %A" "$1/node$i.sock")" = "vmmc-fabric vmmc srwxrwx---" ] &&
		[ "$(stat -c "%U %G %a %s" "$1/node$i.ram")" = "vmmc-fabric vmmc 660 536870912" ] || exit 1
	done' _ "$fdir"
kill "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
rm -rf "$fdir"

# ---- 4. DKMS builds the module for the guest kernel
run "dkms status lists vmmc/$version" bash -c 'dkms status vmmc | grep -q "vmmc/$1"' _ "$version"
ts=$(date +%s)
run "dkms build vmmc/$version -k $kver (the installed vmmc-dkms)" \
	dkms build -m vmmc -v "$version" -k "$kver" --force
echo "# dkms build took $(($(date +%s) - ts)) s"
ko=$(find "/var/lib/dkms/vmmc/$version/$kver" -name 'vmmc.ko' 2>/dev/null | head -n 1)
run "the DKMS-built vmmc.ko is for $kver (vermagic)" \
	bash -c '[ -n "$1" ] && modinfo -F vermagic "$1" | grep -q "^$2 "' _ "$ko" "$kver"

# ---- 5. in a guest: the packaged module, library and vmmc_ctl
tapfile=$pdir/guest.tap
gscript='set -u
out=$1 ko=$2 hello=$3
k=0
t() { k=$((k + 1)); if [ "$1" = 0 ]; then echo "ok $k - $2"; else echo "not ok $k - $2"; fi >>"$out"; }
insmod "$ko"; t $? "guest: insmod the DKMS-built module"
/usr/sbin/vmmc_ctl show | grep -q vmmc0; t $? "guest: /usr/sbin/vmmc_ctl shows the NIC"
timeout 60 "$hello"; t $? "guest: hello_vmmc over the packaged libvmmc.so.0"
# libfabric finds the packaged provider in its own directory: no
# FI_PROVIDER_PATH or any other variable
if command -v fi_info >/dev/null; then
	env -i PATH=/usr/bin:/bin fi_info -p vmmc 2>&1 | grep -q "provider: vmmc$"
	t $? "guest: fi_info -p vmmc finds the packaged provider, no environment set"
else
	echo "ok $((k + 1)) - guest: fi_info -p vmmc: no fi_info (libfabric-bin) # SKIP" >>"$out"
	k=$((k + 1))
fi
# the packaged udev rule (the guest runs in a chroot of this root: udev
# would ignore requests there without SYSTEMD_IGNORE_CHROOT)
if [ -x /lib/systemd/systemd-udevd ]; then
	export SYSTEMD_IGNORE_CHROOT=1
	/lib/systemd/systemd-udevd --daemon
	udevadm trigger --subsystem-match=vmmc --action=add && udevadm settle -t 30
	m=$(stat -c "%a %G" /dev/vmmc0)
	[ "$m" = "660 vmmc" ]; t $? "guest: udev made /dev/vmmc0 660 root:vmmc ($m)"
	# a copy any user may run (the tree may be under a private directory)
	cp "$hello" /tmp/hello_vmmc && chmod 0755 /tmp/hello_vmmc
	gid=$(getent group vmmc | cut -d: -f3)
	setpriv --reuid=65534 --regid=65534 --clear-groups timeout 60 /tmp/hello_vmmc |
		grep -q "open /dev/vmmc0: Permission denied"
	t $? "guest: a user outside group vmmc cannot open /dev/vmmc0"
	setpriv --reuid=65534 --regid="$gid" --clear-groups timeout 60 /tmp/hello_vmmc
	t $? "guest: a member of group vmmc (not root) runs hello_vmmc"
	udevadm control --exit
else
	echo "ok $((k + 1)) - guest: the udev rule: no systemd-udevd here # SKIP" >>"$out"
	k=$((k + 1))
fi
rmmod vmmc; t $? "guest: rmmod vmmc"'
: >"$tapfile"
grc=0
if [ -n "$ko" ]; then
	tools/vm/vmrun --timeout 300 -- bash -c "$gscript" _ "$tapfile" "$ko" \
		"$pdir/hello_vmmc" >>"$log" 2>&1 || grc=$?
fi
while read -r line; do
	case $line in
	"ok "*"# SKIP") line=${line#ok * - } && tap 77 "${line% \# SKIP}" ;;
	"ok "*) tap 0 "${line#ok * - }" ;;
	*) tap 1 "${line#not ok * - }" ;;
	esac
done <"$tapfile"
run "the guest run ended with status 0 ($grc)" test "$grc" = 0 -a -s "$tapfile"

# ---- 6. purge: the machine as it was
run "dpkg --purge ${pkgs[*]}" dpkg --purge "${pkgs[@]}"
installed=0
[ "$had_user" = 1 ] || userdel vmmc-fabric >>"$log" 2>&1 || true
[ "$had_group" = 1 ] || groupdel vmmc >>"$log" 2>&1 || true
[ "$had_mok" = 1 ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
mods_after=$(find /lib/modules -name 'vmmc.ko*' 2>/dev/null | sort)
left=$(ls -d /usr/src/vmmc-* /var/lib/dkms/vmmc /etc/vmmc /usr/include/vmmc \
	/lib/udev/rules.d/60-vmmc.rules /usr/sbin/vmmc_ctl "$fiprov" 2>/dev/null || true)
[ "$mods_before" = "$mods_after" ] || left+=" $mods_after"
run "nothing of vmmc is left after the purge${left:+: $left}" test -z "$left"
run "the user and group are as before (user $had_user, group $had_group)" \
	bash -c '[ "$(getent passwd vmmc-fabric >/dev/null && echo 1 || echo 0)" = "$1" ] &&
		[ "$(getent group vmmc >/dev/null && echo 1 || echo 0)" = "$2" ]' _ "$had_user" "$had_group"

echo "# package-check took $(($(date +%s) - t0)) s; log: $log"
echo "RESULT $pass $fail $skip" >"$pdir/result"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]

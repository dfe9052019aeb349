#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what vmmc needs on Debian bookworm, only what is missing, and
# extract the few files taken from linux-source-6.1 (kselftest headers,
# checkpatch) into build/linux-src. Safe to run again: does nothing when
# everything is there. `setup-deps.sh package`: also what make
# package-check needs (the Debian packaging tools and DKMS).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux-src

pkgs=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static
      libnl-3-dev libnl-genl-3-dev linux-source-6.1 sparse clang make gcc
      xz-utils cpio binutils python3 iproute2 kmod procps iperf3
      sockperf redis-server redis-tools pkg-config libfabric-dev
      libfabric-bin openmpi-bin libopenmpi-dev python3-mpi4py
      netpipe-openmpi tshark nginx-light curl memcached openbsd-inetd
      apache2 libmemcached-tools)
if [ "${1:-}" = package ]; then
	pkgs+=(debhelper dh-dkms dkms lintian fakeroot dpkg-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: need root to apt-get install ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# redis-server, nginx, memcached, inetd, apache2 run inside the guests
	# only: keep their services from starting on this machine while they
	# are installed
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The guest kernel: Debian's 6.1, with matching headers (never the host's).
kver=$(ls /boot | sed -n 's/^vmlinuz-\(6\.1\..*-amd64\)$/\1/p' | sort -V | tail -n 1)
if [ -z "$kver" ] || [ ! -d "/usr/src/linux-headers-$kver" ]; then
	echo "setup: no Debian 6.1 guest kernel with headers in /boot" >&2
	exit 1
fi

if [ ! -f "$src/.done" ]; then
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n 1)
	echo "setup: extracting kselftest headers and checkpatch from $tarball"
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch "$src/.done"
fi

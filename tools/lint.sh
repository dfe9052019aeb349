#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make lint: checkpatch --strict and sparse on kmod/, and every user-space
# part built with gcc and with clang, warnings as errors. Exit non-zero on
# any finding.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
kver=$(ls /boot | sed -n 's/^vmlinuz-\(6\.1\..*-amd64\)$/\1/p' | sort -V | tail -n 1)
kdir=/usr/src/linux-headers-$kver
rc=0

echo "== checkpatch --strict kmod/"
# the sources, not what make -C kmod generates there (vmmc.mod.c)
srcs=()
for f in kmod/*.[ch]; do
	[[ $f == *.mod.c ]] || srcs+=("$f")
done
perl build/linux-src/scripts/checkpatch.pl --strict --no-tree --terse \
	-f "${srcs[@]}" > build/lint-checkpatch.log 2>&1
if grep -E '(ERROR|WARNING|CHECK):' build/lint-checkpatch.log; then rc=1; else echo "clean"; fi

echo "== sparse (C=2) kmod/"
make -s -C "$kdir" M="$top" C=2 CHECK="sparse -Wno-decl" modules > build/lint-sparse.log 2>&1 || rc=1
if grep -E 'warning:|error:' build/lint-sparse.log; then rc=1; else echo "clean"; fi

for cc in gcc clang; do
	echo "== user space with $cc -Werror"
	o=$top/build/lint-$cc
	for part in "ulib:ulib" "tools/fabric:tools/fabric" \
		    "tools/vmmc_ctl:tools/vmmc_ctl" "selftests:selftests" \
		    "ulib/fi:ulib/fi" \
		    "tools/bench:tools/bench"; do
		dir=${part%%:*}
		if ! make -s -B -C "$dir" CC=$cc O="$o/${part##*:}" \
			ULIB_O="$o/ulib" \
			KSFT="$top/build/linux-src/tools/testing/selftests" \
			> "$o.$(basename "$dir").log" 2>&1; then
			echo "$dir: $cc failed:"; cat "$o.$(basename "$dir").log"; rc=1
		fi
	done
	[ $rc -eq 0 ] && echo "clean"
done
exit $rc

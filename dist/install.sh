#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dist/install.sh install|uninstall|list: what `make install` puts where.
# One list (items() below) serves all three, so uninstall removes exactly
# what install put there: files, the libvmmc.so link, and the directories
# install had to create once they are empty again. Configuration files
# (SYSCONFDIR) are not overwritten when they exist and differ (the new one
# goes beside as FILE.new), and uninstall leaves a changed one in place.
# The variables come from install.mk (make install prints them).
set -euo pipefail
mode=${1:?usage: install.sh install|uninstall|list}
: "${TOP:?}" "${BUILD:?}" "${DESTDIR=}" "${SBINDIR:?}" "${LIBDIR:?}" \
	"${LIBEXECDIR:?}" "${INCLUDEDIR:?}" "${MANDIR:?}" "${DOCDIR:?}" \
	"${SYSCONFDIR:?}" "${UDEVRULESDIR:?}" "${SYSTEMDUNITDIR:?}" \
	"${MODULESLOADDIR:?}" "${SYSUSERSDIR:?}"
gen=$BUILD/dist

# items: KIND MODE SOURCE DEST-DIR [NAME]; KIND is file, conf or link
# (for a link SOURCE is its target)
items() {
	local f
	echo "file 0644 $BUILD/ulib/libvmmc.so.0 $LIBDIR"
	echo "link - libvmmc.so.0 $LIBDIR libvmmc.so"
	echo "file 0644 $BUILD/ulib/libvmmc.a $LIBDIR"
	echo "file 0644 $gen/libvmmc.pc $LIBDIR/pkgconfig"
	echo "file 0644 $BUILD/ulib/libvmmc-preload.so $LIBDIR/vmmc"
	# the libfabric provider, where libfabric looks by default when
	# LIBDIR is its own (Debian: /usr/lib/<triplet>/libfabric)
	echo "file 0644 $BUILD/ulib/fi/libvmmc-fi.so $LIBDIR/libfabric"
	# every public header, and the ABI headers they include (uapi/...)
	for f in "$TOP"/ulib/include/*.h; do
		echo "file 0644 $f $INCLUDEDIR/vmmc"
	done
	for f in "$TOP"/uapi/*.h; do
		echo "file 0644 $f $INCLUDEDIR/vmmc/uapi"
	done
	echo "file 0755 $BUILD/tools/vmmc_ctl/vmmc_ctl $SBINDIR"
	echo "file 0755 $BUILD/tools/fabric/vmmc-fabric $SBINDIR"
	echo "file 0755 $gen/vmmc-fabric-start $LIBEXECDIR/vmmc"
	for f in "$TOP"/ulib/man/*.[37] "$TOP"/ulib/fi/*.7 "$TOP"/tools/vmmc_ctl/*.8 \
		 "$TOP"/tools/fabric/*.8; do
		[ -e "$f" ] || continue
		echo "file 0644 $f $MANDIR/man${f##*.}"
	done
	for f in "$TOP"/README.md "$TOP"/docs/*.md; do
		echo "file 0644 $f $DOCDIR"
	done
	echo "file 0644 $TOP/dist/60-vmmc.rules $UDEVRULESDIR"
	echo "file 0644 $TOP/dist/modules-load.conf $MODULESLOADDIR vmmc.conf"
	echo "file 0644 $TOP/dist/sysusers.conf $SYSUSERSDIR vmmc.conf"
	echo "file 0644 $gen/vmmc-fabric.service $SYSTEMDUNITDIR"
	echo "conf 0644 $TOP/dist/hosts $SYSCONFDIR/vmmc"
	echo "conf 0644 $TOP/dist/fabric.conf $SYSCONFDIR/vmmc"
}

# The directories install created, one a line, parents first, as cmake's
# install_manifest.txt: uninstall removes them again if empty.
manifest=$BUILD/install_dirs.txt
mkdirs() {	# mkdirs DIR: create DIR and its missing parents, list them
	local d=$1 todo=()
	while [ ! -d "$d" ]; do
		todo=("$d" "${todo[@]}")
		d=$(dirname "$d")
	done
	for d in "${todo[@]}"; do
		mkdir -m 0755 "$d"
		echo "$d" >>"$manifest"
	done
}

do_install() {
	local kind m src dir name dst
	while read -r kind m src dir name; do
		dir=$DESTDIR$dir
		name=${name:-${src##*/}}
		dst=$dir/$name
		mkdirs "$dir"
		case $kind in
		file) install -m "$m" "$src" "$dst" ;;
		link) ln -sfn "$src" "$dst" ;;
		conf)
			if [ -e "$dst" ] && ! cmp -s "$src" "$dst"; then
				install -m "$m" "$src" "$dst.new"
				echo "install: kept $dst (changed); the shipped one is $dst.new"
			else
				install -m "$m" "$src" "$dst"
			fi
			;;
		esac
	done < <(items)
}

do_uninstall() {
	local kind m src dir name dst
	while read -r kind m src dir name; do
		name=${name:-${src##*/}}
		dst=$DESTDIR$dir/$name
		case $kind in
		file) rm -f "$dst" ;;
		link) [ ! -L "$dst" ] || rm -f "$dst" ;;
		conf)
			rm -f "$dst.new"
			if [ -e "$dst" ] && ! cmp -s "$src" "$dst"; then
				echo "uninstall: kept $dst (changed)"
			else
				rm -f "$dst"
			fi
			;;
		esac
	done < <(items)
	# directories, once empty: those install created (the manifest,
	# deepest first), and those that are ours alone in any case
	local own=()
	[ ! -f "$manifest" ] || mapfile -t own < <(tac "$manifest")
	own+=("$DESTDIR$INCLUDEDIR/vmmc/uapi" "$DESTDIR$INCLUDEDIR/vmmc"
	      "$DESTDIR$LIBDIR/vmmc" "$DESTDIR$LIBEXECDIR/vmmc"
	      "$DESTDIR$DOCDIR" "$DESTDIR$SYSCONFDIR/vmmc")
	for dir in "${own[@]}"; do
		[ ! -d "$dir" ] || rmdir --ignore-fail-on-non-empty "$dir"
	done
	rm -f "$manifest"
}

case $mode in
install) do_install ;;
uninstall) do_uninstall ;;
list) items | while read -r kind m src dir name; do
		echo "$dir/${name:-${src##*/}}"
	done ;;
*) echo "install.sh: unknown mode $mode" >&2; exit 2 ;;
esac

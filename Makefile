# SPDX-License-Identifier: GPL-2.0
# vmmc: top-level build. `make check` and `make demo` install what is
# missing (tools/setup-deps.sh), build everything, boot QEMU guests and run.
#
#   make            build the module, library, fabric, vmmc_ctl, selftests
#   make check      build + every test inside QEMU; ends "N passed, N failed"
#   make demo       build + a two-node cluster running the main job
#   make bench      build + host memcpy + a two-node cluster: latency and
#                   bandwidth of VMMC beside kernel TCP (tools/bench/run.sh)
#   make stress     build + the long forms of the abuse tests (fuzzer, kill -9
#                   stress, memory pressure; tools/stress/run.sh), e.g.
#                   make stress FUZZ_SECS=600 STRESS_SECS=600 MEMPRESS_SECS=300
#                   LINK_MSGS=100000 (the link layer under injected faults)
#   make lint       checkpatch --strict and sparse on kmod/, gcc and clang
#                   -Werror on user space
#   make shell      a shell on a one-node guest with the NIC
#   make install    libvmmc, headers, libvmmc.pc, the shim, the libfabric
#                   provider (LIBDIR/libfabric), vmmc_ctl,
#                   vmmc-fabric, man pages, udev/systemd files (install.mk;
#                   PREFIX, DESTDIR, LIBDIR...); make uninstall undoes it
#   make install-dkms   the module's source for DKMS (/usr/src/vmmc-VERSION)
#   make package-check  Debian packages: build, lintian, install, DKMS build
SHELL := /bin/bash
BUILD := $(CURDIR)/build
# The guest kernel: Debian's 6.1 in /boot (never the host's uname -r).
# Recursive (=) so it is read after `deps` installed it.
KVER = $(shell ls /boot | sed -n 's/^vmlinuz-\(6\.1\..*-amd64\)$$/\1/p' | sort -V | tail -n 1)
KDIR = /usr/src/linux-headers-$(KVER)
CC ?= gcc

.DEFAULT_GOAL := all
.PHONY: all deps kmod ulib fi fi-plugin fabric ctl selftests bench-build bench initramfs \
	check stress demo lint shell clean

all: deps
	@$(MAKE) --no-print-directory build

# Everything after deps, in one make so that KVER is known.
.PHONY: build
build: kmod ulib fi fabric ctl selftests bench-build initramfs

deps:
	@tools/setup-deps.sh

kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	@mkdir -p $(BUILD) && cmp -s vmmc.ko $(BUILD)/vmmc.ko || cp vmmc.ko $(BUILD)/vmmc.ko

ulib:
	$(MAKE) -C ulib O=$(BUILD)/ulib CC=$(CC)

# the libfabric provider and its tests (needs libfabric-dev and Open MPI's
# mpicc; apart from ulib, which the Debian packages build without them)
fi: ulib
	$(MAKE) -C ulib/fi O=$(BUILD)/ulib/fi ULIB_O=$(BUILD)/ulib CC=$(CC)

# the provider alone (make install, the Debian package)
fi-plugin: ulib
	$(MAKE) -C ulib/fi O=$(BUILD)/ulib/fi ULIB_O=$(BUILD)/ulib CC=$(CC) plugin

fabric:
	$(MAKE) -C tools/fabric O=$(BUILD)/tools/fabric CC=$(CC)

ctl:
	$(MAKE) -C tools/vmmc_ctl O=$(BUILD)/tools/vmmc_ctl CC=$(CC)

selftests: ulib
	$(MAKE) -C selftests O=$(BUILD)/selftests ULIB_O=$(BUILD)/ulib \
		KSFT=$(BUILD)/linux-src/tools/testing/selftests CC=$(CC)

bench-build: ulib
	$(MAKE) -C tools/bench O=$(BUILD)/tools/bench ULIB_O=$(BUILD)/ulib CC=$(CC)

initramfs:
	tools/vm/mkinitramfs $(KVER) $(BUILD)/vm/initramfs.cpio.gz

check: all
	@selftests/check.sh

# durations and sizes of make stress, passed on only when given
STRESS_VARS := FUZZ_SECS FUZZ_PROCS STRESS_SECS STRESS_PROCS KILL_MS \
	MEMPRESS_SECS LINK_MSGS SEED
stress: all
	@env $(foreach v,$(STRESS_VARS),$(if $($(v)),$(v)=$($(v)))) \
		tools/stress/run.sh

demo: all
	@tools/demo.sh

bench: all
	@tools/bench/run.sh

shell: all
	tools/vm/vmrun --shell

lint: deps
	@$(MAKE) --no-print-directory build
	@tools/lint.sh

include install.mk

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)/ulib $(BUILD)/tools $(BUILD)/selftests $(BUILD)/vm \
		$(BUILD)/vmmc.ko $(BUILD)/results $(BUILD)/run
	-$(MAKE) -C kmod KDIR=$(KDIR) clean
	rm -rf $(BUILD)/dist $(BUILD)/install-stage $(BUILD)/pkg

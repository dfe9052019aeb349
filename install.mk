# SPDX-License-Identifier: GPL-2.0
# make install / uninstall / install-dkms / uninstall-dkms (included by the
# top Makefile). GNU directory variables, all overridable on the command
# line; DESTDIR prefixes every path (staging trees, packages):
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=...] ...
#   make uninstall (the same variables): removes what install put there
#   make install-dkms: the module's source in $(DESTDIR)/usr/src/vmmc-$(VERSION)
#
# The list of what goes where is dist/install.sh's; SYSCONFDIR is /etc
# whatever PREFIX is (the shim is built to read $(SYSCONFDIR)/vmmc/hosts).
VERSION := $(shell cat $(CURDIR)/VERSION)
PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
BINDIR ?= $(EXEC_PREFIX)/bin
SBINDIR ?= $(EXEC_PREFIX)/sbin
LIBDIR ?= $(EXEC_PREFIX)/lib
LIBEXECDIR ?= $(EXEC_PREFIX)/libexec
INCLUDEDIR ?= $(PREFIX)/include
DATAROOTDIR ?= $(PREFIX)/share
MANDIR ?= $(DATAROOTDIR)/man
DOCDIR ?= $(DATAROOTDIR)/doc/vmmc
SYSCONFDIR ?= /etc
# systemd and udev also read these under /usr/local/lib
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DKMSDIR ?= /usr/src/vmmc-$(VERSION)
DESTDIR ?=

INSTALL_VARS := TOP=$(CURDIR) BUILD=$(BUILD) DESTDIR=$(DESTDIR) \
	SBINDIR=$(SBINDIR) LIBDIR=$(LIBDIR) LIBEXECDIR=$(LIBEXECDIR) \
	INCLUDEDIR=$(INCLUDEDIR) MANDIR=$(MANDIR) DOCDIR=$(DOCDIR) \
	SYSCONFDIR=$(SYSCONFDIR) UDEVRULESDIR=$(UDEVRULESDIR) \
	SYSTEMDUNITDIR=$(SYSTEMDUNITDIR) MODULESLOADDIR=$(MODULESLOADDIR) \
	SYSUSERSDIR=$(SYSUSERSDIR)
SUBST := sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	-e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

.PHONY: install uninstall install-list dist-gen install-dkms uninstall-dkms \
	package-check

# the files made from dist/*.in with this install's paths
dist-gen:
	@mkdir -p $(BUILD)/dist
	$(SUBST) dist/libvmmc.pc.in > $(BUILD)/dist/libvmmc.pc
	$(SUBST) dist/vmmc-fabric.service.in > $(BUILD)/dist/vmmc-fabric.service
	$(SUBST) dist/vmmc-fabric-start.in > $(BUILD)/dist/vmmc-fabric-start

# user space only: the module is DKMS's (install-dkms) or make -C kmod's
install: ulib fi-plugin fabric ctl dist-gen
	@env $(INSTALL_VARS) dist/install.sh install

uninstall:
	@env $(INSTALL_VARS) dist/install.sh uninstall

install-list:
	@env $(INSTALL_VARS) dist/install.sh list

install-dkms:
	install -d $(DESTDIR)$(DKMSDIR)/kmod $(DESTDIR)$(DKMSDIR)/uapi
	sed 's|#MODULE_VERSION#|$(VERSION)|' dkms.conf > $(DESTDIR)$(DKMSDIR)/dkms.conf
	install -m 0644 Kbuild $(DESTDIR)$(DKMSDIR)/
	install -m 0644 $(filter-out %.mod.c,$(wildcard kmod/*.c)) kmod/*.h \
		kmod/Kbuild kmod/Makefile $(DESTDIR)$(DKMSDIR)/kmod/
	install -m 0644 uapi/*.h $(DESTDIR)$(DKMSDIR)/uapi/

uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMSDIR)

# the Debian packages: build, lintian, install, DKMS for the guest kernel,
# a guest, purge (as root; leaves the machine as it was)
package-check: deps
	@tools/setup-deps.sh package
	@selftests/install/package-check.sh $(BUILD)

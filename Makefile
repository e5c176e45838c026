# machine-id-init: build, test, install and package.
#
#   make                    static release build (what an initramfs needs)
#   make check              the test suite (cargo test)
#   make install            everything, into $(DESTDIR); packagers whose cargo step ran
#                           separately: make NOBUILD=1 [BIN=path/to/machine-id-init] install
#   make install-systemd    one boot system only (also install-bin, install-dracut,
#                           install-initramfs-tools, install-mkinitcpio, install-openrc, install-man)
#   make deb                target/debian/machine-id-init_$(VERSION)-1_amd64.deb (cargo-deb)
#   make rpm                target/generate-rpm/machine-id-init-$(VERSION)-1.x86_64.rpm
#                           (cargo-generate-rpm)
#
# Every installed file that names the binary is rendered from a template (*.in, @SBINDIR@) with
# the configured SBINDIR: `make install SBINDIR=/usr/bin` leaves no /usr/sbin anywhere.

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKG_CONFIG ?= pkg-config
# From the installed systemd and dracut where they say, else the usual places.
ifeq ($(origin SYSTEMD_UNIT_DIR),undefined)
SYSTEMD_UNIT_DIR := $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)
endif
ifeq ($(origin DRACUT_MODULES_DIR),undefined)
DRACUT_MODULES_DIR := $(or $(shell $(PKG_CONFIG) --variable=dracutmodulesdir dracut 2>/dev/null),$(PREFIX)/lib/dracut/modules.d)
endif
INITRAMFS_TOOLS_DIR ?= $(DATADIR)/initramfs-tools
MKINITCPIO_DIR ?= $(PREFIX)/lib/initcpio
OPENRC_DIR ?= $(SYSCONFDIR)/init.d
DESTDIR ?=

CARGO ?= cargo
TARGET ?= x86_64-unknown-linux-gnu
CARGO_TARGET_DIR ?= target
BIN ?= $(CARGO_TARGET_DIR)/$(TARGET)/release/machine-id-init
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
INSTALL ?= install

# The integration files under units/ are templates (*.in) naming @SBINDIR@; `make units` fills
# them into $(UNITS_OUT) with the configured binary path (tests and packages take them there).
UNITS_OUT ?= target/units
TEMPLATES := $(shell find units -name '*.in' | sort)
RENDERED := $(patsubst units/%.in,$(UNITS_OUT)/%,$(TEMPLATES))
# The man page names the binary's path too.
MAN_OUT ?= target/man
MAN_PAGES := $(MAN_OUT)/machine-id-init.8 $(MAN_OUT)/machine-id-init.conf.5

# Where `make deb` and `make rpm` leave their package (one file each).
DEB := target/debian/machine-id-init_$(VERSION)-1_amd64.deb
RPM := target/generate-rpm/machine-id-init-$(VERSION)-1.x86_64.rpm

.PHONY: all build check units man install install-bin install-systemd install-dracut \
	install-initramfs-tools install-mkinitcpio install-openrc install-man uninstall deb rpm \
	print-deb print-rpm clean FORCE
all: build

# Static glibc, the release profile sized for an initramfs (.ci/static-check.sh checks both).
build:
	RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build --release --locked --target $(TARGET)

check:
	$(CARGO) test --locked

units: $(RENDERED)

# Always re-rendered: the output depends on SBINDIR as well as on the template.
$(UNITS_OUT)/%: units/%.in FORCE
	@mkdir -p $(@D)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@.tmp
	chmod --reference=$< $@.tmp
	mv $@.tmp $@

man: $(MAN_PAGES)

$(MAN_OUT)/%: man/%.in FORCE
	@mkdir -p $(@D)
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@VERSION@|$(VERSION)|g' $< > $@.tmp
	mv $@.tmp $@

FORCE:

ifeq ($(NOBUILD),1)
BUILD_DEP :=
else
BUILD_DEP := build
endif

install: install-bin install-systemd install-dracut install-initramfs-tools install-mkinitcpio \
	install-openrc install-man

install-bin: $(BUILD_DEP)
	$(INSTALL) -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/machine-id-init

# Each target installs only its own files; install-bin puts the binary they all name.
# The relabel unit is enabled statically, by the link its WantedBy=sysinit.target asks for, in the
# unit directory itself: it does nothing without SELinux (ConditionSecurity=selinux), and an id
# handed over from the initramfs needs it on the very first boot, before anyone could enable it.
install-systemd: units
	$(INSTALL) -D -m 0644 $(UNITS_OUT)/systemd/machine-id-init.service \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/machine-id-init.service
	$(INSTALL) -D -m 0644 $(UNITS_OUT)/systemd/machine-id-init-relabel.service \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/machine-id-init-relabel.service
	$(INSTALL) -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)/sysinit.target.wants
	ln -sfn ../machine-id-init-relabel.service \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/sysinit.target.wants/machine-id-init-relabel.service

install-dracut: units
	$(INSTALL) -D -m 0755 -t $(DESTDIR)$(DRACUT_MODULES_DIR)/90machine-id-init \
		$(UNITS_OUT)/dracut/90machine-id-init/module-setup.sh \
		$(UNITS_OUT)/dracut/90machine-id-init/machine-id-init.sh

install-initramfs-tools: units
	$(INSTALL) -D -m 0755 $(UNITS_OUT)/initramfs-tools/hooks/machine-id-init \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/machine-id-init
	$(INSTALL) -D -m 0755 $(UNITS_OUT)/initramfs-tools/scripts/init-bottom/machine-id-init \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-bottom/machine-id-init

install-mkinitcpio: units
	$(INSTALL) -D -m 0644 $(UNITS_OUT)/mkinitcpio/install/machine-id-init \
		$(DESTDIR)$(MKINITCPIO_DIR)/install/machine-id-init
	$(INSTALL) -D -m 0644 $(UNITS_OUT)/mkinitcpio/hooks/machine-id-init \
		$(DESTDIR)$(MKINITCPIO_DIR)/hooks/machine-id-init

install-openrc: units
	$(INSTALL) -D -m 0755 $(UNITS_OUT)/openrc/machine-id-init $(DESTDIR)$(OPENRC_DIR)/machine-id-init

install-man: man
	$(INSTALL) -D -m 0644 $(MAN_OUT)/machine-id-init.8 $(DESTDIR)$(MANDIR)/man8/machine-id-init.8
	$(INSTALL) -D -m 0644 $(MAN_OUT)/machine-id-init.conf.5 $(DESTDIR)$(MANDIR)/man5/machine-id-init.conf.5

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/machine-id-init \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/machine-id-init.service \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/machine-id-init-relabel.service \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/sysinit.target.wants/machine-id-init-relabel.service \
		$(DESTDIR)$(DRACUT_MODULES_DIR)/90machine-id-init/module-setup.sh \
		$(DESTDIR)$(DRACUT_MODULES_DIR)/90machine-id-init/machine-id-init.sh \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/machine-id-init \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-bottom/machine-id-init \
		$(DESTDIR)$(MKINITCPIO_DIR)/install/machine-id-init \
		$(DESTDIR)$(MKINITCPIO_DIR)/hooks/machine-id-init \
		$(DESTDIR)$(OPENRC_DIR)/machine-id-init \
		$(DESTDIR)$(MANDIR)/man8/machine-id-init.8 \
		$(DESTDIR)$(MANDIR)/man5/machine-id-init.conf.5
	-rmdir $(DESTDIR)$(DRACUT_MODULES_DIR)/90machine-id-init

# Debian (cargo-deb; metadata in Cargo.toml): /usr/sbin, the files from target/units and
# target/man rendered for it, maintainer scripts from packaging/debian. One .deb at $(DEB).
deb: $(BUILD_DEP)
	$(MAKE) -s units man SBINDIR=/usr/sbin UNITS_OUT=target/units MAN_OUT=target/man
	@rm -f target/debian/machine-id-init_*.deb
	$(CARGO) deb --no-build --target $(TARGET) --output $(DEB)
	@echo "$(DEB)"

# Fedora (cargo-generate-rpm): /usr/bin (merged /usr/sbin), files rendered into target/rpm.
rpm: $(BUILD_DEP)
	$(MAKE) -s units man SBINDIR=/usr/bin UNITS_OUT=target/rpm/units MAN_OUT=target/rpm/man
	gzip -9nf target/rpm/man/machine-id-init.8 target/rpm/man/machine-id-init.conf.5
	@rm -f target/generate-rpm/machine-id-init-*.rpm
	$(CARGO) generate-rpm --target $(TARGET) --output $(RPM)
	@echo "$(RPM)"

print-deb:
	@echo "$(DEB)"

print-rpm:
	@echo "$(RPM)"

clean:
	$(CARGO) clean

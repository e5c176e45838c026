# machine-id-init: build, test and install. Packagers: `make NOBUILD=1 install DESTDIR=...`.
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin

# The integration files under units/ are templates (*.in) naming @SBINDIR@; `make units` fills
# them into $(UNITS_OUT) with the configured binary path (tests and packages take them there).
UNITS_OUT ?= target/units
TEMPLATES := $(shell find units -name '*.in' | sort)
RENDERED := $(patsubst units/%.in,$(UNITS_OUT)/%,$(TEMPLATES))

.PHONY: units FORCE
units: $(RENDERED)

# Always re-rendered: the output depends on SBINDIR as well as on the template.
$(UNITS_OUT)/%: units/%.in FORCE
	@mkdir -p $(@D)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@.tmp
	chmod --reference=$< $@.tmp
	mv $@.tmp $@

FORCE:

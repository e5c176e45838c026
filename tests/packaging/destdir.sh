#!/usr/bin/env bash
# `make install` into scratch DESTDIRs (run by tests/packaging.rs and .ci/checks.d/packaging.sh):
#  1. SBINDIR=/usr/bin with the other directories at their defaults: every installed file that
#     names the binary names exactly /usr/bin/machine-id-init, no /usr/sbin is left anywhere,
#     the systemd and dracut directories are the ones pkg-config gives (where it does);
#  2. every directory variable set to something unusual: exactly the expected files, modes and
#     contents, the SELinux relabel unit enabled by a relative sysinit.target.wants link, and
#     `make uninstall` removes them all again;
#  3. per-ecosystem targets install only their own files.
# BIN names the binary to install (default: the debug build, built if missing); NOBUILD=1 is
# always passed, so no release build runs here. Prints PASS/FAIL lines and a summary.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

bin=${BIN:-target/debug/machine-id-init}
[ -x "$bin" ] || cargo build -q --locked
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1" >&2; failed=$((failed + 1)); }
check() { # check NAME COMMAND...: PASS when the command succeeds
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# Separate rendering directories: this test never disturbs target/units or target/man.
inst() { # inst DESTDIR MAKE-ARGS...
  local dest=$1; shift
  make -s NOBUILD=1 BIN="$bin" UNITS_OUT="$scratch/units" MAN_OUT="$scratch/man" \
    DESTDIR="$dest" "$@" >"$scratch/make.log" 2>&1 || { cat "$scratch/make.log" >&2; return 1; }
}

# Every path in a text file that ends in bin/machine-id-init (the binary), one a line.
# roff's \- is a plain - here.
named_paths() { sed 's/\\-/-/g' "$1" | grep -aoE '[/@][A-Za-z0-9_./@-]*bin/machine-id-init\b' | sort -u; }

# Each installed file that is not the binary names the binary, and only as $1.
names_only() { # names_only SBIN-PATH DESTDIR
  local want=$1 dest=$2 f ok=0 paths
  while IFS= read -r f; do
    [ "$f" = "$dest$want" ] && continue
    paths=$(named_paths "$f")
    if [ "$paths" != "$want" ]; then
      echo "  ${f#"$dest"} names: ${paths:-nothing}" >&2
      ok=1
    fi
  done < <(find "$dest" -type f | sort)
  return "$ok"
}

# Listing: path and octal mode of every file, and every link with its target, relative to the
# DESTDIR.
listing() { (cd "$1" && find . \( -type f -printf '%m %P\n' \) -o \( -type l -printf 'link %P -> %l\n' \) | sort -k2); }

# 1. The merged /usr (Fedora, Arch): SBINDIR=/usr/bin, directories from pkg-config.
d1=$scratch/merged
if inst "$d1" install SBINDIR=/usr/bin; then
  pass "make install DESTDIR=... SBINDIR=/usr/bin"
  check "the binary is installed as /usr/bin/machine-id-init, mode 755" \
    test "$(stat -c %a "$d1/usr/bin/machine-id-init" 2>/dev/null)" = 755
  check "every installed file names exactly /usr/bin/machine-id-init" \
    names_only /usr/bin/machine-id-init "$d1"
  check "no /usr/sbin anywhere (paths or contents)" \
    bash -c "! find '$d1' -path '*sbin*' | grep -q . && ! grep -rl -e /usr/sbin '$d1'"
  check "no template placeholder left (@SBINDIR@, @VERSION@)" \
    bash -c "! grep -rlE '@(SBINDIR|VERSION)@' '$d1'"
  check "nothing installed names the DESTDIR" bash -c "! grep -rlF '$scratch' '$d1'"
  unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
  dracutdir=$(pkg-config --variable=dracutmodulesdir dracut 2>/dev/null || true)
  check "the unit is in pkg-config's systemdsystemunitdir (${unitdir:-none: /usr/lib/systemd/system})" \
    test -f "$d1${unitdir:-/usr/lib/systemd/system}/machine-id-init.service"
  check "the relabel unit and its sysinit.target.wants link are there too" \
    test "$d1${unitdir:-/usr/lib/systemd/system}/sysinit.target.wants/machine-id-init-relabel.service" \
    -ef "$d1${unitdir:-/usr/lib/systemd/system}/machine-id-init-relabel.service"
  check "the dracut module is in pkg-config's dracutmodulesdir (${dracutdir:-none: /usr/lib/dracut/modules.d})" \
    test -x "$d1${dracutdir:-/usr/lib/dracut/modules.d}/90machine-id-init/module-setup.sh"
  check "the man pages are /usr/share/man/man8/machine-id-init.8 and man5/machine-id-init.conf.5" \
    test -f "$d1/usr/share/man/man8/machine-id-init.8" -a -f "$d1/usr/share/man/man5/machine-id-init.conf.5"
  check "the unit's ExecStart= is /usr/bin/machine-id-init" \
    grep -q '^ExecStart=/usr/bin/machine-id-init ' "$d1${unitdir:-/usr/lib/systemd/system}/machine-id-init.service"
  check "the relabel unit's ExecStart= is /usr/bin/machine-id-init relabel" \
    grep -qx 'ExecStart=/usr/bin/machine-id-init relabel' "$d1${unitdir:-/usr/lib/systemd/system}/machine-id-init-relabel.service"
else
  fail "make install DESTDIR=... SBINDIR=/usr/bin"
fi

# 2. Every directory variable, and the exact result.
d2=$scratch/custom
vars=(PREFIX=/opt/mii SBINDIR=/opt/mii/libexec/bin SYSTEMD_UNIT_DIR=/opt/units
  DRACUT_MODULES_DIR=/opt/dracut INITRAMFS_TOOLS_DIR=/opt/itools MKINITCPIO_DIR=/opt/initcpio
  OPENRC_DIR=/opt/rc/init.d MANDIR=/opt/man)
expected="755 opt/dracut/90machine-id-init/machine-id-init.sh
755 opt/dracut/90machine-id-init/module-setup.sh
644 opt/initcpio/hooks/machine-id-init
644 opt/initcpio/install/machine-id-init
755 opt/itools/hooks/machine-id-init
755 opt/itools/scripts/init-bottom/machine-id-init
644 opt/man/man5/machine-id-init.conf.5
644 opt/man/man8/machine-id-init.8
755 opt/mii/libexec/bin/machine-id-init
755 opt/rc/init.d/machine-id-init
644 opt/units/machine-id-init-relabel.service
644 opt/units/machine-id-init.service
link opt/units/sysinit.target.wants/machine-id-init-relabel.service -> ../machine-id-init-relabel.service"
if inst "$d2" install "${vars[@]}"; then
  pass "make install with every directory variable set"
  got=$(listing "$d2")
  if [ "$got" = "$expected" ]; then
    pass "exactly the 12 expected files, with their modes, and the relabel unit's link"
  else
    fail "exactly the 12 expected files, with their modes, and the relabel unit's link"
    diff <(echo "$expected") <(echo "$got") >&2 || true
  fi
  check "every installed file names exactly /opt/mii/libexec/bin/machine-id-init" \
    names_only /opt/mii/libexec/bin/machine-id-init "$d2"
  check "the installed binary is BIN, byte for byte" cmp -s "$bin" "$d2/opt/mii/libexec/bin/machine-id-init"
  check "the man page names the version of Cargo.toml" \
    grep -q "\"machine\\\\-id\\\\-init $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)\"" \
    "$d2/opt/man/man8/machine-id-init.8"
  check "a second make install succeeds (the link is replaced)" inst "$d2" install "${vars[@]}"
  check "the second install changes nothing" test "$(listing "$d2")" = "$expected"
  if inst "$d2" uninstall "${vars[@]}"; then
    check "make uninstall removes every file and link" test -z "$(find "$d2" ! -type d)"
  else
    fail "make uninstall"
  fi
else
  fail "make install with every directory variable set"
fi

# 3. One ecosystem at a time (install-systemd: the two units and the relabel unit's link).
for pair in install-systemd:3 install-dracut:2 install-initramfs-tools:2 install-mkinitcpio:2 \
  install-openrc:1 install-man:2 install-bin:1; do
  t=${pair%%:*} n=${pair#*:}
  d=$scratch/$t
  if inst "$d" "$t" SBINDIR=/usr/bin; then
    count=$(find "$d" ! -type d | wc -l)
    check "make $t installs its $n file(s) only (got $count)" test "$count" -eq "$n"
  else
    fail "make $t"
  fi
done

echo "destdir: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

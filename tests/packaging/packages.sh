#!/usr/bin/env bash
# Build both packages with the Makefile (`make deb`, `make rpm`) and check what is in them
# (run by .ci/checks.d/packaging.sh):
#  - the .deb: Debian's paths (dpkg-deb -c) with their modes, /usr/sbin named in every file that
#    names the binary, the OpenRC script a conffile, the maintainer scripts, and `lintian`
#    with no error and no warning that is not overridden in the package;
#  - the .rpm: Fedora's paths (rpm -qpl), /usr/bin named everywhere and no /usr/sbin, and a
#    %posttrans that runs dracut -f only where dracut exists (rpm -qp --scripts).
# Needs cargo-deb, cargo-generate-rpm, dpkg-deb, dpkg-parsechangelog, lintian, rpm, rpm2cpio and
# cpio: prints SKIP without them, except under CI=true, where a missing tool fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

missing=()
for tool in cargo-deb cargo-generate-rpm dpkg-deb dpkg-parsechangelog lintian rpm rpm2cpio cpio; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL packages: missing ${missing[*]} (.ci/setup.d and .ci/packages install them)" >&2
    exit 1
  fi
  echo "SKIP packages: missing ${missing[*]}"
  exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1" >&2; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
same() { # same NAME EXPECTED GOT
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; diff <(echo "$2") <(echo "$3") >&2 || true; fi
}
# Every path in the files of a tree (not the ELF binary) that ends in bin/machine-id-init,
# gzipped ones uncompressed, roff's \- read as -.
named_paths() {
  find "$1" -type f | sort | while read -r f; do
    [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && continue
    case "$f" in *.gz) zcat "$f" ;; *) cat "$f" ;; esac | sed 's/\\-/-/g' |
      grep -aoE '[/@][A-Za-z0-9_./@-]*bin/machine-id-init\b' || true
  done | sort -u
}

# ---- Debian
if deb=$(make -s deb 2>"$scratch/deb.log" | tail -n 1) && [ -f "$deb" ]; then
  pass "make deb: $deb"
  check "make deb leaves one .deb in target/debian" \
    test "$(find target/debian -maxdepth 1 -name '*.deb' | wc -l)" -eq 1
  check "make -s print-deb names it" test "$(make -s print-deb)" = "$deb"
  got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $1, $6 }' | sort -k2)
  same "the .deb holds Debian's paths, with their modes" "\
-rwxr-xr-x etc/init.d/machine-id-init
-rw-r--r-- usr/lib/dracut/dracut.conf.d/90-machine-id-init.conf
-rwxr-xr-x usr/lib/dracut/modules.d/90machine-id-init/machine-id-init.sh
-rwxr-xr-x usr/lib/dracut/modules.d/90machine-id-init/module-setup.sh
-rw-r--r-- usr/lib/systemd/system/machine-id-init.service
-rwxr-xr-x usr/sbin/machine-id-init
-rw-r--r-- usr/share/doc/machine-id-init/README.md
-rw-r--r-- usr/share/doc/machine-id-init/changelog.Debian.gz
-rw-r--r-- usr/share/doc/machine-id-init/copyright
-rwxr-xr-x usr/share/initramfs-tools/hooks/machine-id-init
-rwxr-xr-x usr/share/initramfs-tools/scripts/init-bottom/machine-id-init
-rw-r--r-- usr/share/lintian/overrides/machine-id-init
-rw-r--r-- usr/share/man/man8/machine-id-init.8.gz" "$got"
  tree=$scratch/deb
  dpkg-deb -R "$deb" "$tree"
  check "the packaged binary is the static build" \
    cmp -s target/x86_64-unknown-linux-gnu/release/machine-id-init "$tree/usr/sbin/machine-id-init"
  check "the packaged binary is static" bash -c "file -b '$tree/usr/sbin/machine-id-init' | grep -qE 'static(-pie)? linked|statically linked'"
  # The README names /usr/sbin as an example; the overrides use lintian's own relative names.
  rm -f "$tree/usr/share/doc/machine-id-init/README.md" "$tree/usr/share/lintian/overrides/machine-id-init"
  same "every file of the .deb that names the binary names /usr/sbin/machine-id-init" \
    /usr/sbin/machine-id-init "$(named_paths "$tree")"
  check "the unit's Documentation= names machine-id-init(8)" \
    grep -q '^Documentation=man:machine-id-init(8)' "$tree/usr/lib/systemd/system/machine-id-init.service"
  same "packaging/debian/changelog's latest entry is the package's version" \
    "$(dpkg-deb -f "$deb" Version)" "$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)"
  same "conffiles: the OpenRC script" /etc/init.d/machine-id-init "$(cat "$tree/DEBIAN/conffiles")"
  check "postinst runs update-initramfs -u on configure, only where it exists" \
    sh -c "grep -q 'configure)' '$tree/DEBIAN/postinst' && grep -q 'command -v update-initramfs' '$tree/DEBIAN/postinst' && grep -q 'update-initramfs -u' '$tree/DEBIAN/postinst'"
  check "postrm runs update-initramfs -u on remove, only where it exists" \
    sh -c "grep -q 'remove)' '$tree/DEBIAN/postrm' && grep -q 'command -v update-initramfs' '$tree/DEBIAN/postrm'"
  # The scripts' behaviour: a PATH with a recording update-initramfs, and one without any.
  mkdir -p "$scratch/bin"
  printf '#!/bin/sh\necho "$*" >> "%s/calls"\n' "$scratch" > "$scratch/bin/update-initramfs"
  chmod +x "$scratch/bin/update-initramfs"
  for step in "postinst configure" "postinst abort-upgrade" "postrm remove" "postrm upgrade" "postrm purge"; do
    PATH=$scratch/bin:/usr/bin:/bin sh "$tree/DEBIAN/${step% *}" "${step#* }" || fail "$step exits $?"
  done
  same "update-initramfs -u ran for 'postinst configure' and 'postrm remove' only" "-u
-u" "$(cat "$scratch/calls")"
  check "without update-initramfs, postinst and postrm succeed" \
    sh -c "PATH=/nonexistent /bin/sh '$tree/DEBIAN/postinst' configure && PATH=/nonexistent /bin/sh '$tree/DEBIAN/postrm' remove"
  lint=$(lintian --pedantic -I -E "$deb" 2>&1 | grep -v '^running with root privileges' || true)
  echo "lintian --pedantic -I -E:"
  while IFS= read -r line; do echo "  $line"; done <<< "${lint:-(nothing)}"
  check "lintian: no error" bash -c "! grep -q '^E:' <<< \"\$1\"" _ "$lint"
  check "lintian: no warning" bash -c "! grep -q '^W:' <<< \"\$1\"" _ "$lint"
  check "lintian: no unused override" bash -c "! grep -q 'unused-override' <<< \"\$1\"" _ "$lint"
else
  fail "make deb"
  cat "$scratch/deb.log" >&2
fi

# ---- RPM
if rpmf=$(make -s rpm 2>"$scratch/rpm.log" | tail -n 1) && [ -f "$rpmf" ]; then
  pass "make rpm: $rpmf"
  check "make -s print-rpm names it" test "$(make -s print-rpm)" = "$rpmf"
  same "rpm -qpl: Fedora's paths" "\
/usr/bin/machine-id-init
/usr/lib/dracut/dracut.conf.d/90-machine-id-init.conf
/usr/lib/dracut/modules.d/90machine-id-init/machine-id-init.sh
/usr/lib/dracut/modules.d/90machine-id-init/module-setup.sh
/usr/lib/systemd/system/machine-id-init.service
/usr/share/licenses/machine-id-init/LICENSE
/usr/share/man/man8/machine-id-init.8.gz" "$(rpm -qpl "$rpmf" 2>/dev/null | sort)"
  same "rpm modes" "755 /usr/bin/machine-id-init
755 /usr/lib/dracut/modules.d/90machine-id-init/machine-id-init.sh
755 /usr/lib/dracut/modules.d/90machine-id-init/module-setup.sh" \
    "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpmf" 2>/dev/null | awk '$1 ~ /x/ { print "755", $2 }' | sort)"
  scripts=$(rpm -qp --scripts "$rpmf" 2>/dev/null)
  posttrans=$(awk '/^posttrans scriptlet/ { on = 1; next } /scriptlet/ { on = 0 } on' <<< "$scripts")
  check "rpm -qp --scripts: a %posttrans that runs dracut -f" grep -q 'dracut -f' <<< "$posttrans"
  check "%posttrans runs dracut only where it exists (command -v dracut)" \
    grep -q 'if command -v dracut' <<< "$posttrans"
  # The scriptlet itself, with and without dracut on PATH.
  printf '#!/bin/sh\necho "$*" >> "%s/dracut-calls"\n' "$scratch" > "$scratch/bin/dracut"
  chmod +x "$scratch/bin/dracut"
  PATH=$scratch/bin:/usr/bin:/bin sh -c "$posttrans"
  same "%posttrans with dracut: dracut -f --regenerate-all" "-f --regenerate-all" "$(cat "$scratch/dracut-calls")"
  check "%posttrans without dracut succeeds and does nothing" sh -c "PATH=/nonexistent; $posttrans"
  rtree=$scratch/rpm
  mkdir -p "$rtree"
  # rpm 4.18's rpm2cpio exits 1 on a zstd payload it wrote out whole: judge by what came out.
  rpm2cpio "$rpmf" > "$scratch/rpm.cpio" 2>/dev/null || true
  (cd "$rtree" && cpio -idm --quiet < "$scratch/rpm.cpio")
  check "the .rpm's payload unpacks (7 files)" test "$(find "$rtree" -type f | wc -l)" -eq 7
  check "the .rpm's binary is the static build" \
    cmp -s target/x86_64-unknown-linux-gnu/release/machine-id-init "$rtree/usr/bin/machine-id-init"
  same "every file of the .rpm that names the binary names /usr/bin/machine-id-init" \
    /usr/bin/machine-id-init "$(named_paths "$rtree")"
  check "no /usr/sbin in the .rpm" bash -c "! grep -rlaz /usr/sbin '$rtree' && ! zgrep -q /usr/sbin '$rtree/usr/share/man/man8/machine-id-init.8.gz'"
  check "the .rpm requires no shared library" bash -c "! rpm -qpR '$rpmf' 2>/dev/null | grep -q '\.so'"
else
  fail "make rpm"
  cat "$scratch/rpm.log" >&2
fi

echo "packages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

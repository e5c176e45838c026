#!/usr/bin/env bash
# Build both packages with the Makefile (`make deb`, `make rpm`) and check what is in them
# (run by .ci/checks.d/packaging.sh):
#  - the .deb: Debian's paths (dpkg-deb -c) with their modes, the SELinux relabel unit enabled
#    by its sysinit.target.wants link, /usr/sbin named in every file that names the binary, the
#    OpenRC script a conffile, the maintainer scripts, and `lintian` with no error and no warning
#    that is not overridden in the package;
#  - the .rpm: Fedora's paths (rpm -qpl), /usr/bin named everywhere and no /usr/sbin, a
#    %posttrans that runs dracut -f only where dracut exists (rpm -qp --scripts), and the relabel
#    unit enabled by its preset: `systemctl preset` in %post on first install (checked with
#    `systemctl --root` on the payload), `systemctl disable` in %preun on erase.
# Needs cargo-deb, cargo-generate-rpm, dpkg-deb, dpkg-parsechangelog, lintian, rpm, rpm2cpio,
# cpio and systemctl: prints SKIP without them, except under CI=true, where a missing tool fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

missing=()
for tool in cargo-deb cargo-generate-rpm dpkg-deb dpkg-parsechangelog lintian rpm rpm2cpio cpio \
  systemctl; do
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
  # Files and links (with their targets), not directories.
  got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); $2 = $3 = $4 = $5 = ""; print }' |
    tr -s ' ' | sort -k2)
  same "the .deb holds Debian's paths, with their modes" "\
-rwxr-xr-x etc/init.d/machine-id-init
-rw-r--r-- usr/lib/dracut/dracut.conf.d/90-machine-id-init.conf
-rwxr-xr-x usr/lib/dracut/modules.d/90machine-id-init/machine-id-init.sh
-rwxr-xr-x usr/lib/dracut/modules.d/90machine-id-init/module-setup.sh
-rw-r--r-- usr/lib/systemd/system/machine-id-init-relabel.service
-rw-r--r-- usr/lib/systemd/system/machine-id-init.service
lrwxrwxrwx usr/lib/systemd/system/sysinit.target.wants/machine-id-init-relabel.service -> ../machine-id-init-relabel.service
-rwxr-xr-x usr/sbin/machine-id-init
-rw-r--r-- usr/share/doc/machine-id-init/README.md
-rw-r--r-- usr/share/doc/machine-id-init/changelog.Debian.gz
-rw-r--r-- usr/share/doc/machine-id-init/copyright
-rwxr-xr-x usr/share/initramfs-tools/hooks/machine-id-init
-rwxr-xr-x usr/share/initramfs-tools/scripts/init-bottom/machine-id-init
-rw-r--r-- usr/share/lintian/overrides/machine-id-init
-rw-r--r-- usr/share/man/man5/machine-id-init.conf.5.gz
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
  for unit in machine-id-init.service machine-id-init-relabel.service; do
    check "$unit: Documentation= names machine-id-init(8)" \
      grep -q '^Documentation=man:machine-id-init(8)' "$tree/usr/lib/systemd/system/$unit"
  done
  check "the relabel unit runs /usr/sbin/machine-id-init relabel" \
    grep -qx 'ExecStart=/usr/sbin/machine-id-init relabel' "$tree/usr/lib/systemd/system/machine-id-init-relabel.service"
  # Enabled statically, in the package, as `make install-systemd` does: no maintainer script
  # has to enable it, and the link goes with the package.
  wants=$tree/usr/lib/systemd/system/sysinit.target.wants/machine-id-init-relabel.service
  check "the relabel unit's sysinit.target.wants link is relative and resolves to the unit" \
    sh -c "[ \"\$(readlink '$wants')\" = ../machine-id-init-relabel.service ] && [ '$wants' -ef '$tree/usr/lib/systemd/system/machine-id-init-relabel.service' ]"
  check "the relabel unit is WantedBy=sysinit.target, the link's directory" \
    grep -qx 'WantedBy=sysinit.target' "$tree/usr/lib/systemd/system/machine-id-init-relabel.service"
  check "no maintainer script calls systemctl or deb-systemd-helper (the link is shipped)" \
    bash -c "! grep -lE 'systemctl|deb-systemd-helper' '$tree'/DEBIAN/post* '$tree'/DEBIAN/pre* 2>/dev/null | grep -q ."
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
/usr/lib/systemd/system-preset/90-machine-id-init.preset
/usr/lib/systemd/system/machine-id-init-relabel.service
/usr/lib/systemd/system/machine-id-init.service
/usr/share/licenses/machine-id-init/LICENSE
/usr/share/man/man5/machine-id-init.conf.5.gz
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
  # The relabel unit: cargo-generate-rpm ships no symlink, so it is enabled by a preset, in %post
  # on first install ("$1" is 1), as %systemd_post does, and disabled in %preun on erase.
  post=$(awk '/^postinstall scriptlet/ { on = 1; next } /scriptlet/ { on = 0 } on' <<< "$scripts")
  preun=$(awk '/^preuninstall scriptlet/ { on = 1; next } /scriptlet/ { on = 0 } on' <<< "$scripts")
  printf '#!/bin/sh\necho "$*" >> "%s/systemctl-calls"\n' "$scratch" > "$scratch/bin/systemctl"
  chmod +x "$scratch/bin/systemctl"
  for step in "post 1" "post 2" "preun 0" "preun 1"; do
    case $step in post*) body=$post ;; *) body=$preun ;; esac
    PATH=$scratch/bin:/usr/bin:/bin sh -c "$body" sh "${step#* }" || fail "%${step% *} ${step#* } exits $?"
  done
  same "systemctl ran for %post 1 (preset) and %preun 0 (disable) only" \
    "--no-reload preset machine-id-init-relabel.service
--no-reload disable machine-id-init-relabel.service" "$(cat "$scratch/systemctl-calls")"
  check "without systemctl, %post and %preun succeed" \
    sh -c "PATH=/nonexistent; (set -- 1; $post) && (set -- 0; $preun)"
  rtree=$scratch/rpm
  mkdir -p "$rtree"
  # rpm 4.18's rpm2cpio exits 1 on a zstd payload it wrote out whole: judge by what came out.
  rpm2cpio "$rpmf" > "$scratch/rpm.cpio" 2>/dev/null || true
  (cd "$rtree" && cpio -idm --quiet < "$scratch/rpm.cpio")
  check "the .rpm's payload unpacks (10 files)" test "$(find "$rtree" -type f | wc -l)" -eq 10
  check "the relabel unit runs /usr/bin/machine-id-init relabel" \
    grep -qx 'ExecStart=/usr/bin/machine-id-init relabel' "$rtree/usr/lib/systemd/system/machine-id-init-relabel.service"
  # What %post's `systemctl preset` does with the payload's preset file, also under Fedora's
  # 99-default-disable.preset ("disable *"), and what %preun's `systemctl disable` undoes.
  printf 'disable *\n' > "$rtree/usr/lib/systemd/system-preset/99-default-disable.preset"
  systemctl --root="$rtree" preset machine-id-init-relabel.service >/dev/null 2>&1 || true
  link=$rtree/etc/systemd/system/sysinit.target.wants/machine-id-init-relabel.service
  same "systemctl preset (Fedora's disable * too): the relabel unit wanted by sysinit.target" \
    /usr/lib/systemd/system/machine-id-init-relabel.service "$(readlink "$link" 2>/dev/null)"
  same "systemctl is-enabled: enabled" enabled \
    "$(systemctl --root="$rtree" is-enabled machine-id-init-relabel.service 2>/dev/null)"
  systemctl --root="$rtree" disable machine-id-init-relabel.service >/dev/null 2>&1 || true
  check "systemctl disable removes the link" test ! -L "$link"
  rm -rf "${rtree:?}/etc" "$rtree/usr/lib/systemd/system-preset/99-default-disable.preset"
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

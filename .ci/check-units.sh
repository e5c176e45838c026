#!/usr/bin/env bash
# Lint what ships under units/: fill the templates (make units), shellcheck every script (in its
# own shell dialect) and `systemd-analyze verify` both units, installed by `make install-systemd`
# into a scratch root holding the static binary; and check that the relabel unit's
# sysinit.target.wants link makes starting sysinit.target start it. Any warning fails.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s units
u=target/units
shellcheck -s sh "$u/initramfs-tools/hooks/machine-id-init" \
  "$u/initramfs-tools/scripts/init-bottom/machine-id-init" \
  "$u/dracut/90machine-id-init/machine-id-init.sh" "$u/openrc/machine-id-init"
shellcheck -s bash "$u/dracut/90machine-id-init/module-setup.sh" "$u/mkinitcpio/install/machine-id-init"
shellcheck -s dash "$u/mkinitcpio/hooks/machine-id-init"
echo "shellcheck: units clean"

bin=target/x86_64-unknown-linux-gnu/release/machine-id-init
[ -x "$bin" ] || RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked --target x86_64-unknown-linux-gnu
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
units=$root/usr/lib/systemd/system
mkdir -p "$root/usr/sbin" "$root/etc/systemd/system"
cp "$bin" "$root/usr/sbin/machine-id-init"
make -s NOBUILD=1 DESTDIR="$root" SYSTEMD_UNIT_DIR=/usr/lib/systemd/system install-systemd
# The initrd's own mount unit, as systemd-fstab-generator makes it from root=.
printf '[Unit]\nDescription=/sysroot\n[Mount]\nWhat=/dev/vda\nWhere=/sysroot\n' \
  > "$root/etc/systemd/system/sysroot.mount"
for unit in machine-id-init.service machine-id-init-relabel.service; do
  out=$(systemd-analyze verify --root="$root" --man=no "$unit" 2>&1) || {
    echo "$out" >&2; echo "FAIL: systemd-analyze verify $unit" >&2; exit 1; }
  if [ -n "$out" ]; then echo "$out" >&2; echo "FAIL: systemd-analyze verify $unit warned" >&2; exit 1; fi
  echo "systemd-analyze verify: $unit clean"
done

# Enabled statically: with a stand-in sysinit.target in the root, systemd's own job for it
# (what verify starts, in test mode) pulls in the relabel unit through the installed link.
[ "$(readlink "$units/sysinit.target.wants/machine-id-init-relabel.service")" = \
  ../machine-id-init-relabel.service ] || {
  echo "FAIL: no relative sysinit.target.wants/machine-id-init-relabel.service link" >&2; exit 1; }
printf '[Unit]\nDescription=System Initialization\n' > "$units/sysinit.target"
out=$(SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --root="$root" --man=no sysinit.target 2>&1) || {
  echo "$out" >&2; echo "FAIL: systemd-analyze verify sysinit.target" >&2; exit 1; }
grep -q 'Installed new job machine-id-init-relabel.service/start' <<< "$out" || {
  echo "$out" >&2; echo "FAIL: starting sysinit.target does not start machine-id-init-relabel.service" >&2
  exit 1; }
echo "sysinit.target wants machine-id-init-relabel.service (the installed link)"

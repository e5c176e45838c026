#!/usr/bin/env bash
# Lint what ships under units/: fill the templates (make units), shellcheck every script (in its
# own shell dialect) and `systemd-analyze verify` the unit against a scratch root holding the
# static binary. Any warning fails.
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
mkdir -p "$root/usr/sbin" "$root/etc/systemd/system"
cp "$bin" "$root/usr/sbin/machine-id-init"
cp "$u/systemd/machine-id-init.service" "$root/etc/systemd/system/"
# The initrd's own mount unit, as systemd-fstab-generator makes it from root=.
printf '[Unit]\nDescription=/sysroot\n[Mount]\nWhat=/dev/vda\nWhere=/sysroot\n' \
  > "$root/etc/systemd/system/sysroot.mount"
out=$(systemd-analyze verify --root="$root" --man=no machine-id-init.service 2>&1) || {
  echo "$out" >&2; exit 1; }
if [ -n "$out" ]; then echo "$out" >&2; echo "FAIL: systemd-analyze verify warned" >&2; exit 1; fi
echo "systemd-analyze verify: machine-id-init.service clean"

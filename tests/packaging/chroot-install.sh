#!/usr/bin/env bash
# Install the .deb of `make deb` with dpkg -i into a debootstrapped Debian root (a chroot; no
# files copied by hand) and check that the package's own trigger put the hook and the binary
# into the initramfs, that the SELinux relabel unit is installed enabled (its sysinit.target.wants
# link), that dpkg -r takes them out again, and that --purge removes the conffile.
# Not run by CI (the debootstrap takes minutes; the boot tests install the same .deb):
#   bash tests/packaging/chroot-install.sh [SUITE]     (default bookworm; needs root)
# The root file system is cached by tests/lib/rootfs.sh (target/rootfs/ or $MII_ROOTFS_CACHE).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
suite=${1:-bookworm}
[ "$(id -u)" -eq 0 ] || { echo "SKIP chroot install: needs root"; exit 0; }
# shellcheck source=tests/lib/rootfs.sh
. tests/lib/rootfs.sh

deb=$(make -s deb | tail -n 1)
tar=$(rootfs_tar "pkg-$suite" "$suite" initramfs-tools,linux-image-cloud-amd64,zstd)
root=$(mktemp -d)
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$root"' EXIT
tar -C "$root" -xf "$tar"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
failed=0
check() { # check NAME COMMAND...: PASS when the command succeeds
  local name=$1; shift
  if "$@"; then echo "PASS $name"; else echo "FAIL $name" >&2; failed=1; fi
}
in_initramfs() { lsinitramfs "$root"/boot/initrd.img-* | grep -c machine-id-init || true; }

log=$(chroot "$root" dpkg -i "/tmp/${deb##*/}" 2>&1) || { echo "$log" >&2; failed=1; }
while IFS= read -r line; do echo "  $line"; done <<< "$log"
check "dpkg -i: postinst activated the update-initramfs trigger" \
  grep -q 'deferring update (trigger activated)' <<< "$log"
check "the initramfs holds scripts/init-bottom/machine-id-init and the binary" \
  test "$(in_initramfs)" -eq 2
check "the installed binary runs" \
  bash -c "chroot '$root' /usr/sbin/machine-id-init --version | grep -q '^machine-id-init '"
units=$root/usr/lib/systemd/system
check "the relabel unit is installed, enabled by its relative sysinit.target.wants link" \
  test "$(readlink "$units/sysinit.target.wants/machine-id-init-relabel.service")" = \
  ../machine-id-init-relabel.service -a -f "$units/sysinit.target.wants/machine-id-init-relabel.service"
check "dpkg -r" chroot "$root" dpkg -r machine-id-init
check "dpkg -r removes the relabel unit and its link" \
  test ! -e "$units/machine-id-init-relabel.service" -a ! -L "$units/sysinit.target.wants/machine-id-init-relabel.service"
check "dpkg -r rebuilt the initramfs without it" test "$(in_initramfs)" -eq 0
check "dpkg -r keeps the conffile" test -e "$root/etc/init.d/machine-id-init"
check "dpkg --purge" chroot "$root" dpkg --purge machine-id-init
check "dpkg --purge removes the conffile" test ! -e "$root/etc/init.d/machine-id-init"
exit "$failed"

#!/usr/bin/env bash
# Boot tests, Debian 13 (systemd 257) group: a debootstrapped Debian sealed with `seal`, booted
# as a VMware guest (VMware's SMBIOS strings, no CPUID hypervisor leaf) until its own systemd
# runs as PID 1 and reports the machine id:
#   7   our Debian package installed with `dpkg -i` into a root with its own kernel and
#       initramfs-tools: the package's trigger rebuilds the root's initramfs with our hook, and
#       the VM boots the root's own kernel and initramfs (nothing copied by hand);
#   8   initramfs by dracut with its systemd initrd, units/dracut and units/systemd;
#   7c  control: the same root, kernel and VM before `dpkg -i`: systemd's own random id.
# systemd 257 takes a first-boot id from /run/machine-id: our hook hands the UUID over there
# (preserve mode) and systemd commits it after its first boot.
#   tests/boot/trixie.sh [SCENARIO...]   (default: 7 8 7c)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup trixie mkinitramfs:initramfs-tools lsinitramfs:initramfs-tools debootstrap:debootstrap \
  dracut:dracut-core lsinitrd:dracut-core cargo-deb:cargo-deb
img=$gwork/image

prepare() {
  debian_root 8 "$img" trixie-systemd trixie systemd-sysv,udev
  add_systemd_report "$img/root"
  debian_disk "$img"
}

# Scenario 7's root, with a kernel and initramfs-tools of its own: the image before (pimg/plain,
# for the control) and after (pimg/pkg) `dpkg -i` of the package `make deb` builds.
pimg=$gwork/package
prepare_package() {
  local deb root=$pimg/pkg/root
  (
    flock 9
    make -s -C "$repo" NOBUILD=1 deb >/dev/null
  ) 9> "$work/setup.lock"
  deb=$(make -s -C "$repo" print-deb)
  debian_root 7 "$pimg/plain" trixie-kernel trixie systemd-sysv,udev,initramfs-tools,linux-image-cloud-amd64,zstd
  add_systemd_report "$pimg/plain/root"
  rm -rf "$pimg/pkg"; mkdir -p "$pimg/pkg"
  cp -a "$pimg/plain/root" "$root"
  cp "$repo/$deb" "$root/tmp/"
  mount -t proc proc "$root/proc"
  local rc=0
  chroot "$root" dpkg -i "/tmp/${deb##*/}" > "$pimg/dpkg.log" 2>&1 || rc=$?
  umount "$root/proc"
  rm -f "$root/tmp/${deb##*/}"
  check 7 "dpkg -i installed the package into the root" test "$rc" -eq 0
  check 7 "its trigger rebuilt the root's initramfs (update-initramfs ran inside dpkg)" \
    has "$pimg/dpkg.log" "update-initramfs: Generating /boot/initrd.img-"
  pkver=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  check 7 "the root's own initramfs holds the tool and our init-bottom script (nothing copied by hand)" bash -c \
    "lsinitramfs '$root/boot/initrd.img-$pkver' | grep -qx usr/sbin/machine-id-init && lsinitramfs '$root/boot/initrd.img-$pkver' | grep -qx scripts/init-bottom/machine-id-init"
  check 7 "the control root's initramfs has no machine-id-init" bash -c \
    "! lsinitramfs '$pimg/plain/root/boot/initrd.img-$pkver' | grep -q machine-id-init"
  debian_disk "$pimg/plain"
  debian_disk "$pimg/pkg"
}

# Our boot of a systemd 257 root: the hand-over through /run/machine-id, and systemd taking it.
check_preserved() { # NAME LOG DISK
  local name=$1 log=$2
  check "$name" "our hook handed the UUID over for first boot (console line)" has "$log" "$ours_preserve"
  check "$name" "systemd detected VMware (no KVM CPUID leaf), as in the control boot" has "$log" "Detected virtualization vmware"
  check "$name" "systemd saw its first boot" has "$log" "Detected first boot"
  check "$name" "systemd reused the id we handed over" has "$log" "Reusing machine ID stored in /run/machine-id"
  check "$name" "systemd 257 (PID 1) took it: /etc and /run hold $UH once booted" \
    test "$(field "$log" MII-REPORT etc) $(field "$log" MII-REPORT run) $(field "$log" MII-REPORT systemd)" = "$UH $UH 257"
  check "$name" "committed to disk after first boot" test "$(disk_cat "$3" /etc/machine-id)" = "$UH"
}

scenario_7() {
  # The root's own kernel and the initramfs its package trigger built.
  local kernel=$pimg/pkg/root/boot/vmlinuz-$pkver
  fresh_disk "$pimg/pkg" "$gwork/s7.img"
  boot_debian "$gwork/s7.log" "$pimg/pkg/root/boot/initrd.img-$pkver" "$gwork/s7.img"
  check_preserved 7 "$gwork/s7.log" "$gwork/s7.img"
}

build_dracut_systemd() { # OUT
  local d
  d=$(mktemp -d "$work/cache/dracut.XXXXXX")
  # Dracut's own modules plus ours, in a private base directory: nothing is installed on the host.
  cp -a /usr/lib/dracut "$d/dracut"
  cp -r "$units/dracut/90machine-id-init" "$d/dracut/modules.d/"
  dracutbasedir=$d/dracut MACHINE_ID_INIT_BIN=$bin MACHINE_ID_INIT_UNIT=$units/systemd/machine-id-init.service \
    dracut --quiet --no-hostonly --force --no-early-microcode --kver "$kver" --omit crypt \
    --add "systemd machine-id-init" --drivers "virtio_pci virtio_blk ext4" "$1"
  rm -rf "$d"
}

scenario_8() {
  local initrd log=$gwork/s8.log
  initrd=$(cached dracut-systemd build_dracut_systemd "$0" "$bin" "$units/systemd/machine-id-init.service" \
    "$units/dracut/90machine-id-init/module-setup.sh" "$units/dracut/90machine-id-init/machine-id-init.sh")
  check 8 "dracut installed the tool and enabled our unit in its systemd initrd" bash -c \
    "lsinitrd '$initrd' | grep -q 'initrd-root-fs.target.wants/machine-id-init.service' && lsinitrd '$initrd' | grep -q 'usr/sbin/machine-id-init$'"
  fresh_disk "$img" "$gwork/s8.img"
  boot_debian "$log" "$initrd" "$gwork/s8.img" rd.emergency=poweroff
  check 8 "it ran as the initrd unit" has "$log" "Finished machine-id-init.service|machine-id-init.service: Deactivated successfully"
  check_preserved 8 "$log" "$gwork/s8.img"
}

scenario_7c() {
  local kernel=$pimg/plain/root/boot/vmlinuz-$pkver
  control_systemd 7c "$pimg/plain" "$pimg/plain/root/boot/initrd.img-$pkver" 257
}

scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(7 8 7c)
scenario prepare prepare
scenario prepare-package prepare_package
for s in "${scenarios[@]}"; do scenario "$s" "scenario_$s"; done
rm -f "$gwork"/*.img
boot_summary

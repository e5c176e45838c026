#!/usr/bin/env bash
# Boot tests, Debian 13 (systemd 257) group: a debootstrapped Debian sealed with `seal`, booted
# as a VMware guest (VMware's SMBIOS strings, no CPUID hypervisor leaf) until its own systemd
# runs as PID 1 and reports the machine id:
#   7   initramfs by Debian's mkinitramfs with units/initramfs-tools;
#   8   initramfs by dracut with its systemd initrd, units/dracut and units/systemd;
#   7c  control: the same image and VM, initramfs without our hook: systemd's own random id.
# systemd 257 takes a first-boot id from /run/machine-id: our hook hands the UUID over there
# (preserve mode) and systemd commits it after its first boot.
#   tests/boot/trixie.sh [SCENARIO...]   (default: 7 8 7c)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup trixie mkinitramfs:initramfs-tools lsinitramfs:initramfs-tools debootstrap:debootstrap \
  dracut:dracut-core lsinitrd:dracut-core
img=$gwork/image

prepare() {
  debian_root 7 "$img" trixie-systemd trixie systemd-sysv,udev
  add_systemd_report "$img/root"
  debian_disk "$img"
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
  local initrd
  initrd=$(mkinitramfs_hook)
  check 7 "the mkinitramfs image contains the tool and our init-bottom script" bash -c \
    "lsinitramfs '$initrd' | grep -qx usr/sbin/machine-id-init && lsinitramfs '$initrd' | grep -qx scripts/init-bottom/machine-id-init"
  fresh_disk "$img" "$gwork/s7.img"
  boot_debian "$gwork/s7.log" "$initrd" "$gwork/s7.img"
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

scenario_7c() { control_systemd 7c "$img" "$(mkinitramfs_plain)" 257; }

scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(7 8 7c)
scenario prepare prepare
for s in "${scenarios[@]}"; do scenario "$s" "scenario_$s"; done
rm -f "$gwork"/*.img
boot_summary

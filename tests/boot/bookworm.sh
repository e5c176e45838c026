#!/usr/bin/env bash
# Boot tests, Debian 12 (systemd 252, the version RHEL 9 ships) group: a debootstrapped Debian
# sealed with `seal`, with an initramfs by Debian's mkinitramfs, booted as a VMware guest
# (VMware's SMBIOS strings, no CPUID hypervisor leaf) until its own systemd reports the id:
#   9   with units/initramfs-tools: systemd 252 ignores /run/machine-id, so our hook commits the
#       UUID to /etc/machine-id (first-boot semantics consumed) and systemd 252 keeps it;
#   9c  control: the same image and VM, initramfs without our hook: systemd's own random id.
#   tests/boot/bookworm.sh [SCENARIO...]   (default: 9 9c)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup bookworm mkinitramfs:initramfs-tools lsinitramfs:initramfs-tools debootstrap:debootstrap
img=$gwork/image

prepare() {
  debian_root 9 "$img" bookworm-systemd bookworm systemd-sysv,udev
  add_systemd_report "$img/root"
  debian_disk "$img"
}

scenario_9() {
  local initrd log=$gwork/s9.log
  initrd=$(mkinitramfs_hook)
  fresh_disk "$img" "$gwork/s9.img"
  boot_debian "$log" "$initrd" "$gwork/s9.img"
  echo "boot: 9: the booted system reports $(grep -ao 'MII-REPORT.*' "$log" | tail -n 1 | tr -d '\r')"
  check 9 "our hook committed the UUID, consuming first boot (console line)" has "$log" "$ours_commit"
  check 9 "systemd 252 (PID 1) kept it: /etc/machine-id holds $UH once booted" \
    test "$(field "$log" MII-REPORT etc) $(field "$log" MII-REPORT systemd)" = "$UH 252"
  check 9 "systemd detected VMware (no KVM CPUID leaf), as in the control boot" has "$log" "Detected virtualization vmware"
  check 9 "as our line says, systemd did not treat this boot as its first" lacks "$log" "Detected first boot"
  check 9 "on disk after shutdown" test "$(disk_cat "$gwork/s9.img" /etc/machine-id)" = "$UH"
}

scenario_9c() { control_systemd 9c "$img" "$(mkinitramfs_plain)" 252; }

scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(9 9c)
scenario prepare prepare
for s in "${scenarios[@]}"; do scenario "$s" "scenario_$s"; done
rm -f "$gwork"/*.img
boot_summary

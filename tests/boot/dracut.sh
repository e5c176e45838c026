#!/usr/bin/env bash
# Boot tests, dracut without systemd group: an initramfs by dracut with
# --omit "systemd systemd-initrd" and units/dracut, so our pre-pivot hook runs on $NEWROOT,
# booting a busybox root whose /sbin/init (tests/boot/root-init.sh) reports what it sees:
#   11  a writable root with an empty /etc/machine-id: the UUID is written to it;
#   12  a read-only root with an empty /etc/machine-id: the UUID goes to /run/machine-id,
#       bind-mounted over /etc/machine-id (SPEC §5), and stays so in the booted root.
#   tests/boot/dracut.sh [SCENARIO...]   (default: 11 12)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup dracut dracut:dracut-core lsinitrd:dracut-core

build_dracut_plain() { # OUT
  local d
  d=$(mktemp -d "$work/cache/dracut.XXXXXX")
  # Dracut's own modules plus ours, in a private base directory: nothing is installed on the host.
  cp -a /usr/lib/dracut "$d/dracut"
  cp -r "$units/dracut/90machine-id-init" "$d/dracut/modules.d/"
  # Only the drivers the VM needs (all of them take a minute more); crypt would only complain
  # that cryptsetup is not installed.
  dracutbasedir=$d/dracut MACHINE_ID_INIT_BIN=$bin \
    dracut --quiet --no-hostonly --force --no-early-microcode --kver "$kver" \
    --omit "systemd systemd-initrd crypt" --add machine-id-init --drivers "virtio_pci virtio_blk ext4" "$1"
  rm -rf "$d"
}

prepare() {
  initrd=$(cached dracut-plain build_dracut_plain "$0" "$bin" \
    "$units/dracut/90machine-id-init/module-setup.sh" "$units/dracut/90machine-id-init/machine-id-init.sh")
  lsinitrd "$initrd" > "$gwork/lsinitrd.txt"
  check 11 "dracut's image has no systemd: no systemd module, no systemd binary, /init is dracut's shell script" \
    bash -c "! grep -qxE 'systemd|systemd-initrd' <(lsinitrd -m '$initrd' | sed 's/[[:space:]]//g') &&
             ! grep -qE ' (usr/)?lib/systemd/systemd$' '$gwork/lsinitrd.txt' &&
             lsinitrd -f init '$initrd' | head -n 1 | grep -q '^#!/bin/sh'"
  check 11 "it holds the tool and our pre-pivot hook" \
    bash -c "grep -qE ' usr/sbin/machine-id-init$' '$gwork/lsinitrd.txt' && grep -qE 'hooks/pre-pivot/50-machine-id-init.sh$' '$gwork/lsinitrd.txt'"
}

# A busybox root with an empty /etc/machine-id, booted by the dracut image with root=/dev/vda
# and RW (rw or ro).
boot_dracut() { # NAME RW
  local d=$gwork/$1
  rm -rf "$d"; mkdir -p "$d/root/etc" "$d/root/sbin"
  : > "$d/root/etc/machine-id"
  install -m 755 tests/boot/root-init.sh "$d/root/sbin/init"
  make_disk "$d/root" "$d/disk.img"
  boot "$d/serial.log" 300 -kernel "$kernel" -initrd "$initrd" -uuid "$U" \
    -append "$append_base root=/dev/vda $2 rd.emergency=poweroff" \
    -drive "file=$d/disk.img,if=virtio,format=raw"
}

scenario_11() {
  boot_dracut s11 rw
  local log=$gwork/s11/serial.log
  check 11 "our pre-pivot hook wrote the UUID (console line)" has "$log" \
    "machine-id-init\[[0-9]+\]: Initialized machine ID from SMBIOS product UUID \(QEMU\): $UH\."
  check 11 "the booted root (its PID 1) has it in /etc/machine-id, no bind mount" \
    test "$(field "$log" MII-BOOTED pid) $(field "$log" MII-BOOTED etc) $(field "$log" MII-BOOTED mounted) $(field "$log" MII-BOOTED root)" = "1 $UH 0 rw"
  check 11 "on disk" test "$(disk_cat "$gwork/s11/disk.img" /etc/machine-id)" = "$UH"
}

scenario_12() {
  boot_dracut s12 ro
  local log=$gwork/s12/serial.log
  check 12 "our pre-pivot hook handed the UUID over on the read-only root (console line)" has "$log" \
    "machine-id-init\[[0-9]+\]: /sysroot/etc is read-only: initialized machine ID from SMBIOS product UUID \(QEMU\): $UH, in /run/machine-id"
  check 12 "the booted read-only root: /etc/machine-id is the bind mount of /run/machine-id, both $UH" \
    test "$(field "$log" MII-BOOTED pid) $(field "$log" MII-BOOTED etc) $(field "$log" MII-BOOTED run) $(field "$log" MII-BOOTED mounted) $(field "$log" MII-BOOTED root)" = "1 $UH $UH 1 ro"
  check 12 "the disk itself is untouched (empty)" bash -c "[ -z \"\$(debugfs -R 'cat /etc/machine-id' '$gwork/s12/disk.img' 2>/dev/null)\" ] && debugfs -R 'stat /etc/machine-id' '$gwork/s12/disk.img' 2>/dev/null | grep -q 'Size: 0'"
}

scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(11 12)
scenario prepare prepare
for s in "${scenarios[@]}"; do scenario "$s" "scenario_$s"; done
boot_summary

#!/usr/bin/env bash
# Boot tests, busybox group: Debian's cloud kernel boots into a busybox initramfs whose /init
# (tests/boot/init.sh) runs the tool the way the shipped hooks do, on a small busybox root disk;
# the PID 1 shim scenario boots the tool itself as rdinit=. A few seconds a boot.
#   1  -uuid U: the id is U; a second boot changes nothing and logs nothing.
#   2  a VMware guest with no CPUID hypervisor leaf: detected from its SMBIOS strings alone.
#   3  a deny-listed UUID: a random v4 id, and the reason.
#   4  an SMBIOS type 11 credential beats the UUID.
#   5  a read-only root with an empty file: /run/machine-id bind-mounted over /etc/machine-id.
#   6  rdinit=machine-id-init: the shim writes U, then /sbin/init runs with the kernel's words.
#   tests/boot/busybox.sh [SCENARIO...]   (default: 1-6)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup busybox
C=c0ffee00c0ffee00c0ffee00c0ffee01
DENY=03000200-0400-0500-0006-000700080009

# --- the busybox initramfs: /init (tests/boot/init.sh), the tool, the shim's next program.
initrd=$gwork/initrd.cpio.gz
build_initrd() {
  local d=$gwork/initrd
  rm -rf "$d"
  mkdir -p "$d"/{bin,sbin,usr/sbin,proc,sys,dev,run,sysroot,lib/modules,etc}
  cp "$(command -v busybox)" "$d/bin/busybox"
  for a in sh mount umount insmod sed cat grep sleep poweroff switch_root sync echo test; do
    ln -s busybox "$d/bin/$a"
  done
  for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    find "/lib/modules/$kver" -name "$m.ko*" -exec sh -c 'case "$1" in *.xz) xz -dc "$1";; *.zst) zstd -dc "$1";; *) cat "$1";; esac' _ {} \; > "$d/lib/modules/$m.ko"
  done
  cp "$bin" "$d/usr/sbin/machine-id-init"
  cp tests/boot/init.sh "$d/init"
  # What the PID 1 shim executes by default.
  cp tests/boot/after-shim.sh "$d/sbin/init"
  chmod +x "$d/init" "$d/sbin/init"
  (cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd"
}

result_line() { grep -ao 'MII-RESULT.*' "$1" | tail -n 1 | tr -d '\r'; }

busybox_scenario() { # NAME INITIAL-ETC-CONTENT QEMU-ARGS...
  local name=$1 initial=$2; shift 2
  local dir=$gwork/$name
  rm -rf "$dir"; mkdir -p "$dir/root/etc"
  printf '%s' "$initial" > "$dir/root/etc/machine-id"
  make_disk "$dir/root" "$dir/disk.img"
  boot "$dir/serial.log" 300 -kernel "$kernel" -initrd "$initrd" \
    -append "$append_base mii.test=$name" \
    -drive "file=$dir/disk.img,if=virtio,format=raw" "$@"
}

scenario_1() { # -uuid U: the id is U; a second boot leaves it as it is
  busybox_scenario s1 "" -uuid "$U"
  local d=$gwork/s1
  check 1 "first boot writes $UH" [ "$(disk_cat "$d/disk.img" /etc/machine-id)" = "$UH" ]
  check 1 "the tool said so on the console" grep -aq "machine-id-init\[[0-9]*\]: Initialized machine ID from SMBIOS product UUID (QEMU): $UH" "$d/serial.log"
  cp "$d/serial.log" "$d/serial-1.log"
  boot "$d/serial.log" 300 -kernel "$kernel" -initrd "$initrd" -append "$append_base mii.test=s1" \
    -drive "file=$d/disk.img,if=virtio,format=raw" -uuid "$U"
  check 1 "second boot: exit 0, unchanged" [ "$(result_line "$d/serial.log")" = "MII-RESULT rc=0 etc=$UH" ]
  check 1 "second boot: silent" bash -c "! grep -aq 'machine-id-init\[' '$d/serial.log'"
}

scenario_2() { # a VMware guest whose CPU shows no hypervisor: only the DMI strings say VMware
  # systemd alone picks a random id on such a guest (the control boots 7c and 9c show it).
  busybox_scenario s2 "" "${VMWARE[@]}"
  local log=$gwork/s2/serial.log
  check 2 "the guest's CPU has no hypervisor flag (-cpu max,-hypervisor)" has "$log" "^MII-CPU hypervisor=0"
  check 2 "VMware guest gets $UH" [ "$(disk_cat "$gwork/s2/disk.img" /etc/machine-id)" = "$UH" ]
  check 2 "detected as VMware from its SMBIOS strings (console line)" has "$log" \
    "machine-id-init\[[0-9]+\]: Initialized machine ID from SMBIOS product UUID \(VMware\): $UH"
}

scenario_3() { # a deny-listed firmware UUID: rejected, random v4 id, reason logged
  busybox_scenario s3 "" -uuid "$DENY"
  local id; id=$(disk_cat "$gwork/s3/disk.img" /etc/machine-id)
  check 3 "a random v4 id, not the placeholder ($id)" bash -c "[[ '$id' =~ ^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$ ]]"
  check 3 "the reason is logged" grep -aq "Ignoring SMBIOS product UUID (QEMU) $DENY: it is a known placeholder" "$gwork/s3/serial.log"
}

scenario_4() { # an SMBIOS type 11 credential beats the UUID
  busybox_scenario s4 "" -uuid "$U" -smbios "type=11,value=io.systemd.credential:system.machine_id=$C"
  check 4 "the credential $C wins" [ "$(disk_cat "$gwork/s4/disk.img" /etc/machine-id)" = "$C" ]
}

scenario_5() { # read-only root with an empty file: /run/machine-id bind-mounted over it
  busybox_scenario readonly "" -uuid "$U"
  local log=$gwork/readonly/serial.log
  check 5 "initramfs: run/machine-id and the bind mount hold $UH" grep -aq "MII-RESULT rc=0 etc=$UH run=$UH" "$log"
  check 5 "booted root: /etc/machine-id is the bind mount of /run/machine-id" grep -aq "^MII-BOOTED etc=$UH run=$UH mounted=1" "$log"
  check 5 "the disk itself is untouched (empty)" [ -z "$(disk_cat "$gwork/readonly/disk.img" /etc/machine-id)" ]
}

scenario_6() { # PID 1 shim: rdinit= is the tool; it mounts, writes, then execs /sbin/init
  local d=$gwork/s6
  rm -rf "$d"; mkdir -p "$d"
  # Words after the kernel's "--" are init's arguments: the shim passes them on to /sbin/init.
  boot "$d/serial.log" 300 -kernel "$kernel" -initrd "$initrd" -uuid "$U" \
    -append "$append_base rdinit=/usr/sbin/machine-id-init -- hello world"
  check 6 "exec happened with the arguments, after the id was written" \
    grep -aq "^MII-SHIM-EXEC pid=1 args=hello world etc=$UH proc=yes run=1" "$d/serial.log"
  check 6 "the shim logged to the kernel log as PID 1" grep -aq "machine-id-init\[1\]: Initialized machine ID from SMBIOS product UUID (QEMU)" "$d/serial.log"
}

build_initrd
scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(1 2 3 4 5 6)
for s in "${scenarios[@]}"; do scenario "$s" "scenario_$s"; done
boot_summary

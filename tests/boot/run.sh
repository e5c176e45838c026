#!/usr/bin/env bash
# Boot a real kernel under QEMU with a real SMBIOS UUID and check what machine-id-init did,
# reading the guest's disk image afterwards (debugfs) and its serial console.
#
# Run by `cargo test` (tests/boot.rs) and so by .ci/run. Scenarios 1-6 boot Debian's cloud kernel into a busybox initramfs that runs the tool the way
# the shipped hooks do; scenario 7 boots a real Debian (debootstrap) with a real initramfs built
# by mkinitramfs with units/initramfs-tools, and scenario 8 the same with one built by dracut
# with units/dracut, until the root's own systemd runs as PID 1.
#   tests/boot/run.sh [SCENARIO...]     (default: all; 7 takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$repo/target/boot
mkdir -p "$work"

U=564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a
UH=${U//-/}
C=c0ffee00c0ffee00c0ffee00c0ffee01
DENY=03000200-0400-0500-0006-000700080009
# QEMU escapes a comma in an option value by doubling it.
VMWARE=(-smbios 'type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform')

# Without what it needs a boot test cannot run: SKIP with the reason, except in CI, where
# .ci/run installs everything and a SKIP would hide a broken install.
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL boot tests: $*" >&2; exit 1; fi
  echo "SKIP boot tests: $*"; exit 0
}
fail() { echo "FAIL $*" >&2; failures=$((failures + 1)); }
failures=0 passed=0

need=()
for pair in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static debugfs:e2fsprogs \
            cpio:cpio mkinitramfs:initramfs-tools lsinitramfs:initramfs-tools \
            debootstrap:debootstrap mkfs.ext4:e2fsprogs; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
kver=$(find /lib/modules -maxdepth 1 -name '*-cloud-amd64' -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
[ -n "$kver" ] || need+=(linux-image-cloud-amd64)
[ "${#need[@]}" -eq 0 ] || skip "missing Debian packages: ${need[*]} (apt-get install them, as .ci/run does)"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, and mkfs.ext4 -d keeping file owners)"
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || skip "no readable $kernel"

# KVM only where it works: /dev/kvm exists on these machines while the CPU has no vmx/svm.
accel=tcg
if [ -w /dev/kvm ] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then accel=kvm; fi
echo "boot: kernel $kver, accel $accel"

RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked --target x86_64-unknown-linux-gnu
bin=$repo/target/x86_64-unknown-linux-gnu/release/machine-id-init
# The integration files are templates: filled with the installed path into target/units.
make -s -C "$repo" units
units=$repo/target/units

# --- the busybox initramfs: /init (tests/boot/init.sh), the tool, the shim's next program.
initrd=$work/initrd.cpio.gz
build_initrd() {
  local d=$work/initrd
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

# A root file system image from a directory with busybox in it.
make_disk() { # DIR IMAGE
  mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/run" "$1/etc"
  cp "$(command -v busybox)" "$1/bin/busybox"
  for a in sh mount cat grep poweroff; do ln -sf busybox "$1/bin/$a"; done
  rm -f "$2"
  mkfs.ext4 -q -F -d "$1" "$2" 64M
}

disk_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }

boot() { # LOG TIMEOUT QEMU-ARGS...
  local log=$1 limit=$2; shift 2
  rm -f "$log"
  timeout "$limit" qemu-system-x86_64 -machine q35 -accel "$accel" -m 512 -nodefaults \
    -display none -no-reboot -serial "file:$log" "$@" || true
}

# loglevel=7: info-level kernel log lines (ours) reach the serial console too.
append_base="console=ttyS0 panic=-1 printk.devkmsg=on loglevel=7"

check() { # NAME CONDITION-DESCRIPTION TEST...
  local name=$1 what=$2; shift 2
  if "$@"; then echo "PASS $name: $what"; passed=$((passed + 1)); else fail "$name: $what"; fi
}

result_line() { grep -a '^MII-RESULT' "$1" | tail -n 1 | tr -d '\r'; }

busybox_scenario() { # NAME INITIAL-ETC-CONTENT QEMU-ARGS...
  local name=$1 initial=$2; shift 2
  local dir=$work/$name
  rm -rf "$dir"; mkdir -p "$dir/root/etc"
  printf '%s' "$initial" > "$dir/root/etc/machine-id"
  make_disk "$dir/root" "$dir/disk.img"
  boot "$dir/serial.log" 120 -kernel "$kernel" -initrd "$initrd" \
    -append "$append_base mii.test=$name" \
    -drive "file=$dir/disk.img,if=virtio,format=raw" "$@"
}

scenario_1() { # -uuid U: the id is U; a second boot leaves it as it is
  busybox_scenario s1 "" -uuid "$U"
  local d=$work/s1
  check 1 "first boot writes $UH" [ "$(disk_cat "$d/disk.img" /etc/machine-id)" = "$UH" ]
  check 1 "the tool said so on the console" grep -aq "machine-id-init.*Initialized machine ID from SMBIOS product UUID (QEMU): $UH" "$d/serial.log"
  cp "$d/serial.log" "$d/serial-1.log"
  boot "$d/serial.log" 120 -kernel "$kernel" -initrd "$initrd" -append "$append_base mii.test=s1" \
    -drive "file=$d/disk.img,if=virtio,format=raw" -uuid "$U"
  check 1 "second boot: exit 0, unchanged" [ "$(result_line "$d/serial.log")" = "MII-RESULT rc=0 etc=$UH" ]
  check 1 "second boot: silent" bash -c "! grep -aq 'machine-id-init\[' '$d/serial.log'"
}

scenario_2() { # VMware's SMBIOS strings: systemd alone would choose a random id here
  busybox_scenario s2 "" -uuid "$U" "${VMWARE[@]}"
  check 2 "VMware guest gets $UH" [ "$(disk_cat "$work/s2/disk.img" /etc/machine-id)" = "$UH" ]
  check 2 "detected as VMware" grep -aq "SMBIOS product UUID (VMware)" "$work/s2/serial.log"
}

scenario_3() { # a deny-listed firmware UUID: rejected, random v4 id, reason logged
  busybox_scenario s3 "" -uuid "$DENY"
  local id; id=$(disk_cat "$work/s3/disk.img" /etc/machine-id)
  check 3 "a random v4 id, not the placeholder ($id)" bash -c "[[ '$id' =~ ^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$ ]]"
  check 3 "the reason is logged" grep -aq "Ignoring SMBIOS product UUID (QEMU) $DENY: it is a known placeholder" "$work/s3/serial.log"
}

scenario_4() { # an SMBIOS type 11 credential beats the UUID
  busybox_scenario s4 "" -uuid "$U" -smbios "type=11,value=io.systemd.credential:system.machine_id=$C"
  check 4 "the credential $C wins" [ "$(disk_cat "$work/s4/disk.img" /etc/machine-id)" = "$C" ]
}

scenario_5() { # read-only root with an empty file: /run/machine-id bind-mounted over it
  busybox_scenario readonly "" -uuid "$U"
  local log=$work/readonly/serial.log
  check 5 "initramfs: run/machine-id and the bind mount hold $UH" grep -aq "^MII-RESULT rc=0 etc=$UH run=$UH" "$log"
  check 5 "booted root: /etc/machine-id is the bind mount of /run/machine-id" grep -aq "^MII-BOOTED etc=$UH run=$UH mounted=1" "$log"
  check 5 "the disk itself is untouched (empty)" [ -z "$(disk_cat "$work/readonly/disk.img" /etc/machine-id)" ]
}

scenario_6() { # PID 1 shim: rdinit= is the tool; it mounts, writes, then execs /sbin/init
  local d=$work/s6
  rm -rf "$d"; mkdir -p "$d"
  # Words after the kernel's "--" are init's arguments: the shim passes them on to /sbin/init.
  boot "$d/serial.log" 120 -kernel "$kernel" -initrd "$initrd" -uuid "$U" \
    -append "$append_base rdinit=/usr/sbin/machine-id-init -- hello world"
  check 6 "exec happened with the arguments, after the id was written" \
    grep -aq "^MII-SHIM-EXEC pid=1 args=hello world etc=$UH proc=yes run=1" "$d/serial.log"
  check 6 "the shim logged to the kernel log as PID 1" grep -aq "machine-id-init\[1\]: Initialized machine ID from SMBIOS product UUID (QEMU)" "$d/serial.log"
}

# A real Debian 13 root file system (debootstrap, cached), sealed by the tool as an image builder
# would, with a unit that reports systemd's machine id once booted and powers off; into DIR/disk.img.
prepare_debian_disk() { # NAME DIR
  local name=$1 d=$2 rootfs=$work/trixie-rootfs
  if [ ! -f "$work/trixie-rootfs.tar" ]; then
    rm -rf "$rootfs"
    if ! debootstrap --variant=minbase --include=systemd-sysv,udev trixie "$rootfs" \
        http://deb.debian.org/debian > "$work/debootstrap.log" 2>&1; then
      tail -n 20 "$work/debootstrap.log" >&2
      # No mirror is no reason to fail a developer's run; in CI it is.
      if [ "${CI:-}" = true ]; then fail "$name: debootstrap failed"; else echo "SKIP $name: debootstrap failed (no Debian mirror?)"; fi
      return 1
    fi
    tar -C "$rootfs" -cf "$work/trixie-rootfs.tar" .
  fi
  rm -rf "$d"; mkdir -p "$d/root"
  tar -C "$d/root" -xf "$work/trixie-rootfs.tar"
  "$bin" seal --root "$d/root"
  check "$name" "sealed image holds \"uninitialized\"" [ "$(cat "$d/root/etc/machine-id")" = uninitialized ]
  cat > "$d/root/etc/systemd/system/mii-report.service" <<'UNIT'
[Unit]
Description=Report the machine id for tests/boot
After=first-boot-complete.target systemd-machine-id-commit.service multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "MII-REPORT etc=$(cat /etc/machine-id) run=$(cat /run/machine-id 2>/dev/null)" > /dev/ttyS0'
ExecStartPost=/usr/bin/systemctl --no-block poweroff
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/mii-report.service "$d/root/etc/systemd/system/multi-user.target.wants/mii-report.service"
  rm -f "$d/disk.img"
  mkfs.ext4 -q -F -d "$d/root" "$d/disk.img" 1G
}

# Booted with VMware's strings; systemd 257 must take our id from /run/machine-id.
boot_debian() { # NAME DIR INITRD
  local name=$1 d=$2
  boot "$d/serial.log" 600 -m 1024 -kernel "$kernel" -initrd "$3" -uuid "$U" "${VMWARE[@]}" \
    -append "$append_base root=/dev/vda rw systemd.firstboot=no" \
    -drive "file=$d/disk.img,if=virtio,format=raw"
  local log=$d/serial.log
  check "$name" "our hook handed the id to systemd (first boot preserved)" \
    grep -aq "machine-id-init.*Initialized machine ID from SMBIOS product UUID (VMware): $UH, in /run/machine-id" "$log"
  check "$name" "systemd (PID 1) took it: /etc and /run hold $UH once booted" grep -aq "^MII-REPORT etc=$UH run=$UH" "$log"
  check "$name" "systemd saw its first boot" grep -aq "Detected first boot" "$log"
  # systemd would read the QEMU UUID itself (it detects qemu through CPUID): this line shows it
  # took our hand-off instead.
  check "$name" "systemd reused the id we handed over" grep -aq "Reusing machine ID stored in /run/machine-id" "$log"
  check "$name" "committed to disk" [ "$(disk_cat "$d/disk.img" /etc/machine-id)" = "$UH" ]
}

scenario_7() { # a real Debian: mkinitramfs with units/initramfs-tools, systemd as PID 1
  local d=$work/s7
  prepare_debian_disk 7 "$d" || return 0
  # A real initramfs: Debian's mkinitramfs with the shipped hook and script.
  local conf=$d/initramfs-tools
  mkdir -p "$conf/hooks" "$conf/scripts/init-bottom" "$conf/conf.d"
  cp /etc/initramfs-tools/initramfs.conf "$conf/"
  printf 'MODULES=most\n' > "$conf/conf.d/modules"
  cp "$units/initramfs-tools/hooks/machine-id-init" "$conf/hooks/"
  cp "$units/initramfs-tools/scripts/init-bottom/machine-id-init" "$conf/scripts/init-bottom/"
  chmod +x "$conf/hooks/machine-id-init" "$conf/scripts/init-bottom/machine-id-init"
  MACHINE_ID_INIT_BIN=$bin mkinitramfs -d "$conf" -o "$d/initrd.img" "$kver"
  check 7 "the real initramfs contains the tool" bash -c "lsinitramfs '$d/initrd.img' | grep -q '^usr/sbin/machine-id-init$'"
  boot_debian 7 "$d" "$d/initrd.img"
}

scenario_8() { # a real Debian: dracut (with its systemd initrd) and units/dracut, systemd as PID 1
  local d=$work/s8
  if ! command -v dracut >/dev/null; then
    [ "${CI:-}" = true ] && { fail "8: dracut is not installed"; return; }
    echo "SKIP 8: dracut is not installed (apt-get install dracut-core)"; return
  fi
  prepare_debian_disk 8 "$d" || return 0
  # Dracut's own modules plus ours, in a private base directory: nothing is installed on the host.
  rm -rf "$d/dracut"
  cp -a /usr/lib/dracut "$d/dracut"
  cp -r "$units/dracut/90machine-id-init" "$d/dracut/modules.d/"
  dracutbasedir=$d/dracut MACHINE_ID_INIT_BIN=$bin MACHINE_ID_INIT_UNIT=$units/systemd/machine-id-init.service \
    dracut --quiet --no-hostonly --force --kver "$kver" --add "systemd machine-id-init" \
    --add-drivers "virtio_blk virtio_pci" "$d/initrd.img"
  check 8 "dracut installed the tool and enabled the unit" bash -c \
    "lsinitrd '$d/initrd.img' | grep -q 'initrd-root-fs.target.wants/machine-id-init.service' && lsinitrd '$d/initrd.img' | grep -q 'usr/sbin/machine-id-init'"
  boot_debian 8 "$d" "$d/initrd.img"
  check 8 "it ran as the initrd unit" grep -aq "Finished machine-id-init.service\|Started machine-id-init.service\|machine-id-init.service: Deactivated successfully" "$d/serial.log"
}

build_initrd
scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(1 2 3 4 5 6 7 8)
for s in "${scenarios[@]}"; do
  start=$(date +%s)
  "scenario_$s"
  echo "boot: scenario $s took $(($(date +%s) - start)) s"
done
echo "boot: $passed passed, $failures failed"
[ "$failures" -eq 0 ]

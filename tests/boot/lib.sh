# shellcheck shell=bash disable=SC2034 # its variables are read by the group scripts
# Shared by the QEMU boot test groups (tests/boot/<group>.sh; run.sh runs them all). A group
# script sources this file, calls boot_setup GROUP, runs its scenarios through `scenario`, and
# ends with boot_summary, whose last line tests/boot.rs reads:
#   boot GROUP: N passed, 0 failed
# Every check prints one PASS or FAIL line. The guest's console is a file (the serial port);
# its disk is read afterwards with debugfs. Everything a group builds goes under
# target/boot/GROUP/ (shared, content-keyed images under target/boot/cache/).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
# shellcheck source=tests/lib/rootfs.sh
source "$repo/tests/lib/rootfs.sh"

U=564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a
UH=${U//-/}
# A VMware guest as systemd sees it: VMware's SMBIOS strings and, with the CPUID hypervisor bit
# off, no CPUID leaf that says KVM (QEMU's leaf says so even under TCG, and then systemd takes
# the SMBIOS UUID itself). QEMU escapes a comma in an option value by doubling it.
# shellcheck disable=SC2054 # the commas are QEMU's
VMWARE=(-cpu max,-hypervisor -smbios "type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform,uuid=$U")
# loglevel=7: info-level kernel log lines (ours) reach the serial console too.
append_base="console=ttyS0 panic=-1 printk.devkmsg=on loglevel=7"

# Without what it needs a boot test cannot run: SKIP with the reason, except in CI, where
# .ci/run installs everything and a SKIP would hide a broken install.
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL boot tests: $*" >&2; exit 1; fi
  echo "SKIP boot tests: $*"; exit 0
}
failures=0 passed=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

check() { # NAME DESCRIPTION TEST...
  local name=$1 what=$2; shift 2
  if "$@"; then echo "PASS $name: $what"; passed=$((passed + 1)); else fail "$name: $what"; fi
}

# `check` helpers: each is a plain command, so a check reads as what it asserts.
has() { grep -aqE -- "$2" "$1"; }          # LOG ERE
lacks() { ! grep -aqE -- "$2" "$1"; }      # LOG ERE
# A line matching the first ERE comes before the first line matching the second.
before() { # LOG ERE1 ERE2
  local a b
  a=$(grep -anE -- "$2" "$1" | head -n 1 | cut -d: -f1)
  b=$(grep -anE -- "$3" "$1" | head -n 1 | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
is_random_id() { # ID: 32 lowercase hex digits, not U, not all zero
  [[ $1 =~ ^[0-9a-f]{32}$ ]] && [ "$1" != "$UH" ] && [ "$1" != 00000000000000000000000000000000 ]
}
# The value of KEY= on the last line starting with TAG (the guest's report lines).
field() { # LOG TAG KEY: from the tag on (a console may put terminal escapes before it)
  grep -ao "$2 .*" "$1" | tail -n 1 | tr -d '\r' | tr ' ' '\n' | sed -n "s/^$3=//p"
}

disk_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
# Inode number, ctime and mtime of a file on the disk: equal before and after = not rewritten.
disk_stamp() { debugfs -R "stat $2" "$1" 2>/dev/null | grep -aE '^Inode:|^ *[cm]time:' | sed 's/Type:.*//'; }

boot() { # LOG TIMEOUT QEMU-ARGS...   the timeout is a hang detector, not a timing check
  local log=$1 limit=$2 rc=0; shift 2
  rm -f "$log"
  timeout "$limit" qemu-system-x86_64 -machine q35 -accel "$accel" -m 512 -nodefaults \
    -display none -no-reboot -serial "file:$log" "$@" || rc=$?
  [ "$rc" -ne 124 ] || echo "boot: $log: still running after $limit s, killed"
}

scenario() { # NAME FUNCTION [ARGS...]: run one scenario and say how long it took
  local name=$1 start; shift
  start=$(date +%s)
  "$@"
  echo "boot: scenario $name took $(($(date +%s) - start)) s"
}

boot_summary() {
  echo "boot $group: took $(($(date +%s) - group_start)) s"
  echo "boot $group: $passed passed, $failures failed"
  [ "$failures" -eq 0 ]
}

boot_setup() { # GROUP [EXTRA-COMMAND:PACKAGE...]
  group=$1; shift
  group_start=$(date +%s)
  work=$repo/target/boot
  gwork=$work/$group
  mkdir -p "$gwork" "$work/cache"
  local need=() pair
  for pair in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static debugfs:e2fsprogs \
              mkfs.ext4:e2fsprogs cpio:cpio zstd:zstd xz:xz-utils "$@"; do
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
  echo "boot $group: kernel $kver, accel $accel"
  bin=$repo/target/x86_64-unknown-linux-gnu/release/machine-id-init
  units=$repo/target/units
  # Groups may run at once (tests/boot.rs): one builds, the others wait for it.
  (
    flock 9
    RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked --target x86_64-unknown-linux-gnu
    # The integration files are templates: filled with the installed path into target/units.
    make -s -C "$repo" units
  ) 9> "$work/setup.lock"
}

# A file under target/boot/cache/ named NAME-KEY (KEY: a hash of the kernel version, of this
# file and of the given input files: the script that holds BUILD among them), built once by the
# function BUILD (called with the output path) while holding a lock, and shared by the groups.
# Prints the path.
cached() { # NAME BUILD INPUT...
  local name=$1 build=$2 key out; shift 2
  key=$( { printf '%s\n' "$kver" "$@"; cat "${BASH_SOURCE[0]}" "$@"; } | sha256sum | cut -c1-12)
  out=$work/cache/$name-$key
  (
    flock 9
    if [ ! -s "$out" ]; then
      # Older builds of the same image are stale: their inputs changed.
      rm -f "$work/cache/$name"-*
      "$build" "$out.part" >&2
      mv "$out.part" "$out"
    fi
  ) 9> "$work/cache/$name.lock"
  echo "$out"
}

# A root file system image from a directory with busybox in it.
make_disk() { # DIR IMAGE
  mkdir -p "$1/bin" "$1/sbin" "$1/proc" "$1/sys" "$1/dev" "$1/run" "$1/etc"
  cp "$(command -v busybox)" "$1/bin/busybox"
  for a in sh mount umount cat grep sync poweroff; do ln -sf busybox "$1/bin/$a"; done
  rm -f "$2"
  mkfs.ext4 -q -F -d "$1" "$2" 64M
}

# Debian's mkinitramfs, with (hook=1) or without (hook=0) units/initramfs-tools, for the cloud
# kernel; the root's own machine ID handling does not depend on it, so every Debian root shares
# these two.
build_mkinitramfs() { # OUT HOOK
  local conf
  conf=$(mktemp -d "$work/cache/initramfs-tools.XXXXXX")
  mkdir -p "$conf/hooks" "$conf/scripts/init-bottom" "$conf/conf.d"
  cp /etc/initramfs-tools/initramfs.conf "$conf/"
  printf 'MODULES=most\n' > "$conf/conf.d/modules"
  if [ "$2" = 1 ]; then
    cp "$units/initramfs-tools/hooks/machine-id-init" "$conf/hooks/"
    cp "$units/initramfs-tools/scripts/init-bottom/machine-id-init" "$conf/scripts/init-bottom/"
    chmod +x "$conf/hooks/machine-id-init" "$conf/scripts/init-bottom/machine-id-init"
  fi
  MACHINE_ID_INIT_BIN=$bin mkinitramfs -d "$conf" -o "$1" "$kver"
  rm -rf "$conf"
}
build_mkinitramfs_hook() { build_mkinitramfs "$1" 1; }
build_mkinitramfs_plain() { build_mkinitramfs "$1" 0; }
mkinitramfs_hook() {
  cached mkinitramfs-hook build_mkinitramfs_hook "$bin" /etc/initramfs-tools/initramfs.conf \
    "$units/initramfs-tools/hooks/machine-id-init" "$units/initramfs-tools/scripts/init-bottom/machine-id-init"
}
mkinitramfs_plain() { cached mkinitramfs-plain build_mkinitramfs_plain /etc/initramfs-tools/initramfs.conf; }

# A Debian root file system (tests/lib/rootfs.sh: debootstrap, cached), sealed by the tool as an
# image builder would, into DIR/root; DIR/disk.img is made by debian_disk after the caller has
# added its report service. ROOTFS-ARGS are rootfs_tar's.
debian_root() { # NAME DIR ROOTFS-ARGS...
  local name=$1 d=$2 tar; shift 2
  # No mirror is no reason to fail a developer's run (the group is skipped); in CI it is.
  tar=$(rootfs_tar "$@") || skip "debootstrap for $1 failed (no Debian mirror?); see its log in ${MII_ROOTFS_CACHE:-target/rootfs}"
  rm -rf "$d"; mkdir -p "$d/root"
  tar -C "$d/root" -xf "$tar"
  "$bin" seal --root "$d/root" >/dev/null
  check "$name" "sealed image holds \"uninitialized\", no dbus copy" \
    test "$(cat "$d/root/etc/machine-id")" = uninitialized -a ! -e "$d/root/var/lib/dbus/machine-id"
}

# The unit that reports, once a systemd system is up, the id and systemd's version on the
# console, then powers off.
add_systemd_report() { # ROOT
  cat > "$1/etc/systemd/system/mii-report.service" <<'UNIT'
[Unit]
Description=Report the machine id for tests/boot
After=first-boot-complete.target systemd-machine-id-commit.service multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "MII-REPORT etc=$(cat /etc/machine-id) run=$(cat /run/machine-id 2>/dev/null) systemd=$(systemctl --version | head -n 1 | cut -d" " -f2)" > /dev/ttyS0'
ExecStartPost=/usr/bin/systemctl --no-block poweroff
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/mii-report.service "$1/etc/systemd/system/multi-user.target.wants/mii-report.service"
}

debian_disk() { # DIR
  rm -f "$1/disk.img"
  mkfs.ext4 -q -F -d "$1/root" "$1/disk.img" 1G
}

# A fresh copy of DIR/disk.img for one boot (every boot of an image starts from the sealed state).
fresh_disk() { # DIR COPY
  cp --sparse=always "$1/disk.img" "$2"
}

boot_debian() { # LOG INITRD DISK [KERNEL-ARGS]: VMware's SMBIOS and CPU, 1 GiB
  boot "$1" 900 -m 1024 -kernel "$kernel" -initrd "$2" "${VMWARE[@]}" \
    -append "$append_base root=/dev/vda rw systemd.firstboot=no ${4:-}" \
    -drive "file=$3,if=virtio,format=raw"
}

# Our line and systemd's lines, as one boot of a systemd root shows them.
ours_preserve="machine-id-init\[[0-9]+\]: Initialized machine ID from SMBIOS product UUID \(VMware\): $UH, in /run/machine-id"
ours_commit="machine-id-init\[[0-9]+\]: Initialized machine ID from SMBIOS product UUID \(VMware\): $UH \(first boot: committed now, so systemd will not treat this boot as its first\)\."
ours_any="machine-id-init(\[[0-9]+\])?:"

# The control boot: the same image and VM without our hook. systemd alone sees VMware (no KVM
# CPUID leaf), does not take the SMBIOS UUID, and picks a random id of its own.
control_systemd() { # NAME IMAGE-DIR INITRD VERSION
  local name=$1 d=$2 log=$2/control.log id
  fresh_disk "$d" "$d/control.img"
  boot_debian "$log" "$3" "$d/control.img"
  id=$(field "$log" MII-REPORT etc)
  echo "boot: $name: systemd $4 alone chose $id (the SMBIOS UUID is $UH)"
  check "$name" "control: no machine-id-init in the initramfs, none on the console" lacks "$log" "$ours_any"
  check "$name" "control: systemd $4 booted and detected VMware, not KVM" \
    bash -c "[ '$(field "$log" MII-REPORT systemd)' = '$4' ] && grep -aq 'Detected virtualization vmware' '$log'"
  check "$name" "control: systemd saw its first boot" has "$log" "Detected first boot"
  check "$name" "control: systemd alone chose a random id ($id), not the SMBIOS UUID" \
    bash -c "grep -aq 'Initializing machine ID from random generator' '$log' && [[ '$id' =~ ^[0-9a-f]{32}$ ]] && [ '$id' != '$UH' ]"
  rm -f "$d/control.img"
}

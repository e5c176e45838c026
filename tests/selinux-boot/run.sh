#!/usr/bin/env bash
# SELinux boot tests (SPEC §8, issue 11): boot a Debian 13 root with selinux-policy-default under
# QEMU, SELinux enforcing, with an initramfs built by Debian's mkinitramfs from
# units/initramfs-tools, and check in the booted guest that the id the tool wrote is labeled as
# the policy says and readable: journald runs, no AVC denial names the file, the id is the
# SMBIOS UUID. One boot for each way the tool writes the id, plus control boots that show the
# same checks fail when the label is wrong. Facts behind the recipe:
# ../shared/notes/selinux-boot.md.
#   tests/selinux-boot/run.sh [SCENARIO...]   (default: all; about 30 s a boot under TCG)
# Checked once by hand: MII_SELINUX_BIN=<a build whose writer sets no label> run.sh replace create
# fails 7 checks in each (unlabeled_t, journald failed, AVCs, no label on disk).
# Run by `cargo test` (tests/boot_selinux.rs). MII_SELINUX_JOBS boots that many guests at once
# (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
here=$repo/tests/selinux-boot
# MII_SELINUX_WORK: another work directory; MII_SELINUX_BIN: boot another build of the tool
# instead of this checkout's (to show that a broken build fails these checks).
work=${MII_SELINUX_WORK:-$repo/target/selinux-boot}
mkdir -p "$work"
t0=$(date +%s)

U=564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a
UH=${U//-/}
# VMware's SMBIOS strings (QEMU doubles a comma in a value): systemd alone would pick a random id
# here, so an id equal to U comes from our tool.
VMWARE=(-smbios "type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform,uuid=$U")
FC=/etc/selinux/default/contexts/files/file_contexts

# Without what it needs the test cannot run: SKIP with the reason, except in CI, where .ci/run
# installs everything (.ci/packages/selinux.txt) and a SKIP would hide a broken install.
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL selinux boot tests: $*" >&2; exit 1; fi
  echo "SKIP selinux boot tests: $*"; exit 0
}
failures=0 passed=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { # NAME WHAT TEST...
  local name=$1 what=$2; shift 2
  if "$@"; then echo "PASS $name: $what"; passed=$((passed + 1)); else fail "$name: $what"; fi
}

need=()
for pair in qemu-system-x86_64:qemu-system-x86 debugfs:e2fsprogs mkfs.ext4:e2fsprogs \
            mkinitramfs:initramfs-tools lsinitramfs:initramfs-tools debootstrap:debootstrap \
            setfattr:attr getfattr:attr zstd:zstd make:make; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
kver=$(find /lib/modules -maxdepth 1 -name '*-cloud-amd64' -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
[ -n "$kver" ] || need+=(linux-image-cloud-amd64)
[ "${#need[@]}" -eq 0 ] || skip "missing Debian packages: ${need[*]} (apt-get install them, as .ci/run does)"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, security.* xattrs, mkfs.ext4 -d)"
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || skip "no readable $kernel"
accel=tcg
if [ -w /dev/kvm ] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then accel=kvm; fi
jobs=${MII_SELINUX_JOBS:-2}
echo "selinux-boot: kernel $kver, accel $accel, $jobs boots at once"

if [ -n "${MII_SELINUX_BIN:-}" ]; then
  bin=$MII_SELINUX_BIN
  echo "selinux-boot: booting $bin, not this checkout's build"
else
  RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked --target x86_64-unknown-linux-gnu
  bin=$repo/target/x86_64-unknown-linux-gnu/release/machine-id-init
fi
make -s -C "$repo" units
units=$repo/target/units

# --- the root file system: Debian 13 with the reference policy Debian ships (cached).
# shellcheck source=tests/lib/rootfs.sh
source "$repo/tests/lib/rootfs.sh"
if ! tar=$(rootfs trixie-selinux); then
  skip "debootstrap of trixie with selinux-policy-default failed (no Debian mirror?)"
fi
echo "selinux-boot: root file system ready after $(($(date +%s) - t0)) s"

# --- two initramfs images from Debian's mkinitramfs: the shipped hook and init-bottom script
# ("auto": preserve with trixie's systemd 257, the hand-off), and a test copy of the script that
# adds --first-boot commit (what the tool does below systemd 256, e.g. RHEL 9's 252), so that it
# writes /etc/machine-id itself: the replace and create paths.
build_initrd() { # NAME INIT-BOTTOM-SCRIPT
  local conf=$work/initramfs-$1
  rm -rf "$conf"
  mkdir -p "$conf/hooks" "$conf/scripts/init-bottom" "$conf/conf.d"
  cp /etc/initramfs-tools/initramfs.conf "$conf/"
  # Only what a virtio disk with ext4 needs: a small image unpacks fast under TCG.
  printf 'MODULES=list\nCOMPRESS=zstd\n' > "$conf/conf.d/test"
  printf '%s\n' virtio_pci virtio_blk ext4 > "$conf/modules"
  cp "$units/initramfs-tools/hooks/machine-id-init" "$conf/hooks/"
  cp "$2" "$conf/scripts/init-bottom/machine-id-init"
  chmod +x "$conf/hooks/machine-id-init" "$conf/scripts/init-bottom/machine-id-init"
  MACHINE_ID_INIT_BIN=$bin mkinitramfs -d "$conf" -o "$work/initrd-$1.img" "$kver"
}
shipped=$units/initramfs-tools/scripts/init-bottom/machine-id-init
# TEST COPY, not what ships: the shipped script plus --first-boot commit.
sed 's|--log-target kmsg|--log-target kmsg --first-boot commit|' "$shipped" > "$work/init-bottom-commit"
check setup "the test copy of init-bottom adds --first-boot commit" grep -q -- '--first-boot commit' "$work/init-bottom-commit"
build_initrd shipped "$shipped" & p1=$!
build_initrd commit "$work/init-bottom-commit" & p2=$!
if ! wait "$p1" || ! wait "$p2"; then echo "FAIL setup: mkinitramfs"; exit 1; fi
for v in shipped commit; do
  check setup "initramfs ($v) holds the tool" bash -c "lsinitramfs '$work/initrd-$v.img' | grep -q '^usr/sbin/machine-id-init$'"
done
echo "selinux-boot: initramfs images ready after $(($(date +%s) - t0)) s"

# --- one labeled tree, then one disk per scenario with its own /etc/machine-id.
tree=$work/tree
rm -rf "$tree"; mkdir -p "$tree"
tar -C "$tree" -xf "$tar"
install -m 0755 "$bin" "$tree/usr/sbin/machine-id-init"
# The relabel unit's output also on the console (a drop-in: where its stdout goes, nothing else).
mkdir -p "$tree/etc/systemd/system/machine-id-init-relabel.service.d"
printf '[Service]\nStandardOutput=journal+console\n' > "$tree/etc/systemd/system/machine-id-init-relabel.service.d/console.conf"
install -m 0755 "$here/report.sh" "$tree/usr/local/sbin/mii-selinux-report"
cat > "$tree/etc/systemd/system/mii-selinux-report.service" <<'UNIT'
[Unit]
Description=Report the machine id and its label for tests/selinux-boot
After=multi-user.target first-boot-complete.target systemd-machine-id-commit.service
[Service]
Type=oneshot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
ExecStart=/usr/local/sbin/mii-selinux-report
ExecStartPost=/usr/bin/systemctl --no-block poweroff
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/mii-selinux-report.service "$tree/etc/systemd/system/multi-user.target.wants/"
# The label of /etc/machine-id while a handed-over /run/machine-id is bind-mounted over it.
cat > "$tree/etc/systemd/system/mii-selinux-early.service" <<'UNIT'
[Unit]
Description=Report the machine id's label before systemd-machine-id-commit for tests/selinux-boot
DefaultDependencies=no
After=systemd-journald.service machine-id-init-relabel.service
Before=systemd-machine-id-commit.service sysinit.target
[Service]
Type=oneshot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
ExecStart=/usr/local/sbin/mii-selinux-report early
[Install]
WantedBy=sysinit.target
UNIT
mkdir -p "$tree/etc/systemd/system/sysinit.target.wants"
ln -sf /etc/systemd/system/mii-selinux-early.service "$tree/etc/systemd/system/sysinit.target.wants/"
# auditd would take the AVC messages off the console; the getty's vhangup can cut the report.
for u in auditd.service audit-rules.service serial-getty@ttyS0.service; do
  ln -sf /dev/null "$tree/etc/systemd/system/$u"
done
"$bin" seal --root "$tree" > /dev/null
# Label every file as the policy says (the host has SELinux off, so its ext4 takes any label).
chroot "$tree" setfiles -F "$FC" /
policy=$(awk '$1 == "/etc/machine-id" { print $NF }' "$tree$FC")
check setup "the policy labels /etc/machine-id ($policy)" [ "$policy" = system_u:object_r:etc_runtime_t:s0 ]
label_of() { getfattr --absolute-names --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0'; }

# NAME INITRD RELABEL-UNIT(on|off) STATE: how /etc/machine-id is on disk before the boot.
scenarios_all=(replace create handoff relabel_unlabeled control_unlabeled control_handoff_norelabel)
declare -A initrd_of relabel_of state_of
initrd_of=([replace]=commit [create]=commit [handoff]=shipped [relabel_unlabeled]=shipped [control_unlabeled]=shipped [control_handoff_norelabel]=shipped)
relabel_of=([replace]=off [create]=off [handoff]=on [relabel_unlabeled]=on [control_unlabeled]=off [control_handoff_norelabel]=off)
state_of=([replace]=uninitialized [create]=missing [handoff]=uninitialized [relabel_unlabeled]=unlabeled-id [control_unlabeled]=unlabeled-id [control_handoff_norelabel]=uninitialized)

make_disk() { # NAME
  local name=$1 f=$tree/etc/machine-id
  local wants=$tree/etc/systemd/system/sysinit.target.wants
  rm -f "$f"
  case ${state_of[$name]} in
    uninitialized) printf 'uninitialized\n' > "$f"; setfattr -n security.selinux -v "$policy" "$f" ;;
    missing) ;;
    # The old behaviour's result: an id on disk without a label (the tool leaves it alone).
    unlabeled-id) printf '%s\n' "$UH" > "$f" ;;
  esac
  [ -e "$f" ] && chmod 0444 "$f"
  # Off: not installed at all. On a first boot systemd applies the presets (Debian's: enable
  # everything), so an installed unit would be enabled even without the symlink.
  if [ "${relabel_of[$name]}" = on ]; then
    install -m 0644 "$units/systemd/machine-id-init-relabel.service" "$tree/etc/systemd/system/"
    ln -sf /etc/systemd/system/machine-id-init-relabel.service "$wants/"
    # As a package manager with SELinux on would: labeled (systemd checks unit files' labels).
    chroot "$tree" setfiles -F "$FC" /etc/systemd/system
  else
    rm -f "$wants/machine-id-init-relabel.service" "$tree/etc/systemd/system/machine-id-init-relabel.service"
  fi
  echo "selinux-boot: $name: /etc/machine-id ${state_of[$name]} (label: $( [ -e "$f" ] && { label_of "$f" || true; } || echo none)), initramfs ${initrd_of[$name]}, relabel unit ${relabel_of[$name]}"
  rm -f "$work/$name.img"
  mkfs.ext4 -q -F -d "$tree" "$work/$name.img" 1G
}

disk_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
# The label on disk, from the image (mkfs.ext4 -d keeps security.* xattrs).
# debugfs prints: security.selinux (35) = "system_u:object_r:etc_runtime_t:s0\000"
disk_label() { debugfs -R "ea_get $2 security.selinux" "$1" 2>/dev/null | sed -n 's/^security.selinux ([0-9]*) = "\(.*\)"$/\1/p' | sed 's/\\000$//'; }

boot() { # NAME
  local name=$1
  rm -f "$work/$name.log"
  local s; s=$(date +%s)
  timeout 900 qemu-system-x86_64 -machine q35 -accel "$accel" -cpu max,-hypervisor -m 1536 \
    -nodefaults -display none -no-reboot -serial "file:$work/$name.log" \
    "${VMWARE[@]}" -kernel "$kernel" -initrd "$work/initrd-${initrd_of[$name]}.img" \
    -drive "file=$work/$name.img,if=virtio,format=raw" \
    -append "security=selinux enforcing=1 console=ttyS0 printk.devkmsg=on loglevel=7 sysctl.kernel.printk_ratelimit=0 systemd.firstboot=no root=/dev/vda rw panic=-1" \
    > "$work/$name.qemu.log" 2>&1 || echo "selinux-boot: $name: qemu exited with $? (timeout 900 s?)"
  echo "selinux-boot: $name: boot took $(($(date +%s) - s)) s"
}

rep() { grep -ao "MII-SEL $2=.*" "$work/$1.log" | tail -n 1 | tr -d '\r' | cut -d= -f2-; }
# AVC denials about the id file (every boot of this minimal image has unrelated ones).
avcs() { grep -a 'avc: *denied' "$work/$1.log" | grep -aE 'machine-id|machineid_t|etc_runtime_t' || true; }
tool_line() { grep -a "machine-id-init.*Initialized machine ID from SMBIOS product UUID (VMware): $UH" "$work/$1.log" | head -n 1 | tr -d '\r' || true; }

# Its stdout, which journald copies to the console (the drop-in above).
relabel_line() { grep -a 'machine-id-init\[[0-9]*\]: /run/machine-id: ' "$work/$1.log" | tr -d '\r' | sed 's/.*machine-id-init\[[0-9]*\]: //' | head -n 1 || true; }
etc_relabel_line() { grep -a "machine-id-init\[[0-9]*\]: /etc/machine-id: .* -> $policy" "$work/$1.log" | tr -d '\r' | sed 's/.*machine-id-init\[[0-9]*\]: //' | head -n 1 || true; }
relabeled_to_policy() { [[ "$(relabel_line "$1")" == '/run/machine-id: '*" -> $policy" ]]; }
show() { # NAME: what the guest reported, for the log
  local n=$1 k
  for k in enforce early-label early-bind-mounted early-journald label policy id run run-label bind-mounted journald journald-restarts journal-files commit relabel failed-units; do
    echo "  $n: $k = $(rep "$n" "$k")"
  done
  echo "  $n: tool: $(tool_line "$n")"
  echo "  $n: relabel unit: $(relabel_line "$n")"
  echo "  $n: AVCs naming the id file: $(avcs "$n" | wc -l)"
  avcs "$n" | head -n 3 | sed "s/^/  $n:   /"
  echo "  $n: disk after boot: id=$(disk_cat "$work/$n.img" /etc/machine-id | tr '\n' ' ') label=$(disk_label "$work/$n.img" /etc/machine-id)"
}

booted() { # NAME: common to every boot: it reported, enforcing
  check "$1" "the guest reported (report unit ran)" grep -aq '^MII-SEL-END' "$work/$1.log"
  check "$1" "SELinux enforcing in the guest" [ "$(rep "$1" enforce)" = 1 ]
  check "$1" "matchpathcon -n /etc/machine-id is the policy's entry ($policy)" [ "$(rep "$1" policy)" = "$policy" ]
}

fixed() { # NAME: the checks of a boot where the tool wrote the id
  local n=$1
  booted "$n"
  check "$n" "stat -c %C /etc/machine-id = matchpathcon ($(rep "$n" label))" [ "$(rep "$n" label)" = "$(rep "$n" policy)" ]
  check "$n" "systemd-journald is active ($(rep "$n" journald))" [ "$(rep "$n" journald)" = active ]
  check "$n" "systemd-journald was never restarted ($(rep "$n" journald-restarts) restarts)" [ "$(rep "$n" journald-restarts)" = 0 ]
  check "$n" "the journal has a non-empty system.journal ($(rep "$n" journal-files))" [ "$(rep "$n" journal-files)" -ge 1 ]
  check "$n" "no 'Failed to open runtime journal' on the console" bash -c "! grep -aq 'Failed to open runtime journal' '$work/$n.log'"
  check "$n" "no AVC denial names the id file" [ -z "$(avcs "$n")" ]
  check "$n" "/etc/machine-id in the guest is $UH" [ "$(rep "$n" id)" = "$UH" ]
  check "$n" "our console line: $(tool_line "$n" | sed 's/.*machine-id-init/machine-id-init/')" [ -n "$(tool_line "$n")" ]
  check "$n" "on disk after the boot: $UH" [ "$(disk_cat "$work/$n.img" /etc/machine-id)" = "$UH" ]
  check "$n" "on disk after the boot: labeled $policy" [ "$(disk_label "$work/$n.img" /etc/machine-id)" = "$policy" ]
}

scenario_replace() { # "uninitialized", labeled; --first-boot commit: replaced, label carried over
  fixed replace
  check replace "the tool wrote /etc/machine-id (not a hand-off: no bind mount)" [ "$(rep replace early-bind-mounted)" = 0 ]
}

scenario_create() { # missing; --first-boot commit: created, policy's label for the path
  fixed create
  check create "the tool created /etc/machine-id (not a hand-off: no bind mount)" [ "$(rep create early-bind-mounted)" = 0 ]
}

scenario_handoff() { # "uninitialized", preserve: /run/machine-id, bind mount, relabel unit, commit
  local n=handoff
  fixed "$n"
  check "$n" "the tool handed the id over in /run/machine-id" grep -aq "machine-id-init.*SMBIOS product UUID (VMware): $UH, in /run/machine-id" "$work/$n.log"
  check "$n" "before the commit: /run/machine-id bind-mounted over /etc/machine-id" [ "$(rep "$n" early-bind-mounted)" = 1 ]
  check "$n" "before the commit: stat -c %C /etc/machine-id = matchpathcon ($(rep "$n" early-label))" [ "$(rep "$n" early-label)" = "$policy" ]
  check "$n" "before the commit: journald active ($(rep "$n" early-journald))" [ "$(rep "$n" early-journald)" = active ]
  check "$n" "the relabel unit ran ($(rep "$n" relabel))" [ "$(rep "$n" relabel)" = active/success/yes ]
  check "$n" "the relabel unit relabeled it: $(relabel_line "$n")" relabeled_to_policy "$n"
  check "$n" "after the commit: no bind mount left, /run/machine-id labeled too ($(rep "$n" run-label))" [ "$(rep "$n" bind-mounted)/$(rep "$n" run-label)" = "0/$policy" ]
  check "$n" "systemd-machine-id-commit ran ($(rep "$n" commit))" [ "$(rep "$n" commit)" = active/success/yes ]
}

scenario_relabel_unlabeled() { # the control's unlabeled id, with the relabel unit: it repairs it
  local n=relabel_unlabeled
  booted "$n"
  check "$n" "the tool did nothing in the initramfs (the id is initialized)" [ -z "$(tool_line "$n")" ]
  check "$n" "the relabel unit ran ($(rep "$n" relabel))" [ "$(rep "$n" relabel)" = active/success/yes ]
  check "$n" "it relabeled /etc/machine-id: $(etc_relabel_line "$n")" [ -n "$(etc_relabel_line "$n")" ]
  check "$n" "stat -c %C /etc/machine-id = matchpathcon ($(rep "$n" label))" [ "$(rep "$n" label)" = "$policy" ]
  check "$n" "systemd-journald is active ($(rep "$n" journald), $(rep "$n" journald-restarts) restarts)" [ "$(rep "$n" journald)/$(rep "$n" journald-restarts)" = active/0 ]
  check "$n" "no AVC denial names the id file" [ -z "$(avcs "$n")" ]
  check "$n" "on disk after the boot: labeled $policy" [ "$(disk_label "$work/$n.img" /etc/machine-id)" = "$policy" ]
}

scenario_control_unlabeled() { # an id on disk with no label (the old replace/create result)
  local n=control_unlabeled
  booted "$n"
  check "$n" "the tool did nothing (the id is initialized)" [ -z "$(tool_line "$n")" ]
  check "$n" "stat -c %C /etc/machine-id ($(rep "$n" label)) is not the policy's" [ "$(rep "$n" label)" != "$policy" ]
  check "$n" "systemd-journald is not active ($(rep "$n" journald))" [ "$(rep "$n" journald)" != active ]
  check "$n" "'Failed to open runtime journal: Permission denied' on the console" grep -aq 'Failed to open runtime journal: Permission denied' "$work/$n.log"
  check "$n" "AVC denials name the id file ($(avcs "$n" | wc -l))" [ -n "$(avcs "$n")" ]
}

scenario_control_handoff_norelabel() { # the hand-off without the relabel unit
  local n=control_handoff_norelabel
  booted "$n"
  check "$n" "the tool handed the id over in /run/machine-id" grep -aq "machine-id-init.*SMBIOS product UUID (VMware): $UH, in /run/machine-id" "$work/$n.log"
  check "$n" "the relabel unit is not there ($(rep "$n" relabel))" [ "$(rep "$n" relabel)" = inactive/success/no ]
  check "$n" "before the commit: /run/machine-id bind-mounted over /etc/machine-id" [ "$(rep "$n" early-bind-mounted)" = 1 ]
  check "$n" "before the commit: stat -c %C /etc/machine-id ($(rep "$n" early-label)) is not the policy's" [ "$(rep "$n" early-label)" != "$policy" ]
  check "$n" "systemd-journald is not active ($(rep "$n" journald))" [ "$(rep "$n" journald)" != active ]
  check "$n" "AVC denials name the id file ($(avcs "$n" | wc -l))" [ -n "$(avcs "$n")" ]
  check "$n" "systemd-machine-id-commit did not succeed ($(rep "$n" commit))" [ "$(rep "$n" commit)" != active/success/yes ]
  check "$n" "the id was not committed: the disk keeps uninitialized" [ "$(disk_cat "$work/$n.img" /etc/machine-id)" = uninitialized ]
}

scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=("${scenarios_all[@]}")
for s in "${scenarios[@]}"; do
  [ -n "${state_of[$s]:-}" ] || { echo "unknown scenario $s (known: ${scenarios_all[*]})" >&2; exit 2; }
  make_disk "$s"
done
echo "selinux-boot: disks ready after $(($(date +%s) - t0)) s"
running=0
for s in "${scenarios[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  boot "$s" &
  running=$((running + 1))
done
wait
echo "selinux-boot: boots done after $(($(date +%s) - t0)) s"
for s in "${scenarios[@]}"; do
  show "$s"
  "scenario_$s"
done
echo "selinux-boot: took $(($(date +%s) - t0)) s"
echo "selinux-boot: $passed passed, $failures failed"
[ "$failures" -eq 0 ]

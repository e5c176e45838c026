#!/usr/bin/env bash
# Boot tests, clones group (SPEC §9): one Debian 13 (systemd 257) disk, sealed like the other
# groups' images, with Debian's mkinitramfs and units/initramfs-tools, booted as a VMware guest
# again and again under the UUID a hypervisor would give it; each boot continues from the disk
# the previous one left (c3 boots a copy of it, and c4 onwards continue on that copy):
#   c1  UUID A: first boot, systemd 257 takes A through /run/machine-id and commits it; the
#       origin record names A (source vm, reinits 0);
#   c2  A with its first three fields byte-swapped (a VMware hardware upgrade): the same
#       machine, id kept, the record rewritten to today's order;
#   c3  a copy of the disk, UUID B, no configuration file (on-clone=warn): id kept, a warning;
#   c4  on-clone=reinit in the configuration file and a regular /var/lib/dbus/machine-id
#       holding A (both written with debugfs), UUID B: re-identified as B, dbus copy too;
#   c5  B again: nothing to change, the re-identification count back to 0;
#   c6  C, c7  D: re-identified (count 1, 2); c8  E: the churn guard keeps D;
#   cc  control: the disk after c1, copied and booted under B with an initramfs without our
#       hook: systemd alone keeps A, nothing says it was copied.
# Every boot with our hook has MACHINE_ID_INIT_LOG=debug on the kernel command line (initramfs-
# tools' init passes it to its scripts) and loglevel=8, so our debug lines reach the console too.
#   tests/boot/clones.sh   (the boots depend on each other: no scenario selection)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup clones mkinitramfs:initramfs-tools debootstrap:debootstrap openssl:openssl
img=$gwork/image

# The UUIDs the hypervisor gives the machine, dashed (as QEMU takes them) and as the ids they make.
A=11223344-5566-7788-99aa-bbccddeeff00
A_SWAPPED=44332211-6655-8877-99aa-bbccddeeff00
B=2b7c4f1e-83a0-4d5b-9e61-0c5d7a9f3e21
C=3c8d502f-94b1-4e6c-8f72-1d6e8bae4f32
D=4d9e6130-a5c2-4f7d-a083-2e7f9cbf5043
E=5eaf7241-b6d3-408e-b194-3f80adc06154
AH=${A//-/} AS=${A_SWAPPED//-/} BH=${B//-/} CH=${C//-/} DH=${D//-/}
debug_args="MACHINE_ID_INIT_LOG=debug loglevel=8"

# Our lines on the console: the kernel log record names the process (never just a UUID, which
# SeaBIOS prints too).
mii="machine-id-init\[[0-9]+\]: "
uuid_from="SMBIOS product UUID \(VMware\)"
recorded() { echo "${mii}Recorded the origin of $1 in /root/etc/machine-id-init/origin\."; } # ID
copied="${mii}This machine was copied"
reinit_line() { # OLD NEW
  echo "${copied}: its $uuid_from changed since machine ID $1 was set\. Re-identified \(on-clone=reinit\): machine ID $1 is now $2 from the $uuid_from\."
}
dbus_replaced="${mii}Replaced the copied machine ID in /root/var/lib/dbus/machine-id\."

ORIGIN=/etc/machine-id-init/origin
CONF=/etc/machine-id-init/machine-id-init.conf
DBUS=/var/lib/dbus/machine-id

# SPEC §9's fingerprint, computed here independently of the tool: the first 16 bytes of
# HMAC-SHA256 keyed with the id's 16 bytes over "machine-id-init origin v1" and the UUID's bytes.
# shellcheck disable=SC2059 # the format is the bytes, as \xHH escapes
hex_bytes() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; } # HEX
fingerprint() { # ID-HEX UUID-HEX
  { printf 'machine-id-init origin v1'; hex_bytes "$2"; } |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | awk '{print $NF}' | cut -c1-32
}
# The record the tool must write, byte for byte.
record_text() { # ID-HEX UUID-HEX REINITS
  # shellcheck disable=SC2016 # the backquotes are the record's
  printf '%s\n' '# machine-id-init: where etc/machine-id came from (removed by `machine-id-init seal`)' \
    version=1 "machine-id=$1" source=vm "fingerprint=$(fingerprint "$1" "$2")" "reinits=$3"
}
record_is() { cmp -s <(disk_cat "$1" "$ORIGIN") <(record_text "$2" "$3" "$4"); } # DISK ID UUID REINITS
disk_mode() { debugfs -R "stat $2" "$1" 2>/dev/null | sed -n 's/.*Mode: *\([0-7]*\).*/\1/p' | head -n 1; }
# Files written into the disk between boots, as an administrator (or an image tool) would.
disk_put() { # DISK PATH MODE CONTENT
  local tmp cmds
  tmp=$(mktemp) cmds=$(mktemp)
  printf '%s' "$4" > "$tmp"
  chmod "$3" "$tmp"
  printf 'rm %s\nwrite %s %s\n' "$2" "$tmp" "$2" > "$cmds"
  debugfs -w -f "$cmds" "$1" >/dev/null 2>&1
  rm -f "$tmp" "$cmds"
}

# One boot of DISK under UUID (lib.sh's VMware guest, with another SMBIOS UUID).
boot_as() { # LOG INITRD DISK UUID [KERNEL-ARGS]
  local VMWARE=("${VMWARE[@]/%uuid=$U/uuid=$4}")
  [[ ${VMWARE[*]} == *"uuid=$4" ]] || { echo "boot_as: no uuid= to replace in VMWARE" >&2; exit 1; }
  boot_debian "$1" "$2" "$3" "${5:-}"
  echo "boot: $(basename "$1" .log): UUID $4: $(grep -ao 'MII-REPORT.*' "$1" | tail -n 1 | tr -d '\r')"
  grep -aE "$mii" "$1" | tr -d '\r' | sed 's/^/boot:   console: /' || true
  echo "boot:   record: $(disk_cat "$3" "$ORIGIN" | grep -v '^#' | tr '\n' ' ')"
}
# systemd as PID 1 reports ID in /etc/machine-id, and the disk holds it after shutdown.
check_id() { # NAME LOG DISK ID
  check "$1" "systemd 257 (PID 1) reports $4 in /etc/machine-id" \
    test "$(field "$2" MII-REPORT etc) $(field "$2" MII-REPORT systemd)" = "$4 257"
  check "$1" "the disk holds $4 after shutdown" test "$(disk_cat "$3" /etc/machine-id)" = "$4"
}

prepare() {
  debian_root c1 "$img" trixie-systemd trixie systemd-sysv,udev
  add_systemd_report "$img/root"
  debian_disk "$img"
  hook=$(mkinitramfs_hook)
  plain=$(mkinitramfs_plain)
  disk=$gwork/disk.img
  fresh_disk "$img" "$disk"
}

scenario_c1() {
  local log=$gwork/c1.log
  boot_as "$log" "$hook" "$disk" "$A" "$debug_args"
  check c1 "our hook handed UUID A over for first boot (console line)" has "$log" \
    "${mii}Initialized machine ID from $uuid_from: $AH, in /run/machine-id; /root/etc/machine-id stays \"uninitialized\" for systemd's first boot\."
  check c1 "MACHINE_ID_INIT_LOG=debug on the kernel command line reached the hook: our debug line on the console" \
    has "$log" "$(recorded "$AH")"
  check c1 "systemd saw its first boot and reused the id we handed over" \
    bash -c "grep -aq 'Detected first boot' '$log' && grep -aq 'Reusing machine ID stored in /run/machine-id' '$log'"
  check c1 "/run/machine-id holds A once booted" test "$(field "$log" MII-REPORT run)" = "$AH"
  check_id c1 "$log" "$disk" "$AH"
  check c1 "origin record: machine-id=A source=vm fingerprint of A reinits=0, byte for byte" \
    record_is "$disk" "$AH" "$AH" 0
  check c1 "origin record mode 0600, its directory 0755" \
    test "$(disk_mode "$disk" "$ORIGIN") $(disk_mode "$disk" /etc/machine-id-init)" = "0600 0755"
  c1_record=$(disk_cat "$disk" "$ORIGIN")
  # The control boots this disk as it is now.
  cp --sparse=always "$disk" "$gwork/control.img"
}

scenario_c2() {
  local log=$gwork/c2.log
  boot_as "$log" "$hook" "$disk" "$A_SWAPPED" "$debug_args"
  check c2 "a byte-swapped A is the same machine, recorded in today's order (console line)" has "$log" \
    "${mii}The $uuid_from is the one machine ID $AH was set from, with its first three fields byte-swapped \(a hardware upgrade\): same machine; recording today's order\."
  check c2 "the record was rewritten (debug line), no copy reported" \
    bash -c "grep -aqE '$(recorded "$AH")' '$log' && ! grep -aqE '$copied' '$log'"
  check c2 "systemd did not see a first boot" lacks "$log" "Detected first boot"
  check_id c2 "$log" "$disk" "$AH"
  check c2 "origin record: still A, fingerprint of the swapped UUID, reinits=0, byte for byte" \
    record_is "$disk" "$AH" "$AS" 0
  check c2 "its fingerprint differs from boot c1's" bash -c \
    "[ '$(printf '%s\n' "$c1_record" | sed -n 's/^fingerprint=//p')' != '$(disk_cat "$disk" "$ORIGIN" | sed -n 's/^fingerprint=//p')' ]"
}

scenario_c3() {
  local log=$gwork/c3.log before stamp
  # The copy: from here on the boots continue on it.
  cp --sparse=always "$disk" "$gwork/clone.img"
  disk=$gwork/clone.img
  before=$(disk_cat "$disk" "$ORIGIN") stamp=$(disk_stamp "$disk" "$ORIGIN")
  boot_as "$log" "$hook" "$disk" "$B" "$debug_args"
  check c3 "UUID B on a copy of A's disk, no configuration file: the on-clone=warn warning (console line)" has "$log" \
    "${copied}: its $uuid_from changed since machine ID $AH was set\. Keeping it \(on-clone=warn\); set on-clone=reinit to re-identify\."
  check c3 "no record written, nothing replaced" bash -c \
    "! grep -aqE '${mii}Recorded the origin' '$log' && ! grep -aqE '${mii}Replaced' '$log'"
  check_id c3 "$log" "$disk" "$AH"
  check c3 "origin record unchanged (same bytes, same inode and times)" \
    test "$(disk_cat "$disk" "$ORIGIN")|$(disk_stamp "$disk" "$ORIGIN")" = "$before|$stamp"
}

scenario_c4() {
  local log=$gwork/c4.log
  debugfs -w -R "mkdir /var/lib/dbus" "$disk" >/dev/null 2>&1 || true
  disk_put "$disk" "$CONF" 0644 $'# the image re-identifies its copies\non-clone=reinit\n'
  disk_put "$disk" "$DBUS" 0444 "$AH"$'\n'
  check c4 "debugfs wrote on-clone=reinit and a regular dbus copy holding A (mode 0444)" bash -c \
    "[ \"\$(debugfs -R 'cat $CONF' '$disk' 2>/dev/null | grep -v '^#')\" = on-clone=reinit ] && [ \"\$(debugfs -R 'cat $DBUS' '$disk' 2>/dev/null)\" = $AH ] && debugfs -R 'stat $DBUS' '$disk' 2>/dev/null | grep -q 'Type: regular *Mode: *0444'"
  boot_as "$log" "$hook" "$disk" "$B" "$debug_args"
  check c4 "on-clone=reinit: A re-identified as B (console warning naming both)" has "$log" "$(reinit_line "$AH" "$BH")"
  check c4 "the dbus copy replaced (console line), the record written (debug line)" bash -c \
    "grep -aqE '$dbus_replaced' '$log' && grep -aqE '$(recorded "$BH")' '$log'"
  check_id c4 "$log" "$disk" "$BH"
  check c4 "the dbus copy holds B after shutdown, still a regular file of mode 0444" bash -c \
    "[ \"\$(debugfs -R 'cat $DBUS' '$disk' 2>/dev/null)\" = $BH ] && debugfs -R 'stat $DBUS' '$disk' 2>/dev/null | grep -q 'Type: regular *Mode: *0444'"
  check c4 "origin record: machine-id=B, fingerprint of B, reinits=1, byte for byte" \
    record_is "$disk" "$BH" "$BH" 1
}

scenario_c5() {
  local log=$gwork/c5.log
  boot_as "$log" "$hook" "$disk" "$B" "$debug_args"
  check c5 "B again: the same machine, re-identification count reset (console line)" has "$log" \
    "${mii}The $uuid_from is the one machine ID $BH was set from again, after 1 re-identification\(s\): counting from zero\."
  check c5 "the record was rewritten (debug line), no copy reported" \
    bash -c "grep -aqE '$(recorded "$BH")' '$log' && ! grep -aqE '$copied' '$log'"
  check_id c5 "$log" "$disk" "$BH"
  check c5 "origin record: machine-id=B, reinits=0, byte for byte" record_is "$disk" "$BH" "$BH" 0
}

# A fresh UUID re-identifies the machine: OLD becomes NEW, the count is REINITS.
reinit_boot() { # NAME UUID OLD-HEX NEW-HEX REINITS
  local log=$gwork/$1.log
  boot_as "$log" "$hook" "$disk" "$2" "$debug_args"
  check "$1" "a fresh UUID: $3 re-identified as $4 (console warning)" has "$log" "$(reinit_line "$3" "$4")"
  check "$1" "the dbus copy replaced (console line), the record written (debug line)" bash -c \
    "grep -aqE '$dbus_replaced' '$log' && grep -aqE '$(recorded "$4")' '$log'"
  check_id "$1" "$log" "$disk" "$4"
  check "$1" "the dbus copy holds $4 after shutdown" test "$(disk_cat "$disk" "$DBUS")" = "$4"
  check "$1" "origin record: machine-id=$4, reinits=$5, byte for byte" record_is "$disk" "$4" "$4" "$5"
}
scenario_c6() { reinit_boot c6 "$C" "$BH" "$CH" 1; }
scenario_c7() { reinit_boot c7 "$D" "$CH" "$DH" 2; }

scenario_c8() {
  local log=$gwork/c8.log before stamp
  before=$(disk_cat "$disk" "$ORIGIN") stamp=$(disk_stamp "$disk" "$ORIGIN")
  boot_as "$log" "$hook" "$disk" "$E" "$debug_args"
  check c8 "a third fresh UUID in a row: the churn guard keeps D, the UUID is not stable (console warning)" has "$log" \
    "${copied}: its $uuid_from changed since machine ID $DH was set, but it was re-identified 2 times in a row already: the UUID is not stable\. Keeping machine ID $DH\."
  check c8 "no record written, nothing replaced, no re-identification" bash -c \
    "! grep -aqE '${mii}(Recorded the origin|Replaced)' '$log' && ! grep -aq 'Re-identified' '$log'"
  check_id c8 "$log" "$disk" "$DH"
  check c8 "the dbus copy still holds D" test "$(disk_cat "$disk" "$DBUS")" = "$DH"
  check c8 "origin record unchanged (same bytes, same inode and times)" \
    test "$(disk_cat "$disk" "$ORIGIN")|$(disk_stamp "$disk" "$ORIGIN")" = "$before|$stamp"
  check c8 "which is D's record with reinits=2, byte for byte" record_is "$disk" "$DH" "$DH" 2
}

scenario_cc() {
  local log=$gwork/cc.log disk=$gwork/control.img
  boot_as "$log" "$plain" "$disk" "$B" "$debug_args"
  check cc "control: no machine-id-init in the initramfs, none on the console" lacks "$log" "$ours_any"
  check cc "control: systemd 257 booted and detected VMware, not KVM, no first boot" bash -c \
    "grep -aq 'Detected virtualization vmware' '$log' && ! grep -aq 'Detected first boot' '$log'"
  check_id cc "$log" "$disk" "$AH"
  check cc "control: the origin record is c1's, untouched" test "$(disk_cat "$disk" "$ORIGIN")" = "$c1_record"
}

scenario prepare prepare
for s in c1 c2 c3 c4 c5 c6 c7 c8 cc; do scenario "$s" "scenario_$s"; done
rm -f "$gwork"/*.img
boot_summary

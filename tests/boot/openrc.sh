#!/usr/bin/env bash
# Boot tests, OpenRC group: a debootstrapped Debian 13 with sysvinit as PID 1 and OpenRC as its
# rc system (no systemd anywhere), sealed with `seal`, the tool installed with units/openrc as
# /etc/init.d/machine-id-init in the boot runlevel, and an initramfs by Debian's mkinitramfs
# without our hook. Booted as a VMware guest; a service at the end of the default runlevel
# reports the ids on the console, then powers off:
#   10   the id is written before dbus starts: dbus's own id is the UUID too;
#   10b  a second boot of the same disk changes nothing;
#   10c  control: the same image without our service: dbus invents a random id.
#   tests/boot/openrc.sh [SCENARIO...]   (default: 10 10b 10c; 10b needs 10's disk)
# shellcheck source=tests/boot/lib.sh
source "$(dirname "$0")/lib.sh"
boot_setup openrc mkinitramfs:initramfs-tools debootstrap:debootstrap
img=$gwork/image ctl=$gwork/control

add_openrc_report() { # ROOT
  cat > "$1/etc/init.d/mii-report" <<'SERVICE'
#!/sbin/openrc-run
description="Report the machine ids for tests/boot, then power off"
depend() {
    need dbus
    after *
}
start() {
    echo "MII-REPORT etc=$(cat /etc/machine-id) dbusfile=$(cat /var/lib/dbus/machine-id 2>/dev/null) dbus=$(dbus-uuidgen --get 2>/dev/null) ours=$(test -e /etc/runlevels/boot/machine-id-init && echo 1 || echo 0)" > /dev/ttyS0
    # Off without the shutdown runlevel (a minute or more under TCG), the root read-only first so
    # the disk is clean for debugfs; the whole shutdown where that is refused.
    setsid -f sh -c 'sleep 1; sync; if mount -o remount,ro /; then exec /sbin/poweroff -f; else exec /sbin/poweroff; fi' < /dev/null > /dev/null 2>&1
    return 0
}
SERVICE
  chmod 755 "$1/etc/init.d/mii-report"
  chroot "$1" rc-update add mii-report default >/dev/null
}

prepare() {
  debian_root 10 "$img" trixie-openrc trixie sysvinit-core,dbus "apt-get install -y openrc"
  add_openrc_report "$img/root"
  # The control image: the same tree before our service goes in.
  rm -rf "$ctl"; mkdir -p "$ctl"
  mv "$img/root" "$ctl/root"
  debian_disk "$ctl"
  mv "$ctl/root" "$img/root"
  # Installed as README says: the binary, the service, `rc-update add machine-id-init boot`.
  install -m 755 "$bin" "$img/root/usr/sbin/machine-id-init"
  install -m 755 "$units/openrc/machine-id-init" "$img/root/etc/init.d/machine-id-init"
  chroot "$img/root" rc-update add machine-id-init boot >/dev/null
  check 10 "our service is in the boot runlevel (rc-update)" test -L "$img/root/etc/runlevels/boot/machine-id-init"
  debian_disk "$img"
}

# A boot of a sysvinit + OpenRC root: mkinitramfs mounts it read-only, as Debian boots, and
# OpenRC's sysinit runlevel (checkroot.sh) remounts it read-write before the boot runlevel.
boot_openrc() { boot_debian "$1" "$(mkinitramfs_plain)" "$2" ro; }

# Lines on the console: our tool (stderr under OpenRC), OpenRC starting our service and dbus.
ours_openrc="machine-id-init: Initialized machine ID from SMBIOS product UUID \(VMware\): $UH \(first boot: committed now"
dbus_start="Starting (system message bus|dbus)"

scenario_10() {
  local log=$gwork/s10.log
  boot_openrc "$log" "$img/disk.img"
  echo "boot: 10: the booted system reports $(grep -ao 'MII-REPORT.*' "$log" | tail -n 1 | tr -d '\r')"
  check 10 "OpenRC ran our service" has "$log" "Initializing machine ID"
  check 10 "the tool wrote the UUID (console line)" has "$log" "$ours_openrc"
  check 10 "our line comes before dbus starts" before "$log" "$ours_openrc" "$dbus_start"
  check 10 "booted: /etc/machine-id and dbus's id (dbus-uuidgen --get) are $UH" \
    test "$(field "$log" MII-REPORT etc) $(field "$log" MII-REPORT dbus)" = "$UH $UH"
  check 10 "on disk after shutdown" test "$(disk_cat "$img/disk.img" /etc/machine-id)" = "$UH"
  disk_stamp "$img/disk.img" /etc/machine-id > "$gwork/s10.stamp"
}

scenario_10b() {
  local log=$gwork/s10b.log
  boot_openrc "$log" "$img/disk.img"
  check 10b "OpenRC ran our service again" has "$log" "Initializing machine ID"
  check 10b "silent: nothing to do" lacks "$log" "$ours_any"
  check 10b "booted: /etc/machine-id and dbus's id still $UH" \
    test "$(field "$log" MII-REPORT etc) $(field "$log" MII-REPORT dbus)" = "$UH $UH"
  disk_stamp "$img/disk.img" /etc/machine-id > "$gwork/s10b.stamp"
  check 10b "/etc/machine-id not rewritten (same inode, ctime, mtime)" \
    bash -c "[ -s '$gwork/s10.stamp' ] && cmp -s '$gwork/s10.stamp' '$gwork/s10b.stamp'"
}

scenario_10c() {
  local log=$gwork/s10c.log id
  boot_openrc "$log" "$ctl/disk.img"
  id=$(field "$log" MII-REPORT dbus)
  echo "boot: 10c: without our service: $(grep -ao 'MII-REPORT.*' "$log" | tail -n 1 | tr -d '\r')"
  check 10c "control: no machine-id-init service, none on the console" \
    bash -c "grep -aq 'MII-REPORT .* ours=0' '$log' && ! grep -aqE '$ours_any|Initializing machine ID' '$log'"
  check 10c "control: dbus invented a random id ($id)" is_random_id "$id"
}

scenarios=("$@")
[ "${#scenarios[@]}" -gt 0 ] || scenarios=(10 10b 10c)
scenario prepare prepare
for s in "${scenarios[@]}"; do scenario "$s" "scenario_$s"; done
boot_summary

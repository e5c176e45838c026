#!/bin/sh
# /sbin/init of the busybox root in the dracut scenarios (tests/boot/dracut.sh): reports what the
# booted root sees after the initramfs switched to it, then powers off with the root read-only
# (so the disk image is clean when the test reads it).
mount -t proc proc /proc 2>/dev/null
echo "MII-BOOTED pid=$$ etc=$(cat /etc/machine-id) run=$(cat /run/machine-id 2>/dev/null) mounted=$(grep -c ' /etc/machine-id ' /proc/self/mountinfo) root=$(grep ' / / ' /proc/self/mountinfo | grep -o ' r[ow],' | head -n 1 | tr -d ' ,')"
mount -o remount,ro /
sync
poweroff -f

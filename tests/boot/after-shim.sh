#!/bin/sh
# /sbin/init of the test initramfs, which the PID 1 shim executes in the shim scenario: proves
# the exec happened, with the kernel's arguments, after the id was written, and that the shim
# mounted what it needed.
echo "MII-SHIM-EXEC pid=$$ args=$* etc=$(cat /etc/machine-id) proc=$(test -e /proc/self && echo yes) run=$(grep -c ' /run ' /proc/self/mountinfo)"
poweroff -f

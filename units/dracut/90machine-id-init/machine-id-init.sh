#!/bin/sh
# dracut pre-pivot hook (dracut without systemd): the root file system is mounted at $NEWROOT.
# A failure is logged and never stops the boot.
/usr/sbin/machine-id-init --root "${NEWROOT:-/sysroot}" --host-root / --log-target kmsg \
    || echo "machine-id-init failed (exit $?); see the kernel log" >&2

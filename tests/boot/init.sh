#!/bin/sh
# /init of the test initramfs (busybox). What it does is chosen by mii.test= on the kernel
# command line; it prints "MII-..." lines on the serial console for tests/boot/run.sh to read.
# shellcheck disable=SC2016 # literal $ in the script written for the switched-to root
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    insmod "/lib/modules/$m.ko"
done
test=$(sed -n 's/.*mii\.test=\([^ ]*\).*/\1/p' /proc/cmdline)
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -b /dev/vda ]; then
    echo "MII-ERROR no /dev/vda"
    poweroff -f
fi

# Whether the CPU says it runs under a hypervisor (QEMU's CPUID leaf; off with -hypervisor).
echo "MII-CPU hypervisor=$(grep -c '^flags.* hypervisor' /proc/cpuinfo)"

case "$test" in
readonly)
    mount -o ro /dev/vda /sysroot
    machine-id-init --root /sysroot --host-root / --log-target kmsg
    echo "MII-RESULT rc=$? etc=$(cat /sysroot/etc/machine-id) run=$(cat /run/machine-id)"
    # Into the booted root, as an initramfs does: /run moves along, the bind mount stays.
    mount --move /run /sysroot/run
    mount --move /dev /sysroot/dev
    umount /proc /sys
    exec switch_root /sysroot /bin/sh -c '
        mount -t proc proc /proc
        echo "MII-BOOTED etc=$(cat /etc/machine-id) run=$(cat /run/machine-id) mounted=$(grep -c " /etc/machine-id " /proc/self/mountinfo)"
        /bin/busybox poweroff -f'
    ;;
*)
    mount /dev/vda /sysroot
    machine-id-init --root /sysroot --host-root / --log-target kmsg
    echo "MII-RESULT rc=$? etc=$(cat /sysroot/etc/machine-id)"
    umount /sysroot
    ;;
esac
sync
poweroff -f

#!/bin/bash
# dracut module: put machine-id-init into the initramfs. With dracut's systemd module it runs as
# machine-id-init.service (after sysroot.mount); without it, as a pre-pivot hook.
# Included only when asked for: add_dracutmodules+=" machine-id-init "
# MACHINE_ID_INIT_BIN and MACHINE_ID_INIT_UNIT name other copies of the binary and of
# machine-id-init.service to take (a build tree, a test).

# shellcheck disable=SC2154 # moddir, initdir, systemdsystemunitdir, SYSTEMCTL come from dracut

bin=${MACHINE_ID_INIT_BIN:-/usr/sbin/machine-id-init}

check() {
    [ -x "$bin" ] || return 1
    return 255
}

depends() {
    echo base
    return 0
}

install() {
    inst_binary "$bin" /usr/sbin/machine-id-init
    if dracut_module_included "systemd"; then
        inst_simple "${MACHINE_ID_INIT_UNIT:-$systemdsystemunitdir/machine-id-init.service}" \
            "$systemdsystemunitdir/machine-id-init.service"
        $SYSTEMCTL -q --root "$initdir" add-wants initrd-root-fs.target machine-id-init.service
    else
        inst_hook pre-pivot 50 "$moddir/machine-id-init.sh"
    fi
}

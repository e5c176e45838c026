# shellcheck shell=sh
# On first install ("$1" is 1), not on upgrade: enable the SELinux relabel unit as its preset
# (/usr/lib/systemd/system-preset/90-machine-id-init.preset) says, as %systemd_post does.
# cargo-generate-rpm cannot ship the sysinit.target.wants link itself.
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload preset machine-id-init-relabel.service || :
fi

# shellcheck shell=sh
# On erase (not upgrade, "$1" is 0): remove the relabel unit's enablement, as %systemd_preun does.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl --no-reload disable machine-id-init-relabel.service || :
fi

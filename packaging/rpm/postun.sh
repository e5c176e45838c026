# shellcheck shell=sh
# On erase (not upgrade, "$1" is 0): rebuild the initramfs images without the module.
if [ "$1" -eq 0 ] && command -v dracut >/dev/null 2>&1; then
    dracut -f --regenerate-all || echo "machine-id-init: dracut -f failed; run it by hand" >&2
fi

# shellcheck shell=sh
# Rebuild the initramfs of every installed kernel with the machine-id-init dracut module, where
# dracut is installed. A failure is reported and does not fail the transaction.
if command -v dracut >/dev/null 2>&1; then
    dracut -f --regenerate-all || echo "machine-id-init: dracut -f failed; run it by hand" >&2
fi

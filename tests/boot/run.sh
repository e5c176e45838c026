#!/usr/bin/env bash
# Boot a real kernel under QEMU with a real SMBIOS UUID and check what machine-id-init did: every
# group of boot scenarios, one after the other (tests/boot.rs runs each group as its own test).
#   tests/boot/run.sh [GROUP...]   groups: busybox dracut trixie bookworm openrc clones (default: all)
# Each group is tests/boot/GROUP.sh [SCENARIO...]; README.md "Boot tests" lists the scenarios.
set -euo pipefail
cd "$(dirname "$0")"
groups=("$@")
[ "${#groups[@]}" -gt 0 ] || groups=(busybox dracut trixie bookworm openrc clones)
start=$(date +%s) rc=0
for g in "${groups[@]}"; do
  bash "./$g.sh" || rc=1
done
echo "boot: all groups took $(($(date +%s) - start)) s"
exit "$rc"

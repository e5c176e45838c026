#!/bin/sh
# Runs in the booted guest (mii-selinux-report.service, output on /dev/ttyS0) once the boot is
# done: one "MII-SEL key=value" line per fact tests/selinux-boot/run.sh checks, then MII-SEL-END.
#   mii-selinux-report early: mii-selinux-early.service, after journald and the relabel unit,
#   before systemd-machine-id-commit (which unmounts a handed-over /run/machine-id).
r() { printf 'MII-SEL %s=%s\n' "$1" "$(echo "$2" | tr '\n' ';' | sed 's/;$//')"; }
if [ "${1:-}" = early ]; then
  r early-label "$(stat -c %C /etc/machine-id 2>&1)"
  r early-bind-mounted "$(grep -c ' /etc/machine-id ' /proc/self/mountinfo)"
  r early-journald "$(systemctl is-active systemd-journald.service)"
  exit 0
fi
r enforce "$(cat /sys/fs/selinux/enforce 2>&1)"
r label "$(stat -c %C /etc/machine-id 2>&1)"
r policy "$(matchpathcon -n /etc/machine-id 2>&1)"
r id "$(cat /etc/machine-id 2>&1)"
r run "$(cat /run/machine-id 2>&1)"
r run-label "$(stat -c %C /run/machine-id 2>&1)"
r bind-mounted "$(grep -c ' /etc/machine-id ' /proc/self/mountinfo)"
r journald "$(systemctl is-active systemd-journald.service)"
r journald-restarts "$(systemctl show -P NRestarts systemd-journald.service)"
r journal-files "$(find /run/log/journal /var/log/journal -name system.journal -size +0 2>/dev/null | wc -l)"
r commit "$(systemctl show -P ActiveState systemd-machine-id-commit.service)/$(systemctl show -P Result systemd-machine-id-commit.service)/$(systemctl show -P ConditionResult systemd-machine-id-commit.service)"
r relabel "$(systemctl show -P ActiveState machine-id-init-relabel.service)/$(systemctl show -P Result machine-id-init-relabel.service)/$(systemctl show -P ConditionResult machine-id-init-relabel.service)"
r failed-units "$(systemctl list-units --failed --plain --no-legend 2>&1 | cut -d' ' -f1)"
echo MII-SEL-END

#!/bin/sh
# Runs in the booted guest (mii-selinux-report.service, output on /dev/ttyS0) once the boot is
# done: one "MII-SEL key=value" line per fact tests/selinux-boot/run.sh checks, then MII-SEL-END.
r() { printf 'MII-SEL %s=%s\n' "$1" "$(echo "$2" | tr '\n' ';' | sed 's/;$//')"; }
r enforce "$(cat /sys/fs/selinux/enforce 2>&1)"
r label "$(stat -c %C /etc/machine-id 2>&1)"
r policy "$(matchpathcon -n /etc/machine-id 2>&1)"
r id "$(cat /etc/machine-id 2>&1)"
r run "$(cat /run/machine-id 2>&1)"
r run-label "$(stat -c %C /run/machine-id 2>&1)"
r bind-mounted "$(findmnt -n -o TARGET /etc/machine-id >/dev/null 2>&1 && echo yes || echo no)"
r journald "$(systemctl is-active systemd-journald.service)"
r journald-restarts "$(systemctl show -P NRestarts systemd-journald.service)"
r journal-lines "$(journalctl -b -q --no-pager 2>/dev/null | wc -l)"
r commit "$(systemctl show -P ActiveState systemd-machine-id-commit.service)/$(systemctl show -P Result systemd-machine-id-commit.service)/$(systemctl show -P ConditionResult systemd-machine-id-commit.service)"
r relabel "$(systemctl show -P ActiveState machine-id-init-relabel.service)/$(systemctl show -P Result machine-id-init-relabel.service)/$(systemctl show -P ConditionResult machine-id-init-relabel.service)"
r relabel-output "$(journalctl -b -q --no-pager -o cat -u machine-id-init-relabel.service 2>/dev/null | grep -v -e '^Starting' -e '^Finished' -e 'Deactivated')"
r failed-units "$(systemctl list-units --failed --plain --no-legend 2>&1 | cut -d' ' -f1)"
echo MII-SEL-END

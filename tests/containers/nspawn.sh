#!/usr/bin/env bash
# shellcheck disable=SC1091,SC2034,SC2154  # lib.sh (checked on its own) sets work, bin, dmi; reads suite
# machine-id-init under the real systemd-nspawn, with the fake VMware DMI UUID D bound over the
# container's /sys/class. Run by tests/containers.rs.
#   tests/containers/nspawn.sh busybox   --uuid, none, -U, --read-only, --as-pid2, a usage error
#   tests/containers/nspawn.sh boot      the shim as PID 1 before a real systemd (Debian trixie)
set -euo pipefail
suite=nspawn-${1:?busybox or boot}
. "$(dirname "$0")/lib.sh"

need_tools systemd-nspawn:systemd-container busybox:busybox-static
setup_work
trap cleanup_work EXIT
build_bin
make_dmi

# nspawn 252 in this environment: no machined to register with, no unit of its own.
# --console=pipe: the container's stdout and stderr are ours; a systemd as PID 1 wants a
# console, so the boot uses read-only (a pty whose output nspawn copies to its stdout).
console=pipe
nspawn() { # LOG TREE NSPAWN-ARGS...
  local log=$1 tree=$2
  shift 2
  # A machine name of this run's own: nspawn keeps per-name state under /run/systemd/nspawn.
  timeout -k 10 120 systemd-nspawn --register=no --keep-unit -q --console="$console" -D "$tree" \
    --machine="mii-$$-$(basename "$tree")" \
    --bind-ro="$dmi:/sys/class" "$@" > "$log" 2>&1 < /dev/null || echo "MII-EXIT $?" >> "$log"
}

# One busybox case: a run with the shim and one without (the probe alone), on fresh trees.
pair() { # NAME NSPAWN-OPTIONS...
  local name=$1
  shift
  make_busybox_tree "$work/$name-shim"
  make_busybox_tree "$work/$name-ctl"
  nspawn "$work/$name.log" "$work/$name-shim" "$@" /usr/sbin/machine-id-init -- /probe a b
  nspawn "$work/$name-ctl.log" "$work/$name-ctl" "$@" /probe a b
  show "$work/$name.log"
}

common_checks() { # NAME LOG CONTROL-LOG [EXPECTED-MOUNT-DELTA...]
  local name=$1 log=$2 ctl=$3
  shift 3
  check "$name" "the fake DMI UUID is visible in the container" has "$ctl" "PROBE-DMI $D"
  check "$name" "never the DMI UUID" lacks "$log" "$DH"
  check "$name" "the program after -- ran, with its arguments" has "$log" "args=a b"
  check "$name" "/sbin/init did not run" lacks "$log" WRONG-INIT
  check "$name" "no host block device, /dev not devtmpfs" no_host_devices "$log"
  check "$name" "the mount table is the one nspawn made${1:+ (plus the bind mount)}" \
    same_mounts "$log" "$ctl" "$@"
  check "$name" "nothing reached the host's kernel log" kmsg_clean "$log"
}

scenario_busybox() {
  local line
  # --uuid: the shim as PID 1 takes container_uuid= from its own environment.
  fresh_uuid
  pair uuid --uuid="$U"
  line=$(our_line "$work/uuid.log")
  check uuid "our log line reached the container's output, naming nspawn and the source" \
    [ "$line" = "machine-id-init: Initialized machine ID from container UUID (systemd-nspawn, container_uuid= of PID 1): $UH." ]
  check uuid "the id is --uuid" [ "$(probe_id "$work/uuid.log")" = "$UH" ]
  check uuid "written to the tree's /etc/machine-id" [ "$(cat "$work/uuid-shim/etc/machine-id")" = "$UH" ]
  check uuid "the probe ran as PID 1 (exec, not a child)" has "$work/uuid.log" "PROBE pid=1 "
  common_checks uuid "$work/uuid.log" "$work/uuid-ctl.log"

  # No --uuid: nspawn passes a random UUID of its own (observed), which the shim takes.
  pair nouuid
  local c
  c=$(sed -n 's/^PROBE-ENV container_uuid=//p' "$work/nouuid.log" | tr -d -- '-\r')
  check nouuid "nspawn passed a container_uuid= of its own (observed)" is_id "$c"
  check nouuid "the id is that UUID" [ "$(probe_id "$work/nouuid.log")" = "$c" ]
  check nouuid "our log line names it" has "$work/nouuid.log" \
    "Initialized machine ID from container UUID (systemd-nspawn, container_uuid= of PID 1): $c."
  common_checks nouuid "$work/nouuid.log" "$work/nouuid-ctl.log"

  # -U: a private user namespace; the same, from a root that is not the host's root.
  fresh_uuid
  pair userns -U --uuid="$U"
  check userns "the id is --uuid" [ "$(probe_id "$work/userns.log")" = "$UH" ]
  check userns "our log line names nspawn" has "$work/userns.log" \
    "Initialized machine ID from container UUID (systemd-nspawn, container_uuid= of PID 1): $UH"
  common_checks userns "$work/userns.log" "$work/userns-ctl.log"

  # --read-only: the id goes to /run/machine-id and is bind-mounted over /etc/machine-id (SPEC
  # §5): the one mount the shim adds; the tree's empty file stays empty.
  fresh_uuid
  pair ro --read-only --uuid="$U"
  check ro "the id is --uuid, in /etc/machine-id" [ "$(probe_id "$work/ro.log")" = "$UH" ]
  check ro "and in /run/machine-id" has "$work/ro.log" "PROBE-RUNID $UH"
  check ro "the tree's file is untouched (empty)" [ ! -s "$work/ro-shim/etc/machine-id" ]
  check ro "without the shim /etc/machine-id stays empty" [ -z "$(probe_id "$work/ro-ctl.log")" ]
  check ro "our log line names the source and the hand-over" has "$work/ro.log" \
    "/etc is read-only: initialized machine ID from container UUID (systemd-nspawn, container_uuid= of PID 1): $UH, in /run/machine-id, bind-mounted over /etc/machine-id."
  common_checks ro "$work/ro.log" "$work/ro-ctl.log" "+ /etc/machine-id tmpfs"

  # --as-pid2: nspawn's stub init is PID 1, with an empty environment (nspawn 252 sets
  # container= and container_uuid= for PID 2 only): the tool (PID 2, not the shim) takes
  # /run/host/container-uuid.
  fresh_uuid
  pair pid2 --as-pid2 --uuid="$U"
  check pid2 "the id is --uuid" [ "$(probe_id "$work/pid2.log")" = "$UH" ]
  check pid2 "our log line names /run/host/container-uuid" has "$work/pid2.log" \
    "Initialized machine ID from container UUID (systemd-nspawn, /run/host/container-uuid): $UH"
  check pid2 "the program after -- ran as PID 2" has "$work/pid2.log" "PROBE pid=2 "
  common_checks pid2 "$work/pid2.log" "$work/pid2-ctl.log"

  # A usage error as PID 1: logged, and the program after -- still runs (not /sbin/init).
  fresh_uuid
  make_busybox_tree "$work/usage"
  nspawn "$work/usage.log" "$work/usage" --uuid="$U" /usr/sbin/machine-id-init "$bad_option" -- /probe a b
  show "$work/usage.log"
  check usage "the usage error is logged" has "$work/usage.log" "$bad_option"
  check usage "the program after -- ran, with its arguments, as PID 1" has "$work/usage.log" "PROBE pid=1 args=a b"
  check usage "/sbin/init did not run" lacks "$work/usage.log" WRONG-INIT
  check usage "nothing reached the host's kernel log" not_in_kmsg "$bad_option"
}

scenario_boot() {
  local tar tree=$work/trixie log=$work/boot.log u
  fresh_uuid
  tar=$(rootfs trixie-systemd) || skip "debootstrap of trixie failed"
  mkdir -p "$tree"
  tar -C "$tree" -xf "$tar"
  cp "$bin" "$tree/usr/sbin/machine-id-init"
  "$bin" seal --root "$tree"
  # Once booted, systemd's own view of the id goes to the console, then it powers off.
  u=$tree/etc/systemd/system/mii-report.service
  cat > "$u" <<'EOF'
[Unit]
Description=Report the machine id and power off
After=multi-user.target systemd-machine-id-commit.service

[Service]
Type=oneshot
StandardOutput=tty
TTYPath=/dev/console
ExecStart=/bin/sh -c 'echo "MII-RESULT $(cat /etc/machine-id) $(systemd-id128 machine-id)"; find /dev -type b | sed "s/^/PROBE-BLK /"; awk "{ for (i = 7; \\$i != \\"-\\"; i++) ; print \\"PROBE-MNT\\", \\$5, \\$(i + 1) }" /proc/self/mountinfo'
ExecStartPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
  ln -s ../mii-report.service "$tree/etc/systemd/system/multi-user.target.wants/"
  console=read-only
  # Control: systemd 257 alone takes nspawn's container_uuid= itself (no claim of ours here),
  # but it has no /run/machine-id to reuse.
  nspawn "$work/boot-ctl.log" "$tree" --uuid="$U" /usr/lib/systemd/systemd
  show "$work/boot-ctl.log"
  check boot-ctl "systemd alone: the id is --uuid too" has "$work/boot-ctl.log" "MII-RESULT $UH $UH"
  check boot-ctl "systemd alone reuses no /run/machine-id" lacks "$work/boot-ctl.log" "Reusing machine ID"
  "$bin" seal --root "$tree"
  nspawn "$log" "$tree" --uuid="$U" /usr/sbin/machine-id-init -- /usr/lib/systemd/systemd
  show "$log"
  check boot "the shim logged the id from --uuid to the console" has "$log" \
    "Initialized machine ID from container UUID (systemd-nspawn, container_uuid= of PID 1): $UH"
  check boot "systemd reused the id the shim handed over (preserve, systemd 257)" has "$log" \
    "Reusing machine ID stored in /run/machine-id"
  check boot "and still saw its first boot (the seal was kept)" has "$log" "Detected first boot"
  check boot "once booted, /etc/machine-id and systemd-id128 say --uuid" has "$log" "MII-RESULT $UH $UH"
  check boot "never the DMI UUID" lacks "$log" "$DH"
  check boot "nothing reached the host's kernel log (ours or the journal's)" \
    not_in_kmsg "$UH"
  check boot "no host block device, /dev not devtmpfs" no_host_devices "$log"
  check boot "systemd powered off by itself (nspawn exit status 0)" lacks "$log" "MII-EXIT"
}

"scenario_$1"
summary

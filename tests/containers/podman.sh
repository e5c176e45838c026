#!/usr/bin/env bash
# shellcheck disable=SC1091,SC2034,SC2154  # lib.sh (checked on its own) sets work, bin, dmi; reads suite
# machine-id-init under the real podman (4.3, rootful, `podman run --rootfs DIR`: no image
# registry), with the fake VMware DMI UUID D bound over the container's /sys/class.
# Run by tests/containers.rs.
#   tests/containers/podman.sh busybox   default, --systemd=always, --privileged, --read-only
#                                        (also with --systemd=always), a usage error
#   tests/containers/podman.sh systemd   Debian bookworm's systemd 252 as PID 1, alone and
#                                        after the shim
set -euo pipefail
suite=podman-${1:?busybox or systemd}
. "$(dirname "$0")/lib.sh"

need_tools podman:podman busybox:busybox-static unshare:util-linux
setup_work
# Containers (named with this script's PID: podman's store is the machine's, and another
# checkout may run these tests at the same time) run with --rm; one a timeout killed is removed
# here, in the namespace podman_run uses (its cgroups need it).
cleanup() {
  local left
  left=$(timeout -k 5 30 podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^mii-$suite-$$-" || true)
  if [ -n "$left" ]; then
    # shellcheck disable=SC2016,SC2086 # "$@" is the inner shell's; one name a word
    timeout -k 5 60 unshare -m --propagation private bash -c \
      'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec podman rm -f "$@"' podman-rm \
      $left > /dev/null 2>&1 || true
  fi
  cleanup_work
}
trap cleanup EXIT
build_bin
make_dmi

# podman 4.3 in this environment: its own mount namespace without the cgroup2 mount of the
# hybrid hierarchy (crun would pick it and fail), and explicit limits (the defaults exceed the
# sandbox's). --cidfile: the container id, the source of podman's container_uuid=.
podman_run() { # NAME LOG PODMAN-RUN-ARGS...
  local name=$1 log=$2
  shift 2
  rm -f "$work/$name.cid"
  timeout -k 10 120 unshare -m --propagation private bash -c \
    'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec podman run "$@"' podman-run \
    --rm --name "mii-$suite-$$-$name" --cidfile "$work/$name.cid" --network none \
    --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
    -v "$dmi:/sys/class:ro" "$@" > "$log" 2>&1 < /dev/null || echo "MII-EXIT $?" >> "$log"
}
cid32() { cut -c1-32 "$work/$1.cid"; }

# The shim as the container's entrypoint, as an image declares it (ENTRYPOINT [...]); the
# command is the program after --. (--rootfs is a flag: its directory is the first operand,
# the command follows it.)
entrypoint='["/usr/sbin/machine-id-init", "--"]'
pair() { # NAME PODMAN-OPTIONS...
  local name=$1
  shift
  make_busybox_tree "$work/$name-shim"
  make_busybox_tree "$work/$name-ctl"
  podman_run "$name" "$work/$name.log" "$@" --entrypoint "$entrypoint" \
    --rootfs "$work/$name-shim" /probe a b
  podman_run "$name-ctl" "$work/$name-ctl.log" "$@" --rootfs "$work/$name-ctl" /probe a b
  show "$work/$name.log"
}

common_checks() { # NAME [DEVICES-CHECK]
  local name=$1 log=$work/$1.log ctl=$work/$1-ctl.log
  check "$name" "the fake DMI UUID is visible in the container" has "$ctl" "PROBE-DMI $D"
  check "$name" "never the DMI UUID" lacks "$log" "$DH"
  check "$name" "the program after -- ran as PID 1, with its arguments" has "$log" "PROBE pid=1 args=a b"
  check "$name" "/sbin/init did not run" lacks "$log" WRONG-INIT
  if [ "${2:-}" = privileged ]; then
    check "$name" "no block device podman did not put there, /dev not devtmpfs" \
      no_more_devices "$log" "$ctl"
  else
    check "$name" "no host block device, /dev not devtmpfs" no_host_devices "$log"
  fi
  check "$name" "the mount table is the one podman made" same_mounts "$log" "$ctl"
  check "$name" "nothing reached the host's kernel log" kmsg_clean "$log"
}

# A random id, and the line that says podman passed none.
random_checks() { # NAME
  local name=$1 log=$work/$1.log line id
  line=$(our_line "$log")
  id=$(probe_id "$log")
  check "$name" "our log line reached the container's output" [ -n "$line" ]
  check "$name" "it says the id is random and why" matches "$line" '.*random source.*passed no UUID'
  check "$name" "the id is the one logged" matches "$line" ".*: $id\\.\$"
  check "$name" "the id is a valid id" is_id "$id"
}

scenario_busybox() {
  local c
  # Default: a marker (/run/.containerenv), no UUID.
  pair default
  random_checks default
  check default "the line names podman" has "$work/default.log" "(podman"
  common_checks default

  # --systemd=always: podman passes container_uuid= (the first 32 digits of the container id).
  pair always --systemd=always
  c=$(cid32 always)
  check always "podman passed container_uuid= (observed)" has "$work/always.log" "PROBE-ENV container_uuid=$c"
  check always "the id is podman's container_uuid=" [ "$(probe_id "$work/always.log")" = "$c" ]
  check always "our log line names podman and PID 1's container_uuid=" matches "$(our_line "$work/always.log")" \
    "machine-id-init: Initialized machine ID from container UUID (podman, container_uuid= of PID 1): $c"
  check always "the id is written to the tree" [ "$(cat "$work/always-shim/etc/machine-id")" = "$c" ]
  common_checks always

  # --privileged: the host's devices are in /dev (podman's doing) and so is /dev/kmsg: the
  # line must still go to the container's output, and no tmpfs may hide /run/.containerenv.
  pair privileged --privileged
  check privileged "podman itself exposes /dev/kmsg here (why stderr matters)" has "$work/privileged-ctl.log" "PROBE-KMSG"
  random_checks privileged
  check privileged "the line names podman (the marker was not hidden)" has "$work/privileged.log" "(podman"
  common_checks privileged privileged

  # --read-only: no marker, no container=; only the PID namespace tells. /etc is read-only and
  # podman grants no CAP_SYS_ADMIN: the id is handed over in /run/machine-id only.
  pair ro --read-only
  check ro "podman left no marker (observed)" lacks "$work/ro-ctl.log" "PROBE-ENV container"
  check ro "the log says the id is random and why" has "$work/ro.log" "passed no UUID"
  c=$(sed -n 's/^PROBE-RUNID //p' "$work/ro.log")
  check ro "/run/machine-id holds a valid id" is_id "$c"
  check ro "the tree's file is untouched (empty)" [ ! -s "$work/ro-shim/etc/machine-id" ]
  common_checks ro

  # --read-only --systemd=always: no marker either, but container_uuid=; the id is podman's,
  # handed over in /run/machine-id.
  pair ro-always --read-only --systemd=always
  c=$(cid32 ro-always)
  check ro-always "podman passed container_uuid= and no other marker (observed)" \
    [ "$(grep -a '^PROBE-ENV container' "$work/ro-always-ctl.log")" = "PROBE-ENV container_uuid=$(cid32 ro-always-ctl)" ]
  check ro-always "/run/machine-id holds podman's container_uuid=" has "$work/ro-always.log" "PROBE-RUNID $c"
  check ro-always "the tree's file is untouched (empty)" [ ! -s "$work/ro-always-shim/etc/machine-id" ]
  common_checks ro-always

  # A usage error as PID 1: logged, and the program after -- still runs.
  make_busybox_tree "$work/usage"
  podman_run usage "$work/usage.log" --rootfs "$work/usage" \
    /usr/sbin/machine-id-init "$bad_option" -- /probe a b
  show "$work/usage.log"
  check usage "the usage error is logged" has "$work/usage.log" "$bad_option"
  check usage "the program after -- ran as PID 1, with its arguments" has "$work/usage.log" "PROBE pid=1 args=a b"
  check usage "/sbin/init did not run" lacks "$work/usage.log" WRONG-INIT
  check usage "nothing reached the host's kernel log" not_in_kmsg "$bad_option"
}

# A bookworm tree (systemd 252, the version RHEL 9 ships) sealed with `uninitialized`, with a
# unit that records what systemd sees once booted in /mii-result and powers off. Without a
# console (podman gives none) the tree's files are the evidence.
bookworm_tree() { # DIR TAR
  local u=$1/etc/systemd/system/mii-report.service
  mkdir -p "$1"
  tar -C "$1" -xf "$2"
  cp "$bin" "$1/usr/sbin/machine-id-init"
  "$bin" seal --root "$1" > /dev/null
  cat > "$u" <<'EOF'
[Unit]
Description=Record the machine id and power off
After=multi-user.target systemd-machine-id-commit.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "MII-RESULT $(cat /etc/machine-id) $(systemd-id128 machine-id)" > /mii-result'
ExecStartPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "$1/etc/systemd/system/multi-user.target.wants"
  ln -s ../mii-report.service "$1/etc/systemd/system/multi-user.target.wants/"
}

scenario_systemd() {
  local tar c
  tar=$(rootfs bookworm-systemd) || skip "debootstrap of bookworm failed"
  # Control: systemd 252 alone, with podman's container_uuid=, leaves the seal on disk and
  # has no id once booted (it cannot bind-mount one over /etc/machine-id in podman).
  bookworm_tree "$work/alone" "$tar"
  podman_run alone "$work/alone.log" --systemd=always --rootfs "$work/alone" /lib/systemd/systemd
  show "$work/alone.log"
  check alone "systemd 252 alone booted and powered off" [ -s "$work/alone/mii-result" ]
  check alone "systemd 252 alone leaves uninitialized on disk" \
    [ "$(cat "$work/alone/etc/machine-id")" = uninitialized ]
  check alone "and has no valid id once booted" \
    matches "$(cat "$work/alone/mii-result" 2>&1)" 'MII-RESULT uninitialized *$'
  # The shim first: commit mode (systemd < 256), podman's container_uuid= on disk.
  bookworm_tree "$work/shim" "$tar"
  podman_run shim "$work/shim.log" --systemd=always --rootfs "$work/shim" \
    /usr/sbin/machine-id-init -- /lib/systemd/systemd
  show "$work/shim.log"
  c=$(cid32 shim)
  check shim "our log line reached podman's output" has "$work/shim.log" \
    "Initialized machine ID from container UUID (podman, container_uuid= of PID 1): $c"
  check shim "the id on disk is podman's container_uuid=" [ "$(cat "$work/shim/etc/machine-id")" = "$c" ]
  check shim "systemd 252 booted with it" [ "$(cat "$work/shim/mii-result" 2>&1)" = "MII-RESULT $c $c" ]
  check shim "never the DMI UUID" lacks "$work/shim.log" "$DH"
}

"scenario_$1"
summary

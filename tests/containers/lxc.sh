#!/usr/bin/env bash
# shellcheck disable=SC1091,SC2034,SC2154  # lib.sh (checked on its own) sets work, bin, dmi; reads suite
# machine-id-init under real LXC (5.0, lxc-start and lxc-execute with hand-written configs),
# with the fake VMware DMI UUID D bound over the container's /sys/class. Run by
# tests/containers.rs.
#   tests/containers/lxc.sh all   lxc.environment = container_uuid=, none, a usage error, lxc-execute
set -euo pipefail
suite=lxc-${1:?all}
. "$(dirname "$0")/lib.sh"

need_tools lxc-start:lxc lxc-execute:lxc busybox:busybox-static
setup_work
lxcpath=$work/lxc
names=()
cleanup() {
  local n
  for n in "${names[@]}"; do
    timeout -k 5 30 lxc-stop -k -n "$n" -P "$lxcpath" >/dev/null 2>&1 || true
    timeout -k 5 30 lxc-destroy -f -n "$n" -P "$lxcpath" >/dev/null 2>&1 || true
  done
  cleanup_work
}
trap cleanup EXIT
build_bin
make_dmi


# A container NAME: a fresh busybox tree and a config; extra config lines on stdin.
container() { # NAME
  local n=mii-$1 d=$lxcpath/mii-$1
  names+=("$n")
  mkdir -p "$d"
  make_busybox_tree "$d/rootfs"
  {
    echo "lxc.uts.name = $n"
    echo "lxc.rootfs.path = dir:$d/rootfs"
    echo "lxc.net.0.type = empty"
    echo "lxc.apparmor.profile = unconfined"
    echo "lxc.mount.auto = proc:mixed sys:ro"
    echo "lxc.mount.entry = $dmi sys/class none bind,ro,create=dir 0 0"
    echo "lxc.console.path = none"
    cat
  } > "$d/config"
}
lxc_start() { # NAME LOG
  timeout -k 10 60 lxc-start -F -n "mii-$1" -P "$lxcpath" > "$2" 2>&1 < /dev/null || echo "MII-EXIT $?" >> "$2"
}
lxc_execute() { # NAME LOG COMMAND...
  local name=$1 log=$2
  shift 2
  # init.lxc keeps the caller's environment: a clean one, whatever runs the tests.
  timeout -k 10 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    lxc-execute -n "mii-$name" -P "$lxcpath" -- "$@" > "$log" 2>&1 < /dev/null ||
    echo "MII-EXIT $?" >> "$log"
}

common_checks() { # NAME LOG CONTROL-LOG PID
  local name=$1 log=$2 ctl=$3
  check "$name" "the fake DMI UUID is visible in the container" has "$ctl" "PROBE-DMI $D"
  check "$name" "never the DMI UUID" lacks "$log" "$DH"
  check "$name" "the program after -- ran as PID $4, with its arguments" has "$log" "PROBE pid=$4 args=a b"
  check "$name" "/sbin/init did not run" lacks "$log" WRONG-INIT
  check "$name" "no host block device, /dev not devtmpfs" no_host_devices "$log"
  check "$name" "the mount table is the one LXC made" same_mounts "$log" "$ctl"
  check "$name" "nothing reached the host's kernel log" kmsg_clean "$log"
}

random_checks() { # NAME LOG
  local name=$1 line id
  line=$(our_line "$2")
  id=$(probe_id "$2")
  check "$name" "our log line reached the container's output" [ -n "$line" ]
  check "$name" "it says the id is random and why" matches "$line" '.*random source.*passed no UUID'
  check "$name" "the id is the one logged" matches "$line" ".*: $id\\.\$"
  check "$name" "the id is a valid id" is_id "$id"
}

scenario_all() {
  local s
  # lxc.environment = container_uuid=U: the shim as lxc.init.cmd takes it from its own
  # environment (LXC sets container=lxc there).
  fresh_uuid
  for s in env env-ctl; do
    container "$s" <<EOF
lxc.environment = container_uuid=$U
lxc.init.cmd = $( [ "$s" = env ] && echo "/usr/sbin/machine-id-init -- " )/probe a b
EOF
    lxc_start "$s" "$work/$s.log"
  done
  show "$work/env.log"
  check env "the id is lxc.environment's container_uuid=" [ "$(probe_id "$work/env.log")" = "$UH" ]
  check env "our log line names LXC and the source" \
    [ "$(our_line "$work/env.log")" = "machine-id-init: Initialized machine ID from container UUID (lxc, container_uuid= of PID 1): $UH." ]
  common_checks env "$work/env.log" "$work/env-ctl.log" 1

  # No lxc.environment: LXC passes no UUID.
  for s in none none-ctl; do
    container "$s" <<EOF
lxc.init.cmd = $( [ "$s" = none ] && echo "/usr/sbin/machine-id-init -- " )/probe a b
EOF
    lxc_start "$s" "$work/$s.log"
  done
  show "$work/none.log"
  random_checks none "$work/none.log"
  check none "the line names LXC" has "$work/none.log" "(lxc"
  common_checks none "$work/none.log" "$work/none-ctl.log" 1

  # A usage error as PID 1: logged, and the program after -- still runs.
  fresh_uuid
  container usage <<EOF
lxc.environment = container_uuid=$U
lxc.init.cmd = /usr/sbin/machine-id-init $bad_option -- /probe a b
EOF
  lxc_start usage "$work/usage.log"
  show "$work/usage.log"
  check usage "the usage error is logged" has "$work/usage.log" "$bad_option"
  check usage "the program after -- ran as PID 1, with its arguments" has "$work/usage.log" "PROBE pid=1 args=a b"
  check usage "/sbin/init did not run" lacks "$work/usage.log" WRONG-INIT
  check usage "nothing reached the host's kernel log" not_in_kmsg "$bad_option"

  # lxc-execute: LXC's init.lxc is PID 1 and carries the caller's environment (no container=,
  # no marker): only the PID namespace tells. The tool is PID 2, not the shim.
  container exec < /dev/null
  container exec-ctl < /dev/null
  lxc_execute exec "$work/exec.log" /usr/sbin/machine-id-init -- /probe a b
  lxc_execute exec-ctl "$work/exec-ctl.log" /probe a b
  show "$work/exec.log"
  check exec "init.lxc as PID 1 has no container= (observed)" lacks "$work/exec-ctl.log" "PROBE-ENV container="
  random_checks exec "$work/exec.log"
  common_checks exec "$work/exec.log" "$work/exec-ctl.log" 2

  # lxc-execute with lxc.environment: LXC 5.0 puts container_uuid= (and container=lxc) into the
  # command's environment only, not init.lxc's (observed). The tool is PID 2 and reads PID 1's
  # (SPEC §3, as systemd does): no UUID, a random id, and still never D.
  fresh_uuid
  container exec-env <<EOF
lxc.environment = container_uuid=$U
EOF
  lxc_execute exec-env "$work/exec-env.log" /bin/sh -c \
    'env | grep "^container" | sed "s/^/OWN-ENV /"; exec /usr/sbin/machine-id-init -- /probe a b'
  show "$work/exec-env.log"
  check exec-env "LXC set container_uuid= for the command (observed)" has "$work/exec-env.log" "OWN-ENV container_uuid=$U"
  check exec-env "but not for init.lxc, PID 1 (observed)" lacks "$work/exec-env.log" "PROBE-ENV container_uuid"
  random_checks exec-env "$work/exec-env.log"
  check exec-env "never the DMI UUID" lacks "$work/exec-env.log" "$DH"
}

"scenario_$1"
summary

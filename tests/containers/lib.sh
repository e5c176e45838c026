# shellcheck shell=bash disable=SC1091,SC2034,SC2154
# Shared by the container tests (tests/containers/*.sh, run by tests/containers.rs): the static
# binary, busybox trees, the fake DMI directory, the probe, and PASS/FAIL bookkeeping.
# Source it after `set -euo pipefail` with $suite set; it changes to the repository's top
# directory. (CI shellchecks each script alone: the variables it sets are the sourcer's.)

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
repo=$PWD
. "$repo/tests/lib/rootfs.sh"

# A fake SMBIOS identity visible inside every container: a VMware guest with UUID D. The tool
# must never take it in a container (SPEC §3, §6): it is the host's.
export LC_ALL=C
D=564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a
DH=${D//-/}
HEX32='[0-9a-f]\{32\}'
failures=0 passed=0

# Without a tool the test cannot run: SKIP with the reason, except under CI=true, where .ci/run
# installs everything and a skip would hide a broken install.
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL $suite: $* (CI=true: nothing may skip)"; exit 1; fi
  echo "SKIP $suite: $*"; exit 0
}

need_tools() { # COMMAND:PACKAGE...
  local need=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  [ "${#need[@]}" -eq 0 ] || skip "missing Debian packages: $(printf "%s\n" "${need[@]}" | sort -u | tr "\n" " ")(.ci/packages/containers.txt)"
  [ "$(id -u)" -eq 0 ] || skip "needs root"
}

fail() { echo "FAIL $suite $*"; failures=$((failures + 1)); }
check() { # NAME DESCRIPTION COMMAND...
  local name=$1 what=$2; shift 2
  if "$@"; then echo "PASS $suite $name: $what"; passed=$((passed + 1)); else fail "$name: $what"; fi
}
summary() {
  echo "$suite: $passed passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# The work directory of this suite, removed at the end unless MII_KEEP=1.
setup_work() {
  work=$repo/target/containers/$suite
  MII_KEEP=0 cleanup_work
  mkdir -p "$work"
}
cleanup_work() {
  [ -n "${work:-}" ] && [ -d "$work" ] || return 0
  # Anything a failed run left mounted below the work directory.
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v w="$work" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  [ "${MII_KEEP:-}" = 1 ] || rm -rf "$work"
}

# The static binary (what goes into an image), built as the boot tests build it. MII_BIN names
# another one (e.g. an older build, to see which checks catch its defects).
build_bin() {
  if [ -n "${MII_BIN:-}" ]; then bin=$MII_BIN; return; fi
  RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked \
    --target x86_64-unknown-linux-gnu
  bin=$repo/target/x86_64-unknown-linux-gnu/release/machine-id-init
}

# The fake DMI directory, bound over the container's /sys/class (read-only). 0444: readable
# from a user namespace (nspawn -U) too, so "never D" is not trivially true there.
make_dmi() {
  dmi=$work/dmi
  mkdir -p "$dmi/dmi/id"
  echo 'VMware, Inc.' > "$dmi/dmi/id/sys_vendor"
  echo 'VMware Virtual Platform' > "$dmi/dmi/id/product_name"
  echo "$D" > "$dmi/dmi/id/product_uuid"
  chmod 0444 "$dmi/dmi/id/"*
}

# The probe: what runs after the shim (or instead of it, in the control runs). It reports the
# id, PID 1's container variables, the mount table as (mount point, file system type) pairs,
# block devices under /dev, /dev/kmsg, and whether the fake DMI UUID is visible.
write_probe() { # FILE
  cat > "$1" <<'EOF'
#!/bin/sh
echo "PROBE pid=$$ args=$*"
echo "PROBE-ID $(cat /etc/machine-id 2>&1)"
echo "PROBE-RUNID $(cat /run/machine-id 2>/dev/null)"
echo "PROBE-DMI $(cat /sys/class/dmi/id/product_uuid 2>&1)"
tr '\0' '\n' < /proc/1/environ | grep '^container' | sed 's/^/PROBE-ENV /'
awk '{ for (i = 7; $i != "-"; i++) ; print "PROBE-MNT", $5, $(i + 1) }' /proc/self/mountinfo
find /dev -type b | sed 's/^/PROBE-BLK /'
if [ -e /dev/kmsg ]; then echo "PROBE-KMSG /dev/kmsg exists"; fi
EOF
  chmod 0755 "$1"
}

# A busybox tree with an empty /etc/machine-id (unset: written in every first-boot mode), the
# tool as /usr/sbin/machine-id-init, /probe, and an /sbin/init that must never run.
make_busybox_tree() { # DIR
  local d=$1 a
  rm -rf "$d"
  mkdir -p "$d"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,usr/sbin,var/tmp,var/log/journal}
  cp "$(type -P busybox)" "$d/bin/busybox"
  for a in sh cat awk sed grep find tr sort ls sleep; do ln -s busybox "$d/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"
  echo 'root:x:0:' > "$d/etc/group"
  : > "$d/etc/machine-id"
  : > "$d/etc/localtime"
  : > "$d/etc/resolv.conf"
  cp "$bin" "$d/usr/sbin/machine-id-init"
  write_probe "$d/probe"
  printf '#!/bin/sh\necho "WRONG-INIT /sbin/init ran with: $*"\n' > "$d/sbin/init"
  chmod 0755 "$d/sbin/init"
}

# Accessors on a run's log (the container's whole output, stdout and stderr).
probe_id() { sed -n 's/^PROBE-ID //p' "$1" | tr -d '\r' | tail -n 1; }
probe_mounts() { { grep -a '^PROBE-MNT ' "$1" || true; } | tr -d '\r' | sort; }
# The tool's one success line, as the container printed it.
our_line() { { grep -a '^machine-id-init: Initialized machine ID' "$1" || true; } | tr -d '\r' | tail -n 1; }

has() { grep -aqF -- "$2" "$1"; }            # FILE STRING
lacks() { ! grep -aqiF -- "$2" "$1"; }       # FILE STRING (case-insensitive: D in any case)
matches() { expr "$1" : "$2" > /dev/null; }  # STRING BASIC-REGEX (anchored at the start)
is_id() { expr "$1" : "$HEX32\$" >/dev/null; }
# The mount table difference a run with the shim shows against one without: "+ MP FSTYPE" for a
# mount only the shim's run has, "- MP FSTYPE" for one it lacks (mount ids differ: normalized).
mount_delta() { # LOG-WITH-SHIM LOG-WITHOUT
  comm -13 <(probe_mounts "$2") <(probe_mounts "$1") | sed 's/^PROBE-MNT /+ /'
  comm -23 <(probe_mounts "$2") <(probe_mounts "$1") | sed 's/^PROBE-MNT /- /'
}
same_mounts() { # LOG-WITH-SHIM LOG-WITHOUT [EXPECTED-DELTA-LINE...]
  local with=$1 without=$2 delta expected
  shift 2
  delta=$(mount_delta "$with" "$without")
  expected=$(printf '%s\n' "$@" | sed '/^$/d')
  [ "$delta" = "$expected" ] && [ -n "$(probe_mounts "$without")" ] && return 0
  printf '    mount delta: %s\n' "${delta:-none}" "(expected: ${expected:-none})"
  return 1
}
no_host_devices() { # LOG: no block device under /dev, /dev not a devtmpfs
  ! grep -aq '^PROBE-BLK ' "$1" && ! grep -aq '^PROBE-MNT /dev devtmpfs' "$1"
}
no_more_devices() { # LOG-WITH-SHIM LOG-WITHOUT: no block device the manager did not put there
  [ "$(grep -ac '^PROBE-BLK ' "$1")" -le "$(grep -ac '^PROBE-BLK ' "$2")" ] &&
    ! grep -aq '^PROBE-MNT /dev devtmpfs' "$1"
}
# Nothing of the run reached the host's kernel log (/dev/kmsg): the ids a run ended with are
# fresh (random, or a UUID made for this case), so any kernel log line holding one is this
# case's.
not_in_kmsg() { # STRING...
  local k x
  k=$(dmesg) || { echo "    dmesg failed"; return 1; }
  for x in "$@"; do
    if grep -qF -- "$x" <<< "$k"; then echo "    in the kernel log: $x"; return 1; fi
  done
}
kmsg_clean() { # LOG
  local ids
  ids=$({ grep -a '^PROBE-ID \|^PROBE-RUNID ' "$1" || true; } | sed 's/^[^ ]* //' | tr -d '\r' |
    sed "/^\$/d; /^$DH\$/d" | sort -u)
  # None but D: the "never D" check fails already; D itself is in older runs' lines.
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086 # one id a word
  not_in_kmsg $ids
}
# A manager's UUID U (and as an id, UH) made for one case alone (see not_in_kmsg).
fresh_uuid() {
  U=$(cat /proc/sys/kernel/random/uuid)
  UH=${U//-/}
}
# A usage error this run alone makes (see not_in_kmsg).
bad_option=--no-such-option-$(cut -c1-8 /proc/sys/kernel/random/uuid)
show() { # LOG: the run's output, indented, for the test log
  sed 's/^/    | /' "$1"
}

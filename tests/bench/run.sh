#!/usr/bin/env bash
# Benchmarks: whole-process wall time (hyperfine), system calls (strace -c), peak RSS
# (/usr/bin/time), binary size and initramfs footprint of machine-id-init against
# systemd-machine-id-setup, dbus-uuidgen and a static do-nothing binary, on the same tmpfs
# trees in one run. Prints a Markdown table (the one in README.md comes from here).
#   tests/bench/run.sh            # 500 runs per command
#   RUNS=100 tests/bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-500}
warmup=50

need=()
for pair in hyperfine:hyperfine strace:strace /usr/bin/time:time dbus-uuidgen:dbus-bin \
            systemd-machine-id-setup:systemd gcc:gcc python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

target=x86_64-unknown-linux-gnu
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked --target "$target"
ours=$PWD/target/$target/release/machine-id-init

base=$(mktemp -d -p /dev/shm mii-bench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$base"' EXIT

# The physical floor: a static C program that only returns.
printf 'int main(void) { return 0; }\n' > "$base/nothing.c"
gcc -static -Os -s -o "$base/nothing" "$base/nothing.c"

# The tree: a VMware guest whose SMBIOS UUID becomes the id.
host=$base/host
mkdir -p "$host/sys/class/dmi/id" "$host/proc/1" "$host/run"
printf 'VMware, Inc.\n' > "$host/sys/class/dmi/id/sys_vendor"
printf 'VMware Virtual Platform\n' > "$host/sys/class/dmi/id/product_name"
printf '564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a\n' > "$host/sys/class/dmi/id/product_uuid"
printf 'root=/dev/vda1 ro\n' > "$host/proc/cmdline"
printf 'HOME=/\0' > "$host/proc/1/environ"
for t in ours systemd dbus; do mkdir -p "$base/$t/etc"; done
id=564dfa7e6a3c11ef8c9a3f2e1d0c4b5a

ours_cmd=("$ours" --root "$base/ours" --host-root "$host")
sd_cmd=(systemd-machine-id-setup --root "$base/systemd")
dbus_cmd=(dbus-uuidgen --ensure="$base/dbus/etc/machine-id")
# Write path: an empty file (dbus-uuidgen refuses an empty file, so it gets a missing one).
empty() { rm -rf "$base/$1/etc/machine-id" "$base/$1/etc/machine-id-init"; : > "$base/$1/etc/machine-id"; }
missing() { rm -rf "$base/$1/etc/machine-id" "$base/$1/etc/machine-id-init"; }
initialized() { rm -f "$base/$1/etc/machine-id"; printf '%s\n' "$id" > "$base/$1/etc/machine-id"; }
# Also without our origin record (SPEC §9): a first boot has none.
prep() { echo "sh -c 'rm -rf $base/$2/etc/machine-id $base/$2/etc/machine-id-init${1:+ && $1 > $base/$2/etc/machine-id}'"; }

hyperfine -N -w "$warmup" -r "$runs" --export-json "$base/write.json" \
  -n ours --prepare "$(prep : ours)" "${ours_cmd[*]}" \
  -n systemd-machine-id-setup --prepare "$(prep : systemd)" "${sd_cmd[*]}" \
  -n dbus-uuidgen --prepare "$(prep '' dbus)" "${dbus_cmd[*]}" >/dev/null

# The ordinary boot: initialized, and (ours) the origin record matching today's UUID, which the
# first run below writes as a baseline. `keep` is SPEC §2 alone, without the clone check.
for t in ours systemd dbus; do initialized "$t"; done
rm -rf "$base/ours/etc/machine-id-init"
"${ours_cmd[@]}" 2>/dev/null
[ -f "$base/ours/etc/machine-id-init/origin" ] || { echo "bench: no origin record written" >&2; exit 1; }
keep_cmd=("${ours_cmd[@]}" --on-clone=keep)
hyperfine -N -w "$warmup" -r "$runs" --export-json "$base/noop.json" \
  -n ours "${ours_cmd[*]}" \
  -n "ours --on-clone=keep" "${keep_cmd[*]}" \
  -n systemd-machine-id-setup "${sd_cmd[*]}" \
  -n dbus-uuidgen "${dbus_cmd[*]}" \
  -n do-nothing "$base/nothing" >/dev/null

# strace -c's last line: "100.00 <secs> <usecs/call> <calls> [errors] total".
calls() { strace -f -c -o "$base/strace" "$@" >/dev/null 2>&1 || true; awk '$NF=="total" {print $4}' "$base/strace"; }
rss() { /usr/bin/time -f %M -o "$base/rss" "$@" >/dev/null 2>&1 || true; cat "$base/rss"; }
measure() { # NAME STATE TREE COMMAND...: the state is set up again before each measurement
  local name=$1 state=$2 tree=$3 c m; shift 3
  "$state" "$tree"; c=$(calls "$@")
  "$state" "$tree"; m=$(rss "$@")
  echo "$name $c $m"
}
{
  measure write/ours empty ours "${ours_cmd[@]}"
  measure write/systemd-machine-id-setup empty systemd "${sd_cmd[@]}"
  measure write/dbus-uuidgen missing dbus "${dbus_cmd[@]}"
  measure noop/ours true - "${ours_cmd[@]}"
  measure "noop/ours --on-clone=keep" true - "${keep_cmd[@]}"
  measure noop/systemd-machine-id-setup initialized systemd "${sd_cmd[@]}"
  measure noop/dbus-uuidgen initialized dbus "${dbus_cmd[@]}"
  measure noop/do-nothing true - "$base/nothing"
} > "$base/counts"

size_ours=$(strip -o "$base/ours.stripped" "$ours" && stat -c %s "$base/ours.stripped")
sd=$(command -v systemd-machine-id-setup)
footprint_sd=$(
  { echo "$sd"; ldd "$sd" | awk '/=>/ {print $3} /^\t\/[^ ]+ \(/ {print $1}'; } \
    | sort -u | xargs -r readlink -f | xargs -r stat -L -c %s | awk '{s+=$1} END {print s}'
)
sd_libs=$(ldd "$sd" | grep -c '=>' || true)

python3 - "$base" "$runs" "$size_ours" "$footprint_sd" "$sd_libs" <<'PY'
import json, sys
base, runs, size_ours, fp_sd, sd_libs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def load(name):
    return {r["command"]: r for r in json.load(open(f"{base}/{name}.json"))["results"]}
w, n = load("write"), load("noop")
counts = {}
for line in open(f"{base}/counts"):
    k, c, m = line.rsplit(maxsplit=2)
    counts[k] = (int(c), int(m))
ms = lambda r: f'{r["mean"]*1e3:.3f} ± {r["stddev"]*1e3:.3f}'
print(f"Whole-process wall time, {runs} runs each after warm-up (hyperfine -N), tmpfs trees:\n")
print("| path | command | mean ms | vs. ours | syscalls | peak RSS KiB |")
print("| --- | --- | --- | --- | --- | --- |")
for path, label, res in (("write", "write", w), ("noop", "initialized", n)):
    o = res["ours"]["mean"]
    for cmd, r in res.items():
        c, m = counts[f"{path}/{cmd}"]
        print(f"| {label} | {cmd} | {ms(r)} | {r['mean']/o:.2f}× | {c} | {m} |")
wr = w["ours"]["mean"] / w["systemd-machine-id-setup"]["mean"]
nr = n["ours"]["mean"] / n["do-nothing"]["mean"]
print()
print(f"- write path: ours / systemd-machine-id-setup = {wr:.2f} (target ≤ 0.2)")
kr = n["ours --on-clone=keep"]["mean"] / n["do-nothing"]["mean"]
print(f"- initialized, record matches (the ordinary boot): ours / do-nothing = {nr:.2f} (target ≤ 1.3); with --on-clone=keep {kr:.2f}")
print(f"- system calls: write path {counts['write/ours'][0]} (the id, then its origin record), ordinary boot {counts['noop/ours'][0]}; peak RSS {counts['write/ours'][1]} KiB (target ≤ 2048)")
print(f"- stripped static binary: {size_ours} bytes = {size_ours/1048576:.2f} MiB (target ≤ 1.25 MiB)")
print(f"- initramfs footprint: ours {size_ours/1024:.0f} KiB, one file; systemd-machine-id-setup with the {sd_libs} shared libraries it loads: {fp_sd/1024:.0f} KiB")
PY

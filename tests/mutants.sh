#!/usr/bin/env bash
# Mutation testing of src/ (not part of `cargo test`): cargo-mutants changes the code one small
# way at a time and runs the deterministic tests against each mutant; a mutant that no test
# notices ("missed") is a hole in the tests, or an equivalent change to explain.
#   tests/mutants.sh [K/N] [cargo-mutants options...]   shard K of N (default 0/1: everything)
# Results: mutants.out/ (outcomes.json, missed.txt, caught.txt); the summary line is printed.
# The oracle is the fast, deterministic part of the suite: unit and property tests, every fixture,
# the fault, hostile-tree, race, chroot, PID-namespace and exec-descriptor tests (the crash test
# is one mutant's minute; the QEMU and container suites prove integrations, not lines).
set -euo pipefail
cd "$(dirname "$0")/.."
shard=${1:-0/1}
[ "$#" -gt 0 ] && shift
command -v cargo-mutants >/dev/null 2>&1 || cargo install --locked cargo-mutants
mkdir -p "mutants.out/${shard//\//-of-}"
# The oracle's targets are passed to the build too (-C), so a mutant builds only the test
# binaries that run. --iterate (add it to continue a shard in a later session) skips the mutants
# an earlier run of the same shard caught.
oracle=(--lib --test=fixtures --test=faults --test=hostile --test=concurrency --test=chroot
  --test=shim_pid_namespace --test=exec_fds)
cargo_args=()
for a in "${oracle[@]}"; do cargo_args+=("--cargo-arg=$a"); done
cargo mutants --shard "$shard" --profile mutants --timeout 120 --output "mutants.out/${shard//\//-of-}" \
  "${cargo_args[@]}" "$@" || true
out="mutants.out/${shard//\//-of-}/mutants.out"
caught=$(wc -l < "$out/caught.txt"); missed=$(wc -l < "$out/missed.txt")
timeout=$(wc -l < "$out/timeout.txt" 2>/dev/null || echo 0); unviable=$(wc -l < "$out/unviable.txt")
viable=$((caught + missed + timeout))
echo "mutants ($shard): $viable viable ($unviable unviable): $caught caught, $timeout timed out, $missed missed"
[ "$viable" -gt 0 ] && echo "caught or timed out: $(( (caught + timeout) * 100 / viable ))%"
[ "$missed" -eq 0 ] || { echo "missed:"; cat "$out/missed.txt"; }

#!/usr/bin/env bash
# Fuzz each parser for a fixed number of iterations (default 1000000 each) with cargo fuzz on the
# nightly toolchain. The committed seeds in corpus/ are read, never written: new inputs go to
# target/fuzz-corpus/. Exits non-zero on the first crash. Not part of `cargo test`.
#   tests/fuzz/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-1000000}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
for target in id_file environ cmdline smbios_type11; do
  work="../../target/fuzz-corpus/$target"
  mkdir -p "$work"
  echo "== $target: $runs runs"
  log="$work.log"
  # cargo fuzz exits non-zero, and leaves the input in artifacts/, on a crash.
  if ! cargo +nightly fuzz run --fuzz-dir . "$target" "$work" "corpus/$target" \
      -- -runs="$runs" -max_len=4096 >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "FAIL: $target crashed (or did not build); see tests/fuzz/artifacts/$target" >&2
    exit 1
  fi
  grep -E '^Done' "$log"
done
echo "fuzz: 4 targets, $runs runs each, 0 crashes"

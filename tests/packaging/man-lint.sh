#!/usr/bin/env bash
# Lint the man pages as installed: rendered by `make man` (into a scratch directory), then
# `mandoc -T lint -W all` (every message, style included) and `man --warnings` (groff's own
# warnings, what lintian runs) must print nothing, and every long option of --help is in it.
# Needs mandoc and man: prints SKIP without them, except under CI=true, where that fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

missing=()
for tool in mandoc man groff; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL man page lint: missing ${missing[*]}" >&2; exit 1; fi
  echo "SKIP man page lint: missing ${missing[*]}"
  exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
make -s man MAN_OUT="$out" SBINDIR=/usr/sbin
page=$out/machine-id-init.8
failed=0

for p in "$page" "$out/machine-id-init.conf.5"; do
  [ -f "$p" ] || { echo "FAIL make man did not render ${p##*/}" >&2; failed=1; continue; }
  lint=$(mandoc -T lint -W all "$p" 2>&1) || true
  if [ -n "$lint" ]; then echo "$lint" >&2; echo "FAIL ${p##*/}: mandoc -T lint -W all" >&2; failed=1
  else echo "PASS ${p##*/}: mandoc -T lint -W all: clean"; fi

  warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null) || true
  if [ -n "$warn" ]; then echo "$warn" >&2; echo "FAIL ${p##*/}: man --warnings" >&2; failed=1
  else echo "PASS ${p##*/}: man --warnings: clean"; fi
done

# Every long option of --help is documented in the page.
text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
mapfile -t opts < <(sed -n '/^pub const HELP/,/^";/p' src/cli.rs | grep -oE -- '--[a-z][a-z-]+' | sort -u)
[ "${#opts[@]}" -ge 10 ] || { echo "FAIL found only ${#opts[@]} options in src/cli.rs's HELP" >&2; exit 1; }
for opt in "${opts[@]}"; do
  grep -qF -- "$opt" <<< "$text" || { echo "FAIL the man page does not mention $opt" >&2; failed=1; }
done
[ "$failed" -eq 0 ] && echo "PASS the man page mentions all ${#opts[@]} options of --help"
exit "$failed"

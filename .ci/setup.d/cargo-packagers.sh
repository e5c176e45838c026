#!/usr/bin/env bash
# cargo-deb and cargo-generate-rpm for `make deb` and `make rpm`, each installed with
# `cargo install --locked` only when that version is not installed yet. Pinned: the packages
# are checked file by file (tests/packaging/packages.sh), and a new packager version is a
# change to review. cargo-generate-rpm 0.16.1 builds no OpenPGP signing code, which we do not
# use (0.20 and 0.21 do: about 220 crates and 7 minutes here, against 85 crates and 2-3), and
# reads an edition-2024 Cargo.toml (0.14 cannot).
set -euo pipefail
for tool in cargo-deb@3.8.0 cargo-generate-rpm@0.16.1; do
  name=${tool%@*} version=${tool#*@}
  if cargo install --list | grep -qx "$name v$version:"; then
    echo "$name $version: installed"
    continue
  fi
  start=$(date +%s)
  cargo install --locked --quiet "$name@$version"
  echo "$name $version: built and installed in $(($(date +%s) - start)) s"
done

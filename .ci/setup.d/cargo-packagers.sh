#!/usr/bin/env bash
# cargo-deb and cargo-generate-rpm for `make deb` and `make rpm`, each installed with
# `cargo install --locked` only when that version is not installed yet. Pinned: the packages
# are checked file by file (tests/packaging/packages.sh), and a new packager version is a
# change to review. cargo-generate-rpm 0.14 is the last line without OpenPGP signing, which we
# do not use and which triples its build (about 60 crates instead of about 220).
set -euo pipefail
for tool in cargo-deb@3.8.0 cargo-generate-rpm@0.14.1; do
  name=${tool%@*} version=${tool#*@}
  if cargo install --list | grep -qx "$name v$version:"; then
    echo "$name $version: installed"
    continue
  fi
  start=$(date +%s)
  cargo install --locked --quiet "$name@$version"
  echo "$name $version: built and installed in $(($(date +%s) - start)) s"
done

#!/usr/bin/env bash
# The packages: `make deb` and `make rpm`, their contents, maintainer scripts and scriptlets,
# and lintian (tests/packaging/packages.sh). The DESTDIR test and the man page lint run in
# `cargo test` (tests/packaging.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
bash tests/packaging/packages.sh
echo "packaging checks took $(($(date +%s) - start)) s"

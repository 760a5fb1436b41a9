#!/usr/bin/env bash
# Fails early, with the figures, when the disk cannot hold a full test run, instead of
# letting a compiler die half-way with "No space left on device".
#
# A cold run from a clean clone writes about 4.5 GiB: the toolchain 0.7 GiB (under
# /opt), test images and caches 0.75 GiB, target/ 3.4 GiB (the wasm std build 0.5 GiB
# of it), plus the tests' temporary files (registries, a docker engine, databases).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
need_gib=${CUSTOMS_MIN_FREE_GIB:-5}
target=${CARGO_TARGET_DIR:-$PWD/target}
mkdir -p "$target"
for dir in "$target" "${TMPDIR:-/tmp}"; do
  free_kib=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
  free_gib=$((free_kib / 1024 / 1024))
  if [ "$free_gib" -lt "$need_gib" ]; then
    echo "check-disk: only ${free_gib} GiB free under $dir; a test run needs about ${need_gib} GiB (set CUSTOMS_MIN_FREE_GIB to override)" >&2
    df -h "$dir" >&2
    exit 1
  fi
done
echo "check-disk: ok (${free_gib} GiB free)" >&2

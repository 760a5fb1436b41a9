#!/usr/bin/env bash
# Fails early, with the figures, when the disk cannot hold a full test run, instead of
# letting a compiler die half-way with "No space left on device".
#
# A cold run writes about: toolchain 0.8 GiB, test images and caches 1.5 GiB, the wasm
# std build 0.5 GiB, the host's test and release builds ~4 GiB, plus temporary files of
# the tests (registries, docker engine, databases) ~1 GiB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
need_gib=${CUSTOMS_MIN_FREE_GIB:-8}
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

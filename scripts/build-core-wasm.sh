#!/usr/bin/env bash
# Builds the analysis core for wasm32 (the module host/build.rs turns into the
# embedded component) as a step of its own, and prints the module's path.
#
# `cargo build` alone also works: host/build.rs then runs this build nested inside the
# outer cargo. The scripts build it first instead, which keeps the slow std-from-source
# build out of the host build's critical path and its output out of cargo's build-script
# capture.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

toolchain=${CUSTOMS_TOOLCHAIN_DIR:-/opt/customs-toolchain}
[ -x "$toolchain/bin/cargo-wasm" ] || { echo "build-core-wasm: run scripts/install-toolchain.sh first" >&2; exit 1; }
target_dir=${CARGO_TARGET_DIR:-$PWD/target}/wasm
env -u RUSTFLAGS -u CARGO_MAKEFLAGS -u MAKEFLAGS -u MFLAGS \
  "$toolchain/bin/cargo-wasm" build --locked --lib -p customs-core-component \
  --target wasm32-unknown-unknown --profile wasm --target-dir "$target_dir" </dev/null >&2
module="$target_dir/wasm32-unknown-unknown/wasm/customs_core_component.wasm"
[ -f "$module" ] || { echo "build-core-wasm: no module at $module" >&2; exit 1; }
echo "$module"

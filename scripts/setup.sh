#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine to build and run customs, and builds the real test
# images: after it, `./target/release/customs scan --image …` works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Standard input is /dev/null for everything below. When a job starts with it closed
# (as CI jobs may), descriptor 0 gets reused by the next pipe opened, and cargo's
# `rustc -` target probes then read some other process's output as source.
exec </dev/null

bash scripts/install-toolchain.sh
bash scripts/install-test-deps.sh
bash scripts/build-test-images.sh
# The wasm core first, on its own (see the script); host/build.rs embeds it.
CUSTOMS_CORE_COMPONENT=$(bash scripts/build-core-wasm.sh)
export CUSTOMS_CORE_COMPONENT
cargo build --release --locked -p customs

#!/usr/bin/env bash
# The project's test command (the README's and CI's): prepares what the tests need on
# a fresh Debian 12 machine, idempotently and quickly when already done, then runs
# every test of the workspace.
#   - scripts/install-toolchain.sh : the wasm32 toolchain that builds the sandboxed core
#   - scripts/install-test-deps.sh : Debian tools that build real test images, syft, rpm
#   - scripts/build-test-images.sh : real images from real Debian packages (cached)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-toolchain.sh
bash scripts/install-test-deps.sh
bash scripts/build-test-images.sh
cargo test --workspace --locked "$@"

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine to build and run customs, and builds the real test
# images: after it, `./target/release/customs scan --image …` works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-toolchain.sh
bash scripts/install-test-deps.sh
bash scripts/build-test-images.sh
cargo build --release --locked -p customs

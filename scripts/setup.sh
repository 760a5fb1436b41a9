#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine to build and run customs, and builds the real test
# images, and makes sure a vulnerability database exists: after it,
# `./target/release/customs scan --image …` works, online or not.
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

# The vulnerability database. Online, `customs db update` builds it from OSV's
# exports (scans would do it on their own too). A machine that cannot reach OSV
# gets one built from the advisory snapshot in ../shared/corpus instead, and scans
# then warn, once it is older than --db-max-age, that it should be updated.
if ./target/release/customs db status >/dev/null 2>&1; then
    echo "vulnerability database present: ./target/release/customs db status"
elif timeout 300 ./target/release/customs db update --ecosystems Debian,Alpine; then
    :
elif [ -d ../shared/corpus ]; then
    echo "OSV's export bucket is unreachable: building the database from the advisory snapshot in ../shared/corpus" >&2
    cargo run --release --locked -p customs --example corpus_db -- ./target/release/customs
else
    echo "no vulnerability database: run \`customs db update\` on a machine that reaches OSV (or pass --scanners none)" >&2
fi

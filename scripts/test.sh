#!/usr/bin/env bash
# The project's test command (the README's and CI's): prepares what the tests need on
# a fresh Debian 12 machine, idempotently and quickly when already done, then runs
# every test of the workspace and prints one summary line.
#   - scripts/install-toolchain.sh : the wasm32 toolchain that builds the sandboxed core
#   - scripts/install-test-deps.sh : Debian tools that build real test images, syft, rpm
#   - scripts/build-test-images.sh : real images from real Debian packages (cached)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Standard input is /dev/null for everything below. When a job starts with it closed
# (as CI jobs may), descriptor 0 gets reused by the next pipe opened, and cargo's
# `rustc -` target probes then read some other process's output as source.
exec </dev/null

# Incremental state is only useful to a developer rebuilding the same tree; in a one-off
# run it is gigabytes written for nothing. A developer can still set CARGO_INCREMENTAL=1.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
bash scripts/check-disk.sh

bash scripts/install-toolchain.sh
bash scripts/install-test-deps.sh
bash scripts/build-test-images.sh
# The wasm core first, on its own (see the script); host/build.rs embeds it.
CUSTOMS_CORE_COMPONENT=$(bash scripts/build-core-wasm.sh)
export CUSTOMS_CORE_COMPONENT

# Formatting is part of the test: rustfmt's defaults, no configuration. Reported after
# the summary, where it is seen.
fmt_problem=
if cargo fmt --version >/dev/null 2>&1; then
  if ! unformatted=$(cargo fmt --all -- --check -l 2>&1); then
    fmt_problem="the tree is not formatted; run \`cargo fmt --all\`: $(echo "$unformatted" | tr '\n' ' ')"
  fi
else
  echo "test: rustfmt is not installed; formatting not checked" >&2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1); if ($(i) ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ -n "$fmt_problem" ]; then
  echo "test: $fmt_problem" >&2
  [ "$status" = 0 ] && status=1
fi
exit "$status"

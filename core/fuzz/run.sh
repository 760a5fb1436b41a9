#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) one after the other for SECONDS each,
# on one core, with the memory limits the analyzers must live within.
#
# Usage: core/fuzz/run.sh [SECONDS] [TARGET...]      (default: 180 s, all targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain the nightly
# flags it passes are unlocked with RUSTC_BOOTSTRAP=1; set FUZZ_SANITIZER=none where
# the AddressSanitizer runtime is unavailable. Crashes land in artifacts/<target>/,
# libFuzzer's logs in logs/<target>.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds="${1:-180}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
[[ -d corpus ]] || ./seed.sh
mkdir -p logs
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-address}"
cargo fuzz build --sanitizer "$sanitizer"
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t: ${seconds}s"
  # -rss_limit_mb: a hostile database must not make the analyzer hold gigabytes.
  # -malloc_limit_mb: no single allocation may be sized by an unchecked input field.
  # -timeout: any one input taking seconds is a super-linear path.
  if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" > "logs/$t.log" 2>&1; then
    echo "   FAILED, see logs/$t.log and artifacts/$t/"
    status=1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ +DONE' "logs/$t.log" || true
done
exit "$status"

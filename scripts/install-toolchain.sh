#!/usr/bin/env bash
# install-toolchain.sh -- installs the toolchain that builds the sandboxed analysis core
# (crate customs-core) for wasm32-unknown-unknown, on Debian 12 (bookworm) amd64.
#
# Why not `rustup target add wasm32-unknown-unknown`? Our build machines reach only the
# package registries (Debian apt, crates.io, ...), not rustup's download servers. Debian
# carries a Rust compiler ("rustc-web", from bookworm-security) together with the source
# of the standard library, which is all that is needed: cargo's `-Zbuild-std` compiles
# std for wasm32 from that source. The native build keeps using rustup's stable toolchain.
#
# What it does (idempotent; a re-run with everything in place takes well under a second):
#   1. apt-get installs what the Debian compiler needs at run time and the linker:
#      libllvm22 (rustc's codegen), lld-22 (the wasm linker), libgit2-1.5 (cargo-web),
#      patchelf (to relocate rustc), all at pinned versions.
#   2. `apt-get download`s rustc-web, cargo-web, libstd-rust-web-*, rust-web-src at a
#      pinned version and unpacks them with `dpkg -x` into $PREFIX/root. They are not
#      installed as packages: they declare a conflict with rustup.
#   3. Points rustc's RUNPATH at the unpacked libraries, links rust-lld to lld-22.
#   4. Writes $PREFIX/bin/cargo-wasm, a cargo wrapper for wasm32 builds.
# The component is produced later by host/build.rs (nested cargo-wasm build + the
# wit-component crate), so no wasm-tools binary is needed.
#
# Usage:  bash scripts/install-toolchain.sh        (as root, or with sudo available)
# Env:    CUSTOMS_TOOLCHAIN_DIR   install prefix (default /opt/customs-toolchain)
set -euo pipefail

PREFIX=${CUSTOMS_TOOLCHAIN_DIR:-/opt/customs-toolchain}

# Pinned versions. bookworm-security keeps only the newest build of a package: when apt
# reports a pinned version as unavailable, update these to the current candidates
# (`apt-cache policy rustc-web libllvm22 lld-22`) and re-run.
RUST_WEB_VERSION=1.96.0+dfsg1-1~deb12u2
RUST_UPSTREAM=1.96.0
LIBSTD_PKG=libstd-rust-web-1.96
LLVM_MAJOR=22
LLVM_VERSION=1:22.1.8-1~deb12u1
LIBGIT2_VERSION=1.5.1+ds-1+deb12u2
PATCHELF_VERSION=0.14.3-1+b1
# Oldest rustup toolchain that builds the workspace natively (root Cargo.toml rust-version).
MIN_STABLE_MINOR=95
# Bump when the layout of $PREFIX changes, so existing installs are redone.
LAYOUT=1

APT_PKGS=(
  "libllvm$LLVM_MAJOR=$LLVM_VERSION"
  "lld-$LLVM_MAJOR=$LLVM_VERSION"
  "libgit2-1.5=$LIBGIT2_VERSION"
  "patchelf=$PATCHELF_VERSION"
)
DEB_PKGS=(
  "rustc-web=$RUST_WEB_VERSION"
  "cargo-web=$RUST_WEB_VERSION"
  "libstd-rust-web-dev=$RUST_WEB_VERSION"
  "$LIBSTD_PKG=$RUST_WEB_VERSION"
  "rust-web-src=$RUST_WEB_VERSION"
)
STAMP_WANT="layout=$LAYOUT rust-web=$RUST_WEB_VERSION llvm=$LLVM_VERSION"

log() { printf '[install-toolchain] %s\n' "$*" >&2; }
die() { printf '[install-toolchain] error: %s\n' "$*" >&2; exit 1; }

SYSROOT="$PREFIX/root/usr"
STAMP="$PREFIX/.installed"

# Packages whose installed version differs from the pin (name=version list).
apt_missing() {
  local spec name want have out=()
  for spec in "${APT_PKGS[@]}"; do
    name=${spec%%=*}; want=${spec#*=}
    have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
    [ "$have" = "install ok installed $want" ] || out+=("$spec")
  done
  printf '%s\n' "${out[@]+"${out[@]}"}"
}

# The rustup toolchain builds the host; check it is there and new enough.
check_stable() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found on PATH: install rustup's stable toolchain (1.$MIN_STABLE_MINOR or newer)"
  local v minor
  v=$(rustc -V 2>/dev/null | awk '{print $2}') || true
  minor=$(printf '%s' "$v" | cut -d. -f2)
  [[ "$minor" =~ ^[0-9]+$ ]] && [ "$minor" -ge "$MIN_STABLE_MINOR" ] \
    || die "rustc ${v:-(none)} on PATH is older than 1.$MIN_STABLE_MINOR: run 'rustup update stable'"
}

installed_ok() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_WANT" ] \
    && [ -z "$(apt_missing)" ] \
    && "$PREFIX/bin/cargo-wasm" -V >/dev/null 2>&1 \
    && "$SYSROOT/bin/rustc" -V >/dev/null 2>&1
}

check_stable
if installed_ok; then
  log "already installed in $PREFIX ($("$SYSROOT/bin/rustc" -V))"
  exit 0
fi

# ----------------------------------------------------------------------------- slow path
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] || die "only Debian 12 amd64 is supported"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "run as root: apt-get install and writing $PREFIX need it"
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

$SUDO mkdir -p "$PREFIX"
[ -w "$PREFIX" ] || $SUDO chown "$(id -u):$(id -g)" "$PREFIX"
exec 9>"$PREFIX/.lock"
flock 9 # concurrent runs (parallel CI jobs on one machine) wait for each other
if installed_ok; then
  log "installed by a concurrent run in $PREFIX"
  exit 0
fi
rm -f "$STAMP"

# apt knows the pinned versions? Refresh the package lists only when it does not.
apt_known() {
  local spec
  for spec in "${APT_PKGS[@]}" "${DEB_PKGS[@]}"; do
    apt-cache show "$spec" >/dev/null 2>&1 || return 1
  done
}
if ! apt_known; then
  log "apt-get update"
  $SUDO apt-get update -qq || die "apt-get update failed"
  apt_known || die "apt does not offer the pinned versions (rustc-web $RUST_WEB_VERSION, llvm $LLVM_VERSION): is bookworm-security in the apt sources? If they were superseded, update the pins at the top of $0"
fi

mapfile -t missing < <(apt_missing)
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi

if [ -x "$SYSROOT/bin/rustc" ] && [ -d "$SYSROOT/lib/rustlib/src/rust/library/std" ] \
   && [ "$(cat "$PREFIX/.rust-web" 2>/dev/null)" = "$RUST_WEB_VERSION" ]; then
  log "Debian rust-web $RUST_WEB_VERSION already unpacked"
else
  log "apt-get download + unpack rust-web $RUST_WEB_VERSION"
  tmp=$(mktemp -d "$PREFIX/.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/debs" "$tmp/root"
  chmod 755 "$tmp"
  # apt drops privileges to _apt for downloads; let it write there.
  chown _apt "$tmp/debs" 2>/dev/null || true
  (cd "$tmp/debs" && apt-get download -qq "${DEB_PKGS[@]}") || die "apt-get download of rust-web packages failed"
  for deb in "$tmp"/debs/*.deb; do
    dpkg -x "$deb" "$tmp/root" || die "dpkg -x $deb failed"
  done
  rm -rf "$PREFIX/root"
  mv "$tmp/root" "$PREFIX/root"
  rm -rf "$tmp"
  trap - EXIT
  echo "$RUST_WEB_VERSION" >"$PREFIX/.rust-web"
fi

# Fix-ups. Installed by dpkg, rustc would find librustc_driver in /usr/lib/<triple>;
# unpacked, its RUNPATH must point into the prefix.
patchelf --set-rpath '$ORIGIN/../lib/x86_64-linux-gnu' "$SYSROOT/bin/rustc" "$SYSROOT/bin/rustdoc"
# wasm32-unknown-unknown links with `rust-lld -flavor wasm`; Debian's relative symlink
# only resolves inside /usr/bin, so point it at the absolute lld.
HOSTBIN="$SYSROOT/lib/rustlib/x86_64-unknown-linux-gnu/bin"
mkdir -p "$HOSTBIN"
ln -sfn "/usr/bin/lld-$LLVM_MAJOR" "$SYSROOT/bin/rust-lld"
ln -sfn "/usr/bin/lld-$LLVM_MAJOR" "$HOSTBIN/rust-lld"

got=$("$SYSROOT/bin/rustc" -V 2>&1) || die "the unpacked rustc does not run: $got"
case "$got" in "rustc $RUST_UPSTREAM"*) ;; *) die "unexpected compiler version: $got";; esac
[ "$("$SYSROOT/bin/rustc" --print sysroot)" = "$SYSROOT" ] || die "the unpacked rustc reports another sysroot"
"$SYSROOT/bin/rustc" --print target-list | grep -qx wasm32-unknown-unknown || die "rustc lacks the wasm32-unknown-unknown target"
[ -f "$SYSROOT/lib/rustlib/src/rust/library/Cargo.lock" ] || die "rust-web-src: library/Cargo.lock missing"
"$SYSROOT/bin/rust-lld" -flavor wasm --version >/dev/null 2>&1 || die "rust-lld (lld-$LLVM_MAJOR) does not run"

mkdir -p "$PREFIX/bin"
cat >"$PREFIX/bin/cargo-wasm.tmp" <<'EOF'
#!/bin/sh
# cargo for wasm32 targets: Debian's rustc-web and std compiled from source
# (-Zbuild-std). Use a target dir of its own, separate from rustup's builds.
here=$(cd "$(dirname "$0")/.." && pwd)
SYSROOT="$here/root/usr"
export RUSTC="$SYSROOT/bin/rustc"
export RUSTDOC="$SYSROOT/bin/rustdoc"
# The Debian compiler is a stable build; std's source uses unstable features.
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD="${CARGO_UNSTABLE_BUILD_STD-std,panic_abort}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$SYSROOT/bin/rust-lld"
export PATH="$SYSROOT/bin:$PATH"
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
exec "$SYSROOT/bin/cargo" "$@"
EOF
chmod +x "$PREFIX/bin/cargo-wasm.tmp"
mv -f "$PREFIX/bin/cargo-wasm.tmp" "$PREFIX/bin/cargo-wasm"
"$PREFIX/bin/cargo-wasm" -V >/dev/null 2>&1 || die "cargo-wasm does not run: $("$PREFIX/bin/cargo-wasm" -V 2>&1 | head -1)"

echo "$STAMP_WANT" >"$STAMP"
log "ready: $PREFIX/bin/cargo-wasm ($got, lld-$LLVM_MAJOR)"

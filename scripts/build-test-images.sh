#!/usr/bin/env bash
# Builds the real container images the end-to-end tests and the benchmark scan.
#
# Everything is made from real Debian packages, without a container daemon:
#   debootstrap --variant=minbase bookworm   -> layer 1 (the base rootfs)
#   dpkg -i of real .debs inside the rootfs   -> layer 2 (adds packages to the dpkg status)
#   dpkg --purge of a base package            -> layer 3 of the "whiteout" variant
#                                                (its files disappear through whiteouts)
# umoci turns the successive root filesystems into OCI layers (it diffs against
# the previous state, so each layer carries only its change), skopeo converts
# the result into every on-disk format the scanner accepts.
#
# Output, in .cache/test-images/ (the only place this script writes, apart from
# its work and debootstrap caches under .cache/):
#   debian-oci/                    OCI layout, gzip layers, 2 layers
#   debian.oci.tar                 oci-archive of the same image
#   debian.docker.tar              docker-archive (docker save format, uncompressed layers)
#   debian-zstd-oci/               OCI layout with zstd layers
#   expected-packages.tsv          ground truth for debian-* (dpkg-query on the final rootfs)
#   layer2-packages.txt            names of the packages layer 2 adds
#   debian-whiteout-oci/ .oci.tar .docker.tar -zstd-oci/   the 3-layer variant
#   debian-whiteout-expected-packages.tsv                  its ground truth
#   whiteout-purged-packages.txt   names of the packages layer 3 purges
#   multi-oci/                     OCI layout whose index has linux/amd64 (the debian
#                                  image) and linux/arm64/v8 (layer 1 only, config arm64)
#   arm64-expected-packages.tsv    ground truth of the arm64 entry (= the base rootfs)
#   build-info.txt                 sizes, counts and the cache key
#
# TSV columns: Package, Version, Architecture, source:Package, source:Version.
#
# Caching: the result is keyed on this script's sha256. A run with an unchanged
# script and all outputs present is a no-op. The debootstrap tree is cached on its
# own (keyed on suite, variant, mirror and architecture), because it is the slow
# step and does not depend on the rest of the script. FORCE=1 rebuilds the images,
# FORCE=2 also re-runs debootstrap.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT="$ROOT/scripts/$(basename "${BASH_SOURCE[0]}")"
CACHE="$ROOT/.cache"
OUT="$CACHE/test-images"
FORCE=${FORCE:-0}

SUITE=bookworm
# Small real packages with few dependencies, all satisfied by minbase. bsdextrautils
# is built from util-linux, so its source name differs from its binary name.
LAYER2_DEBS=(hello bsdextrautils)
# A package of the *base* layer that nothing in minbase depends on: purging it
# deletes files that live in layer 1, so layer 3 must express them as whiteouts.
PURGE_PKG=e2fsprogs
IMAGE_CMD=/bin/bash

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "build-test-images: must run as root (debootstrap, chroot, dpkg --root)" >&2
    exit 1
  fi
}

for tool in debootstrap umoci skopeo jq sha256sum dpkg-query flock; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-test-images: $tool not found; run scripts/install-test-deps.sh first" >&2
    exit 1
  fi
done

mkdir -p "$CACHE"
exec 9>"$CACHE/test-images.lock"
# Tests and the benchmark may call this concurrently; the second caller waits and
# then finds the cache fresh.
flock 9

KEY=$(sha256sum "$SCRIPT" | cut -d' ' -f1)
OUTPUTS=(debian-oci/index.json debian.oci.tar debian.docker.tar debian-zstd-oci/index.json
  expected-packages.tsv layer2-packages.txt
  debian-whiteout-oci/index.json debian-whiteout.oci.tar debian-whiteout.docker.tar
  debian-whiteout-zstd-oci/index.json debian-whiteout-expected-packages.tsv
  whiteout-purged-packages.txt multi-oci/index.json arm64-expected-packages.tsv build-info.txt)

fresh=1
if [ "$FORCE" != 0 ] || [ "$(cat "$OUT/.key" 2>/dev/null || true)" != "$KEY" ]; then
  fresh=0
else
  for f in "${OUTPUTS[@]}"; do
    [ -e "$OUT/$f" ] || { fresh=0; break; }
  done
fi
if [ "$fresh" = 1 ]; then
  echo "build-test-images: up to date ($OUT)"
  exit 0
fi
need_root

T0=$(date +%s.%N)
step_start=$T0
step() { # NAME: prints the time spent since the previous step
  local now
  now=$(date +%s.%N)
  printf 'build-test-images: %-34s %6.1f s\n' "$1" "$(awk -v a="$now" -v b="$step_start" 'BEGIN{print a-b}')"
  step_start=$now
}

mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: the URIs line of the stanza that serves the main suite.
    m=$(awk -v s="$SUITE" '
      /^URIs:/ {u=$2}
      /^Suites:/ {for (i=2;i<=NF;i++) if ($i==s) {print u; exit}}
      /^$/ {u=""}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk -v s="$SUITE" '$1=="deb" && $0 ~ (" " s " ") {for (i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' \
      /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)
ARCH=$(dpkg --print-architecture)

# ---------------------------------------------------------------- debootstrap
BOOT_KEY=$(printf '%s minbase %s %s v1' "$SUITE" "$MIRROR" "$ARCH" | sha256sum | cut -c1-16)
BOOT="$CACHE/debootstrap/$SUITE-minbase-$BOOT_KEY"
if [ "$FORCE" = 2 ] || [ ! -f "$BOOT.done" ]; then
  rm -rf "$BOOT" "$BOOT.done"
  mkdir -p "$(dirname "$BOOT")"
  echo "build-test-images: debootstrap --variant=minbase $SUITE from $MIRROR"
  if ! debootstrap --variant=minbase "$SUITE" "$BOOT" "$MIRROR" >"$BOOT.log" 2>&1; then
    tail -n 20 "$BOOT.log" >&2
    echo "build-test-images: debootstrap failed, full log in $BOOT.log" >&2
    exit 1
  fi
  # debootstrap unmounts what it mounted, but a failed run must never leave a
  # host /proc or /sys bound inside a tree that is about to be copied.
  for m in proc sys dev/pts dev; do
    if mountpoint -q "$BOOT/$m"; then umount -l "$BOOT/$m"; fi
  done
  # The device nodes are deleted below: never while the host's /dev is bound there.
  if mountpoint -q "$BOOT/dev"; then
    echo "build-test-images: $BOOT/dev is still a mount point; refusing to clean it" >&2
    exit 1
  fi
  # What a real base image ships without: downloaded .debs, apt lists, device nodes.
  rm -rf "$BOOT"/var/cache/apt/archives/*.deb "$BOOT"/var/lib/apt/lists/* "$BOOT"/dev/* \
    "$BOOT"/var/log/bootstrap.log "$BOOT"/debootstrap
  touch "$BOOT.done"
  step "debootstrap"
else
  step "debootstrap (cached)"
fi

# ---------------------------------------------------------------- workspace
WORK="$CACHE/test-images-work"
rm -rf "$WORK" "$OUT.tmp"
mkdir -p "$WORK" "$OUT.tmp"
cleanup() {
  for m in proc sys; do
    if [ -d "$WORK/bundle/rootfs/$m" ] && mountpoint -q "$WORK/bundle/rootfs/$m"; then
      umount -l "$WORK/bundle/rootfs/$m"
    fi
  done
}
trap cleanup EXIT

# Maintainer scripts write to /dev/null. The image's /dev is empty (a runtime
# provides it), so lend the chroot a real /dev/null for the duration of a step;
# otherwise it would be created as a regular file and end up in the layer.
in_chroot() { # LOG CMD...
  local log=$1 rc=0
  shift
  mknod -m 666 "$B/rootfs/dev/null" c 1 3
  chroot "$B/rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    "$@" >/dev/null 2>"$log" || rc=$?
  rm -f "$B/rootfs/dev/null"
  return $rc
}

pkgs_tsv() { # ROOTFS: the dpkg ground truth, sorted for stable diffs
  dpkg-query --admindir="$1/var/lib/dpkg" -W \
    -f '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n' | LC_ALL=C sort
}

L="$WORK/oci"
B="$WORK/bundle"
umoci init --layout "$L"
umoci new --image "$L:build"
umoci unpack --image "$L:build" "$B"
rm -rf "$B/rootfs"
cp -a "$BOOT" "$B/rootfs"
pkgs_tsv "$B/rootfs" >"$OUT.tmp/arm64-expected-packages.tsv"
# Fixed creation times keep the configs (and so the image IDs) of two runs of
# this script comparable; the contents come from the mirror and may still move.
CREATED=2025-01-01T00:00:00Z
umoci repack --refresh-bundle --image "$L:build" \
  --history.created "$CREATED" --history.created_by "debootstrap --variant=minbase $SUITE" "$B"
step "layer 1 (minbase rootfs)"

# ---------------------------------------------------------------- layer 2
# The host and the image are the same release from the same mirror, so the host's
# apt fetches .debs that install cleanly in the chroot.
mkdir -p "$WORK/debs"
# (The sandbox user _apt cannot write into .cache, so download as root.)
(cd "$WORK/debs" && apt-get download -q -o APT::Sandbox::User=root "${LAYER2_DEBS[@]}" >/dev/null)
mkdir -p "$B/rootfs/tmp/debs"
cp "$WORK"/debs/*.deb "$B/rootfs/tmp/debs/"
in_chroot "$WORK/dpkg-i.log" sh -c 'dpkg -i /tmp/debs/*.deb' || {
  cat "$WORK/dpkg-i.log" >&2
  echo "build-test-images: dpkg -i of ${LAYER2_DEBS[*]} failed" >&2
  exit 1
}
rm -rf "$B/rootfs/tmp/debs"
pkgs_tsv "$B/rootfs" >"$OUT.tmp/expected-packages.tsv"
for p in "${LAYER2_DEBS[@]}"; do
  if ! cut -f1 "$OUT.tmp/expected-packages.tsv" | grep -qx "$p"; then
    echo "build-test-images: $p is not in the dpkg status after dpkg -i" >&2
    exit 1
  fi
done
# Everything layer 2 added, dependencies included, as the scanner must see it.
comm -13 <(cut -f1 "$OUT.tmp/arm64-expected-packages.tsv") <(cut -f1 "$OUT.tmp/expected-packages.tsv") \
  >"$OUT.tmp/layer2-packages.txt"
umoci repack --refresh-bundle --image "$L:build" \
  --history.created "$CREATED" --history.created_by "dpkg -i ${LAYER2_DEBS[*]}" "$B"
umoci tag --image "$L:build" debian
step "layer 2 (dpkg -i ${LAYER2_DEBS[*]})"

# ---------------------------------------------------------------- layer 3
if ! cut -f1 "$OUT.tmp/arm64-expected-packages.tsv" | grep -qx "$PURGE_PKG"; then
  echo "build-test-images: $PURGE_PKG is not part of the base rootfs" >&2
  exit 1
fi
in_chroot "$WORK/dpkg-purge.log" dpkg --purge "$PURGE_PKG" || {
  cat "$WORK/dpkg-purge.log" >&2
  echo "build-test-images: dpkg --purge $PURGE_PKG failed" >&2
  exit 1
}
pkgs_tsv "$B/rootfs" >"$OUT.tmp/debian-whiteout-expected-packages.tsv"
comm -23 <(cut -f1 "$OUT.tmp/expected-packages.tsv") \
  <(cut -f1 "$OUT.tmp/debian-whiteout-expected-packages.tsv") >"$OUT.tmp/whiteout-purged-packages.txt"
if [ "$(cat "$OUT.tmp/whiteout-purged-packages.txt")" != "$PURGE_PKG" ]; then
  echo "build-test-images: purging $PURGE_PKG changed more than that package:" >&2
  cat "$OUT.tmp/whiteout-purged-packages.txt" >&2
  exit 1
fi
umoci repack --refresh-bundle --image "$L:build" \
  --history.created "$CREATED" --history.created_by "dpkg --purge $PURGE_PKG" "$B"
umoci tag --image "$L:build" debian-whiteout
step "layer 3 (dpkg --purge $PURGE_PKG)"

for t in debian debian-whiteout; do
  umoci config --image "$L:$t" --history.created "$CREATED" --history.created_by "CMD [\"$IMAGE_CMD\"]" \
    --config.cmd "$IMAGE_CMD" --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --os linux --architecture "$ARCH"
done

# ---------------------------------------------------------------- formats
# Layouts with exactly one manifest each (syft's oci-dir: insists on that), then
# the archives. --preserve-digests: the layouts' gzip blobs are copied verbatim,
# so the manifest digest is the one umoci wrote.
SK=(skopeo copy -q)
for t in debian debian-whiteout; do
  "${SK[@]}" --preserve-digests "oci:$L:$t" "oci:$OUT.tmp/$t-oci:$SUITE"
  "${SK[@]}" --preserve-digests "oci:$OUT.tmp/$t-oci:$SUITE" "oci-archive:$OUT.tmp/$t.oci.tar:$SUITE"
  # docker-archive stores layers uncompressed, so the digests necessarily change.
  "${SK[@]}" "oci:$OUT.tmp/$t-oci:$SUITE" "docker-archive:$OUT.tmp/$t.docker.tar:customs-test/$t:$SUITE"
  "${SK[@]}" --dest-compress-format zstd "oci:$OUT.tmp/$t-oci:$SUITE" "oci:$OUT.tmp/$t-zstd-oci:$SUITE"
done
step "formats (oci, oci-archive, docker, zstd)"

# skopeo's global blob-info cache could hand back a blob in another compression;
# check that every layout holds what its name says.
check_layers() { # LAYOUT WANT_MEDIA_TYPE COUNT
  local idx man types n
  idx="$1/index.json"
  man=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$idx")
  types=$(jq -r '.layers[].mediaType' "$1/blobs/sha256/$man" | sort -u)
  n=$(jq -r '.layers | length' "$1/blobs/sha256/$man")
  if [ "$types" != "$2" ] || [ "$n" != "$3" ]; then
    echo "build-test-images: $1 has $n layers of type(s) '$types', want $3 of '$2'" >&2
    exit 1
  fi
}
check_layers "$OUT.tmp/debian-oci" application/vnd.oci.image.layer.v1.tar+gzip 2
check_layers "$OUT.tmp/debian-zstd-oci" application/vnd.oci.image.layer.v1.tar+zstd 2
check_layers "$OUT.tmp/debian-whiteout-oci" application/vnd.oci.image.layer.v1.tar+gzip 3
check_layers "$OUT.tmp/debian-whiteout-zstd-oci" application/vnd.oci.image.layer.v1.tar+zstd 3

# ---------------------------------------------------------------- multi-platform
# An OCI layout whose index.json points at an image index (what `skopeo copy --all`
# and containerd exports write) with two platforms. The arm64 entry reuses the
# debian image's first layer under a config that says arm64; having one layer
# instead of two makes the selected platform visible in the package list too.
M="$OUT.tmp/multi-oci"
mkdir -p "$M/blobs/sha256"
cp "$OUT.tmp/debian-oci/blobs/sha256/"* "$M/blobs/sha256/"
echo '{"imageLayoutVersion":"1.0.0"}' >"$M/oci-layout"
blob() { # FILE -> prints "digest size", moving FILE into the layout
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$M/blobs/sha256/$d"
  echo "sha256:$d $s"
}
amd_desc=$(jq -c '.manifests[0] | {mediaType, digest, size}' "$OUT.tmp/debian-oci/index.json")
amd_man="$M/blobs/sha256/$(jq -r '.digest | sub("sha256:"; "")' <<<"$amd_desc")"
amd_cfg="$M/blobs/sha256/$(jq -r '.config.digest | sub("sha256:"; "")' "$amd_man")"
jq -c '.architecture = "arm64" | .variant = "v8"
       | .rootfs.diff_ids = [.rootfs.diff_ids[0]]
       | .history = [.history[0]]' "$amd_cfg" >"$WORK/arm64-config.json"
read -r cfg_d cfg_s < <(blob "$WORK/arm64-config.json")
jq -c --arg d "$cfg_d" --argjson s "$cfg_s" \
  '.config.digest = $d | .config.size = $s | .layers = [.layers[0]]' "$amd_man" >"$WORK/arm64-manifest.json"
read -r man_d man_s < <(blob "$WORK/arm64-manifest.json")
jq -cn --argjson a "$amd_desc" --arg d "$man_d" --argjson s "$man_s" '{
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    ($a + {platform: {architecture: "amd64", os: "linux"}}),
    {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
     platform: {architecture: "arm64", os: "linux", variant: "v8"}}
  ]}' >"$WORK/index-blob.json"
read -r idx_d idx_s < <(blob "$WORK/index-blob.json")
jq -cn --arg d "$idx_d" --argjson s "$idx_s" --arg t "$SUITE" '{
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
               annotations: {"org.opencontainers.image.ref.name": $t}}]}' >"$M/index.json"
if [ "$ARCH" != amd64 ]; then
  echo "build-test-images: note: host is $ARCH; multi-oci labels the debian image amd64 regardless" >&2
fi
step "multi-platform index"

# ---------------------------------------------------------------- summary
{
  echo "key $KEY"
  echo "mirror $MIRROR"
  echo "suite $SUITE"
  for t in debian debian-whiteout; do
    echo "$t.packages $(wc -l <"$OUT.tmp/$( [ $t = debian ] && echo expected-packages.tsv || echo $t-expected-packages.tsv)")"
    for f in "$t-oci" "$t.oci.tar" "$t.docker.tar" "$t-zstd-oci"; do
      echo "$f.bytes $(du -sb "$OUT.tmp/$f" | cut -f1)"
    done
  done
  echo "arm64.packages $(wc -l <"$OUT.tmp/arm64-expected-packages.tsv")"
  echo "layer2 $(tr '\n' ' ' <"$OUT.tmp/layer2-packages.txt")"
  echo "purged $(tr '\n' ' ' <"$OUT.tmp/whiteout-purged-packages.txt")"
} >"$OUT.tmp/build-info.txt"
echo "$KEY" >"$OUT.tmp/.key"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"
trap - EXIT
sed 's/^/build-test-images:   /' "$OUT/build-info.txt"
printf 'build-test-images: done in %.1f s -> %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN{print a-b}')" "$OUT"

#!/usr/bin/env bash
# Fills the working corpora `corpus/<target>/` (gitignored) with seeds taken from the
# shared test corpus, so that each fuzzer starts from real databases and release files
# instead of discovering the formats from nothing.
#
# Usage: core/fuzz/seed.sh            (corpus at <repo>/../shared/corpus)
#        CUSTOMS_CORPUS=/path/to/corpus core/fuzz/seed.sh
#
# Idempotent: seeds are named after their source and overwritten; inputs the fuzzer
# added to corpus/<target>/ are kept. Optional tools: `sqlite3` (small rpm SQLite
# databases with a live WAL, and single header blobs) and `python3` (a small NDB
# database); without them only the corpus files themselves are used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="${CUSTOMS_CORPUS:-$here/../../../shared/corpus}"
pkgs="$shared/packages"
out="$here/corpus"
[[ -d "$pkgs" ]] || { echo "seed.sh: no corpus at $pkgs (set CUSTOMS_CORPUS)" >&2; exit 1; }

# Must match customs_core_fuzz::WAL_SEPARATOR.
wal_separator=$'\n--customs-fuzz-wal--\n'
# Must match customs_core::os::OS_FILES (the os_detect input picks files by index).
os_files=(etc/os-release usr/lib/os-release etc/alpine-release etc/lsb-release
  etc/debian_version etc/centos-release etc/rocky-release etc/almalinux-release
  etc/oracle-release etc/fedora-release etc/photon-release etc/system-release
  etc/redhat-release)

# seed TARGET FILE: copies FILE into the target's corpus under a name that says
# where it came from.
seed() {
  local target="$1" file="$2" rel
  rel="${file#"$pkgs"/}"
  mkdir -p "$out/$target"
  rm -f "$out/$target/${rel//\//__}"
  cat "$file" > "$out/$target/${rel//\//__}"
}

# Every file of a corpus folder except the peers' expected results and notes.
samples() {
  find "$1" -type f ! -name expected.json ! -name '*.md' | sort
}

while read -r f; do
  seed dpkg_status "$f"
  seed dpkg_status_d "$f"
done < <(samples "$pkgs/dpkg")

while read -r f; do seed apk_installed "$f"; done < <(samples "$pkgs/apk")

while read -r f; do seed rpm_bdb "$f"; done < <(find "$pkgs/rpm" -type f -name Packages | sort)
while read -r f; do
  seed rpm_ndb "$f"
  # libFuzzer truncates inputs above 1 MiB, which cuts the corpus's 1.3 MB Packages.db
  # short of its last blobs. The same database with its six smallest packages (same
  # slot layout, blobs moved up) is a complete seed of 40 kB.
  command -v python3 > /dev/null || continue
  rel="${f#"$pkgs"/}"
  python3 - "$f" "$out/rpm_ndb/${rel//\//__}.small" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read()
slot_pages = struct.unpack_from("<I", src, 12)[0]
area = slot_pages * 4096
used = []
for at in range(32, area, 16):
    magic, index, block, blocks = struct.unpack_from("<4sIII", src, at)
    if magic == b"Slot" and index:
        used.append((blocks, index, block))
keep = sorted(used)[:6]
out = bytearray(src[:area])
for at in range(32, area, 16):
    struct.pack_into("<4sIII", out, at, b"Slot", 0, 0, 0)
at, next_block = 32, area // 16
for blocks, index, block in sorted(keep, key=lambda k: k[1]):
    struct.pack_into("<4sIII", out, at, b"Slot", index, next_block, blocks)
    out += src[block * 16:(block + blocks) * 16]
    at, next_block = at + 16, next_block + blocks
open(sys.argv[2], "wb").write(out)
PY
done < <(find "$pkgs/rpm" -type f -name Packages.db | sort)
while read -r f; do seed rpm_manifest "$f"; done < <(find "$pkgs/rpm" -type f -name 'container-manifest-*' | sort)

mkdir -p "$out/rpm_sqlite" "$out/rpm_header"
while read -r db; do
  rel="${db#"$pkgs"/}"
  name="${rel//\//__}"
  if ! command -v sqlite3 > /dev/null; then
    if [[ -s "$db-wal" ]]; then
      { cat "$db"; printf '%s' "$wal_separator"; cat "$db-wal"; } > "$out/rpm_sqlite/$name"
    else
      rm -f "$out/rpm_sqlite/$name"
      cat "$db" > "$out/rpm_sqlite/$name"
    fi
    continue
  fi
  # The corpus databases are megabytes, which libFuzzer then mutates at a few
  # executions per second; the same schema with the corpus's smallest rows is fast,
  # and still has interior b-tree pages and overflow chains (512-byte pages). Built from a private copy: opening the corpus file
  # itself could write its -shm/-wal.
  tmp="$(mktemp -d)"
  cat "$db" > "$tmp/src.sqlite"
  schema="CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);"
  sqlite3 "$tmp/small.sqlite" "PRAGMA page_size=512; $schema
    ATTACH '$tmp/src.sqlite' AS src;
    INSERT INTO Packages SELECT hnum, blob FROM src.Packages ORDER BY length(blob), hnum LIMIT 12;"
  cp "$tmp/small.sqlite" "$out/rpm_sqlite/$name.small"
  # The same in WAL mode with rows that only the WAL holds: the connection is told
  # not to checkpoint on close, so the committed frames stay in the -wal file.
  sqlite3 "$tmp/wal.sqlite" "PRAGMA page_size=512; PRAGMA journal_mode=WAL; $schema
    ATTACH '$tmp/src.sqlite' AS src;
    INSERT INTO Packages SELECT hnum, blob FROM src.Packages ORDER BY length(blob), hnum LIMIT 8;
    PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
  sqlite3 "$tmp/wal.sqlite" ".dbconfig no_ckpt_on_close on" \
    "ATTACH '$tmp/src.sqlite' AS src;
     INSERT INTO Packages SELECT hnum, blob FROM src.Packages ORDER BY length(blob), hnum LIMIT 4 OFFSET 8;
     DELETE FROM Packages WHERE hnum = (SELECT MIN(hnum) FROM Packages);" > /dev/null
  if [[ -s "$tmp/wal.sqlite-wal" ]]; then
    { cat "$tmp/wal.sqlite"; printf '%s' "$wal_separator"; cat "$tmp/wal.sqlite-wal"; } \
      > "$out/rpm_sqlite/$name.small-wal"
  fi
  # Single header blobs for the rpm_header target.
  sqlite3 "$tmp/src.sqlite" "SELECT writefile('$out/rpm_header/$name.' || hnum, blob)
    FROM Packages ORDER BY hnum LIMIT 40;" > /dev/null
  rm -rf "$tmp"
done < <(find "$pkgs/rpm" -type f -name rpmdb.sqlite | sort)

# os_detect: records `<file index byte><content>` separated by 0xFF.
index_of() {
  local i
  for i in "${!os_files[@]}"; do
    [[ "${os_files[$i]}" == "$1" ]] && { echo "$i"; return; }
  done
  echo 0
}
mkdir -p "$out/os_detect"
while read -r f; do
  rel="${f#"$pkgs"/}"
  base="$(basename "$f")"
  case "$base" in
    *-release) idx="$(index_of "etc/$base")" ;;
    *) idx=0 ;; # os-release samples, named after the distribution
  esac
  { printf "\\$(printf '%03o' "$idx")"; cat "$f"; } > "$out/os_detect/${rel//\//__}"
  # The same content as usr/lib/os-release beside a Debian version file, to reach the
  # precedence and refinement rules.
  if [[ "$idx" == 0 ]]; then
    { printf '\001'; cat "$f"; printf '\377\004'; printf '12.5\n'; } > "$out/os_detect/${rel//\//__}.with-debian_version"
  fi
done < <(samples "$pkgs/os-release")

# version_compare: `<scheme byte>a\0b`, the byte an index into `version::Scheme::ALL`
# (0 dpkg, 1 apk, 2 rpm, 3 PEP 440, 4 SemVer, 5 Maven, 6 NuGet, 7 Pub, 8 Composer,
# 9 RubyGems, 10 CRAN, 11 Hackage); one
# seed per comparison line of the version vectors (bounded: the generated files
# have thousands of near-identical lines).
mkdir -p "$out/version_compare"
vectors() { # ECOSYSTEM_BYTE DIR
  local eco="$1" dir="$2" f n line a op b
  [[ -d "$dir" ]] || return 0
  while read -r f; do
    n=0
    while IFS= read -r line && (( n < 200 )); do
      line="${line%%#*}"
      read -r a op b _ <<< "$line" || true
      [[ -n "${b:-}" && "$op" =~ ^[\<\>=]$ ]] || continue
      n=$((n + 1))
      printf "\\$(printf '%03o' "$eco")%s\\0%s" "$a" "$b" > "$out/version_compare/$(basename "$dir")-$(basename "$f" .txt)-$n"
    done < "$f"
  done < <(find "$dir" -type f \( -name '*.txt' -o -name '*.data' \) | sort)
}
vectors 0 "$shared/versions/debian"
vectors 1 "$shared/versions/alpine"
vectors 2 "$shared/versions/rpm"
vectors 3 "$shared/versions/pypi"
vectors 4 "$shared/versions/semver"
vectors 5 "$shared/versions/maven"
vectors 6 "$shared/versions/nuget"
vectors 7 "$shared/versions/pub"
vectors 8 "$shared/versions/packagist"
vectors 9 "$shared/versions/rubygems"
vectors 10 "$shared/versions/cran"
vectors 11 "$shared/versions/hackage"

# layer_merge decodes its input with `arbitrary`; small real files still give it
# useful bytes (and the target embeds valid samples of each format itself).
mkdir -p "$out/layer_merge"
for f in "$pkgs/dpkg/osv-scalibr/dpkg/single" "$pkgs/apk/syft/single" \
  "$pkgs/os-release/trivy-os-release/alpine" "$pkgs/rpm/mariner-distroless-manifest/container-manifest-2"; do
  [[ -f "$f" ]] && seed layer_merge "$f"
done

# advisory_match: real OSV records (AlmaLinux's own, osv.dev's misc set), each
# prefixed with the byte that picks the image's distro (0 Debian, 1 Alpine, 2 Alma).
advisories="$shared/advisories"
mkdir -p "$out/advisory_match"
i=0
while read -r f; do
  name="advisory__$(basename "$f")"
  { printf "\\x0$((i % 3))"; cat "$f"; } > "$out/advisory_match/$name"
  i=$((i + 1))
done < <(find "$advisories/almalinux-osv" "$advisories/osv-misc" -type f -name '*.json' | sort | head -n 300)

# vex_policy: the hand-written OpenVEX documents of the policy tests.
mkdir -p "$out/vex_policy"
for f in "$here/../tests/fixtures/policy/vex/"*.json; do
  [[ -f "$f" ]] && cp "$f" "$out/vex_policy/fixture__$(basename "$f")"
done

for d in "$out"/*/; do
  printf '%-16s %5d seeds\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done

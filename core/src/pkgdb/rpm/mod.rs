//! rpm databases in all three on-disk formats, plus CBL-Mariner's distroless manifest.
//!
//! Every rpmdb backend stores the same thing: one rpm header blob per installed
//! package ([`header`]). The backends only differ in how they file the blobs away:
//!
//! * [`sqlite`]: `rpmdb.sqlite` (rpm ≥ 4.16, Fedora ≥ 33, RHEL ≥ 9, CBL-Mariner 2),
//!   optionally with its write-ahead log;
//! * [`bdb`]: BerkeleyDB hash `Packages` (RHEL ≤ 8, CentOS, Amazon Linux 2);
//! * [`ndb`]: rpm's own `Packages.db` (SUSE since SLE 15 SP3).
//!
//! All readers are written from the format specifications, in safe Rust without C
//! (the core is compiled to wasm), and treat the file as hostile: offsets are bounds
//! checked, chains and tree descents are cycle-checked, counts are validated before
//! allocating, and any inconsistency is a one-line [`CoreError::CorruptDatabase`].
//!
//! Field conventions (documented because they decide what the scanner reports):
//!
//! * `version` is `[epoch:]version-release`, with the epoch printed whenever the EPOCH
//!   tag exists, even when it is 0 — exactly as `rpm -q --qf '%{EVR}'` prints it;
//!   `epoch` is `Some` whenever the tag exists (go-rpmdb's `*int`, which the peers'
//!   expected data reports as `null` only when the tag is absent).
//! * `source_name`/`source_version` come from the SOURCERPM file name
//!   (`name-version-release.src.rpm`; `source_version` is `version-release`); when
//!   SOURCERPM is absent or unparseable they fall back to the binary's name and
//!   `version-release`.
//! * `gpg-pubkey` entries (imported signing keys, which rpm stores as pseudo-packages
//!   without ARCH or SOURCERPM) are skipped: they are not software, carry no files and
//!   can never match an advisory; reporting them would only add noise to the
//!   inventory.
//! * `digest` is `md5:<hex>` of SIGMD5 (what Trivy reports), else `sha256:<hex>` from
//!   SHA256HEADER.
//! * `files` joins `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (or takes OLDFILENAMES of
//!   pre-4.0 headers), strips the leading `/`, sorts and de-duplicates.
use crate::{CoreError, model::Package};

pub mod bdb;
pub mod header;
pub mod manifest;
pub mod ndb;
pub mod sqlite;

use header::*;

/// The kind name used in [`CoreError::CorruptDatabase`] messages.
const KIND: &str = "rpm";

/// Parses an rpm SQLite database (`rpmdb.sqlite`), applying the committed frames of
/// its write-ahead log `wal` (`rpmdb.sqlite-wal`) when given.
pub fn parse_sqlite(
    path: &str,
    content: &[u8],
    wal: Option<&[u8]>,
) -> Result<Vec<Package>, CoreError> {
    let blobs =
        sqlite::package_blobs(content, wal).map_err(|r| CoreError::corrupt(KIND, path, r))?;
    packages_from_blobs(path, blobs.iter().map(|(rowid, b)| (*rowid, b.as_slice())))
}

/// Parses a BerkeleyDB hash `Packages` database.
pub fn parse_bdb(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    let blobs = bdb::package_blobs(content).map_err(|r| CoreError::corrupt(KIND, path, r))?;
    packages_from_blobs(
        path,
        blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (i as i64, b.as_slice())),
    )
}

/// Parses an NDB `Packages.db` database.
pub fn parse_ndb(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    let blobs = ndb::package_blobs(content).map_err(|r| CoreError::corrupt(KIND, path, r))?;
    packages_from_blobs(path, blobs.iter().map(|(idx, b)| (i64::from(*idx), *b)))
}

/// CBL-Mariner distroless `var/lib/rpmmanifest/container-manifest-2`.
pub fn parse_manifest(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    let mut packages = manifest::parse(content).map_err(|r| CoreError::corrupt(KIND, path, r))?;
    packages.sort();
    Ok(packages)
}

/// Reads one stored rpm header blob (found at `path`, e.g. an rpmdb record or the
/// header of an `.rpm` file after its lead and signature) into a [`Package`].
///
/// Returns the package even for `gpg-pubkey` pseudo-packages; the database readers
/// skip those (see the module documentation).
pub fn parse_header(path: &str, blob: &[u8]) -> Result<Package, CoreError> {
    header_to_package(blob).map_err(|r| CoreError::corrupt(KIND, path, r))
}

/// [`parse_header`] with the bare reason as error; callers add path and record.
fn header_to_package(blob: &[u8]) -> Result<Package, String> {
    let h = Header::parse(blob)?;
    let name = h
        .string(TAG_NAME)?
        .filter(|s| !s.is_empty())
        .ok_or("header has no NAME")?;
    let version = h.string(TAG_VERSION)?.ok_or("header has no VERSION")?;
    let release = h.string(TAG_RELEASE)?.unwrap_or_default();
    let epoch = h.int32_array(TAG_EPOCH)?.and_then(|v| v.first().copied());
    let vr = if release.is_empty() {
        version.clone()
    } else {
        format!("{version}-{release}")
    };
    let full = match epoch {
        Some(e) => format!("{e}:{vr}"),
        None => vr.clone(),
    };
    let source_rpm = non_empty(h.string(TAG_SOURCERPM)?);
    let (source_name, source_version) = source_rpm
        .as_deref()
        .and_then(split_source_rpm)
        .unwrap_or_else(|| (name.clone(), vr.clone()));
    let digest = if let Some(md5) = h.bin(TAG_SIGMD5)?.filter(|b| !b.is_empty()) {
        Some(format!("md5:{}", hex(md5)))
    } else {
        non_empty(h.string(TAG_SHA256HEADER)?).map(|s| format!("sha256:{s}"))
    };
    Ok(Package {
        ecosystem: None,
        name,
        version: full,
        epoch,
        upstream_version: Some(version),
        release: Some(release).filter(|r| !r.is_empty()),
        arch: non_empty(h.string(TAG_ARCH)?),
        source_name,
        source_version,
        source_rpm,
        modularity_label: non_empty(h.string(TAG_MODULARITYLABEL)?),
        maintainer: None,
        vendor: non_empty(h.string(TAG_VENDOR)?),
        licenses: non_empty(h.string(TAG_LICENSE)?).into_iter().collect(),
        digest,
        files: files(&h, blob.len())?,
    })
}

/// Turns `(record id, header blob)` pairs into sorted packages, skipping `gpg-pubkey`.
fn packages_from_blobs<'a>(
    path: &str,
    blobs: impl Iterator<Item = (i64, &'a [u8])>,
) -> Result<Vec<Package>, CoreError> {
    let mut out = Vec::new();
    for (id, blob) in blobs {
        let p = header_to_package(blob)
            .map_err(|r| CoreError::corrupt(KIND, path, format!("package record {id}: {r}")))?;
        if p.name != "gpg-pubkey" {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty() && s != "(none)")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits `name-version-release.src.rpm` (or `.nosrc.rpm`) into
/// `(name, "version-release")`. `None` when the file name has not that shape.
pub fn split_source_rpm(file: &str) -> Option<(String, String)> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))
        .unwrap_or(file.strip_suffix(".rpm")?);
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

/// How many bytes of joined paths a header may expand to, per byte of header. Each
/// file costs a real header far more than this ratio allows (its basename, index,
/// digest, size, mode, owner… entries), but DIRNAMES × BASENAMES joins are
/// quadratic: one long directory name shared by many one-byte basenames would
/// otherwise expand a 1 MiB header into a hundred gigabytes of paths.
const MAX_FILE_LIST_EXPANSION: usize = 16;

/// The file list of a header, relative to the root, sorted and de-duplicated.
/// `blob_len` bounds the bytes of paths it may produce (see [`MAX_FILE_LIST_EXPANSION`]).
fn files(h: &Header<'_>, blob_len: usize) -> Result<Vec<String>, String> {
    let limit = blob_len.saturating_mul(MAX_FILE_LIST_EXPANSION);
    let mut total: usize = 0;
    let basenames = h.string_array(TAG_BASENAMES)?;
    let mut out: Vec<String> = if basenames.is_empty() {
        h.string_array(TAG_OLDFILENAMES)?
            .iter()
            .map(|f| f.trim_start_matches('/').to_string())
            .collect()
    } else {
        let dirnames = h.string_array(TAG_DIRNAMES)?;
        let indexes = h.int32_array(TAG_DIRINDEXES)?.unwrap_or_default();
        if indexes.len() != basenames.len() {
            return Err(format!(
                "{} BASENAMES but {} DIRINDEXES",
                basenames.len(),
                indexes.len()
            ));
        }
        let mut out = Vec::with_capacity(basenames.len());
        for (base, &di) in basenames.iter().zip(&indexes) {
            let dir = dirnames.get(di as usize).ok_or_else(|| {
                format!(
                    "DIRINDEXES entry {di} is beyond the {} DIRNAMES",
                    dirnames.len()
                )
            })?;
            total = total.saturating_add(dir.len() + base.len());
            if total > limit {
                return Err(format!(
                    "file list expands to more than {limit} bytes of paths from a {blob_len}-byte header"
                ));
            }
            let full = format!("{dir}{base}");
            out.push(full.trim_start_matches('/').to_string());
        }
        out
    };
    out.retain(|f| !f.is_empty());
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::header::tests::build;
    use super::*;

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm"),
            Some(("util-linux".into(), "2.32.1-42.el8_8".into()))
        );
        assert_eq!(split_source_rpm("x-1.nosrc.rpm"), None);
        assert_eq!(split_source_rpm("garbage"), None);
    }

    #[test]
    fn header_fields() {
        let blob = build(
            &[
                (TAG_NAME, 6, 1, s("libuuid")),
                (TAG_VERSION, 6, 1, s("2.32.1")),
                (TAG_RELEASE, 6, 1, s("42.el8")),
                (TAG_EPOCH, 4, 1, 0u32.to_be_bytes().to_vec()),
                (TAG_ARCH, 6, 1, s("x86_64")),
                (TAG_SOURCERPM, 6, 1, s("util-linux-2.32.1-42.el8.src.rpm")),
                (TAG_SIGMD5, 7, 2, vec![0xab, 0x01]),
                (
                    TAG_DIRINDEXES,
                    4,
                    3,
                    [1u32, 0, 1].iter().flat_map(|v| v.to_be_bytes()).collect(),
                ),
                (TAG_BASENAMES, 8, 3, [s("b"), s("a"), s("b")].concat()),
                (TAG_DIRNAMES, 8, 2, [s("/usr/"), s("/lib/")].concat()),
            ],
            true,
        );
        let p = header_to_package(&blob).unwrap();
        assert_eq!(p.version, "0:2.32.1-42.el8");
        assert_eq!(p.epoch, Some(0));
        assert_eq!(
            (p.source_name.as_str(), p.source_version.as_str()),
            ("util-linux", "2.32.1-42.el8")
        );
        assert_eq!(p.digest.as_deref(), Some("md5:ab01"));
        assert_eq!(p.files, vec!["lib/b", "usr/a"]);
    }

    #[test]
    fn old_filenames_and_bad_dirindex() {
        let blob = build(
            &[
                (TAG_NAME, 6, 1, s("old")),
                (TAG_VERSION, 6, 1, s("1")),
                (TAG_OLDFILENAMES, 8, 2, [s("/z"), s("/a")].concat()),
            ],
            false,
        );
        let p = header_to_package(&blob).unwrap();
        assert_eq!(p.files, vec!["a", "z"]);
        assert_eq!(p.version, "1");
        assert_eq!(p.source_name, "old");
        let blob = build(
            &[
                (TAG_NAME, 6, 1, s("x")),
                (TAG_VERSION, 6, 1, s("1")),
                (TAG_DIRINDEXES, 4, 1, 9u32.to_be_bytes().to_vec()),
                (TAG_BASENAMES, 8, 1, s("b")),
                (TAG_DIRNAMES, 8, 1, s("/")),
            ],
            false,
        );
        assert!(header_to_package(&blob).unwrap_err().contains("DIRINDEXES"));
    }

    #[test]
    fn file_list_cannot_expand_quadratically() {
        // One 4 KiB directory name shared by 2000 empty basenames: a 14 KiB header
        // that would join into 8 MiB of paths (and 1 MiB headers into 100 GiB).
        let dir = format!("/{}/", "d".repeat(4096));
        let n = 2000;
        let blob = build(
            &[
                (TAG_NAME, 6, 1, s("x")),
                (TAG_VERSION, 6, 1, s("1")),
                (TAG_DIRINDEXES, 4, n, vec![0u8; 4 * n as usize]),
                (TAG_BASENAMES, 8, n, vec![0u8; n as usize]),
                (TAG_DIRNAMES, 8, 1, s(&dir)),
            ],
            false,
        );
        let err = header_to_package(&blob).unwrap_err();
        assert!(err.contains("file list expands"), "{err}");
        // A header whose paths are of ordinary length is unaffected.
        let blob = build(
            &[
                (TAG_NAME, 6, 1, s("x")),
                (TAG_VERSION, 6, 1, s("1")),
                (TAG_DIRINDEXES, 4, 2, vec![0u8; 8]),
                (TAG_BASENAMES, 8, 2, [s("a"), s("b")].concat()),
                (TAG_DIRNAMES, 8, 1, s(&dir)),
            ],
            false,
        );
        assert_eq!(header_to_package(&blob).unwrap().files.len(), 2);
    }
}

//! Per-layer analysis: one pass over a layer's entries yields its [`LayerFacts`].
//!
//! The host walks the layer tar natively (decompression and digest checks are its
//! job, they are the floor of any scan) and hands the core the metadata of every entry
//! plus the content of the few files [`Interest`] names. Everything that *interprets*
//! image content happens here, inside the sandbox.
use crate::{
    ANALYZER_VERSION, CoreError,
    model::{EntryKind, EntryMeta, FileRecord, LayerFacts},
    os, path,
    pkgdb::{self, DbFormat},
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Marker prefix of an OCI/AUFS whiteout file: `.wh.<name>` deletes `<name>`.
const WHITEOUT_PREFIX: &str = ".wh.";
/// A file of this name makes its directory opaque: lower layers' content is hidden.
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// AUFS metadata entries (`.wh..wh.plnk`, `.wh..wh.aufs`) that are neither files nor whiteouts.
const AUFS_META_PREFIX: &str = ".wh..wh.";
/// Release files are a few hundred bytes; anything bigger is not a release file we
/// should hold on to.
const MAX_OS_FILE: usize = 64 << 10;
/// The SQLite write-ahead log that rpm ≥ 4.16 keeps beside `rpmdb.sqlite`.
const SQLITE_WAL_SUFFIX: &str = "-wal";

/// Which files the analyzers need the content of.
///
/// It is plain data (serialized to the host) so that the host can decide natively,
/// while it streams a layer, which entries to copy into the sandbox: everything else
/// crosses the boundary as metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// Largest file the analyzers accept. A wanted file above it is an error, never
    /// silently skipped: skipping a package database would report a partial inventory.
    pub max_file_size: u64,
    /// Exact normalized paths.
    pub paths: BTreeSet<String>,
    /// Directories whose direct children are all wanted.
    pub children_of: BTreeSet<String>,
}

impl Interest {
    /// The interest of the current analyzer set.
    pub fn standard() -> Self {
        let mut paths: BTreeSet<String> = os::OS_FILES.iter().map(|p| p.to_string()).collect();
        for p in [
            "var/lib/dpkg/status",
            "lib/apk/db/installed",
            "var/lib/rpmmanifest/container-manifest-2",
        ] {
            paths.insert(p.to_string());
        }
        for dir in ["var/lib/rpm", "usr/lib/sysimage/rpm"] {
            for name in [
                "Packages",
                "Packages.db",
                "rpmdb.sqlite",
                "rpmdb.sqlite-wal",
            ] {
                paths.insert(format!("{dir}/{name}"));
            }
        }
        let children_of = ["var/lib/dpkg/status.d".to_string()].into_iter().collect();
        // 512 MiB: larger than any real package database, small enough that a hostile
        // layer cannot make the host buffer gigabytes.
        Interest {
            max_file_size: 512 << 20,
            paths,
            children_of,
        }
    }

    /// True when the analyzers need the content of the file at `path` (normalized).
    pub fn wants(&self, path: &str) -> bool {
        self.paths.contains(path) || self.children_of.contains(path::parent(path))
    }
}

/// Collects one layer's entries and wanted files, and turns them into [`LayerFacts`].
pub struct LayerAnalyzer {
    facts: LayerFacts,
    interest: Interest,
    /// rpm SQLite databases and their WAL files wait for `finish`, because the WAL may
    /// come before or after the database in the tar.
    sqlite_pending: BTreeMap<String, Vec<u8>>,
}

impl LayerAnalyzer {
    pub fn new(diff_id: &str) -> Self {
        LayerAnalyzer {
            facts: LayerFacts {
                diff_id: diff_id.to_string(),
                analyzer_version: ANALYZER_VERSION,
                ..Default::default()
            },
            interest: Interest::standard(),
            sqlite_pending: BTreeMap::new(),
        }
    }

    /// Records the metadata of entries, in tar order. Every entry of the layer is
    /// passed here, wanted or not; a later entry for the same path replaces an
    /// earlier one, as extraction would.
    pub fn add_entries(&mut self, entries: &[EntryMeta]) -> Result<(), CoreError> {
        for entry in entries {
            self.add_entry(entry);
        }
        Ok(())
    }

    fn add_entry(&mut self, entry: &EntryMeta) {
        let normalized = path::normalize(&entry.path);
        if normalized.is_empty() {
            return; // the root directory itself
        }
        let name = path::file_name(&normalized);
        if name == OPAQUE_MARKER {
            self.facts
                .opaque_dirs
                .push(path::parent(&normalized).to_string());
            return;
        }
        if name.starts_with(AUFS_META_PREFIX) {
            return;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                return;
            }
            let parent = path::parent(&normalized);
            let target = if parent.is_empty() {
                hidden.to_string()
            } else {
                format!("{parent}/{hidden}")
            };
            self.facts.whiteouts.push(target);
            return;
        }
        self.facts.files.insert(
            normalized,
            FileRecord {
                kind: entry.kind,
                size: entry.size,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
                link_target: entry.link_target.clone(),
            },
        );
    }

    /// Passes the content of a wanted regular file (path as in the tar).
    pub fn add_file(&mut self, raw_path: &str, content: &[u8]) -> Result<(), CoreError> {
        let path = path::normalize(raw_path);
        if content.len() as u64 > self.interest.max_file_size {
            return Err(CoreError::FileTooLarge {
                path,
                size: content.len() as u64,
                limit: self.interest.max_file_size,
            });
        }
        if os::OS_FILES.contains(&path.as_str()) {
            let text =
                String::from_utf8_lossy(&content[..content.len().min(MAX_OS_FILE)]).into_owned();
            self.facts.os_files.insert(path.clone(), text);
        }
        if path.ends_with(SQLITE_WAL_SUFFIX)
            || pkgdb::format_for_path(&path) == Some(DbFormat::RpmSqlite)
        {
            self.sqlite_pending.insert(path, content.to_vec());
            return Ok(());
        }
        if let Some(format) = pkgdb::format_for_path(&path) {
            let db = pkgdb::parse(format, &path, content)?;
            self.facts.package_dbs.insert(path, db);
        }
        Ok(())
    }

    /// Ends the layer: parses what waited for its companions and sorts the facts.
    pub fn finish(mut self) -> Result<LayerFacts, CoreError> {
        let pending = std::mem::take(&mut self.sqlite_pending);
        for (path, content) in &pending {
            if pkgdb::format_for_path(path) != Some(DbFormat::RpmSqlite) {
                continue; // a WAL file; read together with its database below
            }
            let wal = pending
                .get(&format!("{path}{SQLITE_WAL_SUFFIX}"))
                .map(Vec::as_slice);
            let db = pkgdb::parse_rpm_sqlite(path, content, wal)?;
            self.facts.package_dbs.insert(path.clone(), db);
        }
        // De-duplicated here, once, rather than on every push: a per-push search
        // would make a layer of n whiteout entries cost n² comparisons.
        self.facts.whiteouts.sort();
        self.facts.whiteouts.dedup();
        self.facts.opaque_dirs.sort();
        self.facts.opaque_dirs.dedup();
        Ok(self.facts)
    }
}

/// Convenience for tests and tools: the facts of a layer given as (entry, content) pairs.
pub fn analyze_entries<'a>(
    diff_id: &str,
    entries: impl IntoIterator<Item = (EntryMeta, Option<&'a [u8]>)>,
) -> Result<LayerFacts, CoreError> {
    let mut analyzer = LayerAnalyzer::new(diff_id);
    for (meta, content) in entries {
        let wanted =
            meta.kind == EntryKind::File && analyzer.interest.wants(&path::normalize(&meta.path));
        let path = meta.path.clone();
        analyzer.add_entries(std::slice::from_ref(&meta))?;
        if let (true, Some(content)) = (wanted, content) {
            analyzer.add_file(&path, content)?;
        }
    }
    analyzer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> EntryMeta {
        EntryMeta {
            path: path.into(),
            kind: EntryKind::File,
            size: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
            link_target: None,
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs_are_recorded_not_listed() {
        let facts = analyze_entries(
            "sha256:x",
            [
                (file("./etc/.wh.passwd"), None),
                (file("opt/app/.wh..wh..opq"), None),
                (file(".wh.top"), None),
                (file("etc/.wh..wh.plnk"), None),
                (file("etc/hosts"), None),
            ],
        )
        .unwrap();
        assert_eq!(
            facts.whiteouts,
            vec!["etc/passwd".to_string(), "top".to_string()]
        );
        assert_eq!(facts.opaque_dirs, vec!["opt/app".to_string()]);
        assert_eq!(facts.files.keys().collect::<Vec<_>>(), vec!["etc/hosts"]);
    }

    #[test]
    fn many_whiteouts_are_deduplicated_in_linear_time() {
        // 100 000 distinct whiteouts, each twice: quadratic de-duplication would take
        // minutes here; sorting takes milliseconds.
        let n = 100_000;
        let mut a = LayerAnalyzer::new("sha256:x");
        for _ in 0..2 {
            let entries: Vec<EntryMeta> = (0..n)
                .map(|i| file(&format!("d/.wh.f{i}")))
                .chain([file("o/.wh..wh..opq")])
                .collect();
            a.add_entries(&entries).unwrap();
        }
        let facts = a.finish().unwrap();
        assert_eq!(facts.whiteouts.len(), n);
        assert!(facts.whiteouts.is_sorted());
        assert_eq!(facts.opaque_dirs, vec!["o".to_string()]);
    }

    #[test]
    fn interest_covers_databases_and_release_files() {
        let i = Interest::standard();
        for p in [
            "var/lib/dpkg/status",
            "var/lib/dpkg/status.d/base-files",
            "lib/apk/db/installed",
            "var/lib/rpm/Packages",
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            "etc/os-release",
        ] {
            assert!(i.wants(p), "{p}");
        }
        assert!(!i.wants("usr/bin/ls"));
        assert!(!i.wants("var/lib/dpkg/status.d/x/y"));
    }

    #[test]
    fn oversized_wanted_file_is_an_error() {
        let mut a = LayerAnalyzer::new("sha256:x");
        a.interest.max_file_size = 4;
        let err = a.add_file("etc/os-release", b"ID=debian\n").unwrap_err();
        assert!(matches!(err, CoreError::FileTooLarge { .. }), "{err}");
    }
}

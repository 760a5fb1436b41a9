//! What a scan reads: [`VulnDb`].
//!
//! The file is opened read-only and `immutable`: an update never modifies a live
//! database, it renames a new file over it, so an open handle keeps reading the file
//! it opened (same inode) and needs no locks. Opening checks, in this order, that the
//! file is an SQLite database of ours (application id), of this schema version,
//! structurally sound (`PRAGMA quick_check`), and that the metadata checksum and the
//! row counts it covers agree; each failure is one clear error that tells the user
//! to run `customs db update`. Record blobs carry a zstd checksum that is verified
//! when they are read. The structural check of the live database is skipped when the
//! file is the very one that last passed it (see `vulndb/verified.rs`).
//!
//! Lookups are one prepared statement per (key, name) pair on the `affected` primary
//! key, then one per distinct record; for the ~2,000 packages of a large image this
//! is a few thousand B-tree probes.
use super::store::{self, APPLICATION_ID, SCHEMA_VERSION, StoreError, err};
use customs_core::model::{OsInfo, ReportPackage};
use customs_core::vuln::osv::Vulnerability;
use customs_core::vuln::{self, AdvisoryDb, PackageQuery};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Per-export facts of a database: the provenance row the update stored.
pub use super::store::EcosystemRow as EcosystemStatus;

/// What `customs db status` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbStatus {
    pub path: String,
    pub schema_version: u32,
    /// Unix seconds.
    pub built_at: i64,
    pub build_id: String,
    pub generator: String,
    /// Mirrors the update used, in order.
    pub sources: Vec<String>,
    /// When an update last confirmed the data current (Unix seconds; the build time
    /// if no later check).
    pub checked_at: i64,
    pub records: u64,
    pub entries: u64,
    pub ecosystems: Vec<EcosystemStatus>,
}

impl DbStatus {
    /// Seconds since the database was built.
    pub fn age_secs(&self, now: i64) -> i64 {
        now.saturating_sub(self.built_at).max(0)
    }

    /// Records of all exports that failed to parse.
    pub fn failed(&self) -> u64 {
        self.ecosystems.iter().map(|e| e.failed).sum()
    }
}

/// An open database.
pub struct VulnDb {
    conn: Connection,
    path: PathBuf,
    status: DbStatus,
    fully_checked: bool,
}

/// How much checking opening a database does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    /// Always the full structural check.
    Full,
    /// The full check unless this very file passed it before; a pass is remembered.
    /// Only for the live database, which is replaced by rename and never edited.
    Remembered,
}

impl std::fmt::Debug for VulnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnDb")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why a database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no vulnerability database at {0}; run `customs db update`")]
    Missing(String),
    #[error(
        "vulnerability database {path} is unusable ({detail}); run `customs db update` to rebuild it"
    )]
    Unusable { path: String, detail: String },
}

impl OpenError {
    pub fn is_missing(&self) -> bool {
        matches!(self, OpenError::Missing(_))
    }
}

fn unusable(path: &Path, detail: impl std::fmt::Display) -> OpenError {
    OpenError::Unusable {
        path: path.display().to_string(),
        detail: super::one_line(&detail.to_string(), 300),
    }
}

impl VulnDb {
    /// Opens the database of the cache directory `cache_root` (`<cache>/vulndb/osv.db`),
    /// as a scan does: the structural check runs once per file, not once per scan.
    pub fn open(cache_root: &Path) -> Result<VulnDb, OpenError> {
        Self::open_checked(&super::db_path(cache_root), Integrity::Remembered)
    }

    /// Opens and fully verifies a database file.
    pub fn open_file(path: &Path) -> Result<VulnDb, OpenError> {
        Self::open_checked(path, Integrity::Full)
    }

    /// Opens and verifies a database file, the structural check as `integrity` says.
    pub fn open_checked(path: &Path, integrity: Integrity) -> Result<VulnDb, OpenError> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(unusable(path, "not a regular file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OpenError::Missing(path.display().to_string()));
            }
            Err(e) => return Err(unusable(path, e)),
        }
        let conn = Connection::open_with_flags(
            store::uri(path, "mode=ro&immutable=1"),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unusable(path, e))?;
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| unusable(path, e))?;
        if app != APPLICATION_ID {
            return Err(unusable(path, "not a Customs vulnerability database"));
        }
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| unusable(path, e))?;
        if version != SCHEMA_VERSION {
            return Err(unusable(
                path,
                format!("schema version {version}, this Customs reads version {SCHEMA_VERSION}"),
            ));
        }
        let fully_checked = integrity == Integrity::Full || !super::verified::is_remembered(path);
        if fully_checked {
            let check: String = conn
                .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
                .map_err(|e| {
                    super::verified::forget(path);
                    unusable(path, e)
                })?;
            if check != "ok" {
                super::verified::forget(path);
                return Err(unusable(path, format!("integrity check failed: {check}")));
            }
        }
        let status = read_status(&conn, path).map_err(|e| {
            super::verified::forget(path);
            unusable(path, e)
        })?;
        if fully_checked && integrity == Integrity::Remembered {
            super::verified::remember(path);
        }
        Ok(VulnDb {
            conn,
            path: path.to_path_buf(),
            status,
            fully_checked,
        })
    }

    /// Whether opening ran the full structural check (rather than trusting the memo of
    /// an earlier one).
    pub fn fully_checked(&self) -> bool {
        self.fully_checked
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schema version, build time, sources and per-ecosystem counts.
    pub fn status(&self) -> &DbStatus {
        &self.status
    }

    /// The records with an affected entry under any (normalized ecosystem key,
    /// package name) of `keys`, each once, sorted by id.
    pub fn lookup<K: AsRef<str>, N: AsRef<str>>(
        &self,
        keys: &[(K, N)],
    ) -> Result<Vec<Vulnerability>, StoreError> {
        self.rids_under(keys).and_then(|r| self.records_by_rid(r))
    }

    /// The rowids of the records with an affected entry under any of `keys`.
    fn rids_under<K: AsRef<str>, N: AsRef<str>>(
        &self,
        keys: &[(K, N)],
    ) -> Result<BTreeSet<i64>, StoreError> {
        let e = |x: rusqlite::Error| err(&self.path, x);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT rid FROM affected WHERE key = ?1 AND name = ?2")
            .map_err(e)?;
        let mut rids = BTreeSet::new();
        for (k, n) in keys {
            let rows = stmt
                .query_map([k.as_ref(), n.as_ref()], |r| r.get::<_, i64>(0))
                .map_err(e)?;
            for rid in rows {
                rids.insert(rid.map_err(e)?);
            }
        }
        Ok(rids)
    }

    /// The records whose own id is one of `ids` (not records that merely alias it),
    /// sorted by id.
    pub fn by_ids<S: AsRef<str>>(&self, ids: &[S]) -> Result<Vec<Vulnerability>, StoreError> {
        self.rids_for(ids, "SELECT rid FROM ids WHERE id = ?1 AND own = 1")
            .and_then(|r| self.records_by_rid(r))
    }

    /// The records that list one of `ids` among their aliases or upstream ids, sorted
    /// by id (e.g. every distro advisory of a CVE).
    pub fn referencing<S: AsRef<str>>(&self, ids: &[S]) -> Result<Vec<Vulnerability>, StoreError> {
        self.rids_for(ids, "SELECT rid FROM ids WHERE id = ?1 AND own = 0")
            .and_then(|r| self.records_by_rid(r))
    }

    fn rids_for<S: AsRef<str>>(&self, ids: &[S], sql: &str) -> Result<BTreeSet<i64>, StoreError> {
        let e = |x: rusqlite::Error| err(&self.path, x);
        let mut stmt = self.conn.prepare_cached(sql).map_err(e)?;
        let mut out = BTreeSet::new();
        for id in ids {
            for rid in stmt
                .query_map([id.as_ref()], |r| r.get::<_, i64>(0))
                .map_err(e)?
            {
                out.insert(rid.map_err(e)?);
            }
        }
        Ok(out)
    }

    fn records_by_rid(&self, rids: BTreeSet<i64>) -> Result<Vec<Vulnerability>, StoreError> {
        let mut out = self.stored_records(&rids, store::decode_record)?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// (id, JSON text) of the records `rids`.
    fn record_texts(&self, rids: &BTreeSet<i64>) -> Result<Vec<(String, String)>, StoreError> {
        self.stored_records(rids, |id, size, blob| {
            store::decode_record_text(id, size, blob).map(|text| (id.to_string(), text))
        })
    }

    /// Reads the records `rids` and decodes each with `decode(id, size, blob)`.
    fn stored_records<T>(
        &self,
        rids: &BTreeSet<i64>,
        decode: impl Fn(&str, i64, &[u8]) -> Result<T, String>,
    ) -> Result<Vec<T>, StoreError> {
        let e = |x: rusqlite::Error| err(&self.path, x);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, size, json FROM records WHERE rid = ?1")
            .map_err(e)?;
        let mut out = Vec::with_capacity(rids.len());
        for rid in rids {
            let row: Option<(String, i64, Vec<u8>)> = stmt
                .query_row([rid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(e)?;
            let Some((id, size, blob)) = row else {
                return Err(err(
                    &self.path,
                    format!("index names record #{rid}, which is missing"),
                ));
            };
            out.push(decode(&id, size, &blob).map_err(|m| err(&self.path, m))?);
        }
        Ok(out)
    }

    /// The in-memory index for matching `packages` of an image whose OS is `os`:
    /// every record under the scan's lookup keys, plus the records those reference
    /// by alias/upstream id (for severity and titles).
    pub fn advisory_db(
        &self,
        packages: &[ReportPackage],
        os: &OsInfo,
    ) -> Result<AdvisoryDb, StoreError> {
        let queries: Vec<PackageQuery<'_>> = packages.iter().map(PackageQuery::from).collect();
        let keys: Vec<(String, String)> = vuln::lookup_requests(&queries, os).into_iter().collect();
        let mut db = AdvisoryDb::new();
        for r in self.lookup(&keys)? {
            db.insert(r);
        }
        let missing: Vec<String> = db.missing_references().into_iter().collect();
        for r in self.by_ids(&missing)? {
            db.insert(r);
        }
        Ok(db)
    }
}

impl VulnDb {
    /// The records (OSV JSON text each) the core needs to match `packages` of an image
    /// whose OS is `os`: every record under the scan's lookup keys, plus the records
    /// those name as aliases or upstream ids (for severity and titles). The same
    /// selection as [`VulnDb::advisory_db`], without parsing: the records are parsed
    /// by the core, inside the sandbox. Sorted by id.
    pub fn advisory_records_json(
        &self,
        packages: &[ReportPackage],
        os: &OsInfo,
    ) -> Result<Vec<String>, StoreError> {
        let queries: Vec<PackageQuery<'_>> = packages.iter().map(PackageQuery::from).collect();
        let keys: Vec<(String, String)> = vuln::lookup_requests(&queries, os).into_iter().collect();
        let rids = self.rids_under(&keys)?;
        let mut out = self.record_texts(&rids)?;
        // The ids those records name (aliases, upstream) whose own records are not
        // loaded yet. Read from the JSON with a two-field view: the `ids` table is
        // keyed by id, so asking it by record would scan it whole for every record.
        let own: BTreeSet<&str> = out.iter().map(|(id, _)| id.as_str()).collect();
        let mut missing = BTreeSet::new();
        for (id, text) in &out {
            let refs: References = serde_json::from_str(text).map_err(|e| {
                err(
                    &self.path,
                    format!("record {id}: {}", super::one_line(&e.to_string(), 200)),
                )
            })?;
            missing.extend(
                refs.aliases
                    .into_iter()
                    .chain(refs.upstream)
                    .filter(|r| !own.contains(r.as_str())),
            );
        }
        let missing: Vec<String> = missing.into_iter().collect();
        let extra = self.rids_for(&missing, "SELECT rid FROM ids WHERE id = ?1 AND own = 1")?;
        let extra: BTreeSet<i64> = extra.difference(&rids).copied().collect();
        out.extend(self.record_texts(&extra)?);
        out.sort();
        Ok(out.into_iter().map(|(_, text)| text).collect())
    }
}

/// The ids a record refers to; every other field is skipped unparsed.
#[derive(serde::Deserialize)]
struct References {
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    upstream: Vec<String>,
}

fn read_status(conn: &Connection, path: &Path) -> Result<DbStatus, String> {
    let mut meta = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT key, value FROM metadata")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(|e| e.to_string())?;
    for row in rows {
        let (k, v) = row.map_err(|e| e.to_string())?;
        meta.insert(k, v);
    }
    let get = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| format!("metadata `{k}` missing"))
    };
    let num = |k: &str| -> Result<i64, String> {
        get(k)?
            .parse::<i64>()
            .map_err(|_| format!("metadata `{k}` is not a number"))
    };
    let stored = get("checksum")?;
    let actual = store::checksum(conn).map_err(|e| e.to_string())?;
    if stored != actual {
        return Err("metadata checksum mismatch".into());
    }
    for (k, n) in store::row_counts(conn).map_err(|e| e.to_string())? {
        if num(k)? != n {
            return Err(format!("table count {k} is {n}, metadata says {}", num(k)?));
        }
    }
    let mut ecosystems = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT name, url, etag, last_modified, sha256, bytes, fetched_at, records, entries, failed
             FROM ecosystems ORDER BY name",
        )
        .map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        ecosystems.push(
            (|| {
                Ok::<_, rusqlite::Error>(EcosystemStatus {
                    name: r.get(0)?,
                    url: r.get(1)?,
                    etag: r.get(2)?,
                    last_modified: r.get(3)?,
                    sha256: r.get(4)?,
                    bytes: n(5)?,
                    fetched_at: r.get(6)?,
                    records: n(7)?,
                    entries: n(8)?,
                    failed: n(9)?,
                })
            })()
            .map_err(|e| e.to_string())?,
        );
    }
    let built_at = num("built_at")?;
    let build_id = get("build_id")?;
    let checked_at = read_checked(path, &build_id)
        .filter(|c| *c > built_at)
        .unwrap_or(built_at);
    Ok(DbStatus {
        path: path.display().to_string(),
        schema_version: SCHEMA_VERSION,
        built_at,
        build_id,
        generator: get("generator")?,
        sources: serde_json::from_str(&get("sources")?)
            .map_err(|_| "metadata `sources` is not a list")?,
        checked_at,
        records: num("count_records")?.max(0) as u64,
        entries: num("count_affected")?.max(0) as u64,
        ecosystems,
    })
}

/// The `osv.db.checked` file beside a database: `<build id> <unix seconds>`, written
/// when an update found every export unchanged.
pub(crate) fn checked_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".checked");
    PathBuf::from(p)
}

/// The confirmation time, if the file is about this build.
fn read_checked(db: &Path, build_id: &str) -> Option<i64> {
    let text = std::fs::read_to_string(checked_path(db)).ok()?;
    if text.len() > 200 {
        return None;
    }
    let mut it = text.split_whitespace();
    (it.next()? == build_id).then_some(())?;
    it.next()?.parse().ok()
}

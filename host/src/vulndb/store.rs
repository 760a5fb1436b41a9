//! The on-disk database: one SQLite file.
//!
//! Why SQLite: a scan needs a few thousand keyed lookups out of hundreds of thousands
//! of entries, cold, in a few milliseconds, without loading the whole database; a
//! B-tree file with prepared statements gives that directly and is readable by
//! several processes at once. It is also a single file, so an update can build a new
//! one beside it and `rename` it over the live one atomically (see [`mod@super::update`]);
//! the file is never modified after that, so readers open it `immutable` (no locks,
//! no journal). SQLite's format is stable, documented and has its own integrity
//! check, which [`super::query::VulnDb::open`] runs. It is compiled into the host
//! (`rusqlite`'s `bundled`), so there is no system dependency; the core stays pure.
//!
//! Tables:
//! - `records(rid, id UNIQUE, source, modified, withdrawn, size, json)`: every OSV
//!   record as received, zstd-compressed with the frame checksum on (so a damaged
//!   blob is detected when read, not parsed into a wrong record);
//! - `affected(key, name, rid)`: one row per (normalized ecosystem, package name) of
//!   every affected entry, the key made with
//!   `customs_core::vuln::ecosystem::normalize`, the same function the scan uses
//!   for its lookup keys;
//! - `ids(id, rid, own)`: each record under its id (`own = 1`) and its aliases and
//!   upstream ids (`own = 0`);
//! - `ecosystems`: per export, where it came from (URL, ETag, Last-Modified, SHA-256,
//!   size, time) and what it held (records, indexed entries, failures);
//! - `failures`: the records that did not parse, by export, entry name and id;
//! - `metadata`: schema version, build time and id, generator, mirrors, row counts,
//!   and a SHA-256 over all of those and the `ecosystems` rows, checked on open.
//!
//! A record id present in several exports (a GHSA affecting npm and PyPI) is stored
//! once; when two copies differ, the one with the later `modified` wins.
use super::ingest::Failure;
use customs_core::vuln::ecosystem;
use customs_core::vuln::osv::{MAX_RECORD_BYTES, Vulnerability};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sha2::{Digest as _, Sha256};
use std::path::Path;
use thiserror::Error;

/// Bumped whenever the tables or their meaning change; a database of another
/// version is rebuilt by `db update` and refused by scans.
pub const SCHEMA_VERSION: u32 = 1;

/// The application id SQLite stores in the file header (`CUSO`), so a random SQLite
/// file in the cache directory is not mistaken for a database of ours.
pub const APPLICATION_ID: i32 = 0x4355_534F;

const SCHEMA: &str = "
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE ecosystems (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT, last_modified TEXT,
    sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, fetched_at INTEGER NOT NULL,
    records INTEGER NOT NULL, entries INTEGER NOT NULL, failed INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE failures (ecosystem TEXT NOT NULL, file TEXT NOT NULL, id TEXT, error TEXT NOT NULL);
CREATE TABLE records (
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    modified TEXT, withdrawn INTEGER NOT NULL, size INTEGER NOT NULL, json BLOB NOT NULL
);
CREATE TABLE affected (key TEXT NOT NULL, name TEXT NOT NULL, rid INTEGER NOT NULL,
    PRIMARY KEY (key, name, rid)) WITHOUT ROWID;
CREATE TABLE ids (id TEXT NOT NULL, rid INTEGER NOT NULL, own INTEGER NOT NULL,
    PRIMARY KEY (id, rid)) WITHOUT ROWID;
";

#[derive(Debug, Error)]
#[error("vulnerability database {path}: {detail}")]
pub struct StoreError {
    pub path: String,
    pub detail: String,
}

pub(crate) fn err(path: &Path, detail: impl std::fmt::Display) -> StoreError {
    StoreError {
        path: path.display().to_string(),
        detail: super::one_line(&detail.to_string(), 400),
    }
}

/// One export's provenance, as stored in `ecosystems` and as `customs db status`
/// reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EcosystemRow {
    pub name: String,
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: String,
    pub bytes: u64,
    pub fetched_at: i64,
    /// Records the export held that parsed.
    pub records: u64,
    /// Affected entries indexed from this export's stored records (set on finish).
    pub entries: u64,
    /// Records that did not parse.
    pub failed: u64,
}

/// Builds a new database file. Nothing is visible to readers until the update
/// renames the finished file into place.
pub struct Builder {
    conn: Connection,
    path: std::path::PathBuf,
    compressor: zstd::bulk::Compressor<'static>,
}

/// `file:` URI for `path` with `query` (`mode=ro&immutable=1`).
pub(crate) fn uri(path: &Path, query: &str) -> String {
    let mut s = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.push('?');
    s.push_str(query);
    s
}

impl Builder {
    /// Creates the schema in a new (empty) file at `path`.
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(path, e))?;
        // The file is private until renamed into place and discarded on any failure,
        // so it needs no journal; durability comes from the fsync before the rename.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};
             {SCHEMA} BEGIN;"
        ))
        .map_err(|e| err(path, e))?;
        let mut compressor = zstd::bulk::Compressor::new(6).map_err(|e| err(path, e))?;
        compressor
            .include_checksum(true)
            .and_then(|()| compressor.include_contentsize(true))
            .map_err(|e| err(path, e))?;
        Ok(Builder {
            conn,
            path: path.to_path_buf(),
            compressor,
        })
    }

    /// Copies the records, index rows, provenance and failures of `ecosystems` from
    /// the database at `old` (exports the server said are unchanged).
    pub fn copy_from(&mut self, old: &Path, ecosystems: &[String]) -> Result<(), StoreError> {
        if ecosystems.is_empty() {
            return Ok(());
        }
        let e =
            |x: rusqlite::Error| err(&self.path, format!("copying from {}: {x}", old.display()));
        // ATTACH cannot run inside a transaction.
        self.conn.execute_batch("COMMIT").map_err(e)?;
        self.conn
            .execute(
                "ATTACH DATABASE ?1 AS old",
                [uri(old, "mode=ro&immutable=1")],
            )
            .map_err(e)?;
        self.conn.execute_batch("BEGIN").map_err(e)?;
        for eco in ecosystems {
            for sql in [
                "INSERT INTO records SELECT * FROM old.records WHERE source = ?1",
                "INSERT INTO affected SELECT a.* FROM old.affected a JOIN old.records r ON r.rid = a.rid WHERE r.source = ?1",
                "INSERT INTO ids SELECT i.* FROM old.ids i JOIN old.records r ON r.rid = i.rid WHERE r.source = ?1",
                "INSERT INTO failures SELECT * FROM old.failures WHERE ecosystem = ?1",
                "INSERT INTO ecosystems SELECT * FROM old.ecosystems WHERE name = ?1",
            ] {
                self.conn.execute(sql, [eco]).map_err(e)?;
            }
        }
        self.conn
            .execute_batch("COMMIT; DETACH DATABASE old; BEGIN")
            .map_err(e)?;
        Ok(())
    }

    /// Stores a record from the export `source`. Returns false when a copy with the
    /// same id and an equal or later `modified` is already stored.
    pub fn insert(
        &mut self,
        source: &str,
        record: &Vulnerability,
        json: &[u8],
    ) -> Result<bool, StoreError> {
        let e = |x: rusqlite::Error| err(&self.path, format!("record {}: {x}", record.id));
        let existing: Option<(i64, Option<String>)> = self
            .conn
            .prepare_cached("SELECT rid, modified FROM records WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([&record.id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(e)?;
        if let Some((rid, modified)) = existing {
            if modified.as_deref() >= record.modified.as_deref() {
                return Ok(false);
            }
            for sql in [
                "DELETE FROM affected WHERE rid = ?1",
                "DELETE FROM ids WHERE rid = ?1",
                "DELETE FROM records WHERE rid = ?1",
            ] {
                self.conn
                    .prepare_cached(sql)
                    .and_then(|mut s| s.execute([rid]))
                    .map_err(e)?;
            }
        }
        let blob = self.compressor.compress(json).map_err(|x| {
            err(
                &self.path,
                format!("record {}: compressing: {x}", record.id),
            )
        })?;
        let withdrawn = record.is_withdrawn();
        self.conn
            .prepare_cached(
                "INSERT INTO records (id, source, modified, withdrawn, size, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![record.id, source, record.modified, withdrawn, json.len() as i64, blob])
            })
            .map_err(e)?;
        let rid = self.conn.last_insert_rowid();
        {
            let mut ids = self
                .conn
                .prepare_cached("INSERT OR IGNORE INTO ids (id, rid, own) VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            ids.execute(params![record.id, rid, 1]).map_err(e)?;
            for alias in record.aliases.iter().chain(&record.upstream) {
                ids.execute(params![alias, rid, 0]).map_err(e)?;
            }
        }
        // A withdrawn record never matches; it stays readable by id only.
        if !withdrawn {
            let mut aff = self
                .conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO affected (key, name, rid) VALUES (?1, ?2, ?3)",
                )
                .map_err(e)?;
            for a in &record.affected {
                if let Some(p) = &a.package {
                    let key = ecosystem::normalize(&p.ecosystem);
                    aff.execute(params![key.as_ref(), p.name, rid]).map_err(e)?;
                }
            }
        }
        Ok(true)
    }

    /// Records an export's provenance (replacing an earlier row of that name).
    pub fn set_ecosystem(&mut self, row: &EcosystemRow) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO ecosystems VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
                params![
                    row.name,
                    row.url,
                    row.etag,
                    row.last_modified,
                    row.sha256,
                    row.bytes as i64,
                    row.fetched_at,
                    row.records as i64,
                    row.failed as i64
                ],
            )
            .map_err(|e| err(&self.path, e))?;
        Ok(())
    }

    /// Records the records of `ecosystem` that did not parse.
    pub fn add_failures(
        &mut self,
        ecosystem: &str,
        failures: &[Failure],
    ) -> Result<(), StoreError> {
        let mut s = self
            .conn
            .prepare_cached(
                "INSERT INTO failures (ecosystem, file, id, error) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(|e| err(&self.path, e))?;
        for f in failures {
            s.execute(params![ecosystem, f.file, f.id, f.error])
                .map_err(|e| err(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes the metadata (with its checksum), commits and closes the file, and
    /// flushes it to disk. Returns the build id.
    pub fn finish(self, sources: &[String], built_at: i64) -> Result<String, StoreError> {
        let path = self.path.clone();
        let e = |x: rusqlite::Error| err(&path, x);
        self.conn
            .execute_batch(
                "UPDATE ecosystems SET entries = (SELECT COUNT(*) FROM affected a JOIN records r ON r.rid = a.rid
                 WHERE r.source = ecosystems.name);",
            )
            .map_err(e)?;
        let build_id = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let pairs = [
            ("schema_version", SCHEMA_VERSION.to_string()),
            ("built_at", built_at.to_string()),
            ("build_id", build_id.clone()),
            (
                "generator",
                concat!("customs ", env!("CARGO_PKG_VERSION")).to_string(),
            ),
            (
                "sources",
                serde_json::to_string(sources).unwrap_or_default(),
            ),
        ];
        for (k, v) in &pairs {
            self.conn
                .execute(
                    "INSERT INTO metadata (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )
                .map_err(e)?;
        }
        let counts = row_counts(&self.conn).map_err(e)?;
        for (k, v) in &counts {
            self.conn
                .execute(
                    "INSERT INTO metadata (key, value) VALUES (?1, ?2)",
                    params![k, v.to_string()],
                )
                .map_err(e)?;
        }
        let sum = checksum(&self.conn).map_err(e)?;
        self.conn
            .execute(
                "INSERT INTO metadata (key, value) VALUES ('checksum', ?1)",
                [sum],
            )
            .map_err(e)?;
        self.conn.execute_batch("COMMIT").map_err(e)?;
        self.conn.close().map_err(|(_, x)| err(&path, x))?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|x| err(&path, format!("syncing: {x}")))?;
        Ok(build_id)
    }
}

/// Row counts kept in the metadata (and so under its checksum).
pub(crate) fn row_counts(conn: &Connection) -> rusqlite::Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for (k, table) in [
        ("count_records", "records"),
        ("count_affected", "affected"),
        ("count_ids", "ids"),
        ("count_failures", "failures"),
    ] {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        out.push((k, n));
    }
    Ok(out)
}

/// SHA-256 over the metadata (except the checksum itself) and the `ecosystems` rows,
/// in key order, each field length-prefixed so no two tables can hash alike.
pub(crate) fn checksum(conn: &Connection) -> rusqlite::Result<String> {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    let mut stmt =
        conn.prepare("SELECT key, value FROM metadata WHERE key <> 'checksum' ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (k, v) = row?;
        field(&k);
        field(&v);
    }
    field("ecosystems");
    let mut stmt = conn.prepare(
        "SELECT name, url, COALESCE(etag, ''), COALESCE(last_modified, ''), sha256, bytes, fetched_at, records, entries, failed
         FROM ecosystems ORDER BY name",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        for i in 0..5 {
            field(&r.get::<_, String>(i)?);
        }
        for i in 5..10 {
            field(&r.get::<_, i64>(i)?.to_string());
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// Decompresses a stored record, checking its size and zstd checksum.
pub(crate) fn decode_record(id: &str, size: i64, blob: &[u8]) -> Result<Vulnerability, String> {
    let json = decompress_record(id, size, blob)?;
    // Straight into the struct (the records were validated when stored; validating
    // again is cheap), without `from_json`'s intermediate `Value`, which would
    // double the cost of the scan's hottest step.
    let record: Vulnerability = serde_json::from_slice(&json)
        .map_err(|e| format!("record {id}: {}", super::one_line(&e.to_string(), 200)))?;
    record.validate().map_err(|e| format!("record {id}: {e}"))?;
    if record.id != id {
        return Err(format!("record {id}: holds record {} instead", record.id));
    }
    Ok(record)
}

/// A stored record's JSON bytes: decompressed (the zstd frame checksum is verified)
/// and of exactly the stored size.
fn decompress_record(id: &str, size: i64, blob: &[u8]) -> Result<Vec<u8>, String> {
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s <= MAX_RECORD_BYTES)
        .ok_or_else(|| format!("record {id}: stored size {size} is out of range"))?;
    // One decompression context per thread: creating one per record cost more than
    // decompressing the record.
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let json = CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        let context = match slot.as_mut() {
            Some(c) => c,
            None => slot
                .insert(zstd::bulk::Decompressor::new().map_err(|e| format!("record {id}: {e}"))?),
        };
        context
            .decompress(blob, size)
            .map_err(|e| format!("record {id}: damaged ({e})"))
    })?;
    if json.len() != size {
        return Err(format!(
            "record {id}: damaged (size {} instead of {size})",
            json.len()
        ));
    }
    Ok(json)
}

/// A stored record as JSON text, for the core to parse.
pub(crate) fn decode_record_text(id: &str, size: i64, blob: &[u8]) -> Result<String, String> {
    String::from_utf8(decompress_record(id, size, blob)?)
        .map_err(|_| format!("record {id}: damaged (not UTF-8)"))
}

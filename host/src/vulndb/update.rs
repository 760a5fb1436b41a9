//! `customs db update`: download what changed, build a new database, swap it in.
//!
//! - **Atomic.** The new database is built in a temporary file in the same directory,
//!   verified (opened exactly as a scan opens it), flushed, and renamed over
//!   `osv.db`. A scan that already opened the old file keeps reading it (same inode);
//!   one that opens after the rename sees the new one; no one ever sees a half-written
//!   file. A process killed mid-update leaves only a temporary file, which the next
//!   update removes, and a partial download, which it resumes.
//! - **One builder at a time.** CI jobs sharing a cache directory serialize on an
//!   advisory lock on `vulndb/update.lock` (released by the OS when a holder dies, so
//!   a crash cannot leave it stuck). A waiter gives up after `lock_timeout` with a
//!   clear error, never hangs. A job that waited while another job built a new
//!   database reuses that database instead of building it again.
//! - **Incremental.** Each export is requested conditionally; exports the server
//!   reports unchanged (`304`) are copied from the old database instead of being
//!   downloaded and parsed again. When every export is unchanged nothing is rebuilt;
//!   the confirmation time is recorded beside the database (`osv.db.checked`).
//! - **The requested ecosystems define the database.** A database built for
//!   `--ecosystems Alpine` holds Alpine only; data that is no longer refreshed is not
//!   carried along to go stale unnoticed.
use super::download::{DownloadError, DownloadOptions, Downloader, Fetched, Previous, Validators};
use super::ingest::{self, Failure, IngestError, IngestLimits};
use super::query::{self, DbStatus, OpenError, VulnDb};
use super::store::{Builder, EcosystemRow, StoreError};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

/// What to update and how.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// The cache directory (the database goes to `<cache>/vulndb/`).
    pub cache_root: PathBuf,
    /// OSV ecosystem names, as the exports are named (`Debian`, `Rocky Linux`).
    pub ecosystems: Vec<String>,
    /// Base URLs tried in order.
    pub mirrors: Vec<String>,
    pub download: DownloadOptions,
    pub ingest: IngestLimits,
    /// How long to wait for another update holding the lock.
    pub lock_timeout: Duration,
    /// Refuse to build a database when any record fails to parse.
    pub strict: bool,
}

impl UpdateOptions {
    /// The defaults for `cache_root`: every supported distro, OSV's bucket.
    pub fn new(cache_root: PathBuf) -> Self {
        UpdateOptions {
            cache_root,
            ecosystems: super::DEFAULT_ECOSYSTEMS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            mirrors: vec![super::DEFAULT_OSV_URL.to_string()],
            download: DownloadOptions::default(),
            ingest: IngestLimits::default(),
            lock_timeout: Duration::from_secs(600),
            strict: false,
        }
    }
}

/// How an update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// A new database was built and installed.
    Built,
    /// Every export was unchanged; the database was kept.
    NotModified,
    /// Another process built a new database while this one waited for the lock.
    BuiltConcurrently,
}

/// What happened to one export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcosystemAction {
    Downloaded {
        url: String,
        bytes: u64,
        resumed: bool,
        verified_with: Option<&'static str>,
    },
    NotModified {
        url: String,
    },
}

#[derive(Debug, Clone)]
pub struct EcosystemReport {
    pub name: String,
    pub action: EcosystemAction,
    /// Records parsed (for a downloaded export).
    pub records: u64,
    /// Records that failed to parse.
    pub failed: u64,
    /// The first failures, for the message.
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone)]
pub struct UpdateReport {
    pub outcome: UpdateOutcome,
    pub ecosystems: Vec<EcosystemReport>,
    pub status: DbStatus,
}

#[derive(Debug, Error)]
pub enum UpdateError {
    #[error("no ecosystems to update")]
    NoEcosystems,
    #[error(
        "another `customs db update` has held {path} for {waited_secs} s; giving up (the existing database is unchanged)"
    )]
    LockTimeout { path: String, waited_secs: u64 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{count} record(s) of {ecosystem} did not parse (first: {first}); --strict refuses a database without them"
    )]
    Strict {
        ecosystem: String,
        count: u64,
        first: String,
    },
    #[error("the newly built database failed verification: {0}")]
    Verify(#[from] OpenError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Holds the update lock until dropped.
pub(crate) struct LockGuard(File);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

pub(crate) fn lock(path: &Path, timeout: Duration) -> Result<LockGuard, UpdateError> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let start = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard(file)),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(io_err(path)(e)),
        }
        if start.elapsed() >= timeout {
            return Err(UpdateError::LockTimeout {
                path: path.display().to_string(),
                waited_secs: start.elapsed().as_secs(),
            });
        }
        if !announced {
            tracing::info!(lock = %path.display(), "another update is running; waiting for it");
            announced = true;
        }
        std::thread::sleep(Duration::from_millis(50 + fastrand::u64(0..100)));
    }
}

/// The build id of the live database, read without verification (a cheap
/// "did it change?" probe).
fn peek_build_id(db: &Path) -> Option<String> {
    let conn = rusqlite::Connection::open_with_flags(
        super::store::uri(db, "mode=ro&immutable=1"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .ok()?;
    conn.query_row(
        "SELECT value FROM metadata WHERE key = 'build_id'",
        [],
        |r| r.get(0),
    )
    .ok()
}

/// Removes temporary databases of updates that were killed (only called while
/// holding the lock, so none of them is in use).
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".osv.db.tmp-")
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

pub(crate) fn write_atomically(dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), UpdateError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".osv.db.tmp-")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(dir))?;
    tmp.persist(dest).map_err(|e| io_err(dest)(e.error))?;
    Ok(())
}

/// Runs an update.
pub fn update(options: &UpdateOptions) -> Result<UpdateReport, UpdateError> {
    let mut ecosystems: Vec<String> = Vec::new();
    for e in &options.ecosystems {
        let e = e.trim();
        if !e.is_empty() && !ecosystems.iter().any(|x| x == e) {
            ecosystems.push(e.to_string());
        }
    }
    if ecosystems.is_empty() {
        return Err(UpdateError::NoEcosystems);
    }
    let dir = super::db_dir(&options.cache_root);
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let db_path = dir.join(super::DB_FILE);
    let before = peek_build_id(&db_path);
    let _guard = lock(&dir.join("update.lock"), options.lock_timeout)?;
    remove_stale_temporaries(&dir);

    let mut wanted: Vec<&str> = ecosystems.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    let old = match VulnDb::open_file(&db_path) {
        Ok(db) => Some(db),
        Err(e) if e.is_missing() => None,
        Err(e) => {
            tracing::warn!("{e}; building a new one from scratch");
            None
        }
    };
    let holds_wanted = |db: &VulnDb| {
        let have: Vec<&str> = db
            .status()
            .ecosystems
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        have == wanted
    };
    if let Some(db) = &old {
        let now = Some(db.status().build_id.clone());
        if now != before && holds_wanted(db) {
            tracing::info!("a concurrent update built the database; reusing it");
            return Ok(UpdateReport {
                outcome: UpdateOutcome::BuiltConcurrently,
                ecosystems: Vec::new(),
                status: db.status().clone(),
            });
        }
    }

    let downloader = Downloader::new(&dir.join("downloads"), options.download.clone())?;
    let mut fetched = Vec::new();
    for eco in &ecosystems {
        let previous = old.as_ref().and_then(|db| {
            db.status()
                .ecosystems
                .iter()
                .find(|e| &e.name == eco)
                .map(|e| Previous {
                    url: e.url.clone(),
                    validators: Validators {
                        etag: e.etag.clone(),
                        last_modified: e.last_modified.clone(),
                    },
                })
        });
        let f = downloader.fetch(eco, &options.mirrors, previous.as_ref())?;
        fetched.push((eco.clone(), f));
    }

    let all_unchanged = fetched
        .iter()
        .all(|(_, f)| matches!(f, Fetched::NotModified { .. }));
    if all_unchanged
        && let Some(db) = &old
        && holds_wanted(db)
    {
        let line = format!("{} {}\n", db.status().build_id, super::now_unix());
        write_atomically(&dir, &query::checked_path(&db_path), line.as_bytes())?;
        let status = VulnDb::open_file(&db_path)?.status().clone();
        return Ok(UpdateReport {
            outcome: UpdateOutcome::NotModified,
            ecosystems: fetched
                .into_iter()
                .map(|(name, f)| EcosystemReport {
                    name,
                    action: match f {
                        Fetched::NotModified { url } => EcosystemAction::NotModified { url },
                        Fetched::Downloaded(_) => unreachable!("all exports are unchanged"),
                    },
                    records: 0,
                    failed: 0,
                    failures: Vec::new(),
                })
                .collect(),
            status,
        });
    }
    let old_path = old.as_ref().map(|db| db.path().to_path_buf());
    drop(old);

    // Build beside the live file, so the final rename stays on one file system.
    let tmp = tempfile::Builder::new()
        .prefix(".osv.db.tmp-")
        .tempfile_in(&dir)
        .map_err(io_err(&dir))?;
    let mut builder = Builder::create(tmp.path())?;
    let unchanged: Vec<String> = fetched
        .iter()
        .filter(|(_, f)| matches!(f, Fetched::NotModified { .. }))
        .map(|(n, _)| n.clone())
        .collect();
    if let Some(old_path) = &old_path {
        builder.copy_from(old_path, &unchanged)?;
    }
    let mut reports = Vec::new();
    let mut parts = Vec::new();
    for (name, f) in fetched {
        match f {
            Fetched::NotModified { url } => reports.push(EcosystemReport {
                name,
                action: EcosystemAction::NotModified { url },
                records: 0,
                failed: 0,
                failures: Vec::new(),
            }),
            Fetched::Downloaded(d) => {
                let mut sink_err = None;
                let stats = ingest::ingest_zip(&d.path, &options.ingest, |record, json| {
                    builder
                        .insert(&name, &record, json)
                        .map(|_| ())
                        .map_err(|e| {
                            let msg = e.to_string();
                            sink_err = Some(e);
                            msg
                        })
                });
                if let Some(e) = sink_err {
                    return Err(e.into());
                }
                let stats = match stats {
                    Ok(s) => s,
                    Err(e @ (IngestError::Zip { .. } | IngestError::Entry { .. })) => {
                        // The file passed the download checks but not a full read:
                        // do not resume from it next time.
                        let _ = fs::remove_file(&d.path);
                        return Err(e.into());
                    }
                    Err(e) => return Err(e.into()),
                };
                if options.strict && stats.failed > 0 {
                    let first = stats
                        .failures
                        .first()
                        .map(|f| {
                            format!(
                                "{} ({}): {}",
                                f.id.as_deref().unwrap_or("?"),
                                f.file,
                                f.error
                            )
                        })
                        .unwrap_or_default();
                    return Err(UpdateError::Strict {
                        ecosystem: name,
                        count: stats.failed,
                        first,
                    });
                }
                for f in &stats.failures {
                    tracing::warn!(
                        ecosystem = %name,
                        file = %f.file,
                        id = f.id.as_deref().unwrap_or("?"),
                        "record skipped: {}",
                        f.error
                    );
                }
                builder.add_failures(&name, &stats.failures)?;
                builder.set_ecosystem(&EcosystemRow {
                    name: name.clone(),
                    url: d.url.clone(),
                    etag: d.validators.etag.clone(),
                    last_modified: d.validators.last_modified.clone(),
                    sha256: d.sha256.clone(),
                    bytes: d.bytes,
                    fetched_at: super::now_unix(),
                    records: stats.records,
                    entries: 0,
                    failed: stats.failed,
                })?;
                parts.push(d.path.clone());
                reports.push(EcosystemReport {
                    name,
                    action: EcosystemAction::Downloaded {
                        url: d.url,
                        bytes: d.bytes,
                        resumed: d.resumed,
                        verified_with: d.verified_with,
                    },
                    records: stats.records,
                    failed: stats.failed,
                    failures: stats.failures.into_iter().take(20).collect(),
                });
            }
        }
    }
    builder.finish(&options.mirrors, super::now_unix())?;
    // Verify exactly as a scan will open it before anyone can see it.
    let status = VulnDb::open_file(tmp.path())?.status().clone();
    tmp.persist(&db_path)
        .map_err(|e| io_err(&db_path)(e.error))?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    // Verified above as the temporary file; the rename changed no byte of it.
    super::verified::remember(&db_path);
    let _ = fs::remove_file(query::checked_path(&db_path));
    for p in parts {
        let _ = fs::remove_file(p);
    }
    let mut status = status;
    status.path = db_path.display().to_string();
    Ok(UpdateReport {
        outcome: UpdateOutcome::Built,
        ecosystems: reports,
        status,
    })
}

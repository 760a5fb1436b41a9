//! The scan pipeline: open the image, stream every layer through the analysis core
//! in parallel, merge, render.
//!
//! Decompression, tar framing and digest checks happen here, natively: they are the
//! floor of any scan and gain nothing from the sandbox. What *interprets* content
//! (package databases, release files) happens in the core, which sees the metadata of
//! every entry but the bytes of only the files its `Interest` names.
use crate::{
    acquire::{self, AcquireError, AcquireOptions},
    cache::{Cache, LayerKey},
    engine::{self, Engine, EngineError, EngineKind, Limits},
    image::{Image, ImageError},
    progress::Progress,
    vulndb::{self, VulnDb},
};
use customs_core::vuln::{VulnOptions, section::DbInfo};
use customs_core::{
    layer::Interest,
    model::{EntryKind, EntryMeta, MergeOptions, Report},
    path,
};
use std::{
    io::Read,
    sync::atomic::{AtomicUsize, Ordering},
};
use thiserror::Error;

/// Entries are sent to the core in batches: one boundary crossing per batch keeps the
/// per-entry cost of the sandbox negligible.
const ENTRY_BATCH: usize = 2048;

/// Every scanner the CLI knows; `none` selects the inventory only.
pub const KNOWN_SCANNERS: &[&str] = &["vuln", "secret", "malware", "baseline", "license"];
/// Scanners this build implements. A known scanner that is not implemented yet is
/// refused rather than silently reported as "no findings".
pub const AVAILABLE_SCANNERS: &[&str] = &["vuln"];

#[derive(Debug, Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Acquire(#[from] AcquireError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("layer {index} ({diff_id}): {reason}")]
    Layer {
        index: usize,
        diff_id: String,
        reason: String,
    },
    #[error("{0}")]
    Usage(String),
    /// No usable vulnerability database (exit code 3).
    #[error(transparent)]
    DbUnavailable(#[from] vulndb::ensure::Unavailable),
    #[error(transparent)]
    Db(#[from] vulndb::store::StoreError),
}

/// What the `vuln` scanner needs: where its database comes from, and the selection,
/// suppression and gate settings the core applies.
#[derive(Debug, Clone)]
pub struct VulnScan {
    pub db: vulndb::ensure::DbSettings,
    /// `database` and `today` are filled in by the scan.
    pub options: VulnOptions,
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub image: String,
    /// Where to look for the image (sources, platform, daemon and registry settings).
    pub acquire: AcquireOptions,
    pub engine: EngineKind,
    pub limits: Limits,
    pub scanners: Vec<String>,
    /// Worker threads for layer analysis (0 = one per available core).
    pub threads: usize,
    /// Where analyzed layers are cached; `None` analyzes every layer.
    pub cache: Option<Cache>,
    /// Settings of the `vuln` scanner; required when `scanners` has `vuln`.
    pub vuln: Option<VulnScan>,
}

/// The result of a scan: the report and its JSON form (the document both engines agree on).
pub struct ScanOutput {
    pub report: Report,
    pub report_json: String,
    engine: Box<dyn Engine>,
}

impl ScanOutput {
    /// Renders the report with the engine that produced it.
    pub fn render(&self, format: &str) -> Result<String, ScanError> {
        Ok(self.engine.render(&self.report_json, format)?)
    }
}

/// Validates a `--scanners` list: `none`, or known and available scanner names.
pub fn parse_scanners(list: &str) -> Result<Vec<String>, ScanError> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if name == "none" {
            continue;
        }
        if !KNOWN_SCANNERS.contains(&name) {
            return Err(ScanError::Usage(format!(
                "unknown scanner `{name}` in --scanners (known: {}, or none)",
                KNOWN_SCANNERS.join(",")
            )));
        }
        if !AVAILABLE_SCANNERS.contains(&name) {
            return Err(ScanError::Usage(format!(
                "scanner `{name}` is not available in this version of customs (available: {}); use --scanners none for the inventory",
                if AVAILABLE_SCANNERS.is_empty() {
                    "none".to_string()
                } else {
                    AVAILABLE_SCANNERS.join(",")
                }
            )));
        }
        out.push(name.to_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Runs a scan.
pub fn scan(options: &ScanOptions, progress: &Progress) -> Result<ScanOutput, ScanError> {
    let vuln = match (options.scanners.iter().any(|s| s == "vuln"), &options.vuln) {
        (false, _) => None,
        (true, Some(v)) => Some(v),
        (true, None) => {
            return Err(ScanError::Usage(
                "the vuln scanner needs database settings".into(),
            ));
        }
    };
    // Without permission to update, a missing database is known before any image is
    // read: fail fast.
    let mut early_db = None;
    if let Some(v) = vuln
        && v.db.policy != vulndb::ensure::UpdatePolicy::Auto
    {
        early_db = Some(vulndb::ensure::ensure(&v.db, &[])?);
    }
    progress.message(&format!("opening {}", options.image));
    let acquired = acquire::acquire(&options.image, &options.acquire)?;
    // `acquired` keeps a daemon export on disk until the scan ends.
    let image = &acquired.image;
    // The compiled core is cached beside the layer facts; with --no-cache, in the
    // default place (compiling it costs every scan a second otherwise).
    let wasm_dir = options
        .cache
        .as_ref()
        .map(|c| c.root().to_path_buf())
        .or_else(crate::cache::default_dir)
        .map(|d| d.join("wasm"));
    let engine = engine::create_with_cache(options.engine, options.limits, wasm_dir.as_deref())?;
    let interest: Interest = serde_json::from_str(&engine.interest_json()?)
        .map_err(|e| EngineError::Setup(format!("the core's interest document is invalid: {e}")))?;

    let layer_count = image.layer_count();
    let total_bytes: u64 = image.meta.layers.iter().map(|l| l.size).sum();
    progress.start_layers(layer_count, total_bytes);
    let interest_json = serde_json::to_string(&interest).expect("Interest serializes");
    let cached = CachedLayers {
        cache: options.cache.as_ref(),
        interest_json: &interest_json,
    };
    let facts = analyze_layers(
        image,
        engine.as_ref(),
        &interest,
        &cached,
        options.threads,
        progress,
    )?;
    progress.finish_layers();

    let image_json = serde_json::to_string(&image.meta).expect("ImageMeta serializes");
    let merge_options = MergeOptions {
        scanners: options.scanners.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let options_json = serde_json::to_string(&merge_options).expect("MergeOptions serializes");
    let mut report_json = engine.merge(&image_json, &facts, &options_json)?;
    let mut report: Report = parse_report(&report_json)?;
    if let Some(v) = vuln {
        let ready = match early_db {
            Some(ready) => ready,
            None => {
                progress.message("checking the vulnerability database");
                let os = report.image.os.clone().unwrap_or_default();
                vulndb::ensure::ensure(&v.db, &needed_exports(&os))?
            }
        };
        for warning in &ready.warnings {
            tracing::warn!("{warning}");
        }
        report_json = match_vulnerabilities(
            engine.as_ref(),
            &report,
            &report_json,
            &ready.db,
            &v.options,
        )?;
        report = parse_report(&report_json)?;
    }
    Ok(ScanOutput {
        report,
        report_json,
        engine,
    })
}

fn parse_report(json: &str) -> Result<Report, ScanError> {
    serde_json::from_str(json)
        .map_err(|e| EngineError::Setup(format!("the core returned an invalid report: {e}")).into())
}

/// The OSV exports that hold advisories for packages of `os` (none when the release
/// is unknown to OSV's naming, or its vendor publishes no export).
fn needed_exports(os: &customs_core::model::OsInfo) -> Vec<String> {
    customs_core::vuln::ecosystem::lookup_keys(os)
        .iter()
        .filter_map(|key| customs_core::vuln::ecosystem::osv_export(key))
        .map(str::to_string)
        .collect()
}

/// Selects the advisory records for the report's packages and has the core match
/// them; returns the report (JSON) with its `vulnerabilities` section.
fn match_vulnerabilities(
    engine: &dyn Engine,
    report: &Report,
    report_json: &str,
    db: &VulnDb,
    options: &VulnOptions,
) -> Result<String, ScanError> {
    let os = report.image.os.clone().unwrap_or_default();
    let records = db.advisory_records_json(&report.packages, &os)?;
    let status = db.status();
    let mut options = options.clone();
    options.database = DbInfo {
        schema_version: status.schema_version,
        built_at: vulndb::format_unix(status.built_at),
        build_id: status.build_id.clone(),
        ecosystems: status.ecosystems.iter().map(|e| e.name.clone()).collect(),
    };
    options.today = vulndb::format_unix(vulndb::now_unix())[..10].to_string();
    let options_json = serde_json::to_string(&options).expect("VulnOptions serializes");
    Ok(engine.match_vulnerabilities(report_json, &records, &options_json)?)
}

/// The layer-facts cache as the workers see it.
struct CachedLayers<'a> {
    cache: Option<&'a Cache>,
    interest_json: &'a str,
}

impl CachedLayers<'_> {
    fn key(&self, diff_id: &str) -> LayerKey {
        LayerKey::new(diff_id, customs_core::ANALYZER_VERSION, self.interest_json)
    }

    fn get(&self, diff_id: &str) -> Option<String> {
        self.cache?
            .layer_facts(&self.key(diff_id), diff_id, customs_core::ANALYZER_VERSION)
    }

    fn put(&self, diff_id: &str, facts: &str) {
        if let Some(cache) = self.cache {
            // A cache that cannot be written costs speed, not correctness.
            if let Err(e) = cache.store_layer_facts(&self.key(diff_id), facts) {
                tracing::warn!("not caching layer {diff_id}: {e}");
            }
        }
    }
}

/// Analyzes every layer, `threads` at a time, returning the facts (JSON) in layer order.
/// Layers found in the cache are not read at all.
fn analyze_layers(
    image: &Image,
    engine: &dyn Engine,
    interest: &Interest,
    cached: &CachedLayers<'_>,
    threads: usize,
    progress: &Progress,
) -> Result<Vec<String>, ScanError> {
    let count = image.layer_count();
    let workers = match threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n,
    }
    .clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<String, ScanError>>>> =
        (0..count).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let diff_id = &image.meta.layers[i].diff_id;
                    let result = match cached.get(diff_id) {
                        Some(facts) => {
                            progress.layer_cached(i, diff_id, image.meta.layers[i].size);
                            Ok(facts)
                        }
                        None => analyze_layer(image, i, engine, interest, progress)
                            .inspect(|facts| cached.put(diff_id, facts)),
                    };
                    let failed = result.is_err();
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    if failed {
                        // Stop handing out work: the scan fails anyway.
                        next.store(count, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut facts = Vec::with_capacity(count);
    let mut first_error = None;
    for (i, slot) in results.into_iter().enumerate() {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(f)) => facts.push(f),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {
                first_error.get_or_insert_with(|| ScanError::Layer {
                    index: i,
                    diff_id: image.meta.layers[i].diff_id.clone(),
                    reason: "not analyzed".into(),
                });
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(facts),
    }
}

fn entry_kind(t: tar::EntryType) -> EntryKind {
    use tar::EntryType as T;
    match t {
        T::Regular | T::Continuous | T::GNUSparse => EntryKind::File,
        T::Directory => EntryKind::Dir,
        T::Symlink => EntryKind::Symlink,
        T::Link => EntryKind::Hardlink,
        T::Char => EntryKind::CharDevice,
        T::Block => EntryKind::BlockDevice,
        T::Fifo => EntryKind::Fifo,
        _ => EntryKind::Other,
    }
}

/// Streams one layer through a core session and verifies its digests.
fn analyze_layer(
    image: &Image,
    index: usize,
    engine: &dyn Engine,
    interest: &Interest,
    progress: &Progress,
) -> Result<String, ScanError> {
    let diff_id = image.meta.layers[index].diff_id.clone();
    let layer_err = |reason: String| ScanError::Layer {
        index,
        diff_id: diff_id.clone(),
        reason,
    };
    let mut reader = image.open_layer(index)?;
    let counter = reader.progress_counter();
    let mut session = engine.layer(&diff_id)?;
    let mut entries_seen = 0usize;
    let mut reported = 0u64;
    let walked = (|| -> Result<(), ScanError> {
        let mut archive = tar::Archive::new(&mut reader);
        let mut batch: Vec<EntryMeta> = Vec::with_capacity(ENTRY_BATCH);
        let iter = archive
            .entries()
            .map_err(|e| layer_err(format!("not a tar stream: {e}")))?;
        for entry in iter {
            let mut entry = entry.map_err(|e| layer_err(format!("corrupt tar: {e}")))?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let header = entry.header();
            let kind = entry_kind(header.entry_type());
            let link_target = match kind {
                EntryKind::Symlink | EntryKind::Hardlink => entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(l.as_ref()).into_owned()),
                _ => None,
            };
            let meta = EntryMeta {
                size: if kind == EntryKind::File {
                    entry.size()
                } else {
                    0
                },
                mode: header.mode().unwrap_or(0),
                uid: header.uid().unwrap_or(0),
                gid: header.gid().unwrap_or(0),
                path: raw_path,
                kind,
                link_target,
            };
            entries_seen += 1;
            let wanted = kind == EntryKind::File && interest.wants(&path::normalize(&meta.path));
            if wanted {
                if meta.size > interest.max_file_size {
                    return Err(layer_err(format!(
                        "{}: file of {} bytes exceeds the {}-byte limit for analysis",
                        meta.path, meta.size, interest.max_file_size
                    )));
                }
                let path = meta.path.clone();
                let size = meta.size;
                batch.push(meta);
                session.add_entries(&batch)?;
                batch.clear();
                let mut content = Vec::with_capacity(size as usize);
                entry
                    .read_to_end(&mut content)
                    .map_err(|e| layer_err(format!("reading {path}: {e}")))?;
                session.add_file(&path, &content).map_err(|e| match e {
                    EngineError::Analysis(reason) => layer_err(reason),
                    other => ScanError::Engine(other),
                })?;
            } else {
                batch.push(meta);
                if batch.len() >= ENTRY_BATCH {
                    session.add_entries(&batch)?;
                    batch.clear();
                    let now = counter.load(Ordering::Relaxed);
                    progress.add_bytes(now.saturating_sub(reported));
                    reported = now;
                }
            }
        }
        if !batch.is_empty() {
            session.add_entries(&batch)?;
        }
        Ok(())
    })();
    if let Err(walk_error) = walked {
        // Damaged bytes usually surface first as a tar or decompression error; the
        // digest check says what really happened (and names the blob), so it wins.
        reader.finish()?;
        return Err(walk_error);
    }
    reader.finish()?;
    progress.add_bytes(counter.load(Ordering::Relaxed).saturating_sub(reported));
    let facts = session.finish().map_err(|e| match e {
        EngineError::Analysis(reason) => layer_err(reason),
        other => ScanError::Engine(other),
    })?;
    progress.layer_done(index, &diff_id, entries_seen);
    Ok(facts)
}

//! Reading an OSV export zip: each entry is one OSV JSON record.
//!
//! The zip comes from the network, so it is read as hostile input: the number of
//! entries, each entry's size and the total size are bounded, a compression ratio
//! that only a zip bomb has is refused, and entry sizes are enforced while reading
//! (the sizes the zip declares are not trusted). Entry names are only used in
//! messages; nothing is extracted to the file system. Every entry's CRC-32 is checked
//! by the zip reader when the entry has been read to its end.
//!
//! A record that does not parse is counted and reported with its id (when the JSON
//! names one) and entry name; it never disappears silently: the database records
//! how many records of each ecosystem failed, `customs db status` prints it, and
//! `customs db update --strict` refuses to build a database with any.
use customs_core::vuln::osv::{MAX_RECORD_BYTES, Vulnerability};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use thiserror::Error;

/// Bounds on one export zip.
#[derive(Debug, Clone)]
pub struct IngestLimits {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
    /// Largest uncompressed/compressed ratio accepted for entries above 1 MiB. JSON
    /// compresses 5–20×; a ratio in the hundreds is a bomb.
    pub max_ratio: u64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            // Ubuntu's export, the largest distro one, has ~60,000 records.
            max_entries: 2_000_000,
            max_entry_bytes: MAX_RECORD_BYTES as u64,
            max_total_bytes: 32 << 30,
            max_ratio: 200,
        }
    }
}

/// A record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The zip entry name.
    pub file: String,
    /// The record id, when the JSON names one.
    pub id: Option<String>,
    pub error: String,
}

/// What one zip held.
#[derive(Debug, Clone, Default)]
pub struct IngestStats {
    /// Records parsed and handed on.
    pub records: u64,
    /// Records that failed to parse.
    pub failed: u64,
    /// The first [`MAX_FAILURES_KEPT`] failures, in zip order.
    pub failures: Vec<Failure>,
    /// Directory entries skipped.
    pub directories: u64,
}

/// Failures described individually (all are counted).
pub const MAX_FAILURES_KEPT: usize = 1000;

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("OSV export {path}: {reason}")]
    Zip { path: String, reason: String },
    #[error("OSV export {path}, entry {entry}: {reason}")]
    Entry {
        path: String,
        entry: String,
        reason: String,
    },
    /// The consumer (the database builder) failed.
    #[error("{0}")]
    Sink(String),
}

/// Reads every record of the zip at `path` and passes each parsed record with its
/// original bytes to `sink`. Structural problems of the zip (unreadable directory,
/// limits exceeded, a CRC mismatch) fail the whole file: a damaged export must not
/// become a database that silently lacks records.
pub fn ingest_zip(
    path: &Path,
    limits: &IngestLimits,
    mut sink: impl FnMut(Vulnerability, &[u8]) -> Result<(), String>,
) -> Result<IngestStats, IngestError> {
    let shown = path.display().to_string();
    let zip_err = |reason: String| IngestError::Zip {
        path: shown.clone(),
        reason: super::one_line(&reason, 300),
    };
    let file = File::open(path).map_err(|e| zip_err(e.to_string()))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| zip_err(format!("not a readable zip (truncated or corrupt): {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(zip_err(format!(
            "{} entries exceed the limit of {}",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut stats = IngestStats::default();
    let mut total: u64 = 0;
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| zip_err(format!("entry #{i}: {e}")))?;
        let name = match entry.name() {
            Ok(n) => super::one_line(&n, 200),
            Err(_) => format!("entry #{i}"),
        };
        let entry_err = |reason: String| IngestError::Entry {
            path: shown.clone(),
            entry: name.clone(),
            reason: super::one_line(&reason, 300),
        };
        if entry.is_dir() {
            stats.directories += 1;
            continue;
        }
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared > limits.max_entry_bytes {
            return Err(entry_err(format!(
                "{declared} bytes exceed the {}-byte record limit",
                limits.max_entry_bytes
            )));
        }
        if declared > 1 << 20 && declared / compressed > limits.max_ratio {
            return Err(entry_err(format!(
                "compression ratio {}:1 is above {}:1 (zip bomb?)",
                declared / compressed,
                limits.max_ratio
            )));
        }
        buf.clear();
        // Enforce the limit on what is actually inflated, not on the declared size.
        let read = (&mut entry)
            .take(limits.max_entry_bytes + 1)
            .read_to_end(&mut buf)
            .map_err(|e| entry_err(format!("unreadable (CRC or inflate error): {e}")))?;
        if read as u64 > limits.max_entry_bytes {
            return Err(entry_err(format!(
                "inflates beyond the {}-byte record limit",
                limits.max_entry_bytes
            )));
        }
        total = total.saturating_add(read as u64);
        if total > limits.max_total_bytes {
            return Err(zip_err(format!(
                "inflates beyond the {}-byte total limit",
                limits.max_total_bytes
            )));
        }
        match Vulnerability::from_json(&buf) {
            Ok(record) => {
                sink(record, &buf).map_err(IngestError::Sink)?;
                stats.records += 1;
            }
            Err(e) => {
                stats.failed += 1;
                if stats.failures.len() < MAX_FAILURES_KEPT {
                    let id = serde_json::from_slice::<serde_json::Value>(&buf)
                        .ok()
                        .and_then(|v| {
                            v.get("id")
                                .and_then(|i| i.as_str())
                                .map(|s| super::one_line(s, 100))
                        });
                    stats.failures.push(Failure {
                        file: name.clone(),
                        id,
                        error: super::one_line(&e.to_string(), 300),
                    });
                }
            }
        }
    }
    Ok(stats)
}

//! The local vulnerability database: OSV exports downloaded, checked and indexed on
//! disk, so that a scan never needs the network.
//!
//! One job per module:
//! - [`download`]: fetches `<base>/<ECOSYSTEM>/all.zip` from a list of mirrors, with
//!   conditional requests, resumption, retries and size and digest checks;
//! - [`ingest`]: reads an export zip (bounded: entry count, sizes, compression
//!   ratio) and parses each entry as an OSV record, counting the ones that fail;
//! - [`store`]: the on-disk format (SQLite) and its builder;
//! - [`mod@update`]: the atomic, locked update that ties the three together;
//! - [`query`]: what a scan reads ([`VulnDb`]);
//! - [`artifact`]: publishing and installing the database as an OCI artifact
//!   (`db push` / `db pull`);
//! - [`ensure`]: how a scan gets a usable database (automatic update,
//!   `--skip-db-update`, `--offline`, the stale-database warning);
//! - `verified`: remembers that the live file passed the full integrity check.
//!
//! Layout in the cache directory (`--cache-dir`, see [`crate::cache`]):
//!
//! ```text
//! <cache>/vulndb/osv.db            the live database (replaced by rename, never edited)
//! <cache>/vulndb/osv.db.checked    when an update last confirmed it current
//! <cache>/vulndb/osv.db.verified   which file last passed the full integrity check
//! <cache>/vulndb/update.lock       advisory lock held by the one running update
//! <cache>/vulndb/downloads/        partial downloads kept for resumption
//! ```
pub mod artifact;
pub mod download;
pub mod ensure;
pub mod ingest;
pub mod query;
pub mod store;
pub mod update;
mod verified;

pub use query::{DbStatus, EcosystemStatus, Integrity, VulnDb};
pub use update::{UpdateOptions, UpdateOutcome, UpdateReport, update};

use std::path::{Path, PathBuf};

/// OSV's public export bucket: `<this>/<ECOSYSTEM>/all.zip`.
pub const DEFAULT_OSV_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The OSV ecosystems (as OSV names its export directories) of the distributions
/// whose packages Customs reads and whose advisories the matcher evaluates
/// (`customs_core::vuln::ecosystem::version_ecosystem`). Oracle Linux, Amazon Linux
/// and Photon OS publish no OSV export, so they are not listed.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpine",
    "Azure Linux",
    "Chainguard",
    "Debian",
    "Mageia",
    "openEuler",
    "openSUSE",
    "Red Hat",
    "Rocky Linux",
    "SUSE",
    "Ubuntu",
    "Wolfi",
];

/// Subdirectory of the cache directory that holds the database.
pub const DIR: &str = "vulndb";
/// File name of the live database.
pub const DB_FILE: &str = "osv.db";

/// `<cache>/vulndb`.
pub fn db_dir(cache_root: &Path) -> PathBuf {
    cache_root.join(DIR)
}

/// `<cache>/vulndb/osv.db`.
pub fn db_path(cache_root: &Path) -> PathBuf {
    db_dir(cache_root).join(DB_FILE)
}

/// Seconds since the Unix epoch (the host may read the clock; the core may not).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (UTC), for messages and `status`.
pub fn format_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A duration in seconds as `3d 4h`, `5h 2m`, `42s`.
pub fn format_age(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {}s", s % 60)
    } else {
        format!("{s}s")
    }
}

/// Makes `s` safe to print on one line (server-supplied text, file names).
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(784_111_777), "1994-11-06T08:49:37Z");
        assert_eq!(format_unix(1_709_251_200), "2024-03-01T00:00:00Z");
        assert_eq!(format_age(42), "42s");
        assert_eq!(format_age(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(format_age(-5), "0s");
        assert_eq!(one_line("a\nb", 10), "a b");
    }
}

//! Getting a usable database for a scan: the automatic update, `--skip-db-update`,
//! `--offline`, and the stale-database warning.
//!
//! The rules (README, "Vulnerability database"):
//! - With neither flag, a scan refreshes the database when it is missing, unusable,
//!   lacks the advisories of the image's distro, or was last confirmed current more
//!   than `update_interval` ago. The refresh pulls the published artifact from the
//!   `--db-repository` list when one is configured, and otherwise downloads the OSV
//!   exports itself (conditional requests: an unchanged export costs one round trip).
//! - A refresh that fails while a usable database exists is a warning: the scan
//!   goes on with the cached one, whose age the report shows. Without a usable
//!   database the scan stops with exit code 3; findings from no data would read as
//!   "clean".
//! - `--skip-db-update` and `--offline` never touch the network for the database.
//! - Whatever the source, a database last confirmed current more than `max_age` ago
//!   gets a warning.
use super::artifact::{self, PullOptions};
use super::{UpdateOptions, VulnDb, format_age, now_unix, query::OpenError};
use crate::registry::RegistryOptions;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Whether a scan may refresh the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatePolicy {
    /// Refresh when needed (the default).
    Auto,
    /// `--skip-db-update`: use the cached database as it is.
    Skip,
    /// `--offline`: no network access at all for the database.
    Offline,
}

/// How a scan gets its database.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub cache_root: PathBuf,
    pub policy: UpdatePolicy,
    /// `--db-repository`: where published databases are pulled from, in order.
    pub repositories: Vec<String>,
    /// `--osv-url`: OSV export mirrors, in order (used when no repository is set).
    pub osv_mirrors: Vec<String>,
    /// Refresh when the database was last confirmed current longer ago than this.
    pub update_interval: Duration,
    /// Warn when the database was last confirmed current longer ago than this.
    pub max_age: Duration,
    /// Credentials and TLS settings for the repositories.
    pub registry: RegistryOptions,
}

/// A database ready for matching, and what the user should be told about it.
#[derive(Debug)]
pub struct ReadyDb {
    pub db: VulnDb,
    pub warnings: Vec<String>,
}

/// No usable database: exit code 3.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Returns a usable database holding (if it can be had) the OSV exports `needed`.
pub fn ensure(settings: &DbSettings, needed: &[String]) -> Result<ReadyDb, Unavailable> {
    let mut warnings = Vec::new();
    let current = VulnDb::open(&settings.cache_root);
    if let Err(e @ OpenError::Unusable { .. }) = &current {
        warnings.push(e.to_string());
    }
    let refresh = match (&current, settings.policy) {
        (_, UpdatePolicy::Skip | UpdatePolicy::Offline) => false,
        (Err(_), UpdatePolicy::Auto) => true,
        (Ok(db), UpdatePolicy::Auto) => {
            let status = db.status();
            let missing = needed
                .iter()
                .any(|n| !status.ecosystems.iter().any(|e| &e.name == n));
            let since_check = now_unix().saturating_sub(status.checked_at).max(0) as u64;
            missing || since_check >= settings.update_interval.as_secs()
        }
    };
    let db = if refresh {
        // The open handle is dropped first: the update renames over the file.
        let existing: Vec<String> = match &current {
            Ok(db) => db
                .status()
                .ecosystems
                .iter()
                .map(|e| e.name.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        drop(current);
        match refresh_db(settings, &existing, needed, &mut warnings) {
            Ok(()) => VulnDb::open(&settings.cache_root).map_err(|e| Unavailable(e.to_string()))?,
            Err(update_error) => match VulnDb::open(&settings.cache_root) {
                Ok(db) => {
                    warnings.push(format!(
                        "could not update the vulnerability database ({update_error}); scanning with the cached one, last confirmed current {} ago",
                        format_age(now_unix().saturating_sub(db.status().checked_at))
                    ));
                    db
                }
                Err(open_error) => {
                    return Err(Unavailable(format!(
                        "no usable vulnerability database: updating it failed ({update_error}), and {open_error}"
                    )));
                }
            },
        }
    } else {
        current.map_err(|e| {
            let why = match settings.policy {
                UpdatePolicy::Skip => " (--skip-db-update: not downloading one)",
                UpdatePolicy::Offline => " (--offline: not downloading one)",
                UpdatePolicy::Auto => "",
            };
            Unavailable(format!("{e}{why}"))
        })?
    };
    let age = now_unix().saturating_sub(db.status().checked_at).max(0);
    if age as u64 >= settings.max_age.as_secs() {
        warnings.push(format!(
            "the vulnerability database was last updated {} ago (more than --db-max-age {}); findings may be missing: run `customs db update`",
            format_age(age),
            format_age(settings.max_age.as_secs() as i64)
        ));
    }
    Ok(ReadyDb { db, warnings })
}

/// One refresh: a pull from the repositories, or an OSV update of the exports the
/// database already holds plus the ones this scan needs. Repositories skipped on the
/// way to one that served are reported in `warnings`.
fn refresh_db(
    settings: &DbSettings,
    existing: &[String],
    needed: &[String],
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    if !settings.repositories.is_empty() {
        let options = PullOptions {
            registry: settings.registry.clone(),
            ..PullOptions::default()
        };
        let report = artifact::pull(&settings.cache_root, &settings.repositories, &options)
            .map_err(|e| e.to_string())?;
        warnings.extend(
            report
                .skipped
                .iter()
                .map(|s| format!("database repository skipped: {s}")),
        );
        return Ok(());
    }
    let mut options = UpdateOptions::new(settings.cache_root.clone());
    let mut ecosystems: Vec<String> = existing.iter().chain(needed).cloned().collect();
    ecosystems.sort();
    ecosystems.dedup();
    if !ecosystems.is_empty() {
        options.ecosystems = ecosystems;
    }
    if !settings.osv_mirrors.is_empty() {
        options.mirrors = settings.osv_mirrors.clone();
    }
    // A scan waits less for a concurrent update than `db update` does: the other
    // job is building the same data, and the cached database is a fine fallback.
    options.lock_timeout = Duration::from_secs(300);
    super::update(&options)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Parses a duration as `90s`, `45m`, `12h`, `7d` (or plain seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 12h, 7d)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use s, m, h or d)")),
    };
    n.checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("12h").unwrap(), Duration::from_secs(43_200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("7w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}

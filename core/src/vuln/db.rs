//! The in-memory advisory index the matcher reads.
//!
//! The host loads records from its on-disk database (everything under the keys of
//! [`super::lookup_requests`], plus the records those reference by id for severity and
//! titles) and inserts them here. Insertion does all per-record work once: it
//! normalizes the ecosystem, sorts each range's events by the ecosystem's version
//! ordering, and extracts the distro's status and rating words, so matching a package
//! is a map lookup plus a few version comparisons, with no JSON inspection and no
//! cloning of records.
use super::ecosystem;
use super::finding::{DataStatus, Status, parse_status};
use super::osv::{Affected, Vulnerability};
use super::range::{self, PreparedEvent};
use super::severity::{self, Severity};
use crate::model::Ecosystem;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One affected entry of a record, prepared for matching.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Index of the record in [`AdvisoryDb::records`].
    pub record: usize,
    /// The version ordering of the entry's ecosystem.
    pub eco: Ecosystem,
    /// The entry's ecosystem as the record spells it.
    pub ecosystem: String,
    /// Sorted events of each evaluable range.
    pub ranges: Vec<Vec<PreparedEvent>>,
    /// The explicit `versions` list.
    pub versions: Vec<String>,
    /// The status the data gives for unfixed versions.
    pub status: Option<Status>,
    /// The distro's own rating, when the entry or record carries one.
    pub rating: Option<Severity>,
    /// For a Red Hat–family module build (`…module_el8…` versions), the module
    /// streams (`nodejs:18`) the advisory title names. Empty for other entries.
    pub module_streams: Vec<String>,
}

/// Records indexed by (normalized ecosystem, package name) and by id.
#[derive(Debug, Default)]
pub struct AdvisoryDb {
    pub(crate) records: Vec<Vulnerability>,
    by_id: BTreeMap<String, Vec<usize>>,
    pub(crate) index: BTreeMap<String, BTreeMap<String, Vec<Entry>>>,
    entries: usize,
}

impl AdvisoryDb {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record; returns how many affected entries became matchable.
    ///
    /// Withdrawn records are dropped entirely (not even used for enrichment). Entries
    /// of ecosystems without a version ordering here (language ecosystems), entries
    /// the data marks not affected, and entries with nothing to evaluate are not
    /// indexed, but the record stays available by id for severity and title lookups.
    pub fn insert(&mut self, record: Vulnerability) -> usize {
        if record.is_withdrawn() {
            return 0;
        }
        let idx = self.records.len();
        let mut added = 0;
        for affected in &record.affected {
            let Some(package) = &affected.package else {
                continue;
            };
            let key = ecosystem::normalize(&package.ecosystem);
            let Some(eco) = ecosystem::version_ecosystem(&key) else {
                continue;
            };
            let status = match data_status(&record, affected) {
                Some(DataStatus::NotAffected) => continue,
                Some(DataStatus::Is(s)) => Some(s),
                None => None,
            };
            let ranges: Vec<_> = affected
                .ranges
                .iter()
                .filter_map(|r| range::prepare(r, eco))
                .collect();
            if ranges.is_empty() && affected.versions.is_empty() {
                continue;
            }
            let module_streams = if ecosystem::rates_in_summary(&key)
                && is_module_build(&ranges, &affected.versions)
            {
                module_streams(record.summary.as_deref().unwrap_or(""))
            } else {
                Vec::new()
            };
            let entry = Entry {
                record: idx,
                eco,
                ecosystem: package.ecosystem.clone(),
                module_streams,
                ranges,
                versions: affected
                    .versions
                    .iter()
                    .map(|v| range::normalize_version(eco, super::osv::EventKind::Fixed, v))
                    .collect(),
                status,
                rating: distro_rating(&record, affected, &key),
            };
            self.index
                .entry(key.into_owned())
                .or_default()
                .entry(package.name.clone())
                .or_default()
                .push(entry);
            added += 1;
        }
        self.by_id.entry(record.id.clone()).or_default().push(idx);
        self.records.push(record);
        self.entries += added;
        added
    }

    /// Number of records held.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    /// Number of matchable affected entries.
    pub fn entry_count(&self) -> usize {
        self.entries
    }

    /// Records whose id is `id` (several sources may publish the same id).
    pub fn by_id(&self, id: &str) -> impl Iterator<Item = &Vulnerability> {
        self.by_id
            .get(id)
            .into_iter()
            .flatten()
            .map(|&i| &self.records[i])
    }

    /// Ids referenced through `aliases`/`upstream` by records that have matchable
    /// entries, but not held here: the host loads these (NVD CVE records, GHSA
    /// records) so severity and titles can fall back to them.
    pub fn missing_references(&self) -> BTreeSet<String> {
        let with_entries: BTreeSet<usize> = self
            .index
            .values()
            .flat_map(|m| m.values())
            .flatten()
            .map(|e| e.record)
            .collect();
        with_entries
            .into_iter()
            .flat_map(|i| {
                self.records[i]
                    .aliases
                    .iter()
                    .chain(&self.records[i].upstream)
            })
            .filter(|id| !self.by_id.contains_key(id.as_str()))
            .cloned()
            .collect()
    }

    pub(crate) fn lookup(&self, key: &str, name: &str) -> &[Entry] {
        self.index
            .get(key)
            .and_then(|m| m.get(name))
            .map_or(&[], Vec::as_slice)
    }
}

/// The `status` word of an entry (affected-level first, then the record's).
fn data_status(record: &Vulnerability, affected: &Affected) -> Option<DataStatus> {
    [
        affected.ecosystem_specific.as_ref(),
        affected.database_specific.as_ref(),
        record.database_specific.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|v| v.get("status").and_then(Value::as_str))
    .find_map(parse_status)
}

/// The distro's rating of this entry, looked for where the distros' exports put it:
/// the entry's `ecosystem_specific`/`database_specific` (`severity`, `urgency`,
/// `priority`), a non-CVSS `severity[]` entry (Ubuntu's priority), the record's
/// `database_specific` (unless the record is a GitHub advisory, whose rating is
/// GitHub's, not the distro's), and for the Red Hat family the advisory title.
fn distro_rating(record: &Vulnerability, affected: &Affected, key: &str) -> Option<Severity> {
    severity::rating_in(affected.ecosystem_specific.as_ref())
        .or_else(|| severity::rating_in(affected.database_specific.as_ref()))
        .or_else(|| word_severity(&affected.severity))
        .or_else(|| word_severity(&record.severity))
        .or_else(|| {
            (!record.id.starts_with("GHSA-"))
                .then(|| severity::rating_in(record.database_specific.as_ref()))
                .flatten()
        })
        .or_else(|| {
            ecosystem::rates_in_summary(key)
                .then(|| severity::rating_in_summary(record.summary.as_deref()))
                .flatten()
        })
}

/// Whether an entry's versions are module builds: RHEL and its rebuilds mark them in
/// the release (`1:18.19.0-1.module_el8.9.0+3775+d8460d29`, `…module+el8…`).
fn is_module_build(ranges: &[Vec<PreparedEvent>], versions: &[String]) -> bool {
    ranges
        .iter()
        .flatten()
        .map(|e| e.version.as_str())
        .chain(versions.iter().map(String::as_str))
        .any(|v| v.contains(".module"))
}

/// The `name:stream` module streams an advisory title names, lower-cased:
/// `Important: nodejs:18 security update` → `nodejs:18`,
/// `Moderate: virt:rhel and virt-devel:rhel security update` → both.
pub fn module_streams(summary: &str) -> Vec<String> {
    let mut out: Vec<String> = summary
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | ';'))
        .filter(|t| !t.contains("://"))
        .filter_map(|t| {
            let (name, stream) = t.split_once(':')?;
            // Advisory ids share the shape (`ALSA-2023:1234`, `RHSA-2024:0001`).
            let is_advisory_id = name.split_once('-').is_some_and(|(p, y)| {
                p.chars().all(|c| c.is_ascii_uppercase())
                    && y.len() == 4
                    && y.chars().all(|c| c.is_ascii_digit())
            });
            if is_advisory_id {
                return None;
            }
            let ok = |s: &str, first_alnum: bool| {
                !s.is_empty()
                    && (!first_alnum || s.starts_with(|c: char| c.is_ascii_alphanumeric()))
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
            };
            (ok(name, true) && ok(stream, false)).then(|| t.to_ascii_lowercase())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn word_severity(entries: &[super::osv::SeverityEntry]) -> Option<Severity> {
    entries
        .iter()
        .filter(|e| !e.kind.starts_with("CVSS"))
        .find_map(|e| Severity::from_word(&e.score))
}

#[cfg(test)]
mod tests {
    use super::module_streams;

    #[test]
    fn module_streams_in_advisory_titles() {
        assert_eq!(
            module_streams("Important: nodejs:18 security update"),
            ["nodejs:18"]
        );
        assert_eq!(
            module_streams(
                "Moderate: virt:rhel and virt-devel:rhel security, bug fix, and enhancement update"
            ),
            ["virt-devel:rhel", "virt:rhel"]
        );
        assert_eq!(
            module_streams("Moderate: container-tools:4.0 security update (ALSA-2023:1234)"),
            ["container-tools:4.0"]
        );
        assert!(module_streams("Important: kernel security update").is_empty());
        assert!(module_streams("see https://access.redhat.com/errata: x").is_empty());
        assert!(module_streams("Low: : :x -:y").is_empty());
        assert_eq!(
            module_streams("Moderate: perl-DBD-MySQL:4.046 security update"),
            ["perl-dbd-mysql:4.046"]
        );
    }
}

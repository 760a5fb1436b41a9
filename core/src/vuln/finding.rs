//! The finding: one vulnerability in one installed package, as the CLI reports it.
use super::severity::{CvssScore, Severity};
use serde::{Deserialize, Serialize};

/// Whether and how the distro addresses the vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A fixed version above the installed one exists (`fixed_version`).
    Fixed,
    /// Affected, no fix published yet.
    Affected,
    /// The vendor decided not to fix it in this release.
    WillNotFix,
    /// The vendor postponed the fix.
    FixDeferred,
    /// The release (or this package in it) is out of support: no fix will come.
    EndOfLife,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fixed => "fixed",
            Status::Affected => "affected",
            Status::WillNotFix => "will_not_fix",
            Status::FixDeferred => "fix_deferred",
            Status::EndOfLife => "end_of_life",
        }
    }

    /// `--ignore-unfixed` hides every status but `fixed`.
    pub fn is_fixed(self) -> bool {
        self == Status::Fixed
    }
}

/// What an advisory's `status` word says about an affected entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataStatus {
    /// A status that is reported when no fixed version applies.
    Is(Status),
    /// The entry declares the package not affected: it yields no finding.
    NotAffected,
}

/// Reads the status words of the distros' exports (Debian tracker, Ubuntu CVE
/// tracker, Red Hat/CSAF, SUSE, Trivy-style enums rendered as words). `None` for words
/// that carry no status (`fixed`, `released`, unknown words): the ranges decide.
pub(crate) fn parse_status(word: &str) -> Option<DataStatus> {
    let w: String = word
        .trim()
        .chars()
        .map(|c| {
            if c == '-' || c == ' ' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    Some(match w.as_str() {
        "affected"
        | "needed"
        | "needs_triage"
        | "vulnerable"
        | "under_investigation"
        | "pending"
        | "unfixed"
        | "known_affected" => DataStatus::Is(Status::Affected),
        "will_not_fix" | "wont_fix" | "won't_fix" | "ignored" => DataStatus::Is(Status::WillNotFix),
        "fix_deferred" | "deferred" | "postponed" => DataStatus::Is(Status::FixDeferred),
        "end_of_life" | "eol" | "out_of_support_scope" => DataStatus::Is(Status::EndOfLife),
        "not_affected" | "not_vulnerable" | "known_not_affected" => DataStatus::NotAffected,
        _ => return None,
    })
}

/// One finding. Field names are part of the JSON report schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Primary id (see [`super::dedup`] for how it is chosen).
    pub id: String,
    /// Every other id of the same flaw that matched or was referenced (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The installed (binary) package.
    pub name: String,
    pub installed_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub status: Status,
    pub severity: Severity,
    /// Where the severity came from: a distro (`debian`, `ubuntu`, `redhat`, `alma` …),
    /// `ghsa`, `nvd-cvss-v4`/`-v3`/`-v2` (or `<source>-cvss-vN` for vectors published by
    /// another database), `osv` (a record's own rating) or `none`.
    pub severity_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<CvssScore>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The OSV ecosystem of the advisory that matched (e.g. `Debian:12`).
    pub ecosystem: String,
    /// The package the advisory names (the source package for Debian/Ubuntu/Alpine).
    pub source_name: String,
    /// The version that was compared (the source version, with epoch, for Debian).
    pub source_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub purl: String,
    /// The package database that lists the package (`var/lib/dpkg/status`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// diffID of the layer that introduced the package.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub layer: String,
}

impl Finding {
    /// Every id of the finding: the primary one first, then the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words() {
        assert_eq!(
            parse_status("end-of-life"),
            Some(DataStatus::Is(Status::EndOfLife))
        );
        assert_eq!(
            parse_status("Will not fix"),
            Some(DataStatus::Is(Status::WillNotFix))
        );
        assert_eq!(
            parse_status("postponed"),
            Some(DataStatus::Is(Status::FixDeferred))
        );
        assert_eq!(parse_status("not-affected"), Some(DataStatus::NotAffected));
        assert_eq!(parse_status("released"), None);
        assert_eq!(
            serde_json::to_string(&Status::WillNotFix).unwrap(),
            "\"will_not_fix\""
        );
    }
}

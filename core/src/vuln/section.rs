//! The vulnerability part of the report, and the step that builds it: match, apply
//! the suppression policy, filter by severity and fix state, decide the gate.
//!
//! The gate is computed here, from the same findings the report shows, so that what
//! a pipeline fails on is exactly what its log and its SARIF upload list.
use super::{AdvisoryDb, Finding, Severity, match_packages};
use crate::CoreError;
use crate::model::Report;
use crate::policy::{self, Notice, Policy, Suppressed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Facts about the database the findings came from, given by the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInfo {
    pub schema_version: u32,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub built_at: String,
    pub build_id: String,
    /// The OSV exports the database holds (`Debian`, `Alpine`, …).
    pub ecosystems: Vec<String>,
}

/// What the host asks of the vulnerability step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnOptions {
    pub database: DbInfo,
    /// Severities reported (`--severity`); empty means all.
    pub severities: Vec<Severity>,
    /// Hide findings without a fixed version (`--ignore-unfixed`).
    #[serde(default)]
    pub ignore_unfixed: bool,
    /// `--fail-on-findings`.
    #[serde(default)]
    pub fail_on_findings: bool,
    /// `--fail-on`; default: the lowest of `severities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<Severity>,
    #[serde(default)]
    pub policy: Policy,
    /// Today (`YYYY-MM-DD`), for ignore-rule expiry.
    pub today: String,
}

/// The settings the findings were selected with, echoed in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub severities: Vec<Severity>,
    pub ignore_unfixed: bool,
}

/// Findings the selection left out (they are not suppressed: only not shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hidden {
    /// Below or outside `--severity`.
    pub by_severity: usize,
    /// Without a fix, under `--ignore-unfixed`.
    pub unfixed: usize,
}

/// The `--fail-on-findings` decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub enabled: bool,
    pub fail_on: Severity,
    /// Reported findings at or above `fail_on`.
    pub matching: usize,
    /// `enabled` and `matching > 0`: the exit code is 1.
    pub tripped: bool,
}

/// The notices of the suppression policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyNotices {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired_ignores: Vec<Notice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_ignores: Vec<Notice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched_vex: Vec<Notice>,
}

/// The `vulnerabilities` section of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnSection {
    pub database: DbInfo,
    pub selection: Selection,
    /// Reported findings, sorted by (package, installed version, purl, layer, id).
    pub findings: Vec<Finding>,
    /// Reported findings per severity.
    pub by_severity: BTreeMap<Severity, usize>,
    pub hidden: Hidden,
    /// Findings removed by an ignore rule or a VEX statement (any severity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    #[serde(default)]
    pub policy: PolicyNotices,
    pub gate: Gate,
    /// Why the result may be incomplete (an OS without advisory data, an ecosystem
    /// missing from the database). Empty when every package could be checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<String>,
}

/// Builds the section for `report`'s packages against `db`.
pub fn build(
    report: &Report,
    db: &AdvisoryDb,
    options: &VulnOptions,
) -> Result<VulnSection, CoreError> {
    let os = report.image.os.clone().unwrap_or_default();
    let all = match_packages(&report.packages, &os, db);
    let context = policy::PolicyContext {
        today: options.today.clone(),
        image_reference: report.image.meta.reference.clone(),
        image_digests: std::iter::once(report.image.meta.config_digest.clone())
            .chain(report.image.meta.manifest_digest.clone())
            .collect(),
    };
    let outcome = policy::apply(all, &options.policy, &context)?;
    let mut hidden = Hidden::default();
    let findings: Vec<Finding> = outcome
        .kept
        .into_iter()
        .filter(|f| {
            if !options.severities.is_empty() && !options.severities.contains(&f.severity) {
                hidden.by_severity += 1;
                false
            } else if options.ignore_unfixed && !f.status.is_fixed() {
                hidden.unfixed += 1;
                false
            } else {
                true
            }
        })
        .collect();
    let mut by_severity = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.severity).or_insert(0) += 1;
    }
    let fail_on = options
        .fail_on
        .or_else(|| options.severities.iter().min().copied())
        .unwrap_or(Severity::Unknown);
    let matching = findings.iter().filter(|f| f.severity >= fail_on).count();
    let gate = Gate {
        enabled: options.fail_on_findings,
        fail_on,
        matching,
        tripped: options.fail_on_findings && matching > 0,
    };
    let mut severities = options.severities.clone();
    severities.sort();
    severities.dedup();
    Ok(VulnSection {
        database: options.database.clone(),
        selection: Selection {
            severities,
            ignore_unfixed: options.ignore_unfixed,
        },
        findings,
        by_severity,
        hidden,
        suppressed: outcome.suppressed,
        policy: PolicyNotices {
            expired_ignores: outcome.expired_ignores,
            stale_ignores: outcome.stale_ignores,
            unmatched_vex: outcome.unmatched_vex,
        },
        gate,
        gaps: super::ecosystem::coverage_gaps(&os, &report.packages, &options.database.ecosystems),
    })
}

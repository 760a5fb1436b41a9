//! The `sarif` format: a SARIF 2.1.0 log with one run, for code-scanning services
//! (GitHub code scanning first among them) and SARIF viewers.
//!
//! Rules are advisories ([`rules`]), results are findings ([`results`]); the policy's
//! notices and the coverage gaps are notifications of the run's invocation, and the
//! image, database, hidden counts and gate are the run's properties. An
//! inventory-only report (no `vuln` scanner) gives a valid log with no rules and no
//! results.
//!
//! The output is a function of the report alone: ordered as the report is (rules by
//! id), no time stamps but the report's own (the database build time), no GUIDs.
mod escape;
mod results;
mod rules;
mod types;

use crate::model::Report;
use crate::report::text::clean;
use crate::vuln::VulnSection;
use types::{
    DatabaseProperties, DescriptorReference, Driver, GateProperties, HiddenProperties, Invocation,
    Log, Notification, Run, RunProperties, Text, Tool,
};

/// The OASIS schema of SARIF 2.1.0 (errata 01), the one the tests validate against.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/customs-scanner/customs";

pub(super) fn log(report: &Report) -> Log {
    let section = report.vulnerabilities.as_ref();
    let findings = section.into_iter().flat_map(|s| {
        s.findings.iter().map(|f| (f, None)).chain(
            s.suppressed
                .iter()
                .map(|x| (&x.finding, Some(&x.suppressed))),
        )
    });
    let (rules, rule_index) = rules::rules(findings.clone().map(|(f, _)| f));
    let results = findings
        .filter_map(|(f, by)| results::result(report, f, by, &rule_index))
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "customs",
                    full_name: "Customs container image scanner",
                    version: report.tool.version.clone(),
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: vec![invocation(section)],
            results,
            column_kind: "utf16CodeUnits",
            properties: run_properties(report),
        }],
    }
}

/// The scan completed (a log is only rendered for a finished report). Gaps are
/// execution notifications (part of the image could not be checked); the policy's
/// notices are configuration notifications (an ignore file or VEX document needs
/// attention).
fn invocation(section: Option<&VulnSection>) -> Invocation {
    let mut execution = Vec::new();
    let mut configuration = Vec::new();
    if let Some(s) = section {
        for gap in &s.gaps {
            execution.push(notification("coverage-gap", "warning", clean(gap)));
        }
        let p = &s.policy;
        for n in &p.expired_ignores {
            let when = n
                .expires
                .as_deref()
                .map(|e| format!(" on {}", clean(e)))
                .unwrap_or_default();
            configuration.push(notification(
                "expired-ignore",
                "warning",
                format!(
                    "Ignore rule {} for {} expired{when} and no longer applies.",
                    clean(&n.origin),
                    clean(&n.subject)
                ),
            ));
        }
        for n in &p.stale_ignores {
            configuration.push(notification(
                "stale-ignore",
                "note",
                format!(
                    "Ignore rule {} for {} matched no finding.",
                    clean(&n.origin),
                    clean(&n.subject)
                ),
            ));
        }
        for n in &p.unmatched_vex {
            configuration.push(notification(
                "unmatched-vex",
                "note",
                format!(
                    "VEX statement {} for {} matched no finding.",
                    clean(&n.origin),
                    clean(&n.subject)
                ),
            ));
        }
    }
    Invocation {
        execution_successful: true,
        tool_execution_notifications: execution,
        tool_configuration_notifications: configuration,
    }
}

fn notification(id: &'static str, level: &'static str, text: String) -> Notification {
    Notification {
        descriptor: DescriptorReference { id },
        level,
        message: Text { text },
    }
}

fn run_properties(report: &Report) -> RunProperties {
    let meta = &report.image.meta;
    let section = report.vulnerabilities.as_ref();
    RunProperties {
        image_name: meta.reference.clone(),
        image_id: meta.config_digest.clone(),
        manifest_digest: meta.manifest_digest.clone(),
        repo_tags: meta.tags.clone(),
        platform: meta.platform.clone(),
        os: report
            .image
            .os
            .as_ref()
            .map(|os| format!("{} {}", os.family, os.version)),
        scanners: report.scanners.clone(),
        database: section.map(|s| DatabaseProperties {
            built_at: s.database.built_at.clone(),
            build_id: s.database.build_id.clone(),
            schema_version: s.database.schema_version,
        }),
        hidden: section.map(|s| HiddenProperties {
            by_severity: s.hidden.by_severity,
            unfixed: s.hidden.unfixed,
        }),
        gate: section.map(|s| GateProperties {
            enabled: s.gate.enabled,
            fail_on: s.gate.fail_on.as_str(),
            matching: s.gate.matching,
            tripped: s.gate.tripped,
        }),
    }
}

//! The vulnerability part of the `table` format.
//!
//! Findings are grouped under the package they affect (one line naming the package,
//! its version, its layer and the database that lists it), one row per advisory, so a
//! reader sees at a glance which upgrade clears which rows. Every row still carries
//! the id, the versions and the status, so that `grep CVE-…` on a CI log gives a line
//! that stands on its own. Column widths are computed over all rows of the section
//! (not per package), so the columns line up through the whole log.
//!
//! After the rows: the counts, what the selection hid, what the policy suppressed,
//! the policy's notices, the gaps, the database and the gate, in that order, the gate
//! last because it is what decided the job's exit code.
use super::text::{align, aligned_line, clean_cell, count, short_digest};
use crate::model::Report;
use crate::policy::{Notice, Suppressed, SuppressedBy};
use crate::vuln::section::{Gate, Hidden, Selection, VulnSection};
use crate::vuln::{Finding, Severity};

/// Longest title shown; the rest is cut with `…` (the JSON and SARIF carry it whole).
const TITLE_WIDTH: usize = 60;
/// Longest id, version or status cell: real ones are far shorter; this only keeps a
/// hostile package database from pushing every column off the screen.
const FIELD_WIDTH: usize = 48;
/// Longest suppression reason shown.
const REASON_WIDTH: usize = 80;

const HEADER: [&str; 6] = ["ID", "SEVERITY", "STATUS", "INSTALLED", "FIXED", "TITLE"];
const INDENT: &str = "  ";

/// Severities from the most to the least urgent, the order counts are printed in.
const SEVERITY_ORDER: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
];

pub(super) fn render(report: &Report, section: &VulnSection) -> String {
    let mut out = String::from("Vulnerabilities\n\n");
    if section.findings.is_empty() {
        out.push_str("No vulnerabilities reported.\n");
    } else {
        out.push_str(&findings(report, &section.findings));
    }
    out.push('\n');
    out.push_str(&totals(section));
    if let Some(line) = hidden(&section.selection, &section.hidden) {
        out.push_str(&line);
    }
    out.push_str(&suppressed(&section.suppressed));
    out.push_str(&notices(section));
    for gap in &section.gaps {
        out.push_str(&format!("Warning: {}\n", clean_cell(gap, usize::MAX)));
    }
    out.push_str(&database(section));
    out.push_str(&gate(&section.gate));
    out
}

/// The package a finding is in: the rows under one package line share all of it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct PackageKey<'a> {
    name: &'a str,
    installed_version: &'a str,
    purl: &'a str,
    layer: &'a str,
    path: &'a str,
}

impl<'a> From<&'a Finding> for PackageKey<'a> {
    fn from(f: &'a Finding) -> Self {
        PackageKey {
            name: &f.name,
            installed_version: &f.installed_version,
            purl: &f.purl,
            layer: &f.layer,
            path: &f.path,
        }
    }
}

/// The header, then each package line followed by its rows. Packages are ordered by
/// name and version; within a package the most severe finding comes first.
fn findings(report: &Report, findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| {
        PackageKey::from(*a)
            .cmp(&PackageKey::from(*b))
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    let rows: Vec<[String; 6]> = sorted.iter().map(|f| row(f)).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = aligned_line(INDENT, &widths, &HEADER);
    let mut current: Option<PackageKey<'_>> = None;
    for (f, row) in sorted.iter().zip(&rows) {
        let key = PackageKey::from(*f);
        if current.as_ref() != Some(&key) {
            out.push_str(&package_line(report, f));
            current = Some(key);
        }
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push_str(&aligned_line(INDENT, &widths, &cells));
    }
    out
}

/// `libc6 2.36-9+deb12u1  layer 1 sha256:0123456789ab  var/lib/dpkg/status`.
fn package_line(report: &Report, f: &Finding) -> String {
    let package = format!(
        "{} {}",
        clean_cell(&f.name, FIELD_WIDTH),
        clean_cell(&f.installed_version, FIELD_WIDTH)
    );
    let mut parts = vec![package];
    if !f.layer.is_empty() {
        let index = report
            .image
            .meta
            .layers
            .iter()
            .position(|l| l.diff_id == f.layer);
        let digest = clean_cell(short_digest(&f.layer), FIELD_WIDTH);
        parts.push(match index {
            Some(i) => format!("layer {i} {digest}"),
            None => format!("layer {digest}"),
        });
    }
    if !f.path.is_empty() {
        parts.push(clean_cell(&f.path, FIELD_WIDTH * 2));
    }
    format!("{}\n", parts.join("  "))
}

fn row(f: &Finding) -> [String; 6] {
    [
        clean_cell(&f.id, FIELD_WIDTH),
        severity_cell(f.severity, &f.severity_source),
        f.status.as_str().to_string(),
        clean_cell(&f.installed_version, FIELD_WIDTH),
        f.fixed_version
            .as_deref()
            .map(|v| clean_cell(v, FIELD_WIDTH))
            .unwrap_or_else(|| "-".to_string()),
        clean_cell(&f.title, TITLE_WIDTH),
    ]
}

/// `HIGH (debian)`: the level and who rated it, since a distro's rating and NVD's
/// often differ and readers need to know which one the gate used.
fn severity_cell(severity: Severity, source: &str) -> String {
    if source.is_empty() || source == "none" {
        severity.as_str().to_string()
    } else {
        format!(
            "{} ({})",
            severity.as_str(),
            clean_cell(source, FIELD_WIDTH)
        )
    }
}

/// `Total: 5 (CRITICAL 1, HIGH 2, MEDIUM 1, LOW 1, UNKNOWN 0)`.
fn totals(section: &VulnSection) -> String {
    let per: Vec<String> = SEVERITY_ORDER
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.as_str(),
                section.by_severity.get(s).copied().unwrap_or(0)
            )
        })
        .collect();
    format!("Total: {} ({})\n", section.findings.len(), per.join(", "))
}

/// What the selection left out, or `None` when nothing could have been left out.
fn hidden(selection: &Selection, hidden: &Hidden) -> Option<String> {
    let mut parts = Vec::new();
    if !selection.severities.is_empty() {
        let mut shown: Vec<Severity> = selection.severities.clone();
        shown.sort_by(|a, b| b.cmp(a));
        let names: Vec<&str> = shown.iter().map(|s| s.as_str()).collect();
        parts.push(format!(
            "{} outside --severity {}",
            hidden.by_severity,
            names.join(",")
        ));
    }
    if selection.ignore_unfixed {
        parts.push(format!(
            "{} without a fix (--ignore-unfixed)",
            hidden.unfixed
        ));
    }
    (!parts.is_empty()).then(|| format!("Hidden: {}\n", parts.join(", ")))
}

fn suppressed(list: &[Suppressed]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut sorted: Vec<&Suppressed> = list.iter().collect();
    sorted.sort_by(|a, b| {
        PackageKey::from(&a.finding)
            .cmp(&PackageKey::from(&b.finding))
            .then(a.finding.id.cmp(&b.finding.id))
    });
    let rows: Vec<[String; 4]> = sorted
        .iter()
        .map(|s| {
            let f = &s.finding;
            let (by, reason) = suppression(&s.suppressed);
            [
                clean_cell(&f.id, FIELD_WIDTH),
                format!(
                    "{} {}",
                    clean_cell(&f.name, FIELD_WIDTH),
                    clean_cell(&f.installed_version, FIELD_WIDTH)
                ),
                by,
                reason,
            ]
        })
        .collect();
    let mut out = format!("Suppressed: {}\n", list.len());
    out.push_str(&align(INDENT, &["ID", "PACKAGE", "BY", "REASON"], &rows));
    out
}

/// (by which rule or statement, why) of a suppression, as table cells.
fn suppression(by: &SuppressedBy) -> (String, String) {
    match by {
        SuppressedBy::Ignore {
            origin,
            reason,
            expires,
        } => {
            let until = expires
                .as_deref()
                .map(|e| format!(" until {}", clean_cell(e, FIELD_WIDTH)))
                .unwrap_or_default();
            (
                format!("ignore {}{until}", clean_cell(origin, FIELD_WIDTH)),
                clean_cell(reason, REASON_WIDTH),
            )
        }
        SuppressedBy::Vex {
            document,
            origin,
            status,
            justification,
            statement,
        } => {
            let mut why = clean_cell(status, FIELD_WIDTH);
            if let Some(j) = justification {
                why.push_str(&format!(": {}", clean_cell(j, FIELD_WIDTH)));
            }
            if let Some(s) = statement {
                why.push_str(&format!(" ({})", clean_cell(s, REASON_WIDTH)));
            }
            let place = if origin.is_empty() { document } else { origin };
            (
                format!("VEX {}", clean_cell(place, FIELD_WIDTH * 2)),
                clean_cell(&why, REASON_WIDTH),
            )
        }
    }
}

/// Expired and stale ignore rules and unmatched VEX statements: each is a policy
/// entry that no longer does what its author meant.
fn notices(section: &VulnSection) -> String {
    let policy = &section.policy;
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut add = |kind: &str, list: &[Notice], note: &dyn Fn(&Notice) -> String| {
        let mut sorted: Vec<&Notice> = list.iter().collect();
        sorted.sort();
        for n in sorted {
            rows.push([
                kind.to_string(),
                clean_cell(&n.origin, FIELD_WIDTH * 2),
                clean_cell(&n.subject, FIELD_WIDTH),
                note(n),
            ]);
        }
    };
    add(
        "expired ignore",
        &policy.expired_ignores,
        &|n| match &n.expires {
            Some(e) => format!("expired {}, no longer applies", clean_cell(e, FIELD_WIDTH)),
            None => "expired, no longer applies".to_string(),
        },
    );
    add("stale ignore", &policy.stale_ignores, &|_| {
        "matched no finding".to_string()
    });
    add("unmatched VEX", &policy.unmatched_vex, &|_| {
        "matched no finding".to_string()
    });
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!("Policy notices: {}\n", rows.len());
    out.push_str(&align(
        INDENT,
        &["NOTICE", "WHERE", "SUBJECT", "NOTE"],
        &rows,
    ));
    out
}

fn database(section: &VulnSection) -> String {
    let db = &section.database;
    let built = if db.built_at.is_empty() {
        "unknown".to_string()
    } else {
        clean_cell(&db.built_at, FIELD_WIDTH)
    };
    let id = if db.build_id.is_empty() {
        "unknown".to_string()
    } else {
        clean_cell(&db.build_id, FIELD_WIDTH)
    };
    format!("Database: built {built}, build {id}\n")
}

/// `Gate: FAILED: 3 findings at or above HIGH (--fail-on-findings)`.
fn gate(gate: &Gate) -> String {
    let matching = count(gate.matching, "finding", "findings");
    let level = gate.fail_on.as_str();
    if !gate.enabled {
        format!("Gate: disabled ({matching} at or above {level}; --fail-on-findings not set)\n")
    } else if gate.tripped {
        format!("Gate: FAILED: {matching} at or above {level} (--fail-on-findings)\n")
    } else {
        format!("Gate: passed: no findings at or above {level} (--fail-on-findings)\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate_of(enabled: bool, matching: usize) -> Gate {
        Gate {
            enabled,
            fail_on: Severity::High,
            matching,
            tripped: enabled && matching > 0,
        }
    }

    #[test]
    fn gate_lines() {
        assert_eq!(
            gate(&gate_of(true, 3)),
            "Gate: FAILED: 3 findings at or above HIGH (--fail-on-findings)\n"
        );
        assert_eq!(
            gate(&gate_of(true, 1)),
            "Gate: FAILED: 1 finding at or above HIGH (--fail-on-findings)\n"
        );
        assert_eq!(
            gate(&gate_of(true, 0)),
            "Gate: passed: no findings at or above HIGH (--fail-on-findings)\n"
        );
        assert_eq!(
            gate(&gate_of(false, 2)),
            "Gate: disabled (2 findings at or above HIGH; --fail-on-findings not set)\n"
        );
    }

    #[test]
    fn severity_cell_names_the_source() {
        assert_eq!(severity_cell(Severity::High, "debian"), "HIGH (debian)");
        assert_eq!(severity_cell(Severity::Unknown, "none"), "UNKNOWN");
    }

    #[test]
    fn hidden_only_when_selected() {
        let hidden_counts = Hidden {
            by_severity: 4,
            unfixed: 1,
        };
        let none = Selection {
            severities: vec![],
            ignore_unfixed: false,
        };
        assert_eq!(hidden(&none, &hidden_counts), None);
        let both = Selection {
            severities: vec![Severity::High, Severity::Critical],
            ignore_unfixed: true,
        };
        assert_eq!(
            hidden(&both, &hidden_counts).as_deref(),
            Some(
                "Hidden: 4 outside --severity CRITICAL,HIGH, 1 without a fix (--ignore-unfixed)\n"
            )
        );
    }
}

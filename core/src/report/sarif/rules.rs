//! One SARIF rule per advisory: the rule id is the advisory id, so the id stays the
//! same across scans and tool versions, as code-scanning services require to match
//! alerts between runs.
use super::escape;
use super::types::{Configuration, Help, Rule, RuleProperties, Text};
use crate::report::text::{clean, clean_cell};
use crate::vuln::{CvssScore, Finding, Severity};
use std::collections::BTreeMap;

/// Longest `shortDescription`: it is shown as the alert's title, on one line.
const SHORT_DESCRIPTION_WIDTH: usize = 200;

/// The rules for `findings` (reported and suppressed alike: a suppressed result needs
/// its rule too), sorted by id, and each id's index in that list.
pub(super) fn rules<'a>(
    findings: impl Iterator<Item = &'a Finding>,
) -> (Vec<Rule>, BTreeMap<String, usize>) {
    let mut by_id: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_id.entry(f.id.as_str()).or_default().push(f);
    }
    let mut rules = Vec::with_capacity(by_id.len());
    let mut index = BTreeMap::new();
    for (id, group) in by_id {
        let Some(worst) = most_severe(&group) else {
            continue;
        };
        index.insert(id.to_string(), rules.len());
        rules.push(rule(id, worst, &group));
    }
    (rules, index)
}

/// The finding that describes a rule: the same advisory can be rated differently for
/// two packages (a distro rating for one, NVD's CVSS for another), and a rule has one
/// severity, so it takes the one that matters most.
fn most_severe<'a>(group: &[&'a Finding]) -> Option<&'a Finding> {
    group.iter().copied().max_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(security_severity(a).total_cmp(&security_severity(b)))
    })
}

/// The rule for advisory `id`, found in `group`, described by its `worst` finding.
fn rule(id: &str, worst: &Finding, group: &[&Finding]) -> Rule {
    let title = group
        .iter()
        .map(|f| f.title.as_str())
        .find(|t| !t.trim().is_empty())
        .unwrap_or("");
    let mut aliases: Vec<&str> = group
        .iter()
        .flat_map(|f| f.aliases.iter().map(String::as_str))
        .collect();
    aliases.sort_unstable();
    aliases.dedup();
    let help_uri = help_uri(id);
    let clean_title = clean(title)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let short = clean_cell(
        if clean_title.is_empty() {
            id
        } else {
            &clean_title
        },
        SHORT_DESCRIPTION_WIDTH,
    );
    let mut full = if clean_title.is_empty() {
        clean(id)
    } else {
        clean_title.clone()
    };
    if !aliases.is_empty() {
        full.push_str(&format!(" (also known as {})", clean(&aliases.join(", "))));
    }
    Rule {
        id: id.to_string(),
        short_description: Text { text: short },
        full_description: Text { text: full },
        default_configuration: Configuration {
            level: level(worst.severity),
        },
        help: help(id, worst, &clean_title, &aliases, &help_uri),
        help_uri,
        properties: RuleProperties {
            security_severity: format!("{:.1}", security_severity(worst)),
            tags: vec![
                "vulnerability".to_string(),
                "security".to_string(),
                worst.severity.as_str().to_string(),
            ],
        },
    }
}

/// OSV.dev has a page for every id the database is built from (OSV records, their
/// aliases and upstream ids), whatever the ecosystem.
fn help_uri(id: &str) -> String {
    format!(
        "https://osv.dev/vulnerability/{}",
        escape::uri_path(id, false)
    )
}

fn help(id: &str, worst: &Finding, title: &str, aliases: &[&str], uri: &str) -> Help {
    let severity = severity_words(worst);
    let cvss = worst.cvss.as_ref().map(cvss_words);
    let mut text = format!("Vulnerability {}\nSeverity: {severity}\n", clean(id));
    if let Some(c) = &cvss {
        text.push_str(&format!("CVSS: {}\n", clean(c)));
    }
    if !aliases.is_empty() {
        text.push_str(&format!("Aliases: {}\n", clean(&aliases.join(", "))));
    }
    if !title.is_empty() {
        text.push_str(&format!("{title}\n"));
    }
    text.push_str(&format!("More information: {uri}"));

    let md_aliases: Vec<String> = aliases.iter().map(|a| escape::markdown(a)).collect();
    let mut markdown = format!(
        "**Vulnerability {}**\n\n| Severity | CVSS | Aliases |\n| --- | --- | --- |\n| {} | {} | {} |\n\n",
        escape::markdown(id),
        escape::markdown(&severity),
        cvss.as_deref()
            .map(escape::markdown)
            .unwrap_or_else(|| "none".to_string()),
        if md_aliases.is_empty() {
            "none".to_string()
        } else {
            md_aliases.join(", ")
        },
    );
    if !title.is_empty() {
        markdown.push_str(&format!("{}\n\n", escape::markdown(title)));
    }
    markdown.push_str(&format!("[{} on OSV.dev]({uri})", escape::markdown(id)));
    Help { text, markdown }
}

/// `HIGH (rated by debian)`.
fn severity_words(f: &Finding) -> String {
    if f.severity_source.is_empty() || f.severity_source == "none" {
        f.severity.as_str().to_string()
    } else {
        format!(
            "{} (rated by {})",
            f.severity.as_str(),
            clean(&f.severity_source)
        )
    }
}

/// `7.8 (CVSS:3.1/AV:L/…)`.
fn cvss_words(c: &CvssScore) -> String {
    format!("{:.1} ({})", c.score, c.vector)
}

/// The SARIF level of a severity: `error` for what should block a merge, `warning`
/// for what should be planned, `note` for the rest.
pub(super) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// The number GitHub code scanning reads from a rule's `security-severity` property
/// to rank alerts and to file them as critical (9.0 and above), high (7.0–8.9),
/// medium (4.0–6.9) or low (below 4.0); without it, GitHub shows security results
/// only by their SARIF level.
///
/// The finding's CVSS base score when it falls in the band of the finding's severity;
/// otherwise a number inside that band. A distro often rates a flaw lower than its CVSS
/// score (a LOW `unimportant` with a 9.8 vector), and the report, the table and the
/// gate use the distro's rating: the dashboard must not show the same finding as
/// critical. The numbers sit mid-band (CRITICAL 9.5, HIGH 8.0, MEDIUM 5.5, LOW 2.0),
/// UNKNOWN is 0.0 (no rating to rank by).
pub(super) fn security_severity(f: &Finding) -> f64 {
    match &f.cvss {
        Some(c)
            if c.score.is_finite()
                && (0.0..=10.0).contains(&c.score)
                && band(c.score) == f.severity =>
        {
            c.score
        }
        _ => level_score(f.severity),
    }
}

fn level_score(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    }
}

/// GitHub's (and CVSS v3's) bands.
fn band(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::Status;

    fn finding(severity: Severity, cvss: Option<f64>) -> Finding {
        Finding {
            id: "CVE-2023-4911".into(),
            aliases: vec![],
            name: "libc6".into(),
            installed_version: "2.36-9".into(),
            fixed_version: None,
            status: Status::Affected,
            severity,
            severity_source: "debian".into(),
            cvss: cvss.map(|score| CvssScore {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".into(),
                score,
            }),
            title: String::new(),
            ecosystem: "Debian:12".into(),
            source_name: "glibc".into(),
            source_version: "2.36-9".into(),
            purl: String::new(),
            path: String::new(),
            layer: String::new(),
        }
    }

    #[test]
    fn security_severity_agrees_with_the_reported_severity() {
        assert_eq!(security_severity(&finding(Severity::High, Some(7.8))), 7.8);
        // Debian says LOW for a 9.8 vector: the dashboard follows Debian.
        assert_eq!(security_severity(&finding(Severity::Low, Some(9.8))), 2.0);
        assert_eq!(security_severity(&finding(Severity::Critical, None)), 9.5);
        assert_eq!(
            security_severity(&finding(Severity::Medium, Some(f64::NAN))),
            5.5
        );
        assert_eq!(security_severity(&finding(Severity::Unknown, None)), 0.0);
    }

    #[test]
    fn a_rule_takes_its_most_severe_finding() {
        let low = finding(Severity::Low, None);
        let high = finding(Severity::High, Some(7.8));
        let (rules, index) = rules([&low, &high].into_iter());
        assert_eq!(rules.len(), 1);
        assert_eq!(index.get("CVE-2023-4911"), Some(&0));
        assert_eq!(rules[0].default_configuration.level, "error");
        assert_eq!(rules[0].properties.security_severity, "7.8");
        assert_eq!(
            rules[0].help_uri,
            "https://osv.dev/vulnerability/CVE-2023-4911"
        );
    }
}

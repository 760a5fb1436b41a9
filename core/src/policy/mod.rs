//! Suppression policy: ignore rules (`.customs.yaml` / `--ignore-file`) and OpenVEX
//! statements (`--vex`), applied to vulnerability findings.
//!
//! The host reads the files (YAML is parsed there, into [`IgnoreRule`]s; VEX documents
//! are passed as text and parsed here, because they come from third parties) and
//! passes today's date: the core has no clock. Everything here is pure and
//! deterministic.
//!
//! Ignore rules are the team's own decisions, so they are applied first; a finding
//! they do not cover may still be removed by the latest VEX statement about it.
//! Rules and statements are judged against every finding independently of each
//! other, so a rule is not reported stale merely because a VEX statement also
//! covers its finding.
mod date;
mod glob;
mod ignore;
mod image;
mod openvex;
mod purl_match;
mod vex;

pub use ignore::{MAX_IGNORE_RULES, validate_ignore_rule};
pub use openvex::{MAX_COMPONENTS, MAX_STATEMENTS};

use crate::CoreError;
use crate::vuln::Finding;
use date::Date;
use ignore::CompiledRule;
use image::ImageIdentity;
use purl_match::Purl;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use vex::VexStatements;

/// `text` with control characters escaped (`\r` → `\\r`): errors quote document
/// content, and an error message must stay one line, so that a crafted document can
/// not forge lines in a CI log.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// What the host passes: the ignore rules and the VEX documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignores: Vec<IgnoreRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<VexInput>,
}

/// One ignore rule. At least one of `id`, `package`, `path`, `purl` is set; all that
/// are set must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreRule {
    /// An advisory id; matches the finding's id or any of its aliases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A package name (the installed package or its source package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// A glob over the path of the file that lists the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A purl; qualifiers and version are compared leniently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Why the finding is accepted (required).
    pub reason: String,
    /// `YYYY-MM-DD` (or an RFC 3339 timestamp); the rule stops applying after that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the rule was written (`.customs.yaml: ignores[2]`), for notices.
    pub origin: String,
}

/// A VEX document as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexInput {
    /// The file name, for notices and errors.
    pub name: String,
    /// The document (OpenVEX JSON).
    pub text: String,
}

/// Why a finding is not reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum SuppressedBy {
    /// An ignore rule.
    Ignore {
        origin: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    },
    /// A VEX statement (`status` is `not_affected` or `fixed`).
    Vex {
        /// The document's name as given (`--vex app.openvex.json`).
        document: String,
        /// The statement that decided: `app.openvex.json: statements[2]`.
        origin: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        justification: Option<String>,
        /// The statement's free text: its `impact_statement`, else its `status_notes`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        statement: Option<String>,
    },
}

/// A finding the policy removed, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub suppressed: SuppressedBy,
}

/// A rule or statement the user should look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Notice {
    /// Where it was written (`origin` of an ignore rule, `file.json: statements[3]` of VEX).
    pub origin: String,
    /// What it names (id / package / purl), for the message.
    pub subject: String,
    /// The expiry date (`YYYY-MM-DD`), for expired rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// The result of [`apply`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyOutcome {
    /// Findings still reported, in input order.
    pub kept: Vec<Finding>,
    /// Findings removed, in input order.
    pub suppressed: Vec<Suppressed>,
    /// Ignore rules past their `expires` date (they no longer apply).
    pub expired_ignores: Vec<Notice>,
    /// Ignore rules (not expired) that matched no finding.
    pub stale_ignores: Vec<Notice>,
    /// VEX statements that matched no finding.
    pub unmatched_vex: Vec<Notice>,
}

/// What the policy is judged against besides the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyContext {
    /// Today (`YYYY-MM-DD`), for `expires`.
    pub today: String,
    /// The scanned image's reference as given (`registry/repo:tag`, archive path …).
    pub image_reference: String,
    /// The image's digests (config digest, manifest digest when known), for VEX
    /// statements whose product is the image (`pkg:oci/…@sha256:…`).
    pub image_digests: Vec<String>,
}

/// Applies the ignore rules and VEX statements to `findings`. Errors name the
/// document and the place (a malformed VEX document, a rule without reason or
/// selector, a bad date).
pub fn apply(
    findings: Vec<Finding>,
    policy: &Policy,
    context: &PolicyContext,
) -> Result<PolicyOutcome, CoreError> {
    if policy.ignores.len() > MAX_IGNORE_RULES {
        return Err(CoreError::InvalidDocument {
            what: "ignore-rule",
            reason: format!(
                "{} ignore rules exceed the limit of {MAX_IGNORE_RULES}",
                policy.ignores.len()
            ),
        });
    }
    let rules = policy
        .ignores
        .iter()
        .map(CompiledRule::new)
        .collect::<Result<Vec<_>, _>>()?;
    let today = if rules.iter().any(|r| r.expires.is_some()) {
        Some(Date::parse_day_of(context.today.trim()).ok_or_else(|| {
            CoreError::Usage(format!(
                "policy: today's date `{}` is not a date (YYYY-MM-DD)",
                printable(&context.today)
            ))
        })?)
    } else {
        None
    };
    let (expired, active): (Vec<CompiledRule<'_>>, Vec<CompiledRule<'_>>) =
        rules.into_iter().partition(|r| r.is_expired(today));

    let statements = VexStatements::parse(&policy.vex)?;
    let image = ImageIdentity::new(&context.image_reference, &context.image_digests);

    let mut rule_matched = vec![false; active.len()];
    let mut statement_matched = vec![false; statements.len()];
    let mut outcome = PolicyOutcome::default();
    for finding in findings {
        let purl = Purl::parse(&finding.purl).ok();
        let mut decision: Option<SuppressedBy> = None;
        for (i, rule) in active.iter().enumerate() {
            if rule.matches(&finding, purl.as_ref()) {
                rule_matched[i] = true;
                decision.get_or_insert_with(|| SuppressedBy::Ignore {
                    origin: rule.rule.origin.clone(),
                    reason: rule.rule.reason.trim().to_string(),
                    expires: rule.expires.map(|d| d.to_string()),
                });
            }
        }
        // Evaluated even when a rule decided, so that the statements it covers
        // are not reported as unmatched.
        let latest = statements.deciding(&finding, purl.as_ref(), &image, &mut statement_matched);
        if decision.is_none() {
            decision = latest
                .filter(|s| s.status.suppresses())
                .map(|s| SuppressedBy::Vex {
                    document: s.document.clone(),
                    origin: s.origin.clone(),
                    status: s.status.as_str().to_string(),
                    justification: s.justification.clone(),
                    statement: s.statement.clone(),
                });
        }
        match decision {
            Some(suppressed) => outcome.suppressed.push(Suppressed {
                finding,
                suppressed,
            }),
            None => outcome.kept.push(finding),
        }
    }

    let notice = |rule: &CompiledRule<'_>, expires: Option<String>| Notice {
        origin: rule.rule.origin.clone(),
        subject: rule.subject(),
        expires,
    };
    outcome.expired_ignores = expired
        .iter()
        .map(|r| notice(r, r.expires.map(|d| d.to_string())))
        .collect();
    outcome.stale_ignores = active
        .iter()
        .zip(&rule_matched)
        .filter(|(_, matched)| !**matched)
        .map(|(r, _)| notice(r, None))
        .collect();
    outcome.unmatched_vex = statements.unmatched(&statement_matched);
    for notices in [
        &mut outcome.expired_ignores,
        &mut outcome.stale_ignores,
        &mut outcome.unmatched_vex,
    ] {
        notices.sort_by(|a, b| natural_cmp(&a.origin, &b.origin).then_with(|| a.cmp(b)));
    }
    Ok(outcome)
}

/// Orders text with digit runs compared as numbers, so `ignores[2]` comes before
/// `ignores[10]` and notices read in the order the rules were written.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, ra) = a.split_at(a.iter().take_while(|c| c.is_ascii_digit()).count());
                let (db, rb) = b.split_at(b.iter().take_while(|c| c.is_ascii_digit()).count());
                let (ta, tb) = (trim_zeros(da), trim_zeros(db));
                let by_value = ta
                    .len()
                    .cmp(&tb.len())
                    .then_with(|| ta.cmp(tb))
                    .then_with(|| da.len().cmp(&db.len()));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().take_while(|c| **c == b'0').count();
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_origins() {
        let mut origins = vec![
            "b.json: statements[10]",
            "a.yaml: ignores[2]",
            "b.json: statements[9]",
            "a.yaml: ignores[10]",
            "a.yaml: ignores[02]",
        ];
        origins.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            origins,
            [
                "a.yaml: ignores[2]",
                "a.yaml: ignores[02]",
                "a.yaml: ignores[10]",
                "b.json: statements[9]",
                "b.json: statements[10]"
            ]
        );
    }
}

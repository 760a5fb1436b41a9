//! One SARIF result per finding, reported or suppressed.
//!
//! Where a result points (the decision this module documents):
//!
//! - `physicalLocation.artifactLocation.uri` is the package database that lists the
//!   package, as a path inside the image (`var/lib/dpkg/status`), with `uriBaseId`
//!   `ROOTPATH` (the image's root filesystem) and `region.startLine` 1. GitHub code
//!   scanning rejects a result without a non-empty `uri`, rejects URI schemes other
//!   than `file` (so no `pkg:` purl and no `https:` link), reads a relative URI as a
//!   path in the repository and shows the alert even when no such file is checked
//!   in, and needs `region.startLine` to place it. The database path is the one
//!   location that names where the vulnerable package is recorded and does not change
//!   when the image is rebuilt, retagged or pushed elsewhere; an image reference would
//!   (`app:1.2` → `app:1.3`), and code scanning would close and reopen every alert on
//!   each release. `ROOTPATH` is deliberately not defined in `originalUriBaseIds`: a
//!   `file:///` base would turn the path into an absolute one outside the checkout,
//!   which GitHub drops.
//! - a `logicalLocations` pair names what the path is relative to: the image
//!   (reference, image ID as its decorated name) and the layer that introduced the
//!   package (index, diffID).
//! - `partialFingerprints` carries [`super::super::fingerprint`]'s identity, so alerts
//!   survive package upgrades that leave them open and do not merge across packages.
//!
//! A suppressed finding is a result with a `suppressions` entry (`external`: the
//! decision lives in an ignore file or a VEX document, not in the scanned artifact;
//! `accepted`: it is in force), which code scanning shows as a dismissed alert rather
//! than dropping the history of the alert.
use super::escape;
use super::rules::level;
use super::types::{
    ArtifactLocation, Cvss, Location, LogicalLocation, PhysicalLocation, Region, ResultProperties,
    SarifResult, Suppression, SuppressionProperties, Text,
};
use crate::model::Report;
use crate::policy::SuppressedBy;
use crate::report::fingerprint;
use crate::report::text::{clean, short_digest};
use crate::vuln::{Finding, Status};
use std::collections::BTreeMap;

/// The result for `f`; `suppressed_by` is set for a finding the policy removed.
/// `None` only if `f`'s advisory has no rule, which [`super::rules::rules`] rules out.
pub(super) fn result(
    report: &Report,
    f: &Finding,
    suppressed_by: Option<&SuppressedBy>,
    rule_index: &BTreeMap<String, usize>,
) -> Option<SarifResult> {
    let index = *rule_index.get(&f.id)?;
    let layer_index = report
        .image
        .meta
        .layers
        .iter()
        .position(|l| l.diff_id == f.layer);
    Some(SarifResult {
        rule_id: f.id.clone(),
        rule_index: index,
        level: level(f.severity),
        message: Text {
            text: message(report, f, layer_index),
        },
        locations: vec![location(report, f, layer_index)],
        partial_fingerprints: BTreeMap::from([(fingerprint::KEY, fingerprint::of(f))]),
        suppressions: suppressed_by.map(suppression).into_iter().collect(),
        properties: properties(f, layer_index),
    })
}

/// `Package libc6 2.36-9+deb12u1 is affected by CVE-2023-4911 (HIGH, rated by debian).
/// Fixed version: 2.36-9+deb12u3. Image: debian:12, layer 0 (sha256:…), package
/// database var/lib/dpkg/status.` The first sentence stands alone: services show
/// only it where space is short.
fn message(report: &Report, f: &Finding, layer_index: Option<usize>) -> String {
    let rating = if f.severity_source.is_empty() || f.severity_source == "none" {
        f.severity.as_str().to_string()
    } else {
        format!(
            "{}, rated by {}",
            f.severity.as_str(),
            clean(&f.severity_source)
        )
    };
    let mut text = format!(
        "Package {} {} is affected by {} ({rating}).",
        clean(&f.name),
        clean(&f.installed_version),
        clean(&f.id),
    );
    match (&f.fixed_version, f.status) {
        (Some(v), _) => text.push_str(&format!(" Fixed version: {}.", clean(v))),
        (None, status) => text.push_str(&format!(" No fixed version: {}.", unfixed_words(status))),
    }
    text.push_str(&format!(" Image: {}", clean(&report.image.meta.reference)));
    if !f.layer.is_empty() {
        match layer_index {
            Some(i) => text.push_str(&format!(", layer {i} ({})", clean(short_digest(&f.layer)))),
            None => text.push_str(&format!(", layer {}", clean(short_digest(&f.layer)))),
        }
    }
    if !f.path.is_empty() {
        text.push_str(&format!(", package database {}", clean(&f.path)));
    }
    text.push('.');
    text
}

fn unfixed_words(status: Status) -> &'static str {
    match status {
        Status::Affected | Status::Fixed => "no fix has been published yet",
        Status::WillNotFix => "the distribution will not fix it in this release",
        Status::FixDeferred => "the distribution has deferred the fix",
        Status::EndOfLife => "the release is out of support",
    }
}

fn location(report: &Report, f: &Finding, layer_index: Option<usize>) -> Location {
    let meta = &report.image.meta;
    let image = clean(&meta.reference);
    let mut logical = vec![LogicalLocation {
        name: image.clone(),
        fully_qualified_name: image.clone(),
        decorated_name: Some(clean(&meta.config_digest)).filter(|d| !d.is_empty()),
        kind: "image",
    }];
    if !f.layer.is_empty() {
        let name = match layer_index {
            Some(i) => format!("layer {i}"),
            None => "layer".to_string(),
        };
        logical.push(LogicalLocation {
            fully_qualified_name: format!("{image} {name}"),
            name,
            decorated_name: Some(clean(&f.layer)),
            kind: "layer",
        });
    }
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: artifact_uri(report, f),
                uri_base_id: "ROOTPATH",
            },
            region: Region { start_line: 1 },
        },
        logical_locations: logical,
        message: Text {
            text: format!(
                "{} {} in {image}",
                clean(&f.name),
                clean(&f.installed_version)
            ),
        },
    }
}

/// The package database path, percent-encoded; for a finding that names none (older
/// reports), the database of the matching package, and failing that the image
/// reference, so the `uri` is never empty.
fn artifact_uri(report: &Report, f: &Finding) -> String {
    let path = if !f.path.is_empty() {
        f.path.as_str()
    } else {
        report
            .packages
            .iter()
            .find(|p| {
                p.name == f.name
                    && p.version == f.installed_version
                    && (f.layer.is_empty() || p.layer == f.layer)
            })
            .map(|p| p.db_path.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or(&report.image.meta.reference)
    };
    let uri = escape::uri_path(path.trim_start_matches('/'), true);
    if uri.is_empty() {
        "image".to_string()
    } else {
        uri
    }
}

fn suppression(by: &SuppressedBy) -> Suppression {
    match by {
        SuppressedBy::Ignore {
            origin,
            reason,
            expires,
        } => Suppression {
            kind: "external",
            status: "accepted",
            // Services show the justification as the dismissal comment: it says where
            // the decision is written, so a reader can find and revisit it.
            justification: format!(
                "{} (ignore rule {}{})",
                clean(reason),
                clean(origin),
                expires
                    .as_deref()
                    .map(|e| format!(", until {}", clean(e)))
                    .unwrap_or_default()
            ),
            properties: SuppressionProperties {
                suppressed_by: "ignore",
                origin: clean(origin),
                expires: expires.as_deref().map(clean),
                vex_status: None,
                vex_justification: None,
            },
        },
        SuppressedBy::Vex {
            document,
            origin,
            status,
            justification,
            statement,
        } => {
            let place = if origin.is_empty() { document } else { origin };
            let mut why = format!("VEX {}: {}", clean(place), clean(status));
            if let Some(j) = justification {
                why.push_str(&format!(" ({})", clean(j)));
            }
            if let Some(s) = statement {
                why.push_str(&format!(": {}", clean(s)));
            }
            Suppression {
                kind: "external",
                status: "accepted",
                justification: why,
                properties: SuppressionProperties {
                    suppressed_by: "vex",
                    origin: clean(place),
                    expires: None,
                    vex_status: Some(clean(status)),
                    vex_justification: justification.as_deref().map(clean),
                },
            }
        }
    }
}

fn properties(f: &Finding, layer_index: Option<usize>) -> ResultProperties {
    ResultProperties {
        severity: f.severity.as_str(),
        severity_source: f.severity_source.clone(),
        status: f.status.as_str(),
        package_name: f.name.clone(),
        installed_version: f.installed_version.clone(),
        fixed_version: f.fixed_version.clone(),
        source_name: f.source_name.clone(),
        source_version: f.source_version.clone(),
        ecosystem: f.ecosystem.clone(),
        purl: f.purl.clone(),
        package_database: f.path.clone(),
        layer: f.layer.clone(),
        layer_index,
        aliases: f.aliases.clone(),
        cvss: f.cvss.as_ref().map(|c| Cvss {
            version: c.version.clone(),
            vector: c.vector.clone(),
            score: c.score,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfixed_statuses_have_words() {
        assert_eq!(
            unfixed_words(Status::WillNotFix),
            "the distribution will not fix it in this release"
        );
    }
}

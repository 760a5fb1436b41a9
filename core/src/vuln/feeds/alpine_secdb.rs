//! Alpine's security database (`secdb.alpinelinux.org/v3.x/{main,community}.json`)
//! → OSV.
//!
//! The secdb lists, per origin package of a release branch, the versions that fixed
//! each issue: `secfixes: {"1.2.3-r1": ["CVE-…", …]}`. Each issue becomes one record
//! `ALPINE-<id>` (osv.dev's naming) with `upstream: [<id>]` and, per package, the
//! range `introduced: 0, fixed: <version>`. The version `"0"` means the package was
//! never affected in this branch, so it produces no entry. When an issue is listed
//! under several versions of one package (an incomplete first fix), the highest one
//! is kept: a scanner must not call a version fixed that the distro later re-fixed.
use crate::model::Ecosystem;
use crate::version;
use crate::vuln::osv::{Affected, Event, Package, Range, Vulnerability};
use serde::{Deserialize, Deserializer};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A whole secdb document (JSON, or the historical YAML read with a YAML parser).
#[derive(Debug, Clone, Deserialize)]
pub struct SecDb {
    /// `v3.18`, `edge`.
    pub distroversion: String,
    #[serde(default)]
    pub reponame: Option<String>,
    /// A list; an empty one is served as `{}` by secdb, so a map is read as its values.
    #[serde(default, deserialize_with = "packages")]
    pub packages: Vec<PackageWrapper>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PackageWrapper {
    pub pkg: SecPackage,
}

/// One origin package's fixes. Also the shape of a single-package file
/// (`alpine/3.18/main/<pkg>.json` of vuln-list), whose extra fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct SecPackage {
    pub name: String,
    /// Fixed version → issue ids (each string may hold several, space-separated).
    #[serde(default, deserialize_with = "secfixes")]
    pub secfixes: BTreeMap<String, Vec<String>>,
}

fn packages<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PackageWrapper>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrMap {
        List(Vec<PackageWrapper>),
        Map(BTreeMap<String, PackageWrapper>),
    }
    Ok(match Option::<ListOrMap>::deserialize(d)? {
        None => Vec::new(),
        Some(ListOrMap::List(l)) => l,
        Some(ListOrMap::Map(m)) => m.into_values().collect(),
    })
}

/// `secfixes` with `null` maps, `null` list items and empty lists served as `{}`
/// tolerated (all occur in real secdb files); any other non-string item is ignored.
fn secfixes<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let ids = match v {
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                serde_json::Value::String(s) => vec![s],
                _ => Vec::new(),
            };
            (k, ids)
        })
        .collect())
}

/// Largest number of issue ids taken from one secfixes line.
const MAX_IDS_PER_ENTRY: usize = 256;

/// Converts the packages of one release branch (`distroversion` as secdb spells it,
/// e.g. `v3.18`) into OSV records, sorted by id.
pub fn to_osv<'a>(
    distroversion: &str,
    packages: impl IntoIterator<Item = &'a SecPackage>,
) -> Vec<Vulnerability> {
    let ecosystem = format!("Alpine:{}", distroversion.trim());
    // issue id → package → highest fixed version
    let mut by_issue: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for pkg in packages {
        for (fixed, ids) in &pkg.secfixes {
            let fixed = fixed.trim();
            if fixed.is_empty() || fixed == "0" {
                continue;
            }
            for id in ids
                .iter()
                .flat_map(|s| s.split_whitespace())
                .take(MAX_IDS_PER_ENTRY)
            {
                let slot = by_issue
                    .entry(id.to_string())
                    .or_default()
                    .entry(pkg.name.clone())
                    .or_default();
                if slot.is_empty()
                    || version::compare(Ecosystem::Apk, fixed, slot) == Ordering::Greater
                {
                    *slot = fixed.to_string();
                }
            }
        }
    }
    by_issue
        .into_iter()
        .map(|(issue, pkgs)| Vulnerability {
            // Alpine's own ids (`ALPINE-13661`) are already namespaced.
            id: if issue.starts_with("ALPINE-") {
                issue.clone()
            } else {
                format!("ALPINE-{issue}")
            },
            upstream: if issue.starts_with("ALPINE-") {
                Vec::new()
            } else {
                vec![issue]
            },
            affected: pkgs
                .into_iter()
                .map(|(name, fixed)| Affected {
                    package: Some(Package {
                        ecosystem: ecosystem.clone(),
                        name,
                        purl: None,
                    }),
                    ranges: vec![Range {
                        kind: "ECOSYSTEM".into(),
                        events: vec![
                            Event {
                                introduced: Some("0".into()),
                                ..Event::default()
                            },
                            Event {
                                fixed: Some(fixed),
                                ..Event::default()
                            },
                        ],
                        ..Range::default()
                    }],
                    ..Affected::default()
                })
                .collect(),
            ..Vulnerability::default()
        })
        .collect()
}

impl SecDb {
    /// Parses a secdb JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<Self, crate::CoreError> {
        serde_json::from_slice(bytes).map_err(|e| crate::CoreError::InvalidDocument {
            what: "Alpine secdb",
            reason: e.to_string().replace('\n', " "),
        })
    }

    /// This document's records.
    pub fn to_osv(&self) -> Vec<Vulnerability> {
        to_osv(&self.distroversion, self.packages.iter().map(|w| &w.pkg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_skips_never_affected() {
        let empty = SecDb::from_json(br#"{"distroversion":"v3.3","packages":{}}"#).unwrap();
        assert!(empty.to_osv().is_empty());
        let db = SecDb::from_json(
            br#"{"distroversion":"v3.18","packages":[{"pkg":{"name":"musl","secfixes":{
            "1.1.15-r4":["CVE-2016-8859"],"0":["CVE-2000-1"],"1.2.0-r1":["CVE-2020-9 XSA-1"],"1.2.1-r0":["CVE-2020-9"]}}}]}"#,
        )
        .unwrap();
        let recs = db.to_osv();
        let ids: Vec<_> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["ALPINE-CVE-2016-8859", "ALPINE-CVE-2020-9", "ALPINE-XSA-1"]
        );
        let fixed = recs[1].affected[0].ranges[0].events[1].fixed.as_deref();
        assert_eq!(fixed, Some("1.2.1-r0"));
        assert_eq!(
            recs[0].affected[0].package.as_ref().unwrap().ecosystem,
            "Alpine:v3.18"
        );
    }
}

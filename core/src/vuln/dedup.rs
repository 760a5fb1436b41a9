//! From matched advisory entries to findings: one finding per (package, flaw).
//!
//! A *flaw* is identified by its CVE id whenever the data names one: a record whose id
//! is a CVE is that flaw; a distro or GitHub advisory (`DSA-…`, `DLA-…`, `ALSA-…`,
//! `UBUNTU-CVE-…`, `GHSA-…`) stands for each CVE in its `aliases` and `upstream`, so an
//! advisory fixing three CVEs yields three findings, each listing the advisory id, and
//! a DSA and the CVE it fixes yield one. `related` ids are different flaws and are
//! never merged. A record naming no CVE is its own flaw.
//!
//! Primary id (deterministic): the CVE when there is one; otherwise the smallest id by
//! (kind, text) with kinds ordered CVE < GHSA < everything else. Every other id lands
//! in `aliases`, sorted.
//!
//! When several entries describe the same flaw for the same package, the finding is
//! `fixed` if any of them gives a fixed version above the installed one (the lowest
//! such version is reported); otherwise the most specific status wins
//! (end_of_life > will_not_fix > fix_deferred > affected).
use super::db::AdvisoryDb;
use super::ecosystem;
use super::finding::{Finding, Status};
use super::matcher::{Hit, PackageQuery};
use super::osv::Vulnerability;
use super::severity::{self, CvssScore, Severity};
use crate::model::Ecosystem;
use crate::version;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Whether `id` is a CVE id.
pub fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// Sort rank of an id kind for the primary-id choice.
fn rank(id: &str) -> u8 {
    if is_cve(id) {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else {
        2
    }
}

/// The primary id among `ids` (see the module docs).
pub fn primary_id<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ids.into_iter()
        .min_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)))
}

/// The flaws a record stands for, each with the ids the finding should carry.
pub(crate) fn flaws(record: &Vulnerability) -> Vec<(String, BTreeSet<String>)> {
    if is_cve(&record.id) {
        let ids = std::iter::once(&record.id)
            .chain(&record.aliases)
            .chain(&record.upstream)
            .cloned()
            .collect();
        return vec![(record.id.clone(), ids)];
    }
    let linked = || record.aliases.iter().chain(&record.upstream);
    let cves: BTreeSet<&String> = linked().filter(|id| is_cve(id)).collect();
    let others: BTreeSet<String> = std::iter::once(&record.id)
        .chain(linked())
        .filter(|id| !is_cve(id))
        .cloned()
        .collect();
    if cves.is_empty() {
        let primary = primary_id(others.iter().map(String::as_str))
            .unwrap_or(&record.id)
            .to_string();
        return vec![(primary, others)];
    }
    cves.into_iter()
        .map(|cve| {
            let mut ids = others.clone();
            ids.insert(cve.clone());
            (cve.clone(), ids)
        })
        .collect()
}

/// How specific an unfixed status is, for merging.
fn specificity(s: Status) -> u8 {
    match s {
        Status::Fixed => 4,
        Status::EndOfLife => 3,
        Status::WillNotFix => 2,
        Status::FixDeferred => 1,
        Status::Affected => 0,
    }
}

struct Group<'db> {
    ids: BTreeSet<String>,
    hits: Vec<&'db Vulnerability>,
    ratings: Vec<(&'db str, Severity)>,
    key: String,
    eco: Ecosystem,
    ecosystem: &'db str,
    fixed: Option<String>,
    status: Status,
}

/// Builds the sorted findings.
pub(crate) fn findings(
    db: &AdvisoryDb,
    packages: &[PackageQuery<'_>],
    hits: Vec<Hit<'_>>,
) -> Vec<Finding> {
    let mut groups: BTreeMap<(usize, String), Group<'_>> = BTreeMap::new();
    for hit in hits {
        let record = &db.records[hit.entry.record];
        for (flaw, ids) in flaws(record) {
            let g = groups.entry((hit.package, flaw)).or_insert_with(|| Group {
                ids: BTreeSet::new(),
                hits: Vec::new(),
                ratings: Vec::new(),
                key: hit.key.clone(),
                eco: hit.entry.eco,
                ecosystem: &hit.entry.ecosystem,
                fixed: None,
                status: Status::Affected,
            });
            g.ids.extend(ids);
            g.hits.push(record);
            if let Some(r) = hit.entry.rating {
                g.ratings.push((&record.id, r));
            }
            if let Some(f) = &hit.fixed {
                let lower = g
                    .fixed
                    .as_deref()
                    .is_none_or(|cur| version::compare(hit.entry.eco, f, cur) == Ordering::Less);
                if lower {
                    g.fixed = Some(f.clone());
                }
            }
            if specificity(hit.status) > specificity(g.status) {
                g.status = hit.status;
            }
        }
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|((pkg, flaw), g)| build(db, &packages[pkg], flaw, g))
        .collect();
    out.sort_by(|a, b| {
        (&a.name, &a.installed_version, &a.purl, &a.layer, &a.id).cmp(&(
            &b.name,
            &b.installed_version,
            &b.purl,
            &b.layer,
            &b.id,
        ))
    });
    out
}

fn by_rank(a: &&Vulnerability, b: &&Vulnerability) -> Ordering {
    rank(&a.id).cmp(&rank(&b.id)).then_with(|| a.id.cmp(&b.id))
}

fn build(db: &AdvisoryDb, pkg: &PackageQuery<'_>, flaw: String, mut g: Group<'_>) -> Finding {
    g.hits.sort_by(by_rank);
    g.hits.dedup_by(|a, b| std::ptr::eq(*a, *b));
    // Records reachable by any id of the flaw: the NVD record of the CVE, the GHSA …
    let mut details: Vec<&Vulnerability> = g
        .ids
        .iter()
        .flat_map(|id| db.by_id(id))
        .filter(|r| !g.hits.iter().any(|h| std::ptr::eq(*h, *r)))
        .collect();
    details.sort_by(by_rank);
    details.dedup_by(|a, b| std::ptr::eq(*a, *b));
    let all = || g.hits.iter().chain(&details).copied();

    let cvss = best_cvss_of(all().filter(|r| is_cve(&r.id)))
        .map(|s| ("nvd", s))
        .or_else(|| {
            all()
                .filter(|r| !is_cve(&r.id))
                .find_map(|r| best_cvss_of([r]).map(|s| (source_of(r, &g.key), s)))
        });
    g.ratings
        .sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then_with(|| a.0.cmp(b.0)));
    let (severity, severity_source) = if let Some(&(_, r)) = g.ratings.first() {
        (r, ecosystem::distro_label(&g.key).to_string())
    } else if let Some(r) = all()
        .filter(|r| r.id.starts_with("GHSA-"))
        .find_map(|r| severity::rating_in(r.database_specific.as_ref()))
    {
        (r, "ghsa".to_string())
    } else if let Some((src, s)) = cvss
        .as_ref()
        .filter(|(_, s)| s.severity() != Severity::Unknown)
    {
        (s.severity(), format!("{src}-cvss-v{}", s.major()))
    } else if let Some(r) = all().find_map(|r| severity::rating_in(r.database_specific.as_ref())) {
        (r, "osv".to_string())
    } else {
        (Severity::Unknown, "none".to_string())
    };

    let title = all()
        .find_map(|r| {
            r.summary
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
        })
        .map(str::to_string)
        .or_else(|| all().find_map(|r| r.details.as_deref().and_then(first_line)))
        .unwrap_or_default();

    g.ids.remove(&flaw);
    let fixed = g.fixed.map(|f| display_version(g.eco, f));
    Finding {
        id: flaw,
        aliases: g.ids.into_iter().collect(),
        name: pkg.name.to_string(),
        installed_version: pkg.version.to_string(),
        status: if fixed.is_some() {
            Status::Fixed
        } else {
            g.status
        },
        fixed_version: fixed,
        severity,
        severity_source,
        cvss: cvss.map(|(_, s)| s),
        title,
        ecosystem: g.ecosystem.to_string(),
        source_name: pkg.lookup_name(&g.key).to_string(),
        source_version: pkg.compared_version(&g.key).into_owned(),
        purl: pkg.purl.to_string(),
        path: pkg.path.to_string(),
        layer: pkg.layer.to_string(),
    }
}

fn best_cvss_of<'a>(records: impl IntoIterator<Item = &'a Vulnerability>) -> Option<CvssScore> {
    let mut best: Option<CvssScore> = None;
    for r in records {
        let entries = r
            .severity
            .iter()
            .chain(r.affected.iter().flat_map(|a| &a.severity));
        if let Some(s) = severity::best_cvss(entries)
            && best.as_ref().is_none_or(|b| s.major() > b.major())
        {
            best = Some(s);
        }
    }
    best
}

/// Who published a non-NVD vector.
fn source_of(r: &Vulnerability, key: &str) -> &'static str {
    if r.id.starts_with("GHSA-") {
        "ghsa"
    } else if r.affected.iter().any(|a| a.package.is_some()) {
        ecosystem::distro_label(key)
    } else {
        "osv"
    }
}

/// First non-empty line of `details`, cut at 160 characters.
fn first_line(details: &str) -> Option<String> {
    let line = details.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(match line.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    })
}

/// Versions as shown: rpm's epoch 0 is implicit (`0:1.2-3` → `1.2-3`), as rpm prints it.
fn display_version(eco: Ecosystem, v: String) -> String {
    match (eco, v.strip_prefix("0:")) {
        (Ecosystem::Rpm, Some(rest)) => rest.to_string(),
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, aliases: &[&str], upstream: &[&str]) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            upstream: upstream.iter().map(|s| s.to_string()).collect(),
            ..Vulnerability::default()
        }
    }

    #[test]
    fn flaw_identity() {
        let f = flaws(&rec("DSA-1-1", &["CVE-2", "CVE-1"], &[]));
        assert_eq!(
            f.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["CVE-1", "CVE-2"]
        );
        assert!(f[0].1.contains("DSA-1-1") && !f[0].1.contains("CVE-2"));
        let f = flaws(&rec("UBUNTU-CVE-2025-1", &[], &["CVE-2025-1"]));
        assert_eq!(f[0].0, "CVE-2025-1");
        let f = flaws(&rec("PYSEC-1", &["GHSA-x"], &[]));
        assert_eq!(f[0].0, "GHSA-x");
        let f = flaws(&rec("ALSA-2022:1", &[], &[]));
        assert_eq!(f[0].0, "ALSA-2022:1");
        assert_eq!(primary_id(["USN-1", "GHSA-b", "GHSA-a"]), Some("GHSA-a"));
    }
}

//! Vulnerability matching: which advisories apply to the installed OS packages.
//!
//! Data model: OSV records ([`osv`]); other feeds are converted to OSV ([`feeds`]).
//! The host looks up, in its database, the records for every (advisory key, package
//! name) of [`lookup_requests`] (and then the records [`AdvisoryDb::missing_references`]
//! names, for severity and titles), inserts them into an [`AdvisoryDb`] and calls
//! [`match_packages`]. Everything here is pure and deterministic.
//!
//! Modules, one job each: [`ecosystem`] (OS ↔ OSV ecosystem keys), [`range`] (OSV
//! range semantics), [`matcher`] (which entries apply to a package), [`dedup`] (one
//! finding per flaw and package), [`severity`] (levels, distro words, CVSS).
pub mod db;
pub mod dedup;
pub mod ecosystem;
pub mod feeds;
pub mod finding;
pub mod matcher;
pub mod osv;
pub mod range;
pub mod section;
pub mod severity;

pub use db::AdvisoryDb;
pub use finding::{Finding, Status};
pub use matcher::PackageQuery;
pub use section::{VulnOptions, VulnSection};
pub use severity::{CvssScore, Severity};

use crate::model::{OsInfo, ReportPackage};
use std::collections::BTreeSet;

/// The findings for the packages of an image whose OS is `os`, sorted by (package
/// name, installed version, purl, layer, id).
pub fn match_packages(packages: &[ReportPackage], os: &OsInfo, db: &AdvisoryDb) -> Vec<Finding> {
    let queries: Vec<PackageQuery<'_>> = packages.iter().map(PackageQuery::from).collect();
    match_queries(&queries, os, db)
}

/// [`match_packages`] for packages given as [`PackageQuery`]s.
pub fn match_queries(packages: &[PackageQuery<'_>], os: &OsInfo, db: &AdvisoryDb) -> Vec<Finding> {
    let keys = ecosystem::lookup_keys(os);
    let hits = matcher::hits(db, packages, &keys);
    dedup::findings(db, packages, hits)
}

/// The (normalized advisory key, package name) pairs the host must load records for.
pub fn lookup_requests(packages: &[PackageQuery<'_>], os: &OsInfo) -> BTreeSet<(String, String)> {
    let keys = ecosystem::lookup_keys(os);
    let mut out = BTreeSet::new();
    for p in packages {
        for key in &keys {
            if ecosystem::version_ecosystem(key) == Some(p.ecosystem) {
                out.insert((key.clone(), p.lookup_name(key).to_string()));
            }
        }
    }
    out
}

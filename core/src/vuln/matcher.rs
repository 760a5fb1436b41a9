//! Which advisories apply to an installed package.
//!
//! The distro rules (DESIGN §4): Debian/Ubuntu advisories name the *source* package
//! and its version, so the lookup uses the source name and compares the source
//! version (with the package's epoch), while the finding names the binary package;
//! Alpine names the origin (our `source_name`); rpm distros name the binary package
//! (Photon and CBL-Mariner the source rpm) and compare `epoch:version-release` with a
//! missing epoch read as 0, as rpm does.
use super::db::{AdvisoryDb, Entry};
use super::ecosystem;
use super::finding::Status;
use super::range;
use crate::model::{Ecosystem, Package, ReportPackage};
use crate::version;
use std::borrow::Cow;
use std::cmp::Ordering;

/// The facts of an installed package the matcher uses, borrowed from either a
/// [`ReportPackage`] or a [`Package`].
#[derive(Debug, Clone, Copy)]
pub struct PackageQuery<'a> {
    pub ecosystem: Ecosystem,
    pub name: &'a str,
    pub version: &'a str,
    pub epoch: Option<u32>,
    pub source_name: &'a str,
    pub source_version: &'a str,
    pub purl: &'a str,
    /// The package database that lists the package.
    pub path: &'a str,
    pub layer: &'a str,
    /// rpm's `MODULARITYLABEL` (`nodejs:18:8090020231019152822:a75119d5`), when set.
    pub modularity_label: Option<&'a str>,
}

impl<'a> From<&'a ReportPackage> for PackageQuery<'a> {
    fn from(p: &'a ReportPackage) -> Self {
        PackageQuery {
            ecosystem: p.ecosystem,
            name: &p.name,
            version: &p.version,
            epoch: p.epoch,
            source_name: &p.source_name,
            source_version: &p.source_version,
            purl: &p.purl,
            path: &p.db_path,
            layer: &p.layer,
            modularity_label: p.modularity_label.as_deref(),
        }
    }
}

impl<'a> PackageQuery<'a> {
    /// A query for a package-database record (no purl or layer known yet); `None` when
    /// the record names no ecosystem.
    pub fn from_package(p: &'a Package) -> Option<Self> {
        Some(PackageQuery {
            ecosystem: p.ecosystem?,
            name: &p.name,
            version: &p.version,
            epoch: p.epoch,
            source_name: &p.source_name,
            source_version: &p.source_version,
            purl: "",
            path: "",
            layer: "",
            modularity_label: p.modularity_label.as_deref(),
        })
    }

    /// The package name advisories under `key` use.
    pub fn lookup_name(&self, key: &str) -> &'a str {
        if ecosystem::matches_by_source(key) && !self.source_name.is_empty() {
            self.source_name
        } else {
            self.name
        }
    }

    /// The package's module stream (`nodejs:18`, lower-cased), from its modularity label.
    pub fn module_stream(&self) -> Option<String> {
        let label = self.modularity_label?.trim();
        let mut parts = label.splitn(3, ':');
        let (name, stream) = (parts.next()?, parts.next()?);
        (!name.is_empty() && !stream.is_empty())
            .then(|| format!("{name}:{stream}").to_ascii_lowercase())
    }

    /// The version compared against advisories under `key`.
    pub fn compared_version(&self, key: &str) -> Cow<'a, str> {
        let by_source = ecosystem::matches_by_source(key) && self.ecosystem == Ecosystem::Deb;
        let v = if by_source && !self.source_version.is_empty() {
            self.source_version
        } else {
            self.version
        };
        match self.ecosystem {
            // The source version in `Source: name (version)` is written without the
            // epoch the binary carries; dpkg versions without an epoch compare as 0.
            Ecosystem::Deb => match self.epoch {
                Some(e) if e > 0 && !v.contains(':') => Cow::Owned(format!("{e}:{v}")),
                _ => Cow::Borrowed(v),
            },
            Ecosystem::Rpm => rpm_evr(v, self.epoch),
            Ecosystem::Apk => Cow::Borrowed(v),
        }
    }
}

/// `epoch:version-release` with the epoch always spelled (0 when absent), so that
/// advisory and installed versions compare the way rpm compares them.
pub(crate) fn rpm_evr(v: &str, epoch: Option<u32>) -> Cow<'_, str> {
    if v.contains(':') {
        Cow::Borrowed(v)
    } else {
        Cow::Owned(format!("{}:{v}", epoch.unwrap_or(0)))
    }
}

/// One affected entry that applies to one package.
#[derive(Debug, Clone)]
pub(crate) struct Hit<'db> {
    /// Index of the package in the caller's list.
    pub package: usize,
    pub key: String,
    pub entry: &'db Entry,
    pub fixed: Option<String>,
    pub status: Status,
}

/// Evaluates one entry for the installed version: `None` when it does not apply,
/// else the lowest fixed version above the installed one (if any) and the status.
pub(crate) fn evaluate(entry: &Entry, installed: &str) -> Option<(Option<String>, Status)> {
    let eco = entry.eco;
    let mut affected = entry
        .versions
        .iter()
        .any(|v| version::compare(eco, v, installed) == Ordering::Equal);
    let mut fixed: Option<&str> = None;
    for events in &entry.ranges {
        if !range::is_affected(events, eco, installed) {
            continue;
        }
        affected = true;
        if let Some(f) = range::next_fixed(events, eco, installed)
            && fixed.is_none_or(|cur| version::compare(eco, f, cur) == Ordering::Less)
        {
            fixed = Some(f);
        }
    }
    if !affected {
        return None;
    }
    let status = if fixed.is_some() {
        Status::Fixed
    } else {
        entry.status.unwrap_or(Status::Affected)
    };
    Some((fixed.map(str::to_string), status))
}

/// Every (package, entry) pair that applies, for packages of the given ecosystem keys.
pub(crate) fn hits<'db>(
    db: &'db AdvisoryDb,
    packages: &[PackageQuery<'_>],
    keys: &[String],
) -> Vec<Hit<'db>> {
    let mut out = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        for key in keys {
            // OS packages only ever match their own distro's ordering.
            if ecosystem::version_ecosystem(key) != Some(p.ecosystem) {
                continue;
            }
            let entries = db.lookup(key, p.lookup_name(key));
            if entries.is_empty() {
                continue;
            }
            let installed = p.compared_version(key);
            let stream = p.module_stream();
            for entry in entries {
                // A module build's fix applies to packages of that module stream only:
                // nodejs:20's fix says nothing about a nodejs:18 install, and a
                // non-modular package is not built from any stream.
                if !entry.module_streams.is_empty()
                    && !stream
                        .as_ref()
                        .is_some_and(|s| entry.module_streams.contains(s))
                {
                    continue;
                }
                if let Some((fixed, status)) = evaluate(entry, &installed) {
                    out.push(Hit {
                        package: i,
                        key: key.clone(),
                        entry,
                        fixed,
                        status,
                    });
                }
            }
        }
    }
    out
}

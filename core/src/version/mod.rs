//! Version ordering of each ecosystem, written to match the package manager's own
//! algorithm (tested against every vector in the shared corpus's `versions/`, one test
//! file per folder; the few vectors where we deliberately differ are listed in those
//! tests with the reason, e.g. where Maven's or PHP's comparison is not a total order).
//!
//! Every `compare` here is a total order on any input, because advisory data is
//! untrusted: versions a package manager rejects still get a deterministic place
//! (documented per module), and digit runs of any length compare without overflow.
//! [`Scheme`] picks the ordering for an OSV ecosystem name.
use crate::model::Ecosystem;
use std::cmp::Ordering;

pub mod apk;
pub mod composer;
pub mod cran;
pub mod dart_pub;
mod digits;
pub mod dpkg;
pub mod hackage;
pub mod maven;
pub mod nuget;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

/// Compares two versions of `ecosystem` the way its package manager does.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    Scheme::from(ecosystem).compare(a, b)
}

/// The order the language schemes give untrusted text: versions that `parse` accepts
/// compare by their own order; a text it rejects sorts before every version, and such
/// texts among themselves by their bytes, so that malformed advisory data still has one
/// deterministic place.
fn parsed_first<'a, T: Ord>(
    a: &'a str,
    b: &'a str,
    parse: impl Fn(&'a str) -> Option<T>,
) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// A version ordering, named by the scheme rather than by an ecosystem, because several
/// ecosystems share one (npm, crates.io, Go and Hex all order by SemVer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    Dpkg,
    Apk,
    Rpm,
    /// PEP 440 (PyPI).
    Pep440,
    /// SemVer 2.0.0 (npm, crates.io, Go, Hex, and OSV's `SEMVER` range type).
    SemVer,
    Maven,
    NuGet,
    /// Dart's `pub_semver`.
    Pub,
    /// Composer (Packagist).
    Composer,
    RubyGems,
    Cran,
    Hackage,
}

impl Scheme {
    /// Every scheme, in declaration order (fuzz targets and tests iterate over it).
    pub const ALL: [Scheme; 12] = [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Pep440,
        Scheme::SemVer,
        Scheme::Maven,
        Scheme::NuGet,
        Scheme::Pub,
        Scheme::Composer,
        Scheme::RubyGems,
        Scheme::Cran,
        Scheme::Hackage,
    ];

    /// The ordering of an OSV ecosystem name (`Debian:12`, `PyPI`, `crates.io` …): the
    /// part before the first `:` decides. `None` for ecosystems whose versions are not
    /// ordered by one of ours (e.g. `GIT`-only ones, or ones we have no vectors for).
    pub fn for_osv_ecosystem(ecosystem: &str) -> Option<Scheme> {
        if let Some(os) = crate::vuln::ecosystem::version_ecosystem(ecosystem) {
            return Some(Scheme::from(os));
        }
        Some(match ecosystem.split(':').next().unwrap_or(ecosystem) {
            "PyPI" => Scheme::Pep440,
            "npm" | "crates.io" | "Go" | "Hex" => Scheme::SemVer,
            "Maven" => Scheme::Maven,
            "NuGet" => Scheme::NuGet,
            "Pub" => Scheme::Pub,
            "Packagist" => Scheme::Composer,
            "RubyGems" => Scheme::RubyGems,
            "CRAN" => Scheme::Cran,
            "Hackage" => Scheme::Hackage,
            _ => return None,
        })
    }

    /// Compares two versions by this scheme; total on any input.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::SemVer => semver::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
            Scheme::NuGet => nuget::compare(a, b),
            Scheme::Pub => dart_pub::compare(a, b),
            Scheme::Composer => composer::compare(a, b),
            Scheme::RubyGems => rubygems::compare(a, b),
            Scheme::Cran => cran::compare(a, b),
            Scheme::Hackage => hackage::compare(a, b),
        }
    }
}

impl From<Ecosystem> for Scheme {
    fn from(e: Ecosystem) -> Scheme {
        match e {
            Ecosystem::Deb => Scheme::Dpkg,
            Ecosystem::Apk => Scheme::Apk,
            Ecosystem::Rpm => Scheme::Rpm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_ecosystems_pick_their_ordering() {
        for (eco, want) in [
            ("Debian:12", Some(Scheme::Dpkg)),
            ("Alpine:v3.18", Some(Scheme::Apk)),
            ("Red Hat:enterprise_linux:9::appstream", Some(Scheme::Rpm)),
            ("PyPI", Some(Scheme::Pep440)),
            ("npm", Some(Scheme::SemVer)),
            ("crates.io", Some(Scheme::SemVer)),
            ("Go", Some(Scheme::SemVer)),
            ("Maven", Some(Scheme::Maven)),
            ("NuGet", Some(Scheme::NuGet)),
            ("Pub", Some(Scheme::Pub)),
            ("Packagist", Some(Scheme::Composer)),
            ("RubyGems", Some(Scheme::RubyGems)),
            ("CRAN", Some(Scheme::Cran)),
            ("Hackage", Some(Scheme::Hackage)),
            ("GIT", None),
            ("", None),
        ] {
            assert_eq!(Scheme::for_osv_ecosystem(eco), want, "{eco}");
        }
    }

    #[test]
    fn each_scheme_orders_its_own_spelling() {
        for (scheme, older, newer) in [
            (Scheme::Dpkg, "1:1.0-1", "1:1.0-1+deb12u1"),
            (Scheme::Pep440, "1.0rc1", "1.0"),
            (Scheme::SemVer, "1.0.0-rc.1", "1.0.0"),
            (Scheme::Maven, "1.0-alpha", "1.0"),
            (Scheme::RubyGems, "1.0.a", "1.0"),
        ] {
            assert_eq!(scheme.compare(older, newer), Ordering::Less, "{scheme:?}");
        }
    }
}

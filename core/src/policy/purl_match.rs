//! Package URLs as selectors: parsing any purl (not only the OS-package ones
//! [`crate::purl`] builds) and deciding whether a selector purl designates a
//! finding's package.
//!
//! Matching is deliberately lenient where the two sides are usually written by
//! different tools, and strict where a difference means a different package:
//! type, namespace and name must be equal (after the purl spec's per-type case
//! rules); the version must be equal when the selector gives one; a qualifier only
//! counts when both sides state it, and then it must be compatible (`distro`
//! values match at a version-component boundary, so `debian-12` covers
//! `debian-12.13` but `debian-1` does not cover `debian-12`).
use std::collections::BTreeMap;

/// A parsed purl, every component percent-decoded and normalized per type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// Lower case (`deb`, `rpm`, `oci` …).
    pub ty: String,
    /// Segments joined by `/`; empty when there is none.
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    /// Keys in lower case; qualifiers with an empty value are dropped, as the spec says.
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

/// Types whose namespace is case-insensitive (the spec says to lower-case it).
const LOWERCASE_NAMESPACE: &[&str] = &[
    "alpm",
    "apk",
    "bitbucket",
    "composer",
    "deb",
    "docker",
    "github",
    "hex",
    "npm",
    "rpm",
];
/// Types whose name is case-insensitive. Distro package names (deb, apk, rpm) are
/// compared as written: rpm names are case-sensitive, and dpkg/apk names are lower
/// case by construction.
const LOWERCASE_NAME: &[&str] = &[
    "bitbucket",
    "composer",
    "docker",
    "github",
    "hex",
    "npm",
    "oci",
    "pypi",
];

impl Purl {
    /// Parses `pkg:type/namespace/name@version?qualifiers#subpath`.
    pub fn parse(text: &str) -> Result<Purl, String> {
        let invalid = |why: &str| format!("`{text}` is not a valid purl: {why}");
        let fail = |why: &str| Err(invalid(why));
        let Some((scheme, rest)) = text.split_once(':') else {
            return fail("it does not start with `pkg:`");
        };
        if !scheme.eq_ignore_ascii_case("pkg") {
            return fail("it does not start with `pkg:`");
        }
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, s)) => (r, Some(s)),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let Some((ty, rest)) = rest.split_once('/') else {
            return fail("it has no name");
        };
        let ty = ty.to_ascii_lowercase();
        let valid_type = ty.starts_with(|c: char| c.is_ascii_alphabetic())
            && ty
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'));
        if !valid_type {
            return fail("its type is not a word of letters, digits, `.`, `+` or `-`");
        }
        let rest = rest.trim_end_matches('/');
        let (path, version) = match rest.rsplit_once('@') {
            Some((path, version)) if !version.contains('/') => (path, Some(version)),
            _ => (rest, None),
        };
        let mut segments = Vec::new();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            segments.push(decode(segment).map_err(|why| invalid(&why))?);
        }
        let Some(mut name) = segments.pop() else {
            return fail("it has no name");
        };
        let mut namespace = segments.join("/");
        if LOWERCASE_NAMESPACE.contains(&ty.as_str()) {
            namespace = namespace.to_lowercase();
        }
        if LOWERCASE_NAME.contains(&ty.as_str()) {
            name = name.to_lowercase();
        }
        if ty == "pypi" {
            name = normalize_python_name(&name);
        }
        let version = match version {
            Some(v) => Some(decode(v).map_err(|why| invalid(&why))?).filter(|v| !v.is_empty()),
            None => None,
        };
        let mut parsed = BTreeMap::new();
        for pair in qualifiers
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|p| !p.is_empty())
        {
            let Some((key, value)) = pair.split_once('=') else {
                return fail(&format!("qualifier `{pair}` has no `=`"));
            };
            let key = key.to_ascii_lowercase();
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                return fail(&format!("qualifier key `{key}` is not a word"));
            }
            let value = decode(value).map_err(|why| invalid(&why))?;
            if value.is_empty() {
                continue;
            }
            if parsed.insert(key.clone(), value).is_some() {
                return fail(&format!("qualifier `{key}` is given twice"));
            }
        }
        let subpath = match subpath {
            Some(s) => {
                let mut parts = Vec::new();
                for part in s
                    .split('/')
                    .filter(|p| !p.is_empty() && *p != "." && *p != "..")
                {
                    parts.push(decode(part).map_err(|why| invalid(&why))?);
                }
                Some(parts.join("/")).filter(|s| !s.is_empty())
            }
            None => None,
        };
        Ok(Purl {
            ty,
            namespace,
            name,
            version,
            qualifiers: parsed,
            subpath,
        })
    }

    /// Whether the purl names a container image rather than a package in one.
    pub fn is_image(&self) -> bool {
        self.ty == "oci" || self.ty == "docker"
    }

    /// The image digest an image purl pins (`sha256:…`, lower case), if any.
    pub fn image_digest(&self) -> Option<String> {
        let version = self.version.as_deref().filter(|_| self.is_image())?;
        let (algorithm, hex) = version.split_once(':')?;
        let is_digest = !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'))
            && !hex.is_empty()
            && hex.chars().all(|c| c.is_ascii_hexdigit());
        is_digest.then(|| version.to_ascii_lowercase())
    }

    /// The epoch the purl states: the `epoch` qualifier, or an `E:` prefix of a
    /// deb/rpm version (some tools write the version with its epoch).
    fn stated_epoch(&self) -> Option<&str> {
        self.qualifiers
            .get("epoch")
            .map(String::as_str)
            .or_else(|| self.split_version().0)
    }

    /// The version without an `E:` epoch prefix (deb and rpm only).
    fn version_without_epoch(&self) -> Option<&str> {
        self.split_version().1
    }

    fn split_version(&self) -> (Option<&str>, Option<&str>) {
        let Some(version) = self.version.as_deref() else {
            return (None, None);
        };
        if (self.ty == "deb" || self.ty == "rpm")
            && let Some((epoch, rest)) = version.split_once(':')
            && !epoch.is_empty()
            && epoch.bytes().all(|b| b.is_ascii_digit())
        {
            return (Some(epoch), Some(rest));
        }
        (None, Some(version))
    }
}

/// Whether `selector` (an ignore rule's purl, a VEX product) designates the package
/// identified by `package` (a finding's purl).
///
/// The epoch is asymmetric on purpose: the purls Customs builds omit only epoch 0,
/// so a package without one has epoch 0, while a selector without one did not say.
pub fn designates(selector: &Purl, package: &Purl) -> bool {
    if selector.ty != package.ty
        || selector.namespace != package.namespace
        || selector.name != package.name
    {
        return false;
    }
    if let Some(version) = selector.version_without_epoch()
        && package.version_without_epoch() != Some(version)
    {
        return false;
    }
    if let Some(epoch) = selector.stated_epoch()
        && !same_number(epoch, package.stated_epoch().unwrap_or("0"))
    {
        return false;
    }
    let qualifiers_agree = selector
        .qualifiers
        .iter()
        .filter(|(key, _)| *key != "epoch")
        .all(|(key, wanted)| match package.qualifiers.get(key) {
            Some(actual) => qualifier_compatible(key, wanted, actual),
            None => true,
        });
    let subpaths_agree = match (&selector.subpath, &package.subpath) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    qualifiers_agree && subpaths_agree
}

/// Whether two values of the same qualifier are compatible.
fn qualifier_compatible(key: &str, a: &str, b: &str) -> bool {
    match key {
        "distro" => distro_compatible(a, b),
        "arch" => a.eq_ignore_ascii_case(b),
        _ => a == b,
    }
}

/// `debian-12` and `debian-12.13` are compatible (one extends the other at a
/// version-component boundary); `debian-1` and `debian-12` are not. Symmetric,
/// because either side may know only the major release (`/etc/os-release`'s
/// `VERSION_ID` is `12` on Debian while `debian_version` says `12.13`).
///
/// A release codename (`distro=jessie`, as in the purl specification's own example;
/// `bookworm`, `jammy`) stands for its release number first, so `bookworm` and
/// `debian-12.13` are compatible.
pub(crate) fn distro_compatible(a: &str, b: &str) -> bool {
    let (a, b) = (canonical_distro(a), canonical_distro(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short.as_str())
        .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

/// Debian and Ubuntu release codenames and the release each names. The two projects
/// never reuse each other's names, so a codename alone says which distribution.
/// Debian's `sid` (unstable) has no number and is left as it is.
const CODENAMES: &[(&str, &str)] = &[
    ("bionic", "ubuntu-18.04"),
    ("bookworm", "debian-12"),
    ("bullseye", "debian-11"),
    ("buster", "debian-10"),
    ("cosmic", "ubuntu-18.10"),
    ("disco", "ubuntu-19.04"),
    ("eoan", "ubuntu-19.10"),
    ("focal", "ubuntu-20.04"),
    ("forky", "debian-14"),
    ("groovy", "ubuntu-20.10"),
    ("hirsute", "ubuntu-21.04"),
    ("impish", "ubuntu-21.10"),
    ("jammy", "ubuntu-22.04"),
    ("jessie", "debian-8"),
    ("kinetic", "ubuntu-22.10"),
    ("lunar", "ubuntu-23.04"),
    ("mantic", "ubuntu-23.10"),
    ("noble", "ubuntu-24.04"),
    ("oracular", "ubuntu-24.10"),
    ("plucky", "ubuntu-25.04"),
    ("questing", "ubuntu-25.10"),
    ("stretch", "debian-9"),
    ("trixie", "debian-13"),
    ("trusty", "ubuntu-14.04"),
    ("wheezy", "debian-7"),
    ("xenial", "ubuntu-16.04"),
];

/// A `distro` qualifier in lower case, a codename (bare, or after its distribution's
/// name: `debian-bookworm`) replaced by the release it names.
fn canonical_distro(value: &str) -> String {
    let value = value.to_ascii_lowercase();
    let (distribution, codename) = match value.split_once('-') {
        Some((d @ ("debian" | "ubuntu"), rest)) => (Some(d), rest),
        _ => (None, value.as_str()),
    };
    if let Ok(i) = CODENAMES.binary_search_by(|(name, _)| name.cmp(&codename)) {
        let release = CODENAMES[i].1;
        if distribution.is_none_or(|d| release.strip_prefix(d).is_some_and(|r| r.starts_with('-')))
        {
            return release.to_string();
        }
    }
    value
}

/// Numeric equality for epochs (`01` = `1`); non-numeric values compare as text.
fn same_number(a: &str, b: &str) -> bool {
    let trim = |s: &str| {
        let t = s.trim_start_matches('0');
        if t.is_empty() && !s.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    };
    trim(a) == trim(b)
}

/// PEP 503 name normalization: lower case, runs of `-`, `_`, `.` become one `-`.
fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// Percent-decodes one component; the result must be UTF-8.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => return Err(format!("`{s}` has a malformed percent escape")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` decodes to bytes that are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Purl {
        Purl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn d(selector: &str, package: &str) -> bool {
        designates(&p(selector), &p(package))
    }

    const LIBC: &str =
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5&upstream=glibc";

    #[test]
    fn parses_components() {
        let purl = p(LIBC);
        assert_eq!(
            (
                purl.ty.as_str(),
                purl.namespace.as_str(),
                purl.name.as_str()
            ),
            ("deb", "debian", "libc6")
        );
        assert_eq!(purl.version.as_deref(), Some("2.36-9+deb12u4"));
        assert_eq!(
            purl.qualifiers.get("distro").map(String::as_str),
            Some("debian-12.5")
        );
        let npm = p("pkg:npm/%40Angular/Core@16.0.0#lib/x");
        assert_eq!(
            (npm.namespace.as_str(), npm.name.as_str()),
            ("@angular", "core")
        );
        assert_eq!(npm.subpath.as_deref(), Some("lib/x"));
        let scoped = p("pkg:npm/@angular/core");
        assert_eq!(
            (
                scoped.namespace.as_str(),
                scoped.name.as_str(),
                scoped.version.as_deref()
            ),
            ("@angular", "core", None)
        );
        assert_eq!(
            p("pkg:pypi/Django_Rest.framework@1").name,
            "django-rest-framework"
        );
        assert_eq!(p("PKG:DEB/Debian/libc6").ty, "deb");
        assert_eq!(p("pkg://deb/debian/libc6").namespace, "debian");
    }

    #[test]
    fn rejects_malformed_purls() {
        for bad in [
            "deb/debian/libc6",
            "pkg:",
            "pkg:deb",
            "pkg:deb/",
            "pkg:1deb/x",
            "pkg:deb/debian/a%zz",
            "pkg:deb/debian/a?arch",
            "pkg:deb/debian/a?arch=x&arch=y",
            "pkg:deb/debian/%ff%fe",
            "https://example.com/x",
        ] {
            assert!(Purl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identity_must_agree() {
        assert!(d("pkg:deb/debian/libc6", LIBC));
        assert!(d("pkg:deb/Debian/libc6", LIBC));
        assert!(!d("pkg:deb/ubuntu/libc6", LIBC));
        assert!(!d("pkg:deb/debian/libc6-dev", LIBC));
        assert!(!d("pkg:rpm/debian/libc6", LIBC));
        assert!(!d(
            "pkg:rpm/redhat/OpenSSL",
            "pkg:rpm/redhat/openssl@3.0.7-24.el9"
        ));
    }

    #[test]
    fn version_compared_when_given_after_decoding() {
        assert!(d("pkg:deb/debian/libc6@2.36-9+deb12u4", LIBC));
        assert!(d("pkg:deb/debian/libc6@2.36-9%2bdeb12u4", LIBC));
        assert!(!d("pkg:deb/debian/libc6@2.36-9+deb12u3", LIBC));
    }

    #[test]
    fn qualifiers_are_tolerant() {
        assert!(d("pkg:deb/debian/libc6?distro=debian-12", LIBC));
        assert!(d("pkg:deb/debian/libc6?distro=debian", LIBC));
        assert!(!d(
            "pkg:deb/debian/libc6?distro=debian-1",
            "pkg:deb/debian/libc6?distro=debian-12"
        ));
        assert!(!d("pkg:deb/debian/libc6?distro=debian-11", LIBC));
        assert!(
            d("pkg:deb/debian/libc6?distro=debian-12.5.1", LIBC),
            "the finding may know less than the selector"
        );
        assert!(d("pkg:deb/debian/libc6?arch=amd64", LIBC));
        assert!(!d("pkg:deb/debian/libc6?arch=arm64", LIBC));
        assert!(
            d(
                "pkg:deb/debian/libc6?repository_url=https://deb.debian.org",
                LIBC
            ),
            "absent on one side"
        );
        assert!(!d("pkg:deb/debian/libc6?upstream=eglibc", LIBC));
    }

    #[test]
    fn rpm_epoch_is_considered() {
        let installed = "pkg:rpm/redhat/openssl@3.0.7-24.el9?arch=x86_64&distro=rhel-9.3&epoch=1";
        assert!(d("pkg:rpm/redhat/openssl@3.0.7-24.el9?epoch=1", installed));
        assert!(d("pkg:rpm/redhat/openssl@1:3.0.7-24.el9", installed));
        assert!(
            d("pkg:rpm/redhat/openssl@3.0.7-24.el9", installed),
            "the selector did not state an epoch"
        );
        assert!(!d("pkg:rpm/redhat/openssl@3.0.7-24.el9?epoch=2", installed));
        assert!(
            !d(
                "pkg:rpm/redhat/openssl@3.0.7-24.el9?epoch=1",
                "pkg:rpm/redhat/openssl@3.0.7-24.el9"
            ),
            "no epoch on an installed package is epoch 0"
        );
        assert!(d(
            "pkg:rpm/redhat/openssl@3.0.7-24.el9?epoch=0",
            "pkg:rpm/redhat/openssl@3.0.7-24.el9"
        ));
        assert!(d("pkg:rpm/redhat/openssl?epoch=01", installed));
    }

    #[test]
    fn image_digests() {
        assert_eq!(
            p("pkg:oci/app@sha256%3AABCDEF0123")
                .image_digest()
                .as_deref(),
            Some("sha256:abcdef0123")
        );
        assert_eq!(p("pkg:docker/library/debian@12").image_digest(), None);
        assert_eq!(p("pkg:deb/debian/x@sha256:abcd").image_digest(), None);
    }

    #[test]
    fn distro_boundaries() {
        assert!(distro_compatible("debian-12", "debian-12.13"));
        assert!(distro_compatible("Debian-12.13", "debian-12"));
        assert!(!distro_compatible("debian-1", "debian-12"));
        assert!(!distro_compatible("debian-12", "debian-123"));
        assert!(distro_compatible("alpine-3.18", "alpine-3.18.4"));
        assert!(!distro_compatible("bookworm", "debian-11"));
    }

    #[test]
    fn codenames_stand_for_their_release() {
        assert!(distro_compatible("bookworm", "debian-12"));
        assert!(distro_compatible("bookworm", "debian-12.13"));
        assert!(distro_compatible("Bookworm", "debian-12"));
        assert!(distro_compatible("debian-bookworm", "debian-12.5"));
        assert!(distro_compatible("jammy", "ubuntu-22.04"));
        assert!(!distro_compatible("jammy", "ubuntu-24.04"));
        assert!(
            !distro_compatible("ubuntu-bookworm", "debian-12"),
            "a codename of another distribution"
        );
        assert!(!distro_compatible("sid", "debian-12"));
        assert!(distro_compatible("sid", "sid"));
        assert!(
            CODENAMES.windows(2).all(|w| w[0].0 < w[1].0),
            "binary search needs the table sorted"
        );
        let purl = |d: &str| {
            Purl::parse(&format!(
                "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro={d}"
            ))
            .unwrap()
        };
        assert!(designates(&purl("jessie"), &purl("debian-8.11")));
        assert!(!designates(&purl("jessie"), &purl("debian-9")));
    }
}

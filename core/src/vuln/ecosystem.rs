//! OSV ecosystem strings of the distributions ↔ the detected OS.
//!
//! OSV spells a distro release in several ways (`Ubuntu:22.04:LTS`,
//! `Ubuntu:Pro:14.04:LTS`, `Red Hat:enterprise_linux:9::baseos`, `Alpine:v3.18`,
//! `Debian:12` …). The database and the lookup must agree on one spelling, so both
//! sides go through [`normalize`]: the DB stores each affected entry under the
//! normalized key of its `package.ecosystem`, and a scan looks up the keys
//! [`lookup_keys`] derives from the detected [`OsInfo`]. OS packages are matched only
//! against their own release's key (backported fixes make other releases' and
//! upstream ranges wrong).
use crate::model::{Ecosystem, OsInfo, ReportPackage};
use std::borrow::Cow;

/// Normalizes an OSV `package.ecosystem` string to the key the DB indexes it under.
///
/// - Ubuntu: the `:LTS` suffix is dropped (`Ubuntu:22.04:LTS` → `Ubuntu:22.04`); Pro
///   and FIPS streams keep their qualifier and so stay separate keys.
/// - Red Hat: `Red Hat:enterprise_linux:9::baseos` (any repository) → `Red Hat:9`;
///   other products (EUS/AUS/E4S streams, OpenShift …) are kept verbatim, since a plain
///   RHEL/UBI/CentOS image does not receive their updates.
/// - Debian: `Debian:11.3` → `Debian:11` (releases since 4.0 are numbered by major).
///
/// Everything else is already one spelling per release and is returned unchanged.
pub fn normalize(ecosystem: &str) -> Cow<'_, str> {
    let eco = ecosystem.trim();
    if let Some(rest) = eco.strip_prefix("Ubuntu:") {
        if let Some(stripped) = rest.strip_suffix(":LTS") {
            return Cow::Owned(format!("Ubuntu:{stripped}"));
        }
        return Cow::Borrowed(eco);
    }
    if let Some(rest) = eco.strip_prefix("Red Hat:") {
        let mut parts = rest.split(':');
        if parts.next() == Some("enterprise_linux")
            && let Some(major) = parts.next().and_then(major_of)
        {
            return Cow::Owned(format!("Red Hat:{major}"));
        }
        return Cow::Borrowed(eco);
    }
    if let Some(rest) = eco.strip_prefix("Debian:")
        && let Some((major, _)) = rest.split_once('.')
        && major.parse::<u32>().is_ok_and(|m| m >= 4)
    {
        return Cow::Owned(format!("Debian:{major}"));
    }
    Cow::Borrowed(eco)
}

/// The leading run of digits of `version` (`"9.3"` → `"9"`), when there is one.
fn major_of(version: &str) -> Option<&str> {
    let end = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    (end > 0).then(|| &version[..end])
}

/// `major.minor` of a version (`"3.23.6"` → `"3.23"`).
fn major_minor(version: &str) -> Option<&str> {
    let mut dots = version.match_indices('.').map(|(i, _)| i);
    let first = dots.next()?;
    let minor_end = version[first + 1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(version.len(), |i| first + 1 + i);
    (minor_end > first + 1 && major_of(version).is_some()).then(|| &version[..minor_end])
}

/// The normalized advisory keys for packages of this OS, in lookup order. Empty when
/// the release is unknown to OSV's naming (then OS packages get no findings rather than
/// findings from the wrong release).
pub fn lookup_keys(os: &OsInfo) -> Vec<String> {
    let v = os.version.trim();
    let key = match os.family.as_str() {
        // Releases before 4.0 were numbered major.minor (`Debian:3.1`).
        "debian" => match major_of(v) {
            Some(m) if m.parse::<u32>().is_ok_and(|m| m < 4) => {
                major_minor(v).map(|mm| format!("Debian:{mm}"))
            }
            m => m.map(|m| format!("Debian:{m}")),
        },
        "ubuntu" => major_minor(v).map(|mm| format!("Ubuntu:{mm}")),
        "alpine" => {
            if v == "edge" || v.contains("_alpha") {
                Some("Alpine:edge".to_string())
            } else {
                major_minor(v).map(|mm| format!("Alpine:v{mm}"))
            }
        }
        "alma" | "almalinux" => major_of(v).map(|m| format!("AlmaLinux:{m}")),
        "rocky" => major_of(v).map(|m| format!("Rocky Linux:{m}")),
        "redhat" | "rhel" | "centos" => major_of(v).map(|m| format!("Red Hat:{m}")),
        "oracle" | "ol" => major_of(v).map(|m| format!("Oracle Linux:{m}")),
        "amazon" | "amzn" => amazon_release(v).map(|r| format!("Amazon Linux:{r}")),
        "opensuse-leap" => Some(format!("openSUSE:Leap {v}")),
        "opensuse-tumbleweed" => Some("openSUSE:Tumbleweed".to_string()),
        "sles" | "sled" => suse_release(v).map(|r| format!("SUSE:Linux Enterprise Server {r}")),
        "slem" | "sle-micro" => Some(format!("SUSE:Linux Enterprise Micro {v}")),
        "photon" => major_minor(v).map(|mm| format!("Photon OS:{mm}")),
        "cbl-mariner" | "mariner" => major_minor(v).map(|mm| format!("CBL-Mariner:{mm}")),
        "azurelinux" => major_minor(v).map(|mm| format!("Azure Linux:{mm}")),
        "wolfi" => Some("Wolfi".to_string()),
        "chainguard" => Some("Chainguard".to_string()),
        "mageia" => major_of(v).map(|m| format!("Mageia:{m}")),
        _ => None,
    };
    key.into_iter().collect()
}

/// Amazon Linux: `AMI release 2018.03` / `2018.03` → `1`, `2 (Karoo)` → `2`,
/// `2023…` → `2023`.
fn amazon_release(v: &str) -> Option<&'static str> {
    let v = v.trim_start_matches("AMI release").trim();
    if v.starts_with("2023") {
        Some("2023")
    } else if v.starts_with("2018") || v.starts_with("2017") || v.starts_with("1") {
        Some("1")
    } else if v.starts_with('2') {
        Some("2")
    } else {
        None
    }
}

/// SLES `15.3` → `15 SP3`, `15` → `15`.
fn suse_release(v: &str) -> Option<String> {
    match v.split_once('.') {
        Some((major, sp)) if sp != "0" => Some(format!("{major} SP{sp}")),
        Some((major, _)) => Some(major.to_string()),
        None => major_of(v).map(str::to_string),
    }
}

/// The version ordering that applies to an (normalized) advisory key, or `None` for
/// ecosystems this matcher does not evaluate (language ecosystems).
pub fn version_ecosystem(key: &str) -> Option<Ecosystem> {
    let family = key.split(':').next().unwrap_or(key);
    match family {
        "Debian" | "Ubuntu" => Some(Ecosystem::Deb),
        "Alpine" | "Wolfi" | "Chainguard" => Some(Ecosystem::Apk),
        "AlmaLinux" | "Rocky Linux" | "Red Hat" | "SUSE" | "openSUSE" | "Mageia"
        | "Oracle Linux" | "Amazon Linux" | "Photon OS" | "CBL-Mariner" | "Azure Linux"
        | "openEuler" => Some(Ecosystem::Rpm),
        _ => None,
    }
}

/// The name a distro's own severity rating is reported under (the `severity_source`).
pub fn distro_label(key: &str) -> &'static str {
    match key.split(':').next().unwrap_or(key) {
        "Debian" => "debian",
        "Ubuntu" => "ubuntu",
        "Alpine" => "alpine",
        "Wolfi" => "wolfi",
        "Chainguard" => "chainguard",
        "AlmaLinux" => "alma",
        "Rocky Linux" => "rocky",
        "Red Hat" => "redhat",
        "SUSE" | "openSUSE" => "suse",
        "Mageia" => "mageia",
        "Oracle Linux" => "oracle",
        "Amazon Linux" => "amazon",
        "Photon OS" => "photon",
        "CBL-Mariner" => "cbl-mariner",
        "Azure Linux" => "azure-linux",
        "openEuler" => "openeuler",
        _ => "osv",
    }
}

/// Whether advisories under `key` name the package by its *source* package.
///
/// Debian and Ubuntu publish per source package; Alpine per origin (which the apk
/// reader stores as the source name); Photon and CBL-Mariner/Azure Linux per source
/// rpm. The other rpm distros publish binary package names.
pub fn matches_by_source(key: &str) -> bool {
    matches!(
        key.split(':').next().unwrap_or(key),
        "Debian"
            | "Ubuntu"
            | "Alpine"
            | "Wolfi"
            | "Chainguard"
            | "Photon OS"
            | "CBL-Mariner"
            | "Azure Linux"
    )
}

/// Whether the ecosystem key belongs to a Red Hat–style distro whose advisory titles
/// start with the vendor's severity word (`Important: openssl security update`).
pub fn rates_in_summary(key: &str) -> bool {
    matches!(
        key.split(':').next().unwrap_or(key),
        "AlmaLinux" | "Rocky Linux" | "Red Hat" | "Oracle Linux"
    )
}

/// The OSV export (`<base>/<EXPORT>/all.zip`) that holds the advisories under `key`
/// (`Debian:12` → `Debian`); `None` for distros that publish none.
pub fn osv_export(key: &str) -> Option<&str> {
    let family = key.split(':').next().unwrap_or(key);
    (!matches!(
        family,
        "Oracle Linux" | "Amazon Linux" | "Photon OS" | "CBL-Mariner"
    ))
    .then_some(family)
}

/// Why OS packages of this image could not all be checked against `exports` (the
/// OSV exports the database holds). Empty when nothing is missing.
pub fn coverage_gaps(os: &OsInfo, packages: &[ReportPackage], exports: &[String]) -> Vec<String> {
    let os_packages = packages
        .iter()
        .filter(|p| {
            matches!(
                p.ecosystem,
                Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm
            )
        })
        .count();
    if os_packages == 0 {
        return Vec::new();
    }
    if os.family.is_empty() {
        return vec![format!(
            "the OS release could not be identified: {os_packages} OS packages were not checked for vulnerabilities"
        )];
    }
    let keys = lookup_keys(os);
    let Some(key) = keys.first() else {
        return vec![format!(
            "no advisory source covers {} {}: {os_packages} OS packages were not checked for vulnerabilities",
            os.family, os.version
        )];
    };
    let Some(export) = osv_export(key) else {
        let family = key.split(':').next().unwrap_or(key);
        return vec![format!(
            "{family} publishes no OSV export: {os_packages} OS packages were not checked for vulnerabilities"
        )];
    };
    if !exports.iter().any(|e| e == export) {
        return vec![format!(
            "the vulnerability database holds no {export} advisories: {os_packages} OS packages were not checked (run `customs db update --ecosystems {export}`)"
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(family: &str, version: &str) -> OsInfo {
        OsInfo {
            family: family.into(),
            version: version.into(),
            ..OsInfo::default()
        }
    }

    #[test]
    fn keys_for_releases() {
        assert_eq!(lookup_keys(&os("debian", "12.13")), ["Debian:12"]);
        assert_eq!(lookup_keys(&os("alpine", "3.23.6")), ["Alpine:v3.23"]);
        assert_eq!(lookup_keys(&os("ubuntu", "22.04")), ["Ubuntu:22.04"]);
        assert_eq!(lookup_keys(&os("alma", "8.5")), ["AlmaLinux:8"]);
        assert_eq!(lookup_keys(&os("rocky", "9.3")), ["Rocky Linux:9"]);
        assert_eq!(lookup_keys(&os("centos", "7.6.1810")), ["Red Hat:7"]);
        assert_eq!(lookup_keys(&os("amazon", "2 (Karoo)")), ["Amazon Linux:2"]);
        assert_eq!(
            lookup_keys(&os("amazon", "AMI release 2018.03")),
            ["Amazon Linux:1"]
        );
        assert_eq!(
            lookup_keys(&os("sles", "15.3")),
            ["SUSE:Linux Enterprise Server 15 SP3"]
        );
        assert_eq!(
            lookup_keys(&os("opensuse-leap", "15.1")),
            ["openSUSE:Leap 15.1"]
        );
        assert!(lookup_keys(&os("plan9", "4")).is_empty());
        assert!(lookup_keys(&os("debian", "")).is_empty());
    }

    #[test]
    fn normalization_agrees_with_lookup() {
        assert_eq!(normalize("Ubuntu:22.04:LTS"), "Ubuntu:22.04");
        assert_eq!(normalize("Ubuntu:Pro:14.04:LTS"), "Ubuntu:Pro:14.04");
        assert_eq!(normalize("Red Hat:enterprise_linux:9::baseos"), "Red Hat:9");
        assert_eq!(
            normalize("Red Hat:rhel_eus:9.2::baseos"),
            "Red Hat:rhel_eus:9.2::baseos"
        );
        assert_eq!(normalize("Debian:12"), "Debian:12");
        assert_eq!(normalize("Debian:3.1"), "Debian:3.1");
        assert_eq!(normalize("Alpine:v3.18"), "Alpine:v3.18");
        assert_eq!(version_ecosystem("AlmaLinux:9"), Some(Ecosystem::Rpm));
        assert_eq!(version_ecosystem("PyPI"), None);
    }
}

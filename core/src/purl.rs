//! Package URLs (purl-spec) for OS packages.
use crate::model::{Ecosystem, OsInfo, Package};

/// Percent-encodes a purl component (name, version or qualifier value).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The purl namespace of an OS package: the distro family, as purl-spec and the
/// peers (Trivy, Syft) spell it.
fn namespace(eco: Ecosystem, os: Option<&OsInfo>) -> String {
    match (eco, os) {
        (_, Some(os)) => match os.family.as_str() {
            "rhel" | "redhat" => "redhat".to_string(),
            f => f.to_string(),
        },
        (Ecosystem::Deb, None) => "debian".to_string(),
        (Ecosystem::Apk, None) => "alpine".to_string(),
        (Ecosystem::Rpm, None) => "redhat".to_string(),
    }
}

/// Builds the purl of an installed OS package.
///
/// The version is the full version without epoch; the epoch, the architecture and the
/// distro (`<family>-<version>`) go into qualifiers, sorted by key as purl-spec requires.
pub fn for_package(pkg: &Package, eco: Ecosystem, os: Option<&OsInfo>) -> String {
    let version = match (eco, pkg.epoch) {
        (Ecosystem::Rpm, _) => match (&pkg.upstream_version, &pkg.release) {
            (Some(v), Some(r)) => format!("{v}-{r}"),
            _ => strip_epoch(&pkg.version).to_string(),
        },
        _ => strip_epoch(&pkg.version).to_string(),
    };
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = &pkg.arch {
        qualifiers.push(("arch", arch.clone()));
    }
    if let Some(os) = os {
        qualifiers.push(("distro", format!("{}-{}", os.family, os.version)));
    }
    if let Some(epoch) = pkg.epoch.filter(|e| *e > 0) {
        qualifiers.push(("epoch", epoch.to_string()));
    }
    if pkg.source_name != pkg.name && eco != Ecosystem::Rpm {
        let upstream = if pkg.source_version != pkg.version {
            format!("{}@{}", pkg.source_name, strip_epoch(&pkg.source_version))
        } else {
            pkg.source_name.clone()
        };
        qualifiers.push(("upstream", upstream));
    }
    qualifiers.sort();
    let mut purl = format!(
        "pkg:{}/{}/{}@{}",
        eco.as_str(),
        encode(&namespace(eco, os)),
        encode(&pkg.name),
        encode(&version)
    );
    for (i, (k, v)) in qualifiers.iter().enumerate() {
        purl.push(if i == 0 { '?' } else { '&' });
        purl.push_str(k);
        purl.push('=');
        purl.push_str(&encode(v));
    }
    purl
}

fn strip_epoch(v: &str) -> &str {
    match v.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_purl_has_sorted_qualifiers() {
        let pkg = Package {
            name: "libc6".into(),
            version: "2.36-9+deb12u13".into(),
            arch: Some("amd64".into()),
            source_name: "glibc".into(),
            source_version: "2.36-9+deb12u13".into(),
            ..Default::default()
        };
        let os = OsInfo {
            family: "debian".into(),
            version: "12.13".into(),
            ..Default::default()
        };
        assert_eq!(
            for_package(&pkg, Ecosystem::Deb, Some(&os)),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u13?arch=amd64&distro=debian-12.13&upstream=glibc"
        );
    }
}

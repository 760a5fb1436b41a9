//! A stable identity for a SARIF result, so that code-scanning services track one
//! alert per (advisory, package) across scans.
//!
//! What goes in is what names the vulnerable thing, not its state: the advisory id, the
//! package's purl without version and without the qualifiers that move with updates
//! (`distro=debian-12.5` becomes `debian-12.6` on a base-image bump; `epoch` and
//! `upstream` carry versions), its architecture, and the package database that lists
//! it. So upgrading a package that stays vulnerable, rebuilding the image (new layer
//! digests) or retagging it keeps the alert; fixing it closes the alert; the same
//! advisory in two packages, or in the same package listed by two databases, gives
//! two alerts.
//!
//! The hash is FNV-1a (64-bit): not cryptographic, and it need not be: nothing here
//! is secret, and whoever could craft two colliding packages in an image (to merge
//! their alerts) could as well drop the package from its database. It is tiny and the
//! same on every platform and in wasm.
use crate::vuln::Finding;

/// The key under `partialFingerprints`. Versioned: a change of what is hashed must
/// change the key, or services would compare fingerprints made two different ways.
pub(super) const KEY: &str = "customsFinding/v1";

/// The fingerprint of `f`: 16 lower-case hex digits.
pub(super) fn of(f: &Finding) -> String {
    let (base, arch) = purl_identity(&f.purl);
    let base = if base.is_empty() {
        format!("{}/{}", f.ecosystem, f.name)
    } else {
        base.to_string()
    };
    // Joined with NUL, which no advisory id, purl or path legitimately contains.
    let input = [f.id.as_str(), &base, arch, &f.path].join("\0");
    format!("{:016x}", fnv1a64(input.as_bytes()))
}

/// The purl up to its version (`pkg:deb/debian/libc6`) and its `arch` qualifier.
fn purl_identity(purl: &str) -> (&str, &str) {
    let end = purl.find(['@', '?', '#']).unwrap_or(purl.len());
    let base = &purl[..end];
    let arch = purl
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q))
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("arch=")))
        .unwrap_or("");
    (base, arch)
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::{Severity, Status};

    fn finding(id: &str, version: &str, purl: &str, layer: &str) -> Finding {
        Finding {
            id: id.into(),
            aliases: vec![],
            name: "libc6".into(),
            installed_version: version.into(),
            fixed_version: None,
            status: Status::Affected,
            severity: Severity::High,
            severity_source: "debian".into(),
            cvss: None,
            title: String::new(),
            ecosystem: "Debian:12".into(),
            source_name: "glibc".into(),
            source_version: version.into(),
            purl: purl.into(),
            path: "var/lib/dpkg/status".into(),
            layer: layer.into(),
        }
    }

    #[test]
    fn fnv1a_reference_values() {
        // The published test vectors of FNV-1a 64.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn purl_identity_drops_version_and_moving_qualifiers() {
        assert_eq!(
            purl_identity(
                "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5&upstream=glibc"
            ),
            ("pkg:deb/debian/libc6", "amd64")
        );
        assert_eq!(
            purl_identity("pkg:apk/alpine/musl@1.2.4-r2?distro=3.19.1"),
            ("pkg:apk/alpine/musl", "")
        );
        assert_eq!(purl_identity(""), ("", ""));
    }

    #[test]
    fn stable_across_upgrades_and_rebuilds_distinct_across_advisories() {
        let amd64 = "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.1";
        let before = finding("CVE-2023-4911", "2.36-9", amd64, "sha256:aa");
        let after = finding(
            "CVE-2023-4911",
            "2.36-9+deb12u1",
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12.2",
            "sha256:bb",
        );
        assert_eq!(of(&before), of(&after));
        assert_eq!(of(&before).len(), 16);
        let other = finding("CVE-2024-2961", "2.36-9", amd64, "sha256:aa");
        assert_ne!(of(&before), of(&other));
        let arm64 = "pkg:deb/debian/libc6@2.36-9?arch=arm64&distro=debian-12.1";
        let arm = finding("CVE-2023-4911", "2.36-9", arm64, "sha256:aa");
        assert_ne!(of(&before), of(&arm));
    }
}

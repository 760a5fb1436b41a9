//! Fuzzes the suppression policy with hostile VEX documents: any bytes as an OpenVEX
//! document applied to a fixed set of findings through `policy::apply`.
#![no_main]

use customs_core::policy::{self, Policy, PolicyContext, VexInput};
use customs_core::vuln::{Finding, Severity, Status};
use customs_core_fuzz::assert_one_line;
use libfuzzer_sys::fuzz_target;

fn finding(id: &str, aliases: &[&str], name: &str, purl: &str) -> Finding {
    Finding {
        id: id.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        name: name.into(),
        installed_version: "1.0-1".into(),
        fixed_version: None,
        status: Status::Affected,
        severity: Severity::High,
        severity_source: "debian".into(),
        cvss: None,
        title: String::new(),
        ecosystem: "Debian:12".into(),
        source_name: name.into(),
        source_version: "1.0-1".into(),
        purl: purl.into(),
        path: "var/lib/dpkg/status".into(),
        layer: "sha256:1".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let findings = vec![
        finding(
            "CVE-2024-0001",
            &["DSA-1-1"],
            "libc6",
            "pkg:deb/debian/libc6@1.0-1?arch=amd64&distro=debian-12.5",
        ),
        finding(
            "CVE-2024-0002",
            &[],
            "openssl",
            "pkg:deb/debian/openssl@1.0-1?distro=debian-12",
        ),
        finding(
            "GHSA-aaaa-bbbb-cccc",
            &["CVE-2024-0003"],
            "zlib1g",
            "pkg:deb/debian/zlib1g@1:1.0-1",
        ),
    ];
    let policy = Policy {
        ignores: Vec::new(),
        vex: vec![VexInput {
            name: "fuzz.openvex.json".into(),
            text: String::from_utf8_lossy(data).into_owned(),
        }],
    };
    let context = PolicyContext {
        today: "2026-01-01".into(),
        image_reference: "registry.example.com/app:1".into(),
        image_digests: vec![format!("sha256:{}", "a".repeat(64))],
    };
    match policy::apply(findings.clone(), &policy, &context) {
        Err(e) => assert_one_line(&e.to_string()),
        Ok(outcome) => {
            assert_eq!(
                outcome.kept.len() + outcome.suppressed.len(),
                findings.len(),
                "findings lost or invented"
            );
            assert!(
                outcome
                    .unmatched_vex
                    .iter()
                    .all(|n| n.origin.starts_with("fuzz.openvex.json"))
            );
        }
    }
});

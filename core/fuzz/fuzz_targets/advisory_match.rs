//! Fuzzes the vulnerability step with hostile advisory records: an OSV record (any
//! bytes) matched against a small installed-package set through
//! `api::match_vulnerabilities_json`, the export the scan calls in the sandbox.
//!
//! Input: the first byte picks the distro of the image (Debian 12, Alpine 3.19 or
//! AlmaLinux 9, each with a few packages whose names the seeds' records use); the
//! rest is the record.
#![no_main]

use customs_core::{api, model::Report};
use customs_core_fuzz::assert_one_line;
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::OnceLock;

fn report(family: &str, version: &str, ecosystem: &str, packages: &[(&str, &str, &str)]) -> String {
    let packages: Vec<_> = packages
        .iter()
        .map(|(name, version, source)| {
            json!({
                "ecosystem": ecosystem, "name": name, "version": version,
                "source_name": source, "source_version": version,
                "purl": format!("pkg:{ecosystem}/{family}/{name}@{version}"),
                "db_path": "var/lib/db", "layer": "sha256:1", "layer_index": 0,
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "tool": {"name": "customs", "version": "0"},
        "scanners": ["vuln"],
        "image": {
            "reference": "fuzz", "source": "oci-layout", "config_digest": "sha256:c",
            "platform": "linux/amd64", "layers": [],
            "os": {"family": family, "version": version, "source": "etc/os-release"},
        },
        "summary": {"packages": packages.len(), "packages_by_ecosystem": {}, "files": 0},
        "packages": packages,
    })
    .to_string()
}

fn reports() -> &'static [String; 3] {
    static R: OnceLock<[String; 3]> = OnceLock::new();
    R.get_or_init(|| {
        [
            report(
                "debian",
                "12.5",
                "deb",
                &[
                    ("libc6", "2.36-9+deb12u1", "glibc"),
                    ("openssl", "3.0.11-1~deb12u2", "openssl"),
                    ("zlib1g", "1:1.2.13.dfsg-1", "zlib"),
                ],
            ),
            report(
                "alpine",
                "3.19.1",
                "apk",
                &[
                    ("libcrypto3", "3.1.4-r5", "openssl"),
                    ("busybox", "1.36.1-r15", "busybox"),
                    ("musl", "1.2.4_git20230717-r4", "musl"),
                ],
            ),
            report(
                "almalinux",
                "9.3",
                "rpm",
                &[
                    ("openssl", "1:3.0.7-24.el9", "openssl"),
                    ("kernel", "5.14.0-362.8.1.el9_3", "kernel"),
                    ("glibc", "2.34-83.el9.7", "glibc"),
                ],
            ),
        ]
    })
}

const OPTIONS: &str = r#"{"database":{"schema_version":1,"built_at":"","build_id":"","ecosystems":["AlmaLinux","Alpine","Debian"]},"severities":[],"today":"2026-01-01"}"#;

fuzz_target!(|data: &[u8]| {
    let Some((&which, record)) = data.split_first() else {
        return;
    };
    let report = &reports()[usize::from(which) % 3];
    let records = vec![String::from_utf8_lossy(record).into_owned()];
    let result = api::match_vulnerabilities_json(report, &records, OPTIONS);
    match &result {
        Err(e) => assert_one_line(e),
        Ok(json) => {
            let out: Report =
                serde_json::from_str(json).expect("the core returned an unreadable report");
            let section = out.vulnerabilities.expect("no vulnerabilities section");
            let keys: Vec<_> = section
                .findings
                .iter()
                .map(|f| {
                    (
                        f.name.clone(),
                        f.installed_version.clone(),
                        f.purl.clone(),
                        f.layer.clone(),
                        f.id.clone(),
                    )
                })
                .collect();
            assert!(keys.is_sorted(), "findings not sorted");
            for f in &section.findings {
                assert!(!f.id.is_empty(), "finding without id");
                assert!(
                    !f.ids().skip(1).any(|a| a == f.id),
                    "primary id repeated in aliases: {f:?}"
                );
            }
        }
    }
    assert_eq!(
        api::match_vulnerabilities_json(report, &records, OPTIONS),
        result,
        "not deterministic"
    );
});

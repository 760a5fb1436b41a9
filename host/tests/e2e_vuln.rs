//! End to end, offline: the `customs` binary builds its database from OSV exports
//! served on 127.0.0.1 (the corpus's real Debian DSA/DLA advisories plus a few
//! advisories written here for packages the real Debian test image has), scans the
//! image, and reports, filters, suppresses and gates the findings.
//!
//! The written advisories pin down what the real ones cannot, because the real ones
//! were all fixed long before the image's package versions:
//! - `DEBIAN-CUSTOMS-0001` (alias `CVE-2099-0001`): glibc, fixed in a version above
//!   the installed one, Debian urgency `high`; an NVD-style record of the CVE scores
//!   it CRITICAL, which must lose to the distro's own rating. Both binary packages
//!   built from glibc (`libc6`, `libc-bin`) are affected.
//! - `DEBIAN-CUSTOMS-0002`: `hello`, no fix yet, urgency `low`.
//! - `DEBIAN-CUSTOMS-0003`: apt, fixed below the installed version: no finding.
//! - `DEBIAN-CUSTOMS-0004`: glibc in `Debian:11`: another release, no finding.
use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

mod support;
use support::osv::{Export, Server, debian_export, zip_of};

fn image() -> PathBuf {
    let dir = match std::env::var_os("CUSTOMS_TEST_IMAGES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images"),
    };
    let image = dir.join("debian.oci.tar");
    assert!(
        image.is_file(),
        "{} missing: run scripts/build-test-images.sh",
        image.display()
    );
    image
}

fn record(
    id: &str,
    aliases: &[&str],
    eco: &str,
    name: &str,
    events: Value,
    specific: Value,
) -> (String, Vec<u8>) {
    let r = json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-11-01T00:00:00Z",
        "aliases": aliases,
        "summary": format!("{name}: test advisory {id}"),
        "affected": [{
            "package": {"ecosystem": eco, "name": name, "purl": format!("pkg:deb/debian/{name}")},
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
            "ecosystem_specific": specific,
        }],
    });
    (format!("{id}.json"), serde_json::to_vec(&r).unwrap())
}

/// The corpus's Debian export plus the advisories described in the module doc.
fn debian_zip() -> Vec<u8> {
    let mut export: Export = debian_export();
    export.push(record(
        "DEBIAN-CUSTOMS-0001",
        &["CVE-2099-0001"],
        "Debian:12",
        "glibc",
        json!([{"introduced": "0"}, {"fixed": "2.36-9+deb12u99"}]),
        json!({"urgency": "high"}),
    ));
    export.push((
        "CVE-2099-0001.json".into(),
        serde_json::to_vec(&json!({
            "id": "CVE-2099-0001",
            "modified": "2026-11-01T00:00:00Z",
            "summary": "glibc: heap overflow in the test suite's imagination",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        }))
        .unwrap(),
    ));
    export.push(record(
        "DEBIAN-CUSTOMS-0002",
        &[],
        "Debian:12",
        "hello",
        json!([{"introduced": "0"}]),
        json!({"urgency": "low"}),
    ));
    export.push(record(
        "DEBIAN-CUSTOMS-0003",
        &[],
        "Debian:12",
        "apt",
        json!([{"introduced": "0"}, {"fixed": "2.6.0"}]),
        json!({"urgency": "high"}),
    ));
    export.push(record(
        "DEBIAN-CUSTOMS-0004",
        &[],
        "Debian:11",
        "glibc",
        json!([{"introduced": "0"}, {"fixed": "9:9"}]),
        json!({"urgency": "high"}),
    ));
    zip_of(&export)
}

fn server() -> Server {
    let s = Server::start();
    s.serve("Debian", debian_zip(), "debian-v1");
    s
}

fn customs(cache: &Path) -> Command {
    let mut c = Command::cargo_bin("customs").unwrap();
    c.env("CUSTOMS_CACHE_DIR", cache)
        .env_remove("CUSTOMS_OSV_URL")
        .env_remove("CUSTOMS_DB_REPOSITORY")
        .env_remove("CUSTOMS_IGNORE_FILE")
        .env("CUSTOMS_LOG", "warn")
        .current_dir(cache);
    c
}

/// A cache directory with the database built from the server.
fn cache_with_db(server: &Server) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    let out = customs(cache.path())
        .args([
            "db",
            "update",
            "--ecosystems",
            "Debian",
            "--osv-url",
            &server.mirror("m1"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "db update: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    cache
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

fn scan(cache: &Path, extra: &[&str]) -> Run {
    let image = image();
    let mut args = vec!["scan", "--image", image.to_str().unwrap(), "-q"];
    if !extra.contains(&"--engine") {
        args.extend_from_slice(&["--engine", "native"]);
    }
    args.extend_from_slice(extra);
    let out = customs(cache).args(&args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn findings(report: &Value) -> Vec<(String, String, String, String, String, String)> {
    report["vulnerabilities"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (
                s("id"),
                s("name"),
                s("severity"),
                s("status"),
                s("installed_version"),
                s("fixed_version"),
            )
        })
        .collect()
}

#[test]
fn scan_reports_the_applicable_advisories_with_distro_severity_and_the_gate() {
    let server = server();
    let cache = cache_with_db(&server);
    let run = scan(cache.path(), &["--skip-db-update", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let v = &report["vulnerabilities"];
    let glibc: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f.0 == "CVE-2099-0001")
        .collect();
    assert_eq!(
        glibc,
        ["libc-bin", "libc6"]
            .iter()
            .map(|n| (
                "CVE-2099-0001".to_string(),
                n.to_string(),
                "HIGH".to_string(),
                "fixed".to_string(),
                "2.36-9+deb12u14".to_string(),
                "2.36-9+deb12u99".to_string()
            ))
            .collect::<Vec<_>>(),
        "{v:#}"
    );
    let f = &v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "libc6")
        .unwrap();
    assert_eq!(
        f["severity_source"], "debian",
        "the distro's rating wins over NVD's CRITICAL"
    );
    assert!(
        f["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "DEBIAN-CUSTOMS-0001"),
        "{f:#}"
    );
    assert_eq!(f["source_name"], "glibc");
    assert!(
        f["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libc6@")
    );
    let ids: Vec<String> = findings(&report).into_iter().map(|f| f.0).collect();
    for absent in [
        "DEBIAN-CUSTOMS-0003",
        "DEBIAN-CUSTOMS-0004",
        "DEBIAN-CUSTOMS-0002",
    ] {
        assert!(
            !ids.iter().any(|i| i == absent),
            "{absent} must not be reported: {ids:?}"
        );
    }
    // hello's LOW finding exists but is below the default --severity HIGH,CRITICAL.
    assert!(
        v["hidden"]["by_severity"].as_u64().unwrap() >= 1,
        "{:#}",
        v["hidden"]
    );
    assert_eq!(v["selection"]["severities"], json!(["HIGH", "CRITICAL"]));
    assert_eq!(v["gate"]["enabled"], false);
    assert_eq!(v["database"]["ecosystems"], json!(["Debian"]));
    assert!(v["gaps"].is_null(), "{:#}", v["gaps"]);

    // Every severity: hello appears, unfixed.
    let all = scan(
        cache.path(),
        &[
            "--skip-db-update",
            "--format",
            "json",
            "--severity",
            "unknown,low,medium,high,critical",
        ],
    )
    .json();
    let hello: Vec<_> = findings(&all)
        .into_iter()
        .filter(|f| f.1 == "hello")
        .collect();
    assert_eq!(
        hello,
        vec![(
            "DEBIAN-CUSTOMS-0002".into(),
            "hello".into(),
            "LOW".into(),
            "affected".into(),
            "2.10-3".into(),
            String::new()
        )]
    );
    // --ignore-unfixed hides it again.
    let fixed_only = scan(
        cache.path(),
        &[
            "--skip-db-update",
            "--format",
            "json",
            "--severity",
            "LOW,HIGH",
            "--ignore-unfixed",
        ],
    )
    .json();
    assert!(findings(&fixed_only).iter().all(|f| f.1 != "hello"));
    assert_eq!(fixed_only["vulnerabilities"]["hidden"]["unfixed"], 1);

    // The gate: HIGH findings trip it at the default threshold, not at CRITICAL.
    let gated = scan(cache.path(), &["--skip-db-update", "--fail-on-findings"]);
    assert_eq!(gated.code, 1, "{}", gated.stderr);
    assert!(
        gated.stderr.contains("at or above HIGH"),
        "{}",
        gated.stderr
    );
    assert!(
        gated.stdout.contains("CVE-2099-0001"),
        "the table lists the finding:\n{}",
        gated.stdout
    );
    let critical = scan(
        cache.path(),
        &[
            "--skip-db-update",
            "--fail-on-findings",
            "--fail-on",
            "CRITICAL",
        ],
    );
    assert_eq!(critical.code, 0, "{}", critical.stderr);
    let only_critical = scan(
        cache.path(),
        &[
            "--skip-db-update",
            "--fail-on-findings",
            "--severity",
            "CRITICAL",
        ],
    );
    assert_eq!(only_critical.code, 0, "{}", only_critical.stderr);
    let low = scan(
        cache.path(),
        &[
            "--skip-db-update",
            "--fail-on-findings",
            "--severity",
            "LOW",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        low.code, 1,
        "the LOW finding trips a LOW gate: {}",
        low.stderr
    );
}

#[test]
fn both_engines_agree_and_every_format_renders() {
    let server = server();
    let cache = cache_with_db(&server);
    let common = ["--skip-db-update", "--severity", "LOW,MEDIUM,HIGH,CRITICAL"];
    let native = scan(cache.path(), &[&common[..], &["--format", "json"]].concat());
    let wasm = scan(
        cache.path(),
        &[&common[..], &["--format", "json", "--engine", "wasm"]].concat(),
    );
    assert_eq!(native.code, 0, "{}", native.stderr);
    assert_eq!(wasm.code, 0, "{}", wasm.stderr);
    assert_eq!(native.stdout, wasm.stdout, "engines disagree");
    let sarif = scan(
        cache.path(),
        &[&common[..], &["--format", "sarif"]].concat(),
    );
    assert_eq!(sarif.code, 0, "{}", sarif.stderr);
    let sarif: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["ruleId"] == "CVE-2099-0001"),
        "{sarif:#}"
    );
    let table = scan(cache.path(), &common);
    for needle in [
        "CVE-2099-0001",
        "libc6",
        "2.36-9+deb12u99",
        "DEBIAN-CUSTOMS-0002",
        "hello",
    ] {
        assert!(
            table.stdout.contains(needle),
            "table lacks {needle}:\n{}",
            table.stdout
        );
    }
}

#[test]
fn ignore_rules_and_vex_suppress_and_report_what_matched_nothing() {
    let server = server();
    let cache = cache_with_db(&server);
    std::fs::write(
        cache.path().join(".customs.yaml"),
        "ignores:\n  - id: CVE-2099-0001\n    reason: glibc is replaced at run time\n  - id: CVE-1999-0000\n    reason: matches nothing\n  - id: DEBIAN-CUSTOMS-0002\n    reason: expired\n    expires: 2020-01-01\n",
    )
    .unwrap();
    let vex = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "Example",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "DEBIAN-CUSTOMS-0002"},
                "products": [{"@id": "pkg:deb/debian/hello@2.10-3?arch=amd64&distro=debian-12"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path"
            },
            {
                "vulnerability": {"name": "CVE-2000-0001"},
                "products": [{"@id": "pkg:deb/debian/bash"}],
                "status": "not_affected",
                "justification": "component_not_present"
            }
        ]
    });
    let vex_path = cache.path().join("image.openvex.json");
    std::fs::write(&vex_path, serde_json::to_vec(&vex).unwrap()).unwrap();
    let run = scan(
        cache.path(),
        &[
            "--skip-db-update",
            "--format",
            "json",
            "--severity",
            "LOW,HIGH",
            "--fail-on-findings",
            "--vex",
            vex_path.to_str().unwrap(),
        ],
    );
    assert_eq!(
        run.code, 0,
        "everything reported is suppressed, so the gate passes: {}",
        run.stderr
    );
    let report = run.json();
    let v = &report["vulnerabilities"];
    assert_eq!(findings(&report), vec![], "{v:#}");
    let suppressed: Vec<(String, String, String)> = v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().into(),
                s["name"].as_str().unwrap().into(),
                s["suppressed"]["by"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        suppressed.contains(&("CVE-2099-0001".into(), "libc6".into(), "ignore".into())),
        "{suppressed:?}"
    );
    assert!(
        suppressed.contains(&("DEBIAN-CUSTOMS-0002".into(), "hello".into(), "vex".into())),
        "{suppressed:?}"
    );
    let notices = &v["policy"];
    assert!(
        notices["stale_ignores"]
            .to_string()
            .contains("CVE-1999-0000"),
        "{notices:#}"
    );
    assert!(
        notices["expired_ignores"]
            .to_string()
            .contains("DEBIAN-CUSTOMS-0002"),
        "{notices:#}"
    );
    assert!(
        notices["unmatched_vex"]
            .to_string()
            .contains("CVE-2000-0001"),
        "{notices:#}"
    );
    assert!(run.stderr.contains("matched no finding"), "{}", run.stderr);

    // A malformed ignore file is a usage error naming the file.
    let bad = cache.path().join("bad.yaml");
    std::fs::write(&bad, "ignores:\n  - id: CVE-1\n").unwrap();
    let run = scan(
        cache.path(),
        &["--skip-db-update", "--ignore-file", bad.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bad.yaml"), "{}", run.stderr);
}

#[test]
fn database_modes_automatic_update_skip_offline_and_fallback() {
    let server = server();
    let image = image();
    // No database, --skip-db-update / --offline: exit 3 before any download.
    let empty = tempfile::tempdir().unwrap();
    for flag in ["--skip-db-update", "--offline"] {
        let run = scan(empty.path(), &[flag, "--osv-url", &server.mirror("m1")]);
        assert_eq!(run.code, 3, "{flag}: {}", run.stderr);
        assert!(run.stderr.contains("customs db update"), "{}", run.stderr);
    }
    assert!(
        server.log().is_empty(),
        "no request may be made: {:?}",
        server.log()
    );
    // --scanners none needs no database at all.
    let run = scan(empty.path(), &["--scanners", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["vulnerabilities"].is_null());
    assert!(server.log().is_empty());

    // Automatic update: the export the image needs is downloaded, the scan reports.
    let cache = tempfile::tempdir().unwrap();
    let run = scan(
        cache.path(),
        &["--osv-url", &server.mirror("m1"), "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(findings(&run.json()).iter().any(|f| f.0 == "CVE-2099-0001"));
    let paths: Vec<String> = server.log().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/m1/Debian/all.zip".to_string()]);
    // Within the update interval: no request.
    server.clear_log();
    let run = scan(cache.path(), &["--osv-url", &server.mirror("m1")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.log().is_empty(), "{:?}", server.log());
    // Past it: one conditional request, answered 304.
    let run = scan(
        cache.path(),
        &[
            "--osv-url",
            &server.mirror("m1"),
            "--db-update-interval",
            "0s",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = server.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].status, 304);

    // The mirror fails: the cached database is used, with a warning.
    server
        .state
        .lock()
        .unwrap()
        .failing
        .insert("/m2".into(), 500);
    let run = scan(
        cache.path(),
        &[
            "--osv-url",
            &server.mirror("m2"),
            "--db-update-interval",
            "0s",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("could not update the vulnerability database"),
        "{}",
        run.stderr
    );
    assert!(findings(&run.json()).iter().any(|f| f.0 == "CVE-2099-0001"));
    // A stale database is reported.
    let run = scan(cache.path(), &["--skip-db-update", "--db-max-age", "0s"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("--db-max-age"), "{}", run.stderr);
    // Failing mirror and no database: exit 3 with the reason.
    let none = tempfile::tempdir().unwrap();
    let run = scan(none.path(), &["--osv-url", &server.mirror("m2")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("no usable vulnerability database"),
        "{}",
        run.stderr
    );
    let _ = image;
}

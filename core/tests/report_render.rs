//! The `table` and `sarif` renderings of a report with vulnerability findings.
//!
//! - snapshots of both formats for `fixtures/report-debian-vulns.json`, a Debian 12
//!   image with fixed and unfixed findings, a finding suppressed by an ignore rule and
//!   one by a VEX statement, policy notices, a coverage gap and a tripped gate;
//! - every SARIF log this file renders (that report and variants: no findings, only
//!   suppressed findings, inventory only, hostile strings) validated against the
//!   official SARIF 2.1.0 JSON schema, which `scripts/install-test-deps.sh` stores at
//!   `.cache/sarif/sarif-schema-2.1.0.json`;
//! - the log's shape compared with Trivy's SARIF for an image scan
//!   (`peer-goldens/trivy/goldens/alpine-310.sarif.golden` of the shared corpus,
//!   `<workspace>/../shared/corpus` or `$CUSTOMS_CORPUS`), the de-facto shape code
//!   scanning users know.
use customs_core::model::Report;
use customs_core::policy::SuppressedBy;
use customs_core::report::render;
use customs_core::vuln::{Severity, Status};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixture() -> Report {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-debian-vulns.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn inventory_only() -> Report {
    let mut report = fixture();
    report.vulnerabilities = None;
    report.scanners.clear();
    report
}

fn sarif(report: &Report) -> Value {
    let text = render(report, "sarif").expect("renders as sarif");
    assert!(
        text.ends_with("}\n"),
        "one JSON document and a final newline"
    );
    serde_json::from_str(&text).expect("the SARIF output is JSON")
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results array")
}

fn rules(log: &Value) -> &Vec<Value> {
    log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules array")
}

// ---------------------------------------------------------------------------------
// Snapshots

#[test]
fn table_snapshot() {
    insta::assert_snapshot!("debian_vulns_table", render(&fixture(), "table").unwrap());
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("debian_vulns_sarif", render(&fixture(), "sarif").unwrap());
}

#[test]
fn inventory_only_table_snapshot() {
    insta::assert_snapshot!(
        "inventory_only_table",
        render(&inventory_only(), "table").unwrap()
    );
}

#[test]
fn inventory_only_sarif_snapshot() {
    insta::assert_snapshot!(
        "inventory_only_sarif",
        render(&inventory_only(), "sarif").unwrap()
    );
}

// ---------------------------------------------------------------------------------
// Table

/// With `vuln`, the table keeps the image summary of the inventory table and
/// replaces the package list with the findings (the JSON report keeps both).
#[test]
fn table_shows_findings_instead_of_the_package_list() {
    let inventory = render(&inventory_only(), "table").unwrap();
    let full = render(&fixture(), "table").unwrap();
    let summary_end = inventory
        .find("\nPACKAGE ")
        .expect("inventory lists packages");
    assert!(
        full.starts_with(&inventory[..summary_end]),
        "image summary changed"
    );
    assert!(
        full[summary_end..].starts_with("\nVulnerabilities\n"),
        "{full}"
    );
    assert!(!full.contains("\nPACKAGE "), "{full}");
}

#[test]
fn table_summarizes_and_ends_with_the_gate() {
    let table = render(&fixture(), "table").unwrap();
    assert!(
        table.contains("\nTotal: 7 (CRITICAL 1, HIGH 2, MEDIUM 1, LOW 3, UNKNOWN 0)\n"),
        "{table}"
    );
    assert!(
        table.contains("\nHidden: 2 outside --severity CRITICAL,HIGH,MEDIUM,LOW\n"),
        "{table}"
    );
    assert!(
        table.contains("\nDatabase: built 2025-05-01T06:00:00Z, build 20250501.1\n"),
        "{table}"
    );
    assert!(
        table.ends_with("\nGate: FAILED: 3 findings at or above HIGH (--fail-on-findings)\n"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("CVE-2024-2511"))
        .expect("openssl row");
    assert!(
        row.contains("LOW (debian)") && row.contains("will_not_fix") && row.contains(" - "),
        "{row}"
    );
}

#[test]
fn table_with_no_findings_says_so() {
    let mut report = fixture();
    let section = report.vulnerabilities.as_mut().unwrap();
    section.findings.clear();
    section.by_severity.clear();
    section.gate.matching = 0;
    section.gate.tripped = false;
    let table = render(&report, "table").unwrap();
    assert!(
        table.contains("\nNo vulnerabilities reported.\n"),
        "{table}"
    );
    assert!(
        table.contains("\nTotal: 0 (CRITICAL 0, HIGH 0, MEDIUM 0, LOW 0, UNKNOWN 0)\n"),
        "{table}"
    );
    assert!(
        table.ends_with("\nGate: passed: no findings at or above HIGH (--fail-on-findings)\n"),
        "{table}"
    );
}

/// Third-party text cannot add lines, colour the log or reorder it.
#[test]
fn table_cells_are_one_line_without_control_characters() {
    let report = hostile();
    let table = render(&report, "table").unwrap();
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert!(!table.contains('\u{202E}'), "{table:?}");
    assert!(
        !table.lines().any(|l| l.starts_with("FAKE")),
        "a title started a line:\n{table}"
    );
    let gates = table.lines().filter(|l| l.starts_with("Gate: ")).count();
    assert_eq!(gates, 1, "a suppression reason started a line:\n{table}");
    let total = table.lines().filter(|l| l.starts_with("Total: ")).count();
    assert_eq!(total, 1, "{table}");
}

// ---------------------------------------------------------------------------------
// SARIF content

#[test]
fn sarif_has_one_rule_per_advisory_and_one_result_per_finding() {
    let report = fixture();
    let section = report.vulnerabilities.as_ref().unwrap();
    let log = sarif(&report);
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "customs");
    assert_eq!(log["runs"][0]["tool"]["driver"]["version"], "0.1.0");

    let ids: BTreeSet<&str> = section
        .findings
        .iter()
        .chain(section.suppressed.iter().map(|s| &s.finding))
        .map(|f| f.id.as_str())
        .collect();
    let rule_ids: Vec<&str> = rules(&log)
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rule_ids,
        ids.iter().copied().collect::<Vec<_>>(),
        "rules sorted by advisory id"
    );

    let results = results(&log);
    assert_eq!(
        results.len(),
        section.findings.len() + section.suppressed.len()
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules(&log)[index]["id"],
            r["ruleId"],
            "ruleIndex points at the rule"
        );
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert_eq!(uri, "var/lib/dpkg/status");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
    }
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2);
    for r in &suppressed {
        assert_eq!(r["suppressions"][0]["kind"], "external");
        assert!(
            !r["suppressions"][0]["justification"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn sarif_levels_and_security_severity() {
    let log = sarif(&fixture());
    let level_of = |id: &str| -> Vec<&str> {
        results(&log)
            .iter()
            .filter(|r| r["ruleId"] == id)
            .map(|r| r["level"].as_str().unwrap())
            .collect()
    };
    assert_eq!(level_of("CVE-2024-45492"), ["error"]);
    assert_eq!(level_of("CVE-2023-4911"), ["error", "error"]);
    assert_eq!(level_of("CVE-2023-39804"), ["warning"]);
    assert_eq!(level_of("CVE-2023-45853"), ["note"]);
    let rule = |id: &str| rules(&log).iter().find(|r| r["id"] == id).unwrap().clone();
    // CVSS when it agrees with the reported severity ...
    assert_eq!(
        rule("CVE-2023-4911")["properties"]["security-severity"],
        "7.8"
    );
    // ... the level's number when the distro rated the flaw below its CVSS score.
    assert_eq!(
        rule("CVE-2023-45853")["properties"]["security-severity"],
        "2.0"
    );
    assert_eq!(
        rule("CVE-2023-45853")["properties"]["tags"],
        serde_json::json!(["vulnerability", "security", "LOW"])
    );
    assert_eq!(
        rule("CVE-2023-4911")["helpUri"],
        "https://osv.dev/vulnerability/CVE-2023-4911"
    );
}

/// The alert identity survives an upgrade that leaves the package vulnerable and a
/// rebuild (new layer), and differs between packages and advisories.
#[test]
fn sarif_fingerprints_are_stable_and_distinct() {
    let fingerprints = |report: &Report| -> Vec<String> {
        results(&sarif(report))
            .iter()
            .map(|r| {
                r["partialFingerprints"]["customsFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let report = fixture();
    let before = fingerprints(&report);
    let distinct: BTreeSet<&String> = before.iter().collect();
    assert_eq!(
        distinct.len(),
        before.len(),
        "one identity per (advisory, package)"
    );

    let mut upgraded = report.clone();
    let section = upgraded.vulnerabilities.as_mut().unwrap();
    for f in &mut section.findings {
        let version = f.installed_version.replace('+', "%2B");
        f.purl = f
            .purl
            .replace(&version, "9.9-9")
            .replace("debian-12.5", "debian-12.6");
        f.installed_version = "9.9-9".to_string();
        f.layer = "sha256:ffff".to_string();
    }
    assert_eq!(fingerprints(&upgraded), before);
}

#[test]
fn sarif_is_deterministic() {
    let report = fixture();
    assert_eq!(
        render(&report, "sarif").unwrap(),
        render(&report, "sarif").unwrap()
    );
    assert_eq!(
        render(&report, "table").unwrap(),
        render(&report, "table").unwrap()
    );
}

#[test]
fn inventory_only_sarif_has_no_results() {
    let log = sarif(&inventory_only());
    assert_eq!(results(&log).len(), 0);
    assert_eq!(rules(&log).len(), 0);
}

#[test]
fn unknown_format_is_a_usage_error() {
    let err = render(&fixture(), "xml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown report format `xml` (expected json, table or sarif)"
    );
}

// ---------------------------------------------------------------------------------
// Schema validation

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/sarif/sarif-schema-2.1.0.json")
}

/// The official schema. Missing is a failure, not a skip: a green run must mean the
/// logs were validated.
fn schema_validator() -> jsonschema::Validator {
    let path = schema_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the SARIF 2.1.0 schema is missing ({}: {e}); run scripts/install-test-deps.sh to fetch it",
            path.display()
        )
    });
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
        "{} is not the SARIF 2.1.0 schema; run scripts/install-test-deps.sh",
        path.display()
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, name: &str, report: &Report) {
    let log = sarif(report);
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: the SARIF log violates the schema:\n{}",
        errors.join("\n")
    );
}

/// A report whose third-party strings try everything: control characters, line
/// breaks, bidi overrides, Markdown, URI delimiters.
fn hostile() -> Report {
    let mut report = fixture();
    let section = report.vulnerabilities.as_mut().unwrap();
    let f = &mut section.findings[0];
    f.id = "GHSA-xxxx/yyyy zz".to_string();
    f.title =
        "evil\ttitle\r\nFAKE ROW \u{1b}[31mred\u{1b}[0m [link](javascript:x) <img> | pipe \u{202E}rev".to_string();
    f.name = "pkg\nname".to_string();
    f.path = "/usr/lib/sysimage/rpm:db/Packages with space".to_string();
    f.severity_source = "vendor\u{7}".to_string();
    f.aliases = vec!["CVE-0000-0000\u{0}".to_string()];
    for s in &mut section.suppressed {
        match &mut s.suppressed {
            SuppressedBy::Ignore { reason, .. } => *reason = "because\nGate: passed".to_string(),
            SuppressedBy::Vex { statement, .. } => {
                *statement = Some("ok\u{1b}[2J\nGate: passed".to_string())
            }
        }
    }
    section
        .gaps
        .push("gap with\u{1b}]0;title\u{7} escape".to_string());
    report
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let validator = schema_validator();

    assert_valid(&validator, "debian fixture", &fixture());
    assert_valid(&validator, "inventory only", &inventory_only());
    assert_valid(&validator, "hostile strings", &hostile());

    let mut empty = fixture();
    {
        let s = empty.vulnerabilities.as_mut().unwrap();
        s.findings.clear();
        s.suppressed.clear();
        s.by_severity.clear();
        s.policy = Default::default();
        s.gaps.clear();
    }
    assert_valid(&validator, "no findings", &empty);

    let mut only_suppressed = fixture();
    only_suppressed
        .vulnerabilities
        .as_mut()
        .unwrap()
        .findings
        .clear();
    assert_valid(&validator, "only suppressed findings", &only_suppressed);

    let mut unfixed_unknown = fixture();
    for f in &mut unfixed_unknown.vulnerabilities.as_mut().unwrap().findings {
        f.fixed_version = None;
        f.status = Status::EndOfLife;
        f.severity = Severity::Unknown;
        f.severity_source = "none".to_string();
        f.cvss = None;
        f.title.clear();
        f.path.clear();
        f.purl.clear();
        f.layer.clear();
    }
    assert_valid(
        &validator,
        "unfixed, unrated, without path or layer",
        &unfixed_unknown,
    );

    let mut bare = inventory_only();
    bare.packages.clear();
    bare.image.os = None;
    bare.image.meta.manifest_digest = None;
    bare.image.meta.tags.clear();
    assert_valid(&validator, "no packages", &bare);
}

/// The schema check itself must catch an invalid log, or a broken setup (an empty or
/// permissive schema) would pass everything.
#[test]
fn the_schema_rejects_an_invalid_log() {
    let validator = schema_validator();
    let mut log = sarif(&fixture());
    log["runs"][0]["results"][0]["level"] = Value::from("critical");
    assert!(
        !validator.is_valid(&log),
        "a result level outside the enum was accepted"
    );
    let mut log = sarif(&fixture());
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!validator.is_valid(&log), "startLine 0 was accepted");
}

// ---------------------------------------------------------------------------------
// Shape, compared with Trivy's SARIF for an image

fn corpus() -> PathBuf {
    match std::env::var_os("CUSTOMS_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

/// Every leaf path of a JSON document, array indexes written `*`.
fn shape(value: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, path: String, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, x) in map {
                    walk(x, format!("{path}/{k}"), out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for x in items {
                    walk(x, format!("{path}/*"), out);
                }
            }
            _ => {
                out.insert(path);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(value, String::new(), &mut out);
    out
}

/// Everything Trivy writes for an image scan is written here too, under the same
/// path, except these intended differences:
///
/// - `rules/*/name`: Trivy gives every rule the same name (`OsPackageVulnerability`),
///   which tells a reader nothing the rule id and description do not.
/// - `rules/*/properties/cvssv2_*`, `cvssv3_*`: the one CVSS vector that rated the
///   finding is in each result's `properties.cvss` and in the rule's help, not one
///   property per CVSS version.
/// - `rules/*/properties/precision`: a CodeQL query attribute with no meaning for an
///   advisory match.
/// - `region/startColumn`, `endLine`, `endColumn`: a package database has no
///   meaningful column; `startLine` is all code scanning requires.
/// - `properties/imageID`, `repoDigests`: written `imageId` (SARIF's camelCase) and
///   `manifestDigest` (the digest this report has; absent when the image has none).
#[test]
fn sarif_covers_the_shape_of_trivys_image_log() {
    let path = corpus().join("peer-goldens/trivy/goldens/alpine-310.sarif.golden");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let trivy: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let intended: BTreeMap<&str, &str> = BTreeMap::from([
        ("/runs/*/tool/driver/rules/*/name", "no generic rule name"),
        (
            "/runs/*/tool/driver/rules/*/properties/cvssv2_score",
            "CVSS in result properties",
        ),
        (
            "/runs/*/tool/driver/rules/*/properties/cvssv2_vector",
            "CVSS in result properties",
        ),
        (
            "/runs/*/tool/driver/rules/*/properties/cvssv3_baseScore",
            "CVSS in result properties",
        ),
        (
            "/runs/*/tool/driver/rules/*/properties/cvssv3_vector",
            "CVSS in result properties",
        ),
        (
            "/runs/*/tool/driver/rules/*/properties/precision",
            "CodeQL-only attribute",
        ),
        (
            "/runs/*/results/*/locations/*/physicalLocation/region/startColumn",
            "startLine only",
        ),
        (
            "/runs/*/results/*/locations/*/physicalLocation/region/endLine",
            "startLine only",
        ),
        (
            "/runs/*/results/*/locations/*/physicalLocation/region/endColumn",
            "startLine only",
        ),
        ("/runs/*/properties/imageID", "written imageId"),
        ("/runs/*/properties/repoDigests", "written manifestDigest"),
    ]);
    let ours = shape(&sarif(&fixture()));
    let theirs = shape(&trivy);
    let missing: Vec<&String> = theirs
        .iter()
        .filter(|p| !intended.contains_key(p.as_str()) && !ours.contains(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "paths Trivy writes and we do not: {missing:#?}"
    );
    for p in [
        "/runs/*/properties/imageId",
        "/runs/*/properties/manifestDigest",
    ] {
        assert!(ours.contains(p), "{p}");
    }
    // Same choices where the meaning is the same.
    let our_log = sarif(&fixture());
    let first = &trivy["runs"][0]["results"][0];
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "ROOTPATH"
    );
    assert_eq!(
        results(&our_log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "ROOTPATH"
    );
    assert_eq!(
        trivy["runs"][0]["columnKind"],
        our_log["runs"][0]["columnKind"]
    );
}

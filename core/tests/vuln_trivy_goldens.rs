//! Trivy's OS-package goldens, replayed through our matcher.
//!
//! Trivy's integration fixture DB (`peer-goldens/trivy/fixtures-db/*.yaml`, trivy-db's
//! bolt layout as YAML) is converted here into OSV records the way the distros'
//! OSV exports carry the same facts: one record per (release, package, advisory) with
//! `introduced: 0` / `fixed`, the status word and the distro's rating in
//! `ecosystem_specific`, vendor advisory ids as aliases (Ubuntu as
//! `UBUNTU-CVE-…` with `upstream`, osv.dev's naming), and one NVD-style record per CVE
//! from `vulnerability.yaml` (title, NVD CVSS vectors). Then, for every golden with an
//! `os-pkgs` result, the packages Trivy reported are matched and the findings compared
//! with Trivy's: ids, fixed versions, statuses, severities and severity sources.
use customs_core::model::{Ecosystem, OsInfo};
use customs_core::vuln::osv::{Affected, Event, Package, Range, SeverityEntry, Vulnerability};
use customs_core::vuln::{self, AdvisoryDb, PackageQuery};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn trivy() -> PathBuf {
    std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
        .join("peer-goldens/trivy")
}

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(trivy().join("fixtures-db").join(name)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `[{key, value}]` / `[{bucket, pairs}]` lists as (name, node) pairs.
fn pairs(v: &Value) -> Vec<(String, &Value)> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            if let Some(b) = p.get("bucket") {
                Some((scalar(b), p.get("pairs").unwrap_or(&Value::Null)))
            } else {
                p.get("key")
                    .map(|k| (scalar(k), p.get("value").unwrap_or(&Value::Null)))
            }
        })
        .collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// trivy-db's severity enum.
fn severity_word(n: f64) -> Option<&'static str> {
    Some(match n as u8 {
        1 => "low",
        2 => "medium",
        3 => "high",
        4 => "critical",
        _ => return None,
    })
}

/// trivy-db's status enum (`types.Status`).
fn status_word(n: f64) -> Option<&'static str> {
    Some(match n as u8 {
        1 => "not_affected",
        2 | 4 => "affected",
        3 => "fixed",
        5 => "will_not_fix",
        6 => "fix_deferred",
        7 => "end_of_life",
        _ => return None,
    })
}

/// Bucket name → OSV ecosystem.
fn osv_ecosystem(bucket: &str) -> Option<String> {
    let (distro, ver) = bucket.rsplit_once(' ')?;
    Some(match distro {
        "debian" => format!("Debian:{ver}"),
        "ubuntu" => format!("Ubuntu:{ver}:LTS"),
        "alpine" => format!(
            "Alpine:{}",
            if ver == "edge" {
                "edge".to_string()
            } else {
                format!("v{ver}")
            }
        ),
        "alma" => format!("AlmaLinux:{ver}"),
        "rocky" => format!("Rocky Linux:{ver}"),
        "amazon linux" => format!("Amazon Linux:{ver}"),
        "Oracle Linux" => format!("Oracle Linux:{ver}"),
        "CBL-Mariner" => format!("CBL-Mariner:{ver}"),
        "Photon OS" => format!("Photon OS:{ver}"),
        "openSUSE Leap" => format!("openSUSE:Leap {ver}"),
        "openSUSE" if ver == "Tumbleweed" => "openSUSE:Tumbleweed".to_string(),
        "SUSE Linux Enterprise" => {
            format!("SUSE:Linux Enterprise Server {}", ver.replace("-SP", " SP"))
        }
        "SUSE Linux Enterprise Micro" => format!("SUSE:Linux Enterprise Micro {ver}"),
        _ => return None,
    })
}

struct Details {
    vulns: BTreeMap<String, Value>,
    sources: BTreeMap<String, String>,
}

fn details() -> Details {
    let v = yaml("vulnerability.yaml");
    let vulns = pairs(&v)
        .into_iter()
        .flat_map(|(_, p)| pairs(p))
        .map(|(k, v)| (k, v.clone()))
        .collect();
    let d = yaml("data-source.yaml");
    let sources = pairs(&d)
        .into_iter()
        .flat_map(|(_, p)| pairs(p))
        .filter_map(|(k, v)| v.get("ID").map(|id| (k, scalar(id))))
        .collect();
    Details { vulns, sources }
}

fn record(
    id: &str,
    eco: &str,
    pkg: &str,
    fixed: Option<&str>,
    status: Option<&str>,
    rating: Option<&str>,
) -> Vulnerability {
    let mut events = vec![Event {
        introduced: Some("0".into()),
        ..Event::default()
    }];
    if let Some(f) = fixed.filter(|f| !f.is_empty()) {
        events.push(Event {
            fixed: Some(f.to_string()),
            ..Event::default()
        });
    }
    let mut es = serde_json::Map::new();
    if let Some(s) = status {
        es.insert("status".into(), json!(s));
    }
    if let Some(r) = rating {
        es.insert("severity".into(), json!(r));
    }
    Vulnerability {
        id: id.to_string(),
        affected: vec![Affected {
            package: Some(Package {
                ecosystem: eco.to_string(),
                name: pkg.to_string(),
                purl: None,
            }),
            ranges: vec![Range {
                kind: "ECOSYSTEM".into(),
                events,
                ..Range::default()
            }],
            ecosystem_specific: (!es.is_empty()).then_some(Value::Object(es)),
            ..Affected::default()
        }],
        ..Vulnerability::default()
    }
}

/// The distro's rating as Trivy takes it: the advisory's own `Severity`, else the
/// CVE's vendor severity under the bucket's data source.
fn rating(adv: &Value, cve: &str, bucket: &str, d: &Details) -> Option<&'static str> {
    adv.get("Severity")
        .and_then(Value::as_f64)
        .and_then(severity_word)
        .or_else(|| {
            let src = d.sources.get(bucket)?;
            d.vulns
                .get(cve)?
                .get("VendorSeverity")?
                .get(src)?
                .as_f64()
                .and_then(severity_word)
        })
}

fn convert_buckets(file: &str, d: &Details, out: &mut Vec<Vulnerability>) {
    for (bucket, pkgs) in pairs(&yaml(file)) {
        let Some(eco) = osv_ecosystem(&bucket) else {
            panic!("{file}: unknown bucket {bucket}")
        };
        for (pkg, advs) in pairs(pkgs) {
            for (id, adv) in pairs(advs) {
                let status = adv
                    .get("Status")
                    .and_then(Value::as_f64)
                    .and_then(status_word);
                let fixed = adv.get("FixedVersion").and_then(Value::as_str);
                let mut r = record(&id, &eco, &pkg, fixed, status, rating(adv, &id, &bucket, d));
                if eco.starts_with("Ubuntu:") {
                    r.id = format!("UBUNTU-{id}");
                    r.upstream = vec![id.clone()];
                }
                r.aliases = adv
                    .get("VendorIDs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(scalar)
                    .collect();
                out.push(r);
            }
        }
    }
}

/// Red Hat's layout: advisories per package whose entries list the CPE indices they
/// apply to; `cpe.yaml` maps indices to `enterprise_linux:<major>` CPEs.
fn convert_redhat(out: &mut Vec<Vulnerability>) {
    let mut majors: BTreeMap<String, String> = BTreeMap::new();
    for (_, b) in pairs(&yaml("cpe.yaml")) {
        for (name, m) in pairs(b) {
            if name == "cpe" {
                for (idx, cpe) in pairs(m) {
                    if let Some(rest) = cpe.as_str().and_then(|c| c.split_once("enterprise_linux:"))
                    {
                        majors.insert(idx, rest.1.split(':').next().unwrap().to_string());
                    }
                }
            }
        }
    }
    for (_, pkgs) in pairs(&yaml("redhat.yaml")) {
        for (pkg, advs) in pairs(pkgs) {
            for (adv_id, adv) in pairs(advs) {
                for entry in adv
                    .get("Entries")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let status = entry
                        .get("Status")
                        .and_then(Value::as_f64)
                        .and_then(status_word);
                    let fixed = entry.get("FixedVersion").and_then(Value::as_str);
                    let affected = entry
                        .get("Affected")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten();
                    let releases: BTreeSet<&String> =
                        affected.filter_map(|i| majors.get(&scalar(i))).collect();
                    for major in releases {
                        let eco = format!("Red Hat:enterprise_linux:{major}::server");
                        for cve in entry
                            .get("Cves")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            let cve_id =
                                cve.get("ID").map(scalar).unwrap_or_else(|| adv_id.clone());
                            let word = cve
                                .get("Severity")
                                .and_then(Value::as_f64)
                                .and_then(severity_word);
                            let mut r = record(&cve_id, &eco, &pkg, fixed, status, word);
                            if cve_id != adv_id {
                                r.aliases = vec![adv_id.clone()];
                            }
                            out.push(r);
                        }
                    }
                }
            }
        }
    }
}

/// One NVD-style record per CVE: title, NVD CVSS vectors, and (when it has no NVD
/// vectors) Trivy's merged severity as the record's own rating.
fn detail_records(d: &Details) -> Vec<Vulnerability> {
    d.vulns
        .iter()
        .map(|(id, v)| {
            let nvd = v.get("CVSS").and_then(|c| c.get("nvd"));
            let mut severity = Vec::new();
            for (field, kind) in [("V3Vector", "CVSS_V3"), ("V2Vector", "CVSS_V2")] {
                if let Some(vec) = nvd.and_then(|n| n.get(field)).and_then(Value::as_str) {
                    severity.push(SeverityEntry {
                        kind: kind.into(),
                        score: vec.into(),
                    });
                }
            }
            let own = v
                .get("Severity")
                .and_then(Value::as_str)
                .filter(|_| severity.is_empty());
            Vulnerability {
                id: id.clone(),
                summary: v.get("Title").and_then(Value::as_str).map(str::to_string),
                severity,
                database_specific: own.map(|s| json!({ "severity": s })),
                ..Vulnerability::default()
            }
        })
        .collect()
}

fn fixture_db() -> AdvisoryDb {
    let d = details();
    let mut records = Vec::new();
    for f in [
        "debian.yaml",
        "ubuntu.yaml",
        "alpine.yaml",
        "almalinux.yaml",
        "rockylinux.yaml",
        "amazon.yaml",
        "oracle.yaml",
        "mariner.yaml",
        "photon.yaml",
        "opensuse.yaml",
        "suse.yaml",
    ] {
        convert_buckets(f, &d, &mut records);
    }
    convert_redhat(&mut records);
    records.extend(detail_records(&d));
    let mut db = AdvisoryDb::new();
    for r in records {
        let r = Vulnerability::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        db.insert(r);
    }
    db
}

/// Binary → source package for the packages of the goldens (Trivy's goldens omit
/// `SrcName` when it equals nothing they print; these are the Debian/Ubuntu/Alpine
/// and Photon source packages of those binaries).
const SOURCES: &[(&str, &str)] = &[
    ("e2fslibs", "e2fsprogs"),
    ("libcomerr2", "e2fsprogs"),
    ("libss2", "e2fsprogs"),
    ("libcom-err2", "e2fsprogs"),
    ("libext2fs2", "e2fsprogs"),
    ("libssl1.1", "openssl"),
    ("libcrypto1.1", "openssl"),
    ("libidn2-0", "libidn2"),
    ("musl-utils", "musl"),
    ("curl-libs", "curl"),
];

/// Options of each golden, from trivy's `integration/standalone_tar_test.go` (the
/// multi-line values are not in the transcribed case table): (ignore unfixed,
/// severities, ignored ids).
fn options(golden: &str) -> (bool, &'static [&'static str], &'static [&'static str]) {
    const ALL: &[&str] = &["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
    match golden {
        "alpine-39-high-critical.json.golden" => (true, &["HIGH", "CRITICAL"], &[]),
        "alpine-39-ignore-cveids.json.golden" => (false, ALL, &["CVE-2019-1549", "CVE-2019-14697"]),
        "centos-7-medium.json.golden" => (true, &["MEDIUM"], &[]),
        "centos-7-ignore-unfixed.json.golden"
        | "debian-buster-ignore-unfixed.json.golden"
        | "ubuntu-1804-ignore-unfixed.json.golden"
        | "fluentd-gems.json.golden" => (true, ALL, &[]),
        _ => (false, ALL, &[]),
    }
}

/// Inputs that differ from what the golden's metadata says, and why.
fn os_override(golden: &str, os: OsInfo) -> OsInfo {
    match golden {
        // The image's /etc/apk/repositories points at edge; Trivy matches the
        // repository's release, which is what the OS detector hands us too.
        "alpine-distroless.json.golden" => OsInfo {
            version: "edge".into(),
            ..os
        },
        _ => os,
    }
}

/// Deliberate differences in how a finding is spelled (not in what is found):
/// - Ubuntu: the converted record is `UBUNTU-CVE-…` (osv.dev's naming) with the CVE as
///   upstream; we list that record id as an alias, Trivy has no vendor id. Ignored.
/// - Severity source: Trivy says `nvd` where we say which CVSS version was scored
///   (`nvd-cvss-v3`), `oracle-oval`/`suse-cvrf` (its feed names) where we name the
///   distro (`oracle`/`suse`), and nothing where we say `osv` (a record's own rating).
fn trivy_source(ours: &str) -> String {
    match ours {
        s if s.starts_with("nvd-cvss") => "nvd".into(),
        "oracle" => "oracle-oval".into(),
        "suse" => "suse-cvrf".into(),
        "osv" | "none" => String::new(),
        s => s.into(),
    }
}

type Row = (
    String,
    String,
    String,
    Vec<String>,
    String,
    String,
    String,
    String,
);

#[test]
fn os_package_goldens_match_trivy() {
    let db = fixture_db();
    let mut compared = 0;
    let mut findings_compared = 0;
    let mut failures = Vec::new();
    let mut goldens: Vec<PathBuf> = std::fs::read_dir(trivy().join("goldens"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.golden"))
        .collect();
    goldens.sort();
    for path in goldens {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(meta_os) = doc["Metadata"].get("OS") else {
            continue;
        };
        let Some(result) = doc["Results"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["Class"] == "os-pkgs")
        else {
            continue;
        };
        let os = os_override(
            &name,
            OsInfo {
                family: scalar(&meta_os["Family"]),
                version: scalar(&meta_os["Name"]),
                ..OsInfo::default()
            },
        );
        let vulns = result["Vulnerabilities"]
            .as_array()
            .cloned()
            .unwrap_or_default();

        // The packages: those Trivy reported (a golden lists no clean packages).
        let mut pkgs: BTreeMap<(String, String, String), Option<u32>> = BTreeMap::new();
        for v in &vulns {
            let purl = scalar(&v["PkgIdentifier"]["PURL"]);
            let epoch = purl
                .split(['?', '&'])
                .find_map(|q| q.strip_prefix("epoch="))
                .and_then(|e| e.parse().ok());
            pkgs.insert(
                (scalar(&v["PkgName"]), scalar(&v["InstalledVersion"]), purl),
                epoch,
            );
        }
        let queries: Vec<PackageQuery<'_>> = pkgs
            .iter()
            .map(|((n, ver, purl), epoch)| {
                let eco = match purl.split('/').next().unwrap_or("") {
                    "pkg:deb" => Ecosystem::Deb,
                    "pkg:apk" => Ecosystem::Apk,
                    _ => Ecosystem::Rpm,
                };
                let src = SOURCES
                    .iter()
                    .find(|(b, _)| b == n)
                    .map_or(n.as_str(), |(_, s)| s);
                PackageQuery {
                    ecosystem: eco,
                    name: n,
                    version: ver,
                    epoch: *epoch,
                    source_name: src,
                    source_version: ver,
                    purl,
                    path: "",
                    layer: "",
                    modularity_label: purl
                        .split(['?', '&'])
                        .find_map(|q| q.strip_prefix("modularitylabel="))
                        .filter(|l| !l.is_empty()),
                }
            })
            .collect();
        let (ignore_unfixed, severities, ignored) = options(&name);
        let ours: BTreeSet<Row> = vuln::match_queries(&queries, &os, &db)
            .into_iter()
            .filter(|f| !ignore_unfixed || f.status.is_fixed())
            .filter(|f| severities.contains(&f.severity.as_str()))
            .filter(|f| !f.ids().any(|id| ignored.contains(&id)))
            .map(|f| {
                let aliases = f
                    .aliases
                    .iter()
                    .filter(|a| !a.starts_with("UBUNTU-"))
                    .cloned()
                    .collect();
                (
                    f.name.clone(),
                    f.installed_version.clone(),
                    f.id.clone(),
                    aliases,
                    f.fixed_version.clone().unwrap_or_default(),
                    f.status.as_str().to_string(),
                    f.severity.as_str().to_string(),
                    trivy_source(&f.severity_source),
                )
            })
            .collect();
        let theirs: BTreeSet<Row> = vulns
            .iter()
            .map(|v| {
                let mut vendor: Vec<String> = v["VendorIDs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(scalar)
                    .collect();
                vendor.sort();
                (
                    scalar(&v["PkgName"]),
                    scalar(&v["InstalledVersion"]),
                    scalar(&v["VulnerabilityID"]),
                    vendor,
                    v.get("FixedVersion").map(scalar).unwrap_or_default(),
                    scalar(&v["Status"]),
                    scalar(&v["Severity"]),
                    v.get("SeveritySource").map(scalar).unwrap_or_default(),
                )
            })
            .collect();
        compared += 1;
        findings_compared += theirs.len();
        if ours != theirs {
            let only_ours: Vec<_> = ours.difference(&theirs).collect();
            let only_theirs: Vec<_> = theirs.difference(&ours).collect();
            failures.push(format!(
                "{name} ({} {}):\n  only ours:   {only_ours:?}\n  only Trivy's: {only_theirs:?}",
                os.family, os.version
            ));
        }
    }
    eprintln!("compared {compared} OS-package goldens, {findings_compared} Trivy findings");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= 30 && findings_compared >= 60,
        "{compared} goldens, {findings_compared} findings"
    );
}

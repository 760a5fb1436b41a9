//! The vulnerability matcher over the real advisory corpus (`shared/corpus/advisories`)
//! and osv.dev's recorded answers (`peer-goldens/osv-scanner/querybatch-results.json`),
//! and the language ecosystems' ranges read with their own version orderings.
use customs_core::model::{Ecosystem, OsInfo};
use customs_core::vuln::feeds::{alpine_secdb, debian_tracker};
use customs_core::vuln::osv::Vulnerability;
use customs_core::vuln::{self, AdvisoryDb, Finding, PackageQuery, Status, db};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

fn advisories() -> PathBuf {
    corpus().join("advisories")
}

/// Every file under `dir` (recursively), sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out.sort();
    out
}

/// The OSV-format folders and their file extension (see advisories/SOURCES.md; the
/// Alpine secdb, the Debian tracker lists and RustSec's Markdown are other formats).
const OSV_DIRS: &[(&str, &str)] = &[
    ("rustsec-osv/crates", "json"),
    ("go-vulndb-osv/data/osv", "json"),
    ("ghsa-osv", "json"),
    ("almalinux-osv/advisories", "json"),
    ("osv-misc", "json"),
    ("pypa-advisory-database/vulns", "yaml"),
];

fn load_osv(path: &Path) -> Result<Vulnerability, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let value: Value = if path.extension().is_some_and(|e| e == "yaml") {
        serde_yaml_ng::from_str(&text).map_err(|e| e.to_string())?
    } else {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    };
    Vulnerability::from_value(value).map_err(|e| e.to_string())
}

fn all_osv(dir: &str, ext: &str) -> Vec<(PathBuf, Vulnerability)> {
    walk(&advisories().join(dir))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let r = load_osv(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, r)
        })
        .collect()
}

#[test]
fn every_osv_record_parses() {
    let mut total = 0;
    let mut per_dir = BTreeMap::new();
    for (dir, ext) in OSV_DIRS {
        let n = all_osv(dir, ext).len();
        per_dir.insert(*dir, n);
        total += n;
    }
    eprintln!("parsed OSV records: {per_dir:?} total {total}");
    assert!(per_dir["rustsec-osv/crates"] >= 1200, "{per_dir:?}");
    assert!(per_dir["almalinux-osv/advisories"] >= 780, "{per_dir:?}");
    assert!(
        per_dir["pypa-advisory-database/vulns"] >= 2600,
        "{per_dir:?}"
    );
    assert!(total >= 5500, "only {total} records");
}

fn os(family: &str, version: &str) -> OsInfo {
    OsInfo {
        family: family.into(),
        version: version.into(),
        ..OsInfo::default()
    }
}

fn query<'a>(eco: Ecosystem, name: &'a str, version: &'a str) -> PackageQuery<'a> {
    PackageQuery {
        ecosystem: eco,
        name,
        version,
        epoch: None,
        source_name: name,
        source_version: version,
        purl: "",
        path: "",
        layer: "",
        modularity_label: None,
    }
}

/// `query` for a package built from a module stream (`nodejs:10`).
fn modular_query<'a>(name: &'a str, version: &'a str, label: Option<&'a str>) -> PackageQuery<'a> {
    PackageQuery {
        modularity_label: label,
        ..query(Ecosystem::Rpm, name, version)
    }
}

fn finding_for<'f>(findings: &'f [Finding], id: &str) -> Option<&'f Finding> {
    findings.iter().find(|f| f.ids().any(|i| i == id))
}

/// A version just below `v` in each ordering: `~` sorts before everything in dpkg and
/// rpm; in apk a `_alpha` pre-release suffix before the `-rN` revision does.
fn just_below(eco: Ecosystem, v: &str) -> String {
    match eco {
        Ecosystem::Deb | Ecosystem::Rpm => format!("{v}~"),
        Ecosystem::Apk => match v.rfind("-r") {
            Some(i) => format!("{}_alpha{}", &v[..i], &v[i..]),
            None => format!("{v}_alpha"),
        },
    }
}

/// For every affected entry with a fixed version: the fixed version is not affected by
/// that record, and the version just below it is, with that fixed version reported.
/// Returns the number of (entry, version) checks made.
fn check_fixed_boundaries(
    records: &[Vulnerability],
    eco: Ecosystem,
    family: &str,
    release_of: impl Fn(&str) -> Option<String>,
) -> usize {
    let mut db = AdvisoryDb::new();
    for r in records {
        db.insert(r.clone());
    }
    let mut checks = 0;
    let mut failures = Vec::new();
    for r in records {
        // A record that lists one package several times with different fixes covers
        // several parallel streams (RHEL modules: `perl:5.24` and `perl:5.30` …). A
        // version fixed in a lower stream is still below the higher stream's fix, so
        // the boundary property only holds per stream; such packages are skipped here
        // (one stream may also have several builds, one per minor release).
        let mut fixes_per_pkg: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for a in &r.affected {
            let Some(pkg) = &a.package else { continue };
            for ev in a.ranges.iter().flat_map(|x| &x.events) {
                if let Some(f) = &ev.fixed {
                    fixes_per_pkg
                        .entry((&pkg.ecosystem, &pkg.name))
                        .or_default()
                        .insert(f);
                }
            }
        }
        for a in &r.affected {
            let Some(pkg) = &a.package else { continue };
            if fixes_per_pkg
                .get(&(pkg.ecosystem.as_str(), pkg.name.as_str()))
                .is_some_and(|s| s.len() > 1)
            {
                continue;
            }
            let Some(release) = release_of(&pkg.ecosystem) else {
                continue;
            };
            let os = os(family, &release);
            // Module builds match only packages of the stream the title names.
            let label = db::module_streams(r.summary.as_deref().unwrap_or(""))
                .first()
                .map(|s| format!("{s}:8000020200000000:00000000"));
            for range in &a.ranges {
                for ev in &range.events {
                    let Some(fixed) = &ev.fixed else { continue };
                    // A few historical secdb entries are not apk versions at all
                    // (`4.10-1`); no "version just below" can be built for them.
                    if eco == Ecosystem::Apk && !customs_core::version::apk::is_valid(fixed) {
                        continue;
                    }
                    let at = vuln::match_queries(
                        &[PackageQuery {
                            modularity_label: label.as_deref(),
                            ..query(eco, &pkg.name, fixed)
                        }],
                        &os,
                        &db,
                    );
                    if finding_for(&at, &r.id).is_some() {
                        failures.push(format!(
                            "{} {} {fixed}: still affected at the fixed version",
                            r.id, pkg.name
                        ));
                    }
                    let below = just_below(eco, fixed);
                    let under = vuln::match_queries(
                        &[PackageQuery {
                            modularity_label: label.as_deref(),
                            ..query(eco, &pkg.name, &below)
                        }],
                        &os,
                        &db,
                    );
                    match finding_for(&under, &r.id) {
                        None => failures.push(format!(
                            "{} {} {below}: not affected below the fix",
                            r.id, pkg.name
                        )),
                        Some(f) if f.status != Status::Fixed => failures.push(format!(
                            "{} {} {below}: status {:?}",
                            r.id, pkg.name, f.status
                        )),
                        Some(_) => {}
                    }
                    checks += 2;
                }
            }
        }
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {checks} checks failed, e.g.:\n{}",
        failures.len(),
        failures
            .iter()
            .step_by((failures.len() / 30).max(1))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    checks
}

/// The false positive module streams used to cause, on a real advisory: AlmaLinux's
/// ALSA-2021:0735 fixes the `nodejs:10` stream at 1:10.24.0. A nodejs from the
/// `nodejs:12` stream at 12.x is above that anyway, but one from an older stream
/// (`nodejs:8`) compares below it and was reported, although no fix of stream 10
/// applies to it; and a nodejs built outside any module is not covered by it either.
#[test]
fn module_build_advisories_apply_to_their_stream_only() {
    let path = advisories().join("almalinux-osv/advisories/almalinux8/ALSA-2021:0735.json");
    let record = load_osv(&path).unwrap();
    assert_eq!(
        db::module_streams(record.summary.as_deref().unwrap()),
        ["nodejs:10"]
    );
    let mut adb = AdvisoryDb::new();
    adb.insert(record);
    let os = os("alma", "8.5");
    let ids = |q: PackageQuery<'_>| -> Vec<String> {
        vuln::match_queries(&[q], &os, &adb)
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    let old = "1:10.23.1-1.module_el8.4.0+2522+ef3c4ad5";
    let label10 = "nodejs:10:8040020210308070513:ef3c4ad5";
    assert!(
        !ids(modular_query("nodejs", old, Some(label10))).is_empty(),
        "stream 10 below its fix is affected"
    );
    assert!(
        ids(modular_query(
            "nodejs",
            "1:10.24.0-1.module_el8.5.0+81+7dbe79d3",
            Some(label10)
        ))
        .is_empty()
    );
    let stream8 = "1:8.17.0-1.module_el8.3.0+2028+7b4ed1a4";
    assert!(
        ids(modular_query(
            "nodejs",
            stream8,
            Some("nodejs:8:8030020201124095300:f8e95b4e")
        ))
        .is_empty(),
        "another stream"
    );
    assert!(
        ids(modular_query("nodejs", stream8, None)).is_empty(),
        "not built from a module"
    );
    assert!(
        ids(modular_query("nodejs", old, Some("NodeJS:10:1:x"))).len() == 1,
        "stream names compare case-insensitively"
    );
}

#[test]
fn almalinux_fixed_versions_match_exactly() {
    let records: Vec<_> = all_osv("almalinux-osv/advisories", "json")
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let checks = check_fixed_boundaries(&records, Ecosystem::Rpm, "alma", |eco| {
        eco.strip_prefix("AlmaLinux:").map(|v| format!("{v}.0"))
    });
    eprintln!("AlmaLinux boundary checks: {checks}");
    assert!(checks >= 20_000, "{checks}");
}

fn debian_records() -> Vec<Vulnerability> {
    let mut out = Vec::new();
    for list in ["DSA", "DLA"] {
        let path = advisories().join(format!("debian-security-tracker/data/{list}/list"));
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        out.extend(debian_tracker::parse(&format!("{list}/list"), &text).unwrap());
    }
    out
}

#[test]
fn debian_tracker_lists_convert_and_match() {
    let records = debian_records();
    let dsa = records.iter().filter(|r| r.id.starts_with("DSA-")).count();
    let dla = records.iter().filter(|r| r.id.starts_with("DLA-")).count();
    assert!(dsa >= 5400 && dla >= 3500, "DSA {dsa} DLA {dla}");
    let checks = check_fixed_boundaries(&records, Ecosystem::Deb, "debian", |eco| {
        eco.strip_prefix("Debian:").map(str::to_string)
    });
    eprintln!("Debian tracker: {dsa} DSA, {dla} DLA, {checks} boundary checks");
    assert!(checks >= 15_000, "{checks}");

    // A tracker `<end-of-life>` entry is reported as end_of_life for every version.
    let mut db = AdvisoryDb::new();
    records.iter().cloned().for_each(|r| {
        db.insert(r);
    });
    let eol = records
        .iter()
        .find_map(|r| {
            r.affected
                .iter()
                .find(|a| {
                    a.ecosystem_specific
                        .as_ref()
                        .is_some_and(|v| v["status"] == "end_of_life")
                })
                .map(|a| (r, a))
        })
        .expect("the DSA list has <end-of-life> entries");
    let (r, a) = eol;
    let pkg = a.package.as_ref().unwrap();
    let release = pkg.ecosystem.strip_prefix("Debian:").unwrap();
    let f = vuln::match_queries(
        &[query(Ecosystem::Deb, &pkg.name, "1.0-1")],
        &os("debian", release),
        &db,
    );
    let f = finding_for(&f, &r.id).expect("end-of-life entry applies");
    assert_eq!(
        (f.status, f.fixed_version.as_deref()),
        (Status::EndOfLife, None)
    );
}

#[test]
fn debian_source_matching_reports_binary_package() {
    let records = debian_records();
    let mut db = AdvisoryDb::new();
    records.into_iter().for_each(|r| {
        db.insert(r);
    });
    // DSA-5380-1: xorg-server 2:1.20.11-1+deb11u6 for bullseye. The binary package
    // xserver-xorg-core comes from source xorg-server; its source version is written
    // without the epoch, which the binary's epoch supplies.
    let pkg = PackageQuery {
        ecosystem: Ecosystem::Deb,
        name: "xserver-xorg-core",
        version: "2:1.20.11-1+deb11u5",
        epoch: Some(2),
        source_name: "xorg-server",
        source_version: "1.20.11-1+deb11u5",
        purl: "pkg:deb/debian/xserver-xorg-core@2:1.20.11-1+deb11u5?distro=debian-11",
        path: "",
        layer: "sha256:l1",
        modularity_label: None,
    };
    let f = vuln::match_queries(&[pkg], &os("debian", "11.6"), &db);
    let hit = f
        .iter()
        .find(|f| f.id == "CVE-2023-1393")
        .expect("CVE-2023-1393 via DSA-5380-1");
    assert_eq!(hit.name, "xserver-xorg-core");
    assert!(
        hit.aliases.contains(&"DSA-5380-1".to_string()),
        "{:?}",
        hit.aliases
    );
    assert_eq!(hit.fixed_version.as_deref(), Some("2:1.20.11-1+deb11u6"));
    assert_eq!(hit.source_version, "2:1.20.11-1+deb11u5");
    // Other releases' advisories never apply.
    assert!(
        vuln::match_queries(&[pkg], &os("debian", "10.13"), &db)
            .iter()
            .all(|f| f.ecosystem == "Debian:10")
    );
}

fn alpine_records() -> BTreeMap<String, Vec<Vulnerability>> {
    let dir = advisories().join("alpine-secdb");
    let mut by_branch: BTreeMap<String, Vec<Vulnerability>> = BTreeMap::new();
    let mut files = 0;
    for p in walk(&dir) {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let text = match ext {
            "json" | "yaml" => std::fs::read_to_string(&p).unwrap(),
            _ => continue,
        };
        let value: Value = if ext == "yaml" {
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        } else {
            serde_json::from_str(&text).unwrap()
        };
        files += 1;
        let (branch, records) = if value.get("packages").is_some() {
            let db: alpine_secdb::SecDb =
                serde_json::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (db.distroversion.clone(), db.to_osv())
        } else {
            // One package of a branch (vuln-list layout, and vuln-list-update goldens).
            let branch = value["distroversion"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: no distroversion", p.display()))
                .to_string();
            let pkg: alpine_secdb::SecPackage = serde_json::from_value(value).unwrap();
            let recs = alpine_secdb::to_osv(&branch, [&pkg]);
            (branch, recs)
        };
        by_branch.entry(branch).or_default().extend(records);
    }
    assert!(files >= 30, "{files} secdb files");
    by_branch
}

#[test]
fn alpine_secdb_converts_and_matches() {
    let by_branch = alpine_records();
    let mut checks = 0;
    for (branch, records) in &by_branch {
        let Some(release) = branch.strip_prefix('v') else {
            continue;
        };
        let release = format!("{release}.0");
        checks +=
            check_fixed_boundaries(records, Ecosystem::Apk, "alpine", |_| Some(release.clone()));
    }
    eprintln!(
        "Alpine secdb: {} branches, {checks} boundary checks",
        by_branch.len()
    );
    assert!(checks >= 5_000, "{checks}");
}

/// Where our answer differs from osv.dev's on purpose: (ecosystem, package, version,
/// id, reason).
const QUERYBATCH_DIFFERENCES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Alpine:v3.18",
        "apk-tools",
        "2.10.6-r0",
        "ALPINE-CVE-2021-30139",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "busybox",
        "1.30.1-r5",
        "ALPINE-CVE-2021-28831",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "busybox",
        "1.30.1-r5",
        "ALPINE-13661",
        "osv.dev publishes only CVE-named Alpine issues; the secdb also lists Alpine's own ids",
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-1343",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-1434",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-1473",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-3358",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-3602",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-3786",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-3996",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2022-4203",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-0216",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-0217",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-0401",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-1255",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-2975",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-3817",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-5363",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2023-6129",
        INTRODUCED,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-0727",
        SNAPSHOT,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-13176",
        SNAPSHOT,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-2511",
        SNAPSHOT,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-4603",
        SNAPSHOT,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-4741",
        SNAPSHOT,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-5535",
        SNAPSHOT,
    ),
    (
        "Alpine:v3.18",
        "openssl",
        "1.1.1k-r0",
        "ALPINE-CVE-2024-9143",
        SNAPSHOT,
    ),
];

/// The secdb has no "introduced" version: a fix in the branch's package implies every
/// earlier version is affected. osv.dev narrows Alpine records with the upstream
/// introduced version (an OpenSSL 3.x-only flaw does not affect 1.1.1k), so for a
/// package version older than the branch ever shipped we report more. A real image of
/// the branch never carries such a version.
const INTRODUCED: &str = "secdb carries no introduced version; osv.dev narrows with upstream data";
/// The corpus copy of the secdb predates these fixes.
const SNAPSHOT: &str = "the corpus secdb snapshot predates this advisory";

/// osv.dev's answers for (ecosystem, package, version). Our records are a subset of
/// osv.dev's data (older snapshots, a few packages), so every id we report must be in
/// osv.dev's answer; where the corpus holds the package's complete data (the five
/// Alpine 3.18 base packages re-typed from the secdb), the answers must be equal.
#[test]
fn osv_querybatch_answers_agree() {
    let path = corpus().join("peer-goldens/osv-scanner/querybatch-results.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();

    let mut db = AdvisoryDb::new();
    debian_records().into_iter().for_each(|r| {
        db.insert(r);
    });
    let alpine = alpine_records();
    for records in alpine.values() {
        records.iter().cloned().for_each(|r| {
            db.insert(r);
        });
    }
    let complete_318: BTreeSet<String> =
        walk(&advisories().join("alpine-secdb/vuln-list-3.18-main"))
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();

    let (mut compared, mut equal_checked, mut skipped) = (0, 0, BTreeMap::<String, usize>::new());
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for items in doc["cassettes"].as_object().unwrap().values() {
        for q in items.as_array().unwrap() {
            let (eco, name, version) = (
                q["ecosystem"].as_str().unwrap(),
                q["name"].as_str().unwrap(),
                q["version"].as_str().unwrap(),
            );
            if !seen.insert((eco.to_string(), name.to_string(), version.to_string())) {
                continue;
            }
            let expected: BTreeSet<&str> = q["vulns"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let (os_info, pkg_eco, prefix) = if let Some(v) = eco.strip_prefix("Alpine:v") {
                (os("alpine", &format!("{v}.0")), Ecosystem::Apk, "ALPINE-")
            } else if let Some(v) = eco.strip_prefix("Debian:") {
                (os("debian", v), Ecosystem::Deb, "D")
            } else {
                *skipped
                    .entry(format!(
                        "{eco} (no advisory data for this ecosystem in the corpus)"
                    ))
                    .or_default() += 1;
                continue;
            };
            let findings = vuln::match_queries(&[query(pkg_eco, name, version)], &os_info, &db);
            let ours: BTreeSet<&str> = findings
                .iter()
                .flat_map(|f| f.ids())
                .filter(|id| {
                    id.starts_with(prefix)
                        && (prefix != "D" || id.starts_with("DSA-") || id.starts_with("DLA-"))
                })
                .collect();
            compared += 1;
            let known = |id: &str| {
                QUERYBATCH_DIFFERENCES
                    .iter()
                    .any(|d| (d.0, d.1, d.2, d.3) == (eco, name, version, id))
            };
            let extra: Vec<_> = ours.difference(&expected).filter(|id| !known(id)).collect();
            if !extra.is_empty() {
                failures.push(format!(
                    "{eco} {name} {version}: we report {extra:?} that osv.dev does not"
                ));
            }
            if eco == "Alpine:v3.18" && complete_318.contains(name) {
                equal_checked += 1;
                let missing: Vec<_> = expected.difference(&ours).filter(|id| !known(id)).collect();
                if !missing.is_empty() {
                    failures.push(format!(
                        "{eco} {name} {version}: osv.dev reports {missing:?} that we miss"
                    ));
                }
            }
        }
    }
    eprintln!(
        "querybatch: compared {compared} (of which {equal_checked} for equality), skipped {skipped:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= 150 && equal_checked >= 5,
        "compared {compared}, equality {equal_checked}"
    );
}

/// Listed versions that lie outside every range of their entry by the ecosystem's
/// ordering, and why: in each case the publisher's list, not the ordering, is off.
/// OSV counts an entry's `versions` and its ranges together, so the matcher reports
/// them anyway. (record file, package, versions, reason)
const LISTED_OUTSIDE_RANGES: &[(&str, &str, &[&str], &str)] = &[
    (
        "GHSA-f4qf-m5gf-8jm8.json",
        "org.apache.tomcat:tomcat-coyote",
        &[
            "9.0.0.M1",
            "9.0.0.M10",
            "9.0.0.M3",
            "9.0.0.M4",
            "9.0.0.M6",
            "9.0.0.M8",
            "9.0.0.M9",
        ],
        "the range starts at 9.0.0-M11; milestones 1 to 10 come before it in every Maven \
         ordering (3.8 and 3.9 alike), yet GitHub's list names them",
    ),
    (
        "PYSEC-2023-61.yaml",
        "django",
        &["3.2a1", "3.2b1", "3.2rc1", "4.2a1", "4.2b1", "4.2rc1"],
        "the ranges start at the final releases 3.2 and 4.2; PEP 440 puts their pre-releases \
         before them, PyPA's list counts them as part of the release series",
    ),
    (
        "PYSEC-2021-114.yaml",
        "wagtail",
        &["2.11.6"],
        "one range holds overlapping pairs (introduced 2.11, fixed 2.11.7, introduced 0, fixed \
         2.11.6); PyPA lists the union of the pairs, OSV's algorithm walks the sorted events and \
         closes at 2.11.6",
    ),
    (
        "PYSEC-2022-236.yaml",
        "pyspark",
        &["3.1.1", "3.1.2"],
        "fixed 3.1.1 and introduced 3.1.1 in one range: PyPA means two adjacent pairs; OSV's \
         algorithm with introduced before fixed at equal versions closes the range at 3.1.1",
    ),
    (
        "PYSEC-2023-72.yaml",
        "pyspark",
        &["3.1.1", "3.1.2", "3.1.3"],
        "the same adjacent-pairs shape as PYSEC-2022-236",
    ),
    (
        "PYSEC-2023-177.yaml",
        "gevent",
        &["23.9.0", "23.9.0.post1"],
        "the range is fixed at 23.9.0, yet PyPA lists 23.9.0 and its post-release as affected",
    ),
];

/// The language ecosystems' advisories (RustSec, the Go database, GHSA, PyPA, osv-misc),
/// read with each ecosystem's own version ordering (`version::Scheme`), must agree with
/// what their publishers computed with theirs:
/// - the events of each evaluable range (`ECOSYSTEM`, and `SEMVER` for SemVer
///   ecosystems) stay in the publisher's order when sorted by ours, for every publisher
///   that lists them in ascending order (all but PyPA, which lists pairs as written);
/// - every version of an entry's `versions` list, which the publishers enumerate with
///   their own ordering, lies inside one of those ranges by ours, but for the listed
///   cases where the publisher's list is off.
#[test]
fn language_advisories_agree_with_their_publishers_orderings() {
    use customs_core::version::Scheme;
    use customs_core::vuln::osv::EventKind;
    use customs_core::vuln::range;
    use std::cmp::Ordering;

    let (mut ranges_checked, mut versions_checked) = (0usize, 0usize);
    let mut per_ecosystem: BTreeMap<String, usize> = BTreeMap::new();
    let mut unordered = Vec::new();
    let mut outside: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (dir, ext) in OSV_DIRS {
        if dir.starts_with("almalinux") {
            continue;
        }
        let listed_sorted = !dir.starts_with("pypa-advisory-database");
        for (path, record) in all_osv(dir, ext) {
            let file = file_name(&path);
            for affected in &record.affected {
                let Some(package) = &affected.package else {
                    continue;
                };
                let Some(scheme) = Scheme::for_osv_ecosystem(&package.ecosystem) else {
                    continue;
                };
                if matches!(scheme, Scheme::Dpkg | Scheme::Apk | Scheme::Rpm) {
                    continue;
                }
                let mut prepared = Vec::new();
                for r in &affected.ranges {
                    let Some(events) = range::prepare(r, scheme) else {
                        continue;
                    };
                    ranges_checked += 1;
                    *per_ecosystem.entry(format!("{scheme:?}")).or_default() += 1;
                    // The publisher's order, `introduced: "0"` and `limit: "*"` aside.
                    let listed: Vec<(EventKind, &str)> = r
                        .events
                        .iter()
                        .filter_map(|e| e.kind())
                        .filter(|&(k, v)| !(k == EventKind::Introduced && v == "0") && v != "*")
                        .collect();
                    for pair in listed.windows(2).filter(|_| listed_sorted) {
                        if scheme.compare(pair[0].1, pair[1].1) == Ordering::Greater {
                            unordered.push(format!(
                                "{file} {}: {:?} {} listed before {:?} {}",
                                package.name, pair[0].0, pair[0].1, pair[1].0, pair[1].1
                            ));
                        }
                    }
                    prepared.push(events);
                }
                if prepared.is_empty() {
                    continue;
                }
                for v in &affected.versions {
                    versions_checked += 1;
                    if !prepared
                        .iter()
                        .any(|events| range::is_affected(events, scheme, v))
                    {
                        outside.insert((file.clone(), package.name.clone(), v.clone()));
                    }
                }
            }
        }
    }
    eprintln!(
        "{ranges_checked} ranges {per_ecosystem:?}, {versions_checked} listed versions checked"
    );
    assert!(
        unordered.is_empty(),
        "events our ordering reorders:\n{}",
        unordered.join("\n")
    );
    let expected: BTreeSet<(String, String, String)> = LISTED_OUTSIDE_RANGES
        .iter()
        .flat_map(|(file, package, versions, _)| {
            versions
                .iter()
                .map(|v| (file.to_string(), package.to_string(), v.to_string()))
        })
        .collect();
    let unexpected: Vec<_> = outside.difference(&expected).collect();
    let stale: Vec<_> = expected.difference(&outside).collect();
    assert!(
        unexpected.is_empty(),
        "listed versions outside their ranges: {unexpected:?}"
    );
    assert!(
        stale.is_empty(),
        "listed as outside but inside now: {stale:?}"
    );
    assert!(ranges_checked >= 5_000, "only {ranges_checked} ranges");
    assert!(
        versions_checked >= 170_000,
        "only {versions_checked} listed versions"
    );
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

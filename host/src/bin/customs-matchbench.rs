//! `customs-matchbench`: how long matching the packages of a large image against a
//! database the size of the Debian and Alpine OSV exports takes.
//!
//! No network here, so the database is generated, deterministically, from the real
//! advisories of the corpus: the Debian DSA/DLA lists and every Alpine secdb file,
//! converted by the core's feed converters, then cloned under renamed ids and
//! package names (`<id>-G<k>`, `<name>-g<k>`) until it holds at least
//! `--min-entries` affected-package entries (default 300,000). The package set is
//! `--packages` (default 2,000) Debian 11 source packages picked from the generated
//! index (so every lookup hits), half at a version every advisory affects and half at
//! a version past every fix.
//!
//! Timed, per run (the database is reopened each time; the OS page cache is warm
//! after the first): open with the full integrity check (what the first scan of a
//! new database pays), open as a scan does (the check remembered for the unchanged
//! file), lookup (the SQLite reads and the in-memory index), match (`customs_core::vuln::match_packages`). Prints each
//! phase's median and minimum in milliseconds.
//!
//! Usage: `customs-matchbench [--corpus DIR] [--work DIR] [--runs N] [--packages N]
//! [--min-entries N]`.
use anyhow::{Context, Result, bail};
use customs::vulndb::{self, Integrity, VulnDb, store::Builder, store::EcosystemRow};
use customs_core::model::{Ecosystem, OsInfo, ReportPackage};
use customs_core::vuln::feeds::{alpine_secdb, debian_tracker};
use customs_core::vuln::osv::Vulnerability;
use customs_core::vuln::{self, AdvisoryDb, PackageQuery};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Args {
    corpus: PathBuf,
    work: Option<PathBuf>,
    runs: usize,
    packages: usize,
    min_entries: usize,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        corpus: std::env::var_os("CUSTOMS_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")),
        work: None,
        runs: 7,
        packages: 2000,
        min_entries: 300_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--corpus" => a.corpus = PathBuf::from(value()?),
            "--work" => a.work = Some(PathBuf::from(value()?)),
            "--runs" => a.runs = value()?.parse().context("--runs")?,
            "--packages" => a.packages = value()?.parse().context("--packages")?,
            "--min-entries" => a.min_entries = value()?.parse().context("--min-entries")?,
            "-h" | "--help" => {
                println!(
                    "customs-matchbench [--corpus DIR] [--work DIR] [--runs N] [--packages N] [--min-entries N]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if a.runs == 0 {
        bail!("--runs must be at least 1");
    }
    Ok(a)
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| d.display().to_string())? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The corpus's Debian and Alpine advisories as OSV records.
fn seed_records(corpus: &Path) -> Result<Vec<Vulnerability>> {
    let adv = corpus.join("advisories");
    let mut out = Vec::new();
    for list in ["DSA", "DLA"] {
        let path = adv.join(format!("debian-security-tracker/data/{list}/list"));
        let text = String::from_utf8_lossy(
            &std::fs::read(&path).with_context(|| path.display().to_string())?,
        )
        .into_owned();
        out.extend(debian_tracker::parse(&format!("{list}/list"), &text)?);
    }
    for p in files_under(&adv.join("alpine-secdb"))? {
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&p)?)?;
        if value.get("packages").is_some() {
            let db: alpine_secdb::SecDb = serde_json::from_value(value)?;
            out.extend(db.to_osv());
        } else if let Some(branch) = value
            .get("distroversion")
            .and_then(|v| v.as_str())
            .map(str::to_string)
        {
            let pkg: alpine_secdb::SecPackage = serde_json::from_value(value)?;
            out.extend(alpine_secdb::to_osv(&branch, [&pkg]));
        }
    }
    // One record per id (the sources repeat a few), affected entries merged.
    out.sort_by(|a, b| a.id.cmp(&b.id));
    let mut merged: Vec<Vulnerability> = Vec::new();
    for r in out {
        match merged.last_mut() {
            Some(last) if last.id == r.id => last.affected.extend(r.affected),
            _ => merged.push(r),
        }
    }
    Ok(merged)
}

fn build(cache: &Path, seeds: &[Vulnerability], min_entries: usize) -> Result<(usize, usize)> {
    let dir = vulndb::db_dir(cache);
    std::fs::create_dir_all(&dir)?;
    let path = vulndb::db_path(cache);
    let _ = std::fs::remove_file(&path);
    let mut b = Builder::create(&path)?;
    let (mut entries, mut records) = (0usize, 0usize);
    let mut k = 0usize;
    while entries < min_entries {
        for seed in seeds {
            let mut r = seed.clone();
            if k > 0 {
                r.id = format!("{}-G{k}", seed.id);
                for a in &mut r.affected {
                    if let Some(p) = &mut a.package {
                        p.name = format!("{}-g{k}", p.name);
                    }
                }
            }
            let json = serde_json::to_vec(&r)?;
            if b.insert("Generated", &r, &json)? {
                records += 1;
                entries += r.affected.iter().filter(|a| a.package.is_some()).count();
            }
        }
        k += 1;
    }
    b.set_ecosystem(&EcosystemRow {
        name: "Generated".into(),
        url: "generated://corpus".into(),
        sha256: String::new(),
        records: records as u64,
        ..EcosystemRow::default()
    })?;
    b.finish(&["generated://corpus".to_string()], 0)?;
    Ok((records, entries))
}

fn packages(seeds: &[Vulnerability], n: usize) -> Vec<ReportPackage> {
    // Source packages with Debian 11 advisories in the seeds, then their renamed
    // copies (`-g1`, `-g2` …), which the generated database also indexes.
    let base: BTreeSet<&str> = seeds
        .iter()
        .flat_map(|r| &r.affected)
        .filter_map(|a| a.package.as_ref())
        .filter(|p| p.ecosystem == "Debian:11")
        .map(|p| p.name.as_str())
        .collect();
    let mut all: Vec<String> = Vec::with_capacity(n);
    let mut k = 0;
    while all.len() < n && !base.is_empty() {
        for name in &base {
            if all.len() == n {
                break;
            }
            all.push(if k == 0 {
                name.to_string()
            } else {
                format!("{name}-g{k}")
            });
        }
        k += 1;
    }
    all.into_iter()
        .enumerate()
        .map(|(i, name)| {
            let version = if i % 2 == 0 { "0.1-1" } else { "999:1.0-1" }.to_string();
            ReportPackage {
                ecosystem: Ecosystem::Deb,
                name: format!("{name}-bin"),
                version: version.clone(),
                epoch: None,
                arch: Some("amd64".into()),
                source_name: name.clone(),
                source_version: version,
                source_rpm: None,
                modularity_label: None,
                licenses: Vec::new(),
                purl: format!("pkg:deb/debian/{name}-bin?distro=debian-11"),
                db_path: "var/lib/dpkg/status".into(),
                layer: "sha256:0".into(),
                layer_index: 0,
            }
        })
        .collect()
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0])
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let tmp;
    let work = match &args.work {
        Some(w) => w.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let seeds = seed_records(&args.corpus)?;
    let t = Instant::now();
    let (records, entries) = build(&work, &seeds, args.min_entries)?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let size = std::fs::metadata(vulndb::db_path(&work))?.len();
    println!(
        "database: {records} records, {entries} affected entries, {:.1} MiB, built in {build_ms:.0} ms (from {} seed records)",
        size as f64 / 1_048_576.0,
        seeds.len()
    );
    let os = OsInfo {
        family: "debian".into(),
        version: "11.6".into(),
        codename: Some("bullseye".into()),
        pretty_name: None,
        source: "etc/os-release".into(),
    };
    let pkgs = packages(&seeds, args.packages);
    let (mut open_full, mut open, mut read, mut lookup, mut matching, mut total) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut findings = 0;
    let mut loaded = 0;
    for _ in 0..args.runs {
        let tf = Instant::now();
        drop(VulnDb::open_checked(
            &vulndb::db_path(&work),
            Integrity::Full,
        )?);
        open_full.push(tf.elapsed().as_secs_f64() * 1e3);
        let t0 = Instant::now();
        let db = VulnDb::open(&work)?;
        let t1 = Instant::now();
        // What `VulnDb::advisory_db` does, split to time the reads and the index.
        let queries: Vec<PackageQuery<'_>> = pkgs.iter().map(PackageQuery::from).collect();
        let keys: Vec<(String, String)> =
            vuln::lookup_requests(&queries, &os).into_iter().collect();
        let found = db.lookup(&keys)?;
        let tr = Instant::now();
        let mut adb = AdvisoryDb::new();
        for r in found {
            adb.insert(r);
        }
        let missing: Vec<String> = adb.missing_references().into_iter().collect();
        for r in db.by_ids(&missing)? {
            adb.insert(r);
        }
        let t2 = Instant::now();
        read.push((tr - t1).as_secs_f64() * 1e3);
        let f = customs_core::vuln::match_packages(&pkgs, &os, &adb);
        let t3 = Instant::now();
        findings = f.len();
        loaded = adb.record_count();
        open.push((t1 - t0).as_secs_f64() * 1e3);
        lookup.push((t2 - t1).as_secs_f64() * 1e3);
        matching.push((t3 - t2).as_secs_f64() * 1e3);
        total.push((t3 - t0).as_secs_f64() * 1e3);
    }
    println!(
        "{} packages, {loaded} records loaded, {findings} findings, {} runs",
        pkgs.len(),
        args.runs
    );
    let scan_path = scan_path(&work, &pkgs, &os, args.runs)?;
    for (name, v) in [
        ("open, full integrity check", open_full),
        ("open, check remembered", open),
        ("  of which SQLite reads+decode", read),
        ("lookup + index", lookup),
        ("match", matching),
        ("total", total),
    ]
    .into_iter()
    .chain(scan_path)
    {
        let (med, min) = stats(v);
        println!("{name:<30} median {med:8.1} ms   min {min:8.1} ms");
    }
    Ok(())
}

/// The scan's own path after the database is open: select the records (SQLite reads
/// and zstd, no parsing) and have the core parse and match them, natively and in the
/// wasm sandbox, exactly as `customs scan` does.
fn scan_path(
    work: &Path,
    pkgs: &[ReportPackage],
    os: &OsInfo,
    runs: usize,
) -> Result<Vec<(&'static str, Vec<f64>)>> {
    let report = serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "customs", "version": env!("CARGO_PKG_VERSION")},
        "scanners": ["vuln"],
        "image": {
            "reference": "matchbench", "source": "oci-layout", "config_digest": "sha256:0",
            "platform": "linux/amd64", "layers": [], "os": os,
        },
        "summary": {"packages": pkgs.len(), "packages_by_ecosystem": {}, "files": 0},
        "packages": pkgs,
    })
    .to_string();
    let options = serde_json::json!({
        "database": {"schema_version": 1, "built_at": "", "build_id": "", "ecosystems": ["Debian"]},
        "severities": [], "today": "2026-01-01",
    })
    .to_string();
    let limits = customs::engine::Limits {
        memory_bytes: 1 << 30,
        call_timeout_ms: 60_000,
    };
    let native = customs::engine::create(customs::engine::EngineKind::Native, limits)?;
    let wasm = customs::engine::create(customs::engine::EngineKind::Wasm, limits)?;
    let db = VulnDb::open(work)?;
    let (mut select, mut in_native, mut in_wasm) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let t0 = Instant::now();
        let records = db.advisory_records_json(pkgs, os)?;
        let t1 = Instant::now();
        let a = native.match_vulnerabilities(&report, &records, &options)?;
        let t2 = Instant::now();
        let b = wasm.match_vulnerabilities(&report, &records, &options)?;
        let t3 = Instant::now();
        if a != b {
            bail!("the engines disagree");
        }
        select.push((t1 - t0).as_secs_f64() * 1e3);
        in_native.push((t2 - t1).as_secs_f64() * 1e3);
        in_wasm.push((t3 - t2).as_secs_f64() * 1e3);
    }
    Ok(vec![
        ("scan: select records", select),
        ("scan: parse+match (native)", in_native),
        ("scan: parse+match (wasm)", in_wasm),
    ])
}

//! Every parser of image content, fed thousands of mutations of every corpus sample of
//! its kind: it must return (never panic) and every error must be one line.
//!
//! This is the CI-speed companion of the fuzz targets in `core/fuzz/`: deterministic
//! (a seeded PRNG written here, so a failure reproduces from its printed case), fast
//! enough for every `cargo test`, and it replays the inputs the fuzzers found.
//! Samples come from `<corpus>/packages/{dpkg,apk,rpm,os-release}`; the corpus is
//! `<workspace>/../shared/corpus`, or `$CUSTOMS_CORPUS` when set.
//!
//! The mutation budget is spread by size: small text files get thousands of
//! mutations, the megabyte rpm databases fewer (each parse reads every header), and
//! the headers inside those databases get thousands of their own, directly.
use customs_core::{
    CoreError,
    model::{Ecosystem, Package, PackageDbFacts},
    os::{self, OS_FILES},
    pkgdb::{self, DbFormat, rpm},
    version,
};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

/// Mutations per small sample.
const MAX_ROUNDS: usize = 1000;
/// Fewest mutations of any sample, however large.
const MIN_ROUNDS: usize = 40;
/// Bytes parsed per sample, across its rounds: bounds the time the large databases take.
const BYTE_BUDGET: usize = 16 << 20;

/// SplitMix64: tiny, good enough to spread mutations, and reproducible everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Self {
        // FNV-1a of the sample's name: each sample gets its own, stable stream.
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values that hit boundaries in length and offset fields of binary formats.
const INTERESTING_32: &[u32] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Applies one to four random mutations: bit flips, byte overwrites, boundary values
/// (either endianness), truncation, insertion of random bytes, deletion, duplication
/// of a range, and splicing in a range of `other` (another sample of the same kind).
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                data[at] = rng.next() as u8;
            }
            2 if len >= 4 => {
                let v = INTERESTING_32[rng.below(INTERESTING_32.len())];
                let bytes = if rng.below(2) == 0 {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                let at = rng.below(len - 3);
                data[at..at + 4].copy_from_slice(&bytes);
            }
            3 => data.truncate(rng.below(len + 1)),
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            5 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                data.drain(at..end);
            }
            6 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(256)).min(len);
                let chunk = data[at..end].to_vec();
                let to = rng.below(len + 1);
                data.splice(to..to, chunk);
            }
            7 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(512)).min(other.len());
                let to = rng.below(len + 1);
                let cut = (to + rng.below(end - from + 1)).min(len);
                data.splice(to..cut, other[from..end].iter().copied());
            }
            _ => {
                // Text formats hinge on separators: insert one.
                let at = rng.below(len + 1);
                let sep: &[u8] = [
                    &b"\n"[..],
                    b"\n\n",
                    b":",
                    b"\t",
                    b"=",
                    b"\0",
                    b"-",
                    b"\r\n",
                    b"\xff",
                ][rng.below(9)];
                data.splice(at..at, sep.iter().copied());
            }
        }
    }
    data
}

/// Errors cross the engine boundary into logs and terminals: one line, never empty.
fn assert_one_line(case: &str, err: &str) {
    assert!(!err.is_empty(), "{case}: empty error");
    assert!(
        !err.contains(['\n', '\r']),
        "{case}: multi-line error {err:?}"
    );
}

/// Runs `f` and turns a panic into a test failure naming the case.
fn no_panic<T>(case: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| e.downcast_ref::<&str>().copied())
                .unwrap_or("?");
            panic!("{case}: parser panicked: {msg}")
        }
    }
}

fn check_db(case: &str, format: DbFormat, result: Result<PackageDbFacts, CoreError>) {
    match result {
        Ok(facts) => {
            assert_eq!(facts.format, format.name(), "{case}");
            assert!(facts.packages.is_sorted(), "{case}: packages not sorted");
        }
        Err(e) => assert_one_line(case, &e.to_string()),
    }
}

/// The samples of a corpus folder: every file but the peers' expected results and notes.
fn samples(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let root = corpus();
    files
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name != "expected.json" && !name.ends_with(".md")
        })
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn rounds(len: usize) -> usize {
    (BYTE_BUDGET / len.max(1)).clamp(MIN_ROUNDS, MAX_ROUNDS)
}

/// Mutates every sample `rounds` times (plus the sample itself) and hands each
/// variant to `parse(sample name, case name, bytes)`; splices take ranges from the next sample of the same kind.
fn fuzz_samples(
    kind: &str,
    samples: &[(String, Vec<u8>)],
    mut parse: impl FnMut(&str, &str, &[u8]),
) -> usize {
    assert!(!samples.is_empty(), "no {kind} samples in the corpus");
    let mut total = 0;
    for (i, (name, data)) in samples.iter().enumerate() {
        let other = &samples[(i + 1) % samples.len()].1;
        let mut rng = Rng::new(name);
        let case = format!("{kind} {name} unmodified");
        no_panic(&case, || parse(name, &case, data));
        for round in 0..rounds(data.len()) {
            let variant = mutate(&mut rng, data, other);
            let case = format!("{kind} {name} round {round}");
            no_panic(&case, || parse(name, &case, &variant));
        }
        total += 1 + rounds(data.len());
    }
    total
}

#[test]
fn dpkg_databases() {
    let samples = samples(&corpus().join("packages/dpkg"));
    let n = fuzz_samples("dpkg", &samples, |_, case, data| {
        check_db(
            case,
            DbFormat::DpkgStatus,
            pkgdb::parse(DbFormat::DpkgStatus, "var/lib/dpkg/status", data),
        );
        let path = "var/lib/dpkg/status.d/pkg";
        check_db(
            case,
            DbFormat::DpkgStatusD,
            pkgdb::parse(DbFormat::DpkgStatusD, path, data),
        );
    });
    println!("dpkg: {n} inputs");
}

#[test]
fn apk_databases() {
    let samples = samples(&corpus().join("packages/apk"));
    let n = fuzz_samples("apk", &samples, |_, case, data| {
        let format = DbFormat::ApkInstalled;
        check_db(
            case,
            format,
            pkgdb::parse(format, "lib/apk/db/installed", data),
        );
    });
    println!("apk: {n} inputs");
}

/// The rpm samples of one database format, chosen by file name as the layer
/// analyzer chooses them.
fn rpm_samples(file_name: impl Fn(&str) -> bool) -> Vec<(String, Vec<u8>)> {
    samples(&corpus().join("packages/rpm"))
        .into_iter()
        .filter(|(name, _)| file_name(name.rsplit('/').next().unwrap()))
        .collect()
}

#[test]
fn rpm_bdb_databases() {
    let samples = rpm_samples(|f| f == "Packages");
    let n = fuzz_samples("rpm-bdb", &samples, |_, case, data| {
        check_db(
            case,
            DbFormat::RpmBdb,
            pkgdb::parse(DbFormat::RpmBdb, "var/lib/rpm/Packages", data),
        );
    });
    println!("rpm-bdb: {n} inputs");
}

#[test]
fn rpm_ndb_databases() {
    let samples = rpm_samples(|f| f == "Packages.db");
    let n = fuzz_samples("rpm-ndb", &samples, |_, case, data| {
        let path = "usr/lib/sysimage/rpm/Packages.db";
        check_db(
            case,
            DbFormat::RpmNdb,
            pkgdb::parse(DbFormat::RpmNdb, path, data),
        );
    });
    println!("rpm-ndb: {n} inputs");
}

#[test]
fn rpm_sqlite_databases() {
    let samples = rpm_samples(|f| f == "rpmdb.sqlite");
    let path = "var/lib/rpm/rpmdb.sqlite";
    let n = fuzz_samples("rpm-sqlite", &samples, |_, case, data| {
        check_db(
            case,
            DbFormat::RpmSqlite,
            pkgdb::parse_rpm_sqlite(path, data, None),
        );
    });
    // The WAL: the corpus database with a WAL built from mutated copies of its own
    // first pages, so that frame headers, salts and checksums are exercised too.
    let mut wal_inputs = 0;
    for (name, db) in &samples {
        let mut rng = Rng::new(&format!("{name}-wal"));
        let page_size = 4096.min(db.len());
        for round in 0..rounds(db.len()) {
            let wal = wal_like(&mut rng, db, page_size);
            let case = format!("rpm-sqlite {name} wal round {round}");
            no_panic(&case, || {
                check_db(
                    &case,
                    DbFormat::RpmSqlite,
                    pkgdb::parse_rpm_sqlite(path, db, Some(&wal)),
                )
            });
            wal_inputs += 1;
        }
    }
    println!("rpm-sqlite: {n} databases, {wal_inputs} WALs");
}

/// A WAL-shaped file (magic, version, page size, frames of pages of `db`) with
/// random damage, whose checksums are mostly wrong: the reader must reject or apply
/// it without panicking.
fn wal_like(rng: &mut Rng, db: &[u8], page_size: usize) -> Vec<u8> {
    let mut wal = Vec::new();
    wal.extend_from_slice(&[0x37, 0x7f, 0x06, 0x82 | (rng.below(2) as u8)]);
    wal.extend_from_slice(&3_007_000u32.to_be_bytes());
    wal.extend_from_slice(&(page_size as u32).to_be_bytes());
    wal.extend_from_slice(&(rng.next() as u32).to_be_bytes()); // checkpoint sequence
    let salts = rng.next();
    wal.extend_from_slice(&salts.to_be_bytes());
    wal.extend_from_slice(&rng.next().to_be_bytes()); // header checksum
    for frame in 0..1 + rng.below(4) {
        let page_no = 1 + rng.below((db.len() / page_size.max(1)).max(1)) as u32;
        wal.extend_from_slice(&page_no.to_be_bytes());
        let commit = if frame % 2 == 1 {
            (db.len() / page_size.max(1)) as u32
        } else {
            0
        };
        wal.extend_from_slice(&commit.to_be_bytes());
        wal.extend_from_slice(&salts.to_be_bytes());
        wal.extend_from_slice(&rng.next().to_be_bytes());
        let start = (page_no as usize - 1) * page_size;
        wal.extend_from_slice(&db[start.min(db.len())..(start + page_size).min(db.len())]);
    }
    mutate(rng, &wal, db)
}

#[test]
fn rpm_manifests() {
    let samples = rpm_samples(|f| f.starts_with("container-manifest"));
    let n = fuzz_samples("rpm-manifest", &samples, |_, case, data| {
        let path = "var/lib/rpmmanifest/container-manifest-2";
        check_db(
            case,
            DbFormat::RpmManifest,
            pkgdb::parse(DbFormat::RpmManifest, path, data),
        );
    });
    println!("rpm-manifest: {n} inputs");
}

/// The header blobs stored in every corpus rpmdb, each mutated directly: cheaper
/// than going through a database, so the header reader gets thousands of rounds.
#[test]
fn rpm_headers() {
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, data) in samples(&corpus().join("packages/rpm")) {
        let file = name.rsplit('/').next().unwrap().to_string();
        let found: Vec<Vec<u8>> = match file.as_str() {
            "Packages" => rpm::bdb::package_blobs(&data).unwrap(),
            "Packages.db" => rpm::ndb::package_blobs(&data)
                .unwrap()
                .into_iter()
                .map(|(_, b)| b.to_vec())
                .collect(),
            "rpmdb.sqlite" => rpm::sqlite::package_blobs(&data, None)
                .unwrap()
                .into_iter()
                .map(|(_, b)| b)
                .collect(),
            _ => continue,
        };
        assert!(!found.is_empty(), "{name}: no headers");
        // A few headers per database: they share their layout, and the budget is
        // better spent on rounds than on near-identical samples.
        let step = (found.len() / 4).max(1);
        for (i, blob) in found.into_iter().enumerate().step_by(step) {
            blobs.push((format!("{name}#{i}"), blob));
        }
    }
    let n = fuzz_samples(
        "rpm-header",
        &blobs,
        |_, case, data| match rpm::parse_header("var/lib/rpm/Packages", data) {
            Ok(p) => {
                assert!(!p.name.is_empty(), "{case}: package without a name");
                assert!(p.files.is_sorted(), "{case}: file list not sorted");
            }
            Err(e) => assert_one_line(case, &e.to_string()),
        },
    );
    println!("rpm-header: {n} inputs");
}

/// Where the layer analyzer would find a release-file sample: the corpus names
/// `*-release` files after themselves and os-release samples after the distribution.
fn os_file_for(name: &str) -> &'static str {
    let file = format!("etc/{}", name.rsplit('/').next().unwrap());
    OS_FILES
        .iter()
        .find(|p| **p == file)
        .copied()
        .unwrap_or("etc/os-release")
}

#[test]
fn os_release_files() {
    let samples = samples(&corpus().join("packages/os-release"));
    let n = fuzz_samples("os-release", &samples, |name, case, data| {
        let text = String::from_utf8_lossy(data).into_owned();
        let own = os_file_for(name);
        // Alone where it belongs, and as each other release file beside a fixed
        // os-release, so that the refinement rules read it too.
        let mut files = BTreeMap::from([(own.to_string(), text.clone())]);
        check_os(case, &files);
        let refine = OS_FILES[text.len() % OS_FILES.len()];
        files.insert(refine.to_string(), text.clone());
        files.insert(
            "usr/lib/os-release".into(),
            "ID=debian\nVERSION_ID=12\n".into(),
        );
        check_os(case, &files);
    });
    println!("os-release: {n} inputs");
}

fn check_os(case: &str, files: &BTreeMap<String, String>) {
    if let Some(info) = os::detect(files) {
        assert!(
            !info.family.is_empty() && !info.version.is_empty(),
            "{case}: incomplete {info:?}"
        );
        assert!(
            files.contains_key(&info.source),
            "{case}: source {} is not a given file",
            info.source
        );
    }
}

/// The versions of every package in the corpus databases, mutated and compared in
/// pairs: reflexive and antisymmetric, or advisory matching silently goes wrong.
#[test]
fn version_orderings() {
    let mut versions: BTreeMap<Ecosystem, Vec<String>> = BTreeMap::new();
    let mut add = |eco: Ecosystem, pkgs: Vec<Package>| {
        versions
            .entry(eco)
            .or_default()
            .extend(pkgs.into_iter().map(|p| p.version));
    };
    for (name, data) in samples(&corpus().join("packages/dpkg")) {
        if let Ok(f) = pkgdb::parse(DbFormat::DpkgStatus, &name, &data) {
            add(Ecosystem::Deb, f.packages);
        }
    }
    for (name, data) in samples(&corpus().join("packages/apk")) {
        if let Ok(f) = pkgdb::parse(DbFormat::ApkInstalled, &name, &data) {
            add(Ecosystem::Apk, f.packages);
        }
    }
    for (name, data) in rpm_samples(|f| f == "Packages" || f.starts_with("container-manifest")) {
        let format = if name.ends_with("Packages") {
            DbFormat::RpmBdb
        } else {
            DbFormat::RpmManifest
        };
        add(
            Ecosystem::Rpm,
            pkgdb::parse(format, &name, &data).unwrap().packages,
        );
    }
    let mut total = 0;
    for (eco, list) in &mut versions {
        list.sort();
        list.dedup();
        assert!(!list.is_empty(), "{eco:?}: no versions in the corpus");
        let mut rng = Rng::new(eco.as_str());
        for round in 0..3 * MAX_ROUNDS {
            let pick = |rng: &mut Rng| list[rng.below(list.len())].as_bytes().to_vec();
            let (a, b) = (pick(&mut rng), pick(&mut rng));
            let a = String::from_utf8_lossy(&mutate(&mut rng, &a, &b)).into_owned();
            let b = if round % 3 == 0 {
                a.clone() + "1"
            } else {
                String::from_utf8_lossy(&mutate(&mut rng, &b, a.as_bytes())).into_owned()
            };
            let case = format!("{eco:?} versions round {round}: {a:?} vs {b:?}");
            no_panic(&case, || {
                let (ab, ba) = (
                    version::compare(*eco, &a, &b),
                    version::compare(*eco, &b, &a),
                );
                assert_eq!(ab, ba.reverse(), "{case}: not antisymmetric");
                assert_eq!(
                    version::compare(*eco, &a, &a),
                    Ordering::Equal,
                    "{case}: not reflexive"
                );
            });
            total += 1;
        }
    }
    println!("versions: {total} pairs");
}

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
/// Bytes parsed per sample, across its rounds: bounds the time the large text
/// samples take (in debug builds text parsing costs about 50 ns a byte).
const BYTE_BUDGET: usize = 16 << 20;
/// The binary rpm databases mostly fail fast on damage, so they get a larger budget;
/// SQLite still reads every page of a healthy database, hence its smaller one.
const BINARY_BUDGET: usize = 1 << 30;
const SQLITE_BUDGET: usize = 160 << 20;

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

/// Checks one parse; 1 when it succeeded (to show the mutations do not only
/// exercise the first sanity check), else 0.
fn check_db(case: &str, format: DbFormat, result: Result<PackageDbFacts, CoreError>) -> usize {
    match result {
        Ok(facts) => {
            assert_eq!(facts.format, format.name(), "{case}");
            assert!(facts.packages.is_sorted(), "{case}: packages not sorted");
            1
        }
        Err(e) => {
            assert_one_line(case, &e.to_string());
            0
        }
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

fn rounds(budget: usize, len: usize) -> usize {
    (budget / len.max(1)).clamp(MIN_ROUNDS, MAX_ROUNDS)
}

/// Mutates every sample `rounds` times (plus the sample itself) and hands each
/// variant to `parse(sample name, case name, bytes)`; splices take ranges from the next sample of the same kind.
fn fuzz_samples(
    kind: &str,
    budget: usize,
    samples: &[(String, Vec<u8>)],
    mut parse: impl FnMut(&str, &str, &[u8]) -> usize,
) -> String {
    assert!(!samples.is_empty(), "no {kind} samples in the corpus");
    let (mut total, mut accepted) = (0, 0);
    for (i, (name, data)) in samples.iter().enumerate() {
        let other = &samples[(i + 1) % samples.len()].1;
        let mut rng = Rng::new(name);
        let case = format!("{kind} {name} unmodified");
        accepted += no_panic(&case, || parse(name, &case, data));
        for round in 0..rounds(budget, data.len()) {
            let variant = mutate(&mut rng, data, other);
            let case = format!("{kind} {name} round {round}");
            accepted += no_panic(&case, || parse(name, &case, &variant));
        }
        total += 1 + rounds(budget, data.len());
    }
    // Mutants that still parse reach the code behind the format's sanity checks.
    assert!(accepted > 0, "{kind}: no input was accepted");
    format!("{total} inputs, {accepted} parses succeeded")
}

#[test]
fn dpkg_databases() {
    let samples = samples(&corpus().join("packages/dpkg"));
    let n = fuzz_samples("dpkg", BYTE_BUDGET, &samples, |_, case, data| {
        let path = "var/lib/dpkg/status.d/pkg";
        check_db(
            case,
            DbFormat::DpkgStatus,
            pkgdb::parse(DbFormat::DpkgStatus, "var/lib/dpkg/status", data),
        ) + check_db(
            case,
            DbFormat::DpkgStatusD,
            pkgdb::parse(DbFormat::DpkgStatusD, path, data),
        )
    });
    println!("dpkg: {n}");
}

#[test]
fn apk_databases() {
    let samples = samples(&corpus().join("packages/apk"));
    let n = fuzz_samples("apk", BYTE_BUDGET, &samples, |_, case, data| {
        let format = DbFormat::ApkInstalled;
        check_db(
            case,
            format,
            pkgdb::parse(format, "lib/apk/db/installed", data),
        )
    });
    println!("apk: {n}");
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
    let n = fuzz_samples("rpm-bdb", BINARY_BUDGET, &samples, |_, case, data| {
        check_db(
            case,
            DbFormat::RpmBdb,
            pkgdb::parse(DbFormat::RpmBdb, "var/lib/rpm/Packages", data),
        )
    });
    println!("rpm-bdb: {n}");
}

#[test]
fn rpm_ndb_databases() {
    let samples = rpm_samples(|f| f == "Packages.db");
    let n = fuzz_samples("rpm-ndb", BINARY_BUDGET, &samples, |_, case, data| {
        let path = "usr/lib/sysimage/rpm/Packages.db";
        check_db(
            case,
            DbFormat::RpmNdb,
            pkgdb::parse(DbFormat::RpmNdb, path, data),
        )
    });
    println!("rpm-ndb: {n}");
}

#[test]
fn rpm_sqlite_databases() {
    let samples = rpm_samples(|f| f == "rpmdb.sqlite");
    let path = "var/lib/rpm/rpmdb.sqlite";
    let n = fuzz_samples("rpm-sqlite", SQLITE_BUDGET, &samples, |_, case, data| {
        check_db(
            case,
            DbFormat::RpmSqlite,
            pkgdb::parse_rpm_sqlite(path, data, None),
        )
    });
    // The WAL: valid logs (correct salts and cumulative checksums, so the reader
    // applies them) whose frames carry mutated pages of the database, and half of
    // the time a mutated log, so that frame validation is exercised too.
    let (mut wal_inputs, mut wal_accepted) = (0, 0);
    for (name, db) in &samples {
        let mut rng = Rng::new(&format!("{name}-wal"));
        let page_size = match u16::from_be_bytes([db[16], db[17]]) {
            1 => 65536,
            n => usize::from(n),
        };
        for round in 0..rounds(SQLITE_BUDGET, db.len()) {
            let wal = wal_like(&mut rng, db, page_size);
            let case = format!("rpm-sqlite {name} wal round {round}");
            wal_accepted += no_panic(&case, || {
                check_db(
                    &case,
                    DbFormat::RpmSqlite,
                    pkgdb::parse_rpm_sqlite(path, db, Some(&wal)),
                )
            });
            wal_inputs += 1;
        }
    }
    assert!(
        wal_accepted > 0,
        "rpm-sqlite: no database with a WAL was accepted"
    );
    println!("rpm-sqlite: {n}; {wal_inputs} WALs, {wal_accepted} parses succeeded");
}

/// SQLite's WAL checksum (file format, "Checksum Algorithm"), over 8-byte chunks.
fn wal_checksum(big_endian: bool, data: &[u8], (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    for c in data.chunks_exact(8) {
        let rd = |b: &[u8]| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s0 = s0.wrapping_add(rd(&c[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(rd(&c[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// A valid WAL for `db` of one to four frames, each a (possibly mutated) page of
/// `db`, the last one committing; then, half of the time, mutated as a whole.
fn wal_like(rng: &mut Rng, db: &[u8], page_size: usize) -> Vec<u8> {
    let pages = (db.len() / page_size).max(1);
    let big_endian = rng.below(2) == 1;
    let mut wal = Vec::new();
    wal.extend_from_slice(&[0x37, 0x7f, 0x06, 0x82 | u8::from(big_endian)]);
    wal.extend_from_slice(&3_007_000u32.to_be_bytes());
    wal.extend_from_slice(&(page_size as u32).to_be_bytes());
    wal.extend_from_slice(&0u32.to_be_bytes()); // checkpoint sequence
    let salts = rng.next().to_be_bytes();
    wal.extend_from_slice(&salts);
    let mut sum = wal_checksum(big_endian, &wal, (0, 0));
    wal.extend_from_slice(&sum.0.to_be_bytes());
    wal.extend_from_slice(&sum.1.to_be_bytes());
    let frames = 1 + rng.below(4);
    for frame in 0..frames {
        // Page 1 (schema) and the first pages (b-tree roots) matter most.
        let span = if rng.below(2) == 0 {
            pages.min(4)
        } else {
            pages
        };
        let page_no = 1 + rng.below(span);
        let start = (page_no - 1) * page_size;
        let mut page = db[start..(start + page_size).min(db.len())].to_vec();
        page.resize(page_size, 0);
        if rng.below(4) != 0 {
            let mutated = mutate(rng, &page, db);
            page = mutated;
            page.resize(page_size, 0);
        }
        let commit = if frame + 1 == frames { pages as u32 } else { 0 };
        let mut header = Vec::new();
        header.extend_from_slice(&(page_no as u32).to_be_bytes());
        header.extend_from_slice(&commit.to_be_bytes());
        sum = wal_checksum(big_endian, &header, sum);
        sum = wal_checksum(big_endian, &page, sum);
        header.extend_from_slice(&salts);
        header.extend_from_slice(&sum.0.to_be_bytes());
        header.extend_from_slice(&sum.1.to_be_bytes());
        wal.extend_from_slice(&header);
        wal.extend_from_slice(&page);
    }
    if rng.below(2) == 0 {
        mutate(rng, &wal, db)
    } else {
        wal
    }
}

#[test]
fn rpm_manifests() {
    let samples = rpm_samples(|f| f.starts_with("container-manifest"));
    let n = fuzz_samples("rpm-manifest", BYTE_BUDGET, &samples, |_, case, data| {
        let path = "var/lib/rpmmanifest/container-manifest-2";
        check_db(
            case,
            DbFormat::RpmManifest,
            pkgdb::parse(DbFormat::RpmManifest, path, data),
        )
    });
    println!("rpm-manifest: {n}");
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
    let n =
        fuzz_samples(
            "rpm-header",
            BINARY_BUDGET,
            &blobs,
            |_, case, data| match rpm::parse_header("var/lib/rpm/Packages", data) {
                Ok(p) => {
                    assert!(!p.name.is_empty(), "{case}: package without a name");
                    assert!(p.files.is_sorted(), "{case}: file list not sorted");
                    1
                }
                Err(e) => {
                    assert_one_line(case, &e.to_string());
                    0
                }
            },
        );
    println!("rpm-header: {n}");
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
    let n = fuzz_samples("os-release", BYTE_BUDGET, &samples, |name, case, data| {
        let text = String::from_utf8_lossy(data).into_owned();
        let own = os_file_for(name);
        // Alone where it belongs, and as each other release file beside a fixed
        // os-release, so that the refinement rules read it too.
        let mut files = BTreeMap::from([(own.to_string(), text.clone())]);
        let alone = check_os(case, &files);
        let refine = OS_FILES[text.len() % OS_FILES.len()];
        files.insert(refine.to_string(), text.clone());
        files.insert(
            "usr/lib/os-release".into(),
            "ID=debian\nVERSION_ID=12\n".into(),
        );
        alone + check_os(case, &files)
    });
    println!("os-release: {n}");
}

/// Checks one detection; 1 when an OS was detected.
fn check_os(case: &str, files: &BTreeMap<String, String>) -> usize {
    let Some(info) = os::detect(files) else {
        return 0;
    };
    assert!(
        !info.family.is_empty() && !info.version.is_empty(),
        "{case}: incomplete {info:?}"
    );
    assert!(
        files.contains_key(&info.source),
        "{case}: source {} is not a given file",
        info.source
    );
    1
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

/// A bare rpm header blob from `(tag, type, count, data)` entries, laid out in order.
fn rpm_header(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    for (tag, ty, count, bytes) in entries {
        for v in [*tag, *ty, data.len() as u32, *count] {
            index.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(bytes);
    }
    let mut blob = (entries.len() as u32).to_be_bytes().to_vec();
    blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
    blob.extend(index);
    blob.extend(data);
    blob
}

/// Inputs that once made memory grow quadratically or by aliasing (see
/// `core/fuzz/README.md`), at sizes where the old behaviour needed hundreds of
/// gigabytes: each must now fail fast with a one-line error.
#[test]
fn known_amplifications_fail_fast() {
    // apk: one 1 MiB `F:` directory, then 200 000 one-letter `R:` files.
    let mut apk = format!("P:x\nV:1-r0\nF:{}\n", "d".repeat(1 << 20));
    apk.push_str(&"R:f\n".repeat(200_000));
    let err = pkgdb::parse(
        DbFormat::ApkInstalled,
        "lib/apk/db/installed",
        apk.as_bytes(),
    )
    .unwrap_err();
    assert_one_line("apk F/R expansion", &err.to_string());

    // rpm: one 1 MiB DIRNAMES entry shared by 100 000 empty BASENAMES.
    let n = 100_000u32;
    let mut dir = vec![b'd'; 1 << 20];
    dir.push(0);
    let blob = rpm_header(&[
        (1000, 6, 1, b"x\0".to_vec()),         // NAME
        (1001, 6, 1, b"1\0".to_vec()),         // VERSION
        (1116, 4, n, vec![0; 4 * n as usize]), // DIRINDEXES
        (1117, 8, n, vec![0; n as usize]),     // BASENAMES
        (1118, 8, 1, dir),                     // DIRNAMES
    ]);
    let err = rpm::parse_header("var/lib/rpm/Packages", &blob).unwrap_err();
    assert_one_line("rpm DIRNAMES x BASENAMES expansion", &err.to_string());

    // NDB: every slot of a slot page points at the same 64 KiB blob.
    let header = rpm_header(&[
        (1000, 6, 1, vec![b'n'; 64 << 10]),
        (1001, 6, 1, b"1\0".to_vec()),
    ]);
    let mut ndb = vec![0u8; 4096];
    ndb[0..4].copy_from_slice(b"RpmP");
    ndb[12..16].copy_from_slice(&1u32.to_le_bytes());
    let blocks = (16 + header.len()).div_ceil(16) as u32;
    for at in (32..4096).step_by(16) {
        ndb[at..at + 4].copy_from_slice(b"Slot");
        ndb[at + 4..at + 8].copy_from_slice(&7u32.to_le_bytes());
        ndb[at + 8..at + 12].copy_from_slice(&(4096u32 / 16).to_le_bytes());
        ndb[at + 12..at + 16].copy_from_slice(&blocks.to_le_bytes());
    }
    ndb.extend_from_slice(b"BlbS");
    ndb.extend_from_slice(&7u32.to_le_bytes());
    ndb.extend_from_slice(&0u32.to_le_bytes());
    ndb.extend_from_slice(&(header.len() as u32).to_le_bytes());
    ndb.extend_from_slice(&header);
    ndb.resize(4096 + 16 * blocks as usize, 0);
    let path = "usr/lib/sysimage/rpm/Packages.db";
    let err = pkgdb::parse(DbFormat::RpmNdb, path, &ndb).unwrap_err();
    assert_one_line("ndb shared blob", &err.to_string());
    // One slot alone is a valid database: the error above is the aliasing.
    let mut single = ndb.clone();
    for at in (48..4096).step_by(16) {
        single[at + 4..at + 8].copy_from_slice(&0u32.to_le_bytes());
    }
    assert!(pkgdb::parse(DbFormat::RpmNdb, path, &single).is_ok());
}

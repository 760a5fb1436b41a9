//! rpm databases against the peers' fixtures in `<corpus>/packages/rpm/`, plus real
//! SQLite rpmdbs written by Debian's `rpm` at test time (checkpointed, and with a WAL).
use customs_core::model::Package;
use customs_core::pkgdb::rpm;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

/// Total package counts that the peers state but their tests do not assert as a list.
const TOTALS: &[(&str, usize)] = &[
    // go-rpmdb's fixture holds 129 packages (the peer asserts only curl in detail).
    ("sqlite-cbl-mariner-2.0", 129),
];

/// Where we deliberately differ from a peer's expected result, and why:
/// `(case, package, field, reason)`. Currently none of the corpus cases needs one.
/// Differences that no corpus case exercises (documented in `pkgdb::rpm`):
/// `gpg-pubkey` pseudo-packages are skipped (no sample contains one), and the epoch is
/// printed in `version` whenever the EPOCH tag exists, even as `0:`.
const DIFFERENCES: &[(&str, &str, &str, &str)] = &[];

/// Parses the database in `dir` with the parser its file name selects.
fn parse_dir(dir: &Path) -> Option<(String, Vec<Package>)> {
    for (file, parse) in [
        ("Packages", rpm::parse_bdb as fn(&str, &[u8]) -> _),
        ("Packages.db", rpm::parse_ndb),
        ("rpmdb.sqlite", |p: &str, c: &[u8]| {
            rpm::parse_sqlite(p, c, None)
        }),
        ("container-manifest-2", rpm::parse_manifest),
    ] {
        let path = dir.join(file);
        if let Ok(content) = std::fs::read(&path) {
            let shown = path.display().to_string();
            let pkgs = parse(file, &content).unwrap_or_else(|e| panic!("{shown}: {e}"));
            return Some((file.to_string(), pkgs));
        }
    }
    None
}

/// The peer's record translated into our conventions: `(field, expected value)`.
/// Fields the peer does not state are not compared.
fn translate(peer: &Value) -> Vec<(&'static str, Option<String>)> {
    let s = |k: &str| peer.get(k).and_then(Value::as_str).map(str::to_string);
    let mut out = Vec::new();
    let epoch = peer.get("epoch").and_then(Value::as_u64);
    if let (Some(v), Some(r)) = (s("version"), s("release")) {
        // Peers split version and release; ours is `[epoch:]version-release`.
        let vr = format!("{v}-{r}");
        out.push((
            "version",
            Some(epoch.map_or(vr.clone(), |e| format!("{e}:{vr}"))),
        ));
        out.push(("upstream_version", Some(v)));
        out.push(("release", Some(r)));
    }
    if peer.get("epoch").is_some() {
        out.push(("epoch", epoch.map(|e| e.to_string())));
    }
    if let Some(full) = s("full_version").or(s("scalibr_version")) {
        // Syft's full version includes the epoch; scalibr's does not.
        let ours = match (peer.get("full_version").is_some(), epoch) {
            (false, Some(e)) => format!("{e}:{full}"),
            _ => full,
        };
        out.push(("version", Some(ours)));
    }
    for (peer_key, ours) in [
        ("arch", "arch"),
        ("sourceRpm", "source_rpm"),
        ("vendor", "vendor"),
        ("modularitylabel", "modularity_label"),
    ] {
        if peer.get(peer_key).is_some() {
            // Go's empty string is our absent value.
            out.push((ours, s(peer_key).filter(|v| !v.is_empty())));
        }
    }
    if let Some(src) = s("sourceRpm") {
        let (name, version) = rpm::split_source_rpm(&src).expect("peer source rpm parses");
        out.push(("source_name", Some(name)));
        out.push(("source_version", Some(version)));
    }
    if let Some(l) = s("license") {
        out.push(("licenses", Some(l)));
    } else if let Some(ls) = peer.get("licenses").and_then(Value::as_array) {
        let ls: Vec<&str> = ls.iter().filter_map(Value::as_str).collect();
        out.push(("licenses", Some(ls.join("\n"))));
    }
    if let Some(md5) = s("sigMD5") {
        out.push(("digest", Some(format!("md5:{md5}"))));
    }
    if let Some(files) = peer.get("files").and_then(Value::as_array) {
        let mut f: Vec<String> = files
            .iter()
            .filter_map(|f| f.get("path").and_then(Value::as_str))
            .map(|p| p.trim_start_matches('/').to_string())
            .collect();
        f.sort();
        out.push(("files", Some(f.join("\n"))));
    }
    out
}

fn field(p: &Package, name: &str) -> Option<String> {
    match name {
        "version" => Some(p.version.clone()),
        "upstream_version" => p.upstream_version.clone(),
        "release" => p.release.clone(),
        "epoch" => p.epoch.map(|e| e.to_string()),
        "arch" => p.arch.clone(),
        "source_rpm" => p.source_rpm.clone(),
        "source_name" => Some(p.source_name.clone()),
        "source_version" => Some(p.source_version.clone()),
        "vendor" => p.vendor.clone(),
        "modularity_label" => p.modularity_label.clone(),
        "licenses" => Some(p.licenses.join("\n")),
        "digest" => p.digest.clone(),
        "files" => Some(p.files.join("\n")),
        other => panic!("unknown field {other}"),
    }
}

#[test]
fn corpus_rpm_databases_match_peer_expectations() {
    let root = corpus().join("packages/rpm");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e} (set CUSTOMS_CORPUS)", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut cases = 0;
    let mut compared = 0;
    let mut failures = Vec::new();
    for dir in &dirs {
        let case = dir.file_name().unwrap().to_string_lossy().to_string();
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let (_, got) = parse_dir(dir).unwrap_or_else(|| panic!("{case}: no rpm database found"));
        cases += 1;
        let peer = expected["packages"].as_array().unwrap();
        match expected["assert"].as_str().unwrap() {
            "exact_list" => {
                let mut want: Vec<&str> =
                    peer.iter().map(|p| p["name"].as_str().unwrap()).collect();
                let mut have: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
                want.sort();
                have.sort();
                if want != have {
                    failures.push(format!(
                        "{case}: package names differ:\n want {want:?}\n have {have:?}"
                    ));
                }
            }
            "contains" => {}
            other => panic!("{case}: unknown assert mode {other}"),
        }
        if let Some((_, n)) = TOTALS.iter().find(|(c, _)| *c == case)
            && got.len() != *n
        {
            failures.push(format!("{case}: {} packages, expected {n}", got.len()));
        }
        for pp in peer {
            let name = pp["name"].as_str().unwrap();
            let Some(ours) = got.iter().find(|p| p.name == name) else {
                failures.push(format!("{case}: {name} missing"));
                continue;
            };
            for (f, want) in translate(pp) {
                if DIFFERENCES
                    .iter()
                    .any(|(c, n, fl, _)| *c == case && *n == name && *fl == f)
                {
                    continue;
                }
                let have = field(ours, f);
                compared += 1;
                if have != want {
                    failures.push(format!("{case}: {name}.{f}: want {want:?}, have {have:?}"));
                }
            }
        }
    }
    assert!(
        cases >= 6,
        "only {cases} rpm corpus cases found under {}",
        root.display()
    );
    // 35 SLE packages alone assert about ten fields each.
    assert!(compared >= 400, "only {compared} field comparisons");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("customs-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds a tiny noarch package with `rpmbuild -bb` and returns the .rpm path.
fn build_rpm(top: &Path, name: &str, epoch: Option<u32>, license: &str) -> PathBuf {
    let epoch_line = epoch.map(|e| format!("Epoch: {e}\n")).unwrap_or_default();
    let spec = format!(
        "Name: {name}\nVersion: 1.2\nRelease: 3.test\n{epoch_line}Summary: test package\n\
         License: {license}\nVendor: Customs Test\nBuildArch: noarch\n\
         %description\ntest package\n\
         %install\nmkdir -p %{{buildroot}}/usr/share/{name}/sub\n\
         echo a > %{{buildroot}}/usr/share/{name}/a.txt\necho b > %{{buildroot}}/usr/share/{name}/sub/b.txt\n\
         %files\n/usr/share/{name}\n"
    );
    let spec_path = top.join(format!("{name}.spec"));
    std::fs::write(&spec_path, spec).unwrap();
    run(Command::new("rpmbuild")
        .arg("-bb")
        .arg("--quiet")
        .arg("--define")
        .arg(format!("_topdir {}", top.join("build").display()))
        .arg(&spec_path));
    let rpm = top.join(format!("build/RPMS/noarch/{name}-1.2-3.test.noarch.rpm"));
    assert!(rpm.exists(), "rpmbuild produced no {}", rpm.display());
    rpm
}

fn rpm_cmd(root: &Path) -> Command {
    let mut c = Command::new("rpm");
    c.arg("--root")
        .arg(root)
        .arg("--dbpath")
        .arg("/var/lib/rpm");
    c
}

/// SQLite's WAL checksum over little-endian words (magic 0x377f0682).
fn wal_sum(data: &[u8], (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    for c in data.chunks_exact(8) {
        s0 = s0
            .wrapping_add(u32::from_le_bytes(c[..4].try_into().unwrap()))
            .wrapping_add(s1);
        s1 = s1
            .wrapping_add(u32::from_le_bytes(c[4..].try_into().unwrap()))
            .wrapping_add(s0);
    }
    (s0, s1)
}

/// A WAL that turns database file `before` into `after`: one frame per changed page,
/// the last one a commit frame with `after`'s size. This is what SQLite writes for a
/// transaction before the checkpoint copies it back into the main file.
fn wal_between(before: &[u8], after: &[u8]) -> Vec<u8> {
    let ps = match u16::from_be_bytes([after[16], after[17]]) {
        1 => 65536,
        n => usize::from(n),
    };
    let pages = after.len() / ps;
    let changed: Vec<usize> = (0..pages)
        .filter(|&i| before.get(i * ps..(i + 1) * ps) != Some(&after[i * ps..(i + 1) * ps]))
        .collect();
    assert!(!changed.is_empty());
    let mut w = Vec::new();
    for v in [
        0x377f_0682u32,
        3_007_000,
        ps as u32,
        0,
        0x1234_5678,
        0x9abc_def0,
    ] {
        w.extend_from_slice(&v.to_be_bytes());
    }
    let mut sum = wal_sum(&w, (0, 0));
    w.extend_from_slice(&sum.0.to_be_bytes());
    w.extend_from_slice(&sum.1.to_be_bytes());
    for (n, &i) in changed.iter().enumerate() {
        let commit = if n + 1 == changed.len() {
            pages as u32
        } else {
            0
        };
        let mut h = Vec::new();
        for v in [i as u32 + 1, commit, 0x1234_5678, 0x9abc_def0] {
            h.extend_from_slice(&v.to_be_bytes());
        }
        let page = &after[i * ps..(i + 1) * ps];
        sum = wal_sum(page, wal_sum(&h[..8], sum));
        h.extend_from_slice(&sum.0.to_be_bytes());
        h.extend_from_slice(&sum.1.to_be_bytes());
        w.extend_from_slice(&h);
        w.extend_from_slice(page);
    }
    w
}

fn names(p: &[Package]) -> Vec<&str> {
    p.iter().map(|p| p.name.as_str()).collect()
}

/// A real rpm ≥ 4.16 database, written by `rpm` itself in WAL mode: the checkpointed
/// file alone, the file with rpm's (empty) `-wal`, and an older file plus a WAL
/// carrying the later transaction.
#[test]
fn real_sqlite_rpmdb_checkpointed_and_with_wal() {
    if !on_path("rpm") || !on_path("rpmbuild") {
        eprintln!(
            "SKIPPED real_sqlite_rpmdb_checkpointed_and_with_wal: `rpm` and `rpmbuild` are not on PATH \
             (install Debian's `rpm` package to run it)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install `rpm`: the real-rpmdb test cannot be skipped there"
        );
        return;
    }
    let scratch = Scratch::new("rpmdb");
    let top = &scratch.0;
    let alpha = build_rpm(top, "customs-alpha", Some(3), "MIT");
    let beta = build_rpm(top, "customs-beta", None, "GPL-2.0-or-later");
    let root = top.join("root");
    run(rpm_cmd(&root).arg("--initdb"));
    let install = |pkg: &Path| {
        run(rpm_cmd(&root)
            .args(["-i", "--justdb", "--nodeps", "--noscripts", "--nosignature"])
            .arg(pkg));
    };
    let db = root.join("var/lib/rpm/rpmdb.sqlite");
    let wal_path = root.join("var/lib/rpm/rpmdb.sqlite-wal");

    install(&alpha);
    let before = std::fs::read(&db).unwrap();
    let path = "var/lib/rpm/rpmdb.sqlite";
    let pkgs = rpm::parse_sqlite(path, &before, None).unwrap();
    assert_eq!(names(&pkgs), ["customs-alpha"]);
    let a = &pkgs[0];
    assert_eq!(a.version, "3:1.2-3.test");
    assert_eq!(a.epoch, Some(3));
    assert_eq!(a.upstream_version.as_deref(), Some("1.2"));
    assert_eq!(a.release.as_deref(), Some("3.test"));
    assert_eq!(a.arch.as_deref(), Some("noarch"));
    assert_eq!(
        a.source_rpm.as_deref(),
        Some("customs-alpha-1.2-3.test.src.rpm")
    );
    assert_eq!(
        (a.source_name.as_str(), a.source_version.as_str()),
        ("customs-alpha", "1.2-3.test")
    );
    assert_eq!(a.vendor.as_deref(), Some("Customs Test"));
    assert_eq!(a.licenses, ["MIT"]);
    assert!(
        a.digest
            .as_deref()
            .is_some_and(|d| d.starts_with("md5:") && d.len() == 36),
        "{:?}",
        a.digest
    );
    assert_eq!(
        a.files,
        [
            "usr/share/customs-alpha",
            "usr/share/customs-alpha/a.txt",
            "usr/share/customs-alpha/sub",
            "usr/share/customs-alpha/sub/b.txt"
        ]
    );
    // rpm leaves its WAL behind (checkpointed, usually empty): reading with it is the same.
    if let Ok(wal) = std::fs::read(&wal_path) {
        assert_eq!(rpm::parse_sqlite(path, &before, Some(&wal)).unwrap(), pkgs);
    }

    install(&beta);
    let after = std::fs::read(&db).unwrap();
    let both = rpm::parse_sqlite(path, &after, None).unwrap();
    assert_eq!(names(&both), ["customs-alpha", "customs-beta"]);
    let b = &both[1];
    assert_eq!((b.version.as_str(), b.epoch), ("1.2-3.test", None));
    assert_eq!(b.licenses, ["GPL-2.0-or-later"]);

    // The second transaction only in the WAL: the reader must see both packages.
    let wal = wal_between(&before, &after);
    assert_eq!(rpm::parse_sqlite(path, &before, Some(&wal)).unwrap(), both);
    // A torn final frame means the transaction never committed.
    let torn = &wal[..wal.len() - 1];
    assert_eq!(rpm::parse_sqlite(path, &before, Some(torn)).unwrap(), pkgs);
}

/// A tiny deterministic generator for the mutation test (no dependency needed).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Truncated and bit-flipped copies of every corpus database must parse or fail
/// cleanly: never panic (a panic fails the test), never hang.
#[test]
fn mutated_corpus_databases_never_panic() {
    let root = corpus().join("packages/rpm");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut mutated = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        for (file, parse) in [
            ("Packages", rpm::parse_bdb as fn(&str, &[u8]) -> _),
            ("Packages.db", rpm::parse_ndb),
            ("rpmdb.sqlite", |p: &str, c: &[u8]| {
                rpm::parse_sqlite(p, c, None)
            }),
            ("container-manifest-2", rpm::parse_manifest),
        ] {
            let Ok(orig) = std::fs::read(dir.join(file)) else {
                continue;
            };
            for round in 0..24 {
                let mut m = orig.clone();
                if round % 3 == 0 {
                    m.truncate((rng.next() % orig.len() as u64) as usize);
                } else {
                    for _ in 0..1 + rng.next() % 16 {
                        let i = (rng.next() % m.len() as u64) as usize;
                        m[i] ^= 1 << (rng.next() % 8);
                    }
                }
                if let Err(e) = parse(file, &m) {
                    let msg = e.to_string();
                    assert!(!msg.contains('\n') && msg.contains(file), "{msg}");
                }
                mutated += 1;
            }
        }
    }
    assert!(mutated >= 6 * 24);
}

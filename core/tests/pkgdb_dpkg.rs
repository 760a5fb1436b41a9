//! The dpkg/opkg status parsers against every sample in `corpus/packages/dpkg/`, with
//! the expectations the peers' own tests assert (Trivy, osv-scalibr, Syft), plus
//! hostile-input checks.
//!
//! The corpus is `<workspace>/../shared/corpus`, or `$CUSTOMS_CORPUS` when set.
use customs_core::{
    CoreError,
    model::Package,
    pkgdb::{DbFormat, dpkg, format_for_path},
};
use serde_json::Value;
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

fn corpus() -> PathBuf {
    match std::env::var_os("CUSTOMS_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

fn root() -> PathBuf {
    corpus().join("packages/dpkg")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every regular file below `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The path of a sample as the scanner would see it inside an image: the part from
/// `var/lib/` on, or, for osv-scalibr's flat `dpkg/<case>` / `opkg/<case>` files, the
/// status file of the corresponding package manager.
fn image_path(file: &Path) -> String {
    let s = file.to_string_lossy().replace('\\', "/");
    if let Some(i) = s.find("/var/lib/") {
        return s[i + 1..].to_string();
    }
    let name = file.file_name().unwrap().to_string_lossy();
    if s.contains("/status.d/") {
        format!("var/lib/dpkg/status.d/{name}")
    } else if s.contains("/opkg/") {
        "var/lib/opkg/status".to_string()
    } else if s.contains("/info/") {
        format!("var/lib/dpkg/info/{name}")
    } else {
        "var/lib/dpkg/status".to_string()
    }
}

/// Parses a sample with the parser the scanner would choose for it; `None` when the
/// scanner would not treat the file as a package database at all.
fn parse_sample(file: &Path) -> Option<Result<Vec<Package>, CoreError>> {
    let content = std::fs::read(file).unwrap();
    let image = image_path(file);
    let label = file.to_string_lossy();
    match format_for_path(&image) {
        Some(DbFormat::DpkgStatus) => Some(dpkg::parse_status(&label, &content)),
        Some(DbFormat::DpkgStatusD) => Some(dpkg::parse_status_d(&label, &content)),
        // opkg keeps its status file elsewhere; the format is dpkg's.
        None if image == "var/lib/opkg/status" => Some(dpkg::parse_status(&label, &content)),
        None => None,
        Some(other) => panic!("{label}: unexpected format {other:?}"),
    }
}

/// Samples we reject as corrupt, and why. Every other database sample must parse.
const EXPECTED_ERRORS: &[(&str, &str)] = &[
    (
        "osv-scalibr/dpkg/invalid",
        "`asdf`/`yolo` are not fields; scalibr's test also expects no packages",
    ),
    ("osv-scalibr/opkg/invalid", "same content as dpkg/invalid"),
    (
        "syft-distroless-status.d/var/lib/dpkg/status.d/corrupt",
        "a line without `Field:`; Syft's Test_corruptEntry also requires an error",
    ),
    (
        "syft-distroless-status.d/var/lib/dpkg/status.d/empty",
        "`Package:` with no value and nothing else: no stanza names a package; not asserted by Syft",
    ),
];

/// Cases of the peers' expected.json we do not replay, and why.
const SKIPPED_CASES: &[(&str, &str, &str)] = &[(
    "osv-scalibr",
    "statusfield including not installed",
    "exercises scalibr's IncludeNotInstalled option; we have no such option (not-installed packages are never reported)",
)];

/// Packages we report that the peer does not expect in that case, and why.
const EXTRA_PACKAGES: &[(&str, &str, &str)] = &[
    (
        "testdata/dpkg/statusfield",
        "wantinstall_unpacked",
        "state `unpacked`: all files are on disk, so they can carry vulnerabilities; scalibr drops it",
    ),
    (
        "testdata/dpkg/statusfield",
        "wantnostatus",
        "no `Status:` says nothing about removal; we report it (as Trivy/Syft do) rather than hide it",
    ),
    (
        "testdata/opkg/statusfield",
        "wantinstall_unpacked",
        "as for dpkg/statusfield",
    ),
    (
        "testdata/opkg/statusfield",
        "wantnostatus",
        "as for dpkg/statusfield",
    ),
];

/// Packages the peer expects that we deliberately do not report, and why.
const MISSING_PACKAGES: &[(&str, &str, &str)] = &[(
    "testdata/var/lib/dpkg/status.d/multiple",
    "no-version",
    "a stanza without `Version:` cannot be matched against advisories; skipped like Trivy and scalibr do",
)];

/// One package in our terms, for comparison with a peer's expectation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    name: String,
    version: String,
    epoch: Option<u32>,
    source_name: String,
    source_version: String,
    arch: Option<String>,
    maintainer: Option<String>,
}

impl Expected {
    fn of(p: &Package) -> Self {
        Expected {
            name: p.name.clone(),
            version: p.version.clone(),
            epoch: p.epoch,
            source_name: p.source_name.clone(),
            source_version: p.source_version.clone(),
            arch: p.arch.clone(),
            maintainer: p.maintainer.clone(),
        }
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Trivy splits a Debian version into Epoch / Version (upstream) / Release (revision)
/// and the same for the source package (`Src*`); we keep the full string.
fn from_trivy(v: &Value) -> Expected {
    fn join(epoch: Option<u64>, upstream: &str, release: Option<String>) -> String {
        let mut s = epoch.map(|e| format!("{e}:")).unwrap_or_default();
        s.push_str(upstream);
        if let Some(r) = release {
            s.push('-');
            s.push_str(&r);
        }
        s
    }
    let epoch = v.get("Epoch").and_then(Value::as_u64);
    let src_epoch = v.get("SrcEpoch").and_then(Value::as_u64);
    Expected {
        name: str_field(v, "Name").unwrap(),
        version: join(
            epoch,
            &str_field(v, "Version").unwrap(),
            str_field(v, "Release"),
        ),
        epoch: epoch.map(|e| u32::try_from(e).unwrap()),
        source_name: str_field(v, "SrcName").unwrap(),
        source_version: join(
            src_epoch,
            &str_field(v, "SrcVersion").unwrap(),
            str_field(v, "SrcRelease"),
        ),
        arch: str_field(v, "Arch"),
        maintainer: str_field(v, "Maintainer"),
    }
}

/// osv-scalibr leaves SourceName/SourceVersion empty when `Source:` does not give
/// them; we fall back to the binary's. Its `Version` is the full dpkg version.
fn from_scalibr(v: &Value) -> Expected {
    let name = str_field(v, "Name").unwrap();
    let version = str_field(v, "Version").unwrap();
    Expected {
        epoch: version.split_once(':').and_then(|(e, _)| e.parse().ok()),
        source_name: str_field(v, "SourceName").unwrap_or_else(|| name.clone()),
        source_version: str_field(v, "SourceVersion").unwrap_or_else(|| version.clone()),
        arch: str_field(v, "Architecture"),
        maintainer: str_field(v, "Maintainer"),
        name,
        version,
    }
}

/// Syft's records are keyed by the control-file field names; `Source` is the source
/// name only. Syft asserts no source version, so that comparison is skipped.
fn from_syft(v: &Value, ours: Option<&Package>) -> Expected {
    let name = str_field(v, "Package").unwrap();
    let version = str_field(v, "Version").unwrap_or_default();
    Expected {
        epoch: version.split_once(':').and_then(|(e, _)| e.parse().ok()),
        source_name: str_field(v, "Source").unwrap_or_else(|| name.clone()),
        source_version: ours.map(|p| p.source_version.clone()).unwrap_or_default(),
        arch: str_field(v, "Architecture"),
        maintainer: str_field(v, "Maintainer"),
        name,
        version,
    }
}

fn rel(file: &Path) -> String {
    file.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn every_sample_parses_or_is_a_listed_error() {
    let files = walk(&root());
    let mut databases = 0;
    for file in &files {
        if file.file_name().is_some_and(|n| n == "expected.json") {
            continue;
        }
        let rel = rel(file);
        let Some(result) = parse_sample(file) else {
            continue;
        };
        databases += 1;
        let expected_error = EXPECTED_ERRORS.iter().find(|(p, _)| *p == rel);
        match (result, expected_error) {
            (Ok(pkgs), None) => {
                for p in &pkgs {
                    assert!(!p.name.is_empty() && !p.version.is_empty(), "{rel}: {p:?}");
                    assert!(
                        !p.source_name.is_empty() && !p.source_version.is_empty(),
                        "{rel}: {p:?}"
                    );
                }
                let mut sorted = pkgs.clone();
                sorted.sort();
                assert_eq!(pkgs, sorted, "{rel}: output is not sorted");
            }
            (Ok(pkgs), Some((_, why))) => panic!("{rel}: expected an error ({why}), got {pkgs:?}"),
            (Err(e), Some(_)) => {
                assert!(
                    matches!(e, CoreError::CorruptDatabase { kind: "dpkg", .. }),
                    "{rel}: {e}"
                );
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "{rel}: multi-line error {msg:?}");
            }
            (Err(e), None) => panic!("{rel}: {e}"),
        }
    }
    assert!(
        databases >= 30,
        "only {databases} database samples found under {}",
        root().display()
    );
    for (p, _) in EXPECTED_ERRORS {
        assert!(root().join(p).is_file(), "listed sample {p} is missing");
    }
}

#[test]
fn trivy_ubuntu1804_exact_list() {
    let dir = root().join("trivy-ubuntu1804-status");
    let expected_json = read_json(&dir.join("expected.json"));
    let mut expected: Vec<Expected> = expected_json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(from_trivy)
        .collect();
    assert_eq!(expected.len(), 90);
    let pkgs = parse_sample(&dir.join("var/lib/dpkg/status"))
        .unwrap()
        .unwrap();
    let mut got: Vec<Expected> = pkgs.iter().map(Expected::of).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);

    // Spot checks of the fields Trivy's convention hides.
    let bash = pkgs.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.release.as_deref(), Some("2ubuntu1"));
    assert_eq!(bash.epoch, None);
    let gmp = pkgs.iter().find(|p| p.name == "libgmp10").unwrap();
    assert_eq!(
        (gmp.version.as_str(), gmp.epoch),
        ("2:6.1.2+dfsg-2", Some(2))
    );
    // The one `deinstall ok config-files` stanza of the 91 is not reported.
    assert_eq!(pkgs.len(), 90);
}

/// Replays the cases of an expected.json whose `packages` are flat records.
fn replay(
    peer: &str,
    strip: &str,
    min_cases: usize,
    convert: &dyn Fn(&Value, Option<&Package>) -> Expected,
    name_key: &str,
) {
    let dir = root().join(peer);
    let json = read_json(&dir.join("expected.json"));
    let cases = json["cases"].as_array().unwrap();
    let mut replayed = 0;
    for case in cases {
        let title = case["case"].as_str().unwrap_or("");
        let path = case["path"].as_str().unwrap();
        if SKIPPED_CASES
            .iter()
            .any(|(p, c, _)| *p == peer && *c == title)
        {
            continue;
        }
        let file = dir.join(path.strip_prefix(strip).unwrap());
        let Some(result) = parse_sample(&file) else {
            // e.g. `status.d/foo.md5sums`: not a database; the peer expects nothing.
            assert!(
                case["packages"].as_array().unwrap().is_empty(),
                "{peer} {title}: {path} ignored"
            );
            replayed += 1;
            continue;
        };
        let rel = rel(&file);
        let pkgs = match result {
            Ok(p) => p,
            Err(e) => {
                assert!(
                    EXPECTED_ERRORS.iter().any(|(p, _)| *p == rel),
                    "{peer} {title}: {e}"
                );
                assert!(
                    case["packages"].as_array().unwrap().is_empty(),
                    "{peer} {title}: peer expects packages"
                );
                replayed += 1;
                continue;
            }
        };
        let mut want = BTreeSet::new();
        for v in case["packages"].as_array().unwrap() {
            let name = v[name_key].as_str().unwrap();
            if MISSING_PACKAGES
                .iter()
                .any(|(p, n, _)| *p == path && *n == name)
            {
                assert!(
                    !pkgs.iter().any(|p| p.name == name),
                    "{peer} {title}: {name} listed as missing"
                );
                continue;
            }
            let ours = pkgs.iter().find(|p| p.name == name);
            want.insert(convert(v, ours));
        }
        let got: BTreeSet<Expected> = pkgs
            .iter()
            .filter(|p| {
                !EXTRA_PACKAGES
                    .iter()
                    .any(|(cp, n, _)| *cp == path && *n == p.name)
            })
            .map(Expected::of)
            .collect();
        assert_eq!(got, want, "{peer} case {title:?} ({path})");
        for (cp, n, _) in EXTRA_PACKAGES.iter().filter(|(cp, _, _)| *cp == path) {
            assert!(
                pkgs.iter().any(|p| p.name == *n),
                "{peer} {title}: listed extra {n} not reported ({cp})"
            );
        }
        replayed += 1;
    }
    assert!(
        replayed >= min_cases,
        "{peer}: only {replayed} cases replayed"
    );
}

#[test]
fn osv_scalibr_dpkg_and_opkg_cases() {
    replay(
        "osv-scalibr",
        "testdata/",
        27,
        &|v, _| from_scalibr(v),
        "Name",
    );
}

#[test]
fn syft_distroless_status_d_cases() {
    replay(
        "syft-distroless-status.d",
        "testdata/",
        5,
        &from_syft,
        "Package",
    );
}

#[test]
fn scanner_ignores_md5sums_beside_status_d() {
    assert_eq!(format_for_path("var/lib/dpkg/status.d/foo.md5sums"), None);
    assert_eq!(
        format_for_path("var/lib/dpkg/status.d/foo"),
        Some(DbFormat::DpkgStatusD)
    );
}

// ---------------------------------------------------------------- format edge cases

fn parse(content: &[u8]) -> Result<Vec<Package>, CoreError> {
    dpkg::parse_status("var/lib/dpkg/status", content)
}

#[test]
fn crlf_trailing_space_blank_runs_and_no_final_newline() {
    let text = b"\r\n\r\nPackage: a  \r\nStatus: install ok installed\r\nVersion: 1:2.0-3 \t\r\n\r\n\r\n\n  \nPackage: b\nVersion: 1";
    let pkgs = parse(text).unwrap();
    assert_eq!(pkgs.len(), 2);
    assert_eq!(pkgs[0].name, "a");
    assert_eq!(pkgs[0].version, "1:2.0-3");
    assert_eq!(pkgs[0].epoch, Some(1));
    assert_eq!(pkgs[0].release.as_deref(), Some("3"));
    assert_eq!(
        (pkgs[1].name.as_str(), pkgs[1].version.as_str()),
        ("b", "1")
    );
    assert_eq!(pkgs[1].release, None);
}

#[test]
fn continuation_lines_and_duplicate_fields() {
    let text = b"Package: a\nMaintainer: Jane\n Doe <j@example.org>\nDescription: x\n more\n .\nVersion: 1.0\nVersion: 9.9\nsource: src (0.5)\n";
    let pkgs = parse(text).unwrap();
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!(p.version, "1.0", "first duplicate wins");
    assert_eq!(p.maintainer.as_deref(), Some("Jane Doe <j@example.org>"));
    assert_eq!(
        (p.source_name.as_str(), p.source_version.as_str()),
        ("src", "0.5")
    );
}

#[test]
fn non_utf8_is_lossy() {
    let pkgs = parse(b"Package: a\nVersion: 1\nMaintainer: Ren\xe9 <r@x>\n").unwrap();
    assert_eq!(pkgs[0].maintainer.as_deref(), Some("Ren\u{fffd} <r@x>"));
}

#[test]
fn status_states() {
    let text = b"Package: held\nStatus: hold ok installed\nVersion: 1\n\n\
Package: halfconf\nStatus: install ok half-configured\nVersion: 1\n\n\
Package: trig\nStatus: install ok triggers-pending\nVersion: 1\n\n\
Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
Package: purged\nStatus: purge ok not-installed\nVersion: 1\n\n\
Package: broken\nStatus: install reinstreq half-installed\nVersion: 1\n";
    let names: Vec<String> = parse(text).unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["halfconf", "held", "trig"]);
}

#[test]
fn only_removed_packages_is_an_empty_but_valid_database() {
    assert_eq!(
        parse(b"Package: a\nStatus: deinstall ok config-files\nVersion: 1\n").unwrap(),
        []
    );
    assert_eq!(parse(b"").unwrap(), []);
    assert_eq!(parse(b"\n\n \r\n").unwrap(), []);
}

#[test]
fn not_a_control_file_is_corrupt() {
    for bad in [
        &b"hello world"[..],
        b" leading continuation\n",
        b"Package: a\nVersion: 1\n\n not continuing anything\n",
        b"Description: only fields nobody names\n",
        b": no name\n",
        b"{\"json\": true}\n",
    ] {
        let err = parse(bad).unwrap_err();
        assert!(
            matches!(err, CoreError::CorruptDatabase { kind: "dpkg", .. }),
            "{bad:?}: {err}"
        );
        assert!(
            err.to_string()
                .starts_with("corrupt dpkg database var/lib/dpkg/status: "),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------- hostile inputs

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn hostile_inputs_never_panic() {
    for seed in 1..200u64 {
        let bytes = garbage(1 + (seed as usize * 37) % 4096, seed);
        let _ = parse(&bytes);
        let _ = dpkg::parse_status_d("var/lib/dpkg/status.d/x", &bytes);
    }
    for byte in 0..=255u8 {
        let _ = parse(&[byte]);
        let _ = dpkg::parse_status_d("var/lib/dpkg/status.d/x", &[byte]);
    }
    // Field-shaped garbage: lines of random printable text with colons.
    let mut text = Vec::new();
    for (i, b) in garbage(20_000, 7).into_iter().enumerate() {
        text.push(match b % 7 {
            0 => b':',
            1 if i % 3 == 0 => b'\n',
            2 => b' ',
            _ => b'a' + b % 26,
        });
    }
    let _ = parse(&text);
}

#[test]
fn huge_continuations_are_linear() {
    // 4 MiB in one continuation line of an ignored field, and 100k continuation lines
    // of a kept one: both must finish quickly and keep the stanza.
    let mut text = b"Package: big\nVersion: 1\nDescription: x\n ".to_vec();
    text.extend(std::iter::repeat_n(b'a', 4 << 20));
    text.extend_from_slice(b"\nMaintainer: m\n");
    for _ in 0..100_000 {
        text.extend_from_slice(b" x\n");
    }
    let pkgs = parse(&text).unwrap();
    assert_eq!(pkgs.len(), 1);
    assert_eq!(pkgs[0].maintainer.as_ref().unwrap().len(), 1 + 2 * 100_000);
}

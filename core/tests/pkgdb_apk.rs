//! The apk installed-database parser against every sample in `corpus/packages/apk/`,
//! with the expectations the peers' own tests assert (Trivy, osv-scalibr, Syft), plus
//! hostile-input checks.
//!
//! The corpus is `<workspace>/../shared/corpus`, or `$CUSTOMS_CORPUS` when set.
use customs_core::{CoreError, model::Package, pkgdb::apk};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    match std::env::var_os("CUSTOMS_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

fn root() -> PathBuf {
    corpus().join("packages/apk")
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

fn rel(file: &Path) -> String {
    file.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn parse_file(file: &Path) -> Result<Vec<Package>, CoreError> {
    apk::parse_installed(&file.to_string_lossy(), &std::fs::read(file).unwrap())
}

/// Samples we reject as corrupt, and why. Every other sample must parse.
const EXPECTED_ERRORS: &[(&str, &str)] = &[
    (
        "osv-scalibr/invalid",
        "`asdf`/`yolo` are not `K:value` lines; scalibr's test also expects no packages",
    ),
    (
        "syft/corrupt/lib/apk/db/installed",
        "starts with `this is a corrupt db`; Syft's Test_corruptDb also requires an error",
    ),
    (
        "syft/glob-paths/lib/apk/db/installed",
        "`bogus db contents`; Syft only uses it to test path globbing, never parses it",
    ),
];

/// Names Syft's cataloger test expects for samples its parser test does not cover
/// (transcribed from `cataloger_test.go`, which expected.json does not include).
const SYFT_CATALOGER_NAMES: &[(&str, &[&str])] = &[(
    "syft/multiple-1/lib/apk/db/installed",
    &["bash", "busybox-binsh", "musl", "readline"],
)];

/// One package in our terms, for comparison with a peer's expectation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    name: String,
    version: String,
    source_name: String,
    source_version: String,
    arch: Option<String>,
    maintainer: Option<String>,
    licenses: Vec<String>,
    digest: Option<String>,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Trivy normalizes license names to SPDX ids (`licensing.Normalize`); we keep them as
/// declared. This maps the declared names found in Trivy's fixture to Trivy's ids.
fn trivy_license(declared: &str) -> String {
    match declared {
        "GPL2" => "GPL-2.0-only",
        "GPL" | "GPL2+" => "GPL-2.0-or-later",
        "zlib" => "Zlib",
        "openssl" => "OpenSSL",
        "BSD" => "BSD-3-Clause",
        other => other,
    }
    .to_string()
}

/// expected.json lost Trivy's multi-line `Licenses` literals (transcribed as `[]`);
/// these are the values upstream's apk_test.go asserts for them.
const TRIVY_TRANSCRIPTION_GAPS: &[(&str, &[&str])] = &[
    ("musl-utils", &["MIT", "BSD-3-Clause", "GPL-2.0-or-later"]),
    ("ada-libs", &["Apache-2.0", "MIT", "MPL-2.0"]),
];

fn from_trivy(v: &Value) -> Expected {
    let name = str_field(v, "Name").unwrap();
    let mut licenses: Vec<String> = v["Licenses"]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    if let Some((_, fixed)) = TRIVY_TRANSCRIPTION_GAPS.iter().find(|(n, _)| *n == name) {
        assert!(
            licenses.is_empty(),
            "{name}: transcription gap fixed upstream, drop the override"
        );
        licenses = fixed.iter().map(|s| s.to_string()).collect();
    }
    Expected {
        version: str_field(v, "Version").unwrap(),
        source_name: str_field(v, "SrcName").unwrap(),
        source_version: str_field(v, "SrcVersion").unwrap(),
        arch: str_field(v, "Arch"),
        maintainer: str_field(v, "Maintainer"),
        licenses,
        digest: str_field(v, "Digest"),
        name,
    }
}

fn ours_for_trivy(p: &Package) -> Expected {
    Expected {
        name: p.name.clone(),
        version: p.version.clone(),
        source_name: p.source_name.clone(),
        source_version: p.source_version.clone(),
        arch: p.arch.clone(),
        maintainer: p.maintainer.clone(),
        licenses: p.licenses.iter().map(|l| trivy_license(l)).collect(),
        digest: p.digest.clone(),
    }
}

#[test]
fn every_sample_parses_or_is_a_listed_error() {
    let mut samples = 0;
    for file in walk(&root()) {
        if file.file_name().is_some_and(|n| n == "expected.json") {
            continue;
        }
        samples += 1;
        let rel = rel(&file);
        let expected_error = EXPECTED_ERRORS.iter().find(|(p, _)| *p == rel);
        match (parse_file(&file), expected_error) {
            (Ok(pkgs), None) => {
                for p in &pkgs {
                    assert!(!p.name.is_empty() && !p.version.is_empty(), "{rel}: {p:?}");
                    assert!(
                        !p.source_name.is_empty() && p.source_version == p.version,
                        "{rel}: {p:?}"
                    );
                    assert!(
                        p.files.windows(2).all(|w| w[0] < w[1]),
                        "{rel}: files not sorted/unique"
                    );
                    assert!(
                        p.files.iter().all(|f| !f.starts_with('/') && !f.is_empty()),
                        "{rel}: {:?}",
                        p.files
                    );
                }
                let mut sorted = pkgs.clone();
                sorted.sort();
                assert_eq!(pkgs, sorted, "{rel}: output is not sorted");
                if let Some((_, names)) = SYFT_CATALOGER_NAMES.iter().find(|(p, _)| *p == rel) {
                    let got: Vec<&str> = pkgs.iter().map(|p| p.name.as_str()).collect();
                    assert_eq!(got, *names, "{rel}");
                }
            }
            (Ok(pkgs), Some((_, why))) => panic!("{rel}: expected an error ({why}), got {pkgs:?}"),
            (Err(e), Some(_)) => {
                assert!(
                    matches!(e, CoreError::CorruptDatabase { kind: "apk", .. }),
                    "{rel}: {e}"
                );
                assert!(!e.to_string().contains('\n'), "{rel}: multi-line error");
            }
            (Err(e), None) => panic!("{rel}: {e}"),
        }
    }
    assert!(
        samples >= 15,
        "only {samples} samples under {}",
        root().display()
    );
}

#[test]
fn trivy_exact_list() {
    let dir = root().join("trivy");
    let json = read_json(&dir.join("expected.json"));
    let cases = json["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let path = case["path"].as_str().unwrap();
        let pkgs = parse_file(&dir.join(path.strip_prefix("testdata/").unwrap())).unwrap();
        let mut want: Vec<Expected> = case["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(from_trivy)
            .collect();
        let mut got: Vec<Expected> = pkgs.iter().map(ours_for_trivy).collect();
        want.sort();
        got.sort();
        assert_eq!(want.len(), 15);
        assert_eq!(got, want, "trivy case {:?}", case["case"]);
        // The stanza without `V:` is skipped, not reported.
        assert!(
            !pkgs
                .iter()
                .any(|p| p.name == "invalidPackageWithoutAVersion")
        );
        // Trivy's InstalledFiles for ada-libs (we sort them).
        let ada = pkgs.iter().find(|p| p.name == "ada-libs").unwrap();
        assert_eq!(
            ada.files,
            ["usr/lib/libada.so.2", "usr/lib/libada.so.2.7.4"]
        );
    }
}

/// osv-scalibr asserts through `getPackage(path, name, origin, version, osID,
/// osVersionID, maintainer, arch, license, commit)` (see `call_signatures`). It keeps
/// the raw `L:` expression, which we split into names; origin is `""` when absent,
/// where we fall back to the name. osID/osVersionID come from os-release (not this
/// parser's job) and `commit` (`c:`, the aports commit) is not part of our model.
fn from_scalibr(args: &[Value]) -> Expected {
    let arg = |i: usize| args[i].as_str().unwrap().to_string();
    let name = arg(1);
    let version = arg(3);
    let origin = arg(2);
    let licenses = arg(8)
        .split_whitespace()
        .map(|t| t.trim_matches(|c| c == '(' || c == ')'))
        .filter(|t| !t.is_empty() && *t != "AND" && *t != "OR")
        .map(str::to_string)
        .collect();
    Expected {
        source_name: if origin.is_empty() {
            name.clone()
        } else {
            origin
        },
        source_version: version.clone(),
        arch: Some(arg(7)).filter(|s| !s.is_empty()),
        maintainer: Some(arg(6)).filter(|s| !s.is_empty()),
        licenses,
        digest: None,
        name,
        version,
    }
}

fn ours_plain(p: &Package) -> Expected {
    Expected {
        name: p.name.clone(),
        version: p.version.clone(),
        source_name: p.source_name.clone(),
        source_version: p.source_version.clone(),
        arch: p.arch.clone(),
        maintainer: p.maintainer.clone(),
        licenses: p.licenses.clone(),
        digest: None,
    }
}

#[test]
fn osv_scalibr_cases() {
    let dir = root().join("osv-scalibr");
    let json = read_json(&dir.join("expected.json"));
    let sig = json["call_signatures"]["getPackage"].as_array().unwrap();
    assert_eq!(sig.len(), 10, "getPackage signature changed: {sig:?}");
    let mut replayed = 0;
    for case in json["cases"].as_array().unwrap() {
        let title = case["case"].as_str().unwrap();
        let path = case["path"].as_str().unwrap();
        let file = dir.join(path.strip_prefix("testdata/").unwrap());
        let expected = case["packages"].as_array().unwrap();
        let pkgs = match parse_file(&file) {
            Ok(p) => p,
            Err(e) => {
                assert!(
                    EXPECTED_ERRORS.iter().any(|(p, _)| *p == rel(&file)),
                    "{title}: {e}"
                );
                assert!(expected.is_empty(), "{title}: peer expects packages");
                replayed += 1;
                continue;
            }
        };
        let mut want: Vec<Expected> = expected
            .iter()
            .map(|call| {
                assert_eq!(call["call"], "getPackage");
                from_scalibr(call["args"].as_array().unwrap())
            })
            .collect();
        let mut got: Vec<Expected> = pkgs.iter().map(ours_plain).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "scalibr case {title:?} ({path})");
        replayed += 1;
    }
    assert!(replayed >= 8, "only {replayed} scalibr cases");
}

/// Syft's parser test (`TestSinglePackageDetails`) asserts one package per fixture;
/// expected.json keeps Name/Version/Package/Maintainer/Architecture (its `Licenses`
/// entry is an untranscribed Go call and is not compared).
#[test]
fn syft_cases() {
    let dir = root().join("syft");
    let json = read_json(&dir.join("expected.json"));
    let mut replayed = 0;
    for case in json["cases"].as_array().unwrap() {
        let path = case["path"].as_str().unwrap();
        let pkgs = parse_file(&dir.join(path.strip_prefix("testdata/").unwrap())).unwrap();
        let want: Vec<(String, String, Option<String>, Option<String>)> = case["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                assert_eq!(v["Name"], v["Package"]);
                (
                    str_field(v, "Name").unwrap(),
                    str_field(v, "Version").unwrap(),
                    str_field(v, "Maintainer"),
                    str_field(v, "Architecture"),
                )
            })
            .collect();
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.maintainer.clone(),
                    p.arch.clone(),
                )
            })
            .collect();
        assert_eq!(got, want, "syft {path}");
        replayed += 1;
    }
    assert!(replayed >= 3);

    // Syft's file list for `single` (directories aside, which we do not list).
    let single = parse_file(&dir.join("single")).unwrap();
    assert_eq!(
        single[0].files,
        [
            "sbin/ldconfig",
            "usr/bin/getconf",
            "usr/bin/getent",
            "usr/bin/iconv",
            "usr/bin/ldd"
        ]
    );
    assert_eq!(single[0].licenses, ["MIT", "BSD", "GPL2+"]);
    // TestExtraFileAttributes: the file after `a:`/`Z:` attribute lines.
    let jre = parse_file(&dir.join("extra-file-attributes")).unwrap();
    assert!(
        jre[0]
            .files
            .iter()
            .any(|f| f == "usr/lib/jvm/java-1.8-openjdk/bin/policytool")
    );
}

// ---------------------------------------------------------------- format edge cases

fn parse(content: &[u8]) -> Result<Vec<Package>, CoreError> {
    apk::parse_installed("lib/apk/db/installed", content)
}

#[test]
fn crlf_blank_runs_unknown_keys_and_no_final_newline() {
    let text = b"\r\n\r\nC:Q11otALzX1d1D0kVawy06IairTXS0=\r\nP:a\r\nV:1.0-r0\r\nz:future key\r\nR:rootfile\r\nF:/usr/lib/\r\nR:x.so\r\n\r\n\n\nP:b\nV:2-r1\no:bsrc";
    let pkgs = parse(text).unwrap();
    assert_eq!(pkgs.len(), 2);
    assert_eq!(
        pkgs[0].digest.as_deref(),
        Some("sha1:d68b402f35f57750f49156b0cb4e886a2ad35d2d")
    );
    assert_eq!(pkgs[0].files, ["rootfile", "usr/lib/x.so"]);
    assert_eq!(pkgs[0].source_name, "a");
    assert_eq!(
        (
            pkgs[1].source_name.as_str(),
            pkgs[1].source_version.as_str()
        ),
        ("bsrc", "2-r1")
    );
}

#[test]
fn bad_checksum_only_loses_the_digest() {
    let pkgs = parse(b"P:a\nV:1\nC:Q1not*base64\n").unwrap();
    assert_eq!(pkgs[0].digest, None);
}

#[test]
fn malformed_databases_are_corrupt() {
    for bad in [
        &b"hello"[..],
        b"x",
        b"PP:a\n",
        b"T:only a description\nA:x86_64\n",
        b"P:a\n",
        b":x\n",
    ] {
        let err = parse(bad).unwrap_err();
        assert!(
            matches!(err, CoreError::CorruptDatabase { kind: "apk", .. }),
            "{bad:?}: {err}"
        );
        assert!(
            err.to_string()
                .starts_with("corrupt apk database lib/apk/db/installed: "),
            "{err}"
        );
    }
    assert_eq!(parse(b"").unwrap(), []);
    assert_eq!(parse(b"\n \n").unwrap(), []);
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
        let _ = parse(&garbage(1 + (seed as usize * 37) % 4096, seed));
    }
    for byte in 0..=255u8 {
        let _ = parse(&[byte]);
    }
    // Key-shaped garbage: `K:` prefixes with random payloads, checksums included.
    let mut text = Vec::new();
    for (i, b) in garbage(30_000, 11).into_iter().enumerate() {
        if i % 23 == 0 {
            text.extend_from_slice(b"\nC:Q1");
        } else if i % 17 == 0 {
            text.push(b'\n');
            text.push(b"PVAoLmCFR"[(b % 9) as usize]);
            text.push(b':');
        } else {
            text.push(b);
        }
    }
    let _ = parse(&text);
}

#[test]
fn huge_lines_and_many_files() {
    let mut text = b"P:big\nV:1-r0\nT:".to_vec();
    text.extend(std::iter::repeat_n(b'a', 4 << 20));
    text.extend_from_slice(b"\nF:usr/lib\n");
    for i in 0..50_000 {
        text.extend_from_slice(format!("R:f{i}\n").as_bytes());
    }
    let pkgs = parse(&text).unwrap();
    assert_eq!(pkgs[0].files.len(), 50_000);
}

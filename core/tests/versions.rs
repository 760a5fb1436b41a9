//! Runs the distro version-ordering vectors of the shared corpus (`versions/debian`,
//! `versions/alpine`, `versions/rpm`) against `customs_core::version`; the language
//! ecosystems' folders have a test file each (`versions_<folder>.rs`), and
//! `every_corpus_folder_has_a_test` keeps the two lists in step.
//!
//! Formats (see `versions/SOURCES.md`): `a op b` lines with op in `<` `=` `>`; the dpkg
//! parse cases as JSON; apk-tools' `version.data`, which adds fuzzy operators (`~`,
//! `<~`, `>~`), negation (`!op`) and bare validity lines (`v` valid, `!v` invalid).
//! Every file in those folders must be understood by one of the runners below, so a
//! new file cannot be skipped silently, and each folder must yield a minimum number of
//! checks, so an empty or truncated corpus fails.
mod vectors;

use customs_core::version::{apk, dpkg, rpm};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::Path;
use vectors::{Deliberate, Outcome, content_lines, files, name, run_pairs};

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
/// Each must still fail as listed, so the list cannot go stale.
const DELIBERATE: &[Deliberate] = &[
    (
        "dpkg-upstream-parse.json",
        "0:0-",
        "an empty revision is an error (\"revision number is empty\") in dpkg >= 1.19 and in \
         Dpkg::Version, which the same file follows for `1.0-`; the pinned C unit test predates it. \
         Ordering still accepts it: `0:0- = 0` passes.",
    ),
    (
        "osv-scalibr-alpine-versions.txt",
        "1-r = 1-r0",
        "apk-tools 3 rejects `-r` without a number and orders the invalid side first; \
         osv-scalibr follows apk-tools 2, which read the missing number as 0.",
    ),
    (
        "osv-scalibr-alpine-versions.txt",
        "1-r0-1 = 1-r-2",
        "apk-tools 3: a second `-r` after a revision and an empty `-r` are both invalid, at \
         different tokens, so `1-r0-1` (valid up to r0) is newer; osv-scalibr follows apk-tools 2.",
    ),
    (
        "osv-scalibr-alpine-versions.txt",
        "1-ruff2 = 1--ruff1",
        "both are invalid at the second token, where apk-tools 3 gives up and says equal; we then \
         take apk-tools 2's answer (see version::apk), which ranks the `-r` revision token above \
         the invalid `--`, so `1-ruff2 < 1--ruff1`.",
    ),
];

/// Runs apk-tools' `version.data`.
fn run_apk_data(out: &mut Outcome, path: &Path) {
    let file = name(path);
    for line in content_lines(path) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [v] => {
                let (want, v) = match v.strip_prefix('!') {
                    Some(rest) => (false, rest),
                    None => (true, v),
                };
                let got = apk::is_valid(v);
                out.check(&file, &line, got == want, || {
                    format!("is_valid = {got}, want {want}")
                });
            }
            [a, op, b] => {
                let (negate, op) = match op.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, op),
                };
                let fuzzy = op.contains('~');
                let mut accept = BTreeSet::new();
                for c in op.chars() {
                    match c {
                        '<' => accept.insert(Ordering::Less),
                        '>' => accept.insert(Ordering::Greater),
                        '=' | '~' => accept.insert(Ordering::Equal),
                        _ => panic!("{file}: unknown operator in `{line}`"),
                    };
                }
                let got = apk::compare_fuzzy(a, b, fuzzy);
                let matched = accept.contains(&got) != negate;
                // Plain comparisons must also hold the other way round.
                let symmetric =
                    fuzzy || negate || accept.len() != 1 || apk::compare(b, a) == got.reverse();
                out.check(&file, &line, matched && symmetric, || {
                    format!("compare = {got:?}")
                });
            }
            _ => panic!("{file}: malformed line `{line}`"),
        }
    }
}

/// Runs the dpkg parse cases: valid inputs must split as stated (strictly and
/// leniently), invalid ones must be rejected by the strict parser, and so must every
/// character dpkg forbids in the upstream version and in the revision.
fn run_dpkg_parse(out: &mut Outcome, path: &Path) {
    let file = name(path);
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let valid = doc["valid"].as_array().expect("valid[]");
    let invalid = doc["invalid"].as_array().expect("invalid[]");
    assert!(
        !valid.is_empty() && !invalid.is_empty(),
        "{file}: empty case lists"
    );
    for case in valid {
        let input = case["input"].as_str().expect("input");
        let want = (
            case["epoch"].as_u64().expect("epoch"),
            case["upstream"].as_str().expect("upstream").to_string(),
            case["revision"].as_str().expect("revision").to_string(),
        );
        let strict = dpkg::Version::parse(input);
        let lenient = dpkg::Version::parse_lenient(input);
        let parts = |v: &dpkg::Version<'_>| {
            (
                u64::from(v.epoch()),
                v.upstream().to_string(),
                v.revision().to_string(),
            )
        };
        let ok = strict.as_ref().is_ok_and(|v| parts(v) == want) && parts(&lenient) == want;
        out.check(&file, input, ok, || {
            format!("strict {strict:?}, lenient {lenient:?}, want {want:?}")
        });
    }
    for case in invalid {
        let input = case["input"].as_str().expect("input");
        let got = dpkg::Version::parse(input);
        out.check(&file, input, got.is_err(), || {
            format!("accepted as {got:?} ({})", case["why"])
        });
    }
    for (key, template, at) in [
        ("invalid_upstream_chars", "0:0a-0", 3),
        ("invalid_revision_chars", "0:0-0", 4),
    ] {
        let chars = doc[key].as_str().unwrap_or_else(|| panic!("{file}: {key}"));
        assert!(!chars.is_empty());
        for c in chars.chars() {
            let mut input = template.to_string();
            input.replace_range(at..at + 1, &c.to_string());
            let got = dpkg::Version::parse(&input);
            out.check(&file, &input, got.is_err(), || {
                format!("accepted as {got:?}")
            });
        }
    }
}

#[test]
fn debian_vectors() {
    let mut out = Outcome::new(DELIBERATE);
    for path in files("debian") {
        match path.extension().and_then(|e| e.to_str()) {
            Some("txt") => run_pairs(&mut out, &path, dpkg::compare),
            Some("json") => run_dpkg_parse(&mut out, &path),
            _ => panic!("no runner for {}", path.display()),
        }
    }
    out.finish("debian", 14_000);
}

#[test]
fn alpine_vectors() {
    let mut out = Outcome::new(DELIBERATE);
    for path in files("alpine") {
        match path.extension().and_then(|e| e.to_str()) {
            Some("txt") => run_pairs(&mut out, &path, apk::compare),
            Some("data") => run_apk_data(&mut out, &path),
            _ => panic!("no runner for {}", path.display()),
        }
    }
    out.finish("alpine", 15_000);
}

#[test]
fn rpm_vectors() {
    let mut out = Outcome::new(DELIBERATE);
    for path in files("rpm") {
        let file = name(&path);
        match path.extension().and_then(|e| e.to_str()) {
            // rpm's own vectors exercise rpmvercmp on bare version strings.
            Some("txt") if file.starts_with("rpm-upstream-") => {
                run_pairs(&mut out, &path, rpm::rpmvercmp)
            }
            Some("txt") => run_pairs(&mut out, &path, rpm::compare),
            _ => panic!("no runner for {}", path.display()),
        }
    }
    out.finish("rpm", 200);
}

/// Hostile input: random strings over the versions' alphabets (plus non-ASCII) must
/// never panic, and every comparison must be antisymmetric.
#[test]
fn random_strings_are_antisymmetric() {
    const ALPHABET: &[&str] = &[
        "0", "1", "9", "00", ".", "-", "-r", ":", "~", "^", "_", "_p", "_rc", "+", "a", "z", "Z",
        " ", "é", "",
    ];
    let mut rng = vectors::Rng::new();
    let mut random = || rng.string_from(ALPHABET);
    type Compare = fn(&str, &str) -> Ordering;
    let comparators: [(&str, Compare); 4] = [
        ("dpkg", dpkg::compare),
        ("apk", apk::compare),
        ("rpm", rpm::compare),
        ("rpmvercmp", rpm::rpmvercmp),
    ];
    for _ in 0..20_000 {
        let (a, b) = (random(), random());
        for (name, cmp) in comparators {
            assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse(), "{name}: {a:?} vs {b:?}");
            assert_eq!(cmp(&a, &a), Ordering::Equal, "{name}: {a:?}");
        }
        let _ = dpkg::Version::parse(&a);
        let _ = apk::is_valid(&a);
    }
}

/// Every folder of `corpus/versions/` is run by a test: the distro folders here, each
/// other folder by `tests/versions_<folder>.rs`. A folder added to the corpus without a
/// test fails here instead of going unchecked.
#[test]
fn every_corpus_folder_has_a_test() {
    const HERE: &[&str] = &["alpine", "debian", "rpm"];
    let dir = vectors::corpus().join("versions");
    let mut folders: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| name(&p))
        .collect();
    folders.sort();
    assert!(folders.len() >= 12, "corpus folders: {folders:?}");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let missing: Vec<&String> = folders
        .iter()
        .filter(|f| {
            !HERE.contains(&f.as_str()) && !tests.join(format!("versions_{f}.rs")).is_file()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "corpus folders without a test: {missing:?}"
    );
}

//! Runs every PyPI version vector of the shared corpus (`versions/pypi`) against
//! `customs_core::version::pep440`.
//!
//! Files (see `versions/SOURCES.md`): osv-scalibr's `a op b` lists; pypa/packaging's
//! `VERSIONS` list as a strictly ascending file (every earlier line below every later
//! one) and as adjacent `a < b` pairs; and packaging's parse cases as JSON (strings
//! `Version` must reject, and inputs with their normalized spelling). Every file and
//! every JSON key must be understood by a runner below, so new vectors cannot be
//! skipped silently, and the folder must yield a minimum number of checks, so an
//! empty or truncated corpus fails.
mod vectors;

use customs_core::version::pep440::{self, Version, compare};
use serde_json::Value;
use std::cmp::Ordering;
use std::path::Path;
use vectors::{
    Deliberate, Outcome, Rng, assert_total_on_triple, content_lines, files, name, run_pairs,
};

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
/// Each must still fail as listed, so the list cannot go stale. There are none: even
/// osv-scalibr's "legacy" pairs (`0.1-bulbasaur < 0.1-charmander`, `…-pre < 1.0`)
/// hold with invalid versions sorted first and by text.
const DELIBERATE: &[Deliberate] = &[];

/// Runs the strictly ascending list: every line parses, renders to a spelling that
/// parses back to an equal version, and every earlier line is below every later one
/// (checked both ways, through [`compare`] and through `Version`'s `Ord`).
fn run_sorted(out: &mut Outcome, path: &Path) {
    let file = name(path);
    let lines = content_lines(path);
    assert!(lines.len() > 1, "{file}: too few versions");
    let mut parsed = Vec::new();
    for line in &lines {
        let got = Version::parse(line);
        let round_trip = got.as_ref().ok().and_then(|v| {
            let again = Version::parse(&v.to_string()).ok()?;
            (again == *v && again.to_string() == v.to_string()).then_some(())
        });
        out.check(&file, line, round_trip.is_some(), || {
            format!("parse = {got:?}, which does not round-trip through its spelling")
        });
        parsed.push(got.ok());
    }
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            let (a, b) = (&lines[i], &lines[j]);
            let by_text = (compare(a, b), compare(b, a));
            let by_value = match (&parsed[i], &parsed[j]) {
                (Some(x), Some(y)) => Some((x.cmp(y), y.cmp(x))),
                _ => None,
            };
            let ok = by_text == (Ordering::Less, Ordering::Greater) && by_value == Some(by_text);
            out.check(&file, &format!("{a} < {b}"), ok, || {
                format!("compare = {by_text:?}, Version::cmp = {by_value:?}")
            });
        }
    }
}

/// Runs packaging's parse cases: `invalid` strings must be rejected (and so sort
/// before a valid version); `normalized` inputs must render as stated, and that
/// spelling must parse to an equal version that renders the same.
fn run_parse(out: &mut Outcome, path: &Path) {
    let file = name(path);
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc = doc.as_object().expect("a JSON object");
    for (key, cases) in doc {
        let cases = match key.as_str() {
            "_origin" => continue,
            "invalid" | "normalized" => cases
                .as_array()
                .unwrap_or_else(|| panic!("{file}: {key} is not a list")),
            _ => panic!("no runner for key `{key}` of {}", path.display()),
        };
        assert!(!cases.is_empty(), "{file}: empty `{key}`");
        for case in cases {
            if key == "invalid" {
                let input = case.as_str().expect("invalid[] holds strings");
                let got = Version::parse(input);
                let ok = got.is_err() && compare(input, "0") == Ordering::Less;
                out.check(&file, input, ok, || format!("accepted as {got:?}"));
            } else {
                let input = case["input"].as_str().expect("input");
                let want = case["normalized"].as_str().expect("normalized");
                let got = Version::parse(input).map(|v| v.to_string());
                let stable = Version::parse(want).is_ok_and(|v| {
                    v.to_string() == want
                        && compare(input, want) == Ordering::Equal
                        && compare(want, input) == Ordering::Equal
                });
                out.check(&file, input, got.as_deref() == Ok(want) && stable, || {
                    format!("normalized to {got:?}, want {want:?} (stable: {stable})")
                });
            }
        }
    }
}

#[test]
fn pypi_vectors() {
    let mut out = Outcome::new(DELIBERATE);
    for path in files("pypi") {
        let file = name(&path);
        match file.as_str() {
            "pypa-packaging-sorted.txt" => run_sorted(&mut out, &path),
            "pypa-packaging-parse.json" => run_parse(&mut out, &path),
            _ if file.ends_with(".txt") => run_pairs(&mut out, &path, compare),
            _ => panic!("no runner for {}", path.display()),
        }
    }
    // 12,375 + 58 osv-scalibr lines (fewer once comments go), 92 adjacent pairs,
    // 92 versions and their 4,186 ordered pairs, 21 invalid and 102 normalized.
    out.finish("pypi", 16_800);
}

/// Cases the corpus does not pin down, checked against packaging's behaviour.
#[test]
fn edge_cases() {
    let norm = |s: &str| Version::parse(s).map(|v| v.to_string()).ok();
    // Python's `\s` includes U+001C..U+001F, which Rust's `char::is_whitespace` omits.
    assert_eq!(norm("\u{1c}1.0\u{1f}").as_deref(), Some("1.0"));
    // Separators left dangling after a label are part of the label's segment.
    assert_eq!(norm("1.0a-").as_deref(), Some("1.0a0"));
    assert_eq!(norm("1.0.post.dev").as_deref(), Some("1.0.post0.dev0"));
    assert_eq!(norm("1.0a..post").as_deref(), Some("1.0a0.post0"));
    assert_eq!(norm("1.0a--1").as_deref(), Some("1.0a0.post1"));
    assert_eq!(
        norm("V1!2.0-RC.3-4_DEV5+Ubuntu-01_X").as_deref(),
        Some("1!2.0rc3.post4.dev5+ubuntu.1.x")
    );
    for bad in [
        "",
        "v",
        "1.0-",
        "1.0+",
        "1.0+a.",
        "1.0-1.post",
        "1.0prev",
        "1!",
        "!1",
        "1.0+ä",
        "1.0\u{0}",
    ] {
        let err = Version::parse(bad).expect_err(bad);
        assert!(err.to_string().contains("invalid PEP 440 version"), "{err}");
    }
    // Numbers of any size, with leading zeros, compare exactly.
    let huge = format!("1.{}", "9".repeat(400));
    let bigger = format!("1.1{}", "0".repeat(400));
    assert_eq!(compare(&huge, &bigger), Ordering::Less);
    assert_eq!(
        compare(&format!("1.0{huge}"), &format!("1.{huge}")),
        Ordering::Equal
    );
    assert_eq!(
        compare(&format!("{}1.0", "0".repeat(50)), "1"),
        Ordering::Equal
    );
    assert_eq!(compare("1.0+a.01", "1.0+a.1"), Ordering::Equal);
    assert_eq!(compare("1.0+a.b", "1.0+a.1"), Ordering::Less);
    assert_eq!(compare("0", "0.0.0"), Ordering::Equal);
    assert_eq!(compare("1.0.dev1", "1.0a1.dev1"), Ordering::Less);
    assert_eq!(compare("1.0.post1.dev1", "1.0.post1"), Ordering::Less);
    assert_eq!(compare("1.0.post1.dev1", "1.0"), Ordering::Greater);
    // Invalid strings sort first and by text.
    assert_eq!(compare("lolwat", "0"), Ordering::Less);
    assert_eq!(compare("french toast", "lolwat"), Ordering::Less);
    let v = Version::parse("1.0rc1.dev2+local").unwrap();
    assert!(v.is_prerelease() && v.is_devrelease() && !v.is_postrelease());
    assert_eq!(v.pre_kind(), Some(pep440::PreKind::Rc));
    assert_eq!(v.local().as_deref(), Some("local"));
    assert_eq!(v.public().to_string(), "1.0rc1.dev2");
}

/// Hostile input: random strings over the PEP 440 alphabet (plus whitespace,
/// non-ASCII and huge numbers) must never panic, every comparison must be reflexive,
/// antisymmetric and transitive, and a valid version's spelling must parse back to
/// an equal version with the same spelling.
#[test]
fn random_strings_are_a_total_order() {
    const ALPHABET: &[&str] = &[
        "0",
        "1",
        "2",
        "9",
        "00",
        "01",
        "12345678901234567890123",
        ".",
        ".",
        "-",
        "_",
        "+",
        "!",
        "v",
        "V",
        "a",
        "B",
        "c",
        "rc",
        "alpha",
        "pre",
        "preview",
        "post",
        "r",
        "rev",
        "dev",
        "DEV",
        "x",
        " ",
        "\t",
        "\u{1c}",
        "\u{202f}",
        "é",
        "İ",
        "٣",
        "",
    ];
    let mut rng = Rng::new();
    let mut random = || -> String {
        // Half of the strings start like a release, so many of them are valid.
        let head = if rng.next().is_multiple_of(2) {
            "1"
        } else {
            ""
        };
        format!("{head}{}", rng.string_from(ALPHABET))
    };
    let mut valid = 0;
    for _ in 0..30_000 {
        let (a, b, c) = (random(), random(), random());
        assert_total_on_triple(compare, &a, &b, &c);
        if let Ok(v) = Version::parse(&a) {
            valid += 1;
            let spelled = v.to_string();
            let again = Version::parse(&spelled).unwrap_or_else(|e| panic!("{a:?}: {e}"));
            assert_eq!(again, v, "{a:?} renders as {spelled:?}");
            assert_eq!(again.to_string(), spelled, "{a:?}");
        }
    }
    assert!(
        valid > 3_000,
        "only {valid} random strings were valid versions"
    );
}

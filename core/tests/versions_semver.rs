//! Runs every SemVer vector of the shared corpus (`versions/semver`) against
//! `customs_core::version::semver`.
//!
//! Formats: osv-scalibr's `a op b` lines, and node-semver's test fixtures converted to
//! JSON (tuple meaning per file in `versions/semver/node-semver/README.md`). An options
//! element `true` or `{loose: <truthy>}` selects node-semver's loose grammar, exactly as
//! node-semver's `parseOptions` reads it. Every file must be run by a runner below or be
//! named in `NOT_APPLICABLE` with the reason, so a new file cannot be skipped silently,
//! and the folder must yield a minimum number of checks, so a truncated corpus fails.
mod vectors;

use customs_core::version::semver::{self, Identifier, Range, RangeOptions, Version};
use serde_json::Value;
use std::cmp::Ordering;
use std::path::Path;
use vectors::{Deliberate, Outcome, Rng, assert_total_on_triple, files, name, run_pairs};

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
const DELIBERATE: &[Deliberate] = &[];

/// node-semver fixtures of APIs this module does not provide, with the reason.
const NOT_APPLICABLE: &[(&str, &str)] = &[
    (
        "comparator-intersection.json",
        "node-semver's `Comparator.intersects`; advisory matching never intersects ranges",
    ),
    (
        "range-intersection.json",
        "node-semver's `Range.intersects`; advisory matching never intersects ranges",
    ),
    (
        "increments.json",
        "node-semver's `inc` (computing a next version), not an ordering question",
    ),
    (
        "truncations.json",
        "node-semver's `truncate`, not an ordering question",
    ),
    (
        "version-gt-range.json",
        "node-semver's `gtr`/`outside`; matching only asks whether a range is satisfied",
    ),
    (
        "version-lt-range.json",
        "node-semver's `ltr`/`outside`; matching only asks whether a range is satisfied",
    ),
    (
        "version-not-gt-range.json",
        "node-semver's `gtr`/`outside`; matching only asks whether a range is satisfied",
    ),
    (
        "version-not-lt-range.json",
        "node-semver's `ltr`/`outside`; matching only asks whether a range is satisfied",
    ),
];

fn tuples(path: &Path) -> Vec<Vec<Value>> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows = doc.as_array().expect("a JSON array of tuples");
    assert!(!rows.is_empty(), "{}: no tuples", path.display());
    rows.iter()
        .map(|r| r.as_array().expect("a tuple").clone())
        .collect()
}

/// JavaScript truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// node-semver's `parseOptions`: falsy = defaults, a non-object = loose, an object
/// read for its `loose` and `includePrerelease` keys.
fn options(v: Option<&Value>) -> RangeOptions {
    match v {
        None => RangeOptions::default(),
        Some(v) if !truthy(v) => RangeOptions::default(),
        Some(Value::Object(o)) => RangeOptions {
            loose: o.get("loose").is_some_and(truthy),
            include_prerelease: o.get("includePrerelease").is_some_and(truthy),
        },
        Some(_) => RangeOptions {
            loose: true,
            include_prerelease: false,
        },
    }
}

fn parse(text: &str, options: RangeOptions) -> Result<Version, semver::ParseError> {
    if options.loose {
        Version::parse_loose(text)
    } else {
        Version::parse(text)
    }
}

/// `[a, b, options?]`: `a` is greater than (or, `want = Equal`, equivalent to) `b`, under
/// node-semver's parse with those options and under the lenient `compare`.
fn run_ordered(out: &mut Outcome, path: &Path, want: Ordering) {
    let file = name(path);
    for row in tuples(path) {
        let line = Value::Array(row.clone()).to_string();
        let (a, b) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
        let o = options(row.get(2));
        let parsed = parse(a, o).and_then(|x| parse(b, o).map(|y| (x, y)));
        let ok = parsed
            .as_ref()
            .is_ok_and(|(x, y)| x.cmp(y) == want && y.cmp(x) == want.reverse())
            && semver::compare(a, b) == want
            && semver::compare(b, a) == want.reverse();
        out.check(&file, &line, ok, || {
            format!("parsed {parsed:?}, compare = {:?}", semver::compare(a, b))
        });
    }
}

fn identifier_json(id: &Identifier) -> Value {
    match id {
        Identifier::Numeric(n) => Value::from(n.parse::<u64>().unwrap()),
        Identifier::Alphanumeric(s) => Value::from(s.as_str()),
    }
}

/// `[version, major, minor, patch, prerelease[], build[]]` under the strict parse.
fn run_valid(out: &mut Outcome, path: &Path) {
    let file = name(path);
    for row in tuples(path) {
        let line = Value::Array(row.clone()).to_string();
        let got = Version::parse(row[0].as_str().unwrap());
        let fields = got.as_ref().map(|v| {
            vec![
                Value::from(v.major().parse::<u64>().unwrap()),
                Value::from(v.minor().parse::<u64>().unwrap()),
                Value::from(v.patch().parse::<u64>().unwrap()),
                Value::Array(v.pre().iter().map(identifier_json).collect()),
                Value::Array(v.build().iter().map(|b| Value::from(b.as_str())).collect()),
            ]
        });
        let ok = fields.as_ref().is_ok_and(|f| f[..] == row[1..6]);
        out.check(&file, &line, ok, || format!("parsed as {fields:?}"));
    }
}

/// `[value, reason, options?]`: not a version. Non-string values (a RegExp, an object
/// with `toString`) test JavaScript's type checks; the Rust API only takes `&str`, so
/// they cannot be expressed and are skipped.
fn run_invalid(out: &mut Outcome, path: &Path) {
    let file = name(path);
    for row in tuples(path) {
        let line = Value::Array(row.clone()).to_string();
        let Some(text) = row[0].as_str() else {
            continue;
        };
        let got = parse(text, options(row.get(2)));
        out.check(&file, &line, got.is_err(), || {
            format!("accepted as {got:?}")
        });
    }
}

/// `[range, version, options?]`: the version is (or is not) included by the range. A
/// non-string version (`false`) is never included, which the `&str` API cannot express.
fn run_range(out: &mut Outcome, path: &Path, include: bool) {
    let file = name(path);
    for row in tuples(path) {
        let line = Value::Array(row.clone()).to_string();
        let Some(version) = row[1].as_str() else {
            assert!(!include, "{file}: non-string version in `{line}`");
            continue;
        };
        let range = row[0].as_str().unwrap();
        let got = semver::satisfies(version, range, options(row.get(2)));
        out.check(&file, &line, got == include, || {
            format!(
                "satisfies = {got}, range parsed as {:?}",
                Range::parse(range, options(row.get(2)))
            )
        });
    }
}

/// `[range, canonical, options?]`: checked for validity only (a `null` canonical form
/// means node-semver rejects the range); the canonical string is node-semver's own
/// formatting of its desugared comparators, which this module does not reproduce.
fn run_range_validity(out: &mut Outcome, path: &Path) {
    let file = name(path);
    for row in tuples(path) {
        let line = Value::Array(row.clone()).to_string();
        let want_valid = !row[1].is_null();
        let got = Range::parse(row[0].as_str().unwrap(), options(row.get(2)));
        out.check(&file, &line, got.is_ok() == want_valid, || {
            format!("parsed as {got:?}, want valid = {want_valid}")
        });
    }
}

#[test]
fn semver_vectors() {
    let mut out = Outcome::new(DELIBERATE);
    let mut paths = files("semver");
    paths.extend(files("semver/node-semver"));
    let mut seen_na = Vec::new();
    for path in paths {
        let file = name(&path);
        if let Some((_, _reason)) = NOT_APPLICABLE.iter().find(|(f, _)| *f == file) {
            seen_na.push(file);
            continue;
        }
        match file.as_str() {
            "README.md" => {}
            "comparisons.json" => run_ordered(&mut out, &path, Ordering::Greater),
            "equality.json" => run_ordered(&mut out, &path, Ordering::Equal),
            "valid-versions.json" => run_valid(&mut out, &path),
            "invalid-versions.json" => run_invalid(&mut out, &path),
            "range-include.json" => run_range(&mut out, &path, true),
            "range-exclude.json" => run_range(&mut out, &path, false),
            "range-parse.json" => run_range_validity(&mut out, &path),
            _ if file.starts_with("osv-scalibr-") && file.ends_with(".txt") => {
                run_pairs(&mut out, &path, semver::compare)
            }
            _ => panic!("no runner for {}", path.display()),
        }
    }
    let stale: Vec<_> = NOT_APPLICABLE
        .iter()
        .filter(|(f, _)| !seen_na.iter().any(|s| s == f))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_APPLICABLE names missing files: {stale:?}"
    );
    out.finish("semver", 530);
}

/// Hostile input: random strings over SemVer's alphabet (plus non-ASCII) must never
/// panic, and `compare` must be a total order: reflexive, antisymmetric, transitive.
#[test]
fn random_strings_are_a_total_order() {
    const ALPHABET: &[&str] = &[
        "0",
        "1",
        "2",
        "9",
        "00",
        "01",
        ".",
        ".",
        "-",
        "+",
        "v",
        "=",
        " ",
        "x",
        "*",
        "alpha",
        "beta",
        "rc",
        "A",
        "Z",
        "é",
        "",
        "99999999999999999999",
        "^",
        "~",
        "<",
        ">=",
        "||",
    ];
    const DIGITS: &[&str] = &["0", "1", "2", "10", "01"];
    let mut rng = Rng::new();
    let mut random = || -> String {
        // Half the strings are shaped like versions, so that most comparisons are
        // between valid ones rather than all falling back to text order.
        if rng.next().is_multiple_of(2) {
            let mut s = format!("{}.{}", rng.pick(DIGITS), rng.pick(DIGITS));
            if !rng.next().is_multiple_of(4) {
                s = format!("{s}.{}", rng.pick(DIGITS));
            }
            for _ in 0..rng.next() % 4 {
                s += rng.pick(ALPHABET);
            }
            s
        } else {
            rng.string_from(ALPHABET)
        }
    };
    let mut valid = 0;
    for _ in 0..30_000 {
        let (a, b, c) = (random(), random(), random());
        assert_total_on_triple(semver::compare, &a, &b, &c);
        valid += usize::from(Version::parse_lenient(&a).is_ok());
        let _ = Version::parse(&a);
        let _ = Version::parse_loose(&a);
        for options in [
            RangeOptions::default(),
            RangeOptions {
                loose: true,
                include_prerelease: true,
            },
        ] {
            let _ = semver::satisfies(&b, &a, options);
        }
    }
    assert!(valid > 5_000, "only {valid} random strings were versions");
}

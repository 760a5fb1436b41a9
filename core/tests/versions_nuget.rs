//! Runs every NuGet version-ordering vector of the shared corpus (`versions/nuget`)
//! against `customs_core::version::nuget`, checks parsing edge cases of
//! NuGet.Versioning, and checks that `compare` is a total order on hostile input.
//!
//! Every file in the folder must be understood by a runner below, so a new file
//! cannot be skipped silently, and the folder must yield a minimum number of checks.
mod vectors;

use customs_core::version::nuget::{self, Version};
use std::cmp::Ordering;
use vectors::{Deliberate, Rng, assert_sorted, assert_total_on_triple, run_pair_folder};

/// Vectors where our answer deliberately differs from the file: none.
const DELIBERATE: &[Deliberate] = &[];

#[test]
fn nuget_vectors() {
    run_pair_folder("nuget", DELIBERATE, nuget::compare, 35);
}

/// What `NuGetVersion.TryParse` accepts and rejects.
#[test]
fn nuget_parse() {
    for ok in [
        "1",
        "1.0",
        "1.2.3.4",
        " 1.0.0 ",
        "1.0.01",
        "1. 0",
        "1 .0\0",
        "2147483647.0",
        "1.0.0-beta.1+build.01",
        "1.0.0--1",
        "1.0.0-0",
        "1.0.0+0.01",
    ] {
        assert!(nuget::is_valid(ok), "{ok:?} should be valid");
    }
    for bad in [
        "",
        " ",
        "1.2.3.4.5",
        "-1.0",
        "+1.0",
        "-0.1",
        "1.+0",
        "2147483648.0",
        "1.0.0-",
        "1.0.0+",
        "1.0.0-beta+",
        "1.0.0-+x",
        "1.0.0-01",
        "1.0.0-beta.01",
        "1.0.0-be_ta",
        "1.0.0-bé",
        "1.0.0+a..b",
        "v1.0.0",
        "1..0",
        "1.0.",
        "a.b",
    ] {
        assert!(!nuget::is_valid(bad), "{bad:?} should be invalid");
    }
    let v = Version::parse("1.2-rc.1+meta").unwrap();
    assert_eq!(v.numbers(), [1, 2, 0, 0]);
    assert_eq!(v.release(), Some("rc.1"));
    assert_eq!(v.metadata(), Some("meta"));
    assert!(v.is_prerelease());
}

/// Orderings the vectors do not cover: numeric labels (negative ones included) before
/// words, the fourth part, metadata ignored, invalid versions first.
#[test]
fn nuget_order() {
    use Ordering::*;
    for (a, b, want) in [
        ("1.0.0-2", "1.0.0-10", Less),
        ("1.0.0-10", "1.0.0-a", Less),
        ("1.0.0--1", "1.0.0-0", Less),
        ("1.0.0-2147483648", "1.0.0-3", Greater),
        ("1.0.0-a", "1.0.0-a.0", Less),
        ("1.0.0-alpha", "1.0.0-Alpha", Equal),
        ("1.0.0-a-b", "1.0.0-a.b", Greater),
        ("1.0.0.0", "1.0", Equal),
        ("1.0.0.1", "1.0.1", Less),
        ("1.0.0+x", "1.0.0+y", Equal),
        ("not a version", "0.0.0-0", Less),
        ("a", "b", Less),
        ("", "0", Less),
    ] {
        assert_eq!(nuget::compare(a, b), want, "{a:?} vs {b:?}");
        assert_eq!(nuget::compare(b, a), want.reverse(), "{b:?} vs {a:?}");
    }
}

/// Random strings over NuGet's alphabet (plus white space, NUL and non-ASCII) never
/// panic, and `compare` is reflexive, antisymmetric and transitive on them.
#[test]
fn nuget_random_strings_are_totally_ordered() {
    const ALPHABET: &[&str] = &[
        "0",
        "1",
        "9",
        "00",
        "01",
        "-0",
        ".",
        "-",
        "+",
        "a",
        "A",
        "z",
        "beta",
        "BETA",
        "x",
        "2147483647",
        "2147483648",
        " ",
        "\t",
        "\0",
        "é",
        "",
    ];
    let mut rng = Rng::new();
    let mut random = || rng.string_from(ALPHABET);
    for _ in 0..30_000 {
        let (a, b, c) = (random(), random(), random());
        assert_total_on_triple(nuget::compare, &a, &b, &c);
    }
    let mut sample: Vec<String> = (0..400).map(|_| random()).collect();
    sample.sort_by(|a, b| nuget::compare(a, b));
    assert_sorted(nuget::compare, &sample);
}

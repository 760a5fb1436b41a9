//! Runs every Pub version-ordering vector of the shared corpus (`versions/pub`)
//! against `customs_core::version::dart_pub`, checks `pub_semver`'s parsing and
//! ordering rules, and checks that `compare` is a total order on hostile input.
//!
//! Every file in the folder must be understood by a runner below, so a new file
//! cannot be skipped silently, and the folder must yield a minimum number of checks.
mod vectors;

use customs_core::version::dart_pub::{self, Version};
use std::cmp::Ordering;
use vectors::{Deliberate, Rng, assert_sorted, assert_total_on_triple, run_pair_folder};

/// Vectors where our answer deliberately differs from the file: none. (The file's
/// `v`-prefixed and one-number versions, which pub rejects, are read leniently as
/// osv-scalibr reads them; see `version::dart_pub`.)
const DELIBERATE: &[Deliberate] = &[];

#[test]
fn pub_vectors() {
    run_pair_folder("pub", DELIBERATE, dart_pub::compare, 100);
}

/// What `Version.parse` accepts, and what only the lenient reading accepts.
#[test]
fn pub_parse() {
    for ok in [
        "0.0.0",
        "01.02.03-01.dev+pre.02",
        "1.2.3--",
        "1.2.3-a-b.0x1F+c-d",
        "9223372036854775807.0.0",
    ] {
        assert!(dart_pub::is_valid(ok), "{ok:?} should be valid");
    }
    for lenient in [
        "v1.2.3",
        "1",
        "1.2",
        "v1.2-beta+b",
        "9223372036854775808.0.0",
    ] {
        assert!(
            !dart_pub::is_valid(lenient),
            "{lenient:?} is not valid for pub"
        );
        assert!(
            Version::parse_lenient(lenient).is_ok(),
            "{lenient:?} should be read leniently"
        );
    }
    for bad in [
        "",
        "v",
        "V1.2.3",
        "1.2.3.4",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-a..b",
        "1.2.3-a_b",
        "1.2.3+a+b",
        " 1.2.3",
        "1.2.3 ",
        "1.2.3\n",
        "1..2",
        "1.2.",
        "a.b.c",
        "1.2.3-é",
    ] {
        assert!(
            Version::parse_lenient(bad).is_err(),
            "{bad:?} should be invalid"
        );
    }
    let v = Version::parse("1.2.3-dev.1+sha.5").unwrap();
    assert_eq!(v.pre_release(), Some("dev.1"));
    assert_eq!(v.build(), Some("sha.5"));
    assert!(v.is_prerelease());
}

/// `pub_semver` rules the vectors do not cover: `int.tryParse` identifiers (leading
/// zeros, sign, hexadecimal, 64-bit limit), build ordering, leading zeros in numbers.
#[test]
fn pub_order() {
    use Ordering::*;
    for (a, b, want) in [
        ("1.2.3-01", "1.2.3-1", Equal),
        ("1.2.3--1", "1.2.3-0", Less),
        ("1.2.3-0x10", "1.2.3-15", Greater),
        ("1.2.3-0X10", "1.2.3-16", Equal),
        ("1.2.3-0xFFFFFFFFFFFFFFFF", "1.2.3--1", Equal),
        ("1.2.3-9223372036854775807", "1.2.3-a", Less),
        ("1.2.3-9223372036854775808", "1.2.3-1", Greater),
        ("1.2.3-9223372036854775808", "1.2.3-A", Less),
        ("1.2.3-a", "1.2.3-a.0", Less),
        ("1.2.3-beta+1", "1.2.3-beta", Greater),
        ("1.2.3+1", "1.2.3+1.0", Less),
        ("1.2.3-x", "1.2.3+x", Less),
        ("01.2.3", "1.2.3", Equal),
        ("v1.2", "1.2.0", Equal),
        ("1", "1.0.0-alpha", Greater),
        ("1.2.3.4", "0.0.0-0", Less),
        ("1.2.3.4", "1.2.3.5", Less),
    ] {
        assert_eq!(dart_pub::compare(a, b), want, "{a:?} vs {b:?}");
        assert_eq!(dart_pub::compare(b, a), want.reverse(), "{b:?} vs {a:?}");
    }
}

/// Random strings over pub's alphabet (plus `v`, hexadecimal, huge numbers and
/// non-ASCII) never panic, and `compare` is reflexive, antisymmetric and transitive
/// on them.
#[test]
fn pub_random_strings_are_totally_ordered() {
    const ALPHABET: &[&str] = &[
        "0",
        "1",
        "9",
        "00",
        "01",
        ".",
        "-",
        "+",
        "a",
        "R",
        "r",
        "v",
        "0x",
        "0X1f",
        "ff",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        " ",
        "é",
        "",
    ];
    let mut rng = Rng::new();
    let mut random = || rng.string_from(ALPHABET);
    for _ in 0..30_000 {
        let (a, b, c) = (random(), random(), random());
        assert_total_on_triple(dart_pub::compare, &a, &b, &c);
    }
    let mut sample: Vec<String> = (0..400).map(|_| random()).collect();
    sample.sort_by(|a, b| dart_pub::compare(a, b));
    assert_sorted(dart_pub::compare, &sample);
}

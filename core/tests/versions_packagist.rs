//! Runs every Packagist version-ordering vector of the shared corpus
//! (`versions/packagist`) against `customs_core::version::composer`, checks PHP
//! `version_compare` rules the vectors do not cover, and checks that `compare` is a
//! total order on hostile input.
//!
//! Every file in the folder must be understood by a runner below, so a new file
//! cannot be skipped silently, and the folder must yield a minimum number of checks.
mod vectors;

use customs_core::version::composer;
use std::cmp::Ordering;
use vectors::{Deliberate, Rng, assert_sorted, assert_total_on_triple, run_pair_folder};

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
/// Each must still fail as listed, so the list cannot go stale.
const DELIBERATE: &[Deliberate] = &[(
    "osv-scalibr-packagist-versions.txt",
    "1.2.3.# = 1.2.3.1",
    "osv-scalibr keeps `#` as a part ranked equal to every number, which is not transitive \
     (`1.2.3.# = 1.2.3.1` and `= 1.2.3.2`, yet `1.2.3.1 < 1.2.3.2`); PHP 8 drops the `#` \
     after a dot, reading `1.2.3`, which is older than `1.2.3.1`, and so do we.",
)];

#[test]
fn packagist_vectors() {
    run_pair_folder("packagist", DELIBERATE, composer::compare, 10_700);
}

/// PHP `version_compare` answers the vectors do not cover (checked against php-src's
/// `versioning.c`).
#[test]
fn packagist_order() {
    use Ordering::*;
    for (a, b, want) in [
        // Unlisted words rank below `dev`, listed ones match by prefix, case-sensitively.
        ("1.0-BETA1", "1.0-dev", Less),
        ("1.0-foo", "1.0-dev", Less),
        ("1.0-abc", "1.0-alpha", Equal),
        ("1.0-patch1", "1.0-p1", Equal),
        ("1.0-Rc1", "1.0-dev", Less),
        ("1.0-RC1", "1.0-rc1", Equal),
        ("1.0-devel", "1.0-dev", Equal),
        // A missing part: numbers and `p` make the longer side newer, other words older.
        ("1.0", "1.0.0", Less),
        ("1.0", "1.0-stable", Greater),
        ("1.0", "1.0-p", Less),
        // Separators.
        ("1.0_1", "1.0.1", Equal),
        ("1.0+1", "1.0-1", Equal),
        ("1..0", "1.0", Equal),
        ("1.0.", "1.0", Equal),
        ("1.0rc1", "1.0.rc.1", Equal),
        ("1.é0", "1.0", Equal),
        // PHP keeps a symbol after a digit as an unlisted word; a leading byte too.
        ("1~beta", "1.0", Less),
        ("1~beta", "1-dev", Less),
        ("1é0", "1.0", Less),
        ("-1", "1", Less),
        ("-1", "-.1", Equal),
        (".1", "1", Less),
        // Branches are older than any numbered version.
        ("dev-master", "0.0.1", Less),
        ("dev-master", "dev-main", Equal),
        // `v` only before a digit; numbers exactly, leading zeros ignored.
        ("v1.0", "1.0", Equal),
        ("version", "1", Less),
        ("1.010", "1.10", Equal),
        ("99999999999999999999", "99999999999999999998", Greater),
        // `#` separates; the empty string is the oldest; NUL ends the version.
        ("1#2", "1.2", Equal),
        ("#1.0", "1.0", Equal),
        ("", "dev", Less),
        ("", "\0x", Equal),
        ("1.0\0.5", "1.0", Equal),
        (".", "", Greater),
    ] {
        assert_eq!(composer::compare(a, b), want, "{a:?} vs {b:?}");
        assert_eq!(composer::compare(b, a), want.reverse(), "{b:?} vs {a:?}");
    }
}

/// Random strings over Packagist's alphabet (stability words, separators, `#`,
/// symbols, NUL, non-ASCII) never panic, and `compare` is reflexive, antisymmetric
/// and transitive on them.
#[test]
fn packagist_random_strings_are_totally_ordered() {
    const ALPHABET: &[&str] = &[
        "0", "1", "9", "00", ".", "-", "_", "+", "#", "~", " ", "a", "b", "dev", "alpha", "beta",
        "RC", "rc", "pl", "p", "v", "V", "x", "\0", "é", "",
    ];
    let mut rng = Rng::new();
    let mut random = || rng.string_from(ALPHABET);
    for _ in 0..30_000 {
        let (a, b, c) = (random(), random(), random());
        assert_total_on_triple(composer::compare, &a, &b, &c);
    }
    let mut sample: Vec<String> = (0..400).map(|_| random()).collect();
    sample.sort_by(|a, b| composer::compare(a, b));
    assert_sorted(composer::compare, &sample);
}

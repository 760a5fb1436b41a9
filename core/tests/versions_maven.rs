//! Runs every Maven version-ordering vector of the shared corpus (`versions/maven`)
//! against `customs_core::version::maven`, and checks on random strings that the
//! comparison is a total order.
//!
//! Files (see `versions/SOURCES.md`): Maven's own `ComparableVersionTest` transcribed,
//! and osv-scalibr's hand-written and generated vectors, all `a op b` lines. Every file
//! of the folder must be understood by a runner below, so a new file cannot be skipped
//! silently, and the folder must yield a minimum number of checks.
mod vectors;

use customs_core::version::maven::{self, Version};
use std::cmp::Ordering;
use vectors::{Deliberate, Outcome, Rng, assert_total_on_triple, files, name, run_pairs};

/// A vector of osv-scalibr's generated file, which records the answers of
/// maven-artifact 3.8.6 (`semantic/generators/GenerateMavenVersions.java`), from before
/// MNG-7644 (Maven 3.8.7 / 3.9.0). There a qualifier after a dot stayed a plain item of
/// the outer list, ranked against the `0`s and `-` lists beside it; Maven 3.9 parses
/// `.X1` and a trailing `.X` like `-X1` and `-X`.
macro_rules! pre_mng_7644 {
    ($why:literal) => {
        concat!(
            "generated with maven-artifact 3.8.6, before MNG-7644; in Maven 3.9 ",
            $why
        )
    };
}

const GENERATED: &str = "osv-scalibr-maven-versions-generated.txt";
const UPSTREAM: &str = "maven-upstream-comparableversion.txt";

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
/// Each must still fail as listed, so the list cannot go stale.
const DELIBERATE: &[Deliberate] = &[
    (
        UPSTREAM,
        "2-1 < 2.0.a",
        "transcribed from the Maven 3.8 ComparableVersionTest, before MNG-7644, where `2.0.a` \
         was [2, 0, a] and its `0` outranked the list of `2-1`; Maven 3.9 reads `2.0.a` as \
         `2-a`, and `a` < `1`, so its own VERSIONS_NUMBER lists `2.0.a` before `2-1`.",
    ),
    (
        UPSTREAM,
        "2-1 < 2.0.0.a",
        "Maven 3.8 test as above; in Maven 3.9 `2.0.0.a` is `2-a` (MNG-7644), below `2-1`, \
         and its VERSIONS_NUMBER no longer lists it.",
    ),
    (
        UPSTREAM,
        "2.0.a < 2.0.0.a",
        "Maven 3.8 test as above; Maven 3.9 makes both `2-a`: its testMng7644 asserts \
         `2.0.X == 2.0.0.X` (\"previously ordered, now equals\").",
    ),
    (
        GENERATED,
        "1.0.0-RC16 < 1.0.0.RC8-beta",
        pre_mng_7644!("both are `1-rc-N`, and 16 > 8."),
    ),
    (
        GENERATED,
        "1.0.0-gradle-rework-beta3 < 1.0.0.RC7-3",
        pre_mng_7644!("`.RC7` is `-rc-7`, and the known `rc` ranks below the unknown `gradle`."),
    ),
    (
        GENERATED,
        "2.9.0-1 < 2.9.0.RC1",
        pre_mng_7644!("`.RC1` is `-rc-1`, and a qualifier ranks below the number `1`."),
    ),
    (
        GENERATED,
        "6.1.12.rc5 < 6.1.12rc1",
        pre_mng_7644!("both are `6.1.12-rc-N`, and 5 > 1."),
    ),
    (
        GENERATED,
        "1.1.31.sec10 < 1.1.31_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.1.34.sec10 < 1.1.34_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.1.46.sec10 < 1.1.46_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.8.sec10_noneautotype < 1.2.8_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.31.sec10 < 1.2.31_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.48.sec10 < 1.2.48_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.50.sec10 < 1.2.50_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.54.sec10 < 1.2.54_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.57.sec10 < 1.2.57_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.60.sec10 < 1.2.60_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.2.67.sec10 < 1.2.67_noneautotype",
        pre_mng_7644!("`.sec10` is `-sec-10`, and `sec` sorts after `_noneautotype`."),
    ),
    (
        GENERATED,
        "1.0.0rc0 < 1.0.beta8",
        pre_mng_7644!("`1.0.beta8` is `1-beta-8` and `1.0.0rc0` is `1-rc`, and beta < rc."),
    ),
    (
        GENERATED,
        "1.5.9.RC1 < 1.5.9-RC0",
        pre_mng_7644!("`.RC1` is `-rc-1` and `-RC0` is `-rc` (the 0 is trimmed), so RC1 is newer."),
    ),
    (
        GENERATED,
        "1.1.0-01-glassfish < 1.1.0.Beta1",
        pre_mng_7644!("`.Beta1` is `-beta-1`, and a qualifier ranks below the number `01`."),
    ),
    (
        "osv-scalibr-maven-versions.txt",
        "1-1 = 1-ga-1",
        "osv-scalibr's spec-style tokens drop the `ga`; Maven (3.8 and 3.9 alike) trims the \
         `ga` item but keeps the list level it opened, [1, [[1]]] against [1, [1]], and a \
         nested list ranks below the number, so `1-ga-1 < 1-1`.",
    ),
];

#[test]
fn maven_vectors() {
    let mut out = Outcome::new(DELIBERATE);
    for path in files("maven") {
        let file = name(&path);
        match path.extension().and_then(|e| e.to_str()) {
            Some("txt")
                if file.starts_with("maven-upstream-") || file.starts_with("osv-scalibr-") =>
            {
                run_pairs(&mut out, &path, maven::compare)
            }
            _ => panic!("no runner for {}", path.display()),
        }
    }
    out.finish("maven", 15_500);
}

/// Pieces of random versions: digits (also a huge run, zero runs and a non-ASCII
/// decimal digit), the separators, letters and every qualifier and alias Maven knows,
/// in both cases, unknown words, non-ASCII letters and the empty string.
const ALPHABET: &[&str] = &[
    "0",
    "1",
    "2",
    "9",
    "00",
    "10",
    "0000000000",
    "123456789012345678901234",
    ".",
    ".",
    "-",
    "-",
    "_",
    "a",
    "b",
    "m",
    "x",
    "alpha",
    "beta",
    "milestone",
    "rc",
    "cr",
    "snapshot",
    "SNAPSHOT",
    "ga",
    "final",
    "Final",
    "release",
    "sp",
    "SP",
    "redhat",
    "é",
    "İ",
    "٣",
    "𝟙",
    "",
];

/// Reflexivity, antisymmetry and transitivity on random pairs and triples, and
/// agreement of `compare` with `Version`'s `Ord`.
#[test]
fn random_strings_are_totally_ordered() {
    let mut random = Rng::new();
    for _ in 0..40_000 {
        let (a, b, c) = (
            random.string_from(ALPHABET),
            random.string_from(ALPHABET),
            random.string_from(ALPHABET),
        );
        assert_total_on_triple(maven::compare, &a, &b, &c);
        let ab = maven::compare(&a, &b);
        assert_eq!(
            ab,
            Version::parse(&a).cmp(&Version::parse(&b)),
            "{a:?} vs {b:?}"
        );
        assert_eq!(
            ab == Ordering::Equal,
            Version::parse(&a) == Version::parse(&b),
            "{a:?} vs {b:?}"
        );
    }
}

/// Sorts a pool of random versions and checks that every pair agrees with the
/// sorted positions, which holds only if the comparison is a total preorder on the
/// whole pool (random triples rarely meet the few layouts that break transitivity).
#[test]
fn random_pool_sorts_consistently() {
    let mut random = Rng::seeded(0x2545_f491_4f6c_dd1d);
    let mut pool: Vec<Version> = (0..2_500)
        .map(|_| Version::parse(&random.string_from(ALPHABET)))
        .collect();
    pool.sort();
    let mut class = vec![0usize; pool.len()];
    for i in 1..pool.len() {
        class[i] = class[i - 1] + usize::from(pool[i - 1] < pool[i]);
    }
    for i in 0..pool.len() {
        for j in i..pool.len() {
            assert_eq!(
                pool[i].cmp(&pool[j]),
                class[i].cmp(&class[j]),
                "{:?} vs {:?}",
                pool[i],
                pool[j]
            );
        }
    }
}

/// Maven's answers on the layouts where its own comparison is not transitive, and the
/// choice made here: each remainder is first ranked against the release.
#[test]
fn maven_cycles_are_broken_by_the_release_test() {
    let ordered = [
        // Maven: 1.0.alpha.1 < 1 < 1-sp, but 1.0.alpha.1 > 1-sp (number > list).
        ("1.0.alpha.1", "1"),
        ("1", "1-sp"),
        ("1.0.alpha.1", "1-sp"),
        // Maven: 1.2.3-alpha < 1.2.3 < 1.2.3.redhat-1, but 1.2.3.redhat-1 < 1.2.3-alpha
        // (qualifier < list).
        ("1.2.3-alpha", "1.2.3"),
        ("1.2.3", "1.2.3.redhat-1"),
        ("1.2.3-alpha", "1.2.3.redhat-1"),
        // Maven: 2.0.0.beta-1 < 2 < 2-1, but 2.0.0.beta-1 > 2-1.
        ("2.0.0.beta-1", "2"),
        ("2", "2-1"),
        ("2.0.0.beta-1", "2-1"),
        // Unaffected: both sides newer than the release, Maven's rank by kind decides.
        ("1-sp", "1.0.1"),
        ("1-1", "1.0.1"),
        ("1.2.3.redhat-1", "1.2.3-1"),
    ];
    for (low, high) in ordered {
        assert_eq!(maven::compare(low, high), Ordering::Less, "{low} < {high}");
        assert_eq!(
            maven::compare(high, low),
            Ordering::Greater,
            "{high} > {low}"
        );
    }
}

/// Maven 3.9's own test additions for MNG-7644 (`ComparableVersionTest.testMng7644`) and
/// its VERSIONS_NUMBER list as changed by it, which the 3.8 transcription in the corpus
/// predates.
#[test]
fn maven_3_9_mng_7644() {
    for x in [
        "abc",
        "alpha",
        "a",
        "beta",
        "b",
        "def",
        "milestone",
        "m",
        "RC",
    ] {
        let (low, high) = (format!("1.0.0.{x}1"), format!("1.0.0-{x}2"));
        assert_eq!(
            maven::compare(&low, &high),
            Ordering::Less,
            "{low} < {high}"
        );
        for (a, b) in [("2-", "2.0."), ("2-", "2.0.0."), ("2.0.", "2.0.0.")] {
            let (a, b) = (format!("{a}{x}"), format!("{b}{x}"));
            assert_eq!(maven::compare(&a, &b), Ordering::Equal, "{a} = {b}");
        }
    }
    let numbers = [
        "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
        "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
        "11.a", "11b", "11c", "11m",
    ];
    for (i, low) in numbers.iter().enumerate() {
        for high in &numbers[i + 1..] {
            assert_eq!(maven::compare(low, high), Ordering::Less, "{low} < {high}");
        }
    }
}

/// Numbers of any length compare exactly, without overflow.
#[test]
fn huge_numbers() {
    let big = "9".repeat(400);
    let bigger = format!("1{}", "0".repeat(400));
    assert_eq!(maven::compare(&big, &bigger), Ordering::Less);
    assert_eq!(maven::compare(&format!("000{big}"), &big), Ordering::Equal);
    assert_eq!(
        maven::compare(&format!("1.{big}"), &format!("1.{bigger}-rc")),
        Ordering::Less
    );
    let deep = "1-".repeat(10_000);
    assert_eq!(maven::compare(&deep, "1-1"), Ordering::Greater);
}

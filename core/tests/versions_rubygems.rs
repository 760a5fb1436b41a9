//! Runs every RubyGems version vector of the shared corpus (`versions/rubygems`)
//! against `customs_core::version::rubygems`, plus RubyGems' own `Gem::Version` test
//! cases and a property test on random strings.
//!
//! Files (see `versions/SOURCES.md`): osv-scalibr's `a op b` lists, the `-generated`
//! one derived from real gems' version lists sorted by Ruby itself. Every file must be
//! understood by a runner below, so a new file cannot be skipped silently, and the
//! folder must yield a minimum number of checks, so an empty or truncated corpus fails.
mod vectors;

use customs_core::version::rubygems::{self, Segment, Version, compare};
use std::cmp::Ordering;
use vectors::{Deliberate, Rng, assert_total_on_pool, run_pair_folder};

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
/// Each must still fail as listed, so the list cannot go stale. There are none:
/// osv-scalibr's `1 > 1beta` and `1 > 1gamma` compare versions `Gem::Version` rejects
/// (a letter may not follow the first number without a dot), and they hold with
/// invalid versions sorted first.
const DELIBERATE: &[Deliberate] = &[];

#[test]
fn rubygems_vectors() {
    // 4,098 generated pairs and 25 hand-written ones.
    run_pair_folder("rubygems", DELIBERATE, compare, 4_120);
}

fn assert_cmp(a: &str, b: &str, want: Ordering) {
    assert_eq!(compare(a, b), want, "{a:?} vs {b:?}");
    assert_eq!(compare(b, a), want.reverse(), "{b:?} vs {a:?}");
    let (x, y) = (Version::parse(a).unwrap(), Version::parse(b).unwrap());
    assert_eq!(x.cmp(&y), want, "Version {a:?} vs {b:?}");
    assert_eq!(x == y, want == Ordering::Equal, "Version {a:?} == {b:?}");
}

/// The ordering cases of RubyGems' `test/rubygems/test_gem_version.rb`.
#[test]
fn rubygems_own_tests() {
    use Ordering::{Equal, Greater, Less};
    // test_spaceship
    assert_cmp("1.0", "1.0.0", Equal);
    assert_cmp("1.0", "1.0.a", Greater);
    assert_cmp("1.8.2", "0.0.0", Greater);
    assert_cmp("1.8.2", "1.8.2.a", Greater);
    assert_cmp("1.8.2.b", "1.8.2.a", Greater);
    assert_cmp("1.8.2.a", "1.8.2", Less);
    assert_cmp("1.8.2.a10", "1.8.2.a9", Greater);
    assert_cmp("", "0", Equal);
    assert_cmp("0.beta.1", "0.0.beta.1", Equal);
    assert_cmp("0.0.beta", "0.0.beta.1", Less);
    assert_cmp("0.0.beta", "0.beta.1", Less);
    assert_cmp("5.a", "5.0.0.rc2", Less);
    assert_cmp("5.x", "5.0.0.rc2", Greater);
    // test_semver
    for (a, b) in [
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc1", "1.0.0"),
        ("1.0.0-1", "1"),
    ] {
        assert_cmp(a, b, Less);
    }
    // test_equals2, test_hash, test_frozen_version
    assert_cmp("1.2", "1.2", Equal);
    assert_cmp("1.2", "1.3", Less);
    assert_cmp("1.2.b1", "1.2.b.1", Equal);
    assert_cmp("1.2", "1.2.0", Equal);
    assert_cmp("1.2.pre.1", "1.2.0.pre.1.0", Equal);
    assert_cmp("1.freeze.test", "1", Less);
    // test_initialize, test_empty_version
    for good in ["1.0", "1.0 ", " 1.0 ", "1.0\n", "\n1.0\n"] {
        assert_cmp("1.0", good, Equal);
    }
    for empty in ["", "   ", " "] {
        assert_cmp(empty, "0", Equal);
    }
    // test_initialize_invalid, test_class_correct
    for bad in [
        "junk",
        "1.0\n2.0",
        "1..2",
        "1.2 3.4",
        "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
        "an incorrect version",
    ] {
        assert!(Version::parse(bad).is_err(), "{bad:?} accepted");
        assert!(!rubygems::is_valid(bad), "{bad:?} valid");
    }
    assert!(rubygems::is_valid("5.1"));
    // test_prerelease
    for pre in [
        "1.2.0.a",
        "2.9.b",
        "22.1.50.0.d",
        "1.2.d.42",
        "1.A",
        "1-1",
        "1-a",
    ] {
        assert!(Version::parse(pre).unwrap().is_prerelease(), "{pre}");
    }
    for release in ["1.2.0", "2.9", "22.1.50.0"] {
        assert!(
            !Version::parse(release).unwrap().is_prerelease(),
            "{release}"
        );
    }
    // test_canonical_segments
    fn segments(v: &str) -> Vec<Segment<'_>> {
        Version::parse(v).unwrap().segments().to_vec()
    }
    use Segment::{Number as N, Text as T};
    assert_eq!(segments("1.0.0"), [N("1")]);
    assert_eq!(segments("1.0.0.a.1.0"), [N("1"), T("a"), N("1")]);
    assert_eq!(
        segments("1.2.3-1"),
        [N("1"), N("2"), N("3"), T("pre"), N("1")]
    );
    // Older requirement tests (test_ok / test_bad).
    assert_cmp("1.2.003.0.0", "1.02.3", Equal);
    assert_cmp("0.0.0.0.0.2", "0.0.0", Greater);
    assert_cmp("0.0.1.0", "0.0.0.1", Greater);
    assert_cmp("9.3.03", "9.3.2", Greater);
    assert_cmp("1.40", "1.3", Greater);
}

/// Cases the corpus and RubyGems' tests do not pin down, derived from `Gem::Version`'s
/// source.
#[test]
fn edge_cases() {
    use Ordering::{Equal, Greater, Less};
    // The numeric half loses its trailing zeros before the string half starts.
    assert_cmp("1.0.0.a", "1.a", Equal);
    assert_cmp("1.a.0.0", "1.a", Equal);
    assert_cmp("1.a.0.1", "1.a.1", Less);
    // Strings compare by bytes: upper case first.
    assert_cmp("1.B", "1.a", Less);
    assert_cmp("1.Z", "1.a", Less);
    // `-` is `.pre.`, anywhere after the first `-` too.
    assert_cmp("1-a-b", "1.pre.a.pre.b", Equal);
    assert_cmp("1--", "1.pre.pre", Equal);
    assert_cmp("1-2", "1.pre.2", Equal);
    assert_cmp("1.0-rc1", "1.0.rc1", Less);
    // Digits and letters split without a dot; leading zeros are numbers.
    assert_cmp("1.0rc2", "1.0.rc.2", Equal);
    assert_cmp("1.007", "1.7", Equal);
    assert_cmp("1.0a", "1", Less);
    // Exact at any length.
    assert_cmp(
        "1.99999999999999999999999",
        "1.99999999999999999999998",
        Greater,
    );
    assert_cmp("1.00000000000000000000001", "1.1", Equal);
    assert_cmp("18446744073709551616", "18446744073709551615", Greater);
    // Invalid: letters straight after the first number, bad dots and dashes, other
    // characters. They sort before every valid version, and by text among themselves.
    for bad in [
        "1beta",
        "a",
        "a.1",
        ".1",
        "1.",
        "1.-a",
        "1-",
        "1.a-",
        "1-.a",
        "1_0",
        "v1",
        "1+b",
        "1.0 rc",
        "1.é",
        "１.0",
        "\u{a0}1.0",
        "1.0\0",
    ] {
        assert!(!rubygems::is_valid(bad), "{bad:?} valid");
        assert_eq!(compare(bad, "0"), Less, "{bad:?}");
        assert_eq!(compare(bad, ""), Less, "{bad:?}");
    }
    assert_eq!(compare("1beta", "1gamma"), Less);
    assert_eq!(compare("1gamma", "1beta"), Greater);
    assert_eq!(compare("junk", "junk"), Equal);
    // Valid oddities `correct?` accepts.
    for good in ["1.a", "1-A.b-c", "1--", "\t1.0\r\n", "\u{b}1\u{c}", "0"] {
        assert!(rubygems::is_valid(good), "{good:?} invalid");
    }
    assert_eq!(Version::parse(" 1.0 ").unwrap().to_string(), "1.0");
    let err = Version::parse("1beta").unwrap_err();
    assert_eq!(err.input, "1beta");
}

/// Version-shaped random strings for the property test.
impl Rng {
    /// A short random string: mostly a number followed by dot- or dash-separated
    /// words, so that many are valid versions, with whitespace and junk mixed in.
    fn string(&mut self) -> String {
        const WORDS: &[&str] = &[
            "0",
            "1",
            "2",
            "9",
            "00",
            "01",
            "10",
            "99999999999999999999",
            "a",
            "b",
            "a1",
            "pre",
            "rc",
            "A",
            "Z",
            "-",
        ];
        const OTHER: &[&str] = &[
            " ", "\t", "\n", "..", "_", "+", "é", "\u{a0}", "１", "\0", "",
        ];
        let mut s = String::new();
        if !self.next().is_multiple_of(4) {
            s.push_str(self.pick(&["0", "1", "2", "01", "10"]));
        }
        for _ in 0..self.next() % 6 {
            match self.next() % 8 {
                0 => s.push_str(self.pick(OTHER)),
                _ => {
                    s.push_str(self.pick(&[".", ".", "-", ""]));
                    s.push_str(self.pick(WORDS));
                }
            }
        }
        s
    }
}

/// Hostile input: `compare` must be a total order on any strings (reflexive,
/// antisymmetric, transitive), and agree with `Version`'s `Ord` on valid ones.
#[test]
fn random_strings_are_totally_ordered() {
    let mut rng = Rng::new();
    let mut valid = 0;
    for _ in 0..40_000 {
        let (a, b) = (rng.string(), rng.string());
        assert_eq!(compare(&a, &a), Ordering::Equal, "{a:?}");
        let got = compare(&a, &b);
        assert_eq!(got, compare(&b, &a).reverse(), "{a:?} vs {b:?}");
        if let (Ok(x), Ok(y)) = (Version::parse(&a), Version::parse(&b)) {
            assert_eq!(x.cmp(&y), got, "Version {a:?} vs {b:?}");
            valid += 1;
        }
    }
    assert!(valid > 5_000, "only {valid} pairs of valid versions");
    // Transitivity on every triple of a pool: a ≤ b ≤ c implies a ≤ c, strictly
    // unless both steps are equal.
    let pool: Vec<String> = (0..160).map(|_| rng.string()).collect();
    assert_total_on_pool(compare, &pool);
}

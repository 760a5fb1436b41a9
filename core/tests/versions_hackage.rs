//! Runs every Hackage version vector of the shared corpus (`versions/hackage`) against
//! `customs_core::version::hackage`, plus cases derived from `Data.Version` / Cabal and
//! a property test on random strings.
//!
//! Files (see `versions/SOURCES.md`): osv-scalibr's `a op b` list. Every file must be
//! understood by a runner below, so a new file cannot be skipped silently, and the
//! folder must yield a minimum number of checks, so an empty or truncated corpus fails.
mod vectors;

use customs_core::version::hackage::{self, Version, compare};
use std::cmp::Ordering;
use vectors::{Deliberate, Rng, assert_total_on_pool, run_pair_folder};

/// Vectors where our answer deliberately differs from the file: (file, line, reason).
/// Each must still fail as listed, so the list cannot go stale. There are none.
const DELIBERATE: &[Deliberate] = &[];

#[test]
fn hackage_vectors() {
    run_pair_folder("hackage", DELIBERATE, compare, 11);
}

fn assert_cmp(a: &str, b: &str, want: Ordering) {
    assert_eq!(compare(a, b), want, "{a:?} vs {b:?}");
    assert_eq!(compare(b, a), want.reverse(), "{b:?} vs {a:?}");
    let (x, y) = (Version::parse(a).unwrap(), Version::parse(b).unwrap());
    assert_eq!(x.cmp(&y), want, "Version {a:?} vs {b:?}");
    assert_eq!(x == y, want == Ordering::Equal, "Version {a:?} == {b:?}");
}

/// Cases the corpus does not pin down, following `Data.Version`'s `Ord` (a comparison
/// of `[Int]` lists).
#[test]
fn edge_cases() {
    use Ordering::{Equal, Greater, Less};
    // Lists compare lexicographically; a proper prefix sorts first.
    assert_cmp("1.0", "1.0.0", Less);
    assert_cmp("1", "1.0", Less);
    assert_cmp("0.9.9.9", "1", Less);
    assert_cmp("1.10", "1.9", Greater);
    assert_cmp("2.0.0.1", "2.0.1", Less);
    // Leading zeros are read as numbers (`Data.Version.parseVersion`).
    assert_cmp("1.01", "1.1", Equal);
    assert_cmp("00.1", "0.1", Equal);
    // Exact at any length, where an `Int` would overflow.
    assert_cmp(
        "1.99999999999999999999999",
        "1.99999999999999999999998",
        Greater,
    );
    assert_cmp("1.00000000000000000000001", "1.1", Equal);
    assert_cmp("9223372036854775808", "9223372036854775807", Greater);
    let v = Version::parse("0.010.0").unwrap();
    assert_eq!(v.as_str(), "0.010.0");
    assert_eq!(v.components().collect::<Vec<_>>(), ["0", "10", "0"]);
    // Invalid: tags, empty components, other separators, letters, spaces, non-ASCII
    // digits. They sort before every valid version, and by text among themselves.
    for bad in [
        "", "1.", ".1", "1..2", "1.0-beta", "1-2", "1.0a", "v1", " 1", "1 ", "1_0", "1,0", "-1",
        "+1", "١.٠", "1.0\n",
    ] {
        assert!(!hackage::is_valid(bad), "{bad:?} valid");
        assert!(Version::parse(bad).is_err(), "{bad:?} accepted");
        assert_eq!(compare(bad, "0"), Less, "{bad:?}");
    }
    assert_eq!(compare("1.0-alpha", "1.0-beta"), Less);
    assert_eq!(compare("junk", "junk"), Equal);
    let err = Version::parse("1.0-beta").unwrap_err();
    assert_eq!(err.input, "1.0-beta");
}

/// Version-shaped random strings for the property test.
impl Rng {
    /// A short random string; dots usually follow a number, so that many are valid
    /// versions.
    fn string(&mut self) -> String {
        const NUMBERS: &[&str] = &["0", "1", "2", "9", "00", "01", "10", "99999999999999999999"];
        const OTHER: &[&str] = &[
            ".", "-", "..", "a", "-beta", " ", "_", "é", "١", "\u{a0}", "",
        ];
        let mut s = String::new();
        for _ in 0..self.next() % 6 {
            match self.next() % 8 {
                0 => s.push_str(self.pick(OTHER)),
                _ => {
                    s.push_str(self.pick(NUMBERS));
                    if !self.next().is_multiple_of(3) {
                        s.push('.');
                    }
                }
            }
        }
        if !self.next().is_multiple_of(4) {
            s.push_str(self.pick(NUMBERS));
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

//! Pub (Dart) version ordering, with the semantics of dart-lang's `pub_semver`
//! (`Version.parse` and `Version.compareTo`).
//!
//! A pub version is `MAJOR.MINOR.PATCH[-pre][+build]`, where `pre` and `build` are
//! dot-separated identifiers of `[0-9A-Za-z-]`. It orders like SemVer, with pub's
//! own rules where they differ:
//! - the three numbers compare numerically (leading zeros allowed: `01.2.3 = 1.2.3`);
//! - a version with a pre-release is older than the same version without one;
//! - pre-release and build identifiers are split at dots and each one that Dart's
//!   `int.tryParse` accepts is a number: numbers compare numerically and before
//!   strings, strings compare by code unit (case-sensitively: `a.R2 < a.r100 < a.r2`),
//!   and a shorter list that is a prefix of a longer one is older. `int.tryParse`
//!   reads more than SemVer's digits: leading zeros (`01 = 1`), a sign (`-1`) and a
//!   `0x` hexadecimal prefix, within 64 bits (beyond that the identifier stays a
//!   string; a `0x` value up to 2^64 − 1 wraps to a negative number, as on the Dart VM);
//! - unlike SemVer, build metadata is ordered too: no build is older than any build,
//!   and builds compare as lists like pre-releases (`1.2.3+1 < 1.2.3+a`).
//!
//! `Version.parse` rejects a `v` prefix, fewer than three numbers and numbers beyond
//! 64 bits. Such strings still get a place that agrees with how osv-scalibr reads
//! them (its vectors compare them): [`Version::parse_lenient`] accepts an optional `v`
//! and one to three numbers of any size, missing ones 0 (`v1.2 = 1.2.0`), and
//! [`compare`] uses it. Anything else is invalid: invalid versions sort before every
//! valid one, and among themselves by their text, so [`compare`] is a total order on
//! any input. Numbers are compared exactly at any length. Nothing here allocates.
use std::cmp::Ordering;
use thiserror::Error;

/// Why a string is not a valid pub version.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid pub version {input:?}: expected MAJOR.MINOR.PATCH[-pre][+build]")]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
}

/// A parsed pub version, borrowing from its input.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    /// The three numbers' digits without leading zeros (empty for 0).
    numbers: [&'a str; 3],
    pre: Option<&'a str>,
    build: Option<&'a str>,
}

impl<'a> Version<'a> {
    /// Parses `input` with `pub_semver`'s rules: exactly three numbers, each within
    /// Dart's 64-bit `int`, no prefix.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        parse(input, false).ok_or_else(|| error(input))
    }

    /// Parses `input` like [`Version::parse`], also accepting what osv-scalibr
    /// accepts: a leading `v`, one or two numbers (the missing ones are 0), numbers of
    /// any size.
    pub fn parse_lenient(input: &'a str) -> Result<Self, VersionError> {
        parse(input, false)
            .or_else(|| parse(input, true))
            .ok_or_else(|| error(input))
    }

    /// The pre-release identifiers, joined by dots.
    pub fn pre_release(&self) -> Option<&'a str> {
        self.pre
    }

    /// The build identifiers, joined by dots.
    pub fn build(&self) -> Option<&'a str> {
        self.build
    }

    /// Whether the version has a pre-release part.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

fn error(input: &str) -> VersionError {
    VersionError {
        input: input.to_string(),
    }
}

fn split_digits(s: &str) -> (&str, &str) {
    s.split_at(s.bytes().take_while(u8::is_ascii_digit).count())
}

/// Whether `s` is one or more dot-separated non-empty runs of `[0-9A-Za-z-]`, the
/// identifier lists of `pub_semver`'s version pattern.
fn identifiers(s: &str) -> bool {
    s.split('.')
        .all(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
}

/// Whether the digits `d` (without leading zeros) fit Dart's 64-bit `int`, as
/// `int.parse` requires of the three numbers.
fn fits_i64(d: &str) -> bool {
    const MAX: &str = "9223372036854775807";
    d.len() < MAX.len() || (d.len() == MAX.len() && d <= MAX)
}

fn parse(input: &str, lenient: bool) -> Option<Version<'_>> {
    let mut rest = input;
    if lenient {
        rest = rest.strip_prefix('v').unwrap_or(rest);
    }
    let mut numbers = [""; 3];
    let mut count = 0;
    loop {
        let (digits, after) = split_digits(rest);
        if digits.is_empty() {
            return None;
        }
        let digits = digits.trim_start_matches('0');
        if !lenient && !fits_i64(digits) {
            return None;
        }
        numbers[count] = digits;
        count += 1;
        rest = after;
        if count == 3 || !rest.starts_with('.') {
            break;
        }
        rest = &rest[1..];
    }
    if count < 3 && !lenient {
        return None;
    }
    let (pre, build) = match rest.as_bytes().first() {
        None => (None, None),
        Some(b'-') => match rest[1..].split_once('+') {
            Some((pre, build)) => (Some(pre), Some(build)),
            None => (Some(&rest[1..]), None),
        },
        Some(b'+') => (None, Some(&rest[1..])),
        Some(_) => return None,
    };
    if !pre.is_none_or(identifiers) || !build.is_none_or(identifiers) {
        return None;
    }
    Some(Version {
        numbers,
        pre,
        build,
    })
}

/// One pre-release or build identifier, as `pub_semver` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identifier<'a> {
    Number(i64),
    Text(&'a str),
}

impl<'a> Identifier<'a> {
    fn new(id: &'a str) -> Self {
        dart_int_try_parse(id).map_or(Identifier::Text(id), Identifier::Number)
    }
}

/// Numbers before strings, as `_compareLists` orders two identifiers.
impl Ord for Identifier<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Number(a), Identifier::Number(b)) => a.cmp(b),
            (Identifier::Number(_), Identifier::Text(_)) => Ordering::Less,
            (Identifier::Text(_), Identifier::Number(_)) => Ordering::Greater,
            // Identifiers are ASCII, so bytes order like Dart's UTF-16 code units.
            (Identifier::Text(a), Identifier::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Dart's `int.tryParse(s)` (no radix, Dart VM) on an identifier, which holds only
/// `[0-9A-Za-z-]`: an optional `-`, then decimal digits, or `0x`/`0X` and hex
/// digits. Decimal values must fit 64 bits; a positive hex value may go up to
/// 2^64 − 1 and wraps to a negative `int`.
fn dart_int_try_parse(s: &str) -> Option<i64> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.as_bytes()),
        None => (false, s.as_bytes()),
    };
    let (radix, digits) = match body {
        [b'0', x, rest @ ..] if *x | 0x20 == b'x' => (16, rest),
        _ => (10, body),
    };
    if digits.is_empty() {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &c in digits {
        let digit = char::from(c).to_digit(radix)?;
        magnitude = magnitude
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
    }
    const SIGN_BIT: u64 = 1 << 63;
    match (negative, radix) {
        (true, _) if magnitude <= SIGN_BIT => Some((magnitude as i64).wrapping_neg()),
        (false, 10) if magnitude < SIGN_BIT => Some(magnitude as i64),
        (false, 16) => Some(magnitude as i64),
        _ => None,
    }
}

/// `_compareLists`: identifier by identifier; a list that runs out first is older.
fn compare_identifiers(a: &str, b: &str) -> Ordering {
    a.split('.')
        .map(Identifier::new)
        .cmp(b.split('.').map(Identifier::new))
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let numbers = (0..3).map(|i| super::digits::compare(self.numbers[i], other.numbers[i]));
        numbers
            .fold(Ordering::Equal, Ordering::then)
            // A pre-release is older than its release.
            .then_with(|| match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => compare_identifiers(a, b),
            })
            // Any build is newer than none.
            .then_with(|| match (self.build, other.build) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => compare_identifiers(a, b),
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version<'_> {}

/// Whether `pub_semver`'s `Version.parse` accepts `version`.
pub fn is_valid(version: &str) -> bool {
    Version::parse(version).is_ok()
}

/// Compares two pub versions as `Version.compareTo` does, reading what pub rejects
/// with [`Version::parse_lenient`]. Total on any input: versions neither reading
/// accepts sort before every other, and among themselves by their text.
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, |v| Version::parse_lenient(v).ok())
}

//! RubyGems version ordering, following `Gem::Version` (`lib/rubygems/version.rb`):
//! `correct?` for validity, `canonical_segments` and `<=>` for the order.
//!
//! A valid version matches
//! `\s*([0-9]+(\.[0-9A-Za-z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*`: a run of
//! digits, then dot-separated alphanumeric pieces, then optionally a `-` and
//! dot-separated pieces that may contain `-` too (`1beta` is malformed; `1.0a`,
//! `1.beta` and `1-beta` are not). An empty or blank version is valid and means `0`.
//! Surrounding ASCII whitespace (Ruby's `\s`, vertical tab included) is stripped.
//!
//! Each `-` is read as `.pre.` (so `1.0.0-rc1` is a pre-release of `1.0.0`). The string
//! is then cut into segments: every run of digits is a number, every run of letters a
//! string, and dots only separate (`1.0.a10` and `1.0.a.10` are both `1, 0, "a", 10`).
//! Segments are canonicalised by splitting them before the first string segment and
//! dropping trailing zeros from each half (`1.0.0.a.1.0` is `1, "a", 1`), which makes
//! `1.0 = 1` and `1.0.0.a = 1.a`.
//!
//! Two versions compare segment by segment, a missing segment counting as `0`:
//! numbers numerically, strings by bytes (upper case before lower case, as Ruby's
//! `String#<=>`), and a string before any number. So a version with letters (a
//! pre-release) sorts before the release it prefixes: `1.0.a < 1.0 < 1.0.1`.
//! Numbers compare exactly at any length, as Ruby's `Integer` does.
//!
//! [`compare`] is total on any input: versions `Gem::Version` would reject (it raises
//! `ArgumentError`) sort before every valid one, and among themselves by their bytes.
use super::digits;
use std::cmp::Ordering;
use std::fmt;
use thiserror::Error;

/// Why a string is not a valid RubyGems version ("Malformed version number string").
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed RubyGems version {input:?}")]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
}

/// One canonical segment of a version, borrowing the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A run of digits, without leading zeros (`0` for zero).
    Number(&'a str),
    /// A run of ASCII letters, or `pre` for a `-`.
    Text(&'a str),
}

/// The value of a segment a version does not have.
const ZERO: Segment<'static> = Segment::Number("0");

impl Segment<'_> {
    fn is_zero(&self) -> bool {
        *self == ZERO
    }
}

/// Strings before numbers (that is what makes letters mean "pre-release"), numbers by
/// value at any length, strings by bytes.
impl Ord for Segment<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Segment::Number(a), Segment::Number(b)) => digits::compare(a, b),
            (Segment::Text(a), Segment::Text(b)) => a.cmp(b),
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Segment<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Number(s) | Segment::Text(s) => f.write_str(s),
        }
    }
}

/// A valid RubyGems version: its text (whitespace stripped) and canonical segments.
///
/// Equality and ordering are `Gem::Version#<=>`'s (`1.0` equals `1`, `1.2.b1` equals
/// `1.2.b.1`), not textual.
#[derive(Debug, Clone)]
pub struct Version<'a> {
    text: &'a str,
    segments: Vec<Segment<'a>>,
}

/// Ruby's `\s` (and what `String#strip` removes from a version that passed `correct?`).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Length of the leading run of bytes satisfying `pred`.
fn run(s: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&c| !pred(c)).unwrap_or(s.len())
}

/// `Gem::Version.correct?` on a string already stripped of surrounding whitespace:
/// `([0-9]+(\.[0-9A-Za-z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?`. Checked in one
/// pass without backtracking: the character after each run (`.`, `-` or the end)
/// decides which part of the pattern comes next, so there is never a choice to undo.
fn is_valid_core(s: &str) -> bool {
    let s = s.as_bytes();
    if s.is_empty() {
        return true;
    }
    let mut i = run(s, |c| c.is_ascii_digit());
    if i == 0 {
        return false;
    }
    while s.get(i) == Some(&b'.') {
        let n = run(&s[i + 1..], |c| c.is_ascii_alphanumeric());
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    match s.get(i) {
        None => true,
        Some(b'-') => s[i + 1..].split(|&c| c == b'.').all(|piece| {
            !piece.is_empty()
                && piece
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        }),
        Some(_) => false,
    }
}

/// Drops the trailing zero numbers of `segments`, but none before index `from`.
fn drop_trailing_zeros(segments: &mut Vec<Segment<'_>>, from: usize) {
    while segments.len() > from && segments.last().is_some_and(Segment::is_zero) {
        segments.pop();
    }
}

/// The canonical segments of a valid, stripped version (`canonical_segments`).
fn canonical_segments(text: &str) -> Vec<Segment<'_>> {
    let bytes = text.as_bytes();
    let mut out: Vec<Segment<'_>> = Vec::new();
    // Index in `out` of the first string segment, where the numeric half ends.
    let mut string_start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let (segment, len) = if c.is_ascii_digit() {
            let n = run(&bytes[i..], |c| c.is_ascii_digit());
            (
                Segment::Number(digits::without_leading_zeros(&text[i..i + n])),
                n,
            )
        } else if c.is_ascii_alphabetic() {
            let n = run(&bytes[i..], |c| c.is_ascii_alphabetic());
            (Segment::Text(&text[i..i + n]), n)
        } else {
            // `.` separates only; `-` is read as `.pre.`.
            i += 1;
            if c != b'-' {
                continue;
            }
            (Segment::Text("pre"), 0)
        };
        i += len;
        if matches!(segment, Segment::Text(_)) && string_start.is_none() {
            // The numeric half is complete: drop its trailing zeros now.
            drop_trailing_zeros(&mut out, 0);
            string_start = Some(out.len());
        }
        out.push(segment);
    }
    drop_trailing_zeros(&mut out, string_start.unwrap_or(0));
    out
}

impl<'a> Version<'a> {
    /// Parses `input` as `Gem::Version.new` does, rejecting what it would reject.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        Self::parse_valid(input).ok_or_else(|| VersionError {
            input: input.to_string(),
        })
    }

    fn parse_valid(input: &'a str) -> Option<Self> {
        let text = input.trim_matches(is_space);
        is_valid_core(text).then(|| Version {
            text,
            segments: canonical_segments(text),
        })
    }

    /// The version as written, without surrounding whitespace (and before `-` is read
    /// as `.pre.`); empty for the blank version `0`.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The canonical segments that ordering uses.
    pub fn segments(&self) -> &[Segment<'a>] {
        &self.segments
    }

    /// `prerelease?`: the version contains a letter (a `-` counts, being `.pre.`).
    pub fn is_prerelease(&self) -> bool {
        self.text
            .bytes()
            .any(|c| c.is_ascii_alphabetic() || c == b'-')
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.segments, &other.segments);
        for i in 0..a.len().max(b.len()) {
            let x = a.get(i).unwrap_or(&ZERO);
            let y = b.get(i).unwrap_or(&ZERO);
            match x.cmp(y) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        Ordering::Equal
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

impl fmt::Display for Version<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

/// Compares two RubyGems versions as `Gem::Version#<=>` does. Total on any input: a
/// version `Gem::Version` rejects sorts before every valid one, and such versions
/// among themselves by their bytes, so that malformed advisory data still has one
/// deterministic place.
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, Version::parse_valid)
}

/// Whether `version` is one `Gem::Version.correct?` accepts.
pub fn is_valid(version: &str) -> bool {
    is_valid_core(version.trim_matches(is_space))
}

//! CRAN (R) version ordering, following R's `package_version` / `numeric_version`
//! (`base/R/version.R`): a version is a list of non-negative integers separated by
//! single `.` or `-` characters, the two separators being interchangeable
//! (`1.0-0 = 1.0.0`), and versions compare as those integer lists, lexicographically,
//! with a proper prefix sorting first (`1.8 < 1.8.0`, as R answers).
//!
//! Components are read as numbers (`0.01 = 0.1`, `0.9 < 0.75`, as R's `as.integer`
//! does) and compare exactly at any length, where R would turn a component beyond
//! `.Machine$integer.max` into `NA`.
//!
//! The grammar is `numeric_version`'s, `([0-9]+[.-])*[0-9]+`, with no surrounding
//! whitespace. `package_version` additionally demands two components; a single number
//! is still accepted here, because advisories write `0` for "every version" and a bare
//! `2` must then sort after `1.9`. [`Version::is_package_version`] tells them apart.
//!
//! [`compare`] is total on any input: invalid versions sort before every valid one,
//! and among themselves by their bytes. Comparing does not allocate.
use super::digits;
use std::cmp::Ordering;
use std::fmt;
use thiserror::Error;

/// Why a string is not a valid CRAN version.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid CRAN version {input:?}: expected digits separated by single '.' or '-'")]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
}

/// A valid CRAN version, borrowing its input.
///
/// Equality and ordering are R's (`1.0-0` equals `1.00.0`), not textual.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a>(&'a str);

fn is_separator(c: char) -> bool {
    c == '.' || c == '-'
}

impl<'a> Version<'a> {
    /// Accepts `([0-9]+[.-])*[0-9]+`, R's `valid_numeric_version`.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        if is_valid(input) {
            Ok(Version(input))
        } else {
            Err(VersionError {
                input: input.to_string(),
            })
        }
    }

    /// The version as written.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Whether R's `package_version` itself would accept this version: it needs at
    /// least two components (`1.0`, not `1`).
    pub fn is_package_version(&self) -> bool {
        self.0.contains(is_separator)
    }

    /// The components as decimal digit strings without leading zeros (`0` for zero),
    /// so that two equal versions yield the same components.
    pub fn components(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .split(is_separator)
            .map(digits::without_leading_zeros)
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Lists of numbers; a proper prefix is the smaller list.
        let numbers = |v: &Self| v.0.split(is_separator).map(digits::sort_key);
        numbers(self).cmp(numbers(other))
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
        f.write_str(self.0)
    }
}

/// Compares two CRAN versions. Total on any input: an invalid version sorts before
/// every valid one, and invalid versions among themselves by their bytes, so that
/// malformed advisory data still has one deterministic place.
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, |v| is_valid(v).then_some(Version(v)))
}

/// Whether `version` is a valid CRAN version: `([0-9]+[.-])*[0-9]+`.
pub fn is_valid(version: &str) -> bool {
    version
        .split(is_separator)
        .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
}

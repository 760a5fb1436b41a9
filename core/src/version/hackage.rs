//! Hackage (Haskell) version ordering, following `Data.Version`'s `Ord` and Cabal's
//! `Distribution.Types.Version`: a version is a non-empty list of non-negative integers
//! written with dots (`1.2.0.3`), and versions compare as those integer lists,
//! lexicographically, with a proper prefix sorting first (`1.0 < 1.0.0`, as the PVP
//! intends: trailing zeros are significant).
//!
//! Where the Haskell parsers disagree, the choice here is the one that lets the
//! comparator order every version some Haskell tool would accept, and nothing else:
//! - leading zeros are read as numbers, as `Data.Version.parseVersion` does
//!   (`1.01 = 1.1`); Cabal rejects them, so no Hackage release contains one;
//! - components of any length compare exactly, where Cabal caps them at nine digits
//!   and `Data.Version` would overflow an `Int`;
//! - tags (`1.0-beta`) make a version invalid: Hackage refuses them on upload, Cabal
//!   only parses them to discard them, and osv-scalibr rejects them too.
//!
//! [`compare`] is total on any input: invalid versions sort before every valid one,
//! and among themselves by their bytes. Comparing does not allocate.
use super::digits;
use std::cmp::Ordering;
use std::fmt;
use thiserror::Error;

/// Why a string is not a valid Hackage version.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid Hackage version {input:?}: expected digits{{.digits}}")]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
}

/// A valid Hackage version, borrowing its input.
///
/// Equality and ordering are numeric (`1.01` equals `1.1`), not textual.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a>(&'a str);

impl<'a> Version<'a> {
    /// Accepts `digits{.digits}` with no surrounding whitespace, as Cabal's parser does.
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

    /// The components as decimal digit strings without leading zeros (`0` for zero),
    /// so that two equal versions yield the same components.
    pub fn components(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0.split('.').map(digits::without_leading_zeros)
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Lists of numbers; a proper prefix is the smaller list.
        let numbers = |v: &Self| v.0.split('.').map(digits::sort_key);
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

/// Compares two Hackage versions. Total on any input: an invalid version sorts before
/// every valid one, and invalid versions among themselves by their bytes, so that
/// malformed advisory data still has one deterministic place.
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, |v| is_valid(v).then_some(Version(v)))
}

/// Whether `version` is a valid Hackage version: `digits{.digits}`.
pub fn is_valid(version: &str) -> bool {
    version
        .split('.')
        .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
}

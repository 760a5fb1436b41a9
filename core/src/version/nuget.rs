//! NuGet version ordering, with the semantics of NuGet.Versioning's `NuGetVersion`
//! (`NuGetVersion.TryParse` and `VersionComparer.Default`).
//!
//! A NuGet version is `N[.N[.N[.N]]][-label{.label}][+metadata]`:
//! - the numbers are read by `System.Version.TryParse`, which needs two to four
//!   components (NuGet appends `.0` to a lone number), each a non-negative 32-bit
//!   integer as `int.TryParse` reads it, so leading zeros and surrounding ASCII white
//!   space are accepted (`1.0.01 = 1.0.1`, `1. 0 = 1.0`); missing components
//!   are 0, so `1.0 = 1.0.0.0` and the legacy fourth part compares like the others;
//! - release labels are SemVer 2.0 identifiers (`[0-9A-Za-z-]`, no leading zero in a
//!   numeric one). They compare one by one: a label `int.TryParse` accepts (which
//!   includes negative ones such as `-1`) compares numerically and before any other,
//!   the rest compare ordinally ignoring case (`1.0.0-BETA = 1.0.0-beta`); a version
//!   without labels is newer than one with, and a shorter label list is older;
//! - build metadata must be well formed but never takes part in the order
//!   (`1.0.0+AA = 1.0.0+bb`), as in `VersionComparison.Default`.
//!
//! The whole input is trimmed first, as `TryParse` does. A string NuGet rejects is
//! still ordered: invalid versions sort before every valid one, and among themselves
//! by their text (byte order), so [`compare`] is a total order on any input. Nothing
//! here allocates.
use std::cmp::Ordering;
use thiserror::Error;

/// Why a string is not a valid NuGet version.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid NuGet version {input:?}: expected N[.N[.N[.N]]][-label{{.label}}][+metadata]")]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
}

/// A parsed NuGet version, borrowing its labels and metadata from the input.
///
/// Equality and order follow `VersionComparer.Default`: metadata is ignored and labels
/// compare case-insensitively, so two versions may be equal with different text.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    numbers: [u32; 4],
    release: Option<&'a str>,
    metadata: Option<&'a str>,
}

impl<'a> Version<'a> {
    /// Parses `input` the way `NuGetVersion.TryParse` does.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        Self::parse_trimmed(input.trim()).ok_or_else(|| VersionError {
            input: input.to_string(),
        })
    }

    fn parse_trimmed(s: &'a str) -> Option<Self> {
        // NuGet splits at the first `-` or `+`. A separator that ends the string is
        // kept in the part before it (NuGet's `ParseSections`), which then fails to
        // parse; the same happens to a `+` ending the labels.
        let (numbers, release, metadata) = match s.find(['-', '+']) {
            None => (s, None, None),
            Some(i) if i + 1 == s.len() => return None,
            Some(i) if s.as_bytes()[i] == b'+' => (&s[..i], None, Some(&s[i + 1..])),
            Some(i) => {
                let rest = &s[i + 1..];
                match rest.find('+') {
                    Some(j) if j + 1 == rest.len() => return None,
                    Some(j) => (&s[..i], Some(&rest[..j]), Some(&rest[j + 1..])),
                    None => (&s[..i], Some(rest), None),
                }
            }
        };
        if numbers.is_empty() {
            return None;
        }
        let numbers = system_version(numbers)?;
        if let Some(release) = release
            && !release.split('.').all(|label| valid_part(label, false))
        {
            return None;
        }
        if let Some(metadata) = metadata
            && !metadata.split('.').all(|part| valid_part(part, true))
        {
            return None;
        }
        Some(Version {
            numbers,
            release,
            metadata,
        })
    }

    /// Major, minor, patch and revision, missing ones read as 0.
    pub fn numbers(&self) -> [u32; 4] {
        self.numbers
    }

    /// The release labels joined by dots, if this is a pre-release.
    pub fn release(&self) -> Option<&'a str> {
        self.release
    }

    /// The build metadata, which takes no part in the order.
    pub fn metadata(&self) -> Option<&'a str> {
        self.metadata
    }

    /// Whether the version has release labels.
    pub fn is_prerelease(&self) -> bool {
        self.release.is_some()
    }
}

/// `System.Version.TryParse` on NuGet's number part: two to four components, each a
/// non-negative `int`. NuGet appends `.0` to a lone number, so one component passes.
fn system_version(s: &str) -> Option<[u32; 4]> {
    let mut numbers = [0u32; 4];
    for (i, component) in s.split('.').enumerate() {
        *numbers.get_mut(i)? = version_component(component.as_bytes())?;
    }
    Some(numbers)
}

/// .NET's white space for number parsing (`NumberStyles.AllowLeadingWhite`).
fn is_dotnet_white(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// One `System.Version` component: `int.TryParse(s, NumberStyles.Integer,
/// CultureInfo.InvariantCulture)` and not negative. `NumberStyles.Integer` allows
/// white space around the number, and .NET's parser also accepts trailing NUL
/// characters, so ` 1 ` is valid. It also allows a sign, but NuGet has already cut
/// the string at its first `-` or `+`, so none can reach here.
fn version_component(s: &[u8]) -> Option<u32> {
    let start = s
        .iter()
        .position(|&c| !is_dotnet_white(c))
        .unwrap_or(s.len());
    int32_digits(&s[start..])
}

/// Digits (at least one), then optional .NET white space, then optional NULs; the
/// value must fit an `int`.
fn int32_digits(s: &[u8]) -> Option<u32> {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let tail = &s[digits..];
    let white = tail.iter().take_while(|&&c| is_dotnet_white(c)).count();
    if !tail[white..].iter().all(|&c| c == 0) {
        return None;
    }
    let mut value: u32 = 0;
    for &c in &s[..digits] {
        value = value.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
        if value > i32::MAX as u32 {
            return None;
        }
    }
    Some(value)
}

/// NuGet's `IsValidPart`: a non-empty run of `[0-9A-Za-z-]`, and, for release labels
/// (`allow_leading_zeros == false`), no all-digit label with a leading zero.
fn valid_part(s: &str, allow_leading_zeros: bool) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-') {
        return false;
    }
    allow_leading_zeros || b.len() == 1 || b[0] != b'0' || !b.iter().all(u8::is_ascii_digit)
}

/// A release label as `int.TryParse` sees it: an optional `-` and digits that fit an
/// `int`. Labels hold only `[0-9A-Za-z-]`, so no other sign or white space can occur.
fn numeric_label(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.as_bytes()),
        None => (false, s.as_bytes()),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let limit: i64 = if negative { 1 << 31 } else { (1 << 31) - 1 };
    let mut value: i64 = 0;
    for &c in digits {
        value = value * 10 + i64::from(c - b'0');
        if value > limit {
            return None;
        }
    }
    Some(if negative { -value } else { value })
}

/// `VersionComparer.CompareRelease`: numbers numerically and before words, words
/// ordinally ignoring case.
fn compare_label(a: &str, b: &str) -> Ordering {
    match (numeric_label(a), numeric_label(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| match (self.release, other.release) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => {
                    let (mut a, mut b) = (a.split('.'), b.split('.'));
                    loop {
                        match (a.next(), b.next()) {
                            (None, None) => return Ordering::Equal,
                            (None, Some(_)) => return Ordering::Less,
                            (Some(_), None) => return Ordering::Greater,
                            (Some(x), Some(y)) => match compare_label(x, y) {
                                Ordering::Equal => {}
                                unequal => return unequal,
                            },
                        }
                    }
                }
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

/// Whether NuGet accepts `version`.
pub fn is_valid(version: &str) -> bool {
    Version::parse(version).is_ok()
}

/// Compares two NuGet versions as `VersionComparer.Default` does. Total on any input:
/// invalid versions sort before every valid one, and among themselves by their text.
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, |v| Version::parse(v).ok())
}

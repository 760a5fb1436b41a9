//! dpkg version ordering: `[epoch:]upstream_version[-debian_revision]`.
//!
//! The ordering is dpkg's own (`verrevcmp` in `lib/dpkg/version.c`, documented in
//! deb-version(7)): epochs compare numerically, then the upstream version, then the
//! revision, each with the same algorithm. That algorithm alternates between a run of
//! non-digits, compared character by character with `~` before everything (even the
//! end of the string), then the end, then letters, then all other characters; and a
//! run of digits, compared numerically.
//!
//! Two entry points exist because scanners meet two kinds of input. [`Version::parse`]
//! is dpkg's strict syntax check (its hard errors *and* its warnings), for callers that
//! want to reject junk such as an advisory with a malformed fixed version.
//! [`Version::parse_lenient`] and [`compare`] never fail: the versions in an installed
//! `status` file were accepted by dpkg when installed, and a scanner must still order a
//! version that today's dpkg would only warn about. Neither allocates: a [`Version`]
//! borrows slices of its input.
use std::cmp::Ordering;
use std::fmt;
use thiserror::Error;

/// The largest epoch dpkg accepts (`INT_MAX`): a larger one is "too big".
pub const MAX_EPOCH: u32 = i32::MAX as u32;

/// Why a string is not a valid dpkg version. Renders as one line with the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid dpkg version {input:?}: {reason}")]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
    /// dpkg's own wording of the problem.
    pub reason: &'static str,
}

/// A dpkg version split into its three parts, borrowing the input.
///
/// Equality and ordering are dpkg's (`1.0-1` equals `0:1.00-1`), not textual.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    epoch: u32,
    upstream: &'a str,
    revision: &'a str,
}

/// The characters dpkg accepts without a warning in the upstream version.
fn upstream_char_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'~' | b':')
}

/// The characters dpkg accepts without a warning in the Debian revision.
fn revision_char_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'~')
}

/// C `isspace`: dpkg trims these around a version (VT included, unlike Rust's
/// `is_ascii_whitespace`).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

impl<'a> Version<'a> {
    /// Parses `input` with dpkg's rules, treating dpkg's warnings (upstream version not
    /// starting with a digit, characters outside the allowed sets) as errors, since a
    /// version that draws a warning is not one a well-formed source would produce.
    ///
    /// Surrounding whitespace is ignored, as dpkg does. A trailing hyphen with an empty
    /// revision (`1.0-`) is rejected, as dpkg has done since 1.19 and `Dpkg::Version`
    /// does; older dpkg accepted it as "no revision", and [`Version::parse_lenient`]
    /// still does.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        let fail = |reason: &'static str| VersionError {
            input: input.to_string(),
            reason,
        };
        let s = input.trim_start_matches(is_space);
        if s.is_empty() {
            return Err(fail("version string is empty"));
        }
        let end = s.find(is_space).unwrap_or(s.len());
        if !s[end..].trim_start_matches(is_space).is_empty() {
            return Err(fail("version string has embedded spaces"));
        }
        let s = &s[..end];

        let (epoch, rest) = match s.find(':') {
            Some(colon) => {
                let digits = &s[..colon];
                let epoch = if digits.is_empty() {
                    return Err(fail("epoch in version is empty"));
                } else if let Some(neg) = digits.strip_prefix('-')
                    && !neg.is_empty()
                    && neg.bytes().all(|c| c.is_ascii_digit())
                {
                    return Err(fail("epoch in version is negative"));
                } else if !digits.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(fail("epoch in version is not number"));
                } else {
                    parse_epoch(digits).ok_or_else(|| fail("epoch in version is too big"))?
                };
                let rest = &s[colon + 1..];
                if rest.is_empty() {
                    return Err(fail("nothing after colon in version number"));
                }
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rfind('-') {
            Some(hyphen) => (&rest[..hyphen], &rest[hyphen + 1..]),
            None => (rest, ""),
        };
        if rest.ends_with('-') {
            return Err(fail("revision number is empty"));
        }
        if upstream.is_empty() {
            return Err(fail("version number is empty"));
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err(fail("version number does not start with digit"));
        }
        if !upstream.bytes().all(upstream_char_ok) {
            return Err(fail("invalid character in version number"));
        }
        if !revision.bytes().all(revision_char_ok) {
            return Err(fail("invalid character in revision number"));
        }
        Ok(Version {
            epoch,
            upstream,
            revision,
        })
    }

    /// Splits `input` the way dpkg does without ever failing, for ordering versions
    /// read from package databases: whitespace is trimmed, an epoch is taken only when
    /// the text before the first `:` is a valid epoch (otherwise the colon stays in the
    /// upstream version and the epoch is 0), the revision is whatever follows the last
    /// `-`.
    pub fn parse_lenient(input: &'a str) -> Self {
        let s = input.trim_matches(is_space);
        let (epoch, rest) = match s.find(':') {
            Some(colon) => match parse_epoch(&s[..colon]) {
                Some(epoch) => (epoch, &s[colon + 1..]),
                None => (0, s),
            },
            None => (0, s),
        };
        let (upstream, revision) = match rest.rfind('-') {
            Some(hyphen) => (&rest[..hyphen], &rest[hyphen + 1..]),
            None => (rest, ""),
        };
        Version {
            epoch,
            upstream,
            revision,
        }
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version: between the epoch's colon and the last hyphen.
    pub fn upstream(&self) -> &'a str {
        self.upstream
    }

    /// The Debian revision after the last hyphen (empty when absent).
    pub fn revision(&self) -> &'a str {
        self.revision
    }
}

/// A non-empty run of ASCII digits no larger than [`MAX_EPOCH`].
fn parse_epoch(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut value: u32 = 0;
    for c in digits.bytes() {
        value = value.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    (value <= MAX_EPOCH).then_some(value)
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
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
    /// The canonical spelling: epoch only when non-zero, revision only when non-empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

/// Compares two dpkg versions as `dpkg --compare-versions` does. Never fails; see
/// [`Version::parse_lenient`] for how malformed input is split.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::parse_lenient(a).cmp(&Version::parse_lenient(b))
}

/// The weight of one non-digit character (`None` = end of string): `~` sorts before
/// the end, the end before letters, letters before every other character.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn is_digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// dpkg's `verrevcmp`, applied to the upstream version and to the revision.
///
/// Digit runs compare as numbers of any length (leading zeros skipped, then the
/// longer run wins, then the first differing digit), so no overflow is possible.
pub fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        // Non-digit prefix, character by character.
        while (i < a.len() && !is_digit_at(a, i)) || (j < b.len() && !is_digit_at(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            // Equal weights here mean both sides hold a non-digit character.
            i += 1;
            j += 1;
        }
        // Digit run, numerically.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while is_digit_at(a, i) && is_digit_at(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if is_digit_at(a, i) {
            return Ordering::Greater;
        }
        if is_digit_at(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_sorts_before_end() {
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(compare("1.0+b1", "1.0"), Ordering::Greater);
    }

    #[test]
    fn epoch_dominates() {
        assert_eq!(compare("1:0.1", "9.9"), Ordering::Greater);
        assert_eq!(compare("0:1.0-1", "1.0-1"), Ordering::Equal);
    }

    #[test]
    fn parts() {
        let v = Version::parse("2:1.2-3-4").unwrap();
        assert_eq!((v.epoch(), v.upstream(), v.revision()), (2, "1.2-3", "4"));
        assert_eq!(v.to_string(), "2:1.2-3-4");
        let v = Version::parse_lenient("x:1.0");
        assert_eq!((v.epoch(), v.upstream(), v.revision()), (0, "x:1.0", ""));
    }

    #[test]
    fn strict_errors_name_the_problem() {
        let e = Version::parse("1:").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid dpkg version \"1:\": nothing after colon in version number"
        );
        assert!(Version::parse("4294967296:1").is_err());
        assert!(Version::parse("2147483647:1").is_ok());
    }

    #[test]
    fn huge_digit_runs_do_not_overflow() {
        let a = "1.".to_string() + &"9".repeat(100);
        let b = "1.1".to_string() + &"0".repeat(100);
        assert_eq!(compare(&a, &b), Ordering::Less);
        assert_eq!(compare(&a, &a), Ordering::Equal);
    }
}

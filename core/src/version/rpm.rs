//! rpm version ordering: `[epoch:]version[-release]` (EVR).
//!
//! [`rpmvercmp`] is rpm's segment comparison (`rpmio/rpmvercmp.c`, rpm >= 4.15): both
//! strings are split into maximal runs of ASCII digits or ASCII letters; every other
//! byte only separates runs. Runs compare pairwise: numbers numerically, letters
//! byte-wise, and a number is newer than letters. `~` sorts before anything, even the
//! end (`1.0~rc1 < 1.0`); `^` sorts after the end but before any other run
//! (`1.0 < 1.0^git1 < 1.0.1`). When one side runs out, the side with runs left is
//! newer. Only the separators differing (`1.0` vs `1_0`) is equality.
//!
//! An EVR compares epoch (numerically, absent = 0), then version, then release. The
//! one choice rpm leaves open is a missing release: rpm's dependency matching treats it
//! as "any release", which is not an ordering (`1` would equal both `1-1` and `1-2`).
//! Here a missing release sorts before every present one, even an empty one
//! (`1 < 1-`), which keeps [`compare`] a total order and agrees with osv-scalibr.
//!
//! Nothing here allocates.
use std::cmp::Ordering;
use std::fmt;

/// An rpm version split like rpm's `parseEVR`, borrowing the input.
///
/// Equality and ordering are rpm's (`1.01` equals `1.1`), not textual.
#[derive(Debug, Clone, Copy)]
pub struct Evr<'a> {
    epoch: Option<&'a str>,
    version: &'a str,
    release: Option<&'a str>,
}

impl<'a> Evr<'a> {
    /// Splits `evr` as rpm does; never fails. The epoch is the leading run of digits
    /// when a `:` follows it (an empty run means epoch 0); anything else, such as
    /// `a:1`, has no epoch and keeps the colon in the version. The release is what
    /// follows the last `-` after the epoch.
    pub fn parse(evr: &'a str) -> Self {
        let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = if evr.as_bytes().get(digits) == Some(&b':') {
            (
                Some(if digits == 0 { "0" } else { &evr[..digits] }),
                &evr[digits + 1..],
            )
        } else {
            (None, evr)
        };
        match rest.rfind('-') {
            Some(hyphen) => Evr {
                epoch,
                version: &rest[..hyphen],
                release: Some(&rest[hyphen + 1..]),
            },
            None => Evr {
                epoch,
                version: rest,
                release: None,
            },
        }
    }

    /// Builds an EVR from parts, as an rpm database stores them (EPOCH, VERSION,
    /// RELEASE tags). `epoch` must be ASCII digits to compare as a number.
    pub fn new(epoch: Option<&'a str>, version: &'a str, release: Option<&'a str>) -> Self {
        Evr {
            epoch,
            version,
            release,
        }
    }

    /// The epoch digits, when present.
    pub fn epoch_str(&self) -> Option<&'a str> {
        self.epoch
    }

    /// The epoch as a number: `None` when absent or beyond `u32`.
    pub fn epoch(&self) -> Option<u32> {
        self.epoch.and_then(|e| e.parse().ok())
    }

    pub fn version(&self) -> &'a str {
        self.version
    }

    pub fn release(&self) -> Option<&'a str> {
        self.release
    }
}

/// Compares epochs as unbounded numbers; absent is 0. A non-numeric epoch (only
/// possible through [`Evr::new`]) falls back to [`rpmvercmp`].
fn cmp_epoch(a: Option<&str>, b: Option<&str>) -> Ordering {
    let (a, b) = (a.unwrap_or("0"), b.unwrap_or("0"));
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        let strip = |s: &str| -> usize { s.bytes().take_while(|&c| c == b'0').count() };
        let (a, b) = (&a.as_bytes()[strip(a)..], &b.as_bytes()[strip(b)..]);
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        rpmvercmp(a, b)
    }
}

impl Ord for Evr<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_epoch(self.epoch, other.epoch)
            .then_with(|| rpmvercmp(self.version, other.version))
            .then_with(|| match (self.release, other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl PartialOrd for Evr<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Evr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Evr<'_> {}

impl fmt::Display for Evr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = self.epoch {
            write!(f, "{e}:")?;
        }
        f.write_str(self.version)?;
        if let Some(r) = self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

/// Compares two full rpm versions (`[epoch:]version[-release]`).
pub fn compare(a: &str, b: &str) -> Ordering {
    Evr::parse(a).cmp(&Evr::parse(b))
}

/// rpm's `rpmvercmp` on one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return Ordering::Equal;
    }
    let is_sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|&c| is_sep(c)) {
            i += 1;
        }
        while b.get(j).is_some_and(|&c| is_sep(c)) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());

        // Tilde: before everything, including the end.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // Caret: like tilde, except that the end of the other side sorts before it.
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else { break };

        // One segment: digits if `a` starts with a digit, letters otherwise.
        let numeric = ca.is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let seg_a = &a[i..i + a[i..].iter().take_while(|c| class(c)).count()];
        let seg_b = &b[j..j + b[j..].iter().take_while(|c| class(c)).count()];
        i += seg_a.len();
        j += seg_b.len();
        if seg_b.is_empty() {
            // Different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let r = if numeric {
            let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
            let (sa, sb) = (&seg_a[strip(seg_a)..], &seg_b[strip(seg_b)..]);
            sa.len().cmp(&sb.len()).then_with(|| sa.cmp(sb))
        } else {
            seg_a.cmp(seg_b)
        };
        if r != Ordering::Equal {
            return r;
        }
    }
    // Whichever side has characters left is newer; only separators differed otherwise.
    match (i < a.len(), j < b.len()) {
        (false, false) => Ordering::Equal,
        (false, true) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evr_split() {
        let v = Evr::parse("2:1.0-3.el9");
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (Some(2), "1.0", Some("3.el9"))
        );
        let v = Evr::parse("a:1-2-3");
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (None, "a:1-2", Some("3"))
        );
        let v = Evr::parse(":1");
        assert_eq!(v.epoch_str(), Some("0"));
        assert_eq!(Evr::parse("1:2-3").to_string(), "1:2-3");
    }

    #[test]
    fn ordering() {
        assert_eq!(compare("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(compare("0:1.0-1", "1.0-1"), Ordering::Equal);
        assert_eq!(compare("1.0-1", "1.0"), Ordering::Greater);
        assert_eq!(compare("1.0~rc1-1", "1.0-1"), Ordering::Less);
        assert_eq!(compare("1.0^git1-1", "1.0-1"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^", "1.0"), Ordering::Greater);
        assert_eq!(
            compare(&("9".repeat(50) + ":1"), &("1".repeat(49) + ":1")),
            Ordering::Greater
        );
    }
}

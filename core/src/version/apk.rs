//! apk version ordering, with the semantics of apk-tools 3 (`src/version.c`).
//!
//! An Alpine version is
//! `digits{.digits}...{letter}{_suffix{digits}}...{~commit-hash}{-rN}`:
//! an initial number, dot-separated numbers, at most one lower-case letter, any number
//! of suffixes from a fixed list (each optionally numbered), an optional `~` + hex
//! commit hash and an optional `-r` + package revision number.
//!
//! Comparison tokenizes both strings in lock step and compares token by token while
//! both sides have a token of the same kind:
//! - numbers compare numerically, except that a dot-separated number with a leading
//!   zero on either side compares as a string (Gentoo's rule: `1.01 < 1.1`, `1.001 <
//!   1.01`), and the initial number, suffix numbers and revision always numerically;
//! - letters by byte; suffixes by rank `_alpha < _beta < _pre < _rc < (none) < _cvs <
//!   _svn < _git < _hg < _p`; commit hashes as strings.
//!
//! When the kinds differ (or one side ends), a pre-release suffix (`_alpha` … `_rc`)
//! makes its side older; otherwise the side whose next token comes *earlier* in the
//! grammar above is newer (`1.2.1 > 1.2`, `1.2a > 1.2`, `1.2 > 1.2_rc1`,
//! `1.2-r1 > 1.2`), and an invalid token, which ranks after everything, makes its side
//! older. Invalid versions therefore still order (`1.0 < 1.0bc`), exactly as apk does;
//! [`is_valid`] tells them apart. The one exception: when *both* versions turn invalid
//! at the same token, where apk-tools 3 gives up and answers "equal", the answer of
//! apk-tools 2 is used instead (see `legacy`), so that old releases' versions such as
//! `6.6.2p1-r1 < 6.6.2p1-r2` keep their order. Numbers are compared exactly at any length, where
//! apk-tools would wrap at 2^64; no real version has a 20-digit component.
//!
//! Nothing here allocates.
use std::cmp::Ordering;
use thiserror::Error;

/// Why a string is not a valid apk version.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "invalid apk version {input:?}: expected digits{{.digits}}[letter]{{_suffix[N]}}[~hash][-rN]"
)]
pub struct VersionError {
    /// The rejected input, verbatim.
    pub input: String,
}

/// Token kinds, in grammar order. The order is load-bearing: it bounds which token may
/// follow which, and decides the comparison when the two sides diverge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Rank of "no suffix": suffixes ranked below it are pre-releases.
const SUFFIX_NONE: u8 = 5;

fn suffix_rank(word: &[u8]) -> Option<u8> {
    Some(match word {
        b"alpha" => 1,
        b"beta" => 2,
        b"pre" => 3,
        b"rc" => 4,
        b"cvs" => 6,
        b"svn" => 7,
        b"git" => 8,
        b"hg" => 9,
        b"p" => 10,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    /// The token's text: the digits, the letter, the suffix word or the hash.
    text: &'a [u8],
    /// For [`Kind::Suffix`]: its rank.
    suffix: u8,
}

/// A tokenizer over one version string.
struct Tokens<'a> {
    rest: &'a [u8],
    prev: Kind,
}

fn split_while(s: &[u8], pred: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    let n = s.iter().position(|&c| !pred(c)).unwrap_or(s.len());
    s.split_at(n)
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Self {
        Tokens {
            rest: s.as_bytes(),
            prev: Kind::InitialDigit,
        }
    }

    fn token(&mut self, kind: Kind, text: &'a [u8], suffix: u8) -> Token<'a> {
        self.prev = kind;
        Token { kind, text, suffix }
    }

    fn invalid(&mut self) -> Token<'a> {
        self.token(Kind::Invalid, &[], 0)
    }

    /// A run of digits as a token of `kind`; an empty run is invalid.
    fn digits(&mut self, kind: Kind) -> Token<'a> {
        let (digits, rest) = split_while(self.rest, |c| c.is_ascii_digit());
        self.rest = rest;
        if digits.is_empty() {
            self.invalid()
        } else {
            self.token(kind, digits, 0)
        }
    }

    fn first(&mut self) -> Token<'a> {
        self.digits(Kind::InitialDigit)
    }

    /// The next token, given the previous one (`self.prev`). Only called while the
    /// previous token was neither the end nor invalid.
    fn next(&mut self) -> Token<'a> {
        let Some(&c) = self.rest.first() else {
            return self.token(Kind::End, &[], 0);
        };
        let prev = self.prev;
        match c {
            b'a'..=b'z' => {
                if prev > Kind::Digit {
                    return self.invalid();
                }
                let (letter, rest) = self.rest.split_at(1);
                self.rest = rest;
                self.token(Kind::Letter, letter, 0)
            }
            b'.' | b'0'..=b'9' => {
                if c == b'.' {
                    if prev > Kind::Digit {
                        return self.invalid();
                    }
                    self.rest = &self.rest[1..];
                }
                match prev {
                    Kind::InitialDigit | Kind::Digit => self.digits(Kind::Digit),
                    Kind::Suffix => self.digits(Kind::SuffixNo),
                    _ => self.invalid(),
                }
            }
            b'_' => {
                if prev > Kind::SuffixNo {
                    return self.invalid();
                }
                let (word, rest) = split_while(&self.rest[1..], |c| c.is_ascii_lowercase());
                self.rest = rest;
                match suffix_rank(word) {
                    Some(rank) => self.token(Kind::Suffix, word, rank),
                    None => self.invalid(),
                }
            }
            b'~' => {
                if prev >= Kind::CommitHash {
                    return self.invalid();
                }
                let (hash, rest) = split_while(&self.rest[1..], |c| {
                    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
                });
                self.rest = rest;
                if hash.is_empty() {
                    self.invalid()
                } else {
                    self.token(Kind::CommitHash, hash, 0)
                }
            }
            b'-' => {
                if prev >= Kind::RevisionNo {
                    return self.invalid();
                }
                match self.rest.strip_prefix(b"-r") {
                    Some(rest) => {
                        self.rest = rest;
                        self.digits(Kind::RevisionNo)
                    }
                    None => self.invalid(),
                }
            }
            _ => self.invalid(),
        }
    }
}

/// Compares two digit strings as unbounded non-negative integers.
fn cmp_numeric(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares two tokens of the same kind.
fn cmp_token(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0') => {
            a.text.cmp(b.text)
        }
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => {
            cmp_numeric(a.text, b.text)
        }
        Kind::Letter => a.text.first().cmp(&b.text.first()),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::CommitHash | Kind::End | Kind::Invalid => a.text.cmp(b.text),
    }
}

/// Compares `a` with `b`; with `fuzzy`, `a` also equals `b` when `b`'s tokens are a
/// prefix of `a`'s (apk's `~` dependency operator: `3.6.9 ~ 3.6`).
pub fn compare_fuzzy(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut sa, mut sb) = (Tokens::new(a), Tokens::new(b));
    let (mut ta, mut tb) = (sa.first(), sb.first());
    while ta.kind == tb.kind && ta.kind < Kind::End {
        let r = cmp_token(&ta, &tb);
        if r != Ordering::Equal {
            return r;
        }
        ta = sa.next();
        tb = sb.next();
    }
    if ta.kind == Kind::Invalid && tb.kind == Kind::Invalid && !fuzzy {
        // Both invalid at the same token: apk-tools 3 stops here and calls them equal.
        return legacy::compare(a.as_bytes(), b.as_bytes());
    }
    if ta.kind == tb.kind || (fuzzy && tb.kind == Kind::End) {
        return Ordering::Equal;
    }
    if ta.kind == Kind::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    // The side that still has an earlier-grammar token is the newer one.
    tb.kind.cmp(&ta.kind)
}

/// The apk-tools 2 comparison (Alpine's package manager up to 3.22), used only to
/// break the tie when both versions turn invalid at the same token.
///
/// apk-tools 3 ends the comparison at the first invalid token, so it orders
/// `6.6.2p1-r0` (a letter followed by digits, common in old Alpine releases' openssh
/// versions) equal to `6.6.2p1-r7`. apk-tools 2, which installed those packages, read
/// on leniently and orders them by revision. Answering "equal" there would make a
/// vulnerable package look fixed, so the older, more discriminating answer is used.
mod legacy {
    use std::cmp::Ordering;

    // Token kinds of apk-tools 2, in its order (invalid ranks lowest there).
    const INVALID: i8 = -1;
    const DIGIT_OR_ZERO: i8 = 0;
    const DIGIT: i8 = 1;
    const LETTER: i8 = 2;
    const SUFFIX: i8 = 3;
    const SUFFIX_NO: i8 = 4;
    const REVISION_NO: i8 = 5;
    const END: i8 = 6;

    const PRE_SUFFIXES: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
    const POST_SUFFIXES: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];

    /// Decides the kind of the token starting at `s` after a token of kind `kind`,
    /// consuming its separator.
    fn next_kind(kind: i8, s: &mut &[u8]) -> i8 {
        let Some(&c) = s.first() else { return END };
        let n = if (kind == DIGIT || kind == DIGIT_OR_ZERO) && c.is_ascii_lowercase() {
            LETTER
        } else if kind == LETTER && c.is_ascii_digit() {
            DIGIT
        } else if kind == SUFFIX && c.is_ascii_digit() {
            SUFFIX_NO
        } else {
            let n = match c {
                b'.' => DIGIT_OR_ZERO,
                b'_' => SUFFIX,
                b'-' if s.get(1) == Some(&b'r') => {
                    *s = &s[1..];
                    REVISION_NO
                }
                _ => INVALID,
            };
            *s = &s[1..];
            n
        };
        let allowed_backwards = (n == DIGIT_OR_ZERO && kind == DIGIT)
            || (n == SUFFIX && kind == SUFFIX_NO)
            || (n == DIGIT && kind == LETTER);
        if n < kind && !allowed_backwards {
            INVALID
        } else {
            n
        }
    }

    /// Reads the value of one token of kind `*kind` and advances to the next kind.
    fn token(kind: &mut i8, s: &mut &[u8]) -> i64 {
        if s.is_empty() {
            *kind = END;
            return 0;
        }
        let mut forced = None;
        let (value, len) = match *kind {
            DIGIT_OR_ZERO if s[0] == b'0' => {
                // Leading zeros: the more zeros, the smaller.
                let zeros = s.iter().take_while(|&&c| c == b'0').count();
                forced = Some(DIGIT);
                (-i64::try_from(zeros).unwrap_or(i64::MAX), zeros)
            }
            DIGIT_OR_ZERO | DIGIT | SUFFIX_NO | REVISION_NO => {
                let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
                let value = s[..len].iter().fold(0i64, |v, &c| {
                    v.saturating_mul(10).saturating_add(i64::from(c - b'0'))
                });
                (value, len)
            }
            LETTER => (i64::from(s[0]), 1),
            SUFFIX => {
                if let Some(i) = PRE_SUFFIXES.iter().position(|p| s.starts_with(p)) {
                    (i as i64 - PRE_SUFFIXES.len() as i64, PRE_SUFFIXES[i].len())
                } else if let Some(i) = POST_SUFFIXES.iter().position(|p| s.starts_with(p)) {
                    (i as i64, POST_SUFFIXES[i].len())
                } else {
                    *kind = INVALID;
                    return -1;
                }
            }
            _ => {
                *kind = INVALID;
                return -1;
            }
        };
        *s = &s[len..];
        *kind = if s.is_empty() {
            END
        } else if let Some(k) = forced {
            k
        } else {
            next_kind(*kind, s)
        };
        value
    }

    pub(super) fn compare(mut a: &[u8], mut b: &[u8]) -> Ordering {
        let (mut at, mut bt) = (DIGIT, DIGIT);
        let (mut av, mut bv) = (0i64, 0i64);
        while at == bt && at != END && at != INVALID && av == bv {
            av = token(&mut at, &mut a);
            bv = token(&mut bt, &mut b);
        }
        if av != bv {
            return av.cmp(&bv);
        }
        if at == bt {
            return Ordering::Equal;
        }
        // A following pre-release suffix makes its side older.
        let (mut peek_kind, mut peek_rest) = (at, a);
        if at == SUFFIX && token(&mut peek_kind, &mut peek_rest) < 0 {
            return Ordering::Less;
        }
        let (mut peek_kind, mut peek_rest) = (bt, b);
        if bt == SUFFIX && token(&mut peek_kind, &mut peek_rest) < 0 {
            return Ordering::Greater;
        }
        bt.cmp(&at)
    }
}

/// Compares two apk versions as `apk version -t` does.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_fuzzy(a, b, false)
}

/// Whether `version` follows the apk version grammar (apk's `apk_version_validate`).
pub fn is_valid(version: &str) -> bool {
    let mut tokens = Tokens::new(version);
    let mut t = tokens.first();
    while t.kind < Kind::End {
        t = tokens.next();
    }
    t.kind == Kind::End
}

/// A validated apk version. Its ordering is [`compare`], which is a total order on
/// valid versions.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a>(&'a str);

impl<'a> Version<'a> {
    /// Accepts `input` when it follows the apk version grammar.
    pub fn parse(input: &'a str) -> Result<Self, VersionError> {
        if is_valid(input) {
            Ok(Version(input))
        } else {
            Err(VersionError {
                input: input.to_string(),
            })
        }
    }

    /// The version text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// The package revision `N` of a trailing `-rN` (0 when absent, as apk treats it).
    pub fn revision(&self) -> u64 {
        match self.0.rfind("-r") {
            Some(i) => self.0[i + 2..].bytes().fold(0u64, |n, c| {
                n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
            }),
            None => 0,
        }
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self.0, other.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(compare("1.2.3-r1", "1.2.3-r0"), Ordering::Greater);
        assert_eq!(compare("1.2_rc1", "1.2"), Ordering::Less);
        assert_eq!(compare("1.2_p1", "1.2"), Ordering::Greater);
        assert_eq!(compare("1.2a", "1.2"), Ordering::Greater);
        assert_eq!(compare("1.01", "1.1"), Ordering::Less);
        assert_eq!(compare("1-r01", "1-r1"), Ordering::Equal);
    }

    #[test]
    fn validity() {
        assert!(is_valid("1.2.3_rc1-r4"));
        assert!(is_valid("0.1_pre2~1234abcd-r1"));
        assert!(!is_valid(""));
        assert!(!is_valid("1.2-r"));
        assert!(!is_valid("1.2_foo"));
        assert!(Version::parse("1.2.3-r10").is_ok_and(|v| v.revision() == 10));
        assert!(Version::parse("1.2.3").is_ok_and(|v| v.revision() == 0));
        let e = Version::parse("1 2").unwrap_err();
        assert!(e.to_string().starts_with("invalid apk version \"1 2\""));
    }

    #[test]
    fn long_numbers_do_not_overflow() {
        let a = "9".repeat(40);
        let b = "1".to_string() + &"0".repeat(40);
        assert_eq!(compare(&a, &b), Ordering::Less);
    }
}

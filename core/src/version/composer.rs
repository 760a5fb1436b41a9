//! Composer (Packagist) version ordering: PHP's `version_compare` (php-src
//! `ext/standard/versioning.c`, PHP 8), which Composer's `Comparator` and
//! `Constraint` call, on the versions as written, after dropping a leading `v`/`V`.
//!
//! Composer itself first runs `VersionParser::normalize` (four numbers, stability
//! words spelled one way, so `1.0 = 1.0.0.0` and `1.0-BETA1 = 1.0.0.0-beta1`), but
//! OSV does not: its Packagist ranges are written with the tags' own spelling and
//! matched by `version_compare` on them (osv-scalibr's `semantic/version-packagist.go`,
//! whose vectors we run, say `1.0.0 > 1.0`). We follow OSV, so that an advisory is
//! read the way its range was computed.
//!
//! `php_canonicalize_version` splits a version into parts: `-`, `_`, `+`, `.` and
//! every other byte that is not an ASCII letter or digit separate parts (runs of them
//! count once), and a part also ends where digits meet non-digits (`1.0rc1` =
//! `1.0.rc.1`, `4.3-2RC1` = `4.3.2.RC.1`). Two quirks are kept: the first byte always
//! belongs to the first part (`-1` = `-.1`, `.1` has an empty first part), and so does
//! a symbol right after a digit (`1~beta` = `1.~beta`), making a word no form matches.
//! Parts compare in turn:
//! - two numbers numerically;
//! - otherwise each part gets a rank: a number ranks as PHP's `#`, a word by its
//!   prefix, case-sensitively: anything unlisted < `dev` < `alpha` = `a…` < `beta` =
//!   `b…` < `RC` = `rc…` < `#` < `pl` = `p…` (so `1.0-BETA1`, unlisted, is older
//!   than `1.0-dev`);
//! - when one side runs out, the next part of the longer side decides: a number makes
//!   it newer (`1.0 < 1.0.0`: no 4-part normalization here, unlike Composer's
//!   `VersionParser::normalize`), a word is compared with `#` (`1.0 > 1.0rc1`,
//!   `1.0 < 1.0pl1`).
//!
//! A branch such as `dev-master` starts with `dev` and so is older than every
//! numbered version; branches then compare part by part, words by rank
//! (`dev-master = dev-main`, both unlisted words).
//!
//! Where PHP is not a total order we choose one, so that [`compare`] is total on any
//! input: numbers compare exactly at any length (PHP saturates them at 2^63 − 1);
//! the byte `#`, which PHP would rank equal to every number, always separates parts
//! (PHP keeps it after a digit, and compares a string starting with `#` without
//! canonicalizing it); a string with no parts (`"."`) is compared as if empty past
//! its end, and the empty string is older than every other. Like PHP, the version
//! ends at its first NUL byte. Every string is a version. Nothing here allocates.
use std::cmp::Ordering;

/// Rank of a word part, from PHP's `compare_special_version_forms`. Numbers rank as
/// [`NUMBER`] when compared with a word.
fn rank(word: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 9] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |&(_, order)| order)
}

/// PHP's rank of `#`: what a number ranks as against a word, and what a missing part
/// ranks as (PHP compares the rest of the longer version with `"#N#"`).
const NUMBER: i8 = 4;

/// One part of a canonicalized version, or the end of one.
#[derive(Debug, Clone, Copy)]
enum Part<'a> {
    /// A word, by rank.
    Word(i8),
    /// No further part.
    End,
    /// Digits, without leading zeros.
    Number(&'a [u8]),
}

impl Part<'_> {
    /// The position in the order `words ranked below #` < end < numbers < `pl`/`p`
    /// words; parts in the same class then compare by rank or value.
    fn class(&self) -> (u8, i8) {
        match *self {
            Part::Word(r) if r < NUMBER => (0, r),
            Part::End => (1, 0),
            Part::Number(_) => (2, 0),
            Part::Word(r) => (3, r),
        }
    }
}

impl Ord for Part<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Number(a), Part::Number(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            _ => self.class().cmp(&other.class()),
        }
    }
}

impl PartialOrd for Part<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Part<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Part<'_> {}

/// The parts of `php_canonicalize_version(s)`, as byte ranges of `s`: the output
/// keeps bytes in order and only adds or substitutes dots, so every part is a
/// contiguous run of the input. `s` is not empty.
struct Parts<'a> {
    s: &'a [u8],
    /// Next byte to read.
    pos: usize,
}

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// A byte that is not an ASCII letter or digit: a separator of PHP's canonical form,
/// unless [`is_kept_symbol`] applies.
fn is_separator(c: u8) -> bool {
    !c.is_ascii_alphanumeric()
}

/// A separator that PHP keeps when it follows a digit (its "digit to non-digit"
/// rule comes before its "non-alphanumeric becomes a dot" rule): any but `.`, `-`,
/// `_`, `+`, and `#`, which we always read as a separator.
fn is_kept_symbol(c: u8) -> bool {
    is_separator(c) && !matches!(c, b'.' | b'-' | b'_' | b'+' | b'#')
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.s;
        if self.pos == 0 {
            self.pos = 1;
            // PHP copies the first byte as it is, so a leading non-alphanumeric byte
            // begins the first part (`-a` is one part, `.1` has an empty first part),
            // except a leading `#`, which we read as a separator.
            match s[0] {
                b'#' => {}
                b'.' => {
                    if s[1..].iter().any(|&c| !is_separator(c)) {
                        return Some(&s[..0]);
                    }
                }
                _ => return Some(self.run(0)),
            }
        }
        // PHP keeps a symbol that follows a digit, as the start of a word.
        if self.pos < s.len() && is_kept_symbol(s[self.pos]) && is_digit(s[self.pos - 1]) {
            return Some(self.run(self.pos));
        }
        while self.pos < s.len() && is_separator(s[self.pos]) {
            self.pos += 1;
        }
        (self.pos < s.len()).then(|| self.run(self.pos))
    }
}

impl<'a> Parts<'a> {
    /// The part starting at `start`: a run of digits, or of non-digits that are not
    /// separators (the first byte may be anything; a non-digit first byte joins
    /// the letters after it, a digit joins the digits).
    fn run(&mut self, start: usize) -> &'a [u8] {
        let s = self.s;
        let digits = is_digit(s[start]);
        let mut end = start + 1;
        while end < s.len() && !is_separator(s[end]) && is_digit(s[end]) == digits {
            end += 1;
        }
        self.pos = end;
        &s[start..end]
    }
}

fn part(p: &[u8]) -> Part<'_> {
    match p.first() {
        Some(&c) if is_digit(c) => {
            let zeros = p.iter().take_while(|&&c| c == b'0').count();
            Part::Number(&p[zeros..])
        }
        _ => Part::Word(rank(p)),
    }
}

/// A Packagist version as `version_compare` reads it; borrowing from its input.
/// Every string is one.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    /// The text compared: cut at the first NUL, without a leading `v`/`V`.
    text: &'a [u8],
    /// Whether the input was empty (up to its first NUL): older than all others.
    empty: bool,
}

impl<'a> Version<'a> {
    /// Reads `input`; the `v` or `V` before a digit that tags often carry is dropped,
    /// as osv-scalibr and Composer do.
    pub fn new(input: &'a str) -> Self {
        let bytes = input.as_bytes();
        let text = &bytes[..bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len())];
        let empty = text.is_empty();
        let text = match text {
            [b'v' | b'V', c, ..] if is_digit(*c) => &text[1..],
            _ => text,
        };
        Version { text, empty }
    }

    fn parts(&self) -> impl Iterator<Item = Part<'a>> + use<'a> {
        let parts = Parts {
            s: self.text,
            pos: 0,
        };
        (!self.text.is_empty())
            .then_some(parts)
            .into_iter()
            .flatten()
            .map(part)
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.empty, other.empty) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let (mut a, mut b) = (self.parts(), other.parts());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (x, y) => match x.unwrap_or(Part::End).cmp(&y.unwrap_or(Part::End)) {
                    Ordering::Equal => {}
                    unequal => return unequal,
                },
            }
        }
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

/// Compares two Packagist versions as PHP's `version_compare` does (see the module
/// doc for the few places where we fix PHP's answer to keep the order total).
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::new(a).cmp(&Version::new(b))
}

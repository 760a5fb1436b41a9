//! PyPI version ordering: PEP 440, `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`.
//!
//! Follows pypa/packaging's `packaging.version.Version` (the implementation pip and
//! every PyPI tool use), not just the text of PEP 440, because where the two could be
//! read differently the scanner must agree with what `pip` installs. Three parts:
//!
//! * **Syntax** is packaging's `VERSION_PATTERN`, matched case-insensitively against
//!   the input with Unicode whitespace trimmed from both ends. The pattern is ASCII-only
//!   inside (a Turkish `İ` or an Arabic-Indic digit is no letter or digit here), and its
//!   quantifiers are possessive, which lets it be parsed here left to right without
//!   backtracking: each optional segment is taken as soon as it matches and never given
//!   back. Spelling variants are accepted and normalized: `alpha`/`beta`/`c`/`pre`/
//!   `preview` become `a`/`b`/`rc`, `rev`/`r` and the implicit `1.0-1` become `post`,
//!   a missing number is 0, `.`/`_`/`-` separate segments, and a leading `v` is dropped.
//! * **Normalization** ([`Version`]'s `Display`) is `str(Version(...))`.
//! * **Ordering** is packaging's `_cmpkey`: epoch; release with trailing zeros removed
//!   (`1.0 == 1`); then dev-only releases before `a` < `b` < `rc` < final, a post-release
//!   after its release, a dev release before its release; then the local label, absent
//!   before present, compared segment by segment with text before numbers.
//!
//! Numbers are kept as decimal digit strings and compared by length then digits, so a
//! hostile `1.99999999999999999999999` neither overflows nor loses precision (Python's
//! integers are unbounded too). [`compare`] is total on any input: strings packaging
//! rejects (including the "legacy" versions packaging dropped in 22.0) sort before
//! every valid version, and among themselves by their text.
use super::digits;
use std::cmp::Ordering;
use std::fmt;

/// Why a string is not a PEP 440 version. Renders as one line with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The rejected input, verbatim.
    pub input: String,
    /// Byte offset in `input` where the text stopped matching the grammar.
    pub offset: usize,
    /// What the grammar expected there.
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid PEP 440 version {:?}: {} at byte {}",
            self.input, self.reason, self.offset
        )
    }
}

impl std::error::Error for ParseError {}

/// The kind of a pre-release, in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreKind {
    /// `a` (also spelled `alpha`).
    Alpha,
    /// `b` (also spelled `beta`).
    Beta,
    /// `rc` (also spelled `c`, `pre`, `preview`).
    Rc,
}

impl PreKind {
    /// The normalized spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PreKind::Alpha => "a",
            PreKind::Beta => "b",
            PreKind::Rc => "rc",
        }
    }
}

/// A non-negative integer of any size, as its decimal digits without leading zeros
/// (`"0"` for zero), so that comparison is by length and then digit by digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Number(String);

impl Number {
    fn zero() -> Number {
        Number("0".to_string())
    }

    /// From a non-empty run of ASCII digits.
    fn from_digits(run: &str) -> Number {
        Number(digits::without_leading_zeros(run).to_string())
    }

    fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        digits::compare(&self.0, &other.0)
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One segment of a local label. packaging turns all-digit segments into integers
/// and lowercases the others; PEP 440 orders text segments before numeric ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum LocalPart {
    // Declaration order is the ordering: every text segment before every number.
    Text(String),
    Number(Number),
}

impl fmt::Display for LocalPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalPart::Text(text) => f.write_str(text),
            LocalPart::Number(n) => f.write_str(&n.0),
        }
    }
}

/// A parsed PEP 440 version.
///
/// Equality and ordering are packaging's (`1.0 == 1.0.0 == v1.0`), not textual;
/// `Display` gives the normalized spelling, which can differ between equal versions
/// (`1.0` and `1`).
#[derive(Debug, Clone)]
pub struct Version {
    epoch: Number,
    release: Vec<Number>,
    pre: Option<(PreKind, Number)>,
    post: Option<Number>,
    dev: Option<Number>,
    local: Option<Vec<LocalPart>>,
}

/// Python's `str.isspace`, which is what the pattern's `\s` and `str.strip` use:
/// Rust's Unicode `White_Space` plus the ASCII separators U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

fn is_sep(c: u8) -> bool {
    matches!(c, b'.' | b'_' | b'-')
}

/// The pre-release spellings in the pattern's alternation order: the first that
/// matches wins, so `alpha` is tried before `a` and `preview` before `pre`.
const PRE_LABELS: &[(&str, PreKind)] = &[
    ("alpha", PreKind::Alpha),
    ("a", PreKind::Alpha),
    ("beta", PreKind::Beta),
    ("b", PreKind::Beta),
    ("preview", PreKind::Rc),
    ("pre", PreKind::Rc),
    ("c", PreKind::Rc),
    ("rc", PreKind::Rc),
];

/// The post-release spellings, in the pattern's alternation order.
const POST_LABELS: &[&str] = &["post", "rev", "r"];

/// A left-to-right reader over the trimmed version text.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + ahead).copied()
    }

    /// Consumes one `.`, `_` or `-` if there is one (the pattern's `[._-]?`).
    fn eat_sep(&mut self) {
        if self.peek().is_some_and(is_sep) {
            self.pos += 1;
        }
    }

    /// Consumes `word` if the text continues with it, ignoring ASCII case.
    fn eat_word(&mut self, word: &str) -> bool {
        let rest = &self.text.as_bytes()[self.pos..];
        let hit =
            rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes());
        if hit {
            self.pos += word.len();
        }
        hit
    }

    /// Consumes the longest run of `accept` bytes, returning it (possibly empty).
    fn eat_while(&mut self, accept: fn(&u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().as_ref().is_some_and(accept) {
            self.pos += 1;
        }
        // Only ASCII bytes are accepted, so both ends are character boundaries.
        &self.text[start..self.pos]
    }

    /// Consumes a non-empty run of digits (the pattern's `[0-9]+`).
    fn eat_number(&mut self) -> Option<Number> {
        let digits = self.eat_while(u8::is_ascii_digit);
        (!digits.is_empty()).then(|| Number::from_digits(digits))
    }

    /// The optional number after a label, 0 when absent (packaging's `int(n or 0)`).
    fn eat_label_number(&mut self) -> Number {
        self.eat_sep();
        self.eat_number().unwrap_or_else(Number::zero)
    }
}

/// A parse failure before it is tied to the caller's input: (offset in the trimmed
/// text, reason).
type Failure = (usize, &'static str);

impl Version {
    /// Parses `input` as packaging's `Version(input)` does, rejecting what it rejects.
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        let trimmed = input.trim_start_matches(is_python_space);
        let lead = input.len() - trimmed.len();
        let text = trimmed.trim_end_matches(is_python_space);
        parse_trimmed(text).map_err(|(offset, reason)| ParseError {
            input: input.to_string(),
            offset: lead + offset,
            reason,
        })
    }

    /// Whether this is a pre-release: it has an `a`/`b`/`rc` or a `dev` segment
    /// (packaging's `is_prerelease`, which pip uses to skip pre-releases by default).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// Whether this has a `post` segment.
    pub fn is_postrelease(&self) -> bool {
        self.post.is_some()
    }

    /// Whether this has a `dev` segment.
    pub fn is_devrelease(&self) -> bool {
        self.dev.is_some()
    }

    /// The pre-release kind, if any.
    pub fn pre_kind(&self) -> Option<PreKind> {
        self.pre.as_ref().map(|(kind, _)| *kind)
    }

    /// The normalized local label (`ubuntu.1`), if any.
    pub fn local(&self) -> Option<String> {
        self.local.as_ref().map(|parts| join_local(parts))
    }

    /// This version without its local label (packaging's `public`), which is what
    /// `==` and the other specifiers compare against when they carry no label.
    pub fn public(&self) -> Version {
        Version {
            local: None,
            ..self.clone()
        }
    }

    /// The release with trailing zeros removed, which is what ordering uses.
    fn trimmed_release(&self) -> &[Number] {
        let keep = self
            .release
            .iter()
            .rposition(|n| !n.is_zero())
            .map_or(0, |i| i + 1);
        &self.release[..keep]
    }

    /// packaging's suffix key `(pre_rank, pre_n, post_rank, post_n, dev_rank, dev_n)`:
    /// a dev-only release ranks below every pre-release, no pre-release above `rc`;
    /// no post ranks below any post; no dev ranks above any dev.
    fn suffix_key(&self) -> SuffixKey<'_> {
        // packaging puts a 0 where a number is absent; `None` does the same job, since
        // an absent number only ever meets another absent one behind an equal rank.
        let (pre_rank, pre_n) = match (&self.pre, &self.post, &self.dev) {
            (None, None, Some(_)) => (-1, None),
            (None, _, _) => (3, None),
            (Some((kind, n)), _, _) => (*kind as i8, Some(n)),
        };
        let (post_rank, post_n) = self.post.as_ref().map_or((0, None), |n| (1, Some(n)));
        let (dev_rank, dev_n) = self.dev.as_ref().map_or((1, None), |n| (0, Some(n)));
        (pre_rank, pre_n, post_rank, post_n, dev_rank, dev_n)
    }
}

/// See [`Version::suffix_key`].
type SuffixKey<'a> = (
    i8,
    Option<&'a Number>,
    u8,
    Option<&'a Number>,
    u8,
    Option<&'a Number>,
);

fn join_local(parts: &[LocalPart]) -> String {
    let texts: Vec<String> = parts.iter().map(ToString::to_string).collect();
    texts.join(".")
}

/// Matches packaging's `VERSION_PATTERN` against whitespace-trimmed text.
fn parse_trimmed(text: &str) -> Result<Version, Failure> {
    if text.is_empty() {
        return Err((0, "empty version"));
    }
    let mut cur = Cursor { text, pos: 0 };
    if matches!(cur.peek(), Some(b'v' | b'V')) {
        cur.pos += 1;
    }

    // Epoch: digits followed by `!`, otherwise those digits start the release.
    let mut epoch = Number::zero();
    let start = cur.pos;
    if let Some(n) = cur.eat_number() {
        if cur.peek() == Some(b'!') {
            cur.pos += 1;
            epoch = n;
        } else {
            cur.pos = start;
        }
    }

    let first = cur
        .eat_number()
        .ok_or((cur.pos, "expected a release number"))?;
    let mut release = vec![first];
    while cur.peek() == Some(b'.') && cur.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
        cur.pos += 1;
        release.extend(cur.eat_number());
    }

    let pre = parse_pre(&mut cur);
    let post = parse_post(&mut cur);

    let start = cur.pos;
    cur.eat_sep();
    let dev = if cur.eat_word("dev") {
        Some(cur.eat_label_number())
    } else {
        cur.pos = start;
        None
    };

    let local = if cur.peek() == Some(b'+') {
        cur.pos += 1;
        Some(parse_local(&mut cur)?)
    } else {
        None
    };

    if cur.pos != text.len() {
        return Err((cur.pos, "unexpected text"));
    }
    Ok(Version {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// `[._-]?(alpha|a|beta|b|preview|pre|c|rc)[._-]?[0-9]*`, or nothing.
fn parse_pre(cur: &mut Cursor<'_>) -> Option<(PreKind, Number)> {
    let start = cur.pos;
    cur.eat_sep();
    match PRE_LABELS.iter().find(|(word, _)| cur.eat_word(word)) {
        Some((_, kind)) => Some((*kind, cur.eat_label_number())),
        None => {
            cur.pos = start;
            None
        }
    }
}

/// `-[0-9]+` (the implicit post-release `1.0-1`), or
/// `[._-]?(post|rev|r)[._-]?[0-9]*`, or nothing.
fn parse_post(cur: &mut Cursor<'_>) -> Option<Number> {
    let start = cur.pos;
    if cur.peek() == Some(b'-') && cur.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
        cur.pos += 1;
        return cur.eat_number();
    }
    cur.eat_sep();
    if POST_LABELS.iter().any(|word| cur.eat_word(word)) {
        Some(cur.eat_label_number())
    } else {
        cur.pos = start;
        None
    }
}

/// After `+`: `[a-z0-9]+([._-][a-z0-9]+)*`, split into segments.
fn parse_local(cur: &mut Cursor<'_>) -> Result<Vec<LocalPart>, Failure> {
    let mut parts = Vec::new();
    loop {
        let segment = cur.eat_while(u8::is_ascii_alphanumeric);
        if segment.is_empty() {
            return Err((cur.pos, "expected a local version label"));
        }
        parts.push(if segment.bytes().all(|c| c.is_ascii_digit()) {
            LocalPart::Number(Number::from_digits(segment))
        } else {
            LocalPart::Text(segment.to_ascii_lowercase())
        });
        // A separator continues the label only when a segment follows it; a trailing
        // one is left over and makes the whole version invalid.
        if cur.peek().is_some_and(is_sep)
            && cur.peek_at(1).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            cur.pos += 1;
        } else {
            return Ok(parts);
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.trimmed_release().cmp(other.trimmed_release()))
            .then_with(|| self.suffix_key().cmp(&other.suffix_key()))
            // `None < Some`, and segment lists compare like Python tuples.
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    /// The normalized spelling, as packaging's `str(Version(...))`: epoch only when
    /// non-zero, numbers without leading zeros, `a`/`b`/`rc` glued to the release,
    /// `.postN`, `.devN`, and the local label lowercased and joined with `.`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.epoch.is_zero() {
            write!(f, "{}!", self.epoch.0)?;
        }
        for (i, n) in self.release.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&n.0)?;
        }
        if let Some((kind, n)) = &self.pre {
            write!(f, "{}{}", kind.as_str(), n.0)?;
        }
        if let Some(n) = &self.post {
            write!(f, ".post{}", n.0)?;
        }
        if let Some(n) = &self.dev {
            write!(f, ".dev{}", n.0)?;
        }
        if let Some(parts) = &self.local {
            write!(f, "+{}", join_local(parts))?;
        }
        Ok(())
    }
}

/// Compares two PyPI versions as packaging's `Version` does. Total on any input:
/// a string that is not a valid PEP 440 version sorts before every valid one, and
/// invalid strings sort among themselves by their text (byte order).
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, |v| Version::parse(v).ok())
}

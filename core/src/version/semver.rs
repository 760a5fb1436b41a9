//! SemVer 2.0.0 ordering (OSV's `SEMVER` range type: npm, crates.io, Go, Hex) and npm's
//! range language.
//!
//! Precedence is the specification's (semver.org, items 9–11): major, minor and patch
//! compare numerically; a version with a pre-release is older than the same version
//! without; pre-release identifiers compare one by one, numeric ones numerically,
//! alphanumeric ones by ASCII, a numeric identifier before an alphanumeric one, and a
//! longer list wins when one is a prefix of the other; build metadata is ignored.
//! Numbers are kept as decimal digit strings and compared by length, then digit by
//! digit, so a 30-digit component neither overflows nor loses precision.
//!
//! Three parsers exist because three kinds of caller exist:
//! - [`Version::parse`] is node-semver's strict `valid` (npm/node-semver `classes/semver.js`
//!   with `loose: false`): surrounding whitespace trimmed, one optional leading `v`, no
//!   leading zeros, numbers at most 2^53 − 1, at most 256 characters.
//! - [`Version::parse_loose`] is node-semver's `loose: true`: any run of `v`, `=` and
//!   whitespace in front, leading zeros allowed, and a pre-release without its hyphen
//!   (`1.2.3beta`, `1.2.3.beta`), which is common in the npm registry.
//! - [`Version::parse_lenient`] is what [`compare`] uses for advisory matching. It
//!   accepts everything the loose parser accepts, plus what osv-scalibr's `semantic`
//!   package (google/osv-scalibr `semantic/version-semver.go`) orders: missing minor or
//!   patch numbers (`1`, `v1.2`, read as zeros) and numbers of any size. It still
//!   rejects what no SemVer registry can publish (`1.2.3.4`, `latest`, empty strings),
//!   where osv-scalibr would read arbitrary text as a pre-release; [`compare`] gives
//!   those a fixed place instead of a guessed meaning.
//!
//! [`Range`] is npm's range language (node-semver `classes/range.js`): comparators,
//! hyphen ranges, X-ranges, tilde and caret ranges, `||`, and the rule that a
//! pre-release version only satisfies a comparator set that names a pre-release of the
//! same `major.minor.patch`, unless `includePrerelease` is set.
use super::digits;
use std::cmp::Ordering;
use std::fmt;
use thiserror::Error;

/// node-semver's `MAX_LENGTH`: longer strings are not versions (strict and loose).
pub const MAX_LENGTH: usize = 256;

/// node-semver's `Number.MAX_SAFE_INTEGER` bound on major, minor and patch: a larger
/// number cannot be represented exactly in JavaScript, so npm rejects it.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a string is not a version (or a range). Renders as one line with the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid semver {input:?}: {reason}")]
pub struct ParseError {
    /// The rejected input, verbatim.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Which grammar a parse follows; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Loose,
    Lenient,
}

/// One pre-release identifier. Numeric identifiers hold their digits without leading
/// zeros (the loose grammar allows `01`, which node-semver reads as the number 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// Digits only: compared numerically, and before every alphanumeric identifier.
    Numeric(String),
    /// Letters, digits and hyphens with at least one non-digit: compared by ASCII.
    Alphanumeric(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => digits::compare(a, b),
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(s) | Identifier::Alphanumeric(s) => f.write_str(s),
        }
    }
}

/// A parsed version. Equality and ordering are SemVer precedence, so build metadata
/// is ignored (`1.2.3+a == 1.2.3+b`) and `01` equals `1` where the grammar allows it.
#[derive(Debug, Clone)]
pub struct Version {
    major: String,
    minor: String,
    patch: String,
    pre: Vec<Identifier>,
    build: Vec<String>,
}

/// A non-empty digit run without leading zeros (`"0"` for zero).
fn normalize_digits(run: &str) -> String {
    digits::without_leading_zeros(run).to_string()
}

/// The value of normalized digits when it is at most [`MAX_SAFE_INTEGER`].
fn safe_value(digits: &str) -> Option<u64> {
    if digits.len() > 16 {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()
        .filter(|&n| n <= MAX_SAFE_INTEGER)
}

/// JavaScript's whitespace (`String.prototype.trim` and the regex `\s`), which
/// node-semver trims and skips: Unicode White_Space except U+0085, plus the BOM.
fn is_js_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Length in UTF-16 code units, the unit of JavaScript's `length`.
fn js_length(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// One pre-release identifier in `mode`.
fn identifier(id: &str, mode: Mode) -> Result<Identifier, &'static str> {
    if id.is_empty() {
        return Err("empty pre-release identifier");
    }
    if !id.chars().all(is_ident_char) {
        return Err("invalid character in pre-release");
    }
    if id.bytes().all(|c| c.is_ascii_digit()) {
        if mode == Mode::Strict && id.len() > 1 && id.starts_with('0') {
            return Err("leading zero in a numeric pre-release identifier");
        }
        return Ok(Identifier::Numeric(normalize_digits(id)));
    }
    Ok(Identifier::Alphanumeric(id.to_string()))
}

/// Dot-separated build identifiers after a `+`: non-empty, letters, digits, hyphens.
fn build_ids(text: &str) -> Result<Vec<String>, &'static str> {
    text.split('.')
        .map(|id| {
            if id.is_empty() {
                Err("empty build identifier")
            } else if !id.chars().all(is_ident_char) {
                Err("invalid character in build metadata")
            } else {
                Ok(id.to_string())
            }
        })
        .collect()
}

type Tail = (Vec<Identifier>, Vec<String>);

/// Pre-release identifiers up to an optional `+build`, then the end of the text.
fn pre_and_build(text: &str, mode: Mode) -> Result<Tail, &'static str> {
    let (pre, build) = match text.split_once('+') {
        Some((pre, build)) => (pre, build_ids(build)?),
        None => (text, Vec::new()),
    };
    let pre = pre
        .split('.')
        .map(|id| identifier(id, mode))
        .collect::<Result<_, _>>()?;
    Ok((pre, build))
}

/// What follows the numbers: nothing, `+build`, or a pre-release and optional build.
/// The loose forms follow node-semver's `PRERELEASELOOSE`: a pre-release may start
/// without a hyphen, after dots, when it starts with a letter or hyphen; and when the
/// text after a hyphen is no pre-release, the hyphen itself may start the identifier
/// (`1.2.3-` is the pre-release `-` there).
fn tail(rest: &str, mode: Mode) -> Result<Tail, &'static str> {
    if rest.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    if let Some(build) = rest.strip_prefix('+') {
        return Ok((Vec::new(), build_ids(build)?));
    }
    const JUNK: &str = "unexpected character after the version numbers";
    if mode == Mode::Strict {
        return pre_and_build(rest.strip_prefix('-').ok_or(JUNK)?, mode);
    }
    if let Some(after) = rest.strip_prefix('-') {
        return pre_and_build(after, mode).or_else(|_| pre_and_build(rest, mode));
    }
    let after_dots = rest.trim_start_matches('.');
    if after_dots.starts_with(|c: char| c.is_ascii_alphabetic() || c == '-') {
        return pre_and_build(after_dots, mode);
    }
    Err(JUNK)
}

fn parse_mode(input: &str, mode: Mode) -> Result<Version, &'static str> {
    if mode != Mode::Lenient && js_length(input) > MAX_LENGTH {
        return Err("longer than 256 characters");
    }
    let s = input.trim_matches(is_js_space);
    let mut rest = match mode {
        Mode::Strict => s.strip_prefix('v').unwrap_or(s),
        Mode::Loose | Mode::Lenient => {
            s.trim_start_matches(|c: char| c == 'v' || c == '=' || is_js_space(c))
        }
    };
    let mut numbers: Vec<String> = Vec::with_capacity(3);
    loop {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let digits = &rest[..end];
        if digits.is_empty() {
            return Err("expected a version number");
        }
        if mode == Mode::Strict && digits.len() > 1 && digits.starts_with('0') {
            return Err("leading zero in a version number");
        }
        let number = normalize_digits(digits);
        if mode != Mode::Lenient && safe_value(&number).is_none() {
            return Err("version number larger than 2^53 - 1");
        }
        numbers.push(number);
        rest = &rest[end..];
        if numbers.len() == 3 {
            break;
        }
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            _ if mode == Mode::Lenient => break,
            _ => return Err("fewer than three version numbers"),
        }
    }
    let (pre, build) = tail(rest, mode)?;
    numbers.resize(3, "0".to_string());
    let [major, minor, patch]: [String; 3] = numbers.try_into().expect("three numbers");
    Ok(Version {
        major,
        minor,
        patch,
        pre,
        build,
    })
}

impl Version {
    /// Parses strict SemVer 2.0.0 as node-semver's non-loose `valid` does (one
    /// optional leading `v` and surrounding whitespace are tolerated).
    pub fn parse(text: &str) -> Result<Version, ParseError> {
        Self::parse_in(text, Mode::Strict)
    }

    /// Parses with node-semver's `loose: true` grammar.
    pub fn parse_loose(text: &str) -> Result<Version, ParseError> {
        Self::parse_in(text, Mode::Loose)
    }

    /// Parses the way [`compare`] does: the loose grammar, plus missing minor and
    /// patch numbers (read as 0) and numbers of any size, as osv-scalibr accepts.
    pub fn parse_lenient(text: &str) -> Result<Version, ParseError> {
        Self::parse_in(text, Mode::Lenient)
    }

    fn parse_in(text: &str, mode: Mode) -> Result<Version, ParseError> {
        parse_mode(text, mode).map_err(|reason| ParseError {
            input: text.to_string(),
            reason,
        })
    }

    /// A version from numbers, for the bounds npm's range sugar generates.
    fn from_parts(numbers: [u64; 3], pre: Vec<Identifier>) -> Version {
        Version {
            major: numbers[0].to_string(),
            minor: numbers[1].to_string(),
            patch: numbers[2].to_string(),
            pre,
            build: Vec::new(),
        }
    }

    /// The major number, as decimal digits without leading zeros.
    pub fn major(&self) -> &str {
        &self.major
    }

    /// The minor number, as decimal digits without leading zeros.
    pub fn minor(&self) -> &str {
        &self.minor
    }

    /// The patch number, as decimal digits without leading zeros.
    pub fn patch(&self) -> &str {
        &self.patch
    }

    /// The pre-release identifiers (empty for a release).
    pub fn pre(&self) -> &[Identifier] {
        &self.pre
    }

    /// The build metadata identifiers, which do not affect precedence.
    pub fn build(&self) -> &[String] {
        &self.build
    }

    /// Major, minor and patch equal, ignoring pre-release and build.
    fn same_release(&self, other: &Version) -> bool {
        self.major == other.major && self.minor == other.minor && self.patch == other.patch
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        digits::compare(&self.major, &other.major)
            .then_with(|| digits::compare(&self.minor, &other.minor))
            .then_with(|| digits::compare(&self.patch, &other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // Lexicographic on identifiers, a longer list winning a common prefix.
                (false, false) => self.pre.cmp(&other.pre),
            })
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
    /// The canonical spelling: no `v`, no leading zeros, build metadata kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            write!(f, "{}{id}", if i == 0 { '-' } else { '.' })?;
        }
        for (i, id) in self.build.iter().enumerate() {
            write!(f, "{}{id}", if i == 0 { '+' } else { '.' })?;
        }
        Ok(())
    }
}

/// Compares two versions by SemVer precedence, for OSV `SEMVER` ranges. Total on any
/// input and never fails: both sides are read with [`Version::parse_lenient`]; a
/// string it rejects sorts before every version, and such strings sort among
/// themselves by their bytes.
pub fn compare(a: &str, b: &str) -> Ordering {
    super::parsed_first(a, b, |v| Version::parse_lenient(v).ok())
}

/// node-semver's range options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RangeOptions {
    /// Parse versions and comparators with the loose grammar, and drop comparators
    /// that do not parse instead of rejecting the range.
    pub loose: bool,
    /// Let pre-releases satisfy ranges that do not name one (`includePrerelease`).
    pub include_prerelease: bool,
}

/// A comparison operator of a primitive comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

/// A primitive comparator, what npm's range sugar reduces to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparator {
    /// Matches every version (`*`, `x`, an empty range, `>=0.0.0`).
    Any,
    /// `op version`.
    Compare(Operator, Version),
}

impl Comparator {
    fn test(&self, version: &Version) -> bool {
        match self {
            Comparator::Any => true,
            Comparator::Compare(op, bound) => {
                let ord = version.cmp(bound);
                match op {
                    Operator::Lt => ord == Ordering::Less,
                    Operator::Le => ord != Ordering::Greater,
                    Operator::Eq => ord == Ordering::Equal,
                    Operator::Ge => ord != Ordering::Less,
                    Operator::Gt => ord == Ordering::Greater,
                }
            }
        }
    }

    /// `<0.0.0-0`, which nothing satisfies; node-semver's "null set".
    fn is_null_set(&self) -> bool {
        matches!(self, Comparator::Compare(Operator::Lt, v)
            if v.major == "0" && v.minor == "0" && v.patch == "0"
                && v.pre == [Identifier::Numeric("0".to_string())])
    }
}

/// A parsed npm range: a union (`||`) of intersections of comparators.
#[derive(Debug, Clone)]
pub struct Range {
    sets: Vec<Vec<Comparator>>,
    options: RangeOptions,
}

/// One component of a partial version: a number (value and digits as written) or an
/// X (`x`, `X`, `*`, or absent).
type Part<'a> = Option<(u64, &'a str)>;

/// A partial version as npm ranges write it (node-semver's `XRANGEPLAIN`): a run of
/// `v`/`=`, one to three components, and a pre-release and build only after three.
struct Partial<'a> {
    /// The text after the `v`/`=` run.
    text: &'a str,
    /// Whether that run is one accepted by the strict comparator grammar (`v?`).
    strict_prefix: bool,
    parts: [Part<'a>; 3],
    pre: Vec<Identifier>,
}

impl<'a> Partial<'a> {
    fn parse(token: &'a str, loose: bool) -> Option<Partial<'a>> {
        let text = token.trim_start_matches(['v', '=']);
        let prefix = &token[..token.len() - text.len()];
        let mode = if loose { Mode::Loose } else { Mode::Strict };
        let mut parts: [Part<'a>; 3] = [None; 3];
        let mut rest = text;
        let mut count = 0;
        let mut seen_x = false;
        while count < 3 {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if end > 0 {
                let digits = &rest[..end];
                if !loose && digits.len() > 1 && digits.starts_with('0') {
                    return None;
                }
                // A number after an X (`1.x.5`, `x.1`) is rejected, as node-semver
                // does since it stopped silently ignoring it.
                if seen_x {
                    return None;
                }
                parts[count] = Some((safe_value(&normalize_digits(digits))?, digits));
                rest = &rest[end..];
            } else if rest.starts_with(['x', 'X', '*']) {
                seen_x = true;
                rest = &rest[1..];
            } else {
                return None;
            }
            count += 1;
            if count < 3 {
                match rest.strip_prefix('.') {
                    Some(after) => rest = after,
                    None => break,
                }
            }
        }
        // A pre-release needs all three components; build metadata may follow any
        // number of them (`1.x+build`), and is ignored.
        let (pre, _build) = if count < 3 {
            match rest.strip_prefix('+') {
                Some(build) => (Vec::new(), build_ids(build).ok()?),
                None if rest.is_empty() => (Vec::new(), Vec::new()),
                None => return None,
            }
        } else {
            tail(rest, mode).ok()?
        };
        Some(Partial {
            text,
            strict_prefix: prefix.is_empty() || prefix == "v",
            parts,
            pre,
        })
    }

    /// The full version when no component is an X.
    fn full(&self) -> Option<[u64; 3]> {
        match self.parts {
            [Some((a, _)), Some((b, _)), Some((c, _))] => Some([a, b, c]),
            _ => None,
        }
    }
}

/// A generated bound: numbers must stay within [`MAX_SAFE_INTEGER`] (node-semver
/// rejects `^9007199254740991.0.0`, whose upper bound is not representable), and
/// `>=0.0.0` (`>=0.0.0-0` with `includePrerelease`) becomes [`Comparator::Any`].
fn bound(
    op: Operator,
    numbers: [u64; 3],
    pre: Vec<Identifier>,
    options: RangeOptions,
) -> Result<Comparator, &'static str> {
    if numbers.iter().any(|&n| n > MAX_SAFE_INTEGER) {
        return Err("range bound larger than 2^53 - 1");
    }
    let zero_pre = pre == [Identifier::Numeric("0".to_string())];
    if op == Operator::Ge
        && numbers == [0, 0, 0]
        && (if options.include_prerelease {
            zero_pre
        } else {
            pre.is_empty()
        })
    {
        return Ok(Comparator::Any);
    }
    Ok(Comparator::Compare(op, Version::from_parts(numbers, pre)))
}

fn zero() -> Vec<Identifier> {
    vec![Identifier::Numeric("0".to_string())]
}

/// `-0` when pre-releases are included, so the lower bound admits them.
fn low_pre(options: RangeOptions) -> Vec<Identifier> {
    if options.include_prerelease {
        zero()
    } else {
        Vec::new()
    }
}

/// A comparator on a full version written by the user. The strict grammar allows only
/// `v?` in front; node-semver's `>=0.0.0` shortcut applies to the literal text only.
fn written(
    op: Operator,
    partial: &Partial<'_>,
    numbers: [u64; 3],
    extra_pre: bool,
    options: RangeOptions,
) -> Result<Comparator, &'static str> {
    if !options.loose && !partial.strict_prefix {
        return Err("invalid prefix before a version");
    }
    let gte0 = if options.include_prerelease {
        "0.0.0-0"
    } else {
        "0.0.0"
    };
    let text_after_op = if extra_pre && !partial.text.contains('+') {
        format!("{}-0", partial.text)
    } else {
        partial.text.to_string()
    };
    if op == Operator::Ge && partial.strict_prefix && text_after_op == gte0 {
        return Ok(Comparator::Any);
    }
    let pre = if extra_pre && !partial.text.contains('+') {
        zero()
    } else {
        partial.pre.clone()
    };
    Ok(Comparator::Compare(op, Version::from_parts(numbers, pre)))
}

/// `A - B`: inclusive at both ends, an X end widening to the whole X-range.
fn hyphen(
    from: &Partial<'_>,
    to: &Partial<'_>,
    options: RangeOptions,
) -> Result<Vec<Comparator>, &'static str> {
    let mut out = Vec::new();
    match (from.parts, from.full()) {
        ([None, _, _], _) => {}
        ([Some((m, _)), None, _], _) => {
            out.push(bound(Operator::Ge, [m, 0, 0], low_pre(options), options)?)
        }
        ([Some((m, _)), Some((n, _)), None], _) => {
            out.push(bound(Operator::Ge, [m, n, 0], low_pre(options), options)?)
        }
        (_, Some(numbers)) => {
            let extra = from.pre.is_empty() && options.include_prerelease;
            out.push(written(Operator::Ge, from, numbers, extra, options)?);
        }
        _ => unreachable!("a partial has a full version or an X"),
    }
    match (to.parts, to.full()) {
        ([None, _, _], _) => {}
        ([Some((m, _)), None, _], _) => {
            out.push(bound(Operator::Lt, [m + 1, 0, 0], zero(), options)?)
        }
        ([Some((m, _)), Some((n, _)), None], _) => {
            out.push(bound(Operator::Lt, [m, n + 1, 0], zero(), options)?)
        }
        (_, Some([m, n, p])) if !to.pre.is_empty() => {
            out.push(bound(Operator::Le, [m, n, p], to.pre.clone(), options)?)
        }
        (_, Some([m, n, p])) if options.include_prerelease => {
            out.push(bound(Operator::Lt, [m, n, p + 1], zero(), options)?)
        }
        (_, Some(numbers)) => out.push(written(Operator::Le, to, numbers, false, options)?),
        _ => unreachable!("a partial has a full version or an X"),
    }
    if out.is_empty() {
        out.push(Comparator::Any);
    }
    Ok(out)
}

/// `^A`: changes that do not modify the left-most non-zero component.
fn caret(p: &Partial<'_>, options: RangeOptions) -> Result<Vec<Comparator>, &'static str> {
    let ge = Operator::Ge;
    let lt = Operator::Lt;
    Ok(match p.parts {
        [None, _, _] => vec![Comparator::Any],
        [Some((m, _)), None, _] => vec![
            bound(ge, [m, 0, 0], low_pre(options), options)?,
            bound(lt, [m + 1, 0, 0], zero(), options)?,
        ],
        [Some((m, mt)), Some((n, _)), None] => {
            let upper = if mt == "0" {
                [m, n + 1, 0]
            } else {
                [m + 1, 0, 0]
            };
            vec![
                bound(ge, [m, n, 0], low_pre(options), options)?,
                bound(lt, upper, zero(), options)?,
            ]
        }
        [Some((m, mt)), Some((n, nt)), Some((q, _))] => {
            let upper = match (mt == "0", nt == "0") {
                (true, true) => [m, n, q + 1],
                (true, false) => [m, n + 1, 0],
                (false, _) => [m + 1, 0, 0],
            };
            // A full lower bound keeps its own pre-release (none: `^0.0.3` still
            // excludes `0.0.3-alpha` under `includePrerelease`).
            vec![
                bound(ge, [m, n, q], p.pre.clone(), options)?,
                bound(lt, upper, zero(), options)?,
            ]
        }
    })
}

/// `~A`: patch-level changes when a minor is given, minor-level otherwise.
fn tilde(p: &Partial<'_>, options: RangeOptions) -> Result<Vec<Comparator>, &'static str> {
    let ge = Operator::Ge;
    let lt = Operator::Lt;
    Ok(match p.parts {
        [None, _, _] => vec![Comparator::Any],
        [Some((m, _)), None, _] => vec![
            bound(ge, [m, 0, 0], low_pre(options), options)?,
            bound(lt, [m + 1, 0, 0], zero(), options)?,
        ],
        [Some((m, _)), Some((n, _)), None] => vec![
            bound(ge, [m, n, 0], low_pre(options), options)?,
            bound(lt, [m, n + 1, 0], zero(), options)?,
        ],
        [Some((m, _)), Some((n, _)), Some((q, _))] => vec![
            bound(ge, [m, n, q], p.pre.clone(), options)?,
            bound(lt, [m, n + 1, 0], zero(), options)?,
        ],
    })
}

/// `op A` where `A` may be a full version or an X-range.
fn xrange(
    op: &str,
    p: &Partial<'_>,
    options: RangeOptions,
) -> Result<Vec<Comparator>, &'static str> {
    let operator = match op {
        "<" => Operator::Lt,
        "<=" => Operator::Le,
        ">" => Operator::Gt,
        ">=" => Operator::Ge,
        _ => Operator::Eq,
    };
    if let Some(numbers) = p.full() {
        return Ok(vec![written(operator, p, numbers, false, options)?]);
    }
    let (m, n) = match p.parts {
        [None, _, _] => {
            return Ok(vec![if op == "<" || op == ">" {
                Comparator::Compare(Operator::Lt, Version::from_parts([0, 0, 0], zero()))
            } else {
                Comparator::Any
            }]);
        }
        [Some((m, _)), n, _] => (m, n.map(|(n, _)| n)),
    };
    Ok(match (op, n) {
        ("" | "=", None) => vec![
            bound(Operator::Ge, [m, 0, 0], low_pre(options), options)?,
            bound(Operator::Lt, [m + 1, 0, 0], zero(), options)?,
        ],
        ("" | "=", Some(n)) => vec![
            bound(Operator::Ge, [m, n, 0], low_pre(options), options)?,
            bound(Operator::Lt, [m, n + 1, 0], zero(), options)?,
        ],
        // `>1` is `>=2.0.0`, `>1.2` is `>=1.3.0`.
        (">", None) => vec![bound(
            Operator::Ge,
            [m + 1, 0, 0],
            low_pre(options),
            options,
        )?],
        (">", Some(n)) => vec![bound(
            Operator::Ge,
            [m, n + 1, 0],
            low_pre(options),
            options,
        )?],
        // `<=1.2` is `<1.3.0-0`: every 1.2.x passes.
        ("<=", None) => vec![bound(Operator::Lt, [m + 1, 0, 0], zero(), options)?],
        ("<=", Some(n)) => vec![bound(Operator::Lt, [m, n + 1, 0], zero(), options)?],
        ("<", n) => vec![bound(
            Operator::Lt,
            [m, n.unwrap_or(0), 0],
            zero(),
            options,
        )?],
        (_, n) => vec![bound(
            Operator::Ge,
            [m, n.unwrap_or(0), 0],
            low_pre(options),
            options,
        )?],
    })
}

/// One whitespace-free comparator token.
fn token(text: &str, options: RangeOptions) -> Result<Vec<Comparator>, &'static str> {
    const BAD: &str = "invalid comparator";
    if let Some(rest) = text.strip_prefix('^') {
        return caret(&Partial::parse(rest, options.loose).ok_or(BAD)?, options);
    }
    if let Some(rest) = text.strip_prefix('~') {
        let rest = rest.strip_prefix('>').unwrap_or(rest);
        return tilde(&Partial::parse(rest, options.loose).ok_or(BAD)?, options);
    }
    let op_len = match text.as_bytes() {
        [b'<' | b'>', b'=', ..] => 2,
        [b'<' | b'>' | b'=', ..] => 1,
        _ => 0,
    };
    let (op, rest) = text.split_at(op_len);
    xrange(
        op,
        &Partial::parse(rest, options.loose).ok_or(BAD)?,
        options,
    )
}

/// Whether `word` can follow an operator separated by spaces (`> 1.2`): node-semver
/// joins them when the word starts like a version or X-range.
fn starts_like_version(word: &str) -> bool {
    word.trim_start_matches(['v', '='])
        .starts_with(|c: char| c.is_ascii_digit() || matches!(c, 'x' | 'X' | '*'))
}

/// One `||` alternative: a hyphen range or space-separated comparators.
fn comparator_set(part: &str, options: RangeOptions) -> Result<Vec<Comparator>, &'static str> {
    let words: Vec<&str> = part.split(is_js_space).filter(|w| !w.is_empty()).collect();
    let mut set = Vec::new();
    if let [from, "-", to] = words[..]
        && let (Some(from), Some(to)) = (
            Partial::parse(from, options.loose),
            Partial::parse(to, options.loose),
        )
    {
        set = hyphen(&from, &to, options)?;
    } else {
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let next = words.get(i + 1).copied();
            let joined = match (word, next) {
                ("~" | "~>", Some(next)) => Some(format!("~{next}")),
                ("^", Some(next)) => Some(format!("^{next}")),
                ("<" | ">" | "<=" | ">=" | "=", Some(next)) if starts_like_version(next) => {
                    Some(format!("{word}{next}"))
                }
                _ => None,
            };
            let text = match &joined {
                Some(text) => {
                    i += 2;
                    text.as_str()
                }
                None => {
                    i += 1;
                    word
                }
            };
            match token(text, options) {
                Ok(comparators) => set.extend(comparators),
                // Loose mode throws out comparators that do not parse.
                Err(_) if options.loose => {}
                Err(e) => return Err(e),
            }
        }
        if words.is_empty() {
            set.push(Comparator::Any);
        }
    }
    if let Some(null) = set.iter().find(|c| c.is_null_set()) {
        return Ok(vec![null.clone()]);
    }
    if set.len() > 1 {
        set.retain(|c| *c != Comparator::Any);
        if set.is_empty() {
            set.push(Comparator::Any);
        }
    }
    Ok(set)
}

impl Range {
    /// Parses an npm range with node-semver's rules.
    pub fn parse(text: &str, options: RangeOptions) -> Result<Range, ParseError> {
        let fail = |reason| ParseError {
            input: text.to_string(),
            reason,
        };
        let mut sets = Vec::new();
        for part in text.split("||") {
            let set = comparator_set(part, options).map_err(fail)?;
            // An alternative left empty by loose mode's filtering drops out.
            if !set.is_empty() {
                sets.push(set);
            }
        }
        if sets.is_empty() {
            return Err(fail("no valid comparator"));
        }
        // node-semver drops alternatives that match nothing, and a range with a `*`
        // alternative becomes just `*` — which changes which pre-releases match.
        if sets.len() > 1 {
            let first = sets[0].clone();
            sets.retain(|s| !s[0].is_null_set());
            if sets.is_empty() {
                sets.push(first);
            } else if let Some(any) = sets.iter().find(|s| s[..] == [Comparator::Any]) {
                sets = vec![any.clone()];
            }
        }
        Ok(Range { sets, options })
    }

    /// The alternatives, each an intersection of comparators.
    pub fn sets(&self) -> &[Vec<Comparator>] {
        &self.sets
    }

    /// Whether `version` satisfies the range. A pre-release satisfies an alternative
    /// only when one of its comparators names a pre-release of the same
    /// `major.minor.patch` (`>=1.2.3-beta` admits `1.2.3-rc`, not `1.2.4-rc`), unless
    /// `include_prerelease` is set.
    pub fn satisfies(&self, version: &Version) -> bool {
        self.sets.iter().any(|set| {
            if !set.iter().all(|c| c.test(version)) {
                return false;
            }
            if version.pre.is_empty() || self.options.include_prerelease {
                return true;
            }
            set.iter().any(|c| match c {
                Comparator::Compare(_, bound) => {
                    !bound.pre.is_empty() && bound.same_release(version)
                }
                Comparator::Any => false,
            })
        })
    }
}

/// node-semver's `satisfies(version, range, options)`: false when either does not
/// parse (the version with the loose grammar when `options.loose`).
pub fn satisfies(version: &str, range: &str, options: RangeOptions) -> bool {
    let version = if options.loose {
        Version::parse_loose(version)
    } else {
        Version::parse(version)
    };
    match (version, Range::parse(range, options)) {
        (Ok(v), Ok(r)) => r.satisfies(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
        ];
        for w in order.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{w:?}");
        }
        assert_eq!(compare("1.2.3+a", "1.2.3+b"), Ordering::Equal);
    }

    #[test]
    fn grammars() {
        assert!(Version::parse("01.2.3").is_err());
        assert!(Version::parse_loose("01.2.3").is_ok());
        assert!(Version::parse("1.2.3beta").is_err());
        assert_eq!(
            Version::parse_loose("1.2.3beta").unwrap().to_string(),
            "1.2.3-beta"
        );
        assert!(Version::parse_loose("1.2").is_err());
        assert_eq!(Version::parse_lenient("v1.2").unwrap().to_string(), "1.2.0");
        assert!(Version::parse_lenient("1.2.3.4").is_err());
        assert!(Version::parse("9007199254740992.0.0").is_err());
    }

    #[test]
    fn invalid_sorts_first_and_huge_numbers_do_not_overflow() {
        assert_eq!(compare("latest", "0.0.0-0"), Ordering::Less);
        assert_eq!(compare("a", "b"), Ordering::Less);
        let big = "9".repeat(100);
        assert_eq!(compare(&big, &format!("1{big}")), Ordering::Less);
    }

    #[test]
    fn ranges() {
        let o = RangeOptions::default();
        assert!(satisfies("1.4.2", "^1.2", o));
        assert!(!satisfies("1.2.4-rc.1", "^1.2.3-beta", o));
        assert!(satisfies("1.2.3-rc.1", "^1.2.3-beta", o));
        assert!(Range::parse("1.x.5", o).is_err());
    }
}

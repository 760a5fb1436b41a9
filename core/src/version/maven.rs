//! Maven version ordering: `org.apache.maven.artifact.versioning.ComparableVersion`
//! as shipped in Maven 3.9 (`maven-artifact`, apache/maven `maven-3.9.x`), the
//! algorithm Maven itself uses for version ranges and dependency mediation.
//!
//! Any string is a Maven version, so there is no invalid case. Parsing, after
//! lower-casing (`toLowerCase(Locale.ENGLISH)`, hence case-insensitive):
//! - `.` and `-` end an item (an empty item is `0`), and `-` opens a nested list that
//!   holds everything after it;
//! - a switch between digits and non-digits also ends an item and opens a nested list
//!   (`1alpha1` is `1-alpha-1`); a string item followed by a digit or ending the
//!   version opens a list first when it is not the first item of its list (MNG-7644:
//!   `1.0.0.rc1` is `1.0.0-rc1`, `2.0.x` is `2-x`);
//! - digit runs are numbers of any length, leading zeros ignored;
//! - strings are qualifiers: `alpha < beta < milestone < rc = cr < snapshot <
//!   "" = ga = final = release < sp`, then every other string in lexical order (UTF-16,
//!   like Java's `String.compareTo`); `a`, `b` and `m` directly followed by a digit
//!   stand for alpha, beta and milestone;
//! - then each list drops its trailing "null" items (`0`, the release qualifier, empty
//!   lists), also when a non-empty nested list follows them (`1.0.ga-rc` is `1-rc`),
//!   innermost list first.
//!
//! The result is a chain: each list is some plain items, then at most one nested list.
//! [`Version`] stores it flattened, a nested list becoming an `Open` token followed by
//! its items, so comparing is a loop rather than a recursion, and equality is exactly
//! Maven's (`1 = 1.0 = 1-0 = 1ga`, `1.01 = 1.1`).
//!
//! Comparison walks both token sequences in step. Where one version has ended, the
//! other's first non-null token decides against "the release": a number other than 0
//! is newer, a qualifier by its rank against `""` (`1-rc < 1 < 1-sp`), `0`, `""` and
//! `Open` being skipped. Where both have a token and they differ, Maven ranks them by
//! kind, qualifier `<` nested list `<` number (`1.sp.1 < 1-1 < 1.1`), then by value.
//!
//! Maven's own comparison is not transitive: the rank by kind ignores what follows a
//! `0` or `""` item, or a list start, while the comparison against a shorter version
//! looks past them (`1.0.alpha.1 < 1 < 1-sp`, yet `1.0.alpha.1 > 1-sp`; likewise
//! `1.2.3-alpha < 1.2.3 < 1.2.3.redhat-1`, yet `1.2.3.redhat-1 < 1.2.3-alpha`). A sort
//! can then fail or depend on input order, so this module makes one change: where two
//! differing tokens are reached, each side's remainder is first ranked against the
//! release, as Maven does at the end of a version (older, newer); only when both fall
//! on the same side does Maven's rank by kind decide. Every pair this changes is one
//! where Maven puts the older-than-release side above the newer one, so any total order
//! that keeps Maven's answers against shorter versions (`1-rc < 1 < 1-sp`, `1 <
//! 1.0.1`) must change it too; all other answers are Maven's. No vector of the shared
//! corpus is affected.
//!
//! Like Maven, a number's kind follows its length (int up to 9 digits after leading
//! zeros, long up to 18, then big integer), and kinds rank before values, which only
//! matters for a zero written with ten or more zeros (`1.0000000000.1 > 1.5.1`, as in
//! Maven). Digits are what Java's `Character.isDigit` accepts on a UTF-16 unit: every
//! Unicode decimal digit of the Basic Multilingual Plane, not only ASCII.
use std::cmp::Ordering;

/// A Maven version as `ComparableVersion` parses it, flattened. Never fails: every
/// string is a version.
///
/// Equality and ordering are Maven's (`1.0` equals `1`), not textual.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    /// A string item; Maven ranks it below any nested list and number.
    Qualifier(Qualifier),
    /// The start of a nested list (a `-` or a digit/letter switch); ranks between
    /// qualifiers and numbers, and is transparent against the end of a version.
    Open,
    Number(Number),
}

/// A qualifier after aliasing: a known one by its rank, or any other string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Qualifier {
    /// Index in `alpha, beta, milestone, rc, snapshot, "", sp`.
    Known(u8),
    /// Any other string, lower-cased; ranks after every known qualifier.
    Other(String),
}

/// Rank of the empty qualifier, the release: the "null" string item.
const RELEASE: u8 = 5;

const KNOWN: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// A number item. Maven picks `IntItem`, `LongItem` or `BigIntegerItem` by the digit
/// count after stripping leading ASCII zeros, and ranks those kinds before values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Number {
    /// 0 for int, 1 for long, 2 for big integer.
    kind: u8,
    /// The value in ASCII digits without leading zeros; empty for zero.
    digits: String,
}

impl Number {
    fn zero() -> Number {
        Number {
            kind: 0,
            digits: String::new(),
        }
    }

    /// Parses a run of digits the way `parseItem` does.
    fn parse(run: &[char]) -> Number {
        // `stripLeadingZeroes` strips ASCII '0' only, and keeps an all-zero run whole.
        let stripped = match run.iter().position(|&c| c != '0') {
            Some(first) => run.len() - first,
            None => run.len(),
        };
        let kind = match stripped {
            0..=9 => 0,
            10..=18 => 1,
            _ => 2,
        };
        let digits: String = run
            .iter()
            .map(|&c| char::from(b'0' + java_digit(c).unwrap_or(0)))
            .skip_while(|&c| c == '0')
            .collect();
        Number { kind, digits }
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    fn cmp(&self, other: &Number) -> Ordering {
        self.kind
            .cmp(&other.kind)
            .then(self.digits.len().cmp(&other.digits.len()))
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Qualifier {
    /// `new StringItem(value, followedByDigit)`: the one-letter aliases, then
    /// `ga`/`final`/`release` as the release and `cr` as `rc`.
    fn parse(run: &[char], followed_by_digit: bool) -> Qualifier {
        let text: String = run.iter().collect();
        let text = match text.as_str() {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        match KNOWN.iter().position(|&k| k == text) {
            Some(rank) => Qualifier::Known(rank as u8),
            None => Qualifier::Other(text.to_string()),
        }
    }

    /// Against the release: older (`alpha` … `snapshot`), equal, or newer.
    fn against_release(&self) -> Ordering {
        match self {
            Qualifier::Known(rank) => rank.cmp(&RELEASE),
            Qualifier::Other(_) => Ordering::Greater,
        }
    }

    fn cmp(&self, other: &Qualifier) -> Ordering {
        match (self, other) {
            (Qualifier::Known(a), Qualifier::Known(b)) => a.cmp(b),
            (Qualifier::Known(_), Qualifier::Other(_)) => Ordering::Less,
            (Qualifier::Other(_), Qualifier::Known(_)) => Ordering::Greater,
            // Java compares strings by UTF-16 unit, which differs from code point order
            // above U+FFFF.
            (Qualifier::Other(a), Qualifier::Other(b)) => a.encode_utf16().cmp(b.encode_utf16()),
        }
    }
}

impl Token {
    /// Maven's `isNull`: items dropped at the end of a list and equal to "nothing".
    fn is_null(&self) -> bool {
        match self {
            Token::Qualifier(q) => q.against_release().is_eq(),
            Token::Open => false,
            Token::Number(n) => n.is_zero(),
        }
    }

    /// Maven's `item.compareTo(item)`: by kind (qualifier < list < number), then value.
    fn cmp(&self, other: &Token) -> Ordering {
        match (self, other) {
            (Token::Qualifier(a), Token::Qualifier(b)) => a.cmp(b),
            (Token::Number(a), Token::Number(b)) => a.cmp(b),
            _ => self.kind_rank().cmp(&other.kind_rank()),
        }
    }

    fn kind_rank(&self) -> u8 {
        match self {
            Token::Qualifier(_) => 0,
            Token::Open => 1,
            Token::Number(_) => 2,
        }
    }
}

/// Java's `Character.isDigit` on one UTF-16 unit (general category Nd in the Basic
/// Multilingual Plane), with the digit's value. Characters above U+FFFF are surrogate
/// pairs in Java, and a lone surrogate is never a digit.
fn java_digit(c: char) -> Option<u8> {
    // The zero of every Nd block of ten in the BMP.
    const ZEROS: [u32; 37] = [
        0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66,
        0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946,
        0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0,
        0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    ];
    let code = u32::from(c);
    if c.is_ascii() {
        return c.is_ascii_digit().then(|| (code - 0x30) as u8);
    }
    ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .map(|&zero| (code - zero) as u8)
}

/// `parseItem(isDigit, buf)`.
fn item(is_digit: bool, run: &[char]) -> Token {
    if is_digit {
        Token::Number(Number::parse(run))
    } else {
        Token::Qualifier(Qualifier::parse(run, false))
    }
}

impl Version {
    /// Parses `version` as `ComparableVersion.parseVersion` does; never fails.
    pub fn parse(version: &str) -> Version {
        let chars: Vec<char> = version.to_lowercase().chars().collect();
        // The chain of lists, outermost first; each holds its plain items, and the
        // next one is its nested list.
        let mut lists: Vec<Vec<Token>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0;
        for (i, &c) in chars.iter().enumerate() {
            if c == '.' || c == '-' {
                let token = if i == start {
                    Token::Number(Number::zero())
                } else {
                    item(is_digit, &chars[start..i])
                };
                current(&mut lists).push(token);
                start = i + 1;
                if c == '-' {
                    lists.push(Vec::new());
                }
            } else if java_digit(c).is_some() {
                if !is_digit && i > start {
                    if !current(&mut lists).is_empty() {
                        lists.push(Vec::new());
                    }
                    let word = Qualifier::parse(&chars[start..i], true);
                    current(&mut lists).push(Token::Qualifier(word));
                    start = i;
                    lists.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    current(&mut lists).push(item(true, &chars[start..i]));
                    start = i;
                    lists.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if chars.len() > start {
            if !is_digit && !current(&mut lists).is_empty() {
                lists.push(Vec::new());
            }
            current(&mut lists).push(item(is_digit, &chars[start..]));
        }
        Version {
            tokens: normalize_and_flatten(lists),
        }
    }

    /// Compares the remainders from `at` on, where the two versions first differ.
    fn cmp_from(&self, other: &Version, at: usize) -> Ordering {
        let (mine, theirs) = (&self.tokens[at..], &other.tokens[at..]);
        let (mine_vs_release, theirs_vs_release) = (against_release(mine), against_release(theirs));
        match (mine.first(), theirs.first()) {
            (Some(a), Some(b)) => mine_vs_release
                .cmp(&theirs_vs_release)
                .then_with(|| a.cmp(b)),
            // A normalized remainder always ends in a non-null item, so it is never
            // "equal" to the release; the tie-breaks keep the order total regardless.
            (Some(_), None) => mine_vs_release.then(Ordering::Greater),
            (None, Some(_)) => theirs_vs_release.then(Ordering::Greater).reverse(),
            (None, None) => Ordering::Equal,
        }
    }
}

fn current(lists: &mut [Vec<Token>]) -> &mut Vec<Token> {
    lists.last_mut().expect("the outermost list always exists")
}

/// `ListItem.normalize` on every list, innermost first: trailing null items go, also
/// when a non-empty nested list follows them; an emptied nested list goes too. Then
/// the chain is flattened, each surviving nested list becoming `Open` + its items.
fn normalize_and_flatten(mut lists: Vec<Vec<Token>>) -> Vec<Token> {
    let mut nonempty = vec![false; lists.len() + 1];
    for depth in (0..lists.len()).rev() {
        let list = &mut lists[depth];
        while list.last().is_some_and(Token::is_null) {
            list.pop();
        }
        nonempty[depth] = !list.is_empty() || nonempty[depth + 1];
    }
    let mut tokens = Vec::new();
    for (depth, list) in lists.into_iter().enumerate() {
        if depth > 0 {
            if !nonempty[depth] {
                break;
            }
            tokens.push(Token::Open);
        }
        tokens.extend(list);
    }
    tokens
}

/// A remainder compared with the end of a version (Maven's `compareTo(null)`): the
/// first token that is not `0`, the release qualifier or a list start decides.
fn against_release(tokens: &[Token]) -> Ordering {
    tokens
        .iter()
        .find_map(|token| match token {
            Token::Qualifier(q) => Some(q.against_release()).filter(|o| o.is_ne()),
            Token::Open => None,
            Token::Number(n) => (!n.is_zero()).then_some(Ordering::Greater),
        })
        .unwrap_or(Ordering::Equal)
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        let common = self
            .tokens
            .iter()
            .zip(&other.tokens)
            .take_while(|(a, b)| a == b)
            .count();
        self.cmp_from(other, common)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two Maven versions; total on any input.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::parse(a).cmp(&Version::parse(b))
}

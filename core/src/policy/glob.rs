//! Path globs for the `path` selector of ignore rules.
//!
//! The syntax is the one users know from `.gitignore`-style tools, reduced to what a
//! path selector needs: `*` matches any run of characters within one path segment,
//! `?` one character within a segment, and a segment that is exactly `**` matches
//! any number of whole segments (zero included). Every other character is literal.
//! Paths and patterns are compared without a leading `/` or `./`, because finding
//! paths are image-relative (`var/lib/dpkg/status`) while users often write them
//! absolute.

/// A compiled path glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGlob {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of segments.
    AnyDepth,
    /// One segment, possibly with `*` and `?`.
    One(Vec<char>),
}

impl PathGlob {
    /// Compiles `pattern`; it must name at least one segment.
    pub fn new(pattern: &str) -> Result<PathGlob, String> {
        let segments: Vec<Segment> = segments_of(pattern)
            .map(|s| {
                if s == "**" {
                    Segment::AnyDepth
                } else {
                    Segment::One(s.chars().collect())
                }
            })
            .collect();
        if segments.is_empty() {
            return Err(format!("path glob `{pattern}` names no path"));
        }
        Ok(PathGlob { segments })
    }

    /// Whether `path` matches the whole pattern.
    ///
    /// Dynamic programming over (pattern segment, path segment) keeps this
    /// polynomial however many `**` a pattern has.
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = segments_of(path).collect();
        // reachable[j]: the pattern segments consumed so far can match parts[..j].
        let mut reachable = vec![false; parts.len() + 1];
        reachable[0] = true;
        for segment in &self.segments {
            let mut next = vec![false; parts.len() + 1];
            match segment {
                Segment::AnyDepth => {
                    let mut any = false;
                    for j in 0..=parts.len() {
                        any |= reachable[j];
                        next[j] = any;
                    }
                }
                Segment::One(pattern) => {
                    for j in 0..parts.len() {
                        if reachable[j] && segment_matches(pattern, parts[j]) {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            reachable = next;
        }
        reachable[parts.len()]
    }
}

/// The non-empty segments of a path, without a leading `/` or `./`.
fn segments_of(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty() && *s != ".")
}

/// Wildcard match of one segment: `*` any run, `?` one character.
///
/// Greedy with a single backtrack point: on a mismatch, the last `*` absorbs one
/// more character. This is linear-time in practice and never worse than quadratic.
fn segment_matches(pattern: &[char], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        PathGlob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn star_stays_within_a_segment() {
        assert!(m("var/lib/dpkg/*", "var/lib/dpkg/status"));
        assert!(!m("var/lib/*", "var/lib/dpkg/status"));
        assert!(m("var/lib/dpkg/status.d/*", "var/lib/dpkg/status.d/base"));
        assert!(m(
            "usr/lib/python3*/site-packages/*.dist-info/METADATA",
            "usr/lib/python3.11/site-packages/idna-3.4.dist-info/METADATA"
        ));
        assert!(m("var/lib/dpkg/st?tus", "var/lib/dpkg/status"));
        assert!(!m("var/lib/dpkg/st?tus", "var/lib/dpkg/sttus"));
    }

    #[test]
    fn double_star_spans_segments() {
        assert!(m("usr/lib/**", "usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert!(m("usr/lib/**", "usr/lib"));
        assert!(m(
            "**/METADATA",
            "usr/lib/python3/dist-packages/a.dist-info/METADATA"
        ));
        assert!(m("**/METADATA", "METADATA"));
        assert!(m(
            "usr/**/site-packages/**/METADATA",
            "usr/local/lib/python3.12/site-packages/x.dist-info/METADATA"
        ));
        assert!(!m("usr/lib/**", "usr/local/lib/x"));
        assert!(m("**", "anything/at/all"));
        assert!(!m("opt/**/app.jar", "opt/app/lib/other.jar"));
    }

    #[test]
    fn leading_slash_and_dot_are_ignored() {
        assert!(m("/var/lib/dpkg/status", "var/lib/dpkg/status"));
        assert!(m("./var/lib/dpkg/status", "/var/lib/dpkg/status"));
        assert!(!m("var/lib/dpkg/status", "var/lib/dpkg/status.d"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = "**/".repeat(50) + "x";
        let path = "a/".repeat(200) + "b";
        assert!(!m(&pattern, &path));
        let star = format!("{}b", "*a".repeat(40));
        assert!(!m(&star, &"a".repeat(200)));
    }

    #[test]
    fn empty_pattern_is_rejected() {
        assert!(PathGlob::new("").is_err());
        assert!(PathGlob::new("/").is_err());
    }
}

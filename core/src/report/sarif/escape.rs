//! Putting third-party text into URIs and Markdown.
//!
//! Advisory ids, titles and package database paths come from feeds and from the
//! scanned image. In a URI they must not change its structure (a `:` in a relative
//! path's first segment would read as a scheme, which code-scanning services reject);
//! in Markdown they must not become links, images, HTML or table separators.

/// Percent-encodes `s` for a URI path: unreserved characters (RFC 3986) and, when
/// `keep_slash`, `/` stay; every other byte becomes `%XX`.
pub(super) fn uri_path(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Makes `s` render literally on one line in CommonMark (GitHub flavour): control
/// characters are dropped and lines joined (see [`crate::report::text::clean`]);
/// backslash-escaped are the characters that open emphasis, code, links, HTML,
/// entities, strikethrough and table cells anywhere in a line, and the ones that make
/// a heading, list, quote or rule where the text starts a line. Parentheses and
/// `!` need nothing once `[` is escaped; leaving them keeps the help readable.
pub(super) fn markdown(s: &str) -> String {
    let text = super::super::text::clean(s);
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let inline = matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~'
        );
        if inline || (i == 0 && matches!(c, '#' | '-' | '+' | '=')) {
            out.push('\\');
        }
        out.push(c);
    }
    // `1. text` / `1) text` at the start of a line is an ordered list item.
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    if digits > 0
        && matches!(
            out.get(digits..).and_then(|rest| rest.chars().next()),
            Some('.' | ')')
        )
    {
        out.insert(digits, '\\');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_keep_only_unreserved() {
        assert_eq!(uri_path("var/lib/dpkg/status", true), "var/lib/dpkg/status");
        assert_eq!(uri_path("a b:c/é", true), "a%20b%3Ac/%C3%A9");
        assert_eq!(uri_path("GHSA-x/y", false), "GHSA-x%2Fy");
    }

    #[test]
    fn markdown_is_literal() {
        assert_eq!(
            markdown("[x](http://e) <b>|"),
            "\\[x\\](http://e) \\<b\\>\\|"
        );
        assert_eq!(markdown("a\nb\u{1b}"), "a b");
        assert_eq!(markdown("CVE-2023-4911 (x)"), "CVE-2023-4911 (x)");
        assert_eq!(markdown("# not a heading"), "\\# not a heading");
        assert_eq!(markdown("12. not a list"), "12\\. not a list");
    }
}

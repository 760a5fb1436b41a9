//! Cells of the text table: one line each, free of terminal control, aligned.
//!
//! Titles, versions and rule reasons come from third parties (advisory feeds, package
//! databases of the scanned image, policy files). A CI log is read in a terminal or a
//! browser, so a cell must not be able to move the cursor, colour the log, start a new
//! line that looks like another row, or reorder the line with bidirectional overrides.

/// Short form of a digest for tables: `sha256:0123456789ab`.
pub(super) fn short_digest(d: &str) -> &str {
    let end = d.find(':').map(|i| i + 13).unwrap_or(12).min(d.len());
    // `get` rather than indexing: a digest from a hostile config may put a multi-byte
    // character where the cut falls.
    d.get(..end).unwrap_or(d)
}

/// Collapses whitespace and truncates to `max` characters, for one-line table cells.
pub(super) fn one_line(s: &str, max: usize) -> String {
    let collapsed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(collapsed, max)
}

/// [`one_line`] for text from outside: control characters (C0, DEL, C1, which include
/// ANSI escape sequences' introducers) and Unicode bidirectional embeddings, overrides
/// and isolates are dropped first; line breaks and tabs become spaces.
pub(super) fn clean_cell(s: &str, max: usize) -> String {
    one_line(&clean(s), max)
}

/// `s` without the characters [`clean_cell`] drops, whitespace controls turned into
/// spaces. Not truncated: for text that is wrapped or shown whole (SARIF messages).
pub(super) fn clean(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                Some(' ')
            } else if c.is_control() || is_bidi_control(c) {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

/// The Unicode characters that change the display order of the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn truncate(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        s
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Left-aligns columns to their widest cell, two spaces apart, every line prefixed
/// with `indent`. Trailing spaces are trimmed so that logs diff cleanly.
pub(super) fn align<const N: usize>(
    indent: &str,
    header: &[&str; N],
    rows: &[[String; N]],
) -> String {
    let mut widths = [0usize; N];
    for (i, h) in header.iter().enumerate() {
        widths[i] = h.chars().count();
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| out.push_str(&aligned_line(indent, &widths, &cells));
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// One line of cells padded to `widths`, ending in a newline.
pub(super) fn aligned_line(indent: &str, widths: &[usize], cells: &[&str]) -> String {
    let mut l = String::from(indent);
    for (i, cell) in cells.iter().enumerate() {
        l.push_str(cell);
        if i + 1 < cells.len() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count()) + 2;
            l.extend(std::iter::repeat_n(' ', pad));
        }
    }
    let mut l = l.trim_end().to_string();
    l.push('\n');
    l
}

/// `1 finding`, `3 findings`.
pub(super) fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_pads_columns() {
        let rows = vec![
            ["a".to_string(), "1".to_string()],
            ["long".to_string(), "2".to_string()],
        ];
        assert_eq!(align("", &["N", "V"], &rows), "N     V\na     1\nlong  2\n");
        assert_eq!(align("  ", &["N", "V"], &rows[..1]), "  N  V\n  a  1\n");
    }

    #[test]
    fn short_digest_keeps_algorithm() {
        assert_eq!(
            short_digest("sha256:0123456789abcdef"),
            "sha256:0123456789ab"
        );
        assert_eq!(short_digest("abc"), "abc");
        // The cut would fall inside `é`: the digest is kept whole instead.
        assert_eq!(short_digest("sha256:aéééééé"), "sha256:aéééééé");
    }

    #[test]
    fn clean_cell_drops_terminal_control() {
        assert_eq!(
            clean_cell("a\u{1b}[31mred\u{1b}[0m\r\nnext\tline", 80),
            "a[31mred[0m next line"
        );
        assert_eq!(clean_cell("left\u{202E}txet", 80), "lefttxet");
        assert_eq!(clean_cell("\u{85}x\u{7f}y", 80), "xy");
        assert_eq!(clean_cell("abcdefgh", 5), "abcd…");
    }

    #[test]
    fn count_agrees_in_number() {
        assert_eq!(count(1, "finding", "findings"), "1 finding");
        assert_eq!(count(0, "finding", "findings"), "0 findings");
    }
}

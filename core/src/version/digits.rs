//! Runs of ASCII decimal digits as non-negative integers of any size.
//!
//! Advisory data is untrusted and version numbers can be longer than any integer type
//! (`1.0.20240101000000000000`), so no ordering here parses them: without leading
//! zeros, a longer run is the larger number, and runs of equal length compare digit by
//! digit, which is byte order.

use std::cmp::Ordering;

/// `digits` without its leading zeros, keeping one `0` for zero (an empty run stays
/// empty), so that equal numbers have equal text.
pub(crate) fn without_leading_zeros(digits: &str) -> &str {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() && !digits.is_empty() {
        &digits[digits.len() - 1..]
    } else {
        trimmed
    }
}

/// A key whose order is the numeric order of `digits`: length, then digits, after
/// leading zeros are dropped. Lists of keys compare as lists of numbers.
pub(crate) fn sort_key(digits: &str) -> (usize, &str) {
    let d = without_leading_zeros(digits);
    (d.len(), d)
}

/// Compares two digit runs by numeric value, leading zeros ignored, at any length.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    sort_key(a).cmp(&sort_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_any_length() {
        assert_eq!(without_leading_zeros("000"), "0");
        assert_eq!(without_leading_zeros("007"), "7");
        assert_eq!(without_leading_zeros(""), "");
        assert_eq!(compare("010", "9"), Ordering::Greater);
        assert_eq!(compare("0", "000"), Ordering::Equal);
        assert_eq!(
            compare(
                "100000000000000000000000000000",
                "99999999999999999999999999999"
            ),
            Ordering::Greater
        );
    }
}

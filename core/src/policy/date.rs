//! Strict calendar dates and RFC 3339 timestamps.
//!
//! Ignore-rule expiry compares calendar days and VEX precedence compares instants.
//! The core has no clock and keeps its dependency set small (it builds for
//! wasm32), so both are parsed here. Parsing is strict on purpose: a typo in an
//! `expires` date must be an error, not a rule that silently never expires.
use std::fmt;

/// A day of the proleptic Gregorian calendar (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: u32,
    month: u32,
    day: u32,
}

impl Date {
    /// Parses exactly `YYYY-MM-DD` (four-digit year, valid month and day).
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let date = Date {
            year: digits(&b[0..4])?,
            month: digits(&b[5..7])?,
            day: digits(&b[8..10])?,
        };
        (date.month >= 1
            && date.month <= 12
            && date.day >= 1
            && date.day <= days_in_month(date.year, date.month))
        .then_some(date)
    }

    /// Parses `YYYY-MM-DD` or an RFC 3339 timestamp and returns the calendar day as
    /// written (the timestamp must be valid as a whole; only its date part is kept).
    pub fn parse_day_of(text: &str) -> Option<Date> {
        if text.len() == 10 {
            return Date::parse(text);
        }
        Timestamp::parse(text).map(|t| t.date)
    }

    /// Days since 0000-01-01 (proleptic Gregorian); only differences matter.
    fn days_since_origin(self) -> i64 {
        let y = i64::from(self.year);
        let before_year = y * 365 + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
        let mut before_month: i64 = 0;
        for m in 1..self.month {
            before_month += i64::from(days_in_month(self.year, m));
        }
        before_year + before_month + i64::from(self.day) - 1
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An RFC 3339 timestamp. Ordering is by the instant it denotes (offsets applied),
/// which is what "the latest statement wins" needs.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    /// The calendar day as written (before applying the offset).
    date: Date,
    /// Seconds since the fixed origin of [`Date::days_since_origin`], in UTC.
    utc_seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. RFC 3339 allows `t`/`z` in
    /// lower case and a space instead of `T`; all three are accepted.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let date = Date::parse(text.get(..10)?)?;
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (hour, minute, second) = (
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
        // 60 is a leap second, which RFC 3339 permits.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &b[19..];
        let mut nanos: u32 = 0;
        if let Some(fraction) = rest.strip_prefix(b".") {
            let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if len == 0 {
                return None;
            }
            // Precision beyond nanoseconds cannot change any realistic ordering.
            for (i, c) in fraction[..len].iter().enumerate().take(9) {
                nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
            }
            rest = &fraction[len..];
        }
        let offset_seconds: i64 = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let magnitude = i64::from(oh * 3600 + om * 60);
                if *sign == b'-' { -magnitude } else { magnitude }
            }
            _ => return None,
        };
        let local =
            date.days_since_origin() * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Some(Timestamp {
            date,
            utc_seconds: local - offset_seconds,
            nanos,
        })
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Timestamp {}
impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.utc_seconds, self.nanos).cmp(&(other.utc_seconds, other.nanos))
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, c| n * 10 + u32::from(c - b'0')))
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert_eq!(Date::parse("2027-01-31").unwrap().to_string(), "2027-01-31");
        assert!(Date::parse("2024-02-29").is_some());
        for bad in [
            "2023-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-01-32",
            "2027-1-31",
            "27-01-31",
            "2027/01/31",
            "",
            "2027-01-3a",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
        assert!(Date::parse("1900-02-29").is_none());
        assert!(Date::parse("2000-02-29").is_some());
    }

    #[test]
    fn day_of_a_timestamp_is_the_written_date() {
        assert_eq!(
            Date::parse_day_of("2027-01-31T23:30:00-05:00")
                .unwrap()
                .to_string(),
            "2027-01-31"
        );
        assert_eq!(
            Date::parse_day_of("2027-01-31").unwrap().to_string(),
            "2027-01-31"
        );
        assert!(Date::parse_day_of("2027-01-31T25:00:00Z").is_none());
        assert!(
            Date::parse_day_of("2027-01-31T10:00:00").is_none(),
            "an offset is required"
        );
    }

    #[test]
    fn timestamps_order_by_instant() {
        let t = |s| Timestamp::parse(s).unwrap_or_else(|| panic!("{s}"));
        assert!(t("2023-01-08T18:02:03-06:00") > t("2023-01-08T23:02:03Z"));
        assert_eq!(t("2023-01-09T00:02:03Z"), t("2023-01-08T18:02:03-06:00"));
        assert!(t("2023-01-16T19:07:16.853479631-06:00") > t("2023-01-16T19:07:16.85-06:00"));
        assert!(t("2024-03-01T00:00:00Z") > t("2024-02-29T23:59:59.999Z"));
        assert!(t("2000-01-01t00:00:00z") < t("2000-01-01 00:00:01Z"));
        for bad in [
            "2023-01-08T18:02:03",
            "2023-01-08T18:02:03+0600",
            "2023-01-08T18:02Z",
            "2023-01-08T18:02:03.Z",
            "2023-01-08X18:02:03Z",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn day_counting_agrees_across_years() {
        let d = |s| Date::parse(s).unwrap().days_since_origin();
        assert_eq!(d("2001-01-01") - d("2000-01-01"), 366);
        assert_eq!(d("2101-01-01") - d("2100-01-01"), 365);
        assert_eq!(d("2024-03-01") - d("2024-02-28"), 2);
        assert_eq!(d("1970-01-01") - d("1969-12-31"), 1);
    }
}

//! When to try an HTTP request again, shared by every HTTP client of the host
//! (registry, vulnerability-database downloads): which failures are transient, which
//! statuses are worth a retry, and the `Retry-After` header (RFC 9110 §10.2.3), with
//! which servers that rate-limit us say when to come back.
use std::time::{Duration, SystemTime};

/// Whether a transport error is worth another try.
pub fn transient(e: &ureq::Error) -> bool {
    use std::io::ErrorKind::*;
    match e {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ConnectionReset
                | ConnectionAborted
                | ConnectionRefused
                | BrokenPipe
                | UnexpectedEof
                | TimedOut
                | Interrupted
                | NotConnected
        ),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// Statuses retried: rate limiting and the server-side failures that are usually
/// temporary (a 501 or 505 will not get better).
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// How long to wait before retry number `attempt` (1-based): the server's
/// `Retry-After` when it gave one, capped at `max` so a hostile server cannot park us
/// for a day; otherwise exponential backoff from `base` with jitter, never below a
/// quarter of the step, so that retries really back off.
pub fn backoff(
    attempt: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(ra) = retry_after {
        return ra.min(max);
    }
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let step = base.saturating_mul(factor).min(max);
    let ms = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(ms / 4 + fastrand::u64(0..=ms - ms / 4))
}

/// The wait a response's `Retry-After` header asks for, if it has a valid one.
pub fn retry_after<B>(resp: &ureq::http::Response<B>) -> Option<Duration> {
    parse(resp.headers().get("retry-after")?.to_str().ok()?)
}

/// How long `value` asks us to wait; `None` when it is neither form. A date in the
/// past means "now".
pub fn parse(value: &str) -> Option<Duration> {
    parse_at(value, SystemTime::now())
}

fn parse_at(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_dates() {
        assert_eq!(parse("120"), Some(Duration::from_secs(120)));
        let epoch_plus = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"; // 784111777
        assert_eq!(
            parse_at(date, epoch_plus(784_111_767)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_at(date, epoch_plus(784_111_787)),
            Some(Duration::ZERO)
        );
        assert_eq!(parse("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse("-5"), None);
    }
}

//! Severity levels, the distros' rating words, and CVSS scoring.
//!
//! The order of precedence (DESIGN §4) is applied in [`super::dedup`]: for OS packages
//! the distro's own rating, then GitHub's (`GHSA-…` records' `database_specific.severity`),
//! then CVSS computed from vectors (NVD-style: v4 over v3 over v2). Scores are computed
//! from the vector with the `cvss` crate instead of trusting a stored number: stored
//! scores in the wild disagree with their own vectors.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;

/// Qualitative severity, ordered so that `>=` implements "at or above".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Reads a rating word as the distros and GitHub spell it. Debian's `unimportant`
    /// and Ubuntu's `negligible` are LOW; Red Hat's `Important`/`Moderate` are HIGH and
    /// MEDIUM. Words that are not a rating (`not yet assigned`, `untriaged`, `unknown`)
    /// give `None`, so the next source in the precedence order is consulted.
    pub fn from_word(word: &str) -> Option<Severity> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "unimportant" | "negligible" | "low" | "minor" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" | "urgent" => Severity::Critical,
            _ => return None,
        })
    }

    /// The CVSS v3/v4 qualitative scale (also used for v2 above 0, with v2's own
    /// bands: 7.0–10.0 is HIGH, v2 has no CRITICAL).
    fn from_score(score: f64, v2: bool) -> Severity {
        // NaN (no score) and zero both mean "no rating".
        if score.is_nan() || score <= 0.0 {
            Severity::Unknown
        } else if score < 4.0 {
            Severity::Low
        } else if score < 7.0 {
            Severity::Medium
        } else if v2 || score < 9.0 {
            Severity::High
        } else {
            Severity::Critical
        }
    }
}

impl FromStr for Severity {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.eq_ignore_ascii_case("unknown") {
            return Ok(Severity::Unknown);
        }
        Severity::from_word(s).ok_or(())
    }
}

/// A scored CVSS vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    pub vector: String,
    /// Base score computed from the vector.
    pub score: f64,
}

impl CvssScore {
    /// The major CVSS version (2, 3 or 4), used for precedence.
    pub fn major(&self) -> u8 {
        match self.version.as_bytes().first() {
            Some(b'4') => 4,
            Some(b'3') => 3,
            _ => 2,
        }
    }

    pub fn severity(&self) -> Severity {
        Severity::from_score(self.score, self.major() == 2)
    }
}

/// Longest vector accepted for scoring; real ones are under 200 bytes.
const MAX_VECTOR_LEN: usize = 1024;

/// Scores one OSV `severity[]` entry. `None` for non-CVSS types (e.g. `Ubuntu`) and
/// for vectors the library rejects (which are then simply not used).
pub fn score(kind: &str, vector: &str) -> Option<CvssScore> {
    let vector = vector.trim();
    if vector.len() > MAX_VECTOR_LEN {
        return None;
    }
    let expected = match kind {
        "CVSS_V2" => 2,
        "CVSS_V3" => 3,
        "CVSS_V4" => 4,
        _ => return None,
    };
    // Some v2 vectors are written in parentheses.
    let vector = vector.trim_start_matches('(').trim_end_matches(')');
    let parsed = cvss::Cvss::from_str(vector).ok()?;
    let version = match &parsed {
        cvss::Cvss::CvssV20(_) => "2.0",
        cvss::Cvss::CvssV30(_) => "3.0",
        cvss::Cvss::CvssV31(_) => "3.1",
        cvss::Cvss::CvssV40(_) => "4.0",
        _ => return None,
    };
    let s = CvssScore {
        version: version.to_string(),
        vector: vector.to_string(),
        score: parsed.score(),
    };
    (s.major() == expected && s.score.is_finite()).then_some(s)
}

/// The best CVSS score among `entries`: highest major version first (v4 over v3 over
/// v2), the first listed among equals.
pub fn best_cvss<'a>(
    entries: impl IntoIterator<Item = &'a super::osv::SeverityEntry>,
) -> Option<CvssScore> {
    let mut best: Option<CvssScore> = None;
    for e in entries {
        if let Some(s) = score(&e.kind, &e.score)
            && best.as_ref().is_none_or(|b| s.major() > b.major())
        {
            best = Some(s);
        }
    }
    best
}

/// A rating word found in a free-form `ecosystem_specific`/`database_specific` object,
/// under the keys the distros' exports use: `severity` (Red Hat family, SUSE, the
/// Alpine/secdb-derived feeds), `urgency` (Debian), `priority` (Ubuntu).
pub fn rating_in(value: Option<&Value>) -> Option<Severity> {
    let obj = value?.as_object()?;
    ["severity", "urgency", "priority"]
        .iter()
        .filter_map(|k| obj.get(*k))
        .find_map(|v| v.as_str().and_then(Severity::from_word))
}

/// Red Hat–style advisory titles start with the rating: `Important: xz security update`.
pub fn rating_in_summary(summary: Option<&str>) -> Option<Severity> {
    let (word, _) = summary?.split_once(':')?;
    if word.len() > 16 {
        return None;
    }
    Severity::from_word(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::osv::SeverityEntry;

    #[test]
    fn scores_all_versions() {
        let v3 = score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!((v3.score, v3.severity()), (9.8, Severity::Critical));
        // A stored 7.5 that the vector does not support: the vector wins (5.9).
        let v3 = score("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:N/A:N").unwrap();
        assert_eq!(v3.severity(), Severity::Medium);
        let v2 = score("CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap();
        assert_eq!((v2.score, v2.severity()), (10.0, Severity::High));
        let v4 = score(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        )
        .unwrap();
        assert_eq!((v4.score, v4.severity()), (9.3, Severity::Critical));
        assert!(score("CVSS_V3", "garbage").is_none());
        assert!(score("CVSS_V2", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_none());
        assert!(score("Ubuntu", "high").is_none());
    }

    #[test]
    fn precedence_and_words() {
        let e = |k: &str, s: &str| SeverityEntry {
            kind: k.into(),
            score: s.into(),
        };
        let list = [
            e("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:N/A:N"),
            e("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"),
        ];
        assert_eq!(best_cvss(&list).unwrap().major(), 3);
        assert_eq!(Severity::from_word("Important"), Some(Severity::High));
        assert_eq!(Severity::from_word("unimportant"), Some(Severity::Low));
        assert_eq!(Severity::from_word("not yet assigned"), None);
        assert_eq!(
            rating_in_summary(Some("Moderate: curl security update")),
            Some(Severity::Medium)
        );
        assert_eq!(rating_in_summary(Some("curl: a bug")), None);
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
    }
}

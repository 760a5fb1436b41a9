//! OSV range evaluation, exactly as the schema's reference algorithm describes it.
//!
//! Events are sorted once, when an advisory enters the [`super::db::AdvisoryDb`], by
//! the ecosystem's own version ordering (records may list them in any order); `"0"`
//! as `introduced` sorts first. Evaluation then walks the sorted events:
//! `introduced` (≤ v) opens the range, `fixed` (≤ v) closes it, `last_affected` (< v)
//! closes it; any `limit` ≤ v excludes v. For equal versions the tie-break is
//! introduced, last_affected, fixed, limit, so `introduced: X, fixed: X` affects
//! nothing and `introduced: X, last_affected: X` affects exactly X.
use super::osv::{EventKind, Range};
use crate::version::Scheme;
use std::cmp::Ordering;

/// A range event with its version, ready for evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedEvent {
    pub kind: EventKind,
    pub version: String,
}

impl PreparedEvent {
    /// `introduced: "0"`: before every version.
    fn is_zero(&self) -> bool {
        self.kind == EventKind::Introduced && self.version == "0"
    }
}

/// Sorts the events of one range by `scheme`, the ordering of the package's
/// ecosystem. Returns `None` for ranges that cannot be evaluated on its versions
/// (`GIT`, which names commits; `SEMVER` unless the ecosystem's versions are SemVer,
/// because a distro's or PyPI's versions are not) and for events without exactly one
/// key.
pub fn prepare(range: &Range, scheme: impl Into<Scheme>) -> Option<Vec<PreparedEvent>> {
    let scheme = scheme.into();
    let evaluable = match range.kind.as_str() {
        "ECOSYSTEM" => true,
        "SEMVER" => scheme == Scheme::SemVer,
        _ => false,
    };
    if !evaluable {
        return None;
    }
    let mut events = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let (kind, v) = e.kind()?;
        // `limit: "*"` is the schema's "no limit".
        if kind == EventKind::Limit && v == "*" {
            continue;
        }
        events.push(PreparedEvent {
            kind,
            version: normalize_version(scheme, kind, v),
        });
    }
    sort_events(&mut events, scheme);
    Some(events)
}

/// Sorts events by the ecosystem's version ordering.
///
/// An insertion sort on purpose: advisory data is untrusted, and an ordering that is not
/// total on malformed versions (apk's, on invalid ones) can make the standard library's
/// sorts panic. An insertion sort only ever swaps neighbours, so it always terminates
/// with some order; ranges hold a handful of events, so its quadratic worst case costs
/// nothing in practice.
fn sort_events(events: &mut [PreparedEvent], scheme: Scheme) {
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 && compare_events(scheme, &events[j - 1], &events[j]) == Ordering::Greater {
            events.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Advisory versions as compared: rpm versions without an epoch get epoch 0 spelled
/// out (rpm reads a missing epoch as 0), so that they compare correctly with installed
/// versions that carry one. Other orderings take the text as written.
pub fn normalize_version(scheme: impl Into<Scheme>, kind: EventKind, v: &str) -> String {
    if scheme.into() == Scheme::Rpm
        && !v.contains(':')
        && !(kind == EventKind::Introduced && v == "0")
    {
        format!("0:{v}")
    } else {
        v.to_string()
    }
}

fn compare_events(scheme: Scheme, a: &PreparedEvent, b: &PreparedEvent) -> Ordering {
    let by_version = match (a.is_zero(), b.is_zero()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(&a.version, &b.version),
    };
    by_version.then(a.kind.cmp(&b.kind))
}

/// Whether `installed` lies inside the sorted range.
pub fn is_affected(events: &[PreparedEvent], scheme: impl Into<Scheme>, installed: &str) -> bool {
    let scheme = scheme.into();
    let mut vulnerable = false;
    for e in events {
        match e.kind {
            EventKind::Introduced => {
                if e.is_zero() || scheme.compare(installed, &e.version) != Ordering::Less {
                    vulnerable = true;
                }
            }
            EventKind::Fixed => {
                if scheme.compare(installed, &e.version) != Ordering::Less {
                    vulnerable = false;
                }
            }
            EventKind::LastAffected => {
                if scheme.compare(installed, &e.version) == Ordering::Greater {
                    vulnerable = false;
                }
            }
            EventKind::Limit => {
                if scheme.compare(installed, &e.version) != Ordering::Less {
                    return false;
                }
            }
        }
    }
    vulnerable
}

/// The lowest `fixed` version strictly above `installed`: the upgrade that removes
/// the vulnerability from the interval `installed` sits in.
pub fn next_fixed<'a>(
    events: &'a [PreparedEvent],
    scheme: impl Into<Scheme>,
    installed: &str,
) -> Option<&'a str> {
    let scheme = scheme.into();
    // Events are sorted, so the first qualifying one is the lowest.
    events
        .iter()
        .find(|e| {
            e.kind == EventKind::Fixed && scheme.compare(&e.version, installed) == Ordering::Greater
        })
        .map(|e| e.version.as_str())
}

#[cfg(test)]
mod sort_tests {
    use super::*;
    use crate::model::Ecosystem;
    use crate::vuln::osv::Event;

    #[test]
    fn malformed_apk_versions_never_panic_the_sort() {
        // Invalid apk versions: the comparison is not a total order on them.
        let versions = [
            "1.0-r", "1--r1", "a.b", "1.0_p", "-r0", "1.0-r1", "2", "0.9", "1_", "1-r-1", "1.0",
        ];
        let events: Vec<Event> = versions
            .iter()
            .cycle()
            .take(200)
            .enumerate()
            .map(|(i, v)| {
                let v = Some(v.to_string());
                if i % 2 == 0 {
                    Event {
                        introduced: v,
                        ..Default::default()
                    }
                } else {
                    Event {
                        fixed: v,
                        ..Default::default()
                    }
                }
            })
            .collect();
        let range = Range {
            kind: "ECOSYSTEM".into(),
            events,
            ..Default::default()
        };
        let prepared = prepare(&range, Ecosystem::Apk).expect("ecosystem range");
        assert_eq!(prepared.len(), 200);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ecosystem;
    use crate::vuln::osv::Event;

    fn range(events: &[(&str, &str)]) -> Range {
        let events = events
            .iter()
            .map(|&(k, v)| {
                let v = Some(v.to_string());
                match k {
                    "i" => Event {
                        introduced: v,
                        ..Event::default()
                    },
                    "f" => Event {
                        fixed: v,
                        ..Event::default()
                    },
                    "l" => Event {
                        last_affected: v,
                        ..Event::default()
                    },
                    _ => Event {
                        limit: v,
                        ..Event::default()
                    },
                }
            })
            .collect();
        Range {
            kind: "ECOSYSTEM".into(),
            events,
            ..Range::default()
        }
    }

    fn affected(r: &Range, v: &str) -> bool {
        is_affected(&prepare(r, Ecosystem::Deb).unwrap(), Ecosystem::Deb, v)
    }

    #[test]
    fn spec_semantics() {
        let r = range(&[("f", "1.5-1"), ("i", "0"), ("i", "2.0-1"), ("f", "2.3-1")]);
        assert!(affected(&r, "1.0-1"));
        assert!(!affected(&r, "1.5-1"));
        assert!(!affected(&r, "1.9-1"));
        assert!(affected(&r, "2.0-1"));
        assert!(affected(&r, "2.2-9"));
        assert!(!affected(&r, "2.3-1"));
        let ev = prepare(&r, Ecosystem::Deb).unwrap();
        assert_eq!(next_fixed(&ev, Ecosystem::Deb, "1.0-1"), Some("1.5-1"));
        assert_eq!(next_fixed(&ev, Ecosystem::Deb, "2.1-1"), Some("2.3-1"));

        let r = range(&[("i", "1.0"), ("l", "1.2")]);
        assert!(
            affected(&r, "1.2")
                && affected(&r, "1.0")
                && !affected(&r, "1.2.1")
                && !affected(&r, "0.9")
        );

        let r = range(&[("i", "0"), ("l", "5"), ("lim", "3")]);
        assert!(affected(&r, "2") && !affected(&r, "3") && !affected(&r, "4"));
        let r = range(&[("i", "0"), ("lim", "*")]);
        assert!(affected(&r, "99"));

        let r = range(&[("i", "1:1.0"), ("f", "1:1.0")]);
        assert!(!affected(&r, "1:1.0"));
        // Epoch ordering: 1:0.1 is newer than 2.0.
        let r = range(&[("i", "0"), ("f", "1:0.1")]);
        assert!(affected(&r, "2.0"));
    }

    #[test]
    fn non_ecosystem_ranges_are_not_evaluated() {
        let mut r = range(&[("i", "0")]);
        r.kind = "GIT".into();
        assert!(prepare(&r, Ecosystem::Deb).is_none());
        assert!(prepare(&r, Scheme::SemVer).is_none());
    }

    #[test]
    fn semver_ranges_only_for_semver_ecosystems() {
        let mut r = range(&[("i", "1.0.0-rc.1"), ("f", "1.0.1")]);
        r.kind = "SEMVER".into();
        assert!(
            prepare(&r, Ecosystem::Deb).is_none(),
            "a distro's versions are not SemVer"
        );
        assert!(prepare(&r, Scheme::Pep440).is_none());
        let events = prepare(&r, Scheme::SemVer).expect("a SemVer range");
        assert!(is_affected(&events, Scheme::SemVer, "1.0.0"));
        assert!(is_affected(&events, Scheme::SemVer, "1.0.0-rc.2"));
        assert!(!is_affected(&events, Scheme::SemVer, "1.0.0-beta"));
        assert!(!is_affected(&events, Scheme::SemVer, "1.0.1"));
        assert_eq!(next_fixed(&events, Scheme::SemVer, "1.0.0"), Some("1.0.1"));
    }

    #[test]
    fn language_ecosystem_ranges_use_their_ordering() {
        // PEP 440: 1.0rc1 < 1.0 < 1.0.post1; a dpkg reading would say otherwise.
        let r = range(&[("i", "1.0rc1"), ("f", "1.0.post1")]);
        let events = prepare(&r, Scheme::Pep440).expect("an ECOSYSTEM range");
        assert!(is_affected(&events, Scheme::Pep440, "1.0"));
        assert!(!is_affected(&events, Scheme::Pep440, "1.0.post1"));
        assert!(!is_affected(&events, Scheme::Pep440, "1.0b2"));
    }
}

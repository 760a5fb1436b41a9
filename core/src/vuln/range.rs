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
use crate::model::Ecosystem;
use crate::version;
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

/// Sorts the events of one `ECOSYSTEM` range. Returns `None` for ranges that cannot be
/// evaluated on package versions (`GIT`, which names commits; `SEMVER`, whose ordering
/// is not the distro's) and for events without exactly one key.
pub fn prepare(range: &Range, eco: Ecosystem) -> Option<Vec<PreparedEvent>> {
    if range.kind != "ECOSYSTEM" {
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
            version: normalize_version(eco, kind, v),
        });
    }
    sort_events(&mut events, eco);
    Some(events)
}

/// Sorts events by the ecosystem's version ordering.
///
/// An insertion sort on purpose: advisory data is untrusted, and an ordering that is not
/// total on malformed versions (apk's, on invalid ones) can make the standard library's
/// sorts panic. An insertion sort only ever swaps neighbours, so it always terminates
/// with some order; ranges hold a handful of events, so its quadratic worst case costs
/// nothing in practice.
fn sort_events(events: &mut [PreparedEvent], eco: Ecosystem) {
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 && compare_events(eco, &events[j - 1], &events[j]) == Ordering::Greater {
            events.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Advisory versions as compared: rpm versions without an epoch get epoch 0 spelled
/// out (rpm reads a missing epoch as 0), so that they compare correctly with installed
/// versions that carry one. Other orderings take the text as written.
pub fn normalize_version(eco: Ecosystem, kind: EventKind, v: &str) -> String {
    if eco == Ecosystem::Rpm && !v.contains(':') && !(kind == EventKind::Introduced && v == "0") {
        format!("0:{v}")
    } else {
        v.to_string()
    }
}

fn compare_events(eco: Ecosystem, a: &PreparedEvent, b: &PreparedEvent) -> Ordering {
    let by_version = match (a.is_zero(), b.is_zero()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => version::compare(eco, &a.version, &b.version),
    };
    by_version.then(a.kind.cmp(&b.kind))
}

/// Whether `installed` lies inside the sorted range.
pub fn is_affected(events: &[PreparedEvent], eco: Ecosystem, installed: &str) -> bool {
    let mut vulnerable = false;
    for e in events {
        match e.kind {
            EventKind::Introduced => {
                if e.is_zero() || version::compare(eco, installed, &e.version) != Ordering::Less {
                    vulnerable = true;
                }
            }
            EventKind::Fixed => {
                if version::compare(eco, installed, &e.version) != Ordering::Less {
                    vulnerable = false;
                }
            }
            EventKind::LastAffected => {
                if version::compare(eco, installed, &e.version) == Ordering::Greater {
                    vulnerable = false;
                }
            }
            EventKind::Limit => {
                if version::compare(eco, installed, &e.version) != Ordering::Less {
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
    eco: Ecosystem,
    installed: &str,
) -> Option<&'a str> {
    // Events are sorted, so the first qualifying one is the lowest.
    events
        .iter()
        .find(|e| {
            e.kind == EventKind::Fixed
                && version::compare(eco, &e.version, installed) == Ordering::Greater
        })
        .map(|e| e.version.as_str())
}

#[cfg(test)]
mod sort_tests {
    use super::*;
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
    }
}

//! Debian security tracker advisory lists (`data/DSA/list`, `data/DLA/list`) → OSV.
//!
//! Format, per advisory:
//!
//! ```text
//! [29 Mar 2023] DSA-5380-1 xorg-server - security update
//! 	{CVE-2023-1393}
//! 	[bullseye] - xorg-server 2:1.20.11-1+deb11u6
//! 	NOTE: …
//! ```
//!
//! Each advisory becomes one record with the CVEs as `aliases` (as osv.dev's DSA
//! records do) and one affected entry per `[release] - package version` line, under
//! `Debian:<release number>`. The version is the fixed source version; the tracker's
//! tags become statuses: `<end-of-life>` → end_of_life, `<postponed>` → fix_deferred,
//! `<ignored>` → will_not_fix, `<unfixed>` → affected (all as `introduced: 0` with no
//! fix), while `<not-affected>` and `<no-dsa>` produce no entry.
// The sample above keeps the tracker's real tab indentation, which the format requires.
#![allow(clippy::tabs_in_doc_comments)]
use crate::CoreError;
use crate::vuln::osv::{Affected, Event, Package, Range, Vulnerability};
use serde_json::json;

/// Debian codename → the release number OSV uses in `Debian:<n>`.
pub fn release_number(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buzz" => "1.1",
        "rex" => "1.2",
        "bo" => "1.3",
        "hamm" => "2.0",
        "slink" => "2.1",
        "potato" => "2.2",
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4",
        "lenny" => "5",
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `29 Mar 2023` → `2023-03-29T00:00:00Z`.
fn iso_date(d: &str) -> Option<String> {
    let mut it = d.split_whitespace();
    let day: u32 = it.next()?.parse().ok()?;
    let month = MONTHS.iter().position(|m| Some(*m) == it.clone().next())? + 1;
    it.next();
    let year: u32 = it.next()?.parse().ok()?;
    (1..=31)
        .contains(&day)
        .then(|| format!("{year:04}-{month:02}-{day:02}T00:00:00Z"))
}

/// Parses a DSA or DLA list. `source` names the file in errors.
pub fn parse(source: &str, text: &str) -> Result<Vec<Vulnerability>, CoreError> {
    let err = |line: usize, why: &str| CoreError::InvalidDocument {
        what: "Debian tracker list",
        reason: format!("{source} line {line}: {why}"),
    };
    let mut out: Vec<Vulnerability> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let lineno = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        let line = raw.trim();
        if !indented {
            // `[DD Mon YYYY] ID package - description`
            let rest = line
                .strip_prefix('[')
                .ok_or_else(|| err(lineno, "expected an advisory header"))?;
            let (date, rest) = rest
                .split_once(']')
                .ok_or_else(|| err(lineno, "unterminated date"))?;
            let mut words = rest.trim().splitn(2, ' ');
            let id = words
                .next()
                .filter(|w| !w.is_empty())
                .ok_or_else(|| err(lineno, "missing advisory id"))?;
            let title = words.next().unwrap_or("").trim();
            out.push(Vulnerability {
                id: id.to_string(),
                published: iso_date(date),
                summary: (!title.is_empty()).then(|| title.to_string()),
                ..Vulnerability::default()
            });
            continue;
        }
        let current = out
            .last_mut()
            .ok_or_else(|| err(lineno, "entry line before any advisory header"))?;
        if let Some(ids) = line.strip_prefix('{') {
            let ids = ids
                .strip_suffix('}')
                .ok_or_else(|| err(lineno, "unterminated id list"))?;
            current
                .aliases
                .extend(ids.split_whitespace().map(str::to_string));
        } else if let Some(rest) = line.strip_prefix('[') {
            let (codename, rest) = rest
                .split_once(']')
                .ok_or_else(|| err(lineno, "unterminated release"))?;
            let Some(number) = release_number(codename.trim()) else {
                continue;
            };
            let rest = rest
                .trim()
                .strip_prefix('-')
                .ok_or_else(|| err(lineno, "expected `- package version`"))?;
            let mut words = rest.split_whitespace();
            let package = words.next().ok_or_else(|| err(lineno, "missing package"))?;
            let version = words.next().ok_or_else(|| err(lineno, "missing version"))?;
            if let Some(a) = affected(number, package, version) {
                current.affected.push(a);
            }
        }
        // NOTE: lines and anything else indented are commentary.
    }
    for r in &mut out {
        r.aliases.sort();
        r.aliases.dedup();
    }
    Ok(out)
}

fn affected(number: &str, package: &str, version: &str) -> Option<Affected> {
    let (fixed, status) = match version {
        "<not-affected>" | "<no-dsa>" => return None,
        "<end-of-life>" => (None, Some("end_of_life")),
        "<postponed>" => (None, Some("fix_deferred")),
        "<ignored>" => (None, Some("will_not_fix")),
        "<unfixed>" => (None, Some("affected")),
        v if v.starts_with('<') => return None,
        v => (Some(v.to_string()), None),
    };
    let mut events = vec![Event {
        introduced: Some("0".into()),
        ..Event::default()
    }];
    if let Some(f) = fixed {
        events.push(Event {
            fixed: Some(f),
            ..Event::default()
        });
    }
    Some(Affected {
        package: Some(Package {
            ecosystem: format!("Debian:{number}"),
            name: package.to_string(),
            purl: None,
        }),
        ranges: vec![Range {
            kind: "ECOSYSTEM".into(),
            events,
            ..Range::default()
        }],
        ecosystem_specific: status.map(|s| json!({ "status": s })),
        ..Affected::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let text = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393 CVE-2023-0001}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\tNOTE: x\n[01 Jan 2016] DSA-1-1 vbox - eol\n\t[jessie] - virtualbox <end-of-life>\n\t[lenny] - x <not-affected> (Vulnerable code not present)\n";
        let r = parse("DSA/list", text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].aliases, ["CVE-2023-0001", "CVE-2023-1393"]);
        assert_eq!(r[0].published.as_deref(), Some("2023-03-29T00:00:00Z"));
        assert_eq!(
            r[0].affected[0].package.as_ref().unwrap().ecosystem,
            "Debian:11"
        );
        assert_eq!(r[1].affected.len(), 1);
        assert_eq!(
            r[1].affected[0].ecosystem_specific,
            Some(json!({"status": "end_of_life"}))
        );
        let e = parse("DSA/list", "\t{CVE-1}\n").unwrap_err().to_string();
        assert!(e.contains("DSA/list line 1"), "{e}");
    }
}

//! Serde model of the whole OSV schema (<https://ossf.github.io/osv-schema/>).
//!
//! Every advisory source Customs uses is either published in this format (OSV's
//! per-ecosystem exports) or converted into it ([`super::feeds`]), so this is the one
//! record type the matcher reads. Deserialization is tolerant where real exports are
//! sloppy (unknown fields are ignored, `null` lists read as empty) and strict where a
//! wrong reading would produce a wrong finding: every range event must name exactly
//! one of `introduced`/`fixed`/`last_affected`/`limit`.
use crate::CoreError;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Reads `null` or an absent field as the type's default (OSV exports emit
/// `"aliases": null` and similar).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One OSV record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Vulnerability {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// When set, the record was retracted and must not produce findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Ids of the same vulnerability in other databases.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Ids this record was derived from (e.g. `UBUNTU-CVE-…` → the CVE).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub upstream: Vec<String>,
    /// Ids of *related but different* vulnerabilities; never merged.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityEntry>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<Affected>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub references: Vec<Reference>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub credits: Vec<Credit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// A `severity[]` entry: `type` is `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu` (a
/// priority word); unknown types are kept and ignored by scoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// One affected package of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityEntry>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<Range>,
    /// Explicitly enumerated affected versions (in addition to `ranges`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Package {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A version range: `type` is `ECOSYSTEM`, `SEMVER` or `GIT`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Range {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// A range event. The schema makes it an object with exactly one key; the struct form
/// tolerates extra unknown keys, and [`Vulnerability::validate`] enforces the "exactly
/// one" rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Event {
    /// The event's kind and version, when exactly one key is set.
    pub fn kind(&self) -> Option<(EventKind, &str)> {
        let mut it = [
            (EventKind::Introduced, &self.introduced),
            (EventKind::Fixed, &self.fixed),
            (EventKind::LastAffected, &self.last_affected),
            (EventKind::Limit, &self.limit),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)));
        let first = it.next()?;
        if it.next().is_some() {
            None
        } else {
            Some(first)
        }
    }
}

/// Kinds of range events. The declaration order is the tie-break used when two events
/// carry equal versions (see [`super::range`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    Introduced,
    LastAffected,
    Fixed,
    Limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Credit {
    #[serde(default)]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub contact: Vec<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Largest OSV document accepted (the biggest real records, Linux kernel CVEs with
/// thousands of enumerated versions, are a few MiB).
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

impl Vulnerability {
    /// Parses one JSON record; the error names the record id (when readable) and the
    /// failing field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CoreError> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(invalid(
                "?",
                format!(
                    "{} bytes exceed the {MAX_RECORD_BYTES}-byte limit",
                    bytes.len()
                ),
            ));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| invalid("?", e.to_string()))?;
        Self::from_value(value)
    }

    /// Converts an already-parsed document (JSON, or YAML read into a
    /// [`serde_json::Value`]) and validates it.
    pub fn from_value(value: Value) -> Result<Self, CoreError> {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let record: Vulnerability =
            serde_json::from_value(value).map_err(|e| invalid(&id, e.to_string()))?;
        record.validate()?;
        Ok(record)
    }

    /// Checks the schema rules the matcher relies on.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.id.trim().is_empty() {
            return Err(invalid("?", "field `id` is empty"));
        }
        for (a, affected) in self.affected.iter().enumerate() {
            for (r, range) in affected.ranges.iter().enumerate() {
                for (e, event) in range.events.iter().enumerate() {
                    if event.kind().is_none() {
                        return Err(invalid(
                            &self.id,
                            format!(
                                "field `affected[{a}].ranges[{r}].events[{e}]` must have exactly one of introduced, fixed, last_affected, limit"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the record was retracted.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
    }
}

fn invalid(id: &str, reason: impl Into<String>) -> CoreError {
    let reason: String = reason.into();
    // One line, whatever the underlying error printed.
    let reason = reason.replace(['\n', '\r'], " ");
    CoreError::InvalidDocument {
        what: "OSV record",
        reason: format!("{id}: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_and_tolerates_nulls_and_unknown_fields() {
        let r = Vulnerability::from_json(
            br#"{"id":"X-1","aliases":null,"future_field":1,"affected":[{"package":{"ecosystem":"Debian:12","name":"a"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0-1"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(r.id, "X-1");
        assert!(r.aliases.is_empty());
        assert_eq!(
            r.affected[0].ranges[0].events[1].kind(),
            Some((EventKind::Fixed, "1.0-1"))
        );
    }

    #[test]
    fn malformed_records_name_the_id_and_field() {
        let e = Vulnerability::from_json(
            br#"{"id":"X-2","affected":[{"ranges":[{"type":"ECOSYSTEM","events":[{}]}]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("X-2") && e.contains("affected[0].ranges[0].events[0]"),
            "{e}"
        );
        let e = Vulnerability::from_json(br#"{"id":"X-3","aliases":"CVE-1"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("X-3") && !e.contains('\n'), "{e}");
        let e = Vulnerability::from_json(br#"{"summary":"no id"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("id"), "{e}");
    }
}

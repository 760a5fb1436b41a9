//! Reading the suppression policy's files: the ignore file (`.customs.yaml` or
//! `--ignore-file`) and OpenVEX documents (`--vex`).
//!
//! The ignore file is the team's own YAML, so it is parsed here into
//! [`IgnoreRule`]s and each rule is validated at once by the core's own check:
//! a typo is reported when the file is read, with the file, the entry and, where
//! the YAML parser knows it, the line. VEX documents come from third parties and
//! are only read here (size-capped); the core parses them.
use customs_core::CoreError;
use customs_core::policy::{IgnoreRule, VexInput, validate_ignore_rule};
use serde::Deserialize;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

/// Names the ignore file is discovered by, in order of preference.
pub const IGNORE_FILE_NAMES: &[&str] = &[".customs.yaml", ".customs.yml"];
/// An ignore file is a hand-written list; anything larger is a mistake.
pub const MAX_IGNORE_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Vendor VEX documents can be large, but not this large; the cap keeps a wrong
/// file (an image tarball passed as `--vex`) from exhausting memory.
pub const MAX_VEX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a policy file could not be used. Each renders as one line naming the file.
#[derive(Debug, Error)]
pub enum PolicyFileError {
    #[error("{path}: cannot read")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than the {limit}-byte limit for {what}")]
    TooLarge {
        path: String,
        what: &'static str,
        limit: u64,
    },
    #[error("{path}: not UTF-8 text")]
    NotUtf8 { path: String },
    /// The YAML is malformed or has the wrong shape (unknown key, wrong type).
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    /// A rule is well-formed YAML but not a valid rule (no reason, bad date …);
    /// the message names the file and the entry.
    #[error("{0}")]
    InvalidRule(String),
}

/// The ignore file's shape. Unknown keys are errors: a misspelled `expires` or
/// `reason` must not silently turn into a rule that never expires.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    ignores: Option<Vec<RawRule>>,
}

/// One entry as written. `reason` is optional here only so that its absence is
/// reported by the core's validation, in the same words as every other rule error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default, deserialize_with = "scalar_text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "scalar_text")]
    package: Option<String>,
    #[serde(default, deserialize_with = "scalar_text")]
    path: Option<String>,
    #[serde(default, deserialize_with = "scalar_text")]
    purl: Option<String>,
    #[serde(default, deserialize_with = "scalar_text")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "scalar_text")]
    expires: Option<String>,
}

/// Reads any YAML scalar as its text. YAML resolvers may type an unquoted
/// `2027-01-31` as a timestamp or `12345` as a number; the rule wants the text
/// either way. Mappings and sequences remain type errors.
fn scalar_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    struct Scalar;
    impl serde::de::Visitor<'_> for Scalar {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Scalar)
}

/// `dir/.customs.yaml` (or `.customs.yml`) when it exists.
pub fn discover_ignore_file(dir: &Path) -> Option<PathBuf> {
    IGNORE_FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Reads and validates an ignore file. Each rule's `origin` is
/// `<file>: ignores[<i>]`, with the file named as given.
pub fn load_ignore_file(path: &Path) -> Result<Vec<IgnoreRule>, PolicyFileError> {
    let name = display_name(path);
    let text = read_capped(path, &name, MAX_IGNORE_FILE_BYTES, "an ignore file")?;
    // An empty file (or one holding only comments) is an empty policy.
    let file: Option<IgnoreFile> =
        serde_yaml_ng::from_str(&text).map_err(|e| PolicyFileError::Syntax {
            path: name.clone(),
            message: one_line(&e.to_string()),
        })?;
    let raw = file.and_then(|f| f.ignores).unwrap_or_default();
    let mut rules = Vec::with_capacity(raw.len());
    for (i, entry) in raw.into_iter().enumerate() {
        let rule = IgnoreRule {
            id: entry.id,
            package: entry.package,
            path: entry.path,
            purl: entry.purl,
            reason: entry.reason.unwrap_or_default(),
            expires: entry.expires,
            origin: format!("{name}: ignores[{i}]"),
        };
        validate_ignore_rule(&rule).map_err(|e| {
            PolicyFileError::InvalidRule(match e {
                // The core's reason already starts with the rule's origin.
                CoreError::InvalidDocument { reason, .. } => reason,
                other => other.to_string(),
            })
        })?;
        rules.push(rule);
    }
    Ok(rules)
}

/// Reads a VEX document for the core to parse.
pub fn load_vex(path: &Path) -> Result<VexInput, PolicyFileError> {
    let name = display_name(path);
    let text = read_capped(path, &name, MAX_VEX_FILE_BYTES, "a VEX document")?;
    Ok(VexInput { name, text })
}

/// The path as given, without a leading `./` (discovery joins `.` and the name).
fn display_name(path: &Path) -> String {
    let mut components = path.components();
    match components.next() {
        Some(Component::CurDir) if components.clone().next().is_some() => {
            components.as_path().display().to_string()
        }
        _ => path.display().to_string(),
    }
}

/// Reads at most `limit` bytes of UTF-8 text; a larger file is an error, found
/// without reading it all.
fn read_capped(
    path: &Path,
    name: &str,
    limit: u64,
    what: &'static str,
) -> Result<String, PolicyFileError> {
    let read_error = |source| PolicyFileError::Read {
        path: name.to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(PolicyFileError::TooLarge {
            path: name.to_string(),
            what,
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|_| PolicyFileError::NotUtf8 {
        path: name.to_string(),
    })
}

/// YAML parser messages may span lines (a snippet of the input); errors are one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load(text: &str) -> Result<Vec<IgnoreRule>, PolicyFileError> {
        let dir = tempfile::tempdir().unwrap();
        load_ignore_file(&write(dir.path(), ".customs.yaml", text))
    }

    fn load_err(text: &str) -> String {
        let message = load(text).unwrap_err().to_string();
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn reads_the_documented_example() {
        let rules = load(
            r#"# .customs.yaml
ignores:
  - id: CVE-2023-4911
    reason: "setuid binaries are removed in our image"
    expires: 2027-01-31
  - package: openssl
    path: "usr/lib/**"
    reason: "only the CLI is affected and it is not on PATH"
  - purl: "pkg:deb/debian/zlib1g?distro=debian-12"
    reason: "MiniZip is not shipped"
    expires: 2027-01-31T00:00:00Z
"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].id.as_deref(), Some("CVE-2023-4911"));
        assert_eq!(
            rules[0].expires.as_deref(),
            Some("2027-01-31"),
            "a bare date stays the text as written"
        );
        assert!(
            rules[0].origin.ends_with(".customs.yaml: ignores[0]"),
            "{}",
            rules[0].origin
        );
        assert_eq!(
            (rules[1].package.as_deref(), rules[1].path.as_deref()),
            (Some("openssl"), Some("usr/lib/**"))
        );
        assert_eq!(
            rules[2].purl.as_deref(),
            Some("pkg:deb/debian/zlib1g?distro=debian-12")
        );
        assert_eq!(rules[2].expires.as_deref(), Some("2027-01-31T00:00:00Z"));
    }

    #[test]
    fn the_shared_fixture_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/tests/fixtures/policy/customs.yaml");
        let rules = load_ignore_file(&path).unwrap();
        let ids: Vec<Option<&str>> = rules.iter().map(|r| r.id.as_deref()).collect();
        assert_eq!(
            ids,
            [
                Some("cve-2023-5678"),
                None,
                Some("CVE-2020-0001"),
                Some("CVE-2023-38545"),
                Some("CVE-2023-4911")
            ]
        );
        assert_eq!(rules[1].package.as_deref(), Some("perl"));
        assert_eq!(rules[3].expires.as_deref(), Some("2024-01-31"));
    }

    #[test]
    fn scalars_of_other_types_are_read_as_text() {
        let rules = load("ignores:\n  - id: 12345\n    reason: yes\n").unwrap();
        assert_eq!(rules[0].id.as_deref(), Some("12345"));
        assert_eq!(rules[0].reason, "yes");
    }

    #[test]
    fn unknown_keys_are_errors_naming_file_entry_and_line() {
        let message = load_err(
            "ignores:\n  - id: CVE-2023-4911\n    reason: ok\n  - id: CVE-2024-0727\n    reasn: typo\n",
        );
        assert!(
            message.contains(".customs.yaml: ignores[1]: unknown field `reasn`"),
            "{message}"
        );
        assert!(message.contains("line 5"), "{message}");
        let top = load_err("ignore:\n  - id: CVE-2023-4911\n");
        assert!(top.contains("unknown field `ignore`"), "{top}");
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert!(
            load_err("ignores:\n  - id: [CVE-1, CVE-2]\n    reason: x\n")
                .contains("ignores[0].id: invalid type: sequence")
        );
        assert!(load_err("ignores: CVE-2023-4911\n").contains("ignores: invalid type: string"));
        assert!(
            load_err("ignores:\n  - id: CVE-1\n   reason: bad indent\n")
                .contains(".customs.yaml: ")
        );
    }

    #[test]
    fn invalid_rules_name_file_and_entry() {
        let no_reason = load_err("ignores:\n  - id: CVE-2023-4911\n  - package: zlib\n");
        assert!(
            no_reason.ends_with(
                ".customs.yaml: ignores[0]: `reason` is required: say why the finding is accepted"
            ),
            "{no_reason}"
        );
        let no_selector = load_err("ignores:\n  - reason: because\n");
        assert!(
            no_selector.contains("ignores[0]: the rule selects nothing"),
            "{no_selector}"
        );
        let bad_date = load_err(
            "ignores:\n  - id: CVE-1\n    reason: x\n  - id: CVE-2\n    reason: y\n    expires: 2027-02-30\n",
        );
        assert!(
            bad_date.contains("ignores[1]: `expires` `2027-02-30` is not a date"),
            "{bad_date}"
        );
    }

    #[test]
    fn empty_files_are_empty_policies() {
        assert!(load("").unwrap().is_empty());
        assert!(load("# nothing ignored yet\n").unwrap().is_empty());
        assert!(load("ignores:\n").unwrap().is_empty());
        assert!(load("ignores: []\n").unwrap().is_empty());
    }

    #[test]
    fn discovery_prefers_yaml_then_yml() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(discover_ignore_file(dir.path()), None);
        write(dir.path(), ".customs.yml", "ignores: []\n");
        assert_eq!(
            discover_ignore_file(dir.path()),
            Some(dir.path().join(".customs.yml"))
        );
        write(dir.path(), ".customs.yaml", "ignores: []\n");
        assert_eq!(
            discover_ignore_file(dir.path()),
            Some(dir.path().join(".customs.yaml"))
        );
    }

    #[test]
    fn origin_names_the_file_as_given() {
        assert_eq!(display_name(Path::new("./.customs.yaml")), ".customs.yaml");
        assert_eq!(
            display_name(Path::new("ci/ignores.yaml")),
            "ci/ignores.yaml"
        );
        assert_eq!(display_name(Path::new(".")), ".");
    }

    #[test]
    fn vex_is_read_as_text_with_a_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "app.openvex.json",
            "{\"@context\": \"https://openvex.dev/ns\", \"statements\": []}",
        );
        let input = load_vex(&path).unwrap();
        assert_eq!(input.name, path.display().to_string());
        assert!(input.text.starts_with('{'));

        let missing = load_vex(&dir.path().join("absent.json")).unwrap_err();
        assert!(matches!(missing, PolicyFileError::Read { .. }));
        assert!(missing.to_string().ends_with("absent.json: cannot read"));

        let binary = write(dir.path(), "image.tar", "");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert!(
            load_vex(&binary)
                .unwrap_err()
                .to_string()
                .ends_with("image.tar: not UTF-8 text")
        );

        let big = std::fs::File::create(dir.path().join("big.json")).unwrap();
        big.set_len(MAX_VEX_FILE_BYTES + 1).unwrap();
        let message = load_vex(&dir.path().join("big.json"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("larger than the 67108864-byte limit for a VEX document"),
            "{message}"
        );
    }

    #[test]
    fn the_core_accepts_what_was_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let rules = load_ignore_file(&write(
            dir.path(),
            "ignores.yaml",
            "ignores:\n  - id: CVE-2023-4911\n    reason: accepted\n    expires: 2027-01-31\n",
        ))
        .unwrap();
        let vex = load_vex(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../core/tests/fixtures/policy/vex/billing-api.openvex.json"),
        )
        .unwrap();
        let policy = customs_core::policy::Policy {
            ignores: rules,
            vex: vec![vex],
        };
        let context = customs_core::policy::PolicyContext {
            today: "2026-01-01".into(),
            ..Default::default()
        };
        let outcome = customs_core::policy::apply(Vec::new(), &policy, &context).unwrap();
        assert_eq!(outcome.stale_ignores.len(), 1);
        assert_eq!(outcome.unmatched_vex.len(), 10);
    }
}

//! OpenVEX documents: v0.2.0, and the older v0.0.x shape where `vulnerability` is
//! a string and products and subcomponents are plain purls.
//!
//! VEX documents come from third parties, so every field is checked for its type
//! and every error names the document and the place (`statements[3].products[0]`).
//! Fields this scanner does not use are ignored, as JSON-LD extensions may add any.
use super::VexInput;
use super::date::Timestamp;
use super::purl_match::Purl;
use super::vex::{Component, Product, Statement, VexStatus};
use crate::CoreError;
use serde_json::{Map, Value};

/// Statements read across all documents; beyond this a document is rejected
/// rather than letting a huge or hostile file stall the scan.
pub const MAX_STATEMENTS: usize = 100_000;
/// Products and subcomponents read across all documents, for the same reason.
pub const MAX_COMPONENTS: usize = 100_000;

/// Counts what has been read so far, across documents, against the caps.
#[derive(Debug, Default)]
pub(super) struct Budget {
    statements: usize,
    components: usize,
}

/// Where in a document a value sits, for errors.
struct Place<'a> {
    document: &'a str,
}

impl Place<'_> {
    fn error(&self, at: &str, reason: impl std::fmt::Display) -> CoreError {
        let reason = if at.is_empty() {
            format!("{}: {reason}", self.document)
        } else {
            format!("{}: {at}: {reason}", self.document)
        };
        CoreError::InvalidDocument {
            what: "OpenVEX",
            reason: super::printable(&reason),
        }
    }

    /// An optional string field; any other type is an error.
    fn string<'v>(
        &self,
        object: &'v Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<&'v str>, CoreError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.error(
                &format!("{at}.{key}"),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    fn timestamp(
        &self,
        object: &Map<String, Value>,
        at: &str,
    ) -> Result<Option<Timestamp>, CoreError> {
        let field = if at.is_empty() {
            "timestamp".to_string()
        } else {
            format!("{at}.timestamp")
        };
        match self.string(object, "timestamp", at)? {
            Some(text) => Timestamp::parse(text.trim()).map(Some).ok_or_else(|| {
                self.error(&field, format!("`{text}` is not an RFC 3339 timestamp"))
            }),
            None => Ok(None),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses one document into its statements.
pub(super) fn parse_document(
    input: &VexInput,
    budget: &mut Budget,
) -> Result<Vec<Statement>, CoreError> {
    let place = Place {
        document: &input.name,
    };
    let root: Value = serde_json::from_str(&input.text)
        .map_err(|e| place.error("", format!("not valid JSON: {e}")))?;
    let Value::Object(root) = root else {
        return Err(place.error(
            "",
            format!(
                "not an OpenVEX document: expected a JSON object, found {}",
                kind(&root)
            ),
        ));
    };
    match root.get("@context") {
        Some(Value::String(context)) if context.trim().starts_with("https://openvex.dev/ns") => {}
        Some(Value::String(context)) => {
            return Err(place.error(
                "@context",
                format!("not an OpenVEX document: `{context}` is not https://openvex.dev/ns…"),
            ));
        }
        Some(other) => {
            return Err(place.error(
                "@context",
                format!("expected a string, found {}", kind(other)),
            ));
        }
        None => {
            return Err(place.error(
                "",
                "not an OpenVEX document: no `@context` (https://openvex.dev/ns…)",
            ));
        }
    }
    let document_timestamp = place.timestamp(&root, "")?;
    let statements = match root.get("statements") {
        Some(Value::Array(statements)) => statements,
        Some(other) => {
            return Err(place.error(
                "statements",
                format!("expected an array, found {}", kind(other)),
            ));
        }
        None => return Err(place.error("", "no `statements` array")),
    };
    let mut parsed = Vec::with_capacity(statements.len().min(MAX_STATEMENTS));
    for (i, statement) in statements.iter().enumerate() {
        budget.statements += 1;
        if budget.statements > MAX_STATEMENTS {
            return Err(place.error(
                &format!("statements[{i}]"),
                format!(
                    "more than {MAX_STATEMENTS} VEX statements in all; split or trim the documents"
                ),
            ));
        }
        let mut statement =
            parse_statement(&place, statement, &format!("statements[{i}]"), budget)?;
        statement.timestamp = statement.timestamp.or(document_timestamp);
        parsed.push(statement);
    }
    Ok(parsed)
}

fn parse_statement(
    place: &Place<'_>,
    value: &Value,
    at: &str,
    budget: &mut Budget,
) -> Result<Statement, CoreError> {
    let Value::Object(object) = value else {
        return Err(place.error(at, format!("expected an object, found {}", kind(value))));
    };
    let (vulnerability, ids) = parse_vulnerability(place, object, at)?;
    let status_text = place
        .string(object, "status", at)?
        .ok_or_else(|| place.error(at, "no `status`"))?;
    let status = VexStatus::parse(status_text).ok_or_else(|| {
        place.error(
            &format!("{at}.status"),
            format!(
                "`{status_text}` is not one of not_affected, affected, fixed, under_investigation"
            ),
        )
    })?;
    // v0.0.x listed subcomponents next to the products, for all of them.
    let shared_subcomponents = match object.get("subcomponents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(j, c)| (format!("{at}.subcomponents[{j}]"), c))
            .collect(),
        Some(other) => {
            return Err(place.error(
                &format!("{at}.subcomponents"),
                format!("expected an array, found {}", kind(other)),
            ));
        }
    };
    let mut products = Vec::new();
    match object.get("products") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (j, item) in items.iter().enumerate() {
                let product_at = format!("{at}.products[{j}]");
                let mut product = parse_product(place, item, &product_at, budget)?;
                for (sub_at, sub) in &shared_subcomponents {
                    product
                        .subcomponents
                        .push(parse_component(place, sub, sub_at, budget)?);
                }
                products.push(product);
            }
        }
        Some(other) => {
            return Err(place.error(
                &format!("{at}.products"),
                format!("expected an array, found {}", kind(other)),
            ));
        }
    }
    let justification = place
        .string(object, "justification", at)?
        .map(str::to_string);
    let statement = place
        .string(object, "impact_statement", at)?
        .or(place.string(object, "status_notes", at)?)
        .map(str::to_string);
    Ok(Statement {
        document: place.document.to_string(),
        origin: format!("{}: {at}", place.document),
        vulnerability,
        ids,
        products,
        status,
        justification,
        statement,
        timestamp: place.timestamp(object, at)?,
    })
}

/// The vulnerability's name and every id it goes by (lower case).
fn parse_vulnerability(
    place: &Place<'_>,
    statement: &Map<String, Value>,
    at: &str,
) -> Result<(String, Vec<String>), CoreError> {
    let field = format!("{at}.vulnerability");
    let (name, aliases) = match statement.get("vulnerability") {
        Some(Value::String(name)) => (name.as_str(), Vec::new()),
        Some(Value::Object(vulnerability)) => {
            let name = place
                .string(vulnerability, "name", &field)?
                .ok_or_else(|| place.error(&field, "no `name`"))?;
            let aliases = match vulnerability.get("aliases") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => {
                    let mut aliases = Vec::new();
                    for (k, item) in items.iter().enumerate() {
                        match item {
                            Value::String(alias) => aliases.push(alias.as_str()),
                            other => {
                                return Err(place.error(
                                    &format!("{field}.aliases[{k}]"),
                                    format!("expected a string, found {}", kind(other)),
                                ));
                            }
                        }
                    }
                    aliases
                }
                Some(other) => {
                    return Err(place.error(
                        &format!("{field}.aliases"),
                        format!("expected an array, found {}", kind(other)),
                    ));
                }
            };
            (name, aliases)
        }
        Some(other) => {
            return Err(place.error(
                &field,
                format!("expected an object or a string, found {}", kind(other)),
            ));
        }
        None => return Err(place.error(at, "no `vulnerability`")),
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(place.error(&field, "the vulnerability name is empty"));
    }
    let mut ids: Vec<String> = std::iter::once(name)
        .chain(aliases.into_iter().map(str::trim))
        .filter(|id| !id.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    ids.sort();
    ids.dedup();
    Ok((name.to_string(), ids))
}

fn parse_product(
    place: &Place<'_>,
    value: &Value,
    at: &str,
    budget: &mut Budget,
) -> Result<Product, CoreError> {
    let component = parse_component(place, value, at, budget)?;
    let mut subcomponents = Vec::new();
    if let Value::Object(object) = value {
        match object.get("subcomponents") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (k, item) in items.iter().enumerate() {
                    subcomponents.push(parse_component(
                        place,
                        item,
                        &format!("{at}.subcomponents[{k}]"),
                        budget,
                    )?);
                }
            }
            Some(other) => {
                return Err(place.error(
                    &format!("{at}.subcomponents"),
                    format!("expected an array, found {}", kind(other)),
                ));
            }
        }
    }
    Ok(Product {
        component,
        subcomponents,
    })
}

/// A component: a plain string (v0.0.x) or `{"@id", "identifiers", "hashes"}`.
fn parse_component(
    place: &Place<'_>,
    value: &Value,
    at: &str,
    budget: &mut Budget,
) -> Result<Component, CoreError> {
    budget.components += 1;
    if budget.components > MAX_COMPONENTS {
        return Err(place.error(
            at,
            format!("more than {MAX_COMPONENTS} VEX products and subcomponents in all; split or trim the documents"),
        ));
    }
    let mut component = Component {
        purls: Vec::new(),
        digests: Vec::new(),
        label: String::new(),
    };
    let identify = |text: &str, field: &str, component: &mut Component| -> Result<(), CoreError> {
        let text = text.trim();
        if component.label.is_empty() {
            component.label = text.to_string();
        }
        if text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("pkg:"))
        {
            component
                .purls
                .push(Purl::parse(text).map_err(|e| place.error(field, e))?);
        } else if let Some(digest) = as_digest(text) {
            component.digests.push(digest);
        }
        // Any other IRI is valid OpenVEX but names nothing this scanner can find.
        Ok(())
    };
    match value {
        Value::String(id) => identify(id, at, &mut component)?,
        Value::Object(object) => {
            if let Some(id) = place.string(object, "@id", at)? {
                identify(id, &format!("{at}.@id"), &mut component)?;
            }
            let identifiers_at = format!("{at}.identifiers");
            match object.get("identifiers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(identifiers)) => {
                    if let Some(purl) = place.string(identifiers, "purl", &identifiers_at)? {
                        identify(purl, &format!("{identifiers_at}.purl"), &mut component)?;
                    }
                }
                Some(other) => {
                    return Err(place.error(
                        &identifiers_at,
                        format!("expected an object, found {}", kind(other)),
                    ));
                }
            }
            let hashes_at = format!("{at}.hashes");
            match object.get("hashes") {
                None | Some(Value::Null) => {}
                Some(Value::Object(hashes)) => {
                    for (algorithm, _) in hashes.iter() {
                        if let Some(value) = place.string(hashes, algorithm, &hashes_at)? {
                            // IANA names (`sha-256`) become OCI digest algorithms (`sha256`).
                            let digest = format!(
                                "{}:{}",
                                algorithm.replace('-', "").to_ascii_lowercase(),
                                value.trim().to_ascii_lowercase()
                            );
                            if component.label.is_empty() {
                                component.label = digest.clone();
                            }
                            component.digests.push(digest);
                        }
                    }
                }
                Some(other) => {
                    return Err(place.error(
                        &hashes_at,
                        format!("expected an object, found {}", kind(other)),
                    ));
                }
            }
        }
        other => {
            return Err(place.error(
                at,
                format!("expected an object or a string, found {}", kind(other)),
            ));
        }
    }
    if component.label.is_empty() {
        component.label = "(unidentified product)".to_string();
    }
    Ok(component)
}

/// `sha256:<hex>` (any algorithm word, hex body), lower case.
fn as_digest(text: &str) -> Option<String> {
    let (algorithm, hex) = text.split_once(':')?;
    let valid = !algorithm.is_empty()
        && algorithm.chars().all(|c| c.is_ascii_alphanumeric())
        && hex.len() >= 32
        && hex.chars().all(|c| c.is_ascii_hexdigit());
    valid.then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Statement>, CoreError> {
        parse_document(
            &VexInput {
                name: "app.vex.json".into(),
                text: text.into(),
            },
            &mut Budget::default(),
        )
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const HEAD: &str = r#""@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "a", "timestamp": "2024-01-01T00:00:00Z", "version": 1"#;

    #[test]
    fn reads_the_current_shape() {
        let text = format!(
            r#"{{ {HEAD}, "statements": [{{
                "vulnerability": {{"@id": "https://nvd.nist.gov/vuln/detail/CVE-2023-1", "name": "CVE-2023-1", "aliases": ["GHSA-aaaa-bbbb-cccc"]}},
                "products": [{{"@id": "pkg:oci/app@sha256%3A0123456789abcdef0123456789abcdef", "subcomponents": [{{"@id": "pkg:deb/debian/zlib1g"}}]}}],
                "status": "not_affected", "justification": "vulnerable_code_not_present", "impact_statement": "not built"
            }}] }}"#
        );
        let statements = parse(&text).unwrap();
        let s = &statements[0];
        assert_eq!(s.origin, "app.vex.json: statements[0]");
        assert_eq!(s.ids, ["cve-2023-1", "ghsa-aaaa-bbbb-cccc"]);
        assert_eq!(s.status, VexStatus::NotAffected);
        assert_eq!(s.statement.as_deref(), Some("not built"));
        assert_eq!(
            s.timestamp,
            Timestamp::parse("2024-01-01T00:00:00Z"),
            "inherited from the document"
        );
        assert_eq!(
            s.subject(),
            "CVE-2023-1 on pkg:oci/app@sha256%3A0123456789abcdef0123456789abcdef [pkg:deb/debian/zlib1g]"
        );
    }

    #[test]
    fn reads_the_old_shape() {
        let text = r#"{"@context": "https://openvex.dev/ns", "statements": [{
            "vulnerability": "CVE-2022-1", "products": ["pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"],
            "subcomponents": ["pkg:apk/wolfi/curl"], "status": "fixed", "timestamp": "2023-01-08T18:02:03-06:00"}]}"#;
        let s = &parse(text).unwrap()[0];
        assert_eq!(s.vulnerability, "CVE-2022-1");
        assert_eq!(s.products[0].subcomponents.len(), 1);
        assert_eq!(s.timestamp, Timestamp::parse("2023-01-09T00:02:03Z"));
    }

    #[test]
    fn errors_name_the_place() {
        let cases = [
            (
                "{\"@context\": \"https://openvex.dev/ns\", \"statements\": [",
                "app.vex.json: not valid JSON",
            ),
            ("[]", "expected a JSON object"),
            ("{\"statements\": []}", "no `@context`"),
            (
                "{\"@context\": \"https://cyclonedx.org\", \"statements\": []}",
                "@context: not an OpenVEX document",
            ),
            (
                "{\"@context\": \"https://openvex.dev/ns\"}",
                "no `statements` array",
            ),
            (
                "{\"@context\": \"https://openvex.dev/ns\", \"statements\": {}}",
                "statements: expected an array, found an object",
            ),
            (
                "{\"@context\": \"https://openvex.dev/ns\", \"timestamp\": \"yesterday\", \"statements\": []}",
                "timestamp: `yesterday` is not an RFC 3339",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"status": "fixed"}]}"#,
                "statements[0]: no `vulnerability`",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": {"name": "CVE-1"}}]}"#,
                "statements[0]: no `status`",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "safe"}]}"#,
                "statements[0].status: `safe` is not one of",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": {"name": 5}, "status": "fixed"}]}"#,
                "statements[0].vulnerability.name: expected a string, found a number",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": {"aliases": []}, "status": "fixed"}]}"#,
                "statements[0].vulnerability: no `name`",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": "CVE-1", "status": "fixed", "products": [{"@id": "pkg:deb"}]}]}"#,
                "statements[0].products[0].@id: `pkg:deb` is not a valid purl",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": "CVE-1", "status": "fixed", "products": [7]}]}"#,
                "statements[0].products[0]: expected an object or a string, found a number",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": "CVE-1", "status": "fixed", "products": [{"identifiers": []}]}]}"#,
                "statements[0].products[0].identifiers: expected an object",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": "CVE-1", "status": "fixed", "timestamp": "2024-13-01T00:00:00Z"}]}"#,
                "statements[0].timestamp: `2024-13-01T00:00:00Z` is not an RFC 3339",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns", "statements": ["x"]}"#,
                "statements[0]: expected an object, found a string",
            ),
        ];
        for (text, expected) in cases {
            let message = error(text);
            assert!(
                message.starts_with("invalid OpenVEX document: app.vex.json: "),
                "{message}"
            );
            assert!(message.contains(expected), "{expected}: {message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn caps_bound_the_work() {
        let statement = r#"{"vulnerability": "CVE-1", "status": "fixed"}"#;
        let text = format!(
            r#"{{"@context": "https://openvex.dev/ns", "statements": [{}]}}"#,
            vec![statement; MAX_STATEMENTS + 1].join(",")
        );
        assert!(error(&text).contains(&format!("more than {MAX_STATEMENTS} VEX statements")));
        let products = vec!["\"pkg:deb/debian/x\""; MAX_COMPONENTS + 1].join(",");
        let text = format!(
            r#"{{"@context": "https://openvex.dev/ns", "statements": [{{"vulnerability": "CVE-1", "status": "fixed", "products": [{products}]}}]}}"#
        );
        assert!(
            error(&text).contains("statements[0].products[100000]: more than 100000 VEX products")
        );
    }
}

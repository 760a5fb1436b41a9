//! The subset of the SARIF 2.1.0 object model this renderer writes.
//!
//! Typed structs rather than `serde_json::Value`s: field order is then the order of
//! declaration whatever features `serde_json` is built with (a dependency enabling
//! `preserve_order` would otherwise reorder every object), and a misspelt property
//! name is a compile error instead of an invalid log. Property names follow the
//! schema (`camelCase`); optional parts are left out rather than written as `null`,
//! which the schema mostly forbids.
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub(crate) struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Run {
    pub tool: Tool,
    pub invocations: Vec<Invocation>,
    pub results: Vec<SarifResult>,
    pub column_kind: &'static str,
    pub properties: RunProperties,
}

#[derive(Debug, Serialize)]
pub(crate) struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Driver {
    pub name: &'static str,
    pub full_name: &'static str,
    pub version: String,
    pub information_uri: &'static str,
    pub rules: Vec<Rule>,
}

/// A plain-text message (`message`, `shortDescription` …).
#[derive(Debug, Serialize)]
pub(crate) struct Text {
    pub text: String,
}

/// Text with a Markdown rendering (`help`).
#[derive(Debug, Serialize)]
pub(crate) struct Help {
    pub text: String,
    pub markdown: String,
}

/// A `reportingDescriptor`: one advisory.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rule {
    pub id: String,
    pub short_description: Text,
    pub full_description: Text,
    pub default_configuration: Configuration,
    pub help_uri: String,
    pub help: Help,
    pub properties: RuleProperties,
}

#[derive(Debug, Serialize)]
pub(crate) struct Configuration {
    pub level: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct RuleProperties {
    #[serde(rename = "security-severity")]
    pub security_severity: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Text,
    pub locations: Vec<Location>,
    pub partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<Suppression>,
    pub properties: ResultProperties,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Location {
    pub physical_location: PhysicalLocation,
    pub logical_locations: Vec<LogicalLocation>,
    pub message: Text,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactLocation {
    pub uri: String,
    pub uri_base_id: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Region {
    pub start_line: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogicalLocation {
    pub name: String,
    pub fully_qualified_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decorated_name: Option<String>,
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct Suppression {
    pub kind: &'static str,
    pub status: &'static str,
    pub justification: String,
    pub properties: SuppressionProperties,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SuppressionProperties {
    /// `ignore` or `vex`.
    pub suppressed_by: &'static str,
    /// The ignore rule (`.customs.yaml: ignores[0]`) or VEX statement
    /// (`app.openvex.json: statements[2]`) that suppressed the finding.
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex_justification: Option<String>,
}

/// The finding's facts, for consumers that read more than the message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultProperties {
    pub severity: &'static str,
    pub severity_source: String,
    pub status: &'static str,
    pub package_name: String,
    pub installed_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub source_name: String,
    pub source_version: String,
    pub ecosystem: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub purl: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub package_database: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub layer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<Cvss>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Cvss {
    pub version: String,
    pub vector: String,
    pub score: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Invocation {
    pub execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_execution_notifications: Vec<Notification>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_configuration_notifications: Vec<Notification>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Notification {
    pub descriptor: DescriptorReference,
    pub level: &'static str,
    pub message: Text,
}

#[derive(Debug, Serialize)]
pub(crate) struct DescriptorReference {
    pub id: &'static str,
}

/// What was scanned and how, for consumers and for people reading the file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunProperties {
    pub image_name: String,
    pub image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    pub platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    pub scanners: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<HiddenProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateProperties>,
}

/// Findings the selection left out: not in `results`, counted so that an empty log
/// is not mistaken for a clean image.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HiddenProperties {
    pub by_severity: usize,
    pub unfixed: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatabaseProperties {
    pub built_at: String,
    pub build_id: String,
    pub schema_version: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GateProperties {
    pub enabled: bool,
    pub fail_on: &'static str,
    pub matching: usize,
    pub tripped: bool,
}

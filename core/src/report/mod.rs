//! Rendering the report: `json` (the stable schema of `docs/report-schema.md`),
//! `table` (for people reading a job log) and `sarif` (SARIF 2.1.0, for code-scanning
//! dashboards such as GitHub's).
//!
//! Rendering lives in the core so that every host (CLI, a browser, a registry hook)
//! prints the same bytes for the same report.
//!
//! Modules, one job each: `table` (the inventory table), `vuln_table` (the
//! vulnerability part of the table), `sarif` (the SARIF log), `text` (cleaning and
//! aligning cells), `fingerprint` (stable result identities for SARIF).
mod fingerprint;
mod sarif;
mod table;
mod text;
mod vuln_table;

use crate::{CoreError, model::Report};

/// Renders the report as `json`, `table` or `sarif`.
pub fn render(report: &Report, format: &str) -> Result<String, CoreError> {
    match format {
        "json" => pretty_json(report, "report"),
        "table" => Ok(table::render(report)),
        "sarif" => pretty_json(&sarif::log(report), "SARIF log"),
        other => Err(CoreError::Usage(format!(
            "unknown report format `{other}` (expected json, table or sarif)"
        ))),
    }
}

/// Pretty-printed JSON with a final newline, as files and terminals expect.
fn pretty_json<T: serde::Serialize>(value: &T, what: &'static str) -> Result<String, CoreError> {
    let mut out = serde_json::to_string_pretty(value).map_err(|e| CoreError::InvalidDocument {
        what,
        reason: e.to_string(),
    })?;
    out.push('\n');
    Ok(out)
}

//! The string-in/string-out API that both engines call.
//!
//! The wasm component (`component.rs`) and the host's native engine go through these
//! exact functions and exchange the same JSON documents, which is what makes the two
//! engines' reports byte-identical.
use crate::{
    CoreError,
    layer::{Interest, LayerAnalyzer},
    merge,
    model::{EntryMeta, ImageMeta, LayerFacts, MergeOptions},
    report,
};

/// The [`Interest`] as JSON.
pub fn interest_json() -> String {
    serde_json::to_string(&Interest::standard()).expect("Interest serializes")
}

/// One layer's analysis session.
pub struct LayerSession {
    analyzer: Option<LayerAnalyzer>,
}

impl LayerSession {
    pub fn new(diff_id: &str) -> Self {
        LayerSession {
            analyzer: Some(LayerAnalyzer::new(diff_id)),
        }
    }

    fn analyzer(&mut self) -> Result<&mut LayerAnalyzer, String> {
        self.analyzer
            .as_mut()
            .ok_or_else(|| "layer session used after finish".to_string())
    }

    pub fn add_entries(&mut self, entries: &[EntryMeta]) -> Result<(), String> {
        self.analyzer()?
            .add_entries(entries)
            .map_err(|e| e.to_string())
    }

    pub fn add_file(&mut self, path: &str, content: &[u8]) -> Result<(), String> {
        self.analyzer()?
            .add_file(path, content)
            .map_err(|e| e.to_string())
    }

    /// Ends the session and returns the layer facts as JSON.
    pub fn finish(&mut self) -> Result<String, String> {
        let analyzer = self
            .analyzer
            .take()
            .ok_or_else(|| "layer session finished twice".to_string())?;
        let facts = analyzer.finish().map_err(|e| e.to_string())?;
        serde_json::to_string(&facts).map_err(|e| e.to_string())
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &'static str, json: &str) -> Result<T, CoreError> {
    serde_json::from_str(json).map_err(|e| CoreError::InvalidDocument {
        what,
        reason: e.to_string(),
    })
}

/// Merges layer facts (JSON each) into the report (JSON).
pub fn merge_json(
    image_json: &str,
    layers_json: &[String],
    options_json: &str,
) -> Result<String, String> {
    let run = || -> Result<String, CoreError> {
        let image: ImageMeta = parse("image", image_json)?;
        let options: MergeOptions = parse("options", options_json)?;
        let layers = layers_json
            .iter()
            .map(|l| parse::<LayerFacts>("layer facts", l))
            .collect::<Result<Vec<_>, _>>()?;
        let report = merge::merge(&image, &layers, &options)?;
        serde_json::to_string(&report).map_err(|e| CoreError::InvalidDocument {
            what: "report",
            reason: e.to_string(),
        })
    };
    run().map_err(|e| e.to_string())
}

/// Renders a report (JSON) in `format` (`json`, `table` or `sarif`).
pub fn render(report_json: &str, format: &str) -> Result<String, String> {
    let report = parse("report", report_json).map_err(|e| e.to_string())?;
    report::render(&report, format).map_err(|e| e.to_string())
}

/// Matches the report's packages against advisory records (OSV JSON each) and
/// returns the report (JSON) with its `vulnerabilities` section set.
///
/// The host selects the records (everything under the scan's lookup keys, see
/// [`crate::vuln::lookup_requests`], plus the records those reference); they are
/// parsed here, inside the sandbox, like any other untrusted input.
pub fn match_vulnerabilities_json(
    report_json: &str,
    records_json: &[String],
    options_json: &str,
) -> Result<String, String> {
    let run = || -> Result<String, CoreError> {
        let mut report: crate::model::Report = parse("report", report_json)?;
        let options: crate::vuln::VulnOptions = parse("vulnerability options", options_json)?;
        let mut db = crate::vuln::AdvisoryDb::new();
        for (i, text) in records_json.iter().enumerate() {
            let record: crate::vuln::osv::Vulnerability =
                serde_json::from_str(text).map_err(|e| CoreError::InvalidDocument {
                    what: "advisory record",
                    reason: format!("record {i}: {e}"),
                })?;
            db.insert(record);
        }
        report.vulnerabilities = Some(crate::vuln::section::build(&report, &db, &options)?);
        serde_json::to_string(&report).map_err(|e| CoreError::InvalidDocument {
            what: "report",
            reason: e.to_string(),
        })
    };
    run().map_err(|e| e.to_string())
}

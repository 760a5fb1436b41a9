//! The core linked into the host, through the same JSON API as the sandbox.
use super::{Engine, EngineError, LayerSession};
use customs_core::{api, model::EntryMeta};

/// Runs the core natively: no sandbox, used for tests, benchmarks and debugging.
pub struct NativeEngine;

struct NativeSession(api::LayerSession);

impl LayerSession for NativeSession {
    fn add_entries(&mut self, entries: &[EntryMeta]) -> Result<(), EngineError> {
        self.0.add_entries(entries).map_err(EngineError::Analysis)
    }

    fn add_file(&mut self, path: &str, content: &[u8]) -> Result<(), EngineError> {
        self.0
            .add_file(path, content)
            .map_err(EngineError::Analysis)
    }

    fn finish(mut self: Box<Self>) -> Result<String, EngineError> {
        self.0.finish().map_err(EngineError::Analysis)
    }
}

impl Engine for NativeEngine {
    fn interest_json(&self) -> Result<String, EngineError> {
        Ok(api::interest_json())
    }

    fn layer(&self, diff_id: &str) -> Result<Box<dyn LayerSession>, EngineError> {
        Ok(Box::new(NativeSession(api::LayerSession::new(diff_id))))
    }

    fn merge(
        &self,
        image_json: &str,
        layers_json: &[String],
        options_json: &str,
    ) -> Result<String, EngineError> {
        api::merge_json(image_json, layers_json, options_json).map_err(EngineError::Analysis)
    }

    fn match_vulnerabilities(
        &self,
        report_json: &str,
        records_json: &[String],
        options_json: &str,
    ) -> Result<String, EngineError> {
        api::match_vulnerabilities_json(report_json, records_json, options_json)
            .map_err(EngineError::Analysis)
    }

    fn render(&self, report_json: &str, format: &str) -> Result<String, EngineError> {
        api::render(report_json, format).map_err(EngineError::Analysis)
    }
}

//! Rendering. (being written)
use crate::{CoreError, model::Report};

/// Renders the report as `json` or `table`.
pub fn render(_report: &Report, _format: &str) -> Result<String, CoreError> {
    Err(CoreError::Usage("not yet".into()))
}

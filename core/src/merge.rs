//! Merging layers. (being written)
use crate::{
    CoreError,
    model::{ImageMeta, LayerFacts, MergeOptions, Report},
};

/// Applies the layers in order (whiteouts, opaque directories) and builds the report.
pub fn merge(_image: &ImageMeta, _layers: &[LayerFacts], _options: &MergeOptions) -> Result<Report, CoreError> {
    Err(CoreError::Usage("not yet".into()))
}

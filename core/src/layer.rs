//! Per-layer analysis. (being written)
use crate::{
    CoreError,
    model::{EntryMeta, LayerFacts},
};
use serde::{Deserialize, Serialize};

/// Which files the analyzers need the content of. The host evaluates it natively
/// while it walks a layer, so only these files cross into the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// Largest file the analyzers accept; larger wanted files are an error.
    pub max_file_size: u64,
}

impl Interest {
    pub fn standard() -> Self {
        Interest { max_file_size: 512 << 20 }
    }

    /// True when the analyzers need the content of the file at `path` (normalized).
    pub fn wants(&self, _path: &str) -> bool {
        false
    }
}

/// Collects one layer's entries and wanted files, and turns them into [`LayerFacts`].
pub struct LayerAnalyzer {
    facts: LayerFacts,
}

impl LayerAnalyzer {
    pub fn new(diff_id: &str) -> Self {
        LayerAnalyzer { facts: LayerFacts { diff_id: diff_id.to_string(), ..Default::default() } }
    }

    /// Records the metadata of entries, in tar order. Every entry of the layer must
    /// be passed here, wanted or not, before its content (if wanted) is passed to
    /// [`LayerAnalyzer::add_file`].
    pub fn add_entries(&mut self, _entries: &[EntryMeta]) -> Result<(), CoreError> {
        Ok(())
    }

    /// Passes the content of a wanted file (path as in the tar).
    pub fn add_file(&mut self, _path: &str, _content: &[u8]) -> Result<(), CoreError> {
        Ok(())
    }

    pub fn finish(self) -> Result<LayerFacts, CoreError> {
        Ok(self.facts)
    }
}

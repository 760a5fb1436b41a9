//! The analysis engines: the core run inside wasmtime (default) or linked natively.
//!
//! Both engines implement [`Engine`] over the core's string-in/string-out API
//! (`customs_core::api`), so they exchange byte-identical JSON documents and the
//! report does not depend on the engine. The native engine exists to measure what the
//! sandbox costs and for debugging; the sandbox is what protects the runner from a
//! hostile image.
use customs_core::model::EntryMeta;
use thiserror::Error;

pub mod native;
pub mod wasm;

/// Which engine runs the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The core as a WASI component inside wasmtime: no filesystem, network or
    /// environment, a memory cap and a deadline.
    Wasm,
    /// The core linked into the host.
    Native,
}

/// Resource limits of the sandboxed core, per call into it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum linear memory of one core instance, in bytes.
    pub memory_bytes: usize,
    /// Maximum wall time of one call into the core, in milliseconds.
    pub call_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // One instance holds at most one layer's wanted files (each capped by the
        // core's Interest) plus their parsed form; 1 GiB leaves room for a large rpmdb
        // while still stopping a hostile "allocate forever" input.
        Limits {
            memory_bytes: 1 << 30,
            call_timeout_ms: 60_000,
        }
    }
}

#[derive(Debug, Error)]
pub enum EngineError {
    /// The core rejected its input (a corrupt package database, …).
    #[error("{0}")]
    Analysis(String),
    /// The sandboxed core ran past its memory cap.
    #[error("analysis core exceeded its memory limit of {limit_mib} MiB while {during}")]
    MemoryLimit { limit_mib: usize, during: String },
    /// The sandboxed core ran past its deadline.
    #[error("analysis core exceeded its time limit of {limit_ms} ms while {during}")]
    Timeout { limit_ms: u64, during: String },
    /// The sandboxed core trapped (e.g. a panic inside the core).
    #[error("analysis core crashed while {during}: {reason}")]
    Trap { during: String, reason: String },
    /// The engine could not be set up.
    #[error("cannot start the analysis engine: {0}")]
    Setup(String),
}

/// One layer's analysis session inside an engine.
pub trait LayerSession: Send {
    /// Records entries' metadata, in tar order.
    fn add_entries(&mut self, entries: &[EntryMeta]) -> Result<(), EngineError>;
    /// Passes the content of a file the core's interest wants.
    fn add_file(&mut self, path: &str, content: &[u8]) -> Result<(), EngineError>;
    /// Ends the session, returning the layer facts as JSON.
    fn finish(self: Box<Self>) -> Result<String, EngineError>;
}

/// An engine that runs the analysis core.
pub trait Engine: Send + Sync {
    /// The core's `Interest` as JSON.
    fn interest_json(&self) -> Result<String, EngineError>;
    /// Starts analyzing one layer.
    fn layer(&self, diff_id: &str) -> Result<Box<dyn LayerSession>, EngineError>;
    /// Merges layer facts into the report (JSON).
    fn merge(
        &self,
        image_json: &str,
        layers_json: &[String],
        options_json: &str,
    ) -> Result<String, EngineError>;
    /// Matches the report's packages against advisory records (OSV JSON each); returns
    /// the report with its `vulnerabilities` section.
    fn match_vulnerabilities(
        &self,
        report_json: &str,
        records_json: &[String],
        options_json: &str,
    ) -> Result<String, EngineError>;
    /// Renders the report (JSON) as `format`.
    fn render(&self, report_json: &str, format: &str) -> Result<String, EngineError>;
}

/// Creates the engine of `kind`.
pub fn create(kind: EngineKind, limits: Limits) -> Result<Box<dyn Engine>, EngineError> {
    match kind {
        EngineKind::Native => Ok(Box::new(native::NativeEngine)),
        EngineKind::Wasm => Ok(Box::new(wasm::WasmEngine::new(limits)?)),
    }
}

/// Creates the engine of `kind`, keeping the compiled component under `cache_dir`
/// (the scan's cache directory) instead of the default one.
pub fn create_with_cache(
    kind: EngineKind,
    limits: Limits,
    cache_dir: Option<&std::path::Path>,
) -> Result<Box<dyn Engine>, EngineError> {
    match kind {
        EngineKind::Native => Ok(Box::new(native::NativeEngine)),
        EngineKind::Wasm => Ok(Box::new(wasm::WasmEngine::with_cache_dir(
            limits, cache_dir,
        )?)),
    }
}

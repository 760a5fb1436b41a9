//! Errors of the core. Each renders as one line that names what failed and where.
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// A package database (or other analyzed file) could not be parsed.
    #[error("corrupt {kind} database {path}: {reason}")]
    CorruptDatabase {
        kind: &'static str,
        path: String,
        reason: String,
    },
    /// A file the analyzers asked for is larger than they accept.
    #[error("{path}: file of {size} bytes exceeds the {limit}-byte limit for analysis")]
    FileTooLarge { path: String, size: u64, limit: u64 },
    /// A JSON document passed across the engine boundary is malformed.
    #[error("invalid {what} document: {reason}")]
    InvalidDocument { what: &'static str, reason: String },
    /// The caller used the API out of order (e.g. a layer session after `finish`).
    #[error("{0}")]
    Usage(String),
}

impl CoreError {
    pub fn corrupt(kind: &'static str, path: &str, reason: impl Into<String>) -> Self {
        CoreError::CorruptDatabase {
            kind,
            path: path.to_string(),
            reason: reason.into(),
        }
    }
}

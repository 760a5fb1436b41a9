//! The Customs host: acquires images, verifies them, runs the analysis core (inside
//! wasmtime by default, or linked natively), and writes reports.
//!
//! The binary (`src/main.rs`) is a thin wrapper over [`cli::run`]; the benchmark and
//! the integration tests use this library directly.
pub mod acquire;
pub mod cache;
pub mod cli;
pub mod cli_db;
pub mod cli_registry;
pub mod daemon;
pub mod engine;
pub mod http_retry;
pub mod image;
pub mod policy_file;
pub mod progress;
pub mod registry;
pub mod scan;
pub mod vulndb;

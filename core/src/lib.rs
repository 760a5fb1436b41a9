//! `customs-core`: the pure analysis library of the Customs image scanner.
//!
//! Everything an image *contains* is hostile input, so every parser of image content
//! lives here, in a crate with no I/O, no clock, no threads and no network. The host
//! runs it inside a wasmtime sandbox (as a WASI component, see `wit/world.wit`) or,
//! for tests and benchmarks, links it natively. Both paths exchange the same JSON
//! documents, so both produce byte-identical reports.
//!
//! Flow: the host streams each layer's tar entries into a [`layer::LayerAnalyzer`]
//! (metadata of every entry, content only of the files [`layer::Interest`] asks for),
//! which yields [`model::LayerFacts`]; [`merge::merge`] applies the layers in order and
//! produces the [`model::Report`]; [`report`] renders it.
// No unsafe code anywhere in the analysis core. The component glue, which wit-bindgen
// generates as unsafe canonical-ABI exports, lives in its own crate (`core/component`).
#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod layer;
pub mod merge;
pub mod model;
pub mod os;
pub mod path;
pub mod pkgdb;
pub mod policy;
pub mod purl;
pub mod report;
pub mod version;
pub mod vuln;

pub use error::CoreError;

/// Version of the analyzer set. Part of the layer-facts cache key: bump it whenever
/// a change to any analyzer can change [`model::LayerFacts`] for the same layer.
pub const ANALYZER_VERSION: u32 = 2;

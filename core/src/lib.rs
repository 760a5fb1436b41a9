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
// No unsafe code anywhere in the analysis core. The one exception is the component
// glue that wit-bindgen generates for the wasm32 build (the canonical ABI's exports are
// `unsafe extern "C"` by nature), so on wasm32 the lint is `deny` with an `allow` on
// that module only: `forbid` could not be lifted for it.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![cfg_attr(target_arch = "wasm32", deny(unsafe_code))]

pub mod api;
pub mod error;
pub mod layer;
pub mod merge;
pub mod model;
pub mod os;
pub mod path;
pub mod pkgdb;
pub mod purl;
pub mod report;
pub mod version;
pub mod vuln;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

pub use error::CoreError;

/// Version of the analyzer set. Part of the layer-facts cache key: bump it whenever
/// a change to any analyzer can change [`model::LayerFacts`] for the same layer.
pub const ANALYZER_VERSION: u32 = 1;

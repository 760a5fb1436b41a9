//! Helpers shared by several test binaries.
pub mod osv;
pub mod registry;

//! Converters from advisory feeds that are not OSV into OSV records, so that the
//! matcher has one input format. Each is pure: the host reads the files.
pub mod alpine_secdb;
pub mod debian_tracker;

//! Operating-system detection from release files. (being written)
use crate::model::OsInfo;
use std::collections::BTreeMap;

/// The release files OS detection reads, relative to the root.
pub const OS_FILES: &[&str] = &["etc/os-release", "usr/lib/os-release"];

/// Detects the OS from the final filesystem's release files (path -> content).
pub fn detect(_files: &BTreeMap<String, String>) -> Option<OsInfo> {
    None
}

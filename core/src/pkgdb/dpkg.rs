//! dpkg status databases. (being written)
use crate::{CoreError, model::Package};

/// Parses `var/lib/dpkg/status` (or an opkg status file): only installed packages.
pub fn parse_status(_path: &str, _content: &[u8]) -> Result<Vec<Package>, CoreError> {
    Ok(Vec::new())
}

/// Parses one distroless `var/lib/dpkg/status.d/<name>` file.
pub fn parse_status_d(_path: &str, _content: &[u8]) -> Result<Vec<Package>, CoreError> {
    Ok(Vec::new())
}

//! apk installed databases. (being written)
use crate::{CoreError, model::Package};

/// Parses `lib/apk/db/installed`.
pub fn parse_installed(_path: &str, _content: &[u8]) -> Result<Vec<Package>, CoreError> {
    Ok(Vec::new())
}

//! rpm databases in all three on-disk formats. (being written)
use crate::{CoreError, model::Package};

pub fn parse_sqlite(_path: &str, _content: &[u8], _wal: Option<&[u8]>) -> Result<Vec<Package>, CoreError> { Ok(Vec::new()) }
pub fn parse_bdb(_path: &str, _content: &[u8]) -> Result<Vec<Package>, CoreError> { Ok(Vec::new()) }
pub fn parse_ndb(_path: &str, _content: &[u8]) -> Result<Vec<Package>, CoreError> { Ok(Vec::new()) }
/// CBL-Mariner distroless `var/lib/rpmmanifest/container-manifest-2`.
pub fn parse_manifest(_path: &str, _content: &[u8]) -> Result<Vec<Package>, CoreError> { Ok(Vec::new()) }

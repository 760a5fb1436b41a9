//! Random access into an uncompressed outer tar (docker-archive, oci-archive).
//!
//! The archive is indexed once (headers only: `entries_with_seek` skips file data),
//! recording where each regular file's bytes live. Blobs are then read straight from
//! the archive file by offset, by as many threads as there are layers, without ever
//! extracting anything. Because every read is `offset..offset+size` of the archive
//! file itself, a hostile entry name (`../x`, `/etc/passwd`) or link target can at
//! worst point at another entry of the same archive, never at the host filesystem.
use super::{ImageError, Limits};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Symlink/hardlink hops allowed while resolving one name (Linux's own limit).
const MAX_LINK_HOPS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File {
        offset: u64,
        size: u64,
    },
    Dir,
    /// Target relative to the link's directory (or to the root when absolute).
    Symlink(String),
    /// Target relative to the archive root (tar semantics).
    Hardlink(String),
    /// Devices, fifos, sparse files: present but not readable as a blob.
    Other,
}

/// Where a (resolved) regular file's bytes are in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The entry's normalized name after following links.
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

/// The index of one outer tar.
#[derive(Debug)]
pub struct ArchiveIndex {
    path: PathBuf,
    entries: BTreeMap<String, Node>,
}

/// Normalizes an entry name: strips `./` and empty components; `None` for names that
/// are absolute or contain `..`, which no image writer produces and which could only
/// serve to shadow legitimate names.
pub fn normalize_entry_name(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

impl ArchiveIndex {
    /// Reads every header of the tar at `path`.
    pub fn build(path: &Path, limits: &Limits) -> Result<ArchiveIndex, ImageError> {
        let display = path.display().to_string();
        let mut file = File::open(path).map_err(|e| ImageError::io(&display, e))?;
        let len = file
            .metadata()
            .map_err(|e| ImageError::io(&display, e))?
            .len();
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut file, &mut magic).map_err(|e| ImageError::io(&display, e))?;
        if let Some(kind) = super::decompress::Compression::sniff(&magic[..n]).compressed_name() {
            return Err(ImageError::CompressedArchive {
                path: display,
                compression: kind,
            });
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ImageError::io(&display, e))?;

        let mut archive = tar::Archive::new(file);
        let iter = archive
            .entries_with_seek()
            .map_err(|e| ImageError::io(&display, e))?;
        let mut entries = BTreeMap::new();
        let mut seen = 0usize;
        for entry in iter {
            let entry = entry.map_err(|e| {
                if seen == 0 {
                    ImageError::NotATar {
                        path: display.clone(),
                        detail: e.to_string(),
                    }
                } else {
                    ImageError::Truncated {
                        path: display.clone(),
                        detail: format!("corrupt tar header after {seen} entries: {e}"),
                    }
                }
            })?;
            seen += 1;
            if seen > limits.max_archive_entries {
                return Err(ImageError::TooLarge {
                    what: format!("{display}: number of archive entries"),
                    size: seen as u64,
                    limit: limits.max_archive_entries as u64,
                });
            }
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let offset = entry.raw_file_position();
            let size = entry.size();
            let kind = entry.header().entry_type();
            let node = if kind.is_file() || kind == tar::EntryType::Continuous {
                let end = offset.checked_add(size);
                if end.is_none_or(|end| end > len) {
                    return Err(ImageError::Truncated {
                        path: display.clone(),
                        detail: format!(
                            "entry {raw_name:?} claims {size} bytes at offset {offset}, \
                             but the file has {len} bytes"
                        ),
                    });
                }
                Node::File { offset, size }
            } else if kind.is_dir() {
                Node::Dir
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                if kind.is_symlink() {
                    Node::Symlink(target)
                } else {
                    Node::Hardlink(target)
                }
            } else if kind.is_pax_global_extensions()
                || kind.is_pax_local_extensions()
                || kind.is_gnu_longname()
                || kind.is_gnu_longlink()
            {
                continue;
            } else {
                Node::Other
            };
            match normalize_entry_name(&raw_name) {
                // Later entries replace earlier ones, as when a tar is extracted.
                Some(name) => {
                    entries.insert(name, node);
                }
                None => {
                    let shown = &display;
                    tracing::warn!(archive = %shown, entry = %raw_name, "ignoring archive entry outside the archive root");
                }
            }
        }
        Ok(ArchiveIndex {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Follows symlinks and hardlinks (also in directory components) and returns where
    /// the file's bytes are; `Ok(None)` when nothing by that name exists. Link targets
    /// that climb above the archive root and link loops are errors.
    pub fn resolve(&self, name: &str) -> Result<Option<Region>, ImageError> {
        let display = || self.path.display().to_string();
        let mut pending: Vec<String> = name
            .split('/')
            .rev()
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if name.starts_with('/') {
            return Ok(None);
        }
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0usize;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    if resolved.pop().is_none() {
                        return Err(ImageError::HostilePath {
                            path: display(),
                            detail: format!("{name:?} points outside the archive"),
                        });
                    }
                    continue;
                }
                _ => resolved.push(c),
            }
            let current = resolved.join("/");
            let (target, root_relative) = match self.entries.get(&current) {
                Some(Node::Symlink(t)) => (t.clone(), t.starts_with('/')),
                Some(Node::Hardlink(t)) => (t.clone(), true),
                Some(Node::File { .. } | Node::Other) if !pending.is_empty() => return Ok(None),
                _ => continue,
            };
            hops += 1;
            if hops > MAX_LINK_HOPS {
                return Err(ImageError::HostilePath {
                    path: display(),
                    detail: format!("too many levels of links resolving {name:?}"),
                });
            }
            resolved.pop();
            if root_relative {
                resolved.clear();
            }
            pending.extend(
                target
                    .split('/')
                    .rev()
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
        }
        let name = resolved.join("/");
        match self.entries.get(&name) {
            Some(Node::File { offset, size }) => Ok(Some(Region {
                name,
                offset: *offset,
                size: *size,
            })),
            Some(Node::Dir | Node::Other) => Err(ImageError::HostilePath {
                path: display(),
                detail: format!("{name:?} is not a regular file"),
            }),
            _ => Ok(None),
        }
    }
}

/// Reads until `buf` is full or EOF; returns the number of bytes read.
pub fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: &[(&str, Node)]) -> ArchiveIndex {
        ArchiveIndex {
            path: PathBuf::from("t.tar"),
            entries: entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn links_resolve_inside_and_loops_fail() {
        let f = Node::File {
            offset: 512,
            size: 3,
        };
        let ix = index(&[
            ("abc.tar", f.clone()),
            ("id/layer.tar", Node::Symlink("../abc.tar".into())),
            ("hard", Node::Hardlink("abc.tar".into())),
            ("dirlink", Node::Symlink("id".into())),
            ("loop1", Node::Symlink("loop2".into())),
            ("loop2", Node::Symlink("loop1".into())),
            ("up", Node::Symlink("../../etc/passwd".into())),
        ]);
        assert_eq!(ix.resolve("id/layer.tar").unwrap().unwrap().name, "abc.tar");
        assert_eq!(ix.resolve("./hard").unwrap().unwrap().offset, 512);
        assert_eq!(
            ix.resolve("dirlink/layer.tar").unwrap().unwrap().name,
            "abc.tar"
        );
        assert!(ix.resolve("loop1").is_err());
        assert!(ix.resolve("up").is_err());
        assert_eq!(ix.resolve("missing").unwrap(), None);
        assert_eq!(ix.resolve("abc.tar/x").unwrap(), None);
        assert_eq!(normalize_entry_name("./a//b/"), Some("a/b".into()));
        assert_eq!(normalize_entry_name("a/../b"), None);
        assert_eq!(normalize_entry_name("/etc/passwd"), None);
    }
}

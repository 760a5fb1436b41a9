//! Where an image's files live: entries of an outer tar, or files of a directory
//! (OCI layout, extracted docker save). The format readers only see names relative
//! to the image root and get back [`Blob`]s they can open any number of times.
use super::archive::{ArchiveIndex, normalize_entry_name};
use super::digest::{Digest, digest_like};
use super::{ImageError, Limits};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The container of an image's files.
#[derive(Debug, Clone)]
pub enum Store {
    Archive(Arc<ArchiveIndex>),
    Dir {
        /// Canonical root: every file we open must canonicalize to below it.
        root: PathBuf,
        /// The root as the user wrote it, for messages.
        display: String,
    },
}

/// One file of the image, located but not yet read.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The file holding the bytes (the archive, or the file itself).
    path: PathBuf,
    offset: u64,
    pub size: u64,
    /// The resolved name inside the store (after following links).
    pub name: String,
    /// `ARCHIVE:NAME` or `DIR/NAME`, for messages.
    pub display: String,
}

impl Blob {
    /// Opens a fresh handle positioned at the blob, limited to its size. Each call
    /// opens its own `File`, so blobs can be read from several threads at once.
    pub fn open(&self) -> Result<Take<File>, ImageError> {
        let mut f = File::open(&self.path).map_err(|e| ImageError::io(&self.display, e))?;
        if self.offset > 0 {
            f.seek(SeekFrom::Start(self.offset))
                .map_err(|e| ImageError::io(&self.display, e))?;
        }
        Ok(f.take(self.size))
    }

    /// Reads the first bytes (compression sniffing).
    pub fn head(&self, n: usize) -> Result<Vec<u8>, ImageError> {
        let mut r = self.open()?;
        let mut buf = vec![0u8; n];
        let got = super::archive::read_up_to(&mut r, &mut buf)
            .map_err(|e| ImageError::io(&self.display, e))?;
        buf.truncate(got);
        Ok(buf)
    }

    /// Reads a small blob (JSON) whole, refusing sizes above the limit.
    pub fn read_small(&self, limits: &Limits) -> Result<Vec<u8>, ImageError> {
        if self.size > limits.max_json_size {
            return Err(ImageError::TooLarge {
                what: self.display.clone(),
                size: self.size,
                limit: limits.max_json_size,
            });
        }
        let mut buf = Vec::with_capacity(self.size as usize);
        self.open()?
            .read_to_end(&mut buf)
            .map_err(|e| ImageError::io(&self.display, e))?;
        if (buf.len() as u64) < self.size {
            return Err(ImageError::Truncated {
                path: self.display.clone(),
                detail: format!("got {} of {} bytes", buf.len(), self.size),
            });
        }
        Ok(buf)
    }
}

impl Store {
    pub fn archive(path: &Path, limits: &Limits) -> Result<Store, ImageError> {
        Ok(Store::Archive(Arc::new(ArchiveIndex::build(path, limits)?)))
    }

    pub fn dir(path: &Path) -> Result<Store, ImageError> {
        let display = path.display().to_string();
        let root = std::fs::canonicalize(path).map_err(|e| ImageError::io(&display, e))?;
        Ok(Store::Dir { root, display })
    }

    /// The store's own name (archive path or directory), for messages.
    pub fn display(&self) -> String {
        match self {
            Store::Archive(ix) => ix.path().display().to_string(),
            Store::Dir { display, .. } => display.clone(),
        }
    }

    /// How a name inside the store is shown in messages.
    pub fn display_name(&self, name: &str) -> String {
        match self {
            Store::Archive(ix) => format!("{}:{name}", ix.path().display()),
            Store::Dir { display, .. } => {
                format!("{}/{name}", display.trim_end_matches('/'))
            }
        }
    }

    /// Whether a regular file by this name exists.
    pub fn has_file(&self, name: &str) -> bool {
        matches!(self.locate(name), Ok(Some(_)))
    }

    /// Finds a file by name; `Ok(None)` when it does not exist. In a directory,
    /// symlinks are followed only while they stay inside the root.
    pub fn locate(&self, name: &str) -> Result<Option<Blob>, ImageError> {
        match self {
            Store::Archive(ix) => Ok(ix.resolve(name)?.map(|r| Blob {
                path: ix.path().to_path_buf(),
                offset: r.offset,
                size: r.size,
                display: self.display_name(&r.name),
                name: r.name,
            })),
            Store::Dir { root, display } => {
                let Some(rel) = normalize_entry_name(name) else {
                    return Err(ImageError::HostilePath {
                        path: display.clone(),
                        detail: format!("{name:?} points outside the image directory"),
                    });
                };
                let shown = self.display_name(&rel);
                let real = match std::fs::canonicalize(root.join(&rel)) {
                    Ok(p) => p,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(ImageError::io(&shown, e)),
                };
                if !real.starts_with(root) {
                    return Err(ImageError::HostilePath {
                        path: shown,
                        detail: "symlink resolves outside the image directory".into(),
                    });
                }
                let md = std::fs::metadata(&real).map_err(|e| ImageError::io(&shown, e))?;
                if !md.is_file() {
                    return Err(ImageError::HostilePath {
                        path: shown,
                        detail: "not a regular file".into(),
                    });
                }
                Ok(Some(Blob {
                    path: real,
                    offset: 0,
                    size: md.len(),
                    name: rel,
                    display: shown,
                }))
            }
        }
    }

    /// Like [`Store::locate`], but a missing file is an error naming who needed it.
    pub fn require(&self, name: &str, referenced_by: &str) -> Result<Blob, ImageError> {
        self.locate(name)?.ok_or_else(|| ImageError::MissingBlob {
            file: self.display(),
            blob: name.to_string(),
            referenced_by: referenced_by.to_string(),
        })
    }

    /// Reads the blob a descriptor points to and verifies its size and digest.
    pub fn read_verified(
        &self,
        digest: &Digest,
        size: u64,
        referenced_by: &str,
        limits: &Limits,
    ) -> Result<(Vec<u8>, Blob), ImageError> {
        let blob = self
            .locate(&digest.blob_path())?
            .ok_or_else(|| ImageError::MissingBlob {
                file: self.display(),
                blob: digest.to_string(),
                referenced_by: referenced_by.to_string(),
            })?;
        if blob.size != size {
            return Err(ImageError::SizeMismatch {
                blob: digest.to_string(),
                file: blob.display.clone(),
                expected: size,
                actual: blob.size,
            });
        }
        let bytes = blob.read_small(limits)?;
        let got = digest_like(digest, &bytes);
        if &got != digest {
            return Err(ImageError::DigestMismatch {
                blob: digest.to_string(),
                file: blob.display.clone(),
                got: got.to_string(),
            });
        }
        Ok((bytes, blob))
    }
}

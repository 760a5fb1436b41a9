//! Reading images from local files: docker-archives (`docker save`, podman, skopeo),
//! OCI archives, OCI layout directories and extracted docker-save directories.
//!
//! [`open`] parses and verifies everything small up front (index, manifest, config,
//! the archive's table of contents) and locates every layer blob, so that format
//! problems surface before any analysis starts. Layers are then streamed with
//! [`Image::open_layer`], one independent file handle each, so the scan pipeline can
//! analyze them in parallel; each [`LayerReader`] hashes the stored bytes and the
//! decompressed bytes as they pass and refuses to end cleanly unless both digests
//! match what the manifest and the config promised.
//!
//! Layers may also live in a registry ([`crate::registry`]): a `LayerSource` then
//! holds a `RemoteBlob` that opens an HTTP stream per call, and the same verifying
//! reader sits on top, so local and remote layers get exactly the same checks.
//!
//! Nothing is ever extracted to disk and no blob is ever held in memory whole (only
//! JSON documents, bounded by [`Limits`]).
mod archive;
pub(crate) mod config;
pub(crate) mod decompress;
pub mod digest;
mod docker_archive;
mod oci;
pub mod platform;
pub mod reference;
pub(crate) mod spec;
mod store;
mod verify;

use customs_core::model::{ImageMeta, LayerInfo};
use decompress::{Compression, Decoder};
use digest::{Digest, Hasher};
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use store::{Blob, Store};
use verify::{StreamError, VerifyingReader, invalid_data, is_stream_error};

pub use platform::Platform;
pub use reference::Selector;

/// Everything that can go wrong reading an image. Each message is one line and names
/// the file or blob concerned.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("{path} is neither a docker-archive nor an OCI image: no manifest.json or index.json")]
    NotAnImage { path: String },
    #[error("{path} is not a tar archive ({detail})")]
    NotATar { path: String, detail: String },
    #[error(
        "{path} is {compression}-compressed; image archives must be plain tar (decompress it first)"
    )]
    CompressedArchive {
        path: String,
        compression: &'static str,
    },
    #[error("{path}: truncated archive: {detail}")]
    Truncated { path: String, detail: String },
    #[error("blob {blob} in {file}: digest mismatch, got {got}")]
    DigestMismatch {
        blob: String,
        file: String,
        got: String,
    },
    #[error(
        "blob {blob} in {file}: size mismatch: descriptor says {expected} bytes, stored blob has {actual}"
    )]
    SizeMismatch {
        blob: String,
        file: String,
        expected: u64,
        actual: u64,
    },
    #[error(
        "layer {index} (blob {blob} in {file}): uncompressed content does not match the config's diff_id {diff_id}: digest mismatch, got {got}"
    )]
    DiffIdMismatch {
        index: usize,
        blob: String,
        file: String,
        diff_id: String,
        got: String,
    },
    #[error("{file}: blob {blob} is missing (referenced by {referenced_by})")]
    MissingBlob {
        file: String,
        blob: String,
        referenced_by: String,
    },
    #[error(
        "{file}: the config lists {diff_ids} rootfs.diff_ids but the manifest lists {layers} layers"
    )]
    LayerCountMismatch {
        file: String,
        diff_ids: usize,
        layers: usize,
    },
    #[error("{file}: unsupported media type {media_type:?} ({what})")]
    UnsupportedMediaType {
        file: String,
        media_type: String,
        what: String,
    },
    #[error("{file}: invalid JSON: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{file}: {detail}")]
    Invalid { file: String, detail: String },
    #[error("{what}: size {size} exceeds the limit of {limit}")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("{path}: {detail}")]
    HostilePath { path: String, detail: String },
    #[error("{path} holds several images, pick one with PATH:NAME or PATH@DIGEST: {available}")]
    SeveralImages { path: String, available: String },
    #[error("{path}: no image matches {selector:?}; available: {available}")]
    NoSuchImage {
        path: String,
        selector: String,
        available: String,
    },
    #[error("{path}: no image for platform {platform}; available: {available}")]
    NoPlatform {
        path: String,
        platform: String,
        available: String,
    },
    #[error("{path}: several images match platform {platform}, pick one by digest: {available}")]
    AmbiguousPlatform {
        path: String,
        platform: String,
        available: String,
    },
    /// A layer stream failed (truncation, decompression error); the message names the blob.
    #[error("{0}")]
    Stream(String),
    #[error("{file}: layer index {index} out of range ({count} layers)")]
    LayerIndex {
        file: String,
        index: usize,
        count: usize,
    },
}

impl ImageError {
    pub(crate) fn io(path: &str, source: io::Error) -> ImageError {
        if source.kind() == io::ErrorKind::NotFound {
            return ImageError::NotFound {
                path: path.to_string(),
            };
        }
        ImageError::Io {
            path: path.to_string(),
            source,
        }
    }

    pub(crate) fn json(file: &str, source: serde_json::Error) -> ImageError {
        ImageError::Json {
            file: file.to_string(),
            source,
        }
    }
}

/// Bounds on what an untrusted image may make us allocate or walk.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest JSON document (manifest.json, index, manifest, config) read into memory.
    pub max_json_size: u64,
    /// Most entries indexed in an outer tar.
    pub max_archive_entries: usize,
    /// Most layers in one image.
    pub max_layers: usize,
    /// Most descriptors visited across all (nested) indexes.
    pub max_index_entries: usize,
    /// Deepest index nesting.
    pub max_index_depth: usize,
    /// Largest blob size a descriptor may claim (a sanity bound, 1 TiB).
    pub max_blob_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_size: 64 << 20,
            max_archive_entries: 1_000_000,
            max_layers: 10_000,
            max_index_entries: 100_000,
            max_index_depth: 8,
            max_blob_size: 1 << 40,
        }
    }
}

/// An opened, verified-so-far image: metadata, config, and where its layers are.
#[derive(Debug)]
pub struct Image {
    pub meta: ImageMeta,
    /// The image config as stored (User, Env, Healthcheck, … for later checks).
    pub config: serde_json::Value,
    layers: Vec<LayerSource>,
}

/// A layer blob stored somewhere other than a local file (a registry). Each
/// [`RemoteBlob::open`] starts an independent stream of the stored (compressed)
/// bytes, so layers can be read from several threads at once.
pub(crate) trait RemoteBlob: std::fmt::Debug + Send + Sync {
    fn open(&self) -> Result<Box<dyn Read + Send>, ImageError>;
}

/// Where a layer's stored bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum LayerBlob {
    Local(Blob),
    Remote {
        size: u64,
        /// `REGISTRY/REPOSITORY`, for messages.
        display: String,
        source: Arc<dyn RemoteBlob>,
    },
}

impl LayerBlob {
    fn size(&self) -> u64 {
        match self {
            LayerBlob::Local(b) => b.size,
            LayerBlob::Remote { size, .. } => *size,
        }
    }

    fn display(&self) -> &str {
        match self {
            LayerBlob::Local(b) => &b.display,
            LayerBlob::Remote { display, .. } => display,
        }
    }

    fn open(&self) -> Result<Box<dyn Read + Send>, ImageError> {
        match self {
            LayerBlob::Local(b) => Ok(Box::new(b.open()?)),
            LayerBlob::Remote { source, .. } => source.open(),
        }
    }
}

/// One layer blob and what it must hash to.
#[derive(Debug, Clone)]
pub(crate) struct LayerSource {
    blob: LayerBlob,
    /// The stored blob's digest, when the source names it (OCI descriptors,
    /// digest-named docker-archive files).
    digest: Option<Digest>,
    diff_id: Digest,
    compression: Compression,
    /// The compression was taken from the media type without looking at the bytes
    /// (remote blobs: sniffing up front would cost a request per layer), so the magic
    /// bytes are checked when the stream opens instead.
    check_magic: bool,
}

impl LayerSource {
    /// A layer in a registry. `declared` comes from the manifest's media type; the
    /// magic bytes are compared with it once the stream starts.
    pub(crate) fn remote(
        size: u64,
        display: String,
        source: Arc<dyn RemoteBlob>,
        digest: Digest,
        diff_id: Digest,
        declared: Compression,
    ) -> LayerSource {
        LayerSource {
            blob: LayerBlob::Remote {
                size,
                display,
                source,
            },
            digest: Some(digest),
            diff_id,
            compression: declared,
            check_magic: true,
        }
    }

    /// Locates a layer and settles its compression: the magic bytes decide, and a
    /// declared compression (from the media type) must agree with them.
    pub(crate) fn new(
        blob: Blob,
        digest: Option<Digest>,
        diff_id: Digest,
        declared: Option<Compression>,
    ) -> Result<LayerSource, ImageError> {
        let sniffed = Compression::sniff(&blob.head(4)?);
        if let Some(declared) = declared
            && declared != sniffed
        {
            return Err(ImageError::Invalid {
                file: blob.display.clone(),
                detail: format!(
                    "layer media type declares {} compression but the content is {}",
                    declared.as_str(),
                    match sniffed {
                        Compression::None => "not compressed",
                        c => c.as_str(),
                    }
                ),
            });
        }
        Ok(LayerSource {
            blob: LayerBlob::Local(blob),
            digest,
            diff_id,
            compression: sniffed,
            check_magic: false,
        })
    }
}

/// What a format reader found, before it becomes an [`Image`].
pub(crate) struct Resolved {
    pub source: &'static str,
    pub tags: Vec<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Digest,
    pub config: config::ImageConfig,
    pub layers: Vec<LayerSource>,
}

/// Opens the image named by `reference` (see [`mod@reference`] for the syntax).
/// `platform` picks from multi-platform indexes (default: the host's platform); for
/// single-platform sources an explicitly requested platform must match the image.
pub fn open(reference: &str, platform: Option<&Platform>) -> Result<Image, ImageError> {
    open_with_limits(reference, platform, &Limits::default())
}

/// [`open`] with explicit resource bounds.
pub fn open_with_limits(
    reference: &str,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Image, ImageError> {
    let arg = reference::resolve(reference)?;
    let display = arg.path.display().to_string();
    let md = std::fs::metadata(&arg.path).map_err(|e| ImageError::io(&display, e))?;
    let sel = arg.selector.as_ref();
    let resolved = if md.is_dir() {
        let store = Store::dir(&arg.path)?;
        if store.has_file("manifest.json") {
            docker_archive::read(&store, "docker-directory", sel, platform, limits)?
        } else if store.has_file("index.json") {
            oci::read(&store, "oci-layout", sel, platform, limits)?
        } else {
            return Err(ImageError::NotAnImage { path: display });
        }
    } else if md.is_file() {
        let store = Store::archive(&arg.path, limits)?;
        let docker = store.has_file("manifest.json");
        let oci = store.has_file("index.json");
        // Docker 25+ and containerd exports carry both: manifest.json for the repo tags,
        // index.json for manifest digests. A digest selector can only mean the latter.
        if docker && !(oci && matches!(sel, Some(Selector::Digest(_)))) {
            docker_archive::read(&store, "docker-archive", sel, platform, limits)?
        } else if oci {
            let source = if docker {
                "docker-archive"
            } else {
                "oci-archive"
            };
            oci::read(&store, source, sel, platform, limits)?
        } else {
            return Err(ImageError::NotAnImage { path: display });
        }
    } else {
        return Err(ImageError::Io {
            path: display,
            source: io::Error::other("not a regular file or directory"),
        });
    };
    Ok(Image::from_resolved(reference, resolved))
}

impl Image {
    pub(crate) fn from_resolved(reference: &str, r: Resolved) -> Image {
        let layers_meta = r
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| LayerInfo {
                diff_id: l.diff_id.to_string(),
                digest: l.digest.as_ref().map(Digest::to_string),
                size: l.blob.size(),
                compression: l.compression.as_str().to_string(),
                created_by: r.config.layer_history.get(i).cloned().flatten(),
            })
            .collect();
        let mut tags = r.tags;
        tags.sort();
        tags.dedup();
        Image {
            meta: ImageMeta {
                reference: reference.to_string(),
                source: r.source.to_string(),
                tags,
                manifest_digest: r.manifest_digest.as_ref().map(Digest::to_string),
                config_digest: r.config_digest.to_string(),
                platform: r.config.platform.to_string(),
                layers: layers_meta,
            },
            config: r.config.raw,
            layers: r.layers,
        }
    }

    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// Opens layer `index` for streaming: yields the DECOMPRESSED tar bytes. Each call
    /// opens its own file handle, so layers can be read concurrently.
    pub fn open_layer(&self, index: usize) -> Result<LayerReader, ImageError> {
        let src = self
            .layers
            .get(index)
            .ok_or_else(|| ImageError::LayerIndex {
                file: self.meta.reference.clone(),
                index,
                count: self.layers.len(),
            })?;
        let what: Arc<str> = match &src.digest {
            Some(d) => format!("blob {d} in {}", src.blob.display()),
            None => format!("layer {index} in {}", src.blob.display()),
        }
        .into();
        let progress = Arc::new(AtomicU64::new(0));
        let algorithm = src
            .digest
            .as_ref()
            .map_or(digest::Algorithm::Sha256, Digest::algorithm);
        let mut stream = src.blob.open()?;
        if src.check_magic {
            let mut head = [0u8; 4];
            let got = archive::read_up_to(&mut stream, &mut head)
                .map_err(|e| ImageError::Stream(format!("{what}: read error: {e}")))?;
            let sniffed = Compression::sniff(&head[..got]);
            if sniffed != src.compression {
                return Err(ImageError::Invalid {
                    file: what.to_string(),
                    detail: format!(
                        "layer media type declares {} compression but the content is {}",
                        src.compression.as_str(),
                        sniffed.compressed_name().unwrap_or("not compressed")
                    ),
                });
            }
            stream = Box::new(io::Cursor::new(head[..got].to_vec()).chain(stream));
        }
        let raw = VerifyingReader::new(
            stream,
            algorithm,
            src.blob.size(),
            progress.clone(),
            what.clone(),
        );
        let decoder = Decoder::new(src.compression, raw)
            .map_err(|e| ImageError::Stream(format!("{what}: {e}")))?;
        // An uncompressed blob named by its diffID (docker-archives, Docker 25+ exports)
        // needs one hash, not two: the stored bytes are the tar bytes.
        let diff_is_blob =
            src.compression == Compression::None && src.digest.as_ref() == Some(&src.diff_id);
        Ok(LayerReader {
            decoder,
            diff_hasher: Hasher::new(src.diff_id.algorithm()),
            diff_is_blob,
            index,
            source: src.clone(),
            what,
            progress,
            state: State::Streaming,
        })
    }
}

enum State {
    Streaming,
    Verified,
    /// Verification failed; the error is returned by `finish` (and, as text, by `read`).
    Failed(Option<ImageError>, String),
}

/// The decompressed bytes of one layer, verified as they stream.
pub struct LayerReader {
    decoder: Decoder<VerifyingReader<Box<dyn Read + Send>>>,
    diff_hasher: Hasher,
    /// The diffID equals the blob digest, and the bytes are identical: hash once.
    diff_is_blob: bool,
    index: usize,
    source: LayerSource,
    what: Arc<str>,
    progress: Arc<AtomicU64>,
    state: State,
}

impl std::fmt::Debug for LayerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerReader")
            .field("layer", &self.index)
            .field("blob", &&*self.what)
            .finish_non_exhaustive()
    }
}

impl LayerReader {
    /// Compressed bytes read so far (for progress bars); cheap, thread-safe handle.
    pub fn progress_counter(&self) -> Arc<AtomicU64> {
        self.progress.clone()
    }

    /// Drains what the tar reader left unread and checks the blob digest and the
    /// diffID; a mismatch is a hard error naming the blob.
    pub fn finish(mut self) -> Result<(), ImageError> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(match &mut self.state {
                        State::Failed(err, _) => err
                            .take()
                            .unwrap_or_else(|| ImageError::Stream(e.to_string())),
                        _ => ImageError::Stream(e.to_string()),
                    });
                }
            }
        }
        match std::mem::replace(&mut self.state, State::Verified) {
            State::Failed(Some(err), _) => Err(err),
            State::Failed(None, msg) => Err(ImageError::Stream(msg)),
            _ => Ok(()),
        }
    }

    /// At the end of the decompressed stream: drains the raw blob (bytes after the
    /// compressed stream still belong to the blob's digest) and compares both digests.
    fn verify_at_end(&mut self) -> Result<(), ImageError> {
        let mut buf = [0u8; 8192];
        loop {
            match self.decoder.read_raw(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ImageError::Stream(e.to_string())),
            }
        }
        let raw = self.decoder.raw_mut();
        let blob_digest = raw.take_digest();
        let src = &self.source;
        let blob_name = src
            .digest
            .as_ref()
            .map_or_else(|| format!("layer {}", self.index), Digest::to_string);
        if let Some(expected) = &src.digest
            && &blob_digest != expected
        {
            return Err(ImageError::DigestMismatch {
                blob: expected.to_string(),
                file: src.blob.display().to_string(),
                got: blob_digest.to_string(),
            });
        }
        let diff = if self.diff_is_blob {
            blob_digest
        } else {
            std::mem::replace(&mut self.diff_hasher, Hasher::new(src.diff_id.algorithm())).finish()
        };
        if diff != src.diff_id {
            return Err(ImageError::DiffIdMismatch {
                index: self.index,
                blob: blob_name,
                file: src.blob.display().to_string(),
                diff_id: src.diff_id.to_string(),
                got: diff.to_string(),
            });
        }
        Ok(())
    }
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.state {
            State::Verified => return Ok(0),
            State::Failed(_, msg) => return Err(invalid_data(msg.clone())),
            State::Streaming => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = match self.decoder.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let msg = if is_stream_error(&e) {
                    e.to_string()
                } else {
                    format!(
                        "{}: {} decompression failed: {e}",
                        self.what,
                        self.source.compression.as_str()
                    )
                };
                self.state = State::Failed(Some(ImageError::Stream(msg.clone())), msg.clone());
                return Err(invalid_data(msg));
            }
        };
        if n == 0 {
            return match self.verify_at_end() {
                Ok(()) => {
                    self.state = State::Verified;
                    Ok(0)
                }
                Err(err) => {
                    let msg = err.to_string();
                    self.state = State::Failed(Some(err), msg.clone());
                    Err(io::Error::new(io::ErrorKind::InvalidData, StreamError(msg)))
                }
            };
        }
        if !self.diff_is_blob {
            self.diff_hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_reader_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<LayerReader>();
        assert_send::<Image>();
        fn assert_sync<T: Sync>() {}
        assert_sync::<Image>();
    }
}

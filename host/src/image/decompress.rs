//! Layer compression: detection by magic bytes and by media type, and the decoders.
//!
//! Both signals are checked because each alone is unreliable in a hostile archive: a
//! media type can lie, and a plain tar could in principle start with compressed-looking
//! bytes. When the manifest declares a compression and the bytes disagree, we stop
//! rather than guess, since the diffID would not match either way and the error is
//! clearer this way.
use std::io::{self, BufReader, Read};

/// The compression of a stored layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What a layer media type says about compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTypeCompression {
    /// A known layer media type.
    Known(Compression),
    /// Not a layer media type we can unpack (encrypted, artifacts, …).
    Unsupported,
}

impl Compression {
    /// Detects the compression from the first bytes of a blob.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The compression a layer media type declares.
    pub fn from_media_type(media_type: &str) -> MediaTypeCompression {
        use Compression::*;
        match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => MediaTypeCompression::Known(None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                MediaTypeCompression::Known(Gzip)
            }
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
                MediaTypeCompression::Known(Zstd)
            }
            _ => MediaTypeCompression::Unsupported,
        }
    }

    /// `gzip`, `zstd` or `none`, as recorded in [`customs_core::model::LayerInfo`].
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The name of the compression, `None` for uncompressed data.
    pub fn compressed_name(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            c => Some(c.as_str()),
        }
    }
}

/// A decompressing reader that keeps access to the raw reader, so that what the
/// decoder leaves unread (trailing bytes) can still be drained into the blob hash.
pub enum Decoder<R: Read> {
    Plain(R),
    // Boxed: the decoder states are large and a layer reader is moved between threads.
    Gzip(Box<flate2::read::MultiGzDecoder<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<R>>>),
}

/// zstd's default decoder window limit (128 MiB), stated explicitly: a frame asking
/// for a larger window is refused instead of making us allocate it.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

impl<R: Read> Decoder<R> {
    pub fn new(compression: Compression, inner: R) -> io::Result<Decoder<R>> {
        Ok(match compression {
            Compression::None => Decoder::Plain(inner),
            // Multi-member gzip streams are valid gzip (pigz and some registries emit
            // them); a single-member decoder would stop after the first member.
            Compression::Gzip => Decoder::Gzip(Box::new(flate2::read::MultiGzDecoder::new(inner))),
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::new(inner)?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Decoder::Zstd(Box::new(d))
            }
        })
    }

    /// Reads the raw stream below the decoder (for draining after the decoder's end).
    pub fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.get_mut().read(buf),
            Decoder::Zstd(d) => d.get_mut().read(buf),
        }
    }

    /// The raw reader (bytes buffered inside the decoder were already read from it).
    pub fn raw_mut(&mut self) -> &mut R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut().get_mut(),
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

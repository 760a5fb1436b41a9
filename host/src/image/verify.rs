//! Readers that hash what passes through them.
//!
//! A blob is verified while it streams, never buffered: the compressed bytes go
//! through a [`VerifyingReader`] (blob digest, size, progress), the decompressed
//! bytes through the layer reader's own hasher (diffID). Truncation is reported by
//! the reader itself, as `InvalidData` naming the blob, so that a tar parser sitting
//! on top cannot mistake a cut-off blob for a short but valid layer.
use super::digest::{Algorithm, Digest, Hasher};
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The payload of the `io::Error`s the image readers produce, so that layers of
/// readers can recognize an already-descriptive error and pass it on unchanged.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StreamError(pub String);

/// Builds an `InvalidData` error carrying a [`StreamError`].
pub fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, StreamError(message))
}

/// Whether `e` already carries one of our descriptive messages.
pub fn is_stream_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<StreamError>())
}

/// Hashes and counts the bytes of one stored blob.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Hasher,
    algorithm: Algorithm,
    read: u64,
    expected_size: u64,
    progress: Arc<AtomicU64>,
    /// `blob sha256:… in FILE`, for error messages.
    what: Arc<str>,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(
        inner: R,
        algorithm: Algorithm,
        expected_size: u64,
        progress: Arc<AtomicU64>,
        what: Arc<str>,
    ) -> Self {
        VerifyingReader {
            inner,
            hasher: Hasher::new(algorithm),
            algorithm,
            read: 0,
            expected_size,
            progress,
            what,
        }
    }

    /// The digest of everything read so far; resets the hasher.
    pub fn take_digest(&mut self) -> Digest {
        std::mem::replace(&mut self.hasher, Hasher::new(self.algorithm)).finish()
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if is_stream_error(&e) || e.kind() == io::ErrorKind::Interrupted => {
                return Err(e);
            }
            Err(e) => return Err(invalid_data(format!("{}: read error: {e}", self.what))),
        };
        if n == 0 && self.read < self.expected_size {
            return Err(invalid_data(format!(
                "{}: truncated: got {} of {} bytes",
                self.what, self.read, self.expected_size
            )));
        }
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

//! Fetching one OSV export (`<base>/<ECOSYSTEM>/all.zip`) from a list of mirrors.
//!
//! - **Mirrors in order.** Each base URL is tried in turn; a mirror that keeps
//!   answering 429/5xx, times out or cannot be reached is given up for the next one,
//!   and the error names every mirror's failure.
//! - **Retries.** 429, 500, 502, 503, 504 and transport failures (refused or reset
//!   connections, timeouts, a body cut short) are retried with exponential backoff and
//!   full jitter, honouring `Retry-After`, within a bounded number of attempts.
//! - **Conditional.** When the database already holds this ecosystem as downloaded
//!   from the same URL, the request carries its `If-None-Match`/`If-Modified-Since`
//!   validators; a `304` means nothing to rebuild.
//! - **Resumable.** The body streams into `downloads/<ecosystem>.zip.part` beside a
//!   small JSON file with the URL and validators. A retry (in this run or the next)
//!   asks for the rest with `Range` + `If-Range`, so a changed file is never spliced
//!   onto an old prefix: the server answers `200` with the whole new file instead.
//! - **Bounded and verified.** The body may not exceed [`DownloadOptions::max_bytes`];
//!   its length must match what the server announced; when the server publishes a
//!   digest of the object (`x-goog-hash: md5=…` as the OSV bucket does, `Repr-Digest:
//!   sha-256=:…:`, or `Digest: SHA-256=…`) it must match; and the zip's central
//!   directory must be readable (each entry's CRC-32 is checked when it is read).
//!   The SHA-256 of every accepted file is recorded in the database.
use crate::http_retry;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;
use ureq::Agent;
use ureq::tls::TlsConfig;

/// Limits and timing of downloads.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Largest export accepted (the biggest OSV distro exports are a few hundred MiB).
    pub max_bytes: u64,
    /// Tries per mirror, including the first (at least 1).
    pub attempts_per_mirror: u32,
    /// First backoff; doubles per retry.
    pub base_delay: Duration,
    /// Largest single wait, also the cap for `Retry-After` (a hostile or confused
    /// server must not park the pipeline for an hour).
    pub max_delay: Duration,
    pub connect_timeout: Duration,
    /// A read that delivers nothing for this long fails (and is retried/resumed).
    pub read_timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            max_bytes: 2 << 30,
            attempts_per_mirror: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// Validators of a downloaded representation, remembered per URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// What the database already holds for an ecosystem.
#[derive(Debug, Clone)]
pub struct Previous {
    pub url: String,
    pub validators: Validators,
}

/// A completed download.
#[derive(Debug)]
pub struct Downloaded {
    pub url: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    pub validators: Validators,
    /// Whether a partial download was continued with `Range`.
    pub resumed: bool,
    /// Which digest the server published and we checked, if any.
    pub verified_with: Option<&'static str>,
}

/// The result of fetching one ecosystem.
#[derive(Debug)]
pub enum Fetched {
    /// The server confirmed the held copy is current (`304`).
    NotModified {
        url: String,
    },
    Downloaded(Downloaded),
}

#[derive(Debug, Error)]
pub enum DownloadError {
    #[error("OSV export {ecosystem}: every mirror failed: {detail}")]
    AllMirrorsFailed { ecosystem: String, detail: String },
    #[error("OSV export {ecosystem}: no mirror URL given")]
    NoMirror { ecosystem: String },
    #[error("download directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// Why one mirror did not deliver (one line each, joined in the final error).
#[derive(Debug)]
enum Attempt {
    /// Worth another try (429/5xx, transport failure, body cut short).
    Transient(String),
    /// Trying again will not help at this mirror (404, too large, digest mismatch).
    Fatal(String),
}

/// Fetches OSV exports into a download directory.
pub struct Downloader {
    agent: Agent,
    options: DownloadOptions,
    dir: PathBuf,
}

/// The URL of an ecosystem's export under `base` (`Rocky Linux` → `Rocky%20Linux`).
pub fn export_url(base: &str, ecosystem: &str) -> String {
    let mut seg = String::new();
    for b in ecosystem.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            seg.push(char::from(b));
        } else {
            seg.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/{seg}/all.zip", base.trim_end_matches('/'))
}

/// A file-name-safe form of an ecosystem name.
fn file_stem(ecosystem: &str) -> String {
    ecosystem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Sidecar of a partial download: what it is a prefix of.
#[derive(Debug, Serialize, Deserialize)]
struct PartState {
    url: String,
    validators: Validators,
}

impl Downloader {
    /// A downloader keeping partial files in `dir` (created if needed).
    pub fn new(dir: &Path, options: DownloadOptions) -> Result<Self, DownloadError> {
        fs::create_dir_all(dir).map_err(|source| DownloadError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let tls = TlsConfig::builder()
            .root_certs(crate::registry::client::system_roots())
            .build();
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            .max_redirects(5)
            .build()
            .new_agent();
        Ok(Downloader {
            agent,
            options,
            dir: dir.to_path_buf(),
        })
    }

    /// Fetches `ecosystem` from the first mirror of `bases` that delivers it.
    pub fn fetch(
        &self,
        ecosystem: &str,
        bases: &[String],
        previous: Option<&Previous>,
    ) -> Result<Fetched, DownloadError> {
        if bases.is_empty() {
            return Err(DownloadError::NoMirror {
                ecosystem: ecosystem.to_string(),
            });
        }
        let part = self.dir.join(format!("{}.zip.part", file_stem(ecosystem)));
        let mut failures = Vec::new();
        for base in bases {
            let url = export_url(base, ecosystem);
            // Validators only mean something to the URL that issued them.
            let conditional = previous
                .filter(|p| p.url == url && !p.validators.is_empty())
                .map(|p| &p.validators);
            match self.fetch_url(&url, &part, conditional) {
                Ok(f) => return Ok(f),
                Err(why) => {
                    tracing::warn!(%url, reason = %why, "OSV mirror failed; trying the next one");
                    failures.push(format!("{url}: {why}"));
                }
            }
        }
        Err(DownloadError::AllMirrorsFailed {
            ecosystem: ecosystem.to_string(),
            detail: failures.join("; "),
        })
    }

    /// Tries one URL with retries; returns a one-line reason on failure.
    fn fetch_url(
        &self,
        url: &str,
        part: &Path,
        conditional: Option<&Validators>,
    ) -> Result<Fetched, String> {
        let max = self.options.attempts_per_mirror.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (why, retry_after) = match self.try_once(url, part, conditional) {
                Ok(f) => return Ok(f),
                Err((Attempt::Fatal(why), _)) => return Err(why),
                Err((Attempt::Transient(why), ra)) => (why, ra),
            };
            if attempt >= max {
                return Err(format!("{why} (after {attempt} attempts)"));
            }
            let delay = self.delay(attempt, retry_after);
            tracing::debug!(%url, attempt, delay_ms = delay.as_millis() as u64, reason = %why, "retrying");
            std::thread::sleep(delay);
        }
    }

    /// Full-jitter exponential backoff, or the server's `Retry-After` (capped).
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        http_retry::backoff(
            attempt,
            self.options.base_delay,
            self.options.max_delay,
            retry_after,
        )
    }

    /// One request. On failure, says whether to retry and any `Retry-After`.
    fn try_once(
        &self,
        url: &str,
        part: &Path,
        conditional: Option<&Validators>,
    ) -> Result<Fetched, (Attempt, Option<Duration>)> {
        let io_fatal = |what: &str, e: io::Error| {
            (
                Attempt::Fatal(format!("{what} {}: {e}", part.display())),
                None,
            )
        };
        // A partial file is resumable only if it is a prefix of this URL's content
        // with a validator the server can check (`If-Range`).
        let state_path = part.with_extension("part.json");
        let resume_from = match read_state(&state_path) {
            Some(st) if st.url == url && !st.validators.is_empty() => fs::metadata(part)
                .ok()
                .map(|m| (m.len(), st.validators))
                .filter(|(len, _)| *len > 0),
            _ => None,
        };
        let mut req = self.agent.get(url);
        if let Some(v) = conditional {
            if let Some(e) = &v.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header("If-Modified-Since", lm);
            }
        }
        if let Some((offset, v)) = &resume_from {
            req = req.header("Range", &format!("bytes={offset}-"));
            if let Some(ir) = v
                .etag
                .as_ref()
                .filter(|e| !e.starts_with("W/"))
                .or(v.last_modified.as_ref())
            {
                req = req.header("If-Range", ir);
            }
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(e) => {
                // Besides the shared transient errors, an unknown host is worth another try
                // here: the next attempt may go to another mirror.
                let transient = http_retry::transient(&e) || matches!(e, ureq::Error::HostNotFound);
                let why = super::one_line(&e.to_string(), 300);
                return Err((
                    if transient {
                        Attempt::Transient(why)
                    } else {
                        Attempt::Fatal(why)
                    },
                    None,
                ));
            }
        };
        let status = resp.status().as_u16();
        match status {
            304 if conditional.is_some() => {
                return Ok(Fetched::NotModified {
                    url: url.to_string(),
                });
            }
            200 | 206 => {}
            416 => {
                // Our prefix is no longer valid; start over on the next try.
                let _ = fs::remove_file(part);
                let _ = fs::remove_file(&state_path);
                return Err((
                    Attempt::Transient("HTTP 416 for a resumed download".into()),
                    None,
                ));
            }
            s if http_retry::retryable_status(s) => {
                return Err((
                    Attempt::Transient(format!("HTTP {s}")),
                    http_retry::retry_after(&resp),
                ));
            }
            s => return Err((Attempt::Fatal(format!("HTTP {s}")), None)),
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty() && s.len() <= 1024)
        };
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let expected_md5 = header("x-goog-hash").and_then(|h| goog_md5(&h));
        let expected_sha256 = header("repr-digest")
            .and_then(|h| sf_sha256(&h))
            .or_else(|| header("digest").and_then(|h| legacy_sha256(&h)));
        // Where the body starts and how long the whole file is.
        let (start, total) = if status == 206 {
            let Some((first, _last, total)) =
                header("content-range").and_then(|h| content_range(&h))
            else {
                return Err((
                    Attempt::Fatal("HTTP 206 without a usable Content-Range".into()),
                    None,
                ));
            };
            match &resume_from {
                Some((offset, _)) if *offset == first => (first, total),
                _ => {
                    let _ = fs::remove_file(part);
                    let _ = fs::remove_file(&state_path);
                    return Err((
                        Attempt::Transient(format!(
                            "HTTP 206 starting at byte {first}, not where the partial file ends"
                        )),
                        None,
                    ));
                }
            }
        } else {
            (
                0,
                header("content-length").and_then(|v| v.parse::<u64>().ok()),
            )
        };
        if let Some(t) = total
            && t > self.options.max_bytes
        {
            return Err((
                Attempt::Fatal(format!(
                    "{t} bytes exceed the {}-byte download limit",
                    self.options.max_bytes
                )),
                None,
            ));
        }
        let mut file = if start == 0 {
            File::create(part).map_err(|e| io_fatal("creating", e))?
        } else {
            let mut f = OpenOptions::new()
                .append(true)
                .open(part)
                .map_err(|e| io_fatal("opening", e))?;
            f.seek(io::SeekFrom::End(0))
                .map_err(|e| io_fatal("seeking", e))?;
            f
        };
        // Remember what this prefix belongs to before the first byte lands, so an
        // interrupted transfer can be resumed safely.
        if start == 0 {
            let st = PartState {
                url: url.to_string(),
                validators: validators.clone(),
            };
            let json = serde_json::to_vec(&st).unwrap_or_default();
            fs::write(&state_path, json).map_err(|e| io_fatal("writing", e))?;
        }
        let limit = self.options.max_bytes - start.min(self.options.max_bytes);
        let mut body = resp.into_body().into_reader().take(limit + 1);
        let mut buf = vec![0u8; 256 * 1024];
        let mut got: u64 = 0;
        let started = Instant::now();
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.sync_data();
                    return Err((
                        Attempt::Transient(format!(
                            "body interrupted after {} bytes: {}",
                            start + got,
                            super::one_line(&e.to_string(), 200)
                        )),
                        None,
                    ));
                }
            };
            got += n as u64;
            if got > limit {
                drop(file);
                let _ = fs::remove_file(part);
                let _ = fs::remove_file(&state_path);
                return Err((
                    Attempt::Fatal(format!(
                        "body exceeds the {}-byte download limit",
                        self.options.max_bytes
                    )),
                    None,
                ));
            }
            file.write_all(&buf[..n])
                .map_err(|e| io_fatal("writing", e))?;
        }
        file.sync_all().map_err(|e| io_fatal("syncing", e))?;
        drop(file);
        let size = start + got;
        tracing::debug!(%url, bytes = size, ms = started.elapsed().as_millis() as u64, "downloaded");
        if let Some(t) = total
            && size != t
        {
            // Kept: the next try resumes from here.
            return Err((
                Attempt::Transient(format!("body ended at byte {size} of {t}")),
                None,
            ));
        }
        // The whole file is here: check it, then hand it over.
        let discard = || {
            let _ = fs::remove_file(part);
            let _ = fs::remove_file(&state_path);
        };
        let (sha256, md5) = match digests(part) {
            Ok(d) => d,
            Err(e) => return Err(io_fatal("reading", e)),
        };
        let mut verified_with = None;
        if let Some(want) = expected_md5 {
            if want != md5 {
                discard();
                return Err((
                    Attempt::Transient("MD5 does not match the server's x-goog-hash".into()),
                    None,
                ));
            }
            verified_with = Some("md5 (x-goog-hash)");
        }
        if let Some(want) = expected_sha256 {
            if want != sha256 {
                discard();
                return Err((
                    Attempt::Transient("SHA-256 does not match the server's digest header".into()),
                    None,
                ));
            }
            verified_with = Some("sha-256 (digest header)");
        }
        if let Err(e) = File::open(part).map_err(|e| e.to_string()).and_then(|f| {
            zip::ZipArchive::new(f)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }) {
            discard();
            return Err((
                Attempt::Transient(format!(
                    "{size} bytes received but not a readable zip (truncated or corrupt): {}",
                    super::one_line(&e, 200)
                )),
                None,
            ));
        }
        let _ = fs::remove_file(&state_path);
        Ok(Fetched::Downloaded(Downloaded {
            url: url.to_string(),
            path: part.to_path_buf(),
            bytes: size,
            sha256: hex::encode(sha256),
            validators,
            resumed: start > 0,
            verified_with,
        }))
    }
}

fn read_state(path: &Path) -> Option<PartState> {
    let meta = fs::metadata(path).ok()?;
    if meta.len() > 64 * 1024 {
        return None;
    }
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// SHA-256 and MD5 of a file, in one pass.
fn digests(path: &Path) -> io::Result<([u8; 32], [u8; 16])> {
    let mut f = File::open(path)?;
    let mut sha = Sha256::new();
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
    }
    Ok((sha.finalize().into(), md5.finalize().into()))
}

/// `x-goog-hash: crc32c=…, md5=<base64>` → the MD5.
fn goog_md5(h: &str) -> Option<[u8; 16]> {
    use base64::Engine as _;
    h.split(',').find_map(|part| {
        let v = part.trim().strip_prefix("md5=")?;
        base64::engine::general_purpose::STANDARD
            .decode(v)
            .ok()?
            .try_into()
            .ok()
    })
}

/// `Repr-Digest: sha-256=:<base64>:` (RFC 9530).
fn sf_sha256(h: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    h.split(',').find_map(|part| {
        let v = part.trim().strip_prefix("sha-256=:")?.strip_suffix(':')?;
        base64::engine::general_purpose::STANDARD
            .decode(v)
            .ok()?
            .try_into()
            .ok()
    })
}

/// `Digest: SHA-256=<base64>` (RFC 3230).
fn legacy_sha256(h: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    h.split(',').find_map(|part| {
        let (alg, v) = part.trim().split_once('=')?;
        if !alg.eq_ignore_ascii_case("sha-256") {
            return None;
        }
        base64::engine::general_purpose::STANDARD
            .decode(v)
            .ok()?
            .try_into()
            .ok()
    })
}

/// `bytes FIRST-LAST/TOTAL` (TOTAL may be `*`).
fn content_range(h: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = h.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (first, last) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    if last < first {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((first, last, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_headers() {
        assert_eq!(
            export_url("https://x.example/osv/", "Rocky Linux"),
            "https://x.example/osv/Rocky%20Linux/all.zip"
        );
        assert_eq!(export_url("http://h", "Debian"), "http://h/Debian/all.zip");
        assert_eq!(content_range("bytes 10-19/20"), Some((10, 19, Some(20))));
        assert_eq!(content_range("bytes 10-19/*"), Some((10, 19, None)));
        assert_eq!(content_range("bytes 19-10/20"), None);
        assert_eq!(content_range("items 1-2/3"), None);
        let md5 = goog_md5("crc32c=n03x6A==, md5=Ojk9c3dhfxgoKVVHYwFbHQ==").unwrap();
        assert_eq!(hex::encode(md5), "3a393d7377617f182829554763015b1d");
        assert!(goog_md5("crc32c=n03x6A==").is_none());
    }
}

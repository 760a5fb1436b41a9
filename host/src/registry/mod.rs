//! Pulling images from registries (Docker Registry HTTP API v2 / OCI distribution).
//!
//! [`open`] turns a reference (`host:port/repo:tag`, `repo@sha256:…`, `debian`)
//! into the same [`Image`] the local readers produce: manifests and the config are
//! fetched and verified up front, and each [`Image::open_layer`] starts its own
//! HTTP stream of the layer blob, so the scan pipeline reads layers in parallel from
//! several threads and the same digest/diffID verification applies as for local
//! files. No blob is ever held in memory whole; a stream cut mid-way is resumed
//! with a `Range` request from where it stopped (bounded), and whatever arrives is
//! still hashed end to end.
//!
//! Why a small client on `ureq` rather than `oci-client`: `oci-client` is async-only
//! (it would need a tokio runtime bridged into our blocking `Read` pipeline), has no
//! retry/backoff or `Retry-After` handling, no per-host insecure setting (its
//! invalid-certificate switch is global), does not run docker credential helpers,
//! and hands blobs to an `AsyncWrite` sink rather than a reader we can verify and
//! decompress as it streams. Each of those would have been a wrapper around it of
//! about the size of the client itself. The distribution API subset a puller needs
//! (`/v2/`, manifests, blobs, token auth) is small and stable.
//!
//! Module map: [`mod@reference`] (parsing and Docker Hub defaults), [`auth`]
//! (credentials, challenges, tokens), [`client`] (TLS, insecure hosts, proxies,
//! retries), [`manifest`] (indexes, platform choice, verification), [`push`] (blob
//! uploads, manifests, sessions with push or pull scope), [`errors`].
pub mod auth;
pub mod client;
pub mod errors;
pub mod manifest;
pub mod push;
pub mod reference;

use crate::image::digest::Digest;
use crate::image::{Image, ImageError, Limits, Platform, RemoteBlob};
use auth::Auth;
use client::{Client, RetryPolicy};
use errors::Context;
pub use errors::RegistryError;
pub use reference::Reference;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use ureq::Body;
use ureq::http::{self, Response};

/// How to reach registries and who to be there. The CLI fills it from
/// `--username`, `--password`/`--password-stdin`, `--insecure-registry` (repeatable)
/// and `--registry-ca FILE` (repeatable).
#[derive(Clone)]
pub struct RegistryOptions {
    pub username: Option<String>,
    pub password: Option<String>,
    /// `HOST[:PORT]` entries allowed over plain HTTP or unverified TLS; an entry
    /// without a port covers every port of the host.
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (PEM) trusted in addition to the system's.
    pub ca_files: Vec<PathBuf>,
    /// Where `config.json` lives; default `$DOCKER_CONFIG`, then `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
    /// Docker's per-host CA directory; default `/etc/docker/certs.d`.
    pub certs_d_dir: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// Longest silence while waiting for a response or for body bytes.
    pub read_timeout: Duration,
    pub retry: RetryPolicy,
    /// How often one layer stream may be resumed after a cut connection.
    pub max_resumes: u32,
    pub limits: Limits,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            username: None,
            password: None,
            insecure_registries: Vec::new(),
            ca_files: Vec::new(),
            docker_config_dir: None,
            certs_d_dir: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_resumes: 5,
            limits: Limits::default(),
        }
    }
}

impl std::fmt::Debug for RegistryOptions {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("insecure_registries", &self.insecure_registries)
            .field("ca_files", &self.ca_files)
            .field("docker_config_dir", &self.docker_config_dir)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Whether `s` reads as a registry reference rather than a local path: it parses
/// and does not exist on disk. Lets the CLI order sources without guessing.
pub fn looks_like_reference(s: &str) -> bool {
    !std::path::Path::new(s).exists() && Reference::parse(s).is_ok()
}

/// Pulls the image `reference` names: resolves the manifest (choosing `platform`,
/// default the host's, from an index), verifies manifest and config, and returns an
/// [`Image`] whose layers stream from the registry.
pub fn open(
    reference: &str,
    platform: Option<&Platform>,
    options: &RegistryOptions,
) -> Result<Image, RegistryError> {
    let parsed = Reference::parse(reference)?;
    let credential = auth::resolve(
        &parsed.registry,
        options.username.as_deref(),
        options.password.as_deref(),
        options.docker_config_dir.as_deref(),
    )?;
    let ping = client::connect(&parsed.registry, parsed.api_host(), options)?;
    let session = Arc::new(Session {
        client: ping.client,
        auth: Auth::new(credential, &parsed.repository),
        reference: parsed,
        limits: options.limits.clone(),
        max_resumes: options.max_resumes,
    });
    let status = ping.response.status().as_u16();
    let ctx_ref = session.reference.manifest_ref();
    let ctx = session.ctx(&ctx_ref, "registry check (/v2/)");
    match status {
        200..=299 => {}
        401 => {
            let challenges = auth::challenges_of(&ping.response);
            session.auth.answer(&session.client, &challenges, &ctx)?;
        }
        _ => {
            let body = client::read_body(ping.response, 64 << 10).unwrap_or_default();
            return Err(errors::from_response(&ctx, status, &body, 1));
        }
    }
    let resolved = session.resolve(platform)?;
    Ok(Image::from_resolved(reference, resolved))
}

/// One repository on one registry, with its authorization; shared by every request
/// and layer stream of the image.
#[derive(Debug)]
pub struct Session {
    client: Client,
    auth: Auth,
    reference: Reference,
    limits: Limits,
    max_resumes: u32,
}

impl Session {
    fn ctx<'a>(&'a self, reference: &'a str, what: &'a str) -> Context<'a> {
        Context {
            registry: &self.reference.registry,
            repository: &self.reference.repository,
            reference,
            what,
        }
    }

    /// GET `path` with authorization, retries, and one re-authentication on 401
    /// (tokens expire; a new challenge may widen the scope). `range` asks for
    /// bytes `start..=end` (`end` open when `u64::MAX`). Any non-success status
    /// becomes a [`RegistryError`].
    fn get(
        &self,
        path: &str,
        accept: Option<&str>,
        what: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Response<Body>, RegistryError> {
        let url = format!("{}{path}", self.client.base);
        let reference = self.reference.manifest_ref();
        let ctx = self.ctx(&reference, what);
        let mut reauthenticated = false;
        loop {
            let auth = self.auth.header();
            let reply = self
                .client
                .send_with_retry(|| {
                    let mut r = http::Request::get(&url);
                    if let Some(a) = accept {
                        r = r.header("Accept", a);
                    }
                    if let Some(a) = &auth {
                        r = r.header("Authorization", a);
                    }
                    match range {
                        Some((s, u64::MAX)) => r = r.header("Range", format!("bytes={s}-")),
                        Some((s, e)) => r = r.header("Range", format!("bytes={s}-{e}")),
                        None => {}
                    }
                    r.body(Vec::new())
                })
                .map_err(|e| RegistryError::Http {
                    registry: self.reference.registry.clone(),
                    repository: self.reference.repository.clone(),
                    reference: reference.clone(),
                    what: what.to_string(),
                    detail: errors::one_line(&e.to_string()),
                })?;
            let status = reply.response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(reply.response);
            }
            if status == 401 && !reauthenticated {
                let challenges = auth::challenges_of(&reply.response);
                if !challenges.is_empty() {
                    reauthenticated = true;
                    self.auth.answer(&self.client, &challenges, &ctx)?;
                    continue;
                }
            }
            let body = client::read_body(reply.response, 64 << 10).unwrap_or_default();
            if status == 404 && what.starts_with("blob ") {
                let entries = errors::parse_error_body(&body);
                if entries.is_empty() || entries.iter().any(|e| e.code == "BLOB_UNKNOWN") {
                    return Err(RegistryError::BlobUnknown {
                        registry: self.reference.registry.clone(),
                        repository: self.reference.repository.clone(),
                        reference,
                        digest: what
                            .trim_start_matches("blob ")
                            .trim_end_matches(" request")
                            .to_string(),
                    });
                }
            }
            return Err(errors::from_response(&ctx, status, &body, reply.attempts));
        }
    }
}

/// A layer blob in the registry; each `open` is an independent HTTP stream.
#[derive(Debug)]
pub(crate) struct RemoteLayer {
    pub(crate) session: Arc<Session>,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
}

impl RemoteBlob for RemoteLayer {
    fn open(&self) -> Result<Box<dyn Read + Send>, ImageError> {
        let mut reader = BlobStream {
            session: self.session.clone(),
            digest: self.digest.clone(),
            size: self.size,
            offset: 0,
            body: None,
            resumes: 0,
        };
        // Connect now, so that auth and 404 errors surface from `open_layer`.
        reader
            .connect()
            .map_err(|e| ImageError::Stream(e.to_string()))?;
        Ok(Box::new(reader))
    }
}

/// The bytes of one blob, resumed with `Range` after transient failures.
struct BlobStream {
    session: Arc<Session>,
    digest: Digest,
    size: u64,
    /// Bytes delivered so far.
    offset: u64,
    body: Option<Box<dyn Read + Send>>,
    resumes: u32,
}

impl BlobStream {
    fn what(&self) -> String {
        format!("blob {} request", self.digest)
    }

    /// (Re)opens the stream at `self.offset`.
    fn connect(&mut self) -> Result<(), RegistryError> {
        let path = format!(
            "/v2/{}/blobs/{}",
            self.session.reference.repository, self.digest
        );
        let range = (self.offset > 0).then_some((self.offset, u64::MAX));
        let what = self.what();
        let resp = self.session.get(&path, None, &what, range)?;
        let status = resp.status().as_u16();
        let length = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mismatch = |expected: u64, actual: u64| {
            RegistryError::Image(ImageError::SizeMismatch {
                blob: self.digest.to_string(),
                file: self.session.reference.repo_display(),
                expected,
                actual,
            })
        };
        let mut body: Box<dyn Read + Send> = Box::new(resp.into_body().into_reader());
        if self.offset > 0 && status == 200 {
            // The server ignored the range: skip what we already have.
            let skipped = io::copy(&mut (&mut body).take(self.offset), &mut io::sink())
                .map_err(|e| self.transport(e))?;
            if skipped != self.offset {
                return Err(self.transport(io::Error::from(io::ErrorKind::UnexpectedEof)));
            }
            if let Some(l) = length
                && l != self.size
            {
                return Err(mismatch(self.size, l));
            }
        } else if let Some(l) = length {
            let expected = self.size.saturating_sub(self.offset);
            if l != expected {
                return Err(mismatch(self.size, l.saturating_add(self.offset)));
            }
        }
        self.body = Some(body);
        Ok(())
    }

    fn transport(&self, e: io::Error) -> RegistryError {
        RegistryError::Http {
            registry: self.session.reference.registry.clone(),
            repository: self.session.reference.repository.clone(),
            reference: self.session.reference.manifest_ref(),
            what: self.what(),
            detail: e.to_string(),
        }
    }

    fn resumable(e: &io::Error) -> bool {
        use io::ErrorKind::*;
        matches!(
            e.kind(),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | TimedOut
        )
    }
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.body.is_none() {
                self.connect().map_err(io::Error::other)?;
            }
            let Some(body) = self.body.as_mut() else {
                return Err(io::Error::other("no body"));
            };
            let result = body.read(buf);
            let failure = match result {
                Ok(0) if self.offset < self.size => io::Error::from(io::ErrorKind::UnexpectedEof),
                Ok(n) => {
                    let n64 = n as u64;
                    if self.offset.saturating_add(n64) > self.size {
                        return Err(io::Error::other(format!(
                            "the registry sent more than the descriptor's {} bytes",
                            self.size
                        )));
                    }
                    self.offset += n64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => e,
            };
            if !Self::resumable(&failure) || self.resumes >= self.session.max_resumes {
                return Err(failure);
            }
            self.resumes += 1;
            tracing::debug!(
                blob = %self.digest,
                offset = self.offset,
                attempt = self.resumes,
                "resuming blob download"
            );
            self.body = None;
            std::thread::sleep(self.session.client.retry.base_delay);
        }
    }
}

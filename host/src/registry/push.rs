//! Writing to a registry: the distribution API's push flow, for publishing OCI
//! artifacts (the vulnerability database, see [`crate::vulndb::artifact`]).
//!
//! [`connect`] opens a [`Session`] on one repository with the access it needs: a
//! token server is asked for `repository:NAME:pull,push` when pushing, for the plain
//! `pull` scope otherwise. [`super::open`] resolves container images only, so readers
//! of other artifacts connect here too and use the session's manifest and blob
//! requests.
//!
//! The push flow is the OCI distribution spec's:
//! 1. `HEAD /blobs/DIGEST`: a blob the repository already has is not uploaded again;
//! 2. `POST /blobs/uploads/` opens an upload session, answered with `202` (some
//!    registries say `201`) and a `Location` that is absolute or relative and may
//!    carry state in its query;
//! 3. a blob up to the chunk size goes in one `PUT LOCATION?digest=` (monolithic); a
//!    larger one in `PATCH` requests of one chunk each (`Content-Range`), each
//!    answered with the `Location` for the next, then an empty `PUT …?digest=`, so a
//!    registry or proxy that limits request bodies still takes it;
//! 4. `PUT /manifests/TAG` with the manifest, whose digest the answer must confirm.
//!
//! Blob bodies stream from an open file, never whole in memory. A streamed body cannot
//! go through [`super::client::Client::send_with_retry`], and resuming an interrupted
//! upload session is not portable (the reference registry cancels a session whose
//! state token was lost), so a transient failure (429/5xx, a cut connection) in the
//! middle of an upload restarts that blob from a new session, within the same attempt
//! budget and backoff as every other request.
//!
//! A `Location` on another origin (an object store behind the registry) gets no
//! `Authorization` header: our credentials are for the registry. One that would leave
//! HTTPS for plain HTTP is refused.
use super::auth::{self, Auth};
use super::client;
use super::errors::{self, RegistryError, one_line};
use super::reference::{Reference, Target};
use super::{RegistryOptions, Session};
use crate::http_retry::{backoff, retry_after, retryable_status, transient};
use crate::image::digest::Digest;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq::http::{self, Method, Response};
use ureq::{Body, SendBody};

/// Blobs up to this size are uploaded in one request, larger ones in chunks of it:
/// small enough for the request-size limits of common proxies in front of
/// registries, large enough that the per-request overhead does not matter.
pub const DEFAULT_CHUNK_SIZE: u64 = 64 << 20;

/// Largest error body read from a refusal.
const MAX_ERROR_BODY: u64 = 64 << 10;

/// What a session may do in its repository; decides the token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

/// Connects to the registry of `reference`, checks `/v2/`, and authorizes for
/// `access` in the reference's repository.
pub fn connect(
    reference: &Reference,
    options: &RegistryOptions,
    access: Access,
) -> Result<Arc<Session>, RegistryError> {
    let credential = auth::resolve(
        &reference.registry,
        options.username.as_deref(),
        options.password.as_deref(),
        options.docker_config_dir.as_deref(),
    )?;
    let ping = client::connect(&reference.registry, reference.api_host(), options)?;
    let mut auth = Auth::new(credential, &reference.repository);
    if access == Access::Push {
        auth.scope = format!("repository:{}:pull,push", reference.repository);
    }
    let session = Session {
        client: ping.client,
        auth,
        reference: reference.clone(),
        limits: options.limits.clone(),
        max_resumes: options.max_resumes,
    };
    {
        let manifest_ref = reference.manifest_ref();
        let ctx = session.ctx(&manifest_ref, "registry check (/v2/)");
        match ping.response.status().as_u16() {
            200..=299 => {}
            401 => {
                let challenges = auth::challenges_of(&ping.response);
                session.auth.answer(&session.client, &challenges, &ctx)?;
            }
            status => {
                let body = client::read_body(ping.response, MAX_ERROR_BODY).unwrap_or_default();
                return Err(errors::from_response(&ctx, status, &body, 1));
            }
        }
    }
    Ok(Arc::new(session))
}

/// Where the bytes of a blob to upload are: in memory (configs, manifests) or in an
/// open file, read from the needed offset by every attempt.
#[derive(Debug, Clone, Copy)]
pub enum BlobData<'a> {
    Bytes(&'a [u8]),
    File(&'a File),
}

impl BlobData<'_> {
    /// `len` bytes from `offset`.
    fn range(&self, offset: u64, len: u64) -> io::Result<Box<dyn Read + '_>> {
        match *self {
            BlobData::Bytes(b) => {
                let slice = usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(offset.saturating_add(len)).ok())
                    .and_then(|(s, e)| b.get(s..e))
                    .ok_or_else(|| io::Error::other("blob range outside the data"))?;
                Ok(Box::new(slice))
            }
            BlobData::File(mut f) => {
                f.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(f.take(len)))
            }
        }
    }
}

/// A blob to upload: where its bytes are, its digest and its size.
#[derive(Debug, Clone, Copy)]
pub struct Blob<'a> {
    pub data: BlobData<'a>,
    pub digest: &'a Digest,
    pub size: u64,
}

/// A failed request: the error (boxed: failures travel through every step), whether
/// trying again may help (429/5xx, transport), the status if there was an answer,
/// and the wait the server asked for.
struct Failure {
    error: Box<RegistryError>,
    transient: bool,
    status: Option<u16>,
    wait: Option<Duration>,
}

impl Failure {
    fn fatal(error: RegistryError) -> Failure {
        Failure {
            error: Box::new(error),
            transient: false,
            status: None,
            wait: None,
        }
    }
}

/// One request of the push flow. `body` is (data, offset, length).
struct Call<'a> {
    method: Method,
    url: String,
    what: &'a str,
    headers: Vec<(&'static str, String)>,
    body: Option<(BlobData<'a>, u64, u64)>,
}

impl<'a> Call<'a> {
    fn new(method: Method, url: String, what: &'a str) -> Call<'a> {
        Call {
            method,
            url,
            what,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// `scheme://authority` of an absolute URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// `url` with `digest=DIGEST` added to its query.
fn with_digest(url: &str, digest: &Digest) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}digest={}",
        digest.to_string().replace(':', "%3A")
    )
}

fn header<'r>(resp: &'r Response<Body>, name: &str) -> Option<&'r str> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The last byte offset a `Range: 0-N` (or `bytes=0-N`) upload-status header names.
fn range_end(resp: &Response<Body>) -> Option<u64> {
    let v = header(resp, "range")?;
    let v = v.strip_prefix("bytes=").unwrap_or(v);
    v.split_once('-')?.1.trim().parse().ok()
}

impl Session {
    fn push_invalid(&self, detail: String) -> RegistryError {
        RegistryError::Invalid {
            registry: self.reference.registry.clone(),
            repository: self.reference.repository.clone(),
            reference: self.reference.manifest_ref(),
            detail,
        }
    }

    /// Sends `call` once; the `Authorization` header goes to the registry's origin only.
    fn attempt(&self, call: &Call<'_>, authorize: bool) -> Result<Response<Body>, ureq::Error> {
        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(&call.url);
        for (k, v) in &call.headers {
            request = request.header(*k, v);
        }
        if authorize && let Some(a) = self.auth.header() {
            request = request.header("Authorization", a);
        }
        match call.body {
            Some((data, offset, len)) => {
                let mut reader = data.range(offset, len).map_err(ureq::Error::Io)?;
                let request = request
                    .header("Content-Length", len.to_string())
                    .body(SendBody::from_reader(&mut reader))
                    .map_err(ureq::Error::Http)?;
                self.client.agent.run(request)
            }
            // An explicit zero length: some front ends refuse a bodiless PUT/POST (411).
            None if call.method != Method::HEAD && call.method != Method::GET => {
                let empty: &[u8] = &[];
                self.client
                    .agent
                    .run(request.body(empty).map_err(ureq::Error::Http)?)
            }
            None => self
                .client
                .agent
                .run(request.body(()).map_err(ureq::Error::Http)?),
        }
    }

    /// Sends `call`, answering one 401 challenge and repeating it. With `retry`,
    /// transient failures are retried per the client's policy (for requests that may
    /// be repeated as they are); without, the first one is returned for the caller to
    /// restart a larger step. A non-success answer becomes a [`RegistryError`].
    fn send(&self, call: &Call<'_>, retry: bool) -> Result<Response<Body>, Failure> {
        let policy = &self.client.retry;
        let start = Instant::now();
        let authorize = origin(&call.url).eq_ignore_ascii_case(origin(&self.client.base));
        let reference = self.reference.manifest_ref();
        let ctx = self.ctx(&reference, call.what);
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            let result = self.attempt(call, authorize);
            let (is_transient, wait) = match &result {
                Ok(r) => (retryable_status(r.status().as_u16()), retry_after(r)),
                Err(e) => (transient(e), None),
            };
            if is_transient && retry {
                let delay = backoff(attempt, policy.base_delay, policy.max_delay, wait);
                if attempt < policy.max_attempts.max(1)
                    && start.elapsed().saturating_add(delay) <= policy.max_total
                {
                    drop(result);
                    tracing::debug!(
                        registry = %self.reference.registry,
                        what = call.what,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying registry request"
                    );
                    std::thread::sleep(delay);
                    continue;
                }
            }
            let response = result.map_err(|e| Failure {
                error: Box::new(RegistryError::Http {
                    registry: self.reference.registry.clone(),
                    repository: self.reference.repository.clone(),
                    reference: reference.clone(),
                    what: call.what.to_string(),
                    detail: one_line(&e.to_string()),
                }),
                transient: is_transient,
                status: None,
                wait: None,
            })?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            if status == 401 && authorize && !reauthenticated {
                let challenges = auth::challenges_of(&response);
                if !challenges.is_empty() {
                    reauthenticated = true;
                    self.auth
                        .answer(&self.client, &challenges, &ctx)
                        .map_err(Failure::fatal)?;
                    continue;
                }
            }
            let body = client::read_body(response, MAX_ERROR_BODY).unwrap_or_default();
            return Err(Failure {
                error: Box::new(errors::from_response(&ctx, status, &body, attempt)),
                transient: is_transient,
                status: Some(status),
                wait,
            });
        }
    }

    /// Resolves a `Location` header against the URL of the request it answered:
    /// absolute, scheme-relative, absolute-path or path-relative.
    fn resolve_location(&self, request_url: &str, location: &str) -> Result<String, Failure> {
        let location = location.trim();
        let url = if location.starts_with("https://") || location.starts_with("http://") {
            location.to_string()
        } else if location.starts_with("//") {
            let scheme = request_url.split_once("://").map_or("https", |(s, _)| s);
            format!("{scheme}:{location}")
        } else if location.starts_with('/') {
            format!("{}{location}", origin(request_url))
        } else {
            let path = request_url.split(['?', '#']).next().unwrap_or(request_url);
            let dir = path.rfind('/').map_or(path, |i| &path[..=i]);
            format!("{dir}{location}")
        };
        if url.is_empty() || url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(Failure::fatal(self.push_invalid(format!(
                "unusable upload location {:?}",
                one_line(location)
            ))));
        }
        if self.client.base.starts_with("https://") && url.starts_with("http://") {
            return Err(Failure::fatal(self.push_invalid(format!(
                "the upload location {} would leave HTTPS for plain HTTP",
                one_line(&url)
            ))));
        }
        Ok(url)
    }

    /// Whether the repository holds the blob `digest`; a registry that reports
    /// another size for it is an error.
    pub fn blob_exists(&self, digest: &Digest, size: u64) -> Result<bool, RegistryError> {
        let url = format!(
            "{}/v2/{}/blobs/{digest}",
            self.client.base, self.reference.repository
        );
        let what = format!("blob {digest} check");
        match self.send(&Call::new(Method::HEAD, url, &what), true) {
            Ok(resp) => match header(&resp, "content-length").and_then(|v| v.parse::<u64>().ok()) {
                Some(len) if len != size => Err(self.push_invalid(format!(
                    "the registry has blob {digest} with {len} bytes, expected {size}"
                ))),
                _ => Ok(true),
            },
            Err(f) if f.status == Some(404) => Ok(false),
            Err(f) => Err(*f.error),
        }
    }

    /// Uploads `blob` unless the repository already has it; `true` when it was
    /// uploaded. Blobs larger than `chunk_size` go in chunks of that size.
    pub fn push_blob(&self, blob: &Blob<'_>, chunk_size: u64) -> Result<bool, RegistryError> {
        if self.blob_exists(blob.digest, blob.size)? {
            return Ok(false);
        }
        let policy = &self.client.retry;
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let failure = match self.upload(blob, chunk_size.max(1)) {
                Ok(()) => return Ok(true),
                Err(f) => f,
            };
            let delay = backoff(attempt, policy.base_delay, policy.max_delay, failure.wait);
            if !failure.transient
                || attempt >= policy.max_attempts.max(1)
                || start.elapsed().saturating_add(delay) > policy.max_total
            {
                return Err(*failure.error);
            }
            tracing::debug!(
                blob = %blob.digest,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "restarting blob upload: {}",
                failure.error
            );
            std::thread::sleep(delay);
        }
    }

    /// One upload session: open it, send the bytes (whole or in chunks), commit.
    fn upload(&self, blob: &Blob<'_>, chunk_size: u64) -> Result<(), Failure> {
        let what = format!("blob {} upload", blob.digest);
        let start_url = format!(
            "{}/v2/{}/blobs/uploads/",
            self.client.base, self.reference.repository
        );
        let resp = self.send(&Call::new(Method::POST, start_url.clone(), &what), false)?;
        let Some(location) = header(&resp, "location") else {
            return Err(Failure::fatal(self.push_invalid(format!(
                "the registry opened the upload of blob {} without a Location",
                blob.digest
            ))));
        };
        let mut location = self.resolve_location(&start_url, location)?;
        let mut offset = 0u64;
        if blob.size > chunk_size {
            while offset < blob.size {
                let len = chunk_size.min(blob.size - offset);
                let last = offset + len - 1;
                let mut call = Call::new(Method::PATCH, location.clone(), &what);
                call.headers = vec![
                    ("Content-Type", "application/octet-stream".into()),
                    ("Content-Range", format!("{offset}-{last}")),
                ];
                call.body = Some((blob.data, offset, len));
                let resp = self.send(&call, false)?;
                if let Some(end) = range_end(&resp)
                    && end != last
                {
                    return Err(Failure::fatal(self.push_invalid(format!(
                        "the registry acknowledged bytes 0-{end} of blob {} after bytes 0-{last} were sent",
                        blob.digest
                    ))));
                }
                if let Some(next) = header(&resp, "location") {
                    location = self.resolve_location(&location, next)?;
                }
                offset += len;
            }
        }
        let mut call = Call::new(Method::PUT, with_digest(&location, blob.digest), &what);
        call.headers = vec![("Content-Type", "application/octet-stream".into())];
        if offset < blob.size {
            call.body = Some((blob.data, offset, blob.size - offset));
        }
        let resp = self.send(&call, false)?;
        if let Some(d) = header(&resp, "docker-content-digest").and_then(|v| Digest::parse(v).ok())
            && d != *blob.digest
        {
            return Err(Failure::fatal(self.push_invalid(format!(
                "the registry stored blob {} as {d}",
                blob.digest
            ))));
        }
        Ok(())
    }

    /// Uploads a manifest of `media_type` under the session's tag (or its digest,
    /// which must then be the manifest's), and returns the manifest's digest after
    /// checking that the registry's answer agrees.
    pub fn put_manifest(&self, media_type: &str, bytes: &[u8]) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256_of(bytes);
        let target = match &self.reference.target {
            Target::Tag(tag) => tag.clone(),
            Target::Digest { digest: d, .. } if *d == digest => digest.to_string(),
            Target::Digest { digest: d, .. } => {
                return Err(self.push_invalid(format!(
                    "the manifest's digest is {digest}, not the reference's {d}"
                )));
            }
        };
        let url = format!(
            "{}/v2/{}/manifests/{target}",
            self.client.base, self.reference.repository
        );
        let mut call = Call::new(Method::PUT, url, "manifest upload");
        call.headers = vec![("Content-Type", media_type.to_string())];
        call.body = Some((BlobData::Bytes(bytes), 0, bytes.len() as u64));
        let resp = self.send(&call, true).map_err(|f| *f.error)?;
        if let Some(d) = header(&resp, "docker-content-digest").and_then(|v| Digest::parse(v).ok())
            && d != digest
        {
            return Err(
                self.push_invalid(format!("the registry stored the manifest {digest} as {d}"))
            );
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_digest_queries() {
        assert_eq!(
            origin("https://r.io:5000/v2/a/blobs/uploads/x?s=1"),
            "https://r.io:5000"
        );
        assert_eq!(origin("http://r.io"), "http://r.io");
        assert_eq!(origin("https://r.io?x"), "https://r.io");
        let d = Digest::sha256_of(b"");
        assert_eq!(
            with_digest("https://r.io/up/1?_state=abc", &d),
            format!("https://r.io/up/1?_state=abc&digest=sha256%3A{}", d.hex())
        );
        assert_eq!(
            with_digest("https://r.io/up/1", &d),
            format!("https://r.io/up/1?digest=sha256%3A{}", d.hex())
        );
    }

    #[test]
    fn blob_ranges() {
        let data = b"0123456789";
        let mut out = String::new();
        BlobData::Bytes(data)
            .range(3, 4)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "3456");
        assert!(BlobData::Bytes(data).range(8, 4).is_err());
        assert!(BlobData::Bytes(data).range(u64::MAX, 1).is_err());
    }
}

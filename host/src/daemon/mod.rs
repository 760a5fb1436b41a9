//! Reading images from a local Docker engine or podman, through the Docker Engine API.
//!
//! The flow for one image is: find the daemon's socket, negotiate an API version
//! (`GET /_ping`, then `GET /version`), resolve the name (`GET /images/{name}/json`:
//! the image ID, tags, repo digests and platform), then export the image
//! (`GET /images/{id}/get`) **streamed** into a temporary file under the cache
//! directory's `tmp/`, and open that file with [`image::open`] like any `docker save`
//! archive. The export is requested by the ID the inspect returned, so a tag moved in
//! between cannot make us scan something else than what we resolved.
//!
//! Why a file and not a pipe: [`image::Image`] reads layers in parallel, each from its
//! own file handle, and verifies every digest as it goes; an archive on disk is what
//! that needs, and the export format (legacy `docker save`, or the OCI layout plus
//! `manifest.json` that Docker 25+ with the containerd image store and containerd
//! itself write) is already handled there. The file is owned by a [`TempExport`] guard
//! that deletes it when dropped, so it disappears after the scan, on error paths and
//! on panics alike; `customs cache clean` removes what a killed process left behind.
//!
//! Podman serves the same API (version 1.41) on its own socket, so the two daemons
//! differ only in where the socket is looked for ([`DaemonKind`]).
//!
//! Nothing here waits without bound: every request has a total deadline and every
//! socket read an idle timeout ([`Timeouts`]), and all that the daemon sends is
//! size-bounded (JSON documents by [`MAX_JSON`], the export by
//! [`DaemonOptions::max_export_size`]).
mod http;

use crate::image::{self, Image, ImageError, Platform};
use http::{Address, HttpError, Response, printable};
use serde::Deserialize;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The newest Engine API version this client asks for. Older daemons are spoken to in
/// their own version (the negotiated one is the lower of the two); the endpoints and
/// fields used here are the same in every version since 1.24.
pub const CLIENT_API_VERSION: &str = "1.47";
/// Largest JSON document (ping, version, inspect, error body) read from a daemon.
pub const MAX_JSON: u64 = 16 << 20;
/// The Docker socket used when `DOCKER_HOST` is not set.
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// podman's rootful API socket.
pub const PODMAN_ROOT_SOCKET: &str = "/run/podman/podman.sock";

/// Which daemon to talk to. They share the protocol; they differ in where their
/// sockets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonKind {
    Docker,
    Podman,
}

impl DaemonKind {
    /// `docker` / `podman`, as used in error messages and `--image-src`.
    pub fn name(self) -> &'static str {
        match self {
            DaemonKind::Docker => "docker",
            DaemonKind::Podman => "podman",
        }
    }

    /// The `source` recorded in the image metadata.
    fn source(self) -> &'static str {
        match self {
            DaemonKind::Docker => "docker-daemon",
            DaemonKind::Podman => "podman-daemon",
        }
    }
}

/// Timeouts for daemon requests.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// Total time for each small request (ping, version, inspect), connect included.
    pub request: Duration,
    /// Longest wait for the next bytes of the export stream.
    pub idle: Duration,
    /// Total time for the export of one image.
    pub export: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            request: Duration::from_secs(30),
            // A daemon assembling a large image (compressing layers, with the
            // containerd store) can pause this long before the first byte.
            idle: Duration::from_secs(120),
            export: Duration::from_secs(60 * 60),
        }
    }
}

/// Where to look for daemons and how long to wait for them.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The Docker endpoint (`unix:///path` or `tcp://host:port`); `None`: the default
    /// socket. [`DaemonOptions::from_env`] fills it from `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// The podman endpoint; `None`: the usual podman sockets. `from_env` fills it from
    /// `CONTAINER_HOST`.
    pub podman_host: Option<String>,
    /// `$XDG_RUNTIME_DIR`, where rootless podman puts its socket.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// The directory under which exports are written (as `tmp/`); `None`: the
    /// default cache directory ([`crate::cache::default_dir`]).
    pub cache_dir: Option<PathBuf>,
    pub timeouts: Timeouts,
    /// Largest export accepted, in bytes.
    pub max_export_size: u64,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        DaemonOptions {
            docker_host: None,
            podman_host: None,
            xdg_runtime_dir: None,
            cache_dir: None,
            timeouts: Timeouts::default(),
            max_export_size: 1 << 40,
        }
    }
}

impl DaemonOptions {
    /// Options from the environment: `DOCKER_HOST`, `CONTAINER_HOST`,
    /// `XDG_RUNTIME_DIR` (empty values count as unset, as in the docker CLI).
    pub fn from_env() -> DaemonOptions {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        DaemonOptions {
            docker_host: var("DOCKER_HOST"),
            podman_host: var("CONTAINER_HOST"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            ..DaemonOptions::default()
        }
    }
}

/// Why an image could not be read from a daemon. Messages are one line and name the
/// endpoint; the daemon kind is prefixed by the caller (see [`crate::acquire`]).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("invalid {var} {value:?}: {reason}")]
    InvalidHost {
        var: &'static str,
        value: String,
        reason: String,
    },
    #[error("no socket found (tried {})", tried.join(", "))]
    NoSocket { tried: Vec<String> },
    #[error("daemon not running at {endpoint} ({reason})")]
    NotRunning { endpoint: String, reason: String },
    #[error("daemon at {endpoint}: {what} timed out after {secs} s")]
    Timeout {
        endpoint: String,
        what: String,
        secs: u64,
    },
    #[error("{endpoint}: {what}: {detail}")]
    Protocol {
        endpoint: String,
        what: String,
        detail: String,
    },
    #[error("{endpoint}: {what}: HTTP {status}: {message}")]
    Api {
        endpoint: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("image {name:?} not found in the daemon at {endpoint}")]
    ImageNotFound { endpoint: String, name: String },
    #[error("invalid image name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("{endpoint}: export of {name:?} is larger than {limit} bytes")]
    TooLarge {
        endpoint: String,
        name: String,
        limit: u64,
    },
    #[error("temporary export file {path}: {source}")]
    TempFile {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "no cache directory for the temporary export: set CUSTOMS_CACHE_DIR, XDG_CACHE_HOME or HOME"
    )]
    NoCacheDir,
    #[error("export of {name:?} from {endpoint}: {source}")]
    Image {
        endpoint: String,
        name: String,
        #[source]
        source: Box<ImageError>,
    },
}

impl DaemonError {
    /// Whether the daemon simply does not have the image or is not there: the next
    /// source may be tried. Any other error means the daemon has the image and failed
    /// to deliver it, or the export was invalid; falling back to another source would
    /// then scan a possibly different image under the same name.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DaemonError::NoSocket { .. }
            | DaemonError::InvalidHost { .. }
            | DaemonError::NotRunning { .. }
            | DaemonError::ImageNotFound { .. }
            | DaemonError::InvalidName { .. } => true,
            // A daemon that hangs or answers garbage before any image was asked for
            // is as good as absent.
            DaemonError::Timeout { what, .. }
            | DaemonError::Protocol { what, .. }
            | DaemonError::Api { what, .. } => what == "ping" || what == "version",
            // The image exists for another platform only.
            DaemonError::Image { source, .. } => {
                matches!(**source, ImageError::NoPlatform { .. })
            }
            _ => false,
        }
    }
}

/// A daemon endpoint: its address and how it is shown in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    address: Address,
    display: String,
}

impl Endpoint {
    /// Parses `unix:///path`, `unix://relative` or `tcp://host:port` (plain HTTP);
    /// a bare absolute path counts as a unix socket. `var` names the setting in errors.
    pub fn parse(value: &str, var: &'static str) -> Result<Endpoint, DaemonError> {
        let invalid = |reason: &str| DaemonError::InvalidHost {
            var,
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if let Some(path) = value.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(invalid("empty socket path"));
            }
            return Ok(Endpoint::unix(Path::new(path)));
        }
        if value.starts_with('/') {
            return Ok(Endpoint::unix(Path::new(value)));
        }
        if let Some(rest) = value
            .strip_prefix("tcp://")
            .or_else(|| value.strip_prefix("http://"))
        {
            if std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) {
                return Err(invalid(
                    "TLS to the daemon (DOCKER_TLS_VERIFY) is not supported; use the unix socket",
                ));
            }
            let hostport = rest.trim_end_matches('/');
            if hostport.is_empty() || hostport.contains(['/', '?', '#', '@']) {
                return Err(invalid("expected tcp://HOST:PORT"));
            }
            let hostport = if hostport
                .rsplit_once(':')
                .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            {
                hostport.to_string()
            } else {
                // The docker CLI's default port for plain tcp://.
                format!("{hostport}:2375")
            };
            return Ok(Endpoint {
                display: format!("tcp://{hostport}"),
                address: Address::Tcp(hostport),
            });
        }
        let scheme = value.split_once("://").map_or(value, |(s, _)| s);
        Err(invalid(&format!(
            "unsupported scheme {scheme:?}: only unix:// and tcp:// are supported"
        )))
    }

    pub fn unix(path: &Path) -> Endpoint {
        Endpoint {
            display: format!("unix://{}", path.display()),
            address: Address::Unix(path.to_path_buf()),
        }
    }

    /// Whether a unix endpoint's socket file exists (tcp endpoints always "exist").
    fn exists(&self) -> bool {
        match &self.address {
            Address::Unix(p) => p.exists(),
            Address::Tcp(_) => true,
        }
    }

    fn host_header(&self) -> &str {
        match &self.address {
            // What the docker CLI sends for unix sockets.
            Address::Unix(_) => "api.moby.localhost",
            Address::Tcp(h) => h,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// The endpoints to try for `kind`, in order.
pub fn endpoints(kind: DaemonKind, options: &DaemonOptions) -> Result<Vec<Endpoint>, DaemonError> {
    match kind {
        DaemonKind::Docker => Ok(vec![match &options.docker_host {
            Some(h) => Endpoint::parse(h, "DOCKER_HOST")?,
            None => Endpoint::unix(Path::new(DEFAULT_DOCKER_SOCKET)),
        }]),
        DaemonKind::Podman => {
            if let Some(h) = &options.podman_host {
                return Ok(vec![Endpoint::parse(h, "CONTAINER_HOST")?]);
            }
            let mut out = Vec::new();
            // Rootless first, as podman's own remote client does.
            let runtime_dir = options.xdg_runtime_dir.clone().or_else(|| {
                use std::os::unix::fs::MetadataExt;
                let uid = fs::metadata("/proc/self").ok()?.uid();
                (uid != 0).then(|| PathBuf::from(format!("/run/user/{uid}")))
            });
            if let Some(dir) = runtime_dir {
                out.push(Endpoint::unix(&dir.join("podman").join("podman.sock")));
            }
            let root = Endpoint::unix(Path::new(PODMAN_ROOT_SOCKET));
            if !out.contains(&root) {
                out.push(root);
            }
            Ok(out)
        }
    }
}

/// A connected daemon with a negotiated API version.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    api_version: String,
    /// `Docker Engine 20.10.24`, `Podman Engine 4.3.1`, …: for logs.
    server: String,
    timeouts: Timeouts,
}

/// What `GET /images/{name}/json` says about an image (the fields used here).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub repo_digests: Option<Vec<String>>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
}

impl ImageInspect {
    /// The image's platform, when the daemon reports one.
    pub fn platform(&self) -> Option<Platform> {
        match (&self.os, &self.architecture) {
            (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => {
                Some(Platform::new(os, arch, self.variant.as_deref()))
            }
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionInfo {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    min_api_version: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    components: Option<Vec<Component>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Component {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
}

/// `1.41` → (1, 41).
fn parse_api_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().trim_start_matches('v').split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Percent-encodes an image name for the request path. `/`, `:` and `@` stay as they
/// are (the Engine API routes `/images/{name:.*}/json`), everything outside the
/// unreserved set is escaped.
fn encode_name(name: &str) -> Result<String, DaemonError> {
    let invalid = |reason: &str| DaemonError::InvalidName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("empty name"));
    }
    if name.len() > 4096 {
        return Err(invalid("longer than 4096 bytes"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contains whitespace or control characters"));
    }
    if name.split('/').any(|s| s == ".." || s == ".") {
        return Err(invalid("contains a . or .. path segment"));
    }
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

impl Client {
    /// Connects to `endpoint`: pings it and negotiates the API version.
    pub fn connect(endpoint: &Endpoint, timeouts: &Timeouts) -> Result<Client, DaemonError> {
        let mut client = Client {
            endpoint: endpoint.clone(),
            api_version: String::new(),
            server: String::new(),
            timeouts: timeouts.clone(),
        };
        let mut ping = client.request("/_ping", "ping").map_err(|e| match e {
            // Nothing listens: the usual "daemon is down".
            DaemonError::Protocol { detail, .. } if detail.starts_with("connect: ") => {
                DaemonError::NotRunning {
                    endpoint: endpoint.to_string(),
                    reason: detail.trim_start_matches("connect: ").to_string(),
                }
            }
            e => e,
        })?;
        let ping_version = ping.header("API-Version").map(str::to_string);
        let _ = client.body(&mut ping, "ping", 4096)?;
        if ping.status != 200 {
            return Err(client.api_error(&mut ping, "ping"));
        }
        // `/version` is unversioned-safe: every daemon answers it at the root path.
        let mut resp = client.request("/version", "version")?;
        let body = client.body(&mut resp, "version", MAX_JSON)?;
        let info: Option<VersionInfo> = if resp.status == 200 {
            serde_json::from_slice(&body).ok()
        } else {
            None
        };
        let server_max = info
            .as_ref()
            .and_then(|i| i.api_version.as_deref())
            .or(ping_version.as_deref())
            .and_then(parse_api_version);
        let server_min = info
            .as_ref()
            .and_then(|i| i.min_api_version.as_deref())
            .and_then(parse_api_version);
        let ours = parse_api_version(CLIENT_API_VERSION).unwrap_or((1, 41));
        // The lower of ours and the daemon's, but never below what it still accepts.
        let mut chosen = server_max.map_or(ours, |s| s.min(ours));
        if let Some(min) = server_min
            && chosen < min
        {
            chosen = min;
        }
        client.api_version = format!("{}.{}", chosen.0, chosen.1);
        client.server = info
            .map(|i| {
                let component = i
                    .components
                    .unwrap_or_default()
                    .into_iter()
                    .find(|c| c.name.contains("Engine"));
                match component {
                    Some(c) => format!("{} {}", c.name, c.version),
                    None => format!("engine {}", i.version.unwrap_or_default()),
                }
            })
            .unwrap_or_else(|| "unknown engine".into());
        tracing::debug!(
            endpoint = %client.endpoint,
            server = %client.server,
            api = %client.api_version,
            "connected to daemon"
        );
        Ok(client)
    }

    /// The negotiated API version (`1.41`).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// What the daemon says it is (`Docker Engine 20.10.24`).
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn versioned(&self, path: &str) -> String {
        if self.api_version.is_empty() {
            path.to_string()
        } else {
            format!("/v{}{path}", self.api_version)
        }
    }

    fn http_error(&self, what: &str, e: HttpError, secs: Duration) -> DaemonError {
        if e.is_timeout() {
            return DaemonError::Timeout {
                endpoint: self.endpoint.to_string(),
                what: what.to_string(),
                secs: secs.as_secs().max(1),
            };
        }
        DaemonError::Protocol {
            endpoint: self.endpoint.to_string(),
            what: what.to_string(),
            detail: match e {
                HttpError::Io(e) => io_reason(&e),
                HttpError::Protocol(m) => m,
            },
        }
    }

    /// Sends a GET (path without the version prefix for `/_ping` and `/version`).
    fn request(&self, path: &str, what: &str) -> Result<Response, DaemonError> {
        let deadline = Instant::now() + self.timeouts.request;
        self.request_with(path, what, self.timeouts.request, deadline)
    }

    fn request_with(
        &self,
        path: &str,
        what: &str,
        idle: Duration,
        deadline: Instant,
    ) -> Result<Response, DaemonError> {
        // A failed connect is told apart from a failed exchange: it means "not running".
        let conn = http::Conn::connect(&self.endpoint.address, idle, deadline).map_err(|e| {
            DaemonError::Protocol {
                endpoint: self.endpoint.to_string(),
                what: what.to_string(),
                detail: format!("connect: {}", io_reason(&e)),
            }
        })?;
        http::get(conn, self.endpoint.host_header(), path)
            .map_err(|e| self.http_error(what, e, idle.min(self.timeouts.request)))
    }

    fn body(&self, resp: &mut Response, what: &str, limit: u64) -> Result<Vec<u8>, DaemonError> {
        resp.read_body(limit)
            .map_err(|e| self.http_error(what, e, self.timeouts.request))
    }

    /// Turns a non-2xx response into an error carrying the daemon's `message`.
    fn api_error(&self, resp: &mut Response, what: &str) -> DaemonError {
        let status = resp.status;
        let body = resp.read_body(64 * 1024).unwrap_or_default();
        #[derive(Deserialize)]
        struct Message {
            message: String,
        }
        let message = match serde_json::from_slice::<Message>(&body) {
            Ok(m) => printable(m.message.as_bytes(), 300),
            Err(_) if body.iter().all(u8::is_ascii_whitespace) => "(empty body)".to_string(),
            Err(_) => printable(&body, 300),
        };
        // `printable` quotes; the daemon's own words read better unquoted.
        let message = message
            .strip_prefix('"')
            .and_then(|m| m.strip_suffix('"'))
            .map(str::to_string)
            .unwrap_or(message);
        DaemonError::Api {
            endpoint: self.endpoint.to_string(),
            what: what.to_string(),
            status,
            message,
        }
    }

    /// Resolves `name` (`debian:12`, an ID, `repo@sha256:…`) to the daemon's image.
    pub fn inspect(&self, name: &str) -> Result<ImageInspect, DaemonError> {
        let path = self.versioned(&format!("/images/{}/json", encode_name(name)?));
        let what = format!("inspect {name:?}");
        let mut resp = self.request(&path, &what)?;
        if resp.status == 404 {
            return Err(DaemonError::ImageNotFound {
                endpoint: self.endpoint.to_string(),
                name: name.to_string(),
            });
        }
        if resp.status == 400 {
            // "invalid reference format" and the like: not a name this daemon knows.
            let reason = match self.api_error(&mut resp, &what) {
                DaemonError::Api { message, .. } => message,
                e => e.to_string(),
            };
            return Err(DaemonError::InvalidName {
                name: name.to_string(),
                reason,
            });
        }
        if resp.status != 200 {
            return Err(self.api_error(&mut resp, &what));
        }
        let body = self.body(&mut resp, &what, MAX_JSON)?;
        let inspect: ImageInspect =
            serde_json::from_slice(&body).map_err(|e| DaemonError::Protocol {
                endpoint: self.endpoint.to_string(),
                what: what.clone(),
                detail: format!("invalid JSON: {e}"),
            })?;
        if inspect.id.is_empty() {
            return Err(DaemonError::Protocol {
                endpoint: self.endpoint.to_string(),
                what,
                detail: "the daemon returned an image without an Id".into(),
            });
        }
        Ok(inspect)
    }

    /// Streams `GET /images/{id}/get` into `out`, returning the byte count. Fails on a
    /// truncated stream, on a stall longer than the idle timeout, past the export
    /// deadline and beyond `max_size` bytes.
    pub fn export(
        &self,
        id: &str,
        out: &mut impl Write,
        max_size: u64,
    ) -> Result<u64, DaemonError> {
        let path = self.versioned(&format!("/images/{}/get", encode_name(id)?));
        let what = format!("export {id:?}");
        let deadline = Instant::now() + self.timeouts.export;
        let mut resp = self.request_with(&path, &what, self.timeouts.idle, deadline)?;
        if resp.status == 404 {
            return Err(DaemonError::ImageNotFound {
                endpoint: self.endpoint.to_string(),
                name: id.to_string(),
            });
        }
        if resp.status != 200 {
            return Err(self.api_error(&mut resp, &what));
        }
        let mut buf = vec![0u8; 256 * 1024];
        let mut total: u64 = 0;
        loop {
            let n = match resp.body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let secs = if Instant::now() >= deadline {
                        self.timeouts.export
                    } else {
                        self.timeouts.idle
                    };
                    return Err(self.http_error(&what, HttpError::Io(e), secs));
                }
            };
            total = total.saturating_add(n as u64);
            if total > max_size {
                return Err(DaemonError::TooLarge {
                    endpoint: self.endpoint.to_string(),
                    name: id.to_string(),
                    limit: max_size,
                });
            }
            out.write_all(&buf[..n])
                .map_err(|e| DaemonError::Protocol {
                    endpoint: self.endpoint.to_string(),
                    what: what.clone(),
                    detail: format!("writing the export: {}", io_reason(&e)),
                })?;
        }
        if !resp.body.is_delimited() {
            tracing::debug!(endpoint = %self.endpoint, "export had no length or chunking; truncation is caught by the archive reader");
        }
        Ok(total)
    }
}

/// A short, lower-case reason for an I/O error (`connection refused`).
fn io_reason(e: &io::Error) -> String {
    let s = match e.kind() {
        io::ErrorKind::NotFound => return "no such socket".into(),
        io::ErrorKind::ConnectionRefused => return "connection refused".into(),
        io::ErrorKind::PermissionDenied => return "permission denied".into(),
        io::ErrorKind::ConnectionReset => return "connection reset".into(),
        _ => e.to_string(),
    };
    // `Connection refused (os error 111)` → `connection refused`.
    let s = match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => s,
    }
}

/// A daemon export on disk, deleted when this guard is dropped.
#[derive(Debug)]
pub struct TempExport {
    file: tempfile::TempPath,
}

impl TempExport {
    /// Creates an empty export file in `<cache>/tmp/`.
    fn create(cache_dir: &Path) -> Result<(TempExport, fs::File), DaemonError> {
        let dir = cache_dir.join("tmp");
        fs::create_dir_all(&dir).map_err(|source| DaemonError::TempFile {
            path: dir.display().to_string(),
            source,
        })?;
        let named = tempfile::Builder::new()
            .prefix("export-")
            .suffix(".tar")
            .tempfile_in(&dir)
            .map_err(|source| DaemonError::TempFile {
                path: dir.display().to_string(),
                source,
            })?;
        let (file, path) = named.into_parts();
        Ok((TempExport { file: path }, file))
    }

    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// An image read from a daemon, with the export file it reads its layers from. Keep
/// it alive for as long as the image's layers are read.
#[derive(Debug)]
pub struct DaemonImage {
    pub image: Image,
    pub export: TempExport,
    /// The endpoint and engine that served it, for logs.
    pub endpoint: String,
    pub server: String,
}

/// Reads image `name` from the first reachable daemon of `kind`.
///
/// `platform` selects from a multi-platform export (Docker 25+ with the containerd
/// store); it defaults to the platform the daemon reports for the image, and a
/// single-platform image must match it.
pub fn fetch(
    kind: DaemonKind,
    name: &str,
    platform: Option<&Platform>,
    options: &DaemonOptions,
) -> Result<DaemonImage, DaemonError> {
    encode_name(name)?;
    let client = connect(kind, options)?;
    let inspect = client.inspect(name)?;
    let cache_dir = match &options.cache_dir {
        Some(d) => d.clone(),
        None => crate::cache::default_dir().ok_or(DaemonError::NoCacheDir)?,
    };
    let (export, file) = TempExport::create(&cache_dir)?;
    let mut writer = io::BufWriter::with_capacity(1 << 20, file);
    let started = Instant::now();
    let bytes = client.export(&inspect.id, &mut writer, options.max_export_size)?;
    // Flushed, not synced: only this process reads the file, and only while it lives.
    writer
        .into_inner()
        .map_err(|e| e.into_error())
        .map_err(|source| DaemonError::TempFile {
            path: export.path().display().to_string(),
            source,
        })?;
    tracing::debug!(
        bytes,
        ms = started.elapsed().as_millis() as u64,
        path = %export.path().display(),
        "exported image from {}",
        kind.name()
    );
    let wanted = platform.cloned().or_else(|| inspect.platform());
    let image_error = |source| DaemonError::Image {
        endpoint: client.endpoint.to_string(),
        name: name.to_string(),
        source: Box::new(source),
    };
    let path = export
        .path()
        .to_str()
        .ok_or_else(|| DaemonError::TempFile {
            path: export.path().display().to_string(),
            source: io::Error::other("path is not UTF-8"),
        })?
        .to_string();
    let mut image = image::open(&path, wanted.as_ref()).map_err(image_error)?;
    image.meta.reference = name.to_string();
    image.meta.source = kind.source().to_string();
    let mut tags: Vec<String> = inspect
        .repo_tags
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t != "<none>:<none>")
        .collect();
    if tags.is_empty() {
        tags = std::mem::take(&mut image.meta.tags);
    }
    tags.sort();
    tags.dedup();
    image.meta.tags = tags;
    Ok(DaemonImage {
        image,
        export,
        endpoint: client.endpoint.to_string(),
        server: client.server.clone(),
    })
}

/// Connects to the first endpoint of `kind` that answers.
pub fn connect(kind: DaemonKind, options: &DaemonOptions) -> Result<Client, DaemonError> {
    let candidates = endpoints(kind, options)?;
    let explicit = match kind {
        DaemonKind::Docker => true,
        DaemonKind::Podman => options.podman_host.is_some(),
    };
    let existing: Vec<&Endpoint> = candidates.iter().filter(|e| e.exists()).collect();
    if existing.is_empty() {
        if explicit {
            // One configured endpoint: say it is not there.
            let e = &candidates[0];
            return Err(DaemonError::NotRunning {
                endpoint: e.to_string(),
                reason: "no such socket".into(),
            });
        }
        return Err(DaemonError::NoSocket {
            tried: candidates.iter().map(ToString::to_string).collect(),
        });
    }
    let mut first_err = None;
    for e in existing {
        match Client::connect(e, &options.timeouts) {
            Ok(c) => return Ok(c),
            Err(err) => {
                tracing::debug!(endpoint = %e, "{err}");
                first_err.get_or_insert(err);
            }
        }
    }
    Err(first_err.unwrap_or(DaemonError::NoSocket { tried: Vec::new() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_parsing() {
        let e = Endpoint::parse("unix:///run/x.sock", "DOCKER_HOST").unwrap();
        assert_eq!(e.to_string(), "unix:///run/x.sock");
        assert_eq!(e.address, Address::Unix("/run/x.sock".into()));
        let e = Endpoint::parse("tcp://127.0.0.1:2375", "DOCKER_HOST").unwrap();
        assert_eq!(e.address, Address::Tcp("127.0.0.1:2375".into()));
        let e = Endpoint::parse("tcp://localhost", "DOCKER_HOST").unwrap();
        assert_eq!(e.address, Address::Tcp("localhost:2375".into()));
        let err = Endpoint::parse("ssh://me@host", "DOCKER_HOST").unwrap_err();
        assert!(
            err.to_string().contains("unsupported scheme \"ssh\""),
            "{err}"
        );
        assert!(Endpoint::parse("unix://", "DOCKER_HOST").is_err());
    }

    #[test]
    fn names_are_encoded_and_checked() {
        assert_eq!(
            encode_name("docker.io/library/debian:12").unwrap(),
            "docker.io/library/debian:12"
        );
        assert_eq!(encode_name("a?b#c%").unwrap(), "a%3Fb%23c%25");
        assert!(encode_name("a b").is_err());
        assert!(encode_name("../../containers/json").is_err());
        assert!(encode_name("").is_err());
    }

    #[test]
    fn api_versions() {
        assert_eq!(parse_api_version("1.41"), Some((1, 41)));
        assert_eq!(parse_api_version("v1.9"), Some((1, 9)));
        assert!(parse_api_version("x").is_none());
        assert!(parse_api_version(CLIENT_API_VERSION).is_some());
    }

    #[test]
    fn podman_socket_candidates() {
        let opts = DaemonOptions {
            xdg_runtime_dir: Some("/run/user/1000".into()),
            ..DaemonOptions::default()
        };
        let eps = endpoints(DaemonKind::Podman, &opts).unwrap();
        let shown: Vec<String> = eps.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "unix:///run/user/1000/podman/podman.sock",
                "unix:///run/podman/podman.sock"
            ]
        );
    }
}

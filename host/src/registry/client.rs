//! HTTP transport for one registry host: TLS trust, insecure hosts, proxies,
//! timeouts, and retries.
//!
//! Built on `ureq` (blocking, rustls with ring): a layer stream is then a plain
//! `io::Read` that the existing verifying/decompressing readers wrap, and each scan
//! thread pulls its own layer without an async runtime in between. Proxies come from
//! `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` with `NO_PROXY` (ureq reads them). Response
//! bodies are never decoded transparently (no `Accept-Encoding`), because the bytes
//! we hash must be the stored blob's bytes.
//!
//! Retries: 429, 500, 502, 503, 504 and transport failures (connection refused or
//! reset, timeouts) are retried with exponential backoff and full jitter, honouring
//! `Retry-After` (seconds or an HTTP date), within a bounded number of attempts and
//! a bounded total time, so a dead registry fails in bounded time.
use super::RegistryOptions;
use super::errors::RegistryError;
use crate::http_retry::{retry_after, retryable_status, transient};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};
use ureq::http::{self, Response};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Body};

/// How hard to try before giving up on a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total tries per request, including the first (at least 1).
    pub max_attempts: u32,
    /// No retry starts once this much time has passed since the first try.
    pub max_total: Duration,
    /// First backoff; doubles per attempt.
    pub base_delay: Duration,
    /// Largest single wait, also the cap for `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            max_total: Duration::from_secs(120),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (see [`crate::http_retry::backoff`]).
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        crate::http_retry::backoff(attempt, self.base_delay, self.max_delay, retry_after)
    }
}

/// The outcome of a request after retries: a response with a status that is not
/// retried (or the last retried one), plus how many attempts were made.
pub struct Reply {
    pub response: Response<Body>,
    pub attempts: u32,
}

/// The transport for one registry host.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) agent: Agent,
    /// `https://HOST` or `http://HOST`.
    pub base: String,
    pub retry: RetryPolicy,
    /// The registry as named in messages.
    pub registry: String,
}

/// Whether `host` (`HOST[:PORT]`) is listed in `--insecure-registry`. An entry
/// without a port covers every port of that host; a scheme prefix is ignored.
pub fn is_insecure(host: &str, entries: &[String]) -> bool {
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    let host = host.to_ascii_lowercase();
    let host_only = split_port(&host).0.to_string();
    entries
        .iter()
        .map(|e| strip(e))
        .any(|e| e == host || (split_port(&e).1.is_none() && e == host_only))
}

/// Splits `host:port` (IPv6 in brackets) into host and port.
fn split_port(h: &str) -> (&str, Option<&str>) {
    if h.starts_with('[') {
        return match h.rsplit_once("]:") {
            Some((a, p)) => (&h[..a.len() + 1], Some(p)),
            None => (h, None),
        };
    }
    match h.rsplit_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (h, None),
    }
}

/// Where the system's CA bundle usually is; `SSL_CERT_FILE` wins.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn load_pem_certs(path: &Path, out: &mut Vec<Certificate<'static>>) -> Result<usize, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > 16 << 20 {
        return Err(format!("{}: larger than 16 MiB", path.display()));
    }
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let before = out.len();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(out.len() - before)
}

/// The trust roots for `host`: the system bundle plus `--registry-ca` files plus
/// Docker's per-host `/etc/docker/certs.d/HOST/*.crt`, the places docker looks.
fn root_certs(host: &str, options: &RegistryOptions) -> Result<RootCerts, RegistryError> {
    let mut extra = Vec::new();
    for f in &options.ca_files {
        let n = load_pem_certs(f, &mut extra).map_err(RegistryError::Config)?;
        if n == 0 {
            return Err(RegistryError::Config(format!(
                "{}: no PEM certificate found",
                f.display()
            )));
        }
    }
    let certs_d = options
        .certs_d_dir
        .clone()
        .unwrap_or_else(|| Path::new("/etc/docker/certs.d").to_path_buf())
        .join(host);
    if let Ok(rd) = std::fs::read_dir(&certs_d) {
        let mut files: Vec<_> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "crt"))
            .collect();
        files.sort();
        for f in files {
            load_pem_certs(&f, &mut extra).map_err(RegistryError::Config)?;
        }
    }
    if extra.is_empty() {
        return Ok(system_roots());
    }
    let mut all = system_bundle().unwrap_or_default();
    all.extend(extra);
    Ok(RootCerts::new_with_certs(&all))
}

/// The certificates of the system's CA bundle: the first candidate (`SSL_CERT_FILE`,
/// then the usual places) that loads and holds any.
fn system_bundle() -> Option<Vec<Certificate<'static>>> {
    let env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    env.into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(|p| Path::new(p).to_path_buf()))
        .filter(|p| p.is_file())
        .find_map(|path| {
            let mut out = Vec::new();
            load_pem_certs(&path, &mut out).ok()?;
            (!out.is_empty()).then_some(out)
        })
}

/// The system's trust roots, or the bundled WebPKI roots when it has none. Also
/// used by the vulnerability-database downloads.
pub(crate) fn system_roots() -> RootCerts {
    match system_bundle() {
        Some(certs) => RootCerts::new_with_certs(&certs),
        None => RootCerts::WebPki,
    }
}

fn agent(tls: TlsConfig, options: &RegistryOptions) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(options.connect_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .timeout_recv_response(Some(options.read_timeout))
        .max_redirects(10)
        .max_idle_connections_per_host(16)
        .build()
        .new_agent()
}

/// What a ping (`GET /v2/`) found.
pub struct Ping {
    pub client: Client,
    pub response: Response<Body>,
}

/// Connects to `host`: HTTPS with verified TLS, or for a host listed in
/// `--insecure-registry`, HTTPS without verification and then plain HTTP, the order
/// docker uses. Returns the client for the scheme that answered and its `/v2/` reply.
pub fn connect(
    registry: &str,
    host: &str,
    options: &RegistryOptions,
) -> Result<Ping, RegistryError> {
    let insecure = is_insecure(host, &options.insecure_registries);
    let roots = root_certs(host, options)?;
    let mut tried = Vec::new();
    let schemes: &[&str] = if insecure {
        &["https", "http"]
    } else {
        &["https"]
    };
    for scheme in schemes {
        let tls = TlsConfig::builder()
            .root_certs(roots.clone())
            .disable_verification(insecure)
            .build();
        let client = Client {
            agent: agent(tls, options),
            base: format!("{scheme}://{host}"),
            retry: options.retry.clone(),
            registry: registry.to_string(),
        };
        let url = format!("{}/v2/", client.base);
        match client.send_with_retry(|| http::Request::get(&url).body(Vec::new())) {
            Ok(reply) => {
                return Ok(Ping {
                    client,
                    response: reply.response,
                });
            }
            Err(e) => tried.push(format!("{scheme}: {e}")),
        }
    }
    let mut detail = tried.join("; ");
    if !insecure {
        detail.push_str(&format!(
            " (for a plain-HTTP or self-signed registry pass --insecure-registry {host}, or --registry-ca FILE)"
        ));
    }
    Err(RegistryError::Connect {
        registry: registry.to_string(),
        detail,
    })
}

/// Reads at most `limit` bytes of a body (error bodies, JSON documents).
pub fn read_body(resp: Response<Body>, limit: u64) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    resp.into_body()
        .into_reader()
        .take(limit)
        .read_to_end(&mut out)?;
    Ok(out)
}

impl Client {
    /// Sends the request `build` makes (rebuilt per attempt), retrying transient
    /// failures. A retryable status that persists is returned as the final reply
    /// so the caller can turn its body into a registry error.
    pub fn send_with_retry(
        &self,
        build: impl Fn() -> http::Result<http::Request<Vec<u8>>>,
    ) -> Result<Reply, ureq::Error> {
        let start = Instant::now();
        let max = self.retry.max_attempts.max(1);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let req = build().map_err(ureq::Error::Http)?;
            let result = self.agent.run(req);
            let (retry, wait) = match &result {
                Ok(resp) if retryable_status(resp.status().as_u16()) => (true, retry_after(resp)),
                Ok(_) => (false, None),
                Err(e) => (transient(e), None),
            };
            let delay = self.retry.delay(attempt, wait);
            let in_budget = start.elapsed().saturating_add(delay) <= self.retry.max_total;
            if !retry || attempt >= max || !in_budget {
                return result.map(|response| Reply {
                    response,
                    attempts: attempt,
                });
            }
            tracing::debug!(
                registry = %self.registry,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying registry request"
            );
            // Drop the failed response (closing its connection) before sleeping.
            drop(result);
            std::thread::sleep(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_matching() {
        let list = vec!["127.0.0.1:5000".to_string(), "http://reg.local/".into()];
        assert!(is_insecure("127.0.0.1:5000", &list));
        assert!(!is_insecure("127.0.0.1:5001", &list));
        assert!(!is_insecure("127.0.0.1", &list));
        assert!(is_insecure("reg.local", &list));
        assert!(is_insecure("REG.local:443", &list));
        assert!(!is_insecure("other.local", &list));
        assert!(is_insecure("[::1]:5000", &["[::1]".to_string()]));
    }

    #[test]
    fn backoff_and_dates() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            let d = p.delay(attempt, None);
            assert!(d <= p.max_delay, "{d:?}");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(p.delay(1, Some(Duration::from_secs(99999))), p.max_delay);
    }
}

//! Who we are to a registry: credentials from options, the environment or the
//! docker config, and the challenge/response dance that turns them into an
//! `Authorization` header.
//!
//! Precedence (first match wins): `--username`/`--password`, then
//! `CUSTOMS_REGISTRY_USERNAME`/`CUSTOMS_REGISTRY_PASSWORD`, then the docker config
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a `credHelpers`
//! entry for the host, else `credsStore`, else the `auths` entry (`auth` =
//! base64 `user:password`, or `identitytoken`). Helpers run exactly as docker runs
//! them: `docker-credential-NAME get`, the server address on stdin, JSON on stdout.
//!
//! Challenges: the registry's `/v2/` (or any 401) names the scheme. `Basic` gets the
//! credentials directly. `Bearer` sends us to a token server (`realm`), asked for
//! `repository:REPO:pull`: first with the OAuth2 form POST (identity tokens need it,
//! containerd-style servers prefer it), then with the classic GET + basic auth when
//! the server does not take the POST.
use super::client::{Client, read_body};
use super::errors::{Context, RegistryError, from_response, one_line};
use super::reference::DOCKER_HUB;
use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ureq::Body;
use ureq::http::{self, Response};

/// Where Docker Hub credentials are filed in docker configs and helpers.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";
/// How long a credential helper may take.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest token-server or helper response we read.
const MAX_AUTH_BODY: u64 = 1 << 20;

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken` in docker configs).
    IdentityToken {
        username: String,
        token: String,
    },
}

impl std::fmt::Debug for Credential {
    /// Never prints secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credential::IdentityToken { username, .. } => {
                write!(f, "IdentityToken({username}, ***)")
            }
        }
    }
}

/// Where the credential came from, for messages ("wrong credentials from …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credential: Credential,
    pub origin: String,
}

/// The hostname a docker-config key or server address stands for (docker's
/// `ConvertToHostname`): scheme and path removed.
fn key_host(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k).to_ascii_lowercase()
}

/// Whether a config key names `registry` (Docker Hub answers to several names).
fn key_matches(key: &str, registry: &str) -> bool {
    let h = key_host(key);
    if registry == DOCKER_HUB {
        matches!(
            h.as_str(),
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        )
    } else {
        h == registry.to_ascii_lowercase()
    }
}

#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The docker config directory: the option, `$DOCKER_CONFIG`, `~/.docker`.
fn config_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker"))
}

/// Resolves the credentials for `registry` in precedence order; `Ok(None)` means
/// anonymous.
pub fn resolve(
    registry: &str,
    username: Option<&str>,
    password: Option<&str>,
    docker_config_dir: Option<&Path>,
) -> Result<Option<Found>, RegistryError> {
    match (username, password) {
        (Some(u), Some(p)) => {
            return Ok(Some(Found {
                credential: Credential::Basic {
                    username: u.to_string(),
                    password: p.to_string(),
                },
                origin: "--username/--password".into(),
            }));
        }
        (Some(_), None) => {
            return Err(RegistryError::Credentials(
                "--username given without a password (use --password-stdin, --password or CUSTOMS_REGISTRY_PASSWORD)".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(RegistryError::Credentials(
                "a password was given without --username".into(),
            ));
        }
        (None, None) => {}
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        env("CUSTOMS_REGISTRY_USERNAME"),
        env("CUSTOMS_REGISTRY_PASSWORD"),
    ) {
        (Some(username), Some(password)) => {
            return Ok(Some(Found {
                credential: Credential::Basic { username, password },
                origin: "CUSTOMS_REGISTRY_USERNAME/CUSTOMS_REGISTRY_PASSWORD".into(),
            }));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(RegistryError::Credentials(
                "set both CUSTOMS_REGISTRY_USERNAME and CUSTOMS_REGISTRY_PASSWORD, or neither"
                    .into(),
            ));
        }
        (None, None) => {}
    }
    let Some(dir) = config_dir(docker_config_dir) else {
        return Ok(None);
    };
    from_docker_config(registry, &dir.join("config.json"))
}

fn from_docker_config(registry: &str, path: &Path) -> Result<Option<Found>, RegistryError> {
    let shown = path.display().to_string();
    let bytes = match std::fs::metadata(path) {
        Ok(m) if m.len() > 16 << 20 => {
            return Err(RegistryError::Credentials(format!(
                "{shown}: larger than 16 MiB"
            )));
        }
        Ok(_) => {
            std::fs::read(path).map_err(|e| RegistryError::Credentials(format!("{shown}: {e}")))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RegistryError::Credentials(format!("{shown}: {e}"))),
    };
    let cfg: DockerConfig = serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::Credentials(format!("{shown}: invalid JSON: {e}")))?;
    let server = if registry == DOCKER_HUB {
        DOCKER_HUB_SERVER.to_string()
    } else {
        registry.to_string()
    };
    let helper = cfg
        .cred_helpers
        .iter()
        .find(|(k, _)| key_matches(k, registry))
        .map(|(_, v)| v.clone())
        .or(cfg.creds_store.clone().filter(|s| !s.is_empty()));
    if let Some(helper) = helper {
        return run_helper(&helper, &server).map(|c| {
            c.map(|credential| Found {
                credential,
                origin: format!("docker-credential-{helper} ({shown})"),
            })
        });
    }
    // Exact key first (`host:port`), then any key naming the same host.
    let entry = cfg.auths.get(&server).or_else(|| {
        cfg.auths
            .iter()
            .find(|(k, _)| key_matches(k, registry))
            .map(|(_, v)| v)
    });
    let Some(entry) = entry else {
        return Ok(None);
    };
    let bad =
        |what: &str| RegistryError::Credentials(format!("{shown}: auths[{server:?}]: {what}"));
    let (mut username, mut password) = (entry.username.clone(), entry.password.clone());
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad("`auth` is not base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad("`auth` is not UTF-8"))?;
        let (u, p) = decoded
            .split_once(':')
            .ok_or_else(|| bad("`auth` is not base64 of user:password"))?;
        username = Some(u.to_string());
        password = Some(p.to_string());
    }
    let origin = format!("{shown} auths");
    if let Some(token) = entry.identitytoken.clone().filter(|t| !t.is_empty()) {
        return Ok(Some(Found {
            credential: Credential::IdentityToken {
                username: username.unwrap_or_default(),
                token,
            },
            origin,
        }));
    }
    match (username, password) {
        (Some(username), Some(password)) if !username.is_empty() => Ok(Some(Found {
            credential: Credential::Basic { username, password },
            origin,
        })),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `docker-credential-NAME get` with the server address on stdin. A
/// "credentials not found" answer means anonymous, as in docker.
fn run_helper(name: &str, server: &str) -> Result<Option<Credential>, RegistryError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(RegistryError::Credentials(format!(
            "invalid credential helper name {:?}",
            one_line(name)
        )));
    }
    let program = format!("docker-credential-{name}");
    let fail = |what: String| RegistryError::Credentials(format!("{program} get: {what}"));
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading gives EPIPE; its exit status tells more.
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read both pipes on threads so a chatty helper cannot deadlock on a full pipe.
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(r) = r {
                let _ = r.take(MAX_AUTH_BODY).read_to_end(&mut out);
            }
            out
        })
    };
    let out_t = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_t = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > HELPER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "no answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(fail(e.to_string())),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let text = String::from_utf8_lossy(&stdout);
    if !status.success() {
        if text.contains("credentials not found") {
            return Ok(None);
        }
        let msg = if text.trim().is_empty() {
            String::from_utf8_lossy(&stderr).into_owned()
        } else {
            text.into_owned()
        };
        return Err(fail(format!("{status}: {}", one_line(&msg))));
    }
    let reply: HelperReply = serde_json::from_slice(&stdout)
        .map_err(|e| fail(format!("invalid JSON on stdout: {e}")))?;
    if reply.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if reply.username == "<token>" {
        Credential::IdentityToken {
            username: String::new(),
            token: reply.secret,
        }
    } else {
        Credential::Basic {
            username: reply.username,
            password: reply.secret,
        }
    }))
}

/// One `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower-case: `basic`, `bearer`.
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses a `WWW-Authenticate` value (`Bearer realm="…",service="…",scope="…"`).
/// Several challenges in one header are split at a new scheme token.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let b = header.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t' || b[*i] == b',') {
            *i += 1;
        }
    };
    let token = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && !matches!(b[*i], b' ' | b'\t' | b',' | b'=' | b'"') {
            *i += 1;
        }
        header[s..*i].to_string()
    };
    while i < b.len() {
        skip_ws(&mut i);
        let t = token(&mut i);
        if t.is_empty() {
            i += 1;
            continue;
        }
        // `name=` (a parameter) or a new scheme.
        let mut j = i;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' && !out.is_empty() {
            i = j + 1;
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            let value = if i < b.len() && b[i] == b'"' {
                i += 1;
                let mut v = String::new();
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch_len = header[i..].chars().next().map_or(1, char::len_utf8);
                    v.push_str(&header[i..i + ch_len]);
                    i += ch_len;
                }
                i += 1;
                v
            } else {
                token(&mut i)
            };
            if let Some(last) = out.last_mut() {
                last.params.insert(t.to_ascii_lowercase(), value);
            }
        } else {
            out.push(Challenge {
                scheme: t.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
        }
    }
    out
}

/// The challenges of a 401 response.
pub fn challenges_of(resp: &Response<Body>) -> Vec<Challenge> {
    resp.headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .collect()
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut o = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                o.push(b as char);
            } else {
                o.push_str(&format!("%{b:02X}"));
            }
        }
        o
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn basic_header(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// The authorization state of one repository on one registry, shared by every
/// request and layer stream of an image.
pub struct Auth {
    pub credential: Option<Found>,
    /// `repository:REPO:pull`.
    pub scope: String,
    header: Mutex<Option<String>>,
}

impl std::fmt::Debug for Auth {
    /// Never prints the current token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("credential", &self.credential)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Auth {
    pub fn new(credential: Option<Found>, repository: &str) -> Auth {
        Auth {
            credential,
            scope: format!("repository:{repository}:pull"),
            header: Mutex::new(None),
        }
    }

    /// The `Authorization` header to send now, if any.
    pub fn header(&self) -> Option<String> {
        self.header.lock().map(|h| h.clone()).unwrap_or(None)
    }

    /// Answers the challenges of a 401: picks a scheme we speak and obtains a fresh
    /// header. `ctx` names the request for error messages.
    pub fn answer(
        &self,
        client: &Client,
        challenges: &[Challenge],
        ctx: &Context<'_>,
    ) -> Result<(), RegistryError> {
        let unauthorized = |detail: String| RegistryError::Unauthorized {
            registry: ctx.registry.to_string(),
            repository: ctx.repository.to_string(),
            reference: ctx.reference.to_string(),
            detail,
        };
        let header = if let Some(c) = challenges.iter().find(|c| c.scheme == "bearer") {
            self.bearer(client, c, ctx)?
        } else if challenges.iter().any(|c| c.scheme == "basic") {
            match self.credential.as_ref().map(|f| &f.credential) {
                Some(Credential::Basic { username, password }) => basic_header(username, password),
                Some(Credential::IdentityToken { .. }) => {
                    return Err(unauthorized(
                        "the registry wants basic auth, but only an identity token is configured"
                            .into(),
                    ));
                }
                None => {
                    return Err(unauthorized(
                        "the registry requires credentials (--username with --password-stdin, CUSTOMS_REGISTRY_USERNAME/PASSWORD, or docker login)".into(),
                    ));
                }
            }
        } else {
            let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
            return Err(unauthorized(format!(
                "unsupported authentication scheme {:?}",
                one_line(&schemes.join(", "))
            )));
        };
        if let Ok(mut h) = self.header.lock() {
            *h = Some(header);
        }
        Ok(())
    }

    /// Fetches a bearer token from the challenge's realm.
    fn bearer(
        &self,
        client: &Client,
        ch: &Challenge,
        ctx: &Context<'_>,
    ) -> Result<String, RegistryError> {
        let realm = ch.params.get("realm").cloned().unwrap_or_default();
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(RegistryError::Unauthorized {
                registry: ctx.registry.to_string(),
                repository: ctx.repository.to_string(),
                reference: ctx.reference.to_string(),
                detail: format!(
                    "bearer challenge has no usable realm ({:?})",
                    one_line(&realm)
                ),
            });
        }
        let service = ch.params.get("service").cloned().unwrap_or_default();
        // The challenge's scope (e.g. after `insufficient_scope`) plus ours.
        let mut scopes: Vec<String> = vec![self.scope.clone()];
        if let Some(s) = ch.params.get("scope") {
            for part in s.split(' ').filter(|p| !p.is_empty()) {
                if !scopes.iter().any(|x| x == part) {
                    scopes.push(part.to_string());
                }
            }
        }
        let token_ctx = Context {
            what: "token request",
            ..*ctx
        };
        let cred = self.credential.as_ref().map(|f| &f.credential);
        // OAuth2 POST first when we have something to post.
        if let Some(c) = cred {
            let mut form: Vec<(&str, &str)> =
                vec![("service", service.as_str()), ("client_id", "customs")];
            let scope_joined = scopes.join(" ");
            form.push(("scope", scope_joined.as_str()));
            match c {
                Credential::Basic { username, password } => {
                    form.push(("grant_type", "password"));
                    form.push(("username", username));
                    form.push(("password", password));
                }
                Credential::IdentityToken { token, .. } => {
                    form.push(("grant_type", "refresh_token"));
                    form.push(("refresh_token", token));
                }
            }
            let body = form_encode(&form).into_bytes();
            let reply = client
                .send_with_retry(|| {
                    http::Request::post(&realm)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                })
                .map_err(|e| token_transport_error(ctx, &realm, e))?;
            let status = reply.response.status().as_u16();
            if (200..300).contains(&status) {
                return token_from(reply.response, ctx, &realm);
            }
            // An identity token only works with the POST form.
            if matches!(c, Credential::IdentityToken { .. }) {
                let body = read_body(reply.response, 64 << 10).unwrap_or_default();
                return Err(auth_failure(
                    &token_ctx,
                    status,
                    &body,
                    self.credential.as_ref(),
                ));
            }
        }
        // Classic token GET, with basic auth when we have a password.
        let mut query = vec![("service", service.as_str())];
        for s in &scopes {
            query.push(("scope", s.as_str()));
        }
        if let Some(Credential::Basic { username, .. }) = cred {
            query.push(("account", username.as_str()));
        }
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", form_encode(&query));
        let auth = match cred {
            Some(Credential::Basic { username, password }) => {
                Some(basic_header(username, password))
            }
            _ => None,
        };
        let reply = client
            .send_with_retry(|| {
                let mut r = http::Request::get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.body(Vec::new())
            })
            .map_err(|e| token_transport_error(ctx, &realm, e))?;
        let status = reply.response.status().as_u16();
        if (200..300).contains(&status) {
            return token_from(reply.response, ctx, &realm);
        }
        let body = read_body(reply.response, 64 << 10).unwrap_or_default();
        Err(auth_failure(
            &token_ctx,
            status,
            &body,
            self.credential.as_ref(),
        ))
    }
}

fn token_transport_error(ctx: &Context<'_>, realm: &str, e: ureq::Error) -> RegistryError {
    RegistryError::Http {
        registry: ctx.registry.to_string(),
        repository: ctx.repository.to_string(),
        reference: ctx.reference.to_string(),
        what: format!("token request to {}", one_line(realm)),
        detail: one_line(&e.to_string()),
    }
}

/// A refused token request: 401/403 mean the credentials are wrong (or missing).
fn auth_failure(
    ctx: &Context<'_>,
    status: u16,
    body: &[u8],
    cred: Option<&Found>,
) -> RegistryError {
    if status == 401 || status == 403 {
        let detail = match cred {
            Some(f) => format!(
                "the token server rejected the credentials from {} (HTTP {status})",
                f.origin
            ),
            None => format!(
                "anonymous access refused (HTTP {status}); log in or pass --username with --password-stdin"
            ),
        };
        return RegistryError::Unauthorized {
            registry: ctx.registry.to_string(),
            repository: ctx.repository.to_string(),
            reference: ctx.reference.to_string(),
            detail,
        };
    }
    from_response(ctx, status, body, 1)
}

fn token_from(
    resp: Response<Body>,
    ctx: &Context<'_>,
    realm: &str,
) -> Result<String, RegistryError> {
    let bad = |detail: String| RegistryError::Http {
        registry: ctx.registry.to_string(),
        repository: ctx.repository.to_string(),
        reference: ctx.reference.to_string(),
        what: format!("token request to {}", one_line(realm)),
        detail,
    };
    let body = read_body(resp, MAX_AUTH_BODY).map_err(|e| bad(e.to_string()))?;
    let reply: TokenReply =
        serde_json::from_slice(&body).map_err(|e| bad(format!("invalid token response: {e}")))?;
    let token = reply
        .access_token
        .filter(|t| !t.is_empty())
        .or(reply.token.filter(|t| !t.is_empty()))
        .ok_or_else(|| bad("token response has no token".into()))?;
    if token.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(bad("token contains invalid characters".into()));
    }
    Ok(format!("Bearer {token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parsing() {
        let c = parse_challenges(
            r#"Bearer realm="http://127.0.0.1:5003/token",service="test-registry",scope="repository:foo/bar:pull",error="insufficient_scope""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].params["realm"], "http://127.0.0.1:5003/token");
        assert_eq!(c[0].params["scope"], "repository:foo/bar:pull");
        let c = parse_challenges(r#"Basic realm="a \"b\"", Bearer realm=x"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].params["realm"], "a \"b\"");
        assert_eq!(c[1].params["realm"], "x");
        assert!(parse_challenges("").is_empty());
        let _ = parse_challenges("\"\"==,=\"\\");
    }

    #[test]
    fn docker_config_keys() {
        assert!(key_matches("https://index.docker.io/v1/", DOCKER_HUB));
        assert!(key_matches("127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(key_matches("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"));
        assert!(!key_matches("127.0.0.1:5000", "127.0.0.1:5001"));
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_encode(&[("scope", "repository:a/b:pull"), ("p", "x y&z")]),
            "scope=repository%3Aa%2Fb%3Apull&p=x%20y%26z"
        );
    }
}

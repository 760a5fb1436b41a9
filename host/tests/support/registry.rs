//! Real registries for tests: `docker-registry` (the CNCF distribution registry)
//! started on a free loopback port with its storage in a temp dir, a CA and leaf
//! certificate made with openssl, and a Docker token server of ours. Shared by the
//! image-pull tests (`registry.rs`) and the database-artifact tests
//! (`vulndb_artifact.rs`).
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The user and password htpasswd and the token server accept.
pub const USER: &str = "testuser";
pub const PASS: &str = "testpass";

/// Whether every tool in `tools` is on PATH (plus whatever else `also_missing`
/// lists); prints what is missing and why the tests are skipped, and fails under
/// `CI`, where a skipped test would hide a broken setup.
pub fn prerequisites(what: &str, tools: &[&str], also_missing: Vec<String>) -> bool {
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|tool| {
            !std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        })
        .map(|t| t.to_string())
        .collect();
    missing.extend(also_missing);
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{what} skipped, missing: {} (scripts/install-test-deps.sh installs the tools)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("{msg}");
    false
}

/// Runs a command that must succeed; returns its standard output.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running registry; stopped (by its PID) when dropped, also on test failure.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Starts `docker-registry serve` with `extra` YAML appended under `http:`/`auth:`.
    pub fn start(http_extra: &str, auth: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{http_extra}{auth}",
            dir.path().join("data").display()
        );
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut reg = Registry { child, port, dir };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(status)) = reg.child.try_wait() {
                panic!(
                    "docker-registry exited ({status}): {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return reg;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry on port {port} did not come up: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The manifest stored under `repo:tag`, read from the registry's storage.
    pub fn manifest(&self, repo: &str, tag: &str) -> serde_json::Value {
        let link = self
            .dir
            .path()
            .join("data/docker/registry/v2/repositories")
            .join(repo)
            .join("_manifests/tags")
            .join(tag)
            .join("current/link");
        let digest = std::fs::read_to_string(link).unwrap();
        serde_json::from_slice(&std::fs::read(self.blob_data(digest.trim())).unwrap()).unwrap()
    }
}

/// Flips one byte in the middle of a file (a blob in the registry's storage).
pub fn corrupt(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

/// Reads one HTTP/1.1 request: the request line, the header lines and at most
/// `max_body` bytes of body.
pub fn read_request(
    s: &mut BufReader<TcpStream>,
    max_body: usize,
) -> Option<(String, Vec<String>, Vec<u8>)> {
    let mut line = String::new();
    s.read_line(&mut line).ok()?;
    if line.is_empty() {
        return None;
    }
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        s.read_line(&mut h).ok()?;
        let h = h.trim_end().to_string();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
        headers.push(h);
    }
    let mut body = vec![0u8; len.min(max_body)];
    s.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_string(), headers, body))
}

/// Passes one request read by [`read_request`] on to the server at `upstream` on
/// 127.0.0.1, as a one-shot connection, and copies its answer back to `client`.
pub fn forward(line: &str, headers: &[String], body: &[u8], upstream: u16, client: &mut TcpStream) {
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let mut head = format!("{line}\r\n");
    for h in headers
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("connection:"))
    {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    if up.write_all(head.as_bytes()).is_ok() && up.write_all(body).is_ok() {
        let _ = std::io::copy(&mut up, client);
    }
}

pub fn make_tls(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |n: &str| dir.join(n);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=customs-test-ca",
        ])
        .args([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.crt")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(p("leaf.key"))
        .arg("-out")
        .arg(p("leaf.csr")));
    std::fs::write(
        p("ext.cnf"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(p("leaf.csr"))
        .arg("-CA")
        .arg(p("ca.crt"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-extfile")
        .arg(p("ext.cnf"))
        .arg("-out")
        .arg(p("leaf.crt")));
    (p("ca.crt"), p("leaf.crt"), p("leaf.key"))
}

/// A Docker token server: GET (basic auth) and OAuth2 POST (password grant), RS256
/// JWTs with the signing certificate in `x5c`, signed by `openssl dgst`.
pub struct TokenServer {
    pub port: u16,
    /// Token requests by OAuth2 POST and by GET.
    pub posts: Arc<AtomicUsize>,
    pub gets: Arc<AtomicUsize>,
    /// Every scope asked for, in order.
    pub scopes: Arc<Mutex<Vec<String>>>,
}

fn b64url(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn params(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

impl TokenServer {
    pub fn start(key: PathBuf, cert_der: Vec<u8>) -> TokenServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let posts = Arc::new(AtomicUsize::new(0));
        let gets = Arc::new(AtomicUsize::new(0));
        let scopes_seen = Arc::new(Mutex::new(Vec::new()));
        let (p2, g2, s2) = (posts.clone(), gets.clone(), scopes_seen.clone());
        use base64::Engine as _;
        let x5c = base64::engine::general_purpose::STANDARD.encode(&cert_der);
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut out = conn;
                let Some((line, headers, body)) = read_request(&mut reader, 1 << 20) else {
                    continue;
                };
                let target = line.split(' ').nth(1).unwrap_or("");
                let query = target.split_once('?').map_or("", |(_, q)| q);
                let (user, pass, form) = if line.starts_with("POST") {
                    p2.fetch_add(1, Ordering::SeqCst);
                    let f = params(&String::from_utf8_lossy(&body));
                    let get = |k: &str| f.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
                    (get("username"), get("password"), f)
                } else {
                    g2.fetch_add(1, Ordering::SeqCst);
                    let basic = headers.iter().find_map(|h| {
                        let (k, v) = h.split_once(':')?;
                        if !k.eq_ignore_ascii_case("authorization") {
                            return None;
                        }
                        let b = base64::engine::general_purpose::STANDARD
                            .decode(v.trim().strip_prefix("Basic ")?)
                            .ok()?;
                        let s = String::from_utf8(b).ok()?;
                        let (u, p) = s.split_once(':')?;
                        Some((u.to_string(), p.to_string()))
                    });
                    (
                        basic.clone().map(|b| b.0),
                        basic.map(|b| b.1),
                        params(query),
                    )
                };
                if user.as_deref() != Some(USER) || pass.as_deref() != Some(PASS) {
                    let _ = write!(
                        out,
                        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    continue;
                }
                let scopes: Vec<String> = form
                    .iter()
                    .filter(|(k, _)| k == "scope")
                    .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
                    .collect();
                s2.lock().unwrap().extend(scopes.iter().cloned());
                let access: Vec<serde_json::Value> = scopes
                    .iter()
                    .filter_map(|s| {
                        let mut parts = s.splitn(3, ':');
                        let (t, rest) = (parts.next()?, parts.next()?);
                        let actions = parts.next()?;
                        Some(serde_json::json!({"type": t, "name": rest, "actions": actions.split(',').collect::<Vec<_>>()}))
                    })
                    .collect();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
                let claims = serde_json::json!({
                    "iss": "customs-test-issuer", "sub": USER, "aud": "customs-test-registry",
                    "exp": now + 600, "nbf": now - 60, "iat": now, "jti": format!("{now}-{}", fastrand_like()),
                    "access": access,
                });
                let input = format!(
                    "{}.{}",
                    b64url(header.to_string().as_bytes()),
                    b64url(claims.to_string().as_bytes())
                );
                let mut child = Command::new("openssl")
                    .args(["dgst", "-sha256", "-sign"])
                    .arg(&key)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(input.as_bytes())
                    .unwrap();
                let sig = child.wait_with_output().unwrap().stdout;
                let jwt = format!("{input}.{}", b64url(&sig));
                let body =
                    serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 600})
                        .to_string();
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        TokenServer {
            port,
            posts,
            gets,
            scopes: scopes_seen,
        }
    }
}

fn fastrand_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

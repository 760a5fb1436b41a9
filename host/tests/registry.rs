//! Pulling from real registries: the CNCF distribution registry (Debian package
//! `docker-registry`) started per test on a free loopback port with its storage in
//! a temp dir, the real test images pushed into it with skopeo, and our client
//! pulling them back. Setups: no auth; htpasswd basic auth behind TLS (CA + leaf
//! made with openssl); bearer-token auth with a token server of ours (RS256 JWT with
//! an x5c chain, signed by openssl). A fault-injecting proxy answers 429 before
//! forwarding, and a corrupted blob in the registry's storage must be refused.
//!
//! Needs `docker-registry`, `skopeo`, `openssl`, `htpasswd` (scripts/install-test-deps.sh)
//! and the images from scripts/build-test-images.sh. Without them the tests say why
//! and pass, except under `CI`, where they fail.
use customs::image::{self, Image, Platform};
use customs::registry::{self, RegistryError, RegistryOptions};
use sha2::{Digest as _, Sha256};
use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;
use support::registry::{
    PASS, Registry, TokenServer, USER, corrupt, forward, make_tls, read_request, run,
};

/// The tests change process-wide environment (credentials, PATH, DOCKER_CONFIG);
/// they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn images_dir() -> PathBuf {
    std::env::var_os("CUSTOMS_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images"))
}

/// Whether the external parts exist; prints why not (and fails under CI).
fn prerequisites() -> bool {
    let images: Vec<String> = ["debian-oci", "multi-oci"]
        .into_iter()
        .filter(|img| !images_dir().join(img).join("index.json").is_file())
        .map(|img| {
            format!(
                "{} (run scripts/build-test-images.sh)",
                images_dir().join(img).display()
            )
        })
        .collect();
    support::registry::prerequisites(
        "registry tests",
        &["docker-registry", "skopeo", "openssl", "htpasswd"],
        images,
    )
}

/// Pushes an OCI layout's `bookworm` image (all platforms) as `repo:tag`.
fn push_layout(reg: &Registry, layout: &str, repo: &str, tag: &str, creds: bool) {
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "--insecure-policy",
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
    ])
    .arg("--dest-tls-verify=false");
    if creds {
        cmd.arg(format!("--dest-creds={USER}:{PASS}"));
    }
    cmd.arg(format!(
        "oci:{}:bookworm",
        images_dir().join(layout).display()
    ))
    .arg(format!("docker://{}/{repo}:{tag}", reg.host()));
    run(&mut cmd);
}

fn plain_options(host: &str) -> RegistryOptions {
    let mut o = RegistryOptions {
        insecure_registries: vec![host.to_string()],
        docker_config_dir: Some(PathBuf::from("/nonexistent-docker-config")),
        ..Default::default()
    };
    o.retry.base_delay = Duration::from_millis(50);
    o
}

/// sha256 of every layer's decompressed bytes, read in parallel, each verified.
fn layer_hashes(img: &Image) -> Vec<String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..img.layer_count())
            .map(|i| {
                s.spawn(move || {
                    let mut r = img.open_layer(i).unwrap();
                    let mut h = Sha256::new();
                    let mut buf = vec![0u8; 1 << 16];
                    loop {
                        let n = r.read(&mut buf).unwrap();
                        if n == 0 {
                            break;
                        }
                        h.update(&buf[..n]);
                    }
                    r.finish().unwrap();
                    hex::encode(h.finalize())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The remote image carries the same report-relevant data as the local layout.
fn assert_same_as_local(remote: &Image, layout: &str, platform: Option<&Platform>) {
    let local = image::open(images_dir().join(layout).to_str().unwrap(), platform).unwrap();
    assert_eq!(remote.meta.source, "registry");
    assert_eq!(remote.meta.manifest_digest, local.meta.manifest_digest);
    assert_eq!(remote.meta.config_digest, local.meta.config_digest);
    assert_eq!(remote.meta.platform, local.meta.platform);
    let ids = |i: &Image| {
        i.meta
            .layers
            .iter()
            .map(|l| {
                (
                    l.diff_id.clone(),
                    l.digest.clone(),
                    l.size,
                    l.compression.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(remote), ids(&local));
    assert_eq!(remote.config, local.config);
    assert_eq!(layer_hashes(remote), layer_hashes(&local));
    for (h, l) in layer_hashes(remote).iter().zip(&local.meta.layers) {
        assert_eq!(format!("sha256:{h}"), l.diff_id);
    }
}

#[test]
fn plain_registry_pull_platforms_errors_retries_and_corruption() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !prerequisites() {
        return;
    }
    let reg = Registry::start("", "");
    push_layout(&reg, "debian-oci", "test/debian", "1", false);
    push_layout(&reg, "multi-oci", "test/multi", "bookworm", false);
    let host = reg.host();
    let opts = plain_options(&host);

    // By tag.
    let by_tag = registry::open(&format!("{host}/test/debian:1"), None, &opts).unwrap();
    assert_eq!(by_tag.meta.tags, vec![format!("{host}/test/debian:1")]);
    assert_same_as_local(&by_tag, "debian-oci", None);

    // By digest.
    let digest = by_tag.meta.manifest_digest.clone().unwrap();
    let by_digest = registry::open(&format!("{host}/test/debian@{digest}"), None, &opts).unwrap();
    assert!(by_digest.meta.tags.is_empty());
    assert_same_as_local(&by_digest, "debian-oci", None);

    // Platform selection on the two-platform index, same as the local layout.
    for p in ["linux/amd64", "linux/arm64", "linux/arm64/v8"] {
        let p: Platform = p.parse().unwrap();
        let img = registry::open(&format!("{host}/test/multi:bookworm"), Some(&p), &opts).unwrap();
        assert_same_as_local(&img, "multi-oci", Some(&p));
    }
    let err = registry::open(
        &format!("{host}/test/multi:bookworm"),
        Some(&"linux/s390x".parse().unwrap()),
        &opts,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RegistryError::NoPlatform { .. }), "{msg}");
    assert!(
        msg.contains("linux/amd64, linux/arm64/v8") && msg.contains("linux/s390x"),
        "{msg}"
    );
    assert!(msg.contains(&host) && msg.contains("test/multi"), "{msg}");
    // A single-platform image asked for another platform.
    let err = registry::open(
        &format!("{host}/test/debian:1"),
        Some(&"linux/arm64".parse().unwrap()),
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, RegistryError::NoPlatform { .. }), "{err}");

    // Unknown tag and unknown repository.
    let err = registry::open(&format!("{host}/test/debian:nope"), None, &opts).unwrap_err();
    let msg = err.to_string();
    assert!(err.is_not_found(), "{msg}");
    assert!(!msg.contains('\n'));
    assert!(
        msg.contains(&host) && msg.contains("test/debian") && msg.contains("nope"),
        "{msg}"
    );
    let err = registry::open(&format!("{host}/no/such:1"), None, &opts).unwrap_err();
    assert!(
        err.is_not_found() && err.to_string().contains("no/such"),
        "{err}"
    );

    // Plain HTTP without --insecure-registry is refused with a hint.
    let mut strict = opts.clone();
    strict.insecure_registries.clear();
    strict.retry.max_attempts = 1;
    let err = registry::open(&format!("{host}/test/debian:1"), None, &strict).unwrap_err();
    assert!(err.to_string().contains("--insecure-registry"), "{err}");

    // 429 with Retry-After: 1, then forwarded: succeeds after a retry.
    let proxy = FaultProxy::start(reg.port);
    let phost = format!("127.0.0.1:{}", proxy.port);
    let t = Instant::now();
    let img = registry::open(
        &format!("{phost}/test/debian:1"),
        None,
        &plain_options(&phost),
    )
    .unwrap();
    assert!(
        proxy.injected.load(Ordering::SeqCst) >= 2,
        "the proxy injected no faults"
    );
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(img.meta.manifest_digest.as_deref(), Some(digest.as_str()));
    assert_eq!(layer_hashes(&img).len(), img.layer_count());
    // A registry that keeps answering 429 gives up with a clear error.
    let mut few = plain_options(&phost);
    few.retry.max_attempts = 2;
    proxy.always_429.store(1, Ordering::SeqCst);
    let err = registry::open(&format!("{phost}/test/debian:1"), None, &few).unwrap_err();
    assert!(
        err.to_string().contains("too many requests") && err.to_string().contains("test/debian"),
        "{err}"
    );
    proxy.always_429.store(0, Ordering::SeqCst);

    // Corrupt a layer blob on disk (same size): a hard error naming the blob.
    let layer = by_tag.meta.layers.iter().max_by_key(|l| l.size).unwrap();
    let layer_digest = layer.digest.clone().unwrap();
    corrupt(&reg.blob_data(&layer_digest));
    let img = registry::open(&format!("{host}/test/debian:1"), None, &opts).unwrap();
    let idx = img
        .meta
        .layers
        .iter()
        .position(|l| l.digest.as_deref() == Some(&layer_digest))
        .unwrap();
    let mut r = img.open_layer(idx).unwrap();
    let mut sink = Vec::new();
    let read_err = r.read_to_end(&mut sink).err();
    let err = match read_err {
        Some(e) => e.to_string(),
        None => r.finish().unwrap_err().to_string(),
    };
    assert!(err.contains(&layer_digest), "{err}");
    // Corrupt the config: refused at open, naming the blob.
    corrupt(&reg.blob_data(&by_tag.meta.config_digest));
    let err = registry::open(&format!("{host}/test/debian:1"), None, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&by_tag.meta.config_digest) && err.contains("digest mismatch"),
        "{err}"
    );
}

/// A one-request-per-connection HTTP proxy in front of a registry that answers 429
/// (Retry-After: 1) to the first manifest request and 503 to the first blob request.
struct FaultProxy {
    port: u16,
    injected: Arc<AtomicUsize>,
    always_429: Arc<AtomicUsize>,
    /// Request lines (`GET /v2/… HTTP/1.1`) of every request, injected or forwarded.
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FaultProxy {
    fn start(upstream: u16) -> FaultProxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let injected = Arc::new(AtomicUsize::new(0));
        let always_429 = Arc::new(AtomicUsize::new(0));
        let seen_manifest = Arc::new(AtomicUsize::new(0));
        let seen_blob = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = requests.clone();
        let (inj, always) = (injected.clone(), always_429.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let (inj, always, sm, sb, log) = (
                    inj.clone(),
                    always.clone(),
                    seen_manifest.clone(),
                    seen_blob.clone(),
                    log.clone(),
                );
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut out = conn;
                    let Some((line, headers, body)) = read_request(&mut reader, 1 << 20) else {
                        return;
                    };
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(line.clone());
                    let fault = if always.load(Ordering::SeqCst) == 1 {
                        Some((429, "Retry-After: 0\r\n"))
                    } else if line.contains("/manifests/") && sm.fetch_add(1, Ordering::SeqCst) == 0
                    {
                        Some((429, "Retry-After: 1\r\n"))
                    } else if line.contains("/blobs/") && sb.fetch_add(1, Ordering::SeqCst) == 0 {
                        Some((503, ""))
                    } else {
                        None
                    };
                    if let Some((code, extra)) = fault {
                        inj.fetch_add(1, Ordering::SeqCst);
                        let msg =
                            br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
                        let _ = write!(
                            out,
                            "HTTP/1.1 {code} Injected\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            msg.len()
                        );
                        let _ = out.write_all(msg);
                        return;
                    }
                    forward(&line, &headers, &body, upstream, &mut out);
                });
            }
        });
        FaultProxy {
            port,
            injected,
            always_429,
            requests,
        }
    }
}

fn set_env(k: &str, v: Option<&str>) {
    // SAFETY: the tests in this file hold SERIAL and no other thread reads the environment meanwhile.
    unsafe {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
}

#[test]
fn basic_auth_behind_tls() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !prerequisites() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (ca, leaf, key) = make_tls(certs.path());
    let htpasswd = certs.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbn", USER, PASS])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&htpasswd, out.stdout).unwrap();
    let reg = Registry::start(
        &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            leaf.display(),
            key.display()
        ),
        &format!(
            "auth:\n  htpasswd:\n    realm: customs-test\n    path: {}\n",
            htpasswd.display()
        ),
    );
    push_layout(&reg, "debian-oci", "test/debian", "1", true);
    let host = reg.host();
    let reference = format!("{host}/test/debian:1");
    let empty_config = tempfile::tempdir().unwrap();
    let base = || {
        let mut o = RegistryOptions {
            ca_files: vec![ca.clone()],
            docker_config_dir: Some(empty_config.path().to_path_buf()),
            ..Default::default()
        };
        o.retry.max_attempts = 2;
        o.retry.base_delay = Duration::from_millis(20);
        o
    };

    // Explicit options.
    let mut o = base();
    o.username = Some(USER.into());
    o.password = Some(PASS.into());
    let img = registry::open(&reference, None, &o).unwrap();
    assert_same_as_local(&img, "debian-oci", None);

    // Without our CA the certificate is not trusted…
    let mut no_ca = o.clone();
    no_ca.ca_files.clear();
    let err = registry::open(&reference, None, &no_ca).unwrap_err();
    assert!(matches!(err, RegistryError::Connect { .. }), "{err}");
    // …unless the host is marked insecure (unverified TLS for that host only).
    no_ca.insecure_registries = vec![host.clone()];
    registry::open(&reference, None, &no_ca).unwrap();

    // Wrong and missing credentials.
    let mut wrong = base();
    wrong.username = Some(USER.into());
    wrong.password = Some("wrong".into());
    let err = registry::open(&reference, None, &wrong).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, RegistryError::Unauthorized { .. }) && err.is_usage_error(),
        "{msg}"
    );
    assert!(
        msg.contains(&host) && msg.contains("test/debian") && !msg.contains('\n'),
        "{msg}"
    );
    let err = registry::open(&reference, None, &base()).unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    let mut half = base();
    half.username = Some(USER.into());
    assert!(matches!(
        registry::open(&reference, None, &half),
        Err(RegistryError::Credentials(_))
    ));

    // Environment variables.
    set_env("CUSTOMS_REGISTRY_USERNAME", Some(USER));
    set_env("CUSTOMS_REGISTRY_PASSWORD", Some(PASS));
    let env_result = registry::open(&reference, None, &base());
    set_env("CUSTOMS_REGISTRY_PASSWORD", Some("wrong"));
    let env_wrong = registry::open(&reference, None, &base());
    set_env("CUSTOMS_REGISTRY_USERNAME", None);
    set_env("CUSTOMS_REGISTRY_PASSWORD", None);
    env_result.unwrap();
    assert!(matches!(env_wrong, Err(RegistryError::Unauthorized { .. })));

    // A docker config.json with a base64 `auth`, found through DOCKER_CONFIG.
    let docker_dir = tempfile::tempdir().unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}"));
    std::fs::write(
        docker_dir.path().join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    set_env("DOCKER_CONFIG", Some(docker_dir.path().to_str().unwrap()));
    let mut via_env = base();
    via_env.docker_config_dir = None;
    let r = registry::open(&reference, None, &via_env);
    set_env("DOCKER_CONFIG", None);
    r.unwrap();

    // A credential helper on PATH, run as docker runs it.
    let bin = tempfile::tempdir().unwrap();
    let helper = bin.path().join("docker-credential-customstest");
    let seen = bin.path().join("stdin-seen");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat > '{}'\nprintf '%s' '{{\"ServerURL\":\"{host}\",\"Username\":\"{USER}\",\"Secret\":\"{PASS}\"}}'\n",
            seen.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let helper_cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        helper_cfg.path().join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{}}}},"credHelpers":{{"{host}":"customstest"}}}}"#),
    )
    .unwrap();
    let old_path = std::env::var("PATH").unwrap_or_default();
    set_env(
        "PATH",
        Some(&format!("{}:{old_path}", bin.path().display())),
    );
    let mut via_helper = base();
    via_helper.docker_config_dir = Some(helper_cfg.path().to_path_buf());
    let r = registry::open(&reference, None, &via_helper);
    set_env("PATH", Some(&old_path));
    r.unwrap();
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), host);
}

#[test]
fn bearer_token_auth() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !prerequisites() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("token.key");
    let cert = dir.path().join("token.crt");
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
            "/CN=customs-token-issuer",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    let der = dir.path().join("token.der");
    run(Command::new("openssl")
        .args(["x509", "-outform", "DER"])
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(&der));
    let ts = TokenServer::start(key, std::fs::read(&der).unwrap());
    let reg = Registry::start(
        "",
        &format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: customs-test-registry\n    issuer: customs-test-issuer\n    rootcertbundle: {}\n",
            ts.port,
            cert.display()
        ),
    );
    push_layout(&reg, "multi-oci", "test/multi", "bookworm", true);
    let host = reg.host();
    let reference = format!("{host}/test/multi:bookworm");
    let mut o = plain_options(&host);
    o.username = Some(USER.into());
    o.password = Some(PASS.into());
    let posts_before = ts.posts.load(Ordering::SeqCst);
    let p: Platform = "linux/arm64".parse().unwrap();
    let img = registry::open(&reference, Some(&p), &o).unwrap();
    assert_same_as_local(&img, "multi-oci", Some(&p));
    assert!(
        ts.posts.load(Ordering::SeqCst) > posts_before,
        "the OAuth2 POST form was not used"
    );

    // An identity token goes through the POST form only; our server has no refresh
    // tokens, so it is refused, and the message says where the credential came from.
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        format!(r#"{{"auths":{{"http://{host}/v2/":{{"identitytoken":"not-a-real-token"}}}}}}"#),
    )
    .unwrap();
    let mut it = plain_options(&host);
    it.docker_config_dir = Some(cfg.path().to_path_buf());
    let err = registry::open(&reference, Some(&p), &it).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{msg}");
    assert!(msg.contains("config.json"), "{msg}");

    // Wrong password: the token server refuses, a clear one-line error.
    let mut wrong = o.clone();
    wrong.password = Some("nope".into());
    let gets_before = ts.gets.load(Ordering::SeqCst);
    let err = registry::open(&reference, Some(&p), &wrong).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{msg}");
    assert!(
        msg.contains(&host) && msg.contains("test/multi") && msg.contains("--username/--password"),
        "{msg}"
    );
    // The POST was refused, so the classic GET was tried as well.
    assert!(ts.gets.load(Ordering::SeqCst) > gets_before);

    // Anonymous: refused by the token server.
    let err = registry::open(&reference, Some(&p), &plain_options(&host)).unwrap_err();
    assert!(
        err.to_string().contains("anonymous access refused"),
        "{err}"
    );
}

/// The layer cache, seen from the registry: a re-scan of an image whose layers are all
/// cached downloads no layer blob at all (only the manifest and the config), and gives
/// the same report.
#[test]
fn cached_layers_are_not_downloaded_again() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !prerequisites() {
        return;
    }
    let reg = Registry::start("", "");
    push_layout(&reg, "debian-oci", "test/debian", "1", false);
    let upstream: u16 = reg.host().rsplit(':').next().unwrap().parse().unwrap();
    let proxy = FaultProxy::start(upstream);
    let host = format!("127.0.0.1:{}", proxy.port);
    let image = format!("{host}/test/debian:1");
    let local = image::open(images_dir().join("debian-oci").to_str().unwrap(), None).unwrap();
    let layer_digests: Vec<String> = local
        .meta
        .layers
        .iter()
        .filter_map(|l| l.digest.clone())
        .collect();
    assert_eq!(layer_digests.len(), 2);

    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let scan = |name: &str| -> String {
        let report = out.path().join(name);
        let status = Command::new(env!("CARGO_BIN_EXE_customs"))
            .args([
                "scan",
                "--image",
                &image,
                "--insecure-registry",
                &host,
                "--scanners",
                "none",
                "--format",
                "json",
                "--quiet",
            ])
            .arg("--cache-dir")
            .arg(cache.path())
            .arg("--output")
            .arg(&report)
            .env_remove("CUSTOMS_REGISTRY_USERNAME")
            .env_remove("CUSTOMS_REGISTRY_PASSWORD")
            .status()
            .unwrap();
        assert!(status.success(), "scan of {image} failed");
        std::fs::read_to_string(report).unwrap()
    };
    let layer_gets = |requests: &[String]| -> usize {
        requests
            .iter()
            .filter(|r| {
                r.starts_with("GET ") && layer_digests.iter().any(|d| r.contains(d.as_str()))
            })
            .count()
    };

    let cold = scan("cold.json");
    let cold_requests = std::mem::take(&mut *proxy.requests.lock().unwrap());
    assert!(
        layer_gets(&cold_requests) >= 2,
        "the cold scan downloads every layer: {cold_requests:?}"
    );
    let warm = scan("warm.json");
    let warm_requests = proxy.requests.lock().unwrap().clone();
    assert_eq!(
        layer_gets(&warm_requests),
        0,
        "no layer blob is downloaded again: {warm_requests:?}"
    );
    assert!(
        warm_requests.iter().any(|r| r.contains("/manifests/")),
        "{warm_requests:?}"
    );
    let strip = |r: &str| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(r).unwrap();
        v["image"]["reference"] = serde_json::Value::Null;
        v
    };
    assert_eq!(
        strip(&cold),
        strip(&warm),
        "a cached re-scan gives the same report"
    );
}

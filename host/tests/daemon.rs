//! Reading images from daemons, and the source order.
//!
//! Three kinds of daemon are used:
//! - a **real Docker engine**, started privately by `scripts/start-test-dockerd.sh`
//!   (its own data root and socket), into which the real Debian test image of
//!   `scripts/build-test-images.sh` is `docker load`ed;
//! - a **real podman** API service (`podman system service`) with private vfs storage;
//! - a **fake daemon** in this file: a unix-socket server that replays Engine API
//!   answers, correct ones (with odd chunk boundaries, old API versions, the Docker 25
//!   export format) and hostile ones (garbage, truncation, silence, endless streams),
//!   to check that every failure is a clear one-line error and nothing hangs.
//!
//! When dockerd or podman is not installed, their tests print why and pass, except
//! under `CI`, where they fail. Every daemon started here is stopped by a guard's
//! `Drop`, also when an assertion fails.
use customs::acquire::{self, AcquireError, AcquireOptions, SourceKind};
use customs::daemon::{DaemonOptions, Timeouts};
use customs::image;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn images_dir() -> PathBuf {
    std::env::var_os("CUSTOMS_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/test-images"))
}

/// Skips a test whose external requirement is missing, or fails it under CI.
fn skip_or_fail(why: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{why} (required when CI is set)");
    }
    eprintln!("SKIPPED: {why}");
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A short temporary directory: daemons put unix sockets under it (107-byte limit).
fn short_tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(std::env::temp_dir())
        .unwrap()
}

/// Files left in `<cache>/tmp` (daemon exports must all be gone after use).
fn leftover_exports(cache: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(cache.join("tmp")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn options_for(docker_sock: &Path, cache: &Path, sources: &[SourceKind]) -> AcquireOptions {
    AcquireOptions {
        sources: sources.to_vec(),
        platform: None,
        daemon: DaemonOptions {
            docker_host: Some(format!("unix://{}", docker_sock.display())),
            podman_host: Some(format!(
                "unix://{}",
                cache.join("no-podman-here.sock").display()
            )),
            xdg_runtime_dir: None,
            cache_dir: Some(cache.to_path_buf()),
            timeouts: Timeouts {
                request: Duration::from_secs(20),
                idle: Duration::from_secs(20),
                export: Duration::from_secs(120),
            },
            max_export_size: 1 << 34,
        },
        registry: Default::default(),
        offline: false,
    }
}

/// Reads every layer to the end, so that every digest of the image is checked.
fn read_all_layers(img: &image::Image) {
    let mut buf = vec![0u8; 1 << 20];
    for i in 0..img.layer_count() {
        let mut r = img.open_layer(i).unwrap();
        while r.read(&mut buf).unwrap() > 0 {}
        r.finish().unwrap();
    }
}

fn diff_ids(img: &image::Image) -> Vec<String> {
    img.meta.layers.iter().map(|l| l.diff_id.clone()).collect()
}

// ---------------------------------------------------------------------------------
// Real Docker engine

/// A private dockerd; stopped (and its directory removed) on drop.
struct Dockerd {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Dockerd {
    fn start() -> Result<Dockerd, String> {
        let dir = short_tempdir("cdt-");
        let out = Command::new(repo_root().join("scripts/start-test-dockerd.sh"))
            .arg(dir.path())
            .output()
            .map_err(|e| format!("running start-test-dockerd.sh: {e}"))?;
        // From here on the guard owns whatever was started, even on failure.
        let guard = Dockerd {
            socket: dir.path().join("docker.sock"),
            dir,
        };
        if !out.status.success() {
            return Err(format!(
                "start-test-dockerd.sh failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(guard)
    }

    fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .output()
            .expect("running the docker CLI")
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/stop-test-dockerd.sh"))
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn real_docker_engine() {
    if Command::new("dockerd").arg("--version").output().is_err() {
        return skip_or_fail(
            "dockerd is not installed (scripts/install-test-deps.sh installs docker.io)",
        );
    }
    if Command::new("docker").arg("--version").output().is_err() {
        return skip_or_fail("the docker CLI is not installed");
    }
    let archive = images_dir().join("debian.docker.tar");
    if !archive.is_file() {
        return skip_or_fail(&format!(
            "{} not found: run scripts/build-test-images.sh",
            archive.display()
        ));
    }
    let started = Instant::now();
    let daemon = match Dockerd::start() {
        Ok(d) => d,
        Err(e) => return skip_or_fail(&e),
    };
    let load = daemon.docker(&["load", "-i", archive.to_str().unwrap()]);
    assert!(
        load.status.success(),
        "docker load: {}",
        String::from_utf8_lossy(&load.stderr)
    );
    let loaded = String::from_utf8_lossy(&load.stdout);
    // "Loaded image: customs-test/debian:bookworm"
    let tag = loaded
        .lines()
        .find_map(|l| l.strip_prefix("Loaded image: "))
        .unwrap_or_else(|| panic!("no tag in docker load output: {loaded}"))
        .trim()
        .to_string();
    let direct = image::open(archive.to_str().unwrap(), None).unwrap();

    let cache = tempfile::tempdir().unwrap();
    let opts = options_for(&daemon.socket, cache.path(), &[SourceKind::Docker]);

    // By tag: same layers as the archive, every digest verified, export cleaned up.
    {
        let got = acquire::acquire(&tag, &opts).unwrap();
        assert_eq!(got.source, SourceKind::Docker);
        assert_eq!(diff_ids(&got.image), diff_ids(&direct));
        assert_eq!(got.image.meta.config_digest, direct.meta.config_digest);
        assert_eq!(got.image.meta.source, "docker-daemon");
        assert_eq!(got.image.meta.reference, tag);
        assert!(
            got.image.meta.tags.contains(&tag),
            "{:?}",
            got.image.meta.tags
        );
        let export = got.export_path().unwrap().to_path_buf();
        assert!(export.starts_with(cache.path().join("tmp")));
        assert!(export.is_file());
        read_all_layers(&got.image);
        drop(got);
        assert!(!export.exists());
        assert_eq!(leftover_exports(cache.path()), Vec::<PathBuf>::new());
    }

    // By image ID (what `docker build -q` prints).
    {
        let id = direct.meta.config_digest.clone();
        let got = acquire::acquire(&id, &opts).unwrap();
        assert_eq!(diff_ids(&got.image), diff_ids(&direct));
    }
    assert_eq!(leftover_exports(cache.path()), Vec::<PathBuf>::new());

    // Absent image: names the source, the image and the daemon.
    let err = acquire::acquire("customs-test/absent:1", &opts).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AcquireError::NotFound { .. }), "{msg}");
    assert!(
        msg.starts_with("cannot find image \"customs-test/absent:1\": docker: image"),
        "{msg}"
    );
    assert!(msg.contains(&daemon.socket.display().to_string()), "{msg}");
    // A name docker rejects (upper case) is "not here", not a hard failure.
    let err = acquire::acquire("Customs-Test/X", &opts).unwrap_err();
    assert!(err.to_string().contains("must be lowercase"), "{err}");

    // Several sources, none has it: all are listed, in order.
    let mut several = opts.clone();
    several.sources = vec![SourceKind::Docker, SourceKind::Podman, SourceKind::Archive];
    let msg = acquire::acquire("customs-test/absent:1", &several)
        .unwrap_err()
        .to_string();
    let docker_at = msg.find("docker: image").expect(&msg);
    let podman_at = msg.find("; podman: daemon not running").expect(&msg);
    let archive_at = msg
        .find("; archive: customs-test/absent:1: no such file")
        .expect(&msg);
    assert!(docker_at < podman_at && podman_at < archive_at, "{msg}");
    assert_eq!(msg.lines().count(), 1);

    // Daemon down: the error says which socket and why.
    let socket = daemon.socket.clone();
    drop(daemon);
    let msg = acquire::acquire(&tag, &opts).unwrap_err().to_string();
    assert!(
        msg.contains(&format!(
            "docker: daemon not running at unix://{}",
            socket.display()
        )),
        "{msg}"
    );
    assert!(
        msg.ends_with("(no such socket)") || msg.ends_with("(connection refused)"),
        "{msg}"
    );
    assert_eq!(leftover_exports(cache.path()), Vec::<PathBuf>::new());
    eprintln!("real docker engine test: {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------
// Real podman

/// A podman API service with private storage; killed on drop.
struct PodmanService {
    child: std::process::Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn podman_args(dir: &Path) -> Vec<String> {
    let d = |s: &str| dir.join(s).display().to_string();
    vec![
        "--root".into(),
        d("root"),
        "--runroot".into(),
        d("run"),
        "--tmpdir".into(),
        d("tmp"),
        "--storage-driver".into(),
        "vfs".into(),
        "--cgroup-manager".into(),
        "cgroupfs".into(),
        "--events-backend".into(),
        "file".into(),
    ]
}

#[test]
fn real_podman_service() {
    if Command::new("podman").arg("--version").output().is_err() {
        return skip_or_fail("podman is not installed");
    }
    let archive = images_dir().join("debian.docker.tar");
    if !archive.is_file() {
        return skip_or_fail(&format!(
            "{} not found: run scripts/build-test-images.sh",
            archive.display()
        ));
    }
    let dir = short_tempdir("cpt-");
    let base = podman_args(dir.path());
    let load = Command::new("podman")
        .args(&base)
        .args(["load", "-q", "-i", archive.to_str().unwrap()])
        .output()
        .unwrap();
    if !load.status.success() {
        return skip_or_fail(&format!(
            "podman load failed here: {}",
            String::from_utf8_lossy(&load.stderr).trim()
        ));
    }
    let socket = dir.path().join("podman.sock");
    let child = Command::new("podman")
        .args(&base)
        .args(["system", "service", "--time", "0"])
        .arg(format!("unix://{}", socket.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let service = PodmanService {
        child,
        socket: socket.clone(),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&service.socket).is_err() {
        assert!(Instant::now() < deadline, "podman service did not come up");
        thread::sleep(Duration::from_millis(50));
    }

    let direct = image::open(archive.to_str().unwrap(), None).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options_for(&cache.path().join("no-docker.sock"), cache.path(), &[]);
    opts.daemon.podman_host = Some(format!("unix://{}", service.socket.display()));
    // Default order for a name: docker (down here) first, then podman.
    let tag = "customs-test/debian:bookworm";
    let got = acquire::acquire(tag, &opts).unwrap();
    assert_eq!(got.source, SourceKind::Podman);
    assert_eq!(got.image.meta.source, "podman-daemon");
    assert_eq!(diff_ids(&got.image), diff_ids(&direct));
    assert!(
        got.image
            .meta
            .tags
            .contains(&"docker.io/customs-test/debian:bookworm".to_string()),
        "{:?}",
        got.image.meta.tags
    );
    read_all_layers(&got.image);
    drop(got);
    assert_eq!(leftover_exports(cache.path()), Vec::<PathBuf>::new());

    opts.sources = vec![SourceKind::Podman];
    let msg = acquire::acquire("customs-test/absent:1", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("cannot find image \"customs-test/absent:1\": podman: image"),
        "{msg}"
    );
    drop(service);
}

// ---------------------------------------------------------------------------------
// A fake daemon replaying API answers

type Handler = dyn Fn(&str, &mut UnixStream, &AtomicBool) + Send + Sync;

/// A unix-socket server that hands each request's path and stream to a handler.
struct FakeDaemon {
    socket: PathBuf,
    cache: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    paths: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl FakeDaemon {
    fn start(handler: impl Fn(&str, &mut UnixStream, &AtomicBool) + Send + Sync + 'static) -> Self {
        let dir = short_tempdir("cfd-");
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (stop, paths) = (stop.clone(), paths.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (mut s, _) = match listener.accept() {
                        Ok(c) => c,
                        Err(_) => {
                            thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    };
                    let (stop, paths, handler) = (stop.clone(), paths.clone(), handler.clone());
                    thread::spawn(move || {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        let mut head = Vec::new();
                        let mut b = [0u8; 1];
                        while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                            match s.read(&mut b) {
                                Ok(1) => head.push(b[0]),
                                _ => return,
                            }
                        }
                        let head = String::from_utf8_lossy(&head).into_owned();
                        let path = head.split(' ').nth(1).unwrap_or("").to_string();
                        paths.lock().unwrap().push(path.clone());
                        handler(&path, &mut s, &stop);
                    });
                }
            });
        }
        FakeDaemon {
            socket,
            cache: tempfile::tempdir().unwrap(),
            stop,
            paths,
            _dir: dir,
        }
    }

    fn options(&self) -> AcquireOptions {
        let mut o = options_for(&self.socket, self.cache.path(), &[SourceKind::Docker]);
        o.daemon.timeouts = Timeouts {
            request: Duration::from_secs(2),
            idle: Duration::from_secs(1),
            export: Duration::from_secs(3),
        };
        o
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn respond(s: &mut UnixStream, status: &str, headers: &str, body: &[u8]) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(body);
}

/// Answers `/_ping` and `/version` like a Docker engine of API `api` (min `min`).
fn handshake(path: &str, s: &mut UnixStream, api: &str, min: &str) -> bool {
    if path == "/_ping" {
        respond(s, "200 OK", &format!("API-Version: {api}\r\n"), b"OK");
        return true;
    }
    if path == "/version" {
        let v = json!({"Version": "99.0.0", "ApiVersion": api, "MinAPIVersion": min,
                       "Components": [{"Name": "Engine", "Version": "99.0.0"}]});
        respond(s, "200 OK", "", v.to_string().as_bytes());
        return true;
    }
    false
}

/// Sleeps until the test ends or 20 s pass: a daemon that never answers.
fn hang(stop: &AtomicBool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
}

fn inspect_json(id: &str, tags: &[&str]) -> Vec<u8> {
    json!({"Id": id, "RepoTags": tags, "RepoDigests": [], "Os": "linux",
           "Architecture": image::Platform::host().architecture})
    .to_string()
    .into_bytes()
}

/// Writes `data` as a chunked body with irregular chunk sizes and chunk extensions.
fn write_chunked(s: &mut UnixStream, data: &[u8]) {
    let sizes = [1usize, 7, 4096, 3, 65536, 511];
    let (mut at, mut i) = (0, 0);
    while at < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - at);
        let ext = if i % 2 == 0 { ";x=y" } else { "" };
        let _ = write!(s, "{n:X}{ext}\r\n");
        let _ = s.write_all(&data[at..at + n]);
        let _ = s.write_all(b"\r\n");
        at += n;
        i += 1;
    }
    let _ = s.write_all(b"0\r\nX-Trailer: 1\r\n\r\n");
}

/// A tiny real image: one layer, its config, in both export formats.
struct TinyImage {
    legacy: Vec<u8>,
    docker25: Vec<u8>,
    config_digest: String,
    diff_id: String,
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn tiny_image() -> TinyImage {
    let layer = tar_of(&[(
        "etc/os-release",
        b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n",
    )]);
    let diff = sha256_hex(&layer);
    let config = serde_json::to_vec(&json!({
        "architecture": image::Platform::host().architecture, "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff}")]},
        "history": [{"created_by": "ADD rootfs"}],
    }))
    .unwrap();
    let cfg = sha256_hex(&config);
    let manifest = serde_json::to_vec(&json!([{
        "Config": format!("{cfg}.json"), "RepoTags": null,
        "Layers": [format!("{diff}/layer.tar")]}]))
    .unwrap();
    let legacy = tar_of(&[
        (&format!("{cfg}.json"), &config),
        (&format!("{diff}/layer.tar"), &layer),
        (&format!("{diff}/VERSION"), b"1.0"),
        ("manifest.json", &manifest),
    ]);
    // Docker 25+ / containerd: an OCI layout plus manifest.json pointing into blobs/.
    let oci_manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{cfg}"), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": format!("sha256:{diff}"), "size": layer.len()}],
    }))
    .unwrap();
    let m = sha256_hex(&oci_manifest);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": format!("sha256:{m}"), "size": oci_manifest.len(),
                       "annotations": {"io.containerd.image.name": "docker.io/fake/tiny:1",
                                       "org.opencontainers.image.ref.name": "1"}}],
    }))
    .unwrap();
    let manifest25 = serde_json::to_vec(&json!([{
        "Config": format!("blobs/sha256/{cfg}"), "RepoTags": ["fake/tiny:1"],
        "Layers": [format!("blobs/sha256/{diff}")]}]))
    .unwrap();
    let docker25 = tar_of(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("index.json", &index),
        ("manifest.json", &manifest25),
        (&format!("blobs/sha256/{m}"), &oci_manifest),
        (&format!("blobs/sha256/{cfg}"), &config),
        (&format!("blobs/sha256/{diff}"), &layer),
    ]);
    TinyImage {
        legacy,
        docker25,
        config_digest: format!("sha256:{cfg}"),
        diff_id: format!("sha256:{diff}"),
    }
}

/// A well-behaved fake engine of API `api` serving `export` for `fake/tiny:1`.
fn good_daemon(api: &'static str, min: &'static str, export: Vec<u8>, id: String) -> FakeDaemon {
    FakeDaemon::start(move |path, s, _| {
        if handshake(path, s, api, min) {
            return;
        }
        if path.ends_with("/images/fake/tiny:1/json") {
            return respond(s, "200 OK", "", &inspect_json(&id, &["fake/tiny:1"]));
        }
        if path.ends_with(&format!("/images/{id}/get")) {
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            return write_chunked(s, &export);
        }
        respond(s, "404 Not Found", "", br#"{"message":"No such image"}"#);
    })
}

#[test]
fn replayed_engine_old_api_legacy_export() {
    let tiny = tiny_image();
    let fake = good_daemon(
        "1.30",
        "1.12",
        tiny.legacy.clone(),
        tiny.config_digest.clone(),
    );
    let got = acquire::acquire("fake/tiny:1", &fake.options()).unwrap();
    assert_eq!(got.image.meta.config_digest, tiny.config_digest);
    assert_eq!(diff_ids(&got.image), std::slice::from_ref(&tiny.diff_id));
    assert_eq!(got.image.meta.tags, ["fake/tiny:1"]);
    assert_eq!(
        got.image.meta.layers[0].created_by.as_deref(),
        Some("ADD rootfs")
    );
    read_all_layers(&got.image);
    drop(got);
    assert_eq!(leftover_exports(fake.cache.path()), Vec::<PathBuf>::new());
    // Negotiated down to the daemon's version; the export is requested by ID.
    assert_eq!(
        fake.paths(),
        [
            "/_ping".to_string(),
            "/version".into(),
            "/v1.30/images/fake/tiny:1/json".into(),
            format!("/v1.30/images/{}/get", tiny.config_digest),
        ]
    );
}

#[test]
fn replayed_engine_new_api_containerd_store_export() {
    let tiny = tiny_image();
    let fake = good_daemon(
        "1.52",
        "1.44",
        tiny.docker25.clone(),
        tiny.config_digest.clone(),
    );
    let got = acquire::acquire("fake/tiny:1", &fake.options()).unwrap();
    assert_eq!(got.image.meta.config_digest, tiny.config_digest);
    assert_eq!(diff_ids(&got.image), std::slice::from_ref(&tiny.diff_id));
    read_all_layers(&got.image);
    // Capped at the newest version this client knows, above the daemon's minimum.
    let paths = fake.paths();
    assert_eq!(
        paths[2],
        format!(
            "/v{}/images/fake/tiny:1/json",
            customs::daemon::CLIENT_API_VERSION
        )
    );
}

/// Runs `acquire` against a fake daemon, checking it returns within `limit` and
/// leaves no export behind; returns the one-line error.
fn expect_error(fake: &FakeDaemon, name: &str, limit: Duration) -> AcquireError {
    let started = Instant::now();
    let err = acquire::acquire(name, &fake.options()).unwrap_err();
    let took = started.elapsed();
    assert!(took < limit, "took {took:?} (limit {limit:?}): {err}");
    assert_eq!(err.to_string().lines().count(), 1, "{err}");
    assert_eq!(leftover_exports(fake.cache.path()), Vec::<PathBuf>::new());
    err
}

#[test]
fn hostile_garbage_instead_of_http() {
    let fake = FakeDaemon::start(|_, s, _| {
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n\x00\x01garbage");
    });
    let err = expect_error(&fake, "fake/tiny:1", Duration::from_secs(5));
    let msg = err.to_string();
    assert!(matches!(err, AcquireError::NotFound { .. }), "{msg}");
    assert!(msg.contains("docker: unix://"), "{msg}");
    assert!(
        msg.contains("ping: not an HTTP/1.x response: \"SSH-2.0-OpenSSH_9.2p1\""),
        "{msg}"
    );
}

#[test]
fn hostile_silent_daemon_times_out() {
    let fake = FakeDaemon::start(|_, _, stop| hang(stop));
    let msg = expect_error(&fake, "fake/tiny:1", Duration::from_secs(6)).to_string();
    assert!(msg.contains("ping timed out after 2 s"), "{msg}");
}

#[test]
fn hostile_truncated_and_malformed_inspect() {
    let fake = FakeDaemon::start(|path, s, _| {
        if handshake(path, s, "1.41", "1.12") {
            return;
        }
        if path.contains("/images/short/json") {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"Id\":\"sha256:");
        } else if path.contains("/images/badjson/json") {
            respond(s, "200 OK", "", b"{\"Id\": 42}");
        } else if path.contains("/images/boom/json") {
            respond(
                s,
                "500 Internal Server Error",
                "",
                br#"{"message":"boom: disk on fire"}"#,
            );
        } else if path.contains("/images/plain/json") {
            respond(s, "502 Bad Gateway", "", b"<html>\nproxy error\n</html>");
        } else if path.contains("/images/headers/json") {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n");
        }
    });
    let limit = Duration::from_secs(5);
    let msg = expect_error(&fake, "short", limit).to_string();
    assert!(
        msg.contains("truncated response: connection closed"),
        "{msg}"
    );
    assert!(
        msg.starts_with("cannot read image \"short\" from docker:"),
        "{msg}"
    );
    let msg = expect_error(&fake, "badjson", limit).to_string();
    assert!(msg.contains("invalid JSON"), "{msg}");
    let msg = expect_error(&fake, "boom", limit).to_string();
    assert!(msg.ends_with("HTTP 500: boom: disk on fire"), "{msg}");
    let msg = expect_error(&fake, "plain", limit).to_string();
    assert!(
        msg.contains("HTTP 502: <html> proxy error </html>"),
        "{msg}"
    );
    let msg = expect_error(&fake, "headers", limit).to_string();
    assert!(
        msg.contains("in the middle of the response headers"),
        "{msg}"
    );
}

/// A fake daemon that resolves every name and answers the export with `export`.
fn export_daemon(
    export: impl Fn(&mut UnixStream, &AtomicBool) + Send + Sync + 'static,
) -> FakeDaemon {
    FakeDaemon::start(move |path, s, stop| {
        if handshake(path, s, "1.41", "1.12") {
            return;
        }
        if path.ends_with("/json") {
            return respond(s, "200 OK", "", &inspect_json("sha256:abc", &[]));
        }
        export(s, stop)
    })
}

const CHUNKED_OK: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn hostile_export_truncated_mid_chunk() {
    let fake = export_daemon(|s, _| {
        let _ = s.write_all(CHUNKED_OK);
        let _ = s.write_all(b"1000\r\n");
        let _ = s.write_all(&[0u8; 100]);
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(5)).to_string();
    assert!(
        msg.contains("truncated response: connection closed inside a chunk after 100 body bytes"),
        "{msg}"
    );
}

#[test]
fn hostile_export_truncated_between_chunks_and_bad_framing() {
    let fake = export_daemon(|s, _| {
        let _ = s.write_all(CHUNKED_OK);
        let _ = s.write_all(b"4\r\nabcd\r\n");
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(5)).to_string();
    assert!(
        msg.contains("connection closed before the final chunk"),
        "{msg}"
    );

    let fake = export_daemon(|s, _| {
        let _ = s.write_all(CHUNKED_OK);
        let _ = s.write_all(b"zz\r\nabcd\r\n0\r\n\r\n");
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(5)).to_string();
    assert!(
        msg.contains("invalid chunk-size line in chunked response: \"zz\""),
        "{msg}"
    );

    let fake = export_daemon(|s, _| {
        let _ = s.write_all(CHUNKED_OK);
        let _ = s.write_all(b"4\r\nabcdEF\r\n0\r\n\r\n");
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(5)).to_string();
    assert!(msg.contains("chunk data not followed by CRLF"), "{msg}");

    // A complete but meaningless export: the archive reader says what is wrong.
    let fake = export_daemon(|s, _| {
        let _ = s.write_all(CHUNKED_OK);
        write_chunked(s, &[7u8; 3000]);
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(5)).to_string();
    assert!(msg.contains("not a tar archive"), "{msg}");
}

#[test]
fn hostile_export_never_ends() {
    let fake = export_daemon(|s, stop| {
        let _ = s.write_all(CHUNKED_OK);
        let chunk = vec![0u8; 65536];
        while !stop.load(Ordering::Relaxed) {
            if write!(s, "10000\r\n").is_err()
                || s.write_all(&chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                return;
            }
        }
    });
    let mut opts = fake.options();
    opts.daemon.max_export_size = 4 << 20;
    let started = Instant::now();
    let msg = acquire::acquire("x", &opts).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(msg.contains("is larger than 4194304 bytes"), "{msg}");
    assert_eq!(leftover_exports(fake.cache.path()), Vec::<PathBuf>::new());
}

#[test]
fn hostile_export_trickles_past_the_deadline() {
    let fake = export_daemon(|s, stop| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
        while !stop.load(Ordering::Relaxed) {
            if s.write_all(b"x").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(6)).to_string();
    assert!(
        msg.contains("export \"sha256:abc\" timed out after 3 s"),
        "{msg}"
    );
}

#[test]
fn hostile_export_stalls() {
    let fake = export_daemon(|s, stop| {
        let _ = s.write_all(CHUNKED_OK);
        let _ = s.write_all(b"10\r\n0123");
        hang(stop);
    });
    let msg = expect_error(&fake, "x", Duration::from_secs(5)).to_string();
    assert!(
        msg.contains("export \"sha256:abc\" timed out after 1 s"),
        "{msg}"
    );
}

#[test]
fn refused_socket_and_missing_sockets_are_named() {
    let dir = short_tempdir("cfd-");
    let sock = dir.path().join("docker.sock");
    // Bound, then closed: the file stays, nothing listens.
    drop(UnixListener::bind(&sock).unwrap());
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options_for(&sock, cache.path(), &[]);
    let msg = acquire::acquire("foo:1", &{
        let mut o = opts.clone();
        o.sources = vec![SourceKind::Docker];
        o
    })
    .unwrap_err()
    .to_string();
    assert_eq!(
        msg,
        format!(
            "cannot find image \"foo:1\": docker: daemon not running at unix://{} (connection refused)",
            sock.display()
        )
    );
    // podman without CONTAINER_HOST: the usual sockets, none of which exists here;
    // a registry port where nothing listens; no such file.
    opts.daemon.podman_host = None;
    opts.daemon.xdg_runtime_dir = Some(dir.path().join("run"));
    opts.sources = SourceKind::ALL.to_vec();
    opts.registry.retry.max_attempts = 1;
    opts.registry.connect_timeout = Duration::from_secs(5);
    let name = "127.0.0.1:1/foo:1";
    let started = Instant::now();
    let err = acquire::acquire(name, &opts).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!err.is_usage());
    let msg = err.to_string();
    eprintln!("{msg}");
    assert_eq!(msg.lines().count(), 1);
    let expected_start = format!(
        "cannot find image \"{name}\": docker: daemon not running at unix://{} (connection refused); podman: ",
        sock.display()
    );
    assert!(msg.starts_with(&expected_start), "{msg}");
    if !Path::new(customs::daemon::PODMAN_ROOT_SOCKET).exists() {
        let podman = format!(
            "; podman: no socket found (tried unix://{}/run/podman/podman.sock, unix:///run/podman/podman.sock); registry: 127.0.0.1:1",
            dir.path().display()
        );
        assert!(msg.contains(&podman), "{msg}");
    }
    let registry_at = msg.find("; registry: 127.0.0.1:1").expect(&msg);
    let archive_at = msg
        .find(&format!("; archive: {name}: no such file or directory"))
        .expect(&msg);
    assert!(
        registry_at < archive_at && msg.ends_with("no such file or directory"),
        "{msg}"
    );
}

#[test]
fn source_lists_and_default_order() {
    use acquire::{parse_sources, plan};
    assert_eq!(
        parse_sources("docker,podman,registry,archive").unwrap(),
        SourceKind::ALL
    );
    assert_eq!(parse_sources(" Podman ").unwrap(), [SourceKind::Podman]);
    for bad in ["", "docker,,podman", "docker,docker", "containerd"] {
        let e = parse_sources(bad).unwrap_err();
        assert!(e.is_usage(), "{e}");
        assert!(e.to_string().starts_with("invalid --image-src"), "{e}");
    }
    let opts = AcquireOptions::default();
    let archive = images_dir().join("debian.docker.tar");
    let archive = archive.to_str().unwrap();
    assert_eq!(plan(archive, &opts), [SourceKind::Archive]);
    assert_eq!(plan("./missing.tar", &opts), [SourceKind::Archive]);
    assert_eq!(plan("debian:12", &opts), acquire::default_order());
    assert_eq!(
        acquire::default_order(),
        [SourceKind::Docker, SourceKind::Podman, SourceKind::Registry]
    );
    let explicit = AcquireOptions {
        sources: vec![SourceKind::Registry],
        ..AcquireOptions::default()
    };
    assert_eq!(plan(archive, &explicit), [SourceKind::Registry]);
    // A missing path is reported as such, not looked up in daemons.
    let msg = acquire::acquire("./missing.tar", &opts)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "cannot find image \"./missing.tar\": archive: ./missing.tar: no such file or directory"
    );
}

#[test]
fn bad_docker_host_is_a_clear_error() {
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options_for(Path::new("/unused"), cache.path(), &[SourceKind::Docker]);
    opts.daemon.docker_host = Some("ssh://me@build-host".into());
    let msg = acquire::acquire("foo:1", &opts).unwrap_err().to_string();
    assert!(
        msg.contains("invalid DOCKER_HOST \"ssh://me@build-host\": unsupported scheme \"ssh\""),
        "{msg}"
    );
}

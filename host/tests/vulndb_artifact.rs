//! The vulnerability database as an OCI artifact, against real registries: the CNCF
//! distribution registry (Debian package `docker-registry`) started per test on a
//! free loopback port with its storage in a temp dir, in three setups: plain HTTP
//! with relative upload URLs; TLS (CA + leaf made with openssl) with htpasswd basic
//! auth and absolute upload URLs; bearer-token auth with a token server of ours that
//! grants exactly the scopes asked for (RS256 JWTs signed by openssl). A proxy in
//! front of a registry logs requests, or answers 429 then 500 to everything.
//!
//! The databases are real: `db update` builds them from the corpus's AlmaLinux and
//! Alpine advisories, served on 127.0.0.1 (tests/support/osv.rs).
//!
//! Needs `docker-registry`, `openssl`, `htpasswd` (scripts/install-test-deps.sh).
//! Without them the tests say why and pass, except under `CI`, where they fail.
use customs::registry::RegistryOptions;
use customs::registry::push::{self, Access, Blob, BlobData};
use customs::registry::reference::Reference;
use customs::vulndb::artifact::{self, ArtifactError, PullOptions};
use customs::vulndb::{self, UpdateOptions, VulnDb};
use sha2::{Digest as _, Sha256};
use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

mod support;
use support::osv::{Server, alma_export, alpine_export, zip_of};
use support::registry::{
    PASS, Registry, TokenServer, USER, corrupt, forward, free_port, make_tls, read_request, run,
};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

// ---------------------------------------------------------------- prerequisites

/// Whether the external tools exist; prints why not (and fails under CI).
fn prerequisites() -> bool {
    support::registry::prerequisites(
        "database artifact tests",
        &["docker-registry", "openssl", "htpasswd"],
        Vec::new(),
    )
}

// ---------------------------------------------------------------- databases

/// Two different real databases (AlmaLinux; AlmaLinux and Alpine), built once.
struct Databases {
    old: Vec<u8>,
    new: Vec<u8>,
}

fn databases() -> &'static Databases {
    static D: OnceLock<Databases> = OnceLock::new();
    D.get_or_init(|| {
        let server = Server::start();
        server.serve("AlmaLinux", zip_of(&alma_export()), "alma-1");
        server.serve("Alpine", zip_of(&alpine_export()), "alpine-1");
        let build = |ecosystems: &[&str]| {
            let cache = tempfile::tempdir().unwrap();
            let mut o = UpdateOptions::new(cache.path().to_path_buf());
            o.ecosystems = ecosystems.iter().map(|s| s.to_string()).collect();
            o.mirrors = vec![server.mirror("m1")];
            o.download.base_delay = Duration::from_millis(10);
            vulndb::update(&o).unwrap();
            std::fs::read(vulndb::db_path(cache.path())).unwrap()
        };
        Databases {
            old: build(&["AlmaLinux"]),
            new: build(&["AlmaLinux", "Alpine"]),
        }
    })
}

/// A cache directory holding `db` as its database.
fn cache_with(db: &[u8]) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(vulndb::db_dir(cache.path())).unwrap();
    std::fs::write(vulndb::db_path(cache.path()), db).unwrap();
    cache
}

fn db_bytes(cache: &Path) -> Vec<u8> {
    std::fs::read(vulndb::db_path(cache)).unwrap()
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn build_id(cache: &Path) -> String {
    VulnDb::open(cache).unwrap().status().build_id.clone()
}

/// Temporary files a pull or push left in the database directory.
fn leftovers(cache: &Path) -> Vec<String> {
    std::fs::read_dir(vulndb::db_dir(cache))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".osv.db.tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- registry

/// Options for a plain-HTTP registry on 127.0.0.1, with quick retries and timeouts.
fn plain() -> RegistryOptions {
    let mut o = RegistryOptions {
        insecure_registries: vec!["127.0.0.1".into()],
        docker_config_dir: Some(PathBuf::from("/nonexistent-docker-config")),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    o.retry.max_attempts = 2;
    o.retry.base_delay = Duration::from_millis(20);
    o.retry.max_delay = Duration::from_millis(200);
    o
}

fn pull_options(registry: RegistryOptions) -> PullOptions {
    PullOptions {
        registry,
        lock_timeout: Duration::from_secs(60),
        ..PullOptions::default()
    }
}

fn unavailable(e: ArtifactError) -> Vec<(String, String)> {
    match e {
        ArtifactError::Unavailable { failures } => failures
            .into_iter()
            .map(|f| (f.repository, f.error))
            .collect(),
        e => panic!("expected Unavailable, got {e}"),
    }
}

// ---------------------------------------------------------------- proxy

/// A one-request-per-connection HTTP proxy that logs request lines and forwards to
/// `upstream`; without one, it answers 429 (Retry-After: 0) to the first request and
/// 500 to every later one.
struct Proxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(upstream: Option<u16>) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut out = conn;
                    let Some((line, headers, body)) = read_request(&mut reader, usize::MAX) else {
                        return;
                    };
                    let seen = {
                        let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
                        l.push(line.clone());
                        l.len()
                    };
                    let Some(upstream) = upstream else {
                        let (status, extra) = if seen == 1 {
                            ("429 Too Many Requests", "Retry-After: 0\r\n")
                        } else {
                            ("500 Internal Server Error", "")
                        };
                        let _ = write!(
                            out,
                            "HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                        return;
                    };
                    forward(&line, &headers, &body, upstream, &mut out);
                });
            }
        });
        Proxy { port, requests }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// A server that accepts connections and never answers (a hung registry).
fn silent_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in l.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

// ---------------------------------------------------------------- CLI

fn customs(args: &[&str], cache: &Path, stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
    cmd.arg("db")
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .env_remove("CUSTOMS_REGISTRY_USERNAME")
        .env_remove("CUSTOMS_REGISTRY_PASSWORD")
        .env_remove("CUSTOMS_DB_REPOSITORY")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `db status --format json`, without what differs between two copies of one build.
fn status_json(cache: &Path) -> serde_json::Value {
    let out = customs(&["status", "--format", "json"], cache, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["path", "age_secs", "checked_at"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

// ---------------------------------------------------------------- tests

#[test]
fn push_then_pull_round_trip_unchanged_and_by_digest() {
    if !prerequisites() {
        return;
    }
    let dbs = databases();
    let reg = Registry::start("  relativeurls: true\n", "");
    let host = reg.host();
    let reference = format!("{host}/customs/db:1");
    let publisher = cache_with(&dbs.new);

    let pushed = artifact::push(publisher.path(), &reference, &plain()).unwrap();
    assert!(pushed.layer_uploaded);
    assert_eq!(pushed.reference, reference);
    assert_eq!(pushed.status.build_id, build_id(publisher.path()));
    assert!(leftovers(publisher.path()).is_empty());
    let manifest = reg.manifest("customs/db", "1");
    assert_eq!(manifest["artifactType"], "application/vnd.customs.db.v1");
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.customs.db.config.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.customs.db.layer.v1.sqlite+zstd"
    );
    assert_eq!(
        manifest["layers"][0]["digest"],
        pushed.layer_digest.as_str()
    );
    assert_eq!(
        manifest["annotations"]["vnd.customs.db.schema-version"],
        "1"
    );
    assert!(manifest["annotations"]["org.opencontainers.image.created"].is_string());
    let layer = std::fs::read(reg.blob_data(&pushed.layer_digest)).unwrap();
    assert_eq!(layer.len() as u64, pushed.layer_size);
    assert!(layer.len() < dbs.new.len(), "the layer is compressed");

    // Pushing the same database again (through the CLI) uploads nothing new and
    // gives the same manifest.
    let out = customs(
        &["push", &reference, "--insecure-registry", &host],
        publisher.path(),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&pushed.manifest_digest), "{stdout}");
    assert!(stdout.contains("already in the repository"), "{stdout}");

    // Pull into an empty cache, through a proxy that counts requests.
    let proxy = Proxy::start(Some(reg.port));
    let via_proxy = format!("{}/customs/db:1", proxy.host());
    let empty = tempfile::tempdir().unwrap();
    let pulled = artifact::pull(
        empty.path(),
        std::slice::from_ref(&via_proxy),
        &pull_options(plain()),
    )
    .unwrap();
    assert!(!pulled.unchanged);
    assert_eq!(pulled.repository, via_proxy);
    assert_eq!(pulled.manifest_digest, pushed.manifest_digest);
    assert_eq!(pulled.downloaded, pushed.layer_size);
    assert!(pulled.skipped.is_empty());
    assert_eq!(sha256(&db_bytes(empty.path())), sha256(&dbs.new));
    assert_eq!(status_json(empty.path()), status_json(publisher.path()));
    assert_eq!(pulled.status.build_id, pushed.status.build_id);
    assert!(leftovers(empty.path()).is_empty());
    let first = proxy.take_requests();
    let layer_gets = |log: &[String]| {
        log.iter()
            .filter(|r| r.starts_with("GET ") && r.contains(&pushed.layer_digest))
            .count()
    };
    assert_eq!(layer_gets(&first), 1, "{first:?}");

    // Again: unchanged, and the layer is not downloaded again.
    let again = artifact::pull(
        empty.path(),
        std::slice::from_ref(&via_proxy),
        &pull_options(plain()),
    )
    .unwrap();
    assert!(again.unchanged);
    assert_eq!(again.downloaded, 0);
    let second = proxy.take_requests();
    assert!(
        second.iter().any(|r| r.contains("/manifests/1")),
        "{second:?}"
    );
    assert_eq!(layer_gets(&second), 0, "{second:?}");

    // By digest, through the CLI, into another empty cache.
    let by_digest = format!("{host}/customs/db@{}", pushed.manifest_digest);
    let other = tempfile::tempdir().unwrap();
    // The first pull installs it, the second finds it current.
    for expected in ["pulled", "up to date"] {
        let out = customs(
            &[
                "pull",
                "--db-repository",
                &by_digest,
                "--insecure-registry",
                &host,
            ],
            other.path(),
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(expected),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(sha256(&db_bytes(other.path())), sha256(&dbs.new));
    }

    // A digest the repository does not have.
    let absent = format!("{host}/customs/db@sha256:{}", "0".repeat(64));
    let failures = unavailable(
        artifact::pull(
            other.path(),
            std::slice::from_ref(&absent),
            &pull_options(plain()),
        )
        .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, absent);
    assert!(failures[0].1.contains("not found"), "{failures:?}");

    // Usage errors: nothing to pull from, a malformed reference, a push by digest,
    // a push without a database.
    let e = artifact::pull(other.path(), &[" ".into()], &pull_options(plain())).unwrap_err();
    assert!(e.is_usage_error(), "{e}");
    let e =
        artifact::pull(other.path(), &["Not/Valid".into()], &pull_options(plain())).unwrap_err();
    assert!(e.is_usage_error(), "{e}");
    let e = artifact::push(publisher.path(), &by_digest, &plain()).unwrap_err();
    assert!(e.is_usage_error(), "{e}");
    let nothing = tempfile::tempdir().unwrap();
    let out = customs(
        &["push", &reference, "--insecure-registry", &host],
        nothing.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nothing to push"),
        "{}",
        text(&out.stderr)
    );

    // A scan whose automatic update pulls from the repository: the published
    // database (AlmaLinux and Alpine) is installed, and the Debian image's packages,
    // which it has no advisories for, are reported as not checked rather than clean.
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images/debian.oci.tar");
    let scanner = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_customs"))
        .args([
            "scan",
            "--image",
            image.to_str().unwrap(),
            "--format",
            "json",
            "-q",
            "--engine",
            "native",
        ])
        .args([
            "--db-repository",
            &format!("{host}/customs/missing:1,{reference}"),
            "--insecure-registry",
            &host,
        ])
        .arg("--cache-dir")
        .arg(scanner.path())
        .env_remove("CUSTOMS_OSV_URL")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("database repository skipped"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(build_id(scanner.path()), pushed.status.build_id);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = report["vulnerabilities"]["gaps"].to_string();
    assert!(gaps.contains("holds no Debian advisories"), "{gaps}");
    assert!(
        text(&out.stderr).contains("incomplete"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn falls_back_to_the_next_repository_and_reports_every_failure() {
    if !prerequisites() {
        return;
    }
    let dbs = databases();
    let reg = Registry::start("", "");
    let host = reg.host();
    let good = format!("{host}/customs/db:1");
    let publisher = cache_with(&dbs.new);
    artifact::push(publisher.path(), &good, &plain()).unwrap();

    // The first repository answers 429, then 500 until the client gives up.
    let failing = Proxy::start(None);
    let failing_ref = format!("{}/customs/db:1", failing.host());
    let cache = cache_with(&dbs.old);
    let report = artifact::pull(
        cache.path(),
        &[failing_ref.clone(), good.clone()],
        &pull_options(plain()),
    )
    .unwrap();
    assert_eq!(report.repository, good);
    assert!(!report.unchanged);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].repository, failing_ref);
    assert!(
        report.skipped[0].error.contains("HTTP 500"),
        "{:?}",
        report.skipped
    );
    assert!(
        failing.take_requests().len() >= 2,
        "the failing repository was retried"
    );
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.new));

    // Every repository fails: a dead port, a registry that never answers, the
    // failing proxy, a tag that does not exist. Each failure is reported, in order;
    // the old database is untouched.
    let cache = cache_with(&dbs.old);
    let dead = format!("127.0.0.1:{}/customs/db:1", free_port());
    let hung = format!("127.0.0.1:{}/customs/db:1", silent_server());
    let missing = format!("{host}/customs/db:nope");
    let all = vec![
        dead.clone(),
        hung.clone(),
        failing_ref.clone(),
        missing.clone(),
    ];
    let start = Instant::now();
    let failures =
        unavailable(artifact::pull(cache.path(), &all, &pull_options(plain())).unwrap_err());
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let names: Vec<&str> = failures.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(names, all.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(failures[0].1.contains("cannot connect"), "{failures:?}");
    assert!(failures[1].1.contains("cannot connect"), "{failures:?}");
    assert!(failures[2].1.contains("HTTP 500"), "{failures:?}");
    assert!(failures[3].1.contains("not found"), "{failures:?}");
    assert!(failures.iter().all(|(_, e)| !e.contains('\n')));
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.old));
    assert!(leftovers(cache.path()).is_empty());

    // Through the CLI, with the list from the environment: exit code 3, one line per
    // repository, and the note that the old database is still there.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
    let out = cmd
        .args([
            "db",
            "pull",
            "--insecure-registry",
            "127.0.0.1",
            "--cache-dir",
        ])
        .arg(cache.path())
        .env("CUSTOMS_DB_REPOSITORY", format!("{dead},{missing}"))
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .env_remove("CUSTOMS_REGISTRY_USERNAME")
        .env_remove("CUSTOMS_REGISTRY_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{dead}: "))),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{missing}: "))),
        "{stderr}"
    );
    assert!(
        stderr.contains("existing database is unchanged"),
        "{stderr}"
    );
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.old));
    assert!(leftovers(cache.path()).is_empty());
}

#[test]
fn damaged_foreign_and_other_schema_artifacts_are_refused() {
    if !prerequisites() {
        return;
    }
    let dbs = databases();
    let reg = Registry::start("", "");
    let host = reg.host();
    let publisher = cache_with(&dbs.new);
    let pushed =
        artifact::push(publisher.path(), &format!("{host}/customs/db:1"), &plain()).unwrap();
    let manifest = reg.manifest("customs/db", "1");
    let config_digest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reg.blob_data(&config_digest)).unwrap()).unwrap();
    assert_eq!(config["schema_version"], 1);
    assert_eq!(config["build_id"], pushed.status.build_id.as_str());
    assert_eq!(config["records"], pushed.status.records);

    // Pushes `config` (of `media_type`) with the real layer under `tag`.
    let push_variant = |tag: &str, media_type: &str, config: &[u8]| {
        let reference = Reference::parse(&format!("{host}/customs/db:{tag}")).unwrap();
        let session = push::connect(&reference, &plain(), Access::Push).unwrap();
        let digest: customs::image::digest::Digest =
            format!("sha256:{}", sha256(config)).parse().unwrap();
        session
            .push_blob(
                &Blob {
                    data: BlobData::Bytes(config),
                    digest: &digest,
                    size: config.len() as u64,
                },
                push::DEFAULT_CHUNK_SIZE,
            )
            .unwrap();
        let mut m = manifest.clone();
        m["config"] = serde_json::json!({"mediaType": media_type, "digest": digest.to_string(), "size": config.len()});
        session
            .put_manifest(OCI_MANIFEST, &serde_json::to_vec(&m).unwrap())
            .unwrap();
    };
    let pull = |tag: &str, cache: &Path| {
        artifact::pull(
            cache,
            &[format!("{host}/customs/db:{tag}")],
            &pull_options(plain()),
        )
    };

    // A config of another schema version (the annotation left saying 1).
    let mut other = config.clone();
    other["schema_version"] = 99.into();
    push_variant(
        "schema99",
        "application/vnd.customs.db.config.v1+json",
        &serde_json::to_vec(&other).unwrap(),
    );
    let cache = cache_with(&dbs.old);
    let failures = unavailable(pull("schema99", cache.path()).unwrap_err());
    assert!(
        failures[0]
            .1
            .contains("built for schema 99, this customs reads schema 1; use a tag for schema 1"),
        "{failures:?}"
    );
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.old));

    // Not ours: an image config.
    push_variant("image", "application/vnd.oci.image.config.v1+json", b"{}");
    let failures = unavailable(pull("image", cache.path()).unwrap_err());
    assert!(
        failures[0]
            .1
            .contains("not a Customs vulnerability database"),
        "{failures:?}"
    );

    // A blob larger than the chunk size goes up in chunks, byte for byte.
    let data: Vec<u8> = (0..(5u32 << 19) + 123)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &data).unwrap();
    let digest: customs::image::digest::Digest =
        format!("sha256:{}", sha256(&data)).parse().unwrap();
    let session = push::connect(
        &Reference::parse(&format!("{host}/customs/chunks:1")).unwrap(),
        &plain(),
        Access::Push,
    )
    .unwrap();
    let blob = Blob {
        data: BlobData::File(file.as_file()),
        digest: &digest,
        size: data.len() as u64,
    };
    assert!(session.push_blob(&blob, 1 << 20).unwrap());
    assert_eq!(
        std::fs::read(reg.blob_data(&digest.to_string())).unwrap(),
        data
    );
    assert!(!session.push_blob(&blob, 1 << 20).unwrap(), "already there");

    // A damaged layer in the registry's storage: a digest error, the old database kept.
    corrupt(&reg.blob_data(&pushed.layer_digest));
    let failures = unavailable(pull("1", cache.path()).unwrap_err());
    assert!(
        failures[0].1.contains(&pushed.layer_digest) && failures[0].1.contains("digest mismatch"),
        "{failures:?}"
    );
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.old));
    assert!(leftovers(cache.path()).is_empty());
}

#[test]
fn basic_auth_over_tls_push_and_pull() {
    if !prerequisites() {
        return;
    }
    let dbs = databases();
    let certs = tempfile::tempdir().unwrap();
    let (ca, leaf, key) = make_tls(certs.path());
    let htpasswd = certs.path().join("htpasswd");
    std::fs::write(
        &htpasswd,
        run(Command::new("htpasswd").args(["-Bbn", USER, PASS])),
    )
    .unwrap();
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
    let reference = format!("{}/customs/db:1", reg.host());
    let ca_str = ca.to_str().unwrap();
    let publisher = cache_with(&dbs.new);

    // Push through the CLI with the password on standard input.
    let out = customs(
        &[
            "push",
            &reference,
            "--username",
            USER,
            "--password-stdin",
            "--registry-ca",
            ca_str,
        ],
        publisher.path(),
        Some(&format!("{PASS}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(PASS) && !text(&out.stderr).contains(PASS));

    let options = |password: Option<&str>| {
        let mut o = plain();
        o.insecure_registries.clear();
        o.ca_files = vec![ca.clone()];
        o.username = password.map(|_| USER.to_string());
        o.password = password.map(str::to_string);
        o
    };
    let cache = cache_with(&dbs.old);
    let report = artifact::pull(
        cache.path(),
        std::slice::from_ref(&reference),
        &pull_options(options(Some(PASS))),
    )
    .unwrap();
    assert!(!report.unchanged);
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.new));

    // Without credentials, and with wrong ones.
    let other = cache_with(&dbs.old);
    let failures = unavailable(
        artifact::pull(
            other.path(),
            std::slice::from_ref(&reference),
            &pull_options(options(None)),
        )
        .unwrap_err(),
    );
    assert!(
        failures[0].1.contains("authentication failed"),
        "{failures:?}"
    );
    let e =
        artifact::push(publisher.path(), &reference, &options(Some("wr0ng-secret"))).unwrap_err();
    assert!(
        e.is_usage_error() && e.to_string().contains("authentication failed"),
        "{e}"
    );
    assert!(!e.to_string().contains("wr0ng-secret"), "{e}");
    assert_eq!(sha256(&db_bytes(other.path())), sha256(&dbs.old));

    // The CLI through the environment's credentials.
    let out = Command::new(env!("CARGO_BIN_EXE_customs"))
        .args([
            "db",
            "pull",
            "--db-repository",
            &reference,
            "--registry-ca",
            ca_str,
            "--cache-dir",
        ])
        .arg(other.path())
        .env("CUSTOMS_REGISTRY_USERNAME", USER)
        .env("CUSTOMS_REGISTRY_PASSWORD", PASS)
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(sha256(&db_bytes(other.path())), sha256(&dbs.new));
}

// ---------------------------------------------------------------- token auth

#[test]
fn token_auth_asks_for_push_scope_only_when_pushing() {
    if !prerequisites() {
        return;
    }
    let dbs = databases();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("token.key");
    let cert = dir.path().join("token.crt");
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=customs-token-issuer", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    let der = run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&cert));
    let ts = TokenServer::start(key, der);
    let reg = Registry::start(
        "",
        &format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: customs-test-registry\n    issuer: customs-test-issuer\n    rootcertbundle: {}\n",
            ts.port,
            cert.display()
        ),
    );
    let reference = format!("{}/customs/db:1", reg.host());
    let mut o = plain();
    o.username = Some(USER.into());
    o.password = Some(PASS.into());

    let publisher = cache_with(&dbs.new);
    artifact::push(publisher.path(), &reference, &o).unwrap();
    let pushed_scopes = std::mem::take(&mut *ts.scopes.lock().unwrap());
    assert!(
        pushed_scopes
            .iter()
            .any(|s| s == "repository:customs/db:pull,push"),
        "{pushed_scopes:?}"
    );

    let cache = tempfile::tempdir().unwrap();
    artifact::pull(
        cache.path(),
        std::slice::from_ref(&reference),
        &pull_options(o.clone()),
    )
    .unwrap();
    let pulled_scopes = ts.scopes.lock().unwrap().clone();
    assert!(!pulled_scopes.is_empty());
    assert!(
        pulled_scopes
            .iter()
            .all(|s| s == "repository:customs/db:pull"),
        "{pulled_scopes:?}"
    );
    assert_eq!(sha256(&db_bytes(cache.path())), sha256(&dbs.new));
}

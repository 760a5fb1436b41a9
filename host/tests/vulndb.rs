//! The local vulnerability database end to end: OSV zips built here from the real
//! advisories of the corpus (AlmaLinux OSV, Alpine secdb and Debian DSA/DLA lists
//! converted by the core's feed converters, osv.dev's misc records), served by a
//! small HTTP server on 127.0.0.1 that can answer 429/500, cut a body short, serve a
//! truncated zip, and honours `If-None-Match` and `Range`; then `db update`, lookups,
//! the mirror fallback, resumption, atomicity, corruption and concurrency.
use customs::cli_db::{DbArgs, DbCommand, StatusArgs, StatusFormat, run_db};
use customs::vulndb::download::DownloadOptions;
use customs::vulndb::update::EcosystemAction;
use customs::vulndb::{self, UpdateOptions, UpdateOutcome, VulnDb};
use customs_core::vuln::ecosystem;
use customs_core::vuln::feeds::{alpine_secdb, debian_tracker};
use customs_core::vuln::osv::Vulnerability;
use md5::Digest as _;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

// ---------------------------------------------------------------- corpus → zips

fn corpus() -> PathBuf {
    std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One export: (entry name, JSON bytes).
type Export = Vec<(String, Vec<u8>)>;

/// Converted records as an export: one entry per id, the affected entries of records
/// sharing an id merged (as osv.dev publishes one record per id; the tracker lists
/// name a few advisories twice, and secdb repeats an issue per branch).
fn to_entries(records: Vec<Vulnerability>) -> Export {
    let mut by_id: BTreeMap<String, Vulnerability> = BTreeMap::new();
    for r in records {
        match by_id.get_mut(&r.id) {
            Some(existing) => {
                for a in r.affected {
                    if !existing.affected.contains(&a) {
                        existing.affected.push(a);
                    }
                }
            }
            None => {
                by_id.insert(r.id.clone(), r);
            }
        }
    }
    by_id
        .into_values()
        .map(|r| (format!("{}.json", r.id), serde_json::to_vec(&r).unwrap()))
        .collect()
}

/// The real AlmaLinux OSV records, byte for byte, named by their corpus path (one
/// advisory is filed under two releases: the store keeps one copy of that id).
fn alma_export() -> Export {
    let dir = corpus().join("advisories/almalinux-osv/advisories");
    let out: Export = walk(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    assert!(out.len() >= 700, "{} AlmaLinux records", out.len());
    out
}

/// Every secdb file (JSON and YAML) converted to OSV.
fn alpine_export() -> Export {
    let dir = corpus().join("advisories/alpine-secdb");
    let mut all = Vec::new();
    let mut files = 0;
    for p in walk(&dir) {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let value: serde_json::Value = match ext {
            "json" => serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
            "yaml" => serde_yaml_ng::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            _ => continue,
        };
        let records = if value.get("packages").is_some() {
            let db: alpine_secdb::SecDb = serde_json::from_value(value).unwrap();
            db.to_osv()
        } else if let Some(branch) = value
            .get("distroversion")
            .and_then(|v| v.as_str())
            .map(str::to_string)
        {
            let pkg: alpine_secdb::SecPackage = serde_json::from_value(value).unwrap();
            alpine_secdb::to_osv(&branch, [&pkg])
        } else {
            continue; // converted goldens of another shape
        };
        files += 1;
        all.extend(records);
    }
    assert!(files >= 25, "{files} secdb files");
    to_entries(all)
}

fn debian_export() -> Export {
    let mut out = Vec::new();
    for list in ["DSA", "DLA"] {
        let path = corpus().join(format!(
            "advisories/debian-security-tracker/data/{list}/list"
        ));
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        out.extend(debian_tracker::parse(&format!("{list}/list"), &text).unwrap());
    }
    assert!(out.len() >= 8000, "{} Debian records", out.len());
    to_entries(out)
}

/// osv.dev's records as published, plus one malformed record that must be reported.
fn misc_export() -> Export {
    let dir = corpus().join("advisories/osv-misc");
    let mut out: Export = walk(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    assert!(out.len() >= 4);
    out.push((
        "BAD-1.json".into(),
        br#"{"id":"BAD-1","affected":[{"package":{"ecosystem":"Debian:12","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{}]}]}]}"#.to_vec(),
    ));
    out
}

fn zip_of(entries: &Export) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

struct Corpus {
    exports: Vec<(&'static str, Export)>,
    zips: HashMap<&'static str, Vec<u8>>,
}

/// Built once per test binary (the Debian lists take a moment to convert).
fn corpus_exports() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let exports = vec![
            ("AlmaLinux", alma_export()),
            ("Alpine", alpine_export()),
            ("Debian", debian_export()),
            ("Misc", misc_export()),
        ];
        let zips = exports.iter().map(|(n, e)| (*n, zip_of(e))).collect();
        Corpus { exports, zips }
    })
}

const ALL: [&str; 4] = ["AlmaLinux", "Alpine", "Debian", "Misc"];

// ---------------------------------------------------------------- HTTP server

#[derive(Debug, Clone)]
struct Req {
    path: String,
    headers: HashMap<String, String>,
    status: u16,
}

#[derive(Default)]
struct State {
    /// Ecosystem (URL segment) → (body, etag).
    files: HashMap<String, (Vec<u8>, String)>,
    /// Mirror prefix (`/m1`) → status it always answers.
    failing: HashMap<String, u16>,
    /// Ecosystem → send only this many body bytes (once), announcing the full length.
    cut_once: HashMap<String, usize>,
    /// Delay before answering a full download (to make concurrent updates overlap).
    delay: Duration,
    log: Vec<Req>,
}

struct Server {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || handle(conn, &st));
            }
        });
        Server { base, state }
    }

    fn mirror(&self, m: &str) -> String {
        format!("{}/{m}", self.base)
    }

    fn serve(&self, eco: &str, body: Vec<u8>, etag: &str) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(eco.into(), (body, format!("\"{etag}\"")));
    }

    fn serve_corpus(&self) {
        for (name, zip) in &corpus_exports().zips {
            self.serve(name, zip.clone(), &format!("{name}-v1"));
        }
    }

    fn log(&self) -> Vec<Req> {
        self.state.lock().unwrap().log.clone()
    }

    fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }
}

fn handle(mut conn: TcpStream, state: &Mutex<State>) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (prefix, eco) = (
        format!("/{}", segs[0]),
        segs.get(1).copied().unwrap_or("").to_string(),
    );
    let mut st = state.lock().unwrap();
    let respond =
        |st: &mut State, status: u16, extra: &[(&str, String)], body: &[u8], send: usize| {
            st.log.push(Req {
                path: path.clone(),
                headers: headers.clone(),
                status,
            });
            let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            (head, body[..send.min(body.len())].to_vec())
        };
    let (head, body, delay) = if let Some(&s) = st.failing.get(&prefix) {
        let (h, b) = respond(&mut st, s, &[("Retry-After", "0".into())], b"failing", 7);
        (h, b, Duration::ZERO)
    } else if let Some((file, etag)) = st.files.get(&eco).cloned() {
        let md5 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&file))
        };
        let common = vec![
            ("ETag", etag.clone()),
            ("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT".to_string()),
            ("Accept-Ranges", "bytes".to_string()),
            ("x-goog-hash", format!("crc32c=AAAAAA==, md5={md5}")),
        ];
        let range_start = headers
            .get("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|_| headers.get("if-range").is_none_or(|v| *v == etag));
        if headers.get("if-none-match") == Some(&etag) {
            let (h, b) = respond(&mut st, 304, &common, b"", 0);
            (h, b, Duration::ZERO)
        } else if let Some(start) = range_start.filter(|s| *s < file.len()) {
            let mut extra = common.clone();
            extra.push((
                "Content-Range",
                format!("bytes {start}-{}/{}", file.len() - 1, file.len()),
            ));
            let (h, b) = respond(&mut st, 206, &extra, &file[start..], usize::MAX);
            (h, b, Duration::ZERO)
        } else {
            let send = st.cut_once.remove(&eco).unwrap_or(usize::MAX);
            let delay = st.delay;
            let (h, b) = respond(&mut st, 200, &common, &file, send);
            (h, b, delay)
        }
    } else {
        let (h, b) = respond(&mut st, 404, &[], b"not found", 9);
        (h, b, Duration::ZERO)
    };
    drop(st);
    std::thread::sleep(delay);
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------- helpers

fn options(cache: &Path, mirrors: Vec<String>) -> UpdateOptions {
    let mut o = UpdateOptions::new(cache.to_path_buf());
    o.ecosystems = ALL.iter().map(|s| s.to_string()).collect();
    o.mirrors = mirrors;
    o.download = DownloadOptions {
        attempts_per_mirror: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
        ..DownloadOptions::default()
    };
    o.lock_timeout = Duration::from_secs(120);
    o
}

fn leftovers(cache: &Path) -> Vec<String> {
    std::fs::read_dir(vulndb::db_dir(cache))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".osv.db.tmp-"))
        .collect()
}

/// The records each id should be stored as: the parsed copy with the latest
/// `modified` among the exports (ties: the first export in update order).
fn expected_records() -> BTreeMap<String, Vulnerability> {
    let mut out: BTreeMap<String, Vulnerability> = BTreeMap::new();
    for (_, export) in &corpus_exports().exports {
        for (_, bytes) in export {
            let Ok(r) = Vulnerability::from_json(bytes) else {
                continue;
            };
            match out.get(&r.id) {
                Some(old) if old.modified >= r.modified => {}
                _ => {
                    out.insert(r.id.clone(), r);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------- tests

#[test]
fn update_ingests_every_corpus_record_and_lookups_return_them() {
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let report = vulndb::update(&options(cache.path(), vec![server.mirror("m1")])).unwrap();
    assert_eq!(report.outcome, UpdateOutcome::Built);
    // Every export was checked against the server's MD5.
    for eco in &report.ecosystems {
        match &eco.action {
            EcosystemAction::Downloaded { verified_with, .. } => {
                assert_eq!(*verified_with, Some("md5 (x-goog-hash)"), "{}", eco.name)
            }
            other => panic!("{}: {other:?}", eco.name),
        }
    }
    // The malformed record is counted and named, not silently dropped.
    let misc = report.ecosystems.iter().find(|e| e.name == "Misc").unwrap();
    assert_eq!(misc.failed, 1);
    assert_eq!(misc.failures[0].id.as_deref(), Some("BAD-1"));
    assert!(
        misc.failures[0].error.contains("events[0]"),
        "{:?}",
        misc.failures[0]
    );

    let db = VulnDb::open(cache.path()).unwrap();
    let status = db.status().clone();
    let expected = expected_records();
    assert_eq!(status.records as usize, expected.len());
    for (name, export) in &corpus_exports().exports {
        let row = status.ecosystems.iter().find(|e| e.name == *name).unwrap();
        let parsed = export
            .iter()
            .filter(|(_, b)| Vulnerability::from_json(b).is_ok())
            .count();
        assert_eq!(row.records as usize, parsed, "{name}");
        assert_eq!(row.failed as usize, export.len() - parsed, "{name}");
    }
    assert_eq!(status.failed(), 1);

    // Every record comes back by id, identical to what was served; and under every
    // (normalized ecosystem, package) of its affected entries.
    let ids: Vec<&String> = expected.keys().collect();
    let got = db.by_ids(&ids).unwrap();
    assert_eq!(got.len(), expected.len());
    for r in &got {
        assert_eq!(r, &expected[&r.id], "{}", r.id);
    }
    let mut pairs = std::collections::BTreeSet::new();
    for r in expected.values().filter(|r| !r.is_withdrawn()) {
        for a in &r.affected {
            if let Some(p) = &a.package {
                pairs.insert((
                    ecosystem::normalize(&p.ecosystem).into_owned(),
                    p.name.clone(),
                    r.id.clone(),
                ));
            }
        }
    }
    let mut checked = 0;
    let mut by_key: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (k, n, id) in &pairs {
        by_key
            .entry((k.clone(), n.clone()))
            .or_default()
            .push(id.clone());
    }
    let keys: Vec<(String, String)> = by_key.keys().cloned().collect();
    for chunk in keys.chunks(500) {
        let found = db.lookup(chunk).unwrap();
        let found_ids: std::collections::BTreeSet<&str> =
            found.iter().map(|r| r.id.as_str()).collect();
        for key in chunk {
            for id in &by_key[key] {
                assert!(
                    found_ids.contains(id.as_str()),
                    "{id} missing under {key:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(status.entries as usize, pairs.len());
    assert!(
        checked > 20_000,
        "{checked} (key, name, id) triples checked"
    );
    // A single lookup returns exactly the records under that key, sorted.
    let one = db.lookup(&[("Debian:7", "nginx")]).unwrap();
    assert!(one.iter().any(|r| r.id == "DSA-3029-1"));
    assert!(one.windows(2).all(|w| w[0].id < w[1].id));
    // Aliases: the DSA is found from its CVE.
    let refs = db.referencing(&["CVE-2014-3616"]).unwrap();
    assert!(refs.iter().any(|r| r.id == "DSA-3029-1"), "{refs:?}");
    assert!(
        db.lookup(&[("Debian:7", "no-such-package")])
            .unwrap()
            .is_empty()
    );
    assert!(leftovers(cache.path()).is_empty());
}

#[test]
fn second_update_is_conditional_and_rebuilds_only_what_changed() {
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let opts = options(cache.path(), vec![server.mirror("m1")]);
    vulndb::update(&opts).unwrap();
    let first = VulnDb::open(cache.path()).unwrap().status().clone();
    server.clear_log();

    let report = vulndb::update(&opts).unwrap();
    assert_eq!(report.outcome, UpdateOutcome::NotModified);
    let log = server.log();
    assert_eq!(log.len(), ALL.len());
    for r in &log {
        assert_eq!(r.status, 304, "{r:?}");
        assert!(r.headers["if-none-match"].ends_with("-v1\""), "{r:?}");
        assert!(r.headers.contains_key("if-modified-since"), "{r:?}");
    }
    let again = VulnDb::open(cache.path()).unwrap().status().clone();
    assert_eq!(again.build_id, first.build_id, "no rebuild");
    assert!(again.checked_at >= first.built_at);

    // One export changes: only it is downloaded; the rest is carried over.
    let mut misc = corpus_exports().exports[3].1.clone();
    misc.retain(|(n, _)| n != "BAD-1.json");
    server.serve("Misc", zip_of(&misc), "Misc-v2");
    server.clear_log();
    let report = vulndb::update(&opts).unwrap();
    assert_eq!(report.outcome, UpdateOutcome::Built);
    let statuses: Vec<u16> = server.log().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    let db = VulnDb::open(cache.path()).unwrap();
    let s = db.status();
    assert_ne!(s.build_id, first.build_id);
    assert_eq!(s.records, first.records);
    assert_eq!(s.entries, first.entries);
    assert_eq!(s.failed(), 0);
    for (a, b) in s.ecosystems.iter().zip(&first.ecosystems) {
        if a.name != "Misc" {
            assert_eq!(a, b);
        }
    }
    assert!(!db.lookup(&[("AlmaLinux:9", "openssl")]).unwrap().is_empty());
}

#[test]
fn mirrors_are_tried_in_order_on_429_and_500() {
    let server = Server::start();
    server.serve_corpus();
    {
        let mut st = server.state.lock().unwrap();
        st.failing.insert("/m1".into(), 429);
        st.failing.insert("/m2".into(), 500);
    }
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(
        cache.path(),
        vec![
            server.mirror("m1"),
            server.mirror("m2"),
            server.mirror("m3"),
        ],
    );
    opts.ecosystems = vec!["Alpine".into()];
    let report = vulndb::update(&opts).unwrap();
    assert_eq!(report.outcome, UpdateOutcome::Built);
    let log = server.log();
    let per = |m: &str| {
        log.iter()
            .filter(|r| r.path.starts_with(m))
            .map(|r| r.status)
            .collect::<Vec<_>>()
    };
    assert_eq!(per("/m1/"), [429, 429], "retried, then the next mirror");
    assert_eq!(per("/m2/"), [500, 500]);
    assert_eq!(per("/m3/"), [200]);
    match &report.ecosystems[0].action {
        EcosystemAction::Downloaded { url, .. } => assert!(url.contains("/m3/"), "{url}"),
        other => panic!("{other:?}"),
    }
    // All mirrors failing: one error naming each, and no database.
    server
        .state
        .lock()
        .unwrap()
        .failing
        .insert("/m3".into(), 503);
    let other = tempfile::tempdir().unwrap();
    let mut opts2 = opts.clone();
    opts2.cache_root = other.path().to_path_buf();
    let e = vulndb::update(&opts2).unwrap_err().to_string();
    assert!(
        e.contains("/m1/Alpine/all.zip: HTTP 429")
            && e.contains("HTTP 500")
            && e.contains("HTTP 503"),
        "{e}"
    );
    assert!(!e.contains('\n'));
    assert!(VulnDb::open(other.path()).unwrap_err().is_missing());
}

#[test]
fn interrupted_download_resumes_with_range() {
    let server = Server::start();
    server.serve_corpus();
    let half = corpus_exports().zips["Debian"].len() / 2;
    server
        .state
        .lock()
        .unwrap()
        .cut_once
        .insert("Debian".into(), half);
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path(), vec![server.mirror("m1")]);
    opts.ecosystems = vec!["Debian".into()];
    let report = vulndb::update(&opts).unwrap();
    match &report.ecosystems[0].action {
        EcosystemAction::Downloaded { resumed, bytes, .. } => {
            assert!(*resumed);
            assert_eq!(*bytes as usize, corpus_exports().zips["Debian"].len());
        }
        other => panic!("{other:?}"),
    }
    let log = server.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1].status, 206);
    assert_eq!(log[1].headers["range"], format!("bytes={half}-"));
    assert_eq!(log[1].headers["if-range"], "\"Debian-v1\"");
    assert!(report.status.records > 8000);
}

#[test]
fn truncated_zip_is_an_error_and_the_old_database_stays() {
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let opts = options(cache.path(), vec![server.mirror("m1")]);
    vulndb::update(&opts).unwrap();
    let before = VulnDb::open(cache.path()).unwrap();
    let before_status = before.status().clone();

    // The server now publishes a truncated export (consistent Content-Length).
    let zip = &corpus_exports().zips["Alpine"];
    server.serve(
        "Alpine",
        zip[..zip.len() * 2 / 3].to_vec(),
        "Alpine-v2-broken",
    );
    let e = vulndb::update(&opts).unwrap_err().to_string();
    assert!(
        e.contains("Alpine") && e.contains("not a readable zip (truncated or corrupt)"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    // The database a scan had open still answers, and a new open gets the old build.
    assert!(
        !before
            .lookup(&[("Alpine:v3.10", "openssl")])
            .unwrap()
            .is_empty()
    );
    let after = VulnDb::open(cache.path()).unwrap();
    assert_eq!(after.status().build_id, before_status.build_id);
    assert!(leftovers(cache.path()).is_empty());

    // A zip whose directory survives but whose entry data is damaged: CRC error.
    let mut bad = zip.clone();
    let mid = bad.len() / 3;
    for b in &mut bad[mid..mid + 64] {
        *b ^= 0x5a;
    }
    server.serve("Alpine", bad, "Alpine-v3-damaged");
    let e = vulndb::update(&opts).unwrap_err().to_string();
    assert!(e.contains("Alpine"), "{e}");
    assert_eq!(
        VulnDb::open(cache.path()).unwrap().status().build_id,
        before_status.build_id
    );
}

#[test]
fn corrupted_database_file_is_refused_with_a_clear_error() {
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path(), vec![server.mirror("m1")]);
    opts.ecosystems = vec!["Alpine".into(), "Misc".into()];
    vulndb::update(&opts).unwrap();
    let path = vulndb::db_path(cache.path());
    let good = std::fs::read(&path).unwrap();
    let check = |what: &str, bytes: &[u8]| {
        let p = cache.path().join(format!("{what}.db"));
        std::fs::write(&p, bytes).unwrap();
        let e = VulnDb::open_file(&p).unwrap_err().to_string();
        assert!(
            e.contains("unusable") && e.contains("customs db update"),
            "{what}: {e}"
        );
        assert!(!e.contains('\n'), "{what}: {e}");
    };
    check("truncated", &good[..good.len() / 2]);
    check("not-sqlite", b"definitely not a database");
    let mut zeroed = good.clone();
    for b in &mut zeroed[4096..4096 * 3] {
        *b = 0xff;
    }
    check("garbled-pages", &zeroed);
    // Tampered metadata: the checksum catches it.
    let p = cache.path().join("tampered.db");
    std::fs::write(&p, &good).unwrap();
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute("UPDATE ecosystems SET records = records + 1", [])
            .unwrap();
    }
    let e = VulnDb::open_file(&p).unwrap_err().to_string();
    assert!(e.contains("checksum"), "{e}");
    // A record blob damaged in place: reading it fails loudly, never a wrong record.
    let p = cache.path().join("blob.db");
    std::fs::write(&p, &good).unwrap();
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute(
            "UPDATE records SET json = zeroblob(length(json)) WHERE id = (SELECT MIN(id) FROM records WHERE id LIKE 'ALPINE-%')",
            [],
        )
        .unwrap();
    }
    let db = VulnDb::open_file(&p).unwrap();
    let first = db.status().records;
    assert!(first > 0);
    let ids: Vec<String> = {
        let c = rusqlite::Connection::open(&p).unwrap();
        let id: String = c
            .query_row(
                "SELECT MIN(id) FROM records WHERE id LIKE 'ALPINE-%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        vec![id]
    };
    let e = db.by_ids(&ids).unwrap_err().to_string();
    assert!(e.contains("damaged"), "{e}");
}

#[test]
fn concurrent_updates_on_one_cache_directory() {
    let server = Server::start();
    server.serve_corpus();
    server.state.lock().unwrap().delay = Duration::from_millis(300);
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path(), vec![server.mirror("m1")]);
    opts.ecosystems = vec!["Alpine".into(), "AlmaLinux".into()];
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let o = opts.clone();
            std::thread::spawn(move || vulndb::update(&o))
        })
        .collect();
    let outcomes: Vec<UpdateOutcome> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap().outcome)
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == UpdateOutcome::Built)
            .count(),
        1,
        "{outcomes:?}"
    );
    // Each export was downloaded once: the waiters reused the fresh database.
    let full = server.log().iter().filter(|r| r.status == 200).count();
    assert_eq!(full, 2, "{:?}", server.log());
    assert!(leftovers(cache.path()).is_empty());
    VulnDb::open(cache.path()).unwrap();

    // A lock held longer than the timeout: a clear error, not a hang.
    let lock = std::fs::File::create(vulndb::db_dir(cache.path()).join("update.lock")).unwrap();
    lock.lock().unwrap();
    let mut quick = opts.clone();
    quick.lock_timeout = Duration::from_millis(300);
    let e = vulndb::update(&quick).unwrap_err().to_string();
    assert!(e.contains("update.lock") && e.contains("giving up"), "{e}");
    lock.unlock().unwrap();
}

#[test]
fn status_and_exit_codes_through_run_db() {
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let status = |format| {
        run_db(DbArgs {
            command: DbCommand::Status(StatusArgs { format }),
            cache_dir: Some(cache.path().to_path_buf()),
        })
        .unwrap()
    };
    assert_eq!(status(StatusFormat::Table), std::process::ExitCode::from(3));
    let mut opts = options(cache.path(), vec![server.mirror("m1")]);
    opts.ecosystems = vec!["Misc".into()];
    vulndb::update(&opts).unwrap();
    assert_eq!(status(StatusFormat::Table), std::process::ExitCode::SUCCESS);
    assert_eq!(status(StatusFormat::Json), std::process::ExitCode::SUCCESS);
    let s = VulnDb::open(cache.path()).unwrap().status().clone();
    assert_eq!(s.schema_version, vulndb::store::SCHEMA_VERSION);
    assert!(s.age_secs(s.built_at + 90) == 90);
    assert_eq!(s.sources, vec![server.mirror("m1")]);
    assert_eq!(s.ecosystems.len(), 1);
    assert_eq!(s.ecosystems[0].failed, 1);
}

/// The real binary, once `customs db` is wired into the CLI (skipped until then).
#[test]
fn binary_db_update_and_status() {
    let bin = env!("CARGO_BIN_EXE_customs");
    let help = std::process::Command::new(bin)
        .args(["db", "--help"])
        .output()
        .unwrap();
    if !help.status.success() {
        eprintln!("`customs db` is not wired into the CLI yet; skipping");
        return;
    }
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("CUSTOMS_CACHE_DIR", cache.path())
            .env(
                "CUSTOMS_OSV_URL",
                format!("{},{}", server.mirror("down"), server.mirror("m1")),
            )
            .output()
            .unwrap()
    };
    server
        .state
        .lock()
        .unwrap()
        .failing
        .insert("/down".into(), 503);
    let out = run(&["db", "status"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("customs db update"));
    let out = run(&["db", "update", "--ecosystems", "Alpine,Misc"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("database built"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("BAD-1"));
    let out = run(&["db", "status"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in ["schema version: 1", "built at:", "age", "Alpine", "Misc"] {
        assert!(stdout.contains(want), "{want}: {stdout}");
    }
    let out = run(&["db", "update", "--ecosystems", "Alpine,Misc", "--strict"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "unchanged exports: nothing to refuse {out:?}"
    );
}

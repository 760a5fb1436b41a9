//! OSV exports built from the real advisories of the corpus (AlmaLinux OSV, Alpine
//! secdb and Debian DSA/DLA lists converted by the core's feed converters, osv.dev's
//! misc records), and a small HTTP server on 127.0.0.1 that serves them like OSV's
//! bucket: ETags, `If-None-Match`, `Range`, and faults on demand (429/500 answers,
//! a body cut short). Shared by the database and the end-to-end scan tests.
#![allow(dead_code)]
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

pub fn corpus() -> PathBuf {
    std::env::var_os("CUSTOMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
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
pub type Export = Vec<(String, Vec<u8>)>;

/// Converted records as an export: one entry per id, the affected entries of records
/// sharing an id merged (as osv.dev publishes one record per id; the tracker lists
/// name a few advisories twice, and secdb repeats an issue per branch).
pub fn to_entries(records: Vec<Vulnerability>) -> Export {
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
pub fn alma_export() -> Export {
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
pub fn alpine_export() -> Export {
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

pub fn debian_export() -> Export {
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
pub fn misc_export() -> Export {
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

pub fn zip_of(entries: &Export) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub struct Corpus {
    pub exports: Vec<(&'static str, Export)>,
    pub zips: HashMap<&'static str, Vec<u8>>,
}

/// Built once per test binary (the Debian lists take a moment to convert).
pub fn corpus_exports() -> &'static Corpus {
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

pub const ALL: [&str; 4] = ["AlmaLinux", "Alpine", "Debian", "Misc"];

// ---------------------------------------------------------------- HTTP server

#[derive(Debug, Clone)]
pub struct Req {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

#[derive(Default)]
pub struct State {
    /// Ecosystem (URL segment) → (body, etag).
    pub files: HashMap<String, (Vec<u8>, String)>,
    /// Mirror prefix (`/m1`) → status it always answers.
    pub failing: HashMap<String, u16>,
    /// Ecosystem → send only this many body bytes (once), announcing the full length.
    pub cut_once: HashMap<String, usize>,
    /// Delay before answering a full download (to make concurrent updates overlap).
    pub delay: Duration,
    pub log: Vec<Req>,
}

pub struct Server {
    pub base: String,
    pub state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start() -> Server {
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

    pub fn mirror(&self, m: &str) -> String {
        format!("{}/{m}", self.base)
    }

    pub fn serve(&self, eco: &str, body: Vec<u8>, etag: &str) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(eco.into(), (body, format!("\"{etag}\"")));
    }

    pub fn serve_corpus(&self) {
        for (name, zip) in &corpus_exports().zips {
            self.serve(name, zip.clone(), &format!("{name}-v1"));
        }
    }

    pub fn log(&self) -> Vec<Req> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }
}

pub fn handle(mut conn: TcpStream, state: &Mutex<State>) {
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

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
use customs_core::vuln::osv::Vulnerability;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

mod support;
use support::osv::*;

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

/// The full structural check runs once per file: an update (or an earlier scan) that
/// verified the live file lets later scans skip it, and any change to the file, even
/// one that puts the modification time back, brings the check back.
#[test]
fn integrity_check_is_remembered_only_for_the_unchanged_file() {
    use std::io::{Seek, SeekFrom, Write};
    let server = Server::start();
    server.serve_corpus();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path(), vec![server.mirror("m1")]);
    opts.ecosystems = vec!["Alpine".into()];
    vulndb::update(&opts).unwrap();
    let path = vulndb::db_path(cache.path());
    let memo = path.with_file_name("osv.db.verified");
    assert!(memo.is_file(), "the update remembers the check it ran");
    assert!(!VulnDb::open(cache.path()).unwrap().fully_checked());

    std::fs::remove_file(&memo).unwrap();
    assert!(VulnDb::open(cache.path()).unwrap().fully_checked());
    assert!(!VulnDb::open(cache.path()).unwrap().fully_checked());
    // `open_file` (temporary files, `db status`) never trusts a memo.
    assert!(VulnDb::open_file(&path).unwrap().fully_checked());

    // Damage pages in place, same size, and put the modification time back.
    let good = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let rewrite = |bytes: &[u8]| {
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.write_all(bytes).unwrap();
        f.set_modified(mtime).unwrap();
    };
    let mut garbled = good.clone();
    for b in &mut garbled[4096..4096 * 3] {
        *b = 0xff;
    }
    rewrite(&garbled);
    let e = VulnDb::open(cache.path()).unwrap_err().to_string();
    assert!(e.contains("unusable"), "{e}");
    assert!(!memo.exists(), "a failed check forgets the memo");

    rewrite(&good);
    assert!(VulnDb::open(cache.path()).unwrap().fully_checked());
    assert!(!VulnDb::open(cache.path()).unwrap().fully_checked());

    // A memo of another shape is no memo.
    std::fs::write(&memo, "customs-db-verified-v1 1 2 3\n").unwrap();
    assert!(VulnDb::open(cache.path()).unwrap().fully_checked());
    assert!(
        leftovers(cache.path()).is_empty(),
        "{:?}",
        leftovers(cache.path())
    );
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

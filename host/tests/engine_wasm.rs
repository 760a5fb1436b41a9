//! The sandboxed (wasm) engine against the native one, and the sandbox's limits.
//!
//! The analyzers behind both engines are the same code, so these tests compare the two
//! engines' JSON for equality instead of asserting what the analysis finds: that is the
//! analyzers' own tests' job. What is tested here is the boundary: every document and
//! every error crosses it unchanged, sessions are independent and may run in parallel,
//! memory and time limits turn into the right errors, and the compiled component is
//! cached.
use customs::engine::{
    Engine, EngineError, EngineKind, LayerSession, Limits, create,
    wasm::{ComponentSource, WasmEngine},
};
use customs_core::model::{EntryKind, EntryMeta};
use std::time::Instant;

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";

/// A dpkg status database of `n` installed packages.
fn dpkg_status(n: usize) -> String {
    let mut s = String::with_capacity(n * 400);
    for i in 0..n {
        s.push_str(&format!(
            "Package: pkg{i:06}\nStatus: install ok installed\nPriority: optional\nSection: misc\n\
             Installed-Size: {size}\nMaintainer: Test Maintainers <test@example.org>\nArchitecture: amd64\n\
             Source: src{src:05} (2:1.{i}-3)\nVersion: 2:1.{i}-3+b1\nDepends: libc6 (>= 2.36), pkg{dep:06}\n\
             Description: test package number {i}\n a longer description of package {i}\n .\n second paragraph\n\n",
            size = i % 977,
            src = i / 3,
            dep = i / 2,
        ));
    }
    s
}

fn entry(path: &str, kind: EntryKind, size: u64, link: Option<&str>) -> EntryMeta {
    EntryMeta {
        path: path.into(),
        kind,
        size,
        mode: if kind == EntryKind::Dir { 0o755 } else { 0o644 },
        uid: 0,
        gid: 0,
        link_target: link.map(str::to_owned),
    }
}

/// A layer: entry metadata plus the contents of the wanted files.
struct Layer {
    diff_id: String,
    entries: Vec<EntryMeta>,
    files: Vec<(String, Vec<u8>)>,
}

fn base_layer() -> Layer {
    let status = dpkg_status(40);
    Layer {
        diff_id: "sha256:1111111111111111111111111111111111111111111111111111111111111111".into(),
        entries: vec![
            entry("./", EntryKind::Dir, 0, None),
            entry("./etc/", EntryKind::Dir, 0, None),
            entry(
                "./etc/os-release",
                EntryKind::Symlink,
                0,
                Some("../usr/lib/os-release"),
            ),
            entry(
                "./usr/lib/os-release",
                EntryKind::File,
                OS_RELEASE.len() as u64,
                None,
            ),
            entry(
                "./var/lib/dpkg/status",
                EntryKind::File,
                status.len() as u64,
                None,
            ),
            entry("./bin/sh", EntryKind::Symlink, 0, Some("dash")),
            entry("./usr/bin/dash", EntryKind::File, 125_560, None),
            entry(
                "./usr/bin/perl",
                EntryKind::Hardlink,
                0,
                Some("usr/bin/perl5.36.0"),
            ),
            entry("./dev/null", EntryKind::CharDevice, 0, None),
            entry("./run/fifo", EntryKind::Fifo, 0, None),
            entry("./tmp/", EntryKind::Dir, 0, None),
        ],
        files: vec![
            ("./etc/os-release".into(), OS_RELEASE.as_bytes().to_vec()),
            (
                "./usr/lib/os-release".into(),
                OS_RELEASE.as_bytes().to_vec(),
            ),
            ("./var/lib/dpkg/status".into(), status.into_bytes()),
        ],
    }
}

fn upper_layer() -> Layer {
    let status = dpkg_status(45);
    Layer {
        diff_id: "sha256:2222222222222222222222222222222222222222222222222222222222222222".into(),
        entries: vec![
            entry(
                "var/lib/dpkg/status",
                EntryKind::File,
                status.len() as u64,
                None,
            ),
            entry("usr/bin/.wh.perl", EntryKind::File, 0, None),
            entry("tmp/.wh..wh..opq", EntryKind::File, 0, None),
            entry("opt/app/run.sh", EntryKind::File, 42, None),
        ],
        files: vec![("var/lib/dpkg/status".into(), status.into_bytes())],
    }
}

/// Runs one layer through `engine`: entries in two batches, then the files.
fn analyze(engine: &dyn Engine, layer: &Layer) -> Result<String, EngineError> {
    let mut session: Box<dyn LayerSession> = engine.layer(&layer.diff_id)?;
    let (first, rest) = layer.entries.split_at(layer.entries.len() / 2);
    session.add_entries(first)?;
    session.add_entries(rest)?;
    for (path, content) in &layer.files {
        session.add_file(path, content)?;
    }
    session.finish()
}

fn image_json(layers: &[Layer]) -> String {
    let layers: Vec<_> = layers
        .iter()
        .map(|l| serde_json::json!({ "diff_id": l.diff_id, "size": 1234, "compression": "gzip" }))
        .collect();
    serde_json::json!({
        "reference": "example.org/test:1",
        "source": "oci-layout",
        "config_digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
        "platform": "linux/amd64",
        "layers": layers,
    })
    .to_string()
}

const OPTIONS: &str = r#"{"scanners":[],"tool_version":"0.1.0"}"#;

fn engines(limits: Limits) -> (Box<dyn Engine>, Box<dyn Engine>) {
    let wasm = create(EngineKind::Wasm, limits).expect("wasm engine");
    let native = create(EngineKind::Native, limits).expect("native engine");
    (wasm, native)
}

/// Outcome of an engine call, comparable across engines.
fn outcome(r: Result<String, EngineError>) -> Result<String, String> {
    r.map_err(|e| match e {
        EngineError::Analysis(msg) => msg,
        other => panic!("not an analysis outcome: {other:?}"),
    })
}

#[test]
fn wasm_and_native_produce_identical_documents() {
    let (wasm, native) = engines(Limits::default());
    assert_eq!(
        wasm.interest_json().unwrap(),
        native.interest_json().unwrap()
    );

    let layers = [base_layer(), upper_layer()];
    let mut facts = Vec::new();
    for layer in &layers {
        let w = outcome(analyze(wasm.as_ref(), layer));
        let n = outcome(analyze(native.as_ref(), layer));
        assert_eq!(w, n, "layer facts of {}", layer.diff_id);
        facts.push(n.expect("layer analysis succeeds natively"));
    }

    let image = image_json(&layers);
    let w = outcome(wasm.merge(&image, &facts, OPTIONS));
    let n = outcome(native.merge(&image, &facts, OPTIONS));
    assert_eq!(w, n, "merged report");
    let report = n.expect("merge succeeds natively");
    for format in ["json", "table", "sarif"] {
        assert_eq!(
            outcome(wasm.render(&report, format)),
            outcome(native.render(&report, format)),
            "rendering as {format}"
        );
    }
}

#[test]
fn wasm_and_native_reject_bad_input_identically() {
    let (wasm, native) = engines(Limits::default());
    let cases: [(&str, Vec<String>, &str); 3] = [
        ("not json", vec![], OPTIONS),
        (&image_json(&[]), vec!["{\"diff_id\": 7}".into()], OPTIONS),
        (&image_json(&[]), vec![], "[]"),
    ];
    for (image, layers, options) in &cases {
        let w = wasm.merge(image, layers, options);
        let n = native.merge(image, layers, options);
        match (w, n) {
            (Err(EngineError::Analysis(w)), Err(EngineError::Analysis(n))) => assert_eq!(w, n),
            (w, n) => panic!("merge({image:?}, {layers:?}, {options:?}): wasm {w:?}, native {n:?}"),
        }
    }
    for format in ["no-such-format", ""] {
        let w = outcome(wasm.render("{}", format));
        let n = outcome(native.render("{}", format));
        assert_eq!(w, n, "render as {format:?}");
    }

    // A corrupt package database and a session used after `finish`/twice.
    let bad = Layer {
        diff_id: "sha256:bad".into(),
        entries: vec![entry("var/lib/dpkg/status", EntryKind::File, 9, None)],
        files: vec![(
            "var/lib/dpkg/status".into(),
            b"\xff\xfe\0garbage\n\n:::\n".to_vec(),
        )],
    };
    assert_eq!(
        outcome(analyze(wasm.as_ref(), &bad)),
        outcome(analyze(native.as_ref(), &bad))
    );
}

#[test]
fn layers_run_in_parallel_on_one_engine() {
    let (wasm, native) = engines(Limits::default());
    let layers: Vec<Layer> = (0..6)
        .map(|i| {
            let mut l = if i % 2 == 0 {
                base_layer()
            } else {
                upper_layer()
            };
            l.diff_id = format!("sha256:{i:064}");
            l
        })
        .collect();
    let wasm: &dyn Engine = wasm.as_ref();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = layers
            .iter()
            .map(|l| s.spawn(move || analyze(wasm, l)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("analysis thread"))
            .collect()
    });
    for (layer, got) in layers.iter().zip(results) {
        assert_eq!(
            outcome(got),
            outcome(analyze(native.as_ref(), layer)),
            "{}",
            layer.diff_id
        );
    }
}

/// 4 MiB: enough for the core's initial memory (data, a 1 MiB stack) and ordinary
/// calls, far below a file of 8 MiB that must be copied into the sandbox.
#[test]
fn memory_limit_stops_a_large_file() {
    let limits = Limits {
        memory_bytes: 4 << 20,
        ..Limits::default()
    };
    let engine = create(EngineKind::Wasm, limits).unwrap();
    let mut session = engine
        .layer("sha256:big")
        .expect("instantiates within 4 MiB");
    session
        .add_entries(&base_layer().entries)
        .expect("metadata fits in 4 MiB");
    session
        .add_file("etc/os-release", OS_RELEASE.as_bytes())
        .expect("a small file fits in 4 MiB");
    let big = vec![b'x'; 8 << 20];
    match session.add_file("var/lib/dpkg/status", &big) {
        Err(EngineError::MemoryLimit {
            limit_mib: 4,
            during,
        }) => {
            assert!(during.contains("var/lib/dpkg/status"), "{during}")
        }
        other => panic!("want MemoryLimit, got {other:?}"),
    }
    // The engine itself is unaffected: a new session with the same limits works.
    let mut fresh = engine.layer("sha256:after").unwrap();
    fresh
        .add_file("etc/os-release", OS_RELEASE.as_bytes())
        .unwrap();
    fresh.finish().unwrap();
}

/// Deadlines are enforced in ticks of 10 ms, so a 1 ms limit interrupts any call that
/// runs longer than 20 ms: parsing a ~20 MB dpkg database takes far longer than that.
/// The control run with the default limit shows the input itself is fine.
#[test]
fn timeout_stops_a_long_analysis() {
    let status = dpkg_status(60_000).into_bytes();
    let run = |engine: &dyn Engine| -> Result<String, EngineError> {
        let mut session = engine.layer("sha256:slow")?;
        session.add_entries(&[entry(
            "var/lib/dpkg/status",
            EntryKind::File,
            status.len() as u64,
            None,
        )])?;
        session.add_file("var/lib/dpkg/status", &status)?;
        session.finish()
    };
    let limits = Limits {
        call_timeout_ms: 1,
        ..Limits::default()
    };
    let engine = create(EngineKind::Wasm, limits).unwrap();
    match run(engine.as_ref()) {
        Err(EngineError::Timeout { limit_ms: 1, .. }) => {}
        other => panic!("want Timeout, got {:?}", other.map(|s| s.len())),
    }

    let (wasm, native) = engines(Limits::default());
    assert_eq!(outcome(run(wasm.as_ref())), outcome(run(native.as_ref())));
}

#[test]
fn compiled_component_is_cached_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits::default();

    let t = Instant::now();
    let first = WasmEngine::with_cache_dir(limits, Some(dir.path())).unwrap();
    let compile_time = t.elapsed();
    let ComponentSource::Compiled { stored: Some(path) } = first.source().clone() else {
        panic!(
            "first engine should compile and store, got {:?}",
            first.source()
        )
    };
    assert!(
        path.is_file() && path.starts_with(dir.path()),
        "{}",
        path.display()
    );

    let t = Instant::now();
    let second = WasmEngine::with_cache_dir(limits, Some(dir.path())).unwrap();
    let cached_time = t.elapsed();
    assert_eq!(second.source(), &ComponentSource::Cache(path.clone()));
    let interest = second.interest_json().unwrap();
    assert_eq!(interest, first.interest_json().unwrap());

    let t = Instant::now();
    let layers = 20;
    for i in 0..layers {
        second
            .layer(&format!("sha256:{i}"))
            .unwrap()
            .finish()
            .unwrap();
    }
    let per_layer = t.elapsed() / layers;
    eprintln!(
        "component {} bytes; compile {compile_time:?}; cached load {cached_time:?}; \
         empty layer session (instantiate + finish) {per_layer:?}",
        WasmEngine::component_size()
    );

    // A damaged cache file is not trusted: the engine recompiles and replaces it. The
    // file is replaced by a rename, as the engine does it: engines alive still map the
    // old file, which must never be changed in place.
    drop((first, second));
    let damaged = dir.path().join("damaged");
    std::fs::write(&damaged, b"\x7fELF not really").unwrap();
    std::fs::rename(&damaged, &path).unwrap();
    let third = WasmEngine::with_cache_dir(limits, Some(dir.path())).unwrap();
    assert_eq!(
        third.source(),
        &ComponentSource::Compiled {
            stored: Some(path.clone())
        }
    );
    assert_eq!(third.interest_json().unwrap(), interest);
    let fourth = WasmEngine::with_cache_dir(limits, Some(dir.path())).unwrap();
    assert_eq!(fourth.source(), &ComponentSource::Cache(path));

    // Without a cache directory the engine still works.
    let uncached = WasmEngine::with_cache_dir(limits, None).unwrap();
    assert_eq!(
        uncached.source(),
        &ComponentSource::Compiled { stored: None }
    );
    assert_eq!(uncached.interest_json().unwrap(), interest);
}

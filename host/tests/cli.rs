//! The `customs` binary as a pipeline sees it: exit codes, one-line errors naming the
//! file or blob, sandbox limits, the layer cache, and output files.
//!
//! Malformed inputs are derived from the real test images (built by
//! `scripts/build-test-images.sh`) or written here as small OCI layouts.
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

fn images_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images");
    assert!(
        dir.join("debian.oci.tar").exists(),
        "{} has no test images: run scripts/build-test-images.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn customs(args: &[&str], cache: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_customs"))
        .args(args)
        .env("CUSTOMS_CACHE_DIR", cache)
        .env_remove("CUSTOMS_LOG")
        .output()
        .expect("run customs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a scan expected to fail; checks exit code 2 and a single error line that
/// contains every `needles` item, and returns that line.
fn expect_error(image: &str, extra: &[&str], needles: &[&str]) -> String {
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["scan", "--image", image, "--quiet"];
    args.extend_from_slice(extra);
    if !extra.contains(&"--scanners") {
        args.extend_from_slice(&["--scanners", "none"]);
    }
    let run = customs(&args, cache.path());
    assert_eq!(
        run.code, 2,
        "exit code for {image} {extra:?}; stderr: {}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "no report on error, got: {}",
        run.stdout
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error line, got: {}", run.stderr);
    let line = lines[0];
    assert!(line.starts_with("customs: error: "), "{line}");
    for n in needles {
        assert!(line.contains(n), "error should mention {n:?}: {line}");
    }
    assert!(!line.contains("panicked"), "{line}");
    line.to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The layer blobs of an OCI layout's only manifest, as `sha256:<hex>` digests.
fn layout_layers(layout: &Path) -> Vec<String> {
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: Value =
        serde_json::from_slice(&fs::read(blob_path(layout, manifest_digest)).unwrap()).unwrap();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect()
}

fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap();
    layout.join("blobs").join(alg).join(hex)
}

/// Writes a one-layer OCI layout whose layer holds `files` (path, content).
fn write_small_layout(dir: &Path, files: &[(&str, &[u8])]) {
    let mut layer = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        layer.append_data(&mut header, path, *content).unwrap();
    }
    let layer = layer.into_inner().unwrap();
    let diff_id = format!("sha256:{}", sha256_hex(&layer));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {}, "rootfs": { "type": "layers", "diff_ids": [diff_id] },
    })
    .to_string()
    .into_bytes();
    let put = |bytes: &[u8]| -> (String, usize) {
        let hex = sha256_hex(bytes);
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let (layer_digest, layer_size) = put(&layer);
    let (config_digest, config_size) = put(&config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size }],
    })
    .to_string()
    .into_bytes();
    let (manifest_digest, manifest_size) = put(&manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size }],
    });
    fs::write(dir.join("index.json"), index.to_string()).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

#[test]
fn missing_file() {
    expect_error(
        "/nonexistent/image.tar",
        &[],
        &["/nonexistent/image.tar", "no such file"],
    );
}

#[test]
fn truncated_archive() {
    let images = images_dir();
    let tmp = tempfile::tempdir().unwrap();
    let bytes = fs::read(images.join("debian.docker.tar")).unwrap();
    let truncated = tmp.path().join("truncated.tar");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    expect_error(truncated.to_str().unwrap(), &[], &["truncated.tar"]);
}

#[test]
fn a_tar_that_is_not_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("notes.tar");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(5);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "notes.txt", &b"hello"[..]).unwrap();
    fs::write(&path, b.into_inner().unwrap()).unwrap();
    expect_error(
        path.to_str().unwrap(),
        &[],
        &["notes.tar", "neither a docker-archive nor an OCI image"],
    );
}

#[test]
fn a_layer_blob_with_a_bad_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    copy_dir(&images_dir().join("debian-oci"), &layout);
    let layers = layout_layers(&layout);
    let top = layers.last().unwrap();
    let path = blob_path(&layout, top);
    let mut bytes = fs::read(&path).unwrap();
    // Flip a byte in the deflate stream's middle: the gzip container stays plausible
    // up to the point of the damage, so detection must come from the digest.
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    fs::write(&path, bytes).unwrap();
    let line = expect_error(layout.to_str().unwrap(), &["--no-cache"], &[&top[..19]]);
    assert!(
        line.contains("digest") || line.contains("corrupt") || line.contains("invalid"),
        "{line}"
    );
}

#[test]
fn a_manifest_pointing_to_a_missing_blob() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    copy_dir(&images_dir().join("debian-oci"), &layout);
    let layers = layout_layers(&layout);
    fs::remove_file(blob_path(&layout, &layers[0])).unwrap();
    expect_error(
        layout.to_str().unwrap(),
        &[],
        &[&layers[0][..19], "missing"],
    );
}

#[test]
fn a_corrupt_package_database() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    write_small_layout(
        &layout,
        &[
            ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
            (
                "var/lib/dpkg/status",
                b"\x00\x01 this is not a control file\n\x7fELF\n",
            ),
        ],
    );
    for engine in ["wasm", "native"] {
        expect_error(
            layout.to_str().unwrap(),
            &["--engine", engine],
            &["var/lib/dpkg/status", "corrupt"],
        );
    }
}

#[test]
fn sandbox_limits_end_the_scan_with_a_clear_error() {
    let image = images_dir().join("debian.oci.tar");
    let image = image.to_str().unwrap();
    expect_error(
        image,
        &["--no-cache", "--core-memory-limit", "1"],
        &["memory limit"],
    );
    expect_error(
        image,
        &["--no-cache", "--core-timeout", "0.000001"],
        &["time limit"],
    );
}

#[test]
fn unknown_and_unavailable_scanners_are_refused() {
    let image = images_dir().join("debian.oci.tar");
    expect_error(
        image.to_str().unwrap(),
        &["--scanners", "nonsense"],
        &["unknown scanner `nonsense`"],
    );
    expect_error(
        image.to_str().unwrap(),
        &["--scanners", "secret"],
        &["scanner `secret` is not available"],
    );
}

#[test]
fn rescans_use_the_layer_cache_and_give_the_same_report() {
    let image = images_dir().join("debian.oci.tar");
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let scan = |name: &str| {
        let path = out.path().join(name);
        let run = customs(
            &[
                "scan",
                "--image",
                image.to_str().unwrap(),
                "--scanners",
                "none",
                "--format",
                "json",
                "--progress",
                "lines",
                "-o",
                path.to_str().unwrap(),
            ],
            cache.path(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        (fs::read_to_string(path).unwrap(), run.stderr)
    };
    let (cold, cold_log) = scan("cold.json");
    let (warm, warm_log) = scan("warm.json");
    assert_eq!(cold, warm, "a cached re-scan must give the same report");
    assert!(!cold_log.contains(": cached"), "{cold_log}");
    assert_eq!(
        warm_log.matches(": cached").count(),
        2,
        "both layers come from the cache: {warm_log}"
    );
    assert!(!warm_log.contains("entries analyzed"), "{warm_log}");

    let stats = customs(&["cache", "stats"], cache.path());
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert!(
        stats.stdout.contains("analyzed layers: 2"),
        "{}",
        stats.stdout
    );
    let clean = customs(&["cache", "clean"], cache.path());
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let stats = customs(&["cache", "stats"], cache.path());
    assert!(
        stats.stdout.contains("analyzed layers: 0"),
        "{}",
        stats.stdout
    );
}

#[test]
fn table_output_names_the_image_os_and_packages() {
    let image = images_dir().join("debian.docker.tar");
    let cache = tempfile::tempdir().unwrap();
    let run = customs(
        &[
            "scan",
            "--image",
            image.to_str().unwrap(),
            "--scanners",
            "none",
            "--quiet",
        ],
        cache.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.is_empty(),
        "--quiet prints nothing but the report: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains("Source:    docker-archive"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("OS:        debian 12."),
        "{}",
        run.stdout
    );
    let header = run
        .stdout
        .lines()
        .find(|l| l.starts_with("PACKAGE"))
        .expect("package table");
    assert!(
        header.contains("VERSION") && header.contains("LAYER"),
        "{header}"
    );
    assert!(
        run.stdout.lines().any(|l| l.starts_with("libc6 ")),
        "{}",
        run.stdout
    );
}

/// CI jobs often share one cache directory: concurrent scans must all succeed, agree,
/// and leave a cache that later scans can use.
#[test]
fn concurrent_scans_share_one_cache_directory() {
    let image = images_dir().join("debian-whiteout.oci.tar");
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let reports: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (image, cache, out) = (&image, cache.path(), out.path());
                s.spawn(move || {
                    let path = out.join(format!("r{i}.json"));
                    let run = customs(
                        &[
                            "scan",
                            "--image",
                            image.to_str().unwrap(),
                            "--scanners",
                            "none",
                            "--format",
                            "json",
                            "-q",
                            "-o",
                            path.to_str().unwrap(),
                        ],
                        cache,
                    );
                    assert_eq!(run.code, 0, "scan {i}: {}", run.stderr);
                    fs::read_to_string(path).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        reports.windows(2).all(|w| w[0] == w[1]),
        "concurrent scans disagree"
    );
    let stats = customs(&["cache", "stats"], cache.path());
    assert!(
        stats.stdout.contains("analyzed layers: 3"),
        "{}",
        stats.stdout
    );
    let run = customs(
        &[
            "scan",
            "--image",
            image.to_str().unwrap(),
            "--scanners",
            "none",
            "--format",
            "json",
            "-q",
        ],
        cache.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, reports[0]);
}

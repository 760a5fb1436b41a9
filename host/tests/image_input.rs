//! Image input: every local format, selection, verification and hostile inputs.
//!
//! The images are built here, in the test, with the `tar`, `flate2`, `zstd` and
//! `sha2` crates, so each format quirk (skopeo's symlinked `<id>/layer.tar`, Docker 25
//! exports, zstd layers, nested indexes) is exercised without external tools. A last
//! test reads the real debootstrap-based images of `scripts/build-test-images.sh`
//! when they exist.
use customs::image::{self, ImageError, Platform};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

mod build {
    //! Writers for the image formats.
    use super::*;

    /// A file tree: name → content (or symlink target).
    #[derive(Clone, Default)]
    pub struct Files(pub BTreeMap<String, Node>);

    #[derive(Clone)]
    pub enum Node {
        File(Vec<u8>),
        Symlink(String),
    }

    impl Files {
        pub fn put(&mut self, name: &str, data: impl Into<Vec<u8>>) {
            self.0.insert(name.to_string(), Node::File(data.into()));
        }
        pub fn link(&mut self, name: &str, target: &str) {
            self.0
                .insert(name.to_string(), Node::Symlink(target.to_string()));
        }
        pub fn get(&self, name: &str) -> Vec<u8> {
            match &self.0[name] {
                Node::File(d) => d.clone(),
                Node::Symlink(_) => panic!("{name} is a symlink"),
            }
        }
        pub fn to_tar(&self) -> Vec<u8> {
            let mut b = tar::Builder::new(Vec::new());
            for (name, node) in &self.0 {
                let mut h = tar::Header::new_gnu();
                h.set_mode(0o644);
                h.set_mtime(1_700_000_000);
                match node {
                    Node::File(d) => {
                        h.set_entry_type(tar::EntryType::Regular);
                        h.set_size(d.len() as u64);
                        b.append_data(&mut h, name, d.as_slice()).unwrap();
                    }
                    Node::Symlink(t) => {
                        h.set_entry_type(tar::EntryType::Symlink);
                        h.set_size(0);
                        b.append_link(&mut h, name, t).unwrap();
                    }
                }
            }
            b.into_inner().unwrap()
        }
        pub fn write_dir(&self, dir: &Path) {
            for (name, node) in &self.0 {
                let p = dir.join(name);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                match node {
                    Node::File(d) => std::fs::write(&p, d).unwrap(),
                    Node::Symlink(t) => std::os::unix::fs::symlink(t, &p).unwrap(),
                }
            }
        }
    }

    pub fn sha256(data: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(data)))
    }

    pub fn hex_of(digest: &str) -> &str {
        digest.strip_prefix("sha256:").unwrap()
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Comp {
        None,
        Gzip,
        Zstd,
    }

    impl Comp {
        pub fn compress(self, raw: &[u8]) -> Vec<u8> {
            match self {
                Comp::None => raw.to_vec(),
                Comp::Gzip => {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(raw).unwrap();
                    e.finish().unwrap()
                }
                Comp::Zstd => zstd::encode_all(raw, 3).unwrap(),
            }
        }
        pub fn media_type(self) -> &'static str {
            match self {
                Comp::None => "application/vnd.oci.image.layer.v1.tar",
                Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
                Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            }
        }
        pub fn name(self) -> &'static str {
            match self {
                Comp::None => "none",
                Comp::Gzip => "gzip",
                Comp::Zstd => "zstd",
            }
        }
    }

    /// A test image: uncompressed layer tars and the config.
    #[derive(Clone)]
    pub struct Img {
        pub layers: Vec<Vec<u8>>,
        pub diff_ids: Vec<String>,
        pub config: Vec<u8>,
        pub config_digest: String,
    }

    /// Builds a 3-layer image whose content depends on `seed`.
    pub fn image(seed: &str, arch: &str, variant: Option<&str>) -> Img {
        let mut layers = Vec::new();
        for (i, files) in [
            vec![
                ("etc/os-release", format!("ID=test\nSEED={seed}\n")),
                ("etc/passwd", "root:x:0:0::/root:/bin/sh\n".to_string()),
            ],
            vec![(
                "usr/bin/hello",
                format!("#!/bin/sh\necho {seed}\n").repeat(200),
            )],
            vec![
                ("etc/.wh.passwd", String::new()),
                ("srv/data", seed.repeat(3000)),
            ],
        ]
        .into_iter()
        .enumerate()
        {
            let mut f = Files::default();
            for (n, c) in files {
                f.put(n, c);
            }
            f.put(&format!("layer{i}"), seed);
            layers.push(f.to_tar());
        }
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
        let mut cfg = json!({
            "architecture": arch,
            "os": "linux",
            "config": {"User": "1001", "Env": ["PATH=/usr/bin", format!("SEED={seed}")]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [
                {"created_by": "ADD base /"},
                {"created_by": "ENV SEED", "empty_layer": true},
                {"created_by": "RUN hello"},
                {"created_by": "RUN data"}
            ]
        });
        if let Some(v) = variant {
            cfg["variant"] = json!(v);
        }
        let config = serde_json::to_vec(&cfg).unwrap();
        let config_digest = sha256(&config);
        Img {
            layers,
            diff_ids,
            config,
            config_digest,
        }
    }

    /// An OCI layout under construction.
    #[derive(Default)]
    pub struct Oci {
        pub files: Files,
        pub index: Vec<Value>,
    }

    pub fn descriptor(media_type: &str, data: &[u8]) -> Value {
        json!({"mediaType": media_type, "digest": sha256(data), "size": data.len()})
    }

    impl Oci {
        pub fn blob(&mut self, data: &[u8]) -> String {
            let d = sha256(data);
            self.files
                .put(&format!("blobs/sha256/{}", hex_of(&d)), data.to_vec());
            d
        }

        /// Adds the image's blobs and manifest; returns the manifest descriptor.
        pub fn image(&mut self, img: &Img, comps: &[Comp]) -> Value {
            self.blob(&img.config);
            let layers: Vec<Value> = img
                .layers
                .iter()
                .zip(comps.iter().cycle())
                .map(|(raw, c)| {
                    let blob = c.compress(raw);
                    self.blob(&blob);
                    descriptor(c.media_type(), &blob)
                })
                .collect();
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": descriptor("application/vnd.oci.image.config.v1+json", &img.config),
                "layers": layers,
            });
            self.manifest(&manifest)
        }

        /// Stores a manifest document; returns its descriptor.
        pub fn manifest(&mut self, manifest: &Value) -> Value {
            let bytes = serde_json::to_vec(manifest).unwrap();
            self.blob(&bytes);
            descriptor("application/vnd.oci.image.manifest.v1+json", &bytes)
        }

        /// Stores a nested index over `entries`; returns its descriptor.
        pub fn nested_index(&mut self, entries: Vec<Value>) -> Value {
            let idx = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": entries,
            });
            let bytes = serde_json::to_vec(&idx).unwrap();
            self.blob(&bytes);
            descriptor("application/vnd.oci.image.index.v1+json", &bytes)
        }

        pub fn finish(mut self) -> Files {
            self.files
                .put("oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#);
            let index = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": self.index,
            });
            self.files
                .put("index.json", serde_json::to_vec(&index).unwrap());
            self.files
        }
    }

    pub fn with_ref(mut desc: Value, name: &str) -> Value {
        desc["annotations"] = json!({"org.opencontainers.image.ref.name": name});
        desc
    }

    pub fn with_platform(mut desc: Value, arch: &str, variant: Option<&str>) -> Value {
        desc["platform"] = json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            desc["platform"]["variant"] = json!(v);
        }
        desc
    }

    /// A single-image OCI layout with the given layer compressions.
    pub fn oci_single(img: &Img, comps: &[Comp], ref_name: Option<&str>) -> Files {
        let mut oci = Oci::default();
        let d = oci.image(img, comps);
        oci.index.push(match ref_name {
            Some(n) => with_ref(d, n),
            None => d,
        });
        oci.finish()
    }

    /// A docker-archive in the layout of `docker save` up to Docker 24: regular
    /// `<id>/layer.tar` files; with `symlinked`, skopeo's variant: `<hex>.tar` blobs and
    /// `<id>/layer.tar` symlinks to them.
    pub fn docker_legacy(images: &[(&Img, &[&str])], symlinked: bool) -> Files {
        let mut f = Files::default();
        let mut manifest = Vec::new();
        for (img, tags) in images {
            let cfg_name = format!("{}.json", hex_of(&img.config_digest));
            f.put(&cfg_name, img.config.clone());
            let mut layer_paths = Vec::new();
            for (i, raw) in img.layers.iter().enumerate() {
                // A v1-style layer ID: a hash of something other than the content.
                let id = hex::encode(Sha256::digest(format!("{}-{i}", img.config_digest)));
                let path = format!("{id}/layer.tar");
                if symlinked {
                    let blob = format!("{}.tar", hex_of(&sha256(raw)));
                    f.put(&blob, raw.clone());
                    f.link(&path, &format!("../{blob}"));
                } else {
                    f.put(&path, raw.clone());
                }
                f.put(&format!("{id}/VERSION"), "1.0");
                layer_paths.push(path);
            }
            manifest.push(json!({"Config": cfg_name, "RepoTags": tags, "Layers": layer_paths}));
        }
        f.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
        f
    }

    /// What `docker save` writes from Docker 25 on (and containerd's export): an OCI
    /// layout with uncompressed layers plus a `manifest.json` pointing into `blobs/`.
    pub fn docker25(img: &Img, tag: &str) -> Files {
        let mut oci = Oci::default();
        let d = oci.image(img, &[Comp::None]);
        let mut desc = d.clone();
        desc["annotations"] = json!({
            "io.containerd.image.name": format!("docker.io/library/{tag}"),
            "org.opencontainers.image.ref.name": tag.rsplit(':').next().unwrap(),
        });
        oci.index.push(desc);
        let layers: Vec<String> = img
            .layers
            .iter()
            .map(|l| format!("blobs/sha256/{}", hex_of(&sha256(l))))
            .collect();
        let manifest = json!([{
            "Config": format!("blobs/sha256/{}", hex_of(&img.config_digest)),
            "RepoTags": [tag],
            "Layers": layers,
        }]);
        let mut files = oci.finish();
        files.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
        files
    }
}

use build::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write_tar(dir: &Path, name: &str, files: &Files) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, files.to_tar()).unwrap();
    p
}

fn write_layout(dir: &Path, name: &str, files: &Files) -> PathBuf {
    let p = dir.join(name);
    files.write_dir(&p);
    p
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Reads every layer (decompressed) and verifies it.
fn read_layers(img: &image::Image) -> Vec<Vec<u8>> {
    (0..img.layer_count())
        .map(|i| {
            let mut r = img.open_layer(i).unwrap();
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            let progress = r.progress_counter();
            r.finish().unwrap();
            assert_eq!(
                progress.load(std::sync::atomic::Ordering::Relaxed),
                img.meta.layers[i].size,
                "progress counts every stored byte"
            );
            out
        })
        .collect()
}

fn err_of(r: Result<image::Image, ImageError>) -> ImageError {
    match r {
        Ok(img) => panic!("expected an error, opened {:?}", img.meta),
        Err(e) => e,
    }
}

/// Reads a layer to the end and calls finish; returns the first error as text.
fn stream_error(img: &image::Image, index: usize) -> String {
    let mut r = img.open_layer(index).unwrap();
    let mut sink = Vec::new();
    let read = r.read_to_end(&mut sink);
    let finish = r.finish();
    let finish_msg = finish.expect_err("finish must fail").to_string();
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
    }
    finish_msg
}

#[test]
fn every_format_yields_the_same_layers() {
    let dir = tmp();
    let img = image("one", "amd64", None);
    let mut cases: Vec<(String, &str, Vec<&str>)> = Vec::new();

    let legacy = write_tar(
        dir.path(),
        "legacy.tar",
        &docker_legacy(&[(&img, &["test/one:1"])], false),
    );
    cases.push((s(&legacy), "docker-archive", vec!["none"; 3]));
    let skopeo = write_tar(
        dir.path(),
        "skopeo.tar",
        &docker_legacy(&[(&img, &["test/one:1"])], true),
    );
    cases.push((s(&skopeo), "docker-archive", vec!["none"; 3]));
    let d25 = write_tar(dir.path(), "d25.tar", &docker25(&img, "one:1"));
    cases.push((s(&d25), "docker-archive", vec!["none"; 3]));
    let extracted = write_layout(
        dir.path(),
        "extracted",
        &docker_legacy(&[(&img, &["test/one:1"])], false),
    );
    cases.push((s(&extracted), "docker-directory", vec!["none"; 3]));
    for comps in [
        vec![Comp::Gzip],
        vec![Comp::Zstd],
        vec![Comp::None],
        vec![Comp::Gzip, Comp::Zstd, Comp::None],
    ] {
        let tag = comps.iter().map(|c| c.name()).collect::<Vec<_>>().join("-");
        let files = oci_single(&img, &comps, Some("latest"));
        let names: Vec<&str> = comps.iter().cycle().take(3).map(|c| c.name()).collect();
        let archive = write_tar(dir.path(), &format!("{tag}.oci.tar"), &files);
        cases.push((s(&archive), "oci-archive", names.clone()));
        let layout = write_layout(dir.path(), &format!("{tag}-oci"), &files);
        cases.push((s(&layout), "oci-layout", names));
    }

    for (reference, source, compressions) in &cases {
        let opened = image::open(reference, None).unwrap_or_else(|e| panic!("{reference}: {e}"));
        let m = &opened.meta;
        assert_eq!(&m.reference, reference);
        assert_eq!(m.source, *source, "{reference}");
        assert_eq!(m.config_digest, img.config_digest, "{reference}");
        assert_eq!(m.platform, "linux/amd64");
        let diff_ids: Vec<&str> = m.layers.iter().map(|l| l.diff_id.as_str()).collect();
        assert_eq!(diff_ids, img.diff_ids, "{reference}");
        let comp: Vec<&str> = m.layers.iter().map(|l| l.compression.as_str()).collect();
        assert_eq!(&comp, compressions, "{reference}");
        let created: Vec<Option<&str>> = m.layers.iter().map(|l| l.created_by.as_deref()).collect();
        assert_eq!(
            created,
            [Some("ADD base /"), Some("RUN hello"), Some("RUN data")]
        );
        assert_eq!(opened.config["config"]["User"], "1001");
        assert_eq!(read_layers(&opened), img.layers, "{reference}");
        match *source {
            "oci-archive" | "oci-layout" => {
                assert!(m.manifest_digest.is_some(), "{reference}");
                assert!(m.layers.iter().all(|l| l.digest.is_some()));
                assert_eq!(m.tags, ["latest"]);
            }
            _ => {
                assert_eq!(m.manifest_digest, None, "{reference}");
                assert_eq!(m.tags.len(), 1, "{reference}");
            }
        }
    }
    // Layer digests: the legacy format names layers by ID, so none is known; skopeo's
    // symlinks lead to digest-named blobs; Docker 25 stores them under blobs/.
    let legacy = image::open(&s(&legacy), None).unwrap();
    assert!(legacy.meta.layers.iter().all(|l| l.digest.is_none()));
    for p in [&skopeo, &d25] {
        let m = image::open(&s(p), None).unwrap().meta;
        let digests: Vec<&str> = m
            .layers
            .iter()
            .map(|l| l.digest.as_deref().unwrap())
            .collect();
        assert_eq!(
            digests, img.diff_ids,
            "uncompressed blobs: digest = diff_id"
        );
    }
}

#[test]
fn layers_stream_concurrently() {
    let dir = tmp();
    let img = image("par", "amd64", None);
    let p = write_tar(
        dir.path(),
        "par.oci.tar",
        &oci_single(&img, &[Comp::Gzip, Comp::Zstd], None),
    );
    let opened = image::open(&s(&p), None).unwrap();
    let results: Vec<Vec<u8>> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..opened.layer_count())
            .map(|i| {
                let opened = &opened;
                sc.spawn(move || {
                    let mut r = opened.open_layer(i).unwrap();
                    // A tar reader stops at the end-of-archive marker; finish drains.
                    let mut head = vec![0u8; 512];
                    r.read_exact(&mut head).unwrap();
                    r.finish().unwrap();
                    head
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, head) in results.iter().enumerate() {
        assert_eq!(head[..], img.layers[i][..512]);
    }
    assert!(matches!(
        opened.open_layer(3),
        Err(ImageError::LayerIndex { .. })
    ));
}

#[test]
fn selection_by_tag_digest_and_platform() {
    let dir = tmp();
    let a = image("a", "amd64", None);
    let b = image("b", "amd64", None);

    // Multi-image docker-archive.
    let multi = write_tar(
        dir.path(),
        "multi.tar",
        &docker_legacy(
            &[(&a, &["repo/a:1", "repo/a:latest"]), (&b, &["b:2"])],
            true,
        ),
    );
    let e = err_of(image::open(&s(&multi), None));
    assert!(matches!(e, ImageError::SeveralImages { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("repo/a:1") && msg.contains("b:2") && msg.contains("multi.tar"),
        "{msg}"
    );
    let got = image::open(&format!("{}:repo/a:1", s(&multi)), None).unwrap();
    assert_eq!(got.meta.config_digest, a.config_digest);
    assert_eq!(got.meta.tags, ["repo/a:1", "repo/a:latest"]);
    let got = image::open(&format!("{}:docker.io/library/b:2", s(&multi)), None).unwrap();
    assert_eq!(got.meta.config_digest, b.config_digest);
    let got = image::open(&format!("{}@{}", s(&multi), b.config_digest), None).unwrap();
    assert_eq!(got.meta.config_digest, b.config_digest);
    let e = err_of(image::open(&format!("{}:nope:1", s(&multi)), None));
    assert!(matches!(e, ImageError::NoSuchImage { .. }), "{e}");
    assert!(e.to_string().contains("b:2"), "{e}");

    // Multi-image OCI layout with ref names (full and tag-only).
    let mut oci = Oci::default();
    let da = oci.image(&a, &[Comp::Gzip]);
    let db = oci.image(&b, &[Comp::Zstd]);
    oci.index.push(with_ref(da.clone(), "example.com/a:1.0"));
    oci.index.push(with_ref(db.clone(), "2.0"));
    let files = oci.finish();
    let layout = write_layout(dir.path(), "multi-oci", &files);
    let archive = write_tar(dir.path(), "multi.oci.tar", &files);
    for base in [s(&layout), s(&archive)] {
        let e = err_of(image::open(&base, None));
        assert!(e.to_string().contains("example.com/a:1.0"), "{e}");
        let got = image::open(&format!("{base}:example.com/a:1.0"), None).unwrap();
        assert_eq!(got.meta.config_digest, a.config_digest);
        assert_eq!(got.meta.manifest_digest.as_deref(), da["digest"].as_str());
        let got = image::open(&format!("{base}:b:2.0"), None).unwrap();
        assert_eq!(got.meta.config_digest, b.config_digest);
        let got = image::open(&format!("{base}:2.0"), None).unwrap();
        assert_eq!(got.meta.config_digest, b.config_digest);
        let got = image::open(&format!("{base}@{}", db["digest"].as_str().unwrap()), None).unwrap();
        assert_eq!(got.meta.config_digest, b.config_digest);
    }

    // A multi-platform image behind a nested index, tagged once.
    let amd = image("p", "amd64", None);
    let arm = image("p", "arm64", Some("v8"));
    let mut oci = Oci::default();
    let d_amd = oci.image(&amd, &[Comp::Gzip]);
    let d_arm = oci.image(&arm, &[Comp::Gzip]);
    let nested = oci.nested_index(vec![
        with_platform(d_amd.clone(), "amd64", None),
        with_platform(d_arm.clone(), "arm64", Some("v8")),
    ]);
    oci.index.push(with_ref(nested.clone(), "latest"));
    let layout = write_layout(dir.path(), "platforms-oci", &oci.finish());
    let base = s(&layout);
    let arm64: Platform = "linux/arm64".parse().unwrap();
    let got = image::open(&base, Some(&arm64)).unwrap();
    assert_eq!(got.meta.platform, "linux/arm64/v8");
    assert_eq!(
        got.meta
            .layers
            .iter()
            .map(|l| l.diff_id.clone())
            .collect::<Vec<_>>(),
        arm.diff_ids
    );
    assert_eq!(read_layers(&got), arm.layers);
    let amd64: Platform = "linux/amd64".parse().unwrap();
    let got = image::open(&format!("{base}:latest"), Some(&amd64)).unwrap();
    assert_eq!(got.meta.config_digest, amd.config_digest);
    assert_eq!(
        got.meta.manifest_digest.as_deref(),
        d_amd["digest"].as_str()
    );
    // The index digest selects the index; the platform picks inside it.
    let got = image::open(
        &format!("{base}@{}", nested["digest"].as_str().unwrap()),
        Some(&arm64),
    )
    .unwrap();
    assert_eq!(got.meta.config_digest, arm.config_digest);
    // Default: the host's platform.
    let host = Platform::host();
    match image::open(&base, None) {
        Ok(got) if host.architecture == "amd64" => {
            assert_eq!(got.meta.config_digest, amd.config_digest)
        }
        Ok(got) if host.architecture == "arm64" => {
            assert_eq!(got.meta.config_digest, arm.config_digest)
        }
        Ok(got) => panic!("host {host} got {}", got.meta.platform),
        Err(e) => assert!(matches!(e, ImageError::NoPlatform { .. }), "{e}"),
    }
    let s390: Platform = "linux/s390x".parse().unwrap();
    let e = err_of(image::open(&base, Some(&s390)));
    let msg = e.to_string();
    assert!(matches!(e, ImageError::NoPlatform { .. }), "{msg}");
    assert!(
        msg.contains("linux/amd64")
            && msg.contains("linux/arm64/v8")
            && msg.contains("linux/s390x"),
        "{msg}"
    );

    // Flat index: two platform manifests directly in index.json, no names.
    let mut oci = Oci::default();
    let d_amd = oci.image(&amd, &[Comp::None]);
    let d_arm = oci.image(&arm, &[Comp::None]);
    oci.index.push(with_platform(d_amd, "amd64", None));
    oci.index.push(with_platform(d_arm, "arm64", Some("v8")));
    let p = write_tar(dir.path(), "flat.oci.tar", &oci.finish());
    let got = image::open(&s(&p), Some(&arm64)).unwrap();
    assert_eq!(got.meta.config_digest, arm.config_digest);

    // A single-platform docker-archive refuses an explicitly different platform.
    let single = write_tar(
        dir.path(),
        "single.tar",
        &docker_legacy(&[(&a, &["a:1"])], false),
    );
    let e = err_of(image::open(&s(&single), Some(&arm64)));
    assert!(matches!(e, ImageError::NoPlatform { .. }), "{e}");
    assert!(image::open(&s(&single), Some(&amd64)).is_ok());

    // Paths containing ':' are taken whole when they exist.
    let colon = write_tar(
        dir.path(),
        "we:ird.tar",
        &docker_legacy(&[(&a, &["a:1"])], false),
    );
    assert_eq!(
        image::open(&s(&colon), None).unwrap().meta.config_digest,
        a.config_digest
    );
    assert!(image::open(&format!("{}:a:1", s(&colon)), None).is_ok());
}

#[test]
fn input_errors_name_the_file() {
    let dir = tmp();
    let img = image("err", "amd64", None);

    // Missing file.
    let missing = dir.path().join("nope.tar");
    let e = err_of(image::open(&s(&missing), None));
    assert!(matches!(e, ImageError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("nope.tar"), "{e}");

    // A tar that is not an image.
    let mut f = Files::default();
    f.put("hello.txt", "hi");
    let p = write_tar(dir.path(), "plain.tar", &f);
    let e = err_of(image::open(&s(&p), None));
    assert_eq!(
        e.to_string(),
        format!(
            "{} is neither a docker-archive nor an OCI image: no manifest.json or index.json",
            s(&p)
        )
    );
    // A directory that is not an image, a file that is not a tar, a compressed tar.
    let e = err_of(image::open(&s(dir.path()), None));
    assert!(matches!(e, ImageError::NotAnImage { .. }), "{e}");
    let p = dir.path().join("junk.bin");
    std::fs::write(&p, vec![7u8; 2000]).unwrap();
    let e = err_of(image::open(&s(&p), None));
    assert!(
        matches!(e, ImageError::NotATar { .. }) && e.to_string().contains("junk.bin"),
        "{e}"
    );
    let p = dir.path().join("img.tar.gz");
    std::fs::write(
        &p,
        Comp::Gzip.compress(&docker_legacy(&[(&img, &["a:1"])], false).to_tar()),
    )
    .unwrap();
    let e = err_of(image::open(&s(&p), None));
    assert!(matches!(e, ImageError::CompressedArchive { .. }), "{e}");

    // Truncated archive: cut inside the last layer's data.
    let full = docker_legacy(&[(&img, &["a:1"])], false).to_tar();
    let p = dir.path().join("cut.tar");
    std::fs::write(&p, &full[..full.len() - 3000]).unwrap();
    let e = err_of(image::open(&s(&p), None));
    assert!(matches!(e, ImageError::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("cut.tar"), "{e}");
    // Cut inside a header.
    let p = dir.path().join("cut2.tar");
    std::fs::write(&p, &full[..1024 + 100]).unwrap();
    let e = err_of(image::open(&s(&p), None));
    assert!(e.to_string().contains("cut2.tar"), "{e}");

    // JSON syntax errors name the file.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    files.put("index.json", "{\"manifests\": [");
    let p = write_tar(dir.path(), "badjson.oci.tar", &files);
    let e = err_of(image::open(&s(&p), None));
    assert!(matches!(e, ImageError::Json { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("badjson.oci.tar:index.json: invalid JSON"),
        "{e}"
    );
    let mut files = docker_legacy(&[(&img, &["a:1"])], false);
    files.put("manifest.json", "[{\"Config\": 3}]");
    let p = write_tar(dir.path(), "badmanifest.tar", &files);
    let e = err_of(image::open(&s(&p), None));
    assert!(
        e.to_string()
            .contains("badmanifest.tar:manifest.json: invalid JSON"),
        "{e}"
    );

    // Config digest mismatch (docker-archive): the config no longer hashes to its name.
    let mut files = docker_legacy(&[(&img, &["a:1"])], false);
    let cfg_name = format!("{}.json", hex_of(&img.config_digest));
    let mut cfg = files.get(&cfg_name);
    cfg.push(b' ');
    files.put(&cfg_name, cfg);
    let p = write_tar(dir.path(), "badcfg.tar", &files);
    let e = err_of(image::open(&s(&p), None));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("blob {} in ", img.config_digest)),
        "{msg}"
    );
    assert!(
        msg.contains("badcfg.tar") && msg.contains(": digest mismatch, got sha256:"),
        "{msg}"
    );

    // OCI config blob tampered (same size): digest mismatch naming the blob.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let name = format!("blobs/sha256/{}", hex_of(&img.config_digest));
    let mut cfg = files.get(&name);
    cfg[0] = b' ';
    files.put(&name, cfg);
    let layout = write_layout(dir.path(), "badcfg-oci", &files);
    let e = err_of(image::open(&s(&layout), None));
    assert!(matches!(e, ImageError::DigestMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&img.config_digest), "{e}");

    // Layer blob tampered (same size, still a valid tar): the layer stream fails
    // at the end and finish() names the blob.
    let mut files = oci_single(&img, &[Comp::None], None);
    let name = format!("blobs/sha256/{}", hex_of(&img.diff_ids[1]));
    let mut layer = files.get(&name);
    let pos = layer.len() / 2;
    layer[pos] ^= 0x20;
    files.put(&name, layer);
    for (what, path) in [
        ("dir", write_layout(dir.path(), "badlayer-oci", &files)),
        ("tar", write_tar(dir.path(), "badlayer.oci.tar", &files)),
    ] {
        let opened = image::open(&s(&path), None).unwrap();
        let msg = stream_error(&opened, 1);
        assert_eq!(
            msg.split(": digest mismatch, got sha256:").next().unwrap(),
            format!(
                "blob {} in {}",
                img.diff_ids[1],
                opened_blob_display(&path, &name, what)
            ),
            "{msg}"
        );
        // The io::Error of the Read names the blob too.
        let mut r = opened.open_layer(1).unwrap();
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(&img.diff_ids[1]), "{err}");
    }

    // Legacy docker layer tampered: no blob digest, the diffID catches it.
    let mut files = docker_legacy(&[(&img, &["a:1"])], false);
    let layer_name = files
        .0
        .keys()
        .filter(|k| k.ends_with("/layer.tar"))
        .find(|k| files.get(k) == img.layers[2])
        .unwrap()
        .clone();
    let mut layer = files.get(&layer_name);
    layer[600] ^= 1;
    files.put(&layer_name, layer);
    let p = write_tar(dir.path(), "badlegacy.tar", &files);
    let opened = image::open(&s(&p), None).unwrap();
    let msg = stream_error(&opened, 2);
    assert!(
        msg.contains(&layer_name)
            && msg.contains(&img.diff_ids[2])
            && msg.contains("digest mismatch, got sha256:"),
        "{msg}"
    );

    // A gzip layer whose compressed bytes are corrupted: decompression fails, naming the blob.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let layer_desc = manifest_of(&files)["layers"][2].clone();
    let name = format!(
        "blobs/sha256/{}",
        hex_of(layer_desc["digest"].as_str().unwrap())
    );
    let mut blob = files.get(&name);
    let n = blob.len();
    for b in &mut blob[20..n - 20] {
        *b = !*b;
    }
    files.put(&name, blob);
    let p = write_tar(dir.path(), "badgzip.oci.tar", &files);
    let opened = image::open(&s(&p), None).unwrap();
    let msg = stream_error(&opened, 2);
    assert!(
        msg.contains(layer_desc["digest"].as_str().unwrap()),
        "{msg}"
    );

    // Truncated while streaming: the file shrinks after open().
    let files = oci_single(&img, &[Comp::Zstd], None);
    let layout = write_layout(dir.path(), "shrink-oci", &files);
    let opened = image::open(&s(&layout), None).unwrap();
    let d = opened.meta.layers[2].digest.clone().unwrap();
    let blob_path = layout.join("blobs/sha256").join(&d[7..]);
    let len = std::fs::metadata(&blob_path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&blob_path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let mut r = opened.open_layer(2).unwrap();
    let err = r.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let msg = err.to_string();
    assert!(msg.contains(&d) && msg.contains("truncated"), "{msg}");
    assert!(r.finish().unwrap_err().to_string().contains(&d));

    // Manifest pointing to a missing blob.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let layer_digest = manifest_of(&files)["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    files
        .0
        .remove(&format!("blobs/sha256/{}", hex_of(&layer_digest)));
    let p = write_tar(dir.path(), "missing.oci.tar", &files);
    let e = err_of(image::open(&s(&p), None));
    assert!(matches!(e, ImageError::MissingBlob { .. }), "{e}");
    assert!(
        e.to_string().contains(&layer_digest) && e.to_string().contains("missing.oci.tar"),
        "{e}"
    );
    let mut files = docker_legacy(&[(&img, &["a:1"])], true);
    let blob = format!("{}.tar", hex_of(&img.diff_ids[0]));
    files.0.remove(&blob);
    let p = write_tar(dir.path(), "dangling.tar", &files);
    let e = err_of(image::open(&s(&p), None));
    assert!(
        matches!(e, ImageError::MissingBlob { .. }) && e.to_string().contains("Layers[0]"),
        "{e}"
    );

    // Layer size differs from the descriptor.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let mut m = manifest_of(&files);
    m["layers"][1]["size"] = json!(m["layers"][1]["size"].as_u64().unwrap() + 1);
    replace_manifest(&mut files, &m);
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "size.oci.tar", &files)),
        None,
    ));
    assert!(matches!(e, ImageError::SizeMismatch { .. }), "{e}");

    // diff_ids count != layers count.
    let mut short = img.clone();
    let mut cfg: Value = serde_json::from_slice(&img.config).unwrap();
    cfg["rootfs"]["diff_ids"].as_array_mut().unwrap().pop();
    short.config = serde_json::to_vec(&cfg).unwrap();
    short.config_digest = sha256(&short.config);
    for (name, files) in [
        ("count.oci.tar", oci_single(&short, &[Comp::Gzip], None)),
        ("count.tar", docker_legacy(&[(&short, &["a:1"])], false)),
    ] {
        let e = err_of(image::open(&s(&write_tar(dir.path(), name, &files)), None));
        assert!(matches!(e, ImageError::LayerCountMismatch { .. }), "{e}");
        assert!(
            e.to_string().contains("2 rootfs.diff_ids") && e.to_string().contains(name),
            "{e}"
        );
    }

    // Unsupported media types: an encrypted layer, an artifact config, a schema1 index entry.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let mut m = manifest_of(&files);
    m["layers"][0]["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
    replace_manifest(&mut files, &m);
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "enc.oci.tar", &files)),
        None,
    ));
    assert!(matches!(e, ImageError::UnsupportedMediaType { .. }), "{e}");
    assert!(e.to_string().contains("+encrypted"), "{e}");
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let mut m = manifest_of(&files);
    m["config"]["mediaType"] = json!("application/vnd.cncf.helm.config.v1+json");
    replace_manifest(&mut files, &m);
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "helm.oci.tar", &files)),
        None,
    ));
    assert!(e.to_string().contains("helm.config"), "{e}");
    let mut oci = Oci::default();
    oci.index.push(json!({
        "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "digest": sha256(b"x"), "size": 1
    }));
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "v1.oci.tar", &oci.finish())),
        None,
    ));
    assert!(
        matches!(e, ImageError::UnsupportedMediaType { .. })
            && e.to_string().contains("index.json"),
        "{e}"
    );

    // Media type and magic bytes disagree.
    let mut files = oci_single(&img, &[Comp::None], None);
    let mut m = manifest_of(&files);
    m["layers"][0]["mediaType"] = json!(Comp::Gzip.media_type());
    replace_manifest(&mut files, &m);
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "liar.oci.tar", &files)),
        None,
    ));
    assert!(e.to_string().contains("declares gzip"), "{e}");

    // Absurd sizes: a descriptor claiming a petabyte, a JSON above the limit.
    let mut files = oci_single(&img, &[Comp::Gzip], None);
    let mut m = manifest_of(&files);
    m["layers"][0]["size"] = json!(1u64 << 50);
    replace_manifest(&mut files, &m);
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "huge.oci.tar", &files)),
        None,
    ));
    assert!(matches!(e, ImageError::TooLarge { .. }), "{e}");
    let p = write_tar(
        dir.path(),
        "limits.tar",
        &docker_legacy(&[(&img, &["a:1"])], false),
    );
    let limits = image::Limits {
        max_json_size: 64,
        ..Default::default()
    };
    let e = image::open_with_limits(&s(&p), None, &limits).unwrap_err();
    assert!(
        matches!(e, ImageError::TooLarge { .. }) && e.to_string().contains("limits.tar"),
        "{e}"
    );
}

fn opened_blob_display(path: &Path, name: &str, what: &str) -> String {
    match what {
        "dir" => format!("{}/{name}", s(path)),
        _ => format!("{}:{name}", s(path)),
    }
}

/// The (single) image manifest of a layout under construction.
fn manifest_of(files: &Files) -> Value {
    let index: Value = serde_json::from_slice(&files.get("index.json")).unwrap();
    let d = index["manifests"][0]["digest"].as_str().unwrap();
    serde_json::from_slice(&files.get(&format!("blobs/sha256/{}", hex_of(d)))).unwrap()
}

/// Stores `manifest` and points index.json at it.
fn replace_manifest(files: &mut Files, manifest: &Value) {
    let bytes = serde_json::to_vec(manifest).unwrap();
    let d = sha256(&bytes);
    files.put(&format!("blobs/sha256/{}", hex_of(&d)), bytes.clone());
    let mut index: Value = serde_json::from_slice(&files.get("index.json")).unwrap();
    index["manifests"][0] = descriptor("application/vnd.oci.image.manifest.v1+json", &bytes);
    files.put("index.json", serde_json::to_vec(&index).unwrap());
}

/// Appends a tar entry with a raw name (bypassing the `tar` crate's own checks).
fn raw_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    data: &[u8],
    link: &str,
) {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn hostile_archives_and_layouts() {
    let dir = tmp();
    let img = image("evil", "amd64", None);

    // `..` and absolute names are ignored: they cannot provide manifest.json.
    let mut b = tar::Builder::new(Vec::new());
    let manifest = serde_json::to_vec(&json!([{"Config": "c.json", "Layers": []}])).unwrap();
    raw_entry(
        &mut b,
        "../manifest.json",
        tar::EntryType::Regular,
        &manifest,
        "",
    );
    raw_entry(&mut b, "/index.json", tar::EntryType::Regular, b"{}", "");
    raw_entry(
        &mut b,
        "a/../../manifest.json",
        tar::EntryType::Regular,
        &manifest,
        "",
    );
    let p = dir.path().join("dotdot.tar");
    std::fs::write(&p, b.into_inner().unwrap()).unwrap();
    let e = err_of(image::open(&s(&p), None));
    assert!(matches!(e, ImageError::NotAnImage { .. }), "{e}");

    // Link targets escaping the archive, and link loops.
    let base = docker_legacy(&[(&img, &["a:1"])], true);
    let layer0 = base
        .0
        .keys()
        .find(|k| k.ends_with("/layer.tar"))
        .unwrap()
        .clone();
    for (name, target, expect) in [
        ("escape.tar", "../../../etc/passwd", "outside the archive"),
        ("abs.tar", "/etc/passwd", ""),
        ("loop.tar", "../loopA", "too many levels of links"),
    ] {
        let mut f = base.clone();
        f.link(&layer0, target);
        f.link("loopA", "loopB");
        f.link("loopB", "loopA");
        let p = write_tar(dir.path(), name, &f);
        let e = err_of(image::open(&s(&p), None));
        assert!(e.to_string().contains(name), "{e}");
        assert!(e.to_string().contains(expect), "{e}");
    }
    // Hardlink to another entry resolves inside the archive.
    let mut b = tar::Builder::new(Vec::new());
    let mut f = docker_legacy(&[(&img, &["a:1"])], false);
    let target =
        f.0.keys()
            .find(|k| k.ends_with("/layer.tar"))
            .unwrap()
            .clone();
    let data = f.get(&target);
    f.0.remove(&target);
    raw_entry(&mut b, "store/blob", tar::EntryType::Regular, &data, "");
    raw_entry(&mut b, &target, tar::EntryType::Link, &[], "store/blob");
    for (n, node) in &f.0 {
        if let Node::File(d) = node {
            raw_entry(&mut b, n, tar::EntryType::Regular, d, "");
        }
    }
    let p = dir.path().join("hardlink.tar");
    std::fs::write(&p, b.into_inner().unwrap()).unwrap();
    let opened = image::open(&s(&p), None).unwrap();
    assert_eq!(read_layers(&opened), img.layers);

    // A tar header claiming far more data than the file holds.
    let mut b = tar::Builder::new(Vec::new());
    raw_entry(&mut b, "manifest.json", tar::EntryType::Regular, b"[]", "");
    let mut bytes = b.into_inner().unwrap();
    // Rewrite the size field (octal, offset 124) to 77777777777 (8 GiB) and fix the checksum.
    bytes[124..135].copy_from_slice(b"77777777777");
    let mut h = tar::Header::new_old();
    h.as_mut_bytes().copy_from_slice(&bytes[..512]);
    h.set_cksum();
    bytes[..512].copy_from_slice(h.as_bytes());
    let p = dir.path().join("claims.tar");
    std::fs::write(&p, &bytes).unwrap();
    let e = err_of(image::open(&s(&p), None));
    assert!(
        matches!(e, ImageError::Truncated { .. }) && e.to_string().contains("claims.tar"),
        "{e}"
    );

    // OCI layout directory: a blob symlinked outside the layout is refused, one
    // symlinked inside is fine.
    let files = oci_single(&img, &[Comp::Gzip], None);
    let layout = write_layout(dir.path(), "symlink-oci", &files);
    let outside = dir.path().join("outside-blob");
    let d = manifest_of(&files)["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = layout.join("blobs/sha256").join(hex_of(&d));
    std::fs::rename(&blob, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &blob).unwrap();
    let e = err_of(image::open(&s(&layout), None));
    assert!(matches!(e, ImageError::HostilePath { .. }), "{e}");
    assert!(e.to_string().contains("outside the image directory"), "{e}");
    std::fs::remove_file(&blob).unwrap();
    std::fs::rename(&outside, layout.join("moved")).unwrap();
    std::os::unix::fs::symlink("../../moved", &blob).unwrap();
    let opened = image::open(&s(&layout), None).unwrap();
    assert_eq!(read_layers(&opened), img.layers);
    // A symlink loop in the layout.
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink(hex_of(&d), &blob).unwrap();
    let e = err_of(image::open(&s(&layout), None));
    assert!(e.to_string().contains(hex_of(&d)), "{e}");

    // A self-referencing index is expanded once, not forever.
    let mut oci = Oci::default();
    let idx_doc = json!({"schemaVersion": 2, "manifests": []});
    let bytes = serde_json::to_vec(&idx_doc).unwrap();
    let d_self = oci.blob(&bytes);
    let self_desc = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d_self, "size": bytes.len()});
    let mut files = Oci::default();
    files.files = oci.files;
    files.index = vec![self_desc.clone(); 50];
    let e = err_of(image::open(
        &s(&write_tar(dir.path(), "selfidx.oci.tar", &files.finish())),
        None,
    ));
    assert!(e.to_string().contains("no image manifests"), "{e}");

    // Malformed digests in descriptors never become paths.
    let mut oci = Oci::default();
    oci.index.push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:../../../../etc/passwd", "size": 10
    }));
    let e = err_of(image::open(
        &s(&write_layout(dir.path(), "baddigest-oci", &oci.finish())),
        None,
    ));
    assert!(e.to_string().contains("invalid digest"), "{e}");
}

/// Real images from `scripts/build-test-images.sh`, when present.
#[test]
fn real_images_from_build_script() {
    let root = std::env::var_os("CUSTOMS_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images"));
    if !root.is_dir() {
        let msg = format!(
            "real_images_from_build_script: {} not found; run scripts/build-test-images.sh",
            root.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("skipping {msg}");
        return;
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            (p.is_dir() && (p.join("index.json").is_file() || p.join("manifest.json").is_file()))
                || p.extension().is_some_and(|e| e == "tar")
        })
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "no images in {}", root.display());
    // config digest → diff_ids, to check that every format of one image agrees.
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut opened_count = 0;
    for path in &entries {
        for platform in platforms_in(path) {
            let reference = s(path);
            let img = image::open(&reference, platform.as_ref())
                .unwrap_or_else(|e| panic!("{reference} ({platform:?}): {e}"));
            let m = &img.meta;
            assert!(!m.layers.is_empty(), "{reference}");
            assert!(
                m.platform.starts_with("linux/"),
                "{reference}: {}",
                m.platform
            );
            for i in 0..img.layer_count() {
                let mut r = img.open_layer(i).unwrap();
                // Walk the tar as the analyzer would, then verify.
                let mut ar = tar::Archive::new(&mut r);
                let mut n = 0usize;
                for entry in ar.entries().unwrap() {
                    let entry = entry.unwrap_or_else(|e| panic!("{reference} layer {i}: {e}"));
                    assert!(!entry.path_bytes().is_empty());
                    n += 1;
                }
                assert!(n > 0, "{reference} layer {i} is empty");
                r.finish()
                    .unwrap_or_else(|e| panic!("{reference} layer {i}: {e}"));
            }
            let diff_ids: Vec<String> = m.layers.iter().map(|l| l.diff_id.clone()).collect();
            if let Some(prev) = seen.insert(m.config_digest.clone(), diff_ids.clone()) {
                assert_eq!(prev, diff_ids, "{reference}: same config, different layers");
            }
            eprintln!(
                "real image {reference}: {} [{}], {} layers ({})",
                m.source,
                m.platform,
                m.layers.len(),
                m.layers
                    .iter()
                    .map(|l| l.compression.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            opened_count += 1;
        }
    }
    assert!(opened_count >= entries.len());
}

/// The platforms to open an image at: every platform of a multi-platform OCI layout
/// directory, else just the default.
fn platforms_in(path: &Path) -> Vec<Option<Platform>> {
    let mut out = Vec::new();
    if path.is_dir()
        && let Ok(bytes) = std::fs::read(path.join("index.json"))
    {
        let index: Value = serde_json::from_slice(&bytes).unwrap();
        let mut stack: Vec<Value> = index["manifests"].as_array().cloned().unwrap_or_default();
        while let Some(d) = stack.pop() {
            if let Some(p) = d.get("platform") {
                let mut plat = Platform {
                    os: p["os"].as_str().unwrap_or_default().to_string(),
                    architecture: p["architecture"].as_str().unwrap_or_default().to_string(),
                    variant: p["variant"].as_str().map(str::to_string),
                };
                if plat.os == "unknown" {
                    continue;
                }
                plat.variant = plat.variant.filter(|v| !v.is_empty());
                out.push(Some(plat));
            }
            if d["mediaType"] == "application/vnd.oci.image.index.v1+json" {
                let hex = d["digest"].as_str().unwrap().trim_start_matches("sha256:");
                let nested: Value = serde_json::from_slice(
                    &std::fs::read(path.join("blobs/sha256").join(hex)).unwrap(),
                )
                .unwrap();
                stack.extend(nested["manifests"].as_array().cloned().unwrap_or_default());
            }
        }
    }
    if out.is_empty() {
        out.push(None);
    }
    out
}

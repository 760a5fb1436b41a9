//! `customs-bench`: the benchmark's helper program (see `docs/benchmarks.md`).
//!
//! - `floor --image REF`: the least work any scanner must do on an image: decompress
//!   every layer and read every byte, with as many worker threads as the scan uses.
//!   It goes through the same image reader as `customs scan` (digest checks
//!   included), so `scan time / floor time` is what the analysis itself costs.
//! - `synth --base LAYOUT --out DIR`: writes a deterministic synthetic image of at
//!   least 1 GiB (uncompressed) as an OCI layout: the base image's first layer (a
//!   real Debian rootfs, so a scan has packages to find) plus several gzip layers of
//!   many files of mixed sizes and kinds, with whiteouts in the last one. The content
//!   is pseudo-random but seeded, and shaped to compress about like real images do
//!   (source text, executable-like data, already-compressed blobs), because an
//!   all-zero image would make decompression unrealistically cheap.
use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use flate2::{Compression, write::GzEncoder};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "customs-bench",
    version,
    about = "Benchmark helpers for Customs"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decompress and read every layer of an image (the lower bound of a scan).
    Floor {
        /// The image, as `customs scan --image` takes it.
        #[arg(long)]
        image: String,
        /// Worker threads (default: available parallelism, as the scan uses).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Write the synthetic benchmark image as an OCI layout.
    Synth {
        /// OCI layout with one image whose first layer becomes the base layer.
        #[arg(long)]
        base: PathBuf,
        /// Output directory (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Number of synthetic layers (on top of the base layer).
        #[arg(long, default_value_t = 4)]
        layers: usize,
        /// Total number of files across the synthetic layers.
        #[arg(long, default_value_t = 60_000)]
        files: usize,
        /// Minimum total uncompressed bytes of file content in the synthetic layers.
        #[arg(long, default_value_t = 1 << 30)]
        bytes: u64,
        /// Seed of the content generator; the same seed gives the same image.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Floor { image, threads } => floor(&image, threads),
        Cmd::Synth {
            base,
            out,
            layers,
            files,
            bytes,
            seed,
        } => synth(&SynthSpec {
            base,
            out,
            layers,
            files,
            bytes,
            seed,
        }),
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

// ---------------------------------------------------------------------------- floor

fn floor(reference: &str, threads: Option<usize>) -> Result<()> {
    let start = Instant::now();
    let image = customs::image::open(reference, None)
        .with_context(|| format!("opening image {reference}"))?;
    let count = image.layer_count();
    let workers = threads
        .unwrap_or_else(default_threads)
        .clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let total = AtomicU64::new(0);
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    let mut buf = vec![0u8; 256 * 1024];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(());
                        }
                        let mut layer = image
                            .open_layer(i)
                            .with_context(|| format!("opening layer {i}"))?;
                        loop {
                            let n = layer
                                .read(&mut buf)
                                .with_context(|| format!("reading layer {i}"))?;
                            if n == 0 {
                                break;
                            }
                            total.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        layer
                            .finish()
                            .with_context(|| format!("verifying layer {i}"))?;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow!("a floor worker panicked"))??;
        }
        Ok(())
    })?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = total.load(Ordering::Relaxed);
    println!(
        "floor: {count} layers, {bytes} bytes of tar, {workers} threads, {secs:.3} s ({:.0} MiB/s)",
        bytes as f64 / (1024.0 * 1024.0) / secs.max(1e-9)
    );
    Ok(())
}

// ---------------------------------------------------------------------------- synth

struct SynthSpec {
    base: PathBuf,
    out: PathBuf,
    layers: usize,
    files: usize,
    bytes: u64,
    seed: u64,
}

/// SplitMix64: tiny, fast, and good enough for test content. No dependency, and the
/// output is fixed by the algorithm, so a seed means the same image everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    /// A seed for an independent stream, so that each file's content does not depend
    /// on the order in which files are generated.
    fn derive(a: u64, b: u64) -> u64 {
        Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next()
    }
}

/// What a file's bytes look like, which decides how well it compresses.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Source code, configuration, documentation: ~3-4x under gzip.
    Text,
    /// Executable-like: literal runs, repeats, small integers: ~2x.
    Binary,
    /// Already compressed (images, archives): incompressible.
    Random,
}

const WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "return",
    "if",
    "else",
    "for",
    "while",
    "match",
    "struct",
    "impl",
    "pub",
    "use",
    "const",
    "static",
    "self",
    "def",
    "class",
    "import",
    "from",
    "function",
    "var",
    "export",
    "default",
    "async",
    "await",
    "true",
    "false",
    "null",
    "None",
    "int",
    "string",
    "value",
    "result",
    "error",
    "config",
    "buffer",
    "index",
    "count",
    "length",
    "request",
    "response",
    "handler",
    "client",
    "server",
    "path",
    "name",
    "version",
    "data",
    "items",
    "node",
    "parent",
    "child",
    "options",
    "module",
    "package",
    "test",
    "assert",
    "=",
    "==",
    "!=",
    "+=",
    "->",
    "=>",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    ",",
    ".",
    ":",
    "//",
    "#",
    "the",
    "of",
    "to",
    "and",
    "a",
    "in",
    "is",
    "it",
    "that",
    "this",
    "with",
    "License",
    "Copyright",
    "Apache",
    "MIT",
    "http",
    "https",
    "www",
    "example",
    "org",
];

const TEXT_EXT: &[&str] = &[
    "py", "js", "json", "txt", "html", "c", "h", "md", "yaml", "xml",
];
const BIN_EXT: &[&str] = &["so", "bin", "o", "pyc", "a", "dat"];
const RANDOM_EXT: &[&str] = &["png", "gz", "jpg", "woff2", "zip"];
const ROOTS: &[&str] = &["opt/app", "usr/share/app-data", "usr/lib/app", "srv/www"];

/// Streams the content of one file, generated block by block so that even the
/// largest file needs only one block of memory.
struct Content {
    kind: Kind,
    rng: Rng,
    remaining: u64,
    block: Vec<u8>,
    pos: usize,
}

const BLOCK: usize = 64 * 1024;

impl Content {
    fn new(kind: Kind, seed: u64, size: u64) -> Content {
        Content {
            kind,
            rng: Rng::new(seed),
            remaining: size,
            block: Vec::new(),
            pos: 0,
        }
    }

    fn refill(&mut self) {
        let len = usize::try_from(self.remaining).map_or(BLOCK, |r| r.min(BLOCK));
        let rng = &mut self.rng;
        let buf = &mut self.block;
        buf.clear();
        self.pos = 0;
        match self.kind {
            Kind::Random => {
                buf.resize(len, 0);
                rng.fill(buf);
            }
            Kind::Text => {
                while buf.len() < len {
                    for _ in 0..rng.below(4) {
                        buf.extend_from_slice(b"    ");
                    }
                    for _ in 0..3 + rng.below(10) {
                        match rng.below(100) {
                            0..80 => {
                                let w = WORDS[rng.below(WORDS.len() as u64) as usize];
                                buf.extend_from_slice(w.as_bytes());
                            }
                            80..95 => {
                                for _ in 0..4 + rng.below(9) {
                                    buf.push(
                                        b"abcdefghijklmnopqrstuvwxyz_0123456789"
                                            [rng.below(37) as usize],
                                    );
                                }
                            }
                            _ => buf.extend_from_slice(rng.below(100_000).to_string().as_bytes()),
                        }
                        buf.push(b' ');
                    }
                    buf.pop();
                    buf.extend_from_slice([&b";\n"[..], b":\n", b"\n"][rng.below(3) as usize]);
                }
            }
            Kind::Binary => {
                while buf.len() < len {
                    let n = 16 + rng.below(240) as usize;
                    match rng.below(100) {
                        0..40 => {
                            let at = buf.len();
                            buf.resize(at + n, 0);
                            rng.fill(&mut buf[at..]);
                        }
                        40..75 if buf.len() > 2 * n => {
                            let from = rng.below((buf.len() - n) as u64) as usize;
                            buf.extend_from_within(from..from + n);
                        }
                        _ => {
                            for _ in 0..n {
                                let b = match rng.below(8) {
                                    0 => rng.below(256),
                                    1..4 => rng.below(16),
                                    _ => 0,
                                };
                                buf.push(b as u8);
                            }
                        }
                    }
                }
            }
        }
        buf.truncate(len);
    }
}

impl Read for Content {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.block.len() {
            if self.remaining == 0 {
                return Ok(0);
            }
            self.refill();
        }
        let n = out.len().min(self.block.len() - self.pos);
        out[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// One tar entry of a synthetic layer.
enum Entry {
    Dir,
    File {
        kind: Kind,
        size: u64,
        seed: u64,
    },
    /// A zero-length whiteout marker (`.wh.<name>` or `.wh..wh..opq`).
    Whiteout,
}

/// The entries of each synthetic layer, decided up front (cheap: no content yet) so
/// that later layers can delete files of earlier ones.
fn plan_layers(spec: &SynthSpec) -> Vec<BTreeMap<String, Entry>> {
    let n = spec.layers;
    let files_per_layer = spec.files / n;
    let bytes_per_layer = spec.bytes.div_ceil(n as u64);
    let mut plans: Vec<BTreeMap<String, Entry>> = Vec::with_capacity(n);
    for l in 0..n {
        let mut rng = Rng::new(Rng::derive(spec.seed, l as u64 + 1));
        let root = format!("{}{}", ROOTS[l % ROOTS.len()], l + 1);
        let mut plan = BTreeMap::new();
        let mut bytes = 0u64;
        let mut i = 0usize;
        // Mostly small files, log-uniform between 64 B and 64 KiB (mean ~9 KiB), then
        // large ones (16-96 MiB) until the layer reaches its share of the bytes.
        while i < files_per_layer || bytes < bytes_per_layer {
            let small = i < files_per_layer.saturating_sub(8) || bytes >= bytes_per_layer;
            let (kind, size) = if small {
                let size = (64f64.ln() + (65536f64.ln() - 64f64.ln()) * rng.unit()).exp() as u64;
                let kind = match rng.below(100) {
                    0..55 => Kind::Text,
                    55..90 => Kind::Binary,
                    _ => Kind::Random,
                };
                (kind, size)
            } else {
                let size = (16 + rng.below(81)) << 20;
                let kind = [Kind::Binary, Kind::Binary, Kind::Random, Kind::Text][i % 4];
                (kind, size)
            };
            let ext = match kind {
                Kind::Text => TEXT_EXT[rng.below(TEXT_EXT.len() as u64) as usize],
                Kind::Binary => BIN_EXT[rng.below(BIN_EXT.len() as u64) as usize],
                Kind::Random => RANDOM_EXT[rng.below(RANDOM_EXT.len() as u64) as usize],
            };
            let w = |r: &mut Rng| WORDS[r.below(40) as usize];
            let dir = format!(
                "{root}/{}{}/{}{}",
                w(&mut rng),
                rng.below(24),
                w(&mut rng),
                rng.below(24)
            );
            let path = format!("{dir}/{}_{i}.{ext}", w(&mut rng));
            let seed = Rng::derive(spec.seed ^ 0x5EED, ((l as u64) << 32) | i as u64);
            plan.insert(path, Entry::File { kind, size, seed });
            bytes += size;
            i += 1;
        }
        plans.push(plan);
    }
    // The last layer deletes every 97th file of the first one and empties one of its
    // directories with an opaque whiteout, as package removals and rebuilt
    // directories do in real images.
    if n >= 2 {
        let first: Vec<String> = plans[0].keys().cloned().collect();
        let last = plans.last_mut().expect("n >= 2");
        for path in first.iter().step_by(97) {
            let (dir, name) = path
                .rsplit_once('/')
                .expect("generated paths have a directory");
            last.insert(format!("{dir}/.wh.{name}"), Entry::Whiteout);
        }
        if let Some((dir, _)) = first.get(first.len() / 2).and_then(|p| p.rsplit_once('/')) {
            last.insert(format!("{dir}/.wh..wh..opq"), Entry::Whiteout);
        }
    }
    // Real layer tars carry every parent directory before its contents.
    for plan in &mut plans {
        let dirs: Vec<String> = plan
            .keys()
            .flat_map(|p| {
                p.match_indices('/')
                    .map(|(at, _)| p[..at].to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        for d in dirs {
            plan.entry(format!("{d}/")).or_insert(Entry::Dir);
        }
    }
    plans
}

/// Counts and hashes the bytes passing through to `inner`.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.hasher.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hash_writer<W: Write>(inner: W) -> HashWriter<W> {
    HashWriter {
        inner,
        hasher: Sha256::new(),
        bytes: 0,
    }
}

struct LayerOut {
    diff_id: String,
    digest: String,
    size: u64,
    tar_bytes: u64,
    files: usize,
}

/// A fixed mtime (2025-01-01) keeps the layers byte-identical between runs.
const MTIME: u64 = 1_735_689_600;

fn write_layer(blobs: &Path, index: usize, plan: &BTreeMap<String, Entry>) -> Result<LayerOut> {
    let tmp = blobs.join(format!("layer-{index}.tmp"));
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let compressed = hash_writer(BufWriter::with_capacity(1 << 20, file));
    let gz = GzEncoder::new(compressed, Compression::default());
    let mut tar = tar::Builder::new(hash_writer(gz));
    let mut files = 0usize;
    for (path, entry) in plan {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(MTIME);
        h.set_uid(0);
        h.set_gid(0);
        match entry {
            Entry::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                tar.append_data(&mut h, path, io::empty())
            }
            Entry::Whiteout => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                tar.append_data(&mut h, path, io::empty())
            }
            Entry::File { kind, size, seed } => {
                files += 1;
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(if matches!(kind, Kind::Binary) {
                    0o755
                } else {
                    0o644
                });
                h.set_size(*size);
                tar.append_data(&mut h, path, Content::new(*kind, *seed, *size))
            }
        }
        .with_context(|| format!("writing {path} into layer {index}"))?;
    }
    let uncompressed = tar.into_inner().context("finishing the layer tar")?;
    let diff_id = format!("sha256:{}", hex::encode(uncompressed.hasher.finalize()));
    let tar_bytes = uncompressed.bytes;
    let mut compressed = uncompressed.inner.finish().context("finishing gzip")?;
    compressed.flush()?;
    let hex_digest = hex::encode(compressed.hasher.finalize());
    let size = compressed.bytes;
    compressed
        .inner
        .into_inner()
        .map_err(|e| anyhow!("flushing {}: {}", tmp.display(), e.error()))?
        .sync_all()?;
    fs::rename(&tmp, blobs.join(&hex_digest)).context("naming the layer blob")?;
    Ok(LayerOut {
        diff_id,
        digest: format!("sha256:{hex_digest}"),
        size,
        tar_bytes,
        files,
    })
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes `value` as a blob and returns its descriptor fields (digest, size).
fn write_blob(blobs: &Path, value: &Value) -> Result<(String, u64)> {
    let bytes = serde_json::to_vec(value)?;
    let hex_digest = hex::encode(Sha256::digest(&bytes));
    fs::write(blobs.join(&hex_digest), &bytes)?;
    Ok((format!("sha256:{hex_digest}"), bytes.len() as u64))
}

fn blob_path(layout: &Path, digest: &str) -> Result<PathBuf> {
    let hex_digest = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| anyhow!("{}: unsupported digest {digest}", layout.display()))?;
    Ok(layout.join("blobs/sha256").join(hex_digest))
}

fn synth(spec: &SynthSpec) -> Result<()> {
    if spec.layers == 0 || spec.files < spec.layers {
        bail!("synth: need at least one layer and one file per layer");
    }
    if spec.out.exists() {
        bail!(
            "synth: {} already exists; remove it first",
            spec.out.display()
        );
    }
    let start = Instant::now();
    // The base image: its first layer and its config serve as the template.
    let base_index = read_json(&spec.base.join("index.json"))?;
    let manifests = base_index["manifests"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [base_desc] = manifests else {
        bail!(
            "synth: {} must hold exactly one manifest",
            spec.base.display()
        );
    };
    let base_manifest = read_json(&blob_path(
        &spec.base,
        base_desc["digest"].as_str().unwrap_or(""),
    )?)?;
    let base_config = read_json(&blob_path(
        &spec.base,
        base_manifest["config"]["digest"].as_str().unwrap_or(""),
    )?)?;
    let base_layer = base_manifest["layers"][0].clone();
    let base_diff_id = base_config["rootfs"]["diff_ids"][0].clone();
    if !base_layer.is_object() || !base_diff_id.is_string() {
        bail!("synth: {} has no first layer", spec.base.display());
    }

    let tmp_out = spec.out.with_extension("tmp");
    if tmp_out.exists() {
        fs::remove_dir_all(&tmp_out)?;
    }
    let blobs = tmp_out.join("blobs/sha256");
    fs::create_dir_all(&blobs)?;
    let base_blob = blob_path(&spec.base, base_layer["digest"].as_str().unwrap_or(""))?;
    let base_copy = blobs.join(base_blob.file_name().expect("blob path has a file name"));
    if fs::hard_link(&base_blob, &base_copy).is_err() {
        fs::copy(&base_blob, &base_copy).context("copying the base layer")?;
    }

    let plans = plan_layers(spec);
    // Layers are independent, so they are generated in parallel; each one's content
    // depends only on the seed, never on scheduling.
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<LayerOut>> = (0..plans.len()).map(|_| None).collect();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..default_threads().min(plans.len()))
            .map(|_| {
                s.spawn(|| -> Result<Vec<(usize, LayerOut)>> {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(plan) = plans.get(i) else {
                            return Ok(done);
                        };
                        done.push((i, write_layer(&blobs, i, plan)?));
                    }
                })
            })
            .collect();
        for h in handles {
            for (i, out) in h.join().map_err(|_| anyhow!("a synth worker panicked"))?? {
                results[i] = Some(out);
            }
        }
        Ok(())
    })?;
    let layers: Vec<LayerOut> = results
        .into_iter()
        .map(|r| r.expect("every layer written"))
        .collect();

    let mut config = base_config.clone();
    let mut diff_ids = vec![base_diff_id];
    let mut history = vec![base_config["history"][0].clone()];
    let mut descriptors = vec![base_layer];
    for (i, l) in layers.iter().enumerate() {
        diff_ids.push(json!(l.diff_id));
        history.push(json!({
            "created": "2025-01-01T00:00:00Z",
            "created_by": format!("customs-bench synth: layer {} ({} files)", i + 1, l.files),
        }));
        descriptors.push(json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": l.digest,
            "size": l.size,
        }));
    }
    config["rootfs"] = json!({ "type": "layers", "diff_ids": diff_ids });
    config["history"] = json!(history);
    let (config_digest, config_size) = write_blob(&blobs, &config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": descriptors,
    });
    let (manifest_digest, manifest_size) = write_blob(&blobs, &manifest)?;
    fs::write(
        tmp_out.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": { "org.opencontainers.image.ref.name": "synthetic" },
        }],
    });
    fs::write(tmp_out.join("index.json"), serde_json::to_vec(&index)?)?;
    fs::rename(&tmp_out, &spec.out)
        .with_context(|| format!("moving the layout to {}", spec.out.display()))?;

    let tar: u64 = layers.iter().map(|l| l.tar_bytes).sum();
    let stored: u64 = layers.iter().map(|l| l.size).sum();
    let files: usize = layers.iter().map(|l| l.files).sum();
    println!(
        "synth: {} ({} synthetic layers + base, {files} files, {:.2} GiB of tar, {:.2} GiB gzip) in {:.1} s",
        spec.out.display(),
        layers.len(),
        tar as f64 / f64::from(1u32 << 30),
        stored as f64 / f64::from(1u32 << 30),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

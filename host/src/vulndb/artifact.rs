//! The vulnerability database as an OCI artifact: `customs db push` publishes the
//! local database to a registry, and `customs db pull` (or a scan's automatic update
//! with `--db-repository`) installs a published one, so that CI jobs fetch one
//! compressed file from a registry they already use instead of every job building
//! the database from the OSV exports.
//!
//! Format, an OCI image manifest (which every registry stores):
//! - manifest `application/vnd.oci.image.manifest.v1+json` with `artifactType`
//!   [`ARTIFACT_TYPE`] and the annotations `org.opencontainers.image.created` (the
//!   build time), `org.opencontainers.image.title`, [`ANNOTATION_SCHEMA`] and
//!   [`ANNOTATION_BUILD_ID`];
//! - config [`CONFIG_MEDIA_TYPE`]: an [`ArtifactConfig`] (schema version, build time
//!   and id, per-ecosystem counts, size and digest of the uncompressed file);
//! - one layer [`LAYER_MEDIA_TYPE`]: the SQLite file, zstd-compressed with the frame
//!   checksum on, titled `osv.db.zst`.
//!
//! The manifest depends on the database alone (created = built_at), so pushing the
//! same database twice yields the same digest and uploads nothing new. The schema
//! version belongs in the tag (`…/db:1`): a pull refuses another schema and names
//! the tag to use.
//!
//! Pull: repositories are tried in order. Any failure of one (unreachable, still
//! rate limited or failing after the client's retries, timeouts, not found, refused
//! credentials, an artifact that fails verification) moves on to the next, and when
//! none serves, the error lists every failure. Usage errors (a malformed reference,
//! contradictory credential options, an unreadable CA file) and local failures (the
//! cache directory, the lock) stop at once: the next repository would fail the same
//! way. Verification, in order: the manifest (against the reference's digest, else
//! the registry's `Docker-Content-Digest`), media types, sizes against
//! [`PullOptions`]' limits, the config's digest and schema version; then the layer's
//! size and digest as it streams, decompressed into a temporary file beside the live
//! database, whose size and digest must match the config, and which must open as a
//! scan opens a database (full integrity check) and be the build the config names.
//! Only then is it renamed over `osv.db`, under the lock `db update` takes: a scan
//! that has the old file open keeps reading it; a failed pull leaves the old database
//! and no temporary file. When the local database already is the published build,
//! the layer is not downloaded.
use super::query::{self, DbStatus, OpenError, VulnDb};
use super::store::SCHEMA_VERSION;
use super::update::{self, UpdateError};
use crate::image::digest::{Algorithm, Digest, Hasher};
use crate::image::{ImageError, RemoteBlob};
use crate::registry::manifest::OCI_MANIFEST;
use crate::registry::push::{self, Access, Blob, BlobData};
use crate::registry::reference::{Reference, Target};
use crate::registry::{RegistryError, RegistryOptions, RemoteLayer, Session};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.customs.db.v1";
/// The config blob: an [`ArtifactConfig`] as JSON.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.customs.db.config.v1+json";
/// The one layer: the SQLite database file, zstd-compressed.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.customs.db.layer.v1.sqlite+zstd";
/// Manifest annotation: the database schema version, readable without the config.
pub const ANNOTATION_SCHEMA: &str = "vnd.customs.db.schema-version";
/// Manifest annotation: the build id.
pub const ANNOTATION_BUILD_ID: &str = "vnd.customs.db.build-id";
const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
const LAYER_TITLE: &str = "osv.db.zst";
/// The lock file `db update` serializes on (see [`super::update`]).
const LOCK_FILE: &str = "update.lock";
/// Temporary files carry the prefix `db update` removes when it finds them stale.
const TMP_PREFIX: &str = ".osv.db.tmp-";
/// Largest config accepted (a few hundred bytes per ecosystem).
const MAX_CONFIG: u64 = 1 << 20;
/// zstd level of the layer: most of the file is already-compressed records, so
/// higher levels cost minutes on a large database and gain little.
const COMPRESSION_LEVEL: i32 = 9;
/// How long a push waits for a running update before reading the database.
const PUSH_LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// What the config blob says about the database in the layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactConfig {
    pub schema_version: u32,
    /// Unix seconds.
    pub built_at: i64,
    pub build_id: String,
    pub generator: String,
    pub ecosystems: Vec<ArtifactEcosystem>,
    pub records: u64,
    pub entries: u64,
    /// Bytes of the uncompressed database file.
    pub uncompressed_size: u64,
    /// `sha256:…` of the uncompressed database file.
    pub uncompressed_digest: String,
}

/// One OSV export in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactEcosystem {
    pub name: String,
    pub records: u64,
    pub entries: u64,
    pub failed: u64,
    /// Unix seconds.
    pub fetched_at: i64,
}

/// Limits and settings of a pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Credentials, TLS and retries for the repositories.
    pub registry: RegistryOptions,
    /// Largest compressed layer accepted.
    pub max_compressed: u64,
    /// Largest database accepted (uncompressed).
    pub max_uncompressed: u64,
    /// How long to wait for a running update or pull of the same cache directory.
    pub lock_timeout: Duration,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            registry: RegistryOptions::default(),
            max_compressed: 2 << 30,
            max_uncompressed: 4 << 30,
            lock_timeout: Duration::from_secs(600),
        }
    }
}

/// Why one repository could not serve the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryFailure {
    /// The repository as given.
    pub repository: String,
    pub error: String,
}

impl fmt::Display for RepositoryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.repository, self.error)
    }
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct PullReport {
    /// The repository that served it, as given.
    pub repository: String,
    pub manifest_digest: String,
    /// The local database already was the published build; nothing was downloaded.
    pub unchanged: bool,
    /// Compressed bytes downloaded (0 when unchanged).
    pub downloaded: u64,
    /// The installed (or kept) database.
    pub status: DbStatus,
    /// Why the repositories tried before it could not serve.
    pub skipped: Vec<RepositoryFailure>,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct PushReport {
    /// The fully qualified reference pushed to.
    pub reference: String,
    pub manifest_digest: String,
    pub layer_digest: String,
    /// Compressed bytes of the layer.
    pub layer_size: u64,
    /// False when the repository already had the layer.
    pub layer_uploaded: bool,
    pub status: DbStatus,
}

/// Why a push or pull failed. [`ArtifactError::is_usage_error`] tells what the user
/// fixes on the command line; for a pull, everything else means no new database
/// could be had (the existing one, if any, is unchanged).
#[derive(Debug, Error)]
pub enum ArtifactError {
    /// Nothing to pull from, or a reference that cannot be pushed to.
    #[error("{0}")]
    Usage(String),
    /// A malformed reference or unusable registry options; for a push, also
    /// whatever the registry answered.
    #[error(transparent)]
    Registry(Box<RegistryError>),
    /// Every repository failed; the existing database is unchanged.
    #[error("no repository could serve the vulnerability database: {}", join(.failures))]
    Unavailable { failures: Vec<RepositoryFailure> },
    /// A push without a usable database.
    #[error("nothing to push: {0}")]
    NoDatabase(#[source] OpenError),
    /// The lock of the cache directory (held too long by another update or pull).
    #[error(transparent)]
    Lock(#[from] UpdateError),
    #[error("encoding the artifact: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl From<RegistryError> for ArtifactError {
    fn from(e: RegistryError) -> Self {
        ArtifactError::Registry(Box::new(e))
    }
}

fn join(failures: &[RepositoryFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ArtifactError {
    /// Errors fixed on the command line (exit code 2).
    pub fn is_usage_error(&self) -> bool {
        match self {
            ArtifactError::Usage(_) => true,
            ArtifactError::Registry(e) => e.is_usage_error(),
            _ => false,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: path.display().to_string(),
        source,
    }
}

// ---------------------------------------------------------------- manifest

/// The manifest as we write and read it (OCI image manifest, artifact fields).
#[derive(Debug, Serialize, Deserialize)]
struct ArtifactManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

impl ArtifactConfig {
    fn new(status: &DbStatus, packed: &Packed) -> ArtifactConfig {
        ArtifactConfig {
            schema_version: status.schema_version,
            built_at: status.built_at,
            build_id: status.build_id.clone(),
            generator: status.generator.clone(),
            ecosystems: status
                .ecosystems
                .iter()
                .map(|e| ArtifactEcosystem {
                    name: e.name.clone(),
                    records: e.records,
                    entries: e.entries,
                    failed: e.failed,
                    fetched_at: e.fetched_at,
                })
                .collect(),
            records: status.records,
            entries: status.entries,
            uncompressed_size: packed.uncompressed_size,
            uncompressed_digest: packed.uncompressed_digest.to_string(),
        }
    }
}

fn manifest_bytes(
    config: &ArtifactConfig,
    config_bytes: &[u8],
    packed: &Packed,
) -> Result<Vec<u8>, serde_json::Error> {
    let manifest = ArtifactManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        artifact_type: Some(ARTIFACT_TYPE.to_string()),
        config: Descriptor {
            media_type: CONFIG_MEDIA_TYPE.to_string(),
            digest: Digest::sha256_of(config_bytes).to_string(),
            size: config_bytes.len() as u64,
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: LAYER_MEDIA_TYPE.to_string(),
            digest: packed.digest.to_string(),
            size: packed.size,
            annotations: BTreeMap::from([(ANNOTATION_TITLE.to_string(), LAYER_TITLE.to_string())]),
        }],
        annotations: BTreeMap::from([
            (
                ANNOTATION_CREATED.to_string(),
                super::format_unix(config.built_at),
            ),
            (
                ANNOTATION_TITLE.to_string(),
                "Customs vulnerability database".to_string(),
            ),
            (
                ANNOTATION_SCHEMA.to_string(),
                config.schema_version.to_string(),
            ),
            (ANNOTATION_BUILD_ID.to_string(), config.build_id.clone()),
        ]),
    };
    serde_json::to_vec(&manifest)
}

fn schema_mismatch(found: impl fmt::Display) -> String {
    format!(
        "the database was built for schema {found}, this customs reads schema {SCHEMA_VERSION}; use a tag for schema {SCHEMA_VERSION}"
    )
}

/// The config and layer a verified manifest names.
#[derive(Debug)]
struct Parsed {
    config_digest: Digest,
    config_size: u64,
    layer_digest: Digest,
    layer_size: u64,
}

/// Checks that a fetched manifest is one of ours within the limits.
fn parse_manifest(
    bytes: &[u8],
    media_type: &str,
    digest: &Digest,
    options: &PullOptions,
) -> Result<Parsed, String> {
    let not_ours = |what: String| {
        format!("manifest {digest} is not a Customs vulnerability database ({what})")
    };
    if media_type != OCI_MANIFEST {
        return Err(not_ours(format!("media type {media_type:?}")));
    }
    let m: ArtifactManifest = serde_json::from_slice(bytes)
        .map_err(|e| format!("manifest {digest}: invalid JSON: {e}"))?;
    if m.schema_version != 2 {
        return Err(not_ours(format!("schemaVersion {}", m.schema_version)));
    }
    if let Some(t) = m.artifact_type.as_deref().filter(|t| *t != ARTIFACT_TYPE) {
        return Err(not_ours(format!("artifactType {t:?}")));
    }
    if m.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(not_ours(format!(
            "config media type {:?}",
            m.config.media_type
        )));
    }
    if let Some(v) = m.annotations.get(ANNOTATION_SCHEMA)
        && *v != SCHEMA_VERSION.to_string()
    {
        return Err(schema_mismatch(super::one_line(v, 20)));
    }
    let [layer] = m.layers.as_slice() else {
        return Err(not_ours(format!("{} layers, expected 1", m.layers.len())));
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(not_ours(format!("layer media type {:?}", layer.media_type)));
    }
    if m.config.size > MAX_CONFIG {
        return Err(format!(
            "manifest {digest}: config of {} bytes exceeds the limit of {MAX_CONFIG}",
            m.config.size
        ));
    }
    if layer.size > options.max_compressed {
        return Err(format!(
            "manifest {digest}: the compressed database of {} bytes exceeds the limit of {}",
            layer.size, options.max_compressed
        ));
    }
    let parse = |s: &str, field: &str| {
        Digest::parse(s).map_err(|e| format!("manifest {digest}: {field}: {e}"))
    };
    Ok(Parsed {
        config_digest: parse(&m.config.digest, "config.digest")?,
        config_size: m.config.size,
        layer_digest: parse(&layer.digest, "layers[0].digest")?,
        layer_size: layer.size,
    })
}

/// Parses a verified config: the schema version first (a config of another schema
/// may have other fields), then the rest, within the limits.
fn parse_config(
    bytes: &[u8],
    digest: &Digest,
    options: &PullOptions,
) -> Result<ArtifactConfig, String> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: u64,
    }
    let invalid = |e: serde_json::Error| format!("config {digest}: invalid: {e}");
    let version: Version = serde_json::from_slice(bytes).map_err(invalid)?;
    if version.schema_version != u64::from(SCHEMA_VERSION) {
        return Err(schema_mismatch(version.schema_version));
    }
    let config: ArtifactConfig = serde_json::from_slice(bytes).map_err(invalid)?;
    if config.uncompressed_size > options.max_uncompressed {
        return Err(format!(
            "config {digest}: the database of {} bytes exceeds the limit of {}",
            config.uncompressed_size, options.max_uncompressed
        ));
    }
    let uncompressed = Digest::parse(&config.uncompressed_digest)
        .map_err(|e| format!("config {digest}: uncompressed_digest: {e}"))?;
    if uncompressed.algorithm() != Algorithm::Sha256 {
        return Err(format!(
            "config {digest}: uncompressed_digest is not sha256"
        ));
    }
    if config.build_id.is_empty()
        || config.build_id.len() > 64
        || !config.build_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(format!("config {digest}: invalid build_id"));
    }
    Ok(config)
}

// ---------------------------------------------------------------- streams

/// Passes bytes through, hashing and counting them.
struct Hashing<T> {
    inner: T,
    hasher: Hasher,
    count: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T, algorithm: Algorithm) -> Self {
        Hashing {
            inner,
            hasher: Hasher::new(algorithm),
            count: 0,
        }
    }

    fn digest(&self) -> Digest {
        self.hasher.clone().finish()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where the decompressed database goes: refuses bytes beyond `limit`, and keeps
/// its own failures apart, so that a full disk (local: stop) is not mistaken for
/// a damaged download (this repository: try the next).
struct Output<W> {
    out: Hashing<W>,
    limit: u64,
    exceeded: bool,
    local: Option<io::Error>,
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.count.saturating_add(buf.len() as u64) > self.limit {
            self.exceeded = true;
            return Err(io::Error::other(format!(
                "decompresses to more than the config's {} bytes",
                self.limit
            )));
        }
        self.out.write(buf).inspect_err(|e| {
            self.local = Some(io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().inspect_err(|e| {
            self.local = Some(io::Error::new(e.kind(), e.to_string()));
        })
    }
}

// ---------------------------------------------------------------- push

/// The database compressed into a temporary file, and what describes it.
struct Packed {
    file: tempfile::NamedTempFile,
    digest: Digest,
    size: u64,
    uncompressed_size: u64,
    uncompressed_digest: Digest,
}

/// Compresses `db` into a temporary file in `dir`. The file is read through its
/// open handle afterwards only, so an update that removes it as stale meanwhile
/// does not disturb the upload.
fn pack(dir: &Path, db: &Path) -> Result<Packed, ArtifactError> {
    let input = File::open(db).map_err(io_err(db))?;
    let len = input.metadata().map_err(io_err(db))?.len();
    let mut input = Hashing::new(input, Algorithm::Sha256);
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}push-"))
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    let tmp_err = io_err(tmp.path());
    let out = Hashing::new(BufWriter::new(tmp.as_file()), Algorithm::Sha256);
    let result = (|| {
        let mut enc = zstd::stream::write::Encoder::new(out, COMPRESSION_LEVEL)?;
        enc.include_checksum(true)?;
        enc.include_contentsize(true)?;
        enc.set_pledged_src_size(Some(len))?;
        io::copy(&mut input, &mut enc)?;
        let mut out = enc.finish()?;
        out.flush()?;
        Ok::<_, io::Error>((out.digest(), out.count))
    })();
    let (digest, size) = result.map_err(tmp_err)?;
    Ok(Packed {
        digest,
        size,
        uncompressed_size: input.count,
        uncompressed_digest: input.digest(),
        file: tmp,
    })
}

/// Publishes the database of `cache_root` to `reference` (a tag).
pub fn push(
    cache_root: &Path,
    reference: &str,
    options: &RegistryOptions,
) -> Result<PushReport, ArtifactError> {
    let parsed = Reference::parse(reference)?;
    if matches!(parsed.target, Target::Digest { .. }) {
        return Err(ArtifactError::Usage(format!(
            "{reference}: push to a tag; a database's digest is known only once it is packed"
        )));
    }
    let dir = super::db_dir(cache_root);
    let db_path = dir.join(super::DB_FILE);
    if !db_path.is_file() {
        return Err(ArtifactError::NoDatabase(OpenError::Missing(
            db_path.display().to_string(),
        )));
    }
    // Credentials and reachability first: packing a large database takes a while.
    let session = push::connect(&parsed, options, Access::Push)?;
    // Under the lock, so that the status and the bytes are of the same database.
    let (status, packed) = {
        let _guard = update::lock(&dir.join(LOCK_FILE), PUSH_LOCK_TIMEOUT)?;
        let db = VulnDb::open_file(&db_path).map_err(ArtifactError::NoDatabase)?;
        let status = db.status().clone();
        drop(db);
        (status, pack(&dir, &db_path)?)
    };
    let config = ArtifactConfig::new(&status, &packed);
    let config_bytes = serde_json::to_vec(&config)?;
    let manifest = manifest_bytes(&config, &config_bytes, &packed)?;
    let config_digest = Digest::sha256_of(&config_bytes);
    session.push_blob(
        &Blob {
            data: BlobData::Bytes(&config_bytes),
            digest: &config_digest,
            size: config_bytes.len() as u64,
        },
        push::DEFAULT_CHUNK_SIZE,
    )?;
    let layer_uploaded = session.push_blob(
        &Blob {
            data: BlobData::File(packed.file.as_file()),
            digest: &packed.digest,
            size: packed.size,
        },
        push::DEFAULT_CHUNK_SIZE,
    )?;
    let manifest_digest = session.put_manifest(OCI_MANIFEST, &manifest)?;
    Ok(PushReport {
        reference: parsed.to_string(),
        manifest_digest: manifest_digest.to_string(),
        layer_digest: packed.digest.to_string(),
        layer_size: packed.size,
        layer_uploaded,
        status,
    })
}

// ---------------------------------------------------------------- pull

/// How one repository failed: this repository's problem (try the next), or one
/// every repository would have (stop).
enum Attempt {
    Remote(String),
    Fatal(ArtifactError),
}

impl From<RegistryError> for Attempt {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::InvalidReference { .. }
            | RegistryError::Credentials(_)
            | RegistryError::Config(_) => Attempt::Fatal(e.into()),
            e => Attempt::Remote(e.to_string()),
        }
    }
}

impl From<ArtifactError> for Attempt {
    fn from(e: ArtifactError) -> Self {
        Attempt::Fatal(e)
    }
}

/// What one repository served.
struct Served {
    manifest_digest: Digest,
    unchanged: bool,
    downloaded: u64,
    status: DbStatus,
}

/// Installs the database published at the first of `repositories` that can serve
/// it into `cache_root`.
pub fn pull(
    cache_root: &Path,
    repositories: &[String],
    options: &PullOptions,
) -> Result<PullReport, ArtifactError> {
    let mut candidates = Vec::new();
    for given in repositories
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        candidates.push((given.to_string(), Reference::parse(given)?));
    }
    if candidates.is_empty() {
        return Err(ArtifactError::Usage(
            "no repository to pull the vulnerability database from (--db-repository or CUSTOMS_DB_REPOSITORY)".into(),
        ));
    }
    let dir = super::db_dir(cache_root);
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let mut failures: Vec<RepositoryFailure> = Vec::new();
    for (given, reference) in candidates {
        match pull_from(&dir, &reference, options) {
            Ok(served) => {
                return Ok(PullReport {
                    repository: given,
                    manifest_digest: served.manifest_digest.to_string(),
                    unchanged: served.unchanged,
                    downloaded: served.downloaded,
                    status: served.status,
                    skipped: failures,
                });
            }
            Err(Attempt::Remote(error)) => {
                tracing::info!(repository = %given, "cannot pull the database: {error}");
                failures.push(RepositoryFailure {
                    repository: given,
                    error,
                });
            }
            Err(Attempt::Fatal(e)) => return Err(e),
        }
    }
    Err(ArtifactError::Unavailable { failures })
}

/// Records that the live database was just confirmed current (as `db update` does
/// when nothing changed), so the scan's automatic update waits its interval again.
fn confirm_current(dir: &Path, db_path: &Path, build_id: &str) -> i64 {
    let now = super::now_unix();
    let line = format!("{build_id} {now}\n");
    if let Err(e) = update::write_atomically(dir, &query::checked_path(db_path), line.as_bytes()) {
        tracing::warn!("cannot record the database check: {e}");
    }
    now
}

fn pull_from(dir: &Path, reference: &Reference, options: &PullOptions) -> Result<Served, Attempt> {
    let session = push::connect(reference, &options.registry, Access::Pull)?;
    let expected = match &reference.target {
        Target::Digest { digest, .. } => Some((digest, None)),
        Target::Tag(_) => None,
    };
    let fetched = session.fetch_manifest(&reference.manifest_ref(), expected)?;
    let parsed = parse_manifest(
        &fetched.bytes,
        &fetched.media_type,
        &fetched.digest,
        options,
    )
    .map_err(Attempt::Remote)?;
    let config_bytes = session.fetch_small_blob(&parsed.config_digest, parsed.config_size)?;
    let config =
        parse_config(&config_bytes, &parsed.config_digest, options).map_err(Attempt::Remote)?;

    let _guard = update::lock(&dir.join(LOCK_FILE), options.lock_timeout)
        .map_err(|e| Attempt::Fatal(e.into()))?;
    update::remove_stale_temporaries(dir);
    let db_path = dir.join(super::DB_FILE);
    if let Ok(db) = VulnDb::open_file(&db_path)
        && db.status().build_id == config.build_id
    {
        let mut status = db.status().clone();
        drop(db);
        status.checked_at = confirm_current(dir, &db_path, &config.build_id);
        return Ok(Served {
            manifest_digest: fetched.digest,
            unchanged: true,
            downloaded: 0,
            status,
        });
    }

    let tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| Attempt::Fatal(io_err(dir)(e)))?;
    download(&session, reference, &parsed, &config, &tmp)?;
    let db = VulnDb::open_file(tmp.path()).map_err(|e| {
        let detail = match e {
            OpenError::Unusable { detail, .. } => detail,
            e => e.to_string(),
        };
        Attempt::Remote(format!(
            "blob {}: the database it holds does not open: {detail}",
            parsed.layer_digest
        ))
    })?;
    let mut status = db.status().clone();
    drop(db);
    if status.build_id != config.build_id
        || status.records != config.records
        || status.entries != config.entries
    {
        return Err(Attempt::Remote(format!(
            "blob {} holds build {} ({} records, {} entries), the config names build {} ({} records, {} entries)",
            parsed.layer_digest,
            status.build_id,
            status.records,
            status.entries,
            config.build_id,
            config.records,
            config.entries
        )));
    }
    tmp.persist(&db_path)
        .map_err(|e| Attempt::Fatal(io_err(&db_path)(e.error)))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    // Verified above as the temporary file; the rename changed no byte of it.
    super::verified::remember(&db_path);
    status.path = db_path.display().to_string();
    status.checked_at = confirm_current(dir, &db_path, &config.build_id);
    Ok(Served {
        manifest_digest: fetched.digest,
        unchanged: false,
        downloaded: parsed.layer_size,
        status,
    })
}

/// Streams the layer into `tmp`, decompressing, and checks the compressed size and
/// digest against the manifest and the decompressed ones against the config.
fn download(
    session: &Arc<Session>,
    reference: &Reference,
    parsed: &Parsed,
    config: &ArtifactConfig,
    tmp: &tempfile::NamedTempFile,
) -> Result<(), Attempt> {
    let blob = RemoteLayer {
        session: session.clone(),
        digest: parsed.layer_digest.clone(),
        size: parsed.layer_size,
    };
    let stream = blob.open().map_err(|e| Attempt::Remote(e.to_string()))?;
    let mut input = Hashing::new(stream, parsed.layer_digest.algorithm());
    let mut output = Output {
        out: Hashing::new(BufWriter::new(tmp.as_file()), Algorithm::Sha256),
        limit: config.uncompressed_size,
        exceeded: false,
        local: None,
    };
    let decoded = zstd::stream::read::Decoder::new(&mut input)
        .and_then(|mut d| io::copy(&mut d, &mut output))
        .and_then(|_| output.flush());
    let mismatch = |got: Digest| {
        Attempt::Remote(
            ImageError::DigestMismatch {
                blob: parsed.layer_digest.to_string(),
                file: reference.repo_display(),
                got: got.to_string(),
            }
            .to_string(),
        )
    };
    if let Err(e) = decoded {
        if let Some(local) = output.local.take() {
            return Err(Attempt::Fatal(io_err(tmp.path())(local)));
        }
        if output.exceeded {
            return Err(Attempt::Remote(format!(
                "blob {}: {e}",
                parsed.layer_digest
            )));
        }
        // Damaged data or a broken stream: when the rest of the blob arrives, its
        // digest tells which (and a damaged blob is reported as such).
        if io::copy(&mut input, &mut io::sink()).is_ok()
            && input.count == parsed.layer_size
            && input.digest() != parsed.layer_digest
        {
            return Err(mismatch(input.digest()));
        }
        return Err(Attempt::Remote(format!(
            "blob {}: not a readable zstd stream: {e}",
            parsed.layer_digest
        )));
    }
    // Anything after the last frame still belongs to the blob.
    io::copy(&mut input, &mut io::sink())
        .map_err(|e| Attempt::Remote(format!("blob {}: {e}", parsed.layer_digest)))?;
    if input.count != parsed.layer_size {
        return Err(Attempt::Remote(
            ImageError::SizeMismatch {
                blob: parsed.layer_digest.to_string(),
                file: reference.repo_display(),
                expected: parsed.layer_size,
                actual: input.count,
            }
            .to_string(),
        ));
    }
    if input.digest() != parsed.layer_digest {
        return Err(mismatch(input.digest()));
    }
    let got = output.out.digest().to_string();
    if output.out.count != config.uncompressed_size || got != config.uncompressed_digest {
        return Err(Attempt::Remote(format!(
            "blob {} decompresses to {} bytes ({got}), the config says {} bytes ({})",
            parsed.layer_digest,
            output.out.count,
            config.uncompressed_size,
            config.uncompressed_digest
        )));
    }
    drop(output);
    tmp.as_file()
        .sync_all()
        .map_err(|e| Attempt::Fatal(io_err(tmp.path())(e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed() -> Packed {
        Packed {
            file: tempfile::NamedTempFile::new().unwrap(),
            digest: Digest::sha256_of(b"layer"),
            size: 5,
            uncompressed_size: 7,
            uncompressed_digest: Digest::sha256_of(b"content"),
        }
    }

    fn config() -> ArtifactConfig {
        ArtifactConfig {
            schema_version: SCHEMA_VERSION,
            built_at: 1_709_251_200,
            build_id: "0123456789abcdef0123456789abcdef".into(),
            generator: "customs test".into(),
            ecosystems: vec![],
            records: 1,
            entries: 2,
            uncompressed_size: 7,
            uncompressed_digest: Digest::sha256_of(b"content").to_string(),
        }
    }

    #[test]
    fn manifest_round_trip_and_refusals() {
        let cfg = config();
        let cfg_bytes = serde_json::to_vec(&cfg).unwrap();
        let p = packed();
        let bytes = manifest_bytes(&cfg, &cfg_bytes, &p).unwrap();
        assert_eq!(
            bytes,
            manifest_bytes(&cfg, &cfg_bytes, &p).unwrap(),
            "deterministic"
        );
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["artifactType"], ARTIFACT_TYPE);
        assert_eq!(v["annotations"][ANNOTATION_CREATED], "2024-03-01T00:00:00Z");
        assert_eq!(v["layers"][0]["annotations"][ANNOTATION_TITLE], LAYER_TITLE);
        let d = Digest::sha256_of(&bytes);
        let o = PullOptions::default();
        let parsed = parse_manifest(&bytes, OCI_MANIFEST, &d, &o).unwrap();
        assert_eq!(parsed.layer_digest, p.digest);
        assert_eq!(parsed.config_size, cfg_bytes.len() as u64);
        assert_eq!(parse_config(&cfg_bytes, &d, &o).unwrap(), cfg);

        let e = parse_manifest(&bytes, "application/vnd.oci.image.index.v1+json", &d, &o);
        assert!(
            e.unwrap_err()
                .contains("not a Customs vulnerability database")
        );
        let small = PullOptions {
            max_compressed: 4,
            ..PullOptions::default()
        };
        assert!(
            parse_manifest(&bytes, OCI_MANIFEST, &d, &small)
                .unwrap_err()
                .contains("exceeds")
        );
        let other = String::from_utf8(bytes.clone()).unwrap().replace(
            &format!("\"{ANNOTATION_SCHEMA}\":\"{SCHEMA_VERSION}\""),
            &format!("\"{ANNOTATION_SCHEMA}\":\"999\""),
        );
        let e = parse_manifest(other.as_bytes(), OCI_MANIFEST, &d, &o).unwrap_err();
        assert!(
            e.contains("built for schema 999")
                && e.contains(&format!("use a tag for schema {SCHEMA_VERSION}")),
            "{e}"
        );

        let mut v: serde_json::Value = serde_json::from_slice(&cfg_bytes).unwrap();
        v["schema_version"] = 999.into();
        v["records"] = "changed meaning".into();
        let e = parse_config(&serde_json::to_vec(&v).unwrap(), &d, &o).unwrap_err();
        assert!(e.contains("built for schema 999"), "{e}");
        let mut bad = cfg.clone();
        bad.build_id = "../x".into();
        assert!(parse_config(&serde_json::to_vec(&bad).unwrap(), &d, &o).is_err());
        let tiny = PullOptions {
            max_uncompressed: 6,
            ..PullOptions::default()
        };
        assert!(
            parse_config(&cfg_bytes, &d, &tiny)
                .unwrap_err()
                .contains("exceeds")
        );
    }

    #[test]
    fn output_is_bounded() {
        let mut o = Output {
            out: Hashing::new(Vec::new(), Algorithm::Sha256),
            limit: 4,
            exceeded: false,
            local: None,
        };
        o.write_all(b"abcd").unwrap();
        assert!(o.write_all(b"e").is_err());
        assert!(o.exceeded && o.local.is_none());
        assert_eq!(o.out.digest(), Digest::sha256_of(b"abcd"));
    }
}

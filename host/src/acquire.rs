//! Where an image comes from: `--image-src` and the default source order.
//!
//! An `--image` argument can name a file or directory on disk, an image in a local
//! Docker engine or podman, or an image in a registry. [`acquire`] tries the sources
//! in order and returns the first image found.
//!
//! **Default order** ([`default_order`]):
//! 1. an argument that is an existing local path (or that looks like one: it starts
//!    with `/`, `./`, `../` or `~`, or ends in `.tar`) is read as an archive or OCI
//!    layout, and nothing else is tried;
//! 2. otherwise `docker`, then `podman`, then `registry`: the image a CI job just
//!    built is in the local daemon, and asking a daemon is cheaper than pulling. This
//!    is the order Trivy uses (docker, containerd, podman, remote).
//!
//! `--image-src` replaces that order with an explicit list ([`parse_sources`]).
//!
//! **When a source fails**, the next one is tried only if the failure means "not
//! here": no daemon, image absent, a name the source does not accept, an image for
//! another platform only. A source that has the image and fails to deliver it (a
//! truncated export, a digest mismatch, a daemon error mid-export) stops the search:
//! falling back would silently scan a possibly different image under the same name.
//! Credentials a registry refuses stop the search too: they are the user's to fix
//! ([`AcquireError::is_usage`]).
//! When no source has the image, the error is one line listing every source tried
//! and why each failed, so a scan never reports "0 packages" for an image it could
//! not read.
use crate::daemon::{self, DaemonKind, DaemonOptions, TempExport};
use crate::image::{self, Image, ImageError, Platform};
use crate::registry::{self, RegistryError, RegistryOptions};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// One place an image can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// The Docker Engine API (`DOCKER_HOST`, else `/var/run/docker.sock`).
    Docker,
    /// podman's Docker-compatible API socket.
    Podman,
    /// A registry (Registry HTTP API v2 / OCI distribution).
    Registry,
    /// A file or directory on disk: docker-archive, OCI archive, OCI layout.
    Archive,
}

impl SourceKind {
    /// Every source, in the order `--image-src` documents them.
    pub const ALL: [SourceKind; 4] = [
        SourceKind::Docker,
        SourceKind::Podman,
        SourceKind::Registry,
        SourceKind::Archive,
    ];

    /// The name used by `--image-src` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Docker => "docker",
            SourceKind::Podman => "podman",
            SourceKind::Registry => "registry",
            SourceKind::Archive => "archive",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SourceKind {
    type Err = AcquireError;

    fn from_str(s: &str) -> Result<SourceKind, AcquireError> {
        let s = s.trim();
        SourceKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| AcquireError::InvalidSources {
                value: s.to_string(),
                reason: format!(
                    "unknown source {s:?}; expected a comma-separated list of {}",
                    SourceKind::ALL.map(SourceKind::name).join(", ")
                ),
            })
    }
}

/// Parses an `--image-src` value: a comma-separated, non-empty list without repeats.
pub fn parse_sources(value: &str) -> Result<Vec<SourceKind>, AcquireError> {
    let mut out = Vec::new();
    for part in value.split(',') {
        if part.trim().is_empty() {
            return Err(AcquireError::InvalidSources {
                value: value.to_string(),
                reason: "empty entry in the list".into(),
            });
        }
        let kind: SourceKind = part.parse().map_err(|e| match e {
            AcquireError::InvalidSources { reason, .. } => AcquireError::InvalidSources {
                value: value.to_string(),
                reason,
            },
            e => e,
        })?;
        if out.contains(&kind) {
            return Err(AcquireError::InvalidSources {
                value: value.to_string(),
                reason: format!("{kind} is listed twice"),
            });
        }
        out.push(kind);
    }
    Ok(out)
}

/// The order tried for an argument that is not a local path (see the module docs).
pub fn default_order() -> &'static [SourceKind] {
    &[SourceKind::Docker, SourceKind::Podman, SourceKind::Registry]
}

/// One sentence describing the default order, for `--help` and the README.
pub fn default_order_description() -> &'static str {
    "an existing local path (or one that looks like a path: /, ./, ../, ~ or *.tar) is \
     read as an archive or OCI layout; anything else is looked up in docker, then \
     podman, then the registry"
}

/// How to acquire an image.
#[derive(Debug, Clone, Default)]
pub struct AcquireOptions {
    /// The sources to try, in order; empty: the default order.
    pub sources: Vec<SourceKind>,
    /// The platform to select from multi-platform images; `None`: for an index, the
    /// host's platform; for a daemon image, the platform the daemon reports.
    pub platform: Option<Platform>,
    /// Daemon endpoints, timeouts and the cache directory for exports.
    pub daemon: DaemonOptions,
    /// Credentials, insecure hosts and CAs for the registry source.
    pub registry: RegistryOptions,
    /// `--offline`: never try the registry (it is the one source that needs the network).
    pub offline: bool,
}

impl AcquireOptions {
    /// Default sources, no platform, daemon endpoints from the environment.
    pub fn from_env() -> AcquireOptions {
        AcquireOptions {
            daemon: DaemonOptions::from_env(),
            ..AcquireOptions::default()
        }
    }
}

/// An acquired image and what must outlive its scan (a daemon export on disk).
#[derive(Debug)]
pub struct Acquired {
    pub image: Image,
    /// Where the image was found.
    pub source: SourceKind,
    /// The export the image's layers are read from; deleted when `Acquired` drops.
    export: Option<TempExport>,
}

impl Acquired {
    /// The temporary export file backing the image, for daemon sources.
    pub fn export_path(&self) -> Option<&Path> {
        self.export.as_ref().map(TempExport::path)
    }
}

/// One source that did not have the image, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub source: SourceKind,
    pub reason: String,
}

/// Why no image was acquired.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    /// No source had the image; each attempt says why.
    #[error("cannot find image {image:?}: {}", join(attempts))]
    NotFound {
        image: String,
        attempts: Vec<Attempt>,
    },
    /// A source had the image but could not deliver it (or refused the
    /// credentials); `earlier` are the sources tried before it.
    #[error(
        "cannot read image {image:?} from {source_kind}: {reason}{}",
        also_tried(earlier)
    )]
    Failed {
        image: String,
        source_kind: SourceKind,
        reason: String,
        earlier: Vec<Attempt>,
        /// The user must fix the command line or credentials (exit code 2).
        usage: bool,
    },
    #[error("invalid --image-src {value:?}: {reason}")]
    InvalidSources { value: String, reason: String },
}

impl AcquireError {
    /// Whether this is a usage error (exit code 2) rather than a failed acquisition.
    pub fn is_usage(&self) -> bool {
        match self {
            AcquireError::InvalidSources { .. } => true,
            AcquireError::Failed { usage, .. } => *usage,
            AcquireError::NotFound { .. } => false,
        }
    }
}

fn also_tried(earlier: &[Attempt]) -> String {
    if earlier.is_empty() {
        String::new()
    } else {
        format!(" (after {})", join(earlier))
    }
}

fn join(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| format!("{}: {}", a.source, a.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether `arg` reads as a filesystem path rather than an image reference.
fn looks_like_path(arg: &str) -> bool {
    arg.starts_with('/')
        || arg.starts_with("./")
        || arg.starts_with("../")
        || arg.starts_with('~')
        || arg == "."
        || arg == ".."
        || arg.ends_with(".tar")
}

/// The sources tried for `image_arg` under `options` (explicit or default order).
pub fn plan(image_arg: &str, options: &AcquireOptions) -> Vec<SourceKind> {
    let mut sources = if !options.sources.is_empty() {
        options.sources.clone()
    } else if looks_like_path(image_arg) || image::reference::resolve(image_arg).is_ok() {
        vec![SourceKind::Archive]
    } else {
        default_order().to_vec()
    };
    if options.offline {
        sources.retain(|s| *s != SourceKind::Registry);
    }
    sources
}

/// What one source made of the request.
enum Outcome {
    Found(Box<Acquired>),
    /// Not here; try the next source.
    Unavailable(String),
    /// Here but unreadable, or refused; stop. The flag marks usage errors.
    Failed(String, bool),
}

/// Acquires `image_arg` from the first source that has it (see the module docs).
pub fn acquire(image_arg: &str, options: &AcquireOptions) -> Result<Acquired, AcquireError> {
    let mut attempts = Vec::new();
    for source in plan(image_arg, options) {
        let outcome = match source {
            SourceKind::Archive => from_archive(image_arg, options),
            SourceKind::Docker => from_daemon(DaemonKind::Docker, image_arg, options),
            SourceKind::Podman => from_daemon(DaemonKind::Podman, image_arg, options),
            SourceKind::Registry => from_registry(image_arg, options),
        };
        match outcome {
            Outcome::Found(acquired) => {
                tracing::debug!(source = %source, image = image_arg, "image acquired");
                return Ok(*acquired);
            }
            Outcome::Unavailable(reason) => {
                tracing::debug!(source = %source, image = image_arg, "{reason}");
                attempts.push(Attempt { source, reason });
            }
            Outcome::Failed(reason, usage) => {
                return Err(AcquireError::Failed {
                    image: image_arg.to_string(),
                    source_kind: source,
                    reason,
                    earlier: attempts,
                    usage,
                });
            }
        }
    }
    Err(AcquireError::NotFound {
        image: image_arg.to_string(),
        attempts,
    })
}

fn from_archive(image_arg: &str, options: &AcquireOptions) -> Outcome {
    match image::open(image_arg, options.platform.as_ref()) {
        Ok(image) => Outcome::Found(Box::new(Acquired {
            image,
            source: SourceKind::Archive,
            export: None,
        })),
        Err(e @ (ImageError::NotFound { .. } | ImageError::NoPlatform { .. })) => {
            Outcome::Unavailable(e.to_string())
        }
        Err(e) => Outcome::Failed(e.to_string(), false),
    }
}

fn from_daemon(kind: DaemonKind, image_arg: &str, options: &AcquireOptions) -> Outcome {
    match daemon::fetch(kind, image_arg, options.platform.as_ref(), &options.daemon) {
        Ok(d) => {
            tracing::debug!(endpoint = %d.endpoint, server = %d.server, "read from daemon");
            Outcome::Found(Box::new(Acquired {
                image: d.image,
                source: match kind {
                    DaemonKind::Docker => SourceKind::Docker,
                    DaemonKind::Podman => SourceKind::Podman,
                },
                export: Some(d.export),
            }))
        }
        Err(e) if e.is_unavailable() => Outcome::Unavailable(e.to_string()),
        Err(e) => Outcome::Failed(e.to_string(), false),
    }
}

fn from_registry(image_arg: &str, options: &AcquireOptions) -> Outcome {
    match registry::open(image_arg, options.platform.as_ref(), &options.registry) {
        Ok(image) => Outcome::Found(Box::new(Acquired {
            image,
            source: SourceKind::Registry,
            export: None,
        })),
        Err(e) => {
            // Not a registry reference, no such repository or tag, no such platform,
            // registry unreachable: not here. Wrong credentials are the user's to fix
            // and stop the search, like any failure to deliver an image that exists.
            let unavailable = e.is_not_found()
                || matches!(
                    e,
                    RegistryError::InvalidReference { .. }
                        | RegistryError::Connect { .. }
                        | RegistryError::NoPlatform { .. }
                );
            if unavailable {
                Outcome::Unavailable(e.to_string())
            } else {
                Outcome::Failed(e.to_string(), e.is_usage_error())
            }
        }
    }
}

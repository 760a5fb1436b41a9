//! Registry failures as one-line messages that say which registry, repository and
//! reference were involved, and what the user can do about it.
//!
//! Registries explain refusals in a JSON body (`{"errors":[{"code":"MANIFEST_UNKNOWN",
//! "message":…}]}`); the code is what we branch on, because status codes alone
//! conflate "no such tag", "no such repository" and "not allowed to see it".
use crate::image::ImageError;
use serde::Deserialize;

/// Everything that can go wrong pulling an image.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    /// Contradictory or incomplete credential options (a usage error).
    #[error("registry credentials: {0}")]
    Credentials(String),
    /// Unreadable CA file, malformed proxy, … (a usage error).
    #[error("registry client configuration: {0}")]
    Config(String),
    #[error(
        "{registry}: authentication failed for repository {repository} ({reference}): {detail}"
    )]
    Unauthorized {
        registry: String,
        repository: String,
        reference: String,
        detail: String,
    },
    #[error("{registry}: access denied to repository {repository} ({reference}): {detail}")]
    Denied {
        registry: String,
        repository: String,
        reference: String,
        detail: String,
    },
    #[error("{registry}: repository {repository} not found (looking for {reference}){detail}")]
    NameUnknown {
        registry: String,
        repository: String,
        reference: String,
        detail: String,
    },
    #[error("{registry}: manifest {reference} not found in repository {repository}{detail}")]
    ManifestUnknown {
        registry: String,
        repository: String,
        reference: String,
        detail: String,
    },
    #[error("{registry}: blob {digest} not found in repository {repository} ({reference})")]
    BlobUnknown {
        registry: String,
        repository: String,
        reference: String,
        digest: String,
    },
    #[error(
        "{registry}: too many requests for repository {repository} ({reference}), still rate limited after {attempts} attempts{detail}"
    )]
    TooManyRequests {
        registry: String,
        repository: String,
        reference: String,
        attempts: u32,
        detail: String,
    },
    #[error("{registry}: {what} for repository {repository} ({reference}) failed: {detail}")]
    Http {
        registry: String,
        repository: String,
        reference: String,
        what: String,
        detail: String,
    },
    #[error("{registry}: cannot connect: {detail}")]
    Connect { registry: String, detail: String },
    #[error("{registry}/{repository}:{reference}: {detail}")]
    Invalid {
        registry: String,
        repository: String,
        reference: String,
        detail: String,
    },
    #[error(
        "{registry}/{repository} ({reference}): no image for platform {platform}; available: {available}"
    )]
    NoPlatform {
        registry: String,
        repository: String,
        reference: String,
        platform: String,
        available: String,
    },
    #[error(
        "{registry}/{repository} ({reference}): several images match platform {platform}, pick one by digest: {available}"
    )]
    AmbiguousPlatform {
        registry: String,
        repository: String,
        reference: String,
        platform: String,
        available: String,
    },
    /// Verification and format errors shared with local images (digest, size, config).
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl RegistryError {
    /// Errors the user fixes on the command line (bad reference, credentials,
    /// configuration, wrong credentials): the CLI exits with code 2 for these.
    pub fn is_usage_error(&self) -> bool {
        matches!(
            self,
            RegistryError::InvalidReference { .. }
                | RegistryError::Credentials(_)
                | RegistryError::Config(_)
                | RegistryError::Unauthorized { .. }
                | RegistryError::Denied { .. }
        )
    }

    /// The image does not exist there (unknown repository or tag), as opposed to
    /// the registry being unreachable; source fallback logic can tell them apart.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            RegistryError::NameUnknown { .. } | RegistryError::ManifestUnknown { .. }
        )
    }
}

/// One entry of a registry error body.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEntry {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

/// Parses a registry error body; anything else yields no entries.
pub fn parse_error_body(body: &[u8]) -> Vec<ErrorEntry> {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

/// Where a failed response came from, for the message.
pub struct Context<'a> {
    pub registry: &'a str,
    pub repository: &'a str,
    pub reference: &'a str,
    /// `manifest request`, `blob sha256:… request`, …
    pub what: &'a str,
}

/// Keeps server-supplied text to one short printable line.
pub fn one_line(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out.trim().to_string()
}

/// Maps a non-success response to an error. `attempts` is how often a rate-limited
/// request was tried.
pub fn from_response(ctx: &Context<'_>, status: u16, body: &[u8], attempts: u32) -> RegistryError {
    let entries = parse_error_body(body);
    let code = entries.first().map(|e| e.code.as_str()).unwrap_or("");
    let message = entries
        .iter()
        .map(|e| {
            if e.message.is_empty() {
                e.code.clone()
            } else {
                format!("{}: {}", e.code, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let message = one_line(&message);
    let registry = ctx.registry.to_string();
    let repository = ctx.repository.to_string();
    let reference = ctx.reference.to_string();
    let suffix = |m: &str| {
        if m.is_empty() {
            String::new()
        } else {
            format!(" ({m})")
        }
    };
    match (code, status) {
        ("UNAUTHORIZED", _) | ("", 401) => RegistryError::Unauthorized {
            registry,
            repository,
            reference,
            detail: if message.is_empty() {
                "HTTP 401: check --username/--password, CUSTOMS_REGISTRY_USERNAME/PASSWORD or the docker config".into()
            } else {
                format!("{message}; check the credentials")
            },
        },
        ("DENIED", _) | ("", 403) => RegistryError::Denied {
            registry,
            repository,
            reference,
            detail: if message.is_empty() {
                "HTTP 403".into()
            } else {
                message
            },
        },
        ("NAME_UNKNOWN", _) => RegistryError::NameUnknown {
            registry,
            repository,
            reference,
            detail: suffix(&message),
        },
        ("MANIFEST_UNKNOWN", _) | ("TAG_INVALID", _) => RegistryError::ManifestUnknown {
            registry,
            repository,
            reference,
            detail: suffix(&message),
        },
        ("", 404) if ctx.what == "manifest request" => RegistryError::ManifestUnknown {
            registry,
            repository,
            reference,
            detail: String::new(),
        },
        ("TOOMANYREQUESTS", _) | ("", 429) => RegistryError::TooManyRequests {
            registry,
            repository,
            reference,
            attempts,
            detail: suffix(&message),
        },
        _ => RegistryError::Http {
            registry,
            repository,
            reference,
            what: ctx.what.to_string(),
            detail: if message.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {message}")
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_one_line_messages() {
        let ctx = Context {
            registry: "r.io",
            repository: "a/b",
            reference: "1",
            what: "manifest request",
        };
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1"}}]}"#;
        let e = from_response(&ctx, 404, body, 1).to_string();
        assert_eq!(
            e,
            "r.io: manifest 1 not found in repository a/b (MANIFEST_UNKNOWN: manifest unknown)"
        );
        let e = from_response(&ctx, 404, br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#, 1);
        assert!(e.is_not_found());
        assert!(e.to_string().contains("repository a/b not found"));
        let e = from_response(&ctx, 401, b"not json\n\x1b[31m", 1);
        assert!(e.is_usage_error());
        assert!(!e.to_string().contains('\n'));
        let e = from_response(
            &ctx,
            429,
            br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
            5,
        );
        assert!(e.to_string().contains("after 5 attempts"));
        let e = from_response(&ctx, 500, b"", 3).to_string();
        assert_eq!(
            e,
            "r.io: manifest request for repository a/b (1) failed: HTTP 500"
        );
    }
}

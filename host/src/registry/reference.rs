//! Docker image references: `[HOST[:PORT]/]PATH[:TAG][@ALG:HEX]`.
//!
//! The rules are Docker's, so that a reference means here what it means to
//! `docker pull`: the first component is a registry host only if it contains a `.`
//! or a `:` or is `localhost`; otherwise the image is on Docker Hub, where one-part
//! names live under `library/` (`debian` → `docker.io/library/debian:latest`).
//! Names are validated with the distribution grammar before they are spliced into
//! URLs, so a hostile reference cannot smuggle `..`, `?` or `#` into a request path.
use super::errors::RegistryError;
use crate::image::digest::Digest;
use std::fmt;

/// Docker Hub's canonical name, as written in references and credential keys.
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API actually lives.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// What a reference points at inside a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tag(String),
    /// A digest, optionally written together with a tag (`repo:tag@sha256:…`); the
    /// digest decides, the tag is kept for the report.
    Digest {
        digest: Digest,
        tag: Option<String>,
    },
}

/// A parsed, validated reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`, … (`index.docker.io` becomes `docker.io`).
    pub registry: String,
    /// `library/debian`, `test/debian`.
    pub repository: String,
    pub target: Target,
}

const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

impl Reference {
    /// Parses a reference; a missing tag means `latest`.
    pub fn parse(input: &str) -> Result<Reference, RegistryError> {
        let bad = |reason: String| RegistryError::InvalidReference {
            reference: input.chars().take(300).collect(),
            reason,
        };
        if input.is_empty() {
            return Err(bad("empty reference".into()));
        }
        if input.len() > 4096 {
            return Err(bad("reference is longer than 4096 bytes".into()));
        }
        let (name_tag, digest) = match input.split_once('@') {
            Some((n, d)) => (n, Some(Digest::parse(d).map_err(|e| bad(e.to_string()))?)),
            None => (input, None),
        };
        // The tag separator is a `:` after the last `/` (a `:` before it is a port).
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(bad(format!(
                "invalid tag {t:?} (letters, digits, `_`, `.`, `-`; at most 128, not starting with `.` or `-`)"
            )));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first, rest)
            }
            _ => (DOCKER_HUB, name),
        };
        if !valid_host(registry) {
            return Err(bad(format!("invalid registry host {registry:?}")));
        }
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        if path.is_empty() {
            return Err(bad("missing repository name".into()));
        }
        if path.len() > MAX_NAME_LEN {
            return Err(bad(format!(
                "repository name longer than {MAX_NAME_LEN} characters"
            )));
        }
        if let Some(c) = path.split('/').find(|c| !valid_component(c)) {
            return Err(bad(format!(
                "invalid repository name component {c:?} (lower-case letters, digits and single separators `.`, `_`, `__`, `-`)"
            )));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        let tag = tag.map(str::to_string);
        let target = match digest {
            Some(digest) => Target::Digest { digest, tag },
            None => Target::Tag(tag.unwrap_or_else(|| "latest".into())),
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository,
            target,
        })
    }

    /// The host the HTTP API is served from (Docker Hub's API host differs from its name).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// What goes after `/manifests/`: the digest when there is one, else the tag.
    pub fn manifest_ref(&self) -> String {
        match &self.target {
            Target::Tag(t) => t.clone(),
            Target::Digest { digest, .. } => digest.to_string(),
        }
    }

    /// The tag, if the reference names one.
    pub fn tag(&self) -> Option<&str> {
        match &self.target {
            Target::Tag(t) => Some(t),
            Target::Digest { tag, .. } => tag.as_deref(),
        }
    }

    /// `REGISTRY/REPOSITORY`, how messages name the repository.
    pub fn repo_display(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for Reference {
    /// The canonical, fully qualified form (`docker.io/library/debian:12`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        match &self.target {
            Target::Tag(t) => write!(f, ":{t}"),
            Target::Digest { digest, tag } => {
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                write!(f, "@{digest}")
            }
        }
    }
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= MAX_TAG_LEN
        && t.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && (b == b'.' || b == b'-'))
        })
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A DNS name or IPv4 address with an optional port, or a bracketed IPv6 address.
fn valid_host(h: &str) -> bool {
    let (host, port) = if let Some(rest) = h.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, tail)) => {
                if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
                    return false;
                }
                (None, tail.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match h.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(h), None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    match host {
        None => true,
        Some(host) => {
            !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docker_hub_defaults() {
        let r = p("debian");
        assert_eq!(r.to_string(), "docker.io/library/debian:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(p("debian:12").manifest_ref(), "12");
        assert_eq!(p("user/app").repository, "user/app");
        assert_eq!(
            p("index.docker.io/library/debian:12").to_string(),
            "docker.io/library/debian:12"
        );
        assert_eq!(p("docker.io/debian").repository, "library/debian");
    }

    #[test]
    fn hosts_ports_tags_digests() {
        let r = p("127.0.0.1:5000/test/debian:1");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "test/debian");
        assert_eq!(r.tag(), Some("1"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("localhost/x@{d}"));
        assert_eq!(r.registry, "localhost");
        assert_eq!(r.manifest_ref(), d);
        assert_eq!(r.tag(), None);
        let r = p(&format!("ghcr.io/o/r:v1@{d}"));
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.manifest_ref(), d);
        assert_eq!(r.to_string(), format!("ghcr.io/o/r:v1@{d}"));
        assert_eq!(p("[::1]:5000/a").registry, "[::1]:5000");
        assert_eq!(p("a__b/c-d/e.f_g").repository, "a__b/c-d/e.f_g");
    }

    #[test]
    fn rejects_hostile_or_malformed() {
        for bad in [
            "",
            "Debian",
            "a/../b",
            "a//b",
            "a/b:",
            "a/b:-x",
            "a/b@sha256:zz",
            "host:99999999/a",
            "a/b?x",
            "a/b#c",
            "a/b:t/c",
            "x.io/",
            "a/b@",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Reference::parse(&"a".repeat(300)).is_err());
    }
}

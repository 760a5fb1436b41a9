//! The `--image` argument: a local path, optionally followed by a selector that picks
//! one image out of a multi-image archive or index.
//!
//! Forms: `PATH`, `PATH:NAME`, `PATH:NAME:TAG`, `PATH@sha256:HEX`, `PATH:NAME@sha256:HEX`.
//! Paths may themselves contain `:` or `@`, so the longest prefix that exists on disk
//! wins: `a:b.tar` is the file `a:b.tar` when it exists, and `a` with selector `b.tar`
//! only when it does not.
use super::ImageError;
use super::digest::Digest;
use std::path::{Path, PathBuf};

/// Which image of a multi-image source the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A repository name with or without tag (`debian`, `debian:12`,
    /// `docker.io/library/debian:12`) or a bare OCI `ref.name` (`12`).
    Name(String),
    /// A manifest digest (or, for docker-archives, which carry no manifest, the
    /// config digest, i.e. the image ID).
    Digest(Digest),
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Name(n) => f.write_str(n),
            Selector::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// The parsed `--image` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageArg {
    pub path: PathBuf,
    pub selector: Option<Selector>,
}

/// Splits `reference` into an existing path and an optional selector.
pub fn resolve(reference: &str) -> Result<ImageArg, ImageError> {
    resolve_with(reference, |p| p.exists())
}

/// [`resolve`] with an injectable existence check (unit tests).
fn resolve_with(reference: &str, exists: impl Fn(&Path) -> bool) -> Result<ImageArg, ImageError> {
    if reference.is_empty() {
        return Err(ImageError::InvalidReference {
            reference: String::new(),
            reason: "empty image reference".into(),
        });
    }
    if exists(Path::new(reference)) {
        return Ok(ImageArg {
            path: PathBuf::from(reference),
            selector: None,
        });
    }
    // Candidate split points, right to left: the longest path prefix is tried first.
    let splits: Vec<usize> = reference
        .char_indices()
        .filter(|&(_, c)| c == ':' || c == '@')
        .map(|(i, _)| i)
        .rev()
        .collect();
    for i in splits {
        let (path, rest) = reference.split_at(i);
        if path.is_empty() || !exists(Path::new(path)) {
            continue;
        }
        // `@` belongs to the digest selector; `:` is only the separator.
        let sel = if rest.starts_with('@') {
            rest
        } else {
            &rest[1..]
        };
        let selector = parse_selector(sel).map_err(|reason| ImageError::InvalidReference {
            reference: reference.to_string(),
            reason,
        })?;
        return Ok(ImageArg {
            path: PathBuf::from(path),
            selector: Some(selector),
        });
    }
    Err(ImageError::NotFound {
        path: reference.to_string(),
    })
}

fn parse_selector(sel: &str) -> Result<Selector, String> {
    if sel.is_empty() {
        return Err("empty image selector after the path".into());
    }
    if let Some((name, digest)) = sel.rsplit_once('@') {
        // `name@sha256:…`: the digest is exact, the name adds nothing to the choice.
        let _ = name;
        return Digest::parse(digest)
            .map(Selector::Digest)
            .map_err(|e| e.to_string());
    }
    if sel.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("image selector {sel:?} contains whitespace"));
    }
    Ok(Selector::Name(sel.to_string()))
}

/// Canonical form of a repository reference, the way Docker expands short names:
/// `debian` → `docker.io/library/debian:latest`. Digest suffixes are dropped.
pub fn normalize_name(name: &str) -> String {
    let name = name.split('@').next().unwrap_or(name);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let has_tag = name[last_slash..].contains(':');
    let (domain, remainder) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let domain = if domain == "index.docker.io" {
        "docker.io".to_string()
    } else {
        domain
    };
    let remainder = if domain == "docker.io" && !remainder.contains('/') {
        format!("library/{remainder}")
    } else {
        remainder
    };
    let tag = if has_tag { "" } else { ":latest" };
    format!("{domain}/{remainder}{tag}")
}

/// The explicit tag of a reference (`debian:12` → `12`), if it has one.
pub fn explicit_tag(name: &str) -> Option<&str> {
    let name = name.split('@').next().unwrap_or(name);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    name[last_slash..].rsplit_once(':').map(|(_, t)| t)
}

/// Whether a repository name recorded in the source (`RepoTags`,
/// `io.containerd.image.name`) is what the user's selector names.
pub fn repo_name_matches(selector: &str, recorded: &str) -> bool {
    selector == recorded || normalize_name(selector) == normalize_name(recorded)
}

/// Whether an OCI `org.opencontainers.image.ref.name` matches: either the whole
/// name (`debian:12`, `docker.io/library/debian:12`) or, as skopeo and umoci write
/// only the tag there, the selector's explicit tag (`debian:12` matches `12`).
pub fn ref_name_matches(selector: &str, ref_name: &str) -> bool {
    if selector == ref_name {
        return true;
    }
    if explicit_tag(selector) == Some(ref_name) {
        return true;
    }
    // A full reference stored as ref.name (containerd, Docker 25+ write these).
    (ref_name.contains('/') || ref_name.contains(':')) && repo_name_matches(selector, ref_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_existing_prefix_wins() {
        let exists = |p: &Path| matches!(p.to_str(), Some("img.tar" | "a:b.tar" | "dir"));
        let r = resolve_with("img.tar:debian:12", exists).unwrap();
        assert_eq!(r.path, PathBuf::from("img.tar"));
        assert_eq!(r.selector, Some(Selector::Name("debian:12".into())));
        let r = resolve_with("a:b.tar", exists).unwrap();
        assert_eq!(r.selector, None);
        let d = format!("sha256:{}", "a".repeat(64));
        let r = resolve_with(&format!("dir@{d}"), exists).unwrap();
        assert_eq!(r.selector, Some(Selector::Digest(d.parse().unwrap())));
        let r = resolve_with(&format!("dir:x@{d}"), exists).unwrap();
        assert_eq!(r.selector, Some(Selector::Digest(d.parse().unwrap())));
        assert!(matches!(
            resolve_with("nope:x", exists),
            Err(ImageError::NotFound { .. })
        ));
        assert!(resolve_with("img.tar:", exists).is_err());
        assert!(resolve_with("img.tar@sha256:zz", exists).is_err());
    }

    #[test]
    fn name_matching() {
        assert_eq!(normalize_name("debian"), "docker.io/library/debian:latest");
        assert_eq!(
            normalize_name("localhost:5000/a/b:1"),
            "localhost:5000/a/b:1"
        );
        assert!(repo_name_matches(
            "debian:12",
            "docker.io/library/debian:12"
        ));
        assert!(!repo_name_matches("debian:12", "debian:11"));
        assert!(ref_name_matches("debian:12", "12"));
        assert!(ref_name_matches("12", "12"));
        assert!(!ref_name_matches("debian", "latest"));
        assert!(ref_name_matches(
            "debian",
            "docker.io/library/debian:latest"
        ));
    }
}

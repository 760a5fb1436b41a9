//! The scanned image as a VEX product: does a statement's product (`pkg:oci/…`,
//! `pkg:docker/…`, a bare digest) designate the image under scan?
//!
//! A digest is decisive: a product that pins one designates the image only when it
//! is one of the image's digests, whatever its name says. Without a digest, the
//! product's repository name (and tag, when it gives one) must agree with the
//! reference the image was scanned by.
use super::purl_match::Purl;

/// What identifies the scanned image.
#[derive(Debug, Clone, Default)]
pub struct ImageIdentity {
    /// `algorithm:hex`, lower case (config, manifest, and the reference's digest).
    digests: Vec<String>,
    /// The reference's repository (`docker.io/library/debian`) when it is one.
    repository: Option<Repository>,
    /// The reference's tag; `latest` when the reference names none.
    tag: Option<String>,
}

/// A repository split into registry host and path, with Docker Hub's defaults
/// applied so that `debian`, `library/debian` and `docker.io/library/debian` agree.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Repository {
    registry: String,
    path: String,
}

impl ImageIdentity {
    pub fn new(reference: &str, digests: &[String]) -> ImageIdentity {
        let mut identity = ImageIdentity {
            digests: digests
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            ..ImageIdentity::default()
        };
        let reference = reference.trim();
        // Archive paths and URLs are not registry references: only digests can match.
        if reference.is_empty() || reference.contains("://") || reference.starts_with(['/', '.']) {
            return identity;
        }
        let (name, digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (reference, None),
        };
        if let Some(digest) = digest {
            identity.digests.push(digest.to_ascii_lowercase());
        }
        let (name, tag) = match name.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (name, None),
        };
        identity.repository = Repository::parse(name);
        identity.tag = Some(
            tag.unwrap_or(if digest.is_some() { "" } else { "latest" })
                .to_string(),
        )
        .filter(|t| !t.is_empty());
        identity
    }

    /// Whether `digest` (`sha256:…`) is one of the image's.
    pub fn has_digest(&self, digest: &str) -> bool {
        let digest = digest.trim().to_ascii_lowercase();
        self.digests.contains(&digest)
    }

    /// Whether the image purl `product` designates the scanned image.
    pub fn is_designated_by(&self, product: &Purl) -> bool {
        if let Some(digest) = product.image_digest() {
            return self.has_digest(&digest);
        }
        let Some(repository) = &self.repository else {
            return false;
        };
        match product.ty.as_str() {
            // pkg:oci/<name>?repository_url=<registry/path>&tag=<tag>
            "oci" => {
                let last = repository.path.rsplit('/').next().unwrap_or_default();
                let same_repository = match product.qualifiers.get("repository_url") {
                    Some(url) => Repository::parse(url).as_ref() == Some(repository),
                    None => true,
                };
                product.name == last
                    && same_repository
                    && self.same_tag(product.qualifiers.get("tag").map(String::as_str))
            }
            // pkg:docker/<namespace>/<name>@<tag>?repository_url=<registry>
            "docker" => {
                let path = match product.namespace.as_str() {
                    "" => format!("library/{}", product.name),
                    namespace => format!("{namespace}/{}", product.name),
                };
                let registry = product
                    .qualifiers
                    .get("repository_url")
                    .map(|r| registry_host(r))
                    .unwrap_or_else(|| "docker.io".to_string());
                path == repository.path
                    && registry == repository.registry
                    && self.same_tag(product.version.as_deref())
            }
            _ => false,
        }
    }

    fn same_tag(&self, wanted: Option<&str>) -> bool {
        match (wanted, &self.tag) {
            (None, _) => true,
            (Some(wanted), Some(tag)) => wanted == tag,
            // The reference pinned a digest only: its tag is unknown.
            (Some(_), None) => false,
        }
    }
}

impl Repository {
    /// Splits `registry/path`; without a registry host, Docker Hub is meant.
    fn parse(name: &str) -> Option<Repository> {
        let name = name
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        if name.is_empty() {
            return None;
        }
        let (first, rest) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first), rest)
            }
            _ => (None, name),
        };
        let registry = first
            .map(registry_host)
            .unwrap_or_else(|| "docker.io".to_string());
        let path = if registry == "docker.io" && !rest.contains('/') {
            format!("library/{rest}")
        } else {
            rest.to_string()
        };
        Some(Repository {
            registry,
            path: path.to_ascii_lowercase(),
        })
    }
}

/// A registry host in canonical form (`index.docker.io` is Docker Hub).
fn registry_host(host: &str) -> String {
    let host = host
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "sha256:4f8b3c1fa1d2e3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c";

    fn image(reference: &str) -> ImageIdentity {
        ImageIdentity::new(reference, &[CONFIG.to_string()])
    }

    fn designates(reference: &str, purl: &str) -> bool {
        image(reference).is_designated_by(&Purl::parse(purl).unwrap())
    }

    #[test]
    fn digest_is_decisive() {
        let oci = format!("pkg:oci/debian@{}", CONFIG.replace(':', "%3A"));
        assert!(designates("debian:12", &oci));
        assert!(designates("image.tar", &oci));
        assert!(
            designates("ghcr.io/acme/other:1", &oci),
            "a matching digest wins over the name"
        );
        assert!(!designates(
            "debian:12",
            "pkg:oci/debian@sha256%3A0000000000000000000000000000000000000000000000000000000000000000"
        ));
        assert!(designates(
            "debian@sha256:aaaa",
            "pkg:oci/debian@sha256:AAAA"
        ));
    }

    #[test]
    fn oci_names_without_digest() {
        assert!(designates("debian:12", "pkg:oci/debian"));
        assert!(designates("debian:12", "pkg:oci/debian?tag=12"));
        assert!(!designates("debian:12", "pkg:oci/debian?tag=11"));
        assert!(designates("debian", "pkg:oci/debian?tag=latest"));
        assert!(designates(
            "docker.io/library/debian:12",
            "pkg:oci/debian?repository_url=index.docker.io/library/debian"
        ));
        assert!(designates(
            "ghcr.io/acme/app:v1",
            "pkg:oci/app?repository_url=ghcr.io/acme/app&tag=v1"
        ));
        assert!(!designates(
            "ghcr.io/acme/app:v1",
            "pkg:oci/app?repository_url=quay.io/acme/app"
        ));
        assert!(!designates("ghcr.io/acme/app:v1", "pkg:oci/api"));
        assert!(designates(
            "localhost:5000/app:v1",
            "pkg:oci/app?repository_url=localhost:5000/app"
        ));
    }

    #[test]
    fn docker_names_without_digest() {
        assert!(designates("debian:12", "pkg:docker/debian@12"));
        assert!(designates("debian:12", "pkg:docker/library/debian"));
        assert!(!designates("debian:12", "pkg:docker/library/debian@11"));
        assert!(designates(
            "ghcr.io/acme/app:v1",
            "pkg:docker/acme/app@v1?repository_url=ghcr.io"
        ));
        assert!(!designates("ghcr.io/acme/app:v1", "pkg:docker/acme/app@v1"));
    }

    #[test]
    fn archives_match_only_by_digest() {
        assert!(!designates("./debian.tar", "pkg:oci/debian"));
        assert!(!designates("/tmp/debian", "pkg:docker/debian"));
        assert!(
            image("oci-layout.tar")
                .has_digest(&CONFIG.to_ascii_uppercase().replace("SHA256", "sha256"))
        );
    }
}

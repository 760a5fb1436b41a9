//! The OCI image / Docker distribution JSON model shared by every reader: media types,
//! descriptors, indexes, manifests, and the rules for picking an index entry by
//! platform and for checking a manifest against its config.
//!
//! Local layouts ([`super::oci`]), `docker save` archives ([`super::docker_archive`])
//! and registries ([`crate::registry`]) read the same documents; keeping one model
//! means a fix to how a descriptor or a platform is interpreted reaches all of them.
//! Each reader still reports errors its own way (an `ImageError` naming a file, a
//! `RegistryError` naming a repository), so the selection helpers return what they
//! found and leave the message to the caller.
use super::digest::{Digest, digest_like};
use super::{ImageError, Limits, Platform};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Prefix of the Docker schema 1 media types (`…v1+json`, `…v1+prettyjws`).
pub const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";

/// Whether a config descriptor's media type is a container image config (anything
/// else is an artifact: a Helm chart, a signature, an SBOM).
pub fn is_image_config(media_type: &str) -> bool {
    media_type == OCI_CONFIG || media_type == DOCKER_CONFIG
}

/// A content descriptor: what an index entry, a manifest's config or a layer points at.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub platform: Option<PlatformJson>,
}

/// A descriptor's `platform` object as written; fields the selection ignores
/// (`os.version`, `os.features`) are not kept.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PlatformJson {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Deserialize)]
pub(crate) struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// An image manifest (OCI or Docker schema 2). `C` is the type of `config`: a
/// [`Descriptor`] where a manifest without one is malformed (so serde names the
/// missing field), `Option<Descriptor>` where the document may still turn out to be an
/// index (a registry answer without a media type). `schemaVersion` and `manifests`
/// are read so that schema 1 documents and such indexes can be recognized.
#[derive(Debug, Deserialize)]
pub(crate) struct Manifest<C = Descriptor> {
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: Option<u64>,
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub config: C,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

impl Descriptor {
    /// The platform the entry declares, when it names both an OS and an architecture;
    /// a partial one is treated as none rather than matched loosely.
    pub fn platform(&self) -> Option<Platform> {
        self.platform
            .as_ref()
            .filter(|p| !p.os.is_empty() && !p.architecture.is_empty())
            .map(|p| Platform::new(&p.os, &p.architecture, p.variant.as_deref()))
    }

    /// Whether an index entry is attached metadata rather than a runnable image:
    /// BuildKit marks its provenance/SBOM manifests with an annotation and the platform
    /// `unknown/unknown`. Such entries are never candidates, or every multi-platform
    /// image built with attestations would look ambiguous.
    pub fn is_attachment(&self) -> bool {
        let attestation = self
            .annotations
            .as_ref()
            .and_then(|a| a.get("vnd.docker.reference.type"))
            .is_some_and(|t| t == "attestation-manifest");
        let unknown_platform = self
            .platform()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
        attestation || unknown_platform
    }
}

/// The outcome of matching index entries against a wanted platform.
pub(crate) enum PlatformMatch<'a, T> {
    /// Exactly one entry fits, or several fit and exactly one is the very platform.
    One(&'a T),
    /// None fits; the distinct platforms on offer, sorted, `unspecified` standing for
    /// entries without one.
    Nothing { available: Vec<String> },
    /// Several fit equally well, in index order.
    Several(Vec<&'a T>),
}

/// Matches `candidates` against `wanted` the way `docker pull --platform` does: an
/// entry fits when its platform satisfies the request (see [`Platform::satisfies`]);
/// among several, an exact match wins, so `linux/arm64` picks `linux/arm64/v8` over
/// nothing but is not silently resolved between `v6` and `v7`.
pub(crate) fn match_platform<'a, T>(
    candidates: &'a [T],
    platform_of: impl Fn(&T) -> Option<&Platform>,
    wanted: &Platform,
) -> PlatformMatch<'a, T> {
    let fits: Vec<&T> = candidates
        .iter()
        .filter(|c| platform_of(c).is_some_and(|p| p.satisfies(wanted)))
        .collect();
    match fits.as_slice() {
        [one] => PlatformMatch::One(one),
        [] => {
            let mut available: Vec<String> = candidates
                .iter()
                .map(|c| platform_of(c).map_or("unspecified".into(), Platform::to_string))
                .collect();
            available.sort();
            available.dedup();
            PlatformMatch::Nothing { available }
        }
        many => {
            let exact: Vec<&T> = many
                .iter()
                .copied()
                .filter(|c| platform_of(c) == Some(wanted))
                .collect();
            match exact.as_slice() {
                [one] => PlatformMatch::One(one),
                _ => PlatformMatch::Several(fits),
            }
        }
    }
}

/// Refuses a descriptor whose claimed size is beyond any real blob, before anything
/// is allocated or read on its word.
pub(crate) fn check_size(
    size: u64,
    file: &str,
    field: &str,
    limits: &Limits,
) -> Result<(), ImageError> {
    if size > limits.max_blob_size {
        return Err(ImageError::TooLarge {
            what: format!("{file}: {field}"),
            size,
            limit: limits.max_blob_size,
        });
    }
    Ok(())
}

/// Checks fetched bytes against the descriptor that named them: the size first (when
/// known, and cheaper), then the digest. `file` names where they came from.
pub(crate) fn verify_bytes(
    bytes: &[u8],
    digest: &Digest,
    size: Option<u64>,
    file: &str,
) -> Result<(), ImageError> {
    if let Some(size) = size
        && bytes.len() as u64 != size
    {
        return Err(ImageError::SizeMismatch {
            blob: digest.to_string(),
            file: file.to_string(),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    let got = digest_like(digest, bytes);
    if &got != digest {
        return Err(ImageError::DigestMismatch {
            blob: digest.to_string(),
            file: file.to_string(),
            got: got.to_string(),
        });
    }
    Ok(())
}

/// When no index entry declared a platform, the config's platform is the only
/// statement of what the image runs on; an explicit `--platform` must match it.
/// `path` names the image in the error and is only built when there is one.
pub(crate) fn check_config_platform(
    config: &Platform,
    wanted: Option<&Platform>,
    path: impl FnOnce() -> String,
) -> Result<(), ImageError> {
    if let Some(wanted) = wanted
        && !config.satisfies(wanted)
    {
        return Err(ImageError::NoPlatform {
            path: path(),
            platform: wanted.to_string(),
            available: config.to_string(),
        });
    }
    Ok(())
}

/// Checks the manifest's layer list against the config: bounded in number, and one
/// layer per `rootfs.diff_ids` entry, since each layer is verified against its diffID.
/// `layers_field` names the manifest's list ("FILE: layers"), `config_file` the config.
pub(crate) fn check_layer_count(
    layers: usize,
    diff_ids: usize,
    layers_field: &str,
    config_file: &str,
    limits: &Limits,
) -> Result<(), ImageError> {
    if layers > limits.max_layers {
        return Err(ImageError::TooLarge {
            what: layers_field.to_string(),
            size: layers as u64,
            limit: limits.max_layers as u64,
        });
    }
    if diff_ids != layers {
        return Err(ImageError::LayerCountMismatch {
            file: config_file.to_string(),
            diff_ids,
            layers,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn platform_matching() {
        let entries = [
            Some(p("linux/amd64")),
            Some(p("linux/arm/v6")),
            Some(p("linux/arm/v7")),
            Some(p("linux/arm64/v8")),
            None,
        ];
        let m = |w: &str| match_platform(&entries, Option::as_ref, &p(w));
        assert!(matches!(m("linux/x86_64"), PlatformMatch::One(Some(q)) if q == &p("linux/amd64")));
        assert!(
            matches!(m("linux/arm64"), PlatformMatch::One(Some(q)) if q == &p("linux/arm64/v8"))
        );
        assert!(
            matches!(m("linux/arm/v7"), PlatformMatch::One(Some(q)) if q == &p("linux/arm/v7"))
        );
        match m("windows/amd64") {
            PlatformMatch::Nothing { available } => assert_eq!(
                available,
                [
                    "linux/amd64",
                    "linux/arm/v6",
                    "linux/arm/v7",
                    "linux/arm64/v8",
                    "unspecified"
                ]
            ),
            _ => panic!("windows/amd64 must match nothing"),
        }
        let twins = [Some(p("linux/riscv64/a")), Some(p("linux/riscv64/b"))];
        assert!(matches!(
            match_platform(&twins, Option::as_ref, &p("linux/riscv64")),
            PlatformMatch::Several(v) if v.len() == 2
        ));
    }

    #[test]
    fn attachments_and_config_presence() {
        let d: Descriptor = serde_json::from_str(
            r#"{"mediaType":"x","digest":"d","size":1,"platform":{"os":"unknown","architecture":"unknown"}}"#,
        )
        .unwrap();
        assert!(d.is_attachment());
        let d: Descriptor = serde_json::from_str(
            r#"{"digest":"d","size":1,"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}"#,
        )
        .unwrap();
        assert!(d.is_attachment() && d.platform().is_none());
        let index = br#"{"schemaVersion":2,"manifests":[]}"#;
        let e = serde_json::from_slice::<Manifest>(index).unwrap_err();
        assert!(e.to_string().contains("missing field `config`"), "{e}");
        let m: Manifest<Option<Descriptor>> = serde_json::from_slice(index).unwrap();
        assert!(m.config.is_none() && m.manifests.is_some());
    }
}

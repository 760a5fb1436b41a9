//! Manifests, indexes and configs from a registry, verified before use.
//!
//! Every document is checked against what named it: a manifest fetched by digest
//! (the reference's, or an index entry's) must hash to that digest and, from an
//! index, have the descriptor's size; a manifest fetched by tag must agree with the
//! `Docker-Content-Digest` header when the registry sends one; the config must
//! match the manifest's descriptor. Only then is anything parsed for content.
//! Documents are size-bounded before they are read.
use super::Session;
use super::errors::RegistryError;
use super::reference::Target;
use crate::image::decompress::{Compression, MediaTypeCompression};
use crate::image::digest::Digest;
use crate::image::spec::{
    Descriptor, Index, Manifest, PlatformMatch, SCHEMA1, check_layer_count, check_size,
    is_image_config, match_platform, verify_bytes,
};
use crate::image::{ImageError, LayerSource, Platform, Resolved, config};
use std::collections::BTreeSet;
use std::sync::Arc;

pub use crate::image::spec::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

/// What we accept, most specific first.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Registries refuse manifests above 4 MiB; so do we.
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Deepest nesting of indexes we follow.
const MAX_INDEX_DEPTH: usize = 4;

/// A fetched, verified manifest-like document.
pub(crate) struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

impl Session {
    fn invalid(&self, detail: String) -> RegistryError {
        RegistryError::Invalid {
            registry: self.reference.registry.clone(),
            repository: self.reference.repository.clone(),
            reference: self.reference.manifest_ref(),
            detail,
        }
    }

    fn parse_digest(&self, s: &str, field: &str) -> Result<Digest, RegistryError> {
        Digest::parse(s).map_err(|e| self.invalid(format!("{field}: {e}")))
    }

    /// Fetches `/manifests/{what}`; `expected` is the descriptor (digest, size) that
    /// named it, if any.
    pub(crate) fn fetch_manifest(
        &self,
        what: &str,
        expected: Option<(&Digest, Option<u64>)>,
    ) -> Result<Fetched, RegistryError> {
        let path = format!("/v2/{}/manifests/{what}", self.reference.repository);
        let resp = self.get(&path, Some(ACCEPT), "manifest request", None)?;
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v.trim()).ok());
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        let display = format!("{} manifest {what}", self.reference.repo_display());
        let bytes = self.read_bounded(resp, MAX_MANIFEST, &display)?;
        let digest = match expected {
            Some((d, size)) => {
                verify_bytes(&bytes, d, size, &self.reference.repo_display())?;
                d.clone()
            }
            None => {
                if let Some(h) = header_digest {
                    verify_bytes(&bytes, &h, None, &display)?;
                }
                Digest::sha256_of(&bytes)
            }
        };
        let declared = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            });
        let media_type = declared.unwrap_or(content_type);
        Ok(Fetched {
            bytes,
            media_type,
            digest,
        })
    }

    /// Resolves the reference to one image manifest, its config and its layers.
    pub(crate) fn resolve(
        self: &Arc<Self>,
        platform: Option<&Platform>,
    ) -> Result<Resolved, RegistryError> {
        let expected = match &self.reference.target {
            Target::Digest { digest, .. } => Some(digest),
            Target::Tag(_) => None,
        };
        let top =
            self.fetch_manifest(&self.reference.manifest_ref(), expected.map(|d| (d, None)))?;
        let mut explicit_platform_checked = false;
        let mut doc = top;
        let mut depth = 0;
        let mut seen = BTreeSet::new();
        let manifest = loop {
            let parsed: Manifest<Option<Descriptor>> =
                serde_json::from_slice(&doc.bytes).map_err(|e| {
                    ImageError::json(
                        &format!("{} manifest {}", self.reference.repo_display(), doc.digest),
                        e,
                    )
                })?;
            let is_index = doc.media_type == OCI_INDEX
                || doc.media_type == DOCKER_LIST
                || (doc.media_type.is_empty() && parsed.manifests.is_some());
            if doc.media_type.starts_with(SCHEMA1) || parsed.schema_version == Some(1) {
                return Err(self.invalid(format!(
                    "manifest {} is Docker schema 1, which is deprecated and unsupported; re-push the image with a current client",
                    doc.digest
                )));
            }
            if !is_index {
                if !doc.media_type.is_empty()
                    && doc.media_type != OCI_MANIFEST
                    && doc.media_type != DOCKER_MANIFEST
                {
                    return Err(ImageError::UnsupportedMediaType {
                        file: format!("{} manifest {}", self.reference.repo_display(), doc.digest),
                        media_type: doc.media_type.clone(),
                        what: "not a container image manifest".into(),
                    }
                    .into());
                }
                break (doc, parsed);
            }
            depth += 1;
            if depth > MAX_INDEX_DEPTH || !seen.insert(doc.digest.clone()) {
                return Err(self.invalid(format!(
                    "index {} nests deeper than {MAX_INDEX_DEPTH} levels or loops",
                    doc.digest
                )));
            }
            let index: Index = serde_json::from_slice(&doc.bytes).map_err(|e| {
                ImageError::json(
                    &format!("{} index {}", self.reference.repo_display(), doc.digest),
                    e,
                )
            })?;
            let (digest, size) = self.choose(&index, platform)?;
            explicit_platform_checked = true;
            doc = self.fetch_manifest(&digest.to_string(), Some((&digest, Some(size))))?;
        };
        let (doc, manifest) = manifest;
        let mfile = format!("{} manifest {}", self.reference.repo_display(), doc.digest);
        let cfg_desc = manifest
            .config
            .as_ref()
            .ok_or_else(|| self.invalid(format!("manifest {} has no config", doc.digest)))?;
        if !is_image_config(&cfg_desc.media_type) {
            return Err(ImageError::UnsupportedMediaType {
                file: mfile,
                media_type: cfg_desc.media_type.clone(),
                what: "config is not a container image config (an artifact, not an image?)".into(),
            }
            .into());
        }
        let config_digest = self.parse_digest(&cfg_desc.digest, "config.digest")?;
        let config_bytes = self.fetch_small_blob(&config_digest, cfg_desc.size)?;
        let config_display = format!("{} config {config_digest}", self.reference.repo_display());
        let config = config::parse(&config_bytes, &config_display, &self.limits)?;
        if !explicit_platform_checked
            && let Some(wanted) = platform
            && !config.platform.satisfies(wanted)
        {
            return Err(RegistryError::NoPlatform {
                registry: self.reference.registry.clone(),
                repository: self.reference.repository.clone(),
                reference: self.reference.manifest_ref(),
                platform: wanted.to_string(),
                available: config.platform.to_string(),
            });
        }
        check_layer_count(
            manifest.layers.len(),
            config.diff_ids.len(),
            &format!("{mfile}: layers"),
            &config_display,
            &self.limits,
        )?;
        let mut layers = Vec::with_capacity(manifest.layers.len());
        for (i, (d, diff_id)) in manifest.layers.iter().zip(&config.diff_ids).enumerate() {
            let digest = self.parse_digest(&d.digest, &format!("layers[{i}].digest"))?;
            check_size(d.size, &mfile, &format!("layers[{i}].size"), &self.limits)?;
            let compression = match Compression::from_media_type(&d.media_type) {
                MediaTypeCompression::Known(c) => c,
                MediaTypeCompression::Unsupported if d.media_type.is_empty() => {
                    Compression::sniff(&self.blob_head(&digest)?)
                }
                MediaTypeCompression::Unsupported => {
                    return Err(ImageError::UnsupportedMediaType {
                        file: mfile,
                        media_type: d.media_type.clone(),
                        what: format!("layers[{i}] is not a layer we can unpack"),
                    }
                    .into());
                }
            };
            let blob = super::RemoteLayer {
                session: self.clone(),
                digest: digest.clone(),
                size: d.size,
            };
            layers.push(LayerSource::remote(
                d.size,
                self.reference.repo_display(),
                Arc::new(blob),
                digest,
                diff_id.clone(),
                compression,
            ));
        }
        let tags = self
            .reference
            .tag()
            .map(|t| {
                vec![format!(
                    "{}/{}:{t}",
                    self.reference.registry, self.reference.repository
                )]
            })
            .unwrap_or_default();
        Ok(Resolved {
            source: "registry",
            tags,
            manifest_digest: Some(doc.digest),
            config_digest,
            config,
            layers,
        })
    }

    /// Picks the index entry for `platform` (default: the host's).
    fn choose(
        &self,
        index: &Index,
        platform: Option<&Platform>,
    ) -> Result<(Digest, u64), RegistryError> {
        if index.manifests.len() > self.limits.max_index_entries {
            return Err(self.invalid(format!(
                "index lists {} manifests, more than the limit of {}",
                index.manifests.len(),
                self.limits.max_index_entries
            )));
        }
        let mut candidates: Vec<(Option<Platform>, &Descriptor)> = Vec::new();
        for d in &index.manifests {
            let is_image = matches!(
                d.media_type.as_str(),
                OCI_MANIFEST | DOCKER_MANIFEST | OCI_INDEX | DOCKER_LIST | ""
            );
            if d.is_attachment() || !is_image {
                continue;
            }
            candidates.push((d.platform(), d));
        }
        let wanted = platform.cloned().unwrap_or_else(Platform::host);
        let pick = |d: &Descriptor| -> Result<(Digest, u64), RegistryError> {
            Ok((self.parse_digest(&d.digest, "manifests[].digest")?, d.size))
        };
        if let [(None, d)] = candidates.as_slice() {
            return pick(d);
        }
        match match_platform(&candidates, |(p, _)| p.as_ref(), &wanted) {
            PlatformMatch::One((_, d)) => pick(d),
            PlatformMatch::Nothing { available } => Err(RegistryError::NoPlatform {
                registry: self.reference.registry.clone(),
                repository: self.reference.repository.clone(),
                reference: self.reference.manifest_ref(),
                platform: wanted.to_string(),
                available: if available.is_empty() {
                    "none (the index lists no image manifests)".into()
                } else {
                    available.join(", ")
                },
            }),
            PlatformMatch::Several(many) => Err(RegistryError::AmbiguousPlatform {
                registry: self.reference.registry.clone(),
                repository: self.reference.repository.clone(),
                reference: self.reference.manifest_ref(),
                platform: wanted.to_string(),
                available: many
                    .iter()
                    .map(|(p, d)| {
                        format!(
                            "{} [{}]",
                            d.digest,
                            p.as_ref().map_or("unspecified".into(), Platform::to_string)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    }

    /// Fetches a small blob (the config) whole, checking size and digest.
    pub(crate) fn fetch_small_blob(
        &self,
        digest: &Digest,
        size: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let display = format!("{} blob {digest}", self.reference.repo_display());
        if size > self.limits.max_json_size {
            return Err(ImageError::TooLarge {
                what: display,
                size,
                limit: self.limits.max_json_size,
            }
            .into());
        }
        let path = format!("/v2/{}/blobs/{digest}", self.reference.repository);
        let what = format!("blob {digest} request");
        let resp = self.get(&path, None, &what, None)?;
        let bytes = self.read_bounded(resp, size, &display)?;
        verify_bytes(&bytes, digest, Some(size), &self.reference.repo_display())?;
        Ok(bytes)
    }

    /// The first bytes of a blob (compression sniffing when no media type says).
    fn blob_head(&self, digest: &Digest) -> Result<Vec<u8>, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", self.reference.repository);
        let what = format!("blob {digest} request");
        let resp = self.get(&path, None, &what, Some((0, 3)))?;
        let display = format!("{} blob {digest}", self.reference.repo_display());
        let mut head = Vec::new();
        let mut r = std::io::Read::take(resp.into_body().into_reader(), 4);
        std::io::Read::read_to_end(&mut r, &mut head)
            .map_err(|e| ImageError::Stream(format!("{display}: read error: {e}")))?;
        Ok(head)
    }

    /// Reads at most `limit` bytes, failing if the body is longer.
    fn read_bounded(
        &self,
        resp: ureq::http::Response<ureq::Body>,
        limit: u64,
        display: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let bytes = super::client::read_body(resp, limit.saturating_add(1))
            .map_err(|e| ImageError::Stream(format!("{display}: read error: {e}")))?;
        if bytes.len() as u64 > limit {
            return Err(ImageError::TooLarge {
                what: display.to_string(),
                size: bytes.len() as u64,
                limit,
            }
            .into());
        }
        Ok(bytes)
    }
}

//! OCI image layouts (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as a directory
//! or inside a tar (oci-archive, Docker 25+ and containerd exports).
//!
//! `index.json` may list manifests directly or through nested indexes (multi-platform
//! images). Every blob reached from it is checked against its descriptor, size and
//! digest, before it is parsed; nested indexes are expanded at most once each and to
//! a bounded depth, so a self-referencing index cannot make us loop.
use super::config;
use super::decompress::{Compression, MediaTypeCompression};
use super::digest::{Digest, digest_like};
use super::reference::{Selector, ref_name_matches, repo_name_matches};
use super::spec::{
    DOCKER_LIST, DOCKER_MANIFEST, Descriptor, Index, Manifest, OCI_INDEX, OCI_MANIFEST,
    PlatformMatch, check_config_platform, check_layer_count, check_size, is_image_config,
    match_platform,
};
use super::store::Store;
use super::{ImageError, LayerSource, Limits, Platform, Resolved};
use serde::Deserialize;
use std::collections::BTreeSet;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

#[derive(Debug, Deserialize)]
struct LayoutFile {
    #[serde(rename = "imageLayoutVersion")]
    version: String,
}

/// An image manifest reachable from `index.json`.
#[derive(Debug, Clone)]
struct Candidate {
    digest: Digest,
    size: u64,
    platform: Option<Platform>,
    /// Names of the top-level `index.json` entries leading here.
    names: BTreeSet<String>,
    /// Digests of the indexes passed through (an index digest selects its children).
    ancestors: Vec<Digest>,
    /// Who referenced the manifest, for messages.
    referenced_by: String,
}

impl Candidate {
    fn describe(&self) -> String {
        let mut s = if self.names.is_empty() {
            self.digest.to_string()
        } else {
            format!(
                "{} ({})",
                self.names.iter().cloned().collect::<Vec<_>>().join(", "),
                self.digest
            )
        };
        if let Some(p) = &self.platform {
            s.push_str(&format!(" [{p}]"));
        }
        s
    }
}

struct Walk<'a> {
    store: &'a Store,
    limits: &'a Limits,
    visited: usize,
    expanded: BTreeSet<Digest>,
    candidates: Vec<Candidate>,
    unsupported: Vec<(String, String)>,
}

fn names_of(d: &Descriptor) -> BTreeSet<String> {
    d.annotations
        .iter()
        .flatten()
        .filter(|(k, v)| (k.as_str() == REF_NAME || k.as_str() == CONTAINERD_NAME) && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

fn parse_digest(s: &str, file: &str, field: &str) -> Result<Digest, ImageError> {
    Digest::parse(s).map_err(|e| ImageError::Invalid {
        file: file.to_string(),
        detail: format!("{field}: {e}"),
    })
}

impl Walk<'_> {
    fn index(
        &mut self,
        index: &Index,
        file: &str,
        depth: usize,
        top: Option<(&BTreeSet<String>, &[Digest])>,
    ) -> Result<(), ImageError> {
        for (i, d) in index.manifests.iter().enumerate() {
            self.visited += 1;
            if self.visited > self.limits.max_index_entries {
                return Err(ImageError::TooLarge {
                    what: format!("{file}: index entries"),
                    size: self.visited as u64,
                    limit: self.limits.max_index_entries as u64,
                });
            }
            let field = format!("manifests[{i}]");
            let digest = parse_digest(&d.digest, file, &format!("{field}.digest"))?;
            check_size(d.size, file, &format!("{field}.size"), self.limits)?;
            let own_names = names_of(d);
            let (names, ancestors) = match top {
                Some((n, a)) => (n.clone(), a.to_vec()),
                None => (own_names, Vec::new()),
            };
            match d.media_type.as_str() {
                OCI_INDEX | DOCKER_LIST => {
                    if depth + 1 > self.limits.max_index_depth {
                        return Err(ImageError::TooLarge {
                            what: format!("{file}: index nesting depth"),
                            size: (depth + 1) as u64,
                            limit: self.limits.max_index_depth as u64,
                        });
                    }
                    if !self.expanded.insert(digest.clone()) {
                        continue;
                    }
                    let (bytes, blob) =
                        self.store
                            .read_verified(&digest, d.size, file, self.limits)?;
                    let child: Index = serde_json::from_slice(&bytes)
                        .map_err(|e| ImageError::json(&blob.display, e))?;
                    let mut anc = ancestors.clone();
                    anc.push(digest);
                    self.index(&child, &blob.display, depth + 1, Some((&names, &anc)))?;
                }
                // A missing media type is tolerated as an image manifest (old writers);
                // the manifest itself is checked once chosen.
                OCI_MANIFEST | DOCKER_MANIFEST | "" => {
                    if d.is_attachment() {
                        continue;
                    }
                    self.candidates.push(Candidate {
                        digest,
                        size: d.size,
                        platform: d.platform(),
                        names,
                        ancestors,
                        referenced_by: file.to_string(),
                    });
                }
                other => self.unsupported.push((file.to_string(), other.to_string())),
            }
        }
        Ok(())
    }
}

/// Merges candidates that are the same manifest reached through several entries
/// (e.g. one image saved under two tags).
fn dedup(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for c in candidates {
        match out.iter_mut().find(|o| o.digest == c.digest) {
            Some(o) => {
                o.names.extend(c.names);
                if o.platform.is_none() {
                    o.platform = c.platform;
                }
            }
            None => out.push(c),
        }
    }
    out
}

fn choose(
    store: &Store,
    candidates: Vec<Candidate>,
    selector: Option<&Selector>,
    platform: Option<&Platform>,
) -> Result<Candidate, ImageError> {
    let path = store.display();
    let list = |cs: &[Candidate]| {
        cs.iter()
            .map(Candidate::describe)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let all = dedup(candidates);
    let matching: Vec<Candidate> = match selector {
        None => {
            let groups: BTreeSet<Vec<String>> = all
                .iter()
                .map(|c| c.names.iter().cloned().collect())
                .collect();
            if groups.len() > 1 {
                return Err(ImageError::SeveralImages {
                    path,
                    available: list(&all),
                });
            }
            all.clone()
        }
        Some(Selector::Name(sel)) => all
            .iter()
            .filter(|c| {
                c.names
                    .iter()
                    .any(|n| ref_name_matches(sel, n) || repo_name_matches(sel, n))
            })
            .cloned()
            .collect(),
        Some(Selector::Digest(d)) => all
            .iter()
            .filter(|c| &c.digest == d || c.ancestors.contains(d))
            .cloned()
            .collect(),
    };
    if matching.is_empty() {
        return Err(ImageError::NoSuchImage {
            path,
            selector: selector.map(|s| s.to_string()).unwrap_or_default(),
            available: list(&all),
        });
    }
    if let [only] = matching.as_slice() {
        if let (Some(wanted), Some(p)) = (platform, &only.platform)
            && !p.satisfies(wanted)
        {
            return Err(ImageError::NoPlatform {
                path,
                platform: wanted.to_string(),
                available: p.to_string(),
            });
        }
        return Ok(only.clone());
    }
    let wanted = platform.cloned().unwrap_or_else(Platform::host);
    match match_platform(&matching, |c| c.platform.as_ref(), &wanted) {
        PlatformMatch::One(one) => Ok(one.clone()),
        PlatformMatch::Nothing { available } => Err(ImageError::NoPlatform {
            path,
            platform: wanted.to_string(),
            available: available.join(", "),
        }),
        PlatformMatch::Several(many) => Err(ImageError::AmbiguousPlatform {
            path,
            platform: wanted.to_string(),
            available: many
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

pub(crate) fn read(
    store: &Store,
    source: &'static str,
    selector: Option<&Selector>,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Resolved, ImageError> {
    if let Some(layout) = store.locate("oci-layout")? {
        let bytes = layout.read_small(limits)?;
        let parsed: LayoutFile =
            serde_json::from_slice(&bytes).map_err(|e| ImageError::json(&layout.display, e))?;
        if !parsed.version.starts_with("1.") {
            return Err(ImageError::Invalid {
                file: layout.display,
                detail: format!("unsupported imageLayoutVersion {:?}", parsed.version),
            });
        }
    }
    let index_blob = store.require("index.json", "the OCI layout")?;
    let index_bytes = index_blob.read_small(limits)?;
    let index: Index = serde_json::from_slice(&index_bytes)
        .map_err(|e| ImageError::json(&index_blob.display, e))?;

    let mut walk = Walk {
        store,
        limits,
        visited: 0,
        expanded: BTreeSet::new(),
        candidates: Vec::new(),
        unsupported: Vec::new(),
    };
    walk.index(&index, &index_blob.display, 0, None)?;
    if walk.candidates.is_empty() {
        return Err(match walk.unsupported.into_iter().next() {
            Some((file, media_type)) => ImageError::UnsupportedMediaType {
                file,
                media_type,
                what: "no container image manifest in the index".into(),
            },
            None => ImageError::Invalid {
                file: index_blob.display,
                detail: "the index lists no image manifests".into(),
            },
        });
    }
    let chosen = choose(store, walk.candidates, selector, platform)?;

    let (manifest_bytes, manifest_blob) =
        store.read_verified(&chosen.digest, chosen.size, &chosen.referenced_by, limits)?;
    let mfile = manifest_blob.display.clone();
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| ImageError::json(&mfile, e))?;
    if let Some(mt) = &manifest.media_type
        && mt != OCI_MANIFEST
        && mt != DOCKER_MANIFEST
    {
        return Err(ImageError::UnsupportedMediaType {
            file: mfile,
            media_type: mt.clone(),
            what: "not an image manifest".into(),
        });
    }
    let cfg_desc = &manifest.config;
    if !is_image_config(&cfg_desc.media_type) {
        return Err(ImageError::UnsupportedMediaType {
            file: mfile,
            media_type: cfg_desc.media_type.clone(),
            what: "config is not a container image config".into(),
        });
    }
    let config_digest = parse_digest(&cfg_desc.digest, &mfile, "config.digest")?;
    check_size(cfg_desc.size, &mfile, "config.size", limits)?;
    let (config_bytes, config_blob) =
        store.read_verified(&config_digest, cfg_desc.size, &mfile, limits)?;
    let config = config::parse(&config_bytes, &config_blob.display, limits)?;
    if chosen.platform.is_none() {
        check_config_platform(&config.platform, platform, || store.display())?;
    }
    check_layer_count(
        manifest.layers.len(),
        config.diff_ids.len(),
        &format!("{mfile}: layers"),
        &config_blob.display,
        limits,
    )?;
    let referenced_by = format!("manifest {}", chosen.digest);
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, (d, diff_id)) in manifest.layers.iter().zip(&config.diff_ids).enumerate() {
        let field = format!("layers[{i}]");
        let digest = parse_digest(&d.digest, &mfile, &format!("{field}.digest"))?;
        check_size(d.size, &mfile, &format!("{field}.size"), limits)?;
        let declared = match d.media_type.as_str() {
            "" => None,
            mt => match Compression::from_media_type(mt) {
                MediaTypeCompression::Known(c) => Some(c),
                MediaTypeCompression::Unsupported => {
                    return Err(ImageError::UnsupportedMediaType {
                        file: mfile,
                        media_type: mt.to_string(),
                        what: format!("{field} is not a layer we can unpack"),
                    });
                }
            },
        };
        let blob = store
            .locate(&digest.blob_path())?
            .ok_or_else(|| ImageError::MissingBlob {
                file: store.display(),
                blob: digest.to_string(),
                referenced_by: referenced_by.clone(),
            })?;
        if blob.size != d.size {
            return Err(ImageError::SizeMismatch {
                blob: digest.to_string(),
                file: blob.display,
                expected: d.size,
                actual: blob.size,
            });
        }
        layers.push(LayerSource::new(
            blob,
            Some(digest),
            diff_id.clone(),
            declared,
        )?);
    }
    debug_assert_eq!(digest_like(&chosen.digest, &manifest_bytes), chosen.digest);
    Ok(Resolved {
        source,
        tags: chosen.names.iter().cloned().collect(),
        manifest_digest: Some(chosen.digest),
        config_digest,
        config,
        layers,
    })
}

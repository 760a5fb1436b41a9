//! docker-archive: the `docker save` format, in all the shapes found in the wild.
//!
//! `manifest.json` lists images as `{Config, RepoTags, Layers}` with paths relative to
//! the archive root. Docker up to 24 writes `<id>/layer.tar` (regular files, named by
//! a v1 layer ID, not by content) and `<config-hex>.json`; skopeo writes `<hex>.tar`
//! plus `<id>/layer.tar` symlinks to them; podman writes `<hex>.tar`; Docker 25+ and
//! containerd write an OCI layout with `blobs/sha256/<hex>` paths. There is no
//! manifest blob, so the image is identified by its config digest, and a layer blob
//! can only be checked against its file name when that name is a digest; every layer
//! is always checked against the config's diffID.
use super::config;
use super::digest::{Algorithm, Digest};
use super::reference::{Selector, repo_name_matches};
use super::spec::{check_config_platform, check_layer_count};
use super::store::Store;
use super::{ImageError, LayerSource, Limits, Platform, Resolved};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The digest a file name encodes, if any: `blobs/<alg>/<hex>`, `<hex>.json`,
/// `<hex>.tar`, `<hex>`, `sha256:<hex>`.
pub fn digest_from_name(name: &str) -> Option<Digest> {
    let parts: Vec<&str> = name.split('/').collect();
    if let [.., "blobs", alg, hex] = parts.as_slice() {
        return Digest::parse(&format!("{alg}:{hex}")).ok();
    }
    let base = *parts.last()?;
    if let Ok(d) = Digest::parse(base) {
        return Some(d);
    }
    let stem = base
        .strip_suffix(".json")
        .or_else(|| base.strip_suffix(".tar"))
        .unwrap_or(base);
    Digest::from_hex(Algorithm::Sha256, stem)
}

pub(crate) fn read(
    store: &Store,
    source: &'static str,
    selector: Option<&Selector>,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<Resolved, ImageError> {
    let manifest = store.require("manifest.json", "the image archive")?;
    let bytes = manifest.read_small(limits)?;
    let entries: Vec<ManifestEntry> =
        serde_json::from_slice(&bytes).map_err(|e| ImageError::json(&manifest.display, e))?;
    if entries.is_empty() {
        return Err(ImageError::Invalid {
            file: manifest.display,
            detail: "manifest.json lists no images".into(),
        });
    }
    let describe = |e: &ManifestEntry| match e.repo_tags.as_deref() {
        Some(tags) if !tags.is_empty() => tags.join(", "),
        _ => format!("untagged image {}", e.config),
    };
    let available = || entries.iter().map(describe).collect::<Vec<_>>().join("; ");

    let chosen: Vec<&ManifestEntry> = match selector {
        None => entries.iter().collect(),
        Some(Selector::Name(name)) => entries
            .iter()
            .filter(|e| {
                e.repo_tags
                    .iter()
                    .flatten()
                    .any(|t| repo_name_matches(name, t))
            })
            .collect(),
        Some(Selector::Digest(d)) => entries
            .iter()
            .filter(|e| config_digest_of(store, e, limits).ok().as_ref() == Some(d))
            .collect(),
    };
    let entry = match chosen.as_slice() {
        [one] => *one,
        [] => {
            return Err(ImageError::NoSuchImage {
                path: store.display(),
                selector: selector.map(|s| s.to_string()).unwrap_or_default(),
                available: available(),
            });
        }
        _ => {
            return Err(ImageError::SeveralImages {
                path: store.display(),
                available: available(),
            });
        }
    };

    // The config: its digest is the image ID; check it against the file name.
    let config_blob = store.require(&entry.config, "manifest.json Config")?;
    let config_bytes = config_blob.read_small(limits)?;
    let named = digest_from_name(&config_blob.name);
    let config_digest = match &named {
        Some(n) => super::digest::digest_like(n, &config_bytes),
        None => Digest::sha256_of(&config_bytes),
    };
    if let Some(named) = &named
        && named != &config_digest
    {
        return Err(ImageError::DigestMismatch {
            blob: named.to_string(),
            file: config_blob.display,
            got: config_digest.to_string(),
        });
    }
    let config = config::parse(&config_bytes, &config_blob.display, limits)?;
    check_config_platform(&config.platform, platform, || store.display())?;
    check_layer_count(
        entry.layers.len(),
        config.diff_ids.len(),
        &format!("{}: Layers", manifest.display),
        &config_blob.display,
        limits,
    )?;
    let layers = entry
        .layers
        .iter()
        .zip(&config.diff_ids)
        .enumerate()
        .map(|(i, (path, diff_id))| {
            let blob = store.require(path, &format!("manifest.json Layers[{i}]"))?;
            // Named by digest only when the resolved file is: skopeo's `<id>/layer.tar`
            // symlinks lead to `<hex>.tar`, Docker's regular `<id>/layer.tar` do not.
            let digest = digest_from_name(&blob.name);
            LayerSource::new(blob, digest, diff_id.clone(), None)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Resolved {
        source,
        tags: entry.repo_tags.clone().unwrap_or_default(),
        manifest_digest: None,
        config_digest,
        config,
        layers,
    })
}

/// The config digest of an entry for `@digest` selection: from the file name, or by
/// hashing the config when the name is not a digest.
fn config_digest_of(
    store: &Store,
    entry: &ManifestEntry,
    limits: &Limits,
) -> Result<Digest, ImageError> {
    let blob = store.require(&entry.config, "manifest.json Config")?;
    if let Some(d) = digest_from_name(&blob.name) {
        return Ok(d);
    }
    Ok(Digest::sha256_of(&blob.read_small(limits)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_names() {
        let hex = "ab".repeat(32);
        for name in [
            format!("blobs/sha256/{hex}"),
            format!("{hex}.json"),
            format!("{hex}.tar"),
            hex.clone(),
            format!("sha256:{hex}"),
        ] {
            assert_eq!(digest_from_name(&name).unwrap().hex(), hex, "{name}");
        }
        assert_eq!(digest_from_name(&format!("{hex}/layer.tar")), None);
        assert_eq!(digest_from_name("blobs/sha256/zz"), None);
    }
}

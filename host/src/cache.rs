//! The cache directory: analyzed-layer facts, compiled core components, temporary
//! exports.
//!
//! Layer facts are a pure function of (layer diffID, analyzer version, the core's
//! interest), so a re-scan of an image whose layers were seen before — the usual case
//! in CI, where only the top layers change — streams only the new layers. Entries are
//! written to a temporary file and renamed into place, so concurrent scans sharing one
//! cache directory never see a half-written entry and never wait on a lock: two scans
//! that analyze the same layer at once both write the same bytes, and the last rename
//! wins.
//!
//! A cached layer is not re-read: its facts are those of the content whose diffID the
//! verified config names. An entry that does not parse, or that belongs to another
//! layer or analyzer version, is treated as a miss and replaced.
use customs_core::model::LayerFacts;
use sha2::{Digest as _, Sha256};
use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};
use thiserror::Error;

/// Subdirectory of analyzed-layer facts.
const LAYERS_DIR: &str = "layers";
/// Subdirectories that `cache clean` empties (`wasm` holds compiled components, `tmp`
/// daemon exports in flight).
const CLEANABLE: &[&str] = &[LAYERS_DIR, "wasm", "tmp"];

#[derive(Debug, Error)]
pub enum CacheError {
    #[error("cache directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("no cache directory: set --cache-dir, CUSTOMS_CACHE_DIR, XDG_CACHE_HOME or HOME")]
    NoDirectory,
}

/// The default cache directory: `$CUSTOMS_CACHE_DIR`, else `$XDG_CACHE_HOME/customs`,
/// else `~/.cache/customs`.
pub fn default_dir() -> Option<PathBuf> {
    let non_empty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    non_empty("CUSTOMS_CACHE_DIR")
        .or_else(|| non_empty("XDG_CACHE_HOME").map(|d| d.join("customs")))
        .or_else(|| non_empty("HOME").map(|h| h.join(".cache").join("customs")))
}

/// The key of a layer's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerKey(String);

impl LayerKey {
    /// Everything that can change a layer's facts goes into the key.
    pub fn new(diff_id: &str, analyzer_version: u32, interest_json: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"customs-layer-facts\n");
        h.update(diff_id.as_bytes());
        h.update(b"\n");
        h.update(analyzer_version.to_string().as_bytes());
        h.update(b"\n");
        h.update(interest_json.as_bytes());
        LayerKey(hex::encode(h.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Counts of what the cache holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub layers: u64,
    pub layer_bytes: u64,
    pub other_files: u64,
    pub other_bytes: u64,
}

/// An opened cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Opens (creating if needed) the cache at `dir`, or at the default location.
    pub fn open(dir: Option<&Path>) -> Result<Cache, CacheError> {
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => default_dir().ok_or(CacheError::NoDirectory)?,
        };
        fs::create_dir_all(root.join(LAYERS_DIR)).map_err(|source| CacheError::Io {
            path: root.display().to_string(),
            source,
        })?;
        Ok(Cache { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn layer_path(&self, key: &LayerKey) -> PathBuf {
        // Two-character fan-out keeps directories small on long-lived CI caches.
        self.root
            .join(LAYERS_DIR)
            .join(&key.0[..2])
            .join(format!("{}.json", key.0))
    }

    /// The cached facts (JSON) of a layer, if present and valid for it.
    pub fn layer_facts(
        &self,
        key: &LayerKey,
        diff_id: &str,
        analyzer_version: u32,
    ) -> Option<String> {
        let path = self.layer_path(key);
        let text = fs::read_to_string(&path).ok()?;
        match serde_json::from_str::<LayerFacts>(&text) {
            Ok(facts) if facts.diff_id == diff_id && facts.analyzer_version == analyzer_version => {
                Some(text)
            }
            _ => {
                tracing::warn!(entry = %path.display(), "ignoring an invalid layer-cache entry");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a layer's facts (JSON) atomically.
    pub fn store_layer_facts(&self, key: &LayerKey, json: &str) -> Result<(), CacheError> {
        let path = self.layer_path(key);
        let io_err = |source| CacheError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path.parent().expect("layer path has a parent");
        fs::create_dir_all(dir).map_err(io_err)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err)?;
        tmp.write_all(json.as_bytes()).map_err(io_err)?;
        tmp.persist(&path).map_err(|e| io_err(e.error))?;
        Ok(())
    }

    /// What the cache holds.
    pub fn stats(&self) -> Result<CacheStats, CacheError> {
        let mut stats = CacheStats::default();
        walk(&self.root, &mut |path, len| {
            let in_layers = path
                .strip_prefix(&self.root)
                .map(|p| p.starts_with(LAYERS_DIR))
                .unwrap_or(false);
            if in_layers && path.extension().is_some_and(|e| e == "json") {
                stats.layers += 1;
                stats.layer_bytes += len;
            } else {
                stats.other_files += 1;
                stats.other_bytes += len;
            }
        })
        .map_err(|source| CacheError::Io {
            path: self.root.display().to_string(),
            source,
        })?;
        Ok(stats)
    }

    /// Removes analyzed layers, compiled components and temporary files. Other data
    /// kept in the cache directory by later features (the vulnerability database, the
    /// findings store) is left alone.
    pub fn clean(&self) -> Result<CacheStats, CacheError> {
        let before = self.stats()?;
        for sub in CLEANABLE {
            let dir = self.root.join(sub);
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(CacheError::Io {
                        path: dir.display().to_string(),
                        source,
                    });
                }
            }
        }
        fs::create_dir_all(self.root.join(LAYERS_DIR)).map_err(|source| CacheError::Io {
            path: self.root.display().to_string(),
            source,
        })?;
        Ok(before)
    }
}

/// Visits every regular file below `dir` (symlinks are not followed).
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, u64)) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), visit)?;
        } else if kind.is_file() {
            visit(&entry.path(), entry.metadata()?.len());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(diff_id: &str) -> String {
        serde_json::to_string(&LayerFacts {
            diff_id: diff_id.into(),
            analyzer_version: 7,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn round_trip_and_invalidation() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(Some(dir.path())).unwrap();
        let key = LayerKey::new("sha256:a", 7, "{}");
        assert!(cache.layer_facts(&key, "sha256:a", 7).is_none());
        cache.store_layer_facts(&key, &facts("sha256:a")).unwrap();
        assert_eq!(
            cache.layer_facts(&key, "sha256:a", 7).unwrap(),
            facts("sha256:a")
        );
        // Another analyzer version must not reuse it.
        assert!(cache.layer_facts(&key, "sha256:a", 8).is_none());
        // A corrupt entry is a miss, and is removed.
        cache.store_layer_facts(&key, "{not json").unwrap();
        assert!(cache.layer_facts(&key, "sha256:a", 7).is_none());
        assert_eq!(cache.stats().unwrap().layers, 0);
    }

    #[test]
    fn keys_depend_on_every_input() {
        let k = LayerKey::new("sha256:a", 1, "{}");
        assert_ne!(k, LayerKey::new("sha256:b", 1, "{}"));
        assert_ne!(k, LayerKey::new("sha256:a", 2, "{}"));
        assert_ne!(k, LayerKey::new("sha256:a", 1, "{\"x\":1}"));
    }

    #[test]
    fn clean_empties_layers() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(Some(dir.path())).unwrap();
        cache
            .store_layer_facts(&LayerKey::new("sha256:a", 7, "{}"), &facts("sha256:a"))
            .unwrap();
        let before = cache.clean().unwrap();
        assert_eq!(before.layers, 1);
        assert_eq!(cache.stats().unwrap().layers, 0);
    }
}

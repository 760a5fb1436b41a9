//! The image config: the layer diffIDs, the history, the platform. The raw JSON is
//! kept as well, because later checks read `config.User`, `Env`, `Healthcheck`, …
use super::digest::Digest;
use super::platform::Platform;
use super::{ImageError, Limits};
use serde_json::Value;

/// The parts of an image config the reader needs, plus the whole document.
#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub raw: Value,
    /// `rootfs.diff_ids`: the sha256 of each uncompressed layer, in order.
    pub diff_ids: Vec<Digest>,
    pub platform: Platform,
    /// `created_by` of each history entry that produced a layer (not `empty_layer`),
    /// in order: entry `i` describes layer `i` when the history is complete.
    pub layer_history: Vec<Option<String>>,
}

/// Parses a config; `file` names it in errors.
pub fn parse(bytes: &[u8], file: &str, limits: &Limits) -> Result<ImageConfig, ImageError> {
    let raw: Value = serde_json::from_slice(bytes).map_err(|e| ImageError::json(file, e))?;
    let invalid = |detail: String| ImageError::Invalid {
        file: file.to_string(),
        detail,
    };
    let obj = raw
        .as_object()
        .ok_or_else(|| invalid("image config is not a JSON object".into()))?;
    let rootfs = obj
        .get("rootfs")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("image config has no rootfs object".into()))?;
    if let Some(t) = rootfs.get("type").and_then(Value::as_str)
        && t != "layers"
    {
        return Err(invalid(format!(
            "unsupported rootfs.type {t:?} (expected \"layers\")"
        )));
    }
    let ids = rootfs
        .get("diff_ids")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("image config has no rootfs.diff_ids array".into()))?;
    if ids.len() > limits.max_layers {
        return Err(ImageError::TooLarge {
            what: format!("{file}: rootfs.diff_ids"),
            size: ids.len() as u64,
            limit: limits.max_layers as u64,
        });
    }
    let diff_ids = ids
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = v
                .as_str()
                .ok_or_else(|| invalid(format!("rootfs.diff_ids[{i}] is not a string")))?;
            Digest::parse(s).map_err(|e| invalid(format!("rootfs.diff_ids[{i}]: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
    let os = match text("os") {
        "" => "unknown",
        s => s,
    };
    let arch = match text("architecture") {
        "" => "unknown",
        s => s,
    };
    let variant = Some(text("variant")).filter(|v| !v.is_empty());
    let platform = Platform::new(os, arch, variant);

    let layer_history = obj
        .get("history")
        .and_then(Value::as_array)
        .map(|h| {
            h.iter()
                .filter(|e| {
                    !e.get("empty_layer")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                })
                .map(|e| {
                    e.get("created_by")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();

    Ok(ImageConfig {
        raw,
        diff_ids,
        platform,
        layer_history,
    })
}

//! Rendering the report: `json` (the stable schema of `docs/report-schema.md`) and
//! `table` (for people reading a job log).
//!
//! Rendering lives in the core so that every host (CLI, a browser, a registry hook)
//! prints the same bytes for the same report.
use crate::{CoreError, model::Report};

/// Renders the report as `json` or `table`.
pub fn render(report: &Report, format: &str) -> Result<String, CoreError> {
    match format {
        "json" => {
            let mut out = serde_json::to_string_pretty(report)
                .map_err(|e| CoreError::InvalidDocument { what: "report", reason: e.to_string() })?;
            out.push('\n');
            Ok(out)
        }
        "table" => Ok(table(report)),
        other => Err(CoreError::Usage(format!("unknown report format `{other}` (expected json or table)"))),
    }
}

/// Short form of a digest for tables: `sha256:0123456789ab`.
fn short_digest(d: &str) -> &str {
    let end = d.find(':').map(|i| i + 13).unwrap_or(12).min(d.len());
    &d[..end]
}

fn table(report: &Report) -> String {
    let image = &report.image;
    let mut out = String::new();
    out.push_str(&format!("Image:     {}\n", image.meta.reference));
    out.push_str(&format!("Source:    {}\n", image.meta.source));
    out.push_str(&format!("Image ID:  {}\n", image.meta.config_digest));
    if let Some(d) = &image.meta.manifest_digest {
        out.push_str(&format!("Manifest:  {d}\n"));
    }
    out.push_str(&format!("Platform:  {}\n", image.meta.platform));
    match &image.os {
        Some(os) => {
            let codename = os.codename.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
            out.push_str(&format!("OS:        {} {}{}\n", os.family, os.version, codename));
        }
        None => out.push_str("OS:        unknown\n"),
    }
    out.push_str(&format!("Layers:    {}\n", image.meta.layers.len()));
    for (i, layer) in image.meta.layers.iter().enumerate() {
        let created = layer.created_by.as_deref().map(|c| format!("  {}", one_line(c, 60))).unwrap_or_default();
        out.push_str(&format!("  [{i}] {}{created}\n", short_digest(&layer.diff_id)));
    }
    let by_eco: Vec<String> =
        report.summary.packages_by_ecosystem.iter().map(|(e, n)| format!("{n} {e}")).collect();
    out.push_str(&format!(
        "Packages:  {}{}\n",
        report.summary.packages,
        if by_eco.is_empty() { String::new() } else { format!(" ({})", by_eco.join(", ")) }
    ));
    out.push_str(&format!("Files:     {}\n", report.summary.files));
    if report.packages.is_empty() {
        return out;
    }
    out.push('\n');
    let header = ["PACKAGE", "VERSION", "ARCH", "SOURCE", "TYPE", "LAYER"];
    let rows: Vec<[String; 6]> = report
        .packages
        .iter()
        .map(|p| {
            let source = if p.source_name == p.name && p.source_version == p.version {
                String::new()
            } else if p.source_version == p.version {
                p.source_name.clone()
            } else {
                format!("{} {}", p.source_name, p.source_version)
            };
            [
                p.name.clone(),
                p.version.clone(),
                p.arch.clone().unwrap_or_default(),
                source,
                p.ecosystem.as_str().to_string(),
                p.layer_index.to_string(),
            ]
        })
        .collect();
    out.push_str(&align(&header, &rows));
    out
}

/// Collapses whitespace and truncates to `max` characters, for one-line table cells.
fn one_line(s: &str, max: usize) -> String {
    let collapsed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        collapsed
    } else {
        let mut t: String = collapsed.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Left-aligns columns to their widest cell, two spaces apart.
fn align<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for (i, h) in header.iter().enumerate() {
        widths[i] = h.chars().count();
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            l.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_pads_columns() {
        let rows = vec![["a".to_string(), "1".to_string()], ["long".to_string(), "2".to_string()]];
        assert_eq!(align(&["N", "V"], &rows), "N     V\na     1\nlong  2\n");
    }

    #[test]
    fn short_digest_keeps_algorithm() {
        assert_eq!(short_digest("sha256:0123456789abcdef"), "sha256:0123456789ab");
        assert_eq!(short_digest("abc"), "abc");
    }
}

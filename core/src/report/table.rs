//! The `table` format: the image and its packages, then (when the `vuln` scanner ran)
//! the findings, see [`super::vuln_table`].
use super::text::{align, one_line, short_digest};
use super::vuln_table;
use crate::model::Report;

/// The whole table: the image, then the package list for an inventory scan, or the
/// findings when the `vuln` scanner ran. A job log is read for its findings; ninety
/// lines of packages above them would bury them (the JSON report has both).
pub(super) fn render(report: &Report) -> String {
    match &report.vulnerabilities {
        Some(section) => {
            let mut out = image_summary(report);
            out.push('\n');
            out.push_str(&vuln_table::render(report, section));
            out
        }
        None => inventory(report),
    }
}

fn image_summary(report: &Report) -> String {
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
            let codename = os
                .codename
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "OS:        {} {}{}\n",
                os.family, os.version, codename
            ));
        }
        None => out.push_str("OS:        unknown\n"),
    }
    out.push_str(&format!("Layers:    {}\n", image.meta.layers.len()));
    for (i, layer) in image.meta.layers.iter().enumerate() {
        let created = layer
            .created_by
            .as_deref()
            .map(|c| format!("  {}", one_line(c, 60)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  [{i}] {}{created}\n",
            short_digest(&layer.diff_id)
        ));
    }
    let by_eco: Vec<String> = report
        .summary
        .packages_by_ecosystem
        .iter()
        .map(|(e, n)| format!("{n} {e}"))
        .collect();
    out.push_str(&format!(
        "Packages:  {}{}\n",
        report.summary.packages,
        if by_eco.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_eco.join(", "))
        }
    ));
    out.push_str(&format!("Files:     {}\n", report.summary.files));
    out
}

fn inventory(report: &Report) -> String {
    let mut out = image_summary(report);
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
    out.push_str(&align("", &header, &rows));
    out
}

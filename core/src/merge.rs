//! Merging layers into the image's final filesystem, the way a container runtime
//! stacks them, and building the report.
//!
//! Per layer, in order (OCI image spec, "Applying changesets"): opaque directories
//! hide everything below them from lower layers, whiteouts delete a path and its
//! subtree from lower layers, then the layer's own entries are added (a non-directory
//! replaces whatever was at its path, including a directory's subtree).
//!
//! Package attribution follows each package database file through the layers: a
//! package is attributed to the lowest layer from which it has been continuously
//! present, with the same version and architecture, in every copy of that database.
use crate::{
    CoreError,
    model::{
        EntryKind, FileRecord, ImageMeta, LayerFacts, MergeOptions, OsInfo, Package,
        PackageDbFacts, REPORT_SCHEMA_VERSION, Report, ReportImage, ReportPackage, Summary,
        ToolInfo,
    },
    os, path, purl,
};
use std::collections::BTreeMap;

/// A package database as it stands after some layers, each package with the index of
/// the layer that introduced it.
struct DbState {
    packages: Vec<(Package, usize)>,
}

/// The image's filesystem state while layers are applied.
#[derive(Default)]
struct Filesystem {
    files: BTreeMap<String, (FileRecord, usize)>,
    os_files: BTreeMap<String, String>,
    dbs: BTreeMap<String, DbState>,
}

/// Removes `dir`'s descendants (not `dir` itself) from a path-keyed map.
fn remove_below<V>(map: &mut BTreeMap<String, V>, dir: &str) {
    if dir.is_empty() {
        map.clear();
        return;
    }
    let prefix = format!("{dir}/");
    let doomed: Vec<String> = map
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in doomed {
        map.remove(&k);
    }
}

/// Removes `p` and its descendants.
fn remove_tree<V>(map: &mut BTreeMap<String, V>, p: &str) {
    map.remove(p);
    remove_below(map, p);
}

impl Filesystem {
    fn hide_below(&mut self, dir: &str) {
        remove_below(&mut self.files, dir);
        remove_below(&mut self.os_files, dir);
        remove_below(&mut self.dbs, dir);
    }

    fn delete(&mut self, p: &str) {
        remove_tree(&mut self.files, p);
        remove_tree(&mut self.os_files, p);
        remove_tree(&mut self.dbs, p);
    }

    fn apply(&mut self, index: usize, layer: &LayerFacts) {
        for dir in &layer.opaque_dirs {
            self.hide_below(dir);
        }
        for p in &layer.whiteouts {
            self.delete(p);
        }
        for (p, record) in &layer.files {
            if record.kind != EntryKind::Dir {
                // A file, link or device replaces a directory and all it held.
                self.hide_below(p);
                // The new entry replaces this path's earlier content; if it is not an
                // analyzed file (e.g. the database became a symlink), forget the old one.
                if !layer.os_files.contains_key(p) {
                    self.os_files.remove(p);
                }
                if !layer.package_dbs.contains_key(p) {
                    self.dbs.remove(p);
                }
            }
            self.files.insert(p.clone(), (record.clone(), index));
        }
        for (p, text) in &layer.os_files {
            self.os_files.insert(p.clone(), text.clone());
        }
        for (p, db) in &layer.package_dbs {
            let previous = self.dbs.remove(p);
            self.dbs
                .insert(p.clone(), carry_attribution(previous, db, index));
        }
    }
}

/// Attributes each package of a database's new copy: kept from the previous copy when
/// the same package (name, version, arch) was already there, else the current layer.
fn carry_attribution(previous: Option<DbState>, db: &PackageDbFacts, index: usize) -> DbState {
    let known: BTreeMap<(&str, &str, Option<&str>), usize> = previous
        .as_ref()
        .map(|prev| {
            prev.packages
                .iter()
                .map(|(p, layer)| {
                    (
                        (p.name.as_str(), p.version.as_str(), p.arch.as_deref()),
                        *layer,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let packages = db
        .packages
        .iter()
        .map(|p| {
            let layer = known
                .get(&(p.name.as_str(), p.version.as_str(), p.arch.as_deref()))
                .copied()
                .unwrap_or(index);
            (p.clone(), layer)
        })
        .collect();
    DbState { packages }
}

/// Applies the layers in order and builds the report.
pub fn merge(
    image: &ImageMeta,
    layers: &[LayerFacts],
    options: &MergeOptions,
) -> Result<Report, CoreError> {
    if layers.len() != image.layers.len() {
        return Err(CoreError::Usage(format!(
            "merge: image has {} layers but {} layer analyses were given",
            image.layers.len(),
            layers.len()
        )));
    }
    for (i, (facts, info)) in layers.iter().zip(&image.layers).enumerate() {
        if facts.diff_id != info.diff_id {
            return Err(CoreError::Usage(format!(
                "merge: layer {i} analysis is for {} but the image's layer is {}",
                facts.diff_id, info.diff_id
            )));
        }
    }

    let mut fs = Filesystem::default();
    for (i, layer) in layers.iter().enumerate() {
        fs.apply(i, layer);
    }

    let os_info: Option<OsInfo> = os::detect(&fs.os_files);
    let mut packages: Vec<ReportPackage> = Vec::new();
    for (db_path, state) in &fs.dbs {
        for (pkg, layer_index) in &state.packages {
            let Some(ecosystem) = pkg.ecosystem else {
                continue;
            };
            packages.push(ReportPackage {
                ecosystem,
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                epoch: pkg.epoch,
                arch: pkg.arch.clone(),
                source_name: pkg.source_name.clone(),
                source_version: pkg.source_version.clone(),
                source_rpm: pkg.source_rpm.clone(),
                modularity_label: pkg.modularity_label.clone(),
                licenses: pkg.licenses.clone(),
                purl: purl::for_package(pkg, ecosystem, os_info.as_ref()),
                db_path: db_path.clone(),
                layer: image.layers[*layer_index].diff_id.clone(),
                layer_index: *layer_index,
            });
        }
    }
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.arch, &a.db_path).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.arch,
            &b.db_path,
        ))
    });

    let mut by_ecosystem: BTreeMap<String, usize> = BTreeMap::new();
    for p in &packages {
        *by_ecosystem
            .entry(p.ecosystem.as_str().to_string())
            .or_default() += 1;
    }
    let summary = Summary {
        packages: packages.len(),
        packages_by_ecosystem: by_ecosystem,
        files: fs
            .files
            .values()
            .filter(|(r, _)| r.kind != EntryKind::Dir)
            .count(),
    };
    let mut scanners = options.scanners.clone();
    scanners.sort();
    scanners.dedup();
    Ok(Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "customs".to_string(),
            version: options.tool_version.clone(),
        },
        scanners,
        image: ReportImage {
            meta: image.clone(),
            os: os_info,
        },
        summary,
        packages,
        vulnerabilities: None,
    })
}

/// Resolves a path of the final filesystem to the layer that last wrote it (used by
/// later analyzers for file attribution).
pub fn owner_layer(layers: &[LayerFacts], p: &str) -> Option<usize> {
    let mut fs = Filesystem::default();
    for (i, layer) in layers.iter().enumerate() {
        fs.apply(i, layer);
    }
    fs.files.get(&path::normalize(p)).map(|(_, i)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ecosystem, LayerInfo};

    fn rec(kind: EntryKind) -> FileRecord {
        FileRecord {
            kind,
            size: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
            link_target: None,
        }
    }

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            ecosystem: Some(Ecosystem::Deb),
            name: name.into(),
            version: version.into(),
            arch: Some("amd64".into()),
            source_name: name.into(),
            source_version: version.into(),
            ..Default::default()
        }
    }

    fn layer(id: &str, files: &[(&str, EntryKind)], dbs: &[(&str, Vec<Package>)]) -> LayerFacts {
        LayerFacts {
            diff_id: id.into(),
            analyzer_version: crate::ANALYZER_VERSION,
            files: files
                .iter()
                .map(|(p, k)| (p.to_string(), rec(*k)))
                .collect(),
            package_dbs: dbs
                .iter()
                .map(|(p, pk)| {
                    (
                        p.to_string(),
                        PackageDbFacts {
                            format: "dpkg-status".into(),
                            packages: pk.clone(),
                        },
                    )
                })
                .collect(),
            ..Default::default()
        }
    }

    fn image(layers: &[&LayerFacts]) -> ImageMeta {
        ImageMeta {
            reference: "test".into(),
            source: "oci-layout".into(),
            tags: vec![],
            manifest_digest: None,
            config_digest: "sha256:c".into(),
            platform: "linux/amd64".into(),
            layers: layers
                .iter()
                .map(|l| LayerInfo {
                    diff_id: l.diff_id.clone(),
                    digest: None,
                    size: 0,
                    compression: "none".into(),
                    created_by: None,
                })
                .collect(),
        }
    }

    const STATUS: &str = "var/lib/dpkg/status";

    #[test]
    fn packages_are_attributed_to_the_layer_that_introduced_them() {
        let l0 = layer(
            "sha256:0",
            &[(STATUS, EntryKind::File)],
            &[(STATUS, vec![pkg("a", "1"), pkg("b", "1")])],
        );
        let l1 = layer(
            "sha256:1",
            &[(STATUS, EntryKind::File)],
            &[(STATUS, vec![pkg("a", "1"), pkg("b", "2"), pkg("c", "1")])],
        );
        let report = merge(
            &image(&[&l0, &l1]),
            &[l0.clone(), l1.clone()],
            &MergeOptions::default(),
        )
        .unwrap();
        let got: Vec<(&str, &str, usize)> = report
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.layer_index))
            .collect();
        assert_eq!(got, vec![("a", "1", 0), ("b", "2", 1), ("c", "1", 1)]);
        assert_eq!(report.packages[1].layer, "sha256:1");
    }

    #[test]
    fn whiteout_and_opaque_dir_remove_lower_content() {
        let l0 = layer(
            "sha256:0",
            &[
                (STATUS, EntryKind::File),
                ("opt/app/x", EntryKind::File),
                ("etc/passwd", EntryKind::File),
            ],
            &[(STATUS, vec![pkg("a", "1")])],
        );
        let mut l1 = layer("sha256:1", &[("opt/app/y", EntryKind::File)], &[]);
        l1.whiteouts = vec![STATUS.into(), "etc/passwd".into()];
        l1.opaque_dirs = vec!["opt/app".into()];
        let report = merge(
            &image(&[&l0, &l1]),
            &[l0.clone(), l1.clone()],
            &MergeOptions::default(),
        )
        .unwrap();
        assert!(report.packages.is_empty());
        assert_eq!(report.summary.files, 1); // only opt/app/y
    }

    #[test]
    fn a_file_replacing_a_directory_hides_its_subtree() {
        let l0 = layer(
            "sha256:0",
            &[("var/lib/dpkg", EntryKind::Dir), (STATUS, EntryKind::File)],
            &[(STATUS, vec![pkg("a", "1")])],
        );
        let l1 = layer("sha256:1", &[("var/lib/dpkg", EntryKind::Symlink)], &[]);
        let report = merge(
            &image(&[&l0, &l1]),
            &[l0.clone(), l1.clone()],
            &MergeOptions::default(),
        )
        .unwrap();
        assert!(report.packages.is_empty());
    }

    #[test]
    fn mismatched_layers_are_rejected() {
        let l0 = layer("sha256:0", &[], &[]);
        let other = layer("sha256:9", &[], &[]);
        assert!(merge(&image(&[&l0]), &[other], &MergeOptions::default()).is_err());
        assert!(merge(&image(&[&l0]), &[], &MergeOptions::default()).is_err());
    }
}

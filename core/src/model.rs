//! The documents exchanged between host and core, and the report schema.
//!
//! Every type here is serialized as JSON across the engine boundary, cached on disk
//! (layer facts) or printed (the report), so field names are part of the public,
//! documented schema (`docs/report-schema.md`). Collections are `BTreeMap`s or sorted
//! `Vec`s so that output is deterministic.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON report schema. Bump on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The package ecosystem a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Debian packages (dpkg, including distroless `status.d` and opkg).
    Deb,
    /// Alpine packages (apk).
    Apk,
    /// RPM packages (SQLite, BerkeleyDB and NDB rpmdb; CBL-Mariner distroless manifests).
    Rpm,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
        }
    }
}

/// One installed package, as read from a package database.
///
/// `version` is the full version as the package manager prints it
/// (dpkg: `[epoch:]upstream[-revision]`; rpm: `[epoch:]version-release`; apk: `version-rN`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Package {
    pub ecosystem: Option<Ecosystem>,
    pub name: String,
    pub version: String,
    /// Epoch, when the database records one (dpkg `N:`, rpm EPOCH tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    /// rpm: VERSION tag alone (without epoch and release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_version: Option<String>,
    /// rpm: RELEASE tag; dpkg: the Debian revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Source package name (dpkg `Source:`, apk origin `o:`, rpm name parsed from SOURCERPM).
    /// Always set: equals `name` when the database names no separate source.
    pub source_name: String,
    /// Source package version (dpkg `Source: name (version)` or the binary version;
    /// rpm: version-release of the source rpm; apk: the package version).
    pub source_version: String,
    /// rpm: the SOURCERPM file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_rpm: Option<String>,
    /// rpm: MODULARITYLABEL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modularity_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Licenses as declared by the database (not yet normalized to SPDX).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// apk: `sha1:<hex>` of the package checksum; rpm: SIGMD5/SHA header digest when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Files the database says the package installed, relative to the root (no leading `/`).
    /// Not serialized in reports; kept in layer facts for file ownership.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// The kind of a tar entry, as reported by the host's tar reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Other,
}

/// Metadata of one tar entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryMeta {
    /// Path as stored in the tar (the core normalizes it).
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// One file of the layer's filesystem after normalization (whiteouts removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// The parsed content of one package database file found in a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDbFacts {
    /// Which parser read it, e.g. `dpkg-status`, `dpkg-status.d`, `apk-installed`,
    /// `rpm-sqlite`, `rpm-bdb`, `rpm-ndb`, `rpm-manifest`.
    pub format: String,
    pub packages: Vec<Package>,
}

/// What the analyzers learned from one layer. A pure function of
/// (layer diffID, [`crate::ANALYZER_VERSION`], options), hence cacheable by that key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LayerFacts {
    pub diff_id: String,
    pub analyzer_version: u32,
    /// Every entry of the layer that is not a whiteout, by normalized path.
    pub files: BTreeMap<String, FileRecord>,
    /// Paths deleted by `.wh.<name>` entries (the deleted path, not the marker).
    pub whiteouts: Vec<String>,
    /// Directories made opaque by `.wh..wh..opq`: lower layers' content under them is hidden.
    pub opaque_dirs: Vec<String>,
    /// Small text files needed for OS detection (`etc/os-release` …), by path.
    pub os_files: BTreeMap<String, String>,
    /// Package databases found in this layer, by path.
    pub package_dbs: BTreeMap<String, PackageDbFacts>,
}

/// The detected operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OsInfo {
    /// Lower-case family id: `debian`, `ubuntu`, `alpine`, `redhat`, `centos`, `rocky`,
    /// `alma`, `oracle`, `fedora`, `amazon`, `opensuse-leap`, `sles`, `photon`, `wolfi` …
    pub family: String,
    /// The release version used for advisory matching (e.g. `12.13`, `3.23.6`, `9.3`).
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// The file the answer came from.
    pub source: String,
}

/// One layer of the image, as the host read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Digest of the uncompressed layer tar.
    pub diff_id: String,
    /// Digest of the blob as stored (compressed), when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Size of the blob as stored.
    pub size: u64,
    /// `gzip`, `zstd` or `none`.
    pub compression: String,
    /// The history step that created it, when the config says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// What the host knows about the image before analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMeta {
    /// The `--image` argument as given.
    pub reference: String,
    /// `docker-archive`, `oci-archive`, `oci-layout`, …
    pub source: String,
    /// Repository tags known for this image (from the archive or the reference).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Digest of the manifest, when the source has a manifest blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Digest of the image config (the image ID).
    pub config_digest: String,
    /// `os/arch[/variant]` from the config.
    pub platform: String,
    pub layers: Vec<LayerInfo>,
}

/// A package of the final image, attributed to the layer that introduced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub source_name: String,
    pub source_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_rpm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modularity_label: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Package URL (purl-spec), with the distro qualifier when the OS is known.
    pub purl: String,
    /// The package database that lists it.
    pub db_path: String,
    /// diffID of the layer that introduced this package (version).
    pub layer: String,
    /// Zero-based index of that layer.
    pub layer_index: usize,
}

/// The image section of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportImage {
    #[serde(flatten)]
    pub meta: ImageMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
}

/// Counts that summarize the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Summary {
    pub packages: usize,
    /// Packages per ecosystem.
    pub packages_by_ecosystem: BTreeMap<String, usize>,
    /// Files in the final filesystem.
    pub files: usize,
}

/// The scan report: the stable, documented JSON output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// Scanners that ran (`vuln`, `secret`, …); empty for an inventory-only scan.
    pub scanners: Vec<String>,
    pub image: ReportImage,
    pub summary: Summary,
    /// Sorted by (ecosystem, name, version, arch, db_path).
    pub packages: Vec<ReportPackage>,
    /// Present when the `vuln` scanner ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<crate::vuln::VulnSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// Options of a merge/report step, given by the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MergeOptions {
    pub scanners: Vec<String>,
    /// Version of the host program, printed in the report's `tool` section.
    pub tool_version: String,
}

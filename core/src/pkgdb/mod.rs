//! Installed-package databases: which paths hold them and how to read each.
use crate::{
    CoreError,
    model::{Ecosystem, Package, PackageDbFacts},
};

pub mod apk;
pub mod dpkg;
pub mod rpm;

/// A package database format, chosen by the file's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFormat {
    DpkgStatus,
    DpkgStatusD,
    ApkInstalled,
    RpmSqlite,
    RpmBdb,
    RpmNdb,
    RpmManifest,
}

impl DbFormat {
    pub fn name(self) -> &'static str {
        match self {
            DbFormat::DpkgStatus => "dpkg-status",
            DbFormat::DpkgStatusD => "dpkg-status.d",
            DbFormat::ApkInstalled => "apk-installed",
            DbFormat::RpmSqlite => "rpm-sqlite",
            DbFormat::RpmBdb => "rpm-bdb",
            DbFormat::RpmNdb => "rpm-ndb",
            DbFormat::RpmManifest => "rpm-manifest",
        }
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            DbFormat::DpkgStatus | DbFormat::DpkgStatusD => Ecosystem::Deb,
            DbFormat::ApkInstalled => Ecosystem::Apk,
            _ => Ecosystem::Rpm,
        }
    }
}

/// Directories that hold an rpmdb (`/var/lib/rpm` classic, `/usr/lib/sysimage/rpm` since rpm 4.16).
const RPM_DIRS: &[&str] = &["var/lib/rpm/", "usr/lib/sysimage/rpm/"];

/// Which database format lives at `path` (normalized, no leading `/`), if any.
pub fn format_for_path(path: &str) -> Option<DbFormat> {
    match path {
        "var/lib/dpkg/status" => return Some(DbFormat::DpkgStatus),
        "lib/apk/db/installed" => return Some(DbFormat::ApkInstalled),
        "var/lib/rpmmanifest/container-manifest-2" => return Some(DbFormat::RpmManifest),
        _ => {}
    }
    if let Some(name) = path.strip_prefix("var/lib/dpkg/status.d/") {
        // distroless: one stanza file per package, beside `<pkg>.md5sums` lists.
        if !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums") {
            return Some(DbFormat::DpkgStatusD);
        }
        return None;
    }
    for dir in RPM_DIRS {
        if let Some(name) = path.strip_prefix(dir) {
            return match name {
                "rpmdb.sqlite" => Some(DbFormat::RpmSqlite),
                "Packages" => Some(DbFormat::RpmBdb),
                "Packages.db" => Some(DbFormat::RpmNdb),
                _ => None,
            };
        }
    }
    None
}

/// True for directories whose direct children may be package databases; used to
/// declare interest in files the host has not seen yet.
pub fn is_db_dir(dir: &str) -> bool {
    dir == "var/lib/dpkg/status.d" || RPM_DIRS.iter().any(|d| d.trim_end_matches('/') == dir)
}

/// Parses the database at `path` in `format`, tagging every package with its ecosystem.
pub fn parse(format: DbFormat, path: &str, content: &[u8]) -> Result<PackageDbFacts, CoreError> {
    let mut packages: Vec<Package> = match format {
        DbFormat::DpkgStatus => dpkg::parse_status(path, content)?,
        DbFormat::DpkgStatusD => dpkg::parse_status_d(path, content)?,
        DbFormat::ApkInstalled => apk::parse_installed(path, content)?,
        DbFormat::RpmSqlite => rpm::parse_sqlite(path, content, None)?,
        DbFormat::RpmBdb => rpm::parse_bdb(path, content)?,
        DbFormat::RpmNdb => rpm::parse_ndb(path, content)?,
        DbFormat::RpmManifest => rpm::parse_manifest(path, content)?,
    };
    for p in &mut packages {
        p.ecosystem = Some(format.ecosystem());
    }
    packages.sort();
    Ok(PackageDbFacts {
        format: format.name().to_string(),
        packages,
    })
}

/// Parses an rpm SQLite database together with its write-ahead log, when the layer
/// has one: rpm ≥ 4.16 keeps the database in WAL mode, and committed transactions may
/// still live only in `rpmdb.sqlite-wal`.
pub fn parse_rpm_sqlite(
    path: &str,
    content: &[u8],
    wal: Option<&[u8]>,
) -> Result<PackageDbFacts, CoreError> {
    let mut packages = rpm::parse_sqlite(path, content, wal)?;
    for p in &mut packages {
        p.ecosystem = Some(Ecosystem::Rpm);
    }
    packages.sort();
    Ok(PackageDbFacts {
        format: DbFormat::RpmSqlite.name().to_string(),
        packages,
    })
}

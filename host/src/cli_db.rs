//! `customs db …`: build, inspect, publish and fetch the local vulnerability
//! database.
//!
//! Exit codes: 0 success; 2 usage error (and a push the registry refused); 3 the
//! database is unavailable (`db status` without a usable database, `db update` or
//! `db pull` that could not produce one: every mirror or repository failed, the
//! download was damaged, the lock was held too long; `db push` without a database).
//! A failed update or pull never touches the existing database, so scans can keep
//! using it.
use crate::cache;
use crate::cli_registry::RegistryArgs;
use crate::vulndb::{
    self, Integrity, UpdateOptions, UpdateOutcome, VulnDb,
    artifact::{self, ArtifactError, PullOptions},
    update::{EcosystemAction, UpdateError},
};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when no usable database is available.
pub const EXIT_DB_UNAVAILABLE: u8 = 3;

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
    /// The cache directory holding the database (default: $XDG_CACHE_HOME/customs
    /// or ~/.cache/customs).
    #[arg(long, value_name = "DIR", env = "CUSTOMS_CACHE_DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Download OSV exports and build the local database.
    Update(UpdateArgs),
    /// Show the database's schema version, build time, age and contents.
    Status(StatusArgs),
    /// Publish the local database to a registry as an OCI artifact.
    Push(PushArgs),
    /// Install a database published with `db push` (from the first repository that
    /// can serve it).
    Pull(PullArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Where to publish, with a tag naming the schema version
    /// (`registry.example.com/customs/db:1`).
    #[arg(value_name = "REF")]
    pub reference: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Repositories to pull from, tried in order until one serves the database;
    /// repeat the flag or separate with commas.
    #[arg(
        long = "db-repository",
        value_name = "REF",
        env = "CUSTOMS_DB_REPOSITORY",
        value_delimiter = ','
    )]
    pub repositories: Vec<String>,
    /// Seconds to wait for an update or pull of the same cache directory.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub lock_timeout: u64,
    /// Largest compressed database accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub max_download_mib: u64,
    /// Largest database accepted once decompressed, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub max_db_mib: u64,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// OSV ecosystems to download, as OSV names them (default: every distro Customs
    /// supports: AlmaLinux, Alpine, Azure Linux, Chainguard, Debian, Mageia,
    /// openEuler, openSUSE, Red Hat, Rocky Linux, SUSE, Ubuntu, Wolfi).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub ecosystems: Vec<String>,
    /// Base URL(s) of OSV exports (`<URL>/<ECOSYSTEM>/all.zip`), tried in order;
    /// repeat the flag or separate with commas.
    #[arg(
        long = "osv-url",
        value_name = "URL",
        env = "CUSTOMS_OSV_URL",
        value_delimiter = ','
    )]
    pub osv_url: Vec<String>,
    /// Fail instead of building a database when any record does not parse.
    #[arg(long)]
    pub strict: bool,
    /// Seconds to wait for another update of the same cache directory.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub lock_timeout: u64,
    /// Largest export accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub max_download_mib: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
}

fn cache_root(dir: Option<PathBuf>) -> Result<PathBuf> {
    match dir {
        Some(d) => Ok(d),
        None => cache::default_dir().context(
            "no cache directory: set --cache-dir, CUSTOMS_CACHE_DIR, XDG_CACHE_HOME or HOME",
        ),
    }
}

/// Runs `customs db …`.
pub fn run_db(args: DbArgs) -> Result<ExitCode> {
    let root = cache_root(args.cache_dir)?;
    match args.command {
        DbCommand::Update(u) => run_update(root, u),
        DbCommand::Status(s) => run_status(root, s),
        DbCommand::Push(p) => run_push(root, p),
        DbCommand::Pull(p) => run_pull(root, p),
    }
}

/// `1234 records, 5678 affected entries, built 2024-03-01T00:00:00Z (build …)`.
fn summary(s: &vulndb::DbStatus) -> String {
    format!(
        "{} records, {} affected entries, built {} (build {})",
        s.records,
        s.entries,
        vulndb::format_unix(s.built_at),
        s.build_id
    )
}

fn run_push(root: PathBuf, args: PushArgs) -> Result<ExitCode> {
    let options = args.registry.options()?;
    let report = match artifact::push(&root, &args.reference, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("customs: error: database push failed: {e}");
            let code = match e {
                ArtifactError::NoDatabase(_) | ArtifactError::Lock(_) => EXIT_DB_UNAVAILABLE,
                _ => crate::cli::EXIT_ERROR,
            };
            return Ok(ExitCode::from(code));
        }
    };
    println!("pushed {}@{}", report.reference, report.manifest_digest);
    println!("  database: {}", summary(&report.status));
    println!(
        "  layer:    {} ({} bytes compressed{})",
        report.layer_digest,
        report.layer_size,
        if report.layer_uploaded {
            ""
        } else {
            ", already in the repository"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn run_pull(root: PathBuf, args: PullArgs) -> Result<ExitCode> {
    let mib = |v: u64, flag: &str| {
        v.checked_mul(1 << 20)
            .with_context(|| format!("{flag} is too large"))
    };
    let options = PullOptions {
        registry: args.registry.options()?,
        max_compressed: mib(args.max_download_mib, "--max-download-mib")?,
        max_uncompressed: mib(args.max_db_mib, "--max-db-mib")?,
        lock_timeout: Duration::from_secs(args.lock_timeout),
    };
    let report = match artifact::pull(&root, &args.repositories, &options) {
        Ok(r) => r,
        Err(e) if e.is_usage_error() => return Err(e.into()),
        Err(ArtifactError::Unavailable { failures }) => {
            eprintln!("customs: error: no repository could serve the vulnerability database:");
            for f in &failures {
                eprintln!("  {f}");
            }
            if VulnDb::open(&root).is_ok() {
                eprintln!("customs: the existing database is unchanged");
            }
            return Ok(ExitCode::from(EXIT_DB_UNAVAILABLE));
        }
        Err(e) => {
            eprintln!("customs: error: database pull failed: {e}");
            return Ok(ExitCode::from(EXIT_DB_UNAVAILABLE));
        }
    };
    for f in &report.skipped {
        eprintln!("customs: warning: {f}");
    }
    let s = &report.status;
    if report.unchanged {
        println!(
            "database is up to date with {} ({})",
            report.repository, report.manifest_digest
        );
    } else {
        println!(
            "pulled {} ({}, {} bytes)",
            report.repository, report.manifest_digest, report.downloaded
        );
    }
    println!("  database: {}", summary(s));
    println!("  path:     {}", s.path);
    Ok(ExitCode::SUCCESS)
}

fn run_update(root: PathBuf, args: UpdateArgs) -> Result<ExitCode> {
    let mut options = UpdateOptions::new(root);
    if !args.ecosystems.is_empty() {
        options.ecosystems = args.ecosystems;
    }
    let mirrors: Vec<String> = args
        .osv_url
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if !mirrors.is_empty() {
        for m in &mirrors {
            if !(m.starts_with("https://") || m.starts_with("http://")) {
                anyhow::bail!("--osv-url {m}: must be an http:// or https:// URL");
            }
        }
        options.mirrors = mirrors;
    }
    options.strict = args.strict;
    options.lock_timeout = Duration::from_secs(args.lock_timeout);
    options.download.max_bytes = args
        .max_download_mib
        .checked_mul(1 << 20)
        .context("--max-download-mib is too large")?;
    let report = match vulndb::update(&options) {
        Ok(r) => r,
        Err(e @ UpdateError::NoEcosystems) => return Err(e.into()),
        Err(e) => {
            eprintln!("customs: error: database update failed: {e}");
            return Ok(ExitCode::from(EXIT_DB_UNAVAILABLE));
        }
    };
    for eco in &report.ecosystems {
        match &eco.action {
            EcosystemAction::NotModified { url } => println!("{}: unchanged ({url})", eco.name),
            EcosystemAction::Downloaded {
                url,
                bytes,
                resumed,
                verified_with,
            } => {
                println!(
                    "{}: {} records from {url} ({bytes} bytes{}{})",
                    eco.name,
                    eco.records,
                    if *resumed { ", resumed" } else { "" },
                    verified_with
                        .map(|v| format!(", verified by {v}"))
                        .unwrap_or_default()
                );
                if eco.failed > 0 {
                    eprintln!(
                        "customs: warning: {}: {} record(s) did not parse and are not in the database:",
                        eco.name, eco.failed
                    );
                    for f in &eco.failures {
                        eprintln!(
                            "  {} ({}): {}",
                            f.id.as_deref().unwrap_or("?"),
                            f.file,
                            f.error
                        );
                    }
                }
            }
        }
    }
    let s = &report.status;
    match report.outcome {
        UpdateOutcome::Built => println!(
            "database built: {} records, {} affected entries ({})",
            s.records, s.entries, s.path
        ),
        UpdateOutcome::NotModified => println!("database is up to date ({})", s.path),
        UpdateOutcome::BuiltConcurrently => {
            println!(
                "database was just built by a concurrent update ({})",
                s.path
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_status(root: PathBuf, args: StatusArgs) -> Result<ExitCode> {
    // The diagnostic command never trusts a memo of an earlier check.
    let db = match VulnDb::open_checked(&vulndb::db_path(&root), Integrity::Full) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("customs: error: {e}");
            return Ok(ExitCode::from(EXIT_DB_UNAVAILABLE));
        }
    };
    let s = db.status();
    let now = vulndb::now_unix();
    match args.format {
        StatusFormat::Json => {
            let mut v = serde_json::to_value(s).context("serializing the status")?;
            v["age_secs"] = serde_json::json!(s.age_secs(now));
            println!(
                "{}",
                serde_json::to_string_pretty(&v).context("serializing the status")?
            );
        }
        StatusFormat::Table => {
            println!("database:       {}", s.path);
            println!("schema version: {}", s.schema_version);
            println!(
                "built at:       {} (age {})",
                vulndb::format_unix(s.built_at),
                vulndb::format_age(s.age_secs(now))
            );
            if s.checked_at > s.built_at {
                println!("checked at:     {}", vulndb::format_unix(s.checked_at));
            }
            println!("sources:        {}", s.sources.join(", "));
            println!(
                "records:        {} ({} affected entries)",
                s.records, s.entries
            );
            let w = s
                .ecosystems
                .iter()
                .map(|e| e.name.len())
                .max()
                .unwrap_or(9)
                .max(9);
            println!(
                "{:<w$}  {:>9}  {:>9}  {:>6}  FETCHED",
                "ECOSYSTEM", "RECORDS", "ENTRIES", "FAILED"
            );
            for e in &s.ecosystems {
                println!(
                    "{:<w$}  {:>9}  {:>9}  {:>6}  {}",
                    e.name,
                    e.records,
                    e.entries,
                    e.failed,
                    vulndb::format_unix(e.fetched_at)
                );
            }
            if s.failed() > 0 {
                println!(
                    "warning: {} record(s) did not parse when the database was built",
                    s.failed()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! The command line: argument parsing, output files and exit codes.
//!
//! Exit codes (documented in the README): 0 = scan completed (and the gate, if on,
//! passed), 1 = the findings gate tripped (`--fail-on-findings`), 2 = usage or input
//! error (unreadable image, bad digest, corrupt package database, sandbox limits hit,
//! malformed ignore or VEX file …), 3 = no usable vulnerability database.
use crate::{
    acquire::{self, AcquireOptions},
    cache::Cache,
    engine::{EngineKind, Limits},
    image::Platform,
    policy_file,
    progress::{Progress, ProgressMode},
    scan::{self, ScanOptions, VulnScan},
    vulndb::ensure::{DbSettings, UpdatePolicy, parse_duration},
};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use customs_core::vuln::{Severity, VulnOptions};
use std::{path::PathBuf, process::ExitCode};

/// Exit code when `--fail-on-findings` finds reported findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage and input errors.
pub const EXIT_ERROR: u8 = 2;
/// Exit code when no usable vulnerability database is available.
pub const EXIT_DB_UNAVAILABLE: u8 = crate::cli_db::EXIT_DB_UNAVAILABLE;

#[derive(Debug, Parser)]
#[command(
    name = "customs",
    version,
    about = "Inspect container images before they ship",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The enum is built once per process; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Scan a container image.
    #[command(visible_alias = "container")]
    Scan(ScanArgs),
    /// Inspect or empty the cache directory.
    Cache(CacheArgs),
    /// Build, inspect, publish and fetch the local vulnerability database.
    Db(crate::cli_db::DbArgs),
}

#[derive(Debug, clap::Args)]
struct CacheArgs {
    #[command(subcommand)]
    action: CacheAction,
    /// The cache directory (default: $XDG_CACHE_HOME/customs or ~/.cache/customs).
    #[arg(long, value_name = "DIR", env = "CUSTOMS_CACHE_DIR", global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CacheAction {
    /// Remove analyzed layers, compiled components and temporary files.
    Clean,
    /// Show what the cache holds.
    Stats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable tables.
    Table,
    /// The stable JSON report (docs/report-schema.md).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards (GitHub, GitLab, Azure DevOps).
    Sarif,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProgressArg {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Lines,
    None,
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// The image: a name in a daemon or registry (`myapp:1.2`, `host:port/repo@sha256:…`),
    /// or a `docker save` archive, an OCI archive or an OCI layout directory, optionally
    /// followed by `:NAME[:TAG]` or `@sha256:…` to pick one image of several.
    #[arg(long, value_name = "IMAGE")]
    image: String,

    /// Where to look for the image, in order: docker,podman,registry,archive
    /// (default: a path is an archive; anything else is tried in docker, then podman,
    /// then the registry).
    #[arg(long, value_name = "LIST")]
    image_src: Option<String>,

    #[command(flatten)]
    registry: crate::cli_registry::RegistryArgs,

    /// Platform to pick from a multi-platform index, `os/arch[/variant]`
    /// (default: this machine's platform).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<Platform>,

    /// Scanners to run, comma-separated (vuln,secret,malware,baseline,license), or `none`
    /// for the package inventory only (which needs no vulnerability database).
    #[arg(long, value_name = "LIST", default_value = "vuln")]
    scanners: String,

    /// Severities to report, comma-separated (UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL).
    #[arg(long, value_name = "LIST", default_value = "HIGH,CRITICAL")]
    severity: String,

    /// Exit with code 1 when a reported finding is at or above --fail-on.
    #[arg(long)]
    fail_on_findings: bool,

    /// The lowest severity that trips --fail-on-findings (default: the lowest in --severity).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<String>,

    /// Report only findings that have a fixed version.
    #[arg(long)]
    ignore_unfixed: bool,

    /// Ignore rules (YAML; default: ./.customs.yaml when it exists).
    #[arg(long, value_name = "FILE", env = "CUSTOMS_IGNORE_FILE")]
    ignore_file: Option<PathBuf>,

    /// OpenVEX document marking findings not_affected or fixed; repeatable.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,

    /// Use the cached vulnerability database as it is: never update it.
    #[arg(long)]
    skip_db_update: bool,

    /// No network access: the vulnerability database is used as cached (implies
    /// --skip-db-update) and images are not looked up in registries.
    #[arg(long)]
    offline: bool,

    /// Repositories publishing the database as an OCI artifact (`customs db push`),
    /// tried in order; without one, updates download the OSV exports.
    #[arg(
        long,
        value_name = "REF[,REF…]",
        env = "CUSTOMS_DB_REPOSITORY",
        value_delimiter = ','
    )]
    db_repository: Vec<String>,

    /// Base URL(s) of OSV exports used by automatic updates, tried in order.
    #[arg(
        long = "osv-url",
        value_name = "URL",
        env = "CUSTOMS_OSV_URL",
        value_delimiter = ','
    )]
    osv_url: Vec<String>,

    /// Refresh the database when it was last confirmed current longer ago than this
    /// (`90m`, `12h`, `2d`).
    #[arg(long, value_name = "DURATION", default_value = "12h")]
    db_update_interval: String,

    /// Warn when the database was last confirmed current longer ago than this.
    #[arg(long, value_name = "DURATION", default_value = "5d")]
    db_max_age: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Where the analysis core runs: `wasm` (sandboxed, default) or `native`.
    #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
    engine: EngineKind,

    /// Memory cap of the sandboxed core, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    core_memory_limit: usize,

    /// Time limit of each call into the sandboxed core, in seconds (fractions allowed).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    core_timeout: f64,

    /// Layers analyzed at once (0 = one per CPU core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    parallel: usize,

    /// Progress display on stderr.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    progress: ProgressArg,

    /// Print nothing but the report and errors.
    #[arg(long, short = 'q')]
    quiet: bool,

    /// The cache directory for analyzed layers and the compiled core
    /// (default: $XDG_CACHE_HOME/customs or ~/.cache/customs).
    #[arg(long, value_name = "DIR", env = "CUSTOMS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// Analyze every layer even if the cache has it (and do not cache the results).
    #[arg(long)]
    no_cache: bool,
}

/// Runs the CLI and maps errors to exit codes.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Cache(args) => run_cache(args),
        Command::Db(args) => crate::cli_db::run_db(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the chain joined, so the user sees what failed and where.
            let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
            eprintln!("customs: error: {}", chain.join(": "));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Diagnostics (warnings by default) go to stderr; `CUSTOMS_LOG` takes an
/// `EnvFilter` directive such as `debug` or `customs=trace`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}

fn run_cache(args: CacheArgs) -> Result<ExitCode> {
    let cache = Cache::open(args.cache_dir.as_deref())?;
    match args.action {
        CacheAction::Stats => {
            let stats = cache.stats()?;
            println!("cache directory: {}", cache.root().display());
            println!(
                "analyzed layers: {} ({} bytes)",
                stats.layers, stats.layer_bytes
            );
            println!(
                "other files:     {} ({} bytes)",
                stats.other_files, stats.other_bytes
            );
        }
        CacheAction::Clean => {
            let removed = cache.clean()?;
            println!(
                "removed {} analyzed layers and {} other files ({} bytes) from {}",
                removed.layers,
                removed.other_files,
                removed.layer_bytes + removed.other_bytes,
                cache.root().display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    if !(args.core_timeout.is_finite() && args.core_timeout > 0.0) {
        anyhow::bail!("--core-timeout must be a positive number of seconds");
    }
    if args.core_memory_limit == 0 {
        anyhow::bail!("--core-memory-limit must be at least 1 MiB");
    }
    let scanners = scan::parse_scanners(&args.scanners)?;
    let cache = if args.no_cache {
        None
    } else {
        Some(Cache::open(args.cache_dir.as_deref())?)
    };
    let mut acquire_options = AcquireOptions::from_env();
    if let Some(list) = &args.image_src {
        acquire_options.sources = acquire::parse_sources(list)?;
    }
    acquire_options.platform = args.platform.clone();
    acquire_options.daemon.cache_dir = cache.as_ref().map(|c| c.root().to_path_buf());
    acquire_options.registry = args.registry.options()?;
    if args.offline
        && acquire_options
            .sources
            .contains(&acquire::SourceKind::Registry)
    {
        anyhow::bail!("--offline: --image-src names the registry, which needs the network");
    }
    acquire_options.offline = args.offline;
    let vuln = if scanners.iter().any(|s| s == "vuln") {
        Some(vuln_settings(&args, &acquire_options.registry)?)
    } else {
        None
    };
    let options = ScanOptions {
        image: args.image.clone(),
        acquire: acquire_options,
        engine: args.engine,
        limits: Limits {
            memory_bytes: args.core_memory_limit.saturating_mul(1 << 20),
            call_timeout_ms: (args.core_timeout * 1000.0).ceil() as u64,
        },
        scanners,
        threads: args.parallel,
        cache,
        vuln,
    };
    let mode = match (args.quiet, args.progress) {
        (true, _) | (_, ProgressArg::None) => ProgressMode::Quiet,
        (_, ProgressArg::Auto) => ProgressMode::auto(),
        (_, ProgressArg::Bar) => ProgressMode::Bar,
        (_, ProgressArg::Lines) => ProgressMode::Lines,
    };
    let progress = Progress::new(mode);
    let output = match scan::scan(&options, &progress) {
        Ok(output) => output,
        Err(e @ scan::ScanError::DbUnavailable(_)) => {
            eprintln!("customs: error: {e}");
            return Ok(ExitCode::from(EXIT_DB_UNAVAILABLE));
        }
        Err(e) => return Err(e.into()),
    };
    let rendered = output.render(args.format.as_str())?;
    match &args.output {
        Some(path) => {
            write_atomically(path, rendered.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            progress.message(&format!("report written to {}", path.display()));
        }
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(rendered.as_bytes())
                .context("writing the report to standard output")?;
            stdout
                .flush()
                .context("writing the report to standard output")?;
        }
    }
    if let Some(section) = &output.report.vulnerabilities {
        for gap in &section.gaps {
            tracing::warn!("incomplete: {gap}");
        }
        for n in &section.policy.expired_ignores {
            tracing::warn!(
                "{}: ignore rule for {} expired on {}; it no longer applies",
                n.origin,
                n.subject,
                n.expires.as_deref().unwrap_or("?")
            );
        }
        for n in &section.policy.stale_ignores {
            tracing::warn!(
                "{}: ignore rule for {} matched no finding; remove it",
                n.origin,
                n.subject
            );
        }
        for n in &section.policy.unmatched_vex {
            tracing::warn!(
                "{}: VEX statement for {} matched no finding",
                n.origin,
                n.subject
            );
        }
        let gate = &section.gate;
        if gate.tripped {
            eprintln!(
                "customs: {} finding{} at or above {} (--fail-on-findings): failing",
                gate.matching,
                if gate.matching == 1 { "" } else { "s" },
                gate.fail_on.as_str()
            );
            return Ok(ExitCode::from(EXIT_FINDINGS));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A severity level as the CLI spells it (case-insensitive).
fn parse_severity(word: &str, flag: &str) -> Result<Severity> {
    match word.trim().to_ascii_uppercase().as_str() {
        "UNKNOWN" => Ok(Severity::Unknown),
        "LOW" => Ok(Severity::Low),
        "MEDIUM" => Ok(Severity::Medium),
        "HIGH" => Ok(Severity::High),
        "CRITICAL" => Ok(Severity::Critical),
        _ => anyhow::bail!(
            "{flag}: `{}` is not a severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)",
            word.trim()
        ),
    }
}

/// The `vuln` scanner's settings from the command line: database, selection,
/// suppression policy and gate.
fn vuln_settings(args: &ScanArgs, registry: &crate::registry::RegistryOptions) -> Result<VulnScan> {
    let mut severities = Vec::new();
    for word in args.severity.split(',').filter(|w| !w.trim().is_empty()) {
        severities.push(parse_severity(word, "--severity")?);
    }
    if severities.is_empty() {
        anyhow::bail!("--severity: no severity given");
    }
    let fail_on = args
        .fail_on
        .as_deref()
        .map(|w| parse_severity(w, "--fail-on"))
        .transpose()?;
    if fail_on.is_some() && !args.fail_on_findings {
        anyhow::bail!("--fail-on has no effect without --fail-on-findings");
    }
    let mut policy = customs_core::policy::Policy::default();
    let ignore_file = match &args.ignore_file {
        Some(path) => Some(path.clone()),
        None => policy_file::discover_ignore_file(std::path::Path::new(".")),
    };
    if let Some(path) = &ignore_file {
        policy.ignores = policy_file::load_ignore_file(path)?;
    }
    for path in &args.vex {
        policy.vex.push(policy_file::load_vex(path)?);
    }
    for url in &args.osv_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            anyhow::bail!("--osv-url {url}: must be an http:// or https:// URL");
        }
    }
    let cache_root = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => crate::cache::default_dir()
            .context("no cache directory for the vulnerability database: set --cache-dir, CUSTOMS_CACHE_DIR, XDG_CACHE_HOME or HOME")?,
    };
    let db = DbSettings {
        cache_root,
        policy: if args.offline {
            UpdatePolicy::Offline
        } else if args.skip_db_update {
            UpdatePolicy::Skip
        } else {
            UpdatePolicy::Auto
        },
        repositories: args
            .db_repository
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect(),
        osv_mirrors: args
            .osv_url
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect(),
        update_interval: parse_duration(&args.db_update_interval)
            .map_err(|e| anyhow::anyhow!("--db-update-interval: {e}"))?,
        max_age: parse_duration(&args.db_max_age)
            .map_err(|e| anyhow::anyhow!("--db-max-age: {e}"))?,
        registry: registry.clone(),
    };
    let options = VulnOptions {
        severities,
        ignore_unfixed: args.ignore_unfixed,
        fail_on_findings: args.fail_on_findings,
        fail_on,
        policy,
        ..VulnOptions::default()
    };
    Ok(VulnScan { db, options })
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a
/// reader (a later CI step) never sees a half-written report.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

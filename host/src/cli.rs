//! The command line: argument parsing, output files and exit codes.
//!
//! Exit codes (documented in the README): 0 = scan completed, 1 = reserved for the
//! findings gate (`--fail-on-findings`), 2 = usage or input error (unreadable image,
//! bad digest, corrupt package database, sandbox limits hit …).
use crate::{
    acquire::{self, AcquireOptions},
    cache::Cache,
    engine::{EngineKind, Limits},
    image::Platform,
    progress::{Progress, ProgressMode},
    scan::{self, ScanOptions},
};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::{path::PathBuf, process::ExitCode};

/// Exit code for usage and input errors.
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "customs", version, about = "Inspect container images before they ship", propagate_version = true)]
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
    /// Build and inspect the local vulnerability database.
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
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
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

    /// Registry user name.
    #[arg(long, value_name = "USER", env = "CUSTOMS_REGISTRY_USERNAME")]
    username: Option<String>,

    /// Registry password or token (prefer --password-stdin or the environment variable:
    /// a command line is visible to other users of the machine).
    #[arg(long, value_name = "PASSWORD", env = "CUSTOMS_REGISTRY_PASSWORD", hide_env_values = true)]
    password: Option<String>,

    /// Read the registry password from standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,

    /// Allow plain HTTP or unverified TLS for this registry (HOST[:PORT]); repeatable.
    #[arg(long, value_name = "HOST[:PORT]")]
    insecure_registry: Vec<String>,

    /// Trust this CA certificate (PEM) for registries; repeatable.
    #[arg(long, value_name = "FILE")]
    registry_ca: Vec<PathBuf>,

    /// Platform to pick from a multi-platform index, `os/arch[/variant]`
    /// (default: this machine's platform).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<Platform>,

    /// Scanners to run, comma-separated (vuln,secret,malware,baseline,license), or `none`
    /// for the package inventory only.
    #[arg(long, value_name = "LIST", default_value = "none")]
    scanners: String,

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
            println!("analyzed layers: {} ({} bytes)", stats.layers, stats.layer_bytes);
            println!("other files:     {} ({} bytes)", stats.other_files, stats.other_bytes);
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
    let cache = if args.no_cache { None } else { Some(Cache::open(args.cache_dir.as_deref())?) };
    let mut acquire_options = AcquireOptions::from_env();
    if let Some(list) = &args.image_src {
        acquire_options.sources = acquire::parse_sources(list)?;
    }
    acquire_options.platform = args.platform.clone();
    acquire_options.daemon.cache_dir = cache.as_ref().map(|c| c.root().to_path_buf());
    let registry = &mut acquire_options.registry;
    registry.username = args.username.clone();
    registry.password = if args.password_stdin { Some(read_password_stdin()?) } else { args.password.clone() };
    if registry.password.is_some() && registry.username.is_none() {
        anyhow::bail!("a registry password was given without --username (or CUSTOMS_REGISTRY_USERNAME)");
    }
    registry.insecure_registries = args.insecure_registry.clone();
    registry.ca_files = args.registry_ca.clone();
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
    };
    let mode = match (args.quiet, args.progress) {
        (true, _) | (_, ProgressArg::None) => ProgressMode::Quiet,
        (_, ProgressArg::Auto) => ProgressMode::auto(),
        (_, ProgressArg::Bar) => ProgressMode::Bar,
        (_, ProgressArg::Lines) => ProgressMode::Lines,
    };
    let progress = Progress::new(mode);
    let output = scan::scan(&options, &progress)?;
    let rendered = output.render(args.format.as_str())?;
    match &args.output {
        Some(path) => {
            write_atomically(path, rendered.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
            progress.message(&format!("report written to {}", path.display()));
        }
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(rendered.as_bytes()).context("writing the report to standard output")?;
            stdout.flush().context("writing the report to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a password from standard input: the first line, without its line ending.
fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        anyhow::bail!("--password-stdin: standard input held no password");
    }
    Ok(password)
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a
/// reader (a later CI step) never sees a half-written report.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

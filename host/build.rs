//! Builds the analysis core as a WebAssembly component and places it in `OUT_DIR`,
//! where `src/engine/wasm.rs` embeds it.
//!
//! The core is compiled for `wasm32-unknown-unknown` by the toolchain that
//! `scripts/install-toolchain.sh` installs (Debian's rustc with std built from source),
//! in a *nested* cargo that uses a target directory of its own: the outer cargo holds
//! the lock of its target directory while this script runs, so sharing it would
//! deadlock. The resulting core module is turned into a component here, with the
//! `wit-component` library, so no external tool is needed.
//!
//! Environment:
//! - `CUSTOMS_CORE_COMPONENT`: path of a prebuilt component (or core module) to embed
//!   instead of building one;
//! - `CUSTOMS_TOOLCHAIN_DIR`: where the toolchain is installed (default
//!   `/opt/customs-toolchain`).
use std::{
    env, fs,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

const OUTPUT: &str = "customs_core.component.wasm";
const DEFAULT_TOOLCHAIN: &str = "/opt/customs-toolchain";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The root Cargo.toml's profile for the component (fat LTO, abort on panic).
const WASM_PROFILE: &str = "wasm";

/// Binary header of a core wasm module and of a component (magic + version + layer).
const MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            // Cargo shows a failed build script's stderr; keep the cause on one line.
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", manifest_dir.display()))?
        .to_path_buf();
    let out = PathBuf::from(env_var("OUT_DIR")?).join(OUTPUT);

    println!("cargo:rerun-if-env-changed=CUSTOMS_CORE_COMPONENT");
    println!("cargo:rerun-if-env-changed=CUSTOMS_TOOLCHAIN_DIR");
    emit_wasmtime_version(&workspace.join("Cargo.lock"))?;

    let bytes = match env::var_os("CUSTOMS_CORE_COMPONENT").filter(|p| !p.is_empty()) {
        Some(prebuilt) => {
            let prebuilt = PathBuf::from(prebuilt);
            println!("cargo:rerun-if-changed={}", prebuilt.display());
            let bytes = fs::read(&prebuilt)
                .map_err(|e| format!("CUSTOMS_CORE_COMPONENT={}: {e}", prebuilt.display()))?;
            componentize(&bytes, &prebuilt)?
        }
        None => {
            // One retry, for transient failures of the nested build. (A build started
            // with standard input closed fails for good: cargo's `rustc -` probes then
            // read whatever pipe reuses descriptor 0; the scripts use /dev/null.)
            let module = build_core(&workspace).or_else(|first| {
                println!("cargo:warning=building the wasm core failed once, retrying: {first}");
                build_core(&workspace)
            })?;
            let bytes = fs::read(&module)
                .map_err(|e| format!("reading the core module {}: {e}", module.display()))?;
            componentize(&bytes, &module)?
        }
    };
    write_if_changed(&out, &bytes)
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name} for the build script"))
}

/// Compiles `customs-core` for wasm32 with the installed toolchain; returns the module.
fn build_core(workspace: &Path) -> Result<PathBuf, String> {
    for watched in [
        "core/src",
        "core/wit",
        "core/component",
        "core/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let toolchain = env::var_os("CUSTOMS_TOOLCHAIN_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_TOOLCHAIN));
    let cargo_wasm = toolchain.join("bin/cargo-wasm");
    let stamp = toolchain.join(".installed");
    if !cargo_wasm.is_file() || !stamp.is_file() {
        return Err(format!(
            "the wasm32 toolchain is not installed in {}: run `bash scripts/install-toolchain.sh` \
             (or set CUSTOMS_TOOLCHAIN_DIR, or CUSTOMS_CORE_COMPONENT to a prebuilt component)",
            toolchain.display()
        ));
    }
    // A reinstalled or upgraded toolchain rewrites its stamp: rebuild with it.
    println!("cargo:rerun-if-changed={}", stamp.display());

    // Our own directory inside the workspace's target dir, never the outer cargo's
    // (it is locked by the build that runs this script).
    let target_root = env::var_os("CARGO_TARGET_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let target_dir = target_root.join("wasm");

    let mut cmd = Command::new(&cargo_wasm);
    cmd.current_dir(workspace)
        .args(["build", "--locked", "--lib", "-p", "customs-core-component"])
        .args(["--target", WASM_TARGET, "--profile", WASM_PROFILE])
        .arg("--target-dir")
        .arg(&target_dir);
    scrub_env(&mut cmd);
    cmd.stdin(std::process::Stdio::null());
    // The nested cargo's output goes to our stderr, which cargo shows on failure.
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cargo_wasm.display()))?;
    if !status.success() {
        return Err(format!(
            "building customs-core for {WASM_TARGET} with {} failed ({status}); its output is above",
            cargo_wasm.display()
        ));
    }
    let module = target_dir
        .join(WASM_TARGET)
        .join(WASM_PROFILE)
        .join("customs_core_component.wasm");
    if !module.is_file() {
        return Err(format!("the wasm32 build produced no {}", module.display()));
    }
    Ok(module)
}

/// Removes what the outer cargo exports to build scripts and what would change how the
/// nested one builds: flags meant for the host build (`CARGO_ENCODED_RUSTFLAGS` is set
/// for every build script and would be applied to the wasm build), the outer compiler
/// and its wrappers, the outer target/target dir, and the package's own variables.
/// The outer jobserver is removed too (see the list), and the nested cargo gets no
/// standard input.
fn scrub_env(cmd: &mut Command) {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "RUSTUP_TOOLCHAIN",
        "CARGO",
        "CARGO_TARGET_DIR",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        // The outer jobserver is not passed on: its file descriptors are only valid in
        // the process cargo handed them to, and a nested cargo that trusts inherited
        // descriptor numbers can end up reading and writing unrelated pipes (seen as a
        // target probe reading a C compiler's error output). The nested build runs
        // with its own job limit instead.
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ];
    const PREFIXES: &[&str] = &[
        "CARGO_BUILD_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_PKG_",
        "DEP_",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if EXACT.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
}

/// Turns a core module carrying wit-bindgen's component-type section into a component;
/// passes an existing component through after checking its header.
fn componentize(bytes: &[u8], from: &Path) -> Result<Vec<u8>, String> {
    match bytes.get(..8) {
        Some(h) if h == COMPONENT_HEADER => Ok(bytes.to_vec()),
        Some(h) if h == MODULE_HEADER => {
            let mut encoder = wit_component::ComponentEncoder::default()
                .validate(true)
                .module(bytes)
                .map_err(|e| {
                    format!(
                        "{}: not a module made by wit-bindgen: {}",
                        from.display(),
                        one_line(&e)
                    )
                })?;
            encoder.encode().map_err(|e| {
                format!(
                    "{}: cannot encode a component: {}",
                    from.display(),
                    one_line(&e)
                )
            })
        }
        _ => Err(format!(
            "{}: not a WebAssembly module or component",
            from.display()
        )),
    }
}

fn one_line(e: &impl std::fmt::Debug) -> String {
    format!("{e:?}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes only when the content differs, so an unchanged component does not make
/// cargo recompile the host.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Exposes the locked wasmtime version as `CUSTOMS_WASMTIME_VERSION`: part of the key
/// of the precompiled-component cache, since artifacts are specific to a wasmtime.
fn emit_wasmtime_version(lock: &Path) -> Result<(), String> {
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(lock).map_err(|e| format!("reading {}: {e}", lock.display()))?;
    let mut lines = text.lines();
    let mut version = None;
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasmtime\"" {
            version = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned);
            break;
        }
    }
    let version = version.ok_or_else(|| format!("{}: no wasmtime package", lock.display()))?;
    println!("cargo:rustc-env=CUSTOMS_WASMTIME_VERSION={version}");
    Ok(())
}

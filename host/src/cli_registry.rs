//! The registry flags shared by `customs scan`, `customs db push` and `customs db pull`.
use crate::registry::RegistryOptions;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// How to reach registries, as `customs scan` takes it.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Registry user name.
    #[arg(long, value_name = "USER", env = "CUSTOMS_REGISTRY_USERNAME")]
    pub username: Option<String>,
    /// Registry password or token (prefer --password-stdin or the environment
    /// variable: a command line is visible to other users of the machine).
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "CUSTOMS_REGISTRY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Read the registry password from standard input.
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// Allow plain HTTP or unverified TLS for this registry; repeatable.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Trust this CA certificate (PEM) for registries; repeatable.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Vec<PathBuf>,
}

impl RegistryArgs {
    pub fn options(&self) -> Result<RegistryOptions> {
        let password = if self.password_stdin {
            Some(read_password_stdin()?)
        } else {
            self.password.clone()
        };
        if password.is_some() && self.username.is_none() {
            anyhow::bail!(
                "a registry password was given without --username (or CUSTOMS_REGISTRY_USERNAME)"
            );
        }
        Ok(RegistryOptions {
            username: self.username.clone(),
            password,
            insecure_registries: self.insecure_registry.clone(),
            ca_files: self.registry_ca.clone(),
            ..RegistryOptions::default()
        })
    }
}

/// Reads a password from standard input: the first line, without its line ending.
fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        anyhow::bail!("--password-stdin: standard input held no password");
    }
    Ok(password)
}

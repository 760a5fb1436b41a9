//! `customs`: the command-line host of the Customs scanner.
mod cli;
mod engine;
mod image;
mod progress;
mod scan;

fn main() -> std::process::ExitCode {
    cli::run()
}

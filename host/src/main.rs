//! `customs`: the command-line entry point.
fn main() -> std::process::ExitCode {
    customs::cli::run()
}

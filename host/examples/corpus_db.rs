//! Builds a vulnerability database from the advisory snapshot in `../shared/corpus`
//! (the Debian DSA/DLA lists, the Alpine secdb and AlmaLinux's OSV records, converted
//! by the core's feed converters) for machines that cannot reach OSV's bucket.
//!
//! It serves the converted exports on 127.0.0.1, the way OSV's bucket serves them,
//! and runs the real `customs db update` against that address, so the database is
//! built by exactly the code path a connected machine uses.
//!
//! Usage: `cargo run --release -p customs --example corpus_db -- PATH/TO/customs [db update args…]`
#[path = "../tests/support/osv.rs"]
mod osv;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(customs) = args.next() else {
        eprintln!("usage: corpus_db PATH/TO/customs [extra `db update` arguments]");
        return ExitCode::from(2);
    };
    let server = osv::Server::start();
    for name in ["AlmaLinux", "Alpine", "Debian"] {
        let zip = osv::corpus_exports()
            .zips
            .get(name)
            .unwrap_or_else(|| panic!("no {name} export in the corpus"));
        server.serve(name, zip.clone(), &format!("{name}-corpus"));
    }
    let status = Command::new(&customs)
        .args([
            "db",
            "update",
            "--ecosystems",
            "AlmaLinux,Alpine,Debian",
            "--osv-url",
            &server.mirror("corpus"),
        ])
        .args(args)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("corpus_db: running {customs}: {e}");
            ExitCode::from(2)
        }
    }
}

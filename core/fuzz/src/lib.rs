//! Helpers shared by the fuzz targets: the properties every parser of image content
//! must keep on *any* input, whatever it returns.
#![forbid(unsafe_code)]

use customs_core::{
    CoreError,
    model::{Package, PackageDbFacts},
    pkgdb::{self, DbFormat},
};

/// Separates the database from its write-ahead log in `rpm_sqlite` inputs. It is
/// long and unlikely enough that mutations of a database never create it by chance,
/// and a seed without it is a database without WAL.
pub const WAL_SEPARATOR: &[u8] = b"\n--customs-fuzz-wal--\n";

/// Splits an `rpm_sqlite` input into the database and the optional WAL.
pub fn split_wal(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data
        .windows(WAL_SEPARATOR.len())
        .position(|w| w == WAL_SEPARATOR)
    {
        Some(at) => (&data[..at], Some(&data[at + WAL_SEPARATOR.len()..])),
        None => (data, None),
    }
}

/// Errors cross the engine boundary and end up in logs and terminals: one line,
/// never empty. A newline smuggled in from file content could forge log lines.
pub fn assert_one_line(err: &str) {
    assert!(!err.is_empty(), "empty error message");
    assert!(
        !err.contains(['\n', '\r']),
        "multi-line error message: {err:?}"
    );
}

/// Checks a database parse result: errors are one line, successes are sorted and
/// every package is tagged with the format's ecosystem.
pub fn check_db(format: DbFormat, result: &Result<PackageDbFacts, CoreError>) {
    match result {
        Ok(facts) => {
            assert_eq!(facts.format, format.name());
            assert!(facts.packages.is_sorted(), "packages not sorted");
            for p in &facts.packages {
                assert_eq!(p.ecosystem, Some(format.ecosystem()));
            }
            // The facts are cached and sent across the sandbox boundary as JSON.
            let json = serde_json::to_string(facts).expect("package facts serialize");
            let back: PackageDbFacts =
                serde_json::from_str(&json).expect("package facts deserialize");
            assert_eq!(&back, facts);
        }
        Err(e) => assert_one_line(&e.to_string()),
    }
}

/// Parses `data` as the database `format` found at `path` and checks the result.
pub fn fuzz_db(format: DbFormat, path: &str, data: &[u8]) {
    check_db(format, &pkgdb::parse(format, path, data));
}

/// Checks a single package read from an rpm header.
pub fn check_package(result: &Result<Package, CoreError>) {
    match result {
        Ok(p) => {
            assert!(!p.name.is_empty(), "package without a name");
            assert!(p.files.is_sorted(), "file list not sorted");
        }
        Err(e) => assert_one_line(&e.to_string()),
    }
}

//! Fuzzes the pure-Rust SQLite reader of `rpmdb.sqlite`, with its write-ahead log.
//!
//! The input is the database, optionally followed by
//! [`customs_core_fuzz::WAL_SEPARATOR`] and the WAL, so that the fuzzer mutates both
//! files and their interplay (salts, checksums, commit frames, page overlays).
#![no_main]

use customs_core::pkgdb::{self, DbFormat};
use customs_core_fuzz::{check_db, split_wal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (db, wal) = split_wal(data);
    check_db(
        DbFormat::RpmSqlite,
        &pkgdb::parse_rpm_sqlite("var/lib/rpm/rpmdb.sqlite", db, wal),
    );
});

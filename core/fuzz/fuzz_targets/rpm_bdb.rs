//! Fuzzes the rpm BerkeleyDB `Packages` reader: `customs_core::pkgdb::parse` as the layer analyzer calls it.
#![no_main]

use customs_core::pkgdb::DbFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    customs_core_fuzz::fuzz_db(DbFormat::RpmBdb, "var/lib/rpm/Packages", data);
});

//! Fuzzes the CBL-Mariner `container-manifest-2` reader: `customs_core::pkgdb::parse` as the layer analyzer calls it.
#![no_main]

use customs_core::pkgdb::DbFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    customs_core_fuzz::fuzz_db(
        DbFormat::RpmManifest,
        "var/lib/rpmmanifest/container-manifest-2",
        data,
    );
});

//! Fuzzes the rpm header reader directly: every rpmdb backend ends in it, and going
//! through a backend spends most mutations on the container format instead.
#![no_main]

use customs_core::pkgdb::rpm;
use customs_core_fuzz::check_package;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_package(&rpm::parse_header("var/lib/rpm/Packages", data));
});

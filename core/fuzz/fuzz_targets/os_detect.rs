//! Fuzzes OS detection over arbitrary sets of release files.
//!
//! Input: records separated by `0xFF` (a byte that never occurs in UTF-8 text, so a
//! release file's content never has to be escaped); the first byte of a record picks
//! the file (an index into `customs_core::os::OS_FILES`), the rest is its content. A
//! later record for the same file replaces an earlier one.
#![no_main]

use customs_core::os::{self, OS_FILES};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let mut files = BTreeMap::new();
    for record in data.split(|&b| b == 0xFF) {
        let Some((&which, content)) = record.split_first() else {
            continue;
        };
        let path = OS_FILES[usize::from(which) % OS_FILES.len()];
        files.insert(
            path.to_string(),
            String::from_utf8_lossy(content).into_owned(),
        );
    }
    let detected = os::detect(&files);
    if let Some(info) = &detected {
        assert!(!info.family.is_empty(), "OS without family: {info:?}");
        assert!(!info.version.is_empty(), "OS without version: {info:?}");
        assert!(
            OS_FILES.contains(&info.source.as_str()),
            "OS from unknown source: {info:?}"
        );
        assert!(
            files.contains_key(&info.source),
            "OS from a file that is absent: {info:?}"
        );
    }
    assert_eq!(
        os::detect(&files),
        detected,
        "detection is not deterministic"
    );
});

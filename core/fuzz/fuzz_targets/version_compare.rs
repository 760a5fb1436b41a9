//! Fuzzes the version orderings of dpkg, apk and rpm.
//!
//! Input: the first byte picks the ecosystem, the rest is two versions separated by
//! the first NUL byte. Beyond not panicking, a comparison must be an order: reflexive
//! (`a == a`) and antisymmetric (`cmp(a, b) == cmp(b, a).reverse()`); advisory
//! matching silently goes wrong when it is not.
#![no_main]

use customs_core::{model::Ecosystem, version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let ecosystem = [Ecosystem::Deb, Ecosystem::Apk, Ecosystem::Rpm][usize::from(which) % 3];
    let (a, b) = match rest.iter().position(|&c| c == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let ab = version::compare(ecosystem, &a, &b);
    let ba = version::compare(ecosystem, &b, &a);
    assert_eq!(ab, ba.reverse(), "{ecosystem:?}: cmp({a:?}, {b:?}) = {ab:?} but cmp(b, a) = {ba:?}");
    for v in [&a, &b] {
        assert_eq!(
            version::compare(ecosystem, v, v),
            std::cmp::Ordering::Equal,
            "{ecosystem:?}: {v:?} is not equal to itself"
        );
    }
});

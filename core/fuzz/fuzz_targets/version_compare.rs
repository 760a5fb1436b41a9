//! Fuzzes every version ordering (`version::Scheme::ALL`: dpkg, apk, rpm and the
//! language ecosystems').
//!
//! Input: the first byte picks the scheme, the rest is up to three versions separated
//! by NUL bytes. Beyond not panicking, a comparison must be an order: reflexive
//! (`a == a`), antisymmetric (`cmp(a, b) == cmp(b, a).reverse()`) and transitive
//! (`a <= b <= c` implies `a <= c`); advisory matching silently goes wrong when it is
//! not.
#![no_main]

use customs_core::version::Scheme;
use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let scheme = Scheme::ALL[usize::from(which) % Scheme::ALL.len()];
    let mut parts = rest.splitn(3, |&c| c == 0).map(String::from_utf8_lossy);
    let a = parts.next().unwrap_or_default();
    let b = parts.next().unwrap_or_default();
    let c = parts.next().unwrap_or_default();
    for (x, y) in [(&a, &b), (&b, &c), (&a, &c)] {
        let xy = scheme.compare(x, y);
        let yx = scheme.compare(y, x);
        assert_eq!(
            xy,
            yx.reverse(),
            "{scheme:?}: cmp({x:?}, {y:?}) = {xy:?} but cmp(y, x) = {yx:?}"
        );
    }
    for v in [&a, &b, &c] {
        assert_eq!(
            scheme.compare(v, v),
            Ordering::Equal,
            "{scheme:?}: {v:?} is not equal to itself"
        );
    }
    let ab = scheme.compare(&a, &b);
    let bc = scheme.compare(&b, &c);
    if ab != Ordering::Greater && bc != Ordering::Greater {
        let ac = scheme.compare(&a, &c);
        assert_ne!(
            ac,
            Ordering::Greater,
            "{scheme:?}: {a:?} <= {b:?} <= {c:?} but {a:?} > {c:?}"
        );
    }
});

//! Version ordering of each ecosystem, written to match the package manager's own
//! algorithm exactly (tested against every vector in the shared corpus).
use crate::model::Ecosystem;
use std::cmp::Ordering;

pub mod apk;
pub mod dpkg;
pub mod rpm;

/// Compares two versions of `ecosystem` the way its package manager does.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    match ecosystem {
        Ecosystem::Deb => dpkg::compare(a, b),
        Ecosystem::Apk => apk::compare(a, b),
        Ecosystem::Rpm => rpm::compare(a, b),
    }
}

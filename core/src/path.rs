//! Normalization of paths found in layer tars.
//!
//! Tar paths are hostile: `./etc/x`, `/etc/x`, `etc//x`, `etc/./x` and `a/../etc/x`
//! must all name `etc/x`, and no path may climb above the root. The normalized form
//! has no leading `/`, no `.`/`..` segments and no empty segments; the root is `""`.

/// Normalizes a tar entry path. `..` at the root is dropped, the way a container
/// runtime resolves it when extracting.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The parent directory of a normalized path (`""` for top-level entries).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The last segment of a normalized path.
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// True when `path` is `dir` itself or lies below it (`dir == ""` is the root).
pub fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_hostile_forms() {
        for (input, want) in [
            ("./etc/os-release", "etc/os-release"),
            ("/etc/os-release", "etc/os-release"),
            ("etc//./os-release", "etc/os-release"),
            ("a/../etc/os-release", "etc/os-release"),
            ("../../../etc/passwd", "etc/passwd"),
            ("./", ""),
            ("usr/lib/", "usr/lib"),
        ] {
            assert_eq!(normalize(input), want, "{input}");
        }
    }

    #[test]
    fn within() {
        assert!(is_within("usr/lib/x", "usr/lib"));
        assert!(is_within("usr/lib", "usr/lib"));
        assert!(!is_within("usr/lib64", "usr/lib"));
        assert!(is_within("anything", ""));
    }
}

//! Operating-system detection from the release files of the final filesystem.
//!
//! Precedence, and why:
//! 1. **os-release** (`etc/os-release`, else `usr/lib/os-release`, systemd's own rule;
//!    distroless images ship only the latter). It is the one standard file, so it
//!    decides the family, as in Trivy. Its `ID` must be one we match advisories for: an
//!    unknown `ID` (a derivative such as Kali or Mint) yields no OS rather than its
//!    parent's, whose advisories would not apply. `VERSION_ID` is the version.
//! 2. **The family's own release file refines the version** when it is more precise
//!    and consistent with os-release: `etc/debian_version` gives the point release
//!    (`12.13` where os-release says `12`) and the testing/unstable name (`trixie/sid`,
//!    where os-release has no `VERSION_ID` at all); `etc/alpine-release` gives the
//!    full `3.23.6`; `etc/centos-release` & co. give `7.9.2009` where os-release says
//!    `7`. `source` then names that file, since it supplied the version.
//! 3. **Without an os-release that names its distribution** (old images, or no `ID`),
//!    the legacy files decide, most specific first: `alpine-release`, `lsb-release`
//!    (Ubuntu, which also ships a `debian_version`), `debian_version`, the Red Hat
//!    family's `centos-`/`rocky-`/`almalinux-`/`oracle-`/`fedora-release` (each
//!    distribution also ships a `redhat-release`, so that one comes last),
//!    `photon-release`, `system-release` (Amazon Linux), `redhat-release`.
//!
//! An OS whose version cannot be determined is not reported (as Trivy does): advisory
//! matching needs the release.
use crate::model::OsInfo;
use std::collections::BTreeMap;

/// The release files OS detection reads, relative to the root.
pub const OS_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/lsb-release",
    "etc/debian_version",
    "etc/centos-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/oracle-release",
    "etc/fedora-release",
    "etc/photon-release",
    "etc/system-release",
    "etc/redhat-release",
];

/// The os-release `ID`s we know, with our family id for each.
const OS_RELEASE_IDS: &[(&str, &str)] = &[
    ("activestate", "activestate"),
    ("almalinux", "alma"),
    ("alpine", "alpine"),
    ("amzn", "amazon"),
    ("azurelinux", "azurelinux"),
    ("bottlerocket", "bottlerocket"),
    ("centos", "centos"),
    ("chainguard", "chainguard"),
    ("coreos", "coreos"),
    ("debian", "debian"),
    ("echo", "echo"),
    ("fedora", "fedora"),
    ("mariner", "mariner"),
    ("minimos", "minimos"),
    ("ol", "oracle"),
    // Leap 42 says `opensuse`, Leap 15 `opensuse-leap`.
    ("opensuse", "opensuse-leap"),
    ("opensuse-leap", "opensuse-leap"),
    ("opensuse-tumbleweed", "opensuse-tumbleweed"),
    ("photon", "photon"),
    ("rhel", "redhat"),
    ("rocky", "rocky"),
    // SLE Micro's successive brandings.
    ("sl-micro", "slem"),
    ("sle-micro", "slem"),
    ("sle-micro-rancher", "slem"),
    ("sles", "sles"),
    ("ubuntu", "ubuntu"),
    ("wolfi", "wolfi"),
];

/// Debian major release -> codename, for os-release files without `VERSION_CODENAME`
/// (Debian 7 and 8 lack it).
const DEBIAN_CODENAMES: &[(&str, &str)] = &[
    ("4", "etch"),
    ("5", "lenny"),
    ("6", "squeeze"),
    ("7", "wheezy"),
    ("8", "jessie"),
    ("9", "stretch"),
    ("10", "buster"),
    ("11", "bullseye"),
    ("12", "bookworm"),
    ("13", "trixie"),
    ("14", "forky"),
    ("15", "duke"),
];

/// The `KEY=value` fields of an os-release or lsb-release file that detection uses.
#[derive(Debug, Default)]
struct KeyValues {
    fields: BTreeMap<&'static str, String>,
}

impl KeyValues {
    const KEYS: &'static [&'static str] = &[
        "ID",
        "NAME",
        "VERSION_ID",
        "VERSION_CODENAME",
        "PRETTY_NAME",
        "DISTRIB_ID",
        "DISTRIB_RELEASE",
        "DISTRIB_CODENAME",
        "DISTRIB_DESCRIPTION",
        "UBUNTU_CODENAME",
    ];

    /// Parses the shell-style assignments of os-release(5): one `KEY=value` per line,
    /// the value optionally in single or double quotes (with `\` escapes in double
    /// quotes); comments and other lines are ignored. The last assignment wins.
    fn parse(text: &str) -> Self {
        let mut fields = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let Some(&key) = Self::KEYS.iter().find(|k| **k == key.trim()) else {
                continue;
            };
            let value = unquote(value.trim());
            if !value.is_empty() {
                fields.insert(key, value);
            }
        }
        KeyValues { fields }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

fn unquote(value: &str) -> String {
    let b = value.as_bytes();
    if b.len() >= 2 && b[0] == b'\'' && b[b.len() - 1] == b'\'' {
        return value[1..value.len() - 1].to_string();
    }
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        let mut out = String::with_capacity(value.len());
        let mut chars = value[1..value.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    value.to_string()
}

/// The first non-empty line of a file, trimmed.
fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

fn starts_with_digit(s: &str) -> bool {
    s.bytes().next().is_some_and(|c| c.is_ascii_digit())
}

/// Whether `precise` refines `coarse`: equal, or `coarse` followed by `.`.
fn refines(precise: &str, coarse: &str) -> bool {
    coarse.is_empty()
        || precise == coarse
        || precise
            .strip_prefix(coarse)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The version number following `release ` in a Red Hat style release line, e.g.
/// `CentOS Linux release 7.6.1810 (Core)` -> (`CentOS Linux`, `7.6.1810`).
fn release_line(line: &str) -> Option<(&str, &str)> {
    let at = line.find(" release ")?;
    let name = line[..at].trim();
    let rest = &line[at + " release ".len()..];
    let len = rest
        .bytes()
        .take_while(|c| c.is_ascii_digit() || *c == b'.')
        .count();
    let version = rest[..len].trim_end_matches('.');
    starts_with_digit(version).then_some((name, version))
}

/// The family a Red Hat style release line names.
fn release_line_family(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    Some(if name.starts_with("centos stream") {
        "centos-stream"
    } else if name.contains("centos") {
        "centos"
    } else if name.contains("rocky") {
        "rocky"
    } else if name.contains("alma") {
        "alma"
    } else if name.contains("oracle") {
        "oracle"
    } else if name.contains("fedora") {
        "fedora"
    } else if name.contains("amazon") {
        "amazon"
    } else if name.contains("red hat") || name.contains("redhat") {
        "redhat"
    } else {
        return None;
    })
}

/// The release file specific to `family`, whose content can refine its version.
fn family_release_file(family: &str) -> Option<&'static str> {
    Some(match family {
        "debian" => "etc/debian_version",
        "alpine" => "etc/alpine-release",
        "centos" | "centos-stream" => "etc/centos-release",
        "rocky" => "etc/rocky-release",
        "alma" => "etc/almalinux-release",
        "oracle" => "etc/oracle-release",
        "fedora" => "etc/fedora-release",
        "redhat" => "etc/redhat-release",
        _ => return None,
    })
}

/// Reads `etc/debian_version`: a point release (`12.13`), or testing/unstable
/// (`trixie/sid`, `sid`) whose codename is the part before the slash.
fn debian_version(text: &str) -> Option<(String, Option<String>)> {
    let line = first_line(text)?;
    if starts_with_digit(line) {
        return Some((line.to_string(), None));
    }
    if line == "sid" || line.ends_with("/sid") {
        let codename = line.split('/').next().unwrap_or(line);
        return Some((line.to_string(), Some(codename.to_string())));
    }
    None
}

/// What one family-specific release file says about the version.
fn refine(family: &str, text: &str) -> Option<(String, Option<String>)> {
    match family {
        "debian" => debian_version(text),
        "alpine" => first_line(text)
            .filter(|l| starts_with_digit(l))
            .map(|l| (l.to_string(), None)),
        _ => {
            let (name, version) = release_line(first_line(text)?)?;
            // A redhat-release inside an Oracle image names Red Hat: only trust a file
            // that names the same family.
            let named = release_line_family(name)?;
            let same = named == family || (family == "centos-stream" && named == "centos");
            same.then(|| (version.to_string(), None))
        }
    }
}

fn debian_codename(version: &str) -> Option<String> {
    let major = version.split('.').next()?;
    DEBIAN_CODENAMES
        .iter()
        .find(|(v, _)| *v == major)
        .map(|(_, c)| c.to_string())
}

/// Detects the OS from the final filesystem's release files (path -> content).
pub fn detect(files: &BTreeMap<String, String>) -> Option<OsInfo> {
    let os_release = ["etc/os-release", "usr/lib/os-release"]
        .into_iter()
        .find_map(|p| files.get(p).map(|t| (p, KeyValues::parse(t))));
    if let Some((path, kv)) = &os_release
        && let Some(id) = kv.get("ID")
    {
        let id = id.to_ascii_lowercase();
        let family = OS_RELEASE_IDS.iter().find(|(k, _)| *k == id)?.1;
        return from_os_release(files, path, kv, family);
    }
    from_legacy_files(files)
}

fn from_os_release(
    files: &BTreeMap<String, String>,
    path: &str,
    kv: &KeyValues,
    family: &str,
) -> Option<OsInfo> {
    let mut family = family.to_string();
    if family == "centos"
        && kv
            .get("NAME")
            .is_some_and(|n| n.to_ascii_lowercase().contains("stream"))
    {
        family = "centos-stream".to_string();
    }
    let mut info = OsInfo {
        version: kv.get("VERSION_ID").unwrap_or_default().to_string(),
        codename: kv
            .get("VERSION_CODENAME")
            .or(kv.get("UBUNTU_CODENAME"))
            .map(str::to_string),
        pretty_name: kv.get("PRETTY_NAME").map(str::to_string),
        source: path.to_string(),
        family,
    };
    if let Some(file) = family_release_file(&info.family)
        && let Some(text) = files.get(file)
        && let Some((version, codename)) = refine(&info.family, text)
    {
        let testing = !starts_with_digit(&version);
        // A testing/unstable name replaces a missing version; a point release must
        // extend the os-release version.
        if (testing && info.version.is_empty()) || (!testing && refines(&version, &info.version)) {
            info.version = version;
            info.codename = info.codename.or(codename);
            info.source = file.to_string();
        }
    }
    if info.version.is_empty() {
        return None;
    }
    if info.family == "debian" && info.codename.is_none() {
        info.codename = debian_codename(&info.version);
    }
    Some(info)
}

fn from_legacy_files(files: &BTreeMap<String, String>) -> Option<OsInfo> {
    let get = |p: &str| files.get(p).map(String::as_str);
    if let Some(text) = get("etc/alpine-release")
        && let Some((version, _)) = refine("alpine", text)
    {
        return Some(OsInfo {
            family: "alpine".into(),
            version,
            codename: None,
            pretty_name: None,
            source: "etc/alpine-release".into(),
        });
    }
    if let Some(text) = get("etc/lsb-release") {
        let kv = KeyValues::parse(text);
        if kv
            .get("DISTRIB_ID")
            .is_some_and(|id| id.eq_ignore_ascii_case("ubuntu"))
            && let Some(version) = kv.get("DISTRIB_RELEASE")
        {
            return Some(OsInfo {
                family: "ubuntu".into(),
                version: version.to_string(),
                codename: kv.get("DISTRIB_CODENAME").map(str::to_string),
                pretty_name: kv.get("DISTRIB_DESCRIPTION").map(str::to_string),
                source: "etc/lsb-release".into(),
            });
        }
    }
    if let Some(text) = get("etc/debian_version")
        && let Some((version, codename)) = debian_version(text)
    {
        let codename = codename.or_else(|| debian_codename(&version));
        return Some(OsInfo {
            family: "debian".into(),
            version,
            codename,
            pretty_name: None,
            source: "etc/debian_version".into(),
        });
    }
    for path in [
        "etc/centos-release",
        "etc/rocky-release",
        "etc/almalinux-release",
        "etc/oracle-release",
        "etc/fedora-release",
        "etc/photon-release",
        "etc/system-release",
        "etc/redhat-release",
    ] {
        let Some(line) = get(path).and_then(first_line) else {
            continue;
        };
        let found = if path == "etc/photon-release" {
            // `VMware Photon OS 4.0`
            line.rsplit(' ')
                .next()
                .filter(|v| starts_with_digit(v))
                .map(|v| ("photon", v))
        } else {
            release_line(line).and_then(|(name, v)| Some((release_line_family(name)?, v)))
        };
        if let Some((family, version)) = found {
            return Some(OsInfo {
                family: family.into(),
                version: version.to_string(),
                codename: None,
                pretty_name: Some(line.to_string()),
                source: path.into(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""a \"b\" c""#), r#"a "b" c"#);
        assert_eq!(unquote("'x'"), "x");
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("plain"), "plain");
    }

    #[test]
    fn release_lines() {
        assert_eq!(
            release_line("CentOS Linux release 7.6.1810 (Core) "),
            Some(("CentOS Linux", "7.6.1810"))
        );
        assert_eq!(
            release_line("Oracle Linux Server release 7.6"),
            Some(("Oracle Linux Server", "7.6"))
        );
        assert_eq!(
            release_line("Amazon Linux release 2 (Karoo)"),
            Some(("Amazon Linux", "2"))
        );
        assert_eq!(release_line("nothing here"), None);
        assert_eq!(release_line("x release "), None);
    }

    #[test]
    fn every_path_is_listed() {
        for f in [
            "etc/debian_version",
            "etc/alpine-release",
            "etc/oracle-release",
        ] {
            assert!(OS_FILES.contains(&f));
        }
        let mut sorted = OS_FILES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), OS_FILES.len());
    }
}

//! dpkg status databases: `var/lib/dpkg/status`, opkg's `status` (same format) and
//! distroless `var/lib/dpkg/status.d/<name>` files.
//!
//! The format is a sequence of RFC 822-like stanzas separated by blank lines. Each
//! field is `Name: value`; a line starting with a space or tab continues the previous
//! field. The parser scans the input bytes once, borrows every value it does not need
//! to rewrite and only allocates for the handful of fields that end up in a
//! [`Package`].
//!
//! Decisions (they matter for what the scanner reports, so they are explicit):
//!
//! * **What counts as installed.** `Status:` is `want flag state`. Only the *state*
//!   says what is on disk; `want` (`install`, `hold`, `deinstall`, `purge`) is merely
//!   the administrator's selection and says nothing about the files. A package is
//!   reported unless its state says its files are not (fully) present: `not-installed`,
//!   `config-files` (only conffiles remain) or `half-installed` (an unpack was
//!   interrupted, the content is a mix nobody can name a version for). So
//!   `installed`, `half-configured`, `unpacked`, `triggers-awaited` and
//!   `triggers-pending` are reported: their files are on disk and may be vulnerable.
//!   An unrecognized state is reported too: dropping a package we cannot classify
//!   would hide it.
//! * **Missing `Status:`.** Distroless `status.d` files never carry one, and tools
//!   that assemble a `status` file from control files omit it as well; such stanzas
//!   are treated as installed (as Syft and Trivy do).
//! * **Stanzas without `Package:` or `Version:`** (or with empty values) are skipped,
//!   as all peers do: dpkg itself never writes one, so they are leftovers, not packages.
//! * **Corrupt input.** A line that is neither a field, a continuation nor blank, a
//!   continuation with no field to continue, or a non-blank database in which no
//!   stanza names a package with a version, is a [`CoreError::CorruptDatabase`]: the
//!   scanner must not present a partial or empty inventory as complete.
//! * **Duplicate fields** in one stanza: the first occurrence wins (dpkg rejects such
//!   stanzas; keeping the first is what a MIME-header reader does, and it makes a
//!   later injected line unable to override an earlier one).
//! * Field names are case-insensitive (as in dpkg); CRLF line ends, trailing
//!   whitespace, runs of blank lines and a missing final newline are accepted;
//!   values that are not UTF-8 are converted lossily.
use crate::{CoreError, model::Package};
use std::borrow::Cow;

/// Parses `var/lib/dpkg/status` (or an opkg status file): only installed packages.
pub fn parse_status(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    parse(path, content)
}

/// Parses one distroless `var/lib/dpkg/status.d/<name>` file.
///
/// Usually one stanza, but several are accepted. Stanzas without `Status:` are
/// installed (distroless never writes the field); an explicit not-installed state is
/// still honoured, as in [`parse_status`].
pub fn parse_status_d(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    parse(path, content)
}

/// The fields of one stanza that end up in a [`Package`].
#[derive(Default)]
struct Stanza<'a> {
    package: Option<Cow<'a, [u8]>>,
    version: Option<Cow<'a, [u8]>>,
    status: Option<Cow<'a, [u8]>>,
    arch: Option<Cow<'a, [u8]>>,
    source: Option<Cow<'a, [u8]>>,
    maintainer: Option<Cow<'a, [u8]>>,
    /// Whether the stanza has at least one field (blank-line runs start none).
    any_field: bool,
}

/// Which kept field the previous line set, so that a continuation line can extend it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// A field we do not keep (Description, Conffiles, Depends…), or a duplicate.
    Ignored,
    Package,
    Version,
    Status,
    Arch,
    Source,
    Maintainer,
}

impl<'a> Stanza<'a> {
    fn slot(&mut self, which: Last) -> Option<&mut Option<Cow<'a, [u8]>>> {
        match which {
            Last::Ignored => None,
            Last::Package => Some(&mut self.package),
            Last::Version => Some(&mut self.version),
            Last::Status => Some(&mut self.status),
            Last::Arch => Some(&mut self.arch),
            Last::Source => Some(&mut self.source),
            Last::Maintainer => Some(&mut self.maintainer),
        }
    }
}

/// Outcome of closing a stanza. One value per stanza, moved once: boxing the large
/// variant would only add an allocation per package.
#[allow(clippy::large_enum_variant)]
enum Closed {
    /// No `Package` or no `Version`.
    Nameless,
    /// Named, but its files are not on disk.
    NotInstalled,
    Installed(Package),
}

fn parse(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    let mut packages = Vec::new();
    let mut named_stanzas = 0usize;
    let mut stanza = Stanza::default();
    let mut last: Option<Last> = None;

    let mut close = |stanza: &mut Stanza<'_>, packages: &mut Vec<Package>| {
        if stanza.any_field {
            match close_stanza(std::mem::take(stanza)) {
                Closed::Nameless => {}
                Closed::NotInstalled => named_stanzas += 1,
                Closed::Installed(p) => {
                    named_stanzas += 1;
                    packages.push(p);
                }
            }
        }
    };

    for (index, raw) in content.split(|&b| b == b'\n').enumerate() {
        let line = trim_end(raw);
        if line.is_empty() {
            close(&mut stanza, &mut packages);
            last = None;
            continue;
        }
        let line_no = index + 1;
        if line[0] == b' ' || line[0] == b'\t' {
            let Some(which) = last else {
                return Err(CoreError::corrupt(
                    "dpkg",
                    path,
                    format!("line {line_no}: continuation line without a field to continue"),
                ));
            };
            if let Some(Some(value)) = stanza.slot(which) {
                // Folded value: join the pieces with one space, as deb822 unfolding does.
                let piece = trim_start(line);
                if !piece.is_empty() {
                    let owned = value.to_mut();
                    if !owned.is_empty() {
                        owned.push(b' ');
                    }
                    owned.extend_from_slice(piece);
                }
            }
            continue;
        }
        let Some((name, value)) = split_field(line) else {
            return Err(CoreError::corrupt(
                "dpkg",
                path,
                format!(
                    "line {line_no}: expected `Field: value`, found {}",
                    excerpt(line)
                ),
            ));
        };
        stanza.any_field = true;
        let which = field_kind(name);
        last = Some(which);
        if let Some(slot) = stanza.slot(which) {
            if slot.is_none() {
                *slot = Some(Cow::Borrowed(value));
            } else {
                // Duplicate: keep the first, and do not let continuations extend it.
                last = Some(Last::Ignored);
            }
        }
    }
    close(&mut stanza, &mut packages);

    if packages.is_empty() && named_stanzas == 0 && content.iter().any(|b| !b.is_ascii_whitespace())
    {
        return Err(CoreError::corrupt(
            "dpkg",
            path,
            "no stanza names a package with a version",
        ));
    }
    packages.sort();
    packages.dedup();
    Ok(packages)
}

fn field_kind(name: &[u8]) -> Last {
    const FIELDS: [(&[u8], Last); 6] = [
        (b"Package", Last::Package),
        (b"Version", Last::Version),
        (b"Status", Last::Status),
        (b"Architecture", Last::Arch),
        (b"Source", Last::Source),
        (b"Maintainer", Last::Maintainer),
    ];
    FIELDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or(Last::Ignored, |&(_, k)| k)
}

/// Splits `Name: value` into its parts. The name must be non-empty printable ASCII
/// without spaces or colons (deb822); the value is trimmed.
fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
        return None;
    }
    Some((name, trim_start(&line[colon + 1..])))
}

fn close_stanza(s: Stanza<'_>) -> Closed {
    let name = s.package.as_deref().map(lossy).unwrap_or_default();
    let version = s.version.as_deref().map(lossy).unwrap_or_default();
    let (name, version) = (name.trim(), version.trim());
    if name.is_empty() || version.is_empty() {
        return Closed::Nameless;
    }
    if let Some(status) = s.status.as_deref()
        && !is_installed(status)
    {
        return Closed::NotInstalled;
    }
    let (epoch, release) = split_version(version);
    let (source_name, source_version) = match s.source.as_deref().map(lossy) {
        Some(src) => parse_source(&src, name, version),
        None => (name.to_string(), version.to_string()),
    };
    Closed::Installed(Package {
        name: name.to_string(),
        version: version.to_string(),
        epoch,
        release,
        arch: non_empty(s.arch.as_deref()),
        source_name,
        source_version,
        maintainer: non_empty(s.maintainer.as_deref()),
        ..Package::default()
    })
}

/// See the module documentation: only the current state (the last word) matters.
fn is_installed(status: &[u8]) -> bool {
    let Some(state) = status
        .split(|b| b.is_ascii_whitespace())
        .rfind(|w| !w.is_empty())
    else {
        return true; // empty `Status:` says nothing; same as a missing one
    };
    !matches!(
        state,
        b"not-installed" | b"config-files" | b"half-installed"
    )
}

/// Epoch and Debian revision of `[epoch:]upstream[-revision]`. A non-numeric or
/// overflowing epoch is not an epoch (the version is kept verbatim either way).
fn split_version(version: &str) -> (Option<u32>, Option<String>) {
    let (epoch, rest) = match version.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse::<u32>().ok(), rest)
        }
        _ => (None, version),
    };
    let release = rest
        .rsplit_once('-')
        .map(|(_, r)| r)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    (epoch, release)
}

/// `Source: name` or `Source: name (version)`; missing parts fall back to the binary's.
fn parse_source(src: &str, name: &str, version: &str) -> (String, String) {
    let (src_name, src_version) = match src.split_once('(') {
        Some((n, rest)) => (n.trim(), rest.split(')').next().unwrap_or("").trim()),
        None => (src.trim(), ""),
    };
    let src_name = if src_name.is_empty() { name } else { src_name };
    let src_version = if src_version.is_empty() {
        version
    } else {
        src_version
    };
    (src_name.to_string(), src_version.to_string())
}

fn non_empty(value: Option<&[u8]>) -> Option<String> {
    let v = lossy(value?);
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if *first == b' ' || *first == b'\t' {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// At most 40 characters of an offending line, for one-line error messages.
fn excerpt(line: &[u8]) -> String {
    let text = lossy(&line[..line.len().min(40)]);
    let mut out = format!("{:?}", text.as_ref());
    if line.len() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parts() {
        assert_eq!(split_version("1:2.5.1-4"), (Some(1), Some("4".into())));
        assert_eq!(split_version("3.131"), (None, None));
        assert_eq!(
            split_version("8-20180414-1ubuntu2"),
            (None, Some("1ubuntu2".into()))
        );
        assert_eq!(split_version("x:1.0"), (None, None));
        assert_eq!(split_version("99999999999:1.0-1"), (None, Some("1".into())));
    }

    #[test]
    fn source_forms() {
        assert_eq!(
            parse_source("acl", "libacl1", "2.3.1-3"),
            ("acl".into(), "2.3.1-3".into())
        );
        assert_eq!(
            parse_source("util-linux (2.38.1-5)", "x", "2.38.1-5+b1"),
            ("util-linux".into(), "2.38.1-5".into())
        );
        assert_eq!(parse_source(" (", "x", "1"), ("x".into(), "1".into()));
    }

    #[test]
    fn states() {
        assert!(is_installed(b"install ok installed"));
        assert!(is_installed(b"hold ok installed"));
        assert!(is_installed(b"install ok half-configured"));
        assert!(is_installed(b"install ok unpacked"));
        assert!(!is_installed(b"deinstall ok config-files"));
        assert!(!is_installed(b"purge ok not-installed"));
        assert!(!is_installed(b"install reinstreq half-installed"));
        assert!(is_installed(b""));
    }
}

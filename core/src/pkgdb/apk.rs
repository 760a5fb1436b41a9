//! apk installed databases (`lib/apk/db/installed`, Alpine, Wolfi, Chainguard…).
//!
//! The format (<https://wiki.alpinelinux.org/wiki/Apk_spec>) is a sequence of stanzas
//! separated by blank lines; every line is `K:value` with a one-character key. The
//! parser scans the bytes once and only allocates for the values that end up in a
//! [`Package`].
//!
//! Decisions:
//!
//! * Keys used: `P` name, `V` version, `A` arch, `o` origin (source name, falling back
//!   to the name), `L` license, `m` maintainer, `C` package checksum, `F` directory and
//!   `R` file (a file belongs to the most recent `F`). Every other key is ignored.
//! * Licenses are split the way Trivy splits them: on whitespace, dropping the SPDX
//!   operators `AND`/`OR` and surrounding parentheses, and gluing a bare version
//!   number to the name before it (`MPL 2.0` → `MPL-2.0`). Unlike Trivy, `X WITH Y`
//!   stays one entry, because an exception is not a license of its own. Names are
//!   kept as declared; SPDX normalization is a later stage.
//! * `C:` becomes `digest`: `Q1`+base64 → `sha1:<hex>`, `Q2`+base64 → `sha256:<hex>`,
//!   a bare 32-digit hex string (old apk) → `md5:<hex>`. A malformed checksum only
//!   loses the digest; it does not make the database corrupt.
//! * Stanzas without `P:` or `V:` are skipped (Trivy's `invalidPackageWithoutAVersion`).
//! * Corrupt input: a non-blank line without the `K:` shape, or a non-blank database
//!   in which no stanza names a package with a version, is a
//!   [`CoreError::CorruptDatabase`] (Syft's `corrupt` fixture is rejected the same
//!   way): a partial inventory must not look complete.
//! * Duplicate keys in a stanza: the first wins (apk writes each once).
use crate::{CoreError, model::Package};

/// How many bytes of file paths the database may expand to, per byte of database.
/// Each `R:` file is joined to the latest `F:` directory, so one long `F:` line
/// followed by many short `R:` lines is quadratic: a 1 MiB directory name and a
/// hundred thousand one-letter files would make a 1.4 MiB file expand into 100 GiB
/// of paths. Real databases stay below 1 (paths are short, and every `R:` line comes
/// with checksum and ACL lines).
const MAX_PATH_EXPANSION: usize = 16;

/// Parses `lib/apk/db/installed`.
pub fn parse_installed(path: &str, content: &[u8]) -> Result<Vec<Package>, CoreError> {
    let mut packages = Vec::new();
    let mut stanza = Stanza::default();
    let mut named = 0usize;
    let path_limit = content.len().saturating_mul(MAX_PATH_EXPANSION);
    let mut path_bytes = 0usize;

    for (index, raw) in content.split(|&b| b == b'\n').enumerate() {
        let line = trim_end(raw);
        if line.is_empty() {
            if let Some(p) = std::mem::take(&mut stanza).finish() {
                named += 1;
                packages.push(p);
            }
            continue;
        }
        let (key, value) = match line {
            [key, b':', value @ ..] if key.is_ascii_alphanumeric() => (*key, value),
            _ => {
                return Err(CoreError::corrupt(
                    "apk",
                    path,
                    format!(
                        "line {}: expected `K:value`, found {}",
                        index + 1,
                        excerpt(line)
                    ),
                ));
            }
        };
        if key == b'R' {
            path_bytes = path_bytes.saturating_add(stanza.dir.len() + 1 + value.len());
            if path_bytes > path_limit {
                return Err(CoreError::corrupt(
                    "apk",
                    path,
                    format!(
                        "line {}: file paths expand to more than {path_limit} bytes",
                        index + 1
                    ),
                ));
            }
        }
        stanza.add(key, value);
    }
    if let Some(p) = stanza.finish() {
        named += 1;
        packages.push(p);
    }

    if named == 0 && content.iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(CoreError::corrupt(
            "apk",
            path,
            "no stanza names a package with a version",
        ));
    }
    packages.sort();
    packages.dedup();
    Ok(packages)
}

/// Borrowed values of one stanza.
#[derive(Default)]
struct Stanza<'a> {
    name: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    origin: Option<&'a [u8]>,
    license: Option<&'a [u8]>,
    maintainer: Option<&'a [u8]>,
    checksum: Option<&'a [u8]>,
    dir: &'a [u8],
    files: Vec<String>,
}

impl<'a> Stanza<'a> {
    fn add(&mut self, key: u8, value: &'a [u8]) {
        let slot = match key {
            b'P' => &mut self.name,
            b'V' => &mut self.version,
            b'A' => &mut self.arch,
            b'o' => &mut self.origin,
            b'L' => &mut self.license,
            b'm' => &mut self.maintainer,
            b'C' => &mut self.checksum,
            b'F' => {
                self.dir = trim_slashes(value);
                return;
            }
            b'R' => {
                let file = trim_slashes(value);
                if !file.is_empty() {
                    let mut joined = String::with_capacity(self.dir.len() + 1 + file.len());
                    if !self.dir.is_empty() {
                        joined.push_str(&String::from_utf8_lossy(self.dir));
                        joined.push('/');
                    }
                    joined.push_str(&String::from_utf8_lossy(file));
                    self.files.push(joined);
                }
                return;
            }
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }

    fn finish(self) -> Option<Package> {
        let name = text(self.name)?;
        let version = text(self.version)?;
        let mut files = self.files;
        files.sort();
        files.dedup();
        Some(Package {
            source_name: text(self.origin).unwrap_or_else(|| name.clone()),
            source_version: version.clone(),
            arch: text(self.arch),
            maintainer: text(self.maintainer),
            licenses: self.license.map(split_licenses).unwrap_or_default(),
            digest: self.checksum.and_then(checksum_digest),
            files,
            name,
            version,
            ..Package::default()
        })
    }
}

/// A trimmed, non-empty value as text (lossy for non-UTF-8 bytes).
fn text(value: Option<&[u8]>) -> Option<String> {
    let v = String::from_utf8_lossy(value?);
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Splits a license expression into license names (see the module documentation).
fn split_licenses(value: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(value);
    let mut out: Vec<String> = Vec::new();
    let mut with_pending = false;
    for token in text.split_whitespace() {
        let token = token.trim_matches(|c| c == '(' || c == ')');
        match token {
            "" | "AND" | "OR" => {}
            "WITH" => with_pending = !out.is_empty(),
            _ => match out.last_mut() {
                Some(last) if with_pending => {
                    last.push_str(" WITH ");
                    last.push_str(token);
                    with_pending = false;
                }
                Some(last) if is_bare_version(token) => {
                    last.push('-');
                    last.push_str(token);
                }
                _ => out.push(token.to_string()),
            },
        }
    }
    out
}

fn is_bare_version(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_digit())
        && token.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The package checksum `C:` as `algorithm:hex`, when it is well formed.
fn checksum_digest(value: &[u8]) -> Option<String> {
    let value = trim_end(value);
    let (algorithm, len, encoded) = match value {
        [b'Q', b'1', rest @ ..] => ("sha1", 20, rest),
        [b'Q', b'2', rest @ ..] => ("sha256", 32, rest),
        hex if hex.len() == 32 && hex.iter().all(u8::is_ascii_hexdigit) => {
            return Some(format!(
                "md5:{}",
                String::from_utf8_lossy(hex).to_ascii_lowercase()
            ));
        }
        _ => return None,
    };
    let raw = decode_base64(encoded)?;
    (raw.len() == len).then(|| format!("{algorithm}:{}", to_hex(&raw)))
}

/// Standard (RFC 4648 §4) base64 with `=` padding, as apk writes it. Returns `None`
/// on any malformed input.
fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    if input.is_empty() || !input.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let chunks = input.len() / 4;
    for (i, chunk) in input.chunks_exact(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | sextet(c)?;
        }
        acc <<= 6 * pad as u32;
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

fn trim_slashes(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b'/').unwrap_or(s.len());
    let s = &s[start..];
    let end = s.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    &s[..end]
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

/// At most 40 characters of an offending line, for one-line error messages.
fn excerpt(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(40)]);
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
    fn file_paths_cannot_expand_quadratically() {
        // A 64 KiB directory shared by 20 000 one-letter files: 250 KiB of database
        // that would join into 1.3 GB of paths.
        let mut db = format!("P:x\nV:1-r0\nF:{}\n", "d".repeat(64 << 10));
        for _ in 0..20_000 {
            db.push_str("R:f\n");
        }
        let err = parse_installed("lib/apk/db/installed", db.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("expand"), "{err}");
        // Ordinary paths are unaffected.
        let ok = parse_installed(
            "lib/apk/db/installed",
            b"P:x\nV:1-r0\nF:usr/lib\nR:a\nR:b\n",
        )
        .unwrap();
        assert_eq!(ok[0].files, ["usr/lib/a", "usr/lib/b"]);
    }

    #[test]
    fn licenses() {
        let split = |s: &str| split_licenses(s.as_bytes());
        assert_eq!(split("MIT BSD GPL2+"), ["MIT", "BSD", "GPL2+"]);
        assert_eq!(
            split("( Apache-2.0 OR MIT ) AND MPL-2.0"),
            ["Apache-2.0", "MIT", "MPL-2.0"]
        );
        assert_eq!(split("MPL 2.0 GPL2+"), ["MPL-2.0", "GPL2+"]);
        assert_eq!(
            split("GPL-2.0-or-later WITH Classpath-exception-2.0 OR MIT"),
            ["GPL-2.0-or-later WITH Classpath-exception-2.0", "MIT"]
        );
        assert!(split("  ").is_empty());
    }

    #[test]
    fn checksums() {
        assert_eq!(
            checksum_digest(b"Q11otALzX1d1D0kVawy06IairTXS0=").as_deref(),
            Some("sha1:d68b402f35f57750f49156b0cb4e886a2ad35d2d")
        );
        assert_eq!(
            checksum_digest(b"38870EDE8700535d7382ff66a46fcc2f").as_deref(),
            Some("md5:38870ede8700535d7382ff66a46fcc2f")
        );
        assert_eq!(checksum_digest(b"Q1!!!!"), None);
        assert_eq!(checksum_digest(b"Q1AAAA"), None); // decodes, but not 20 bytes
        assert_eq!(checksum_digest(b"Q1"), None);
        assert_eq!(decode_base64(b"TWFu").as_deref(), Some(&b"Man"[..]));
        assert_eq!(decode_base64(b"TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(decode_base64(b"TQ==").as_deref(), Some(&b"M"[..]));
        assert_eq!(decode_base64(b"T==="), None);
        assert_eq!(decode_base64(b"TQ==TWFu"), None);
    }

    #[test]
    fn slashes() {
        assert_eq!(trim_slashes(b"/usr/lib/"), b"usr/lib");
        assert_eq!(trim_slashes(b"///"), b"");
    }
}

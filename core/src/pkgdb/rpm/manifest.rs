//! CBL-Mariner / Azure Linux distroless images have no rpmdb; instead the image
//! build writes `var/lib/rpmmanifest/container-manifest-2`, one package per line with
//! ten tab-separated fields (an `rpm -qa --qf` dump):
//!
//! `NAME  VERSION-RELEASE  INSTALLTIME  BUILDTIME  VENDOR  EPOCH  SIZE  ARCH  EPOCHNUM  SOURCERPM`
//!
//! EPOCH is `(none)` when the package has no epoch tag; EPOCHNUM is `%{EPOCHNUM}`,
//! which prints 0 in that case and so cannot tell "no epoch" from "epoch 0". The
//! epoch therefore comes from EPOCH (as in Syft): `(none)` → no epoch, a number → that
//! epoch, printed in `version` like the rpmdb readers do.
use super::split_source_rpm;
use crate::model::Package;

const FIELDS: usize = 10;

pub fn parse(content: &[u8]) -> Result<Vec<Package>, String> {
    let text = String::from_utf8_lossy(content);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let lineno = n + 1;
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != FIELDS {
            return Err(format!(
                "line {lineno}: {} tab-separated fields, expected {FIELDS}",
                f.len()
            ));
        }
        let name = f[0].trim();
        let (version, release) = f[1]
            .rsplit_once('-')
            .filter(|(v, r)| !v.is_empty() && !r.is_empty())
            .ok_or_else(|| format!("line {lineno}: version {:?} is not VERSION-RELEASE", f[1]))?;
        if name.is_empty() {
            return Err(format!("line {lineno}: empty package name"));
        }
        let epoch = match f[5].trim() {
            "(none)" | "" => None,
            e => Some(
                e.parse::<u32>()
                    .map_err(|_| format!("line {lineno}: epoch {e:?} is not a number"))?,
            ),
        };
        let vr = format!("{version}-{release}");
        let source_rpm = Some(f[9].trim()).filter(|s| !s.is_empty() && *s != "(none)");
        let (source_name, source_version) = source_rpm
            .and_then(split_source_rpm)
            .unwrap_or_else(|| (name.to_string(), vr.clone()));
        let nonempty =
            |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty() && s != "(none)");
        out.push(Package {
            ecosystem: None,
            name: name.to_string(),
            version: match epoch {
                Some(e) => format!("{e}:{vr}"),
                None => vr,
            },
            epoch,
            upstream_version: Some(version.to_string()),
            release: Some(release.to_string()),
            arch: nonempty(f[7]),
            source_name,
            source_version,
            source_rpm: source_rpm.map(str::to_string),
            modularity_label: None,
            maintainer: None,
            vendor: nonempty(f[4]),
            licenses: Vec::new(),
            digest: None,
            files: Vec::new(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_epochs() {
        let m = b"vim\t9.0-1.cm2\t1\t2\tMicrosoft Corporation\t2\t45000\tx86_64\t2\tvim-9.0-1.cm2.src.rpm\n\
                  bash\t5.1-1\t1\t2\t(none)\t(none)\t1\tx86_64\t0\t(none)\n\n";
        let p = parse(m).unwrap();
        assert_eq!(
            (p[0].version.as_str(), p[0].epoch),
            ("2:9.0-1.cm2", Some(2))
        );
        assert_eq!(
            (p[1].version.as_str(), p[1].epoch, p[1].vendor.as_deref()),
            ("5.1-1", None, None)
        );
        assert_eq!(
            (p[1].source_name.as_str(), p[1].source_rpm.as_deref()),
            ("bash", None)
        );
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(parse(b"a\tb\n").unwrap_err().starts_with("line 1:"));
        assert!(
            parse(b"a\t1\t1\t2\tv\t(none)\t1\tx\t0\ts\n")
                .unwrap_err()
                .contains("VERSION-RELEASE")
        );
        assert!(
            parse(b"a\t1-1\t1\t2\tv\tx\t1\tx\t0\ts\n")
                .unwrap_err()
                .contains("epoch")
        );
    }
}

//! Target platforms (`os/arch[/variant]`) and how an index entry is matched to one.
//!
//! Names are normalized the way Docker and containerd do it (`x86_64` is `amd64`,
//! `aarch64` is `arm64`, and `arm64` without a variant means `v8`), so that
//! `--platform linux/arm64` selects an index entry labelled `linux/arm64/v8`.
use std::fmt;
use std::str::FromStr;

/// An image platform as written in configs and index descriptors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

/// Why a `--platform` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8")]
pub struct PlatformParseError(pub String);

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
        }
    }

    /// The platform of the machine we run on, as a container runtime here would pick it.
    /// Container images are Linux images even on macOS hosts (Docker Desktop runs a
    /// Linux VM), so only Windows maps to a non-Linux OS.
    pub fn host() -> Platform {
        let os = if cfg!(windows) { "windows" } else { "linux" };
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "x86" => ("386", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", None),
            "powerpc64" => ("ppc64", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            "loongarch64" => ("loong64", None),
            other => (other, None),
        };
        Platform::new(os, arch, variant)
    }

    /// The normalized (os, arch, variant) triple used for comparisons.
    fn normalized(&self) -> (String, String, Option<String>) {
        let os = self.os.to_ascii_lowercase();
        let arch = match self.architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            "i386" | "i686" => "386".to_string(),
            other => other.to_string(),
        };
        let variant = self.variant.as_ref().map(|v| v.to_ascii_lowercase());
        let variant = match (arch.as_str(), variant.as_deref()) {
            ("arm64", None | Some("8") | Some("v8")) => Some("v8".to_string()),
            ("arm", None | Some("7")) => Some("v7".to_string()),
            ("arm", Some("6")) => Some("v6".to_string()),
            ("arm", Some("5")) => Some("v5".to_string()),
            _ => variant,
        };
        (os, arch, variant)
    }

    /// Whether an image built for `self` is what a user asking for `wanted` gets.
    /// A request without a variant accepts any variant of the architecture except
    /// where the architecture has a default variant (arm64 → v8, arm → v7).
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        let (os, arch, variant) = self.normalized();
        let (w_os, w_arch, w_variant) = wanted.normalized();
        os == w_os && arch == w_arch && (w_variant.is_none() || variant == w_variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = PlatformParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        };
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
            _ => Err(PlatformParseError(s.chars().take(100).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_and_match() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        let q: Platform = "linux/arm64".parse().unwrap();
        assert!(p.satisfies(&q) && q.satisfies(&p));
        let amd: Platform = "linux/x86_64".parse().unwrap();
        assert!(Platform::new("linux", "amd64", None).satisfies(&amd));
        assert!(!p.satisfies(&amd));
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux/amd64/v1/x".parse::<Platform>().is_err());
        assert!("linux//v1".parse::<Platform>().is_err());
    }
}

//! Content digests (`sha256:<hex>`, `sha512:<hex>`) as OCI and Docker use them.
//!
//! Digests arrive from untrusted JSON and file names, so parsing validates the
//! algorithm and the exact lower-case hex length; a digest that passed [`Digest::parse`]
//! is safe to splice into a path (`blobs/<alg>/<hex>`) because it contains no `/` or `..`.
use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;
use std::str::FromStr;

/// The hash functions the OCI image spec registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated content digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

/// Why a string is not a digest; the caller adds where the string came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {value:?}: {reason}")]
pub struct DigestParseError {
    pub value: String,
    pub reason: &'static str,
}

impl Digest {
    /// Parses `alg:hex`. Upper-case hex is rejected: the spec requires lower case, and
    /// accepting both would let two spellings of one blob compare unequal.
    pub fn parse(s: &str) -> Result<Digest, DigestParseError> {
        let err = |reason| DigestParseError {
            value: s.chars().take(200).collect(),
            reason,
        };
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| err("missing `algorithm:`"))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(err("unsupported algorithm (only sha256 and sha512)")),
        };
        Digest::from_hex(algorithm, hex).ok_or_else(|| err("bad hex length or characters"))
    }

    /// Builds a digest from the bare hex part (as found in file names).
    pub fn from_hex(algorithm: Algorithm, hex: &str) -> Option<Digest> {
        let ok = hex.len() == algorithm.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The sha256 of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(data);
        h.finish()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The blob's path inside an OCI layout: `blobs/<alg>/<hex>`.
    pub fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm.as_str(), self.hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// An incremental hash of either algorithm, so one verifier type serves both.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

/// The digest of `data` with the same algorithm as `like`.
pub fn digest_like(like: &Digest, data: &[u8]) -> Digest {
    let mut h = Hasher::new(like.algorithm());
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let d = Digest::sha256_of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        assert!(Digest::parse("sha256:E3B0").is_err());
        assert!(Digest::parse("md5:00").is_err());
        assert!(Digest::parse("sha256:../../etc/passwd").is_err());
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_err());
    }
}

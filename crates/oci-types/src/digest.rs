//! Content digests (`algorithm:encoded`) and the hashers that make them.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::error::clip;
use crate::limits::MAX_DIGEST_LEN;
use crate::Error;

/// A digest algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256, the canonical algorithm of the OCI image spec.
    Sha256,
    /// SHA-512.
    Sha512,
    /// Any other algorithm the grammar allows; it can be parsed and compared, not computed.
    Other(String),
}

impl Algorithm {
    /// The algorithm's name as written in a digest.
    pub fn as_str(&self) -> &str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Other(s) => s,
        }
    }

    /// Length of the hex encoding for the algorithms we can compute.
    fn hex_len(&self) -> Option<usize> {
        match self {
            Algorithm::Sha256 => Some(64),
            Algorithm::Sha512 => Some(128),
            Algorithm::Other(_) => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A content digest such as `sha256:e3b0c442...`.
///
/// Constructed only through parsing ([`FromStr`], serde) or hashing ([`Digest::sha256`],
/// [`Digester`]), so a `Digest` value is always well formed: `sha256` and `sha512` digests
/// have exactly 64 or 128 lower-case hex digits, other algorithms follow the OCI grammar.
///
/// ```
/// use oci_types::Digest;
/// let d = Digest::sha256(b"");
/// assert_eq!(d.to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// assert_eq!(d, d.to_string().parse().unwrap());
/// assert!("sha256:E3B0".parse::<Digest>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// The whole `algorithm:encoded` string.
    full: String,
    /// Index of the `:` in `full`.
    colon: usize,
    algorithm: Algorithm,
}

impl Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        let mut d = Digester::new_sha256();
        d.update(bytes);
        d.finish()
    }

    /// The digest of `bytes` with `algorithm` (sha256 or sha512).
    pub fn compute(algorithm: &Algorithm, bytes: &[u8]) -> Result<Digest, Error> {
        let mut d = Digester::new(algorithm)?;
        d.update(bytes);
        Ok(d.finish())
    }

    /// Builds a digest from an algorithm and its hex encoding, validating both.
    pub fn from_parts(algorithm: &str, encoded: &str) -> Result<Digest, Error> {
        format!("{algorithm}:{encoded}").parse()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// The encoded part after the colon (hex for sha256/sha512).
    pub fn encoded(&self) -> &str {
        &self.full[self.colon + 1..]
    }

    /// The whole digest string.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// A fresh [`Digester`] for this digest's algorithm.
    pub fn digester(&self) -> Result<Digester, Error> {
        Digester::new(&self.algorithm)
    }

    /// Checks that `bytes` hash to this digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), Error> {
        let actual = Digest::compute(&self.algorithm, bytes)?;
        if &actual == self {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                expected: self.clone(),
                actual,
            })
        }
    }
}

fn invalid(input: &str, reason: &'static str) -> Error {
    Error::InvalidDigest {
        input: clip(input),
        reason,
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_DIGEST_LEN {
            return Err(invalid(s, "longer than the digest length limit"));
        }
        let colon = s
            .find(':')
            .ok_or_else(|| invalid(s, "missing ':' separator"))?;
        let (alg, enc) = (&s[..colon], &s[colon + 1..]);
        // algorithm ::= component (separator component)*, component ::= [a-z0-9]+
        if alg.is_empty() {
            return Err(invalid(s, "empty algorithm"));
        }
        let mut prev_sep = true;
        for b in alg.bytes() {
            match b {
                b'a'..=b'z' | b'0'..=b'9' => prev_sep = false,
                b'+' | b'.' | b'_' | b'-' if !prev_sep => prev_sep = true,
                _ => return Err(invalid(s, "algorithm is not [a-z0-9]+ joined by [+._-]")),
            }
        }
        if prev_sep {
            return Err(invalid(s, "algorithm ends with a separator"));
        }
        if enc.is_empty() {
            return Err(invalid(s, "empty encoded part"));
        }
        if !enc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(invalid(s, "encoded part is not [a-zA-Z0-9=_-]+"));
        }
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => Algorithm::Other(other.to_owned()),
        };
        if let Some(len) = algorithm.hex_len() {
            if enc.len() != len {
                return Err(invalid(s, "wrong length for the algorithm"));
            }
            if !enc.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(invalid(s, "encoded part is not lower-case hex"));
            }
        }
        Ok(Digest {
            full: s.to_owned(),
            colon,
            algorithm,
        })
    }
}

impl TryFrom<&str> for Digest {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        s.parse()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.full)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.full)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Clone)]
enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

/// An incremental hasher that yields a [`Digest`]. Implements [`Write`], so `io::copy` can
/// feed it; it also counts the bytes it has seen.
///
/// ```
/// use std::io::Write;
/// use oci_types::{Digest, Digester};
/// let mut d = Digester::new_sha256();
/// d.write_all(b"hello ").unwrap();
/// d.update(b"world");
/// assert_eq!(d.bytes(), 11);
/// assert_eq!(d.finish(), Digest::sha256(b"hello world"));
/// ```
#[derive(Clone)]
pub struct Digester {
    hasher: Hasher,
    bytes: u64,
}

impl Digester {
    /// A digester for `algorithm`; fails for algorithms that cannot be computed.
    pub fn new(algorithm: &Algorithm) -> Result<Digester, Error> {
        let hasher = match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Algorithm::Other(a) => {
                return Err(Error::UnsupportedAlgorithm {
                    algorithm: a.clone(),
                })
            }
        };
        Ok(Digester { hasher, bytes: 0 })
    }

    /// A SHA-256 digester.
    pub fn new_sha256() -> Digester {
        Digester {
            hasher: Hasher::Sha256(sha2::Sha256::new()),
            bytes: 0,
        }
    }

    /// Feeds bytes to the hash.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.hasher {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
        self.bytes += data.len() as u64;
    }

    /// The algorithm it computes.
    pub fn algorithm(&self) -> Algorithm {
        match self.hasher {
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// How many bytes have been hashed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The digest of everything fed so far, without consuming the digester.
    pub fn current(&self) -> Digest {
        self.clone().finish()
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let (alg, hex) = match self.hasher {
            Hasher::Sha256(h) => ("sha256", to_hex(&h.finalize())),
            Hasher::Sha512(h) => ("sha512", to_hex(&h.finalize())),
        };
        let algorithm = if alg == "sha256" {
            Algorithm::Sha256
        } else {
            Algorithm::Sha512
        };
        Digest {
            full: format!("{alg}:{hex}"),
            colon: alg.len(),
            algorithm,
        }
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digester")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl Write for Digester {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            // A nibble is below 16: always a hex digit.
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[track_caller]
    fn check(input: &str, ok: bool) {
        assert_eq!(input.parse::<Digest>().is_ok(), ok, "{input}");
    }

    #[test]
    fn grammar() {
        let h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        check(&format!("sha256:{h}"), true);
        check(&format!("sha256:{}", h.to_uppercase()), false);
        check(&format!("sha256:{}", &h[1..]), false);
        check(&format!("sha256:{h}0"), false);
        check(&format!("sha512:{h}{h}"), true);
        check(&format!("sha512:{h}"), false);
        check(
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
            true,
        );
        check("sha384:abc", true);
        check("a.b_c+d-e:XYZ=_-", true);
        check("Sha256:abc", false);
        check("sha256+:abc", false);
        check("+sha256:abc", false);
        check("sha256abc", false);
        check(":abc", false);
        check("sha384:", false);
        check("sha384:a/b", false);
        check("", false);
        check(&format!("x:{}", "a".repeat(MAX_DIGEST_LEN)), false);
    }

    #[test]
    fn sha512_and_unsupported() {
        let d = Digest::compute(&Algorithm::Sha512, b"abc").unwrap();
        assert_eq!(d.encoded().len(), 128);
        assert!(d.verify(b"abc").is_ok());
        let other: Digest = "sha384:abcd".parse().unwrap();
        assert!(matches!(
            other.digester(),
            Err(Error::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn verify_names_both() {
        let d = Digest::sha256(b"a");
        let err = d.verify(b"b").unwrap_err().to_string();
        assert!(
            err.contains(d.as_str()) && err.contains(Digest::sha256(b"b").as_str()),
            "{err}"
        );
    }
}

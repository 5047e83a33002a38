//! Image references (`[domain[:port]/]path[:tag][@digest]`) in distribution's grammar.
//!
//! The grammar is that of `github.com/distribution/reference`, parsed by hand:
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] path
//! domain           := host [ ":" port ]          host := domain-name | "[" ipv6 "]"
//! domain-name      := component ( "." component )*   component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
//! ipv6             := [a-fA-F0-9:]+               port := [0-9]+
//! path             := path-component ( "/" path-component )*
//! path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*    separator := "." | "_" | "__" | "-"+
//! tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest           := algorithm ":" [0-9a-fA-F]{32,}
//! algorithm        := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//! ```
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::clip;
use crate::limits::{MAX_NAME_LEN, MAX_REFERENCE_LEN};
use crate::{Digest, Error, ReferenceErrorKind};

/// Docker Hub's domain in normalised references.
const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's legacy domain, rewritten to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
const OFFICIAL_PREFIX: &str = "library/";
/// The tag [`Reference::tag_or_latest`] adds.
const DEFAULT_TAG: &str = "latest";
/// Longest tag the grammar allows.
const MAX_TAG_LEN: usize = 128;

/// An image reference: `[domain[:port]/]path[:tag][@digest]`.
///
/// [`FromStr`] (also [`TryFrom<&str>`] and serde) normalises as the docker CLI does
/// (distribution's `ParseNormalizedNamed`): a name without a domain is on Docker Hub
/// (`docker.io`), a single-component Docker Hub name is in the `library/` namespace, and
/// `index.docker.io` becomes `docker.io`. The first path component is a domain when it contains
/// `.` or `:`, is `localhost`, or has upper case letters; otherwise the whole name is a path on
/// Docker Hub. Upper case in the path and bare 64-hex-digit strings (image IDs) are refused.
/// [`Reference::parse_strict`] takes a reference as written, without normalisation.
///
/// [`Display`](fmt::Display) gives the full string, [`Reference::familiar`] the short form
/// docker shows.
///
/// ```
/// use oci_types::Reference;
/// let r: Reference = "busybox:1.36".parse().unwrap();
/// assert_eq!(r.domain(), "docker.io");
/// assert_eq!(r.path(), "library/busybox");
/// assert_eq!(r.tag(), Some("1.36"));
/// assert_eq!(r.to_string(), "docker.io/library/busybox:1.36");
/// assert_eq!(r.familiar(), "busybox:1.36");
///
/// let r: Reference = "localhost:5000/team/app".parse().unwrap();
/// assert_eq!((r.domain(), r.path()), ("localhost:5000", "team/app"));
/// assert_eq!(r.tag_or_latest().to_string(), "localhost:5000/team/app:latest");
///
/// assert!("Busybox".parse::<Reference>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `host[:port]`; empty only for references without a domain (see [`Reference::domain`]).
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `s` as written, without normalisation (distribution's `Parse`).
    ///
    /// No `docker.io` default and no `library/` prefix: the name is kept as written. The
    /// domain/path split is the grammar's: the first component is the domain when there is a
    /// `/` after it and it is a valid `host[:port]` (so `foo/bar` has domain `foo`, and `foo`
    /// has no domain, [`Reference::domain`] is empty); otherwise the whole name is the path.
    ///
    /// ```
    /// use oci_types::Reference;
    /// let r = Reference::parse_strict("foo/bar:v1").unwrap();
    /// assert_eq!((r.domain(), r.path(), r.tag()), ("foo", "bar", Some("v1")));
    /// let r = Reference::parse_strict("busybox").unwrap();
    /// assert_eq!((r.domain(), r.path()), ("", "busybox"));
    /// assert_eq!(r.to_string(), "busybox");
    /// ```
    pub fn parse_strict(s: &str) -> Result<Reference, Error> {
        parse_reference(s).map_err(|kind| invalid(s, kind))
    }

    /// The domain, `host[:port]` (`docker.io`, `localhost:5000`, `[::1]:5000`).
    ///
    /// Empty when the reference has none: after [`Reference::parse_strict`] of a name without
    /// a domain, or, as in distribution, after parsing a name whose first component looks like
    /// a domain but is not a valid one (`foo_bar.com/app` is the path `foo_bar.com/app`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the domain (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The repository, `domain/path` (just the path when there is no domain).
    pub fn repository(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The name, the same as [`Reference::repository`] (distribution's `Name()`).
    pub fn name(&self) -> String {
        self.repository()
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same reference with `tag` (any digest is kept).
    ///
    /// Fails with [`ReferenceErrorKind::InvalidTag`] unless `tag` matches
    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    pub fn with_tag(mut self, tag: &str) -> Result<Reference, Error> {
        if !is_tag(tag) {
            return Err(invalid(tag, ReferenceErrorKind::InvalidTag));
        }
        self.tag = Some(tag.to_owned());
        Ok(self)
    }

    /// The same reference with `digest` (any tag is kept).
    ///
    /// Fails with [`ReferenceErrorKind::UnsupportedDigestAlgorithm`] unless the digest is
    /// `sha256` or `sha512`, the algorithms a reference may carry here.
    pub fn with_digest(mut self, digest: Digest) -> Result<Reference, Error> {
        if !matches!(
            digest.algorithm(),
            crate::Algorithm::Sha256 | crate::Algorithm::Sha512
        ) {
            return Err(invalid(
                digest.as_str(),
                ReferenceErrorKind::UnsupportedDigestAlgorithm,
            ));
        }
        self.digest = Some(digest);
        Ok(self)
    }

    /// This reference, tagged `latest` if it has neither tag nor digest (distribution's
    /// `TagNameOnly`).
    pub fn tag_or_latest(&self) -> Reference {
        let mut r = self.clone();
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(DEFAULT_TAG.to_owned());
        }
        r
    }

    /// The short form docker shows (distribution's `FamiliarString`): `docker.io/` and the
    /// `library/` of official images dropped, tag and digest kept.
    ///
    /// `docker.io/library/busybox:latest` gives `busybox:latest`, `docker.io/foo/bar` gives
    /// `foo/bar`, other domains are kept. Unlike distribution, `docker.io/` (or `library/`) is
    /// kept where dropping it would change what the string parses to (`docker.io/a.b/c`, whose
    /// `a.b` would be read as a domain, or an official image named with 64 hex digits), so the
    /// familiar form of a reference from [`FromStr`] always parses back to the same reference.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        push_suffix(&mut s, self.tag.as_deref(), self.digest.as_ref());
        s
    }

    /// The familiar form of the name alone (distribution's `FamiliarName`): `busybox` for
    /// `docker.io/library/busybox:latest`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.repository();
        }
        if let Some(rest) = self.path.strip_prefix(OFFICIAL_PREFIX) {
            if !rest.contains('/') && !is_identifier(rest) {
                return rest.to_owned();
            }
        }
        match self.path.split_once('/') {
            Some((first, _)) if !looks_like_domain(first) => self.path.clone(),
            _ => self.repository(),
        }
    }
}

/// Whether normalisation takes `first` (a name's first component) for a domain.
fn looks_like_domain(first: &str) -> bool {
    first == "localhost" || first.contains(['.', ':']) || has_upper(first)
}

fn push_suffix(s: &mut String, tag: Option<&str>, digest: Option<&Digest>) {
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(d.as_str());
    }
}

fn invalid(input: &str, kind: ReferenceErrorKind) -> Error {
    Error::InvalidReference {
        input: clip(input),
        kind,
    }
}

impl FromStr for Reference {
    type Err = Error;

    /// Parses and normalises as the docker CLI (distribution's `ParseNormalizedNamed`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_normalized(s).map_err(|kind| invalid(s, kind))
    }
}

impl TryFrom<&str> for Reference {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        s.parse()
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.domain.is_empty() {
            write!(f, "{}/", self.domain)?;
        }
        f.write_str(&self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// distribution's `ParseNormalizedNamed`.
fn parse_normalized(s: &str) -> Result<Reference, ReferenceErrorKind> {
    if s.len() > MAX_REFERENCE_LEN {
        return Err(ReferenceErrorKind::TooLong);
    }
    if s.is_empty() {
        return Err(ReferenceErrorKind::NameEmpty);
    }
    if is_identifier(s) {
        return Err(ReferenceErrorKind::HexIdentifier);
    }
    // splitDockerDomain: decide the domain from the first `/`-separated component.
    let (domain, remainder) = match s.split_once('/') {
        None => (DEFAULT_DOMAIN, s),
        Some((first, rest)) if first == LEGACY_DEFAULT_DOMAIN => (DEFAULT_DOMAIN, rest),
        Some((first, rest)) if looks_like_domain(first) => (first, rest),
        Some(_) => (DEFAULT_DOMAIN, s),
    };
    // As distribution, the remote name for the case check ends at the first `:`.
    let remote = remainder.split_once(':').map_or(remainder, |(r, _)| r);
    if has_upper(remote) {
        return Err(ReferenceErrorKind::NameContainsUppercase);
    }
    let prefix = if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        OFFICIAL_PREFIX
    } else {
        ""
    };
    let full = [domain, "/", prefix, remainder].concat();
    parse_reference(&full)
}

/// distribution's `Parse`, with finer errors for bad tags and digests.
fn parse_reference(s: &str) -> Result<Reference, ReferenceErrorKind> {
    if s.len() > MAX_REFERENCE_LEN {
        return Err(ReferenceErrorKind::TooLong);
    }
    if s.is_empty() {
        return Err(ReferenceErrorKind::NameEmpty);
    }
    let parts = match split_parts(s) {
        Ok(p) => p,
        Err(ReferenceErrorKind::InvalidFormat) => {
            // As distribution: if the lower-cased input is valid, the fault is upper case.
            let fixed_by_lowering =
                go_lowercase(s).is_some_and(|l| l != s && split_parts(&l).is_ok());
            return Err(if fixed_by_lowering {
                ReferenceErrorKind::NameContainsUppercase
            } else {
                ReferenceErrorKind::InvalidFormat
            });
        }
        Err(e) => return Err(e),
    };
    if parts.path.len() > MAX_NAME_LEN {
        return Err(ReferenceErrorKind::NameTooLong);
    }
    let digest = match parts.digest {
        None => None,
        Some(d) => Some(parse_digest(d)?),
    };
    Ok(Reference {
        domain: parts.domain.to_owned(),
        path: parts.path.to_owned(),
        tag: parts.tag.map(str::to_owned),
        digest,
    })
}

/// The pieces of a reference that matches the grammar.
struct Parts<'a> {
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Splits `s` by the grammar, checking each piece's syntax.
///
/// Neither the name nor the tag can hold `@`, so the digest starts at the first `@`. The name
/// can hold `:` only in its domain, which is followed by a `/`, and the tag holds neither `:`
/// nor `/`, so a `:` after the last `/` starts the tag.
fn split_parts(s: &str) -> Result<Parts<'_>, ReferenceErrorKind> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    let last_start = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_start..].rfind(':') {
        Some(i) => (&rest[..last_start + i], Some(&rest[last_start + i + 1..])),
        None => (rest, None),
    };
    let (domain, path) = split_name(name).ok_or(ReferenceErrorKind::InvalidFormat)?;
    if tag.is_some_and(|t| !is_tag(t)) {
        return Err(ReferenceErrorKind::InvalidTag);
    }
    if digest.is_some_and(|d| !is_digest_syntax(d)) {
        return Err(ReferenceErrorKind::InvalidDigest);
    }
    Ok(Parts {
        domain,
        path,
        tag,
        digest,
    })
}

/// Splits a name into domain and path as the grammar's optional domain group: the first
/// component is the domain if it can be one and the rest is a valid path.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/') {
        if is_domain_and_port(first) && is_path(rest) {
            return Some((first, rest));
        }
    }
    is_path(name).then_some(("", name))
}

/// Checks digest semantics after the syntax: only registered algorithms, exact lengths.
fn parse_digest(d: &str) -> Result<Digest, ReferenceErrorKind> {
    let algorithm = d.split_once(':').map_or(d, |(a, _)| a);
    match algorithm {
        "sha256" | "sha512" => d.parse().map_err(|_| ReferenceErrorKind::InvalidDigest),
        _ => Err(ReferenceErrorKind::UnsupportedDigestAlgorithm),
    }
}

/// `[a-z0-9]`
fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `path-component ( "/" path-component )*`
fn is_path(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_path_component)
}

/// `[a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) if is_lower_alnum(first) && is_lower_alnum(last) => {}
        _ => return false,
    }
    // Every run of non-alphanumerics is interior (first and last are alphanumeric).
    b.split(|&x| is_lower_alnum(x))
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&x| x == b'-'))
}

/// `host [ ":" port ]`, host a domain name or a bracketed IPv6 address.
fn is_domain_and_port(s: &str) -> bool {
    let port = if let Some(after) = s.strip_prefix('[') {
        let Some((inner, port)) = after.split_once(']') else {
            return false;
        };
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        port
    } else {
        let (host, port) = s.find(':').map_or((s, ""), |i| s.split_at(i));
        if !host.split('.').all(is_domain_component) {
            return false;
        }
        port
    };
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_TAG_LEN
        && b.first().is_some_and(|&x| word(x))
        && b.iter().skip(1).all(|&x| word(x) || x == b'.' || x == b'-')
}

/// The reference grammar's digest: `algorithm ":" [0-9a-fA-F]{32,}`, algorithm components
/// `[A-Za-z][A-Za-z0-9]*` joined by `[-_+.]`.
fn is_digest_syntax(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && algorithm.split(['-', '_', '+', '.']).all(|c| {
            let b = c.as_bytes();
            b.first().is_some_and(u8::is_ascii_alphabetic)
                && b.iter().all(u8::is_ascii_alphanumeric)
        })
}

/// A 64-hex-digit image ID, `[a-f0-9]{64}`.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether lower-casing changes `s` (Go's `strings.ToLower(s) != s`).
fn has_upper(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_ascii_uppercase() || (!c.is_ascii() && !c.to_lowercase().eq(std::iter::once(c)))
    })
}

/// Go's `strings.ToLower(s)` when the result is ASCII, `None` when it is not (then it cannot
/// match the ASCII grammar anyway). Besides ASCII, only KELVIN SIGN and LATIN CAPITAL LETTER I
/// WITH DOT ABOVE lower-case to ASCII in Go.
fn go_lowercase(s: &str) -> Option<String> {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii() => Some(c.to_ascii_lowercase()),
            '\u{212A}' => Some('k'),
            '\u{0130}' => Some('i'),
            _ => None,
        })
        .collect()
}

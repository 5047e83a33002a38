//! The crate's one error type.

use std::path::PathBuf;

use oci_types::{Digest, Platform};

use crate::name::TRANSPORTS;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong naming, opening or copying an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name starts with a transport this crate does not have.
    #[error(
        "unknown transport {transport:?}{} (transports: {}; a registry image is docker://HOST/REPO[:TAG])",
        suggestion.map(|s| format!(": did you mean {s}?")).unwrap_or_default(),
        TRANSPORTS.join(" ")
    )]
    UnknownTransport {
        /// What stood before the first `:`.
        transport: String,
        /// The closest transport, when one is close.
        suggestion: Option<&'static str>,
    },
    /// A name without a transport where one is needed ([`std::str::FromStr`]).
    #[error("{name:?} names no transport (transports: {})", TRANSPORTS.join(" "))]
    MissingTransport {
        /// The name.
        name: String,
    },
    /// A name whose transport is known but whose rest is malformed.
    #[error("bad image name {name:?}: {problem}")]
    InvalidName {
        /// The whole name.
        name: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// A bare path that does not exist.
    #[error(
        "{}: no such file or directory (a registry image is named docker://HOST/REPO[:TAG])",
        path.display()
    )]
    NoSuchFile {
        /// The path.
        path: PathBuf,
    },
    /// A transport that cannot be used in this direction (or not yet).
    #[error("{transport} cannot be {}", if *write { "written" } else { "read" })]
    Unsupported {
        /// The transport.
        transport: &'static str,
        /// Writing (else reading).
        write: bool,
    },
    /// A source holding several images where one is needed.
    #[error("{name} holds {count} images: name one ({hint})")]
    Ambiguous {
        /// The source.
        name: String,
        /// How many images it holds.
        count: usize,
        /// How to name one.
        hint: &'static str,
    },
    /// A source holding no image.
    #[error("{name} holds no image")]
    Empty {
        /// The source.
        name: String,
    },
    /// A platform asked for is not in the index.
    #[error("{name} has no image for {platform} (it has: {})", if available.is_empty() { "none with a platform".to_owned() } else { available.join(", ") })]
    PlatformNotFound {
        /// The source.
        name: String,
        /// The platform asked for.
        platform: Box<Platform>,
        /// The platforms it has.
        available: Vec<String>,
    },
    /// An index (several platforms) into a destination that holds single images.
    #[error("{destination} holds single images, not an index: choose one platform")]
    IndexIntoSingleImage {
        /// The destination.
        destination: String,
    },
    /// The copy would change a digest while `preserve_digests` is set.
    #[error("preserving digests: {what} {digest} would change ({reason})")]
    DigestWouldChange {
        /// What would change (`layer`, `manifest`, `index`).
        what: &'static str,
        /// Its digest in the source.
        digest: Digest,
        /// Why.
        reason: &'static str,
    },
    /// A destination named by digest would get another manifest.
    #[error("{destination}: the manifest written is {written}, not the digest named")]
    DigestNotAsNamed {
        /// The destination.
        destination: String,
        /// What was written.
        written: Digest,
    },
    /// Indexes nested deeper than allowed.
    #[error("{name}: image indexes nested more than {depth} deep")]
    TooDeep {
        /// The source.
        name: String,
        /// The limit.
        depth: usize,
    },
    /// Options that do not fit together or with the source.
    #[error("{0}")]
    Options(OptionsProblem),
    /// An I/O error on a path.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An OCI layout's error.
    #[error("OCI layout {}: {source}", path.display())]
    Layout {
        /// The layout.
        path: PathBuf,
        /// The error.
        #[source]
        source: Box<oci_layout::Error>,
    },
    /// A docker archive's error.
    #[error("docker archive {}: {source}", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// The error.
        #[source]
        source: Box<oci_tarfile::Error>,
    },
    /// A registry's error.
    #[error("docker://{reference}: {source}")]
    Remote {
        /// The image.
        reference: String,
        /// The error.
        #[source]
        source: Box<oci_remote::Error>,
    },
    /// An error of an image's content (a digest mismatch, a bad manifest).
    #[error("{name}: {source}")]
    Image {
        /// The image.
        name: String,
        /// The error.
        #[source]
        source: Box<oci_partial::Error>,
    },
    /// A bad document (JSON) in a source.
    #[error("{name}: {source}")]
    Document {
        /// The source.
        name: String,
        /// The error.
        #[source]
        source: Box<oci_types::Error>,
    },
    /// The Docker Engine refused, or could not be reached.
    #[error("docker-daemon at {}: {}{message}", socket.display(), status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
    Daemon {
        /// Its socket.
        socket: PathBuf,
        /// The HTTP status, when it answered.
        status: Option<u16>,
        /// What it said, or the connection's error.
        message: String,
    },
    /// Compression options the stream compressor refused.
    #[error("compression options: {0}")]
    Stream(#[source] Box<oci_stream::Error>),
    /// The copy was cancelled (a signal, or [`crate::CopyOptions::cancel`]).
    #[error("cancelled")]
    Cancelled,
}

/// What is wrong with an image name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NameProblem {
    /// Nothing at all.
    #[error("empty")]
    Empty,
    /// The path is empty.
    #[error("the path is empty")]
    EmptyPath,
    /// The reference is empty.
    #[error("the reference is empty")]
    EmptyReference,
    /// `@N` where N is no number.
    #[error("@N needs a number")]
    BadArchiveIndex,
    /// A digest where only a tag may stand.
    #[error("a digest is not allowed here, only NAME:TAG")]
    DigestNotAllowed,
    /// Both a tag and a digest.
    #[error("give a tag or a digest, not both")]
    TagAndDigest,
    /// A bad OCI ref name.
    #[error("bad OCI ref name")]
    BadRefName,
    /// A bad reference.
    #[error("{0}")]
    BadReference(#[source] Box<oci_types::Error>),
    /// A selector on a destination that takes none (`@N` on an output archive).
    #[error("an output archive takes NAME:TAG, not @N")]
    IndexSelectorOnOutput,
}

/// Options that do not fit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsProblem {
    /// Recompression asked for while copying a whole index.
    #[error(
        "an index is copied as it is: layer compression applies to one image (choose one platform)"
    )]
    CompressIndex,
    /// A list of platforms into a single-image destination.
    #[error("{destination} holds one image: choose one platform, not {count}")]
    SeveralPlatforms {
        /// The destination.
        destination: String,
        /// How many were asked for.
        count: usize,
    },
}

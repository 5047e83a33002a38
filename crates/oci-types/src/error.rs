//! The one error type of this crate.

use crate::Digest;

/// Everything that can go wrong while parsing or verifying OCI types.
///
/// Errors carry the offending input (truncated to a sane length) or the digests involved,
/// so that a message alone says what was wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A digest string does not follow the OCI digest grammar.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest {
        /// The rejected input (truncated).
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The digest algorithm is valid per the grammar but cannot be computed here.
    #[error("unsupported digest algorithm {algorithm:?} (only sha256 and sha512 can be hashed)")]
    UnsupportedAlgorithm {
        /// The algorithm component of the digest.
        algorithm: String,
    },
    /// Content did not hash to the digest it was expected to have.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest the content should have had.
        expected: Digest,
        /// The digest the content actually had.
        actual: Digest,
    },
    /// Content did not have the length it was expected to have.
    #[error("size mismatch for {expected_digest}: expected {expected} bytes, got {actual}{}", if *.truncated { " (stream longer than expected, stopped)" } else { "" })]
    SizeMismatch {
        /// The digest of the content being checked.
        expected_digest: Digest,
        /// The expected size in bytes.
        expected: u64,
        /// The number of bytes seen (when `truncated`, at least this many).
        actual: u64,
        /// True when reading stopped early because the stream ran past the expected size.
        truncated: bool,
    },
    /// A platform string such as `linux/arm64/v8` is malformed.
    #[error("invalid platform {input:?}: {reason}")]
    InvalidPlatform {
        /// The rejected input (truncated).
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An image reference does not follow the distribution reference grammar.
    #[error("invalid reference {input:?}: {kind}")]
    InvalidReference {
        /// The rejected input (truncated).
        input: String,
        /// What kind of problem was found.
        kind: ReferenceErrorKind,
    },
    /// A JSON document is larger than the limit for its kind.
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// What was being parsed (`"manifest"`, `"config"`, ...).
        what: &'static str,
        /// The size of the document.
        size: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// A JSON document nests arrays or objects deeper than [`crate::limits::MAX_JSON_DEPTH`].
    #[error("{what} nests deeper than {limit} levels (at byte {offset})")]
    TooDeep {
        /// What was being parsed.
        what: &'static str,
        /// The depth limit.
        limit: usize,
        /// Byte offset at which the limit was crossed.
        offset: usize,
    },
    /// A JSON document is malformed or has the wrong shape.
    #[error("invalid {what} JSON at line {line} column {column}: {message}")]
    Json {
        /// What was being parsed.
        what: &'static str,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A document parsed but breaks a rule of the spec (for example a negative size).
    #[error("invalid {what}: {kind}")]
    Invalid {
        /// What was being checked.
        what: &'static str,
        /// The rule that was broken.
        kind: InvalidKind,
    },
    /// Embedded descriptor `data` is not valid base64.
    #[error("descriptor data for {digest} is not valid base64")]
    InvalidBase64 {
        /// The digest of the descriptor that carried the data.
        digest: Digest,
    },
    /// An I/O error from an underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
}

/// The rule an [`Error::Invalid`] document broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidKind {
    /// `schemaVersion` is not 2 (1 is Docker's retired schema1).
    #[error("schemaVersion {0} is not 2")]
    SchemaVersion(u64),
    /// The document's `mediaType` names another kind of document.
    #[error("mediaType {media_type} is not {expected}")]
    WrongMediaType {
        /// The media type the document declared.
        media_type: String,
        /// What it should have named (`"an index"`, `"an image manifest"`).
        expected: &'static str,
    },
    /// A new document could not be serialised (the serialiser's message).
    #[error("cannot serialise: {0}")]
    Serialize(String),
    /// The `oci-spec` crate refused a value while converting to its types (its message).
    #[error("{0}")]
    OciSpec(String),
    /// A docker legacy layer ID is not 64 hex digits.
    #[error("{0:?} is not 64 hex digits")]
    LegacyLayerId(String),
    /// A content store refused a blob for a reason other than its digest or size (its
    /// message).
    #[error("{0}")]
    Refused(String),
}

/// The kinds of invalid image reference, after distribution's `reference` package errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    /// The reference is empty.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// The repository path (the name without its domain) is over
    /// [`crate::limits::MAX_NAME_LEN`] characters. As distribution since v0.6.0, the domain is
    /// not counted.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// The whole input is over [`crate::limits::MAX_REFERENCE_LEN`] bytes (refused before
    /// parsing; no valid reference of a real registry comes near it).
    #[error("reference is longer than 4096 bytes")]
    TooLong,
    /// The repository path contains upper case characters.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// The string does not match the reference grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// The tag does not match `[\w][\w.-]{0,127}`.
    #[error("invalid tag format")]
    InvalidTag,
    /// The digest part is malformed.
    #[error("invalid digest format")]
    InvalidDigest,
    /// The digest is well formed but its algorithm is not `sha256` or `sha512` (distribution's
    /// `ErrDigestUnsupported`).
    #[error("unsupported digest algorithm")]
    UnsupportedDigestAlgorithm,
    /// The input looks like a 64-hex-digit image ID, which is not a valid repository name.
    #[error("invalid repository name (64-byte hexadecimal strings are reserved for image IDs)")]
    HexIdentifier,
}

impl Error {
    /// Wraps this error in an [`std::io::Error`] of kind `InvalidData`, so it can travel through
    /// `Read`/`Write` and be recovered with [`Error::from_io`].
    pub fn into_io(self) -> std::io::Error {
        match self {
            Error::Io(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
        }
    }

    /// Recovers an [`Error`] carried inside an [`std::io::Error`] (see [`Error::into_io`]);
    /// any other I/O error becomes [`Error::Io`].
    pub fn from_io(e: std::io::Error) -> Error {
        e.downcast::<Error>().unwrap_or_else(Error::Io)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::from_io(e)
    }
}

/// Shortens untrusted input before it is stored in an error, so errors stay small.
pub(crate) fn clip(input: &str) -> String {
    const MAX: usize = 128;
    if input.len() <= MAX {
        return input.to_owned();
    }
    let mut end = MAX;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &input[..end])
}

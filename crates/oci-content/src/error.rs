//! The one error type of this crate, sorted into containerd's error classes.

use std::fmt;
use std::path::PathBuf;

use oci_types::Digest;

/// What an error is about: a committed blob or an ingest (an unfinished write, named by ref).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A committed blob.
    Blob(Digest),
    /// An ingest, by its ref.
    Ingest(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Blob(d) => write!(f, "blob {d}"),
            Subject::Ingest(r) => write!(f, "ingest ref {r:?}"),
        }
    }
}

/// Why a [`Error::FailedPrecondition`] was raised.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Precondition {
    /// The content has another size than the caller said.
    SizeMismatch {
        /// The size the caller expected.
        expected: u64,
        /// The size the content has.
        actual: u64,
    },
    /// The content hashes to another digest than the caller said.
    DigestMismatch {
        /// The digest the caller expected.
        expected: Digest,
        /// The digest of the content.
        actual: Digest,
    },
    /// The writer was already committed or closed.
    WriterClosed,
}

/// What was wrong with an argument ([`Error::InvalidArgument`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidArgumentKind {
    /// A label key is empty.
    #[error("empty label key")]
    EmptyLabelKey,
    /// A label's key and value together are over [`crate::MAX_LABEL_SIZE`] bytes.
    #[error("label {key:?}: key and value longer than {limit} bytes")]
    LabelTooLong {
        /// The key (its first 64 characters).
        key: String,
        /// The limit.
        limit: usize,
    },
    /// An ingest ref is empty.
    #[error("ref must not be empty")]
    EmptyRef,
    /// An update names a field other than the labels.
    #[error("cannot update {path:?} of content {digest} (only labels are mutable)")]
    ImmutableField {
        /// The field path asked for.
        path: String,
        /// The blob.
        digest: Digest,
    },
    /// A truncate asks for more bytes than the ingest holds.
    #[error("cannot truncate ingest {reference:?} to {size} bytes: it has {len}")]
    TruncatePastEnd {
        /// The ingest ref.
        reference: String,
        /// The size asked for.
        size: u64,
        /// What the ingest holds.
        len: u64,
    },
    /// A digest, its algorithm or embedded descriptor data was refused by `oci-types`.
    #[error("{0}")]
    Types(Box<oci_types::Error>),
    /// A label filter does not parse (containerd's message, with the position).
    #[error("filters: {0}")]
    Filter(String),
    /// A caller's own refusal, passed through a store (a callback's error).
    #[error("{0}")]
    Other(String),
}

impl fmt::Display for Precondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Precondition::SizeMismatch { expected, actual } => {
                write!(f, "size is {actual} bytes, expected {expected}")
            }
            Precondition::DigestMismatch { expected, actual } => {
                write!(f, "digest is {actual}, expected {expected}")
            }
            Precondition::WriterClosed => f.write_str("the writer is closed"),
        }
    }
}

/// containerd's error classes (`errdefs`), for callers that only care about the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    /// The blob or ingest does not exist.
    NotFound,
    /// The blob exists already.
    AlreadyExists,
    /// The ref is being written by another writer (in this process or another one).
    Unavailable,
    /// The content does not match what the caller expected, or the writer is closed.
    FailedPrecondition,
    /// The caller passed something malformed (a filter, a ref, a field path, ...).
    InvalidArgument,
    /// An I/O error, or anything else.
    Unknown,
}

/// Everything that can go wrong in a content store.
///
/// Each variant belongs to one of containerd's error classes (see [`Error::class`]) and says
/// which blob, ref or path it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The blob or ingest does not exist.
    #[error("{subject} not found")]
    NotFound {
        /// What was looked for.
        subject: Subject,
    },
    /// The blob exists already (for example when committing content the store has).
    #[error("{subject} already exists")]
    AlreadyExists {
        /// What exists.
        subject: Subject,
    },
    /// Another writer holds the ref, in this process or another one.
    #[error("ingest ref {reference:?} is locked by another writer")]
    Unavailable {
        /// The locked ref.
        reference: String,
    },
    /// Content did not match what the caller expected, or the writer was closed; nothing was
    /// committed.
    #[error("{subject}: {reason}")]
    FailedPrecondition {
        /// The ingest (on commit) or blob (on read) concerned.
        subject: Subject,
        /// What did not hold (boxed, to keep `Error` small).
        reason: Box<Precondition>,
    },
    /// The caller passed something malformed.
    #[error("invalid {what}: {kind}")]
    InvalidArgument {
        /// What was malformed (`"filter"`, `"ref"`, `"field path"`, ...).
        what: &'static str,
        /// Why, with the offending input.
        kind: InvalidArgumentKind,
    },
    /// A blob is larger than the caller's limit for reading it into memory.
    #[error("blob {digest} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// An I/O error on a file of the store.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"open"`, `"rename"`, ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An I/O error from a caller's reader or writer (not a file of the store).
    #[error("I/O error while copying {subject}: {source}")]
    Copy {
        /// The ingest or blob being copied.
        subject: Subject,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The containerd error class of this error.
    pub fn class(&self) -> Class {
        match self {
            Error::NotFound { .. } => Class::NotFound,
            Error::AlreadyExists { .. } => Class::AlreadyExists,
            Error::Unavailable { .. } => Class::Unavailable,
            Error::FailedPrecondition { .. } => Class::FailedPrecondition,
            Error::InvalidArgument { .. } => Class::InvalidArgument,
            Error::TooLarge { .. } | Error::Io { .. } | Error::Copy { .. } => Class::Unknown,
        }
    }

    /// True for [`Class::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.class() == Class::NotFound
    }

    /// True for [`Class::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        self.class() == Class::AlreadyExists
    }

    /// True for [`Class::Unavailable`].
    pub fn is_unavailable(&self) -> bool {
        self.class() == Class::Unavailable
    }

    /// True for [`Class::FailedPrecondition`].
    pub fn is_failed_precondition(&self) -> bool {
        self.class() == Class::FailedPrecondition
    }

    /// True for [`Class::InvalidArgument`].
    pub fn is_invalid_argument(&self) -> bool {
        self.class() == Class::InvalidArgument
    }

    /// Wraps this error in an [`std::io::Error`] so it can travel through `Read`/`Write`;
    /// recover it with [`Error::from_io`].
    pub fn into_io(self) -> std::io::Error {
        let kind = match self.class() {
            Class::NotFound => std::io::ErrorKind::NotFound,
            Class::AlreadyExists => std::io::ErrorKind::AlreadyExists,
            Class::Unavailable => std::io::ErrorKind::WouldBlock,
            Class::InvalidArgument => std::io::ErrorKind::InvalidInput,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, self)
    }

    /// Recovers an [`Error`] wrapped by [`Error::into_io`]; any other I/O error becomes
    /// [`Error::Copy`] about `subject`.
    pub fn from_io(e: std::io::Error, subject: Subject) -> Error {
        e.downcast::<Error>()
            .unwrap_or_else(|source| Error::Copy { subject, source })
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(what: &'static str, kind: InvalidArgumentKind) -> Error {
        Error::InvalidArgument { what, kind }
    }

    pub(crate) fn blob_not_found(digest: &Digest) -> Error {
        Error::NotFound {
            subject: Subject::Blob(digest.clone()),
        }
    }

    pub(crate) fn blob_exists(digest: &Digest) -> Error {
        Error::AlreadyExists {
            subject: Subject::Blob(digest.clone()),
        }
    }

    pub(crate) fn ingest_not_found(reference: &str) -> Error {
        Error::NotFound {
            subject: Subject::Ingest(reference.to_owned()),
        }
    }

    pub(crate) fn locked(reference: &str) -> Error {
        Error::Unavailable {
            reference: reference.to_owned(),
        }
    }

    pub(crate) fn closed(reference: &str) -> Error {
        Error::FailedPrecondition {
            subject: Subject::Ingest(reference.to_owned()),
            reason: Box::new(Precondition::WriterClosed),
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_round_trip_keeps_the_error() {
        let e = Error::locked("r").into_io();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        let back = Error::from_io(e, Subject::Ingest("r".into()));
        assert!(back.is_unavailable(), "{back}");
        let other = Error::from_io(std::io::Error::other("x"), Subject::Ingest("r".into()));
        assert!(matches!(other, Error::Copy { .. }));
    }

    #[test]
    fn messages_name_the_subject() {
        let d = Digest::sha256(b"x");
        let e = Error::FailedPrecondition {
            subject: Subject::Ingest("my-ref".into()),
            reason: Box::new(Precondition::DigestMismatch {
                expected: d.clone(),
                actual: Digest::sha256(b""),
            }),
        };
        let s = e.to_string();
        assert!(s.contains("my-ref") && s.contains(d.as_str()), "{s}");
        assert!(Error::blob_not_found(&d).to_string().contains(d.as_str()));
    }
}

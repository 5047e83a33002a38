//! The one error type of this crate.

use std::path::PathBuf;

use oci_types::{Digest, MediaType, Platform};

/// Everything that can go wrong with an OCI image layout.
///
/// Each variant names what it concerns: the layout's path, a digest, a ref name or a platform.
/// Why a directory is not an OCI image layout ([`Error::NotALayout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotALayoutKind {
    /// The path does not exist.
    #[error("it does not exist")]
    Missing,
    /// The path is not a directory.
    #[error("it is not a directory")]
    NotADirectory,
    /// The directory has no `oci-layout` file.
    #[error("it has no oci-layout file")]
    NoLayoutFile,
    /// `oci-layout` is there but is not a regular file.
    #[error("oci-layout is not a file")]
    LayoutFileNotAFile,
    /// The directory has no `index.json`.
    #[error("it has no index.json")]
    NoIndex,
}

/// Errors of the content store ([`oci_content::Error`]), of an image being written
/// ([`oci_partial::Error`]) and of parsing ([`oci_types::Error`]) are kept as sources.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory is not an OCI image layout (no `oci-layout` file, or no `index.json`).
    #[error("{} is not an OCI image layout: {kind}", path.display())]
    NotALayout {
        /// The directory.
        path: PathBuf,
        /// What is missing or wrong.
        kind: NotALayoutKind,
    },
    /// [`crate::Layout::create`] found a layout already there.
    #[error("{} already holds an OCI image layout", path.display())]
    AlreadyALayout {
        /// The directory.
        path: PathBuf,
    },
    /// The `oci-layout` file names a layout version this crate does not read.
    #[error("{}: unsupported imageLayoutVersion {version:?} (1.x is supported)", path.display())]
    UnsupportedVersion {
        /// The `oci-layout` file.
        path: PathBuf,
        /// The version it names.
        version: String,
    },
    /// `index.json` (or the `oci-layout` file) cannot be parsed.
    #[error("{}: {source}", path.display())]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<oci_types::Error>,
    },
    /// A ref name that the OCI grammar (`component ("/" component)*`) does not allow.
    #[error("invalid ref name {name:?}: {reason}")]
    InvalidRefName {
        /// The ref name.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// No entry of `index.json` carries this ref name.
    #[error("no image named {name:?} in the layout {}", path.display())]
    RefNotFound {
        /// The ref name looked for.
        name: String,
        /// The layout.
        path: PathBuf,
    },
    /// No image in the layout is for this platform.
    #[error("no image for platform {platform} in the layout {}", path.display())]
    PlatformNotFound {
        /// The platform looked for.
        platform: Box<Platform>,
        /// The layout.
        path: PathBuf,
    },
    /// A manifest, index or blob the layout was asked for (or that something in it points at)
    /// is not there.
    #[error("{what} {digest} not found in the layout {}", path.display())]
    NotFound {
        /// What was looked for: `"manifest"`, `"index"`, `"blob"`, ...
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// The layout.
        path: PathBuf,
    },
    /// An entry has another media type than the operation needs (an index where an image was
    /// asked for, ...).
    #[error("{digest} is {media_type}, not {expected}")]
    UnexpectedMediaType {
        /// The entry's digest.
        digest: Digest,
        /// Its media type.
        media_type: MediaType,
        /// What was needed: `"an image manifest"`, `"an index"`.
        expected: &'static str,
    },
    /// A blob, manifest or index does not match its descriptor, or cannot be parsed.
    #[error("blob {digest}: {source}")]
    Blob {
        /// The blob.
        digest: Digest,
        /// The mismatch or parse error.
        #[source]
        source: Box<oci_types::Error>,
    },
    /// An image or index being written (or its layers) failed.
    #[error("{context}: {source}")]
    Image {
        /// What was being done (`"reading the layers of sha256:..."`).
        context: String,
        /// The error of the image's source.
        #[source]
        source: Box<oci_partial::Error>,
    },
    /// The content store under the layout failed.
    #[error("content store of {}: {source}", path.display())]
    Content {
        /// The layout.
        path: PathBuf,
        /// The store's error (its digest or ingest ref says which blob).
        #[source]
        source: Box<oci_content::Error>,
    },
    /// Indexes nest deeper than [`crate::MAX_NESTING`].
    #[error("indexes nest deeper than {limit} levels at {digest}")]
    TooDeep {
        /// The index at which the limit was reached.
        digest: Digest,
        /// The limit.
        limit: usize,
    },
    /// An I/O error on a file of the layout.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"read"`, `"rename"`, `"lock"`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn image(context: impl Into<String>, source: oci_partial::Error) -> Error {
        Error::Image {
            context: context.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn blob(digest: &Digest, source: oci_types::Error) -> Error {
        Error::Blob {
            digest: digest.clone(),
            source: Box::new(source),
        }
    }

    pub(crate) fn invalid_file(path: impl Into<PathBuf>, source: oci_types::Error) -> Error {
        Error::InvalidFile {
            path: path.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn content(path: impl Into<PathBuf>, source: oci_content::Error) -> Error {
        Error::Content {
            path: path.into(),
            source: Box::new(source),
        }
    }

    /// True when the error says something was not there (a ref, a platform, a blob, or the
    /// layout itself).
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotALayout { .. }
            | Error::RefNotFound { .. }
            | Error::PlatformNotFound { .. }
            | Error::NotFound { .. } => true,
            Error::Content { source, .. } => source.is_not_found(),
            _ => false,
        }
    }
}

impl From<Error> for oci_partial::Error {
    /// Layout errors travel through the [`oci_partial`] traits as [`oci_partial::Error::Source`];
    /// digest and size mismatches become [`oci_partial::Error::Types`], so verifiers see them.
    fn from(e: Error) -> oci_partial::Error {
        match e {
            Error::Blob { source, .. } => oci_partial::Error::Types(*source),
            Error::Image { source, .. } => *source,
            other => oci_partial::Error::source(other),
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<oci_types::fs::FsError> for Error {
    fn from(e: oci_types::fs::FsError) -> Error {
        Error::io(e.op.as_str(), e.path, e.source)
    }
}

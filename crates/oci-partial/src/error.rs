//! The one error type of this crate, which is also the error type of the [`crate::Layer`],
//! [`crate::Image`] and [`crate::ImageIndex`] traits.

use oci_types::Digest;

/// Errors from images, layers and indexes of any source.
///
/// Source crates (archives, layouts, stores, registries) carry their own error enums inside
/// [`Error::Source`], so callers can downcast to them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parse or verification error from `oci-types` (digest or size mismatch, bad JSON...).
    #[error(transparent)]
    Types(#[from] oci_types::Error),
    /// Nothing with this digest is part of the image or index.
    #[error("{what} {digest} not found")]
    NotFound {
        /// What was looked for: `"layer"`, `"layer with diff_id"`, `"manifest"`, ...
        what: &'static str,
        /// The digest looked for.
        digest: Digest,
    },
    /// A value of a streaming layer that is only known once its stream was read to the end.
    #[error("{what} is not computed yet: read the layer's compressed stream to its end first")]
    NotComputed {
        /// `"digest"`, `"diff_id"` or `"size"`.
        what: &'static str,
    },
    /// A one-shot stream was already handed out.
    #[error("the layer's stream was already consumed")]
    Consumed,
    /// The operation is not possible for this kind of object.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What was asked for and why it cannot be done.
        what: String,
    },
    /// A stream is compressed with something ocikit recognises but cannot read (bzip2, xz).
    #[error("{what} is compressed with {format}, which is not supported (only gzip and zstd)")]
    UnsupportedCompression {
        /// What was compressed (`"a layer"`, a path).
        what: String,
        /// The format found by its magic bytes (`"bzip2"`, `"xz"`).
        format: &'static str,
    },
    /// An image, layer or index is inconsistent (for example a layer count that does not
    /// match the config's diff_ids).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What is inconsistent.
        what: &'static str,
        /// How.
        reason: String,
    },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`"reading layer sha256:..."`).
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An error of the source the object came from (an archive, a layout, a store, a registry).
    #[error(transparent)]
    Source(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// An I/O error with context. An [`oci_types::Error`] carried inside the I/O error
    /// (a digest mismatch found by a verifying reader) is unwrapped into [`Error::Types`].
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        match oci_types::Error::from_io(source) {
            oci_types::Error::Io(source) => Error::Io {
                context: context.into(),
                source,
            },
            other => Error::Types(other),
        }
    }

    /// Wraps a source crate's error.
    pub fn source(e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Source(Box::new(e))
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

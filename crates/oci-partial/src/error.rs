//! The one error type of this crate, which is also the error type of the [`crate::Layer`],
//! [`crate::Image`] and [`crate::ImageIndex`] traits.

use oci_types::{Digest, MediaType};

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
    #[error("unsupported: {kind}")]
    Unsupported {
        /// What was asked for, and why it cannot be done.
        kind: UnsupportedKind,
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
    #[error("invalid {what}: {kind}")]
    Invalid {
        /// What is inconsistent (`"image"`, `"index"`, `"image config"`, `"rebase"`,
        /// `"SOURCE_DATE_EPOCH"`, ...).
        what: &'static str,
        /// How.
        kind: InvalidKind,
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

/// Why an operation is not possible ([`Error::Unsupported`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsupportedKind {
    /// A config edit on an image whose config is not an image config (an artifact's).
    #[error("editing a config of media type {media_type}: only image configs can be edited")]
    ConfigEdit {
        /// The config's media type.
        media_type: MediaType,
    },
    /// The uncompressed stream of a streaming layer, whose source can be read only once.
    #[error(
        "the uncompressed stream of a streaming layer: its source is read once, through compressed()"
    )]
    StreamingUncompressed,
    /// An object that does not provide one of its trait's methods (a test double, an
    /// implementation that only serves some callers).
    #[error("{method} is not provided by this object")]
    NotProvided {
        /// The method (`"raw_manifest"`, `"uncompressed"`, ...).
        method: &'static str,
    },
}

/// How an image, index or config is inconsistent ([`Error::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidKind {
    /// The image's layers do not match its config's `rootfs.diff_ids` in number.
    #[error("the manifest has {layers} layers but the config has {diff_ids} diff_ids")]
    LayerCount {
        /// The image's layers.
        layers: usize,
        /// The config's diff_ids.
        diff_ids: usize,
    },
    /// Replacement layers ([`crate::mutate::with_layers`]) that do not match the config's
    /// diff_ids in number.
    #[error("{layers} replacement layers for a config with {diff_ids} diff_ids")]
    ReplacementLayerCount {
        /// The replacement layers.
        layers: usize,
        /// The config's diff_ids.
        diff_ids: usize,
    },
    /// Indexes nest deeper than the limit.
    #[error("indexes nest deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// The config is not a JSON object.
    #[error("the config is not a JSON object")]
    ConfigNotAnObject,
    /// A field of the config that must be an object is something else.
    #[error("`{field}` is not an object")]
    NotAnObject {
        /// The field's path (`"config"`, `"config.Labels"`).
        field: &'static str,
    },
    /// A new document could not be serialised (the serialiser's message).
    #[error("cannot serialise: {0}")]
    Serialize(String),
    /// A value that must be a number of seconds (`SOURCE_DATE_EPOCH`) is not.
    #[error("{value:?} is not a number of seconds")]
    NotSeconds {
        /// The value.
        value: String,
    },
    /// The old base of a rebase has more layers than the image.
    #[error(
        "the image is not based on the old base: the old base has {base} layers, the image {image}"
    )]
    BaseHasMoreLayers {
        /// The old base's layers.
        base: usize,
        /// The image's layers.
        image: usize,
    },
    /// A layer of the old base of a rebase is not the image's layer at the same position.
    #[error("the image is not based on the old base: layer {index} is {image} in the image, {base} in the old base")]
    BaseLayerDiffers {
        /// The layer's position, from 0.
        index: usize,
        /// The image's diff_id there.
        image: Box<Digest>,
        /// The old base's diff_id there.
        base: Box<Digest>,
    },
    /// A layer position past the image's layers.
    #[error("the image has {layers} layers, no layer {index}")]
    NoSuchLayer {
        /// The position asked for.
        index: usize,
        /// How many layers the image has.
        layers: usize,
    },
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

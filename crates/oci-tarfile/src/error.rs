//! The one error type of this crate.

use std::path::PathBuf;

use oci_types::{Digest, MediaType};

/// Everything that can go wrong while reading or writing a docker archive.
///
/// Variants carry what is needed to find the problem: the path inside the archive, the
/// digest, the tag, or the byte offset of a bad tar header. At the [`oci_partial::Image`] and
/// [`oci_partial::Layer`] boundary these errors travel inside [`oci_partial::Error::Source`]
/// (downcast to get them back); digest and size mismatches found while a stream flows travel as
/// [`oci_types::Error`] inside an [`std::io::Error`], as everywhere in ocikit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`"reading tar header at offset 512 of /x.tar"`).
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A parse or verification error from `oci-types`, with what was being done.
    #[error("{context}: {source}")]
    Types {
        /// What was being done (`"parsing config 9e8d....json"`).
        context: String,
        /// The error.
        #[source]
        source: Box<oci_types::Error>,
    },
    /// An error of the image being written (from its [`oci_partial::Image`] or layers).
    #[error("{context}: {source}")]
    Image {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: Box<oci_partial::Error>,
    },
    /// The archive ends inside a tar header or inside an entry's data.
    #[error("truncated archive: {kind} at offset {offset} runs past the end ({len} bytes)")]
    Truncated {
        /// What was cut off (a header, an entry, the padding after the last entry).
        kind: TruncatedKind,
        /// Where it starts.
        offset: u64,
        /// The length of the archive.
        len: u64,
    },
    /// A tar header is malformed (bad checksum, bad number field, bad PAX record).
    #[error("invalid tar header at offset {offset}: {kind}")]
    BadHeader {
        /// Offset of the header block.
        offset: u64,
        /// What is wrong.
        kind: BadHeaderKind,
    },
    /// The archive has more entries than [`crate::limits::MAX_ENTRIES`].
    #[error("the archive has more than {limit} entries")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// An entry name or link target is longer than [`crate::limits::MAX_NAME_LEN`].
    #[error("a name at offset {offset} is {len} bytes, over the limit of {limit}")]
    NameTooLong {
        /// Offset of the header block that carried it.
        offset: u64,
        /// Its length.
        len: u64,
        /// The limit.
        limit: usize,
    },
    /// A path leaves the archive: absolute, `..` above the root, or not valid UTF-8.
    #[error("path {path:?} escapes the archive")]
    PathEscape {
        /// The offending path.
        path: String,
    },
    /// Following links from `path` loops or takes more than [`crate::limits::MAX_LINK_HOPS`] hops.
    #[error("link loop (or more than {limit} links) starting at {path:?}")]
    LinkLoop {
        /// Where resolution started.
        path: String,
        /// The hop limit.
        limit: usize,
    },
    /// Two entries of the archive have the same (normalised) name.
    #[error("the archive holds {path:?} twice")]
    DuplicateEntry {
        /// The duplicated name.
        path: String,
    },
    /// A file the archive refers to is not in it.
    #[error("{path:?} is not in the archive{}", referrer.as_ref().map(|r| format!(" (referred to by {r})")).unwrap_or_default())]
    MissingEntry {
        /// The missing path.
        path: String,
        /// Who refers to it (`"manifest.json item 0"`, a link name), if known.
        referrer: Option<String>,
    },
    /// A path names something that is not a regular file (a directory, a device...).
    #[error("{path:?} is a {kind}, not a regular file")]
    NotAFile {
        /// The path.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// The archive has no `manifest.json` (the pre-Docker-1.10 format is not supported).
    #[error("the archive has no manifest.json (not a docker-archive, or older than Docker 1.10)")]
    MissingManifest,
    /// A document in the archive is larger than its cap.
    #[error("{what} {path:?} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// What it is (`"manifest.json"`, `"config"`).
        what: &'static str,
        /// Its path in the archive.
        path: String,
        /// Its size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The archive or a layer in it is compressed with something other than gzip or zstd.
    #[error("{what} is compressed with {format}, which is not supported (only gzip and zstd)")]
    UnsupportedCompression {
        /// What was compressed (`"the archive"`, a layer path).
        what: String,
        /// The detected format (`"bzip2"`, `"xz"`).
        format: &'static str,
    },
    /// `manifest.json` lists no image.
    #[error("manifest.json lists no image")]
    NoImages,
    /// No reference or index was given, and the archive holds more than one image.
    #[error("the archive holds {count} images: choose one by tag or by index")]
    AmbiguousImage {
        /// How many images it holds.
        count: usize,
    },
    /// No image of the archive has this tag.
    #[error("no image in the archive is tagged {reference}")]
    TagNotFound {
        /// The reference looked for (normalised).
        reference: String,
    },
    /// The image index is past the end of `manifest.json`.
    #[error("image index {index} is out of range: the archive holds {count} images")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// How many images there are.
        count: usize,
    },
    /// Both a reference and an index were given.
    #[error("choose an image by reference or by index, not both")]
    ReferenceAndIndex,
    /// A tag is not a valid `name:tag` reference (in `RepoTags`, or given to the writer).
    #[error("invalid repository tag {tag:?}: {kind}")]
    InvalidTag {
        /// The tag.
        tag: String,
        /// Why it is refused.
        kind: InvalidTagKind,
    },
    /// The number of layers of an image does not match its config's `rootfs.diff_ids`.
    #[error("{image}: {layers} layers but the config {config} lists {diff_ids} diff_ids")]
    LayerCountMismatch {
        /// Which image.
        image: CountedImage,
        /// The config's path or digest.
        config: String,
        /// Number of layers.
        layers: usize,
        /// Number of diff_ids.
        diff_ids: usize,
    },
    /// One layer file is given for two different diff_ids.
    #[error("layer file {path:?} is used for two different diff_ids ({first} and {second})")]
    LayerPathReused {
        /// The layer path.
        path: String,
        /// The first diff_id.
        first: Box<Digest>,
        /// The second diff_id.
        second: Box<Digest>,
    },
    /// Content does not hash to the digest it should have.
    #[error("{what}: {source}")]
    DigestMismatch {
        /// What was hashed (a path, `"blob"`, `"layer 2 (diff_id)"`).
        what: String,
        /// The mismatch: always [`oci_types::Error::DigestMismatch`], with the expected and
        /// actual digests (see [`Error::digests`]).
        #[source]
        source: Box<oci_types::Error>,
    },
    /// Content does not have the size it should have.
    #[error("size mismatch for {what}: expected {expected} bytes, got {actual}{}", if *.more { " or more" } else { "" })]
    SizeMismatch {
        /// What was counted.
        what: String,
        /// The expected size.
        expected: u64,
        /// The size seen.
        actual: u64,
        /// True when reading stopped early because the stream ran past the expected size.
        more: bool,
    },
    /// The image has no blob with this digest (neither config, layer digest nor diff_id).
    #[error("blob {digest} is not part of the image")]
    BlobNotFound {
        /// The digest asked for.
        digest: Digest,
    },
    /// The writer's target exists and is not empty.
    #[error("{} exists and is not empty: refusing to overwrite it", path.display())]
    ExistingFile {
        /// The target path.
        path: PathBuf,
    },
    /// A manifest given to the destination cannot be stored in a docker archive.
    #[error("manifest not accepted: {kind}")]
    InvalidManifest {
        /// Why.
        kind: InvalidManifestKind,
    },
    /// A manifest refers to a blob that was not put into the destination.
    #[error("{what} {digest} was not put into the archive before the manifest")]
    MissingBlob {
        /// `"config"` or `"layer"`.
        what: &'static str,
        /// Its digest.
        digest: Digest,
    },
    /// The destination was asked to commit before a manifest was put.
    #[error("no manifest was put: nothing to commit")]
    NoManifest,
}

/// What a truncated archive cuts off ([`Error::Truncated`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TruncatedKind {
    /// A tar header.
    #[error("header")]
    Header,
    /// An entry's data.
    #[error("{name}")]
    Entry {
        /// The entry's name (clipped to a sane length).
        name: String,
    },
    /// The padding after the last entry's data (Go's reader and the tar crate refuse it too).
    #[error("the padding after the last entry")]
    Padding,
}

/// Why a repository tag is refused ([`Error::InvalidTag`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidTagKind {
    /// A reference with a digest, which cannot tag an image in a docker archive.
    #[error("a digest reference cannot tag an image in a docker archive")]
    DigestReference,
    /// Not a valid reference: the parse error (an
    /// [`oci_types::Error::InvalidReference`], with its [`oci_types::ReferenceErrorKind`]).
    #[error("{0}")]
    Reference(Box<oci_types::Error>),
}

/// Which image's layers do not match its config's diff_ids ([`Error::LayerCountMismatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CountedImage {
    /// An image read from the archive: its item in `manifest.json`.
    #[error("manifest.json item {index}")]
    ArchiveItem {
        /// The item's position, from 0.
        index: usize,
    },
    /// An image given to the writer ([`crate::Writer::add_image`]).
    #[error("image being written")]
    Written,
    /// A manifest put into a [`crate::Destination`].
    #[error("manifest")]
    PutManifest,
}

/// Why a manifest given to a [`crate::Destination`] is refused ([`Error::InvalidManifest`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidManifestKind {
    /// A manifest was already put: a destination holds one image.
    #[error("a manifest was already put into this destination")]
    AlreadyPut,
    /// The manifest is not an image manifest (an index, say).
    #[error("{media_type} is not an image manifest")]
    NotAnImageManifest {
        /// The manifest's media type.
        media_type: MediaType,
    },
    /// The manifest's config is not an image config (an artifact's).
    #[error("config media type {media_type} is not an image config (an artifact?)")]
    NotAnImageConfig {
        /// The config's media type.
        media_type: MediaType,
    },
    /// The config was already written into the archive with other layers.
    #[error("config {config} was already written with other layers")]
    ConfigReused {
        /// The config's digest.
        config: Digest,
    },
}

/// What is wrong with a tar header ([`Error::BadHeader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadHeaderKind {
    /// The checksum field is not a number.
    #[error("unreadable checksum")]
    UnreadableChecksum,
    /// The block does not sum to its checksum (signed or unsigned).
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// The size field is not a number.
    #[error("unreadable size")]
    UnreadableSize,
    /// Offset plus padded size overflows.
    #[error("size overflows")]
    SizeOverflows,
    /// The archive ends right after a PAX or GNU long-name header.
    #[error("end of archive after an extended header")]
    EndAfterExtendedHeader,
    /// A PAX header's data is over [`crate::limits::MAX_PAX_SIZE`].
    #[error("PAX header too large")]
    PaxTooLarge,
    /// A PAX record is malformed.
    #[error("PAX record: {0}")]
    PaxRecord(PaxRecordError),
}

/// What is wrong with a PAX record ([`BadHeaderKind::PaxRecord`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaxRecordError {
    /// The records are over [`crate::limits::MAX_PAX_SIZE`].
    #[error("too large")]
    TooLarge,
    /// A record has no length.
    #[error("no length")]
    NoLength,
    /// A record's length is not a number, or does not end at a newline inside the data.
    #[error("bad length")]
    BadLength,
    /// A record has no `=`.
    #[error("no '='")]
    NoEquals,
    /// A `size` record is not a number.
    #[error("bad size")]
    BadSize,
}

impl Error {
    /// An I/O error with context; an [`oci_types::Error`] carried inside the I/O error (a
    /// digest mismatch found by a verifying reader) becomes [`Error::Types`].
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        // One of ours, sent through `Read` by `into_io`: give it back as it was.
        let source = match source.downcast::<Error>() {
            Ok(inner) => return inner,
            Err(source) => source,
        };
        match oci_types::Error::from_io(source) {
            oci_types::Error::Io(source) => Error::Io {
                context: context.into(),
                source,
            },
            other => Error::Types {
                context: context.into(),
                source: Box::new(other),
            },
        }
    }

    /// An `oci-types` error with context.
    pub(crate) fn types(context: impl Into<String>, source: oci_types::Error) -> Error {
        Error::Types {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// A digest mismatch, with what was hashed.
    pub(crate) fn digest_mismatch(
        what: impl Into<String>,
        expected: Digest,
        actual: Digest,
    ) -> Error {
        Error::DigestMismatch {
            what: what.into(),
            source: Box::new(oci_types::Error::DigestMismatch { expected, actual }),
        }
    }

    /// The expected and actual digests of an [`Error::DigestMismatch`].
    pub fn digests(&self) -> Option<(&Digest, &Digest)> {
        match self {
            Error::DigestMismatch { source, .. } => match &**source {
                oci_types::Error::DigestMismatch { expected, actual } => Some((expected, actual)),
                _ => None,
            },
            _ => None,
        }
    }

    /// An error of an image being written, with context.
    pub(crate) fn image(context: impl Into<String>, source: oci_partial::Error) -> Error {
        Error::Image {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Wraps this error in an [`std::io::Error`] of kind `InvalidData`, so it can travel through
    /// `Read`.
    pub(crate) fn into_io(self) -> std::io::Error {
        match self {
            Error::Io { source, .. } => source,
            Error::Types { source, .. } => (*source).into_io(),
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
        }
    }
}

impl From<Error> for oci_partial::Error {
    fn from(e: Error) -> Self {
        match e {
            // An error of another source passing through keeps its own shape.
            Error::Image { source, .. } => *source,
            other => oci_partial::Error::Source(Box::new(other)),
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

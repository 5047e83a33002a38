//! The report of a validation: every [`Problem`], where it is and what is wrong.

use std::fmt;

use oci_types::Digest;

/// Where in an image or index a [`Problem`] was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The image manifest.
    Manifest,
    /// The image config.
    Config,
    /// The layer at this position (0 = base), as the manifest lists it.
    Layer(usize),
    /// The index manifest itself.
    Index,
    /// The entry at this position of an index (`manifests[i]`) and the digest it names; what
    /// follows in [`Problem::location`] is inside that child.
    Entry {
        /// Position in the index's `manifests`.
        index: usize,
        /// The digest the entry names.
        digest: Digest,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Manifest => f.write_str("manifest"),
            Location::Config => f.write_str("config"),
            Location::Layer(i) => write!(f, "layer {i}"),
            Location::Index => f.write_str("index"),
            Location::Entry { index, digest } => write!(f, "manifests[{index}] ({digest})"),
        }
    }
}

/// What a [`Problem`] checked: the property two sources disagree on, or that could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// A digest (of a blob, a manifest, a config, an uncompressed tar).
    Digest,
    /// A size in bytes.
    Size,
    /// A layer's diff_id (the digest of its uncompressed tar).
    DiffId,
    /// A media type.
    MediaType,
    /// A descriptor, as a whole.
    Descriptor,
    /// An index entry's platform.
    Platform,
    /// The number of layers.
    LayerCount,
    /// The number of the config's `rootfs.diff_ids`.
    DiffIdsCount,
    /// The config's `rootfs.type`.
    RootfsType,
    /// The parsed content of a manifest, config or index.
    Content,
    /// Reading the raw bytes or the streams.
    Read,
    /// Parsing the raw bytes.
    Parse,
    /// Opening an index's child.
    Open,
    /// The image's list of layers.
    Layers,
    /// Whether a layer's blob exists (fast validation).
    Exists,
    /// The look-up of a layer by its digest.
    LayerByDigest,
    /// The look-up of a layer by its diff_id.
    LayerByDiffId,
    /// How deep indexes nest.
    Nesting,
}

impl Check {
    /// The name reports write: `digest`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Digest => "digest",
            Check::Size => "size",
            Check::DiffId => "diff_id",
            Check::MediaType => "media_type",
            Check::Descriptor => "descriptor",
            Check::Platform => "platform",
            Check::LayerCount => "layer count",
            Check::DiffIdsCount => "diff_ids count",
            Check::RootfsType => "rootfs.type",
            Check::Content => "content",
            Check::Read => "read",
            Check::Parse => "parse",
            Check::Open => "open",
            Check::Layers => "layers",
            Check::Exists => "exists",
            Check::LayerByDigest => "layer_by_digest",
            Check::LayerByDiffId => "layer_by_diff_id",
            Check::Nesting => "nesting",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who claims a value, or where it was found, in a [`ProblemKind::Mismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueSource {
    /// The image manifest (its entry for a layer or config).
    Manifest,
    /// The manifest's list of layers.
    ManifestLayers,
    /// The manifest's bytes as stored.
    RawManifest,
    /// The config's bytes as stored.
    RawConfig,
    /// The index's bytes as stored.
    RawIndex,
    /// The parsed config.
    Config,
    /// The config's `rootfs.diff_ids`.
    ConfigDiffIds,
    /// The OCI image spec.
    ImageSpec,
    /// An index's entry for a child.
    IndexEntry,
    /// The bytes of an index's child.
    ChildManifest,
    /// The media type of an index's child.
    ChildMediaType,
    /// The platform of an index's child, from its config.
    ChildConfig,
    /// A layer's compressed stream, as read.
    CompressedContent,
    /// A layer's compressed stream, decompressed.
    DecompressedContent,
    /// A source that verifies what it reads (its digest or size mismatch).
    VerifyingSource,
    /// [`Image::layers`](crate::Image::layers).
    ImageLayers,
    /// [`Image::digest`](crate::Image::digest).
    ImageDigest,
    /// [`Image::size`](crate::Image::size).
    ImageSize,
    /// [`Image::descriptor`](crate::Image::descriptor).
    ImageDescriptor,
    /// [`Image::media_type`](crate::Image::media_type).
    ImageMediaType,
    /// [`Image::config_name`](crate::Image::config_name).
    ImageConfigName,
    /// [`Image::layer_by_digest`](crate::Image::layer_by_digest).
    ImageLayerByDigest,
    /// [`Image::layer_by_diff_id`](crate::Image::layer_by_diff_id).
    ImageLayerByDiffId,
    /// [`ImageIndex::digest`](crate::ImageIndex::digest).
    IndexDigest,
    /// [`ImageIndex::size`](crate::ImageIndex::size).
    IndexSize,
    /// [`ImageIndex::descriptor`](crate::ImageIndex::descriptor).
    IndexDescriptor,
    /// [`ImageIndex::media_type`](crate::ImageIndex::media_type).
    IndexMediaType,
    /// [`Layer::digest`](crate::Layer::digest).
    LayerDigest,
    /// [`Layer::size`](crate::Layer::size).
    LayerSize,
    /// [`Layer::diff_id`](crate::Layer::diff_id).
    LayerDiffId,
    /// [`Layer::media_type`](crate::Layer::media_type).
    LayerMediaType,
    /// [`Layer::descriptor`](crate::Layer::descriptor).
    LayerDescriptor,
    /// [`Layer::uncompressed`](crate::Layer::uncompressed).
    LayerUncompressed,
}

impl ValueSource {
    /// The name reports write: `manifest`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueSource::Manifest => "manifest",
            ValueSource::ManifestLayers => "manifest layers",
            ValueSource::RawManifest => "raw manifest",
            ValueSource::RawConfig => "raw config",
            ValueSource::RawIndex => "raw index",
            ValueSource::Config => "config",
            ValueSource::ConfigDiffIds => "config rootfs.diff_ids",
            ValueSource::ImageSpec => "image spec",
            ValueSource::IndexEntry => "index entry",
            ValueSource::ChildManifest => "child manifest",
            ValueSource::ChildMediaType => "child media_type",
            ValueSource::ChildConfig => "child config",
            ValueSource::CompressedContent => "compressed content",
            ValueSource::DecompressedContent => "decompressed content",
            ValueSource::VerifyingSource => "source",
            ValueSource::ImageLayers => "Image::layers",
            ValueSource::ImageDigest => "Image::digest",
            ValueSource::ImageSize => "Image::size",
            ValueSource::ImageDescriptor => "Image::descriptor",
            ValueSource::ImageMediaType => "Image::media_type",
            ValueSource::ImageConfigName => "Image::config_name",
            ValueSource::ImageLayerByDigest => "Image::layer_by_digest",
            ValueSource::ImageLayerByDiffId => "Image::layer_by_diff_id",
            ValueSource::IndexDigest => "ImageIndex::digest",
            ValueSource::IndexSize => "ImageIndex::size",
            ValueSource::IndexDescriptor => "ImageIndex::descriptor",
            ValueSource::IndexMediaType => "ImageIndex::media_type",
            ValueSource::LayerDigest => "Layer::digest",
            ValueSource::LayerSize => "Layer::size",
            ValueSource::LayerDiffId => "Layer::diff_id",
            ValueSource::LayerMediaType => "Layer::media_type",
            ValueSource::LayerDescriptor => "Layer::descriptor",
            ValueSource::LayerUncompressed => "Layer::uncompressed",
        }
    }
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong, in a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Two sources disagree: a claim (`expected`, from `expected_from`) and what was found
    /// (`actual`, from `actual_from`). Digests are written in full.
    Mismatch {
        /// The claimed value (a digest, size, media type, count...).
        expected: String,
        /// Who claims it: the manifest, the config's `rootfs.diff_ids`, `Layer::digest`, an
        /// index entry, ...
        expected_from: ValueSource,
        /// The value found.
        actual: String,
        /// Where it was found: the compressed content, the decompressed content, the raw
        /// manifest, ...
        actual_from: ValueSource,
    },
    /// Something could not be read, parsed or checked, or breaks a rule on its own.
    Invalid {
        /// What went wrong, with the error.
        message: String,
    },
}

/// One problem found by validation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// Where, outermost first: `[Layer(2)]` in an image; `[Entry{1, ..}, Layer(2)]` for a
    /// layer of an index's second child.
    pub location: Vec<Location>,
    /// What was checked: a digest, a size, a diff_id, a media type, the layer count, ...
    pub what: Check,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// The claimed value of a mismatch.
    pub fn expected(&self) -> Option<&str> {
        match &self.kind {
            ProblemKind::Mismatch { expected, .. } => Some(expected),
            ProblemKind::Invalid { .. } => None,
        }
    }

    /// The value found, of a mismatch.
    pub fn actual(&self) -> Option<&str> {
        match &self.kind {
            ProblemKind::Mismatch { actual, .. } => Some(actual),
            ProblemKind::Invalid { .. } => None,
        }
    }

    /// The last element of [`Problem::location`]: the thing the problem is about.
    pub fn subject(&self) -> Option<&Location> {
        self.location.last()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.location.iter().enumerate() {
            if i > 0 {
                f.write_str(" > ")?;
            }
            write!(f, "{l}")?;
        }
        match &self.kind {
            ProblemKind::Mismatch {
                expected,
                expected_from,
                actual,
                actual_from,
            } => write!(
                f,
                ": {} mismatch: {expected_from} says {expected}, {actual_from} is {actual}",
                self.what
            ),
            ProblemKind::Invalid { message } => write!(f, ": {}: {message}", self.what),
        }
    }
}

/// Everything wrong with an image or index: the error of [`validate_image`](super::validate_image) and
/// [`validate_index`](super::validate_index). Its `Display` writes one line per problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationReport {
    /// The problems, in the order found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationReport {}

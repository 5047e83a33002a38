//! Checking that an image or index is what it claims to be (go-containerregistry's
//! `validate` package): [`validate_image`], [`validate_index`] and the one-pass layer
//! measurement [`digest_layer`].
//!
//! Every claim is compared with the content it describes: the manifest's digest and size
//! with its raw bytes, the config descriptor with the config blob, each layer descriptor
//! with the layer's compressed bytes, each `rootfs.diff_ids` entry with the layer's
//! uncompressed bytes, and each index entry with the child it points at. All mismatches are
//! collected into one [`ValidationReport`], not only the first.
//!
//! Layers are streamed, never buffered: each compressed stream is read once, hashed as it
//! passes and fed to a decompressor whose output is hashed for the diff_id, and the layer's
//! own uncompressed stream is read once more to check it agrees.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;

use oci_types::{
    Algorithm, Compression, ConfigFile, Descriptor, Digest, Digester, HashingReader, Index,
    Manifest, MediaType, Platform,
};

use crate::{Error, Image, ImageIndex, Layer, Result};

use oci_types::limits::MAX_INDEX_NESTING as MAX_NESTING;

/// Options of [`validate_image`] and [`validate_index`].
///
/// ```
/// use oci_partial::ValidateOptions;
/// assert!(!ValidateOptions::default().fast);
/// assert!(ValidateOptions::fast().fast);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// Skip reading layer contents: check only the structure (manifest, config, descriptors,
    /// counts, the layers' own claims against the manifest and config, and that each layer
    /// exists), like go-containerregistry's `validate.Fast`.
    pub fast: bool,
}

impl ValidateOptions {
    /// Full validation: every layer is read and hashed (the default).
    pub fn full() -> Self {
        ValidateOptions { fast: false }
    }

    /// Structure-only validation: no layer content is read.
    pub fn fast() -> Self {
        ValidateOptions { fast: true }
    }
}

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

/// What is wrong, in a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Two sources disagree: a claim (`expected`, from `expected_from`) and what was found
    /// (`actual`, from `actual_from`). Digests are written in full.
    Mismatch {
        /// The claimed value (a digest, size, media type, count...).
        expected: String,
        /// Who claims it: `"manifest"`, `"config rootfs.diff_ids"`, `"Layer::digest"`,
        /// `"index entry"`, ...
        expected_from: &'static str,
        /// The value found.
        actual: String,
        /// Where it was found: `"compressed content"`, `"uncompressed content"`,
        /// `"raw manifest"`, ...
        actual_from: &'static str,
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
    /// What was checked: `"digest"`, `"size"`, `"diff_id"`, `"media_type"`, `"layer count"`,
    /// `"diff_ids count"`, `"rootfs.type"`, `"platform"`, `"content"`, `"read"`, ...
    pub what: &'static str,
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

/// Everything wrong with an image or index: the error of [`validate_image`] and
/// [`validate_index`]. Its `Display` writes one line per problem.
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

/// What a layer's bytes really are, as measured by [`digest_layer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerDigests {
    /// The sha256 digest of the compressed stream.
    pub digest: Digest,
    /// The length of the compressed stream.
    pub size: u64,
    /// The sha256 digest of the decompressed stream (the diff_id); `None` when the media type
    /// names no known compression, so the stream could not be decompressed.
    pub diff_id: Option<Digest>,
    /// The length of the decompressed stream; `None` with `diff_id`.
    pub uncompressed_size: Option<u64>,
}

/// Measures a layer in one pass over its compressed stream: digest and size of the bytes as
/// stored, and (decompressing by the layer's media type as they pass) digest and size of the
/// uncompressed tar. Memory use is a few buffers, whatever the layer's size.
///
/// Fails when the stream cannot be read or decompressed; the error of a source that verifies
/// what it reads (a digest or size mismatch) comes back as [`Error::Types`].
///
/// ```
/// use std::sync::Arc;
/// # #[cfg(feature = "testing")] {
/// use oci_partial::{digest_layer, random, Layer};
/// let layer = random::layer(7, 1000);
/// let m = digest_layer(layer.as_ref()).unwrap();
/// assert_eq!(m.digest, layer.digest().unwrap());
/// assert_eq!(m.diff_id, Some(layer.diff_id().unwrap()));
/// # }
/// ```
pub fn digest_layer(layer: &dyn Layer) -> Result<LayerDigests> {
    let compression = layer.media_type()?.compression();
    let stream = layer.compressed()?;
    let m = measure(stream, compression, &Algorithm::Sha256, &Algorithm::Sha256)?;
    let (diff_id, uncompressed_size) = match m.diff {
        Diff::Computed(d, n) => (Some(d), Some(n)),
        Diff::Unknown => (None, None),
        Diff::Failed(e) => return Err(Error::io("decompressing layer", e)),
    };
    Ok(LayerDigests {
        digest: m.digest,
        size: m.size,
        diff_id,
        uncompressed_size,
    })
}

/// Checks that an image is what it claims to be, reporting every problem found.
///
/// Checked (after go-containerregistry's `validate.Image`):
/// - the manifest: [`Image::digest`], [`Image::size`] and [`Image::descriptor`] match the raw
///   bytes; [`Image::manifest`] is their parse; its media type is [`Image::media_type`];
/// - the config: its digest and size match the manifest's config descriptor and
///   [`Image::config_name`]; [`Image::config_file`] is its parse; `rootfs.type` is `layers`;
/// - the layers: as many as the manifest lists and as `rootfs.diff_ids` has; each layer's
///   media type, digest and size agree with the manifest entry; unless `fast`, the
///   compressed stream's digest and size match both the manifest and the layer's own
///   claims, and the decompressed stream's digest matches [`Layer::diff_id`],
///   `rootfs.diff_ids[i]` (so order counts) and the layer's [`Layer::uncompressed`] stream;
///   [`Image::layer_by_digest`] and [`Image::layer_by_diff_id`] find each layer.
///
/// Artifacts (a manifest whose config is not an image config, or with an `artifactType`)
/// have their blobs checked but no config parse or diff_ids. A layer whose uncompressed
/// stream was already consumed (a one-shot streaming layer) skips that one check.
///
/// With [`ValidateOptions::fast`] no layer content is read.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use oci_partial::{random, validate_image, Location, ValidateOptions};
///
/// let image = random::image(1, 2, 512);
/// assert!(validate_image(image.as_ref(), ValidateOptions::default()).is_ok());
///
/// // A byte flipped in layer 1's blob: its digest no longer matches the manifest.
/// let broken = random::corrupt_layer(image, 1);
/// let report = validate_image(broken.as_ref(), ValidateOptions::default()).unwrap_err();
/// assert!(report.problems.iter().any(|p| p.what == "digest" && p.location == [Location::Layer(1)]));
/// println!("{report}"); // one line per problem
///
/// // The fast mode reads no layer: it cannot see the flipped byte.
/// assert!(validate_image(broken.as_ref(), ValidateOptions::fast()).is_ok());
/// # }
/// ```
pub fn validate_image(image: &dyn Image, opts: ValidateOptions) -> Result<(), ValidationReport> {
    let mut v = Validator {
        opts,
        out: Vec::new(),
        at: Vec::new(),
    };
    v.image(image, false);
    v.finish()
}

/// Checks that an index and, recursively, every image and index in it are what they claim
/// to be, reporting every problem found.
///
/// The index's digest, size, descriptor and parse are checked against its raw bytes as for
/// an image manifest; each entry's digest, size and media type are checked against the
/// child's raw manifest, an entry's platform against the child's config; each child image
/// is checked as by [`validate_image`] and each nested index like this (problems inside a
/// child have a [`Location::Entry`] first in their location). Entries that are neither
/// images nor indexes are not checked.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use oci_partial::{random, validate_index, ValidateOptions};
/// let index = random::index(3, 2, 1, 256);
/// validate_index(index.as_ref(), ValidateOptions::default()).unwrap();
/// # }
/// ```
pub fn validate_index(
    index: &dyn ImageIndex,
    opts: ValidateOptions,
) -> Result<(), ValidationReport> {
    let mut v = Validator {
        opts,
        out: Vec::new(),
        at: Vec::new(),
    };
    v.index(index, 0);
    v.finish()
}

/// What the checks of a child found, for its parent's entry checks.
struct Facts {
    /// The raw manifest or index.
    raw: Vec<u8>,
    media_type: Option<MediaType>,
    platform: Option<Platform>,
}

struct Validator {
    opts: ValidateOptions,
    out: Vec<Problem>,
    /// The location prefix of the object being checked (the index entries leading to it).
    at: Vec<Location>,
}

/// The algorithm of a claimed digest when it can be computed, else sha256.
fn algorithm_of(claim: Option<&Digest>) -> Algorithm {
    match claim.map(Digest::algorithm) {
        Some(Algorithm::Sha512) => Algorithm::Sha512,
        _ => Algorithm::Sha256,
    }
}

fn hash(claim: Option<&Digest>, bytes: &[u8]) -> Digest {
    match algorithm_of(claim) {
        Algorithm::Sha512 => {
            Digest::compute(&Algorithm::Sha512, bytes).unwrap_or_else(|_| Digest::sha256(bytes))
        }
        _ => Digest::sha256(bytes),
    }
}

impl Validator {
    fn finish(self) -> Result<(), ValidationReport> {
        if self.out.is_empty() {
            Ok(())
        } else {
            Err(ValidationReport { problems: self.out })
        }
    }

    fn location(&self, loc: Location) -> Vec<Location> {
        let mut v = self.at.clone();
        v.push(loc);
        v
    }

    fn invalid(&mut self, loc: Location, what: &'static str, message: impl fmt::Display) {
        let location = self.location(loc);
        self.out.push(Problem {
            location,
            what,
            kind: ProblemKind::Invalid {
                message: message.to_string(),
            },
        });
    }

    /// Records a mismatch when `expected != actual`.
    fn compare<T: PartialEq + fmt::Display>(
        &mut self,
        loc: Location,
        what: &'static str,
        expected: &T,
        expected_from: &'static str,
        actual: &T,
        actual_from: &'static str,
    ) {
        if expected != actual {
            let location = self.location(loc);
            let kind = ProblemKind::Mismatch {
                expected: expected.to_string(),
                expected_from,
                actual: actual.to_string(),
                actual_from,
            };
            self.out.push(Problem {
                location,
                what,
                kind,
            });
        }
    }

    /// Unwraps a claim, recording a problem when it cannot be had.
    fn claim<T>(&mut self, loc: Location, what: &'static str, r: Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.invalid(loc, what, e);
                None
            }
        }
    }

    /// Records the problem of a failed content read: a verifying source's digest or size
    /// mismatch becomes a mismatch, anything else an invalid read.
    fn read_failure(&mut self, loc: Location, what: &'static str, from: &'static str, e: Error) {
        match e {
            Error::Types(oci_types::Error::DigestMismatch { expected, actual }) => {
                self.compare(loc, what, &expected, "source", &actual, from);
            }
            Error::Types(oci_types::Error::SizeMismatch {
                expected,
                actual,
                truncated,
                ..
            }) => {
                let actual = if truncated {
                    format!("over {actual}")
                } else {
                    actual.to_string()
                };
                self.compare(loc, "size", &expected.to_string(), "source", &actual, from);
            }
            Error::Io { source, .. } => {
                self.invalid(loc, what, format!("reading {from}: {source}"))
            }
            other => self.invalid(loc, what, format!("reading {from}: {other}")),
        }
    }

    /// Checks the raw bytes of a manifest or index against the object's own claims.
    fn raw_claims(&mut self, loc: Location, raw: &[u8], claims: RawClaims<'_>) {
        let owner = claims.owner;
        let desc = self.claim(loc.clone(), "descriptor", claims.descriptor);
        let claimed = desc.as_ref().map(|d| &d.digest);
        let actual = hash(claimed, raw);
        let len = raw.len() as u64;
        if let Some(d) = self.claim(loc.clone(), "digest", claims.digest) {
            let d_actual = if d.algorithm() == actual.algorithm() {
                actual.clone()
            } else {
                hash(Some(&d), raw)
            };
            self.compare(
                loc.clone(),
                "digest",
                &d,
                owner.name("digest"),
                &d_actual,
                owner.name("raw"),
            );
        }
        if let Some(s) = self.claim(loc.clone(), "size", claims.size) {
            self.compare(
                loc.clone(),
                "size",
                &s,
                owner.name("size"),
                &len,
                owner.name("raw"),
            );
        }
        if let Some(d) = desc {
            self.compare(
                loc.clone(),
                "digest",
                &d.digest,
                owner.name("descriptor"),
                &actual,
                owner.name("raw"),
            );
            self.compare(
                loc.clone(),
                "size",
                &d.size,
                owner.name("descriptor"),
                &len,
                owner.name("raw"),
            );
            if let Some(mt) = claims.media_type {
                self.compare(
                    loc,
                    "media_type",
                    &d.media_type,
                    owner.name("descriptor"),
                    mt,
                    owner.name("media_type"),
                );
            }
        }
    }

    fn image(&mut self, image: &dyn Image, described_artifact: bool) -> Option<Facts> {
        // Layers first: a streaming layer only knows its digest once read, and the manifest
        // and config of an image with such layers only exist after that.
        let layers = self.claim(Location::Manifest, "layers", image.layers());
        let measured: Vec<Option<Measured>> = match (&layers, self.opts.fast) {
            (Some(layers), false) => layers
                .iter()
                .enumerate()
                .map(|(i, l)| self.measure_layer(i, l.as_ref()))
                .collect(),
            _ => Vec::new(),
        };

        let media_type = self.claim(Location::Manifest, "media_type", image.media_type());
        let raw = self.claim(Location::Manifest, "read", image.raw_manifest())?;
        let claims = RawClaims {
            owner: Owner::Image,
            digest: image.digest(),
            size: image.size(),
            descriptor: image.descriptor(),
            media_type: media_type.as_ref(),
        };
        self.raw_claims(Location::Manifest, &raw, claims);
        let facts = |platform| Facts {
            raw: raw.clone(),
            media_type: media_type.clone(),
            platform,
        };
        let manifest = match Manifest::from_slice(&raw) {
            Ok(m) => m,
            Err(e) => {
                self.invalid(Location::Manifest, "parse", e);
                return Some(facts(None));
            }
        };
        if let Some(m) = self.claim(Location::Manifest, "content", image.manifest()) {
            if m != manifest {
                let fields = manifest_differences(&manifest, &m);
                self.invalid(
                    Location::Manifest,
                    "content",
                    format!(
                        "Image::manifest() differs from the parse of the raw manifest in: {fields}"
                    ),
                );
            }
        }
        if let Some(mt) = &media_type {
            self.compare(
                Location::Manifest,
                "media_type",
                &manifest.media_type(),
                "raw manifest",
                mt,
                "Image::media_type",
            );
        }
        let artifact = described_artifact
            || manifest.artifact_type.is_some()
            || !manifest.config.media_type.is_config();

        let config = self.config(image, &manifest, artifact);
        if let Some(layers) = &layers {
            self.layers(
                image,
                layers,
                &measured,
                &manifest,
                config.as_ref(),
                artifact,
            );
        }
        let platform = if artifact {
            None
        } else {
            config.map(|c| c.platform())
        };
        Some(facts(platform))
    }

    fn config(
        &mut self,
        image: &dyn Image,
        manifest: &Manifest,
        artifact: bool,
    ) -> Option<ConfigFile> {
        let loc = Location::Config;
        let raw = self.claim(loc.clone(), "read", image.raw_config_file())?;
        let claimed = &manifest.config.digest;
        let actual = hash(Some(claimed), &raw);
        self.compare(
            loc.clone(),
            "digest",
            claimed,
            "manifest",
            &actual,
            "raw config",
        );
        self.compare(
            loc.clone(),
            "size",
            &manifest.config.size,
            "manifest",
            &(raw.len() as u64),
            "raw config",
        );
        if let Some(name) = self.claim(loc.clone(), "digest", image.config_name()) {
            let actual = if name.algorithm() == actual.algorithm() {
                actual.clone()
            } else {
                hash(Some(&name), &raw)
            };
            self.compare(
                loc.clone(),
                "digest",
                &name,
                "Image::config_name",
                &actual,
                "raw config",
            );
        }
        if artifact {
            return None;
        }
        let config = match ConfigFile::from_slice(&raw) {
            Ok(c) => c,
            Err(e) => {
                self.invalid(loc, "parse", e);
                return None;
            }
        };
        if let Some(c) = self.claim(loc.clone(), "content", image.config_file()) {
            if c != config {
                self.invalid(
                    loc.clone(),
                    "content",
                    "Image::config_file() differs from the parse of the raw config",
                );
            }
        }
        self.compare(
            loc,
            "rootfs.type",
            &"layers",
            "image spec",
            &config.rootfs.fs_type.as_str(),
            "config",
        );
        Some(config)
    }

    fn measure_layer(&mut self, i: usize, layer: &dyn Layer) -> Option<Measured> {
        let loc = Location::Layer(i);
        // A media type that cannot be had is reported with the other claims; the blob is
        // still hashed, as opaque.
        let compression = layer.media_type().ok().and_then(|m| m.compression());
        // Hash with the algorithms the layer claims (sha256 when unknown, e.g. a streaming
        // layer that only knows its digests once read).
        let digest_alg = algorithm_of(layer.digest().ok().as_ref());
        let diff_alg = algorithm_of(layer.diff_id().ok().as_ref());
        let stream = self.claim(loc.clone(), "read", layer.compressed())?;
        match measure(stream, compression, &digest_alg, &diff_alg) {
            Ok(m) => Some(m),
            Err(e) => {
                self.read_failure(loc, "digest", "compressed content", e);
                None
            }
        }
    }

    fn layers(
        &mut self,
        image: &dyn Image,
        layers: &[Arc<dyn Layer>],
        measured: &[Option<Measured>],
        manifest: &Manifest,
        config: Option<&ConfigFile>,
        artifact: bool,
    ) {
        self.compare(
            Location::Manifest,
            "layer count",
            &manifest.layers.len(),
            "manifest",
            &layers.len(),
            "Image::layers",
        );
        let diff_ids = config.map(|c| &c.rootfs.diff_ids);
        if let Some(d) = diff_ids {
            self.compare(
                Location::Config,
                "diff_ids count",
                &d.len(),
                "config rootfs.diff_ids",
                &manifest.layers.len(),
                "manifest layers",
            );
        }
        for (i, layer) in layers.iter().enumerate() {
            let loc = Location::Layer(i);
            let entry = manifest.layers.get(i);
            let config_diff_id = diff_ids.and_then(|d| d.get(i));
            let m = measured.get(i).and_then(Option::as_ref);

            let digest = self.claim(loc.clone(), "digest", layer.digest());
            let size = self.claim(loc.clone(), "size", layer.size());
            let media_type = self.claim(loc.clone(), "media_type", layer.media_type());
            let diff_id = if artifact {
                None
            } else {
                self.claim(loc.clone(), "diff_id", layer.diff_id())
            };

            // The manifest entry and the layer's descriptor against the layer's claims.
            if let Some(e) = entry {
                if let Some(mt) = &media_type {
                    self.compare(
                        loc.clone(),
                        "media_type",
                        &e.media_type,
                        "manifest",
                        mt,
                        "Layer::media_type",
                    );
                }
                if let Some(d) = self.claim(loc.clone(), "descriptor", layer.descriptor()) {
                    self.compare(
                        loc.clone(),
                        "media_type",
                        &e.media_type,
                        "manifest",
                        &d.media_type,
                        "Layer::descriptor",
                    );
                    self.compare(
                        loc.clone(),
                        "digest",
                        &e.digest,
                        "manifest",
                        &d.digest,
                        "Layer::descriptor",
                    );
                    self.compare(
                        loc.clone(),
                        "size",
                        &e.size,
                        "manifest",
                        &d.size,
                        "Layer::descriptor",
                    );
                }
            }

            if let Some(m) = m {
                // Content against every claim.
                if let Some(d) = &digest {
                    self.compare(
                        loc.clone(),
                        "digest",
                        d,
                        "Layer::digest",
                        &m.digest,
                        "compressed content",
                    );
                }
                if let Some(e) = entry {
                    self.compare(
                        loc.clone(),
                        "digest",
                        &e.digest,
                        "manifest",
                        &m.digest,
                        "compressed content",
                    );
                    self.compare(
                        loc.clone(),
                        "size",
                        &e.size,
                        "manifest",
                        &m.size,
                        "compressed content",
                    );
                }
                if let Some(s) = size {
                    self.compare(
                        loc.clone(),
                        "size",
                        &s,
                        "Layer::size",
                        &m.size,
                        "compressed content",
                    );
                }
                if !artifact {
                    let actual_diff = match &m.diff {
                        Diff::Computed(d, _) => Some(d.clone()),
                        Diff::Unknown => None,
                        Diff::Failed(e) => {
                            self.invalid(
                                loc.clone(),
                                "diff_id",
                                format!("decompressing compressed content: {e}"),
                            );
                            None
                        }
                    };
                    if let Some(actual) = &actual_diff {
                        if let Some(d) = &diff_id {
                            self.compare(
                                loc.clone(),
                                "diff_id",
                                d,
                                "Layer::diff_id",
                                actual,
                                "decompressed content",
                            );
                        }
                        if let Some(c) = config_diff_id {
                            self.compare(
                                loc.clone(),
                                "diff_id",
                                c,
                                "config rootfs.diff_ids",
                                actual,
                                "decompressed content",
                            );
                        }
                    }
                    // The layer's own uncompressed stream must agree too (sources may store
                    // the tar and compress on the fly, or the other way round).
                    let reference = actual_diff.as_ref().or(diff_id.as_ref());
                    self.uncompressed(i, layer.as_ref(), reference, config_diff_id);
                }
            } else if self.opts.fast {
                // Claims against claims only.
                if let (Some(e), Some(d)) = (entry, &digest) {
                    self.compare(
                        loc.clone(),
                        "digest",
                        &e.digest,
                        "manifest",
                        d,
                        "Layer::digest",
                    );
                }
                if let (Some(e), Some(s)) = (entry, size) {
                    self.compare(loc.clone(), "size", &e.size, "manifest", &s, "Layer::size");
                }
                if let (Some(c), Some(d)) = (config_diff_id, &diff_id) {
                    self.compare(
                        loc.clone(),
                        "diff_id",
                        c,
                        "config rootfs.diff_ids",
                        d,
                        "Layer::diff_id",
                    );
                }
                match layer.exists() {
                    Ok(true) => {}
                    Ok(false) => {
                        self.invalid(loc.clone(), "exists", "the layer's blob does not exist")
                    }
                    Err(e) => self.invalid(loc.clone(), "exists", e),
                }
            }

            // Look-ups by digest and diff_id find this layer.
            if let Some(d) = &digest {
                match image.layer_by_digest(d) {
                    Ok(found) => {
                        if let Some(fd) = self.claim(loc.clone(), "layer_by_digest", found.digest())
                        {
                            self.compare(
                                loc.clone(),
                                "layer_by_digest",
                                d,
                                "Layer::digest",
                                &fd,
                                "Image::layer_by_digest",
                            );
                        }
                    }
                    Err(e) => self.invalid(loc.clone(), "layer_by_digest", e),
                }
            }
            if let Some(d) = &diff_id {
                match image.layer_by_diff_id(d) {
                    Ok(found) => {
                        if let Some(fd) =
                            self.claim(loc.clone(), "layer_by_diff_id", found.diff_id())
                        {
                            self.compare(
                                loc.clone(),
                                "layer_by_diff_id",
                                d,
                                "Layer::diff_id",
                                &fd,
                                "Image::layer_by_diff_id",
                            );
                        }
                    }
                    Err(e) => self.invalid(loc.clone(), "layer_by_diff_id", e),
                }
            }
        }
    }

    /// Hashes [`Layer::uncompressed`] and compares it with the diff_id found by decompressing
    /// (or, failing that, claimed).
    fn uncompressed(
        &mut self,
        i: usize,
        layer: &dyn Layer,
        reference: Option<&Digest>,
        config: Option<&Digest>,
    ) {
        let loc = Location::Layer(i);
        let mut stream = match layer.uncompressed() {
            Ok(s) => s,
            // A one-shot streaming layer whose stream was read for the digest.
            Err(Error::Consumed) => return,
            Err(e) => {
                return self.invalid(loc, "diff_id", format!("opening uncompressed content: {e}"))
            }
        };
        let expected = reference.or(config);
        let mut d = match Digester::new(&algorithm_of(expected)) {
            Ok(d) => d,
            Err(e) => return self.invalid(loc, "diff_id", e),
        };
        if let Err(e) = io::copy(&mut stream, &mut d) {
            return self.read_failure(
                loc,
                "diff_id",
                "Layer::uncompressed",
                Error::io("reading", e),
            );
        }
        let actual = d.finish();
        match (reference, config) {
            (Some(r), _) => self.compare(
                loc,
                "diff_id",
                r,
                "decompressed content",
                &actual,
                "Layer::uncompressed",
            ),
            (None, Some(c)) => self.compare(
                loc,
                "diff_id",
                c,
                "config rootfs.diff_ids",
                &actual,
                "Layer::uncompressed",
            ),
            (None, None) => {}
        }
    }

    fn index(&mut self, index: &dyn ImageIndex, depth: usize) -> Option<Facts> {
        let loc = Location::Index;
        let media_type = self.claim(loc.clone(), "media_type", index.media_type());
        let raw = self.claim(loc.clone(), "read", index.raw_manifest())?;
        let claims = RawClaims {
            owner: Owner::Index,
            digest: index.digest(),
            size: index.size(),
            descriptor: index.descriptor(),
            media_type: media_type.as_ref(),
        };
        self.raw_claims(loc.clone(), &raw, claims);
        let facts = Facts {
            raw: raw.clone(),
            media_type: media_type.clone(),
            platform: None,
        };
        let parsed = match Index::from_slice(&raw) {
            Ok(p) => p,
            Err(e) => {
                self.invalid(loc, "parse", e);
                return Some(facts);
            }
        };
        if let Some(m) = self.claim(loc.clone(), "content", index.index_manifest()) {
            if m != parsed {
                self.invalid(
                    loc.clone(),
                    "content",
                    "ImageIndex::index_manifest() differs from the parse of the raw index",
                );
            }
        }
        if let Some(mt) = &media_type {
            self.compare(
                loc.clone(),
                "media_type",
                &parsed.media_type(),
                "raw index",
                mt,
                "ImageIndex::media_type",
            );
        }
        if depth >= MAX_NESTING {
            self.invalid(
                loc,
                "nesting",
                format!("indexes nest deeper than {MAX_NESTING} levels; not descending"),
            );
            return Some(facts);
        }
        for (i, desc) in parsed.manifests.iter().enumerate() {
            self.entry(index, i, desc, depth);
        }
        Some(facts)
    }

    fn entry(&mut self, index: &dyn ImageIndex, i: usize, desc: &Descriptor, depth: usize) {
        let here = Location::Entry {
            index: i,
            digest: desc.digest.clone(),
        };
        let mt = &desc.media_type;
        let child = if mt.is_index() {
            match index.image_index(&desc.digest) {
                Ok(child) => {
                    self.at.push(here.clone());
                    let facts = self.index(child.as_ref(), depth + 1);
                    self.at.pop();
                    facts
                }
                Err(e) => return self.invalid(here, "open", e),
            }
        } else if mt.is_image_manifest() {
            match index.image(&desc.digest) {
                Ok(child) => {
                    self.at.push(here.clone());
                    let facts = self.image(child.as_ref(), desc.artifact_type.is_some());
                    self.at.pop();
                    facts
                }
                Err(e) => return self.invalid(here, "open", e),
            }
        } else {
            return;
        };
        let Some(facts) = child else { return };
        let actual_digest = hash(Some(&desc.digest), &facts.raw);
        self.compare(
            here.clone(),
            "digest",
            &desc.digest,
            "index entry",
            &actual_digest,
            "child manifest",
        );
        self.compare(
            here.clone(),
            "size",
            &desc.size,
            "index entry",
            &(facts.raw.len() as u64),
            "child manifest",
        );
        if let Some(child_mt) = &facts.media_type {
            self.compare(
                here.clone(),
                "media_type",
                mt,
                "index entry",
                child_mt,
                "child media_type",
            );
        }
        if let (Some(want), Some(got)) = (&desc.platform, &facts.platform) {
            if !want.matches(got) {
                self.compare(here, "platform", want, "index entry", got, "child config");
            }
        }
    }
}

/// Whose raw bytes [`Validator::raw_claims`] checks.
#[derive(Clone, Copy)]
enum Owner {
    Image,
    Index,
}

impl Owner {
    /// The name of a claim or of the raw bytes, for problem reports.
    fn name(self, what: &str) -> &'static str {
        match (self, what) {
            (Owner::Image, "digest") => "Image::digest",
            (Owner::Image, "size") => "Image::size",
            (Owner::Image, "descriptor") => "Image::descriptor",
            (Owner::Image, "media_type") => "Image::media_type",
            (Owner::Image, _) => "raw manifest",
            (Owner::Index, "digest") => "ImageIndex::digest",
            (Owner::Index, "size") => "ImageIndex::size",
            (Owner::Index, "descriptor") => "ImageIndex::descriptor",
            (Owner::Index, "media_type") => "ImageIndex::media_type",
            (Owner::Index, _) => "raw index",
        }
    }
}

/// What an image or index claims about its own raw manifest.
struct RawClaims<'a> {
    owner: Owner,
    digest: Result<Digest>,
    size: Result<u64>,
    descriptor: Result<Descriptor>,
    media_type: Option<&'a MediaType>,
}

/// Names the top-level fields in which two manifests differ.
fn manifest_differences(a: &Manifest, b: &Manifest) -> String {
    let checks = [
        ("schemaVersion", a.schema_version != b.schema_version),
        ("mediaType", a.media_type != b.media_type),
        ("artifactType", a.artifact_type != b.artifact_type),
        ("config", a.config != b.config),
        ("layers", a.layers != b.layers),
        ("subject", a.subject != b.subject),
        ("annotations", a.annotations != b.annotations),
        ("other fields", a.extra != b.extra),
    ];
    let names: Vec<&str> = checks
        .iter()
        .filter(|(_, differs)| *differs)
        .map(|(n, _)| *n)
        .collect();
    names.join(", ")
}

/// The decompressed side of a measurement.
#[derive(Debug)]
enum Diff {
    /// Digest and size of the decompressed stream.
    Computed(Digest, u64),
    /// The media type names no known compression.
    Unknown,
    /// The stream did not decompress (the compressed digest and size are still valid).
    Failed(io::Error),
}

#[derive(Debug)]
struct Measured {
    digest: Digest,
    size: u64,
    diff: Diff,
}

/// Remembers an error of the inner reader, so that a failure of the source can be told apart
/// from a failure of the decompressor reading through it.
struct SourceErrors<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Read for SourceErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Err(io::Error::other("the source stream failed earlier"));
        }
        loop {
            match self.inner.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let msg = e.to_string();
                    self.error = Some(e);
                    return Err(io::Error::other(format!("source stream failed: {msg}")));
                }
            }
        }
    }
}

/// One pass over a compressed stream: hashes it and, when `compression` is known, the
/// decompressed bytes as well (both through [`HashingReader`], the decoder from
/// [`crate::compression::decoder`]). Fails only when the source itself fails.
fn measure(
    stream: impl Read + Send,
    compression: Option<Compression>,
    digest_alg: &Algorithm,
    diff_alg: &Algorithm,
) -> Result<Measured> {
    let mut src = HashingReader::with_algorithm(
        SourceErrors {
            inner: stream,
            error: None,
        },
        digest_alg,
    )?;
    let decoded: Option<io::Result<(Digest, u64)>> = match compression {
        Some(c @ (Compression::Gzip | Compression::Zstd | Compression::None)) => {
            Some(crate::compression::decoder(&mut src, c).and_then(|dec| {
                let mut plain =
                    HashingReader::with_algorithm(dec, diff_alg).map_err(io::Error::other)?;
                io::copy(&mut plain, &mut io::sink())?;
                Ok((plain.digest(), plain.bytes_read()))
            }))
        }
        // Compression is non-exhaustive upstream: an unknown kind is treated as opaque.
        Some(_) | None => None,
    };
    // Read to the end, so the digest covers every byte even when decompression stopped
    // early (a corrupt stream, or trailing bytes after the last frame).
    let drained = io::copy(&mut src, &mut io::sink());
    let size = src.bytes_read();
    let digest = src.digest();
    let mut inner = src.into_inner();
    if let Some(e) = inner.error.take() {
        return Err(Error::io("reading compressed layer", e));
    }
    drained.map_err(|e| Error::io("reading compressed layer", e))?;
    let diff = match decoded {
        Some(Ok((d, n))) => Diff::Computed(d, n),
        Some(Err(e)) => Diff::Failed(e),
        None => Diff::Unknown,
    };
    Ok(Measured { digest, size, diff })
}

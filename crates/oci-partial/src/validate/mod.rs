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

use crate::{Error, Image, ImageIndex, Result};

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

mod image;
mod index;
mod layer;
mod report;

pub use layer::{digest_layer, LayerDigests};
pub use report::{Check, Location, Problem, ProblemKind, ValidationReport, ValueSource};

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
///   claims, and the decompressed stream's digest matches [`Layer::diff_id`](crate::Layer::diff_id),
///   `rootfs.diff_ids[i]` (so order counts) and the layer's [`Layer::uncompressed`](crate::Layer::uncompressed) stream;
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
/// use oci_partial::{random, validate_image, Check, Location, ValidateOptions};
///
/// let image = random::image(1, 2, 512);
/// assert!(validate_image(image.as_ref(), ValidateOptions::default()).is_ok());
///
/// // A byte flipped in layer 1's blob: its digest no longer matches the manifest.
/// let broken = random::corrupt_layer(image, 1);
/// let report = validate_image(broken.as_ref(), ValidateOptions::default()).unwrap_err();
/// assert!(report.problems.iter().any(|p| p.what == Check::Digest && p.location == [Location::Layer(1)]));
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

    fn invalid(&mut self, loc: Location, what: Check, message: impl fmt::Display) {
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
        what: Check,
        expected: &T,
        expected_from: ValueSource,
        actual: &T,
        actual_from: ValueSource,
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
    fn claim<T>(&mut self, loc: Location, what: Check, r: Result<T>) -> Option<T> {
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
    fn read_failure(&mut self, loc: Location, what: Check, from: ValueSource, e: Error) {
        match e {
            Error::Types(oci_types::Error::DigestMismatch { expected, actual }) => {
                self.compare(
                    loc,
                    what,
                    &expected,
                    ValueSource::VerifyingSource,
                    &actual,
                    from,
                );
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
                self.compare(
                    loc,
                    Check::Size,
                    &expected.to_string(),
                    ValueSource::VerifyingSource,
                    &actual,
                    from,
                );
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
        let desc = self.claim(loc.clone(), Check::Descriptor, claims.descriptor);
        let claimed = desc.as_ref().map(|d| &d.digest);
        let actual = hash(claimed, raw);
        let len = raw.len() as u64;
        if let Some(d) = self.claim(loc.clone(), Check::Digest, claims.digest) {
            let d_actual = if d.algorithm() == actual.algorithm() {
                actual.clone()
            } else {
                hash(Some(&d), raw)
            };
            self.compare(
                loc.clone(),
                Check::Digest,
                &d,
                owner.name(Some(Check::Digest)),
                &d_actual,
                owner.name(None),
            );
        }
        if let Some(s) = self.claim(loc.clone(), Check::Size, claims.size) {
            self.compare(
                loc.clone(),
                Check::Size,
                &s,
                owner.name(Some(Check::Size)),
                &len,
                owner.name(None),
            );
        }
        if let Some(d) = desc {
            self.compare(
                loc.clone(),
                Check::Digest,
                &d.digest,
                owner.name(Some(Check::Descriptor)),
                &actual,
                owner.name(None),
            );
            self.compare(
                loc.clone(),
                Check::Size,
                &d.size,
                owner.name(Some(Check::Descriptor)),
                &len,
                owner.name(None),
            );
            if let Some(mt) = claims.media_type {
                self.compare(
                    loc,
                    Check::MediaType,
                    &d.media_type,
                    owner.name(Some(Check::Descriptor)),
                    mt,
                    owner.name(Some(Check::MediaType)),
                );
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
    /// Who makes a claim (the method of the image or index), or the raw bytes (`None`), for
    /// problem reports.
    fn name(self, what: Option<Check>) -> ValueSource {
        match (self, what) {
            (Owner::Image, Some(Check::Digest)) => ValueSource::ImageDigest,
            (Owner::Image, Some(Check::Size)) => ValueSource::ImageSize,
            (Owner::Image, Some(Check::Descriptor)) => ValueSource::ImageDescriptor,
            (Owner::Image, Some(Check::MediaType)) => ValueSource::ImageMediaType,
            (Owner::Image, _) => ValueSource::RawManifest,
            (Owner::Index, Some(Check::Digest)) => ValueSource::IndexDigest,
            (Owner::Index, Some(Check::Size)) => ValueSource::IndexSize,
            (Owner::Index, Some(Check::Descriptor)) => ValueSource::IndexDescriptor,
            (Owner::Index, Some(Check::MediaType)) => ValueSource::IndexMediaType,
            (Owner::Index, _) => ValueSource::RawIndex,
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

//! The checks of layers: one pass over each compressed stream, hashed and decompressed as it
//! passes, compared with every claim about it.

use super::*;
use crate::Layer;

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

impl Validator {
    pub(super) fn measure_layer(&mut self, i: usize, layer: &dyn Layer) -> Option<Measured> {
        let loc = Location::Layer(i);
        // A media type that cannot be had is reported with the other claims; the blob is
        // still hashed, as opaque.
        let compression = layer.media_type().ok().and_then(|m| m.compression());
        // Hash with the algorithms the layer claims (sha256 when unknown, e.g. a streaming
        // layer that only knows its digests once read).
        let digest_alg = algorithm_of(layer.digest().ok().as_ref());
        let diff_alg = algorithm_of(layer.diff_id().ok().as_ref());
        let stream = self.claim(loc.clone(), Check::Read, layer.compressed())?;
        match measure(stream, compression, &digest_alg, &diff_alg) {
            Ok(m) => Some(m),
            Err(e) => {
                self.read_failure(loc, Check::Digest, ValueSource::CompressedContent, e);
                None
            }
        }
    }

    pub(super) fn layers(
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
            Check::LayerCount,
            &manifest.layers.len(),
            ValueSource::Manifest,
            &layers.len(),
            ValueSource::ImageLayers,
        );
        let diff_ids = config.map(|c| &c.rootfs.diff_ids);
        if let Some(d) = diff_ids {
            self.compare(
                Location::Config,
                Check::DiffIdsCount,
                &d.len(),
                ValueSource::ConfigDiffIds,
                &manifest.layers.len(),
                ValueSource::ManifestLayers,
            );
        }
        for (i, layer) in layers.iter().enumerate() {
            let loc = Location::Layer(i);
            let entry = manifest.layers.get(i);
            let config_diff_id = diff_ids.and_then(|d| d.get(i));
            let m = measured.get(i).and_then(Option::as_ref);

            let digest = self.claim(loc.clone(), Check::Digest, layer.digest());
            let size = self.claim(loc.clone(), Check::Size, layer.size());
            let media_type = self.claim(loc.clone(), Check::MediaType, layer.media_type());
            let diff_id = if artifact {
                None
            } else {
                self.claim(loc.clone(), Check::DiffId, layer.diff_id())
            };
            // The claims, each with who makes it; a claim not had skips its checks.
            let manifest_digest = entry.map(|e| Value::Digest(&e.digest));
            let manifest_size = entry.map(|e| Value::Size(e.size));
            let layer_digest = digest.as_ref().map(Value::Digest);
            let layer_size = size.map(Value::Size);
            let layer_diff_id = diff_id.as_ref().map(Value::Digest);
            let config_diff = config_diff_id.map(Value::Digest);
            let rootfs = ValueSource::ConfigDiffIds;

            // The manifest entry and the layer's descriptor against the layer's claims.
            if let Some(e) = entry {
                let manifest_type = Some(Value::MediaType(&e.media_type));
                let layer_type = media_type.as_ref().map(Value::MediaType);
                #[rustfmt::skip]
                self.compare_each(&loc, [
                    (Check::MediaType, manifest_type, ValueSource::Manifest, layer_type, ValueSource::LayerMediaType),
                ]);
                if let Some(d) = self.claim(loc.clone(), Check::Descriptor, layer.descriptor()) {
                    let from = ValueSource::LayerDescriptor;
                    let described_type = Some(Value::MediaType(&d.media_type));
                    let described_digest = Some(Value::Digest(&d.digest));
                    let described_size = Some(Value::Size(d.size));
                    #[rustfmt::skip]
                    self.compare_each(&loc, [
                        (Check::MediaType, manifest_type, ValueSource::Manifest, described_type, from),
                        (Check::Digest, manifest_digest, ValueSource::Manifest, described_digest, from),
                        (Check::Size, manifest_size, ValueSource::Manifest, described_size, from),
                    ]);
                }
            }

            if let Some(m) = m {
                // Content against every claim.
                let (digest_found, size_found) =
                    (Some(Value::Digest(&m.digest)), Some(Value::Size(m.size)));
                let from = ValueSource::CompressedContent;
                #[rustfmt::skip]
                self.compare_each(&loc, [
                    (Check::Digest, layer_digest, ValueSource::LayerDigest, digest_found, from),
                    (Check::Digest, manifest_digest, ValueSource::Manifest, digest_found, from),
                    (Check::Size, manifest_size, ValueSource::Manifest, size_found, from),
                    (Check::Size, layer_size, ValueSource::LayerSize, size_found, from),
                ]);
                if !artifact {
                    let actual_diff = match &m.diff {
                        Diff::Computed(d, _) => Some(d.clone()),
                        Diff::Unknown => None,
                        Diff::Failed(e) => {
                            self.invalid(
                                loc.clone(),
                                Check::DiffId,
                                format!("decompressing compressed content: {e}"),
                            );
                            None
                        }
                    };
                    let found = actual_diff.as_ref().map(Value::Digest);
                    let from = ValueSource::DecompressedContent;
                    #[rustfmt::skip]
                    self.compare_each(&loc, [
                        (Check::DiffId, layer_diff_id, ValueSource::LayerDiffId, found, from),
                        (Check::DiffId, config_diff, rootfs, found, from),
                    ]);
                    // The layer's own uncompressed stream must agree too (sources may store
                    // the tar and compress on the fly, or the other way round).
                    let reference = actual_diff.as_ref().or(diff_id.as_ref());
                    self.uncompressed(i, layer.as_ref(), reference, config_diff_id);
                }
            } else if self.opts.fast {
                // Claims against claims only.
                #[rustfmt::skip]
                self.compare_each(&loc, [
                    (Check::Digest, manifest_digest, ValueSource::Manifest, layer_digest, ValueSource::LayerDigest),
                    (Check::Size, manifest_size, ValueSource::Manifest, layer_size, ValueSource::LayerSize),
                    (Check::DiffId, config_diff, rootfs, layer_diff_id, ValueSource::LayerDiffId),
                ]);
                match layer.exists() {
                    Ok(true) => {}
                    Ok(false) => self.invalid(
                        loc.clone(),
                        Check::Exists,
                        "the layer's blob does not exist",
                    ),
                    Err(e) => self.invalid(loc.clone(), Check::Exists, e),
                }
            }

            // Look-ups by digest and diff_id find this layer.
            if let Some(d) = &digest {
                let what = (Check::LayerByDigest, ValueSource::ImageLayerByDigest);
                self.lookup(&loc, what, (d, ValueSource::LayerDigest), || {
                    image.layer_by_digest(d)?.digest()
                });
            }
            if let Some(d) = &diff_id {
                let what = (Check::LayerByDiffId, ValueSource::ImageLayerByDiffId);
                self.lookup(&loc, what, (d, ValueSource::LayerDiffId), || {
                    image.layer_by_diff_id(d)?.diff_id()
                });
            }
        }
    }

    /// The checks of one table: each row compared ([`Validator::compare`]) when both its
    /// sides were had.
    fn compare_each<'a, const N: usize>(&mut self, loc: &Location, rows: [Row<'a>; N]) {
        for (what, expected, expected_from, actual, actual_from) in rows {
            if let (Some(e), Some(a)) = (expected, actual) {
                self.compare(loc.clone(), what, &e, expected_from, &a, actual_from);
            }
        }
    }

    /// A look-up of the layer by its claim `claimed` (`what`: `"layer_by_digest"`,
    /// `"layer_by_diff_id"`, the method `Image::<what>` makes it): `found` is the same claim
    /// of the layer the image finds, which must be the same value.
    fn lookup(
        &mut self,
        loc: &Location,
        (what, found_from): (Check, ValueSource),
        (claimed, claimed_from): (&Digest, ValueSource),
        found: impl FnOnce() -> Result<Digest>,
    ) {
        match found() {
            Ok(fd) => self.compare(loc.clone(), what, claimed, claimed_from, &fd, found_from),
            Err(e) => self.invalid(loc.clone(), what, e),
        }
    }

    /// Hashes [`Layer::uncompressed`] and compares it with the diff_id found by decompressing
    /// (or, failing that, claimed).
    pub(super) fn uncompressed(
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
                return self.invalid(
                    loc,
                    Check::DiffId,
                    format!("opening uncompressed content: {e}"),
                )
            }
        };
        let expected = reference.or(config);
        let mut d = match Digester::new(&algorithm_of(expected)) {
            Ok(d) => d,
            Err(e) => return self.invalid(loc, Check::DiffId, e),
        };
        if let Err(e) = io::copy(&mut stream, &mut d) {
            return self.read_failure(
                loc,
                Check::DiffId,
                ValueSource::LayerUncompressed,
                Error::io("reading", e),
            );
        }
        let actual = d.finish();
        match (reference, config) {
            (Some(r), _) => self.compare(
                loc,
                Check::DiffId,
                r,
                ValueSource::DecompressedContent,
                &actual,
                ValueSource::LayerUncompressed,
            ),
            (None, Some(c)) => self.compare(
                loc,
                Check::DiffId,
                c,
                ValueSource::ConfigDiffIds,
                &actual,
                ValueSource::LayerUncompressed,
            ),
            (None, None) => {}
        }
    }
}

/// A value a layer check compares: a digest, a size or a media type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value<'a> {
    Digest(&'a Digest),
    Size(u64),
    MediaType(&'a MediaType),
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Digest(d) => fmt::Display::fmt(d, f),
            Value::Size(n) => fmt::Display::fmt(n, f),
            Value::MediaType(m) => fmt::Display::fmt(m, f),
        }
    }
}

/// One check of a layer: what is checked, the claim and who makes it, the value found and
/// where; a side that could not be had (`None`) skips the check.
type Row<'a> = (
    Check,
    Option<Value<'a>>,
    ValueSource,
    Option<Value<'a>>,
    ValueSource,
);

/// The decompressed side of a measurement.
#[derive(Debug)]
pub(super) enum Diff {
    /// Digest and size of the decompressed stream.
    Computed(Digest, u64),
    /// The media type names no known compression.
    Unknown,
    /// The stream did not decompress (the compressed digest and size are still valid).
    Failed(io::Error),
}

#[derive(Debug)]
pub(super) struct Measured {
    pub(super) digest: Digest,
    pub(super) size: u64,
    pub(super) diff: Diff,
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

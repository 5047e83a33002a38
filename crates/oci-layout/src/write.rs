//! Writing images, indexes, layers and blobs into a layout.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use oci_content::{
    copy_reader, copy_reader_hashed, CommitOpts, IngestManager, Ingester, WriterOpts,
};
use oci_partial::{BlobReader, Child, Image, ImageIndex, Layer};
use oci_types::{Descriptor, Digest, HashingReader, Index, Manifest, Raw};

use crate::{check_ref_name, Error, Layout, Result, MAX_NESTING};

/// How many layers of one image are written at once.
pub const PARALLEL_LAYERS: usize = 4;

/// Counts the unique ingest refs of this process.
static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// An ingest ref no other write uses: process id, a counter and the time.
fn unique_ref(what: &str) -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("oci-layout-{what}-{}-{n}-{t}", std::process::id())
}

impl Layout {
    /// Writes `image` (its layers, config and manifest) into the layout and adds its
    /// manifest's descriptor to `index.json`: with `ref_name` as its
    /// `org.opencontainers.image.ref.name`, replacing any entry with that ref name (as skopeo
    /// does); without, unless an untagged entry with the same digest is there already.
    /// Returns the descriptor added.
    ///
    /// - Blobs the layout has are not written again, and a layer whose digest is known and
    ///   present is not even opened.
    /// - A one-shot streaming layer (whose digest is only known once its stream was read)
    ///   is streamed into the store first and committed under the digest computed on the way.
    /// - Every other blob is verified against its descriptor as it is written (size and
    ///   digest); a mismatch is an error and nothing of that blob becomes visible.
    /// - The entry gets a platform from the image's config when the image's descriptor has
    ///   none.
    pub fn write_image(&self, image: &dyn Image, ref_name: Option<&str>) -> Result<Descriptor> {
        if let Some(name) = ref_name {
            check_ref_name(name)?;
        }
        let result = (|| {
            let _lock = self.writer_lock()?;
            let desc = self.put_image(image)?;
            self.record(desc, ref_name)
        })();
        self.tidy();
        result
    }

    /// Writes `index` (every image and nested index in it, then the index itself) into the
    /// layout and adds its descriptor to `index.json`, as [`Layout::write_image`] does.
    ///
    /// Entries of the index that are neither images nor indexes are written when their
    /// descriptor embeds their data; otherwise they are expected in the layout already (or to
    /// be fetched by whoever reads it).
    pub fn write_index(
        &self,
        index: &dyn ImageIndex,
        ref_name: Option<&str>,
    ) -> Result<Descriptor> {
        if let Some(name) = ref_name {
            check_ref_name(name)?;
        }
        let result = (|| {
            let _lock = self.writer_lock()?;
            let desc = self.put_index(index, 0)?;
            self.record(desc, ref_name)
        })();
        self.tidy();
        result
    }

    /// Writes the blobs of `image` without adding it to `index.json`; returns its descriptor.
    /// Until something in `index.json` points at them, [`Layout::gc`] removes them again.
    pub fn write_image_blobs(&self, image: &dyn Image) -> Result<Descriptor> {
        let result = self.writer_lock().and_then(|_lock| self.put_image(image));
        self.tidy();
        result
    }

    /// Writes the blobs of `index` (and of everything in it) without adding it to
    /// `index.json`; returns its descriptor.
    pub fn write_index_blobs(&self, index: &dyn ImageIndex) -> Result<Descriptor> {
        let result = self
            .writer_lock()
            .and_then(|_lock| self.put_index(index, 0));
        self.tidy();
        result
    }

    /// Writes one layer's blob (see [`Layout::write_image`] for what is skipped and verified)
    /// and returns its descriptor.
    pub fn write_layer(&self, layer: &dyn Layer) -> Result<Descriptor> {
        let result = self.writer_lock().and_then(|_lock| self.put_layer(layer));
        self.tidy();
        result
    }

    /// Writes the blob `desc` describes from `reader`, checking size and digest as it flows
    /// (a reader that runs past `desc.size` is stopped one byte later). Returns at once,
    /// reading nothing, when the layout has the blob.
    pub fn write_blob(&self, desc: &Descriptor, reader: impl Read) -> Result<()> {
        let result = self.writer_lock().and_then(|_lock| self.put(desc, reader));
        self.tidy();
        result
    }

    /// Whether the layout has the blob `digest`.
    pub fn has_blob(&self, digest: &Digest) -> Result<bool> {
        oci_content::exists(self.store(), digest).map_err(|e| self.content_error(e))
    }

    /// The layers' blobs, [`PARALLEL_LAYERS`] at a time: a layer fetched from a registry or
    /// compressed on the fly spends its time waiting on the network or on one core, so
    /// several at once keep both busy. The first error stops new layers from starting and is
    /// returned once the running ones end.
    fn put_layers(&self, layers: &[Arc<dyn Layer>]) -> Result<()> {
        oci_partial::for_each_parallel(layers, PARALLEL_LAYERS, |l| {
            self.put_layer(l.as_ref()).map(drop)
        })
    }

    /// The blobs of an image; returns the descriptor for `index.json`.
    fn put_image(&self, image: &dyn Image) -> Result<Descriptor> {
        let layers = image
            .layers()
            .map_err(|e| Error::image("listing the layers of an image", e))?;
        self.put_layers(&layers)?;
        // Only now: an image with streaming layers knows its manifest once they were read.
        let raw = image
            .raw_manifest()
            .map_err(|e| Error::image("reading a manifest", e))?;
        let desc = image
            .descriptor()
            .map_err(|e| Error::image("describing an image", e))?;
        let manifest =
            Raw::<Manifest>::parse(raw).map_err(|source| Error::blob(&desc.digest, source))?;
        check_bytes(&desc, manifest.bytes())?;

        let config_desc = &manifest.config;
        if !self.has_blob(&config_desc.digest)? {
            let config = image
                .raw_config_file()
                .map_err(|e| Error::image(format!("reading the config of {}", desc.digest), e))?;
            self.put(config_desc, &config[..])?;
        }
        // Every layer the manifest names must be here now (a layer that is not distributable
        // may stay outside, as its source found it).
        for l in &manifest.layers {
            if !self.has_blob(&l.digest)? && l.media_type.is_distributable() {
                return Err(Error::NotFound {
                    what: "layer",
                    digest: l.digest.clone(),
                    path: self.root().into(),
                });
            }
        }
        self.put(&desc, manifest.bytes())?;

        let mut desc = desc;
        if desc.platform.is_none() && config_desc.media_type.is_config() {
            if let Ok(config) = image.config_file() {
                if !config.os.is_empty() && !config.architecture.is_empty() {
                    desc.platform = Some(config.platform());
                }
            }
        }
        Ok(desc)
    }

    /// The blobs of an index and of everything in it; returns its descriptor.
    ///
    /// The index is described only after its children are written: an index built in memory
    /// (`oci_partial::mutate::append_manifests`) may hold an image whose layers stream, whose
    /// manifest, and so the index's own bytes, are known only once they were read.
    fn put_index(&self, index: &dyn ImageIndex, depth: usize) -> Result<Descriptor> {
        let describe = || {
            index
                .descriptor()
                .map_err(|e| Error::image("describing an index", e))
        };
        if depth > MAX_NESTING {
            return Err(Error::TooDeep {
                digest: describe()?.digest,
                limit: MAX_NESTING,
            });
        }
        let children = index
            .manifests()
            .map_err(|e| Error::image("listing the children of an index", e))?;
        for child in children {
            match child {
                Child::Image(image) => {
                    self.put_image(image.as_ref())?;
                }
                Child::Index(inner) => {
                    self.put_index(inner.as_ref(), depth + 1)?;
                }
                Child::Other(d) if !self.has_blob(&d.digest)? => {
                    let data = d
                        .embedded_data()
                        .map_err(|source| Error::blob(&d.digest, source))?;
                    if let Some(bytes) = data {
                        self.put(&d, &bytes[..])?;
                    }
                }
                _ => {}
            }
        }
        let desc = describe()?;
        let raw = index
            .raw_manifest()
            .map_err(|e| Error::image(format!("reading the index {}", desc.digest), e))?;
        Raw::<Index>::parse(&raw[..]).map_err(|source| Error::blob(&desc.digest, source))?;
        check_bytes(&desc, &raw)?;
        self.put(&desc, &raw[..])?;
        Ok(desc)
    }

    /// One layer's blob.
    fn put_layer(&self, layer: &dyn Layer) -> Result<Descriptor> {
        match layer.digest() {
            Ok(digest) => {
                let desc = layer
                    .descriptor()
                    .map_err(|e| Error::image(format!("describing the layer {digest}"), e))?;
                if self.has_blob(&digest)? {
                    return Ok(desc);
                }
                if !desc.media_type.is_distributable() {
                    let exists = layer
                        .exists()
                        .map_err(|e| Error::image(format!("looking for {digest}"), e))?;
                    if !exists {
                        return Ok(desc);
                    }
                }
                let r = layer
                    .compressed_hashing()
                    .map_err(|e| Error::image(format!("opening the layer {digest}"), e))?;
                self.put_hashing(&desc, r)?;
                Ok(desc)
            }
            Err(oci_partial::Error::NotComputed { .. }) => self.put_streaming(layer),
            Err(e) => Err(Error::image("reading a layer's digest", e)),
        }
    }

    /// A layer whose digest is known only once its stream was read. The store takes the
    /// digest of the layer's own [`HashingReader`], so the stream is hashed once.
    fn put_streaming(&self, layer: &dyn Layer) -> Result<Descriptor> {
        let mut r = layer
            .compressed_hashing()
            .map_err(|e| Error::image("opening a streaming layer", e))?;
        let reference = unique_ref("stream");
        let mut written = None;
        self.ingest(&reference, None, |w| {
            let size = w.copy_hashed(&mut r)?;
            let digest = w.digest();
            written = Some((digest.clone(), size));
            w.commit(Some(size), Some(&digest), CommitOpts::new())
        })
        .map_err(|e| self.write_error("of a streaming layer", None, e))?;
        let Some((digest, size)) = written else {
            return Err(Error::image(
                "streaming a layer",
                oci_partial::Error::NotComputed { what: "digest" },
            ));
        };
        let desc = layer
            .descriptor()
            .map_err(|e| Error::image(format!("describing the streamed layer {digest}"), e))?;
        if desc.digest != digest {
            let source = oci_types::Error::DigestMismatch {
                expected: desc.digest.clone(),
                actual: digest,
            };
            return Err(Error::blob(&desc.digest, source));
        }
        if desc.size != size {
            let source = oci_types::Error::SizeMismatch {
                expected_digest: desc.digest.clone(),
                expected: desc.size,
                actual: size,
                truncated: false,
            };
            return Err(Error::blob(&desc.digest, source));
        }
        Ok(desc)
    }

    /// A blob whose descriptor is known: written through an ingest named after its digest (so
    /// an interrupted write is resumed), or through a private ingest when another writer holds
    /// that one (both commit; the second finds the blob there).
    fn put(&self, desc: &Descriptor, reader: impl Read) -> Result<()> {
        let mut reader = Some(reader.take(desc.size.saturating_add(1)));
        self.put_with(desc, |w| {
            copy_reader(w, reader.take().ok_or_else(used_twice)?).map(drop)
        })
    }

    /// [`Layout::put`] of a [`HashingReader`]: a fresh ingest takes the reader's digest
    /// instead of hashing the blob again ([`oci_content::Writer::copy_hashed`]).
    fn put_hashing(&self, desc: &Descriptor, reader: HashingReader<BlobReader>) -> Result<()> {
        let limit = desc.size.saturating_add(1);
        let limited = reader.map_inner(|inner| -> BlobReader { Box::new(inner.take(limit)) });
        let mut reader = Some(limited);
        self.put_with(desc, |w| {
            let mut r = reader.take().ok_or_else(used_twice)?;
            copy_reader_hashed(w, &mut r).map(drop)
        })
    }

    /// Writes a blob through `copy`, then commits it against `desc`.
    fn put_with(
        &self,
        desc: &Descriptor,
        mut copy: impl FnMut(&mut dyn oci_content::Writer) -> oci_content::Result<()>,
    ) -> Result<()> {
        if self.has_blob(&desc.digest)? {
            return Ok(());
        }
        let shared = format!("oci-layout-{}", desc.digest);
        let mut write = |w: &mut dyn oci_content::Writer| {
            copy(w)?;
            w.commit(Some(desc.size), Some(&desc.digest), CommitOpts::new())
        };
        let result = match self.ingest(&shared, Some(desc), &mut write) {
            Err(Error::Content { source, .. }) if source.is_unavailable() => {
                self.ingest(&unique_ref("blob"), Some(desc), &mut write)
            }
            other => other,
        };
        result.map_err(|e| self.write_error(&desc.digest.to_string(), Some(&desc.digest), e))
    }

    /// Sorts the errors of a blob write: the store's size and digest checks become
    /// [`Error::Blob`] about `digest`, errors of the source reader become [`Error::Image`].
    fn write_error(&self, what: &str, digest: Option<&Digest>, e: Error) -> Error {
        let Error::Content { source, path } = e else {
            return e;
        };
        match (*source, digest) {
            (oci_content::Error::FailedPrecondition { reason, .. }, Some(d)) => {
                self.content_error(oci_content::Error::FailedPrecondition {
                    subject: oci_content::Subject::Blob(d.clone()),
                    reason,
                })
            }
            (oci_content::Error::Copy { source, .. }, _) => Error::image(
                format!("reading the blob {what}"),
                oci_partial::Error::io("reading", source),
            ),
            (other, _) => Error::content(path, other),
        }
    }

    /// Opens a writer on `reference` and runs `write` with it; a blob the store has already
    /// (when the writer is opened, or found by the commit) counts as written. On failure the
    /// ingest is removed, so that no later write resumes bad bytes.
    fn ingest(
        &self,
        reference: &str,
        desc: Option<&Descriptor>,
        write: impl FnOnce(&mut dyn oci_content::Writer) -> oci_content::Result<()>,
    ) -> Result<()> {
        let mut opts = WriterOpts::new(reference);
        if let Some(d) = desc {
            opts = opts.with_descriptor(d.clone());
        }
        let mut w = match self.store().writer(opts) {
            Err(e) if e.is_already_exists() => return Ok(()),
            other => other.map_err(|source| Error::content(self.root(), source))?,
        };
        match write(w.as_mut()) {
            Ok(()) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => {
                drop(w);
                let _ = self.abort(reference);
                Err(Error::content(self.root(), e))
            }
        }
    }
}

impl Layout {
    /// Removes an ingest, best effort; true when it was removed. Its lock may outlive its
    /// writer for a moment (a child process forked by another thread shares the lock until it
    /// execs), so a locked ingest is retried for about a second before it is left alone.
    pub(crate) fn abort(&self, reference: &str) -> bool {
        for attempt in 0..20u64 {
            match self.store().abort(reference) {
                Err(e) if e.is_unavailable() => {
                    std::thread::sleep(std::time::Duration::from_millis(5 * (attempt + 1)));
                }
                other => return other.is_ok(),
            }
        }
        false
    }
}

/// The error of a blob source asked for twice.
fn used_twice() -> oci_content::Error {
    oci_content::Error::InvalidArgument {
        what: "reader",
        kind: oci_content::InvalidArgumentKind::Other("used twice".into()),
    }
}

/// Checks that `bytes` are what `desc` says (size and digest).
fn check_bytes(desc: &Descriptor, bytes: &[u8]) -> Result<()> {
    if desc.size != bytes.len() as u64 {
        let source = oci_types::Error::SizeMismatch {
            expected_digest: desc.digest.clone(),
            expected: desc.size,
            actual: bytes.len() as u64,
            truncated: false,
        };
        return Err(Error::blob(&desc.digest, source));
    }
    desc.digest
        .verify(bytes)
        .map_err(|source| Error::blob(&desc.digest, source))
}

//! Free functions over images, layers and indexes (go-containerregistry's `partial` helpers),
//! and the small stream adapters the adapters of this crate share.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use oci_types::{Descriptor, Digest, Manifest, MediaType};

use crate::{BlobReader, Child, Error, Image, ImageIndex, InvalidKind, Layer, Result};

/// The config blob of `image` as a [`Layer`], so that it can be copied like any other blob.
///
/// Its digest and diff_id are both the sha256 of the config bytes, its compressed and
/// uncompressed readers both yield those bytes, and its descriptor is the manifest's config
/// descriptor (media type, and any annotations or embedded data).
pub fn config_layer(image: &dyn Image) -> Result<Arc<dyn Layer>> {
    let desc = image.manifest()?.config;
    let bytes: Arc<[u8]> = image.raw_config_file()?.into();
    check_blob(&desc, &bytes)?;
    Ok(Arc::new(ConfigLayer { bytes, desc }))
}

/// Checks that `bytes` are what `desc` describes (size, then digest).
pub(crate) fn check_blob(desc: &Descriptor, bytes: &[u8]) -> Result<()> {
    if bytes.len() as u64 != desc.size {
        return Err(oci_types::Error::SizeMismatch {
            expected_digest: desc.digest.clone(),
            expected: desc.size,
            actual: bytes.len() as u64,
            truncated: false,
        }
        .into());
    }
    Ok(desc.digest.verify(bytes)?)
}

/// The config blob as a layer; see [`config_layer`].
struct ConfigLayer {
    bytes: Arc<[u8]>,
    desc: Descriptor,
}

impl Layer for ConfigLayer {
    fn digest(&self) -> Result<Digest> {
        Ok(self.desc.digest.clone())
    }
    fn diff_id(&self) -> Result<Digest> {
        Ok(self.desc.digest.clone())
    }
    fn compressed(&self) -> Result<BlobReader> {
        Ok(Box::new(io::Cursor::new(Arc::clone(&self.bytes))))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.compressed()
    }
    fn size(&self) -> Result<u64> {
        Ok(self.bytes.len() as u64)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.desc.media_type.clone())
    }
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(self.desc.clone())
    }
    fn uncompressed_size(&self) -> Result<u64> {
        self.size()
    }
    fn exists(&self) -> Result<bool> {
        Ok(true)
    }
}

/// The manifest's layer digests and the config's diff_ids, checked to be as many.
fn blobs_and_diff_ids(image: &dyn Image) -> Result<(Vec<Digest>, Vec<Digest>)> {
    let blobs: Vec<Digest> = image
        .manifest()?
        .layers
        .into_iter()
        .map(|d| d.digest)
        .collect();
    let diff_ids = image.config_file()?.rootfs.diff_ids;
    if blobs.len() != diff_ids.len() {
        return Err(Error::Invalid {
            what: "image",
            kind: InvalidKind::LayerCount {
                layers: blobs.len(),
                diff_ids: diff_ids.len(),
            },
        });
    }
    Ok((blobs, diff_ids))
}

/// The diff_id of the layer whose blob digest is `blob`: the config's diff_id at the position
/// of `blob` among the manifest's layers (the first occurrence), as go-containerregistry's
/// `partial.BlobToDiffID`. Nothing is read but the manifest and the config.
pub fn blob_to_diff_id(image: &dyn Image, blob: &Digest) -> Result<Digest> {
    let (blobs, diff_ids) = blobs_and_diff_ids(image)?;
    blobs
        .iter()
        .position(|b| b == blob)
        .map(|i| diff_ids[i].clone())
        .ok_or_else(|| Error::NotFound {
            what: "layer",
            digest: blob.clone(),
        })
}

/// The blob digest of the layer whose diff_id is `diff_id`: the manifest's layer at the
/// position of `diff_id` among the config's diff_ids (the first occurrence), as
/// go-containerregistry's `partial.DiffIDToBlob`.
pub fn diff_id_to_blob(image: &dyn Image, diff_id: &Digest) -> Result<Digest> {
    let (blobs, diff_ids) = blobs_and_diff_ids(image)?;
    diff_ids
        .iter()
        .position(|d| d == diff_id)
        .map(|i| blobs[i].clone())
        .ok_or_else(|| Error::NotFound {
            what: "layer with diff_id",
            digest: diff_id.clone(),
        })
}

/// Things that have a descriptor: layers, images, indexes and index children.
pub trait Describe {
    /// The full descriptor (what [`Layer::descriptor`], [`Image::descriptor`],
    /// [`ImageIndex::descriptor`] or [`Child::descriptor`] give).
    fn describe(&self) -> Result<Descriptor>;
}

impl Describe for dyn Layer {
    fn describe(&self) -> Result<Descriptor> {
        self.descriptor()
    }
}

impl Describe for dyn Image {
    fn describe(&self) -> Result<Descriptor> {
        self.descriptor()
    }
}

impl Describe for dyn ImageIndex {
    fn describe(&self) -> Result<Descriptor> {
        self.descriptor()
    }
}

impl Describe for Child {
    fn describe(&self) -> Result<Descriptor> {
        Child::descriptor(self)
    }
}

/// The descriptor of a layer, image, index or index child, with whatever the source knows
/// beyond media type, digest and size (urls, annotations, platform).
pub fn descriptor<T: Describe + ?Sized>(item: &T) -> Result<Descriptor> {
    item.describe()
}

/// Whether the layer's blob exists where it comes from ([`Layer::exists`]).
pub fn exists(layer: &dyn Layer) -> Result<bool> {
    layer.exists()
}

/// The size of the layer's uncompressed tar ([`Layer::uncompressed_size`]); may stream the
/// layer once when the source does not know it.
pub fn uncompressed_size(layer: &dyn Layer) -> Result<u64> {
    layer.uncompressed_size()
}

/// The artifact type of a manifest, by the OCI 1.1 rule the distribution spec's referrers API
/// uses and go-containerregistry's `partial.ArtifactType` implements: `artifactType` when set,
/// otherwise the config's media type (even when that is the empty type
/// `application/vnd.oci.empty.v1+json`).
pub fn artifact_type(manifest: &Manifest) -> MediaType {
    match &manifest.artifact_type {
        Some(t) if !t.as_str().is_empty() => t.clone(),
        _ => manifest.config.media_type.clone(),
    }
}

/// Every child of `index` by digest (from [`ImageIndex::manifests`]). Unlike `manifests()`,
/// this computes each child's descriptor, so an image whose layers are still streaming makes
/// it fail. A digest listed twice keeps its first child.
pub fn compute_manifests(index: &dyn ImageIndex) -> Result<BTreeMap<Digest, Child>> {
    let mut out = BTreeMap::new();
    for child in index.manifests()? {
        let digest = child.descriptor()?.digest;
        out.entry(digest).or_insert(child);
    }
    Ok(out)
}

/// Locks a mutex, recovering the value from a poisoned lock (the values guarded in this crate
/// are caches that stay consistent when a computation panics midway).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A reader that counts the bytes read through it into a shared counter.
pub(crate) struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> CountingReader<R> {
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        CountingReader { inner, count }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Streams `reader` to its end and returns the number of bytes, with context for errors.
pub(crate) fn drain(mut reader: impl Read, context: impl FnOnce() -> String) -> Result<u64> {
    io::copy(&mut reader, &mut io::sink()).map_err(|e| Error::io(context(), e))
}

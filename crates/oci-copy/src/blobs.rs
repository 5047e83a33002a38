//! Images and indexes over any place that hands out blobs by digest (the entries of an OCI
//! archive, the files of a `dir:`), as `oci_partial` cores: manifests read and verified at
//! once, configs on first use, layers verified as they are read.

use std::io::Read;
use std::sync::Arc;

use oci_partial::{
    index_entry, BlobOpener, BlobReader, CompressedImage, DescriptorImage, Image, ImageIndex,
    MappedImage,
};
use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{Descriptor, Digest, HashingReader, Index, Manifest, MediaType, Raw};

/// A place blobs are read from.
pub(crate) trait Blobs: Send + Sync {
    /// The blob `digest`, unverified.
    fn open(&self, digest: &Digest) -> std::io::Result<BlobReader>;
    /// A manifest of an index's child (the same as a blob, except in a `dir:`).
    fn open_manifest(&self, digest: &Digest) -> std::io::Result<BlobReader> {
        self.open(digest)
    }
}

/// `desc`'s blob, read whole (at most `limit` bytes) and verified.
fn read_small(
    blobs: &dyn Blobs,
    desc: &Descriptor,
    limit: u64,
    manifest: bool,
) -> oci_partial::Result<Vec<u8>> {
    if desc.size > limit {
        return Err(oci_types::Error::TooLarge {
            what: "manifest or config blob",
            size: desc.size,
            limit,
        }
        .into());
    }
    let context = || format!("reading {}", desc.digest);
    let r = if manifest {
        blobs.open_manifest(&desc.digest)
    } else {
        blobs.open(&desc.digest)
    }
    .map_err(|e| oci_partial::Error::io(context(), e))?;
    let mut v = HashingReader::verifying(r, desc.digest.clone(), Some(desc.size))?;
    let mut out = Vec::with_capacity(usize::try_from(desc.size).unwrap_or(0));
    v.by_ref()
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| oci_partial::Error::io(context(), e))?;
    Ok(out)
}

/// The image `desc` names.
pub(crate) fn image_for(
    blobs: Arc<dyn Blobs>,
    desc: &Descriptor,
) -> oci_partial::Result<Arc<dyn Image>> {
    let bytes = read_small(blobs.as_ref(), desc, MAX_MANIFEST_SIZE, true)?;
    image_from_bytes(blobs, desc.clone(), bytes)
}

/// The image whose manifest is `bytes` (described by `desc`).
pub(crate) fn image_from_bytes(
    blobs: Arc<dyn Blobs>,
    desc: Descriptor,
    bytes: Vec<u8>,
) -> oci_partial::Result<Arc<dyn Image>> {
    let manifest = Raw::<Manifest>::parse(bytes)?;
    let core = DescriptorImage::new(blobs, desc.media_type.clone(), manifest);
    let image: Arc<dyn Image> = Arc::new(CompressedImage::new(core));
    Ok(Arc::new(MappedImage::described(image, desc)))
}

/// The index `desc` names.
pub(crate) fn index_for(
    blobs: Arc<dyn Blobs>,
    desc: &Descriptor,
) -> oci_partial::Result<Arc<dyn ImageIndex>> {
    let bytes = read_small(blobs.as_ref(), desc, MAX_MANIFEST_SIZE, true)?;
    index_from_bytes(blobs, Some(desc.media_type.clone()), bytes)
}

/// The index whose bytes are `bytes` (of media type `media_type`, else its own field).
pub(crate) fn index_from_bytes(
    blobs: Arc<dyn Blobs>,
    media_type: Option<MediaType>,
    bytes: Vec<u8>,
) -> oci_partial::Result<Arc<dyn ImageIndex>> {
    let raw = Raw::<Index>::parse(bytes)?;
    Ok(Arc::new(BlobIndex {
        blobs,
        media_type,
        raw,
    }))
}

impl BlobOpener for dyn Blobs {
    fn open_verified(&self, desc: &Descriptor) -> oci_partial::Result<HashingReader<BlobReader>> {
        let r = self
            .open(&desc.digest)
            .map_err(|e| oci_partial::Error::io(format!("reading {}", desc.digest), e))?;
        Ok(HashingReader::verifying(
            r,
            desc.digest.clone(),
            Some(desc.size),
        )?)
    }

    /// Configs are read whole, verified, with this module's `read_small`.
    fn read_small(&self, desc: &Descriptor, limit: u64) -> oci_partial::Result<Vec<u8>> {
        read_small(self, desc, limit, false)
    }
}

struct BlobIndex {
    blobs: Arc<dyn Blobs>,
    media_type: Option<MediaType>,
    raw: Raw<Index>,
}

impl ImageIndex for BlobIndex {
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(match &self.media_type {
            Some(m) => m.clone(),
            None => self.raw.value().media_type(),
        })
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        Ok(self.raw.bytes().to_vec())
    }
    fn image(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Image>> {
        image_for(Arc::clone(&self.blobs), index_entry(&self.raw, digest)?)
    }
    fn image_index(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn ImageIndex>> {
        index_for(Arc::clone(&self.blobs), index_entry(&self.raw, digest)?)
    }
}

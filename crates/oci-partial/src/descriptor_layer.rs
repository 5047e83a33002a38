//! The image and layer cores every blob source builds the same way: a descriptor (or a
//! manifest) plus something that opens the blobs it names (a layout, a registry repository,
//! the entries of an archive).

use std::sync::Arc;

use oci_types::limits::MAX_CONFIG_SIZE;
use oci_types::{Descriptor, Digest, HashingReader, Index, Manifest, MediaType, Raw};

use crate::{BlobReader, CompressedImageCore, CompressedLayerCore, Error, Result};

/// Opens the blobs descriptors name, verified: what a source provides to make
/// [`DescriptorLayer`]s.
pub trait BlobOpener: Send + Sync {
    /// A fresh reader over the blob `desc` names, verifying its digest and size as the bytes
    /// flow (made by [`HashingReader::verifying`]): at the end of a blob that does not match,
    /// reading fails with an I/O error carrying `oci_types::Error::DigestMismatch` or
    /// `SizeMismatch`.
    fn open_verified(&self, desc: &Descriptor) -> Result<HashingReader<BlobReader>>;

    /// Whether the blob exists, without reading it; the default opens it.
    fn blob_exists(&self, desc: &Descriptor) -> Result<bool> {
        self.open_verified(desc).map(|_| true)
    }

    /// A small blob (a config) read whole, at most `limit` bytes, verified; a blob whose
    /// descriptor is larger than `limit` is refused before anything is read. Each source
    /// has its own bounded read (a store's, a registry's, with embedded data).
    fn read_small(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>>;
}

impl<T: BlobOpener + ?Sized> BlobOpener for Arc<T> {
    fn open_verified(&self, desc: &Descriptor) -> Result<HashingReader<BlobReader>> {
        (**self).open_verified(desc)
    }
    fn blob_exists(&self, desc: &Descriptor) -> Result<bool> {
        (**self).blob_exists(desc)
    }
    fn read_small(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>> {
        (**self).read_small(desc, limit)
    }
}

/// The entry of `index` whose digest is `digest`: how an index finds the child it is asked
/// for.
///
/// # Errors
///
/// [`Error::NotFound`] (what `"index entry"`) when the index lists no such manifest.
pub fn index_entry<'a>(index: &'a Index, digest: &Digest) -> Result<&'a Descriptor> {
    index
        .manifests
        .iter()
        .find(|d| &d.digest == digest)
        .ok_or_else(|| Error::NotFound {
            what: "index entry",
            digest: digest.clone(),
        })
}

/// An image manifest as a [`CompressedImageCore`]: the manifest as read (its bytes kept), its
/// media type (from the descriptor that named it), and the [`BlobOpener`] its config and
/// layers are read through: the config whole (at most
/// [`MAX_CONFIG_SIZE`](oci_types::limits::MAX_CONFIG_SIZE)) with
/// [`BlobOpener::read_small`], each layer a [`DescriptorLayer`] of the manifest's descriptor.
/// Wrap it in a [`crate::CompressedImage`] for a full image.
#[derive(Debug, Clone)]
pub struct DescriptorImage<O> {
    opener: O,
    media_type: MediaType,
    manifest: Raw<Manifest>,
}

impl<O> DescriptorImage<O> {
    /// The image `manifest` (of `media_type`), its blobs read through `opener`.
    pub fn new(opener: O, media_type: MediaType, manifest: Raw<Manifest>) -> DescriptorImage<O> {
        DescriptorImage {
            opener,
            media_type,
            manifest,
        }
    }
}

impl<O: BlobOpener + Clone + 'static> CompressedImageCore for DescriptorImage<O> {
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        self.opener
            .read_small(&self.manifest.value().config, MAX_CONFIG_SIZE)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.manifest.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn CompressedLayerCore>> {
        Ok(Arc::new(DescriptorLayer::from_manifest(
            self.opener.clone(),
            self.manifest.value(),
            digest,
        )?))
    }
}

/// A blob as a [`CompressedLayerCore`]: its descriptor and the [`BlobOpener`] it is read
/// through, verified on every read. Its hashing reader is the verifying one, so a sink taking
/// its digest hashes the blob once.
#[derive(Debug, Clone)]
pub struct DescriptorLayer<O> {
    opener: O,
    desc: Descriptor,
}

impl<O> DescriptorLayer<O> {
    /// The blob `desc` names, read through `opener`.
    pub fn new(opener: O, desc: Descriptor) -> DescriptorLayer<O> {
        DescriptorLayer { opener, desc }
    }

    /// The layer or config of `manifest` whose digest is `digest`, read through `opener`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] (what `"layer"`) when the manifest names no such blob.
    pub fn from_manifest(
        opener: O,
        manifest: &Manifest,
        digest: &Digest,
    ) -> Result<DescriptorLayer<O>> {
        let desc = manifest
            .layers
            .iter()
            .chain(std::iter::once(&manifest.config))
            .find(|d| &d.digest == digest)
            .ok_or_else(|| Error::NotFound {
                what: "layer",
                digest: digest.clone(),
            })?;
        Ok(DescriptorLayer::new(opener, desc.clone()))
    }
}

impl<O: BlobOpener> CompressedLayerCore for DescriptorLayer<O> {
    fn digest(&self) -> Result<Digest> {
        Ok(self.desc.digest.clone())
    }
    fn compressed(&self) -> Result<BlobReader> {
        Ok(Box::new(self.opener.open_verified(&self.desc)?))
    }
    fn compressed_hashing(&self) -> Result<HashingReader<BlobReader>> {
        self.opener.open_verified(&self.desc)
    }
    fn size(&self) -> Result<u64> {
        Ok(self.desc.size)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.desc.media_type.clone())
    }
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(self.desc.clone())
    }
    fn exists(&self) -> Result<bool> {
        self.opener.blob_exists(&self.desc)
    }
}

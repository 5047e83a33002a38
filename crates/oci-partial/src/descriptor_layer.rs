//! The layer core every blob source builds the same way: a descriptor from a manifest plus
//! something that opens the blob it names (a layout, a registry repository, the entries of an
//! archive).

use std::sync::Arc;

use oci_types::{Descriptor, Digest, HashingReader, Manifest, MediaType};

use crate::{BlobReader, CompressedLayerCore, Error, Result};

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
}

impl<T: BlobOpener + ?Sized> BlobOpener for Arc<T> {
    fn open_verified(&self, desc: &Descriptor) -> Result<HashingReader<BlobReader>> {
        (**self).open_verified(desc)
    }
    fn blob_exists(&self, desc: &Descriptor) -> Result<bool> {
        (**self).blob_exists(desc)
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

//! Wrappers that give an image or index the descriptor its parent index gave it.

use std::sync::Arc;

use oci_types::{ConfigFile, Descriptor, Digest, Index, Manifest, MediaType};

use crate::{Child, Image, ImageIndex, Layer, Result};

/// An image whose [`Image::descriptor`] is a given descriptor (from an index entry, with its
/// platform and annotations); everything else is delegated.
#[derive(Clone)]
pub struct DescribedImage {
    inner: Arc<dyn Image>,
    desc: Descriptor,
}

impl DescribedImage {
    /// Wraps `inner`, describing it with `desc`.
    pub fn new(inner: Arc<dyn Image>, desc: Descriptor) -> Self {
        DescribedImage { inner, desc }
    }
}

impl Image for DescribedImage {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        self.inner.layers()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        self.inner.raw_config_file()
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        self.inner.raw_manifest()
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        self.inner.layer_by_digest(digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        self.inner.layer_by_diff_id(diff_id)
    }
    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
    fn digest(&self) -> Result<Digest> {
        self.inner.digest()
    }
    fn manifest(&self) -> Result<Manifest> {
        self.inner.manifest()
    }
    fn config_name(&self) -> Result<Digest> {
        self.inner.config_name()
    }
    fn config_file(&self) -> Result<ConfigFile> {
        self.inner.config_file()
    }
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(self.desc.clone())
    }
}

/// An index whose [`ImageIndex::descriptor`] is a given descriptor; everything else is
/// delegated.
#[derive(Clone)]
pub struct DescribedIndex {
    inner: Arc<dyn ImageIndex>,
    desc: Descriptor,
}

impl DescribedIndex {
    /// Wraps `inner`, describing it with `desc`.
    pub fn new(inner: Arc<dyn ImageIndex>, desc: Descriptor) -> Self {
        DescribedIndex { inner, desc }
    }
}

impl ImageIndex for DescribedIndex {
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        self.inner.raw_manifest()
    }
    fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
        self.inner.image(digest)
    }
    fn image_index(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>> {
        self.inner.image_index(digest)
    }
    fn digest(&self) -> Result<Digest> {
        self.inner.digest()
    }
    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
    fn index_manifest(&self) -> Result<Index> {
        self.inner.index_manifest()
    }
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(self.desc.clone())
    }
    fn manifests(&self) -> Result<Vec<Child>> {
        self.inner.manifests()
    }
}

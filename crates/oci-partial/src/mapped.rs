//! Wrappers that forward everything to an image or index but what they change: its layers
//! (each mapped, or the whole list replaced) and its descriptor. One home for the forwarding
//! every wrapper needs: an index entry's descriptor, a layer watched for progress, a layer
//! corrupted for a test.

use std::sync::Arc;

use oci_types::{ConfigFile, Descriptor, Digest, Index, Manifest, MediaType};

use crate::{find_layer_by_diff_id, find_layer_by_digest, Child, Image, ImageIndex, Layer, Result};

/// Maps one layer of the wrapped image.
type EachLayer = dyn Fn(Arc<dyn Layer>) -> Result<Arc<dyn Layer>> + Send + Sync;
/// Maps the wrapped image's whole list of layers.
type AllLayers = dyn Fn(Vec<Arc<dyn Layer>>) -> Result<Vec<Arc<dyn Layer>>> + Send + Sync;
/// The descriptor of a wrapped image, from the image.
type ImageDescriptor = dyn Fn(&dyn Image) -> Result<Descriptor> + Send + Sync;
/// The descriptor of a wrapped index, from the index.
type IndexDescriptor = dyn Fn(&dyn ImageIndex) -> Result<Descriptor> + Send + Sync;

/// How a [`MappedImage`] changes the layers of the image it wraps.
#[derive(Clone)]
enum LayerMap {
    /// Unchanged: every layer call is forwarded.
    Same,
    /// Each layer, listed or looked up, goes through the function.
    Each(Arc<EachLayer>),
    /// The list goes through the function; lookups search the mapped list.
    All(Arc<AllLayers>),
}

/// An image that forwards everything to the image it wraps (manifest and config bytes,
/// digests, sizes) except what it is told to change: its layers
/// ([`MappedImage::map_layers`], [`MappedImage::replace_layers`]) and its descriptor
/// ([`MappedImage::describe`], [`MappedImage::map_descriptor`]).
///
/// The manifest stays the inner image's, so a mapped layer must describe itself as the layer
/// it replaces (a progress counter, a verifier) unless the point is a mismatch (a test).
#[derive(Clone)]
pub struct MappedImage {
    inner: Arc<dyn Image>,
    layers: LayerMap,
    descriptor: Option<Arc<ImageDescriptor>>,
}

impl MappedImage {
    /// Wraps `inner`, changing nothing yet.
    pub fn new(inner: Arc<dyn Image>) -> Self {
        MappedImage {
            inner,
            layers: LayerMap::Same,
            descriptor: None,
        }
    }

    /// `inner` described with `desc` (an index entry's descriptor, with its platform and
    /// annotations); everything else is forwarded.
    pub fn described(inner: Arc<dyn Image>, desc: Descriptor) -> Self {
        MappedImage::new(inner).describe(desc)
    }

    /// Each layer, as listed by [`Image::layers`] or found by [`Image::layer_by_digest`] and
    /// [`Image::layer_by_diff_id`] of the inner image, goes through `f`.
    pub fn map_layers(
        mut self,
        f: impl Fn(Arc<dyn Layer>) -> Result<Arc<dyn Layer>> + Send + Sync + 'static,
    ) -> Self {
        self.layers = LayerMap::Each(Arc::new(f));
        self
    }

    /// The inner image's list of layers goes through `f` (which may fail, or replace any of
    /// them); lookups by digest and diff_id search the list it returns.
    pub fn replace_layers(
        mut self,
        f: impl Fn(Vec<Arc<dyn Layer>>) -> Result<Vec<Arc<dyn Layer>>> + Send + Sync + 'static,
    ) -> Self {
        self.layers = LayerMap::All(Arc::new(f));
        self
    }

    /// The image's descriptor is `desc`.
    pub fn describe(self, desc: Descriptor) -> Self {
        self.map_descriptor(move |_| Ok(desc.clone()))
    }

    /// The image's descriptor is computed by `f` from the inner image.
    pub fn map_descriptor(
        mut self,
        f: impl Fn(&dyn Image) -> Result<Descriptor> + Send + Sync + 'static,
    ) -> Self {
        self.descriptor = Some(Arc::new(f));
        self
    }
}

impl Image for MappedImage {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        match &self.layers {
            LayerMap::Same => self.inner.layers(),
            LayerMap::Each(f) => self.inner.layers()?.into_iter().map(|l| f(l)).collect(),
            LayerMap::All(f) => f(self.inner.layers()?),
        }
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
        match &self.layers {
            LayerMap::Same => self.inner.layer_by_digest(digest),
            LayerMap::Each(f) => f(self.inner.layer_by_digest(digest)?),
            LayerMap::All(_) => find_layer_by_digest(&self.layers()?, digest),
        }
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        match &self.layers {
            LayerMap::Same => self.inner.layer_by_diff_id(diff_id),
            LayerMap::Each(f) => f(self.inner.layer_by_diff_id(diff_id)?),
            LayerMap::All(_) => find_layer_by_diff_id(&self.layers()?, diff_id),
        }
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
        match &self.descriptor {
            Some(f) => f(&*self.inner),
            None => self.inner.descriptor(),
        }
    }
}

/// An index that forwards everything to the index it wraps except its descriptor
/// ([`MappedIndex::describe`], [`MappedIndex::map_descriptor`]).
#[derive(Clone)]
pub struct MappedIndex {
    inner: Arc<dyn ImageIndex>,
    descriptor: Option<Arc<IndexDescriptor>>,
}

impl MappedIndex {
    /// Wraps `inner`, changing nothing yet.
    pub fn new(inner: Arc<dyn ImageIndex>) -> Self {
        MappedIndex {
            inner,
            descriptor: None,
        }
    }

    /// `inner` described with `desc` (its entry in a parent index); everything else is
    /// forwarded.
    pub fn described(inner: Arc<dyn ImageIndex>, desc: Descriptor) -> Self {
        MappedIndex::new(inner).describe(desc)
    }

    /// The index's descriptor is `desc`.
    pub fn describe(self, desc: Descriptor) -> Self {
        self.map_descriptor(move |_| Ok(desc.clone()))
    }

    /// The index's descriptor is computed by `f` from the inner index.
    pub fn map_descriptor(
        mut self,
        f: impl Fn(&dyn ImageIndex) -> Result<Descriptor> + Send + Sync + 'static,
    ) -> Self {
        self.descriptor = Some(Arc::new(f));
        self
    }
}

impl ImageIndex for MappedIndex {
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
        match &self.descriptor {
            Some(f) => f(&*self.inner),
            None => self.inner.descriptor(),
        }
    }
    fn manifests(&self) -> Result<Vec<Child>> {
        self.inner.manifests()
    }
}

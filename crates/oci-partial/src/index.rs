//! The [`ImageIndex`] trait.

use std::sync::Arc;

use oci_types::{Descriptor, Digest, Index, MediaType};

use crate::mapped::{MappedImage, MappedIndex};
use crate::{Image, Result};

/// An image index (or Docker manifest list): a list of images and nested indexes.
pub trait ImageIndex: Send + Sync {
    /// The index's media type.
    fn media_type(&self) -> Result<MediaType>;
    /// The index as stored.
    fn raw_manifest(&self) -> Result<Vec<u8>>;
    /// The child image with manifest digest `digest`.
    fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>>;
    /// The child index with digest `digest`.
    fn image_index(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>>;

    /// The digest of the index as stored.
    fn digest(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.raw_manifest()?))
    }
    /// The size of the index as stored.
    fn size(&self) -> Result<u64> {
        Ok(self.raw_manifest()?.len() as u64)
    }
    /// The parsed index.
    fn index_manifest(&self) -> Result<Index> {
        Ok(Index::from_slice(&self.raw_manifest()?)?)
    }
    /// The descriptor of the index (media type, digest, size).
    fn descriptor(&self) -> Result<Descriptor> {
        let raw = self.raw_manifest()?;
        Ok(Descriptor::of_bytes(self.media_type()?, &raw))
    }

    /// The children as objects, in index order, without computing anything about them: an
    /// index built in memory can hold an image whose layers are still streaming, and its
    /// digest is only asked for later. The default reads [`ImageIndex::index_manifest`] and
    /// opens each child with [`ImageIndex::image`] or [`ImageIndex::image_index`], wrapped so
    /// that its `descriptor()` is the index's entry (with platform and annotations); entries
    /// that are neither (artifacts, blobs) are returned as [`Child::Other`].
    fn manifests(&self) -> Result<Vec<Child>> {
        let index = self.index_manifest()?;
        let mut out = Vec::with_capacity(index.manifests.len());
        for desc in index.manifests {
            let mt = &desc.media_type;
            if mt.is_index() {
                let inner = self.image_index(&desc.digest)?;
                out.push(Child::Index(Arc::new(MappedIndex::described(inner, desc))));
            } else if mt.is_image_manifest() {
                let inner = self.image(&desc.digest)?;
                out.push(Child::Image(Arc::new(MappedImage::described(inner, desc))));
            } else {
                out.push(Child::Other(desc));
            }
        }
        Ok(out)
    }
}

/// One entry of an index, as returned by [`ImageIndex::manifests`].
#[derive(Clone)]
#[non_exhaustive]
// Children are few and short-lived; boxing the descriptor would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
pub enum Child {
    /// An image manifest.
    Image(Arc<dyn Image>),
    /// A nested index.
    Index(Arc<dyn ImageIndex>),
    /// Anything else: an artifact or a blob the index points at.
    Other(Descriptor),
}

impl Child {
    /// The child's descriptor. For an image or index this asks the object, so for an image
    /// with a streaming layer it fails until the layer was consumed.
    pub fn descriptor(&self) -> Result<Descriptor> {
        match self {
            Child::Image(i) => i.descriptor(),
            Child::Index(i) => i.descriptor(),
            Child::Other(d) => Ok(d.clone()),
        }
    }
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Child::Image(_) => f.write_str("Child::Image(..)"),
            Child::Index(_) => f.write_str("Child::Index(..)"),
            Child::Other(d) => f.debug_tuple("Child::Other").field(d).finish(),
        }
    }
}

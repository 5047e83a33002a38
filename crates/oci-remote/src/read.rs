//! Reading from a registry as `oci_partial` objects: an image or index is its manifest,
//! fetched at once; configs are fetched when first asked for and layers each time they are
//! read, verified as bytes flow.

use std::io::Read;
use std::sync::Arc;

use oci_partial::{BlobOpener, BlobReader, CompressedImage, DescriptorImage, Image, ImageIndex};
use oci_types::{
    Descriptor, Digest, HashingReader, Index, Manifest, MediaType, Platform, Raw, Reference,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::manifest::FetchedManifest;
use crate::repository::Repository;

/// What a reference names in a registry: an image or an index.
#[derive(Clone)]
#[non_exhaustive]
pub enum Remote {
    /// An image manifest.
    Image(Arc<dyn Image>),
    /// An index (a manifest list).
    Index(Arc<dyn ImageIndex>),
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remote::Image(_) => f.write_str("Remote::Image(..)"),
            Remote::Index(_) => f.write_str("Remote::Index(..)"),
        }
    }
}

/// The image or index `reference` names (its tag, its digest, or `latest`).
pub fn get(client: &Client, reference: &Reference) -> Result<Remote> {
    client.repository(reference).get(&tag_or_digest(reference))
}

/// The image `reference` names. An index is resolved to its entry for `platform`
/// (`linux/amd64` when `None`, as go-containerregistry does).
pub fn image(
    client: &Client,
    reference: &Reference,
    platform: Option<&Platform>,
) -> Result<Arc<dyn Image>> {
    client
        .repository(reference)
        .image(&tag_or_digest(reference), platform)
}

/// The index `reference` names.
pub fn index(client: &Client, reference: &Reference) -> Result<Arc<dyn ImageIndex>> {
    client
        .repository(reference)
        .index(&tag_or_digest(reference))
}

/// The digest of a digest reference, else its tag, else `latest`.
pub(crate) fn tag_or_digest(reference: &Reference) -> String {
    match (reference.digest(), reference.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => "latest".to_owned(),
    }
}

impl Repository {
    /// The image or index a tag or digest names.
    pub fn get(&self, reference: &str) -> Result<Remote> {
        let fetched = self.manifest(reference)?;
        if fetched.media_type.is_index() {
            Ok(Remote::Index(Arc::new(self.index_from(fetched)?)))
        } else if fetched.media_type.is_image_manifest() {
            Ok(Remote::Image(Arc::new(self.image_from(fetched)?)))
        } else {
            Err(Error::UnsupportedMediaType {
                reference: format!("{self}:{reference}"),
                media_type: fetched.media_type,
            })
        }
    }

    /// The image a tag or digest names; an index is resolved to its entry for `platform`
    /// (`linux/amd64` when `None`).
    pub fn image(&self, reference: &str, platform: Option<&Platform>) -> Result<Arc<dyn Image>> {
        match self.get(reference)? {
            Remote::Image(image) => Ok(image),
            Remote::Index(index) => {
                let wanted = match platform {
                    Some(p) => p.clone(),
                    None => "linux/amd64".parse::<Platform>()?,
                };
                let list = index.index_manifest()?;
                let entry = list
                    .manifests
                    .iter()
                    .find(|d| {
                        d.media_type.is_image_manifest()
                            && d.platform.as_ref().is_some_and(|p| wanted.matches(p))
                    })
                    .ok_or_else(|| Error::NotFound {
                        what: "image for the platform",
                        reference: format!("{reference} ({wanted})"),
                        repository: self.to_string(),
                    })?;
                Ok(index.image(&entry.digest)?)
            }
        }
    }

    /// The index a tag or digest names.
    pub fn index(&self, reference: &str) -> Result<Arc<dyn ImageIndex>> {
        match self.get(reference)? {
            Remote::Index(index) => Ok(index),
            Remote::Image(image) => Err(Error::UnsupportedMediaType {
                reference: format!("{self}:{reference}"),
                media_type: image.media_type()?,
            }),
        }
    }

    fn image_from(
        &self,
        fetched: FetchedManifest,
    ) -> Result<CompressedImage<DescriptorImage<Repository>>> {
        let manifest = Raw::<Manifest>::parse_verified(fetched.bytes, &fetched.digest)?;
        Ok(CompressedImage::new(DescriptorImage::new(
            self.clone(),
            fetched.media_type,
            manifest,
        )))
    }

    fn index_from(&self, fetched: FetchedManifest) -> Result<RemoteIndex> {
        let index = Raw::<Index>::parse_verified(fetched.bytes, &fetched.digest)?;
        Ok(RemoteIndex {
            repository: self.clone(),
            media_type: fetched.media_type,
            index,
        })
    }

    /// A small blob (a config) read whole, at most `limit` bytes, verified.
    pub(crate) fn small_blob(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>> {
        if desc.size > limit {
            return Err(oci_types::Error::TooLarge {
                what: "config",
                size: desc.size,
                limit,
            }
            .into());
        }
        if let Some(data) = desc.embedded_data()? {
            desc.digest.verify(&data)?;
            return Ok(data);
        }
        let mut bytes = Vec::with_capacity(desc.size as usize);
        self.blob(&desc.digest, Some(desc.size))?
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading blob {} of {self}", desc.digest), e))?;
        Ok(bytes)
    }
}

/// The blobs of a repository, verified as they are streamed (the layers of its images).
impl BlobOpener for Repository {
    fn open_verified(&self, desc: &Descriptor) -> oci_partial::Result<HashingReader<BlobReader>> {
        Ok(self.blob_hashing(&desc.digest, Some(desc.size))?)
    }

    fn blob_exists(&self, desc: &Descriptor) -> oci_partial::Result<bool> {
        Ok(self.blob_exists(&desc.digest)?.is_some())
    }

    /// Configs are fetched whole, verified, at most `limit` bytes (embedded data used when
    /// given).
    fn read_small(&self, desc: &Descriptor, limit: u64) -> oci_partial::Result<Vec<u8>> {
        Ok(self.small_blob(desc, limit)?)
    }
}

/// An index in a registry; children are fetched when asked for.
struct RemoteIndex {
    repository: Repository,
    media_type: MediaType,
    index: Raw<Index>,
}

impl ImageIndex for RemoteIndex {
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(self.media_type.clone())
    }

    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        Ok(self.index.bytes().to_vec())
    }

    fn image(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Image>> {
        self.child(digest)?;
        let fetched = self.repository.manifest(digest.as_str())?;
        if !fetched.media_type.is_image_manifest() {
            return Err(Error::UnsupportedMediaType {
                reference: digest.to_string(),
                media_type: fetched.media_type,
            }
            .into());
        }
        Ok(Arc::new(self.repository.image_from(fetched)?))
    }

    fn image_index(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn ImageIndex>> {
        self.child(digest)?;
        let fetched = self.repository.manifest(digest.as_str())?;
        if !fetched.media_type.is_index() {
            return Err(Error::UnsupportedMediaType {
                reference: digest.to_string(),
                media_type: fetched.media_type,
            }
            .into());
        }
        Ok(Arc::new(self.repository.index_from(fetched)?))
    }
}

impl RemoteIndex {
    /// Only the index's own children may be fetched through it.
    fn child(&self, digest: &Digest) -> oci_partial::Result<()> {
        if self.index.manifests.iter().any(|d| &d.digest == digest) {
            Ok(())
        } else {
            Err(oci_partial::Error::NotFound {
                what: "manifest",
                digest: digest.clone(),
            })
        }
    }
}

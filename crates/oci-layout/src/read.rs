//! Reading a layout: images and indexes as [`oci_partial`] objects, and verified blob
//! readers.

use std::sync::Arc;

use oci_content::{open_reader, read_blob, ReaderAt, SectionReader};
use oci_partial::{
    index_entry, BlobOpener, BlobReader, CompressedImage, DescriptorImage, Image, ImageIndex,
    MappedImage,
};
use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{
    Descriptor, Digest, HashingReader, Index, Manifest, MediaType, Platform, Raw, VerifyingReader,
};

use crate::{Error, Layout, Result, MAX_NESTING};

/// A reader over a blob of a layout that checks size and digest as the bytes flow: at its end
/// it fails (with an `io::Error` carrying [`oci_types::Error::DigestMismatch`] or
/// [`oci_types::Error::SizeMismatch`]) when the blob is not what its descriptor says.
pub type BlobVerifier = VerifyingReader<SectionReader<Box<dyn ReaderAt>>>;

impl Layout {
    /// `index.json` as an [`ImageIndex`]: its entries are the layout's images and indexes
    /// (each one's `descriptor()` is its entry, with ref name and platform).
    pub fn image_index(&self) -> Result<Arc<dyn ImageIndex>> {
        Ok(Arc::new(LayoutIndex {
            layout: self.clone(),
            raw: self.index()?,
            desc: None,
        }))
    }

    /// The image whose `index.json` entry has the ref name `name` (the first such entry, as
    /// skopeo takes it).
    pub fn image_by_ref(&self, name: &str) -> Result<Arc<dyn Image>> {
        self.image_for(&self.entry_by_ref(name)?)
    }

    /// The index whose `index.json` entry has the ref name `name`.
    pub fn index_by_ref(&self, name: &str) -> Result<Arc<dyn ImageIndex>> {
        self.index_for(&self.entry_by_ref(name)?)
    }

    /// The `index.json` entry with ref name `name` (the first one).
    pub fn entry_by_ref(&self, name: &str) -> Result<Descriptor> {
        self.index()?
            .manifests
            .iter()
            .find(|d| d.ref_name() == Some(name))
            .cloned()
            .ok_or_else(|| Error::RefNotFound {
                name: name.to_owned(),
                path: self.root().into(),
            })
    }

    /// The image with manifest digest `digest`: one that `index.json` or an index in the
    /// layout lists (then its descriptor is that entry), or else any manifest blob of the
    /// layout.
    pub fn image_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
        let desc = match self.find_entry(digest)? {
            Some(d) => d,
            None => self.describe_blob(digest)?,
        };
        self.image_for(&desc)
    }

    /// The index with digest `digest`, found as [`Layout::image_by_digest`] finds images.
    pub fn index_by_digest(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>> {
        let desc = match self.find_entry(digest)? {
            Some(d) => d,
            None => self.describe_blob(digest)?,
        };
        self.index_for(&desc)
    }

    /// The first image (in `index.json` order, looking into nested indexes) for `platform`
    /// ([`Platform::matches`]): by the platform of its entry, or, for entries without one
    /// (skopeo and umoci write none for single images), by its config.
    pub fn image_by_platform(&self, platform: &Platform) -> Result<Arc<dyn Image>> {
        let mut entries = Vec::new();
        self.collect_images(&self.index()?.manifests, 0, &mut entries)?;
        if let Some(d) = entries
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(platform)))
        {
            return self.image_for(d);
        }
        for d in entries.iter().filter(|d| d.platform.is_none()) {
            let image = self.image_for(d)?;
            let m = image
                .manifest()
                .map_err(|e| Error::image(format!("reading {}", d.digest), e))?;
            if !m.config.media_type.is_config() {
                continue;
            }
            let config = image
                .config_file()
                .map_err(|e| Error::image(format!("reading the config of {}", d.digest), e))?;
            if config.platform().matches(platform) {
                return Ok(image);
            }
        }
        Err(Error::PlatformNotFound {
            platform: Box::new(platform.clone()),
            path: self.root().into(),
        })
    }

    /// The image manifest `desc` describes, read and verified now; its layers verify their
    /// digests as they are read, take their diff_ids from the config and decompress by magic
    /// bytes. Its `descriptor()` is `desc`.
    pub fn image_for(&self, desc: &Descriptor) -> Result<Arc<dyn Image>> {
        if !desc.media_type.is_image_manifest() {
            return Err(Error::UnexpectedMediaType {
                digest: desc.digest.clone(),
                media_type: desc.media_type.clone(),
                expected: "an image manifest",
            });
        }
        let bytes = self.read_small(desc, MAX_MANIFEST_SIZE)?;
        let manifest =
            Raw::<Manifest>::parse(bytes).map_err(|source| Error::blob(&desc.digest, source))?;
        let core = DescriptorImage::new(self.clone(), desc.media_type.clone(), manifest);
        let image: Arc<dyn Image> = Arc::new(CompressedImage::new(core));
        Ok(Arc::new(MappedImage::described(image, desc.clone())))
    }

    /// The index `desc` describes, read and verified now.
    pub fn index_for(&self, desc: &Descriptor) -> Result<Arc<dyn ImageIndex>> {
        if !desc.media_type.is_index() {
            return Err(Error::UnexpectedMediaType {
                digest: desc.digest.clone(),
                media_type: desc.media_type.clone(),
                expected: "an index",
            });
        }
        let bytes = self.read_small(desc, MAX_MANIFEST_SIZE)?;
        let raw = Raw::<Index>::parse(bytes).map_err(|source| Error::blob(&desc.digest, source))?;
        Ok(Arc::new(LayoutIndex {
            layout: self.clone(),
            raw,
            desc: Some(desc.clone()),
        }))
    }

    /// The manifests of `index.json` whose `subject` is `subject` (OCI 1.1 referrers, what the
    /// distribution API's `referrers` answers for a registry), each described as that API
    /// describes it: media type, digest, size, `artifactType` (the manifest's, else its config
    /// media type) and the manifest's annotations. Artifacts are written to a layout as
    /// `index.json` entries (with or without a ref name), so only those entries are read.
    pub fn referrers(&self, subject: &Digest) -> Result<Vec<Descriptor>> {
        let mut out = Vec::new();
        for desc in self.index()?.manifests.iter() {
            let found = if desc.media_type.is_image_manifest() {
                let bytes = self.read_small(desc, MAX_MANIFEST_SIZE)?;
                let m = Manifest::from_slice(&bytes).map_err(|e| Error::blob(&desc.digest, e))?;
                (m.subject.as_ref().map(|s| &s.digest) == Some(subject))
                    .then(|| (Some(oci_partial::artifact_type(&m)), m.annotations))
            } else if desc.media_type.is_index() {
                let bytes = self.read_small(desc, MAX_MANIFEST_SIZE)?;
                let i = Index::from_slice(&bytes).map_err(|e| Error::blob(&desc.digest, e))?;
                (i.subject.as_ref().map(|s| &s.digest) == Some(subject))
                    .then_some((i.artifact_type, i.annotations))
            } else {
                None
            };
            if let Some((artifact_type, annotations)) = found {
                let mut d =
                    Descriptor::new(desc.media_type.clone(), desc.digest.clone(), desc.size);
                d.artifact_type = artifact_type;
                d.annotations = annotations;
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    /// A reader over the blob `desc` describes that verifies size and digest as it goes
    /// (embedded descriptor data is used when it matches).
    pub fn open_blob(&self, desc: &Descriptor) -> Result<BlobVerifier> {
        let r = open_reader(self.store(), desc).map_err(|e| self.content_error(e))?;
        VerifyingReader::new(r, desc.digest.clone(), Some(desc.size))
            .map_err(|source| Error::blob(&desc.digest, source))
    }

    /// Reads a whole blob of at most `limit` bytes, verified.
    pub(crate) fn read_small(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>> {
        read_blob(self.store(), desc, limit).map_err(|e| match e {
            oci_content::Error::TooLarge {
                digest,
                size,
                limit,
            } => Error::blob(
                &digest,
                oci_types::Error::TooLarge {
                    what: "manifest or config blob",
                    size,
                    limit,
                },
            ),
            other => self.content_error(other),
        })
    }

    /// The entry (of `index.json` or of an index in the layout) with digest `digest`.
    fn find_entry(&self, digest: &Digest) -> Result<Option<Descriptor>> {
        let mut stack: Vec<(Descriptor, usize)> = self
            .index()?
            .manifests
            .iter()
            .rev()
            .map(|d| (d.clone(), 0))
            .collect();
        while let Some((d, depth)) = stack.pop() {
            if &d.digest == digest {
                return Ok(Some(d));
            }
            if d.media_type.is_index() && depth < MAX_NESTING && self.has_blob(&d.digest)? {
                let index = self
                    .index_for(&d)?
                    .index_manifest()
                    .map_err(|e| Error::image("reading an index", e))?;
                stack.extend(index.manifests.into_iter().rev().map(|c| (c, depth + 1)));
            }
        }
        Ok(None)
    }

    /// A descriptor for a blob that no index lists, from its content: an image manifest or an
    /// index, by its `mediaType` field (an index needs one; a manifest without one is OCI's).
    fn describe_blob(&self, digest: &Digest) -> Result<Descriptor> {
        let info =
            oci_content::Manager::info(self.store(), digest).map_err(|e| self.content_error(e))?;
        let probe = Descriptor::new(MediaType::OciManifest, digest.clone(), info.size);
        let bytes = self.read_small(&probe, MAX_MANIFEST_SIZE)?;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Head {
            media_type: Option<MediaType>,
            manifests: Option<serde_json::Value>,
        }
        let head: Head = oci_types::json::parse_limited(&bytes, "manifest", MAX_MANIFEST_SIZE)
            .map_err(|source| Error::blob(digest, source))?;
        let media_type = match head.media_type {
            Some(mt) => mt,
            None if head.manifests.is_some() => MediaType::OciIndex,
            None => MediaType::OciManifest,
        };
        Ok(Descriptor::new(media_type, digest.clone(), info.size))
    }

    /// The image entries among `entries` and the indexes they name, depth first, in order.
    fn collect_images(
        &self,
        entries: &[Descriptor],
        depth: usize,
        out: &mut Vec<Descriptor>,
    ) -> Result<()> {
        for d in entries {
            if d.media_type.is_image_manifest() {
                out.push(d.clone());
            } else if d.media_type.is_index() {
                if depth >= MAX_NESTING {
                    return Err(Error::TooDeep {
                        digest: d.digest.clone(),
                        limit: MAX_NESTING,
                    });
                }
                let index = self
                    .index_for(d)?
                    .index_manifest()
                    .map_err(|e| Error::image("reading an index", e))?;
                self.collect_images(&index.manifests, depth + 1, out)?;
            }
        }
        Ok(())
    }
}

/// The blobs of a layout, verified as they are read (the layers of its images).
impl BlobOpener for Layout {
    fn open_verified(&self, desc: &Descriptor) -> oci_partial::Result<HashingReader<BlobReader>> {
        let v = self.open_blob(desc)?;
        Ok(v.into_hashing()
            .map_inner(|r| -> BlobReader { Box::new(r) }))
    }

    fn blob_exists(&self, desc: &Descriptor) -> oci_partial::Result<bool> {
        if desc.embedded_data().ok().flatten().is_some() {
            return Ok(true);
        }
        Ok(self.has_blob(&desc.digest)?)
    }

    /// Configs are read through the store's bounded read (embedded data used when it
    /// matches).
    fn read_small(&self, desc: &Descriptor, limit: u64) -> oci_partial::Result<Vec<u8>> {
        Ok(Layout::read_small(self, desc, limit)?)
    }
}

/// `index.json`, or an index blob of a layout.
struct LayoutIndex {
    layout: Layout,
    raw: Raw<Index>,
    /// The entry that named this index; `None` for `index.json`.
    desc: Option<Descriptor>,
}

impl ImageIndex for LayoutIndex {
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(match &self.desc {
            Some(d) => d.media_type.clone(),
            None => self.raw.media_type(),
        })
    }

    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        Ok(self.raw.bytes().to_vec())
    }

    fn image(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Image>> {
        Ok(self.layout.image_for(index_entry(&self.raw, digest)?)?)
    }

    fn image_index(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn ImageIndex>> {
        Ok(self.layout.index_for(index_entry(&self.raw, digest)?)?)
    }

    fn digest(&self) -> oci_partial::Result<Digest> {
        Ok(self.raw.digest().clone())
    }

    fn size(&self) -> oci_partial::Result<u64> {
        Ok(self.raw.size())
    }

    fn index_manifest(&self) -> oci_partial::Result<Index> {
        Ok(self.raw.value().clone())
    }

    fn descriptor(&self) -> oci_partial::Result<Descriptor> {
        Ok(match &self.desc {
            Some(d) => d.clone(),
            None => self.raw.descriptor(self.raw.media_type()),
        })
    }
}

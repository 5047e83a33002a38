//! Indexes as values: an empty index, manifests appended, removed and replaced
//! (go-containerregistry's `empty.Index`, `mutate.AppendManifests`, `mutate.RemoveManifests`,
//! `mutate.IndexMediaType`).
//!
//! Like the images of [`crate::mutate`], nothing here asks a child anything until the index's
//! own bytes are asked for: [`ImageIndex::manifests`] hands the children out as they were
//! given, so a sink can write an image whose layers are still streaming and only then ask the
//! index for its manifest (which then computes the image's descriptor).

use std::sync::{Arc, Mutex};

use oci_types::{Annotations, Descriptor, Digest, Index, MediaType, Platform, Raw};

use crate::helpers::{artifact_type, lock};
use crate::mutate::Family;
use crate::{Child, Error, Image, ImageIndex, MappedImage, MappedIndex, Matcher, Result};

/// A manifest to add to an index, with what its entry (descriptor) says besides media type,
/// digest and size (go-containerregistry's `mutate.IndexAddendum`).
///
/// An image's entry gets its platform from its config (`os`, `architecture`, `variant`, ...)
/// unless one is given here, and an `artifactType` by the OCI 1.1 rule when its config is not
/// an image config (see [`crate::artifact_type`]) unless one is given here. Annotations given
/// here are added to (and replace same-key) annotations of the child's own descriptor, from
/// which a layout's ref name (`org.opencontainers.image.ref.name`) is dropped.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IndexAddendum {
    /// The image or nested index ([`Child::Other`] for a descriptor of something the index
    /// only points at).
    pub child: Child,
    /// The entry's platform.
    pub platform: Option<Platform>,
    /// The entry's annotations.
    pub annotations: Annotations,
    /// The entry's `artifactType`.
    pub artifact_type: Option<MediaType>,
    /// The entry's `urls`.
    pub urls: Vec<String>,
}

impl IndexAddendum {
    /// An addendum of `child` with nothing added to its entry.
    pub fn new(child: Child) -> IndexAddendum {
        IndexAddendum {
            child,
            platform: None,
            annotations: Annotations::new(),
            artifact_type: None,
            urls: Vec::new(),
        }
    }

    /// An addendum of an image.
    pub fn image(image: Arc<dyn Image>) -> IndexAddendum {
        IndexAddendum::new(Child::Image(image))
    }

    /// An addendum of a nested index.
    pub fn index(index: Arc<dyn ImageIndex>) -> IndexAddendum {
        IndexAddendum::new(Child::Index(index))
    }

    /// The same addendum with the entry's platform.
    pub fn with_platform(mut self, platform: Platform) -> IndexAddendum {
        self.platform = Some(platform);
        self
    }

    /// The same addendum with one more entry annotation.
    pub fn with_annotation(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> IndexAddendum {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The same addendum with the entry's `artifactType`.
    pub fn with_artifact_type(mut self, artifact_type: MediaType) -> IndexAddendum {
        self.artifact_type = Some(artifact_type);
        self
    }

    /// The same addendum with the entry's `urls`.
    pub fn with_urls(mut self, urls: Vec<String>) -> IndexAddendum {
        self.urls = urls;
        self
    }

    /// The child as the index hands it out: an image or index whose descriptor is computed
    /// when asked, with this addendum's fields.
    fn described(&self) -> Child {
        let extras = Arc::new(self.extras());
        match &self.child {
            Child::Image(i) => Child::Image(Arc::new(
                MappedImage::new(Arc::clone(i))
                    .map_descriptor(move |inner| entry_image_descriptor(inner, &extras)),
            )),
            Child::Index(i) => {
                Child::Index(Arc::new(MappedIndex::new(Arc::clone(i)).map_descriptor(
                    move |inner| Ok(extras.apply(strip_ref_name(inner.descriptor()?))),
                )))
            }
            Child::Other(d) => Child::Other(extras.apply(d.clone())),
        }
    }

    fn extras(&self) -> Extras {
        Extras {
            platform: self.platform.clone(),
            annotations: self.annotations.clone(),
            artifact_type: self.artifact_type.clone(),
            urls: self.urls.clone(),
        }
    }
}

/// The entry fields an addendum sets.
#[derive(Debug, Default)]
struct Extras {
    platform: Option<Platform>,
    annotations: Annotations,
    artifact_type: Option<MediaType>,
    urls: Vec<String>,
}

impl Extras {
    fn apply(&self, mut d: Descriptor) -> Descriptor {
        if let Some(p) = &self.platform {
            d.platform = Some(p.clone());
        }
        d.annotations
            .extend(self.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(t) = &self.artifact_type {
            d.artifact_type = Some(t.clone());
        }
        if !self.urls.is_empty() {
            d.urls = self.urls.clone();
        }
        d
    }
}

/// An empty index (go-containerregistry's `empty.Index`): no manifests, of `family`'s index
/// media type (an OCI image index or a Docker manifest list).
///
/// ```
/// use oci_partial::mutate::{append_manifests, empty_index, Family, IndexAddendum};
/// use oci_partial::{random, ImageIndex};
/// use oci_types::MediaType;
///
/// let amd = random::image_with(1, 1, 100, &random::Options::default().platform("linux/amd64".parse()?));
/// let arm = random::image_with(2, 1, 100, &random::Options::default().platform("linux/arm64".parse()?));
/// let index = append_manifests(
///     empty_index(Family::Oci),
///     vec![
///         IndexAddendum::image(amd),
///         IndexAddendum::image(arm).with_annotation("org.example.role", "edge"),
///     ],
/// );
/// let manifest = index.index_manifest()?;
/// assert_eq!(index.media_type()?, MediaType::OciIndex);
/// assert_eq!(manifest.manifests.len(), 2);
/// // The platform comes from each image's config.
/// assert_eq!(manifest.manifests[1].platform, Some("linux/arm64".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn empty_index(family: Family) -> Arc<dyn ImageIndex> {
    Arc::new(MutatedIndex::new(Base::Empty(family)))
}

/// `base` with `adds` appended to its manifests, in order (go-containerregistry's
/// `mutate.AppendManifests`). Nothing is asked of the added children until the index's bytes
/// are: [`ImageIndex::manifests`] hands them out as given, so a sink writes an image whose
/// layers still stream, and only then asks the index for its manifest (which then computes
/// the image's descriptor).
pub fn append_manifests(
    base: Arc<dyn ImageIndex>,
    adds: Vec<IndexAddendum>,
) -> Arc<dyn ImageIndex> {
    let mut m = MutatedIndex::new(Base::Index(base));
    m.adds = adds;
    Arc::new(m)
}

/// `base` without the entries `matcher` matches (go-containerregistry's
/// `mutate.RemoveManifests`). The matcher sees each entry's descriptor, so the base's children
/// are described when the result is listed or serialised (an image whose layer is still
/// streaming makes that fail until it was written).
pub fn remove_manifests(base: Arc<dyn ImageIndex>, matcher: Matcher) -> Arc<dyn ImageIndex> {
    let mut m = MutatedIndex::new(Base::Index(base));
    m.remove = Some(matcher);
    Arc::new(m)
}

/// `base` with the entries `matcher` matches removed and `adds` appended: replacing, for
/// example, one platform's image by another.
pub fn replace_manifests(
    base: Arc<dyn ImageIndex>,
    matcher: Matcher,
    adds: Vec<IndexAddendum>,
) -> Arc<dyn ImageIndex> {
    append_manifests(remove_manifests(base, matcher), adds)
}

/// `base` with its own media type set (go-containerregistry's `mutate.IndexMediaType`):
/// [`MediaType::OciIndex`] or [`MediaType::DockerManifestList`].
pub fn with_index_media_type(
    base: Arc<dyn ImageIndex>,
    media_type: MediaType,
) -> Arc<dyn ImageIndex> {
    let mut m = MutatedIndex::new(Base::Index(base));
    m.media_type = Some(media_type);
    Arc::new(m)
}

/// `base` with annotations added to the index itself (replacing same-key ones).
pub fn with_index_annotations(
    base: Arc<dyn ImageIndex>,
    annotations: Annotations,
) -> Arc<dyn ImageIndex> {
    let mut m = MutatedIndex::new(Base::Index(base));
    m.annotations = annotations;
    Arc::new(m)
}

enum Base {
    Empty(Family),
    Index(Arc<dyn ImageIndex>),
}

/// An index made of a base and one recorded change.
struct MutatedIndex {
    base: Base,
    adds: Vec<IndexAddendum>,
    remove: Option<Matcher>,
    media_type: Option<MediaType>,
    annotations: Annotations,
    computed: Mutex<Option<Arc<Raw<Index>>>>,
}

impl MutatedIndex {
    fn new(base: Base) -> MutatedIndex {
        MutatedIndex {
            base,
            adds: Vec::new(),
            remove: None,
            media_type: None,
            annotations: Annotations::new(),
            computed: Mutex::new(None),
        }
    }

    fn plain(&self) -> bool {
        self.adds.is_empty()
            && self.remove.is_none()
            && self.media_type.is_none()
            && self.annotations.is_empty()
    }

    fn kept(&self, d: &Descriptor) -> bool {
        !self.remove.as_ref().is_some_and(|m| m.matches(d))
    }

    fn computed(&self) -> Result<Arc<Raw<Index>>> {
        let mut slot = lock(&self.computed);
        if let Some(c) = &*slot {
            return Ok(Arc::clone(c));
        }
        let c = Arc::new(self.compute()?);
        *slot = Some(Arc::clone(&c));
        Ok(c)
    }

    fn compute(&self) -> Result<Raw<Index>> {
        let base = match &self.base {
            Base::Empty(family) => {
                return Raw::from_value(Index::new(family.index_media_type())).map_err(Into::into)
            }
            Base::Index(base) => base,
        };
        if self.plain() {
            return Ok(Raw::parse(base.raw_manifest()?)?);
        }
        let mut index = base.index_manifest()?;
        index.manifests.retain(|d| self.kept(d));
        for add in &self.adds {
            index.manifests.push(add.described().descriptor()?);
        }
        if let Some(mt) = &self.media_type {
            index.media_type = Some(mt.clone());
        }
        index
            .annotations
            .extend(self.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Raw::from_value(index)?)
    }

    /// The added child whose entry has `digest`, if it is an image (or index).
    fn added(&self, digest: &Digest) -> Result<Option<Child>> {
        for add in &self.adds {
            let child = add.described();
            if !matches!(child, Child::Other(_)) && &child.descriptor()?.digest == digest {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    fn not_found(what: &'static str, digest: &Digest) -> Error {
        Error::NotFound {
            what,
            digest: digest.clone(),
        }
    }
}

impl ImageIndex for MutatedIndex {
    fn media_type(&self) -> Result<MediaType> {
        if let Some(mt) = &self.media_type {
            return Ok(mt.clone());
        }
        match &self.base {
            Base::Empty(f) => Ok(f.index_media_type()),
            Base::Index(b) => b.media_type(),
        }
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.computed()?.bytes().to_vec())
    }
    fn digest(&self) -> Result<Digest> {
        Ok(self.computed()?.digest().clone())
    }
    fn size(&self) -> Result<u64> {
        Ok(self.computed()?.size())
    }
    fn index_manifest(&self) -> Result<Index> {
        Ok(self.computed()?.value().clone())
    }
    fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
        if let Some(Child::Image(i)) = self.added(digest)? {
            return Ok(i);
        }
        match &self.base {
            Base::Index(b)
                if self
                    .computed()?
                    .manifests
                    .iter()
                    .any(|d| &d.digest == digest) =>
            {
                b.image(digest)
            }
            _ => Err(Self::not_found("image", digest)),
        }
    }
    fn image_index(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>> {
        if let Some(Child::Index(i)) = self.added(digest)? {
            return Ok(i);
        }
        match &self.base {
            Base::Index(b)
                if self
                    .computed()?
                    .manifests
                    .iter()
                    .any(|d| &d.digest == digest) =>
            {
                b.image_index(digest)
            }
            _ => Err(Self::not_found("index", digest)),
        }
    }
    fn manifests(&self) -> Result<Vec<Child>> {
        let mut out = match &self.base {
            Base::Empty(_) => Vec::new(),
            Base::Index(b) => b.manifests()?,
        };
        if self.remove.is_some() {
            let mut kept = Vec::with_capacity(out.len());
            for child in out {
                if self.kept(&child.descriptor()?) {
                    kept.push(child);
                }
            }
            out = kept;
        }
        out.extend(self.adds.iter().map(IndexAddendum::described));
        Ok(out)
    }
}

/// The descriptor of an image as an added index entry: computed when asked (so after its
/// layers streamed), with the addendum's fields and the platform from its config.
fn entry_image_descriptor(inner: &dyn Image, extras: &Extras) -> Result<Descriptor> {
    let mut d = strip_ref_name(inner.descriptor()?);
    let manifest = inner.manifest()?;
    if manifest.config.media_type.is_config() {
        if d.platform.is_none() && extras.platform.is_none() {
            let config = inner.config_file()?;
            if !config.os.is_empty() && !config.architecture.is_empty() {
                d.platform = Some(config.platform());
            }
        }
    } else if d.artifact_type.is_none() && d.media_type == MediaType::OciManifest {
        d.artifact_type = Some(artifact_type(&manifest));
    }
    Ok(extras.apply(d))
}

/// `d` without `org.opencontainers.image.ref.name`: an image opened from a layout carries its
/// `index.json` entry, whose ref name names it in that layout only (the image spec: valid on
/// `index.json` descriptors alone), not in the index it is added to.
fn strip_ref_name(mut d: Descriptor) -> Descriptor {
    d.annotations.remove(oci_types::ANNOTATION_REF_NAME);
    d
}

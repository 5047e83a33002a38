//! New images from old ones: a scratch image, appended layers, config edits, media type
//! conversion (a subset of go-containerregistry's `pkg/v1/mutate` and `pkg/v1/empty`).
//!
//! Every function here is cheap: it wraps its input and records the change. The new config
//! and manifest are computed only when first asked for (`raw_manifest`, `digest`, `manifest`,
//! `raw_config_file`, `config_file`, `layer_by_*`), then kept, so their digests stay the same.
//! [`Image::layers`] computes nothing, so an image can be built around a one-shot streaming
//! layer, and the layer consumed (written out), before its manifest is asked for. A failed
//! computation is not kept: it is tried again on the next call.
//!
//! ```
//! use std::sync::Arc;
//! use oci_partial::mutate::{append_layers, empty_image, set_created, Addendum, Family};
//! use oci_partial::Image;
//! use oci_types::{History, MediaType};
//!
//! # use oci_partial::{BlobReader, Result, UncompressedLayer, UncompressedLayerCore};
//! # use oci_types::Digest;
//! # struct Tar(&'static [u8]);
//! # impl UncompressedLayerCore for Tar {
//! #     fn diff_id(&self) -> Result<Digest> { Ok(Digest::sha256(self.0)) }
//! #     fn uncompressed(&self) -> Result<BlobReader> { Ok(Box::new(self.0)) }
//! #     fn media_type(&self) -> Result<MediaType> { Ok(MediaType::OciLayer) }
//! # }
//! # fn layer() -> Arc<dyn oci_partial::Layer> { Arc::new(UncompressedLayer::new(Tar(b"a tar"))) }
//! let img = append_layers(
//!     empty_image(Family::Oci),
//!     vec![Addendum::new(layer()).with_history(History::new("COPY . /", None))],
//! );
//! let img = set_created(img, "2024-02-03T04:05:06Z");
//! let config = img.config_file().unwrap();
//! assert_eq!(config.rootfs.diff_ids, vec![img.layers().unwrap()[0].diff_id().unwrap()]);
//! assert_eq!(config.created.as_deref(), Some("2024-02-03T04:05:06Z"));
//! assert_eq!(img.manifest().unwrap().media_type(), MediaType::OciManifest);
//! ```

use std::sync::{Arc, Mutex, OnceLock};

use oci_types::{
    Annotations, ConfigFile, ContainerConfig, Descriptor, Digest, History, Manifest, MediaType,
    Platform, Raw,
};

use crate::compression::Compression;
use crate::helpers::{config_layer, lock};
use crate::{BlobReader, Error, Image, InvalidKind, Layer, Result, UnsupportedKind};

mod artifact;
mod config;
mod index;
mod rebase;
pub use artifact::{artifact, ANNOTATION_TITLE, EMPTY_JSON};
pub use config::{
    canonical_time, edit_config_bytes, rfc3339, source_date_epoch, Edit, CANONICAL_TIME,
};
pub use index::{
    append_manifests, empty_index, remove_manifests, replace_manifests, with_index_annotations,
    with_index_media_type, IndexAddendum,
};
pub use rebase::rebase;

/// A family of media types: OCI (`application/vnd.oci.*`) or Docker schema2
/// (`application/vnd.docker.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// The OCI image spec's types.
    Oci,
    /// Docker schema2 types.
    Docker,
}

impl Family {
    /// The family of `media_type`, `None` for types of neither.
    pub fn of(media_type: &MediaType) -> Option<Family> {
        if media_type.is_oci() {
            Some(Family::Oci)
        } else if media_type.is_docker() {
            Some(Family::Docker)
        } else {
            None
        }
    }

    /// The image manifest media type.
    pub fn manifest_media_type(self) -> MediaType {
        match self {
            Family::Oci => MediaType::OciManifest,
            Family::Docker => MediaType::DockerManifest,
        }
    }

    /// The index (manifest list) media type.
    pub fn index_media_type(self) -> MediaType {
        match self {
            Family::Oci => MediaType::OciIndex,
            Family::Docker => MediaType::DockerManifestList,
        }
    }

    /// The image config media type.
    pub fn config_media_type(self) -> MediaType {
        match self {
            Family::Oci => MediaType::OciConfig,
            Family::Docker => MediaType::DockerConfig,
        }
    }

    /// The layer media type for `compression` (Docker has no zstd type: the OCI one).
    pub fn layer_media_type(self, compression: Compression) -> MediaType {
        crate::compression::media_type_for(compression, self == Family::Docker)
    }

    /// `media_type` in this family: manifests, indexes, configs and layers map to their
    /// counterpart (a layer keeps its compression; OCI non-distributable gzip layers and
    /// Docker foreign layers map to each other); types with no counterpart (artifact types,
    /// zstd layers for Docker, non-distributable plain or zstd layers) are kept.
    pub fn convert(self, media_type: &MediaType) -> MediaType {
        use MediaType::*;
        match (self, media_type) {
            (_, OciManifest | DockerManifest) => self.manifest_media_type(),
            (_, OciIndex | DockerManifestList) => self.index_media_type(),
            (_, OciConfig | DockerConfig) => self.config_media_type(),
            (Family::Docker, OciLayerNonDistributableGzip) => DockerForeignLayerGzip,
            (Family::Oci, DockerForeignLayerGzip) => OciLayerNonDistributableGzip,
            (_, OciLayer | OciLayerGzip | OciLayerZstd | DockerLayer | DockerLayerGzip) => {
                self.layer_media_type(media_type.compression().unwrap_or(Compression::None))
            }
            _ => media_type.clone(),
        }
    }
}

/// A layer to append, with what goes with it in the config and manifest
/// (go-containerregistry's `mutate.Addendum`).
#[derive(Clone)]
#[non_exhaustive]
pub struct Addendum {
    /// The layer.
    pub layer: Arc<dyn Layer>,
    /// Its history entry. When the base config has a history, or any addendum has one, every
    /// addendum adds an entry (an empty one when `None`) so entries and layers keep in step;
    /// otherwise the config gets no history.
    pub history: Option<History>,
    /// Annotations for its manifest descriptor; when not empty they replace the layer's own.
    pub annotations: Annotations,
    /// URLs for its manifest descriptor; when not empty they replace the layer's own.
    pub urls: Vec<String>,
    /// A media type for its manifest descriptor instead of the layer's.
    pub media_type: Option<MediaType>,
}

impl Addendum {
    /// An addendum of just `layer`.
    pub fn new(layer: Arc<dyn Layer>) -> Addendum {
        Addendum {
            layer,
            history: None,
            annotations: Annotations::new(),
            urls: Vec::new(),
            media_type: None,
        }
    }

    /// The same addendum with a history entry.
    pub fn with_history(mut self, history: History) -> Addendum {
        self.history = Some(history);
        self
    }

    /// The same addendum with one more descriptor annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Addendum {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The same addendum with descriptor URLs.
    pub fn with_urls(mut self, urls: Vec<String>) -> Addendum {
        self.urls = urls;
        self
    }

    /// The same addendum with a descriptor media type.
    pub fn with_media_type(mut self, media_type: MediaType) -> Addendum {
        self.media_type = Some(media_type);
        self
    }
}

/// An empty image (go-containerregistry's `empty.Image`): no layers, and a config with only
/// `rootfs` (type `layers`, no diff_ids) and empty `architecture` and `os` (set them with
/// [`with_platform`]). Its manifest and config media types are `family`'s.
pub fn empty_image(family: Family) -> Arc<dyn Image> {
    Arc::new(Scratch {
        family,
        docs: OnceLock::new(),
    })
}

/// `base` with `adds` appended (go-containerregistry's `mutate.Append`): each layer goes to
/// the end of the manifest (its descriptor, with the addendum's overrides) and, for an image
/// config, its diff_id to the end of `rootfs.diff_ids` and its history entry to the history.
/// For an artifact (a config that is not an image config) only the manifest changes.
///
/// The layers are not asked anything until the manifest or config is.
pub fn append_layers(base: Arc<dyn Image>, adds: Vec<Addendum>) -> Arc<dyn Image> {
    let mut m = Mutated::over(base);
    m.adds = adds
        .into_iter()
        .map(|a| {
            let plain = a.media_type.is_none() && a.annotations.is_empty() && a.urls.is_empty();
            let layer: Arc<dyn Layer> = if plain {
                a.layer
            } else {
                Arc::new(EditedLayer {
                    inner: a.layer,
                    media_type: a.media_type,
                    family: None,
                    annotations: a.annotations,
                    urls: a.urls,
                })
            };
            Added {
                layer,
                history: a.history,
            }
        })
        .collect();
    Arc::new(m)
}

/// `base` with its whole config replaced by `config` (go-containerregistry's
/// `mutate.ConfigFile`). Nothing checks that its diff_ids match the layers.
pub fn with_config_file(base: Arc<dyn Image>, config: ConfigFile) -> Arc<dyn Image> {
    with_edit(base, ConfigEdit::Replace(Box::new(config)))
}

/// `base` with the config's execution parameters (its `config` object) replaced
/// (go-containerregistry's `mutate.Config`).
pub fn set_config(base: Arc<dyn Image>, config: ContainerConfig) -> Arc<dyn Image> {
    with_edit(base, ConfigEdit::Container(Box::new(config)))
}

/// `base` with the config's `created` time set (RFC 3339, kept as given;
/// go-containerregistry's `mutate.CreatedAt`).
pub fn set_created(base: Arc<dyn Image>, created: impl Into<String>) -> Arc<dyn Image> {
    with_edit(base, ConfigEdit::Created(created.into()))
}

/// `base` with the config's platform fields (`architecture`, `os`, `variant`, `os.version`,
/// `os.features`) set from `platform`.
pub fn with_platform(base: Arc<dyn Image>, platform: Platform) -> Arc<dyn Image> {
    with_edit(base, ConfigEdit::Platform(Box::new(platform)))
}

/// `base` with the manifest's `mediaType` set (go-containerregistry's `mutate.MediaType`);
/// nothing else changes.
pub fn with_media_type(base: Arc<dyn Image>, media_type: MediaType) -> Arc<dyn Image> {
    let mut m = Mutated::over(base);
    m.media_type = Some(media_type);
    Arc::new(m)
}

/// `base` with the manifest's config descriptor media type set (go-containerregistry's
/// `mutate.ConfigMediaType`).
pub fn with_config_media_type(base: Arc<dyn Image>, media_type: MediaType) -> Arc<dyn Image> {
    let mut m = Mutated::over(base);
    m.config_media_type = Some(media_type);
    Arc::new(m)
}

/// `base` with annotations added to its manifest (replacing same-key ones;
/// go-containerregistry's `mutate.Annotations`).
pub fn with_annotations(base: Arc<dyn Image>, annotations: Annotations) -> Arc<dyn Image> {
    let mut m = Mutated::over(base);
    m.annotations = Some(annotations);
    Arc::new(m)
}

/// `base` converted to `family`: the manifest, config and layer media types become
/// `family`'s (see [`Family::convert`]), in the manifest and in what [`Image::media_type`]
/// and the layers' [`Layer::media_type`] and [`Layer::descriptor`] say. No blob changes:
/// the config bytes and layer blobs are the same, only the manifest is rewritten (when
/// anything changed). An OCI manifest without a `mediaType` field keeps it absent when
/// converted to OCI. Annotations are kept, even for Docker.
pub fn with_media_types(base: Arc<dyn Image>, family: Family) -> Arc<dyn Image> {
    let mut m = Mutated::over(base);
    m.family = Some(family);
    Arc::new(m)
}

/// `base` with `edits` applied to its config, in order (crane's `mutate` flags; see
/// [`Edit`]). Unlike [`with_config_file`] and [`set_config`], the edits work on the config's
/// JSON as stored: every key they do not touch keeps its bytes' place and value (Docker's
/// `null`s, fields this crate does not know), so the rest of the config compares equal to the
/// source's. An image with no edits is returned as it is, config bytes and digest unchanged.
///
/// ```
/// use oci_partial::mutate::{edit_config, Edit};
/// use oci_partial::{random, Image};
///
/// let image = random::image(1, 1, 100);
/// let edited = edit_config(image, vec![
///     Edit::Entrypoint(Some(vec!["/app".into()])),
///     Edit::SetEnv { key: "MODE".into(), value: "prod".into() },
///     Edit::Label { key: "org.example.team".into(), value: Some("infra".into()) },
/// ]);
/// let config = edited.config_file()?;
/// let c = config.config.unwrap();
/// assert_eq!(c.entrypoint, Some(vec!["/app".to_string()]));
/// assert!(c.env.unwrap().contains(&"MODE=prod".to_string()));
/// assert_eq!(c.labels.unwrap()["org.example.team"], "infra");
/// # Ok::<(), oci_partial::Error>(())
/// ```
pub fn edit_config(base: Arc<dyn Image>, edits: Vec<Edit>) -> Arc<dyn Image> {
    if edits.is_empty() {
        return base;
    }
    with_edit(base, ConfigEdit::Json(edits))
}

/// `base` made canonical (go-containerregistry's `mutate.Canonical`, crane's `--canonical`)
/// as far as its config goes: `created` and every history time set to [`canonical_time`]
/// (`SOURCE_DATE_EPOCH` when set, else Go's zero time), and `container`, `docker_version`
/// and `config.Hostname` removed. Layers are not rewritten: build them canonical (a
/// directory layer with zeroed times) for a reproducible digest.
pub fn canonical(base: Arc<dyn Image>) -> Result<Arc<dyn Image>> {
    Ok(edit_config(base, vec![Edit::Canonical(canonical_time()?)]))
}

fn with_edit(base: Arc<dyn Image>, edit: ConfigEdit) -> Arc<dyn Image> {
    let mut m = Mutated::over(base);
    m.config_edit = Some(edit);
    Arc::new(m)
}

/// The empty image of [`empty_image`].
struct Scratch {
    family: Family,
    docs: OnceLock<(Arc<[u8]>, Raw<Manifest>)>,
}

impl Scratch {
    fn docs(&self) -> Result<&(Arc<[u8]>, Raw<Manifest>)> {
        if let Some(d) = self.docs.get() {
            return Ok(d);
        }
        // `"config":{}` as go-containerregistry's and skopeo's empty configs have it, so a
        // scratch image's config has the bytes those tools would give it.
        let mut empty = ConfigFile::default();
        empty.config = Some(ContainerConfig::default());
        let config = Raw::from_value(empty)?;
        let desc = config.descriptor(self.family.config_media_type());
        let manifest = Raw::from_value(Manifest::new(
            self.family.manifest_media_type(),
            desc,
            Vec::new(),
        ))?;
        Ok(self.docs.get_or_init(|| (config.shared_bytes(), manifest)))
    }
}

impl Image for Scratch {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        Ok(Vec::new())
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.family.manifest_media_type())
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.docs()?.0.to_vec())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.docs()?.1.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        if &self.docs()?.1.config.digest == digest {
            return config_layer(self);
        }
        Err(Error::NotFound {
            what: "layer",
            digest: digest.clone(),
        })
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        Err(Error::NotFound {
            what: "layer with diff_id",
            digest: diff_id.clone(),
        })
    }
}

/// A change to the config.
enum ConfigEdit {
    Replace(Box<ConfigFile>),
    Container(Box<ContainerConfig>),
    Created(String),
    Platform(Box<Platform>),
    /// Edits of the JSON as stored.
    Json(Vec<Edit>),
    /// New config bytes (made from the stored JSON by `rebase`).
    Bytes(Vec<u8>),
}

impl ConfigEdit {
    fn apply(&self, config: &mut ConfigFile) {
        match self {
            ConfigEdit::Replace(c) => *config = (**c).clone(),
            ConfigEdit::Container(c) => config.config = Some((**c).clone()),
            ConfigEdit::Created(t) => config.created = Some(t.clone()),
            ConfigEdit::Platform(p) => {
                config.architecture = p.architecture.clone();
                config.os = p.os.clone();
                config.variant = p.variant.clone();
                config.os_version = p.os_version.clone();
                config.os_features = (!p.os_features.is_empty()).then(|| p.os_features.clone());
            }
            // Applied to the bytes in `Mutated::compute`, never to a parsed config.
            ConfigEdit::Json(_) | ConfigEdit::Bytes(_) => {}
        }
    }
}

/// An appended layer and its history entry.
struct Added {
    layer: Arc<dyn Layer>,
    history: Option<History>,
}

/// What a [`Mutated`] image computes once.
struct Computed {
    config: Arc<[u8]>,
    manifest: Raw<Manifest>,
    by_digest: Vec<(Digest, Arc<dyn Layer>)>,
    by_diff_id: Vec<(Digest, Arc<dyn Layer>)>,
}

/// An image made from a base and one recorded change (several changes nest).
struct Mutated {
    base: Arc<dyn Image>,
    adds: Vec<Added>,
    config_edit: Option<ConfigEdit>,
    media_type: Option<MediaType>,
    config_media_type: Option<MediaType>,
    family: Option<Family>,
    annotations: Option<Annotations>,
    computed: Mutex<Option<Arc<Computed>>>,
}

impl Mutated {
    fn over(base: Arc<dyn Image>) -> Mutated {
        Mutated {
            base,
            adds: Vec::new(),
            config_edit: None,
            media_type: None,
            config_media_type: None,
            family: None,
            annotations: None,
            computed: Mutex::new(None),
        }
    }

    /// A base layer as this image shows it (retyped when converting families).
    fn show(&self, layer: Arc<dyn Layer>) -> Arc<dyn Layer> {
        match self.family {
            Some(family) => Arc::new(EditedLayer {
                inner: layer,
                media_type: None,
                family: Some(family),
                annotations: Annotations::new(),
                urls: Vec::new(),
            }),
            None => layer,
        }
    }

    fn computed(&self) -> Result<Arc<Computed>> {
        let mut slot = lock(&self.computed);
        if let Some(c) = &*slot {
            return Ok(Arc::clone(c));
        }
        let c = Arc::new(self.compute()?);
        *slot = Some(Arc::clone(&c));
        Ok(c)
    }

    fn compute(&self) -> Result<Computed> {
        let base_manifest = self.base.manifest()?;
        let mut manifest = base_manifest.clone();

        let mut config_type = manifest.config.media_type.clone();
        if let Some(f) = self.family {
            config_type = f.convert(&config_type);
        }
        if let Some(t) = &self.config_media_type {
            config_type = t.clone();
        }

        // The config: rewritten for edits and added layers when it is an image config.
        let mut by_diff_id = Vec::new();
        let rewrite =
            config_type.is_config() && (self.config_edit.is_some() || !self.adds.is_empty());
        let config: Arc<[u8]> = if let (true, Some(ConfigEdit::Json(edits))) =
            (config_type.is_config(), &self.config_edit)
        {
            // `edit_config` never has layers to add: it is a `Mutated` of its own.
            config::apply(&self.base.raw_config_file()?, edits)?.into()
        } else if let (true, Some(ConfigEdit::Bytes(bytes))) =
            (config_type.is_config(), &self.config_edit)
        {
            bytes.clone().into()
        } else if rewrite {
            let mut cf = self.base.config_file()?;
            if let Some(edit) = &self.config_edit {
                edit.apply(&mut cf);
            }
            let with_history =
                cf.history.is_some() || self.adds.iter().any(|a| a.history.is_some());
            for add in &self.adds {
                let diff_id = add.layer.diff_id()?;
                cf.rootfs.diff_ids.push(diff_id.clone());
                by_diff_id.push((diff_id, Arc::clone(&add.layer)));
                if with_history {
                    cf.history
                        .get_or_insert_with(Vec::new)
                        .push(add.history.clone().unwrap_or_default());
                }
            }
            Raw::from_value(cf)?.shared_bytes()
        } else if self.config_edit.is_some() {
            return Err(Error::Unsupported {
                kind: UnsupportedKind::ConfigEdit {
                    media_type: config_type,
                },
            });
        } else {
            self.base.raw_config_file()?.into()
        };

        // The manifest.
        let mut by_digest = Vec::new();
        for add in &self.adds {
            let desc = add.layer.descriptor()?;
            by_digest.push((desc.digest.clone(), Arc::clone(&add.layer)));
            manifest.layers.push(desc);
        }
        if let Some(f) = self.family {
            for l in &mut manifest.layers {
                l.media_type = f.convert(&l.media_type);
            }
            manifest.media_type = match (f, manifest.media_type.take()) {
                (Family::Oci, None) => None,
                (_, mt) => Some(f.convert(&mt.unwrap_or(MediaType::OciManifest))),
            };
        }
        if let Some(mt) = &self.media_type {
            manifest.media_type = Some(mt.clone());
        }
        manifest.config.media_type = config_type;
        if rewrite {
            let had_data = manifest.config.data.is_some();
            let mut desc = Descriptor::of_bytes(manifest.config.media_type.clone(), &config);
            desc.urls = std::mem::take(&mut manifest.config.urls);
            desc.annotations = std::mem::take(&mut manifest.config.annotations);
            desc.extra = std::mem::take(&mut manifest.config.extra);
            if had_data {
                desc = desc.with_data(&config);
            }
            manifest.config = desc;
        }
        if let Some(a) = &self.annotations {
            manifest
                .annotations
                .extend(a.iter().map(|(k, v)| (k.clone(), v.clone())));
        }

        let manifest = if manifest == base_manifest {
            // Nothing changed: keep the bytes (and so the digest) as they are.
            Raw::parse(self.base.raw_manifest()?)?
        } else {
            Raw::from_value(manifest)?
        };
        Ok(Computed {
            config,
            manifest,
            by_digest,
            by_diff_id,
        })
    }
}

impl Image for Mutated {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        let mut layers: Vec<Arc<dyn Layer>> = self
            .base
            .layers()?
            .into_iter()
            .map(|l| self.show(l))
            .collect();
        layers.extend(self.adds.iter().map(|a| Arc::clone(&a.layer)));
        Ok(layers)
    }
    fn media_type(&self) -> Result<MediaType> {
        if let Some(mt) = &self.media_type {
            return Ok(mt.clone());
        }
        let mt = self.base.media_type()?;
        Ok(match self.family {
            Some(f) => f.convert(&mt),
            None => mt,
        })
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.computed()?.config.to_vec())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.computed()?.manifest.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        let c = self.computed()?;
        if let Some((_, l)) = c.by_digest.iter().find(|(d, _)| d == digest) {
            return Ok(Arc::clone(l));
        }
        if &c.manifest.config.digest == digest {
            return config_layer(self);
        }
        Ok(self.show(self.base.layer_by_digest(digest)?))
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        let c = self.computed()?;
        if let Some((_, l)) = c.by_diff_id.iter().find(|(d, _)| d == diff_id) {
            return Ok(Arc::clone(l));
        }
        Ok(self.show(self.base.layer_by_diff_id(diff_id)?))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.computed()?.manifest.size())
    }
    fn digest(&self) -> Result<Digest> {
        Ok(self.computed()?.manifest.digest().clone())
    }
    fn manifest(&self) -> Result<Manifest> {
        Ok(self.computed()?.manifest.value().clone())
    }
    fn config_name(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.computed()?.config))
    }
}

/// A layer shown with another media type, annotations or urls in its descriptor.
struct EditedLayer {
    inner: Arc<dyn Layer>,
    media_type: Option<MediaType>,
    family: Option<Family>,
    annotations: Annotations,
    urls: Vec<String>,
}

impl EditedLayer {
    fn retype(&self, media_type: MediaType) -> MediaType {
        let mt = self.media_type.clone().unwrap_or(media_type);
        match self.family {
            Some(f) => f.convert(&mt),
            None => mt,
        }
    }
}

impl Layer for EditedLayer {
    fn digest(&self) -> Result<Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> Result<Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.inner.compressed()
    }
    fn compressed_hashing(&self) -> Result<oci_types::HashingReader<BlobReader>> {
        self.inner.compressed_hashing()
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.inner.uncompressed()
    }
    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> Result<MediaType> {
        match &self.media_type {
            Some(mt) => Ok(self.retype(mt.clone())),
            None => Ok(self.retype(self.inner.media_type()?)),
        }
    }
    fn descriptor(&self) -> Result<Descriptor> {
        let mut d = self.inner.descriptor()?;
        d.media_type = self.retype(d.media_type);
        if !self.annotations.is_empty() {
            d.annotations = self.annotations.clone();
        }
        if !self.urls.is_empty() {
            d.urls = self.urls.clone();
        }
        Ok(d)
    }
    fn uncompressed_size(&self) -> Result<u64> {
        self.inner.uncompressed_size()
    }
    fn exists(&self) -> Result<bool> {
        self.inner.exists()
    }
}

/// `base` with its layers replaced by `layers`, keeping the config bytes as they are: for
/// recompressing an image (the new layers must have the same diff_ids, in the same order).
/// The manifest lists each new layer's [`Layer::descriptor`] and is computed only when asked,
/// so the new layers may be one-shot streams. A layer count that differs from the config's
/// diff_ids is an error when the manifest is asked for.
pub fn with_layers(base: Arc<dyn Image>, layers: Vec<Arc<dyn Layer>>) -> Arc<dyn Image> {
    Arc::new(Relayered {
        base,
        layers,
        manifest: OnceLock::new(),
    })
}

/// The image of [`with_layers`].
struct Relayered {
    base: Arc<dyn Image>,
    layers: Vec<Arc<dyn Layer>>,
    manifest: OnceLock<Raw<Manifest>>,
}

impl Relayered {
    fn raw(&self) -> Result<&Raw<Manifest>> {
        if let Some(m) = self.manifest.get() {
            return Ok(m);
        }
        let mut manifest = self.base.manifest()?;
        let config = self.base.config_file()?;
        if config.rootfs.diff_ids.len() != self.layers.len()
            && manifest.config.media_type.is_config()
        {
            return Err(Error::Invalid {
                what: "image",
                kind: InvalidKind::ReplacementLayerCount {
                    layers: self.layers.len(),
                    diff_ids: config.rootfs.diff_ids.len(),
                },
            });
        }
        manifest.layers = self
            .layers
            .iter()
            .map(|l| l.descriptor())
            .collect::<Result<Vec<_>>>()?;
        let raw = Raw::from_value(manifest)?;
        Ok(self.manifest.get_or_init(|| raw))
    }
}

impl Image for Relayered {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        Ok(self.layers.clone())
    }
    fn media_type(&self) -> Result<MediaType> {
        self.base.media_type()
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        self.base.raw_config_file()
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.raw()?.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        if &self.raw()?.config.digest == digest {
            return config_layer(self);
        }
        crate::find_layer_by_digest(&self.layers, digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        crate::find_layer_by_diff_id(&self.layers, diff_id)
    }
    fn config_name(&self) -> Result<Digest> {
        self.base.config_name()
    }
    fn config_file(&self) -> Result<ConfigFile> {
        self.base.config_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convert_families() {
        use MediaType::*;
        let d = Family::Docker;
        let o = Family::Oci;
        assert_eq!(d.convert(&OciManifest), DockerManifest);
        assert_eq!(o.convert(&DockerManifest), OciManifest);
        assert_eq!(d.convert(&OciConfig), DockerConfig);
        assert_eq!(d.convert(&OciLayerGzip), DockerLayerGzip);
        assert_eq!(d.convert(&OciLayer), DockerLayer);
        assert_eq!(d.convert(&OciLayerZstd), OciLayerZstd);
        assert_eq!(o.convert(&DockerLayerGzip), OciLayerGzip);
        assert_eq!(
            o.convert(&DockerForeignLayerGzip),
            OciLayerNonDistributableGzip
        );
        assert_eq!(
            d.convert(&OciLayerNonDistributableGzip),
            DockerForeignLayerGzip
        );
        assert_eq!(d.convert(&OciEmpty), OciEmpty);
        assert_eq!(o.convert(&DockerManifestList), OciIndex);
        let other = MediaType::from("application/x-thing");
        assert_eq!(d.convert(&other), other);
        assert_eq!(Family::of(&DockerLayer), Some(Family::Docker));
        assert_eq!(Family::of(&other), None);
    }
}

//! [`Source`]: one image of a docker archive, as an [`oci_partial::Image`].

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use oci_partial::{BlobReader, Image, Layer};
use oci_types::{Compression, ConfigFile, Descriptor, Digest, Manifest, MediaType, Raw, Reference};

use crate::layer::ArchiveLayer;
use crate::limits::MAX_CONFIG_SIZE;
use crate::path::{clip, normalize};
use crate::{CountedImage, Error, ManifestItem, Reader, Result};

/// One image of a docker archive.
///
/// Its manifest is a Docker schema2 manifest built from the config and the layers as
/// stored (see [`Source::manifest_bytes`]); it is an [`Image`], so every ocikit sink can take
/// it. Blobs are streamed from the archive and verified as they flow.
///
/// Creating a source reads and parses the config and the first bytes of each layer (to
/// detect compression), nothing more.
pub struct Source {
    reader: Arc<Reader>,
    index: usize,
    item: ManifestItem,
    config: Raw<ConfigFile>,
    layers: Vec<Arc<ArchiveLayer>>,
    manifest: OnceLock<Arc<[u8]>>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("index", &self.index)
            .field("item", &self.item)
            .field("config", self.config.digest())
            .finish_non_exhaustive()
    }
}

impl Source {
    /// The image of `reader` chosen by [`Reader::choose_manifest_item`]: by tag, by index in
    /// `manifest.json`, or the only one.
    pub fn new(
        reader: Arc<Reader>,
        reference: Option<&Reference>,
        source_index: Option<usize>,
    ) -> Result<Source> {
        let (index, item) = reader.choose_manifest_item(reference, source_index)?;
        let item = item.clone();
        let what = format!("manifest.json item {index}");
        let config_entry = reader.resolve(&item.config, Some(&format!("{what} (Config)")))?;
        let bytes = reader.read_entry(config_entry, MAX_CONFIG_SIZE, "config")?;
        let config = Raw::<ConfigFile>::parse(bytes)
            .map_err(|e| Error::types(format!("parsing config {}", clip(&item.config)), e))?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != item.layers.len() {
            return Err(Error::LayerCountMismatch {
                image: CountedImage::ArchiveItem { index },
                config: clip(&item.config),
                layers: item.layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        let mut by_path: HashMap<String, &Digest> = HashMap::new();
        let mut layers = Vec::with_capacity(item.layers.len());
        for (i, (path, diff_id)) in item.layers.iter().zip(diff_ids).enumerate() {
            let normal = normalize(path)?;
            if let Some(first) = by_path.insert(normal.clone(), diff_id) {
                if first != diff_id {
                    return Err(Error::LayerPathReused {
                        path: clip(path),
                        first: Box::new(first.clone()),
                        second: Box::new(diff_id.clone()),
                    });
                }
            }
            let entry = reader
                .resolve(path, Some(&format!("{what} (layer {i})")))?
                .clone();
            let source = item.layer_sources.get(diff_id).cloned();
            let layer = ArchiveLayer::new(
                Arc::clone(&reader),
                clip(path),
                entry,
                diff_id.clone(),
                source,
            )?;
            layers.push(Arc::new(layer));
        }
        Ok(Source {
            reader,
            index,
            item,
            config,
            layers,
            manifest: OnceLock::new(),
        })
    }

    /// Opens the archive at `path` and the image chosen by `reference` or `source_index` (or
    /// the only one).
    pub fn open(
        path: impl AsRef<Path>,
        reference: Option<&Reference>,
        source_index: Option<usize>,
    ) -> Result<Source> {
        Source::new(Arc::new(Reader::from_file(path)?), reference, source_index)
    }

    /// The archive.
    pub fn reader(&self) -> &Arc<Reader> {
        &self.reader
    }

    /// The index of the image in `manifest.json`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The image's `manifest.json` item.
    pub fn manifest_item(&self) -> &ManifestItem {
        &self.item
    }

    /// The config, with its bytes as stored and their digest.
    pub fn config(&self) -> &Raw<ConfigFile> {
        &self.config
    }

    /// The manifest built for the image, serialised once and cached: a Docker schema2
    /// manifest whose config is the stored config and whose layers are described as stored
    /// (uncompressed `...rootfs.diff.tar`, or gzip or zstd as detected; `LayerSources`
    /// descriptors as given). Computing it reads every layer whose digest is not known yet,
    /// once.
    pub fn manifest_bytes(&self) -> Result<Arc<[u8]>> {
        if let Some(m) = self.manifest.get() {
            return Ok(Arc::clone(m));
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            layers.push(l.stored_descriptor()?);
        }
        let config = self.config.descriptor(MediaType::DockerConfig);
        let manifest = Raw::from_value(Manifest::new(MediaType::DockerManifest, config, layers))
            .map_err(|e| Error::types("serialising the manifest", e))?;
        Ok(Arc::clone(
            self.manifest.get_or_init(|| manifest.shared_bytes()),
        ))
    }

    /// Streams the blob with `digest`: the config, a layer as stored (by its digest), or a
    /// layer uncompressed (by its diff_id). The stream fails at its end when the bytes do not
    /// match `digest`.
    pub fn blob(&self, digest: &Digest) -> Result<BlobReader> {
        if digest == self.config.digest() {
            return Ok(Box::new(Cursor::new(self.config.shared_bytes())));
        }
        if let Some(l) = self.layers.iter().find(|l| l.diff_id_ref() == digest) {
            return l.uncompressed_stream();
        }
        for l in &self.layers {
            // Uncompressed layers were matched by diff_id above (their digest is the same).
            let same_as_diff_id =
                l.compression() == Compression::None && !l.has_source_descriptor();
            if !same_as_diff_id && &l.stored_digest()? == digest {
                return l.stored();
            }
        }
        Err(Error::BlobNotFound {
            digest: digest.clone(),
        })
    }

    /// The descriptors of the layers as stored, base first (computes unknown digests).
    pub fn layer_descriptors(&self) -> Result<Vec<Descriptor>> {
        self.layers.iter().map(|l| l.stored_descriptor()).collect()
    }
}

impl Image for Source {
    fn layers(&self) -> oci_partial::Result<Vec<Arc<dyn Layer>>> {
        Ok(self
            .layers
            .iter()
            .map(|l| Arc::clone(l) as Arc<dyn Layer>)
            .collect())
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(MediaType::DockerManifest)
    }
    fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> {
        Ok(self.config.bytes().to_vec())
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        Ok(self.manifest_bytes()?.to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        for l in &self.layers {
            if &l.stored_digest()? == digest {
                return Ok(Arc::clone(l) as Arc<dyn Layer>);
            }
        }
        Err(oci_partial::Error::NotFound {
            what: "layer",
            digest: digest.clone(),
        })
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        match self.layers.iter().find(|l| l.diff_id_ref() == diff_id) {
            Some(l) => Ok(Arc::clone(l) as Arc<dyn Layer>),
            None => Err(oci_partial::Error::NotFound {
                what: "layer with diff_id",
                digest: diff_id.clone(),
            }),
        }
    }
    fn config_name(&self) -> oci_partial::Result<Digest> {
        Ok(self.config.digest().clone())
    }
    fn config_file(&self) -> oci_partial::Result<ConfigFile> {
        Ok(self.config.value().clone())
    }
}

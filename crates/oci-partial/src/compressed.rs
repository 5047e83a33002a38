//! Layers and images from sources that store blobs as they are distributed (compressed):
//! OCI layouts, registries, content stores.

use std::sync::{Arc, OnceLock};

use oci_types::{ConfigFile, Descriptor, Digest, HashingReader, Manifest, MediaType, Raw};

use crate::compression::decompress;
use crate::helpers::{check_blob, config_layer, drain};
use crate::{BlobReader, Error, Image, InvalidKind, Layer, Result};

/// The least a source of a compressed layer provides; [`CompressedLayer`] derives the rest
/// (uncompressed stream, diff_id, uncompressed size).
///
/// Go-containerregistry's `partial.CompressedLayer`. Implemented for `Arc<T>` and `Box<T>`.
pub trait CompressedLayerCore: Send + Sync {
    /// The digest of the blob.
    fn digest(&self) -> Result<Digest>;
    /// A fresh reader over the blob; sources verify it (digest and size) at its end.
    fn compressed(&self) -> Result<BlobReader>;
    /// The size of the blob.
    fn size(&self) -> Result<u64>;
    /// The media type of the blob.
    fn media_type(&self) -> Result<MediaType>;

    /// The full descriptor (urls, annotations); the default has media type, digest and size.
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(Descriptor::new(
            self.media_type()?,
            self.digest()?,
            self.size()?,
        ))
    }
    /// The diff_id when the source knows it without reading the blob (from a config); `None`
    /// (the default) makes [`CompressedLayer`] compute it by streaming.
    fn known_diff_id(&self) -> Option<Digest> {
        None
    }
    /// Whether the blob exists, without reading it; the default opens it.
    fn exists(&self) -> Result<bool> {
        self.compressed().map(|_| true)
    }
    /// [`CompressedLayerCore::compressed`] through a [`HashingReader`] (see
    /// [`Layer::compressed_hashing`]); a source that verifies the blob with one (made by
    /// [`HashingReader::verifying`]) returns it, so that a sink taking its digest hashes the
    /// blob once. The default wraps `compressed` in a SHA-256 one.
    fn compressed_hashing(&self) -> Result<HashingReader<BlobReader>> {
        Ok(HashingReader::new(self.compressed()?))
    }
}

macro_rules! forward_compressed_layer_core {
    ($($ptr:ident),*) => {$(
        impl<T: CompressedLayerCore + ?Sized> CompressedLayerCore for $ptr<T> {
            fn digest(&self) -> Result<Digest> {
                (**self).digest()
            }
            fn compressed(&self) -> Result<BlobReader> {
                (**self).compressed()
            }
            fn size(&self) -> Result<u64> {
                (**self).size()
            }
            fn media_type(&self) -> Result<MediaType> {
                (**self).media_type()
            }
            fn descriptor(&self) -> Result<Descriptor> {
                (**self).descriptor()
            }
            fn known_diff_id(&self) -> Option<Digest> {
                (**self).known_diff_id()
            }
            fn exists(&self) -> Result<bool> {
                (**self).exists()
            }
            fn compressed_hashing(&self) -> Result<HashingReader<BlobReader>> {
                (**self).compressed_hashing()
            }
        }
    )*};
}
forward_compressed_layer_core!(Arc, Box);

/// The uncompressed digest and size of a layer, once known.
#[derive(Default)]
struct UncompressedSums {
    diff_id: OnceLock<Digest>,
    size: OnceLock<u64>,
}

impl UncompressedSums {
    /// Records the result of a full pass over the uncompressed stream; a diff_id known
    /// beforehand (from a config) that disagrees is a digest mismatch.
    fn record(&self, diff_id: Digest, size: u64) -> std::result::Result<(), oci_types::Error> {
        if let Some(expected) = self.diff_id.get() {
            if *expected != diff_id {
                return Err(oci_types::Error::DigestMismatch {
                    expected: expected.clone(),
                    actual: diff_id,
                });
            }
        }
        let _ = self.diff_id.set(diff_id);
        let _ = self.size.set(size);
        Ok(())
    }
}

/// A full [`Layer`] from a [`CompressedLayerCore`] (go-containerregistry's
/// `partial.CompressedToLayer`).
///
/// - [`Layer::uncompressed`] decompresses by the blob's magic bytes, not by its media type
///   (many blobs labelled `tar+gzip` are plain tars, and the other way round).
/// - [`Layer::diff_id`] and [`Layer::uncompressed_size`] come from one streaming pass over the
///   uncompressed content, cached; any full read of [`Layer::uncompressed`] also fills the
///   cache, so a layer that is unpacked anyway never needs a second pass.
/// - A diff_id given with [`CompressedLayer::with_diff_id`] (or by the core) is trusted for
///   [`Layer::diff_id`], and checked by any full uncompressed pass: the pass fails with a digest
///   mismatch when the content disagrees.
pub struct CompressedLayer<C> {
    core: C,
    desc: Option<Descriptor>,
    sums: Arc<UncompressedSums>,
}

impl<C: CompressedLayerCore> CompressedLayer<C> {
    /// Wraps `core`.
    pub fn new(core: C) -> Self {
        let sums = UncompressedSums::default();
        if let Some(d) = core.known_diff_id() {
            let _ = sums.diff_id.set(d);
        }
        CompressedLayer {
            core,
            desc: None,
            sums: Arc::new(sums),
        }
    }

    /// The same layer described by `desc` (a manifest's layer descriptor, with its urls and
    /// annotations): [`Layer::descriptor`] returns it and [`Layer::media_type`] is its media
    /// type. Digest and size still come from the core.
    pub fn with_descriptor(mut self, desc: Descriptor) -> Self {
        self.desc = Some(desc);
        self
    }

    /// The same layer with a known diff_id (the config's), so that [`Layer::diff_id`] needs no
    /// pass over the content. A later full pass checks it.
    pub fn with_diff_id(self, diff_id: Digest) -> Self {
        let _ = self.sums.diff_id.set(diff_id);
        self
    }

    /// The core.
    pub fn core(&self) -> &C {
        &self.core
    }

    fn context(&self) -> String {
        match self.core.digest() {
            Ok(d) => format!("reading layer {d}"),
            Err(_) => "reading a layer".to_string(),
        }
    }

    /// Streams the uncompressed content once, filling the cache.
    fn compute(&self) -> Result<()> {
        let r = self.uncompressed_tracked()?;
        drain(r, || self.context())?;
        Ok(())
    }

    /// The uncompressed stream, recording diff_id and size at its end.
    fn uncompressed_tracked(&self) -> Result<BlobReader> {
        let r = decompress(self.core.compressed()?)?;
        let sums = Arc::clone(&self.sums);
        Ok(Box::new(HashingReader::new(r).on_end(move |d, n| {
            sums.record(d.clone(), n).map_err(|e| e.into_io())
        })))
    }
}

impl<C: CompressedLayerCore> Layer for CompressedLayer<C> {
    fn digest(&self) -> Result<Digest> {
        self.core.digest()
    }
    fn diff_id(&self) -> Result<Digest> {
        if let Some(d) = self.sums.diff_id.get() {
            return Ok(d.clone());
        }
        self.compute()?;
        self.sums
            .diff_id
            .get()
            .cloned()
            .ok_or(Error::NotComputed { what: "diff_id" })
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.core.compressed()
    }
    fn compressed_hashing(&self) -> Result<HashingReader<BlobReader>> {
        self.core.compressed_hashing()
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        if self.sums.size.get().is_some() {
            // Both sums are known (the size is only ever recorded with the diff_id).
            decompress(self.core.compressed()?)
        } else {
            self.uncompressed_tracked()
        }
    }
    fn size(&self) -> Result<u64> {
        self.core.size()
    }
    fn media_type(&self) -> Result<MediaType> {
        match &self.desc {
            Some(d) => Ok(d.media_type.clone()),
            None => self.core.media_type(),
        }
    }
    fn descriptor(&self) -> Result<Descriptor> {
        match &self.desc {
            Some(d) => Ok(d.clone()),
            None => self.core.descriptor(),
        }
    }
    fn uncompressed_size(&self) -> Result<u64> {
        if let Some(n) = self.sums.size.get() {
            return Ok(*n);
        }
        self.compute()?;
        self.sums
            .size
            .get()
            .copied()
            .ok_or(Error::NotComputed { what: "size" })
    }
    fn exists(&self) -> Result<bool> {
        self.core.exists()
    }
}

/// The least a source of compressed images provides: manifest and config as stored, and
/// layers by blob digest. [`CompressedImage`] derives the rest.
///
/// Go-containerregistry's `partial.CompressedImageCore`. Implemented for `Arc<T>` and `Box<T>`.
pub trait CompressedImageCore: Send + Sync {
    /// The config blob as stored.
    fn raw_config_file(&self) -> Result<Vec<u8>>;
    /// The manifest's media type (from the descriptor that pointed at it).
    fn media_type(&self) -> Result<MediaType>;
    /// The manifest as stored.
    fn raw_manifest(&self) -> Result<Vec<u8>>;
    /// The layer blob with digest `digest`.
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn CompressedLayerCore>>;
}

macro_rules! forward_compressed_image_core {
    ($($ptr:ident),*) => {$(
        impl<T: CompressedImageCore + ?Sized> CompressedImageCore for $ptr<T> {
            fn raw_config_file(&self) -> Result<Vec<u8>> {
                (**self).raw_config_file()
            }
            fn media_type(&self) -> Result<MediaType> {
                (**self).media_type()
            }
            fn raw_manifest(&self) -> Result<Vec<u8>> {
                (**self).raw_manifest()
            }
            fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn CompressedLayerCore>> {
                (**self).layer_by_digest(digest)
            }
        }
    )*};
}
forward_compressed_image_core!(Arc, Box);

/// A full [`Image`] from a [`CompressedImageCore`] (go-containerregistry's
/// `partial.CompressedToImage`).
///
/// The manifest and config are read once and cached (raw bytes and parsed); the config is
/// checked against the manifest's config descriptor (size and digest). The layers are the
/// manifest's, in order: each one's [`Layer::descriptor`] is the manifest's descriptor (with
/// urls and annotations), and its diff_id is the config's `rootfs.diff_ids` entry at the same
/// position (checked whenever the layer is read in full). Layer objects are made once, so
/// what they compute is kept.
pub struct CompressedImage<C> {
    core: C,
    manifest: OnceLock<Raw<Manifest>>,
    config: OnceLock<Arc<[u8]>>,
    config_file: OnceLock<Arc<ConfigFile>>,
    layers: OnceLock<Vec<Arc<dyn Layer>>>,
}

impl<C: CompressedImageCore> CompressedImage<C> {
    /// Wraps `core`; nothing is read yet.
    pub fn new(core: C) -> Self {
        CompressedImage {
            core,
            manifest: OnceLock::new(),
            config: OnceLock::new(),
            config_file: OnceLock::new(),
            layers: OnceLock::new(),
        }
    }

    /// The core.
    pub fn core(&self) -> &C {
        &self.core
    }

    /// The manifest, parsed once.
    pub fn manifest_doc(&self) -> Result<&Raw<Manifest>> {
        if let Some(m) = self.manifest.get() {
            return Ok(m);
        }
        let m = Raw::<Manifest>::parse(self.core.raw_manifest()?)?;
        Ok(self.manifest.get_or_init(|| m))
    }

    fn config_bytes(&self) -> Result<&Arc<[u8]>> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let bytes = self.core.raw_config_file()?;
        check_blob(&self.manifest_doc()?.config, &bytes)?;
        Ok(self.config.get_or_init(|| bytes.into()))
    }

    fn parsed_config(&self) -> Result<&Arc<ConfigFile>> {
        if let Some(c) = self.config_file.get() {
            return Ok(c);
        }
        let c = ConfigFile::from_slice(self.config_bytes()?)?;
        Ok(self.config_file.get_or_init(|| Arc::new(c)))
    }

    /// The config's diff_ids when the config is an image config with one per manifest layer;
    /// `None` otherwise (an artifact, or an inconsistent image: then diff_ids are computed).
    fn diff_ids(&self) -> Option<Vec<Digest>> {
        let m = self.manifest_doc().ok()?;
        if !m.config.media_type.is_config() {
            return None;
        }
        let diff_ids = &self.parsed_config().ok()?.rootfs.diff_ids;
        (diff_ids.len() == m.layers.len()).then(|| diff_ids.clone())
    }

    fn cached_layers(&self) -> Result<&Vec<Arc<dyn Layer>>> {
        if let Some(l) = self.layers.get() {
            return Ok(l);
        }
        let m = self.manifest_doc()?;
        let diff_ids = self.diff_ids();
        let mut layers: Vec<Arc<dyn Layer>> = Vec::with_capacity(m.layers.len());
        for (i, desc) in m.layers.iter().enumerate() {
            let core = self.core.layer_by_digest(&desc.digest)?;
            let mut layer = CompressedLayer::new(core).with_descriptor(desc.clone());
            if let Some(ids) = &diff_ids {
                layer = layer.with_diff_id(ids[i].clone());
            }
            layers.push(Arc::new(layer));
        }
        Ok(self.layers.get_or_init(|| layers))
    }
}

impl<C: CompressedImageCore> Image for CompressedImage<C> {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        self.cached_layers().cloned()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.core.media_type()
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.config_bytes()?.to_vec())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.manifest_doc()?.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        let m = self.manifest_doc()?;
        if let Some(i) = m.layers.iter().position(|d| &d.digest == digest) {
            return Ok(Arc::clone(&self.cached_layers()?[i]));
        }
        if &m.config.digest == digest {
            return config_layer(self);
        }
        Ok(Arc::new(CompressedLayer::new(
            self.core.layer_by_digest(digest)?,
        )))
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        let ids = &self.parsed_config()?.rootfs.diff_ids;
        let Some(i) = ids.iter().position(|d| d == diff_id) else {
            return Err(Error::NotFound {
                what: "layer with diff_id",
                digest: diff_id.clone(),
            });
        };
        let layers = self.cached_layers()?;
        if ids.len() != layers.len() {
            return Err(Error::Invalid {
                what: "image",
                kind: InvalidKind::LayerCount {
                    layers: layers.len(),
                    diff_ids: ids.len(),
                },
            });
        }
        Ok(Arc::clone(&layers[i]))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.manifest_doc()?.size())
    }
    fn digest(&self) -> Result<Digest> {
        Ok(self.manifest_doc()?.digest().clone())
    }
    fn manifest(&self) -> Result<Manifest> {
        Ok(self.manifest_doc()?.value().clone())
    }
    fn config_name(&self) -> Result<Digest> {
        // The config was checked against the manifest's descriptor.
        self.config_bytes()?;
        Ok(self.manifest_doc()?.config.digest.clone())
    }
    fn config_file(&self) -> Result<ConfigFile> {
        Ok((**self.parsed_config()?).clone())
    }
}

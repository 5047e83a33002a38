//! Layers and images from sources that store layers uncompressed: docker archives, container
//! storage, directories turned into tars.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use oci_types::{ConfigFile, Descriptor, Digest, HashingReader, Manifest, MediaType, Raw};

use crate::compression::{compress, media_type_for, Compression};
use crate::helpers::{config_layer, drain, CountingReader};
use crate::{BlobReader, Error, Image, Layer, Result};

/// The least a source of an uncompressed layer provides; [`UncompressedLayer`] derives the
/// rest (compressed stream, digest, size).
///
/// Go-containerregistry's `partial.UncompressedLayer`. Implemented for `Arc<T>` and `Box<T>`.
pub trait UncompressedLayerCore: Send + Sync {
    /// The digest of the uncompressed tar.
    fn diff_id(&self) -> Result<Digest>;
    /// A fresh reader over the uncompressed tar; sources verify it at its end.
    fn uncompressed(&self) -> Result<BlobReader>;
    /// The media type of the layer. Only its kind matters (Docker or OCI, distributable or
    /// not; a type that is neither Docker nor a layer gives OCI layer types): the blob's media
    /// type is that kind with the compression [`UncompressedLayer`] applies.
    fn media_type(&self) -> Result<MediaType>;
    /// The blob's descriptor, given the one [`UncompressedLayer`] computed (media type,
    /// digest, size): a core that knows urls or annotations (a foreign layer's) adds them
    /// here. The default returns it unchanged.
    fn describe(&self, computed: Descriptor) -> Result<Descriptor> {
        Ok(computed)
    }
}

macro_rules! forward_uncompressed_layer_core {
    ($($ptr:ident),*) => {$(
        impl<T: UncompressedLayerCore + ?Sized> UncompressedLayerCore for $ptr<T> {
            fn diff_id(&self) -> Result<Digest> {
                (**self).diff_id()
            }
            fn uncompressed(&self) -> Result<BlobReader> {
                (**self).uncompressed()
            }
            fn media_type(&self) -> Result<MediaType> {
                (**self).media_type()
            }
            fn describe(&self, computed: Descriptor) -> Result<Descriptor> {
                (**self).describe(computed)
            }
        }
    )*};
}
forward_uncompressed_layer_core!(Arc, Box);

/// The digest and size of the compressed blob, and the size of the tar, from one pass.
#[derive(Debug, Clone)]
struct CompressedSums {
    digest: Digest,
    size: u64,
    uncompressed_size: u64,
}

/// A full [`Layer`] from an [`UncompressedLayerCore`] (go-containerregistry's
/// `partial.UncompressedToLayer`): the blob is the tar compressed on the fly.
///
/// - Compression is gzip at level 1 by default (go-containerregistry's default); choose with
///   [`UncompressedLayer::with_compression`]. Compression is deterministic, so every read of
///   [`Layer::compressed`] yields the same bytes.
/// - [`Layer::digest`] and [`Layer::size`] come from ONE streaming pass (the tar is compressed
///   into a hasher, nothing is buffered), made on first use and cached together with the
///   uncompressed size; any full read of [`Layer::compressed`] fills the same cache, so a
///   layer that is written out anyway never needs a second compression pass.
/// - The media type is the core's family with the chosen compression: a Docker core gives
///   `application/vnd.docker.image.rootfs.diff.tar.gzip` for gzip, an OCI one
///   `application/vnd.oci.image.layer.v1.tar+gzip` (Docker has no zstd type: the OCI one is
///   used).
pub struct UncompressedLayer<C> {
    core: C,
    compression: Compression,
    level: Option<u32>,
    sums: Arc<OnceLock<CompressedSums>>,
    uncompressed_size: OnceLock<u64>,
}

impl<C: UncompressedLayerCore> UncompressedLayer<C> {
    /// Wraps `core`, compressing with gzip at the default level.
    pub fn new(core: C) -> Self {
        UncompressedLayer {
            core,
            compression: Compression::Gzip,
            level: None,
            sums: Arc::new(OnceLock::new()),
            uncompressed_size: OnceLock::new(),
        }
    }

    /// The same layer compressed with `compression` at `level` (`None`: the default level of
    /// [`crate::compression::compress`]). [`Compression::None`] makes the blob the tar itself.
    pub fn with_compression(mut self, compression: Compression, level: Option<u32>) -> Self {
        self.compression = compression;
        self.level = level;
        self.sums = Arc::new(OnceLock::new());
        self
    }

    /// The compression applied.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The core.
    pub fn core(&self) -> &C {
        &self.core
    }

    /// The compressed stream; when `track` is set it records the sums at its end.
    fn compressed_stream(&self, track: bool) -> Result<BlobReader> {
        if !track {
            return Ok(compress(
                self.core.uncompressed()?,
                self.compression,
                self.level,
            ));
        }
        Ok(Box::new(self.compressed_tracked()?))
    }

    /// The compressed stream through the [`HashingReader`] whose digest and size become the
    /// layer's at its end.
    fn compressed_tracked(&self) -> Result<HashingReader<BlobReader>> {
        let counter = Arc::new(AtomicU64::new(0));
        let tar = CountingReader::new(self.core.uncompressed()?, Arc::clone(&counter));
        let blob = compress(tar, self.compression, self.level);
        let sums = Arc::clone(&self.sums);
        Ok(HashingReader::new(blob).on_end(move |digest, size| {
            let uncompressed_size = counter.load(Ordering::Relaxed);
            let _ = sums.set(CompressedSums {
                digest: digest.clone(),
                size,
                uncompressed_size,
            });
            Ok(())
        }))
    }

    fn sums(&self) -> Result<&CompressedSums> {
        if let Some(s) = self.sums.get() {
            return Ok(s);
        }
        let blob = self.compressed_stream(true)?;
        drain(blob, || match self.core.diff_id() {
            Ok(d) => format!("compressing layer {d}"),
            Err(_) => "compressing a layer".to_string(),
        })?;
        self.sums.get().ok_or(Error::NotComputed { what: "digest" })
    }
}

/// The media type of a layer whose core says `core` once compressed with `compression`.
fn compressed_media_type(core: &MediaType, compression: Compression) -> MediaType {
    if core.compression() == Some(compression) {
        return core.clone();
    }
    core.with_compression(compression)
        .unwrap_or_else(|| media_type_for(compression, core.is_docker()))
}

impl<C: UncompressedLayerCore> Layer for UncompressedLayer<C> {
    fn digest(&self) -> Result<Digest> {
        Ok(self.sums()?.digest.clone())
    }
    fn diff_id(&self) -> Result<Digest> {
        self.core.diff_id()
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.compressed_stream(self.sums.get().is_none())
    }
    /// Until the digest is known, the stream whose hash becomes it: a sink that takes the
    /// reader's digest compresses and hashes the layer once.
    fn compressed_hashing(&self) -> Result<HashingReader<BlobReader>> {
        if self.sums.get().is_none() {
            return self.compressed_tracked();
        }
        Ok(HashingReader::new(self.compressed_stream(false)?))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.core.uncompressed()
    }
    fn size(&self) -> Result<u64> {
        Ok(self.sums()?.size)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(compressed_media_type(
            &self.core.media_type()?,
            self.compression,
        ))
    }
    fn descriptor(&self) -> Result<Descriptor> {
        self.core.describe(Descriptor::new(
            self.media_type()?,
            self.digest()?,
            self.size()?,
        ))
    }
    fn uncompressed_size(&self) -> Result<u64> {
        if let Some(s) = self.sums.get() {
            return Ok(s.uncompressed_size);
        }
        if let Some(n) = self.uncompressed_size.get() {
            return Ok(*n);
        }
        // Counting the tar is cheaper than compressing it.
        let n = drain(self.core.uncompressed()?, || {
            "counting an uncompressed layer".to_string()
        })?;
        Ok(*self.uncompressed_size.get_or_init(|| n))
    }
}

/// The least a source of uncompressed images provides: the config as stored and layers by
/// diff_id. [`UncompressedImage`] derives the rest, manifest included.
///
/// Go-containerregistry's `partial.UncompressedImageCore`. Implemented for `Arc<T>` and
/// `Box<T>`.
pub trait UncompressedImageCore: Send + Sync {
    /// The config blob as stored.
    fn raw_config_file(&self) -> Result<Vec<u8>>;
    /// The media type of the manifest to make: [`MediaType::OciManifest`] or
    /// [`MediaType::DockerManifest`].
    fn media_type(&self) -> Result<MediaType>;
    /// The layer with uncompressed digest `diff_id`.
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn UncompressedLayerCore>>;
}

macro_rules! forward_uncompressed_image_core {
    ($($ptr:ident),*) => {$(
        impl<T: UncompressedImageCore + ?Sized> UncompressedImageCore for $ptr<T> {
            fn raw_config_file(&self) -> Result<Vec<u8>> {
                (**self).raw_config_file()
            }
            fn media_type(&self) -> Result<MediaType> {
                (**self).media_type()
            }
            fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn UncompressedLayerCore>> {
                (**self).layer_by_diff_id(diff_id)
            }
        }
    )*};
}
forward_uncompressed_image_core!(Arc, Box);

type CoreLayer = UncompressedLayer<Arc<dyn UncompressedLayerCore>>;

/// A full [`Image`] from an [`UncompressedImageCore`] (go-containerregistry's
/// `partial.UncompressedToImage`).
///
/// The layers are the config's `rootfs.diff_ids`, each an [`UncompressedLayer`] compressed as
/// chosen with [`UncompressedImage::with_compression`] (gzip level 1 by default). The manifest
/// is computed from the config and the layers only when first asked for (that is when each
/// layer is compressed once to learn its digest and size), then its bytes are kept, so its
/// digest never changes. Its config media type follows the manifest's family.
pub struct UncompressedImage<C> {
    core: C,
    compression: Compression,
    level: Option<u32>,
    config: OnceLock<Arc<[u8]>>,
    config_file: OnceLock<Arc<ConfigFile>>,
    layers: OnceLock<Vec<Arc<CoreLayer>>>,
    manifest: OnceLock<Raw<Manifest>>,
}

impl<C: UncompressedImageCore> UncompressedImage<C> {
    /// Wraps `core`, compressing layers with gzip at the default level; nothing is read yet.
    pub fn new(core: C) -> Self {
        UncompressedImage {
            core,
            compression: Compression::Gzip,
            level: None,
            config: OnceLock::new(),
            config_file: OnceLock::new(),
            layers: OnceLock::new(),
            manifest: OnceLock::new(),
        }
    }

    /// The same image with its layers compressed with `compression` at `level` (`None`: the
    /// default level).
    pub fn with_compression(mut self, compression: Compression, level: Option<u32>) -> Self {
        self.compression = compression;
        self.level = level;
        self.layers = OnceLock::new();
        self.manifest = OnceLock::new();
        self
    }

    /// The core.
    pub fn core(&self) -> &C {
        &self.core
    }

    fn config_bytes(&self) -> Result<&Arc<[u8]>> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let bytes = self.core.raw_config_file()?;
        Ok(self.config.get_or_init(|| bytes.into()))
    }

    fn parsed_config(&self) -> Result<&Arc<ConfigFile>> {
        if let Some(c) = self.config_file.get() {
            return Ok(c);
        }
        let c = ConfigFile::from_slice(self.config_bytes()?)?;
        Ok(self.config_file.get_or_init(|| Arc::new(c)))
    }

    fn cached_layers(&self) -> Result<&Vec<Arc<CoreLayer>>> {
        if let Some(l) = self.layers.get() {
            return Ok(l);
        }
        let ids = &self.parsed_config()?.rootfs.diff_ids;
        let mut layers = Vec::with_capacity(ids.len());
        for id in ids {
            let core = self.core.layer_by_diff_id(id)?;
            layers.push(Arc::new(
                UncompressedLayer::new(core).with_compression(self.compression, self.level),
            ));
        }
        Ok(self.layers.get_or_init(|| layers))
    }

    /// The computed manifest, made once.
    pub fn manifest_doc(&self) -> Result<&Raw<Manifest>> {
        if let Some(m) = self.manifest.get() {
            return Ok(m);
        }
        let media_type = self.core.media_type()?;
        let config_type = if media_type.is_docker() {
            MediaType::DockerConfig
        } else {
            MediaType::OciConfig
        };
        let config = Descriptor::of_bytes(config_type, self.config_bytes()?);
        let mut layers = Vec::new();
        for l in self.cached_layers()? {
            layers.push(l.descriptor()?);
        }
        let m = Raw::from_value(Manifest::new(media_type, config, layers))?;
        Ok(self.manifest.get_or_init(|| m))
    }
}

impl<C: UncompressedImageCore> Image for UncompressedImage<C> {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        Ok(self
            .cached_layers()?
            .iter()
            .map(|l| Arc::clone(l) as Arc<dyn Layer>)
            .collect())
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
            return Ok(Arc::clone(&self.cached_layers()?[i]) as Arc<dyn Layer>);
        }
        if &m.config.digest == digest {
            return config_layer(self);
        }
        Err(Error::NotFound {
            what: "layer",
            digest: digest.clone(),
        })
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        let ids = &self.parsed_config()?.rootfs.diff_ids;
        match ids.iter().position(|d| d == diff_id) {
            Some(i) => Ok(Arc::clone(&self.cached_layers()?[i]) as Arc<dyn Layer>),
            None => Err(Error::NotFound {
                what: "layer with diff_id",
                digest: diff_id.clone(),
            }),
        }
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
        Ok(Digest::sha256(self.config_bytes()?))
    }
    fn config_file(&self) -> Result<ConfigFile> {
        Ok((**self.parsed_config()?).clone())
    }
}

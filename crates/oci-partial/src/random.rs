//! Deterministic in-memory layers, images and indexes for tests (go-containerregistry's
//! `pkg/v1/random`), behind the `testing` feature.
//!
//! Everything is a function of a `u64` seed: the same seed gives byte-identical blobs,
//! configs and manifests on every call and every machine. Layers are real tar archives (a
//! directory and one file of pseudo-random bytes), gzip-compressed by default; configs have
//! `rootfs.diff_ids` and one history entry per layer; media types are OCI by default, with
//! [`Options`] for Docker types, zstd or uncompressed layers and the platform.
//!
//! ```
//! use oci_partial::{random, validate_image, validate_index, Image, ImageIndex, ValidateOptions};
//!
//! let image = random::image(42, 3, 1024);
//! assert_eq!(image.layers().unwrap().len(), 3);
//! assert_eq!(image.raw_manifest().unwrap(), random::image(42, 3, 1024).raw_manifest().unwrap());
//! validate_image(image.as_ref(), ValidateOptions::default()).unwrap();
//!
//! // Docker media types, zstd layers, another platform.
//! let opts = random::Options::default().docker().compression(oci_types::Compression::Zstd)
//!     .platform("linux/arm64/v8".parse().unwrap());
//! let image = random::image_with(42, 1, 100, &opts);
//! assert_eq!(image.config_file().unwrap().architecture, "arm64");
//!
//! // An index of 2 images with distinct platforms in its entries.
//! let index = random::index(7, 2, 1, 100);
//! let entries = index.index_manifest().unwrap().manifests;
//! assert_ne!(entries[0].platform, entries[1].platform);
//! validate_index(index.as_ref(), ValidateOptions::default()).unwrap();
//!
//! // A flipped byte in a layer blob, for tests of code that must notice.
//! let broken = random::corrupt_layer(random::image(42, 3, 1024), 0);
//! assert!(validate_image(broken.as_ref(), ValidateOptions::default()).is_err());
//! ```
#![allow(clippy::expect_used)] // test images: generated documents always serialise

use std::io::{self, Cursor, Read};
use std::sync::Arc;

use oci_types::{
    Compression, ConfigFile, ContainerConfig, Descriptor, Digest, History, Index, Manifest,
    MediaType, Platform, Raw,
};

use crate::{
    find_layer_by_diff_id, find_layer_by_digest, Child, Error, Image, ImageIndex, InvalidKind,
    Layer, MappedImage, Result,
};

/// The `created` time of every generated config, history entry and tar entry.
const CREATED: &str = "2024-01-01T00:00:00Z";
/// [`CREATED`] as a Unix time, for tar headers.
const MTIME: u64 = 1_704_067_200;

/// The platforms [`index`] gives its images, in order; past the end, `linux/random<N>`.
const PLATFORMS: [&str; 8] = [
    "linux/amd64",
    "linux/arm64/v8",
    "linux/arm/v7",
    "linux/ppc64le",
    "linux/s390x",
    "linux/386",
    "linux/riscv64",
    "windows/amd64",
];

/// How generated images look: media type family, layer compression and platform.
///
/// ```
/// use oci_partial::random::Options;
/// use oci_types::Compression;
/// let o = Options::default();
/// assert!(!o.docker && o.compression == Compression::Gzip && o.platform.to_string() == "linux/amd64");
/// let o = Options::default().docker().compression(Compression::None);
/// assert!(o.docker && o.compression == Compression::None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Docker schema2 media types (manifest, config, layers, manifest list) instead of OCI.
    /// Docker has no zstd layer type: zstd layers keep the OCI one.
    pub docker: bool,
    /// The compression of the layers (gzip by default).
    pub compression: Compression,
    /// The platform in an image's config (`linux/amd64` by default). [`index_with`] ignores
    /// it and gives each image its own.
    pub platform: Platform,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            docker: false,
            compression: Compression::Gzip,
            platform: Platform::new("linux", "amd64"),
        }
    }
}

impl Options {
    /// Docker schema2 media types.
    pub fn docker(mut self) -> Self {
        self.docker = true;
        self
    }

    /// Layers with `compression`.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Images for `platform`.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    fn layer_media_type(&self) -> MediaType {
        if self.docker {
            MediaType::docker_layer(self.compression)
        } else {
            MediaType::oci_layer(self.compression)
        }
    }
}

/// An endless stream of pseudo-random bytes from `seed` (splitmix64): the same seed gives
/// the same bytes, however the stream is read.
///
/// ```
/// use std::io::Read;
/// let mut a = [0u8; 13];
/// oci_partial::random::bytes(1).read_exact(&mut a).unwrap();
/// let mut b = Vec::new();
/// oci_partial::random::bytes(1).take(13).read_to_end(&mut b).unwrap();
/// assert_eq!(a[..], b[..]);
/// ```
pub fn bytes(seed: u64) -> Bytes {
    Bytes {
        rng: SplitMix(seed),
        pending: [0; 8],
        used: 8,
    }
}

/// The reader of [`bytes`].
#[derive(Debug, Clone)]
pub struct Bytes {
    rng: SplitMix,
    pending: [u8; 8],
    /// How many bytes of `pending` were handed out.
    used: usize,
}

impl Read for Bytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for b in buf.iter_mut() {
            if self.used == 8 {
                self.pending = self.rng.next().to_le_bytes();
                self.used = 0;
            }
            *b = self.pending[self.used];
            self.used += 1;
        }
        Ok(buf.len())
    }
}

/// splitmix64: tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A seed for the `i`-th part of the thing made from `seed`.
fn derive(seed: u64, i: u64) -> u64 {
    SplitMix(seed ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03)).next()
}

/// The `i`-th platform of [`index`]: `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`,
/// `linux/ppc64le`, `linux/s390x`, `linux/386`, `linux/riscv64`, `windows/amd64`, then
/// `linux/random8`, `linux/random9`, ...
pub fn platform(i: usize) -> Platform {
    match PLATFORMS.get(i).map(|s| s.parse::<Platform>()) {
        Some(Ok(p)) => p,
        _ => Platform::new("linux", format!("random{i}")),
    }
}

/// A gzip-compressed OCI layer: a tar with a directory `random/` and one file of `size`
/// pseudo-random bytes.
pub fn layer(seed: u64, size: usize) -> Arc<dyn Layer> {
    layer_with(seed, size, &Options::default())
}

/// A layer as [`layer`], with the compression and media type family of `opts`.
pub fn layer_with(seed: u64, size: usize, opts: &Options) -> Arc<dyn Layer> {
    Arc::new(MemLayer::new(seed, size, opts))
}

/// An image of `layers` layers (from [`layer`]) of `layer_size` bytes of file content each,
/// with OCI media types, for `linux/amd64`.
pub fn image(seed: u64, layers: usize, layer_size: usize) -> Arc<dyn Image> {
    image_with(seed, layers, layer_size, &Options::default())
}

/// An image as [`image`], shaped by `opts`.
pub fn image_with(seed: u64, layers: usize, layer_size: usize, opts: &Options) -> Arc<dyn Image> {
    Arc::new(MemImage::new(seed, layers, layer_size, opts))
}

/// An index of `images` images (as [`image`], each from its own seed) whose entries carry
/// distinct platforms ([`platform`]`(0)`, `(1)`, ...), each image's config agreeing.
pub fn index(seed: u64, images: usize, layers: usize, layer_size: usize) -> Arc<dyn ImageIndex> {
    index_with(seed, images, layers, layer_size, &Options::default())
}

/// An index as [`index`], shaped by `opts` (a Docker manifest list with `opts.docker`).
pub fn index_with(
    seed: u64,
    images: usize,
    layers: usize,
    layer_size: usize,
    opts: &Options,
) -> Arc<dyn ImageIndex> {
    let mut children = Vec::with_capacity(images);
    for i in 0..images {
        let p = platform(i);
        let image = MemImage::new(
            derive(seed, 1000 + i as u64),
            layers,
            layer_size,
            &opts.clone().platform(p.clone()),
        );
        let desc = image.descriptor.clone().with_platform(p);
        children.push((desc, Child::Image(Arc::new(image))));
    }
    let mt = if opts.docker {
        MediaType::DockerManifestList
    } else {
        MediaType::OciIndex
    };
    Arc::new(MemIndex::new(mt, children))
}

/// An index of the given children, in order, each entry being the child's
/// [`Child::descriptor`] (wrap an image in [`crate::MappedImage`] to give its entry a
/// platform or annotations). `media_type` is the index's own
/// ([`MediaType::OciIndex`] or [`MediaType::DockerManifestList`]).
///
/// ```
/// use std::sync::Arc;
/// use oci_partial::{random, Child, MappedImage, Image, ImageIndex};
/// use oci_types::MediaType;
///
/// let img = random::image(1, 1, 10);
/// let desc = img.descriptor().unwrap().with_annotation("role", "app");
/// let inner = random::index_of(MediaType::OciIndex, vec![
///     Child::Image(Arc::new(MappedImage::described(img, desc))),
/// ]).unwrap();
/// let outer = random::index_of(MediaType::OciIndex, vec![Child::Index(inner)]).unwrap();
/// assert_eq!(outer.index_manifest().unwrap().manifests.len(), 1);
/// ```
pub fn index_of(media_type: MediaType, children: Vec<Child>) -> Result<Arc<dyn ImageIndex>> {
    let mut entries = Vec::with_capacity(children.len());
    for child in children {
        entries.push((child.descriptor()?, child));
    }
    Ok(Arc::new(MemIndex::new(media_type, entries)))
}

/// `image` with a byte flipped in the compressed stream of its layer `layer` (0 = base): the
/// manifest, config and the layer's claimed digests are unchanged, its content is not. See
/// [`CorruptLayer`]. Asking for the layers of the result fails when `layer` is out of range.
pub fn corrupt_layer(image: Arc<dyn Image>, layer: usize) -> Arc<dyn Image> {
    Arc::new(MappedImage::new(image).replace_layers(move |mut layers| {
        let Some(target) = layers.get_mut(layer) else {
            return Err(Error::Invalid {
                what: "corrupt_layer",
                kind: InvalidKind::NoSuchLayer {
                    index: layer,
                    layers: layers.len(),
                },
            });
        };
        *target = Arc::new(CorruptLayer::new(Arc::clone(target)));
        Ok(layers)
    }))
}

/// A layer whose compressed stream has one byte flipped (inverted), while its digest, diff_id,
/// size and media type claims are those of the original. Its uncompressed stream is the
/// decompression of the corrupted compressed stream (so it usually fails or differs too).
#[derive(Clone)]
pub struct CorruptLayer {
    inner: Arc<dyn Layer>,
    offset: u64,
}

impl CorruptLayer {
    /// Flips the byte in the middle of `inner`'s compressed stream (by its claimed size).
    pub fn new(inner: Arc<dyn Layer>) -> Self {
        let offset = inner.size().map(|s| s / 2).unwrap_or(0);
        CorruptLayer { inner, offset }
    }

    /// Flips the byte at `offset` of `inner`'s compressed stream.
    pub fn at(inner: Arc<dyn Layer>, offset: u64) -> Self {
        CorruptLayer { inner, offset }
    }

    /// The offset of the flipped byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

/// Flips the byte at `at` of what passes.
struct Flip<R> {
    inner: R,
    pos: u64,
    at: u64,
}

impl<R: Read> Read for Flip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.at >= self.pos && self.at < self.pos + n as u64 {
            let i = (self.at - self.pos) as usize;
            buf[i] = !buf[i];
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Layer for CorruptLayer {
    fn digest(&self) -> Result<Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> Result<Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> Result<crate::BlobReader> {
        Ok(Box::new(Flip {
            inner: self.inner.compressed()?,
            pos: 0,
            at: self.offset,
        }))
    }
    fn uncompressed(&self) -> Result<crate::BlobReader> {
        let compression = self
            .inner
            .media_type()?
            .compression()
            .unwrap_or(Compression::None);
        decompress(self.compressed()?, compression)
    }
    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn descriptor(&self) -> Result<Descriptor> {
        self.inner.descriptor()
    }
}

fn decompress(r: crate::BlobReader, compression: Compression) -> Result<crate::BlobReader> {
    crate::compression::decoder(r, compression).map_err(|e| Error::io("starting a decoder", e))
}

/// An in-memory layer: its compressed blob, its digests.
struct MemLayer {
    blob: Arc<[u8]>,
    digest: Digest,
    diff_id: Digest,
    uncompressed_size: u64,
    media_type: MediaType,
    compression: Compression,
}

/// The tar of a layer: `random/` and `random/<seed>.bin` with `size` bytes from [`bytes`].
fn layer_tar(seed: u64, size: usize) -> Vec<u8> {
    fn header(path: &str, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        // Paths are short ASCII; set_path cannot fail for them.
        let _ = h.set_path(path);
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(MTIME);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        h
    }
    let mut b = tar::Builder::new(Vec::with_capacity(size + 3 * 512 + 1024));
    let dir = header("random/", tar::EntryType::Directory, 0o755, 0);
    let file = header(
        &format!("random/{seed:016x}.bin"),
        tar::EntryType::Regular,
        0o644,
        size as u64,
    );
    // Writing to a Vec cannot fail.
    let _ = b.append(&dir, io::empty());
    let _ = b.append(&file, bytes(seed).take(size as u64));
    b.into_inner().unwrap_or_default()
}

/// The blob of `tar`, by the workspace's one encoder ([`crate::compression::compress`]):
/// gzip at level 6, zstd at level 3.
fn compress(tar: &[u8], compression: Compression) -> Vec<u8> {
    let level = match compression {
        Compression::Gzip => Some(6),
        _ => None,
    };
    let mut blob = Vec::new();
    // Reading from a slice cannot fail; an encoder error leaves an empty (invalid) blob.
    let _ = crate::compression::compress(tar, compression, level).read_to_end(&mut blob);
    blob
}

impl MemLayer {
    fn new(seed: u64, size: usize, opts: &Options) -> MemLayer {
        let tar = layer_tar(seed, size);
        let compression = opts.compression;
        let blob: Arc<[u8]> = compress(&tar, compression).into();
        MemLayer {
            digest: Digest::sha256(&blob),
            diff_id: Digest::sha256(&tar),
            uncompressed_size: tar.len() as u64,
            blob,
            media_type: opts.layer_media_type(),
            compression,
        }
    }
}

impl Layer for MemLayer {
    fn digest(&self) -> Result<Digest> {
        Ok(self.digest.clone())
    }
    fn diff_id(&self) -> Result<Digest> {
        Ok(self.diff_id.clone())
    }
    fn compressed(&self) -> Result<crate::BlobReader> {
        Ok(Box::new(Cursor::new(Arc::clone(&self.blob))))
    }
    fn uncompressed(&self) -> Result<crate::BlobReader> {
        decompress(
            Box::new(Cursor::new(Arc::clone(&self.blob))),
            self.compression,
        )
    }
    fn size(&self) -> Result<u64> {
        Ok(self.blob.len() as u64)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
    fn uncompressed_size(&self) -> Result<u64> {
        Ok(self.uncompressed_size)
    }
    fn exists(&self) -> Result<bool> {
        Ok(true)
    }
}

/// An in-memory image.
struct MemImage {
    manifest: Raw<Manifest>,
    config: Raw<ConfigFile>,
    layers: Vec<Arc<dyn Layer>>,
    descriptor: Descriptor,
}

impl MemImage {
    fn new(seed: u64, layers: usize, layer_size: usize, opts: &Options) -> MemImage {
        let mems: Vec<MemLayer> = (0..layers)
            .map(|i| MemLayer::new(derive(seed, i as u64), layer_size, opts))
            .collect();

        let mut config = ConfigFile::default();
        config.architecture = opts.platform.architecture.clone();
        config.os = opts.platform.os.clone();
        config.variant = opts.platform.variant.clone();
        config.os_version = opts.platform.os_version.clone();
        config.created = Some(CREATED.to_owned());
        let mut cc = ContainerConfig::default();
        cc.env = Some(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        ]);
        cc.cmd = Some(vec!["/bin/sh".to_owned()]);
        cc.working_dir = Some("/random".to_owned());
        config.config = Some(cc);
        config.rootfs.diff_ids = mems.iter().map(|l| l.diff_id.clone()).collect();
        config.history = Some(
            (0..layers)
                .map(|i| {
                    History::new(
                        format!("random layer {i} of seed {seed:#x}"),
                        Some(CREATED.to_owned()),
                    )
                })
                .collect(),
        );
        // Serialising these types cannot fail (string keys only).
        let config = Raw::from_value(config).expect("a generated config serialises");

        let (manifest_mt, config_mt) = if opts.docker {
            (MediaType::DockerManifest, MediaType::DockerConfig)
        } else {
            (MediaType::OciManifest, MediaType::OciConfig)
        };
        let layer_descs = mems
            .iter()
            .map(|l| Descriptor::new(l.media_type.clone(), l.digest.clone(), l.blob.len() as u64))
            .collect();
        let manifest = Manifest::new(
            manifest_mt.clone(),
            config.descriptor(config_mt),
            layer_descs,
        );
        let manifest = Raw::from_value(manifest).expect("a generated manifest serialises");
        let descriptor = manifest.descriptor(manifest_mt);
        let layers = mems
            .into_iter()
            .map(|l| Arc::new(l) as Arc<dyn Layer>)
            .collect();
        MemImage {
            manifest,
            config,
            layers,
            descriptor,
        }
    }
}

impl Image for MemImage {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        Ok(self.layers.clone())
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.descriptor.media_type.clone())
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.config.bytes().to_vec())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.manifest.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        find_layer_by_digest(&self.layers, digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        find_layer_by_diff_id(&self.layers, diff_id)
    }
    fn size(&self) -> Result<u64> {
        Ok(self.manifest.size())
    }
    fn digest(&self) -> Result<Digest> {
        Ok(self.manifest.digest().clone())
    }
    fn manifest(&self) -> Result<Manifest> {
        Ok(self.manifest.value().clone())
    }
    fn config_name(&self) -> Result<Digest> {
        Ok(self.config.digest().clone())
    }
    fn config_file(&self) -> Result<ConfigFile> {
        Ok(self.config.value().clone())
    }
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(self.descriptor.clone())
    }
}

/// An in-memory index over children kept as objects.
struct MemIndex {
    raw: Raw<Index>,
    media_type: MediaType,
    children: Vec<(Descriptor, Child)>,
}

impl MemIndex {
    fn new(media_type: MediaType, children: Vec<(Descriptor, Child)>) -> MemIndex {
        let mut index = Index::new(media_type.clone());
        index.manifests = children.iter().map(|(d, _)| d.clone()).collect();
        let raw = Raw::from_value(index).expect("a generated index serialises");
        MemIndex {
            raw,
            media_type,
            children,
        }
    }

    fn child(&self, digest: &Digest) -> Option<&Child> {
        self.children
            .iter()
            .find(|(d, _)| &d.digest == digest)
            .map(|(_, c)| c)
    }
}

impl ImageIndex for MemIndex {
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.raw.bytes().to_vec())
    }
    fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
        match self.child(digest) {
            Some(Child::Image(i)) => Ok(Arc::clone(i)),
            _ => Err(Error::NotFound {
                what: "image",
                digest: digest.clone(),
            }),
        }
    }
    fn image_index(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>> {
        match self.child(digest) {
            Some(Child::Index(i)) => Ok(Arc::clone(i)),
            _ => Err(Error::NotFound {
                what: "index",
                digest: digest.clone(),
            }),
        }
    }
    fn index_manifest(&self) -> Result<Index> {
        Ok(self.raw.value().clone())
    }
}

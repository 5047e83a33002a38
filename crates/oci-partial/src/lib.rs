//! Full images, layers and indexes from minimal cores: the common language of ocikit.
//!
//! Every source (docker archive, OCI layout, stream, registry) produces [`Image`], [`Layer`]
//! and [`ImageIndex`] objects, and every sink (archive writer, layout, content store,
//! registry) consumes them, so no converter knows about another format. This is the Rust
//! counterpart of go-containerregistry's `pkg/v1/partial`: a source implements a small core
//! and an adapter derives the rest.
//!
//! # Contents
//! - The traits: [`Layer`], [`Image`], [`ImageIndex`] (with [`Child`]), and the crate's
//!   [`Error`].
//! - Adapters from minimal cores: [`CompressedLayer`] and [`CompressedImage`] for sources that
//!   store blobs compressed (layouts, registries), with [`DescriptorImage`] and
//!   [`DescriptorLayer`], their cores from a manifest and a [`BlobOpener`];
//!   [`UncompressedLayer`] and [`UncompressedImage`] for sources that store tars (docker
//!   archives), which compress on the fly and compute digests in one streaming pass.
//! - [`files`]: layers from a directory (a deterministic tar), a tar file, an opener, bytes.
//! - [`compression`]: detection by magic bytes, streaming gzip and zstd.
//! - [`mutate`]: scratch images, appended layers, config edits, Docker/OCI conversion, all
//!   computed lazily.
//! - [`validate_image`] and [`validate_index`]: every digest, size and diff_id checked the way
//!   go-containerregistry's `validate` does, reporting every problem found.
//! - [`find_images`], [`find_indexes`], [`find_manifests`] with composable [`Matcher`]s (by
//!   platform, media type, annotation, digest).
//! - `random` (feature `testing`): deterministic in-memory images, indexes and layers for tests
//!   of this crate and every crate after it.
//! - Helpers: [`config_layer`], [`blob_to_diff_id`], [`diff_id_to_blob`], [`descriptor`],
//!   [`artifact_type`], [`compute_manifests`], [`index_entry`], ...; [`MappedImage`] and
//!   [`MappedIndex`].
//!
//! Digests are always of bytes as stored; nothing buffers a layer; values that cost a pass
//! over a layer (digest of a compressed tar, diff_id of a compressed blob) are computed once
//! and cached.
//!
//! # Example
//! An image from an uncompressed layer core (here a tar in memory), gzip-compressed on the
//! fly, and its manifest:
//!
//! ```
//! use std::io::Read;
//! use std::sync::Arc;
//! use oci_partial::mutate::{append_layers, empty_image, Addendum, Family};
//! use oci_partial::{BlobReader, Image, Layer, Result, UncompressedLayer, UncompressedLayerCore};
//! use oci_types::{Compression, Digest, MediaType};
//!
//! /// A tar held in memory.
//! struct MemoryTar(Vec<u8>);
//!
//! impl UncompressedLayerCore for MemoryTar {
//!     fn diff_id(&self) -> Result<Digest> {
//!         Ok(Digest::sha256(&self.0))
//!     }
//!     fn uncompressed(&self) -> Result<BlobReader> {
//!         Ok(Box::new(std::io::Cursor::new(self.0.clone())))
//!     }
//!     fn media_type(&self) -> Result<MediaType> {
//!         Ok(MediaType::OciLayer)
//!     }
//! }
//!
//! let tar = vec![0u8; 2048]; // an empty tar: two zero blocks
//! let layer: Arc<dyn Layer> = Arc::new(UncompressedLayer::new(MemoryTar(tar.clone())));
//! let image = append_layers(empty_image(Family::Oci), vec![Addendum::new(layer)]);
//!
//! let manifest = image.manifest()?;
//! assert_eq!(manifest.media_type(), MediaType::OciManifest);
//! assert_eq!(manifest.layers.len(), 1);
//! let desc = &manifest.layers[0];
//! assert_eq!(desc.media_type, MediaType::OciLayerGzip);
//!
//! // The descriptor is the digest of the very bytes the layer streams.
//! let mut blob = Vec::new();
//! image.layers()?[0].compressed()?.read_to_end(&mut blob).unwrap();
//! assert_eq!(desc.digest, Digest::sha256(&blob));
//! assert_eq!(oci_partial::compression::detect(&blob), Compression::Gzip);
//!
//! // The config lists the layer's diff_id; the manifest points at the config as stored.
//! assert_eq!(image.config_file()?.rootfs.diff_ids, vec![Digest::sha256(&tar)]);
//! assert_eq!(manifest.config.digest, Digest::sha256(&image.raw_config_file()?));
//! # Ok::<(), oci_partial::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod compressed;
pub mod compression;
mod descriptor_layer;
mod error;
pub mod files;
mod find;
mod helpers;
mod image;
mod index;
mod layer;
mod mapped;
pub mod mutate;
mod parallel;
#[cfg(feature = "testing")]
pub mod random;
mod uncompressed;
mod validate;

pub use compressed::{CompressedImage, CompressedImageCore, CompressedLayer, CompressedLayerCore};
pub use descriptor_layer::{index_entry, BlobOpener, DescriptorImage, DescriptorLayer};
pub use error::{Error, InvalidKind, Result, UnsupportedKind};
pub use find::{find_images, find_indexes, find_manifests, Matcher};
pub use helpers::{
    artifact_type, blob_to_diff_id, compute_manifests, config_layer, descriptor, diff_id_to_blob,
    exists, uncompressed_size, Describe,
};
pub use image::{find_layer_by_diff_id, find_layer_by_digest, Image};
pub use index::{Child, ImageIndex};
pub use layer::{BlobReader, Layer};
pub use mapped::{MappedImage, MappedIndex};
pub use parallel::for_each_parallel;
pub use uncompressed::{
    UncompressedImage, UncompressedImageCore, UncompressedLayer, UncompressedLayerCore,
};
pub use validate::{
    digest_layer, validate_image, validate_index, Check, LayerDigests, Location, Problem,
    ProblemKind, ValidateOptions, ValidationReport, ValueSource,
};

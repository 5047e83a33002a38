//! docker save archives (`docker-archive`): read and written, interoperable with Docker,
//! podman and skopeo. The Rust counterpart of containers/image's `docker/internal/tarfile`.
//!
//! - [`Reader`] indexes an archive (one pass over the tar headers, layer data never read to
//!   open it) and parses `manifest.json` into [`ManifestItem`]s;
//!   [`Reader::choose_manifest_item`] picks an image by tag, by index, or the only one.
//! - [`Source`] is one image of an archive as an [`oci_partial::Image`]: a Docker schema2
//!   manifest built from the config and the layers as stored, blobs streamed and verified.
//! - [`Writer`] writes an archive of one or more images, each config and layer once, from any
//!   [`oci_partial::Image`] (streaming layers included) in one pass, deterministically.
//! - [`StreamWriter`] writes the same archive, byte for byte, to any `io::Write` that cannot
//!   seek (a pipe, stdout), spooling only a layer whose size is unknown until it is read.
//! - [`Destination`] puts an image blob by blob (`put_blob`, `put_manifest`,
//!   `add_repo_tags`, `commit`), verifying as bytes flow.
//! - [`limits`] lists the caps on untrusted sizes; [`Error`] is the crate's one error type.
//!
//! The three shapes real tools write are read: the classic one (`<hex>.json` configs,
//! `<hex>.tar` or `<id>/layer.tar` layers, legacy `repositories` and `<id>/json`), the hybrid
//! one of Docker 25 and later (an OCI layout inside, `manifest.json` pointing into `blobs/`),
//! and archives whose duplicate layers are symbolic or hard links to one file. Layers
//! compressed inside an archive (gzip, zstd) are detected and described as such.
//!
//! # Limits
//! An archive is untrusted input. `manifest.json` may be at most 4 MiB and a config 16 MiB;
//! an archive may hold at most 100 000 entries, with names and link targets of at most 4096
//! bytes, and links are followed at most 16 hops ([`limits`] has the constants). Layers have
//! no cap: they are never held in memory, only streamed.
//!
//! ```
//! use std::sync::Arc;
//! use oci_partial::{BlobReader, Image, Layer};
//! use oci_tarfile::{Reader, Source, Writer};
//! use oci_types::{Descriptor, Digest, MediaType};
//!
//! // A one-layer image held in memory: the smallest `oci_partial::Image`.
//! struct Mem { layer: Vec<u8>, config: Vec<u8> }
//! impl Layer for Mem {
//!     fn digest(&self) -> oci_partial::Result<Digest> { Ok(Digest::sha256(&self.layer)) }
//!     fn diff_id(&self) -> oci_partial::Result<Digest> { self.digest() }
//!     fn compressed(&self) -> oci_partial::Result<BlobReader> { Ok(Box::new(std::io::Cursor::new(self.layer.clone()))) }
//!     fn uncompressed(&self) -> oci_partial::Result<BlobReader> { self.compressed() }
//!     fn size(&self) -> oci_partial::Result<u64> { Ok(self.layer.len() as u64) }
//!     fn media_type(&self) -> oci_partial::Result<MediaType> { Ok(MediaType::DockerLayer) }
//! }
//! struct Img(Arc<Mem>);
//! impl Image for Img {
//!     fn layers(&self) -> oci_partial::Result<Vec<Arc<dyn Layer>>> { Ok(vec![self.0.clone()]) }
//!     fn media_type(&self) -> oci_partial::Result<MediaType> { Ok(MediaType::DockerManifest) }
//!     fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> { Ok(self.0.config.clone()) }
//!     fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
//!         Err(oci_partial::Error::Unsupported { kind: oci_partial::UnsupportedKind::NotProvided { method: "raw_manifest" } })
//!     }
//!     fn layer_by_digest(&self, _: &Digest) -> oci_partial::Result<Arc<dyn Layer>> { Ok(self.0.clone()) }
//!     fn layer_by_diff_id(&self, _: &Digest) -> oci_partial::Result<Arc<dyn Layer>> { Ok(self.0.clone()) }
//! }
//!
//! // An empty tar (two zero blocks) as the layer, and a config naming it.
//! let layer = vec![0u8; 1024];
//! let config = format!(
//!     r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
//!     Digest::sha256(&layer),
//! ).into_bytes();
//! let image = Img(Arc::new(Mem { layer: layer.clone(), config }));
//!
//! // Write it into an archive, then read it back.
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("image.tar");
//! let mut writer = Writer::create(&path)?;
//! writer.add_image(&image, &["example.com/demo:1".parse()?])?;
//! writer.commit()?;
//!
//! let reader = Arc::new(Reader::from_file(&path)?);
//! assert_eq!(reader.manifest()[0].repo_tags, ["example.com/demo:1"]);
//! let source = Source::new(reader, Some(&"example.com/demo:1".parse()?), None)?;
//! let manifest = source.manifest()?;
//! assert_eq!(manifest.layers[0].media_type, MediaType::DockerLayer);
//! assert_eq!(manifest.layers[0].digest, Digest::sha256(&layer));
//! let mut blob = Vec::new();
//! std::io::copy(&mut source.blob(&manifest.layers[0].digest)?, &mut blob)?;
//! assert_eq!(blob, layer);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Cargo features
//! - `fuzzing`: the module `oci_tarfile::fuzzing`, the tar indexer alone for the fuzz targets
//!   in the repository's `fuzz/`; not a stable API.
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod compression;
mod dest;
mod error;
mod layer;
mod legacy;
pub mod limits;
mod manifest_item;
mod path;
mod reader;
mod source;
mod storage;
mod stream_writer;
mod tags;
mod tar;
mod writer;

/// The tar indexer alone, for the fuzz targets (feature `fuzzing`). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use std::sync::Arc;

    /// The entries of an uncompressed tar held in memory, as [`crate::Reader`] indexes them
    /// before it looks for `manifest.json`.
    pub fn index_entries(tar: &[u8]) -> crate::Result<Vec<crate::Entry>> {
        crate::reader::index_entries(&crate::storage::Storage::Memory(Arc::from(tar)))
    }
}

pub use dest::{Blob, BlobInfo, Destination};
pub use error::{
    BadHeaderKind, CountedImage, Error, InvalidManifestKind, InvalidTagKind, PaxRecordError,
    Result, TruncatedKind,
};
pub use manifest_item::ManifestItem;
pub use reader::{Entry, EntryReader, Reader, MANIFEST_FILE};
pub use source::Source;
pub use stream_writer::StreamWriter;
pub use tar::EntryKind;
pub use writer::{LayerStorage, Writer, WriterOptions};

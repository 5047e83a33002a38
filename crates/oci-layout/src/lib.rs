//! OCI image layout directories (the format of skopeo's `oci:` transport, umoci and
//! go-containerregistry's `layout`) on top of the local content store of [`oci_content`].
//!
//! A layout is a directory with an `oci-layout` file, an `index.json` and `blobs/ALG/HEX`; the
//! [`oci_content::LocalStore`] rooted at the same directory holds the blobs, so every blob is
//! written through a verified, crash-safe ingest.
//!
//! # Contents
//! - [`Layout`]: [`create`](Layout::create), [`open`](Layout::open) or
//!   [`open_or_create`](Layout::open_or_create) a layout.
//! - Writing: [`write_image`](Layout::write_image) and [`write_index`](Layout::write_index)
//!   take any [`oci_partial::Image`] or [`oci_partial::ImageIndex`] (also one-shot streaming
//!   layers); [`write_layer`](Layout::write_layer), [`write_blob`](Layout::write_blob). Blobs
//!   the layout has are skipped without being read; everything else is verified as it flows.
//! - `index.json`: [`append_descriptor`](Layout::append_descriptor),
//!   [`replace_descriptor`](Layout::replace_descriptor),
//!   [`remove_descriptor`](Layout::remove_descriptor), [`update_index`](Layout::update_index):
//!   atomic, and serialised across processes by a file lock.
//! - Reading: [`image_by_ref`](Layout::image_by_ref),
//!   [`image_by_digest`](Layout::image_by_digest),
//!   [`image_by_platform`](Layout::image_by_platform), [`index_by_ref`](Layout::index_by_ref),
//!   the whole layout as an [`ImageIndex`](oci_partial::ImageIndex)
//!   ([`image_index`](Layout::image_index)), verified blob readers
//!   ([`open_blob`](Layout::open_blob)).
//! - [`gc`](Layout::gc): removes the blobs nothing in `index.json` reaches ([`GcReport`]).
//! - [`check_ref_name`]: the OCI ref name grammar; [`Error`]: this crate's errors.
//!
//! # On disk
//! Besides `oci-layout`, `index.json` and `blobs/`, a layout written by this crate holds two
//! empty lock files, `index.json.lock` and `gc.lock` (never removed: removing a lock file lets
//! two processes lock two different files), and, while a write is under way or after one was
//! interrupted, the store's `ingest/` directory. skopeo, umoci and oci-image-tool ignore all
//! three (the interoperability tests check it).
//!
//! # Example
//! ```
//! use oci_layout::Layout;
//! use oci_partial::{random, validate_image, Image, ValidateOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let layout = Layout::create(dir.path().join("layout"))?;
//!
//! // An image of two gzip layers (built in memory for the example).
//! let image = random::image(7, 2, 4096);
//! let desc = layout.write_image(image.as_ref(), Some("app:1.0"))?;
//! assert_eq!(desc.digest, image.digest()?);
//! assert_eq!(desc.ref_name(), Some("app:1.0"));
//! assert_eq!(desc.platform.as_ref().map(|p| p.to_string()).as_deref(), Some("linux/amd64"));
//!
//! // Read it back: the manifest and config are checked now, the layers as they are read.
//! let back = layout.image_by_ref("app:1.0")?;
//! assert_eq!(back.raw_manifest()?, image.raw_manifest()?);
//! validate_image(back.as_ref(), ValidateOptions::default())?;
//!
//! // Writing it again writes nothing new; dropping the tag lets gc remove all its blobs.
//! layout.write_image(image.as_ref(), Some("app:1.0"))?;
//! assert_eq!(layout.index()?.manifests.len(), 1);
//! layout.remove_descriptor(&oci_partial::Matcher::any())?;
//! assert_eq!(layout.gc()?.removed.len(), 4); // manifest, config, 2 layers
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod error;
mod files;
mod gc;
mod layout;
mod read;
mod refname;
mod write;

pub use error::{Error, NotALayoutKind, Result};
pub use files::IMAGE_LAYOUT_VERSION;
pub use gc::GcReport;
pub use layout::Layout;
pub use read::BlobVerifier;
pub use refname::check_ref_name;
pub use write::PARALLEL_LAYERS;

/// How deep indexes may nest in indexes before reads and writes stop with
/// [`Error::TooDeep`] (`oci_types::limits::MAX_INDEX_NESTING`).
pub use oci_types::limits::MAX_INDEX_NESTING as MAX_NESTING;

//! Copying images between every transport, as a library call: what `skopeo copy` does, for
//! Rust programs. The counterpart of containers/image's `copy.Image` with
//! `alltransports.ParseImageName`, and of go-containerregistry's `crane.Copy`.
//!
//! - [`ImageName`] parses and prints skopeo's names: `docker-archive:PATH[:NAME:TAG|:@N]`,
//!   `oci:DIR[:REF]`, `oci-archive:PATH[:REF]`, `dir:PATH`, `docker://HOST/REPO[:TAG|@DIGEST]`,
//!   `docker-daemon:NAME:TAG|ID`; an unknown transport is [`Error::UnknownTransport`] with the
//!   closest one suggested, never a file path.
//! - [`open_source`] opens a name as an `oci_partial` image or index; [`open_images`] lists
//!   every image a name holds.
//! - [`copy`] copies one name to another under [`CopyOptions`] (platforms, layer
//!   compression, `preserve_digests`, registry clients, parallel jobs, a [`Progress`]
//!   reporter, cancellation) and returns a [`CopyReport`]: the digest written and, per blob,
//!   whether it was copied, reused, mounted or recompressed.
//!
//! Every byte is verified as it flows (digests and sizes of the source), layers are streamed
//! and never held whole, and nothing is half-written: each destination is written beside
//! itself and renamed into place, or (an existing OCI layout) gets its blobs and then one
//! atomic `index.json` update. A failed, cancelled or dropped copy removes its temporary
//! files.
//!
//! # Example
//! ```
//! use oci_copy::{copy, CopyOptions, ImageName, LayerCompression};
//!
//! let dir = tempfile::tempdir()?;
//! // An OCI layout made from a random image, then copied into a docker archive and back.
//! let image = oci_partial::random::image(1, 2, 1024);
//! let layout = oci_layout::Layout::create(dir.path().join("lay"))?;
//! layout.write_image(image.as_ref(), Some("v1"))?;
//!
//! let src: ImageName = format!("oci:{}:v1", dir.path().join("lay").display()).parse()?;
//! let dst: ImageName = format!("docker-archive:{}:example.com/app:v1", dir.path().join("app.tar").display()).parse()?;
//! let report = copy(&src, &dst, &CopyOptions::default())?;
//! println!("wrote {dst} ({})", report.written);
//!
//! let mut options = CopyOptions::default();
//! options.compression = LayerCompression::Zstd(None);
//! let back: ImageName = format!("oci:{}:v2", dir.path().join("lay").display()).parse()?;
//! let report = copy(&dst, &back, &options)?;
//! assert!(report.blobs.iter().any(|b| b.outcome == oci_copy::BlobOutcome::Recompressed));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod archive;
mod blobs;
mod cleanup;
mod copy;
mod daemon;
mod dir;
mod error;
mod legacy;
mod name;
mod ociarchive;
mod options;
mod progress;
mod report;
mod sink;
mod source;

pub use cleanup::remove_temporaries;
pub use copy::copy;
pub use error::{Error, NameProblem, OptionsProblem, Result};
pub use name::{ArchiveSelector, DaemonImage, ImageName, TRANSPORTS};
pub use options::{CopyOptions, LayerCompression, Platforms, DEFAULT_GZIP_LEVEL, DEFAULT_PLATFORM};
pub use progress::{NoProgress, Progress};
pub use report::{BlobOutcome, BlobReport, CopyReport, Written};
pub use sink::{stream_threads, write_image, write_index};
pub use source::{open_image, open_images, open_source, Content, NamedImage, Source};

//! A layer read once from a reader: compressed, hashed and counted in one pass (the
//! counterpart of go-containerregistry's `pkg/v1/stream`).
//!
//! ```
//! use std::io::Read;
//! use oci_partial::{Error, Layer};
//! use oci_stream::StreamLayer;
//! use oci_types::Digest;
//!
//! let tar = b"pretend this is a tar".repeat(1000);
//! let layer = StreamLayer::new(std::io::Cursor::new(tar.clone()));
//! assert!(matches!(layer.digest(), Err(Error::NotComputed { .. })));
//!
//! let mut blob = Vec::new();
//! layer.compressed().unwrap().read_to_end(&mut blob).unwrap();
//! assert_eq!(layer.digest().unwrap(), Digest::sha256(&blob));
//! assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&tar));
//! assert_eq!(layer.size().unwrap(), blob.len() as u64);
//! assert!(matches!(layer.compressed(), Err(Error::Consumed)));
//! ```
//!
//! # Output
//!
//! The input is cut into blocks of a fixed size ([`Options::block_size`], 1 MiB by
//! default for gzip, 2 MiB for zstd), counted from the start of the input, and each block is compressed on its own by
//! a worker thread, while the thread that reads the layer reads the source and hashes input
//! and output. For gzip each block becomes deflate blocks ended by a sync flush (deflated by
//! ISA-L's igzip at level 1, by libdeflate at levels 2 to 12, or stored when that is smaller
//! or when samples of the block do not compress), joined into **one gzip member**: one
//! header, the blocks, an empty final block, the CRC-32 and size of the whole input. Every
//! decoder reads it whole, including those that stop after the first member
//! (`flate2::read::GzDecoder`, tested) as well as `gzip -d`, umoci and skopeo (tested). For
//! zstd each block is a complete zstd frame. The output bytes are a function of the input, the compression, the level and the
//! block size alone: not of the thread count, the timing or the sizes of reads, so
//! reproducible builds get the same digest everywhere.
//!
//! Memory stays bounded whatever the input size: three blocks per thread are in flight, each
//! with its input and output (17 MiB peak RSS for a whole process compressing 4 GiB with the
//! defaults on 2 cores).
//!
//! - [`StreamLayer`]: the layer, an ordinary [`oci_partial::Layer`].
//! - [`Options`]: compression, level, media type, threads, block size.
//! - [`LiveThreads`]: counts a layer's running compression threads.
//! - [`Error`]: invalid options.
// `unsafe` is denied everywhere but in `isal`, the binding of ISA-L's deflate (ARCHITECTURE,
// dependencies); the rest of the workspace forbids it.
#![deny(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod codec;
mod error;
#[cfg(feature = "isal")]
mod isal;
mod layer;
mod options;
mod pipeline;
mod reader;
mod scan;

pub use error::{Error, Result};
pub use layer::{LiveThreads, StreamLayer};
pub use options::{
    Options, DEFAULT_BLOCK_SIZE, DEFAULT_GZIP_LEVEL, DEFAULT_ZSTD_BLOCK_SIZE, DEFAULT_ZSTD_LEVEL,
    MAX_BLOCK_SIZE, MAX_GZIP_LEVEL, MAX_THREADS, MAX_ZSTD_LEVEL, MIN_BLOCK_SIZE,
};

//! Full images, layers and indexes from minimal cores: the common language of ocikit.
//!
//! Every source (docker archive, OCI layout, stream, registry) produces [`Image`], [`Layer`]
//! and [`ImageIndex`] objects, and every sink (archive writer, layout, content store,
//! registry) consumes them, so no converter knows about another format. This is the Rust
//! counterpart of go-containerregistry's `pkg/v1/partial`: a source implements a small core
//! and an adapter derives the rest.
//!
//! (Crate overview and runnable example: being written with issue 3.)
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod compression;
mod compressed;
mod described;
mod error;
mod find;
mod helpers;
mod image;
mod index;
mod layer;
pub mod mutate;
#[cfg(feature = "testing")]
pub mod random;
mod uncompressed;
mod validate;

pub use described::{DescribedImage, DescribedIndex};
pub use error::{Error, Result};
pub use image::{find_layer_by_diff_id, find_layer_by_digest, Image};
pub use index::{Child, ImageIndex};
pub use layer::{BlobReader, Layer};

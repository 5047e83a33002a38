//! The ocikit facade: one dependency for the whole toolkit. Each crate is re-exported as a
//! module.
//!
//! ```
//! let d = ocikit::types::Digest::sha256(b"");
//! assert_eq!(d.algorithm().as_str(), "sha256");
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

pub use oci_content as content;
pub use oci_copy as copy;
pub use oci_layout as layout;
pub use oci_partial as partial;
pub use oci_remote as remote;
pub use oci_stream as stream;
pub use oci_tarfile as tarfile;
pub use oci_types as types;
pub use oci_unpack as unpack;

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

//! OCI image-spec 1.1 and Docker schema2 types, parsed strictly and kept byte-exact.
//!
//! This is the crate every other ocikit crate speaks: [`Digest`] and the hashers that make
//! digests ([`Digester`], [`VerifyingReader`]), [`MediaType`], [`Descriptor`], [`Platform`],
//! [`Manifest`], [`Index`], [`ConfigFile`], the byte-preserving [`Raw`] wrapper, and image
//! [`Reference`]s in distribution's grammar.
//!
//! ```
//! use oci_types::{ConfigFile, Descriptor, Digest, Manifest, MediaType, Raw, Reference};
//!
//! // A config and a manifest that points at it.
//! let config = Raw::<ConfigFile>::parse(
//!     br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec(),
//! ).unwrap();
//! let manifest = Manifest::new(MediaType::OciManifest, config.descriptor(MediaType::OciConfig), vec![]);
//! let manifest = Raw::from_value(manifest).unwrap();
//! assert_eq!(manifest.digest(), &Digest::sha256(manifest.bytes()));
//! assert_eq!(manifest.config.digest, *config.digest());
//!
//! // References normalise as docker does.
//! let r: Reference = "busybox".parse().unwrap();
//! assert_eq!(r.to_string(), "docker.io/library/busybox");
//! assert_eq!(r.familiar(), "busybox");
//! ```
//!
//! # Cargo features
//! - `oci-spec`: `From`/`TryFrom` conversions to and from the `oci-spec` crate's image types.
//!
//! # Limits
//! Every parser of outside input is bounded by the constants in [`limits`].
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

pub mod base64;
mod config;
mod descriptor;
mod digest;
mod error;
pub mod fs;
mod hashing;
mod index;
pub mod json;
pub mod limits;
mod manifest;
mod media_type;
#[cfg(feature = "oci-spec")]
mod oci_spec;
mod platform;
mod raw;
mod reference;
mod verify;

pub use config::{ConfigFile, ContainerConfig, Healthcheck, History, RootFs};
pub use descriptor::{Annotations, Descriptor, ANNOTATION_REF_NAME};
pub use digest::{Algorithm, Digest, Digester};
pub use error::{Error, InvalidKind, ReferenceErrorKind};
pub use hashing::{HashingReader, OnEnd};
pub use index::Index;
pub use manifest::Manifest;
pub use media_type::{Compression, MediaType};
pub use platform::Platform;
pub use raw::{Document, Raw};
pub use reference::Reference;
pub use verify::VerifyingReader;

/// Unknown JSON fields kept beside the known ones, so a parse/serialise round trip keeps them.
pub type Extra = serde_json::Map<String, serde_json::Value>;

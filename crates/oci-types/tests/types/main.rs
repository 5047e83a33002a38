#![allow(clippy::unwrap_used)] // tests: helper functions unwrap freely
//! Integration tests of oci-types: the spec's example documents, the shared fixtures written
//! by real tools, error cases, property tests and the `oci-spec` conversions.

mod descriptor_data;
mod errors;
mod examples;
mod fixtures;
mod fs;
#[cfg(feature = "oci-spec")]
mod oci_spec;
mod props;
mod reference;
mod unknown_fields;

use std::path::PathBuf;

/// A file of `tests/data/`.
pub fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The shared fixtures folder (`fixtures/` at the repository root).
pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures")).join(rel)
}

/// The manifest fixtures of `tests/data/`.
pub const MANIFESTS: &[&str] = &[
    "oci-image-manifest.json",
    "oci-artifact-manifest.json",
    "oci-artifact-manifest-layer.json",
    "artifact-with-subject.json",
    "docker-manifest.json",
    "docker-hub-manifest.json",
];

/// The index fixtures of `tests/data/`.
pub const INDEXES: &[&str] = &[
    "oci-image-index.json",
    "oci-image-index-nested.json",
    "oci-image-index-os-features.json",
    "docker-manifest-list.json",
    "docker-hub-manifest-list.json",
    "docker-manifest-list-windows.json",
];

/// The config fixtures of `tests/data/`.
pub const CONFIGS: &[&str] = &[
    "oci-config.json",
    "docker-hub-config-docker.json",
    "docker-hub-config-fedora.json",
    "docker-config-nulls.json",
];

/// Parses a digest literal.
pub fn digest(s: &str) -> oci_types::Digest {
    s.parse().unwrap()
}

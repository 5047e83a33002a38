//! What a copy did.

use std::fmt;

use oci_types::Digest;

/// What a copy wrote, and what happened to each blob.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyReport {
    /// The identity of what was written.
    pub written: Written,
    /// Each blob of the destination (layers, then configs), once, in the order met.
    pub blobs: Vec<BlobReport>,
}

/// The identity of what a copy wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Written {
    /// Into a docker archive or a Docker Engine: the image ID (the config's digest; such
    /// images keep no manifest of their own).
    ImageId(Digest),
    /// An image manifest's digest.
    Manifest(Digest),
    /// An index's digest.
    Index(Digest),
}

impl Written {
    /// The digest (what skopeo's `--digestfile` holds).
    pub fn digest(&self) -> &Digest {
        match self {
            Written::ImageId(d) | Written::Manifest(d) | Written::Index(d) => d,
        }
    }
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Written::ImageId(d) => write!(f, "image ID {d}"),
            Written::Manifest(d) => write!(f, "manifest {d}"),
            Written::Index(d) => write!(f, "index {d}"),
        }
    }
}

/// One blob of the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobReport {
    /// Its digest in the destination.
    pub digest: Digest,
    /// Its size in the destination.
    pub size: u64,
    /// What happened to it.
    pub outcome: BlobOutcome,
}

/// What happened to a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobOutcome {
    /// Sent as it was stored in the source.
    Copied,
    /// Already in the destination: nothing sent.
    Reused,
    /// Mounted from another repository of the same registry: nothing sent.
    Mounted,
    /// Recompressed (or decompressed) on the way: a new blob.
    Recompressed,
}

impl fmt::Display for BlobOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlobOutcome::Copied => "copied",
            BlobOutcome::Reused => "reused",
            BlobOutcome::Mounted => "mounted",
            BlobOutcome::Recompressed => "recompressed",
        })
    }
}

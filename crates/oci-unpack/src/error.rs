//! The crate's one error type.

use std::io;
use std::path::PathBuf;

use oci_types::Digest;

/// Why an entry of a layer is refused: what a hostile (or broken) layer tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hostile {
    /// A path with a `..` component.
    ParentDir,
    /// An absolute path (`/etc/passwd`); layer paths are relative to the root.
    Absolute,
    /// A hard link whose target has a `..` component or is absolute.
    LinkOutside,
    /// A hard link whose target does not exist (in this or an earlier layer) or is a
    /// directory.
    LinkTarget,
    /// A path that goes through a symbolic link, when
    /// [`SymlinkPolicy::Reject`](crate::SymlinkPolicy::Reject) is chosen.
    SymlinkInPath,
    /// A path that goes through something that is not a directory.
    NotADirectory,
    /// A whiteout naming `.`, `..` or nothing (`.wh.`, `.wh..`, `.wh...`).
    BadWhiteout,
    /// A root entry (`./`) that is not a directory.
    RootNotDirectory,
    /// A path or link target with a NUL byte or longer than
    /// [`limits::MAX_PATH`](crate::limits::MAX_PATH).
    BadName,
    /// A path deeper than [`limits::MAX_DEPTH`](crate::limits::MAX_DEPTH) components.
    TooDeep,
    /// More entries than [`Options::max_entries`](crate::Options::max_entries).
    TooManyEntries,
    /// A sparse file bigger than [`Options::max_sparse_size`](crate::Options::max_sparse_size).
    SparseTooLarge,
}

impl std::fmt::Display for Hostile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Hostile::ParentDir => "path has a `..` component",
            Hostile::Absolute => "absolute path",
            Hostile::LinkOutside => "hard link target outside the root",
            Hostile::LinkTarget => "hard link target missing or a directory",
            Hostile::SymlinkInPath => "path goes through a symbolic link",
            Hostile::NotADirectory => "path goes through a non-directory",
            Hostile::BadWhiteout => "whiteout of `.`, `..` or nothing",
            Hostile::RootNotDirectory => "root entry is not a directory",
            Hostile::BadName => "name with a NUL byte or too long",
            Hostile::TooDeep => "path too deep",
            Hostile::TooManyEntries => "too many entries",
            Hostile::SparseTooLarge => "sparse file too large",
        })
    }
}

/// Errors of oci-unpack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An entry of layer `layer` (0-based) was refused.
    #[error("layer {layer}: entry {entry:?}: {kind}")]
    Hostile {
        /// The layer's position in the image, from 0 (the bottom one).
        layer: usize,
        /// The entry's name as the tar has it (lossily UTF-8).
        entry: String,
        /// What is wrong with it.
        kind: Hostile,
    },
    /// Writing entry `entry` of layer `layer` failed.
    #[error("layer {layer}: entry {entry:?}: {source}")]
    Entry {
        /// The layer's position in the image, from 0.
        layer: usize,
        /// The entry's name as the tar has it.
        entry: String,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// Layer `layer` is not a readable tar (truncated, corrupt header, read error).
    #[error("layer {layer}: reading the tar: {source}")]
    Tar {
        /// The layer's position in the image, from 0.
        layer: usize,
        /// The error of the tar reader.
        #[source]
        source: io::Error,
    },
    /// Layer `layer`'s uncompressed content is not what the config's diff_id says.
    #[error("layer {layer}: diff_id mismatch: expected {expected}, got {actual}")]
    DiffIdMismatch {
        /// The layer's position in the image, from 0.
        layer: usize,
        /// The config's diff_id.
        expected: Digest,
        /// The digest of what was read.
        actual: Digest,
    },
    /// The config lists a different number of diff_ids than the manifest has layers.
    #[error("the config has {diff_ids} diff_ids for {layers} layers")]
    LayerCount {
        /// Layers in the manifest.
        layers: usize,
        /// diff_ids in the config.
        diff_ids: usize,
    },
    /// Reading the image (manifest, config, a layer's blob) failed.
    #[error("reading the image: {0}")]
    Image(#[from] oci_partial::Error),
    /// The destination of an unpack already exists.
    #[error("{}: already exists", path.display())]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// A filesystem operation on `path` (the destination, its parent) failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path operated on.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// Writing the exported tar failed.
    #[error("writing the tar: {0}")]
    Write(#[source] io::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! A content store after containerd's: blobs addressed by digest, written through resumable,
//! verified ingests.
//!
//! - The interfaces: [`Provider`] (read blobs through a
//!   [`ReaderAt`]), [`Ingester`] (open a [`Writer`]), [`Manager`] (info, labels, walk,
//!   delete), [`IngestManager`] (status, list, abort), and [`Store`], all four.
//! - The stores: [`LocalStore`], a directory in containerd's `content/local` format, crash
//!   safe and locked across processes; [`MemoryStore`].
//! - Helpers: [`copy`], [`copy_seek`], [`copy_reader`],
//!   [`copy_reader_at`], [`read_blob`], [`write_blob`], [`open_writer`], [`exists`],
//!   [`open_reader`].
//! - [`filters`]: containerd's filter syntax for [`Manager::walk`] and
//!   [`IngestManager::list_statuses`].
//! - Records: [`Info`], [`Status`], [`WriterOpts`], [`CommitOpts`], [`Labels`]; errors:
//!   [`Error`], sorted into containerd's classes ([`Class`]).
//!
//! ```
//! use std::io::Write;
//! use oci_content::{read_blob, CommitOpts, Ingester, LocalStore, Manager, WriterOpts};
//! use oci_types::{Descriptor, MediaType};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = LocalStore::open(dir.path()).unwrap();
//! let blob = b"hello, content store";
//! let desc = Descriptor::of_bytes(MediaType::OciLayer, blob);
//!
//! // Write half, drop the writer: the ingest stays, and a new writer resumes it.
//! let mut w = store.writer(WriterOpts::new("upload-1").with_descriptor(desc.clone())).unwrap();
//! w.write_all(&blob[..5]).unwrap();
//! drop(w);
//! let mut w = store.writer(WriterOpts::new("upload-1").with_descriptor(desc.clone())).unwrap();
//! assert_eq!(w.status().unwrap().offset, 5);
//! w.write_all(&blob[5..]).unwrap();
//! w.commit(Some(desc.size), Some(&desc.digest), CommitOpts::new()).unwrap();
//!
//! assert_eq!(read_blob(&store, &desc, 1 << 20).unwrap(), blob);
//! assert!(store.blob_path(&desc.digest).ends_with(desc.digest.encoded()));
//! assert_eq!(store.info(&desc.digest).unwrap().size, desc.size);
//! ```
//!
//! # Cargo features
//! - `testsuite`: the module `oci_content::testsuite`, the conformance suite any [`Store`]
//!   should pass (containerd's `content/testsuite`, grown).
//! - `fuzzing`: the module `oci_content::fuzzing`, internal parsers for the fuzz targets in
//!   the repository's `fuzz/`; not a stable API.
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod error;
pub mod filters;
mod helpers;
mod info;
mod local;
mod memory;
mod reader;
#[cfg(feature = "testsuite")]
pub mod testsuite;
mod timefmt;
mod traits;

/// Internal parsers of outside input, for the fuzz targets (feature `fuzzing`). Not a stable
/// API: it changes whenever the internals do.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use std::time::SystemTime;

    /// Parses a containerd `startedat`/`updatedat` timestamp (RFC 3339, as Go writes it).
    pub fn parse_time(s: &str) -> Option<SystemTime> {
        crate::timefmt::parse(s)
    }

    /// Formats a time as containerd writes it (Go's `time.RFC3339Nano`, UTC).
    pub fn format_time(t: SystemTime) -> String {
        crate::timefmt::format(t)
    }
}

pub use error::{Class, Error, InvalidArgumentKind, Precondition, Result, Subject};
pub use helpers::{
    copy, copy_reader, copy_reader_at, copy_reader_hashed, copy_seek, exists, open_reader,
    open_writer, read_blob, write_blob, COPY_BUFFER_SIZE, DEFAULT_LOCK_TIMEOUT,
};
pub use info::{validate_labels, CommitOpts, Info, Labels, Status, WriterOpts, MAX_LABEL_SIZE};
pub use local::{LocalStore, LocalWriter};
pub use memory::{MemoryStore, MemoryWriter};
pub use reader::{BytesReaderAt, SectionReader};
pub use traits::{IngestManager, Ingester, Manager, Provider, ReaderAt, Store, Writer};

//! The interfaces of a content store, after containerd's `content` package.

use std::io::{self, Read, Write};

use oci_types::{Descriptor, Digest, HashingReader};

use crate::{CommitOpts, Info, Result, Status, WriterOpts};

/// Positional reads of one blob, safe to share between threads.
///
/// A sequential [`std::io::Read`] + [`std::io::Seek`] view is [`crate::SectionReader`]
/// (`SectionReader::new(reader_at)`).
pub trait ReaderAt: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; `Ok(0)` at or past the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// The blob's size in bytes.
    fn size(&self) -> u64;
}

impl<R: ReaderAt + ?Sized> ReaderAt for Box<R> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
}

impl<R: ReaderAt + ?Sized> ReaderAt for &R {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
}

impl<R: ReaderAt + ?Sized> ReaderAt for std::sync::Arc<R> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
}

/// Reads committed blobs.
pub trait Provider: Send + Sync {
    /// A positional reader of the blob `desc` names. Only `desc.digest` is needed, except that
    /// a descriptor carrying embedded `data` (OCI 1.1) whose length and digest match is served
    /// from that data without touching the store.
    ///
    /// [`crate::Error::NotFound`] when the store does not have the blob.
    fn reader_at(&self, desc: &Descriptor) -> Result<Box<dyn ReaderAt>>;
}

/// Starts or resumes writes.
pub trait Ingester: Send + Sync {
    /// A writer for the ingest named by `opts.reference`: a new one, or the existing ingest
    /// continued at its offset (the data already there is re-hashed).
    ///
    /// Errors: [`crate::Error::Unavailable`] when another writer holds the ref,
    /// [`crate::Error::AlreadyExists`] when `opts.desc` names a blob the store has,
    /// [`crate::Error::InvalidArgument`] for an empty ref.
    fn writer(&self, opts: WriterOpts) -> Result<Box<dyn Writer>>;
}

/// Inspects, lists, labels and removes committed blobs.
pub trait Manager: Send + Sync {
    /// What the store knows about a blob; [`crate::Error::NotFound`] when it has none.
    fn info(&self, digest: &Digest) -> Result<Info>;

    /// Updates the mutable fields of `info.digest`'s record and returns the new record.
    /// With no `fieldpaths` (or `"labels"`) the labels are replaced by `info.labels`;
    /// `"labels.KEY"` sets that one label from `info.labels`, or removes it when `info.labels`
    /// lacks it. Other field paths are [`crate::Error::InvalidArgument`].
    fn update(&self, info: &Info, fieldpaths: &[&str]) -> Result<Info>;

    /// Calls `f` for each blob matching any of `filters` (all blobs when `filters` is empty),
    /// in no particular order; stops at the first error `f` returns. See [`crate::filters`]
    /// for the syntax; fields: `digest`, `size`, `labels.KEY`.
    fn walk(&self, filters: &[&str], f: &mut dyn FnMut(Info) -> Result<()>) -> Result<()>;

    /// Removes a blob (and its labels); [`crate::Error::NotFound`] when absent. Readers
    /// already open keep reading it.
    fn delete(&self, digest: &Digest) -> Result<()>;
}

/// Inspects and cancels ingests.
pub trait IngestManager: Send + Sync {
    /// The status of the ingest `reference`; [`crate::Error::NotFound`] when there is none.
    fn status(&self, reference: &str) -> Result<Status>;

    /// The status of every ingest matching any of `filters` (all when empty); field: `ref`.
    fn list_statuses(&self, filters: &[&str]) -> Result<Vec<Status>>;

    /// Removes the ingest `reference` and its data. [`crate::Error::NotFound`] when there is
    /// none; [`crate::Error::Unavailable`] while a writer holds it (close the writer first).
    fn abort(&self, reference: &str) -> Result<()>;
}

/// A whole content store: all four interfaces.
pub trait Store: Provider + Ingester + Manager + IngestManager {}

impl<T: Provider + Ingester + Manager + IngestManager + ?Sized> Store for T {}

/// A write into a store: bytes go in through [`Write`], then [`Writer::commit`] makes them a
/// blob.
///
/// Dropping (or [`Writer::close`]-ing) a writer without committing keeps the ingest: a writer
/// opened later with the same ref continues where this one stopped.
pub trait Writer: Write + Send {
    /// The digest of the bytes written so far (after a commit: of the committed blob).
    fn digest(&self) -> Digest;

    /// The ingest's status as this writer sees it.
    fn status(&self) -> Result<Status>;

    /// Copies `reader` to its end into this writer, after the bytes it has; returns the
    /// number of bytes copied. Errors of the reader are [`crate::Error::Copy`].
    ///
    /// `reader` hashes what it hands out, so a writer may take its digest for these bytes
    /// instead of hashing them a second time: [`crate::LocalWriter`] does when its ingest was
    /// empty, the reader had handed out nothing yet and the algorithms agree (the reader's
    /// digest is then of the whole ingest, since every byte it handed out was written). The
    /// commit checks that digest as it would its own. The default writes through [`Write`].
    fn copy_hashed(&mut self, reader: &mut HashingReader<Box<dyn Read + Send>>) -> Result<u64> {
        crate::helpers::pump(self, reader)
    }

    /// Checks what was written against `size` and `expected` (either may be `None` for
    /// unknown) and makes it a blob, with `opts`' labels. The writer is closed afterwards,
    /// whatever the outcome.
    ///
    /// Errors: [`crate::Error::FailedPrecondition`] on a size or digest mismatch (nothing is
    /// committed and the ingest stays, to be resumed or aborted);
    /// [`crate::Error::AlreadyExists`] when the store has the blob already (the ingest is
    /// removed).
    fn commit(
        &mut self,
        size: Option<u64>,
        expected: Option<&Digest>,
        opts: CommitOpts,
    ) -> Result<()>;

    /// Cuts the ingest back to `size` bytes (at most the current offset); `truncate(0)`
    /// starts over.
    fn truncate(&mut self, size: u64) -> Result<()>;

    /// Releases the ref, keeping the ingest for a later writer. Closing twice is fine; writes
    /// after closing fail.
    fn close(&mut self) -> Result<()>;
}

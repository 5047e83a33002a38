//! Progress reporting: a trait the caller implements (the CLI draws bars; a library user can
//! log or ignore), and the readers and layers that call it.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use oci_partial::{BlobReader, Layer};
use oci_types::{Descriptor, Digest, HashingReader, MediaType};

use crate::report::BlobReport;

/// Receives a copy's progress. Every method has an empty default; the calls come from the
/// threads that move the bytes, so implementations must be cheap and thread-safe.
pub trait Progress: Send + Sync {
    /// A blob started moving: `id` names it in the calls that follow, `what` is a label
    /// (`layer 0`, a short digest), `total` its size when known.
    fn started(&self, id: u64, what: &str, total: Option<u64>) {
        let _ = (id, what, total);
    }
    /// `bytes` more bytes of blob `id` went by.
    fn advanced(&self, id: u64, bytes: u64) {
        let _ = (id, bytes);
    }
    /// Blob `id` stopped moving (finished, or its reader was dropped).
    fn finished(&self, id: u64) {
        let _ = id;
    }
    /// What happened to a blob of the destination (copied, reused, mounted, recompressed),
    /// once known.
    fn blob(&self, report: &BlobReport) {
        let _ = report;
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Ids of the blobs reported, unique within the process.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A reader that reports the bytes it reads.
pub(crate) struct ProgressReader<R> {
    inner: R,
    id: u64,
    progress: Arc<dyn Progress>,
    cancel: Option<Arc<AtomicBool>>,
}

/// Where a copy's readers report, and the flag that stops them.
#[derive(Clone)]
pub(crate) struct Watch {
    pub(crate) progress: Arc<dyn Progress>,
    pub(crate) cancel: Option<Arc<AtomicBool>>,
}

impl Watch {
    pub(crate) fn reader<R>(&self, inner: R, what: &str, total: Option<u64>) -> ProgressReader<R> {
        ProgressReader::new(inner, self, what, total)
    }
}

/// The I/O error of a cancelled read; [`crate::Error::Cancelled`] once it reaches the copy.
#[derive(Debug)]
pub(crate) struct CancelledRead;

impl std::fmt::Display for CancelledRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for CancelledRead {}

impl<R> ProgressReader<R> {
    pub(crate) fn new(inner: R, watch: &Watch, what: &str, total: Option<u64>) -> Self {
        let id = next_id();
        watch.progress.started(id, what, total);
        ProgressReader {
            inner,
            id,
            progress: Arc::clone(&watch.progress),
            cancel: watch.cancel.clone(),
        }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(io::Error::other(CancelledRead));
        }
        let n = self.inner.read(buf)?;
        self.progress.advanced(self.id, n as u64);
        Ok(n)
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        self.progress.finished(self.id);
    }
}

/// A layer whose reads report progress.
pub(crate) struct ProgressLayer {
    inner: Arc<dyn Layer>,
    watch: Watch,
    label: String,
}

impl ProgressLayer {
    pub(crate) fn new(inner: Arc<dyn Layer>, watch: &Watch, index: usize) -> Self {
        ProgressLayer {
            inner,
            watch: watch.clone(),
            label: format!("layer {index}"),
        }
    }
    fn wrap(&self, r: BlobReader, total: Option<u64>) -> BlobReader {
        Box::new(self.watch.reader(r, &self.label, total))
    }
}

impl Layer for ProgressLayer {
    fn digest(&self) -> oci_partial::Result<Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        let total = self.inner.size().ok();
        Ok(self.wrap(self.inner.compressed()?, total))
    }
    /// The inner layer's hashing reader, counting inside it: a streaming layer keeps hashing
    /// its blob once.
    fn compressed_hashing(&self) -> oci_partial::Result<HashingReader<BlobReader>> {
        let total = self.inner.size().ok();
        let hashing = self.inner.compressed_hashing()?;
        Ok(hashing.map_inner(|r| self.wrap(r, total)))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(self.wrap(self.inner.uncompressed()?, None))
    }
    fn size(&self) -> oci_partial::Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.inner.media_type()
    }
    fn descriptor(&self) -> oci_partial::Result<Descriptor> {
        self.inner.descriptor()
    }
    fn uncompressed_size(&self) -> oci_partial::Result<u64> {
        self.inner.uncompressed_size()
    }
    fn exists(&self) -> oci_partial::Result<bool> {
        self.inner.exists()
    }
}

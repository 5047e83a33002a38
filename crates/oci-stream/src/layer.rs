//! [`StreamLayer`]: the one-shot [`Layer`].

use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use oci_partial::{BlobReader, Error as LayerError, Layer, Result as LayerResult};
use oci_types::{Digest, HashingReader, MediaType};

use crate::options::{Options, Resolved};
use crate::pipeline::{Pipeline, Source};
use crate::reader::{CompressedReader, Computed, InputSums};
use crate::Result;

/// A layer made from a reader that is read exactly once, never buffered whole (the
/// counterpart of go-containerregistry's `stream.Layer`).
///
/// [`Layer::compressed`] hands out, once, a reader of the compressed blob. Reading it reads
/// the source, hashes the uncompressed bytes (the diff_id), compresses them on worker
/// threads, and hashes and counts the compressed bytes (digest and size). Until that reader
/// has handed out its last byte, [`Layer::digest`], [`Layer::diff_id`], [`Layer::size`] (and
/// so [`Layer::descriptor`]) and [`Layer::uncompressed_size`] fail with
/// [`oci_partial::Error::NotComputed`]; after, they return the values. A second
/// [`Layer::compressed`] fails with [`oci_partial::Error::Consumed`], and
/// [`Layer::uncompressed`] always fails (the source is gone once read).
/// [`Layer::media_type`] works at any time.
///
/// An error reading the source comes out of the compressed reader as that error (never as
/// a short stream that looks complete); every later read fails too, and the values stay not
/// computed.
///
/// The worker threads belong to the compressed reader: they are started by its first read
/// and are stopped and joined when it reaches its end, fails, or is dropped. Workers never
/// read the source (the thread that reads the layer does), so dropping a reader whose source
/// would block forever returns at once. [`StreamLayer::live_threads`] counts them.
///
/// See the [crate documentation](crate) for the format of the output.
pub struct StreamLayer {
    source: Mutex<Option<Source>>,
    options: Resolved,
    results: Arc<OnceLock<Computed>>,
    live: Arc<AtomicUsize>,
}

impl StreamLayer {
    /// A layer over `reader` with the default [`Options`] (gzip level 1 on all cores).
    pub fn new(reader: impl Read + Send + 'static) -> StreamLayer {
        Self::from_resolved(Box::new(reader), Self::default_options())
    }

    /// A layer over `reader` with `options`; fails when an option is out of its range.
    pub fn with_options(
        reader: impl Read + Send + 'static,
        options: Options,
    ) -> Result<StreamLayer> {
        Ok(Self::from_resolved(Box::new(reader), options.resolve()?))
    }

    fn default_options() -> Resolved {
        match Options::default().resolve() {
            Ok(r) => r,
            // The defaults are in range by construction (a unit test checks it).
            Err(e) => unreachable!("default stream layer options are invalid: {e}"),
        }
    }

    fn from_resolved(source: Source, options: Resolved) -> StreamLayer {
        StreamLayer {
            source: Mutex::new(Some(source)),
            options,
            results: Arc::new(OnceLock::new()),
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether the compressed stream was read to its end, so that digests and sizes are
    /// known.
    pub fn is_computed(&self) -> bool {
        self.results.get().is_some()
    }

    /// A counter of this layer's compression threads that are running now. It outlives the
    /// layer, so it can tell that dropping the layer or its reader left no thread behind.
    pub fn live_threads(&self) -> LiveThreads {
        LiveThreads(Arc::clone(&self.live))
    }

    /// The number of compression threads the layer uses.
    pub fn threads(&self) -> usize {
        self.options.threads
    }

    fn computed(&self, what: &'static str) -> LayerResult<&Computed> {
        self.results.get().ok_or(LayerError::NotComputed { what })
    }
}

impl Layer for StreamLayer {
    fn digest(&self) -> LayerResult<Digest> {
        Ok(self.computed("digest")?.digest.clone())
    }

    fn diff_id(&self) -> LayerResult<Digest> {
        Ok(self.computed("diff_id")?.diff_id.clone())
    }

    fn compressed(&self) -> LayerResult<BlobReader> {
        Ok(Box::new(self.compressed_hashing()?))
    }

    /// The compressed reader is this [`HashingReader`]: its digest and size, when it ends, are
    /// the layer's, so a sink may take them from it rather than hash the blob again.
    fn compressed_hashing(&self) -> LayerResult<HashingReader<BlobReader>> {
        let source = self
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(LayerError::Consumed)?;
        let pipeline = Pipeline::new(
            source,
            self.options.codec.clone(),
            self.options.threads,
            self.options.block_size,
            Arc::clone(&self.live),
            self.options.verified_diff_id.is_none(),
        );
        let sums = Arc::new(Mutex::new(None::<InputSums>));
        let ended = Arc::new(AtomicBool::new(false));
        let inner: BlobReader = Box::new(CompressedReader::new(
            pipeline,
            Arc::clone(&sums),
            Arc::clone(&ended),
            self.options.verified_diff_id.clone(),
        ));
        let results = Arc::clone(&self.results);
        let record = move |digest: &Digest, size: u64| {
            let input = sums
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| io::Error::other("stream layer: ended before its input"))?;
            // Only this reader sets it, once.
            let _ = results.set(Computed {
                digest: digest.clone(),
                diff_id: input.diff_id,
                size,
                uncompressed_size: input.uncompressed_size,
            });
            Ok(())
        };
        Ok(HashingReader::new(inner).ends_when(ended).on_end(record))
    }

    fn uncompressed(&self) -> LayerResult<BlobReader> {
        Err(LayerError::Unsupported {
            kind: oci_partial::UnsupportedKind::StreamingUncompressed,
        })
    }

    fn size(&self) -> LayerResult<u64> {
        Ok(self.computed("size")?.size)
    }

    fn media_type(&self) -> LayerResult<MediaType> {
        Ok(self.options.media_type.clone())
    }

    /// The number of bytes read from the source, once the compressed stream was read to its
    /// end ([`oci_partial::Error::NotComputed`] before).
    fn uncompressed_size(&self) -> LayerResult<u64> {
        Ok(self.computed("uncompressed size")?.uncompressed_size)
    }

    /// Whether the stream can still be read: true until [`Layer::compressed`] was called.
    /// Unlike the default, this does not open (and so consume) the stream.
    fn exists(&self) -> LayerResult<bool> {
        Ok(self
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some())
    }
}

impl fmt::Debug for StreamLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamLayer")
            .field("options", &self.options)
            .field("computed", &self.results.get())
            .finish_non_exhaustive()
    }
}

/// The number of running compression threads of one [`StreamLayer`]
/// (from [`StreamLayer::live_threads`]).
#[derive(Debug, Clone)]
pub struct LiveThreads(Arc<AtomicUsize>);

impl LiveThreads {
    /// How many of the layer's compression threads are running now. A thread counts from
    /// just before it is spawned until its work function returns; after the compressed
    /// reader was dropped (or reached its end) this is 0, because every thread was joined.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

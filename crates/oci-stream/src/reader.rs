//! The compressed reader handed out once by [`crate::StreamLayer`], inside the
//! [`oci_types::HashingReader`] whose digest becomes the layer's.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use oci_types::Digest;

use crate::pipeline::Pipeline;

/// What a stream layer knows once its compressed stream was read to the end.
#[derive(Debug, Clone)]
pub(crate) struct Computed {
    pub(crate) digest: Digest,
    pub(crate) diff_id: Digest,
    pub(crate) size: u64,
    pub(crate) uncompressed_size: u64,
}

enum State {
    Running,
    Done,
    /// A read failed; every later read fails too (never a clean end of stream).
    Failed(io::ErrorKind, String),
}

/// What the compressed reader knows at its end; the hashing reader around it adds the
/// digest and size of the compressed bytes.
#[derive(Debug, Clone)]
pub(crate) struct InputSums {
    pub(crate) diff_id: Digest,
    pub(crate) uncompressed_size: u64,
}

/// Hands out the compressed blocks; when the last byte has been handed out it records the
/// input's sums in `sums` and raises `ended` (the hashing reader around it then finishes
/// within the same read).
pub(crate) struct CompressedReader {
    pipeline: Pipeline,
    current: Vec<u8>,
    pos: usize,
    verified_diff_id: Option<Digest>,
    state: State,
    sums: Arc<Mutex<Option<InputSums>>>,
    ended: Arc<AtomicBool>,
}

impl CompressedReader {
    /// `verified_diff_id`: the input's diff_id when the source verifies it (the input is not
    /// hashed then; see `Options::verified_diff_id`).
    pub(crate) fn new(
        pipeline: Pipeline,
        sums: Arc<Mutex<Option<InputSums>>>,
        ended: Arc<AtomicBool>,
        verified_diff_id: Option<Digest>,
    ) -> Self {
        CompressedReader {
            verified_diff_id,
            pipeline,
            current: Vec::new(),
            pos: 0,
            state: State::Running,
            sums,
            ended,
        }
    }

    fn finish(&mut self) {
        if !matches!(self.state, State::Running) {
            return;
        }
        let (hashed, uncompressed_size) = self.pipeline.take_input();
        let diff_id = match (hashed, self.verified_diff_id.take()) {
            (Some(h), _) => h.finish(),
            (None, Some(known)) => known,
            // The pipeline hashes whenever no verified diff_id was given.
            (None, None) => return self.fail(&io::Error::other("stream layer: input not hashed")),
        };
        *self.sums.lock().unwrap_or_else(PoisonError::into_inner) = Some(InputSums {
            diff_id,
            uncompressed_size,
        });
        self.ended.store(true, Ordering::Release);
        self.state = State::Done;
        self.pipeline.shutdown();
        self.current = Vec::new();
    }

    fn fail(&mut self, e: &io::Error) {
        self.state = State::Failed(e.kind(), e.to_string());
        self.pipeline.shutdown();
        self.current = Vec::new();
        self.pos = 0;
    }
}

impl Read for CompressedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match &self.state {
                State::Running => {}
                State::Done => return Ok(0),
                State::Failed(kind, msg) => {
                    return Err(io::Error::new(
                        *kind,
                        format!("stream layer failed earlier: {msg}"),
                    ))
                }
            }
            if buf.is_empty() {
                return Ok(0);
            }
            if self.pos < self.current.len() {
                let n = buf.len().min(self.current.len() - self.pos);
                buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
                self.pos += n;
                if self.pos == self.current.len() && self.pipeline.is_exhausted() {
                    self.finish();
                }
                return Ok(n);
            }
            match self.pipeline.next_output() {
                Ok(Some(block)) => {
                    let old = std::mem::replace(&mut self.current, block);
                    self.pipeline.recycle(old);
                    self.pos = 0;
                }
                Ok(None) => self.finish(),
                Err(e) => {
                    self.fail(&e);
                    return Err(e);
                }
            }
        }
    }
}

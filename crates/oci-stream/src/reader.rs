//! The compressed reader handed out once by [`crate::StreamLayer`].

use std::io::{self, Read};
use std::sync::{Arc, OnceLock};

use oci_types::{Digest, Digester};

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

/// Hands out the compressed blocks, hashing and counting them, and records the digests
/// when the last byte has been handed out.
pub(crate) struct CompressedReader {
    pipeline: Pipeline,
    current: Vec<u8>,
    pos: usize,
    digest: Digester,
    verified_diff_id: Option<Digest>,
    state: State,
    results: Arc<OnceLock<Computed>>,
}

impl CompressedReader {
    /// `verified_diff_id`: the input's diff_id when the source verifies it (the input is not
    /// hashed then; see `Options::verified_diff_id`).
    pub(crate) fn new(
        pipeline: Pipeline,
        results: Arc<OnceLock<Computed>>,
        verified_diff_id: Option<Digest>,
    ) -> Self {
        CompressedReader {
            verified_diff_id,
            pipeline,
            current: Vec::new(),
            pos: 0,
            digest: Digester::new_sha256(),
            state: State::Running,
            results,
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
        let digest = std::mem::replace(&mut self.digest, Digester::new_sha256());
        let computed = Computed {
            size: digest.bytes(),
            uncompressed_size,
            digest: digest.finish(),
            diff_id,
        };
        // Only this reader sets it, once.
        let _ = self.results.set(computed);
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
                    self.digest.update(&block);
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

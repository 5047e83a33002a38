//! Early write-back of a large ingest: the commit's fsync is the last thing a write waits for,
//! and with nothing flushed before it, it has the whole blob to write out. A writer that has
//! written [`WRITEBACK_EVERY`] bytes since the last request asks a background thread to
//! `fdatasync` a clone of its handle, so the disk works while the writer goes on and the
//! commit's own fsync finds little left.
//!
//! Durability still comes from the commit's fsync alone; these are hints. Their errors are
//! kept, though: on Linux an fsync error is reported once per open file description, which
//! the clone shares, so an error the background thread saw would otherwise never reach the
//! commit.

use std::fs::File;
use std::io;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Bytes written between two background syncs. Smaller blobs are never synced in the
/// background. Measured on `ocikit convert` of a 512 MiB tar (docs/BENCHMARKS.md):
/// the commit's fsync of the 228 MB layer went from 82 ms to a few.
pub(super) const WRITEBACK_EVERY: u64 = 16 << 20;

/// The background syncs of one writer.
#[derive(Debug, Default)]
pub(super) struct Writeback {
    /// Bytes written since the last request.
    pending: u64,
    /// The thread, once started; `None` also after [`Writeback::finish`].
    worker: Option<Worker>,
    /// Starting the thread failed (no more tries: the syncs are only hints).
    disabled: bool,
}

#[derive(Debug)]
struct Worker {
    /// Capacity 1: a request made while a sync runs waits as the next one, further requests
    /// are merged into it.
    requests: SyncSender<()>,
    handle: JoinHandle<io::Result<()>>,
}

impl Writeback {
    /// Counts `n` bytes just written to `file`; asks for a background sync every
    /// [`WRITEBACK_EVERY`] bytes.
    pub(super) fn wrote(&mut self, file: &File, n: usize) {
        self.pending = self.pending.saturating_add(n as u64);
        if self.pending < WRITEBACK_EVERY || self.disabled {
            return;
        }
        self.pending = 0;
        if self.worker.is_none() {
            self.worker = Worker::start(file);
            self.disabled = self.worker.is_none();
        }
        if let Some(w) = &self.worker {
            match w.requests.try_send(()) {
                // Full: a request is already waiting and will cover these bytes too.
                // Disconnected: the thread stopped on an error, which `finish` reports.
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }

    /// Stops the thread (after the sync it is running) and returns the first error of any
    /// background sync. Later writes may start a new thread.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        self.pending = 0;
        let Some(Worker { requests, handle }) = self.worker.take() else {
            return Ok(());
        };
        drop(requests);
        handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the write-back thread panicked")))
    }
}

impl Worker {
    fn start(file: &File) -> Option<Worker> {
        let clone = file.try_clone().ok()?;
        let (requests, queue) = mpsc::sync_channel::<()>(1);
        let handle = std::thread::Builder::new()
            .name("oci-content-writeback".into())
            .spawn(move || {
                for () in queue {
                    clone.sync_data()?;
                }
                Ok(())
            })
            .ok()?;
        Some(Worker { requests, handle })
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        // Joined so that no clone of the handle (which shares the ingest's lock) outlives
        // the writer.
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn small_writes_start_no_thread_and_large_ones_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let mut file = File::create(&path).unwrap();
        let mut wb = Writeback::default();
        let chunk = vec![7u8; 1 << 20];
        for _ in 0..(WRITEBACK_EVERY >> 20) - 1 {
            file.write_all(&chunk).unwrap();
            wb.wrote(&file, chunk.len());
        }
        assert!(wb.worker.is_none(), "no sync below the threshold");
        for _ in 0..((3 * WRITEBACK_EVERY) >> 20) {
            file.write_all(&chunk).unwrap();
            wb.wrote(&file, chunk.len());
        }
        assert!(wb.worker.is_some(), "a sync once past it");
        wb.finish().unwrap();
        assert!(wb.worker.is_none(), "finish joins the thread");
        drop(file);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            4 * WRITEBACK_EVERY - (1 << 20)
        );
    }
}

//! Worker threads: started by the first read, stopped and joined at the end, on error, and
//! when the reader or the layer is dropped early, even when the source would block forever.

use std::io::{self, Cursor, Read};
use std::sync::mpsc;
use std::time::Duration;

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};

use crate::common::{gunzip, text};

/// A source that yields `data`, then blocks until the test drops the sender (forever, as far
/// as the layer knows).
struct BlocksAfter {
    data: Cursor<Vec<u8>>,
    gate: mpsc::Receiver<()>,
}

impl Read for BlocksAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        let _ = self.gate.recv(); // blocks until the sender is dropped
        Err(io::Error::other("released"))
    }
}

#[test]
fn dropping_the_reader_early_joins_the_threads() {
    let input = text(8 << 20, 1);
    let opts = Options::new().threads(3).block_size(64 << 10).level(9);
    let layer = StreamLayer::with_options(Cursor::new(input), opts).unwrap();
    let live = layer.live_threads();
    assert_eq!(live.get(), 0, "nothing runs before the first read");
    let mut r = layer.compressed().unwrap();
    assert_eq!(live.get(), 0, "nothing runs before the first read");
    let mut head = [0u8; 100];
    r.read_exact(&mut head).unwrap();
    assert_eq!(live.get(), 3, "three workers while streaming");
    drop(r);
    assert_eq!(live.get(), 0, "every worker joined by the drop");
    assert!(!layer.is_computed());
}

#[test]
fn dropping_the_layer_and_reader_early_leaves_no_thread() {
    let opts = Options::new().threads(2).block_size(64 << 10);
    let layer = StreamLayer::with_options(Cursor::new(text(4 << 20, 2)), opts).unwrap();
    let live = layer.live_threads();
    let mut r = layer.compressed().unwrap();
    r.read_exact(&mut [0u8; 10]).unwrap();
    drop(layer);
    assert_eq!(
        live.get(),
        2,
        "the reader owns the workers and outlives the layer"
    );
    drop(r);
    assert_eq!(live.get(), 0);
}

/// The reader works on after the layer is gone (an upload holding it finishes).
#[test]
fn the_reader_outlives_the_layer() {
    let input = text(3 << 20, 3);
    let layer = StreamLayer::with_options(Cursor::new(input.clone()), Options::new().threads(2));
    let layer = layer.unwrap();
    let live = layer.live_threads();
    let mut r = layer.compressed().unwrap();
    drop(layer);
    let mut gz = Vec::new();
    r.read_to_end(&mut gz).unwrap();
    assert!(gunzip(&gz) == input);
    assert_eq!(
        live.get(),
        0,
        "workers joined at the end of the stream, reader still alive"
    );
    drop(r);
    assert_eq!(live.get(), 0);
}

/// Dropping the layer before its stream was read starts nothing and leaves nothing.
#[test]
fn an_unread_layer_runs_no_thread() {
    let layer = StreamLayer::new(Cursor::new(text(1 << 20, 4)));
    let live = layer.live_threads();
    let r = layer.compressed().unwrap();
    drop(r);
    drop(layer);
    assert_eq!(live.get(), 0);
}

/// A source that blocks forever does not hang the drop: workers never read the source.
#[test]
fn a_blocked_source_does_not_hang_the_drop() {
    let (gate_tx, gate_rx) = mpsc::channel();
    let source = BlocksAfter {
        data: Cursor::new(text(2 << 20, 5)),
        gate: gate_rx,
    };
    // Two threads keep six blocks of 64 KiB in flight: the layer reads at most 384 KiB ahead,
    // far less than the 2 MiB the source gives before it blocks.
    let opts = Options::new().threads(2).block_size(64 << 10);
    let layer = StreamLayer::with_options(source, opts).unwrap();
    let live = layer.live_threads();
    let mut r = layer.compressed().unwrap();
    r.read_exact(&mut [0u8; 1000]).unwrap();
    assert_eq!(live.get(), 2);

    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        drop(r);
        drop(layer);
        let _ = done_tx.send(());
    });
    let dropped = done_rx.recv_timeout(Duration::from_secs(20));
    drop(gate_tx); // release the source, whatever happened, so no thread stays blocked
    assert!(dropped.is_ok(), "dropping the reader hung");
    assert_eq!(live.get(), 0);
}

/// The workers are joined as soon as the last block is handed out, while the reader is still
/// held.
#[test]
fn threads_stop_at_the_end_of_the_stream() {
    let input = text(2 << 20, 6);
    let opts = Options::new().threads(4).block_size(100_000);
    let layer = StreamLayer::with_options(Cursor::new(input.clone()), opts).unwrap();
    let live = layer.live_threads();
    let mut r = layer.compressed().unwrap();
    let mut gz = vec![0u8; 10];
    r.read_exact(&mut gz).unwrap();
    assert_eq!(live.get(), 4);
    r.read_to_end(&mut gz).unwrap();
    assert_eq!(
        live.get(),
        0,
        "joined at the end, before the reader is dropped"
    );
    assert_eq!(layer.diff_id().unwrap(), oci_types::Digest::sha256(&input));
    drop(r);
}

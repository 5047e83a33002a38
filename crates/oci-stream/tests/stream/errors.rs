//! Errors of the source come out of the compressed reader, and stay.

use std::io::{self, Cursor, Read};

use oci_partial::{Error, Layer};
use oci_stream::{Options, StreamLayer};

use crate::common::{gunzip, text, Chunked, FailsAfter};

/// Reads to the end; returns the bytes handed out before the error and the error.
fn read_until_error(r: &mut dyn Read) -> (Vec<u8>, io::Error) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 50_000];
    loop {
        match r.read(&mut buf) {
            Ok(0) => panic!("the stream ended cleanly after {} bytes", out.len()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, e),
        }
    }
}

#[test]
fn a_source_error_is_an_error_of_the_compressed_reader() {
    let input = text(3 << 20, 1);
    let block = 256 << 10;
    for threads in [1, 2, 4] {
        for good in [0, 1, block - 1, block, block + 1, 2 << 20, (3 << 20) - 1] {
            let source = FailsAfter::new(input.clone(), good);
            let opts = Options::new().threads(threads).block_size(block);
            let layer = StreamLayer::with_options(source, opts).unwrap();
            let mut r = layer.compressed().unwrap();
            let (_, e) = read_until_error(&mut r);
            assert_eq!(
                e.kind(),
                io::ErrorKind::ConnectionReset,
                "threads {threads}, good {good}"
            );
            assert!(e.to_string().contains("source went away"));
            // Later reads fail too: never a clean end.
            let again = r.read(&mut [0u8; 100]).unwrap_err();
            assert_eq!(again.kind(), io::ErrorKind::ConnectionReset);
            assert!(r.read(&mut [0u8; 100]).is_err());
            assert!(matches!(layer.digest(), Err(Error::NotComputed { .. })));
            assert!(matches!(layer.diff_id(), Err(Error::NotComputed { .. })));
            assert!(matches!(layer.size(), Err(Error::NotComputed { .. })));
            assert_eq!(
                layer.live_threads().get(),
                0,
                "threads stopped after the error"
            );
        }
    }
}

/// io::copy and read_to_end (what uploads and content stores use) fail too.
#[test]
fn copying_a_failing_layer_fails() {
    let layer = StreamLayer::new(FailsAfter::new(text(1 << 20, 2), 500_000));
    let mut sink = Vec::new();
    let e = io::copy(&mut layer.compressed().unwrap(), &mut sink).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
    assert!(!layer.is_computed());
}

/// Interrupted reads are retried, not errors.
#[test]
fn interrupted_reads_are_retried() {
    let input = text(1 << 20, 3);
    let layer = StreamLayer::new(Chunked::new(input.clone(), 10_000).interrupting(3));
    let gz = crate::common::read_all(&layer, 1 << 16);
    assert!(gunzip(&gz) == input);
}

/// A source that claims to have read more than it was given is an error, not a panic.
#[test]
fn a_lying_source_is_an_error() {
    struct Liar;
    impl Read for Liar {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            Ok(buf.len() + 1)
        }
    }
    for threads in [1, 2] {
        let layer = StreamLayer::with_options(Liar, Options::new().threads(threads)).unwrap();
        let e = layer
            .compressed()
            .unwrap()
            .read(&mut [0u8; 10])
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}

/// An empty read buffer reads nothing and does not start the stream.
#[test]
fn an_empty_buffer_reads_nothing() {
    let layer = StreamLayer::new(Cursor::new(text(1000, 4)));
    let mut r = layer.compressed().unwrap();
    assert_eq!(r.read(&mut []).unwrap(), 0);
    assert!(!layer.is_computed());
    let mut gz = Vec::new();
    r.read_to_end(&mut gz).unwrap();
    assert!(layer.is_computed());
}

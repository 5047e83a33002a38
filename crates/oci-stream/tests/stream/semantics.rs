//! The one-shot contract: NotComputed before the end, Consumed after the first reader, no
//! uncompressed reader, media type at any time, option validation.

use std::io::{Cursor, Read};
use std::sync::Arc;

use oci_partial::{Error, Layer};
use oci_stream::{Options, StreamLayer};
use oci_types::{Compression, Digest, MediaType};

use crate::common::{read_all, text};

fn not_computed<T: std::fmt::Debug>(r: oci_partial::Result<T>, expected: &str) {
    match r {
        Err(Error::NotComputed { what }) => assert_eq!(what, expected),
        other => panic!("expected NotComputed({expected}), got {other:?}"),
    }
}

#[test]
fn values_are_not_computed_until_the_stream_is_read_to_its_end() {
    let input = text(2 << 20, 1);
    let layer =
        StreamLayer::with_options(Cursor::new(input.clone()), Options::new().threads(2)).unwrap();
    not_computed(layer.digest(), "digest");
    not_computed(layer.diff_id(), "diff_id");
    not_computed(layer.size(), "size");
    not_computed(layer.uncompressed_size(), "uncompressed size");
    not_computed(layer.descriptor(), "digest");
    assert!(!layer.is_computed());

    let mut r = layer.compressed().unwrap();
    let mut first = vec![0u8; 1000];
    r.read_exact(&mut first).unwrap();
    not_computed(layer.digest(), "digest");
    not_computed(layer.diff_id(), "diff_id");
    not_computed(layer.size(), "size");

    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    first.extend(rest);
    assert!(layer.is_computed());
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&first));
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&input));
    assert_eq!(layer.size().unwrap(), first.len() as u64);
    assert_eq!(layer.uncompressed_size().unwrap(), input.len() as u64);
    // Reading past the end keeps returning 0 and changes nothing.
    assert_eq!(r.read(&mut [0u8; 10]).unwrap(), 0);
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&first));
}

/// The values are known as soon as the last byte was handed out, even before the read that
/// returns 0 (a consumer that knows the size stops there).
#[test]
fn values_are_known_when_the_last_byte_is_handed_out() {
    let input = text(700_000, 2);
    for threads in [1, 2] {
        let opts = Options::new().threads(threads).block_size(100_000);
        let (_, expected) = crate::common::compress_with(&input, opts.clone(), 1 << 20);
        let layer = StreamLayer::with_options(Cursor::new(input.clone()), opts).unwrap();
        let mut r = layer.compressed().unwrap();
        let mut got = vec![0u8; expected.len()];
        r.read_exact(&mut got).unwrap();
        assert!(got == expected);
        assert!(layer.is_computed(), "threads {threads}");
        assert_eq!(layer.size().unwrap(), expected.len() as u64);
    }
}

#[test]
fn a_second_compressed_reader_is_consumed() {
    let layer = StreamLayer::new(Cursor::new(b"abc".to_vec()));
    assert!(layer.exists().unwrap());
    let r = layer.compressed().unwrap();
    assert!(!layer.exists().unwrap(), "the stream was handed out");
    assert!(matches!(layer.compressed(), Err(Error::Consumed)));
    drop(r);
    // Dropped unread: still consumed, and nothing was computed.
    assert!(matches!(layer.compressed(), Err(Error::Consumed)));
    not_computed(layer.digest(), "digest");
}

#[test]
fn uncompressed_is_always_an_error() {
    let layer = StreamLayer::new(Cursor::new(b"abc".to_vec()));
    assert!(matches!(
        layer.uncompressed(),
        Err(Error::Unsupported {
            kind: oci_partial::UnsupportedKind::StreamingUncompressed
        })
    ));
    read_all(&layer, 10);
    assert!(matches!(
        layer.uncompressed(),
        Err(Error::Unsupported {
            kind: oci_partial::UnsupportedKind::StreamingUncompressed
        })
    ));
    // The uncompressed size is still known, from the pass.
    assert_eq!(layer.uncompressed_size().unwrap(), 3);
}

#[test]
fn media_type_works_at_any_time() {
    let cases = [
        (Options::new(), MediaType::OciLayerGzip),
        (
            Options::new().compression(Compression::Zstd),
            MediaType::OciLayerZstd,
        ),
        (
            Options::new().compression(Compression::None),
            MediaType::OciLayer,
        ),
        (
            Options::new().media_type(MediaType::docker_layer(Compression::Gzip)),
            MediaType::DockerLayerGzip,
        ),
    ];
    for (opts, expected) in cases {
        let layer = StreamLayer::with_options(Cursor::new(vec![1, 2, 3]), opts).unwrap();
        assert_eq!(layer.media_type().unwrap(), expected);
        read_all(&layer, 7);
        assert_eq!(layer.media_type().unwrap(), expected);
        assert_eq!(layer.descriptor().unwrap().media_type, expected);
    }
}

#[test]
fn options_out_of_range_are_rejected() {
    let bad = [
        (Options::new().level(13), "level"),
        (
            Options::new().compression(Compression::Zstd).level(0),
            "level",
        ),
        (
            Options::new().compression(Compression::Zstd).level(23),
            "level",
        ),
        (Options::new().threads(0), "threads"),
        (Options::new().threads(100_000), "threads"),
        (Options::new().block_size(1000), "block_size"),
        (Options::new().block_size(1 << 30), "block_size"),
    ];
    for (opts, option) in bad {
        match StreamLayer::with_options(Cursor::new(Vec::new()), opts.clone()) {
            Err(e @ oci_stream::Error::InvalidOption { option: o, .. }) => {
                assert_eq!(o, option, "{opts:?}");
                assert!(e.to_string().contains(option));
                let as_layer_error: Error = e.into();
                assert!(matches!(as_layer_error, Error::Source(_)));
            }
            other => panic!("{opts:?} gave {other:?}"),
        }
    }
    // Edges are accepted.
    for opts in [
        Options::new().level(0),
        Options::new().level(12),
        Options::new().compression(Compression::Zstd).level(22),
        Options::new()
            .threads(1)
            .block_size(oci_stream::MIN_BLOCK_SIZE),
        Options::new().block_size(oci_stream::MAX_BLOCK_SIZE),
    ] {
        StreamLayer::with_options(Cursor::new(Vec::new()), opts).unwrap();
    }
}

/// The default thread count is the machine's.
#[test]
fn threads_default_to_all_cores() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(StreamLayer::new(Cursor::new(Vec::new())).threads(), cores);
    let layer = StreamLayer::with_options(Cursor::new(Vec::new()), Options::new().threads(3));
    assert_eq!(layer.unwrap().threads(), 3);
}

/// A stream layer is an ordinary `Arc<dyn Layer>`, shareable across threads.
#[test]
fn works_as_a_shared_dyn_layer() {
    let input = text(1 << 20, 3);
    let layer: Arc<dyn Layer> = Arc::new(StreamLayer::new(Cursor::new(input.clone())));
    assert!(layer.digest().is_err());
    let reader_side = Arc::clone(&layer);
    let blob = std::thread::spawn(move || {
        let mut out = Vec::new();
        reader_side
            .compressed()
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    })
    .join()
    .unwrap();
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&blob));
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&input));
}

#[test]
fn a_verified_diff_id_is_reported_without_hashing_the_input_again() {
    let data = text(3 << 20, 11);
    let diff_id = Digest::sha256(&data);
    // The source verifies what it gives: the layer takes its diff_id and still counts, and
    // its output is the same as when it hashes the input itself.
    let plain = StreamLayer::with_options(Cursor::new(data.clone()), Options::new()).unwrap();
    let plain_blob = read_all(&plain, 64 * 1024);
    let source =
        oci_types::VerifyingReader::new(Cursor::new(data.clone()), diff_id.clone(), None).unwrap();
    let opts = Options::new().verified_diff_id(diff_id.clone());
    let layer = StreamLayer::with_options(source, opts).unwrap();
    let blob = read_all(&layer, 64 * 1024);
    assert!(
        blob == plain_blob,
        "same bytes whether or not the input is hashed"
    );
    assert_eq!(layer.diff_id().unwrap(), diff_id);
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&blob));
    assert_eq!(layer.uncompressed_size().unwrap(), data.len() as u64);

    // A source whose bytes do not match fails the stream, and nothing is computed.
    let mut tampered = data.clone();
    tampered[12345] ^= 1;
    let source =
        oci_types::VerifyingReader::new(Cursor::new(tampered), diff_id.clone(), None).unwrap();
    let layer =
        StreamLayer::with_options(source, Options::new().verified_diff_id(diff_id)).unwrap();
    let mut r = layer.compressed().unwrap();
    assert!(r.read_to_end(&mut Vec::new()).is_err());
    not_computed(layer.diff_id(), "diff_id");
    not_computed(layer.digest(), "digest");
}

/// The hashing reader a sink gets is the one whose digest becomes the layer's: read to its
/// end, both agree with the bytes, and the layer is consumed like through `compressed`.
#[test]
fn compressed_hashing_shares_its_digest_with_the_layer() {
    let input = text(1 << 20, 3);
    let layer =
        StreamLayer::with_options(Cursor::new(input.clone()), Options::new().threads(2)).unwrap();
    let mut r = layer.compressed_hashing().unwrap();
    let mut blob = Vec::new();
    r.read_to_end(&mut blob).unwrap();
    assert!(r.is_ended());
    assert_eq!(r.digest(), Digest::sha256(&blob));
    assert_eq!(layer.digest().unwrap(), r.digest());
    assert_eq!(layer.size().unwrap(), r.bytes_read());
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&input));
    assert!(matches!(
        layer.compressed_hashing(),
        Err(oci_partial::Error::Consumed)
    ));
}

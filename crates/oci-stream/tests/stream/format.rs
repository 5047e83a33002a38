//! The output: valid gzip (by the system's gzip) or zstd, digests equal to sha256 of input and
//! output, incompressible input stored, compressible input compressed.

use std::io::Read;

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::{Compression, Digest};

use crate::common::{compress_with, mixed, random, run_with_stdin, text};

/// The system's gzip accepts and decodes the output, for inputs of every kind and size.
#[test]
fn system_gzip_decodes_and_tests_the_output() {
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one byte", vec![b'x']),
        ("text, many blocks", text(3 << 20, 1)),
        ("random, stored", random((2 << 20) + 17, 2)),
        ("mixed", mixed(5 << 20, 3)),
        ("zeros", vec![0u8; (1 << 20) + 1]),
    ];
    for level in [0, 1, 6, 12] {
        for (name, input) in &inputs {
            let opts = Options::new().level(level).threads(2).block_size(256 << 10);
            let (_, gz) = compress_with(input, opts, 64 << 10);
            let (ok, _) = run_with_stdin("gzip", &["-t"], &gz);
            assert!(ok, "gzip -t rejects the output for {name} at level {level}");
            let (ok, plain) = run_with_stdin("gzip", &["-d", "-c"], &gz);
            assert!(ok, "gzip -d fails for {name} at level {level}");
            assert!(
                plain == *input,
                "gzip -d gives other bytes for {name} at level {level}"
            );
        }
    }
}

/// digest, diff_id and size are those of the bytes handed out and of the bytes read, as
/// the system's sha256sum computes them.
#[test]
fn digests_match_sha256sum_of_input_and_output() {
    let input = mixed(3 << 20, 4);
    let (layer, gz) = compress_with(&input, Options::new(), 1 << 16);
    let sha256sum = |bytes: &[u8]| {
        let (ok, out) = run_with_stdin("sha256sum", &[], bytes);
        assert!(ok);
        format!(
            "sha256:{}",
            String::from_utf8(out)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
        )
    };
    assert_eq!(layer.diff_id().unwrap().to_string(), sha256sum(&input));
    assert_eq!(layer.digest().unwrap().to_string(), sha256sum(&gz));
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&input));
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&gz));
    assert_eq!(layer.size().unwrap(), gz.len() as u64);
    assert_eq!(layer.uncompressed_size().unwrap(), input.len() as u64);
    let desc = layer.descriptor().unwrap();
    assert_eq!(desc.digest, Digest::sha256(&gz));
    assert_eq!(desc.size, gz.len() as u64);
}

/// What does not compress is stored: at most 0.1% larger than the input.
#[test]
fn incompressible_input_is_stored_with_little_overhead() {
    for block_size in [64 << 10, 1 << 20] {
        let input = random(8 << 20, 5);
        let opts = Options::new().block_size(block_size);
        let (layer, gz) = compress_with(&input, opts, 1 << 20);
        let ratio = gz.len() as f64 / input.len() as f64;
        assert!(
            ratio <= 1.001,
            "random input grew to {ratio} with blocks of {block_size}"
        );
        assert_eq!(layer.size().unwrap(), gz.len() as u64);
        assert!(crate::common::gunzip(&gz) == input);
    }
}

/// What compresses is compressed, and higher levels compress more.
#[test]
fn compressible_input_is_compressed() {
    let input = text(4 << 20, 6);
    let size = |level| {
        compress_with(&input, Options::new().level(level), 1 << 20)
            .1
            .len()
    };
    let (l1, l6, l12) = (size(1), size(6), size(12));
    assert!(
        l1 < input.len() / 2,
        "level 1 only got to {l1} of {}",
        input.len()
    );
    assert!(
        l6 < l1 && l12 <= l6,
        "levels 1, 6, 12 gave {l1}, {l6}, {l12}"
    );
    let stored = size(0);
    assert!(stored > input.len(), "level 0 stores: {stored}");
}

/// zstd output is a valid zstd stream (frames) that decodes to the input.
#[test]
fn zstd_round_trip() {
    for input in [Vec::new(), vec![1u8], text(3 << 20, 7), random(1 << 20, 8)] {
        let opts = Options::new()
            .compression(Compression::Zstd)
            .block_size(512 << 10);
        let (layer, zst) = compress_with(&input, opts, 10_000);
        assert_eq!(&zst[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
        let mut plain = Vec::new();
        zstd::stream::read::Decoder::new(&zst[..])
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert!(plain == input, "zstd round trip of {} bytes", input.len());
        assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&input));
        assert_eq!(layer.digest().unwrap(), Digest::sha256(&zst));
        if input.len() > 1 << 20 {
            assert!(zst.len() < input.len() / 2);
        }
    }
}

/// Without compression the blob is the input: digest and diff_id are equal.
#[test]
fn no_compression_passes_the_input_through() {
    let input = mixed(2 << 20, 9);
    let opts = Options::new().compression(Compression::None);
    let (layer, out) = compress_with(&input, opts, 12_345);
    assert!(out == input);
    assert_eq!(layer.digest().unwrap(), layer.diff_id().unwrap());
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&input));
    let (layer, out) = compress_with(&[], Options::new().compression(Compression::None), 10);
    assert!(out.is_empty());
    assert_eq!(layer.digest().unwrap(), Digest::sha256(b""));
}

/// The output is one gzip member, whatever the number of blocks: `flate2::read::GzDecoder`,
/// which stops after the first member (as most Rust programs' decoders do), reads the whole
/// input, and nothing follows the member. Its header has no timestamp or name; its trailer
/// holds the CRC-32 and size of the whole input.
#[test]
fn one_gzip_member_that_the_first_member_decoder_reads_whole() {
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text, 5,000,000 bytes", text(5_000_000, 10)),
        ("mixed", mixed(3 << 20, 12)),
        ("random", random((1 << 20) + 5, 13)),
    ];
    for level in [0, 1, 2, 6, 12] {
        for (name, input) in &inputs {
            for threads in [1, 2] {
                let opts = Options::new().level(level).threads(threads);
                let (_, gz) = compress_with(input, opts, 4096);
                assert_eq!(
                    &gz[..8],
                    &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0],
                    "magic, deflate, no flags, mtime 0"
                );
                let mut d = flate2::read::GzDecoder::new(&gz[..]);
                let mut plain = Vec::new();
                d.read_to_end(&mut plain).unwrap();
                assert!(
                    plain == *input,
                    "GzDecoder read {} of {} bytes of {name} at level {level}",
                    plain.len(),
                    input.len()
                );
                let n = gz.len();
                let crc = u32::from_le_bytes(gz[n - 8..n - 4].try_into().unwrap());
                let isize = u32::from_le_bytes(gz[n - 4..].try_into().unwrap());
                let mut h = flate2::Crc::new();
                h.update(input);
                assert_eq!(crc, h.sum(), "CRC-32 of {name}");
                assert_eq!(isize as usize, input.len(), "ISIZE of {name}");
                // Nothing after the member: a bufread decoder leaves no input.
                let mut d = flate2::bufread::GzDecoder::new(&gz[..]);
                d.read_to_end(&mut Vec::new()).unwrap();
                assert!(d.into_inner().is_empty(), "bytes after the member");
            }
        }
    }
}

/// A large layer through the default options: the media type is OCI gzip and all is right.
#[test]
fn default_layer_is_oci_gzip() {
    let input = mixed(3 << 20, 11);
    let layer = StreamLayer::new(std::io::Cursor::new(input.clone()));
    assert_eq!(
        layer.media_type().unwrap(),
        oci_types::MediaType::OciLayerGzip
    );
    let gz = crate::common::read_all(&layer, 1 << 20);
    assert!(crate::common::gunzip(&gz) == input);
}

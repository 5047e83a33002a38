//! Compression detection, streaming (de)compression, determinism.

use std::io::{self, Read};

use oci_partial::compression::{compress, decompress, detect, media_type_for, peek};
use oci_types::{Compression, MediaType};
use proptest::prelude::*;

use crate::support::{fixtures, read_all};

fn packed(data: &[u8], c: Compression, level: Option<u32>) -> Vec<u8> {
    read_all(compress(io::Cursor::new(data.to_vec()), c, level))
}

fn unpacked(data: &[u8]) -> Vec<u8> {
    read_all(decompress(io::Cursor::new(data.to_vec())).unwrap())
}

/// A reader that hands out at most `chunk` bytes per read, so input arrives in pieces.
struct Trickle<R> {
    inner: R,
    chunk: usize,
}

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.inner.read(&mut buf[..n])
    }
}

/// Reads all of `r` with reads of exactly `size`-byte buffers.
fn read_with(mut r: impl Read, size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; size];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Compressible but not trivial data.
fn sample(len: usize) -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if i % 7 == 0 {
                (x >> 24) as u8
            } else {
                b"the quick brown fox "[i % 20]
            }
        })
        .collect()
}

#[test]
fn fixture_gzip_layers_decompress_to_their_tars() {
    let dir = fixtures().join("layers");
    for name in ["hello-layer1", "hello-layer2", "hello-extra-layer2"] {
        let gz = std::fs::read(dir.join(format!("{name}.tar.gz"))).unwrap();
        let tar = std::fs::read(dir.join(format!("{name}.tar"))).unwrap();
        assert_eq!(detect(&gz), Compression::Gzip);
        assert_eq!(detect(&tar), Compression::None);
        assert_eq!(unpacked(&gz), tar, "{name}");
        // A plain tar passes through untouched.
        assert_eq!(unpacked(&tar), tar);
    }
}

#[test]
fn concatenated_gzip_members_decode_fully() {
    let a = sample(70_000);
    let b = b"second member".to_vec();
    let mut both = packed(&a, Compression::Gzip, None);
    both.extend(packed(&b, Compression::Gzip, Some(9)));
    let mut expected = a.clone();
    expected.extend(&b);
    assert_eq!(unpacked(&both), expected);
}

#[test]
fn concatenated_zstd_frames_decode_fully() {
    let a = sample(70_000);
    let b = b"second frame".to_vec();
    let mut both = packed(&a, Compression::Zstd, None);
    both.extend(packed(&b, Compression::Zstd, Some(19)));
    let mut expected = a.clone();
    expected.extend(&b);
    assert_eq!(unpacked(&both), expected);
}

#[test]
fn corrupt_gzip_is_an_error_not_a_panic() {
    let mut gz = packed(&sample(10_000), Compression::Gzip, None);
    let n = gz.len();
    gz[n / 2] ^= 0xff;
    gz.truncate(n - 3);
    let mut r = decompress(io::Cursor::new(gz)).unwrap();
    assert!(io::copy(&mut r, &mut io::sink()).is_err());
}

#[test]
fn peek_detects_without_losing_bytes_from_a_trickle() {
    let gz = packed(b"abc", Compression::Gzip, None);
    let (c, r) = peek(Trickle {
        inner: io::Cursor::new(gz.clone()),
        chunk: 1,
    })
    .unwrap();
    assert_eq!(c, Compression::Gzip);
    assert_eq!(read_all(r), gz);
}

#[test]
fn levels_are_clamped_and_defaults_documented() {
    let data = sample(50_000);
    for c in [Compression::Gzip, Compression::Zstd] {
        let huge = packed(&data, c, Some(1_000));
        assert_eq!(unpacked(&huge), data);
    }
    // The default gzip level is 1, zstd's is 3.
    assert_eq!(
        packed(&data, Compression::Gzip, None),
        packed(&data, Compression::Gzip, Some(1))
    );
    assert_eq!(
        packed(&data, Compression::Zstd, None),
        packed(&data, Compression::Zstd, Some(3))
    );
    assert_ne!(
        packed(&data, Compression::Gzip, None),
        packed(&data, Compression::Gzip, Some(9))
    );
    // None passes through.
    assert_eq!(packed(&data, Compression::None, Some(5)), data);
}

#[test]
fn gzip_header_has_no_timestamp() {
    let gz = packed(b"x", Compression::Gzip, None);
    assert_eq!(
        &gz[4..8],
        &[0, 0, 0, 0],
        "MTIME must be 0 for reproducible digests"
    );
}

#[test]
fn media_types_for_compression() {
    assert_eq!(
        media_type_for(Compression::Gzip, false),
        MediaType::OciLayerGzip
    );
    assert_eq!(
        media_type_for(Compression::Zstd, false),
        MediaType::OciLayerZstd
    );
    assert_eq!(
        media_type_for(Compression::None, false),
        MediaType::OciLayer
    );
    assert_eq!(
        media_type_for(Compression::Gzip, true),
        MediaType::DockerLayerGzip
    );
    assert_eq!(
        media_type_for(Compression::None, true),
        MediaType::DockerLayer
    );
    assert_eq!(
        media_type_for(Compression::Zstd, true),
        MediaType::OciLayerZstd
    );
}

#[test]
fn large_input_is_deterministic_across_buffer_sizes() {
    // Several deflate blocks and zstd blocks: 3 MiB.
    // Without fixed-size driving, zlib-rs gives other bytes at level 1 for small input
    // pieces and at level 6 for other output buffer sizes.
    let data = sample(3 << 20);
    for (c, level) in [
        (Compression::Gzip, None),
        (Compression::Gzip, Some(6)),
        (Compression::Zstd, None),
    ] {
        let base = packed(&data, c, level);
        for (chunk, out) in [(1 << 20, 7), (100, 8192), (4093, 1 << 20), (100_003, 333)] {
            let input = Trickle {
                inner: io::Cursor::new(data.clone()),
                chunk,
            };
            let got = read_with(compress(input, c, level), out);
            assert!(
                got == base,
                "{c:?} level {level:?}: chunk {chunk} out {out} gave other bytes"
            );
        }
    }
}

/// `len` pseudo-random bytes from `seed`, runs of zeros in about `zeros` quarters of them
/// (generated, not drawn byte by byte: proptest's per-element trees are slow for big inputs).
fn mixed(seed: u64, len: usize, zeros: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            if (x >> 62) < zeros {
                0
            } else {
                (x >> 40) as u8
            }
        })
        .collect()
}

fn algorithm() -> impl Strategy<Value = Compression> {
    prop_oneof![Just(Compression::Gzip), Just(Compression::Zstd)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..20_000),
                  c in algorithm(), level in proptest::option::of(0u32..12)) {
        let z = packed(&data, c, level);
        prop_assert_eq!(detect(&z), c);
        prop_assert_eq!(unpacked(&z), data);
    }

    #[test]
    fn output_does_not_depend_on_how_it_is_read(
        seed in any::<u64>(), len in 0usize..300_000, zeros in 0u64..4,
        c in algorithm(), level in proptest::option::of(1u32..10),
        chunk in 1usize..5000, out in 1usize..5000,
    ) {
        let data = mixed(seed, len, zeros);
        let base = packed(&data, c, level);
        let input = Trickle { inner: io::Cursor::new(data), chunk };
        prop_assert_eq!(read_with(compress(input, c, level), out), base);
    }

    #[test]
    fn plain_bytes_pass_through(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        prop_assume!(detect(&data) == Compression::None);
        prop_assert_eq!(unpacked(&data), data);
    }
}

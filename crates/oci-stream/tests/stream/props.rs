//! Property tests: any input, any block size, any chunking of the source and of the reads,
//! any thread count: the output decodes to the input, the digests are right, and the bytes are
//! those of a single-threaded run.

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer, MIN_BLOCK_SIZE};
use oci_types::{Compression, Digest};
use proptest::prelude::*;

use crate::common::{compress_with, gunzip, mixed, read_all, Chunked};

/// Inputs from 0 bytes up, biased towards the interesting sizes (empty, one byte, around a
/// block boundary), of random, text-like or mixed content.
fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        any::<u8>().prop_map(|b| vec![b]),
        proptest::collection::vec(any::<u8>(), 0..5000),
        (0usize..200_000, any::<u64>()).prop_map(|(len, seed)| mixed(len, seed)),
        (0usize..3, any::<u64>()).prop_map(|(k, seed)| mixed(k * MIN_BLOCK_SIZE * 4, seed)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn gzip_round_trips_and_is_deterministic(
        data in input(),
        block_kib in 1usize..40,
        source_chunk in 1usize..70_000,
        read_chunk in 1usize..70_000,
        threads in 1usize..4,
        level in prop_oneof![Just(0u32), Just(1), Just(6), 0u32..13],
    ) {
        let opts = Options::new().level(level).block_size(block_kib * 1024);
        let layer = StreamLayer::with_options(
            Chunked::new(data.clone(), source_chunk),
            opts.clone().threads(threads),
        ).unwrap();
        let gz = read_all(&layer, read_chunk);
        prop_assert!(gunzip(&gz) == data);
        prop_assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&data));
        prop_assert_eq!(layer.digest().unwrap(), Digest::sha256(&gz));
        prop_assert_eq!(layer.size().unwrap(), gz.len() as u64);
        prop_assert_eq!(layer.uncompressed_size().unwrap(), data.len() as u64);
        let (_, single) = compress_with(&data, opts.threads(1), 1 << 20);
        prop_assert!(gz == single, "differs from the single-threaded output");
    }

    #[test]
    fn zstd_round_trips(
        data in input(),
        block_kib in 1usize..40,
        read_chunk in 1usize..70_000,
        threads in 1usize..4,
    ) {
        let opts = Options::new()
            .compression(Compression::Zstd)
            .level(1)
            .block_size(block_kib * 1024)
            .threads(threads);
        let (layer, zst) = compress_with(&data, opts, read_chunk);
        let plain = zstd::stream::decode_all(&zst[..]).unwrap();
        prop_assert!(plain == data);
        prop_assert_eq!(layer.digest().unwrap(), Digest::sha256(&zst));
    }
}

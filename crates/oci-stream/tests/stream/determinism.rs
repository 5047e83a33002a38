//! The same input and options give the same bytes: whatever the thread count, the run, the
//! timing, or how the source and the consumer chunk their reads.

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::{Compression, Digest};

use crate::common::{compress_with, mixed, random, read_all, text, Chunked};

#[test]
fn identical_across_thread_counts() {
    let inputs = [mixed(6 << 20, 1), text(3 << 20, 2), random(2 << 20, 3)];
    let option_sets = [
        Options::new(),
        Options::new().block_size(64 << 10),
        Options::new().level(6).block_size(300_000),
        Options::new()
            .compression(Compression::Zstd)
            .block_size(256 << 10),
    ];
    for input in &inputs {
        for opts in &option_sets {
            let (_, one) = compress_with(input, opts.clone().threads(1), 1 << 20);
            for threads in [2, 4] {
                let (layer, out) = compress_with(input, opts.clone().threads(threads), 1 << 20);
                assert!(out == one, "{threads} threads differ from 1 with {opts:?}");
                assert_eq!(layer.digest().unwrap(), Digest::sha256(&one));
            }
        }
    }
}

/// Many runs, not one: a reused compressor or a race would show here.
#[test]
fn identical_across_twenty_runs() {
    let input = mixed(4 << 20, 4);
    for opts in [
        Options::new().block_size(128 << 10),
        Options::new().level(9).block_size(200_000),
    ] {
        let mut digests = Vec::new();
        for run in 0..20 {
            let threads = [2, 4, 3][run % 3];
            let (layer, _) = compress_with(&input, opts.clone().threads(threads), 333_333);
            digests.push(layer.digest().unwrap());
        }
        assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
    }
}

#[test]
fn identical_whatever_the_read_sizes() {
    let input = mixed((1 << 20) + 12_345, 5);
    let opts = Options::new().threads(2).block_size(64 << 10);
    let (_, reference) = compress_with(&input, opts.clone(), 1 << 20);
    for (source_chunk, read_chunk) in [
        (1, 4096),
        (7, 1),
        (4096, 13),
        (100_000, 65_536),
        (1 << 20, 3),
    ] {
        let source = Chunked::new(input.clone(), source_chunk);
        let layer = StreamLayer::with_options(source, opts.clone()).unwrap();
        let out = read_all(&layer, read_chunk);
        assert!(
            out == reference,
            "source chunks {source_chunk}, reads {read_chunk}"
        );
        assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&input));
    }
}

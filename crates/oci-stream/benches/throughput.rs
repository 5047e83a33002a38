//! Throughput of a stream layer by level and thread count, on a synthetic compressible input
//! of a few MiB (text-like, compresses to about a third) and on random bytes.
//!
//! `cargo bench -p oci-stream`. Whole-process figures on a real tar are in
//! docs/BENCHMARKS.md, measured with the `stream_layer` example.
// Bench setup unwraps: a failure is a broken bench.
#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Read};
use std::time::Duration;

use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::Compression;

const INPUT_SIZE: usize = 8 << 20;

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Words from a small vocabulary with numbers and paths: compresses like source code.
fn text(len: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "fn ", "let ", "usr/", "lib/", "share/", "the ", "layer", "digest", "{\n", "}\n", "0x",
        "42", "(", ")", ";\n", "    ", "image", "config", "=", "tar",
    ];
    let mut next = xorshift(7);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(WORDS[(next() % WORDS.len() as u64) as usize].as_bytes());
    }
    out.truncate(len);
    out
}

fn random(len: usize) -> Vec<u8> {
    let mut next = xorshift(11);
    (0..len).map(|_| (next() >> 32) as u8).collect()
}

/// Streams `input` through a layer with `opts` and returns the compressed size.
fn run(input: &[u8], opts: &Options) -> u64 {
    let layer = StreamLayer::with_options(Cursor::new(input.to_vec()), opts.clone()).unwrap();
    let mut r = layer.compressed().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if r.read(&mut buf).unwrap() == 0 {
            break;
        }
    }
    drop(r);
    layer.size().unwrap()
}

fn bench(c: &mut Criterion) {
    let inputs = [("text", text(INPUT_SIZE)), ("random", random(INPUT_SIZE))];
    let mut group = c.benchmark_group("stream_layer");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .throughput(Throughput::Bytes(INPUT_SIZE as u64));
    for (name, input) in &inputs {
        for level in [1, 6] {
            for threads in [1, 2] {
                let opts = Options::new().level(level).threads(threads);
                let id = BenchmarkId::new(format!("gzip-{name}-level{level}"), threads);
                group.bench_with_input(id, input, |b, input| b.iter(|| run(input, &opts)));
            }
        }
    }
    let text = &inputs[0].1;
    for threads in [1, 2] {
        let opts = Options::new()
            .compression(Compression::Zstd)
            .threads(threads);
        let id = BenchmarkId::new("zstd-text-level3", threads);
        group.bench_with_input(id, text, |b, input| b.iter(|| run(input, &opts)));
    }
    // The floor: hashing and copying without compression.
    let opts = Options::new().compression(Compression::None);
    group.bench_with_input(BenchmarkId::new("none-text", 1), text, |b, input| {
        b.iter(|| run(input, &opts))
    });
    group.finish();
}

/// `criterion_group!` writes an undocumented public function: it gets a module of its own.
mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(group::benches);

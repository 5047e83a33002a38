//! Throughput of the local store: ingest (write, hash, fsync, commit), `read_blob`, a
//! verified streaming read, and a store-to-store `copy`; the memory store's ingest beside them.
#![allow(clippy::unwrap_used)] // a benchmark: failures should stop it loudly

use std::io::{self, Read};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use oci_content::{
    copy, open_reader, read_blob, write_blob, CommitOpts, Ingester, LocalStore, Manager,
    MemoryStore, WriterOpts,
};
use oci_types::{Descriptor, MediaType, VerifyingReader};

const SIZE: usize = 64 << 20;

fn blob() -> (Vec<u8>, Descriptor) {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut v = Vec::with_capacity(SIZE);
    while v.len() < SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    let d = Descriptor::of_bytes(MediaType::OciLayer, &v);
    (v, d)
}

fn bench(c: &mut Criterion) {
    let (bytes, desc) = blob();
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path().join("a")).unwrap();
    let other = LocalStore::open(tmp.path().join("b")).unwrap();

    let mut g = c.benchmark_group("local");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Bytes(SIZE as u64));

    // Each iteration commits the blob afresh (deleting it first, outside the timing).
    g.bench_function(BenchmarkId::new("ingest", "64MiB"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = store.delete(&desc.digest);
                let start = Instant::now();
                write_blob(&store, "bench", &bytes[..], &desc, CommitOpts::new()).unwrap();
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function(BenchmarkId::new("read_blob", "64MiB"), |b| {
        b.iter(|| read_blob(&store, &desc, u64::MAX).unwrap())
    });

    g.bench_function(BenchmarkId::new("stream_verified", "64MiB"), |b| {
        b.iter(|| {
            let r = open_reader(&store, &desc).unwrap();
            let mut v = VerifyingReader::new(r, desc.digest.clone(), Some(desc.size)).unwrap();
            let mut buf = vec![0u8; 1 << 20];
            while v.read(&mut buf).unwrap() > 0 {}
        })
    });

    g.bench_function(BenchmarkId::new("copy_to_other_store", "64MiB"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = other.delete(&desc.digest);
                let start = Instant::now();
                let r = open_reader(&store, &desc).unwrap();
                let opts = WriterOpts::new("copy").with_descriptor(desc.clone());
                let mut w = other.writer(opts).unwrap();
                copy(
                    w.as_mut(),
                    r,
                    Some(desc.size),
                    Some(&desc.digest),
                    CommitOpts::new(),
                )
                .unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();

    let mut g = c.benchmark_group("memory");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.bench_function(BenchmarkId::new("ingest", "64MiB"), |b| {
        b.iter(|| {
            let store = MemoryStore::new();
            write_blob(&store, "bench", &bytes[..], &desc, CommitOpts::new()).unwrap();
        })
    });
    g.finish();

    // Baseline: SHA-256 alone over the same bytes, the bound for any verified ingest.
    let mut g = c.benchmark_group("baseline");
    g.sample_size(10).throughput(Throughput::Bytes(SIZE as u64));
    g.bench_function("sha256", |b| {
        b.iter(|| {
            let mut d = oci_types::Digester::new_sha256();
            io::copy(&mut &bytes[..], &mut d).unwrap();
            d.finish()
        })
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}

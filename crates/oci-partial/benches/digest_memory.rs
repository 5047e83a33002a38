//! Digest, size and diff_id of a layer in one streaming pass ([`oci_partial::digest_layer`]):
//! throughput (criterion, on an 8 MiB layer held in memory) and, when run by `cargo bench`,
//! one pass over a 1 GiB layer generated on the fly and gzip-compressed as it is read,
//! followed by the process's peak RSS (`VmHWM`), which must stay a few MiB.
//!
//! `cargo bench -p oci-partial --bench digest_memory`
// Bench helpers unwrap freely: a failure here is a broken bench, not bad input.
#![allow(clippy::unwrap_used)]

use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use flate2::read::GzEncoder;
use oci_partial::{digest_layer, BlobReader, Error, Layer, Result};
use oci_types::{Digest, MediaType};

/// Text-like pseudo-random bytes (16 letters, so gzip halves them, like real layers).
struct Letters(u64);

impl Read for Letters {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for chunk in buf.chunks_mut(8) {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            for (b, r) in chunk.iter_mut().zip(v) {
                *b = b'a' + (r & 15);
            }
        }
        Ok(buf.len())
    }
}

/// A layer core whose compressed stream is generated and gzip-compressed on demand: nothing
/// of it is ever held in memory. It knows no digest until read, like a streaming layer.
struct GeneratedLayer {
    seed: u64,
    size: u64,
}

impl Layer for GeneratedLayer {
    fn digest(&self) -> Result<Digest> {
        Err(Error::NotComputed { what: "digest" })
    }
    fn diff_id(&self) -> Result<Digest> {
        Err(Error::NotComputed { what: "diff_id" })
    }
    fn compressed(&self) -> Result<BlobReader> {
        let tar = Letters(self.seed).take(self.size);
        Ok(Box::new(GzEncoder::new(tar, flate2::Compression::fast())))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        Ok(Box::new(Letters(self.seed).take(self.size)))
    }
    fn size(&self) -> Result<u64> {
        Err(Error::NotComputed { what: "size" })
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(MediaType::OciLayerGzip)
    }
}

/// A layer over a compressed blob in memory.
struct BlobLayer(Arc<[u8]>);

impl Layer for BlobLayer {
    fn digest(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.0))
    }
    fn diff_id(&self) -> Result<Digest> {
        Err(Error::NotComputed { what: "diff_id" })
    }
    fn compressed(&self) -> Result<BlobReader> {
        Ok(Box::new(Cursor::new(Arc::clone(&self.0))))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        Ok(Box::new(flate2::read::GzDecoder::new(Cursor::new(
            Arc::clone(&self.0),
        ))))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.0.len() as u64)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(MediaType::OciLayerGzip)
    }
}

fn status(field: &str) -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// User + system CPU seconds of this process so far (from `/proc/self/stat`, in clock ticks
/// of 1/100 s, the Linux default), a figure the load of a shared machine does not inflate.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// One digest pass over 1 GiB, then the peak RSS of the process so far.
fn one_gib() {
    const GIB: u64 = 1 << 30;
    println!(
        "digest_memory: peak RSS before the 1 GiB pass: VmHWM {}",
        status("VmHWM:")
    );
    let layer = GeneratedLayer {
        seed: 0x5eed,
        size: GIB,
    };
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let m = digest_layer(&layer).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    assert_eq!(m.uncompressed_size, Some(GIB));
    println!(
        "digest_memory: 1 GiB layer ({} bytes gzip) in {secs:.1} s, {cpu:.1} s of CPU ({:.0} MiB/s of \
         CPU, uncompressed, generation and compression included): digest {}, diff_id {}",
        m.size,
        GIB as f64 / cpu.max(0.01) / (1 << 20) as f64,
        m.digest,
        m.diff_id.map(|d| d.to_string()).unwrap_or_default(),
    );
    println!(
        "digest_memory: peak RSS after the 1 GiB pass: VmHWM {} (VmRSS {})",
        status("VmHWM:"),
        status("VmRSS:")
    );
}

fn bench(c: &mut Criterion) {
    const SIZE: u64 = 8 << 20;
    let mut blob = Vec::new();
    GeneratedLayer {
        seed: 1,
        size: SIZE,
    }
    .compressed()
    .unwrap()
    .read_to_end(&mut blob)
    .unwrap();
    let layer = BlobLayer(blob.into());
    let mut g = c.benchmark_group("digest_layer");
    g.throughput(Throughput::Bytes(SIZE));
    g.bench_function("gzip 8 MiB", |b| b.iter(|| digest_layer(&layer).unwrap()));
    g.finish();
}

fn main() {
    // Under `cargo bench` the binary gets `--bench`; under `cargo test --benches` it does not,
    // and only the quick criterion run (one iteration per bench) happens.
    if std::env::args().any(|a| a == "--bench") {
        one_gib();
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c);
    c.final_summary();
}

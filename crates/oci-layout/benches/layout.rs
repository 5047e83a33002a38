//! Writing an image with one big layer into a fresh layout, against the floor of the same
//! work done by hand (copy the bytes to a file while hashing them, fsync).
//!
//! `cargo bench -p oci-layout` (set `OCI_LAYOUT_BENCH_MIB` for another layer size; 256 MiB by
//! default). The layer's bytes are generated once and held in memory by the bench, so that
//! both sides measure hashing, writing and syncing, not the generator.
// Bench setup unwraps: a failure there is a broken bench.
#![allow(clippy::unwrap_used)]

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use oci_layout::Layout;
use oci_partial::mutate::{append_layers, empty_image, Addendum, Family};
use oci_partial::{BlobReader, Layer, Result};
use oci_types::{Digest, Digester, MediaType};

/// The layer: pseudo-random bytes as an uncompressed tar layer (the bytes are not a tar,
/// which writing does not care about).
struct BigLayer {
    bytes: Arc<[u8]>,
    digest: Digest,
}

impl BigLayer {
    fn new(size: u64) -> BigLayer {
        let mut bytes = Vec::new();
        oci_partial::random::bytes(42)
            .take(size)
            .read_to_end(&mut bytes)
            .unwrap();
        let digest = Digest::sha256(&bytes);
        BigLayer {
            bytes: bytes.into(),
            digest,
        }
    }

    fn stream(&self) -> io::Cursor<Arc<[u8]>> {
        io::Cursor::new(Arc::clone(&self.bytes))
    }
}

impl Layer for BigLayer {
    fn digest(&self) -> Result<Digest> {
        Ok(self.digest.clone())
    }
    fn diff_id(&self) -> Result<Digest> {
        Ok(self.digest.clone())
    }
    fn compressed(&self) -> Result<BlobReader> {
        Ok(Box::new(self.stream()))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.compressed()
    }
    fn size(&self) -> Result<u64> {
        Ok(self.bytes.len() as u64)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(MediaType::OciLayer)
    }
}

fn fresh_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

fn bench(c: &mut Criterion) {
    let mib: u64 = std::env::var("OCI_LAYOUT_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let size = mib << 20;
    let big = Arc::new(BigLayer::new(size));
    let layer: Arc<dyn Layer> = Arc::clone(&big) as Arc<dyn Layer>;
    let image = append_layers(empty_image(Family::Oci), vec![Addendum::new(layer)]);
    image.raw_manifest().unwrap();

    let mut g = c.benchmark_group("write");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Bytes(size));
    g.bench_function(format!("write_image {mib} MiB layer"), |b| {
        b.iter_batched(
            || {
                let dir = fresh_dir();
                let layout = Layout::create(dir.path().join("l")).unwrap();
                (dir, layout)
            },
            |(dir, layout)| {
                layout.write_image(image.as_ref(), Some("big")).unwrap();
                dir
            },
            BatchSize::PerIteration,
        )
    });
    // The floor: the bytes through a hasher into a file, fsynced (sha256sum + cat > file).
    g.bench_function(format!("hash + write + fsync {mib} MiB"), |b| {
        b.iter_batched(
            fresh_dir,
            |dir| {
                let mut f = std::fs::File::create(dir.path().join("blob")).unwrap();
                let mut d = Digester::new_sha256();
                let mut buf = vec![0u8; 1 << 20];
                let mut r = big.stream();
                loop {
                    let n = r.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    d.update(&buf[..n]);
                    f.write_all(&buf[..n]).unwrap();
                }
                f.sync_all().unwrap();
                assert_eq!(d.finish(), big.digest);
                dir
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// `criterion_group!` writes an undocumented public function: it gets a module of its own.
mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);

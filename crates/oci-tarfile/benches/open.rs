//! Opening an archive reads only its tar headers: `Reader::from_file` (and `Source::new`) on
//! a 20 MiB and a 2 GiB archive of one layer take the same time; what grows the time is the
//! number of entries (the third archive: 2 GiB in 100 layers).
//!
//! The archives are made at bench time in a temporary directory. Layer data is a hole in a
//! sparse file (it reads as zeros, which is what a tar of zeros holds), so making them is
//! quick and takes no disk space; nothing here reads it anyway.
//!
//! Run: `cargo bench -p oci-tarfile --bench open`.
// Bench setup unwraps: a failure is a failed bench.
#![allow(clippy::unwrap_used)]
// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use oci_tarfile::{Reader, Source};

const MIB: u64 = 1024 * 1024;

fn header(name: &str, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000444");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// A docker archive of one image with `layers` layers of `layer_size` zero bytes each.
fn make(dir: &Path, name: &str, layers: usize, layer_size: u64) -> PathBuf {
    let path = dir.join(name);
    let mut f = File::create(&path).unwrap();
    let mut names = Vec::new();
    let mut diff_ids = Vec::new();
    for i in 0..layers {
        // Any digest will do: opening does not read layers to check them.
        let hex = format!("{i:064x}");
        let name = format!("{hex}.tar");
        f.write_all(&header(&name, layer_size)).unwrap();
        f.seek(SeekFrom::Current(layer_size.div_ceil(512) as i64 * 512))
            .unwrap();
        names.push(format!("\"{name}\""));
        diff_ids.push(format!("\"sha256:{hex}\""));
    }
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let manifest = format!(
        r#"[{{"Config":"c.json","RepoTags":["bench:1"],"Layers":[{}]}}]"#,
        names.join(",")
    );
    for (name, data) in [
        ("c.json", config.as_bytes()),
        ("manifest.json", manifest.as_bytes()),
    ] {
        f.write_all(&header(name, data.len() as u64)).unwrap();
        f.write_all(data).unwrap();
        f.write_all(&vec![0u8; (512 - data.len() % 512) % 512])
            .unwrap();
    }
    f.write_all(&[0u8; 1024]).unwrap();
    path
}

fn open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let archives = [
        ("20MiB-1-layer", make(dir.path(), "small.tar", 1, 20 * MIB)),
        ("2GiB-1-layer", make(dir.path(), "big.tar", 1, 2048 * MIB)),
        (
            "2GiB-100-layers",
            make(dir.path(), "many.tar", 100, 20 * MIB + 512),
        ),
    ];
    let mut g = c.benchmark_group("open");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for (name, path) in &archives {
        g.bench_function(format!("reader/{name}"), |b| {
            b.iter(|| Reader::from_file(path).unwrap())
        });
        g.bench_function(format!("source/{name}"), |b| {
            b.iter(|| Source::new(Arc::new(Reader::from_file(path).unwrap()), None, None).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, open);
criterion_main!(benches);

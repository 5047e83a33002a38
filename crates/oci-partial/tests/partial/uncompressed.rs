//! UncompressedLayer and UncompressedImage: on-the-fly compression, one-pass digests.

use std::io::Read;
use std::sync::atomic::Ordering;

use oci_partial::{
    blob_to_diff_id, diff_id_to_blob, CompressedLayer, Image, Layer, UncompressedImage,
    UncompressedLayer,
};
use oci_types::{Compression, Digest, MediaType};

use crate::support::{d, fixtures, hello_tars, read_all, MemBlob, MemTar};

const D1: &str = "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16";
const D2: &str = "sha256:9d82869a1a6009a8095f6f5e98545abad1f2077651b2a19c8485157f16063eb9";
const CONFIG_HELLO: &str =
    "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede";

fn tar1() -> Vec<u8> {
    std::fs::read(fixtures().join("layers/hello-layer1.tar")).unwrap()
}

const ALL: [Compression; 3] = [Compression::Gzip, Compression::Zstd, Compression::None];

#[test]
fn digest_and_size_are_those_of_the_compressed_stream() {
    for c in ALL {
        for level in [None, Some(9)] {
            let l = UncompressedLayer::new(MemTar::new(tar1(), MediaType::OciLayer))
                .with_compression(c, level);
            let blob = read_all(l.compressed().unwrap());
            assert_eq!(
                l.digest().unwrap(),
                Digest::sha256(&blob),
                "{c:?} {level:?}"
            );
            assert_eq!(l.size().unwrap(), blob.len() as u64);
            assert_eq!(l.diff_id().unwrap(), d(D1));
            assert_eq!(l.uncompressed_size().unwrap(), 5120);
            assert_eq!(oci_partial::compression::detect(&blob), c);
            // Another read, with another buffer size, gives the same bytes.
            let mut again = Vec::new();
            let mut r = l.compressed().unwrap();
            let mut buf = [0u8; 13];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                again.extend_from_slice(&buf[..n]);
            }
            assert_eq!(again, blob);
            let desc = l.descriptor().unwrap();
            assert_eq!(
                (desc.digest, desc.size),
                (Digest::sha256(&blob), blob.len() as u64)
            );
        }
    }
}

#[test]
fn digest_size_and_uncompressed_size_come_from_one_pass() {
    let l = UncompressedLayer::new(MemTar::new(tar1(), MediaType::OciLayer));
    let digest = l.digest().unwrap();
    assert_eq!(l.core().opened.load(Ordering::SeqCst), 1);
    l.size().unwrap();
    l.uncompressed_size().unwrap();
    l.descriptor().unwrap();
    assert_eq!(l.digest().unwrap(), digest);
    assert_eq!(
        l.core().opened.load(Ordering::SeqCst),
        1,
        "one pass for everything"
    );

    // A layer written out first needs no pass of its own.
    let l = UncompressedLayer::new(MemTar::new(tar1(), MediaType::OciLayer));
    let blob = read_all(l.compressed().unwrap());
    assert_eq!(l.digest().unwrap(), Digest::sha256(&blob));
    assert_eq!(l.size().unwrap(), blob.len() as u64);
    assert_eq!(l.uncompressed_size().unwrap(), 5120);
    assert_eq!(l.core().opened.load(Ordering::SeqCst), 1);

    // The uncompressed size alone does not compress.
    let l = UncompressedLayer::new(MemTar::new(tar1(), MediaType::OciLayer));
    assert_eq!(l.uncompressed_size().unwrap(), 5120);
    assert_eq!(l.uncompressed_size().unwrap(), 5120);
    assert_eq!(l.core().opened.load(Ordering::SeqCst), 1);
}

#[test]
fn media_type_follows_compression_and_family() {
    let cases = [
        (
            MediaType::OciLayer,
            Compression::Gzip,
            MediaType::OciLayerGzip,
        ),
        (
            MediaType::OciLayer,
            Compression::Zstd,
            MediaType::OciLayerZstd,
        ),
        (MediaType::OciLayer, Compression::None, MediaType::OciLayer),
        (
            MediaType::OciLayerGzip,
            Compression::Zstd,
            MediaType::OciLayerZstd,
        ),
        (
            MediaType::DockerLayer,
            Compression::Gzip,
            MediaType::DockerLayerGzip,
        ),
        (
            MediaType::DockerLayer,
            Compression::None,
            MediaType::DockerLayer,
        ),
        (
            MediaType::DockerLayer,
            Compression::Zstd,
            MediaType::OciLayerZstd,
        ),
        (
            MediaType::OciLayerNonDistributable,
            Compression::Gzip,
            MediaType::OciLayerNonDistributableGzip,
        ),
        (
            MediaType::from("application/x-custom"),
            Compression::Gzip,
            MediaType::OciLayerGzip,
        ),
    ];
    for (core, c, want) in cases {
        let l =
            UncompressedLayer::new(MemTar::new(Vec::new(), core.clone())).with_compression(c, None);
        assert_eq!(l.media_type().unwrap(), want, "{core} + {c:?}");
        assert_eq!(l.descriptor().unwrap().media_type, want);
    }
}

#[test]
fn compress_then_read_back_gives_the_same_diff_id() {
    for c in [Compression::Gzip, Compression::Zstd] {
        let u = UncompressedLayer::new(MemTar::new(tar1(), MediaType::OciLayer))
            .with_compression(c, None);
        let blob = read_all(u.compressed().unwrap());
        let back = CompressedLayer::new(MemBlob::new(blob, u.media_type().unwrap()));
        assert_eq!(back.digest().unwrap(), u.digest().unwrap());
        assert_eq!(back.diff_id().unwrap(), u.diff_id().unwrap());
        assert_eq!(back.uncompressed_size().unwrap(), 5120);
        assert_eq!(read_all(back.uncompressed().unwrap()), tar1());
    }
}

#[test]
fn image_from_tars_has_a_consistent_stable_manifest() {
    for (mt, config_type, layer_type) in [
        (
            MediaType::DockerManifest,
            MediaType::DockerConfig,
            MediaType::DockerLayerGzip,
        ),
        (
            MediaType::OciManifest,
            MediaType::OciConfig,
            MediaType::OciLayerGzip,
        ),
    ] {
        let img = UncompressedImage::new(hello_tars(mt.clone()));
        assert_eq!(img.config_name().unwrap(), d(CONFIG_HELLO));
        let layers = img.layers().unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0].diff_id().unwrap(), d(D1));
        assert_eq!(layers[1].diff_id().unwrap(), d(D2));

        let m = img.manifest().unwrap();
        assert_eq!(m.media_type, Some(mt.clone()));
        assert_eq!(img.media_type().unwrap(), mt);
        assert_eq!(m.config.media_type, config_type);
        assert_eq!(m.config.digest, d(CONFIG_HELLO));
        assert_eq!(m.config.size, 652);
        for (desc, l) in m.layers.iter().zip(&layers) {
            assert_eq!(desc, &l.descriptor().unwrap());
            assert_eq!(desc.media_type, layer_type);
            assert_eq!(
                desc.digest,
                Digest::sha256(&read_all(l.compressed().unwrap()))
            );
        }
        let digest = img.digest().unwrap();
        assert_eq!(digest, Digest::sha256(&img.raw_manifest().unwrap()));
        assert_eq!(
            img.digest().unwrap(),
            digest,
            "the manifest is computed once"
        );

        for l in &layers {
            let (blob, diff_id) = (l.digest().unwrap(), l.diff_id().unwrap());
            assert_eq!(blob_to_diff_id(&img, &blob).unwrap(), diff_id);
            assert_eq!(diff_id_to_blob(&img, &diff_id).unwrap(), blob);
            assert_eq!(
                img.layer_by_digest(&blob).unwrap().diff_id().unwrap(),
                diff_id
            );
            assert_eq!(
                img.layer_by_diff_id(&diff_id).unwrap().digest().unwrap(),
                blob
            );
        }
        assert_eq!(
            img.layer_by_digest(&d(CONFIG_HELLO))
                .unwrap()
                .size()
                .unwrap(),
            652
        );
    }
}

#[test]
fn image_compression_is_configurable_and_each_tar_compressed_once() {
    let core = hello_tars(MediaType::OciManifest);
    let tars = core.tars.clone();
    let img = UncompressedImage::new(core).with_compression(Compression::Zstd, Some(5));
    let m = img.manifest().unwrap();
    assert!(m
        .layers
        .iter()
        .all(|l| l.media_type == MediaType::OciLayerZstd));
    img.manifest().unwrap();
    img.layers()
        .unwrap()
        .iter()
        .for_each(|l| drop(l.digest().unwrap()));
    for t in &tars {
        assert_eq!(t.opened.load(Ordering::SeqCst), 1);
    }
}

#[cfg(target_os = "linux")]
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A big pseudo-random tar-like stream, never held in memory.
struct Endless {
    left: u64,
    x: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for b in &mut buf[..n] {
            self.x = self
                .x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            *b = if self.x >> 62 == 0 {
                (self.x >> 33) as u8
            } else {
                0
            };
        }
        self.left -= n as u64;
        Ok(n)
    }
}

struct BigTar(u64);

impl oci_partial::UncompressedLayerCore for BigTar {
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        let mut dg = oci_types::Digester::new_sha256();
        std::io::copy(&mut Endless { left: self.0, x: 1 }, &mut dg).unwrap();
        Ok(dg.finish())
    }
    fn uncompressed(&self) -> oci_partial::Result<oci_partial::BlobReader> {
        Ok(Box::new(Endless { left: self.0, x: 1 }))
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(MediaType::OciLayer)
    }
}

#[cfg(target_os = "linux")]
#[test]
fn digest_pass_memory_is_flat() {
    // Peak RSS is per process and tests run in parallel threads, so the measurement runs in a
    // child process that runs only this test.
    const CHILD: &str = "OCI_PARTIAL_MEMORY_TEST_CHILD";
    const SIZE: u64 = 128 << 20;
    if std::env::var_os(CHILD).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "uncompressed::digest_pass_memory_is_flat",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed:\n{text}");
        assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
        text.lines()
            .filter(|l| l.starts_with("peak RSS"))
            .for_each(|l| eprintln!("{l}"));
        return;
    }
    let before = peak_rss_kib();
    let l = UncompressedLayer::new(BigTar(SIZE));
    assert!(l.size().unwrap() > 0);
    assert_eq!(l.uncompressed_size().unwrap(), SIZE);
    let grew = peak_rss_kib().saturating_sub(before);
    eprintln!("peak RSS grew by {grew} KiB while digesting a {SIZE}-byte layer");
    // Buffering the layer would take 128 MiB; streaming takes encoder state and buffers.
    assert!(
        grew < 24 * 1024,
        "peak RSS grew by {grew} KiB while digesting a {SIZE}-byte layer"
    );
}

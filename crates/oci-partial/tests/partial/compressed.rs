//! CompressedLayer and CompressedImage, over the shared OCI layout fixtures and in memory.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use oci_partial::compression::compress;
use oci_partial::{
    CompressedImage, CompressedImageCore, CompressedLayer, CompressedLayerCore, Error, Image, Layer,
};
use oci_types::{Compression, Digest, MediaType};

use crate::support::{d, fixtures, read_all, Layout, LayoutImage, MemBlob};

/// One image of the README: manifest, config, (layer digest, size, diff_id, uncompressed size).
struct Expected {
    layout: &'static str,
    name: &'static str,
    manifest: &'static str,
    manifest_size: u64,
    config: &'static str,
    layers: [(&'static str, u64, &'static str, u64); 2],
    layer_type: MediaType,
}

const L1: &str = "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7";
const D1: &str = "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16";
const D2: &str = "sha256:9d82869a1a6009a8095f6f5e98545abad1f2077651b2a19c8485157f16063eb9";
const CONFIG_HELLO: &str =
    "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede";

fn expected() -> Vec<Expected> {
    vec![
        Expected {
            layout: "oci-layout",
            name: "hello",
            manifest: "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b",
            manifest_size: 499,
            config: CONFIG_HELLO,
            layers: [
                (L1, 298, D1, 5120),
                (
                    "sha256:ccea505ee7e7620339c0fd46f060e164734e9b843d0927075ae5a780ec2c8670",
                    219,
                    D2,
                    3584,
                ),
            ],
            layer_type: MediaType::OciLayerGzip,
        },
        Expected {
            layout: "oci-layout",
            name: "hello-extra",
            manifest: "sha256:77428be40ef7b7f55ee058598993a9ddfcff6c610802b133f28c49770a3f7bcc",
            manifest_size: 499,
            config: "sha256:f552552ccc56e21b24b19b73c51f43138efcb8a04c118a5aa1ea59e1a8299176",
            layers: [
                (L1, 298, D1, 5120),
                (
                    "sha256:c1d407e00ef4356d6e681337aa3799576f5cc564483f4a564eaa210f851138a9",
                    174,
                    "sha256:fa4348d7df31ca407ba1712f771b089ade2e372ab32d7d916fe2296842e7c2d2",
                    2560,
                ),
            ],
            layer_type: MediaType::OciLayerGzip,
        },
        Expected {
            layout: "oci-layout-zstd",
            name: "hello",
            manifest: "sha256:af5c82343b2b6ecca3ae8a195209d67197200a5d5e934cb236eaf29b4079c001",
            manifest_size: 498,
            config: CONFIG_HELLO,
            layers: [
                (
                    "sha256:8650cf108752755fd4cd15816a539dd1aa26f7219bbdf7ab7958008233141b91",
                    266,
                    D1,
                    5120,
                ),
                (
                    "sha256:5b6721f349dc10edea55863dbbb31c38d63ec9e7c4f99a1bb9760490edfa6ef2",
                    195,
                    D2,
                    3584,
                ),
            ],
            layer_type: MediaType::OciLayerZstd,
        },
    ]
}

#[test]
fn fixture_images_give_the_readme_digests() {
    for e in expected() {
        let layout = Layout::open(fixtures().join(e.layout));
        let img = layout.image(e.name);
        let what = format!("{}:{}", e.layout, e.name);
        assert_eq!(img.digest().unwrap(), d(e.manifest), "{what}");
        assert_eq!(img.size().unwrap(), e.manifest_size, "{what}");
        assert_eq!(img.media_type().unwrap(), MediaType::OciManifest);
        assert_eq!(img.config_name().unwrap(), d(e.config), "{what}");
        assert_eq!(Digest::sha256(&img.raw_config_file().unwrap()), d(e.config));
        let manifest = img.manifest().unwrap();
        assert_eq!(
            manifest.media_type, None,
            "umoci/skopeo write no mediaType field"
        );
        let config = img.config_file().unwrap();
        assert_eq!(
            config.rootfs.diff_ids,
            vec![d(D1), e.layers[1].2.parse().unwrap()]
        );

        let layers = img.layers().unwrap();
        assert_eq!(layers.len(), 2);
        for (i, (l, (digest, size, diff_id, usize))) in layers.iter().zip(e.layers).enumerate() {
            let what = format!("{what} layer {}", i + 1);
            assert_eq!(l.digest().unwrap(), d(digest), "{what}");
            assert_eq!(l.size().unwrap(), size, "{what}");
            assert_eq!(l.media_type().unwrap(), e.layer_type, "{what}");
            assert_eq!(l.diff_id().unwrap(), d(diff_id), "{what}");
            assert_eq!(l.uncompressed_size().unwrap(), usize, "{what}");
            assert_eq!(l.descriptor().unwrap(), manifest.layers[i], "{what}");
            assert!(l.exists().unwrap());
            let tar = read_all(l.uncompressed().unwrap());
            assert_eq!(Digest::sha256(&tar), d(diff_id), "{what}");
            let blob = read_all(l.compressed().unwrap());
            assert_eq!(Digest::sha256(&blob), d(digest), "{what}");

            assert_eq!(
                img.layer_by_digest(&d(digest)).unwrap().diff_id().unwrap(),
                d(diff_id)
            );
            assert_eq!(
                img.layer_by_diff_id(&d(diff_id)).unwrap().digest().unwrap(),
                d(digest)
            );
        }
    }
}

#[test]
fn diff_ids_computed_by_streaming_match_the_readme() {
    // Without an image around them, layers compute their diff_id from the content.
    for e in expected() {
        let layout = Layout::open(fixtures().join(e.layout));
        let core = LayoutImage {
            layout: Arc::clone(&layout),
            desc: layout
                .index()
                .manifests
                .into_iter()
                .find(|m| m.ref_name() == Some(e.name))
                .unwrap(),
        };
        for (digest, _, diff_id, usize) in e.layers {
            let blob = core.layer_by_digest(&d(digest)).unwrap();
            let l = CompressedLayer::new(blob);
            assert_eq!(l.diff_id().unwrap(), d(diff_id));
            assert_eq!(l.uncompressed_size().unwrap(), usize);
        }
    }
}

#[test]
fn one_pass_gives_diff_id_and_uncompressed_size() {
    let gz = std::fs::read(fixtures().join("layers/hello-layer1.tar.gz")).unwrap();
    let l = CompressedLayer::new(MemBlob::new(gz, MediaType::OciLayerGzip));
    assert_eq!(l.diff_id().unwrap(), d(D1));
    assert_eq!(l.uncompressed_size().unwrap(), 5120);
    assert_eq!(l.diff_id().unwrap(), d(D1));
    assert_eq!(
        l.core().opened.load(Ordering::SeqCst),
        1,
        "diff_id and size from one pass"
    );

    // A full read of the uncompressed stream fills the cache too.
    let gz = std::fs::read(fixtures().join("layers/hello-layer2.tar.gz")).unwrap();
    let l = CompressedLayer::new(MemBlob::new(gz, MediaType::OciLayerGzip));
    let tar = read_all(l.uncompressed().unwrap());
    assert_eq!(tar.len(), 3584);
    assert_eq!(l.diff_id().unwrap(), d(D2));
    assert_eq!(l.uncompressed_size().unwrap(), 3584);
    assert_eq!(l.core().opened.load(Ordering::SeqCst), 1);
}

#[test]
fn uncompressed_goes_by_magic_not_by_media_type() {
    let dir = fixtures().join("layers");
    let tar = std::fs::read(dir.join("hello-layer1.tar")).unwrap();
    let gz = std::fs::read(dir.join("hello-layer1.tar.gz")).unwrap();
    let zst = read_all(compress(
        std::io::Cursor::new(tar.clone()),
        Compression::Zstd,
        None,
    ));
    // Every blob under every (lying) label.
    for blob in [&tar, &gz, &zst] {
        for mt in [
            MediaType::OciLayerGzip,
            MediaType::OciLayer,
            MediaType::OciLayerZstd,
            MediaType::DockerLayerGzip,
        ] {
            let l = CompressedLayer::new(MemBlob::new(blob.clone(), mt.clone()));
            assert_eq!(read_all(l.uncompressed().unwrap()), tar, "{mt}");
            assert_eq!(l.diff_id().unwrap(), d(D1), "{mt}");
            assert_eq!(
                l.media_type().unwrap(),
                mt,
                "the media type is reported as the core says"
            );
        }
    }
}

#[test]
fn a_wrong_known_diff_id_is_caught_by_a_full_pass() {
    let gz = std::fs::read(fixtures().join("layers/hello-layer1.tar.gz")).unwrap();
    let l = CompressedLayer::new(MemBlob::new(gz, MediaType::OciLayerGzip)).with_diff_id(d(D2));
    // Trusted as given...
    assert_eq!(l.diff_id().unwrap(), d(D2));
    // ...but a pass over the content disagrees.
    match l.uncompressed_size() {
        Err(Error::Types(oci_types::Error::DigestMismatch { expected, actual })) => {
            assert_eq!(expected, d(D2));
            assert_eq!(actual, d(D1));
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    let mut r = l.uncompressed().unwrap();
    assert!(std::io::copy(&mut r, &mut std::io::sink()).is_err());
}

/// An image core whose config bytes are not the manifest's.
struct WrongConfig(LayoutImage);

impl CompressedImageCore for WrongConfig {
    fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> {
        let mut c = self.0.raw_config_file()?;
        c[10] ^= 1;
        Ok(c)
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.0.media_type()
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        self.0.raw_manifest()
    }
    fn layer_by_digest(
        &self,
        digest: &Digest,
    ) -> oci_partial::Result<Arc<dyn CompressedLayerCore>> {
        self.0.layer_by_digest(digest)
    }
}

#[test]
fn config_is_checked_against_the_manifest() {
    let layout = Layout::open(fixtures().join("oci-layout"));
    let desc = layout.index().manifests.remove(0);
    let img = CompressedImage::new(WrongConfig(LayoutImage { layout, desc }));
    let err = img.raw_config_file().unwrap_err();
    assert!(
        matches!(err, Error::Types(oci_types::Error::DigestMismatch { .. })),
        "{err}"
    );
    assert!(img.config_file().is_err());
    assert!(img.config_name().is_err());
    // The manifest itself is fine, and layers still come (their diff_ids are then computed).
    assert_eq!(img.layers().unwrap()[0].diff_id().unwrap(), d(D1));
}

#[test]
fn config_blob_is_reachable_by_digest() {
    let layout = Layout::open(fixtures().join("oci-layout"));
    let img = layout.image("hello");
    let l = img.layer_by_digest(&d(CONFIG_HELLO)).unwrap();
    assert_eq!(l.media_type().unwrap(), MediaType::OciConfig);
    assert_eq!(
        read_all(l.compressed().unwrap()),
        img.raw_config_file().unwrap()
    );
    assert!(matches!(
        img.layer_by_diff_id(&d(CONFIG_HELLO)),
        Err(Error::NotFound { .. })
    ));
    assert!(img.layer_by_digest(&Digest::sha256(b"nothing")).is_err());
}

#[test]
fn layers_are_made_once_so_their_caches_persist() {
    let layout = Layout::open(fixtures().join("oci-layout"));
    let img = layout.image("hello");
    let a = img.layers().unwrap();
    let b = img.layers().unwrap();
    assert!(Arc::ptr_eq(&a[1], &b[1]));
    assert!(Arc::ptr_eq(&a[0], &img.layer_by_digest(&d(L1)).unwrap()));
}
